//! Scenarios `ipproto` and `sctp`: the IP protocol scan and the SCTP INIT scan beside nmap's.
//!
//! - `ipproto`: `-sO` of all 256 protocols of a Linux namespace whose nft drops GRE and rejects ESP and AH
//!   with ICMP administratively prohibited (ICMP error rate limits lifted, as a scanned host would be
//!   configured to show every answer).
//! - `sctp`: `-sY -p S:1-1000` of an SCTP persona (the kernel here has no SCTP) listening on 4 ports.
//!
//! - `ipproto-limited`: `-sO` of the same namespace with Linux's default ICMP rate limits (about one
//!   protocol unreachable per second after a burst): the truth is the states both tools agree on with the
//!   limits lifted; rows for tojimari as is (it waits out the limit), tojimari `--defeat-icmp-ratelimit`
//!   (the quick, inexact answer) and nmap, each graded against it; then tojimari over two such hosts at once.
//!
//! Each tool runs `--runs` times with `-Pn -n`, writing XML; a row gives the time (best and median) and
//! whether every port's state equals the other tool's (the folded `extraports` included).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tojimari_testbed::Netns;
use tojimari_testbed::persona::{SctpHandler, catalog, persona_v4};

/// Each port's state.
type States = BTreeMap<u16, String>;

/// Every scanned port's state in an nmap-style XML (listed ports, and the one folded state for the rest).
fn states(xml: &str, scanned: &[u16]) -> BTreeMap<u16, String> {
    let mut listed = BTreeMap::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        let (Some(port), Some(state)) = (
            crate::attr(chunk, "portid").and_then(|p| p.parse::<u16>().ok()),
            chunk.split("<state ").nth(1).and_then(|s| crate::attr(s, "state")),
        ) else {
            continue;
        };
        listed.insert(port, state.to_string());
    }
    let folded = xml.split("<extraports ").nth(1).and_then(|e| crate::attr(e, "state")).unwrap_or("").to_string();
    scanned.iter().map(|&p| (p, listed.get(&p).cloned().unwrap_or_else(|| folded.clone()))).collect()
}

/// Runs `program args -oX FILE` in `ns` `runs` times: the times and the last run's states.
fn timed(
    ns: &Netns,
    program: &str,
    args: &[&str],
    scanned: &[u16],
    runs: usize,
) -> Result<(Vec<Duration>, BTreeMap<u16, String>), String> {
    let xml = format!("/tmp/tjo-bench-{}-{}.xml", std::process::id(), program.len());
    let mut times = Vec::new();
    let mut found = BTreeMap::new();
    for _ in 0..runs.max(1) {
        let mut cmd = ns.command(program);
        cmd.args(args).args(["-oX", &xml, "-n", "-Pn"]);
        if let Some(flag) = crate::no_store(program, &["scan"]) {
            cmd.arg(flag);
        }
        if program == crate::tojimari_binary() {
            cmd.arg("--no-progress");
        }
        let start = Instant::now();
        let out = cmd.output().map_err(|e| format!("{program}: {e}"))?;
        times.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let text = std::fs::read_to_string(&xml).map_err(|e| format!("{xml}: {e}"))?;
        found = states(&text, scanned);
    }
    let _ = std::fs::remove_file(&xml);
    times.sort();
    Ok((times, found))
}

/// One scenario: both tools over the same target, one row each.
fn compare(ns: &Netns, label: &str, args: &[&str], scanned: &[u16], runs: usize) -> Result<(), String> {
    let ours_bin = crate::tojimari_binary();
    let mut ours_args = vec!["scan"];
    ours_args.extend_from_slice(args);
    let (ours_t, ours) = timed(ns, &ours_bin, &ours_args, scanned, runs)?;
    let (nmap_t, nmap) = timed(ns, "nmap", args, scanned, runs)?;
    let differ: Vec<u16> = scanned.iter().copied().filter(|p| ours.get(p) != nmap.get(p)).collect();
    let count = |m: &BTreeMap<u16, String>| {
        let mut c: BTreeMap<&str, usize> = BTreeMap::new();
        for s in m.values() {
            *c.entry(s.as_str()).or_default() += 1;
        }
        c.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
    };
    let ms = |t: &[Duration]| format!("best {:.2} s, median {:.2} s", t[0].as_secs_f64(), t[t.len() / 2].as_secs_f64());
    println!("{label}: {} ports", scanned.len());
    println!("  tojimari  {}  [{}]", ms(&ours_t), count(&ours));
    println!("  nmap      {}  [{}]", ms(&nmap_t), count(&nmap));
    if differ.is_empty() {
        println!("  states: equal on every port");
    } else {
        println!("  states: differ on {} ports: {:?}", differ.len(), &differ[..differ.len().min(20)]);
    }
    Ok(())
}

/// `ipproto`: see the module.
pub(crate) fn ipproto(runs: usize) -> Result<(), String> {
    let bed = tojimari_testbed::TestBed::new(1).map_err(|e| format!("test bed: {e}"))?;
    let target = bed.target(0);
    target.unlimit_icmp().map_err(|e| e.to_string())?;
    target
        .firewall(
            "table inet tjo_bench {
                chain input {
                    type filter hook input priority 0;
                    meta l4proto 47 drop
                    meta l4proto 50 reject with icmpx type admin-prohibited
                    meta l4proto 51 reject with icmpx type admin-prohibited
                }
            }",
        )
        .map_err(|e| e.to_string())?;
    let addr = target.v4.to_string();
    let all: Vec<u16> = (0..=255).collect();
    compare(bed.scanner(), "ipproto (-sO, 256 protocols, Linux namespace)", &["-sO", "-p", "0-255", &addr], &all, runs)
}

