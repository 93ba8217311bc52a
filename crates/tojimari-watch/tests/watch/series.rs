//! The watcher as a long-running guard: one watcher in the target for a whole series of scans
//! of different kinds and speeds, first from one source (nmap -sS, -sT and -sF back to back,
//! masscan, tojimari's own scan, a slow scan with --scan-delay), then from several sources at
//! once, with benign traffic (connections to open ports, DNS-like UDP) in between.
//!
//! Every scan must be reported once, as it starts, as its own incident, and closed by one
//! `scan-end` record whose port count and range are exactly the ports the scan was asked to
//! probe. Nothing else may be reported: no false alarm, no scan split in two. The quiet
//! timeout is shortened to 4 s (the default is a minute) to keep the test short.

use std::collections::HashSet;
use std::io::Read;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tojimari_scandetect::DetectorConfig;
use tojimari_testbed::{TestBed, testbed_or_skip};
use tojimari_watch::WatchArgs;

use crate::support::{Watcher, installed, mac_of, sh};

const TARGET: &str = "198.18.0.2";
/// Extra scanner addresses for the several-sources part.
const OTHERS: [&str; 3] = ["198.18.0.11", "198.18.0.12", "198.18.0.13"];

/// One scan of the series and what its records must say.
struct Step {
    label: String,
    src: &'static str,
    script: String,
    scan_type: &'static str,
    /// The tool the start record must name (`None`: no tool), or not checked.
    tool: Option<Option<&'static str>>,
    /// The ports asked for, a contiguous range.
    ports: (u16, u16),
}

fn nmap(src: &'static str, flags: &str, ports: (u16, u16), scan_type: &'static str) -> Step {
    let source = if src == "198.18.0.1" { String::new() } else { format!("-e eth0 -S {src} ") };
    let tool = if scan_type == "connect" { None } else { Some("nmap") };
    Step {
        label: format!("nmap {flags}{}", if source.is_empty() { String::new() } else { format!(" -S {src}") }),
        src,
        script: format!("nmap -n -Pn {source}{flags} -p {}-{} {TARGET}", ports.0, ports.1),
        scan_type,
        tool: Some(tool),
        ports,
    }
}

/// What the records of one step said.
struct Row {
    label: String,
    asked: String,
    closed: String,
    probes: String,
    detected_after: String,
    tool: String,
    problems: Vec<String>,
}

/// tojimari's own binary, next to this test's directory (`cargo build` makes it).
fn tojimari_binary() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let bin = me.parent()?.parent()?.join("tojimari");
    bin.exists().then_some(bin)
}

/// Connections to the open ports and DNS-like queries, from the scanner's main address and
/// (UDP) from another one; returns how many were answered.
fn benign(bed: &TestBed) -> usize {
    let target: [u8; 4] = [198, 18, 0, 2];
    bed.scanner()
        .run_in(move || {
            let timeout = Duration::from_secs(2);
            let mut ok = 0;
            for port in [22u16, 80, 22, 80, 80, 22, 80, 80, 22, 80] {
                if let Ok(mut s) = TcpStream::connect_timeout(&SocketAddr::from((target, port)), timeout) {
                    let _ = s.set_read_timeout(Some(timeout));
                    let _ = s.read(&mut [0u8; 16]);
                    ok += 1;
                }
            }
            for (i, from) in ["0.0.0.0:0", "198.18.0.14:0"].iter().cycle().take(20).enumerate() {
                let Ok(s) = UdpSocket::bind(from) else { continue };
                let _ = s.set_read_timeout(Some(timeout));
                let mut query = vec![0u8; 29];
                query[..2].copy_from_slice(&(i as u16).to_be_bytes());
                if s.send_to(&query, SocketAddr::from((target, 53))).is_ok() && s.recv(&mut [0u8; 64]).is_ok() {
                    ok += 1;
                }
            }
            ok
        })
        .expect("benign traffic")
}

