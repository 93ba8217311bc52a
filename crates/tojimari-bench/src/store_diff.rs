//! `store-diff`: the time of `tojimari diff` on two recorded /16 sweeps (issue 13's target: under 1 s on
//! SQLite), and on PostgreSQL too.
//!
//! Two sweeps of 198.19.0.0/16 (65,536 addresses, one in 32 up: 2,048 hosts, 100 TCP ports each, 5 open:
//! 10,240 open ports per sweep; the other 95 closed, which the store keeps folded as nmap's extraports) are
//! recorded through `Store::record_hosts` in batches of 256 hosts, as the scanner's sink would. Between them
//! 500 ports change: 200 open ports close, 200 closed ports open, 100 open ports change service version.
//! Then the release `tojimari diff` (the real binary, a new process each run, so opening the store and its
//! schema check count) compares them, `--runs` times, in text and in JSON Lines; the JSON Lines totals are
//! checked against the 500 changes. No packets are sent: the data is made here; the store lives under
//! /tmp/tjd-bench-* (SQLite) or in a PostgreSQL server from `tojimari_testbed::PgServer`, both removed.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod};
use tojimari_store::{ScanStart, ScanStatus, Store};

/// One in this many addresses of the /16 is up.
const EVERY: u32 = 32;
const PORTS: u16 = 100;
const OPEN_PER_HOST: u16 = 5;
const BATCH: usize = 256;

/// (hosts index, port index) changes: which kind of change the host gets in sweep B.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Change {
    None,
    /// Its first open port closes.
    Closes,
    /// One of its closed ports opens.
    Opens,
    /// Its first open port's version changes.
    Version,
}

/// The change of host `i` (0..2048) in sweep B: hosts 0..200 close a port, 200..400 open one, 400..500 change
/// a version; spread over the /16 by taking every fourth host.
fn change_of(i: u32) -> Change {
    if !i.is_multiple_of(4) {
        return Change::None;
    }
    match i / 4 {
        0..200 => Change::Closes,
        200..400 => Change::Opens,
        400..500 => Change::Version,
        _ => Change::None,
    }
}

