//! `--pcap` and `--log`: a tcpdump capture of a real nmap scan replayed through `watch`, a
//! firewall log, and damaged or foreign files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::Value;
use tojimari_testbed::testbed_or_skip;
use tojimari_watch::WatchArgs;

use crate::support::{SharedBuf, read_alerts, run_until, sh, temp_path};

/// Runs a replay to its end and returns (exit code, stderr, alerts).
fn replay(args: WatchArgs) -> (i32, String, Vec<Value>) {
    let json = temp_path("replay.jsonl");
    let mut err = SharedBuf::default();
    let code = run_until(
        WatchArgs { json: Some(json.clone()), ..args },
        &AtomicBool::new(false),
        &mut std::io::sink(),
        &mut err,
    );
    let alerts = read_alerts(&json);
    let _ = std::fs::remove_file(&json);
    (code, err.text(), alerts)
}

#[test]
fn replays_a_tcpdump_capture_of_an_nmap_scan() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _tcp = target.listen_tcp(&[22, 80]).expect("tcp listeners");
    let pcap = temp_path("nmap-sS.pcap");
    let tcpdump = tojimari_testbed::Tcpdump::start(&target.ns, "eth0", &pcap, 128, "ip").expect("start tcpdump");
    let out = sh(bed.scanner(), Duration::from_secs(30), "nmap -n -Pn -sS -T4 -p 1-100 198.18.0.2");
    assert!(out.status.success(), "nmap: {}", String::from_utf8_lossy(&out.stderr));
    tcpdump.stop();

    let (code, stderr, alerts) = replay(WatchArgs { pcap: vec![pcap.clone()], ..Default::default() });
    assert_eq!(code, 0, "{stderr}");
    let first = alerts.first().unwrap_or_else(|| panic!("no alert from the replay: {stderr}"));
    assert_eq!(first["scan_type"], "syn", "{alerts:#?}");
    assert_eq!(first["src"], "198.18.0.1");
    assert_eq!(first["dst"], "198.18.0.2");
    assert_eq!(first["tool"], "nmap");
    assert!(first["probes"].as_u64().is_some_and(|p| p <= 10), "{first}");
    assert!(stderr.contains("records replayed"), "{stderr}");
    // The end of the replay closes the scan with its true totals: nmap probed each of the
    // 100 ports (closed ports once, open ones once).
    let ends: Vec<&Value> = alerts.iter().filter(|a| a["type"] == "scan-end").collect();
    assert_eq!(ends.len(), 1, "{alerts:#?}");
    assert_eq!(ends[0]["incident"], first["incident"]);
    assert_eq!(ends[0]["reason"], "finish");
    assert_eq!(ends[0]["port_count"], 100, "{}", ends[0]);
    assert_eq!(ends[0]["port_range"], serde_json::json!([1, 100]));
    assert_eq!(ends[0]["ports_truncated"], false);
    assert!(stderr.contains("note: ") && stderr.contains("syn scan ended (finish) from 198.18.0.1"), "{stderr}");

    // The same file cut in the middle of a record: an error naming the file, after the
    // alerts found before the cut.
    let bytes = std::fs::read(&pcap).unwrap();
    let cut = temp_path("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 7]).unwrap();
    let (code, stderr, alerts) = replay(WatchArgs { pcap: vec![cut.clone()], ..Default::default() });
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&*cut.to_string_lossy()), "{stderr}");
    assert!(alerts.iter().any(|a| a["scan_type"] == "syn"), "alerts before the damage are kept: {stderr}");
    let _ = std::fs::remove_file(&cut);
    let _ = std::fs::remove_file(&pcap);
}

fn write_temp(name: &str, content: &[u8]) -> PathBuf {
    let path = temp_path(name);
    std::fs::File::create(&path).unwrap().write_all(content).unwrap();
    path
}