/// Checks the records of the incident that closed for `step`.
fn check(step: &Step, end: Option<&Value>, records: &[Value]) -> Row {
    let (lo, hi) = step.ports;
    let asked = u64::from(hi - lo + 1);
    let mut problems = Vec::new();
    let Some(end) = end else {
        return Row {
            label: step.label.clone(),
            asked: format!("{asked} ({lo}-{hi})"),
            closed: "NO END".into(),
            probes: "-".into(),
            detected_after: "-".into(),
            tool: "-".into(),
            problems: vec!["no closing record".into()],
        };
    };
    let incident = &end["incident"];
    let starts: Vec<&Value> =
        records.iter().filter(|a| a["type"] == "alert" && a["update"] == 0 && &a["incident"] == incident).collect();
    if starts.len() != 1 {
        problems.push(format!("{} start records", starts.len()));
    }
    let start = starts.first();
    if let Some(start) = start {
        if start["scan_type"] != step.scan_type {
            problems.push(format!("started as {}", start["scan_type"]));
        }
        if let Some(tool) = step.tool
            && start["tool"].as_str() != tool
        {
            problems.push(format!("tool {} instead of {tool:?}", start["tool"]));
        }
        if start["probes"].as_u64().is_none_or(|p| p > 40) {
            problems.push(format!("recognised only after {} probes", start["probes"]));
        }
    }
    if end["port_count"] != asked {
        problems.push(format!("closed with {} ports, {asked} asked", end["port_count"]));
    }
    if end["port_range"] != json!([lo, hi]) {
        problems.push(format!("range {}", end["port_range"]));
    }
    if end["port_count_exact"] != true {
        problems.push("count not exact".into());
    }
    let listed = end["ports"].as_array().map_or(0, Vec::len) as u64;
    if end["ports_truncated"] != (listed < asked) || listed != asked.min(128) {
        problems.push(format!("{listed} ports listed, truncated {}", end["ports_truncated"]));
    }
    if end["probes"].as_u64().is_none_or(|p| p < asked) {
        problems.push(format!("{} probes for {asked} ports", end["probes"]));
    }
    Row {
        label: step.label.clone(),
        asked: format!("{asked} ({lo}-{hi})"),
        closed: format!("{} ({})", end["port_count"], end["port_range"]),
        probes: end["probes"].to_string(),
        detected_after: start.map_or("-".into(), |s| s["probes"].to_string()),
        tool: start.and_then(|s| s["tool"].as_str()).unwrap_or("-").to_owned(),
        problems,
    }
}

