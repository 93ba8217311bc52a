//! The fleet's tables (schema 4) on both backends, SQLite and a real PostgreSQL started by the test: a chunk
//! claimed, checkpointed, taken over (the first worker's saves then refused), committed exactly once (a
//! second commit, also two at once from two threads, writes nothing), a host seen by two chunks recorded
//! once with the union of its ports (listed and folded), the scan complete with its last chunk, and the
//! workers' heartbeats counted.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{PortResult, PortState, Protocol, Reason};
use tojimari_store::{ChunkState, Claim, Committed, FleetScan, ScanStart, ScanStatus, Store, WorkerBeat};

fn host(addr: &str, open: &[u16], closed: &[u16]) -> HostReport {
    let addr: IpAddr = addr.parse().unwrap();
    let mut ports: Vec<PortResult> =
        open.iter().map(|&p| PortResult::new(Protocol::Tcp, p, PortState::Open, Reason::SynAck)).collect();
    ports.extend(closed.iter().map(|&p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset)));
    HostReport {
        addr,
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::UserSet,
        state_reason_ttl: 0,
        ports,
        start: SystemTime::UNIX_EPOCH,
        end: SystemTime::UNIX_EPOCH + Duration::from_secs(5),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// Ports `first..=last`.
fn ports(first: u16, last: u16) -> Vec<u16> {
    (first..=last).collect()
}

fn fleet_chunks_commit_once_and_merge_hosts(db: &str) {
    let store = Store::open(db).unwrap();
    let start =
        ScanStart { profile: "fleet".into(), started_ms: 1_000, writer_host: "test".into(), ..ScanStart::default() };
    let scan = store.begin_scan(&start).unwrap();
    let fleet = FleetScan { options: "{}".into(), positions: 3000, chunk_size: 1000, max_rate: Some(900) };
    store.create_fleet(scan, &fleet, &[0..1000, 1000..2000, 2000..3000], 1_000).unwrap();
    let row = store.fleet_scan(scan.id).unwrap().unwrap();
    assert_eq!((row.scan, row.fleet.clone(), row.chunks), (scan, fleet, 3));
    assert_eq!(store.fleet_scans().unwrap().len(), 1);
    assert_eq!(store.chunks_left().unwrap(), 3);
    assert_eq!(store.chunks_not_done().unwrap(), vec![(scan.id, 0), (scan.id, 1), (scan.id, 2)]);

    // Worker a takes chunk 0 and saves a checkpoint; b takes it over and gets the checkpoint.
    assert_eq!(
        store.claim_chunk(scan.id, 0, "a", 2_000).unwrap(),
        Claim::Open { range: 0..1000, checkpoint: None, claims: 1 }
    );
    assert!(store.save_checkpoint(scan.id, 0, "a", "{\"cp\":1}", 400, 2_500).unwrap());
    assert_eq!(
        store.claim_chunk(scan.id, 0, "b", 3_000).unwrap(),
        Claim::Open { range: 0..1000, checkpoint: Some("{\"cp\":1}".into()), claims: 2 }
    );
    assert!(!store.save_checkpoint(scan.id, 0, "a", "{\"cp\":2}", 500, 3_100).unwrap(), "a lost the chunk");

    // b commits; a's late commit of the same chunk writes nothing, and the chunk is done for a new claim.
    let x = "198.19.0.1";
    let first = [host(x, &[22], &ports(1, 30))];
    assert_eq!(
        store.commit_chunk(scan.id, 0, "b", &first, 1000, 4_000).unwrap(),
        Committed::Now { scan_complete: false }
    );
    let late = [host(x, &[22, 23], &ports(1, 30)), host("198.19.0.9", &[80], &ports(1, 1))];
    assert_eq!(store.commit_chunk(scan.id, 0, "a", &late, 1000, 4_100).unwrap(), Committed::Already);
    assert_eq!(store.claim_chunk(scan.id, 0, "c", 4_200).unwrap(), Claim::Done);

    assert_eq!(store.chunks_not_done().unwrap(), vec![(scan.id, 1), (scan.id, 2)]);

    // Chunk 1 has more of host x's ports (listed and folded) and another host.
    let second = [host(x, &[80], &ports(31, 60)), host("198.19.0.2", &[443], &[])];
    assert_eq!(
        store.commit_chunk(scan.id, 1, "b", &second, 1000, 5_000).unwrap(),
        Committed::Now { scan_complete: false }
    );

    // Chunk 2 committed by two workers at once: one writes, the other finds it done.
    let third = [host("198.19.0.3", &[22], &[])];
    let outcomes: Vec<Committed> = std::thread::scope(|s| {
        let handles: Vec<_> = ["c", "d"]
            .iter()
            .map(|w| {
                let (store, third) = (&store, &third);
                s.spawn(move || store.commit_chunk(scan.id, 2, w, third, 1000, 6_000).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|o| **o == Committed::Already).count(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&Committed::Now { scan_complete: true }), "{outcomes:?}");
    assert_eq!(store.chunks_left().unwrap(), 0);
    assert!(store.chunks_not_done().unwrap().is_empty());

    let chunks = store.fleet_chunks(scan.id).unwrap();
    assert!(chunks.iter().all(|c| c.state == ChunkState::Done && c.completions == 1), "{chunks:?}");
    assert_eq!(chunks[0].claims, 2);
    assert_eq!(chunks[0].worker.as_deref(), Some("b"));
    assert_eq!((chunks[1].hosts_up, chunks[1].open_ports), (2, 2));

    let info = store.scan_info(scan.no).unwrap().unwrap();
    assert_eq!(info.status, ScanStatus::Complete);
    let snap = store.snapshot(&info).unwrap();
    assert_eq!(snap.hosts.len(), 3, "{:?}", snap.hosts.keys());
    let hx = &snap.hosts[x];
    let listed: Vec<u16> = hx.ports.keys().map(|(_, p)| *p).collect();
    assert_eq!(listed, [22, 80], "the union of both chunks' open ports, and not a's late 23");
    let closed: Vec<_> = hx.folds.iter().filter(|f| f.state == "closed").collect();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].ranges, [(1, 60)], "the folds of both chunks merged");
    assert_eq!(store.observed_hosts(scan).unwrap(), 3, "one row per host");

    // Heartbeats: the live workers are counted by their last beat.
    for (id, at) in [("a", 10_000), ("b", 19_000), ("b", 20_000)] {
        let beat =
            WorkerBeat { id: id.into(), host: "h".into(), pid: 1, started_ms: 0, now_ms: at, ..WorkerBeat::default() };
        store.worker_beat(&beat).unwrap();
    }
    assert_eq!(store.live_workers(15_000).unwrap(), 1);
    assert_eq!(store.live_workers(0).unwrap(), 2);
    let workers = store.fleet_workers().unwrap();
    assert_eq!((workers[0].id.as_str(), workers[0].last_seen_ms), ("b", 20_000));
}

#[test]
fn sqlite_fleet() {
    let dir = tojimari_testbed::Scratch::new("tjf-store-fleet");
    fleet_chunks_commit_once_and_merge_hosts(&dir.path("s.db"));
}

#[test]
fn postgres_fleet() {
    let server = tojimari_testbed::pg_or_skip!();
    fleet_chunks_commit_once_and_merge_hosts(&server.create_database("fleet").unwrap());
}
