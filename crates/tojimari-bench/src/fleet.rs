//! `fleet` (issue 15): a fleet of workers coordinated through PostgreSQL beside one machine.
//!
//! The bed: target 0 answers for 198.19.0.0/16 (AnyIP) with listeners on 22, 80 and 443; targets 1 and 2
//! are scanners too (a route to the /16 through target 0), so three workers have three source addresses. A
//! PostgreSQL server from `tojimari_testbed::PgServer` holds the store and the queue; workers reach it over
//! its Unix socket.
//!
//! 1. Three workers on the /16 x 20 ports with -Pn against one machine (the same scan, `tojimari scan`):
//!    wall time, each worker's probes and rate, their sum; the results checked exact (every host's three
//!    open ports, nothing else open, nothing unanswered). On this 2-core machine the three workers share
//!    the cores, so their sum is bounded by what one machine sends.
//! 2. The queue's overhead by chunk size: one worker, the same scan in chunks of 4096 to 262144 probes:
//!    its time from first claim to last commit split into scanning, committing the results (writing hosts and
//!    ports into the store, which a scan recording into PostgreSQL pays anyway) and the queue's own share
//!    (claims, reading the scan, job hand-over, checkpoints, the spool).
//! 3. A worker's memory across 198.18.0.0/15 x 100 ports (the bed's own 198.18.0.0/24 left out, 130,816
//!    hosts, 13 million probes): its resident memory sampled every half second for [`MEMORY_RUN`] (the whole
//!    scan would take the store many minutes to record), then it is stopped.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::{Netns, PgServer, TestBed};

const NET: &str = "198.19.0.0/16";
const OPEN: [u16; 3] = [22, 80, 443];
const PORTS: &str = "22,80,443,1000-1016";
const PROBES: u64 = 65536 * 20;
/// How long the /15 x 100 worker is sampled.
const MEMORY_RUN: Duration = Duration::from_secs(90);

fn bed() -> Result<(TestBed, tojimari_testbed::Listeners), String> {
    let bed = TestBed::new(3).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    bed.add_anyip_v4(0, NET).map_err(|e| e.to_string())?;
    let via = bed.target(0).v4.to_string();
    for i in 1..=2 {
        bed.target(i).ns.ip(&["route", "add", NET, "via", &via]).map_err(|e| e.to_string())?;
    }
    let listeners = bed.target(0).listen_tcp(&OPEN).map_err(|e| e.to_string())?;
    Ok((bed, listeners))
}