#[test]
fn a_series_of_scans_is_one_incident_each_with_true_totals() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.unlimit_icmp().expect("lift ICMP rate limits");
    let _tcp = target.listen_tcp(&[22, 80]).expect("tcp listeners");
    let _udp = target.listen_udp(&[53]).expect("udp listener");
    for addr in OTHERS.iter().chain(&["198.18.0.14"]) {
        bed.scanner().ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"]).expect("add a scanner address");
    }
    let mac = mac_of(&target.ns);
    let config = DetectorConfig { quiet_timeout: Duration::from_secs(4), ..DetectorConfig::default() };
    let watcher =
        Watcher::start_with(&target.ns, WatchArgs { interfaces: vec!["eth0".into()], ..Default::default() }, config);
    let started = Instant::now();

    // Groups of steps: the steps of a group run one after the other (or at once), then the
    // test waits for each step's closing record before benign traffic and the next group.
    let me = "198.18.0.1";
    let mut groups: Vec<(bool, Vec<Step>)> = vec![(
        false,
        vec![
            nmap(me, "-sS -T4", (1, 200), "syn"),
            nmap(me, "-sT -T4", (1, 200), "connect"),
            nmap(me, "-sF -T4", (1, 200), "fin"),
        ],
    )];
    if installed("masscan") {
        groups.push((
            false,
            vec![Step {
                label: "masscan --rate 2000".into(),
                src: me,
                // As in scans.rs: masscan 1.3 does not exit after --wait on a veth.
                script: format!(
                    "timeout -s KILL 5 masscan {TARGET} -p1-300 --rate 2000 --wait 1 -e eth0 --adapter-ip {me} \
                     --router-mac {mac}; true"
                ),
                scan_type: "syn",
                tool: Some(Some("masscan")),
                ports: (1, 300),
            }],
        ));
    } else {
        eprintln!("NOTE: masscan is not installed; its scan is not part of the series");
    }
    match tojimari_binary() {
        Some(bin) => groups.push((
            false,
            vec![Step {
                label: "tojimari scan -sS".into(),
                src: me,
                script: format!("{} scan -sS -Pn -n --no-progress -p 1-150 {TARGET} >/dev/null", bin.display()),
                scan_type: "syn",
                tool: None,
                ports: (1, 150),
            }],
        )),
        None => eprintln!("NOTE: the tojimari binary is not built; its scan is not part of the series"),
    }
    groups.push((false, vec![nmap(me, "-sS --scan-delay 400ms", (1, 25), "syn")]));
    groups.push((
        true,
        vec![
            nmap(OTHERS[0], "-sS -T4", (1, 100), "syn"),
            nmap(OTHERS[1], "-sF -T4", (101, 220), "fin"),
            nmap(OTHERS[2], "-sN -T3", (1000, 1079), "null"),
        ],
    ));

    let mut claimed: HashSet<u64> = HashSet::new();
    let mut rows = Vec::new();
    let mut answered = 0;
    for (at_once, steps) in &groups {
        if *at_once {
            let script: String = steps.iter().map(|s| format!("{} & ", s.script)).collect::<String>() + "wait";
            let out = sh(bed.scanner(), Duration::from_secs(60), &script);
            assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        } else {
            for step in steps {
                let out = sh(bed.scanner(), Duration::from_secs(60), &step.script);
                assert!(out.status.success(), "{}: {}", step.label, String::from_utf8_lossy(&out.stderr));
            }
        }
        for step in steps {
            let end = watcher.wait_for(Duration::from_secs(20), |a| {
                a["type"] == "scan-end"
                    && a["src"] == step.src
                    && a["scan_type"] == step.scan_type
                    && a["incident"].as_u64().is_some_and(|i| !claimed.contains(&i))
            });
            if let Some(i) = end.as_ref().and_then(|e| e["incident"].as_u64()) {
                claimed.insert(i);
            }
            rows.push(check(step, end.as_ref(), &watcher.alerts()));
        }
        answered += benign(&bed);
    }
    // Quiet for longer than the quiet timeout: anything the benign traffic raised has closed.
    std::thread::sleep(Duration::from_secs(5));
    // A last scan, and the watcher stops (as on Ctrl-C) while it is still open: its closing
    // record comes from the stop, with its totals.
    let last = nmap(me, "-sX -T4", (1, 60), "xmas");
    let out = sh(bed.scanner(), Duration::from_secs(60), &last.script);
    assert!(out.status.success(), "{}: {}", last.label, String::from_utf8_lossy(&out.stderr));
    let open = watcher.wait_for(Duration::from_secs(10), |a| a["type"] == "alert" && a["scan_type"] == "xmas");
    let secs = started.elapsed().as_secs_f64();
    let done = watcher.finish();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let end = done.alerts.iter().find(|a| a["type"] == "scan-end" && a["scan_type"] == "xmas");
    if let Some(i) = end.and_then(|e| e["incident"].as_u64()) {
        claimed.insert(i);
    }
    let mut row = check(&last, end, &done.alerts);
    if open.is_none() || end.is_some_and(|e| e["reason"] != "finish") {
        row.problems.push(format!("not closed by the stop: {end:?}"));
    }
    rows.push(row);

    eprintln!(
        "\nseries ({secs:.0} s, one watcher): {:<34} {:>14} {:>18} {:>7} {:>9} {:<8} ok",
        "scan", "ports asked", "closed with", "probes", "named at", "tool"
    );
    for r in &rows {
        eprintln!(
            "  {:<34} {:>14} {:>18} {:>7} {:>9} {:<8} {}",
            r.label,
            r.asked,
            r.closed,
            r.probes,
            r.detected_after,
            r.tool,
            if r.problems.is_empty() { "yes".into() } else { r.problems.join("; ") }
        );
    }
    // No record that belongs to no scan of the series: no false alarm, no scan told twice.
    let strays: Vec<&Value> =
        done.alerts.iter().filter(|a| a["incident"].as_u64().is_none_or(|i| !claimed.contains(&i))).collect();
    let steps: usize = groups.iter().map(|(_, s)| s.len()).sum::<usize>() + 1;
    eprintln!(
        "  {steps} scans, {} incidents closed, {} stray records, {answered} benign exchanges answered",
        claimed.len(),
        strays.len()
    );
    assert!(strays.is_empty(), "records outside the series' scans: {strays:#?}\n{}", done.stderr);
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| format!("{}: {}", r.label, r.problems.join("; ")))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\n{}", done.stderr);
    assert!(answered >= 25 * groups.len(), "the benign traffic was not answered ({answered})");
    assert!(done.stderr.lines().any(|l| l.starts_with("note: ") && l.contains("packets seen")), "{}", done.stderr);
}
