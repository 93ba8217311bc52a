//! Regression tests for TCP self-connect in the connect scan (issue 9): a connect scan of the scanner's own
//! address over the kernel's ephemeral port range reported phantom open ports, because the kernel now and
//! then picked the destination port as the source port and the socket connected to itself (TCP
//! simultaneous open). Nothing listens in a fresh test-bed namespace, so every port must come back closed
//! (conn-refused), run after run, as nmap says. Needs root; without it each test says SKIPPED loudly.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;

use support::*;
use tojimari_testbed::{SCANNER_V4, SCANNER_V6, TestBed, testbed_or_skip};

/// The scanner namespace's ephemeral port range (`ip_local_port_range`), as a `-p` spec.
fn ephemeral_range(bed: &TestBed) -> (u16, u16) {
    let text = bed.scanner().read_sysctl("net.ipv4.ip_local_port_range").unwrap();
    let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().unwrap());
    let (lo, hi) = (parts.next().unwrap(), parts.next().unwrap());
    assert!(lo < hi, "odd ephemeral range {text:?}");
    (lo, hi)
}

/// Scans `addr` over `lo-hi` with `-sT` in the scanner namespace and returns every port's (state, reason).
fn connect_scan(bed: &TestBed, addr: &str, lo: u16, hi: u16, extra: &[&str]) -> BTreeMap<u16, (String, String)> {
    let ports = format!("{lo}-{hi}");
    let mut args = vec!["-sT", "-n", "-Pn", "-p", &ports];
    args.extend_from_slice(extra);
    args.push(addr);
    let (map, _, _) = scan(bed.scanner(), &args);
    map.into_iter().map(|((_, p), v)| (p, v)).collect()
}

/// Asserts that a run over an empty namespace found every port closed by a refusal, and no port open.
fn assert_all_refused(got: &BTreeMap<u16, (String, String)>, addr: &str, lo: u16, hi: u16, run: usize) {
    let open: Vec<u16> = got.iter().filter(|(_, (s, _))| s == "open").map(|(p, _)| *p).collect();
    assert!(open.is_empty(), "run {run} on {addr}: phantom open ports {open:?} (nothing listens here)");
    assert_eq!(got.len(), usize::from(hi - lo) + 1, "run {run} on {addr}: every port reported once");
    let odd: Vec<_> = got.iter().filter(|(_, v)| (v.0.as_str(), v.1.as_str()) != ("closed", "conn-refused")).collect();
    assert!(odd.is_empty(), "run {run} on {addr}: ports not closed/conn-refused: {odd:?}");
}

/// The bug as reported: `tojimari scan -sT -n -Pn -p 32768-60999 --open 127.0.0.1` in a namespace with
/// nothing listening printed a phantom open port in 3 of 5 runs. Fifteen runs of the whole ephemeral range
/// must find none.
#[test]
fn tcp_self_connect_is_not_an_open_port_loopback() {
    let bed = testbed_or_skip!(0);
    let (lo, hi) = ephemeral_range(&bed);
    for run in 0..15 {
        let got = connect_scan(&bed, "127.0.0.1", lo, hi, &[]);
        assert_all_refused(&got, "127.0.0.1", lo, hi, run);
    }
}

/// The same over the scanner's other own addresses (its test-bed address, IPv6 loopback and its IPv6
/// address), with the unprivileged connect engine as well.
#[test]
fn tcp_self_connect_is_not_an_open_port_own_addresses() {
    let bed = testbed_or_skip!(0);
    let (lo, hi) = ephemeral_range(&bed);
    let v4 = SCANNER_V4.to_string();
    let v6 = SCANNER_V6.to_string();
    for run in 0..4 {
        for addr in [v4.as_str(), "::1", v6.as_str()] {
            let got = connect_scan(&bed, addr, lo, hi, &[]);
            assert_all_refused(&got, addr, lo, hi, run);
        }
        let ports = format!("{lo}-{hi}");
        let (map, _, _) = scan_unprivileged(bed.scanner(), &["-sT", "-n", "-Pn", "-p", &ports, "127.0.0.1"]);
        let got: BTreeMap<u16, (String, String)> = map.into_iter().map(|((_, p), v)| (p, v)).collect();
        assert_all_refused(&got, "127.0.0.1 (unprivileged)", lo, hi, run);
    }
}
