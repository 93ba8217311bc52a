//! A fleet on the test bed (issue 15): `scan --workers` queues a SYN scan of the AnyIP /16 (-Pn) in
//! chunks in a real PostgreSQL started by the test; workers in three namespaces, each with its own source
//! address, reach it over its Unix socket (a path: namespaces share the file system, not the network).
//!
//! - `fleet_survives_a_killed_worker_and_a_late_one`: one worker is killed with SIGKILL while it holds a
//!   chunk with a checkpoint saved, a third starts late; the union of the results is exactly the ground truth,
//!   one row per host and port, every chunk completed once, the killed worker's chunk claimed again and
//!   resumed from its checkpoint.
//! - `fleet_keeps_results_while_postgres_is_down`: PostgreSQL stopped mid-scan and started again after some
//!   seconds: the workers say so (`warning:`), keep their results in their spool, commit them when it is
//!   back; nothing is lost.
//! - `fleet_worker_started_while_postgres_is_down_waits_for_it`: a worker started while PostgreSQL is stopped
//!   warns, waits, and does the whole scan once it is back, even though the queue lost its jobs meanwhile
//!   (the store's chunks are the truth; the worker gives a pending chunk its job again).
//!
//! - `bad_fleet_input_is_refused`: a fleet without PostgreSQL, a connect or version scan split, a worker with
//!   a lease of nothing: one `error:` line each, exit status 2, nothing queued.
//!
//! The test-bed tests need root; without it they say SKIPPED loudly.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::{Netns, PgServer, Scratch, TestBed, testbed_or_skip};

const NET: &str = "198.19.0.0/16";
const OPEN: [u16; 3] = [22, 80, 443];
const PORTS: &str = "22,80,443,8080";

/// Target 0 answers for the /16 with listeners on [`OPEN`]; targets 1 and 2 become scanners too (a route
/// to the /16 through target 0), so the three workers have three source addresses.
fn fleet_bed(bed: &TestBed) -> tojimari_testbed::Listeners {
    bed.add_anyip_v4(0, NET).unwrap();
    let via = bed.target(0).v4.to_string();
    for i in 1..=2 {
        bed.target(i).ns.ip(&["route", "add", NET, "via", &via]).unwrap();
    }
    bed.target(0).listen_tcp(&OPEN).unwrap()
}

/// The namespaces the workers run in: the scanner, target 1, target 2.
fn worker_spaces(bed: &TestBed) -> [&Netns; 3] {
    [bed.scanner(), &bed.target(1).ns, &bed.target(2).ns]
}

/// Queues the fleet scan; its stderr.
fn plan(ns: &Netns, db: &str, extra: &[&str]) -> String {
    let out = support::tojimari_in(ns)
        .args(["-sS", "-Pn", "-n", "-p", PORTS, "--seed", "7", "--db", db, "--workers"])
        .args(extra)
        .arg(NET)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("note: scan 1: 262144 probes (65536 hosts x 4 ports, seed 7)"), "{stderr}");
    stderr
}

/// Starts a worker in `ns` with its own state directory; stderr goes to a file in `scratch`.
fn worker(ns: &Netns, db: &str, scratch: &Scratch, name: &str) -> Child {
    let log = std::fs::File::create(scratch.path(&format!("{name}.log"))).unwrap();
    ns.command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["worker", "--db", db, "--exit-when-done", "--lease", "3s", "--checkpoint-every", "1s", "-v"])
        .arg("--state-dir")
        .arg(scratch.path(name))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn log(scratch: &Scratch, name: &str) -> String {
    std::fs::read_to_string(scratch.path(&format!("{name}.log"))).unwrap_or_default()
}

