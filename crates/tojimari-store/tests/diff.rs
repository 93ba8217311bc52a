//! `diff` and `history` on stores filled through `Store::record_hosts`, on SQLite and on a real PostgreSQL
//! (`tojimari_testbed::PgServer`). Folded ports, certificate fingerprints and a scan of another scope are
//! written with plain SQL where the writer does not (yet) write them, so the readers are tested on every
//! table they read.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{Finding, PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod, Severity};
use tojimari_store::{
    FindingChange, HostChange, PortChange, PortSeen, ScanStart, ScanStatus, SelectError, Store, diff_scans, select_pair,
};
use tojimari_testbed::Scratch;

fn start(ms: i64, targets: &str) -> ScanStart {
    ScanStart {
        argv: format!("tojimari scan -p 1-1000 {targets}"),
        profile: "scan".into(),
        targets: targets.into(),
        ports: "1-1000".into(),
        started_ms: ms,
        writer_host: "test".into(),
        writer_pid: 1,
        writer_boot: "boot".into(),
        ..ScanStart::default()
    }
}

/// (port, state, service, product, version, findings)
type P<'a> = (u16, PortState, Option<&'a str>, Option<&'a str>, &'a [(&'a str, Severity, &'a str)]);

fn host(addr: &str, ports: &[P]) -> HostReport {
    HostReport {
        addr: addr.parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::SynAck,
        state_reason_ttl: 0,
        ports: ports
            .iter()
            .map(|&(port, state, service, version, findings)| {
                let mut r = PortResult::new(Protocol::Tcp, port, state, Reason::SynAck);
                r.service = service.map(|s| {
                    let mut info = ServiceInfo::named(s, ServiceMethod::Probed, 10);
                    info.product = version.map(|_| "OpenSSH".to_string());
                    info.version = version.map(str::to_string);
                    info.findings = findings
                        .iter()
                        .map(|&(id, severity, evidence)| Finding {
                            id: id.into(),
                            severity,
                            evidence: evidence.into(),
                            advice: String::new(),
                        })
                        .collect();
                    Box::new(info)
                });
                r
            })
            .collect(),
        start: SystemTime::UNIX_EPOCH,
        end: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// `hosts` as finished at `ms` (the store dates observations by the host's end).
fn at(ms: u64, mut hosts: Vec<HostReport>) -> Vec<HostReport> {
    for h in &mut hosts {
        h.end = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    }
    hosts
}

const NET: &str = "198.18.0.0/24";
const SELF_SIGNED: &[(&str, Severity, &str)] = &[("tls-self-signed", Severity::Low, "issuer = subject")];
const LISTING: &[(&str, Severity, &str)] = &[("http-dir-listing", Severity::Medium, "Index of /")];

/// Scan 1 and 2 complete with one scope, 3 interrupted with it, 4 complete with another scope; returns the
/// scan ids by number.
fn fill(store: &Store, sql: &dyn Fn(&str)) -> BTreeMap<i64, i64> {
    use PortState::*;
    let mut ids = BTreeMap::new();
    // Scan 1: .2 with ssh 9.2p1, 80 closed, 443 (self-signed), the rest of 1-1000 closed (folded);
    // .3 with smtp.
    let s1 = store.begin_scan(&start(1_000, NET)).unwrap();
    store
        .record_hosts(
            s1,
            &at(
                1_500,
                vec![
                    host(
                        "198.18.0.2",
                        &[
                            (22, Open, Some("ssh"), Some("9.2p1"), &[]),
                            (80, Closed, None, None, &[]),
                            (443, Open, Some("https"), None, SELF_SIGNED),
                        ],
                    ),
                    host("198.18.0.3", &[(25, Open, Some("smtp"), None, &[])]),
                ],
            ),
            1_500,
        )
        .unwrap();
    store.finish_scan(s1, ScanStatus::Complete, 2_000).unwrap();
    // Scan 2: .2 with ssh 9.6p1, 80 open with a listing, 443 with another certificate and no finding,
    // 1-21 now filtered, 501-1000 not scanned; .3 gone; .4 new with 8080.
    let s2 = store.begin_scan(&start(10_000, NET)).unwrap();
    store
        .record_hosts(
            s2,
            &at(
                10_500,
                vec![
                    host(
                        "198.18.0.2",
                        &[
                            (22, Open, Some("ssh"), Some("9.6p1"), &[]),
                            (80, Open, Some("http"), None, LISTING),
                            (443, Open, Some("https"), None, &[]),
                        ],
                    ),
                    host("198.18.0.4", &[(8080, Open, Some("http-proxy"), None, &[])]),
                ],
            ),
            10_500,
        )
        .unwrap();
    store.finish_scan(s2, ScanStatus::Complete, 11_000).unwrap();
    let s3 = store.begin_scan(&start(20_000, NET)).unwrap();
    store.record_hosts(s3, &at(20_500, vec![host("198.18.0.2", &[(22, Closed, None, None, &[])])]), 20_500).unwrap();
    store.finish_scan(s3, ScanStatus::Interrupted, 21_000).unwrap();
    let s4 = store.begin_scan(&start(30_000, "198.18.0.2")).unwrap();
    store
        .record_hosts(s4, &at(30_500, vec![host("198.18.0.2", &[(22, Open, Some("ssh"), None, &[])])]), 30_500)
        .unwrap();
    store.finish_scan(s4, ScanStatus::Complete, 31_000).unwrap();
    for s in [s1, s2, s3, s4] {
        ids.insert(s.no, s.id);
    }
    // What the writer may not write itself: folds and certificate fingerprints.
    let h2 = "(SELECT id FROM hosts WHERE addr = '198.18.0.2')";
    sql(&format!(
        "INSERT INTO port_folds (scan_id, host_id, proto, state, reason, count, ports) VALUES \
         ({}, {h2}, 'tcp', 'closed', 'reset', 996, '1-21,23-79,81-442,444-1000')",
        ids[&1]
    ));
    sql(&format!(
        "INSERT INTO port_folds (scan_id, host_id, proto, state, reason, count, ports) VALUES \
         ({0}, {h2}, 'tcp', 'filtered', 'no-response', 21, '1-21'), \
         ({0}, {h2}, 'tcp', 'closed', 'reset', 475, '23-79,81-442,444-500')",
        ids[&2]
    ));
    sql(&format!("UPDATE port_obs SET cert_sha256 = 'aa' WHERE scan_id = {} AND port = 443", ids[&1]));
    sql(&format!("UPDATE port_obs SET cert_sha256 = 'bb' WHERE scan_id = {} AND port = 443", ids[&2]));
    ids
}

fn diff_and_history(db: &str, sql: &dyn Fn(&str)) {
    let store = Store::open(db).unwrap();
    fill(&store, sql);
    let scans = store.scan_infos().unwrap();
    assert_eq!(scans.iter().map(|s| s.no).collect::<Vec<_>>(), [4, 3, 2, 1]);

    // The default pair: 4 has no partner of its scope, 3 is interrupted, so 1 and 2.
    let (a, b) = select_pair(&scans, None, None).unwrap();
    assert_eq!((a.no, b.no), (1, 2));
    let (sa, sb) = (store.snapshot(a).unwrap(), store.snapshot(b).unwrap());
    assert_eq!(sa.hosts["198.18.0.2"].folds.len(), 1);
    let d = diff_scans(&sa, &sb);
    let hosts: Vec<(&str, HostChange)> = d.hosts.iter().map(|h| (h.addr.as_str(), h.change)).collect();
    assert_eq!(
        hosts,
        [("198.18.0.2", HostChange::Changed), ("198.18.0.3", HostChange::Down), ("198.18.0.4", HostChange::Up)]
    );
    let h2 = &d.hosts[0];
    type Row = (Vec<(u16, u16)>, Option<PortChange>, bool, bool);
    let ports: Vec<Row> =
        h2.ports.iter().map(|p| (p.ports.clone(), p.state, p.service_changed, p.cert_changed)).collect();
    assert_eq!(
        ports,
        [
            (vec![(22, 22)], None, true, false),
            (vec![(80, 80)], Some(PortChange::Opened), false, false),
            (vec![(443, 443)], None, false, true),
            (vec![(1, 21)], Some(PortChange::State), false, false),
            (vec![(501, 1000)], Some(PortChange::NotScanned), false, false),
        ]
    );
    let findings: Vec<(u16, &str, FindingChange)> =
        h2.findings.iter().map(|f| (f.port, f.id.as_str(), f.change)).collect();
    assert_eq!(
        findings,
        [(80, "http-dir-listing", FindingChange::New), (443, "tls-self-signed", FindingChange::Resolved)]
    );
    let c = d.counts();
    assert_eq!((c.opened, c.closed, c.state_changed, c.not_scanned), (2, 0, 21, 500));

    // The interrupted scan is refused as the baseline; as B it is compared, its gaps not scanned.
    assert_eq!(
        select_pair(&scans, Some("3"), None).unwrap_err(),
        SelectError::NotComplete { no: 3, status: "interrupted" }
    );
    let (a, b) = select_pair(&scans, Some("2"), Some("3")).unwrap();
    let d = diff_scans(&store.snapshot(a).unwrap(), &store.snapshot(b).unwrap());
    let h2 = d.hosts.iter().find(|h| h.addr == "198.18.0.2").unwrap();
    let p22 = h2.ports.iter().find(|p| p.single() == Some(22)).unwrap();
    assert_eq!(p22.state, Some(PortChange::Closed));
    let p80 = h2.ports.iter().find(|p| p.single() == Some(80)).unwrap();
    assert_eq!(p80.state, Some(PortChange::NotScanned));
    // Its finding on 80 is not resolved: 3 did not look.
    assert!(h2.findings.iter().all(|f| f.port != 80), "{:?}", h2.findings);

    // History: totals per scan, and the timeline of .2.
    let summaries = store.scan_summaries().unwrap();
    let totals: Vec<(i64, i64, i64)> = summaries.iter().map(|s| (s.scan.no, s.hosts_up, s.open_ports)).collect();
    assert_eq!(totals, [(4, 1, 1), (3, 1, 0), (2, 2, 4), (1, 2, 3)]);
    let h = store.host_history("198.18.0.2", &scans).unwrap().unwrap();
    assert_eq!(h.scans.len(), 4);
    let p80 = h.ports.iter().find(|p| p.port == 80).unwrap();
    let states: Vec<String> = p80
        .seen
        .iter()
        .map(|(_, s)| match s {
            PortSeen::Observed(o) => o.state.clone(),
            PortSeen::Folded(state) => format!("folded {state}"),
            PortSeen::HostDown => "down".into(),
            PortSeen::NotScanned => "not scanned".into(),
        })
        .collect();
    assert_eq!(states, ["closed", "open", "not scanned", "not scanned"]);
    let cur = p80.current.as_ref().unwrap();
    // Closed in scan 1, open in scan 2: the door is tracked from when it was first seen open.
    assert_eq!((cur.state.as_str(), cur.first_seen_ms, cur.last_changed_ms), ("open", 10_500, 10_500));
    assert!(store.host_history("198.18.0.99", &scans).unwrap().is_none());
    let matcher = tojimari_store::target_matcher("198.18.0.0/30").unwrap();
    assert_eq!(store.known_hosts(&matcher).unwrap(), ["198.18.0.2", "198.18.0.3"]);
}

/// Folds as the writer itself keeps them: 99 closed ports of a host become a fold, and a fold that turned
/// filtered is one range, not 50 lines.
fn folds_written_by_the_store(db: &str) {
    use PortState::*;
    let store = Store::open(db).unwrap();
    let many = |filtered_to: u16| {
        let mut h = host("198.18.1.1", &[]);
        h.ports = (1..=100)
            .map(|p| {
                let state = match p {
                    80 => Open,
                    p if p <= filtered_to => Filtered,
                    _ => Closed,
                };
                PortResult::new(Protocol::Tcp, p, state, if state == Closed { Reason::Reset } else { Reason::SynAck })
            })
            .collect();
        h
    };
    let mut nos = Vec::new();
    for (ms, filtered_to) in [(1_000u64, 0u16), (2_000, 50)] {
        let scan = store.begin_scan(&start(ms as i64, "198.18.1.1")).unwrap();
        store.record_hosts(scan, &at(ms, vec![many(filtered_to)]), ms as i64).unwrap();
        store.finish_scan(scan, ScanStatus::Complete, ms as i64 + 1).unwrap();
        nos.push(scan.no);
    }
    let scans = store.scan_infos().unwrap();
    let (a, b) = select_pair(&scans, None, None).unwrap();
    assert_eq!((a.no, b.no), (nos[0], nos[1]));
    let (sa, sb) = (store.snapshot(a).unwrap(), store.snapshot(b).unwrap());
    let ha = &sa.hosts["198.18.1.1"];
    assert!(!ha.folds.is_empty() && ha.ports.len() < 100, "the writer keeps closed ports folded: {ha:?}");
    let d = diff_scans(&sa, &sb);
    let ports: Vec<(String, Option<PortChange>)> =
        d.hosts[0].ports.iter().map(|p| (tojimari_store::format_port_ranges(&p.ports), p.state)).collect();
    assert_eq!(ports, [("1-50".to_string(), Some(PortChange::State))]);
    assert_eq!(d.counts().state_changed, 50);
}

#[test]
fn sqlite_diff_and_history() {
    let dir = Scratch::new("sqlite");
    let db = dir.path("store.db");
    let url = format!("sqlite://{db}");
    let sql = |statement: &str| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut c).await.unwrap();
        });
    };
    diff_and_history(&db, &sql);
    let dir = Scratch::new("sqlite-folds");
    folds_written_by_the_store(&dir.path("store.db"));
}

#[test]
fn postgres_diff_and_history() {
    let server = tojimari_testbed::pg_or_skip!();
    let db = server.create_database("diff").unwrap();
    let sql = |statement: &str| {
        server.psql("diff", statement).unwrap();
    };
    diff_and_history(&db, &sql);
    folds_written_by_the_store(&server.create_database("folds").unwrap());
}
