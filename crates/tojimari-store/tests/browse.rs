//! The web pages' queries (`tojimari_store::browse`) on both backends, SQLite in a temporary directory and a
//! real PostgreSQL (`tojimari_testbed::PgServer`), over scans recorded through `Store::record_hosts`. Each
//! answer is checked against ground truth built here from the host reports themselves: totals, pages of
//! scans and hosts, the ports table under each filter, scans by writer, events after a cursor, and the
//! comparison over differing hosts equal to `diff_scans` over both whole snapshots (also when the digests
//! are missing, as in rows written before they were kept).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{Finding, PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod, Severity};
use tojimari_store::browse::{PortFilter, compare_scans};
use tojimari_store::{Event, EventKind, ScanInfo, ScanStart, ScanStatus, Store, diff_scans};
use tojimari_testbed::Scratch;

const HOSTS: u32 = 120;
const WRITER: i64 = 4242;

fn start(ms: i64, targets: &str, pid: i64) -> ScanStart {
    ScanStart {
        argv: format!("tojimari scan -p 1-1000 {targets}"),
        profile: "scan".into(),
        targets: targets.into(),
        ports: "1-1000".into(),
        started_ms: ms,
        source: "tojimari".into(),
        writer_host: tojimari_store::this_writer().host,
        writer_pid: pid,
        writer_boot: "boot".into(),
    }
}

fn addr(i: u32) -> String {
    format!("198.18.0.{}", i + 1)
}

/// Host `i` in scan 1 (`second`: scan 2, with its changes): 22 ssh and 80 http open, 23 telnet open with a
/// finding on every third host, 1-30 otherwise closed (folded); in scan 2 hosts 1, 11, ... close 80, hosts
/// 2, 12, ... open 443 (nginx, with a finding), hosts 0, 17, 34, ... change the ssh version.
fn host(i: u32, second: bool, ms: u64) -> HostReport {
    let mut open = vec![22u16, 80];
    if i.is_multiple_of(3) {
        open.push(23);
    }
    if second && i % 10 == 1 {
        open.retain(|&p| p != 80);
    }
    if second && i % 10 == 2 {
        open.push(443);
    }
    let mut ports: Vec<PortResult> = (1..=30u16)
        .filter(|p| !open.contains(p))
        .chain((!open.contains(&80)).then_some(80))
        .map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset))
        .collect();
    for &p in &open {
        let mut r = PortResult::new(Protocol::Tcp, p, PortState::Open, Reason::SynAck);
        let mut s = match p {
            22 => ServiceInfo::named("ssh", ServiceMethod::Probed, 10),
            23 => ServiceInfo::named("telnet", ServiceMethod::Probed, 10),
            _ => ServiceInfo::named("http", ServiceMethod::Probed, 10),
        };
        s.product = Some(
            match p {
                22 => "OpenSSH",
                // Text a comparison carries through the database's JSON: quotes, backslashes, a newline, markup.
                443 => "nginx \"edge\" \\ \n <é>",
                _ => "nginx",
            }
            .into(),
        );
        s.version = Some(if p == 22 && second && i.is_multiple_of(17) { "9.6" } else { "9.2" }.into());
        if p == 23 {
            s.findings.push(Finding {
                id: "telnet-cleartext".into(),
                severity: Severity::High,
                evidence: "login prompt".into(),
                advice: "use ssh".into(),
            });
        }
        if p == 443 {
            s.findings.push(Finding {
                id: "tls-self-signed".into(),
                severity: Severity::Low,
                evidence: "issuer = subject".into(),
                advice: "use a real certificate".into(),
            });
        }
        r.service = Some(Box::new(s));
        ports.push(r);
    }
    ports.sort_by_key(|p| p.port);
    HostReport {
        addr: addr(i).parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::SynAck,
        state_reason_ttl: 0,
        ports,
        start: SystemTime::UNIX_EPOCH,
        end: SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// The hosts of scan 1 (0..120) and scan 2 (1..121: host 0 missing, a new host 120).
fn scan_hosts(second: bool) -> Vec<HostReport> {
    let range = if second { 1..HOSTS + 1 } else { 0..HOSTS };
    range.map(|i| host(i, second, if second { 20_000 } else { 10_000 })).collect()
}

/// Records scans 1 and 2 (complete, same scope, by WRITER) and 3 (running, another scope, another writer).
fn fill(store: &Store) -> (Vec<HostReport>, Vec<HostReport>) {
    let (h1, h2) = (scan_hosts(false), scan_hosts(true));
    for (k, hosts) in [&h1, &h2].into_iter().enumerate() {
        let ms = (k as i64 + 1) * 10_000;
        let scan = store.begin_scan(&start(ms - 1000, "198.18.0.0/24", WRITER)).unwrap();
        for chunk in hosts.chunks(50) {
            store.record_hosts(scan, chunk, ms).unwrap();
        }
        store.finish_scan(scan, ScanStatus::Complete, ms + 500).unwrap();
    }
    let s3 = store.begin_scan(&start(30_000, "198.18.1.1", 7)).unwrap();
    let mut lone = host(0, false, 30_000);
    lone.addr = "198.18.1.1".parse().unwrap();
    store.record_hosts(s3, &[lone], 30_000).unwrap();
    (h1, h2)
}

fn scan(store: &Store, no: i64) -> ScanInfo {
    store.scan_info(no).unwrap().unwrap()
}

fn open_ports(hosts: &[HostReport]) -> i64 {
    hosts.iter().flat_map(|h| &h.ports).filter(|p| p.state == PortState::Open).count() as i64
}

fn findings_by_severity(hosts: &[HostReport]) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for f in hosts.iter().flat_map(|h| &h.ports).flat_map(|p| p.service.iter().flat_map(|s| &s.findings)) {
        *out.entry(f.severity.as_str().to_string()).or_default() += 1;
    }
    out
}