/// Waits for `child` to exit within `limit`; kills it and fails otherwise.
fn wait(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One value from `psql`.
fn one(pg: &PgServer, sql: &str) -> String {
    pg.psql("fleet", sql).unwrap()
}

/// The checks every fleet scan here must pass: complete, every chunk done once, exactly the ground truth
/// ((every address of the /16) x [`OPEN`] open, 8080 closed), one row per host and per port.
fn check_exact(pg: &PgServer, chunk_size: u64) {
    assert_eq!(one(pg, "SELECT status FROM scans WHERE no = 1"), "complete");
    assert_eq!(one(pg, "SELECT COUNT(*) FROM fleet_chunks WHERE state <> 'done' OR completions <> 1"), "0");
    assert_eq!(one(pg, "SELECT COUNT(*) FROM host_obs o JOIN scans s ON s.id = o.scan_id WHERE s.no = 1"), "65536");
    let by_state = one(
        pg,
        "SELECT p.port || ' ' || p.state || ' ' || p.reason || ' ' || COUNT(*) FROM port_obs p JOIN scans s \
         ON s.id = p.scan_id WHERE s.no = 1 GROUP BY p.port, p.state, p.reason ORDER BY 1",
    );
    let missed = lost_by_chunk(pg, chunk_size);
    let chunks = one(pg, "SELECT chunk || ' claims ' || claims || ' by ' || worker FROM fleet_chunks ORDER BY chunk");
    let by_open = one(
        pg,
        "SELECT o.open_ports || ' ' || COUNT(*) FROM host_obs o JOIN scans s ON s.id = o.scan_id WHERE s.no = 1 \
         GROUP BY o.open_ports ORDER BY 1",
    );
    assert_eq!(
        one(pg, "SELECT COUNT(*) FROM host_obs o JOIN scans s ON s.id = o.scan_id WHERE s.no = 1 AND o.open_ports = 3"),
        "65536",
        "every host has its three open ports counted once; hosts by open ports:\n{by_open}\nports by state:\n{by_state}\nnot answered, by chunk: {missed:?}\n{chunks}"
    );
    let open = one(
        pg,
        "SELECT h.addr || ' ' || p.port FROM port_obs p JOIN hosts h ON h.id = p.host_id JOIN scans s ON s.id = p.scan_id \
         WHERE s.no = 1 AND p.state = 'open'",
    );
    let found: Vec<&str> = open.lines().collect();
    let unique: BTreeSet<&str> = found.iter().copied().collect();
    assert_eq!(found.len(), unique.len(), "no duplicate rows");
    let truth: BTreeSet<String> =
        (0..=65535u32).flat_map(|i| OPEN.map(|p| format!("198.19.{}.{} {p}", i >> 8, i & 255))).collect();
    let missing = truth.iter().filter(|t| !unique.contains(t.as_str())).count();
    let extra = unique.iter().filter(|u| !truth.contains(**u)).count();
    assert_eq!((missing, extra), (0, 0), "the union is exactly the ground truth");
    // 8080 closed on every host: as a row of its own (a chunk holds too few of a host's closed ports to fold).
    assert_eq!(
        one(
            pg,
            "SELECT COUNT(DISTINCT p.host_id) FROM port_obs p JOIN scans s ON s.id = p.scan_id \
             WHERE s.no = 1 AND p.port = 8080 AND p.state = 'closed'"
        ),
        "65536"
    );
    assert_eq!(
        one(pg, "SELECT COUNT(*) FROM port_obs p JOIN scans s ON s.id = p.scan_id WHERE s.no = 1"),
        (65536 * 4).to_string()
    );
}

/// The probes of the scan that got no answer (filtered), counted by the chunk they lie in: where the
/// engine lost answers, when it did (a diagnostic for a failed check).
fn lost_by_chunk(pg: &PgServer, chunk_size: u64) -> std::collections::BTreeMap<u64, u64> {
    let space = tojimari_core::sweep::Space::new(&[4], Some(7));
    let ports = [22u16, 80, 443, 8080];
    let rows = one(
        pg,
        "SELECT h.addr || ' ' || p.port FROM port_obs p JOIN hosts h ON h.id = p.host_id WHERE p.state = 'filtered'",
    );
    let mut by_chunk = std::collections::BTreeMap::new();
    for row in rows.lines() {
        let Some((addr, port)) = row.split_once(' ') else { continue };
        let (Ok(addr), Ok(port)) = (addr.parse::<std::net::Ipv4Addr>(), port.parse::<u16>()) else { continue };
        let host = u64::from(u32::from(addr) & 0xffff);
        let Some(index) = ports.iter().position(|p| *p == port) else { continue };
        let probe = tojimari_core::sweep::Probe { host, technique: 0, port: index };
        *by_chunk.entry(space.position(65536, probe) / chunk_size).or_insert(0) += 1;
    }
    by_chunk
}

#[test]
fn fleet_survives_a_killed_worker_and_a_late_one() {
    let bed = testbed_or_skip!(3);
    let _listeners = fleet_bed(&bed);
    let pg = PgServer::start().unwrap();
    pg.create_database("fleet").unwrap();
    let db = pg.database_socket_url("fleet");
    let scratch = Scratch::new("tjf-fleet");
    let spaces = worker_spaces(&bed);
    // 16 chunks of 16384 probes; 12,000 probes per second shared: a chunk takes a few seconds.
    plan(spaces[0], &db, &["--chunk-size", "16384", "--max-rate", "12000"]);

    let mut first = worker(spaces[0], &db, &scratch, "w1");
    let mut victim = worker(spaces[1], &db, &scratch, "w2");
    // The victim holds a chunk with a checkpoint saved (some of its probes answered): kill it there.
    let pattern = format!("%-{}-%", victim.id());
    let until = Instant::now() + Duration::from_secs(60);
    let held = loop {
        let held = one(
            &pg,
            &format!(
                "SELECT chunk FROM fleet_chunks WHERE state = 'running' AND worker LIKE '{pattern}' \
                 AND checkpoint IS NOT NULL AND probes_done > 0"
            ),
        );
        if !held.is_empty() {
            break held;
        }
        assert!(Instant::now() < until, "the second worker never held a chunk: {}", log(&scratch, "w2"));
        std::thread::sleep(Duration::from_millis(200));
    };
    victim.kill().unwrap();
    victim.wait().unwrap();
    let mut late = worker(spaces[2], &db, &scratch, "w3");
    for (child, name) in [(&mut first, "w1"), (&mut late, "w3")] {
        let status = wait(child, Duration::from_secs(240), name);
        assert!(status.success(), "{name}: {}", log(&scratch, name));
    }
    check_exact(&pg, 16384);
    let chunk = held.lines().next().unwrap();
    let claims = one(&pg, &format!("SELECT claims FROM fleet_chunks WHERE chunk = {chunk}"));
    assert!(claims.parse::<u64>().unwrap() >= 2, "chunk {chunk} was taken over: {claims} claims");
    let killed = format!("-{}-", victim.id());
    assert!(!one(&pg, &format!("SELECT worker FROM fleet_chunks WHERE chunk = {chunk}")).contains(&killed));
    let logs = format!("{}{}", log(&scratch, "w1"), log(&scratch, "w3"));
    assert!(
        logs.contains(&format!("chunk {chunk} of scan id")) && logs.contains("resumed from its checkpoint"),
        "the chunk was resumed from the checkpoint: {logs}"
    );
    // Every worker that ran is listed, the late one with chunks of its own.
    let out = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari")).args(["jobs", "--db", &db]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Fleet scan 1 (complete): 16/16 chunks done, 262144/262144 probes (100.0%)"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains(" ago ")).count(), 3, "three workers: {text}");
    println!("{text}");
}

