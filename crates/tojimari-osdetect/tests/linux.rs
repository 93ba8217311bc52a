//! Real Linux kernels answer our probes: a test-bed target namespace with one listener, our frames sent
//! from the scanner namespace through a packet socket, the answers read back from it; `classify` must name
//! the family Linux, as it is and with its per-namespace sysctls changed (timestamps, SACK, window scaling
//! off, another default TTL, ECN on), over IPv4 and over IPv6. Set `OSDB_PRINT=1` to see the fingerprints
//! (how the Linux entries' captures were taken).

#![allow(clippy::print_stderr)]

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use tojimari_net::{Filter, PacketSocket, RingConfig, next_hop_mac, route_to};
use tojimari_osdetect::{Db, Exchange, MatchOptions, Probe, Target, answers, build, classify, schedule};
use tojimari_packet::L2;
use tojimari_testbed::TestBed;

const OPEN: u16 = 8022;
const CLOSED: u16 = 8023;
const CLOSED_UDP: u16 = 8024;

/// Sends every probe to `dst` from inside the scanner namespace and returns the exchanges.
fn probe(dst: IpAddr, key: u32) -> (Target, Vec<Exchange>) {
    let route = route_to(dst).expect("route to the target");
    let mac = next_hop_mac(&route, route.next_hop(), Duration::from_secs(2)).expect("target MAC");
    let ring = RingConfig { block_size: 1 << 16, block_count: 8, frame_timeout_ms: 5 };
    let mut sock = PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), ring).expect("packet socket");
    let target = Target {
        l2: L2 { src_mac: route.src_mac, dst_mac: mac },
        src: route.src,
        dst,
        open_tcp: Some(OPEN),
        closed_tcp: Some(CLOSED),
        closed_udp: Some(CLOSED_UDP),
        key,
        ttl: 64,
    };
    let plan = schedule(&target);
    let start = Instant::now();
    let mut sent: Vec<(Probe, Duration)> = Vec::new();
    let mut got: Vec<(Vec<u8>, Duration)> = Vec::new();
    let take = |sock: &mut PacketSocket, wait: Duration, got: &mut Vec<(Vec<u8>, Duration)>| {
        let _ = sock.recv(wait, &mut |frame: &[u8]| {
            if frame.len() > 14 && (frame[12..14] == [0x08, 0x00] || frame[12..14] == [0x86, 0xdd]) {
                got.push((frame[14..].to_vec(), start.elapsed()));
            }
        });
    };
    for (p, at) in &plan {
        while start.elapsed() < *at {
            take(&mut sock, at.saturating_sub(start.elapsed()).min(Duration::from_millis(5)), &mut got);
        }
        let mut buf = [0u8; 1600];
        let n = build(&target, *p, &mut buf);
        assert!(n > 0);
        sent.push((*p, start.elapsed()));
        assert_eq!(sock.send_batch(&[&buf[..n]]).expect("send"), 1);
    }
    let end = start.elapsed() + Duration::from_millis(800);
    while start.elapsed() < end {
        take(&mut sock, Duration::from_millis(20), &mut got);
    }
    let exchanges = sent
        .into_iter()
        .map(|(probe, at)| {
            let reply = got.iter().find(|(ip, _)| answers(&target, ip) == Some(probe)).cloned();
            Exchange { probe, sent: at, reply }
        })
        .collect();
    (target, exchanges)
}

/// Probes the bed's target over IPv4 with `sysctls` set in its namespace (restored afterwards).
fn run(bed: &TestBed, sysctls: &[(&str, &str)], key: u32) -> tojimari_core::os::OsReport {
    run_to(bed, sysctls, key, false)
}

/// As [`run`], over IPv4 or IPv6.
fn run_to(bed: &TestBed, sysctls: &[(&str, &str)], key: u32, v6: bool) -> tojimari_core::os::OsReport {
    let t = bed.target(0);
    t.unlimit_icmp().unwrap();
    let before: Vec<(&str, String)> = sysctls.iter().map(|(k, _)| (*k, t.ns.read_sysctl(k).unwrap())).collect();
    t.ns.sysctls(sysctls).unwrap();
    let _open = t.listen_tcp(&[OPEN]).unwrap();
    let dst = if v6 { IpAddr::V6(t.v6) } else { IpAddr::V4(t.v4) };
    let (target, exchanges) = bed.scanner().run_in(move || probe(dst, key)).unwrap();
    let answered = exchanges.iter().filter(|e| e.reply.is_some()).count();
    assert!(answered >= 12, "only {answered} answers: {exchanges:#?}");
    let report = classify(Db::builtin(), &target, &exchanges, MatchOptions::default(), SystemTime::now());
    let restore: Vec<(&str, &str)> = before.iter().map(|(k, v)| (*k, v.as_str())).collect();
    t.ns.sysctls(&restore).unwrap();
    if std::env::var_os("OSDB_PRINT").is_some() {
        eprintln!("--- {dst} {sysctls:?}\n{}\n{:#?}", report.fingerprint.clone().unwrap_or_default(), report.matches);
    }
    report
}