#[test]
fn replays_a_firewall_log() {
    // iptables -j LOG lines as syslog writes them: one source probing 15 ports with SYNs.
    let mut log = String::from("Nov 22 10:00:00 gate sshd[811]: Accepted publickey for admin\n");
    for (i, port) in [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995].iter().enumerate() {
        log.push_str(&format!(
            "Nov 22 10:00:{:02} gate kernel: [12345.{i:03}] DROP IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 \
             SRC=203.0.113.7 DST=198.51.100.2 LEN=44 TOS=0x00 PREC=0x00 TTL=41 ID={} PROTO=TCP SPT=61000 DPT={port} \
             WINDOW=1024 RES=0x00 SYN URGP=0\n",
            i + 1,
            54321 + i
        ));
    }
    let path = write_temp("fw.log", log.as_bytes());
    let (code, stderr, alerts) = replay(WatchArgs { log: vec![path.clone()], ..Default::default() });
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0, "{stderr}");
    let first = alerts.first().unwrap_or_else(|| panic!("no alert: {stderr}"));
    assert_eq!(first["src"], "203.0.113.7");
    assert_eq!(first["dst"], "198.51.100.2");
    assert_eq!(first["scan_type"], "syn");

    // The same with `-oJ -`: JSON Lines on stdout, readable lines on stderr.
    let path = write_temp("fw2.log", log.as_bytes());
    let (mut out, mut err) = (SharedBuf::default(), SharedBuf::default());
    let args = WatchArgs { log: vec![path.clone()], json: Some("-".into()), ..Default::default() };
    assert_eq!(run_until(args, &AtomicBool::new(false), &mut out, &mut err), 0);
    let _ = std::fs::remove_file(&path);
    let lines: Vec<Value> = out.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let types: Vec<&str> = lines.iter().filter_map(|v| v["type"].as_str()).collect();
    assert_eq!(types, ["alert", "scan-end"], "{}", out.text());
    for key in ["incident", "src", "dst", "scan_type", "ports", "first_seen", "last_seen", "tool", "confidence"] {
        assert!(lines[0].get(key).is_some(), "{key} missing: {}", lines[0]);
    }
    // The closing record: all 15 logged ports, 21 to 995, from the first line's time to the last.
    let end = &lines[1];
    assert_eq!((end["incident"].clone(), end["probes"].clone()), (lines[0]["incident"].clone(), 15.into()));
    assert_eq!(end["port_count"], 15, "{end}");
    assert_eq!(end["port_range"], serde_json::json!([21, 995]));
    assert_eq!(end["ports"].as_array().map(Vec::len), Some(15));
    assert_eq!(end["ports_truncated"], false);
    assert!(end["first_seen"].as_str().is_some_and(|t| t.ends_with("10:00:01.000000Z")), "{end}");
    assert!(end["last_seen"].as_str().is_some_and(|t| t.ends_with("10:00:15.000000Z")), "{end}");
    assert!(err.text().contains("warning: ") && err.text().contains("syn scan from 203.0.113.7"), "{}", err.text());
    assert!(err.text().contains("note: ") && err.text().contains("syn scan ended (finish) from 203.0.113.7"));

    // A file of something else: no alert, a warning that says so, exit 0.
    let path = write_temp("not-a-log.txt", b"hello\nworld\n");
    let (code, stderr, alerts) = replay(WatchArgs { log: vec![path.clone()], ..Default::default() });
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 0, "{stderr}");
    assert!(alerts.is_empty());
    assert!(stderr.contains("no inbound firewall LOG lines among 2 lines"), "{stderr}");
}

#[test]
fn bad_input_gives_clear_errors() {
    // Not a capture at all.
    let junk = write_temp("junk.pcap", b"this is not a capture file at all, just text\n");
    let (code, stderr, _) = replay(WatchArgs { pcap: vec![junk.clone()], ..Default::default() });
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error:") && stderr.contains(&*junk.to_string_lossy()), "{stderr}");
    let _ = std::fs::remove_file(&junk);

    // A missing file, then a good (empty-alert) one: the error does not stop the other file.
    let missing = temp_path("missing.pcap");
    let (code, stderr, _) = replay(WatchArgs { pcap: vec![missing.clone()], ..Default::default() });
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&*missing.to_string_lossy()), "{stderr}");

    // Live capture and replay together make no sense.
    let (code, stderr, _) =
        replay(WatchArgs { interfaces: vec!["lo".into()], pcap: vec![missing.clone()], ..Default::default() });
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot be combined"), "{stderr}");

    // An interface that does not exist is named (checked before any privilege is needed).
    let (code, stderr, _) = replay(WatchArgs { interfaces: vec!["nosuchif0".into()], ..Default::default() });
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no interface named \"nosuchif0\""), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");

    // An output file that cannot be created.
    let mut err = SharedBuf::default();
    let code = run_until(
        WatchArgs { pcap: vec![missing], json: Some("/nonexistent-dir/alerts.jsonl".into()), ..Default::default() },
        &AtomicBool::new(false),
        &mut std::io::sink(),
        &mut err,
    );
    assert_eq!(code, 1);
    assert!(err.text().contains("/nonexistent-dir/alerts.jsonl"), "{}", err.text());
}
