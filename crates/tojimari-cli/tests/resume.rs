//! `tojimari scan --resume` on the test bed (docs/resume.md).
//!
//! The target: a /20 of AnyIP addresses (198.19.0.0/20, 4096 hosts answered by one namespace) x ports 1-100,
//! of which 22, 80 and 99 listen, 60 and 61 are dropped by the target's firewall (filtered) and the rest
//! answer with a reset (closed): 409,600 probes, at a rate that takes the scan some tens of seconds.
//! - Stopped ten times at random moments (SIGINT and SIGKILL in turn) and resumed each time until done, the
//!   scan's outputs give every host and port the state one uninterrupted scan gives and the bed was set up
//!   to answer, each host once in every format.
//! - A connect scan (-sT) of a /22 stopped three times and resumed: the ground truth, each host once.
//! - Recorded in a result store while killed and resumed, it stays one scan there, each host once.
//! - Checkpoints edited, cut short, of another format or version, given with other options, whose probe
//!   space changed (the -iL file), or whose journal is short or changed are refused, exit status 2.

// The runs' moments and outcomes are told on stderr (seen with --nocapture).
#![allow(clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use support::{Scratch, parse_jsonl, port_map, tojimari_in};
use tojimari_testbed::TestBed;

const RANGE: &str = "198.19.0.0/20";
const HOSTS: usize = 4096;
const OPEN: [u16; 3] = [22, 80, 99];
const FILTERED: [u16; 2] = [60, 61];

/// The scan every test runs (its outputs and checkpoint options added by each).
fn scan_args(rate: &str) -> Vec<String> {
    ["-sS", "-Pn", "-n", "-p", "1-100", "--max-rate", rate, "--no-progress", RANGE].map(String::from).to_vec()
}

/// The bed's target answers for the whole range: listeners on [`OPEN`], [`FILTERED`] dropped.
fn target(bed: &TestBed) -> tojimari_testbed::Listeners {
    target_for(bed, &[RANGE])
}

/// [`target`] for the networks `nets`.
fn target_for(bed: &TestBed, nets: &[&str]) -> tojimari_testbed::Listeners {
    for net in nets {
        bed.add_anyip_v4(0, net).unwrap();
    }
    let t = bed.target(0);
    t.firewall(
        "table inet tjr {\n chain input { type filter hook input priority 0;\n  tcp dport { 60, 61 } drop\n }\n}\n",
    )
    .unwrap();
    t.listen_tcp(&OPEN).unwrap()
}

/// What the bed answers: (address, port) -> (state, reason) for every host of `nets` (`(first, count)`) and
/// every port of `ports`.
fn truth(
    nets: &[(std::net::Ipv4Addr, u32)],
    ports: std::ops::RangeInclusive<u16>,
) -> BTreeMap<(String, u16), (String, String)> {
    let mut map = BTreeMap::new();
    for &(first, count) in nets {
        for i in 0..count {
            let addr = std::net::Ipv4Addr::from(u32::from(first) + i).to_string();
            for port in ports.clone() {
                let value = if OPEN.contains(&port) {
                    ("open", "syn-ack")
                } else if FILTERED.contains(&port) {
                    ("filtered", "no-response")
                } else {
                    ("closed", "reset")
                };
                map.insert((addr.clone(), port), (value.0.to_string(), value.1.to_string()));
            }
        }
    }
    map
}

/// The ground truth of [`RANGE`] x 1-100.
fn ground_truth() -> BTreeMap<(String, u16), (String, String)> {
    truth(&[(std::net::Ipv4Addr::new(198, 19, 0, 0), HOSTS as u32)], 1..=100)
}

/// A small random source for the kill moments (the seed is printed, so a failure can be looked into).
struct Moments(u64);

impl Moments {
    fn new() -> Moments {
        let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
        eprintln!("kill moments seed: {seed}");
        Moments(seed)
    }

    /// Milliseconds in `low..high`.
    fn next(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low))
    }
}

fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
}

/// When to stop a run: asked every 20 ms with the time since it started.
type StopWhen = Box<dyn FnMut(Duration) -> bool>;

/// Stops a run once `after` has passed.
fn after(after: Duration) -> StopWhen {
    Box::new(move |elapsed| elapsed >= after)
}