fn assert_linux(report: &tojimari_core::os::OsReport, what: &str) {
    let best = report.best().unwrap_or_else(|| panic!("{what}: no match at all: {report:#?}"));
    assert_eq!(best.classes[0].family, "Linux", "{what}: {report:#?}");
    for m in &report.matches {
        assert!(
            report.guessed || m.classes.iter().any(|c| c.family == "Linux"),
            "{what}: a confident match of another family: {report:#?}"
        );
    }
}

#[test]
fn this_kernel_is_linux() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let report = run(&bed, &[], 0x5eed_0001);
    assert_linux(&report, "default sysctls");
    assert!(!report.guessed, "{report:#?}");
    assert_eq!(report.distance, Some(1));
    assert_eq!(report.ip_id_sequence.as_ref().map(|c| c.class.as_str()), Some("All zeros"));
    assert_eq!(report.tcp_ts_sequence.as_ref().map(|c| c.class.as_str()), Some("randomized per connection"));
    assert_eq!(report.best().unwrap().classes[0].generation.as_deref(), Some("5.X"), "{report:#?}");
    assert!(report.tcp_sequence.as_ref().is_some_and(|s| s.difficulty == "Good luck!"), "{report:#?}");
}

#[test]
fn linux_without_timestamps_sack_or_window_scaling_is_linux() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    for (k, v) in [("net.ipv4.tcp_timestamps", "0"), ("net.ipv4.tcp_sack", "0"), ("net.ipv4.tcp_window_scaling", "0")] {
        assert_linux(&run(&bed, &[(k, v)], 0x5eed_0002), k);
    }
    let all = [("net.ipv4.tcp_timestamps", "0"), ("net.ipv4.tcp_sack", "0"), ("net.ipv4.tcp_window_scaling", "0")];
    assert_linux(&run(&bed, &all, 0x5eed_0003), "all three off");
}

#[test]
fn linux_with_another_ttl_or_ecn_is_linux() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    for (k, v) in [("net.ipv4.ip_default_ttl", "128"), ("net.ipv4.ip_default_ttl", "255"), ("net.ipv4.tcp_ecn", "1")] {
        assert_linux(&run(&bed, &[(k, v)], 0x5eed_0004), &format!("{k}={v}"));
    }
}

#[test]
fn this_kernel_over_ipv6_is_linux() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let report = run_to(&bed, &[], 0x5eed_0006, true);
    assert_linux(&report, "IPv6, default sysctls");
    assert!(!report.guessed, "{report:#?}");
    assert_eq!(report.distance, Some(1));
    assert!(report.ip_id_sequence.is_none(), "IPv6 has no IP ID: {report:#?}");
    assert_eq!(report.tcp_ts_sequence.as_ref().map(|c| c.class.as_str()), Some("randomized per connection"));
    assert!(report.tcp_sequence.as_ref().is_some_and(|s| s.difficulty == "Good luck!"), "{report:#?}");
    let fp = report.fingerprint.clone().unwrap_or_default();
    for absent in ["df = ", "u1.rid", "u1.ripck", "ie.df", "ipid."] {
        assert!(!fp.lines().any(|l| l.starts_with(absent)), "{absent} over IPv6:\n{fp}");
    }
    for present in ["u1.reply = yes", "ie.reply = yes", "ie.code = echo", "t5.reply = yes", "ttl = 64"] {
        assert!(fp.lines().any(|l| l == present), "{present} missing:\n{fp}");
    }
}

#[test]
fn linux_over_ipv6_without_timestamps_or_sack_or_with_ecn_is_linux() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    for (k, v) in [("net.ipv4.tcp_timestamps", "0"), ("net.ipv4.tcp_sack", "0"), ("net.ipv4.tcp_ecn", "1")] {
        let report = run_to(&bed, &[(k, v)], 0x5eed_0007, true);
        assert_linux(&report, &format!("IPv6, {k}={v}"));
        assert_eq!(report.distance, Some(1), "{k}={v}: {report:#?}");
    }
}
