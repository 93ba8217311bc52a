//! `tojimari check`: the ready-made checks on a test-bed host whose ground truth the test sets up.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::Output;

use tojimari_testbed::{TestBed, firewall, testbed_or_skip};

fn check(bed: &TestBed, args: &[&str]) -> (String, Output) {
    let out = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari")).arg("check").args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "check {args:?}: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    (text, out)
}

fn row<'a>(text: &'a str, port: &str) -> &'a str {
    text.lines().find(|l| l.trim_start().starts_with(port)).unwrap_or_else(|| panic!("no row {port} in\n{text}"))
}

#[test]
fn quick_check_tells_open_closed_and_stealth_ports() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 12345]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80, 443, 8080])).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["quick", &addr]);
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
    assert!(row(&text, "21/tcp").contains("CLOSED"), "{text}");
    assert!(row(&text, "80/tcp").contains("STEALTH"), "{text}");
    assert!(row(&text, "8080/tcp").contains("STEALTH"), "{text}");
    // A trojan port that is open is listed with its name, and called out in the advice.
    assert!(row(&text, "12345/tcp").contains("NetBus") && row(&text, "12345/tcp").contains("OPEN"), "{text}");
    assert!(text.contains("12345/tcp OPEN: a well-known backdoor port (NetBus)"), "{text}");
    assert!(text.contains("22/tcp OPEN: SSH is fine"), "{text}");
    assert!(text.contains("ICMP echo: ANSWERED"), "{text}");
    assert!(text.contains("A machine that serves nothing should show every port STEALTH."), "{text}");
}

#[test]
fn a_host_that_drops_everything_is_all_stealth() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.firewall(&firewall::random_loss(100)).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["trojan", &addr]);
    assert!(text.contains("Every port is STEALTH"), "{text}");
    assert!(text.contains("Verdict: 0 OPEN, 0 CLOSED, "), "{text}");
    let (text, _) = check(&bed, &["stealth", &addr]);
    assert!(text.contains("Every port is STEALTH to every probe type: a stateful firewall"), "{text}");
}

#[test]
fn stealth_check_tells_a_stateless_filter() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22]).unwrap();
    let common: Vec<u16> =
        vec![21, 23, 25, 53, 79, 80, 110, 113, 135, 139, 143, 443, 445, 1080, 1900, 2869, 3128, 5000, 8080];
    target.firewall(&firewall::drop_pure_syn(&common)).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["stealth", &addr]);
    // SYN dropped, FIN/NULL/Xmas reach the closed port and get a reset.
    let r = row(&text, "80/tcp");
    assert!(r.contains("STEALTH  CLOSED   CLOSED   CLOSED"), "{text}");
    assert!(text.contains("a STATELESS filter"), "{text}");
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
}

#[test]
fn tcp_check_lists_open_ports_and_counts_the_rest() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[25, 631]).unwrap();
    target.firewall(&firewall::drop_tcp(&[1, 2, 3])).unwrap();
    let addr = target.v4.to_string();
    let (text, _) = check(&bed, &["tcp", &addr]);
    assert!(row(&text, "25/tcp").contains("OPEN") && row(&text, "631/tcp").contains("OPEN"), "{text}");
    assert!(text.contains("(other ports: 1019 CLOSED, 3 STEALTH)"), "{text}");
    assert!(text.contains("Verdict: 2 OPEN, 1019 CLOSED, 3 STEALTH of 1024 ports."), "{text}");
}

#[test]
fn unknown_check_and_missing_target_are_usage_errors() {
    for args in [&["nosuch", "198.18.0.2"][..], &["quick"][..]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tojimari")).arg("check").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("hint"), "{err}");
    }
}

/// Without raw-socket privilege `quick` runs as a connect scan, says ICMP echo was not tested, and a target
/// after `--` is simply a target.
#[test]
fn quick_check_without_privilege_checks_a_target_given_after_double_dash() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 31337]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80])).unwrap();
    let addr = target.v4.to_string();
    let out = bed
        .scanner()
        .command("setpriv")
        .args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", env!("CARGO_BIN_EXE_tojimari")])
        .args(["check", "quick", "--", &addr])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{text}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("tojimari check quick: {addr}")), "{text}");
    assert!(row(&text, "22/tcp").contains("OPEN"), "{text}");
    assert!(row(&text, "21/tcp").contains("CLOSED"), "{text}");
    assert!(row(&text, "80/tcp").contains("STEALTH"), "{text}");
    assert!(row(&text, "31337/tcp").contains("OPEN"), "{text}");
    assert!(!text.contains("/udp"), "a UDP scan needs raw sockets: {text}");
    assert!(
        text.contains("ICMP echo: not tested: sending ICMP echo needs root (or the CAP_NET_RAW capability)"),
        "{text}"
    );
}
