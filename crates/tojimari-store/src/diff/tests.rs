//! The comparison on hand-made snapshots, no database.

use super::*;
use crate::snapshot::Fold;
use crate::store::ScanStatus;

fn info(no: i64, targets: &str) -> ScanInfo {
    ScanInfo {
        id: no * 100,
        no,
        profile: "scan".into(),
        targets: targets.into(),
        ports: "1-100".into(),
        started_ms: no * 1000,
        ended_ms: Some(no * 1000 + 10),
        status: ScanStatus::Complete,
    }
}

fn port(state: &str, service: Option<&str>) -> PortObs {
    PortObs {
        state: state.into(),
        reason: "syn-ack".into(),
        service: service.map(str::to_string),
        ..PortObs::default()
    }
}

fn fold(state: &str, ranges: &[(u16, u16)]) -> Fold {
    Fold { proto: Protocol::Tcp, state: state.into(), reason: "reset".into(), ranges: ranges.to_vec() }
}

fn host(ports: &[(u16, PortObs)], folds: Vec<Fold>) -> HostSnapshot {
    HostSnapshot {
        state: "up".into(),
        reason: "syn-ack".into(),
        ports: ports.iter().map(|(p, o)| ((Protocol::Tcp, *p), o.clone())).collect(),
        folds,
        ..HostSnapshot::default()
    }
}

fn snap(no: i64, hosts: Vec<(&str, HostSnapshot)>) -> ScanSnapshot {
    ScanSnapshot {
        scan: info(no, "198.18.0.0/24"),
        hosts: hosts.into_iter().map(|(a, h)| (a.to_string(), h)).collect(),
    }
}

const H: &str = "198.18.0.2";

fn one_host(a: HostSnapshot, b: HostSnapshot) -> Option<HostDiff> {
    let d = diff_scans(&snap(1, vec![(H, a)]), &snap(2, vec![(H, b)]));
    assert!(d.hosts.len() <= 1, "{d:?}");
    d.hosts.into_iter().next()
}

/// (ranges, state change) per port difference.
type Changes = Vec<(Vec<(u16, u16)>, Option<PortChange>)>;

fn changes(h: &HostDiff) -> Changes {
    h.ports.iter().map(|p| (p.ports.clone(), p.state)).collect()
}

#[test]
fn the_same_results_are_no_difference() {
    let h = host(&[(22, port("open", Some("ssh")))], vec![fold("closed", &[(1, 21), (23, 100)])]);
    let d = diff_scans(&snap(1, vec![(H, h.clone())]), &snap(2, vec![(H, h)]));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(d.counts(), DiffCounts::default());
}

#[test]
fn opened_closed_and_filtered_to_open() {
    let a = host(&[(22, port("open", Some("ssh"))), (80, port("closed", None)), (443, port("filtered", None))], vec![]);
    let b = host(
        &[(22, port("closed", None)), (80, port("open", Some("http"))), (443, port("open", Some("https")))],
        vec![],
    );
    let h = one_host(a, b).unwrap();
    assert_eq!(h.change, HostChange::Changed);
    assert_eq!(
        changes(&h),
        [
            (vec![(22, 22)], Some(PortChange::Closed)),
            (vec![(80, 80)], Some(PortChange::Opened)),
            (vec![(443, 443)], Some(PortChange::Opened)),
        ]
    );
    assert_eq!(h.ports[2].a.as_ref().map(|p| p.state.as_str()), Some("filtered"));
    let c = diff_scans(&snap(1, vec![(H, h_a())]), &snap(2, vec![(H, h_b())])).counts();
    assert_eq!((c.opened, c.closed, c.state_changed), (1, 0, 1));

    fn h_a() -> HostSnapshot {
        host(&[(80, port("filtered", None)), (81, port("filtered", None))], vec![])
    }
    fn h_b() -> HostSnapshot {
        host(&[(80, port("open", None)), (81, port("closed", None))], vec![])
    }
}