#[test]
fn fleet_keeps_results_while_postgres_is_down() {
    let bed = testbed_or_skip!(3);
    let _listeners = fleet_bed(&bed);
    let mut pg = PgServer::start().unwrap();
    pg.create_database("fleet").unwrap();
    let db = pg.database_socket_url("fleet");
    let scratch = Scratch::new("tjf-pgdown");
    let spaces = worker_spaces(&bed);
    plan(spaces[0], &db, &["--chunk-size", "32768", "--max-rate", "12000"]);
    let mut workers: Vec<(Child, &str)> =
        vec![(worker(spaces[0], &db, &scratch, "w1"), "w1"), (worker(spaces[1], &db, &scratch, "w2"), "w2")];
    // Once a chunk is in, the database goes away for some seconds, while chunks are being scanned.
    let until = Instant::now() + Duration::from_secs(60);
    while one(&pg, "SELECT COUNT(*) FROM fleet_chunks WHERE state = 'done'") == "0" {
        assert!(Instant::now() < until, "no chunk done: {}", log(&scratch, "w1"));
        std::thread::sleep(Duration::from_millis(200));
    }
    pg.stop();
    std::thread::sleep(Duration::from_secs(6));
    pg.restart().unwrap();
    for (child, name) in &mut workers {
        let status = wait(child, Duration::from_secs(240), name);
        assert!(status.success(), "{name}: {}", log(&scratch, name));
    }
    check_exact(&pg, 32768);
    let logs = format!("{}{}", log(&scratch, "w1"), log(&scratch, "w2"));
    assert!(logs.contains("warning: the database failed while"), "{logs}");
    assert!(logs.contains("the database answers again"), "{logs}");
    // The spools are empty: everything was committed.
    for name in ["w1", "w2"] {
        let left = std::fs::read_dir(scratch.path(&format!("{name}/spool"))).unwrap().count();
        assert_eq!(left, 0, "{name}'s spool");
    }
}

