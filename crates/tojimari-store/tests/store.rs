//! The same store tests on both backends: SQLite in a temporary directory, and a real PostgreSQL server from
//! Debian's package started by the test (`tojimari_testbed::PgServer`, a database of its own per test). The
//! schema applied once and kept, scans numbered and finished, observations and the current state per port
//! (first seen, last seen, last changed) across two scans, a store from a newer tojimari refused, two
//! writers at once both recorded, a location that is no database named in the error, a paused scan continued
//! as the same scan.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod};
use tojimari_store::{ScanStart, ScanStatus, Store, StoreError};

/// A directory of its own, removed at the end.
struct Dir(std::path::PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("tojimari-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn db(&self) -> String {
        self.0.join("nested/store.db").to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(ms: i64) -> ScanStart {
    ScanStart {
        argv: "tojimari scan -p 22,80 198.18.0.2".into(),
        profile: "scan".into(),
        targets: "198.18.0.2".into(),
        ports: "22,80".into(),
        started_ms: ms,
        writer_host: "test".into(),
        writer_pid: i64::from(std::process::id()),
        writer_boot: "boot".into(),
        ..ScanStart::default()
    }
}

fn host(ports: &[(u16, PortState, Option<&str>)]) -> HostReport {
    let addr: IpAddr = "198.18.0.2".parse().unwrap();
    HostReport {
        addr,
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::ArpResponse,
        state_reason_ttl: 0,
        ports: ports
            .iter()
            .map(|&(port, state, service)| {
                let mut r = PortResult::new(Protocol::Tcp, port, state, Reason::SynAck);
                r.service = service.map(|s| Box::new(ServiceInfo::named(s, ServiceMethod::Probed, 10)));
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

/// `host` as observed (finished) at `ms`.
fn at(mut host: HostReport, ms: u64) -> HostReport {
    host.end = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    host
}

fn scans_are_numbered_and_the_current_state_follows_the_observations(db: &str) {
    let store = Store::open(db).unwrap();
    let addr: IpAddr = "198.18.0.2".parse().unwrap();

    let first = store.begin_scan(&start(1_000)).unwrap();
    assert_eq!(first.no, 1);
    store
        .record_hosts(
            first,
            &[at(host(&[(22, PortState::Open, Some("ssh")), (80, PortState::Closed, None)]), 1_500)],
            0,
        )
        .unwrap();
    store.finish_scan(first, ScanStatus::Complete, 2_000).unwrap();

    let second = store.begin_scan(&start(10_000)).unwrap();
    assert_eq!(second.no, 2);
    // 22 unchanged, 80 opened.
    store
        .record_hosts(
            second,
            &[at(host(&[(22, PortState::Open, Some("ssh")), (80, PortState::Open, Some("http"))]), 10_500)],
            0,
        )
        .unwrap();
    store.finish_scan(second, ScanStatus::Interrupted, 11_000).unwrap();

    let current = store.current_ports(addr).unwrap();
    assert_eq!(current.len(), 2, "{current:?}");
    let (p22, p80) = (&current[0], &current[1]);
    assert_eq!((p22.port, p22.state.as_str()), (22, "open"));
    assert_eq!((p22.first_seen_ms, p22.last_seen_ms, p22.last_changed_ms), (1_500, 10_500, 1_500));
    assert_eq!((p80.port, p80.state.as_str(), p80.service.as_deref()), (80, "open", Some("http")));
    // 80 was closed in the first scan: a door is tracked from the first time it is seen open.
    assert_eq!((p80.first_seen_ms, p80.last_seen_ms, p80.last_changed_ms), (10_500, 10_500, 10_500));

    let scans = store.scans().unwrap();
    let statuses: Vec<(i64, ScanStatus)> = scans.iter().map(|s| (s.no, s.status)).collect();
    assert_eq!(statuses, [(2, ScanStatus::Interrupted), (1, ScanStatus::Complete)]);
    assert_eq!(scans[1].ended_ms, Some(2_000));
    drop(store);

    // Opened again: the schema is kept, the numbers go on.
    let store = Store::open(db).unwrap();
    assert_eq!(store.begin_scan(&start(20_000)).unwrap().no, 3);
}

/// Marks the store at `db` as migrated by a tojimari from the future (`sql` runs one statement there).
fn a_store_from_a_newer_tojimari_is_refused_by_name(db: &str, name: &str, sql: &dyn Fn(&str)) {
    drop(Store::open(db).unwrap());
    sql("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, '\\x00', 0)");
    let e = Store::open(db).unwrap_err();
    assert!(matches!(e, StoreError::NewerSchema { version: 9999, .. }), "{e}");
    assert!(e.to_string().contains(name), "{e}");
}

#[test]
fn a_location_that_cannot_be_a_database_is_an_error_naming_it() {
    let dir = Dir::new("bad");
    let file = dir.0.join("plain");
    std::fs::write(&file, b"not a database, just some text that is long enough to be read as a header").unwrap();
    let e = Store::open(&file.to_string_lossy()).unwrap_err();
    assert!(e.to_string().contains("plain"), "{e}");
}

fn two_writers_at_once_both_complete(db: &str) {
    drop(Store::open(db).unwrap());
    let nos: Vec<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|k| {
                s.spawn(move || {
                    let store = Store::open(db).unwrap();
                    let mut nos = Vec::new();
                    for i in 0..10 {
                        let scan = store.begin_scan(&start(k * 1000 + i)).unwrap();
                        store.record_hosts(scan, &[host(&[(22, PortState::Open, None)])], k * 1000 + i).unwrap();
                        store.finish_scan(scan, ScanStatus::Complete, k * 1000 + i + 1).unwrap();
                        nos.push(scan.no);
                    }
                    nos
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = nos.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, (1..=20).collect::<Vec<i64>>(), "{nos:?}");
    let store = Store::open(db).unwrap();
    assert!(store.scans().unwrap().iter().all(|s| s.status == ScanStatus::Complete));
}

/// Hosts through the sink: all recorded (in batches), the scan finished complete; a run that ended in an
/// error is recorded as interrupted with what it had.
fn the_sink_records_every_host_and_the_end(db: &str) {
    use tojimari_core::report::{RunExit, RunSummary};
    use tojimari_core::sink::Sink;
    use tojimari_store::StoreSink;
    for (exit, want, count) in [
        (RunExit::Success, ScanStatus::Complete, 600u32),
        (RunExit::Error("interrupted".into()), ScanStatus::Interrupted, 7),
    ] {
        let store = Store::open(db).unwrap();
        let scan = store.begin_scan(&start(1)).unwrap();
        let mut sink = StoreSink::new(store, scan).unwrap();
        for i in 0..count {
            let mut h = host(&[(22, PortState::Open, None), (80, PortState::Closed, None)]);
            h.addr = IpAddr::from([198, 18, (i >> 8) as u8, i as u8]);
            sink.host_done(&h).unwrap();
        }
        let summary = RunSummary {
            end: SystemTime::now(),
            elapsed: Duration::from_secs(1),
            hosts_up: u64::from(count),
            hosts_down: 0,
            hosts_total: u64::from(count),
            exit,
        };
        sink.run_end(&summary).unwrap();
        assert_eq!(sink.error(), None);
        let store = Store::open(db).unwrap();
        assert_eq!(store.observed_hosts(scan).unwrap(), i64::from(count));
        let row = store.scans().unwrap().into_iter().find(|s| s.no == scan.no).unwrap();
        assert_eq!(row.status, want);
        assert!(row.ended_ms.is_some());
    }
}

/// A paused scan continued (`tojimari scan --resume`): the same scan, running again, keeping its first hosts
/// in output order; the others' observations are gone, so recording them again duplicates nothing.
fn a_paused_scan_continues_as_the_same_scan(db: &str) {
    let hosts: Vec<HostReport> = (0..5u8)
        .map(|i| {
            let mut h = host(&[(22, PortState::Open, Some("ssh")), (80, PortState::Closed, None)]);
            h.addr = IpAddr::from([198, 18, 1, i]);
            h
        })
        .collect();
    let store = Store::open(db).unwrap();
    let scan = store.begin_scan(&start(1)).unwrap();
    store.record_hosts(scan, &hosts, 2).unwrap();
    store.finish_scan(scan, ScanStatus::Interrupted, 3).unwrap();
    drop(store);

    let store = Store::open(db).unwrap();
    let (again, kept) = store.continue_scan(scan.no, 3).unwrap();
    assert_eq!((again.no, again.id, kept), (scan.no, scan.id, 3));
    assert_eq!(store.observed_hosts(scan).unwrap(), 3);
    let row = store.scans().unwrap().into_iter().find(|s| s.no == scan.no).unwrap();
    assert_eq!((row.status, row.ended_ms), (ScanStatus::Running, None));
    // The two dropped hosts recorded again: their rows were gone (a duplicate would break the keys).
    store.record_hosts(again, &hosts[3..], 4).unwrap();
    assert_eq!(store.observed_hosts(scan).unwrap(), 5);
    // Keeping more than it has drops nothing; a scan that is not there is an error naming it.
    assert_eq!(store.continue_scan(scan.no, 9).unwrap().1, 5);
    let e = store.continue_scan(999, 0).unwrap_err();
    assert!(e.to_string().contains("no scan 999"), "{e}");
    assert_eq!(store.scans().unwrap().len(), 1, "no second scan");
}

/// An import is all or nothing: a file that fails half-way leaves no scan, no host and no current state; a
/// good one is numbered after the scans before it. An old file imported late does not overwrite the newer
/// current state, only moves first seen back.
fn imports_are_all_or_nothing_and_keep_time_order(db: &str) {
    use tojimari_store::{ImportFailure, Imported};
    let store = Store::open(db).unwrap();
    let addr: IpAddr = "198.18.0.2".parse().unwrap();
    // The first import of an empty store is scan 1.
    let ok: Vec<Result<Imported, &str>> = vec![Ok(Imported::Host(Box::new(at(host(&[]), 1_000))))];
    let first = ScanStart { profile: "import".into(), source: "jsonl".into(), ..start(1) };
    assert_eq!(store.import_scan(&first, ok.into_iter()).unwrap().no, 1);
    let live = store.begin_scan(&start(50_000)).unwrap();
    assert_eq!(live.no, 2);
    store.record_hosts(live, &[at(host(&[(22, PortState::Open, Some("ssh"))]), 50_000)], 0).unwrap();
    store.finish_scan(live, ScanStatus::Complete, 51_000).unwrap();

    let records: Vec<Result<Imported, &str>> = vec![
        Ok(Imported::Host(Box::new(at(host(&[(22, PortState::Closed, None)]), 60_000)))),
        Ok(Imported::Host(Box::new(at(host(&[(23, PortState::Open, None)]), 60_000)))),
        Err("line 9: not XML"),
    ];
    let imported = ScanStart { profile: "import".into(), source: "nmap-xml".into(), ..start(1) };
    match store.import_scan(&imported, records.into_iter()) {
        Err(ImportFailure::Input(e)) => assert_eq!(e, "line 9: not XML"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.scans().unwrap().len(), 2, "the failed import left a scan behind");
    let current = store.current_ports(addr).unwrap();
    assert_eq!(current.len(), 1, "{current:?}");
    assert_eq!((current[0].state.as_str(), current[0].last_seen_ms), ("open", 50_000));

    // An older observation (a file from before): 22 was already open at 20_000 (with another service), and 24.
    let records: Vec<Result<Imported, &str>> = vec![Ok(Imported::Host(Box::new(at(
        host(&[(22, PortState::Open, Some("telnet")), (24, PortState::Open, None)]),
        20_000,
    ))))];
    let old = store.import_scan(&imported, records.into_iter()).unwrap();
    assert_eq!(old.no, 3, "a failed import uses no number");
    assert_eq!(store.observed_hosts(old).unwrap(), 1);
    let current = store.current_ports(addr).unwrap();
    let p22 = current.iter().find(|c| c.port == 22).unwrap();
    assert_eq!((p22.state.as_str(), p22.first_seen_ms, p22.last_seen_ms), ("open", 20_000, 50_000));
    assert_eq!(p22.service.as_deref(), Some("ssh"), "the older observation does not overwrite the newer");
    assert!(current.iter().any(|c| c.port == 24 && c.state == "open"));
    // No summary: a file cut short is an interrupted scan.
    let row = store.scans().unwrap().into_iter().find(|s| s.no == 3).unwrap();
    assert_eq!(row.status, ScanStatus::Interrupted);
}

/// Closed ports beyond nmap's 25 are kept as ranges; a port tracked as open that is now among them follows.
fn a_port_that_closes_into_the_folded_majority_is_seen_closed(db: &str) {
    let store = Store::open(db).unwrap();
    let addr: IpAddr = "198.18.0.2".parse().unwrap();
    let mut ports: Vec<(u16, PortState, Option<&str>)> = (1..=100).map(|p| (p, PortState::Closed, None)).collect();
    ports[79] = (80, PortState::Open, Some("http"));
    let first = store.begin_scan(&start(1)).unwrap();
    store.record_hosts(first, &[at(host(&ports), 1_000)], 0).unwrap();
    ports[79] = (80, PortState::Closed, None);
    let second = store.begin_scan(&start(2)).unwrap();
    store.record_hosts(second, &[at(host(&ports), 2_000)], 0).unwrap();
    let current = store.current_ports(addr).unwrap();
    // Only 80 was ever listed; the 99 closed ports of the first scan got no row of their own.
    assert_eq!(current.len(), 1, "{current:?}");
    assert_eq!(
        (current[0].state.as_str(), current[0].last_changed_ms, current[0].service.as_deref()),
        ("closed", 2_000, None)
    );
}

#[test]
fn sqlite_store() {
    let dir = Dir::new("sqlite");
    let db = dir.db();
    scans_are_numbered_and_the_current_state_follows_the_observations(&db);
    let dir = Dir::new("sqlite-sink");
    the_sink_records_every_host_and_the_end(&dir.db());
    let dir = Dir::new("sqlite-two");
    two_writers_at_once_both_complete(&dir.db());
    let dir = Dir::new("sqlite-newer");
    let db = dir.db();
    let url = format!("sqlite://{db}");
    let sql = |statement: &str| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut c).await.unwrap();
        });
    };
    a_store_from_a_newer_tojimari_is_refused_by_name(&db, "store.db", &sql);
    let dir = Dir::new("sqlite-import");
    imports_are_all_or_nothing_and_keep_time_order(&dir.db());
    let dir = Dir::new("sqlite-fold");
    a_port_that_closes_into_the_folded_majority_is_seen_closed(&dir.db());
    let dir = Dir::new("sqlite-continue");
    a_paused_scan_continues_as_the_same_scan(&dir.db());
}

#[test]
fn postgres_store() {
    let server = tojimari_testbed::pg_or_skip!();
    scans_are_numbered_and_the_current_state_follows_the_observations(&server.create_database("current").unwrap());
    two_writers_at_once_both_complete(&server.create_database("two").unwrap());
    the_sink_records_every_host_and_the_end(&server.create_database("sink").unwrap());
    imports_are_all_or_nothing_and_keep_time_order(&server.create_database("import").unwrap());
    a_port_that_closes_into_the_folded_majority_is_seen_closed(&server.create_database("fold").unwrap());
    a_paused_scan_continues_as_the_same_scan(&server.create_database("continue").unwrap());
    let db = server.create_database("newer").unwrap();
    let sql = |statement: &str| {
        server.psql("newer", statement).unwrap();
    };
    a_store_from_a_newer_tojimari_is_refused_by_name(&db, "127.0.0.1", &sql);
    // A server that is not there: an error naming it, at once.
    let gone = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port().wrapping_add(1));
    let e = Store::open(&gone).unwrap_err();
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}