/// Queues a fleet scan into `db`.
fn plan(ns: &Netns, db: &str, targets: &[&str], ports: &str, chunk: Option<u64>) -> Result<(), String> {
    let mut cmd = ns.command(&crate::tojimari_binary());
    cmd.args(["scan", "-sS", "-Pn", "-n", "-p", ports, "--seed", "7", "--db", db, "--workers"]);
    if let Some(chunk) = chunk {
        cmd.args(["--chunk-size", &chunk.to_string()]);
    }
    let out = cmd.args(targets).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("planning failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

fn worker(ns: &Netns, db: &str, state: &str) -> Result<Child, String> {
    ns.command(&crate::tojimari_binary())
        .args(["worker", "--db", db, "--exit-when-done", "--lease", "10s", "--checkpoint-every", "5s"])
        .args(["--state-dir", state])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())
}

/// What a worker did: (probes, seconds scanning, seconds committing, seconds from its first claim to its
/// last commit).
type Worked = (u64, f64, f64, f64);

/// What a worker did, from its closing note.
fn summary(stderr: &str) -> Option<Worked> {
    let line = stderr.lines().find(|l| l.contains("stops:"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    // The number before `after` (with its unit `s` between them when `after` is not `probes`).
    let at = |after: &str| {
        let i = words.iter().position(|w| *w == after)?;
        let back = if after == "probes" { 1 } else { 2 };
        words.get(i.checked_sub(back)?)
    };
    let probes = at("probes")?.parse().ok()?;
    let scanning = at("scanning,")?.parse().ok()?;
    let committing = at("committing,")?.parse().ok()?;
    let busy = words.iter().rev().find_map(|w| w.parse::<f64>().ok())?;
    Some((probes, scanning, committing, busy))
}

fn one(pg: &PgServer, db: &str, sql: &str) -> String {
    pg.psql(db, sql).unwrap_or_else(|e| format!("({e})"))
}

/// Checks the fleet scan in `db` against the ground truth of scenario 1 and 2; "exact" or what is off.
fn exactness(pg: &PgServer, db: &str, hosts: u64) -> String {
    let open = one(pg, db, "SELECT COUNT(*) FROM port_obs WHERE state = 'open'");
    let unanswered = one(pg, db, "SELECT COUNT(*) FROM port_obs WHERE state = 'filtered'");
    let all3 = one(pg, db, "SELECT COUNT(*) FROM host_obs WHERE open_ports = 3");
    let done = one(pg, db, "SELECT COUNT(*) FROM fleet_chunks WHERE state <> 'done' OR completions <> 1");
    let want = (hosts * 3).to_string();
    if open == want && unanswered == "0" && all3 == hosts.to_string() && done == "0" {
        "exact".into()
    } else {
        format!(
            "NOT EXACT: {open} open (want {want}), {unanswered} unanswered, {all3} hosts with 3, {done} chunks not done once"
        )
    }
}

/// Runs workers in `spaces` until they exit; (wall seconds, per worker (probes, scanning, busy)).
fn run_workers(spaces: &[&Netns], db: &str, tag: &str) -> Result<(f64, Vec<Worked>), String> {
    let started = Instant::now();
    let mut children = Vec::new();
    for (i, ns) in spaces.iter().enumerate() {
        let state = format!("/tmp/tjf-bench-{}-{tag}-{i}", std::process::id());
        let _ = std::fs::remove_dir_all(&state);
        children.push((worker(ns, db, &state)?, state));
    }
    let mut out = Vec::new();
    for (child, state) in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        out.push(summary(&stderr).ok_or_else(|| format!("a worker said no summary: {stderr}"))?);
        let _ = std::fs::remove_dir_all(&state);
    }
    Ok((started.elapsed().as_secs_f64(), out))
}

pub fn fleet(runs: usize) -> Result<(), String> {
    let (bed, _listeners) = bed()?;
    let pg = PgServer::start().map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
    let spaces: [&Netns; 3] = [bed.scanner(), &bed.target(1).ns, &bed.target(2).ns];
    println!("== fleet: {NET} x 20 ports ({PROBES} probes), -sS -Pn, SYN-ACK from 22, 80, 443 on every address");

    // 1. One machine, then three workers.
    for run in 1..=runs {
        let t = Instant::now();
        let out = spaces[0]
            .command(&crate::tojimari_binary())
            .args(["scan", "-sS", "-Pn", "-n", "-p", PORTS, "--seed", "7", "--no-store", "-oJ", "/dev/null", NET])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        let one_machine = t.elapsed().as_secs_f64();
        if !out.success() {
            return Err("the one-machine scan failed".into());
        }
        // The same scan on one machine recording into the same PostgreSQL, as the fleet does.
        let recorded = format!("single{run}");
        pg.create_database(&recorded).map_err(|e| e.to_string())?;
        let t = Instant::now();
        let out = spaces[0]
            .command(&crate::tojimari_binary())
            .args(["scan", "-sS", "-Pn", "-n", "-p", PORTS, "--seed", "7", "--db", &pg.database_socket_url(&recorded)])
            .args(["-oJ", "/dev/null", NET])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        let one_recorded = t.elapsed().as_secs_f64();
        if !out.success() {
            return Err("the one-machine scan recording into PostgreSQL failed".into());
        }
        let name = format!("three{run}");
        pg.create_database(&name).map_err(|e| e.to_string())?;
        let db = pg.database_socket_url(&name);
        plan(spaces[0], &db, &[NET], PORTS, None)?;
        let (wall, workers) = run_workers(&spaces, &db, &name)?;
        let sum: u64 = workers.iter().map(|w| w.0).sum();
        println!(
            "run {run}: one machine {one_machine:.2} s ({:.0} probes/s) without a store, {one_recorded:.2} s recording \
             into PostgreSQL; three workers {wall:.2} s from start to exit ({:.0} probes/s summed), results {}",
            PROBES as f64 / one_machine,
            sum as f64 / wall,
            exactness(&pg, &name, 65536)
        );
        for (i, (probes, scanning, committing, busy)) in workers.iter().enumerate() {
            println!(
                "  worker {} (source 198.18.0.{}): {probes} probes, {scanning:.2} s scanning ({:.0} probes/s while \
                 scanning), {committing:.2} s committing, {busy:.2} s from first claim to last commit",
                i + 1,
                [1, 3, 4][i],
                *probes as f64 / scanning.max(0.001)
            );
        }
    }

    // 2. The queue's share at several chunk sizes.
    println!("== fleet: the queue's share of one worker's time, by chunk size ({PROBES} probes)");
    for chunk in [4096u64, 16384, 65536, 262144] {
        let name = format!("chunk{chunk}");
        pg.create_database(&name).map_err(|e| e.to_string())?;
        let db = pg.database_socket_url(&name);
        plan(spaces[0], &db, &[NET], PORTS, Some(chunk))?;
        let (_, workers) = run_workers(&spaces[..1], &db, &name)?;
        let (_, scanning, committing, busy) = workers[0];
        let chunks = PROBES.div_ceil(chunk);
        let queue = (busy - scanning - committing).max(0.0);
        println!(
            "chunk {chunk:>6} ({chunks:>3} chunks): {busy:.2} s busy = {scanning:.2} s scanning + {committing:.2} s \
             committing the results + {queue:.2} s queue (claims, job hand-over, checkpoints, spool): queue {:.1}% of \
             the busy time, {:.1}% of scanning + queue ({:.1} ms per chunk); results {}",
            queue * 100.0 / busy.max(0.001),
            queue * 100.0 / (scanning + queue).max(0.001),
            queue * 1000.0 / chunks as f64,
            exactness(&pg, &name, 65536)
        );
    }

    // 3. Memory of a worker across the /15 x 100 ports.
    let pieces = [
        "198.18.128.0/17",
        "198.18.64.0/18",
        "198.18.32.0/19",
        "198.18.16.0/20",
        "198.18.8.0/21",
        "198.18.4.0/22",
        "198.18.2.0/23",
        "198.18.1.0/24",
    ];
    for piece in pieces {
        bed.add_anyip_v4(0, piece).map_err(|e| e.to_string())?;
    }
    let mut targets: Vec<&str> = pieces.to_vec();
    targets.push(NET);
    pg.create_database("wide").map_err(|e| e.to_string())?;
    let db = pg.database_socket_url("wide");
    plan(spaces[0], &db, &targets, "1-100", None)?;
    // The whole of it would take the store many minutes to record (13 million port rows): the worker runs
    // for MEMORY_RUN, sampled, then is stopped (SIGTERM: a last checkpoint, then it exits).
    let state = format!("/tmp/tjf-bench-{}-wide", std::process::id());
    let mut child = worker(spaces[0], &db, &state)?;
    let started = Instant::now();
    let (mut samples, mut peak) = (Vec::new(), 0u64);
    while started.elapsed() < MEMORY_RUN {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) else { break };
        let field = |name: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        };
        if let (Some(rss), Some(hwm)) = (field("VmRSS:"), field("VmHWM:")) {
            samples.push(rss);
            peak = hwm;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&state);
    let quarter = (samples.len() / 4).max(1).min(samples.len());
    let avg = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64 / 1024.0;
    println!(
        "== fleet: one worker on 198.18.0.0/15 (without the bed's /24: 130816 hosts) x 100 ports = 13081600 probes, \
         sampled for {:.0} s ({} chunks committed, {} probes saved in chunk rows): resident memory {:.1} MiB on \
         average in the first quarter, {:.1} MiB in the last, {:.1} MiB at most (VmHWM {:.1} MiB), {} samples",
        started.elapsed().as_secs_f64(),
        one(&pg, "wide", "SELECT COUNT(*) FROM fleet_chunks WHERE state = 'done'"),
        one(&pg, "wide", "SELECT COALESCE(SUM(probes_done), 0) FROM fleet_chunks"),
        avg(&samples[..quarter]),
        avg(&samples[samples.len() - quarter..]),
        samples.iter().copied().max().unwrap_or(0) as f64 / 1024.0,
        peak as f64 / 1024.0,
        samples.len(),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workers_closing_note_is_read() {
        let note = "note: worker vm-1-2 stops: 5 chunks committed, 1310720 probes sent; 6.250 s scanning, 0.125 s \
                    committing, of 6.500 s from its first claim to its last commit";
        assert_eq!(summary(note), Some((1310720, 6.25, 0.125, 6.5)));
        assert_eq!(summary("note: something else"), None);
    }
}
