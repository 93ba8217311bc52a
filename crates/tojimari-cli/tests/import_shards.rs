//! `tojimari import` of several files: the shards of one scan merged into one recorded scan, with the real
//! binary and a real store. The shard files are written by tojimari's own XML and JSON Lines printers from a
//! ground truth split the way `--shard I/N` splits a scan (probe position modulo N); the merged scan must be
//! the ground truth, recorded under the unsharded command line. Files that are not shards of one scan
//! (another seed, another N, other options, a shard twice, no --shard) are refused with exit 2 and leave no
//! scan behind; a missing shard is a warning and the rest is recorded.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

use tojimari_core::portspec::PortSet;
use tojimari_core::report::{
    DisplayOptions, HostReport, HostState, PortResult, RunExit, RunInfo, RunSummary, ScanInfo, ScanType,
};
use tojimari_core::{PortState, Protocol, Reason, Sink};
use tojimari_output::jsonl::JsonLinesSink;
use tojimari_output::xml::XmlSink;
use tojimari_store::{ScanRef, ScanStatus, Store};
use tojimari_testbed::{Scratch, pg_or_skip};

const HOSTS: u8 = 12;
const PORTS: u16 = 10;

fn addr(h: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2 + h))
}

/// The ground truth: host `h`'s port `p` is open when `(h + p) % 3 == 0`, else closed.
fn state(h: u8, port: u16) -> PortState {
    if (u16::from(h) + port).is_multiple_of(3) { PortState::Open } else { PortState::Closed }
}

/// The probe position of host `h`, port `p` in an unshuffled space: which shard owns it.
fn owner(h: u8, port: u16, count: u64) -> u64 {
    (u64::from(h) * u64::from(PORTS) + u64::from(port - 1)) % count + 1
}

fn command_line(shard: &str, seed: u64, ports: &str, out: &str) -> String {
    format!("tojimari scan -sS -n -p {ports} --shard {shard} --seed {seed} {out} 198.18.0.2-13")
}

/// Shard `index`/`count`'s file: each host with the ports the shard owns. Host 0 is also reported down by
/// shard 1 (as a shard whose probes got no answer says), which must not win over the others' up.
fn write_shard(path: &Path, index: u64, count: u64, args: &str) {
    let file = Box::new(File::create(path).unwrap());
    let mut sink: Box<dyn Sink> = if path.extension().is_some_and(|e| e == "jsonl") {
        Box::new(JsonLinesSink::new(file))
    } else {
        Box::new(XmlSink::new(file))
    };
    let t = |s: u64| UNIX_EPOCH + Duration::from_secs(1_796_560_000 + s);
    let display = DisplayOptions { verbose: 1, ..DisplayOptions::default() };
    let scans =
        vec![ScanInfo { scan_type: ScanType::Syn, proto: Protocol::Tcp, ports: PortSet::from_ports(1..=PORTS) }];
    let run = RunInfo { args: args.into(), start: t(index), version: "0.1.0".into(), scans, display };
    sink.run_start(&run).unwrap();
    let mut up = 0;
    for h in 0..HOSTS {
        let ports: Vec<PortResult> = (1..=PORTS)
            .filter(|p| owner(h, *p, count) == index)
            .map(|p| {
                let reason = if state(h, p) == PortState::Open { Reason::SynAck } else { Reason::Reset };
                PortResult { reason_ttl: 64, ..PortResult::new(Protocol::Tcp, p, state(h, p), reason) }
            })
            .collect();
        let down = h == 0 && index == 1;
        let host = HostReport {
            addr: addr(h),
            hostnames: Vec::new(),
            state: if down { HostState::Down } else { HostState::Up },
            state_reason: if down { Reason::NoResponse } else { Reason::Reset },
            state_reason_ttl: 64,
            ports: if down { Vec::new() } else { ports },
            start: t(10),
            end: t(20 + index),
            times: None,
            complete: true,
            timed_out: false,
            os: None,
            trace: None,
        };
        up += u64::from(!down);
        sink.host_done(&host).unwrap();
    }
    let summary = RunSummary {
        end: t(30 + index),
        elapsed: Duration::from_secs(30),
        hosts_up: up,
        hosts_down: u64::from(HOSTS) - up,
        hosts_total: u64::from(HOSTS),
        exit: RunExit::Success,
    };
    sink.run_end(&summary).unwrap();
}