/// Host `i` of a sweep (`b`: the second one).
fn host(i: u32, b: bool) -> HostReport {
    let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 19, 0, 0)) + i * EVERY);
    let change = if b { change_of(i) } else { Change::None };
    // The 100 ports: 1..=100 shifted per host so the open ones differ; the open ones are 5 in a row.
    let first_open = (i % 90) as u16 + 1;
    let ports = (1..=PORTS)
        .map(|p| {
            let mut open = (first_open..first_open + OPEN_PER_HOST).contains(&p);
            if change == Change::Closes && p == first_open {
                open = false;
            }
            if change == Change::Opens && p == (first_open + OPEN_PER_HOST) % PORTS + 1 {
                open = true;
            }
            let (state, reason) =
                if open { (PortState::Open, Reason::SynAck) } else { (PortState::Closed, Reason::Reset) };
            let mut r = PortResult::new(Protocol::Tcp, p, state, reason);
            if open {
                let mut s = ServiceInfo::named("http", ServiceMethod::Probed, 10);
                s.product = Some("nginx".into());
                s.version = Some(if change == Change::Version && p == first_open { "1.26.0" } else { "1.24.0" }.into());
                r.service = Some(Box::new(s));
            }
            r
        })
        .collect();
    HostReport {
        addr: IpAddr::V4(addr),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::SynAck,
        state_reason_ttl: 64,
        ports,
        start: SystemTime::now(),
        end: SystemTime::now(),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

fn now_ms() -> i64 {
    tojimari_store::unix_ms(SystemTime::now())
}

/// Records the two sweeps into `db`; returns the time each took.
fn record(db: &str) -> Result<[Duration; 2], String> {
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let up = 65_536 / EVERY;
    let mut times = [Duration::ZERO; 2];
    for (k, b) in [false, true].into_iter().enumerate() {
        let start = ScanStart {
            argv: "tojimari scan -sS --top-ports 100 198.19.0.0/16".into(),
            profile: "scan".into(),
            targets: "198.19.0.0/16".into(),
            ports: "top 100".into(),
            started_ms: now_ms(),
            source: "tojimari".into(),
            writer_host: "bench".into(),
            writer_pid: i64::from(std::process::id()),
            writer_boot: "bench".into(),
        };
        let t = Instant::now();
        let scan = store.begin_scan(&start).map_err(|e| e.to_string())?;
        let hosts: Vec<u32> = (0..up).collect();
        for chunk in hosts.chunks(BATCH) {
            let batch: Vec<HostReport> = chunk.iter().map(|&i| host(i, b)).collect();
            store.record_hosts(scan, &batch, now_ms()).map_err(|e| e.to_string())?;
        }
        store.finish_scan(scan, ScanStatus::Complete, now_ms()).map_err(|e| e.to_string())?;
        times[k] = t.elapsed();
    }
    Ok(times)
}

/// Runs `tojimari diff --db DB [extra]` `runs` times: the wall times, and the last run's standard output.
fn time_diff(db: &str, extra: &[&str], runs: usize) -> Result<(Vec<Duration>, String), String> {
    let bin = crate::tojimari_binary();
    let mut times = Vec::new();
    let mut last = String::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let out = Command::new(&bin)
            .args(["diff", "--db", db])
            .args(extra)
            .output()
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        times.push(t.elapsed());
        if out.status.code() != Some(1) {
            return Err(format!(
                "tojimari diff exited {:?} (1 expected: differences): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        last = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    Ok((times, last))
}

/// Checks the JSON Lines header's totals against the changes made.
fn check_counts(jsonl: &str) -> Result<String, String> {
    let header: serde_json::Value =
        jsonl.lines().next().and_then(|l| serde_json::from_str(l).ok()).ok_or("diff --jsonl wrote no header line")?;
    let c = &header["counts"];
    let got = (c["opened"].as_u64(), c["closed"].as_u64(), c["service_changed"].as_u64(), c["not_scanned"].as_u64());
    if got != (Some(200), Some(200), Some(100), Some(0)) {
        return Err(format!("diff found {c} (200 opened, 200 closed, 100 services changed expected)"));
    }
    Ok("200 opened, 200 closed, 100 versions: all found".into())
}

fn row(backend: &str, recorded: [Duration; 2], text: &[Duration], jsonl: &[Duration], check: &str) {
    let stats = |t: &[Duration]| {
        let mut t = t.to_vec();
        t.sort();
        (t[0].as_secs_f64(), t[t.len() / 2].as_secs_f64())
    };
    let ((tmin, tmed), (jmin, jmed)) = (stats(text), stats(jsonl));
    println!(
        "{backend:<11} {:>9.2} {:>9.2} {:>9.3} {:>9.3} {:>9.3} {:>9.3}  {check}",
        recorded[0].as_secs_f64(),
        recorded[1].as_secs_f64(),
        tmin,
        tmed,
        jmin,
        jmed
    );
}

fn measure(backend: &str, db: &str, runs: usize) -> Result<(), String> {
    let recorded = record(db)?;
    let (text, out) = time_diff(db, &[], runs)?;
    if !out.lines().last().is_some_and(|l| l.starts_with("Differences from scan 1 to scan 2:")) {
        return Err(format!("unexpected diff text ending: {:?}", out.lines().last()));
    }
    let (jsonl, out) = time_diff(db, &["--jsonl"], runs)?;
    let check = check_counts(&out)?;
    row(backend, recorded, &text, &jsonl, &check);
    Ok(())
}

pub fn store_diff(runs: usize) -> Result<(), String> {
    let runs = runs.max(3);
    println!(
        "\nscenario store-diff: two /16 sweeps recorded (2,048 hosts x 100 ports, 10,240 open each, 500 changed), \
         then `tojimari diff` (release binary, {runs} runs; target under 1 s on SQLite)"
    );
    println!(
        "{:<11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  check",
        "backend", "rec A s", "rec B s", "text min", "text med", "jsonl min", "jsonl med"
    );
    let dir = std::env::temp_dir().join(format!("tjd-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("store.db").to_string_lossy().into_owned();
    let sqlite = measure("SQLite", &db, runs);
    if let Ok(meta) = std::fs::metadata(&db) {
        println!("(SQLite file: {:.1} MB)", meta.len() as f64 / 1e6);
    }
    let _ = std::fs::remove_dir_all(&dir);
    sqlite?;
    match tojimari_testbed::PgServer::start() {
        Ok(pg) => {
            let url = pg.create_database("storediff").map_err(|e| e.to_string())?;
            measure("PostgreSQL", &url, runs)?;
        }
        Err(e) => println!("PostgreSQL  not measured: {e}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweeps_differ_in_500_ports() {
        let up = 65_536 / EVERY;
        let (mut open, mut closes, mut opens, mut versions) = (0, 0, 0, 0);
        for i in 0..up {
            let (a, b) = (host(i, false), host(i, true));
            open += a.ports.iter().filter(|p| p.state == PortState::Open).count();
            for (pa, pb) in a.ports.iter().zip(&b.ports) {
                match (pa.state, pb.state) {
                    (PortState::Open, PortState::Closed) => closes += 1,
                    (PortState::Closed, PortState::Open) => opens += 1,
                    (PortState::Open, PortState::Open) if pa.service != pb.service => versions += 1,
                    _ => {}
                }
            }
        }
        assert_eq!((up, open), (2048, 10_240));
        assert_eq!((closes, opens, versions), (200, 200, 100));
    }
}
