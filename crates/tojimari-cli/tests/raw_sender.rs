//! The raw sender at speed (issue 11), against real hosts in the test bed: retries where they can pay
//! (silent hosts retried on a sample, answering hosts in full), the transmit ring and its `sendmmsg`
//! fallback, and an interface that goes down mid-scan. Frame counts come from the scanner's own `-v`
//! summary and are checked against the scanner interface's kernel counter. Needs root; without it each test
//! says SKIPPED loudly, and under CI=true fails.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeSet;

use support::*;
use tojimari_testbed::{Netns, firewall, testbed_or_skip};

/// (probes, frames, replies, ring drops) from the `-v` line `raw engine: P probes, F frames sent ...`.
fn engine_counts(stderr: &str) -> (u64, u64, u64, u64) {
    let line = stderr.lines().find(|l| l.starts_with("note: raw engine: ")).unwrap_or_else(|| panic!("{stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter(|w| !w.is_empty() && !w.contains('.'))
        .filter_map(|w| w.parse().ok())
        .collect();
    // probes, frames, replies, drops (the per-probe ratio has a dot and is skipped).
    assert_eq!(numbers.len(), 4, "{line}");
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

fn tx_packets(ns: &Netns) -> u64 {
    let out = ns.command("cat").arg("/sys/class/net/eth0/statistics/tx_packets").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A /24 behind the target with 1 address in 32 alive, 100 ports each, -Pn: the 248 silent addresses get a
/// sample retried, not all their ports, so the frames stay near one per probe; every open port of the alive
/// hosts is found, also with 5% random loss each way (an answering host is retried in full).
#[test]
fn silent_hosts_get_a_sampled_retry_and_answering_hosts_a_full_one() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, "198.19.0.0/24").unwrap();
    let t = bed.target(0);
    let open = [7u16, 22, 80, 443, 3389];
    let _l = t.listen_tcp(&open).unwrap();
    let alive_only = "table ip alive {\n chain input { type filter hook input priority -10;\n  ip daddr 198.19.0.0/24 ip daddr & 0.0.0.31 != 0.0.0.0 drop\n }\n}\n";
    t.firewall(alive_only).unwrap();
    let truth: BTreeSet<(String, u16)> =
        (0..256u32).step_by(32).flat_map(|i| open.map(|p| (format!("198.19.0.{i}"), p))).collect();
    for loss in [0u8, 5] {
        t.firewall(&firewall::random_loss(loss)).unwrap();
        let before = tx_packets(bed.scanner());
        let (ports, _, out) = scan(bed.scanner(), &["-sS", "-p", "1-100,443,3389", "-Pn", "-n", "-v", "198.19.0.0/24"]);
        let sent_on_wire = tx_packets(bed.scanner()) - before;
        let found: BTreeSet<(String, u16)> =
            ports.iter().filter(|(_, (s, _))| s == "open").map(|(k, _)| k.clone()).collect();
        assert_eq!(found, truth, "loss {loss}%");
        for i in (0..256u32).filter(|i| i % 32 != 0) {
            assert_eq!(ports[&(format!("198.19.0.{i}"), 50)].0, "filtered", "a silent address is filtered");
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let (probes, frames, _, _) = engine_counts(&stderr);
        assert_eq!(probes, 256 * 102);
        // A full retry of every silent probe would be 2 or 3 frames per probe; the sample costs about 0.08
        // per retry pass (4-6 of 102 ports), plus the alive hosts' share of retries under loss.
        let per_probe = frames as f64 / probes as f64;
        assert!((1.0..1.3).contains(&per_probe), "loss {loss}%: {per_probe:.3} frames per probe: {stderr}");
        assert!(frames > probes, "the silent hosts' samples were retried");
        // The engine's own count is what left the interface, plus the resets our kernel sends for the
        // SYN/ACKs (one per open port and SYN/ACK retransmission) and the odd ARP.
        let kernel_resets = 4 * truth.len() as u64 + 20;
        assert!(
            sent_on_wire >= frames && sent_on_wire <= frames + kernel_resets,
            "{sent_on_wire} on the wire, {frames} counted"
        );
        eprintln!("loss {loss}%: {probes} probes, {frames} frames ({per_probe:.3} per probe)");
    }
}

/// The transmit ring is chosen where the kernel grants it (reported with -v); `TOJIMARI_TX_RING=0` keeps
/// `sendmmsg`, and both find the same ports.
#[test]
fn the_transmit_ring_is_chosen_and_sendmmsg_gives_the_same_answers() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let open = [21u16, 22, 8080, 40000];
    let _l = t.listen_tcp(&open).unwrap();
    let addr = t.v4.to_string();
    let mut answers = Vec::new();
    for (ring, want) in [
        ("1", "note: raw sender: tx-ring (PACKET_TX_RING, TPACKET_V2"),
        ("0", "note: raw sender: sendmmsg (the transmit ring was turned off)"),
    ] {
        let mut cmd = tojimari_in(bed.scanner());
        cmd.env("TOJIMARI_TX_RING", ring);
        let scratch = Scratch::new(&format!("ring{ring}"));
        let jsonl = scratch.path("out.jsonl");
        let out = cmd.args(["-sS", "-p-", "-Pn", "-n", "-v", "-oJ", &jsonl, "--no-progress", &addr]).output().unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.lines().any(|l| l.starts_with(want)), "TOJIMARI_TX_RING={ring}: {stderr}");
        let (probes, frames, replies, drops) = engine_counts(&stderr);
        assert_eq!((probes, frames), (65535, 65535), "no loss, no retry: {stderr}");
        assert!(replies >= 65535, "{stderr}");
        assert_eq!(drops, 0, "{stderr}");
        let lines = parse_jsonl(&std::fs::read_to_string(&jsonl).unwrap());
        let found: BTreeSet<u16> =
            port_map(&lines).into_iter().filter(|(_, (s, _))| s == "open").map(|((_, p), _)| p).collect();
        answers.push(found);
    }
    assert_eq!(answers[0], open.into_iter().collect());
    assert_eq!(answers[0], answers[1]);
}

/// The scanner's interface goes down in the middle of a scan: a clear error naming it, exit 1, and what was
/// found before is written (JSON Lines and a well-formed XML file).
#[test]
fn an_interface_that_goes_down_mid_scan_keeps_what_was_found() {
    let bed = testbed_or_skip!(1);
    let mut scan = CutScan::start(&bed, "raw-ifdown");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    bed.scanner().ip(&["link", "set", "eth0", "down"]).unwrap();
    let status = scan.child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut scan.child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains("eth0 went down"), "{error}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    scan.check_kept();
}
