//! Synthetic traffic for every scan type, the slow scan, the benign cases that must stay
//! silent, and the memory cap under a flood of spoofed sources.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::*;
use crate::alert::{AlertKind, EndReason, Tool};
use crate::config::{LocalAddrs, LocalNet};
use crate::summary::{IcmpQuery, QuotedPacket, TcpOptions, TcpSummary, UnreachableReason};

const SCANNER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
const HOST: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2));
const OPEN: [u16; 2] = [22, 80];

fn ms(n: u64) -> Timestamp {
    Timestamp::from_micros(1_700_000_000_000_000 + n * 1000)
}

/// nmap -sS's SYN options: MSS 1460 only.
fn nmap_options() -> TcpOptions {
    TcpOptions::parse(&[2, 4, 5, 0xb4])
}

/// A Linux connect() SYN's options.
fn linux_options() -> TcpOptions {
    TcpOptions::parse(&[2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
}

struct Seg {
    flags: u8,
    window: u16,
    options: TcpOptions,
    payload: u16,
    ttl: u8,
    ip_id: u16,
    seq: u32,
    df: bool,
}

impl Seg {
    fn new(flags: u8) -> Seg {
        Seg { flags, window: 1024, options: TcpOptions::default(), payload: 0, ttl: 64, ip_id: 0, seq: 7, df: false }
    }
}

fn tcp(ts: Timestamp, src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seg: Seg) -> PacketSummary {
    PacketSummary {
        ts,
        src,
        dst,
        ttl: seg.ttl,
        ip_id: Some(seg.ip_id),
        df: seg.df,
        transport: Transport::Tcp(TcpSummary {
            sport,
            dport,
            flags: TcpFlags(seg.flags),
            window: seg.window,
            seq: seg.seq,
            ack: 0,
            options: seg.options,
            payload_len: seg.payload,
        }),
    }
}

fn udp(ts: Timestamp, src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> PacketSummary {
    PacketSummary {
        ts,
        src,
        dst,
        ttl: 64,
        ip_id: Some(0),
        df: false,
        transport: Transport::Udp { sport, dport, payload_len: 8 },
    }
}

fn port_unreachable(ts: Timestamp, probe: &PacketSummary) -> PacketSummary {
    let Transport::Udp { sport, dport, .. } = probe.transport else { panic!("not udp") };
    let quoted = QuotedPacket { src: probe.src, dst: probe.dst, protocol: 17, sport, dport };
    PacketSummary {
        ts,
        src: probe.dst,
        dst: probe.src,
        ttl: 64,
        ip_id: Some(0),
        df: false,
        transport: Transport::IcmpUnreachable { reason: UnreachableReason::Port, code: 3, quoted: Some(quoted) },
    }
}

/// The host's answer to a TCP probe as Linux gives it: SYN/ACK from an open port to a SYN,
/// RST to a SYN or stealth probe on a closed port, RST to any bare ACK / FIN+ACK.
fn answer(probe: &PacketSummary) -> Option<PacketSummary> {
    let Transport::Tcp(t) = probe.transport else { return None };
    let open = OPEN.contains(&t.dport);
    let flags = t.flags.classic();
    let reply = if flags == TcpFlags::SYN {
        if open { TcpFlags::SYN | TcpFlags::ACK } else { TcpFlags::RST | TcpFlags::ACK }
    } else if flags & TcpFlags::ACK != 0 {
        TcpFlags::RST
    } else if open {
        return None;
    } else {
        TcpFlags::RST | TcpFlags::ACK
    };
    let ts = probe.ts.plus(Duration::from_micros(50));
    Some(tcp(ts, probe.dst, probe.src, t.dport, t.sport, Seg::new(reply)))
}

/// Feeds probes (and the host's answers); returns all alerts, flushed with a final tick.
fn run(detector: &mut Detector, probes: &[PacketSummary]) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for probe in probes {
        alerts.extend(detector.observe(probe));
        if let Some(a) = answer(probe) {
            alerts.extend(detector.observe(&a));
        }
    }
    let end = probes.last().map_or(Timestamp::EPOCH, |p| p.ts).plus(Duration::from_secs(10));
    alerts.extend(detector.tick(end));
    alerts
}

fn first_alert(alerts: &[Alert], scan_type: ObservedScan) -> &Alert {
    alerts
        .iter()
        .find(|a| a.scan_type == scan_type && a.kind == AlertKind::Start)
        .unwrap_or_else(|| panic!("no {scan_type} alert in {alerts:#?}"))
}

/// Probes to ports 1..=n from one source port, 2 ms apart.
fn port_scan(n: u16, seg: impl Fn(u16) -> Seg) -> Vec<PacketSummary> {
    (1..=n).map(|port| tcp(ms(u64::from(port) * 2), SCANNER, HOST, 48515, port, seg(port))).collect()
}

fn nmap_raw(flags: u8) -> impl Fn(u16) -> Seg {
    move |port| Seg {
        options: if flags == TcpFlags::SYN { nmap_options() } else { TcpOptions::default() },
        ttl: 37 + (port % 23) as u8,
        ip_id: port.wrapping_mul(7919),
        ..Seg::new(flags)
    }
}

#[test]
fn every_tcp_scan_type_is_named_within_ten_probes() {
    let cases = [
        (TcpFlags::SYN, ObservedScan::Ports(ScanType::Syn)),
        (TcpFlags::FIN, ObservedScan::Ports(ScanType::Fin)),
        (0, ObservedScan::Ports(ScanType::Null)),
        (TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG, ObservedScan::Ports(ScanType::Xmas)),
        (TcpFlags::ACK, ObservedScan::Ports(ScanType::Ack)),
        (TcpFlags::FIN | TcpFlags::ACK, ObservedScan::Ports(ScanType::Maimon)),
    ];
    for (flags, expected) in cases {
        let mut detector = Detector::new(DetectorConfig::default());
        let alerts = run(&mut detector, &port_scan(200, nmap_raw(flags)));
        let alert = first_alert(&alerts, expected);
        assert!(alert.probes <= 12, "{expected}: {} probes", alert.probes);
        assert_eq!(alert.tool, Some(Tool::Nmap), "{expected}");
        assert_eq!(alert.src, SCANNER);
        assert_eq!(alert.dsts, vec![HOST]);
        assert!(alerts.iter().all(|a| a.scan_type == expected), "{expected}: {alerts:#?}");
        // Updates come later and rarely: never one per packet.
        assert!(alerts.len() <= 3, "{expected}: {} alerts", alerts.len());
        assert!((0.5..=0.99).contains(&alert.confidence));
    }
}

#[test]
fn connect_scan_is_named_by_the_stack_syn() {
    let mut detector = Detector::new(DetectorConfig::default());
    let seg = |_| Seg { window: 64240, options: linux_options(), ..Seg::new(TcpFlags::SYN) };
    let alerts = run(&mut detector, &port_scan(100, seg));
    let alert = first_alert(&alerts, ObservedScan::Ports(ScanType::Connect));
    assert!(alert.probes <= 10, "{}", alert.probes);
    assert_eq!(alert.tool, None);
}

#[test]
fn masscan_and_zmap_fingerprints() {
    let mut detector = Detector::new(DetectorConfig::default());
    let IpAddr::V4(host) = HOST else { unreachable!() };
    let masscan = |port: u16| {
        let seq = u32::from(port).wrapping_mul(2_654_435_761);
        let ip_id = ((u32::from(host) ^ u32::from(port) ^ seq) & 0xffff) as u16;
        Seg { ttl: 255, seq, ip_id, ..Seg::new(TcpFlags::SYN) }
    };
    let alerts = run(&mut detector, &port_scan(50, masscan));
    assert_eq!(first_alert(&alerts, ObservedScan::Ports(ScanType::Syn)).tool, Some(Tool::Masscan));

    // zmap: one port across many addresses of a watched /24.
    let config =
        DetectorConfig { local: LocalAddrs::Nets(vec!["198.18.0.0/24".parse().unwrap()]), ..Default::default() };
    let mut detector = Detector::new(config);
    let probes: Vec<_> = (3..40u8)
        .map(|h| {
            let dst = IpAddr::from([198, 18, 0, h]);
            let seg = Seg { window: 65535, ttl: 255, ip_id: 54321, ..Seg::new(TcpFlags::SYN) };
            tcp(ms(u64::from(h) * 5), SCANNER, dst, 40000 + u16::from(h), 80, seg)
        })
        .collect();
    let mut alerts = Vec::new();
    for p in &probes {
        alerts.extend(detector.observe(p));
        alerts.extend(detector.tick(p.ts));
    }
    alerts.extend(detector.tick(ms(10_000)));
    let alert = first_alert(&alerts, ObservedScan::HostSweep);
    assert_eq!(alert.tool, Some(Tool::Zmap));
    assert_eq!(alert.ports, vec![80]);
    assert!(alert.dst_count >= 5, "{alert:?}");
    assert!(alerts.iter().all(|a| a.scan_type == ObservedScan::HostSweep), "{alerts:#?}");
}

#[test]
fn udp_scan_with_port_unreachables() {
    let mut detector = Detector::new(DetectorConfig::default());
    let mut alerts = Vec::new();
    for port in 1..=60u16 {
        let probe = udp(ms(u64::from(port)), SCANNER, HOST, 38654, port);
        alerts.extend(detector.observe(&probe));
        if port != 53 {
            alerts.extend(detector.observe(&port_unreachable(probe.ts, &probe)));
        }
    }
    alerts.extend(detector.tick(ms(100_000)));
    let alert = first_alert(&alerts, ObservedScan::Ports(ScanType::Udp));
    assert!(alert.probes <= 10, "{}", alert.probes);
}

#[test]
fn icmp_sweep_across_a_watched_subnet() {
    let config =
        DetectorConfig { local: LocalAddrs::Nets(vec!["198.18.0.0/24".parse().unwrap()]), ..Default::default() };
    let mut detector = Detector::new(config);
    let mut alerts = Vec::new();
    for h in 2..60u8 {
        let pkt = PacketSummary {
            ts: ms(u64::from(h)),
            src: SCANNER,
            dst: IpAddr::from([198, 18, 0, h]),
            ttl: 50,
            ip_id: Some(1),
            df: false,
            transport: Transport::IcmpRequest { query: IcmpQuery::Echo, id: 77, seq: 1 },
        };
        alerts.extend(detector.observe(&pkt));
    }
    let alert = first_alert(&alerts, ObservedScan::IcmpSweep);
    assert_eq!(alert.probes, 10);
    assert_eq!(alert.dst_count, 10);
}

/// xorshift for seeded test traffic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn slow_scan_over_three_hours_is_detected() {
    for answered in [true, false] {
        let mut detector = Detector::new(DetectorConfig::default());
        let mut rng = Rng(42);
        let mut t = 0u64;
        let mut alerts = Vec::new();
        let mut sent = 0;
        while t < 3 * 3600 * 1000 {
            t += 120_000 + rng.next() % 180_000;
            let port = 1 + (rng.next() % 65000) as u16;
            let probe =
                tcp(ms(t), SCANNER, HOST, 50000, port, Seg { options: nmap_options(), ..Seg::new(TcpFlags::SYN) });
            alerts.extend(detector.observe(&probe));
            if answered && let Some(a) = answer(&probe) {
                alerts.extend(detector.observe(&a));
            }
            alerts.extend(detector.tick(ms(t + 5000)));
            sent += 1;
        }
        let alert = first_alert(&alerts, ObservedScan::Ports(ScanType::Syn));
        assert_eq!(starts(&alerts).len(), 1, "a slow scan is one incident: {alerts:#?}");
        assert!(ends(&alerts).is_empty(), "minutes between probes are not quiet for a slow scan");
        assert_eq!(alert.pace, Pace::Slow, "answered={answered}");
        assert_eq!(alert.trigger, Trigger::RandomWalk);
        assert!(alert.probes <= 6, "answered={answered}: {} of {sent}", alert.probes);
    }
}

#[test]
fn alert_updates_are_rate_limited() {
    let mut detector = Detector::new(DetectorConfig::default());
    // 1000 ports at 10 per second: 100 s.
    let probes: Vec<_> = (1..=1000u16)
        .map(|p| tcp(ms(u64::from(p) * 100), SCANNER, HOST, 1, p, Seg { options: nmap_options(), ..Seg::new(2) }))
        .collect();
    let alerts = run(&mut detector, &probes);
    assert_eq!(alerts.iter().filter(|a| a.kind == AlertKind::Start).count(), 1);
    // One start and one update a minute later; no end yet (not quiet for a minute).
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    assert_eq!((alerts[1].kind, alerts[1].update), (AlertKind::Update, 1));
    assert_eq!(alerts[1].incident, alerts[0].incident);
    let last = alerts.last().unwrap();
    assert_eq!(last.ports.len(), 128);
    assert!(last.ports_truncated());
    assert!(last.ports.windows(2).all(|w| w[0] < w[1]));
}

/// All records of kind `End`.
fn ends(alerts: &[Alert]) -> Vec<&Alert> {
    alerts.iter().filter(|a| matches!(a.kind, AlertKind::End(_))).collect()
}

fn starts(alerts: &[Alert]) -> Vec<&Alert> {
    alerts.iter().filter(|a| a.kind == AlertKind::Start).collect()
}

/// Probes to ports 1..=n, `gap_ms` apart from `t0_ms`, shaped by `seg`.
fn scan_from(src: IpAddr, t0_ms: u64, gap_ms: u64, n: u16, seg: impl Fn(u16) -> Seg) -> Vec<PacketSummary> {
    (1..=n).map(|port| tcp(ms(t0_ms + u64::from(port) * gap_ms), src, HOST, 48515, port, seg(port))).collect()
}

fn stack_syn(_: u16) -> Seg {
    Seg { window: 64240, options: linux_options(), ..Seg::new(TcpFlags::SYN) }
}

#[test]
fn a_connect_scan_after_a_syn_scan_is_a_second_incident_named_at_once() {
    let mut detector = Detector::new(DetectorConfig::default());
    let mut probes = scan_from(SCANNER, 0, 2, 200, nmap_raw(TcpFlags::SYN));
    // The same ports again at once, through the operating system's stack.
    probes.extend(scan_from(SCANNER, 1000, 2, 200, stack_syn));
    let mut alerts = run(&mut detector, &probes);
    alerts.extend(detector.finish(detector.now()));
    let started = starts(&alerts);
    assert_eq!(started.len(), 2, "{alerts:#?}");
    let (syn, connect) = (started[0], started[1]);
    assert_eq!(
        (syn.scan_type, connect.scan_type),
        (ObservedScan::Ports(ScanType::Syn), ObservedScan::Ports(ScanType::Connect))
    );
    assert_ne!(syn.incident, connect.incident);
    assert!(connect.probes <= 11, "the connect scan took {} probes to name", connect.probes);
    let ended = ends(&alerts);
    assert_eq!(ended.len(), 2, "{alerts:#?}");
    for (end, start) in ended.iter().zip([syn, connect]) {
        assert_eq!(end.kind, AlertKind::End(EndReason::Finish));
        assert_eq!(end.incident, start.incident);
        assert_eq!(end.scan_type, start.scan_type);
        assert_eq!((end.probes, end.port_count, end.port_range), (200, 200, Some((1, 200))), "{end:?}");
        assert!(end.port_count_exact);
    }
    assert_eq!(ended[0].tool, Some(Tool::Nmap));
    assert_eq!(ended[1].tool, None);
}

#[test]
fn the_same_technique_after_a_quiet_spell_is_a_new_incident() {
    let mut detector = Detector::new(DetectorConfig::default());
    let first = scan_from(SCANNER, 0, 2, 100, nmap_raw(TcpFlags::SYN));
    // Two minutes later, the same scan again (the quiet timeout is one minute).
    let second = scan_from(SCANNER, 120_000, 2, 100, nmap_raw(TcpFlags::SYN));
    let mut alerts = run(&mut detector, &first);
    assert_eq!(starts(&alerts).len(), 1);
    assert!(ends(&alerts).is_empty(), "not quiet yet: {alerts:#?}");
    let mut again = run(&mut detector, &second);
    again.extend(detector.finish(detector.now()));
    // The first incident ends (quiet) before the second starts.
    let end = again.first().unwrap_or_else(|| panic!("no records"));
    assert_eq!(end.kind, AlertKind::End(EndReason::Quiet), "{again:#?}");
    assert_eq!((end.incident, end.port_count, end.probes), (alerts[0].incident, 100, 100));
    assert_eq!(end.last_seen, first.last().unwrap().ts);
    let start = starts(&again);
    assert_eq!(start.len(), 1, "{again:#?}");
    assert_ne!(start[0].incident, alerts[0].incident);
    assert!(start[0].probes <= 12, "the second scan took {} probes", start[0].probes);
    assert_eq!(start[0].first_seen, second[0].ts);
    alerts.extend(again);
    let ended = ends(&alerts);
    assert_eq!(ended.len(), 2);
    assert_eq!(ended[1].kind, AlertKind::End(EndReason::Finish));
    assert_eq!((ended[1].port_count, ended[1].port_range), (100, Some((1, 100))));
}

#[test]
fn closing_records_carry_exact_totals() {
    for n in [200u16, 1000] {
        let mut detector = Detector::new(DetectorConfig::default());
        let mut probes = scan_from(SCANNER, 0, 2, n, nmap_raw(TcpFlags::SYN));
        // nmap-like retransmissions of the first 50 ports from another source port.
        probes.extend((1..=50).map(|p| tcp(ms(5000 + p), SCANNER, HOST, 48517, p as u16, nmap_raw(2)(p as u16))));
        let mut alerts = run(&mut detector, &probes);
        // Quiet for two minutes: the incident closes by itself.
        alerts.extend(detector.tick(ms(200_000)));
        let ended = ends(&alerts);
        assert_eq!(ended.len(), 1, "{n}: {alerts:#?}");
        let end = ended[0];
        assert_eq!(end.kind, AlertKind::End(EndReason::Quiet));
        assert_eq!(end.port_count, u32::from(n), "{end:?}");
        assert_eq!(end.probes, u32::from(n) + 50);
        assert_eq!(end.port_range, Some((1, n)));
        assert_eq!(end.ports, (1..=128).collect::<Vec<u16>>());
        assert!(end.ports_truncated() && end.port_count_exact);
        assert_eq!(end.to_json()["ports_truncated"], true);
        assert_eq!((end.first_seen, end.last_seen), (probes[0].ts, ms(5050)));
        assert!(end.line().contains(&format!(" {n} ports (1-{n})")), "{}", end.line());
        assert!(detector.finish(ms(300_000)).is_empty(), "{n}: closed once");
    }
}

#[test]
fn a_firewall_log_of_1000_ports_closes_with_1000_ports() {
    let mut detector = Detector::new(DetectorConfig::default());
    let mut alerts = Vec::new();
    // Each port logged twice (a retry), in shuffled order.
    let mut rng = Rng(9);
    let mut ports: Vec<u16> = (1..=1000).chain(1..=1000).collect();
    for i in (1..ports.len()).rev() {
        ports.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    for (i, port) in ports.iter().enumerate() {
        let seg = Seg { options: nmap_options(), ..Seg::new(TcpFlags::SYN) };
        alerts.extend(detector.observe_blocked(&tcp(ms(i as u64 * 5), SCANNER, HOST, 4444, *port, seg)));
    }
    alerts.extend(detector.finish(detector.now()));
    assert_eq!(starts(&alerts).len(), 1);
    let ended = ends(&alerts);
    assert_eq!(ended.len(), 1, "{alerts:#?}");
    assert_eq!((ended[0].port_count, ended[0].port_range, ended[0].probes), (1000, Some((1, 1000)), 2000));
}

#[test]
fn a_spent_bitmap_budget_is_stated() {
    let mut detector = Detector::new(DetectorConfig { max_port_maps: 0, ..Default::default() });
    let mut alerts = run(&mut detector, &scan_from(SCANNER, 0, 2, 1000, nmap_raw(TcpFlags::SYN)));
    alerts.extend(detector.finish(detector.now()));
    let end = ends(&alerts)[0];
    assert!(!end.port_count_exact);
    assert_eq!(end.to_json()["port_count_exact"], false);
    assert_eq!(end.port_range, Some((1, 1000)), "the range stays exact");
    assert!(end.line().contains("~1000 ports"), "{}", end.line());
}

#[test]
fn finish_closes_only_incidents() {
    let mut detector = Detector::new(DetectorConfig::default());
    let other = IpAddr::from([203, 0, 113, 77]);
    let mut probes = scan_from(SCANNER, 0, 2, 30, nmap_raw(TcpFlags::FIN));
    // Another source probes three closed ports: not a scan.
    probes.extend(scan_from(other, 0, 2, 3, nmap_raw(TcpFlags::SYN)));
    let mut alerts = run(&mut detector, &probes);
    let finished = detector.finish(detector.now());
    assert_eq!(finished.len(), 1, "{finished:#?}");
    assert_eq!(finished[0].src, SCANNER);
    assert_eq!((finished[0].scan_type, finished[0].port_count), (ObservedScan::Ports(ScanType::Fin), 30));
    alerts.extend(finished);
    assert_eq!(detector.stats().incidents, 1);
    assert_eq!(detector.stats().closed, 1);
}

#[test]
fn firewall_blocked_probes_need_no_answers() {
    let mut detector = Detector::new(DetectorConfig::default());
    let mut alerts = Vec::new();
    for port in 1..=20u16 {
        let seg = Seg { window: 1024, ..Seg::new(TcpFlags::ACK) };
        alerts.extend(detector.observe_blocked(&tcp(ms(u64::from(port)), SCANNER, HOST, 4444, port, seg)));
    }
    assert_eq!(first_alert(&alerts, ObservedScan::Ports(ScanType::Ack)).probes, 10);
}

#[test]
fn own_outgoing_scans_are_not_reported_when_local_is_known() {
    let config = DetectorConfig { local: LocalAddrs::Nets(vec![LocalNet::host(HOST)]), ..Default::default() };
    let mut detector = Detector::new(config);
    let probes: Vec<_> =
        (1..=100u16).map(|p| tcp(ms(u64::from(p)), HOST, SCANNER, 5555, p, Seg::new(TcpFlags::SYN))).collect();
    assert!(run(&mut detector, &probes).is_empty());
    assert_eq!(detector.stats().sources, 0);
}

/// A benign client: full handshakes to open ports, data, FIN/ACK close.
fn connection(out: &mut Vec<PacketSummary>, ts: u64, client: IpAddr, cport: u16, sport: u16) {
    let stack = || Seg { window: 64240, options: linux_options(), ..Seg::new(TcpFlags::SYN) };
    let a = TcpFlags::ACK;
    out.push(tcp(ms(ts), client, HOST, cport, sport, stack()));
    out.push(tcp(ms(ts), HOST, client, sport, cport, Seg::new(TcpFlags::SYN | a)));
    out.push(tcp(ms(ts), client, HOST, cport, sport, Seg::new(a)));
    out.push(tcp(ms(ts), client, HOST, cport, sport, Seg { payload: 300, ..Seg::new(TcpFlags::PSH | a) }));
    out.push(tcp(ms(ts), HOST, client, sport, cport, Seg { payload: 900, ..Seg::new(TcpFlags::PSH | a) }));
    out.push(tcp(ms(ts), client, HOST, cport, sport, Seg::new(a)));
    out.push(tcp(ms(ts + 1), client, HOST, cport, sport, Seg::new(TcpFlags::FIN | a)));
    out.push(tcp(ms(ts + 1), HOST, client, sport, cport, Seg::new(TcpFlags::FIN | a)));
    out.push(tcp(ms(ts + 1), client, HOST, cport, sport, Seg::new(a)));
}

#[test]
fn benign_traffic_stays_silent() {
    for local in [LocalAddrs::Infer, LocalAddrs::Nets(vec![LocalNet::host(HOST)])] {
        let mut detector = Detector::new(DetectorConfig { local, ..Default::default() });
        let mut packets = Vec::new();
        let busy = IpAddr::from([203, 0, 113, 50]);
        // A busy client: 3000 connections in 10 s (300/s) to the same two open ports.
        for i in 0..3000u64 {
            connection(&mut packets, i * 3, busy, 32768 + (i % 28000) as u16, OPEN[(i % 2) as usize]);
        }
        // One client hitting one closed port 50 times (SYN, RST/ACK).
        let stubborn = IpAddr::from([203, 0, 113, 51]);
        for i in 0..50u64 {
            let syn = tcp(
                ms(i * 200),
                stubborn,
                HOST,
                40000 + i as u16,
                8080,
                Seg { window: 64240, options: linux_options(), ..Seg::new(2) },
            );
            packets.push(syn);
            packets.push(tcp(
                ms(i * 200),
                HOST,
                stubborn,
                8080,
                40000 + i as u16,
                Seg::new(TcpFlags::RST | TcpFlags::ACK),
            ));
        }
        // Server restart: RSTs from the host to 200 established clients.
        for c in 0..200u16 {
            let client = IpAddr::from([203, 0, 114, (c % 250) as u8]);
            packets.push(tcp(ms(20_000), HOST, client, 443, 30000 + c, Seg::new(TcpFlags::RST)));
        }
        // Late packets of closed connections: a client's ACK and FIN+ACK to 3 ports, reset.
        let late = IpAddr::from([203, 0, 113, 52]);
        for (i, port) in [80u16, 443, 8443].into_iter().enumerate() {
            for flags in [TcpFlags::ACK, TcpFlags::FIN | TcpFlags::ACK] {
                packets.push(tcp(ms(21_000 + i as u64), late, HOST, 51000 + i as u16, port, Seg::new(flags)));
                packets.push(tcp(ms(21_000 + i as u64), HOST, late, port, 51000 + i as u16, Seg::new(TcpFlags::RST)));
            }
        }
        // This host as a client of a web server: its segments to our ephemeral ports.
        let web = IpAddr::from([192, 0, 2, 80]);
        for i in 0..100u16 {
            packets.push(tcp(ms(22_000), web, HOST, 443, 40000 + i, Seg::new(TcpFlags::ACK)));
            packets.push(tcp(ms(22_000), web, HOST, 443, 40000 + i, Seg::new(TcpFlags::FIN | TcpFlags::ACK)));
        }
        // DNS and NTP: clients querying us, and our queries answered by resolvers.
        for i in 0..200u16 {
            let client = IpAddr::from([203, 0, 113, 60 + (i % 5) as u8]);
            packets.push(udp(ms(23_000 + u64::from(i)), client, HOST, 30000 + i, 53));
            packets.push(udp(ms(23_000 + u64::from(i)), HOST, client, 53, 30000 + i));
            packets.push(udp(ms(23_000 + u64::from(i)), client, HOST, 123, 123));
            let resolver = IpAddr::from([192, 0, 2, 53]);
            packets.push(udp(ms(23_000 + u64::from(i)), HOST, resolver, 40000 + i, 53));
            packets.push(udp(ms(23_000 + u64::from(i)), resolver, HOST, 53, 40000 + i));
        }
        let mut alerts = Vec::new();
        for p in &packets {
            alerts.extend(detector.observe(p));
        }
        alerts.extend(detector.tick(ms(100_000)));
        assert!(alerts.is_empty(), "{alerts:#?}");
    }
}

#[test]
fn a_million_spoofed_sources_stay_under_the_cap() {
    let config = DetectorConfig { max_sources: 4096, ..Default::default() };
    let mut detector = Detector::new(config);
    let mut rng = Rng(7);
    let mut alerts = Vec::new();
    let mut peak = 0usize;
    for i in 0..1_000_000u64 {
        let src = IpAddr::from(Ipv4Addr::from((rng.next() as u32) | 0x0100_0000));
        let port = (rng.next() % 65535) as u16 + 1;
        let ts = Timestamp::from_micros(1_700_000_000_000_000 + i * 3);
        alerts.extend(detector.observe(&tcp(ts, src, HOST, 1234, port, Seg::new(TcpFlags::SYN))));
        // A real scanner hides in the flood: one SYN every 1000 spoofed packets, answered.
        if i % 1000 == 0 {
            let port = (i / 1000) as u16 + 1;
            let probe = tcp(ts, SCANNER, HOST, 48515, port, Seg { options: nmap_options(), ..Seg::new(2) });
            alerts.extend(detector.observe(&probe));
            alerts.extend(detector.observe(&answer(&probe).unwrap()));
        }
        if i % 100_000 == 0 {
            peak = peak.max(detector.memory_estimate());
        }
    }
    let stats = detector.stats();
    assert!(stats.sources <= 4096, "{stats:?}");
    assert!(stats.evicted > 900_000, "{stats:?}");
    assert!(peak < 16 << 20, "{peak} bytes");
    assert!(alerts.iter().all(|a| a.src == SCANNER), "a spoofed source alerted");
    assert!(
        alerts.iter().any(|a| a.scan_type == ObservedScan::Ports(ScanType::Syn)),
        "the real scanner was evicted or missed"
    );
}

#[test]
fn port_bitmaps_come_from_a_bounded_budget() {
    let mut detector = Detector::new(DetectorConfig { max_port_maps: 2, ..Default::default() });
    let mut alerts = Vec::new();
    for s in 0..5u8 {
        let src = IpAddr::from([203, 0, 113, 100 + s]);
        alerts.extend(run(&mut detector, &scan_from(src, u64::from(s) * 10_000, 2, 400, nmap_raw(TcpFlags::FIN))));
    }
    // Two 8 KiB maps at most, whatever the number of big scans.
    assert!(detector.memory_estimate() < 2 * 8192 + 64 * 1024, "{} bytes", detector.memory_estimate());
    alerts.extend(detector.finish(detector.now()));
    let ended = ends(&alerts);
    assert_eq!(ended.len(), 5);
    assert_eq!(ended.iter().filter(|e| e.port_count_exact).count(), 2, "{ended:#?}");
    assert!(ended.iter().all(|e| e.port_range == Some((1, 400))));
    // Closed incidents give their maps back: the next big scan is exact again.
    let src = IpAddr::from([203, 0, 113, 200]);
    let mut again = run(&mut detector, &scan_from(src, 100_000, 2, 400, nmap_raw(TcpFlags::FIN)));
    again.extend(detector.finish(detector.now()));
    let end = ends(&again)[0];
    assert!(end.port_count_exact && end.port_count == 400, "{end:?}");
}

/// The passive OS guess uses the source's first pure SYN: a FIN scan before it sets nothing, later SYNs
/// with other facts do not replace it, and every record carries the guess of those facts.
#[test]
fn the_first_syn_of_a_source_is_kept_for_its_os_guess() {
    let mut detector = Detector::new(DetectorConfig::default());
    let mut probes = port_scan(30, nmap_raw(TcpFlags::FIN));
    let linux = || Seg { options: linux_options(), window: 64240, ttl: 62, df: true, ..Seg::new(TcpFlags::SYN) };
    // After the FIN scan and its closing tick (10 s after its last probe): Linux SYNs, then nmap's.
    probes.extend((1..=40).map(|port| tcp(ms(20_000 + u64::from(port)), SCANNER, HOST, 40000 + port, port, linux())));
    probes.extend(port_scan(40, nmap_raw(TcpFlags::SYN)).into_iter().map(|mut p| {
        p.ts = p.ts.plus(Duration::from_secs(21));
        p
    }));
    let alerts = run(&mut detector, &probes[..30]);
    assert!(!alerts.is_empty());
    assert_eq!(detector.sources.iter().find(|s| s.addr == SCANNER).map(|s| s.syn), Some(None));
    let alerts = run(&mut detector, &probes[30..]);
    let kept = detector.sources.iter().find(|s| s.addr == SCANNER).and_then(|s| s.syn).expect("a SYN was seen");
    assert_eq!((kept.ttl, kept.window, kept.df, kept.options), (62, 64240, true, linux_options()));
    let expected = crate::os_guess::guess(&kept);
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|a| a.os == expected), "{alerts:#?}");
}