/// A tracked port: (address, port) to (state, product, finding ids).
type Truth = BTreeMap<(String, u16), (String, Option<String>, Vec<String>)>;
type Want<'a> = &'a dyn Fn(&(String, u16), &(String, Option<String>, Vec<String>)) -> bool;

/// The latest state of each (host, port) once seen open: the ports table's ground truth.
fn latest_truth(h1: &[HostReport], h2: &[HostReport]) -> Truth {
    let mut out = BTreeMap::new();
    let mut tracked: BTreeSet<(String, u16)> = BTreeSet::new();
    for hosts in [h1, h2] {
        for h in hosts {
            for p in &h.ports {
                let key = (h.addr.to_string(), p.port);
                if p.state == PortState::Open {
                    tracked.insert(key.clone());
                }
                if tracked.contains(&key) {
                    let product = p.service.as_ref().and_then(|s| s.product.clone());
                    let findings = p.service.iter().flat_map(|s| &s.findings).map(|f| f.id.clone()).collect::<Vec<_>>();
                    out.insert(key, (p.state.as_str().to_string(), product, findings));
                }
            }
        }
    }
    out
}

/// Every row of the table under `filter`, read 7 at a time.
fn all_rows(store: &Store, filter: &PortFilter) -> Vec<(String, u16, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.port_table(filter, offset, 7).unwrap();
        if page.rows.is_empty() {
            return out;
        }
        out.extend(page.rows.into_iter().map(|r| (r.addr, r.port, r.state)));
        offset += 7;
    }
}