/// `ipproto-limited`: see the module.
pub(crate) fn ipproto_limited(runs: usize) -> Result<(), String> {
    let bed = tojimari_testbed::TestBed::new(2).map_err(|e| format!("test bed: {e}"))?;
    let target = bed.target(0);
    let addr = target.v4.to_string();
    let second = bed.target(1).v4.to_string();
    let all: Vec<u16> = (0..=255).collect();
    let args = ["-sO", "-p", "0-255", addr.as_str()];
    let defaults: Vec<(&str, String)> =
        ["net.ipv4.icmp_ratelimit", "net.ipv4.icmp_msgs_per_sec", "net.ipv4.icmp_msgs_burst"]
            .into_iter()
            .filter_map(|k| target.ns.read_sysctl(k).ok().map(|v| (k, v.trim().to_string())))
            .collect();
    target.unlimit_icmp().map_err(|e| e.to_string())?;
    let (_, truth) = timed(bed.scanner(), &crate::tojimari_binary(), &[&["scan"][..], &args].concat(), &all, 1)?;
    let (_, nmap_truth) = timed(bed.scanner(), "nmap", &args, &all, 1)?;
    if truth != nmap_truth {
        return Err("with the limits lifted, tojimari and nmap disagree: no truth to grade against".into());
    }
    let settings: Vec<(&str, &str)> = defaults.iter().map(|(k, v)| (*k, v.as_str())).collect();
    target.ns.sysctls(&settings).map_err(|e| e.to_string())?;
    println!("ipproto-limited (-sO, 256 protocols, Linux's default ICMP rate limits {defaults:?})");
    let bin = crate::tojimari_binary();
    let quick: Vec<&str> = [&["scan", "--defeat-icmp-ratelimit"][..], &args].concat();
    let plain: Vec<&str> = [&["scan"][..], &args].concat();
    for (label, program, a) in
        [("tojimari", bin.as_str(), plain), ("tojimari --defeat-icmp-ratelimit", bin.as_str(), quick)]
            .into_iter()
            .chain([("nmap", "nmap", args.to_vec())])
    {
        let (t, found) = timed(bed.scanner(), program, &a, &all, runs)?;
        let wrong: Vec<u16> = all.iter().copied().filter(|p| found.get(p) != truth.get(p)).collect();
        println!(
            "  {label:<34} best {:.1} s, median {:.1} s; {} of 256 states differ from the truth{}",
            t[0].as_secs_f64(),
            t[t.len() / 2].as_secs_f64(),
            wrong.len(),
            if wrong.is_empty() { String::new() } else { format!(" (e.g. {:?})", &wrong[..wrong.len().min(8)]) }
        );
    }
    // Two hosts at once (the second namespace keeps its defaults too): each host's limit is its own, so the
    // pair should take as long as one.
    let (t, found) = timed_hosts(bed.scanner(), &["scan", "-sO", "-p", "0-255", &addr, &second], runs)?;
    let wrong = found.iter().map(|m| all.iter().filter(|p| m.get(p) != truth.get(p)).count()).sum::<usize>();
    println!(
        "  {:<34} best {:.1} s, median {:.1} s; {wrong} of 512 states differ from the truth",
        "tojimari, 2 hosts at once",
        t[0].as_secs_f64(),
        t[t.len() / 2].as_secs_f64(),
    );
    Ok(())
}

/// Like [`timed`] for tojimari over several hosts: the times and each host's states (in XML order).
fn timed_hosts(ns: &Netns, args: &[&str], runs: usize) -> Result<(Vec<Duration>, Vec<States>), String> {
    let xml = format!("/tmp/tjo-bench-{}-hosts.xml", std::process::id());
    let scanned: Vec<u16> = (0..=255).collect();
    let mut times = Vec::new();
    let mut found = Vec::new();
    for _ in 0..runs.max(1) {
        let mut cmd = ns.command(&crate::tojimari_binary());
        cmd.args(args).args(["-oX", &xml, "-n", "-Pn", "--no-progress"]);
        if let Some(flag) = crate::no_store(&crate::tojimari_binary(), &["scan"]) {
            cmd.arg(flag);
        }
        let start = Instant::now();
        let out = cmd.output().map_err(|e| format!("tojimari: {e}"))?;
        times.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("tojimari {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let text = std::fs::read_to_string(&xml).map_err(|e| format!("{xml}: {e}"))?;
        found = text.split("<host ").skip(1).map(|h| states(h, &scanned)).collect();
    }
    let _ = std::fs::remove_file(&xml);
    times.sort();
    Ok((times, found))
}

/// `sctp`: see the module.
pub(crate) fn sctp(runs: usize) -> Result<(), String> {
    let bed = tojimari_testbed::TestBed::new(0).map_err(|e| format!("test bed: {e}"))?;
    let v4 = persona_v4(5).ok_or("no persona address")?;
    let open = [80, 2905, 3868, 5060];
    let _persona = bed
        .add_persona_with(catalog::linux_2_6(), v4, None, vec![Box::new(SctpHandler::new(&open))])
        .map_err(|e| format!("persona: {e}"))?;
    let addr = v4.to_string();
    let mut scanned: Vec<u16> = (1..=1000).collect();
    scanned.extend(open);
    scanned.sort_unstable();
    scanned.dedup();
    let list = "S:1-1000,2905,3868,5060";
    compare(bed.scanner(), "sctp (-sY, SCTP persona, 4 listening)", &["-sY", "-p", list, &addr], &scanned, runs)?;
    compare(bed.scanner(), "sctp (-sZ, SCTP persona, 4 listening)", &["-sZ", "-p", list, &addr], &scanned, runs)
}
