//! `--traceroute` on the test bed, through a chain of routing namespaces (`TestBed::add_routed_hops`):
//! router k forwards from 198.18.(k-1).0/24 to 198.18.k.0/24, and Linux host k sits at 198.18.k.2, k routers
//! from the scanner. Router 2 is told by nft to send no time exceeded: hop 2 is silent on every trace
//! through it. The ground truth of host k's trace is known from the chain's layout (router 1 answers from
//! 198.18.0.199, router k > 1 from 198.18.(k-1).254, the host at TTL k + 1), and nmap 7.93 runs the same
//! scan in the same namespace: every hop of both equals the truth, over IPv4 and IPv6, with the probe each
//! picks (a closed TCP port, a closed UDP port, the echo request for -sn).
//!
//! - A hop whose time exceeded quotes something that is not our probe (router 1's answers mangled by nft) is
//!   shown silent, never as a hop it did not prove; the rest of the trace stands.
//! - `-A` includes the traceroute; `--traceroute` with the idle or bounce scan is refused, and without raw
//!   sockets it is left out with a note, as nmap warns and goes on.

#![allow(clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::net::IpAddr;

use tojimari_testbed::routed::{RoutedHops, router_upstream, router_upstream_v6};
use tojimari_testbed::{Netns, TestBed, testbed_or_skip};

/// No time exceeded leaves router 2.
const QUIET: &str = "table inet quiet {\n chain output { type filter hook output priority 0;\n  \
                     icmp type time-exceeded drop\n  icmpv6 type time-exceeded drop\n }\n}\n";

/// host -> (trace's port and proto attributes, TTL -> hop address), from an nmap-style XML document.
type Traces = BTreeMap<String, (String, BTreeMap<u8, String>)>;

fn attr(s: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = s.find(&key)? + key.len();
    Some(s[start..start + s[start..].find('"')?].to_string())
}

/// The `<trace>` of each host in `xml`.
fn traces(xml: &str) -> Traces {
    let mut out = Traces::new();
    for host in xml.split("</host>").filter_map(|h| h.rfind("<host>").or_else(|| h.rfind("<host ")).map(|at| &h[at..]))
    {
        let addr = attr(&host[host.find("<address ").unwrap()..], "addr").unwrap();
        let Some(at) = host.find("<trace") else { continue };
        let trace = &host[at..host.find("</trace>").unwrap()];
        let head = &trace[..trace.find('>').unwrap()];
        let using = format!("{}/{}", attr(head, "port").unwrap_or_default(), attr(head, "proto").unwrap_or_default());
        let hops = trace
            .split("<hop ")
            .skip(1)
            .map(|h| format!(" {h}"))
            .map(|h| (attr(&h, "ttl").unwrap().parse().unwrap(), attr(&h, "ipaddr").unwrap()))
            .collect();
        out.insert(addr, (using, hops));
    }
    out
}