fn browse(db: &str, sql: &dyn Fn(&str)) {
    let store = Store::open(db).unwrap();
    let (h1, h2) = fill(&store);
    let (s1, s2, s3) = (scan(&store, 1), scan(&store, 2), scan(&store, 3));

    // Totals.
    for (s, hosts) in [(&s1, &h1), (&s2, &h2)] {
        let c = store.scan_counts(s).unwrap();
        assert_eq!((c.hosts, c.hosts_up, c.open_ports), (hosts.len() as i64, hosts.len() as i64, open_ports(hosts)));
        let by: BTreeMap<String, i64> = c.findings.iter().map(|f| (f.severity.clone(), f.count)).collect();
        assert_eq!(by, findings_by_severity(hosts));
        assert_eq!(c.findings.first().map(|f| f.severity.as_str()), Some("high"), "most severe first");
    }
    assert_eq!(store.scan_counts(&s3).unwrap().hosts, 1);

    // The scan list.
    let page = store.scan_page(0, 2).unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.scans.iter().map(|s| s.scan.no).collect::<Vec<_>>(), [3, 2]);
    assert_eq!(page.scans[1].counts.open_ports, open_ports(&h2));
    assert_eq!(store.scan_page(2, 2).unwrap().scans.iter().map(|s| s.scan.no).collect::<Vec<_>>(), [1]);

    // Scans by writer.
    let mine = store.scans_by_writer(WRITER as u32, 0).unwrap();
    assert_eq!(
        mine.iter().map(|s| (s.no, s.status)).collect::<Vec<_>>(),
        [(1, ScanStatus::Complete), (2, ScanStatus::Complete)]
    );
    assert_eq!(store.scans_by_writer(WRITER as u32, 15_000).unwrap().iter().map(|s| s.no).collect::<Vec<_>>(), [2]);
    assert_eq!(store.scans_by_writer(7, 0).unwrap()[0].status, ScanStatus::Running);
    assert!(store.scans_by_writer(1, 0).unwrap().is_empty());
    // The same pid on another machine (a shared PostgreSQL store) is another writer.
    let elsewhere = ScanStart { writer_host: "another-machine".into(), ..start(20_000, "198.18.9.0/24", WRITER) };
    store.begin_scan(&elsewhere).unwrap();
    assert_eq!(store.scans_by_writer(WRITER as u32, 0).unwrap().len(), 2);

    // A page of a scan's hosts, and the hosts after a place.
    let page = store.scan_hosts_page(s2.id, 50, 50).unwrap();
    assert_eq!(page.total, h2.len() as i64);
    assert_eq!(page.hosts.len(), 50);
    for (got, want) in page.hosts.iter().zip(&h2[50..100]) {
        assert_eq!(got.report.addr, want.addr);
        let states = |h: &HostReport| h.ports.iter().map(|p| (p.port, p.state)).collect::<Vec<_>>();
        assert_eq!(states(&got.report), states(want));
        let findings = |h: &HostReport| {
            h.ports.iter().flat_map(|p| p.service.iter().flat_map(|s| s.findings.clone())).collect::<Vec<_>>()
        };
        assert_eq!(findings(&got.report), findings(want), "findings come back with their advice");
    }
    let last = page.hosts.last().unwrap().seq;
    let after = store.scan_hosts_after(s2.id, last, 1000).unwrap();
    assert_eq!(after.len(), h2.len() - 100);
    assert_eq!(after[0].report.addr, h2[100].addr);
    assert!(store.scan_hosts_page(s2.id, 1000, 50).unwrap().hosts.is_empty());

    // The ports table against the latest state of every tracked port.
    let truth = latest_truth(&h1, &h2);
    let everything = all_rows(&store, &PortFilter::default());
    // The running scan's lone host is tracked too.
    assert_eq!(everything.len(), truth.len() + 3);
    let keys: BTreeSet<(String, u16)> = everything.iter().map(|r| (r.0.clone(), r.1)).collect();
    assert_eq!(keys.len(), everything.len(), "pages neither repeat nor skip rows");
    let check = |filter: PortFilter, want: Want| {
        let mut got: Vec<(String, u16)> = all_rows(&store, &filter)
            .into_iter()
            .filter(|r| r.0.starts_with("198.18.0."))
            .map(|r| (r.0, r.1))
            .collect();
        got.sort();
        let expected: Vec<(String, u16)> = truth.iter().filter(|(k, v)| want(k, v)).map(|(k, _)| k.clone()).collect();
        assert_eq!(got, expected, "{filter:?}");
        let counted = store.port_table(&filter, 0, 1).unwrap().total;
        let lone = all_rows(&store, &filter).iter().filter(|r| !r.0.starts_with("198.18.0.")).count() as i64;
        assert_eq!(counted, expected.len() as i64 + lone);
    };
    check(PortFilter { ports: vec![(80, 80)], state: Some("closed".into()), ..PortFilter::default() }, &|k, v| {
        k.1 == 80 && v.0 == "closed"
    });
    check(PortFilter { ports: vec![(20, 25), (443, 443)], ..PortFilter::default() }, &|k, _| {
        (20..=25).contains(&k.1) || k.1 == 443
    });
    check(PortFilter { finding: Some("telnet-cleartext".into()), ..PortFilter::default() }, &|_, v| {
        v.2.contains(&"telnet-cleartext".to_string())
    });
    check(
        PortFilter { product: Some("NGINX".into()), state: Some("open".into()), ..PortFilter::default() },
        &|_, v| v.1.as_deref() == Some("nginx") && v.0 == "open",
    );
    check(PortFilter { service: Some("ssh".into()), ..PortFilter::default() }, &|k, _| k.1 == 22);
    let first = store.port_table(&PortFilter { ports: vec![(443, 443)], ..PortFilter::default() }, 0, 100).unwrap();
    assert!(first.rows.iter().all(|r| r.findings == [("tls-self-signed".to_string(), "low".to_string())]));
    assert!(!first.more_than_cap);

    // The comparison over differing hosts is the whole diff.
    let full = diff_scans(&store.snapshot(&s1).unwrap(), &store.snapshot(&s2).unwrap());
    let fast = compare_scans(&store, &s1, &s2).unwrap();
    assert_eq!(fast, full);
    let c = fast.counts();
    assert_eq!(
        (c.closed, c.opened),
        (12, 12 + 3),
        "80 closed on 12 hosts; 443 opened on 12, and host 120's three ports"
    );
    assert_eq!(c.hosts_down, 1);
    let differing = store.differing_hosts(&s1, &s2).unwrap().len();
    assert!(differing < 60, "only the hosts that changed are loaded: {differing}");
    // Rows without digests (written before they were kept) are compared whole.
    sql("UPDATE host_obs SET digest = NULL");
    assert_eq!(store.differing_hosts(&s1, &s2).unwrap().len(), HOSTS as usize + 1);
    // (A store opened anew: the first one keeps its comparison of these finished scans in memory.)
    let again = Store::open(db).unwrap();
    assert_eq!(compare_scans(&again, &s1, &s2).unwrap(), full);
    assert_eq!(compare_scans(&store, &s1, &s2).unwrap(), full);

    // Events: the latest local snapshot whole, alerts after a cursor.
    let ev = |at: i64, subject: &str| Event { at_ms: at, subject: subject.into(), body: format!("{{\"n\":{at}}}") };
    let (old, new) = (store.new_batch(), store.new_batch());
    store.record_events(EventKind::LocalSocket, old, "me", &[ev(100, "a"), ev(100, "b")]).unwrap();
    store.record_events(EventKind::LocalSocket, new, "me", &[ev(200, "z:1/tcp"), ev(200, "c:2/tcp")]).unwrap();
    let snap = store.latest_batch(EventKind::LocalSocket).unwrap();
    assert_eq!(snap.iter().map(|e| e.row.subject.as_str()).collect::<Vec<_>>(), ["c:2/tcp", "z:1/tcp"]);
    let b = store.new_batch();
    store.record_events(EventKind::WatchAlert, b, "me", &[ev(300, "x"), ev(300, "y"), ev(400, "z")]).unwrap();
    let latest = store.latest_events(EventKind::WatchAlert, 2).unwrap();
    assert_eq!(latest.iter().map(|e| e.row.at_ms).collect::<Vec<_>>(), [400, 300]);
    let oldest = store.events_after(EventKind::WatchAlert, (0, 0), 1).unwrap();
    let rest = store.events_after(EventKind::WatchAlert, oldest[0].cursor(), 10).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest.last().unwrap().row.at_ms, 400);
    assert!(store.events_after(EventKind::WatchAlert, rest[1].cursor(), 10).unwrap().is_empty());
    assert!(store.latest_batch(EventKind::WatchAlert).unwrap().len() == 3);
}

#[test]
fn sqlite_browse() {
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
    browse(&db, &sql);
}

#[test]
fn postgres_browse() {
    let server = tojimari_testbed::pg_or_skip!();
    let db = server.create_database("browse").unwrap();
    let sql = |statement: &str| {
        server.psql("browse", statement).unwrap();
    };
    browse(&db, &sql);
}