#[test]
fn a_port_b_did_not_cover_is_not_scanned_never_closed() {
    // A saw 22 open and 1-21 closed (folded); B covered only 23-100.
    let a = host(&[(22, port("open", Some("ssh")))], vec![fold("closed", &[(1, 21)])]);
    let b = host(&[], vec![fold("closed", &[(23, 100)])]);
    let h = one_host(a, b).unwrap();
    assert_eq!(
        changes(&h),
        [
            (vec![(22, 22)], Some(PortChange::NotScanned)),
            (vec![(1, 21)], Some(PortChange::NotScanned)),
            (vec![(23, 100)], Some(PortChange::NewlyScanned)),
        ]
    );
    assert!(h.ports.iter().all(|p| p.state != Some(PortChange::Closed)));
    assert_eq!(h.ports[0].b, None);
}

#[test]
fn an_open_port_that_falls_into_a_fold_is_closed_and_fold_changes_are_ranges() {
    // A: 22 and 80 open, the rest of 1-100 closed. B: 80 open, 1-50 filtered, 51-79 and 81-100 closed.
    let a = host(
        &[(22, port("open", None)), (80, port("open", None))],
        vec![fold("closed", &[(1, 21), (23, 79), (81, 100)])],
    );
    let b =
        host(&[(80, port("open", None))], vec![fold("filtered", &[(1, 50)]), fold("closed", &[(51, 79), (81, 100)])]);
    let h = one_host(a, b).unwrap();
    assert_eq!(
        changes(&h),
        [(vec![(22, 22)], Some(PortChange::Closed)), (vec![(1, 21), (23, 50)], Some(PortChange::State))]
    );
    assert_eq!(h.ports[0].b.as_ref().map(|p| p.state.as_str()), Some("filtered"));
    let c = diff_scans(
        &snap(1, vec![(H, host(&[], vec![fold("closed", &[(1, 100)])]))]),
        &snap(2, vec![(H, host(&[], vec![fold("filtered", &[(1, 100)])]))]),
    )
    .counts();
    assert_eq!(c.state_changed, 100);
}

#[test]
fn service_version_and_certificate_changes() {
    let mut a22 = port("open", Some("ssh"));
    a22.product = Some("OpenSSH".into());
    a22.version = Some("9.2p1".into());
    let mut b22 = a22.clone();
    b22.version = Some("9.6p1".into());
    let mut a443 = port("open", Some("https"));
    a443.cert_sha256 = Some("aa".into());
    let mut b443 = a443.clone();
    b443.cert_sha256 = Some("bb".into());
    let h = one_host(host(&[(22, a22), (443, a443.clone())], vec![]), host(&[(22, b22), (443, b443)], vec![])).unwrap();
    let flags: Vec<(Option<u16>, Option<PortChange>, bool, bool)> =
        h.ports.iter().map(|p| (p.single(), p.state, p.service_changed, p.cert_changed)).collect();
    assert_eq!(flags, [(Some(22), None, true, false), (Some(443), None, false, true)]);
    // A certificate that appeared is a change too.
    let mut plain = a443.clone();
    plain.cert_sha256 = None;
    let h = one_host(host(&[(443, plain)], vec![]), host(&[(443, a443)], vec![])).unwrap();
    assert!(h.ports[0].cert_changed);
}