/// Runs a program in `ns` with `args` plus `-oX -`, checks it succeeded, returns (XML, stderr).
fn run_xml(ns: &Netns, program: &str, args: &[&str]) -> (String, String) {
    let mut cmd = if program == "tojimari" { support::tojimari_in(ns) } else { ns.command("nmap") };
    if program == "tojimari" {
        cmd.args(["--no-progress", "--no-store"]);
    }
    let out = cmd.args(args).args(["-oX", "-"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{program} {args:?}: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// The true trace of host `k` of the chain (router 2 silent): TTL -> address; silent TTLs absent.
fn truth(k: usize, v6: bool) -> BTreeMap<u8, String> {
    let mut hops = BTreeMap::new();
    for r in 1..=k {
        if r != 2 {
            let addr: IpAddr = if v6 { router_upstream_v6(r).into() } else { router_upstream(r).into() };
            hops.insert(r as u8, addr.to_string());
        }
    }
    hops
}

/// A bed with three routed hops, router 2 silent, listeners on 22 on hosts 2 and 3.
fn chain(bed: &TestBed) -> (RoutedHops, Vec<tojimari_testbed::Listeners>) {
    let hops = bed.add_routed_hops(3).unwrap();
    hops.router(2).nft(QUIET).unwrap();
    let listeners = [2, 3].iter().map(|&k| hops.host(k).listen_tcp(&[22]).unwrap()).collect();
    (hops, listeners)
}

fn check_against_truth_and_nmap(bed: &TestBed, hops: &RoutedHops, args: &[&str], v6: bool, using: &str) {
    let addr = |k: usize| -> String {
        let h = hops.host(k);
        if v6 { h.v6.to_string() } else { h.v4.to_string() }
    };
    let targets: Vec<String> = (1..=3).map(addr).collect();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-n", "--traceroute"]);
    if v6 {
        all.push("-6");
    }
    all.extend(targets.iter().map(String::as_str));
    let (ours, _) = run_xml(bed.scanner(), "tojimari", &all);
    let (theirs, _) = run_xml(bed.scanner(), "nmap", &all);
    let (ours, theirs) = (traces(&ours), traces(&theirs));
    for k in 1..=3 {
        let target = addr(k);
        let mut want = truth(k, v6);
        want.insert(k as u8 + 1, target.clone());
        let (our_using, our_hops) =
            ours.get(&target).unwrap_or_else(|| panic!("{args:?} v6 {v6}: no trace of {target}: {ours:?}"));
        assert_eq!(our_hops, &want, "{args:?} {target}: tojimari's hops against the truth");
        // Host 1 has both TCP ports closed: either is the closed port the trace wants.
        let either = k == 1 && using == "23/tcp" && our_using == "22/tcp";
        assert!(our_using == using || either, "{args:?} {target}: using {our_using}, not {using}");
        let (_, nmap_hops) = theirs.get(&target).unwrap_or_else(|| panic!("nmap traced no {target}: {theirs:?}"));
        assert_eq!(nmap_hops.get(&(k as u8 + 1)), Some(&target), "{args:?}: nmap reached {target} too");
        // nmap's XML leaves out the hops it copied from another host's trace ("Hop 1 is the same as for
        // ..."): those it shows must be ours.
        for (ttl, hop) in nmap_hops {
            assert_eq!(
                our_hops.get(ttl),
                Some(hop),
                "{args:?} {target}: TTL {ttl} nmap {nmap_hops:?}, ours {our_hops:?}"
            );
        }
    }
}

#[test]
fn a_chain_with_a_silent_router_is_traced_as_the_truth_and_nmap_say() {
    let bed = testbed_or_skip!(1);
    let (hops, _listeners) = chain(&bed);
    // A SYN scan: the closed port 23 is the probe (a reset comes back), as nmap picks it.
    check_against_truth_and_nmap(&bed, &hops, &["-sS", "-p", "22,23"], false, "23/tcp");
    check_against_truth_and_nmap(&bed, &hops, &["-sS", "-p", "22,23"], true, "23/tcp");
    // A UDP scan: the closed port's port unreachable; host discovery only: the echo request.
    check_against_truth_and_nmap(&bed, &hops, &["-sU", "-p", "53"], false, "53/udp");
    check_against_truth_and_nmap(&bed, &hops, &["-sn"], false, "/icmp");
    check_against_truth_and_nmap(&bed, &hops, &["-sn"], true, "/ipv6-icmp");
}

#[test]
fn normal_output_has_nmaps_traceroute_section() {
    let bed = testbed_or_skip!(1);
    let (hops, _listeners) = chain(&bed);
    let h3 = hops.host(3).v4.to_string();
    let out = support::tojimari_in(bed.scanner())
        .args(["--no-progress", "--no-store", "-sS", "-p", "22,23", "-n", "--traceroute", &h3, "198.18.0.2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let section = &text[text.find("TRACEROUTE (using port 23/tcp)").unwrap_or_else(|| panic!("{text}"))..];
    let lines: Vec<&str> = section.lines().take(6).collect();
    assert_eq!(lines[1], "HOP RTT     ADDRESS", "{section}");
    assert!(lines[2].starts_with("1   ") && lines[2].ends_with(" ms 198.18.0.199"), "{section}");
    assert_eq!(lines[3], "2   ...", "{section}");
    assert!(lines[4].starts_with("3   ") && lines[4].ends_with(" ms 198.18.2.254"), "{section}");
    assert!(lines[5].starts_with("4   ") && lines[5].ends_with(&format!(" ms {h3}")), "{section}");
    // The bed's own target is on the scanner's link: one hop, not probed, no "using".
    let local = &text[text.find("scan report for 198.18.0.2").unwrap()..];
    let local = &local[local.find("TRACEROUTE").unwrap()..];
    assert!(local.starts_with("TRACEROUTE\nHOP RTT     ADDRESS\n1   "), "{local}");
    assert!(local.lines().nth(2).unwrap().ends_with(" ms 198.18.0.2"), "{local}");
}

#[test]
fn a_hop_whose_answer_quotes_no_probe_of_ours_is_silent() {
    let bed = testbed_or_skip!(1);
    let (hops, _listeners) = chain(&bed);
    // Router 1's time exceeded quotes a source port our probes never use (bytes 28-29 of the ICMP message:
    // the quoted transport header's first field).
    hops.router(1)
        .nft(
            "table ip garble {\n chain output { type filter hook output priority 0;\n  \
             icmp type time-exceeded @th,224,16 set 0x0101\n }\n}\n",
        )
        .unwrap();
    let h3 = hops.host(3).v4.to_string();
    let (xml, stderr) = run_xml(bed.scanner(), "tojimari", &["-sS", "-p", "22,23", "-n", "--traceroute", &h3]);
    assert!(
        stderr.contains("note: traceroute: 2 time-exceeded message(s) about the traced hosts quoted no"),
        "{stderr}"
    );
    let (_, got) = &traces(&xml)[&h3];
    let mut want = truth(3, false);
    want.remove(&1);
    want.insert(4, h3.clone());
    assert_eq!(got, &want, "hop 1 answered, but not about our probe: silent, the others as they are");
}

#[test]
fn aggressive_includes_the_traceroute() {
    let bed = testbed_or_skip!(1);
    let (hops, _listeners) = chain(&bed);
    let h2 = hops.host(2).v4.to_string();
    let (xml, stderr) = run_xml(bed.scanner(), "tojimari", &["-A", "-p", "22,23", "-n", &h2]);
    assert!(stderr.contains("-A turned on -sV, -sC, -O, --traceroute"), "{stderr}");
    let (_, got) = &traces(&xml)[&h2];
    let mut want = truth(2, false);
    want.insert(3, h2.clone());
    assert_eq!(got, &want);
}

#[test]
fn traceroute_where_it_cannot_run() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0).v4.to_string();
    let run = |args: &[&str]| {
        let out =
            support::tojimari_in(bed.scanner()).args(["--no-progress", "--no-store"]).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // The idle and bounce scans exist not to send the targets anything from here.
    for args in [
        vec!["--traceroute", "-sI", "198.18.0.3", "-p", "22", &target],
        vec!["--traceroute", "-b", "198.18.0.3", "-p", "22", &target],
    ] {
        let (code, stderr) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: --traceroute sends the targets packets from this host"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    }
    // A connect scan: left out with a note, the scan goes on.
    let (code, stderr) = run(&["--traceroute", "-sT", "-p", "22", "-n", &target]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("--traceroute left out the traceroute: it runs on the raw engine"), "{stderr}");
}

#[test]
fn hosts_behind_the_same_routers_share_their_hops() {
    let bed = testbed_or_skip!(1);
    let (hops, _listeners) = chain(&bed);
    // 48 more addresses on host 3's network, all in host 3's namespace: 49 hosts four hops away.
    let host3 = &hops.host(3).ns;
    for i in 10..58 {
        host3.ip(&["addr", "add", &format!("198.18.3.{i}/32"), "dev", "eth0"]).unwrap();
    }
    let mut targets: Vec<String> = (10..58).map(|i| format!("198.18.3.{i}")).collect();
    targets.push(hops.host(3).v4.to_string());
    // Hosts 1 and 2 first: the first host of the interface and next hop is not at the others' distance.
    let nearer = [hops.host(1).v4.to_string(), hops.host(2).v4.to_string()];
    let mut args = vec!["-sS", "-p", "22,23", "-n", "--traceroute"];
    args.extend(nearer.iter().map(String::as_str));
    args.extend(targets.iter().map(String::as_str));
    let started = std::time::Instant::now();
    let (xml, _) = run_xml(bed.scanner(), "tojimari", &args);
    eprintln!("tojimari: {} hosts traced in {:?}", targets.len(), started.elapsed());
    let found = traces(&xml);
    for target in &targets {
        let mut want = truth(3, false);
        want.insert(4, target.clone());
        assert_eq!(found.get(target).map(|t| &t.1), Some(&want), "{target}");
    }
    for (k, target) in [(1, &nearer[0]), (2, &nearer[1])] {
        let mut want = truth(k, false);
        want.insert(k as u8 + 1, target.clone());
        assert_eq!(found.get(target).map(|t| &t.1), Some(&want), "{target}");
    }
    // Most copied their routers from the first host's trace instead of asking the routers again (which
    // would have met router 1's rate limit on time exceeded: six, then one a second).
    assert_eq!(xml.matches("<trace").count(), targets.len() + 2);
    let mut normal = support::tojimari_in(bed.scanner());
    let out = normal.args(["--no-progress", "--no-store"]).args(&args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let same = text.matches("-   Hops 1-3 are the same as for ").count();
    assert!(same >= targets.len() - 1, "{same} of {} copied: {text}", targets.len());
}