#[test]
fn fleet_worker_started_while_postgres_is_down_waits_for_it() {
    let bed = testbed_or_skip!(3);
    let _listeners = fleet_bed(&bed);
    let mut pg = PgServer::start().unwrap();
    pg.create_database("fleet").unwrap();
    let db = pg.database_socket_url("fleet");
    let scratch = Scratch::new("tjf-pgstart");
    let spaces = worker_spaces(&bed);
    // At the rate the other tests here use: this test runs beside one of them, and is about the database, not
    // about speed (uncapped, two scans of a /16 at once on two cores ask more of the machine than it shows).
    plan(spaces[0], &db, &["--chunk-size", "65536", "--max-rate", "12000"]);
    // The queue lost its jobs (a database restored from a backup, or a crash that lost the last commits, as
    // this test server's, which runs without fsync, can): the chunks are still pending in the store.
    one(&pg, "DELETE FROM tojimari_jobs._private_jobs");
    // The database is away when the worker starts: it says so and waits, then does the whole scan.
    pg.stop();
    let mut w1 = worker(spaces[0], &db, &scratch, "w1");
    let until = Instant::now() + Duration::from_secs(30);
    while !log(&scratch, "w1").contains("warning: the database failed while") {
        assert!(Instant::now() < until, "no warning: {}", log(&scratch, "w1"));
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    pg.restart().unwrap();
    let until = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = w1.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = w1.kill();
            let _ = w1.wait();
            let jobs = one(&pg, "SELECT string_agg(chunk || ':' || state, ' ') FROM fleet_chunks");
            panic!("w1 did not finish; chunks: {jobs}; its log:\n{}", log(&scratch, "w1"));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "w1: {}", log(&scratch, "w1"));
    check_exact(&pg, 65536);
    let text = log(&scratch, "w1");
    assert!(text.contains("the database answers again"), "{text}");
}

/// Runs tojimari where it can send nothing (`support::isolated`: a refusal that ever became a scan could not
/// reach beyond this machine) and returns (exit code, stderr).
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let out = support::isolated().args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_fleet_input_is_refused() {
    let scratch = Scratch::new("tjf-usage");
    let sqlite = scratch.path("store.db");
    let pg = "postgres://nobody@127.0.0.1:1/none";
    for (args, says) in [
        (vec!["scan", "-sS", "-p", "22", "--db", &sqlite, "--workers", "198.18.0.9"], "needs the store in PostgreSQL"),
        (vec!["scan", "-sS", "-p", "22", "--no-store", "--workers", "198.18.0.9"], "needs the store in PostgreSQL"),
        (vec!["scan", "-sT", "-p", "22", "--db", pg, "--workers", "198.18.0.9"], "--workers needs a raw scan"),
        (vec!["scan", "-sS", "-sV", "-p", "22", "--db", pg, "--workers", "198.18.0.9"], "does not run -sV or -O"),
        (
            vec!["scan", "-sS", "-p", "22", "--db", pg, "--workers", "--shard", "1/2", "--seed", "3", "198.18.0.9"],
            "--shard",
        ),
        (vec!["scan", "-sS", "-p", "22", "--db", pg, "--workers", "--chunk-size", "10", "198.18.0.9"], "too small"),
        (vec!["worker", "--db", &sqlite], "a worker needs the store in PostgreSQL"),
        (vec!["worker", "--db", pg, "--lease", "0s"], "--lease must be at least 1s"),
    ] {
        let (code, stderr) = refused(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    assert!(!std::path::Path::new(&sqlite).exists(), "nothing was recorded");
}