#[test]
fn findings_new_resolved_changed_and_not_resolved_when_not_scanned() {
    let f = |ev: &str| FindingObs { severity: "high".into(), evidence: ev.into() };
    let key = |p: u16, id: &str| (Protocol::Tcp, p, id.to_string());
    let mut a = host(&[(23, port("open", None)), (6379, port("open", None)), (21, port("open", None))], vec![]);
    a.findings.insert(key(23, "telnet-cleartext"), f("banner"));
    a.findings.insert(key(6379, "redis-noauth"), f("PONG"));
    a.findings.insert(key(21, "ftp-anonymous"), f("230 ok"));
    // B: 23 closed (its finding resolved), 6379 not covered (not resolved), 21 with other evidence, 80 new.
    let mut b = host(&[(23, port("closed", None)), (21, port("open", None)), (80, port("open", None))], vec![]);
    b.findings.insert(key(21, "ftp-anonymous"), f("230 welcome"));
    b.findings.insert(key(80, "http-dir-listing"), f("Index of /"));
    let h = one_host(a, b).unwrap();
    let got: Vec<(u16, &str, FindingChange)> = h.findings.iter().map(|d| (d.port, d.id.as_str(), d.change)).collect();
    assert_eq!(
        got,
        [
            (21, "ftp-anonymous", FindingChange::Changed),
            (23, "telnet-cleartext", FindingChange::Resolved),
            (80, "http-dir-listing", FindingChange::New),
        ]
    );
}

#[test]
fn hosts_up_down_and_not_scanned() {
    let up = |p: u16| host(&[(p, port("open", Some("http")))], vec![fold("closed", &[(1, 10)])]);
    let mut down = HostSnapshot { state: "down".into(), reason: "no-response".into(), ..HostSnapshot::default() };
    down.ports.clear();
    let a =
        snap(1, vec![("198.18.0.2", up(80)), ("198.18.0.3", up(22)), ("198.18.0.10", up(443)), ("198.19.9.9", up(25))]);
    // .2 unchanged, .3 down (recorded down), .10 missing but inside B's targets, .19.9.9 outside them, .4 new.
    let b = snap(2, vec![("198.18.0.2", up(80)), ("198.18.0.3", down), ("198.18.0.4", up(8080))]);
    let d = diff_scans(&a, &b);
    let got: Vec<(&str, HostChange, Changes)> =
        d.hosts.iter().map(|h| (h.addr.as_str(), h.change, changes(h))).collect();
    assert_eq!(
        got,
        [
            ("198.18.0.3", HostChange::Down, vec![(vec![(22, 22)], Some(PortChange::HostDown))]),
            ("198.18.0.4", HostChange::Up, vec![(vec![(8080, 8080)], Some(PortChange::Opened))]),
            ("198.18.0.10", HostChange::Down, vec![(vec![(443, 443)], Some(PortChange::HostDown))]),
            ("198.19.9.9", HostChange::NotScanned, vec![]),
        ]
    );
    let c = d.counts();
    assert_eq!((c.hosts_up, c.hosts_down, c.hosts_not_scanned, c.opened, c.closed), (1, 2, 1, 1, 0));
}

#[test]
fn names_and_os_changes_are_host_changes() {
    let a = host(&[], vec![]);
    let mut b = a.clone();
    b.hostnames = "gw.example".into();
    b.os = Some("Linux 6.1".into());
    let h = one_host(a, b).unwrap();
    assert!(h.hostnames_changed && h.os_changed && h.ports.is_empty());
}

#[test]
fn scopes_that_cannot_be_known_include_everything() {
    assert!(Scope::of("scanme.example").covers("203.0.113.9"));
    assert!(Scope::of("-iL hosts.txt").covers("203.0.113.9"));
    assert!(Scope::of("").covers("203.0.113.9"));
    let s = Scope::of("198.18.0.0/24 198.18.1.1-5 2001:db8::/64");
    assert!(s.covers("198.18.0.77") && s.covers("198.18.1.3") && s.covers("2001:db8::9"));
    assert!(!s.covers("198.18.1.6") && !s.covers("2001:db8:1::1"));
}

#[test]
fn holes_of_own_ports_are_cut_out_of_ranges() {
    let mut r = Vec::new();
    push_without(&mut r, 1, 10, &[1, 5, 10, 11]);
    assert_eq!(r, [(2, 4), (6, 9)]);
    push_without(&mut r, 11, 20, &[1, 5, 10, 11]);
    assert_eq!(r, [(2, 4), (6, 9), (12, 20)]);
    let mut r = Vec::new();
    push_without(&mut r, 65530, 65535, &[65535]);
    assert_eq!(r, [(65530, 65534)]);
}