/// Writes shards `indexes` of `count` as `name-I.ext`, all with `seed` and `ports`, and returns their paths.
fn shards(dir: &Path, ext: &str, indexes: &[u64], count: u64, seed: u64, ports: &str) -> Vec<PathBuf> {
    indexes
        .iter()
        .map(|i| {
            let path = dir.join(format!("shard-{seed}-{count}-{ports}-{i}.{ext}"));
            let out = format!("-o{} {}", if ext == "xml" { "X" } else { "J" }, path.display());
            write_shard(&path, *i, count, &command_line(&format!("{i}/{count}"), seed, ports, &out));
            path
        })
        .collect()
}

fn import(db: &str, files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari"))
        .env_remove("TOJIMARI_DB")
        .args(["import", "--db", db])
        .args(files)
        .output()
        .expect("tojimari runs")
}

/// The stored scan's hosts: state and (port, state) list per address.
type Hosts = BTreeMap<IpAddr, (HostState, Vec<(u16, PortState)>)>;

fn stored(db: &str, no: i64) -> (tojimari_store::StoredScan, Hosts) {
    let store = Store::open(db).unwrap();
    let scan = store.find_scan(ScanRef::No(no)).unwrap().expect("the scan is there");
    let mut hosts = Hosts::new();
    store
        .for_each_host(scan.id, |h| {
            hosts.insert(h.addr, (h.state, h.ports.iter().map(|p| (p.port, p.state)).collect()));
            Ok::<(), ()>(())
        })
        .unwrap();
    (scan, hosts)
}

/// What the merge of `indexes` of `count` must hold: the ports the shards own, but host 0's of shard 1 (it
/// got no answer there).
fn truth(indexes: &[u64], count: u64) -> Hosts {
    (0..HOSTS)
        .map(|h| {
            let ports: Vec<(u16, PortState)> = (1..=PORTS)
                .filter(|p| indexes.contains(&owner(h, *p, count)) && !(h == 0 && owner(h, *p, count) == 1))
                .map(|p| (p, state(h, p)))
                .collect();
            (addr(h), (HostState::Up, ports))
        })
        .collect()
}

fn scan_count(db: &str) -> usize {
    Store::open(db).unwrap().scans().unwrap().len()
}

fn success(out: &Output) -> (String, i64) {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let no = stdout.trim_end().rsplit(' ').next().and_then(|n| n.parse().ok()).expect("a scan number");
    (stderr, no)
}

#[test]
fn three_xml_shards_are_one_scan_of_the_ground_truth_on_sqlite() {
    let dir = Scratch::new("tjm5-import-xml");
    three_xml_shards(&dir, &dir.path("store.db"));
}

#[test]
fn three_xml_shards_are_one_scan_of_the_ground_truth_on_postgres() {
    let pg = pg_or_skip!();
    let url = pg.create_database("tjm5_import_shards").expect("a database");
    three_xml_shards(&Scratch::new("tjm5-import-xml-pg"), &url);
}