/// Runs `cmd` (stderr to `log`), stops it with the signal when `stop` says so unless it ended first; returns
/// whether it completed (exit status 0) and its stderr.
fn run_until(mut cmd: Command, log: &str, stop: Option<(StopWhen, nix::sys::signal::Signal)>) -> (bool, String) {
    let file = std::fs::File::create(log).unwrap();
    let began = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(file).spawn().unwrap();
    if let Some((mut when, sig)) = stop {
        while child.try_wait().unwrap().is_none() {
            if when(began.elapsed()) {
                signal(&child, sig);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(log).unwrap();
    (status.success(), stderr)
}

/// Every host's line count in each output format: each of the `hosts` must be there once.
fn hosts_once(dir: &Scratch, base: &str, hosts: usize) {
    let count = |text: &str, key: &str, end: char| {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for piece in text.split(key).skip(1) {
            let addr: String = piece.chars().take_while(|c| *c != end).collect();
            *seen.entry(addr).or_default() += 1;
        }
        seen
    };
    let read = |ext: &str| std::fs::read_to_string(dir.path(&format!("{base}.{ext}"))).unwrap();
    let xml = read("xml");
    assert!(xml.trim_end().ends_with("</nmaprun>"), "the XML is closed");
    for (format, seen) in [
        ("XML", count(&xml, "<address addr=\"", '"')),
        ("normal", count(&read("nmap"), "tojimari scan report for ", '\n')),
        ("grepable", {
            let ports: String =
                read("gnmap").lines().filter(|l| l.contains("\tPorts: ")).map(|l| format!("\n{l}")).collect();
            count(&ports, "\nHost: ", ' ')
        }),
        ("JSON Lines", count(&read("jsonl"), "{\"type\":\"host\",\"addr\":\"", '"')),
    ] {
        assert_eq!(seen.len(), hosts, "{format}: hosts");
        assert!(seen.values().all(|n| *n == 1), "{format}: a host written twice: {:?}", {
            seen.iter().filter(|(_, n)| **n > 1).take(5).collect::<Vec<_>>()
        });
    }
}

/// The states of every port in the JSON Lines file `path`, whose summary counts `hosts` up.
fn states_of(path: &str, hosts: usize) -> BTreeMap<(String, u16), (String, String)> {
    let lines = parse_jsonl(&std::fs::read_to_string(path).unwrap());
    assert_eq!(lines.last().unwrap()["type"], "summary");
    assert_eq!(lines.last().unwrap()["exit"], "success", "{:?}", lines.last());
    assert_eq!(lines.last().unwrap()["hosts_up"], hosts);
    assert_eq!(lines.last().unwrap()["hosts_total"], hosts);
    port_map(&lines)
}

/// [`states_of`] a scan of [`RANGE`].
fn states(path: &str) -> BTreeMap<(String, u16), (String, String)> {
    states_of(path, HOSTS)
}

/// Stops the scan `kills` times (SIGINT and SIGKILL in turn, at random moments), resuming it each time, then
/// lets it finish. Returns the stderr of every run.
fn stop_and_resume(bed: &TestBed, first: Vec<String>, checkpoint: &str, kills: usize, logs: &Scratch) -> Vec<String> {
    let mut moments = Moments::new();
    stop_and_resume_while(bed, first, checkpoint, logs, |run| (run < kills).then(|| after(moments.next(1_500, 4_000))))
}

/// As [`stop_and_resume`], stopping run `run` when `stop(run)` says (SIGINT for even runs, SIGKILL for odd
/// ones), until it says `None`.
fn stop_and_resume_while(
    bed: &TestBed,
    first: Vec<String>,
    checkpoint: &str,
    logs: &Scratch,
    mut stop: impl FnMut(usize) -> Option<StopWhen>,
) -> Vec<String> {
    let mut told = Vec::new();
    for run in 0.. {
        let mut cmd = tojimari_in(bed.scanner());
        if run == 0 {
            cmd.args(&first);
        } else {
            cmd.args(["--resume", checkpoint]);
        }
        let sig = if run % 2 == 0 { nix::sys::signal::Signal::SIGINT } else { nix::sys::signal::Signal::SIGKILL };
        let stop = stop(run).map(|when| (when, sig));
        let stopping = stop.is_some();
        let began = Instant::now();
        let (completed, stderr) = run_until(cmd, &logs.path(&format!("run{run}.log")), stop);
        eprintln!(
            "run {run}: {} after {:.1} s{}",
            match (completed, stopping) {
                (true, _) => "completed".to_string(),
                (false, true) => format!("stopped by {sig}"),
                (false, false) => "failed".to_string(),
            },
            began.elapsed().as_secs_f64(),
            groups_done(checkpoint).map_or(String::new(), |g| format!(
                ", {g} groups done, checkpoint of {} bytes, journal {}",
                std::fs::metadata(checkpoint).map_or(0, |m| m.len()),
                checkpoint_json(checkpoint).map_or(String::new(), |j| j["journal"].to_string())
            )),
        );
        told.push(stderr.clone());
        if !stopping {
            assert!(completed, "the last run completes: {stderr}");
            assert!(!Path::new(checkpoint).exists(), "the checkpoint is removed once the scan completes");
            assert!(!Path::new(&format!("{checkpoint}.hosts")).exists(), "and its journal");
            break;
        }
        assert!(!completed, "run {run} ended before it was stopped: make the scan slower\n{stderr}");
        assert!(Path::new(checkpoint).exists(), "run {run} left no checkpoint\n{stderr}");
        if sig == nix::sys::signal::Signal::SIGINT {
            let note = format!("note: scan paused; continue it with: tojimari scan --resume {checkpoint}");
            assert!(stderr.contains(&note), "run {run}: {stderr}");
        }
    }
    told
}

/// A first run's arguments: `scan`, then the outputs under `dir` (`-oA cut`) and a checkpoint at `checkpoint`
/// written every second.
fn checkpointed(scan: &[&str], dir: &Scratch, checkpoint: &str) -> Vec<String> {
    let cut = dir.path("cut");
    let tail = ["-oA", &cut, "--checkpoint", checkpoint, "--checkpoint-every", "1s"];
    scan.iter().chain(tail.iter()).map(|s| s.to_string()).collect()
}

/// The checkpoint's JSON line.
fn checkpoint_json(checkpoint: &str) -> Option<serde_json::Value> {
    let text = std::fs::read(checkpoint).ok()?;
    let line = text.split(|&b| b == b'\n').nth(1)?;
    serde_json::from_slice(line).ok()
}

/// The groups a checkpoint counts as finished.
fn groups_done(checkpoint: &str) -> Option<u64> {
    checkpoint_json(checkpoint)?["groups_done"].as_u64()
}

#[test]
fn a_scan_stopped_ten_times_and_resumed_gives_the_uninterrupted_results() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let _listeners = target(&bed);
    let dir = Scratch::new("tjr-ten");
    let truth = ground_truth();

    // Uninterrupted.
    let whole = dir.path("whole.jsonl");
    let began = Instant::now();
    let (completed, stderr) = run_until(
        {
            let mut cmd = tojimari_in(bed.scanner());
            cmd.args(scan_args("15000")).args(["--no-store", "-oJ", &whole]);
            cmd
        },
        &dir.path("whole.log"),
        None,
    );
    assert!(completed, "{stderr}");
    eprintln!("uninterrupted: {:.1} s", began.elapsed().as_secs_f64());
    let uninterrupted = states(&whole);
    assert_eq!(uninterrupted, truth, "the uninterrupted scan against the ground truth");

    // Stopped ten times, resumed each time. No --seed: the one chosen is kept by the checkpoint.
    let checkpoint = dir.path("scan.resume");
    let mut first = scan_args("15000");
    first.extend(
        ["--no-store", "-oA", &dir.path("cut"), "--checkpoint", &checkpoint, "--checkpoint-every", "1s"]
            .map(String::from),
    );
    stop_and_resume(&bed, first, &checkpoint, 10, &dir);
    let resumed = states(&dir.path("cut.jsonl"));
    assert_eq!(resumed.len(), HOSTS * 100);
    assert_eq!(resumed, uninterrupted, "the resumed scan against the uninterrupted one");
    hosts_once(&dir, "cut", HOSTS);
    // The header is the first run's: its command line, not --resume.
    let xml = std::fs::read_to_string(dir.path("cut.xml")).unwrap();
    assert!(xml.contains("args=\"") && !xml.contains("--resume"), "{}", &xml[..xml.len().min(600)]);
}

#[test]
fn a_recorded_scan_killed_and_resumed_is_one_scan_in_the_store_with_each_host_once() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let _listeners = target(&bed);
    let dir = Scratch::new("tjr-store");
    let (db, checkpoint) = (dir.path("store.db"), dir.path("scan.resume"));
    let mut first = scan_args("20000");
    first.extend(["--db", &db, "-oJ", &dir.path("out.jsonl"), "--checkpoint", &checkpoint].map(String::from));
    first.extend(["--checkpoint-every", "1s"].map(String::from));
    let told = stop_and_resume(&bed, first, &checkpoint, 3, &dir);
    assert!(told.last().unwrap().contains("recorded as scan 1"), "{}", told.last().unwrap());
    let sql = |q: &str| {
        let out = Command::new("sqlite3").args(["-batch", &db, q]).output().expect("sqlite3 (apt-get install sqlite3)");
        assert!(out.status.success(), "{q}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    assert_eq!(sql("SELECT no, status FROM scans"), "1|complete");
    assert_eq!(sql("SELECT COUNT(*), COUNT(DISTINCT host_id), MIN(seq), MAX(seq) FROM host_obs"), "4096|4096|0|4095");
    // Open and filtered ports are rows (at most 25 of a host's ports share their state), the 95 closed ones a
    // fold each.
    assert_eq!(
        sql("SELECT state, COUNT(*), COUNT(DISTINCT host_id) FROM port_obs GROUP BY state ORDER BY state"),
        format!("filtered|{}|4096\nopen|{}|4096", HOSTS * FILTERED.len(), HOSTS * OPEN.len()),
        "{}",
        sql("SELECT port, state, COUNT(*) FROM port_obs GROUP BY port, state")
    );
    assert_eq!(sql("SELECT state, SUM(count), COUNT(*) FROM port_folds GROUP BY state"), "closed|389120|4096");
    assert_eq!(sql("SELECT COUNT(*) FROM port_obs WHERE state = 'open' AND port NOT IN (22, 80, 99)"), "0");
    let exported = Command::new(env!("CARGO_BIN_EXE_tojimari"))
        .args(["export", "1", "--db", &db, "-oJ", &dir.path("export.jsonl")])
        .output()
        .unwrap();
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert_eq!(states(&dir.path("export.jsonl")), ground_truth(), "the store's scan against the ground truth");
}

/// A checkpoint of a scan stopped by SIGINT soon after it began, with `extra` arguments.
fn paused(bed: &TestBed, dir: &Scratch, extra: &[&str]) -> String {
    let checkpoint = dir.path("scan.resume");
    let mut cmd = tojimari_in(bed.scanner());
    cmd.args(["-sS", "-Pn", "-n", "-p", "1-100", "--max-rate", "5000", "--no-progress", "--no-store"])
        .args(["--checkpoint", &checkpoint, "-oX", &dir.path("out.xml")])
        .args(extra);
    let (completed, stderr) = run_until(
        cmd,
        &dir.path("paused.log"),
        Some((after(Duration::from_millis(1_500)), nix::sys::signal::Signal::SIGINT)),
    );
    assert!(!completed && Path::new(&checkpoint).exists(), "{stderr}");
    checkpoint
}

/// `tojimari scan --resume FILE` (plus `extra`): its exit status and the first line of its stderr.
fn resume(bed: &TestBed, checkpoint: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = tojimari_in(bed.scanner()).args(["--resume", checkpoint]).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code(), stderr.lines().next().unwrap_or_default().to_string())
}

/// The checkpoint file rewritten by `edit` with a checksum that matches again (as a forger would).
fn resign(path: &str, edit: impl FnOnce(String) -> String) {
    let bytes = std::fs::read(path).unwrap();
    let sum_at = bytes[..bytes.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let first = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body_end = first + bytes[first..].iter().position(|&b| b == b'\n').unwrap();
    let body = edit(String::from_utf8(bytes[first..body_end].to_vec()).unwrap());
    let mut signed = bytes[..first].to_vec();
    signed.extend_from_slice(body.as_bytes());
    signed.extend_from_slice(&bytes[body_end..sum_at]);
    let sum: String =
        ring::digest::digest(&ring::digest::SHA256, &signed).as_ref().iter().map(|b| format!("{b:02x}")).collect();
    signed.extend_from_slice(format!("sha256 {sum}\n").as_bytes());
    std::fs::write(path, signed).unwrap();
}

#[test]
fn checkpoints_that_are_not_this_scans_are_refused_with_the_reason() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let _listeners = target(&bed);
    let dir = Scratch::new("tjr-refused");
    let list = dir.path("targets.txt");
    std::fs::write(&list, "198.19.0.0/22\n").unwrap();
    let checkpoint = paused(&bed, &dir, &["-iL", &list]);
    let original = std::fs::read(&checkpoint).unwrap();
    let restore = || std::fs::write(&checkpoint, &original).unwrap();
    let refused = |expect: &str, extra: &[&str]| {
        let (code, line) = resume(&bed, &checkpoint, extra);
        assert_eq!(code, Some(2), "{line}");
        assert!(line.starts_with("error: ") && line.contains(expect), "wanted {expect:?} in: {line}");
    };

    // Other options with --resume.
    refused("cannot be used with", &["-p", "80"]);
    // Edited: one byte of the JSON line.
    let mut edited = original.clone();
    let at = original.windows(6).position(|w| w == b"\"seed\"").unwrap() + 8;
    edited[at] = if edited[at] == b'1' { b'2' } else { b'1' };
    std::fs::write(&checkpoint, &edited).unwrap();
    refused("was changed after it was written", &[]);
    // Truncated.
    std::fs::write(&checkpoint, &original[..original.len() / 2]).unwrap();
    refused("is cut short", &[]);
    std::fs::write(&checkpoint, &original[..original.len() - 3]).unwrap();
    refused("is cut short", &[]);
    // Another format, another tojimari.
    restore();
    let text = String::from_utf8_lossy(&original).replacen("tojimari-checkpoint 1", "tojimari-checkpoint 7", 1);
    std::fs::write(&checkpoint, text.as_bytes()).unwrap();
    refused("is of checkpoint format 7", &[]);
    restore();
    resign(&checkpoint, |body| body.replacen(&format!("\"{}\"", env!("CARGO_PKG_VERSION")), "\"0.0.1\"", 1));
    refused("was written by tojimari 0.0.1", &[]);
    // The probe space changed: the -iL file now names other hosts.
    restore();
    std::fs::write(&list, "198.19.0.0/23\n").unwrap();
    refused("no longer what the checkpoint was written for", &[]);
    std::fs::write(&list, "198.19.0.0/22\n").unwrap();
    // A journal shorter than the checkpoint counts, or changed.
    resign(&checkpoint, |body| body.replacen("\"bytes\":0", "\"bytes\":4000", 1));
    std::fs::write(format!("{checkpoint}.hosts"), vec![b'{'; 100]).unwrap();
    refused("journal is shorter than the checkpoint says (100 of 4000 bytes)", &[]);
    std::fs::write(format!("{checkpoint}.hosts"), vec![b' '; 4000]).unwrap();
    refused("journal", &[]);
    // Not a checkpoint, not there.
    std::fs::write(&checkpoint, "<?xml version=\"1.0\"?>\n").unwrap();
    refused("is not a tojimari checkpoint", &[]);
    let _ = std::fs::remove_file(&checkpoint);
    refused("cannot read the checkpoint", &[]);

    // The untouched checkpoint continues.
    restore();
    let _ = std::fs::remove_file(format!("{checkpoint}.hosts"));
    let (code, line) = resume(&bed, &checkpoint, &[]);
    assert_eq!(code, Some(0), "{line}");
    assert!(!Path::new(&checkpoint).exists());
}

/// Two groups of hosts (a group holds at most 65,536): 98,304 AnyIP addresses x ports 79-80 (80 listens).
/// Stopped in the first group and in the second, resumed each time: the first group's hosts come from the
/// journal, each once in every output and in the store.
#[test]
fn a_scan_of_two_groups_stopped_in_each_keeps_the_finished_group_once() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let _listeners = target_for(&bed, &["198.19.0.0/16", "198.18.128.0/17"]);
    let hosts = 65_536 + 32_768;
    let dir = Scratch::new("tjr-groups");
    let (db, checkpoint) = (dir.path("store.db"), dir.path("scan.resume"));
    let scan = ["-sS", "-Pn", "-n", "-p", "79-80", "--max-rate", "8000", "--no-progress"];
    let first =
        checkpointed(&[&scan[..], &["198.19.0.0/16", "198.18.128.0/17", "--db", &db]].concat(), &dir, &checkpoint);
    // Two stops while the first group is scanned; then a run stopped just after the first group's boundary
    // (its hosts being recorded); then stops at any moment until two more fell in the second group. The
    // hosts of a group are reported when the group ends: 65,536 of them take seconds in a debug build.
    let mut moments = Moments::new();
    let (mut in_first, mut in_second) = (0, 0);
    let ck = checkpoint.clone();
    let told = stop_and_resume_while(&bed, first, &checkpoint, &dir, |run| {
        if run > 0 {
            match groups_done(&checkpoint) {
                Some(0) => in_first += 1,
                Some(_) => in_second += 1,
                None => {}
            }
        }
        if run >= 16 || (in_first >= 2 && in_second >= 2) {
            return None;
        }
        if in_first < 2 && in_second == 0 {
            return Some(after(moments.next(1_500, 4_000)));
        }
        if in_second == 0 {
            // Once the first group is counted, a moment later.
            let ck = ck.clone();
            let extra = moments.next(0, 1_500);
            let mut seen: Option<Duration> = None;
            return Some(Box::new(move |elapsed| {
                if seen.is_none() && groups_done(&ck).is_some_and(|g| g >= 1) {
                    seen = Some(elapsed);
                }
                seen.is_some_and(|at| elapsed >= at + extra)
            }));
        }
        Some(after(moments.next(1_000, 15_000)))
    });
    assert!(in_first >= 2 && in_second >= 2, "stops in the first group {in_first}, in the second {in_second}");
    assert!(told.last().unwrap().contains("recorded as scan 1"), "{}", told.last().unwrap());

    let want = truth(
        &[(std::net::Ipv4Addr::new(198, 19, 0, 0), 65_536), (std::net::Ipv4Addr::new(198, 18, 128, 0), 32_768)],
        79..=80,
    );
    assert_eq!(states_of(&dir.path("cut.jsonl"), hosts), want, "the resumed scan against the ground truth");
    hosts_once(&dir, "cut", hosts);
    let sql = |q: &str| {
        let out = Command::new("sqlite3").args(["-batch", &db, q]).output().expect("sqlite3 (apt-get install sqlite3)");
        assert!(out.status.success(), "{q}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    assert_eq!(sql("SELECT no, status FROM scans"), "1|complete");
    assert_eq!(
        sql("SELECT COUNT(*), COUNT(DISTINCT host_id), MIN(seq), MAX(seq) FROM host_obs"),
        format!("{hosts}|{hosts}|0|{}", hosts - 1)
    );
    assert_eq!(
        sql("SELECT port, state, COUNT(*), COUNT(DISTINCT host_id) FROM port_obs GROUP BY port, state ORDER BY port"),
        format!("79|closed|{hosts}|{hosts}\n80|open|{hosts}|{hosts}")
    );
}

#[test]
fn a_connect_scan_stopped_three_times_and_resumed_gives_the_ground_truth() {
    const NET: &str = "198.19.0.0/22";
    const NET_HOSTS: usize = 1024;
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let _listeners = target_for(&bed, &[NET]);
    let dir = Scratch::new("tjr-connect");
    // A connect scan reads a refused connection, not a reset.
    let truth: BTreeMap<_, _> = truth(&[(std::net::Ipv4Addr::new(198, 19, 0, 0), NET_HOSTS as u32)], 1..=100)
        .into_iter()
        .map(|(k, (state, reason))| {
            (k, (state.clone(), if state == "closed" { "conn-refused".into() } else { reason }))
        })
        .collect();
    let checkpoint = dir.path("scan.resume");
    let scan = ["-sT", "-Pn", "-n", "-p", "1-100", "--max-rate", "5000", "--no-progress", NET, "--no-store"];
    let first = checkpointed(&scan, &dir, &checkpoint);
    // The engine scans 256 hosts' ports at once: the first of them are finished about 9 s into a run at this
    // rate (the filtered ports' tries take their time). Stopped later than that, each checkpoint counts
    // finished hosts, which the next run skips.
    let mut moments = Moments::new();
    let mut counted = Vec::new();
    let cp = checkpoint.clone();
    stop_and_resume_while(&bed, first, &checkpoint, &dir, |run| {
        counted.push(groups_done(&cp).unwrap_or(0));
        (run < 3).then(|| after(moments.next(13_000, 15_000)))
    });
    // groups_done of a connect scan: the hosts finished.
    assert!(counted.windows(2).all(|w| w[0] <= w[1]), "{counted:?}");
    assert!(counted.last().is_some_and(|&n| n > 0), "no run counted a finished host: {counted:?}");
    eprintln!("hosts counted finished before each run: {counted:?}");
    let resumed = states_of(&dir.path("cut.jsonl"), NET_HOSTS);
    assert_eq!(resumed.len(), NET_HOSTS * 100);
    assert_eq!(resumed, truth, "the resumed connect scan against the ground truth");
    hosts_once(&dir, "cut", NET_HOSTS);
}