fn three_xml_shards(dir: &Scratch, db: &str) {
    let db = db.to_string();
    // Given out of order: the order of the files does not matter.
    let files = shards(&dir.0, "xml", &[2, 3, 1], 3, 7, "1-10");
    let out = import(&db, &files);
    let (stderr, no) = success(&out);
    assert_eq!(stderr, "");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("imported 12 hosts ({} ports) from shards 2/3, 3/3, 1/3 of seed 7 as scan {no}\n", 120 - 4)
    );
    let (scan, hosts) = stored(&db, no);
    assert_eq!(hosts, truth(&[1, 2, 3], 3));
    assert_eq!(scan.argv, "tojimari scan -sS -n -p 1-10 --seed 7 198.18.0.2-13");
    assert_eq!((scan.source.as_str(), scan.row.status), ("shards", ScanStatus::Complete));
    assert_eq!(scan.row.targets, "198.18.0.2-13");
    let summary = scan.summary.expect("a summary");
    assert_eq!((summary.hosts_up, summary.hosts_down), (12, 0));
    // From the first shard's start to the last shard's end.
    assert_eq!(summary.elapsed, Duration::from_secs(33 - 1));
    let run = scan.run.expect("the run's header");
    assert_eq!(run.args, scan.argv);
}

#[test]
fn json_lines_shards_merge_too_and_a_missing_shard_is_a_warning() {
    let dir = Scratch::new("tjm5-import-jsonl");
    let db = dir.path("store.db");
    let files = shards(&dir.0, "jsonl", &[1, 2], 2, 99, "1-10");
    let (stderr, no) = success(&import(&db, &files));
    assert_eq!(stderr, "");
    assert_eq!(stored(&db, no).1, truth(&[1, 2], 2));

    let files = shards(&dir.0, "jsonl", &[4, 1], 4, 99, "1-10");
    let (stderr, no) = success(&import(&db, &files));
    assert_eq!(
        stderr,
        "warning: shards 2/4, 3/4 of this scan are missing: the scan is recorded without their probes\n"
    );
    let (scan, hosts) = stored(&db, no);
    // Hosts with no port in shards 1 and 4 are still there (each shard reports every host it pinged).
    assert_eq!(hosts, truth(&[1, 4], 4));
    assert_eq!(scan.row.status, ScanStatus::Complete);

    // One shard file alone is imported as it is, and says what it lacks.
    let one = shards(&dir.0, "jsonl", &[2], 3, 5, "1-10");
    let out = import(&db, &one);
    let (stderr, _) = success(&out);
    assert_eq!(
        stderr,
        "warning: shards 1/3, 3/3 of this scan are missing: the scan is recorded without their probes\n"
    );
}

#[test]
fn files_that_are_not_shards_of_one_scan_are_refused() {
    let dir = Scratch::new("tjm5-import-refused");
    let db = dir.path("store.db");
    let d = dir.0.as_path();
    let base = shards(d, "xml", &[1, 2], 3, 7, "1-10");
    let seed = shards(d, "xml", &[3], 3, 8, "1-10");
    let count = shards(d, "xml", &[3], 4, 7, "1-10");
    let ports = shards(d, "xml", &[3], 3, 7, "1-11");
    let plain = d.join("plain.xml");
    write_shard(&plain, 1, 1, "tojimari scan -sS -p 1-10 198.18.0.2-13");
    let cases: Vec<(Vec<PathBuf>, &str)> = vec![
        (vec![base[0].clone(), seed[0].clone()], "has seed 8 but"),
        (vec![base[0].clone(), count[0].clone()], "is shard 3/4 but"),
        (vec![base[0].clone(), base[1].clone(), base[0].clone()], "are both shard 1/3"),
        (vec![base[0].clone(), ports[0].clone()], "differ in more than their shard: `scan -sS -n -p 1-11"),
        (vec![base[0].clone(), plain.clone()], "is not a shard of a scan: its command line has no --shard"),
        (vec![base[0].clone(), PathBuf::from("-")], "- (standard input) cannot be one of several files"),
        (vec![base[0].clone(), d.join("absent.xml")], "cannot read"),
    ];
    for (files, says) in cases {
        let out = import(&db, &files);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{says}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says), "{says}: {stderr}");
        assert!(stderr.contains("(hint: "), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    // Nothing was recorded (the store may not even exist).
    assert!(!Path::new(&db).exists() || scan_count(&db) == 0);
}
