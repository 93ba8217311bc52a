//! `cargo run --release -p tojimari-bench -- [SCENARIO...] [--runs N]`
//!
//! Builds the test bed (network namespaces, as root), sets up each scenario's ground truth, runs
//! tojimari and every installed peer (nmap, rustscan; masscan where the scenario is a SYN scan) inside
//! the scanner namespace, one after the other on the same bed, and prints one row per tool: wall time,
//! packets per second and frames per probe (frames counted by the scanner interface, so every tool is
//! measured the same way, divided by the probes the scenario asks for: hosts x ports), recall and
//! precision against the ports the bed really opened, CPU time and peak memory. tojimari runs with `-v`,
//! and its own notes on stderr give the sender it chose (`ring` for the TX ring, `mmsg` for sendmmsg, `-`
//! for a binary that does not say, such as an older `--baseline`) and the replies lost in its receive ring.
//! Peers that are not installed are listed as such, not skipped silently.
//!
//! Scenarios (`all` runs every one):
//! - `connect-all`: one host, all 65535 TCP ports, 300 open, TCP connect scan (nmap -sT -T4, rustscan).
//! - `syn-all`: the same ports, SYN scan (nmap -sS -T4, masscan).
//! - `syn-lossy`: the same with 5% random loss each way (nft numgen on the target's input and output).
//! - `sweep16`: 198.19.0.0/16 answered by one namespace (AnyIP), one address in 32 alive, nmap's top 100
//!   ports with 5 open on each alive host (10240 open in all), SYN scan with host discovery and with `-Pn`
//!   (6.5 million probes, beside masscan at 1M pps).
//! - `udp1024`: UDP 1-1024 on a host with 20 open UDP ports and Linux's default ICMP rate limit.
//! - `version`: `-sV` on one host running every real Debian daemon the bed can start (at least ten), plus
//!   three junk ports (random bytes, silent, closes at once): names, products and versions graded against
//!   what the daemons announce, beside nmap -sV, with both times.
//! - `os`: OS detection (`-O`) beside nmap -O on 256 hosts (a Linux AnyIP range plus the test bed's stack
//!   personas) for the time, and on every persona, Linux with its sysctls changed and hosts behind routed
//!   hops for the grades (family, generation, distance, uptime): see [`os`].
//! - `idle`: the idle scan (`-sI`) of ports 1-1000 through a quiet zombie persona, 12 open, 20 dropped,
//!   beside nmap -sI (and -T4) on the same zombie.
//! - `ipproto`: `-sO` of all 256 IP protocols of a Linux namespace behind nft drops and rejects, and `sctp`:
//!   `-sY` and `-sZ` of 1000 SCTP ports of a persona speaking SCTP, beside nmap: time and whether every
//!   state is equal; `ipproto-limited`: `-sO` under Linux's default ICMP rate limits, each tool graded against
//!   the truth (see [`proto_sctp`]).
//! - `bounce`: the FTP bounce scan (`-b`) of ports 1024-2047 through a real vsftpd to a target the scanner
//!   cannot reach, beside nmap -b: states graded port by port against the ground truth, times: see [`bounce`].
//! - `watch`: `tojimari watch` and scanlogd side by side in the target namespace while nmap (-sS -sT -sF -sN -sX
//!   -sA -sW -sM -sU at -T2..-T5, -T1, a slow scan), masscan and zmap scan it, then benign traffic, then a
//!   masscan flood and a tojimari SYN flood, each asked for 300 kpps, for the load figures (CPU, memory,
//!   kernel drops); `watch-load` runs only the floods, `watch-slow` only a scan with two minutes between
//!   probes (about 16 minutes).
//! - `limit`: the machine's sending limit beside tojimari's: netsniff-ng's trafgen (PACKET_MMAP TX ring, both
//!   CPUs) sends 1,000,000 SYNs to closed ports of one target, then tojimari sends about as many (`-sS -Pn
//!   --max-retries 0`, all ports of 16 AnyIP addresses); time, frames sent and answered (interface
//!   counters), frames/s, and tojimari's rate as a share of trafgen's.
//! - `rate-limit`: SYN scans of all ports with no retries at rising --max-rate, to find the rate at which the
//!   bed still answers every probe (the machine's physical limit).
//! - `campaign`: correctness, not speed: every technique (-sS -sT -sF -sN -sX -sM -sA -sW -sU, IPv4 and IPv6)
//!   `--seeds N` times (default 10, seed N also given to `--seed`) against ground truth of open, closed,
//!   dropped, prohibited, reset and SYN-dropped ports, without and with 5% loss each way; false opens, missed
//!   opens and other wrong states per technique; exits 1 if there was any false or missed open.
//! - `store-import`: `tojimari import` of an nmap XML file of a million ports into SQLite and PostgreSQL:
//!   rows per second, peak memory beside a file ten times smaller, parse-only time (see [`store_import`]).
//!
//! - `web-check`: a check from `tojimari serve`'s page beside the same check on the command line: see
//!   [`web_check`].
//! - `store-diff`: no packets: two /16 sweeps recorded into the result store, then the time of `tojimari diff`
//!   on SQLite and on PostgreSQL: see [`store_diff`].
//! - `web-render`: no packets: 100,000 hosts and a million port observations recorded into a SQLite store,
//!   then the server time of each page of `tojimari serve` (cold, min and median): see [`web_render`].
//!
//! - `fleet`: three `tojimari worker`s coordinated through PostgreSQL beside one machine on the /16 with -Pn,
//!   the job queue's share of a worker's time by chunk size, a worker's memory across the /15 x 100 ports:
//!   see [`fleet`].
//!
//! Peers that would run for ever are stopped after `--peer-timeout` seconds (default 120; SIGINT, then SIGKILL
//! 5 s later) and reported so. masscan gets a waker so that it can exit at all on the bed: see [`masscan`].

// A benchmark binary: its report is its output.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tojimari_testbed::{Netns, TestBed, random_ports};

use crate::engine_notes::{EngineNotes, frames_per_probe, parse_engine_notes, probes_asked};

mod bounce;
mod campaign;
mod engine_notes;
mod fleet;
mod limit;
mod masscan;
mod os;
mod proto_sctp;
mod scenarios;
mod store_diff;
mod store_import;
mod traceroute;
mod version;
mod watch;
mod web_check;
mod web_render;

/// An open port: (address, port).
pub(crate) type Key = (String, u16);

/// One tool's run of a scenario.
pub(crate) struct Row {
    pub(crate) tool: String,
    pub(crate) wall: Duration,
    packets: u64,
    found: BTreeSet<Key>,
    cpu: Duration,
    max_rss_kb: i64,
    /// tojimari's own `-v` notes (all absent for peers and older binaries).
    engine: EngineNotes,
    note: String,
}

/// What a tool is told to do and how its output is read.
pub(crate) struct ToolRun<'a> {
    name: String,
    program: String,
    args: Vec<String>,
    parse: fn(&str) -> BTreeSet<Key>,
    /// Stop the tool after this long (peers that would take minutes).
    timeout: Option<Duration>,
    /// A target namespace to send wake-up datagrams from while the tool runs (masscan, see [`masscan`]).
    wake: Option<&'a Netns>,
}

fn main() -> ExitCode {
    let mut scenarios = Vec::new();
    let mut runs = 1;
    let mut peer_timeout = 120u64;
    let mut seeds = 10u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--peer-timeout" => peer_timeout = args.next().and_then(|n| n.parse().ok()).unwrap_or(120),
            "--seeds" => seeds = args.next().and_then(|n| n.parse().ok()).unwrap_or(10),
            "--baseline" => match args.next() {
                Some(path) if std::path::Path::new(&path).is_file() => {
                    let _ = BASELINE.set(path);
                }
                other => {
                    eprintln!(
                        "error: --baseline needs the path of an existing tojimari binary, got {other:?} (hint: build the older commit with `cargo build --release` and copy target/release/tojimari aside)"
                    );
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!(
                    "usage: tojimari-bench [all|connect-all|syn-all|syn-lossy|sweep16|udp1024|limit|rate-limit|version|os|idle|bounce|traceroute|watch|watch-load|watch-slow|campaign|store-diff|store-import|web-check|web-render|fleet]... [--runs N] [--peer-timeout S] [--seeds N] [--baseline OLD-TOJIMARI]\n(as root; builds its own test bed; --baseline runs an older tojimari binary beside this one, run for run, in rows marked [before])"
                );
                return ExitCode::SUCCESS;
            }
            s => scenarios.push(s.to_string()),
        }
    }
    if scenarios.is_empty() || scenarios.iter().any(|s| s == "all") {
        scenarios = [
            "connect-all",
            "syn-all",
            "syn-lossy",
            "sweep16",
            "udp1024",
            "limit",
            "rate-limit",
            "version",
            "os",
            "watch",
            "campaign",
            "store-diff",
        ]
        .map(String::from)
        .to_vec();
    }
    for s in &scenarios {
        let result = match s.as_str() {
            "connect-all" => connect_all(runs),
            "syn-all" => crate::scenarios::syn_all(runs, false, peer_timeout),
            "syn-lossy" => crate::scenarios::syn_all(runs, true, peer_timeout),
            "sweep16" => crate::scenarios::sweep16(runs, peer_timeout),
            "udp1024" => crate::scenarios::udp1024(runs, peer_timeout),
            "limit" => crate::limit::limit(runs),
            "rate-limit" => crate::scenarios::rate_limit(),
            "version" => crate::version::version(runs, peer_timeout),
            "os" => crate::os::os(runs, peer_timeout),
            "idle" => crate::scenarios::idle(runs, peer_timeout),
            "ipproto" => crate::proto_sctp::ipproto(runs),
            "ipproto-limited" => crate::proto_sctp::ipproto_limited(runs),
            "sctp" => crate::proto_sctp::sctp(runs),
            "bounce" => crate::bounce::bounce(runs, peer_timeout),
            "traceroute" => crate::traceroute::traceroute(runs, peer_timeout),
            "watch" => crate::watch::watch(runs, peer_timeout),
            "watch-load" => crate::watch::watch_load(runs, peer_timeout),
            "watch-slow" => crate::watch::watch_slow(runs, peer_timeout),
            "campaign" => crate::campaign::campaign(seeds, peer_timeout),
            "store-diff" => crate::store_diff::store_diff(runs),
            "store-import" => crate::store_import::store_import(runs),
            "web-check" => crate::web_check::web_check(runs),
            "web-render" => crate::web_render::web_render(runs),
            "fleet" => crate::fleet::fleet(runs),
            other => Err(format!("unknown scenario {other:?} (try --help)")),
        };
        if let Err(e) = result {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// An older tojimari binary to run beside the current one (`--baseline`), so a change is measured before
/// and after in one run on the same bed.
static BASELINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The `--baseline` binary, if one was given.
pub(crate) fn baseline_binary() -> Option<String> {
    BASELINE.get().cloned()
}

pub(crate) fn tojimari_binary() -> String {
    // The release binary next to this one (cargo builds both with `cargo build --release`).
    let me = std::env::current_exe().expect("own path");
    let bin = me.with_file_name("tojimari");
    if !bin.exists() {
        eprintln!("note: {} missing: run `cargo build --release` first", bin.display());
    }
    bin.to_string_lossy().into_owned()
}

/// `--no-store` for a run of this tojimari that does not choose a store itself (`--db`): a benchmark
/// records nothing into the user's result store, and measures the scan alone unless a row says otherwise.
/// Older binaries (`--baseline`) record nothing anyway and do not know the option.
pub(crate) fn no_store<S: AsRef<str>>(program: &str, args: &[S]) -> Option<&'static str> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let recording = matches!(args.first(), Some(&"scan" | &"check"));
    let chosen = args.iter().any(|a| *a == "--db" || *a == "--no-store");
    (program == tojimari_binary() && recording && !chosen).then_some("--no-store")
}

/// A run that records into a store of its own (`--db FILE`) starts from a fresh one.
fn fresh_store(args: &[String]) {
    if let Some(db) = args.iter().position(|a| a == "--db").and_then(|i| args.get(i + 1)) {
        for side in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{db}{side}"));
        }
    }
}

fn connect_all(runs: usize) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    let ports = random_ports(300, 0xbe7c4, &[]);
    let _listeners = target.listen_tcp(&ports).map_err(|e| e.to_string())?;
    let addr = target.v4.to_string();
    let open: BTreeSet<Key> = ports.iter().map(|&p| (addr.clone(), p)).collect();
    let jsonl = std::env::temp_dir().join(format!("tojimari-bench-{}.jsonl", std::process::id()));
    let jsonl = jsonl.to_string_lossy().into_owned();
    let tools = vec![
        ToolRun {
            name: "tojimari -sT".into(),
            program: tojimari_binary(),
            args: vec!["scan", "-v", "-sT", "-p-", "-Pn", "-n", "--no-progress", "-oJ", &jsonl, &addr]
                .into_iter()
                .map(String::from)
                .collect(),
            parse: parse_tojimari_jsonl,
            timeout: None,
            wake: None,
        },
        ToolRun {
            name: "nmap -sT -T4".into(),
            program: "nmap".into(),
            args: ["-sT", "-T4", "-p-", "-Pn", "-n", "-oX", "-", &addr].into_iter().map(String::from).collect(),
            parse: parse_nmap_xml,
            timeout: None,
            wake: None,
        },
        ToolRun {
            name: "rustscan".into(),
            program: "rustscan".into(),
            args: ["-a", &addr, "-r", "1-65535", "-g", "--ulimit", "5000"].into_iter().map(String::from).collect(),
            parse: parse_rustscan,
            timeout: None,
            wake: None,
        },
    ];
    println!(
        "\nscenario connect-all: one host, all 65535 TCP ports, {} open, connect scan ({runs} run(s) each)",
        open.len()
    );
    run_all(bed.scanner(), &tools, &open, probes_asked(1, 65535), runs, &jsonl);
    let _ = std::fs::remove_file(&jsonl);
    Ok(())
}

/// Runs every tool `runs` times and prints a row each; `probes` is what the scenario asks for (hosts x
/// ports), the divisor of the frames/probe column.
pub(crate) fn run_all(
    ns: &Netns,
    tools: &[ToolRun],
    truth: &BTreeSet<Key>,
    probes: u64,
    runs: usize,
    jsonl: &str,
) -> Vec<Row> {
    let mut rows = Vec::new();
    println!(
        "{:<28} {:>8} {:>9} {:>12} {:>7} {:>9} {:>7} {:>7} {:>6} {:>10}  note",
        "tool", "time s", "pkts/s", "frames/probe", "recall", "precision", "cpu s", "rss MB", "sender", "ring drops"
    );
    let current = tojimari_binary();
    for tool in tools {
        // With --baseline, each tojimari run is followed by the same run of the older binary, so both
        // see the same machine load.
        let before = BASELINE.get().filter(|_| tool.program == current).map(|old| ToolRun {
            name: format!("{} [before]", tool.name),
            program: old.clone(),
            args: tool.args.clone(),
            parse: tool.parse,
            timeout: tool.timeout,
            wake: tool.wake,
        });
        let variants: Vec<&ToolRun> = std::iter::once(tool).chain(before.as_ref()).collect();
        let mut failed = vec![false; variants.len()];
        for _ in 0..runs {
            for (i, t) in variants.iter().enumerate() {
                if failed[i] {
                    continue;
                }
                match run_tool(ns, t, jsonl) {
                    Ok(row) => {
                        print_row(&row, truth, probes);
                        rows.push(row);
                    }
                    Err(e) => {
                        println!("{:<28} {e}", t.name);
                        failed[i] = true;
                    }
                }
            }
        }
    }
    rows
}

pub(crate) fn print_row(row: &Row, truth: &BTreeSet<Key>, probes: u64) {
    let hits = row.found.intersection(truth).count() as f64;
    let recall = if truth.is_empty() { 1.0 } else { hits / truth.len() as f64 };
    let precision = if row.found.is_empty() { 1.0 } else { hits / row.found.len() as f64 };
    let secs = row.wall.as_secs_f64();
    let per_probe = frames_per_probe(row.packets, probes).map_or_else(|| "-".into(), |f| format!("{f:.2}"));
    let mut note = row.note.clone();
    if let Some(threads) = row.engine.threads {
        note = format!("{threads} sending thread(s){}{note}", if note.is_empty() { "" } else { "; " });
    }
    println!(
        "{:<28} {:>8.3} {:>9.0} {:>12} {:>6.1}% {:>8.1}% {:>7.2} {:>7.1} {:>6} {:>10}  {}",
        row.tool,
        secs,
        row.packets as f64 / secs,
        per_probe,
        recall * 100.0,
        precision * 100.0,
        row.cpu.as_secs_f64(),
        row.max_rss_kb as f64 / 1024.0,
        row.engine.sender_label(),
        row.engine.ring_drops_label(),
        note
    );
}

/// Packets the scanner namespace sent (its interface's counter), so every tool is measured alike.
pub(crate) fn tx_packets(ns: &Netns) -> u64 {
    eth0_counter(ns, "tx_packets")
}

/// One of the namespace's eth0 statistics counters (`tx_packets`, `rx_packets`, ...); 0 if unreadable.
pub(crate) fn eth0_counter(ns: &Netns, counter: &str) -> u64 {
    ns.command("cat")
        .arg(format!("/sys/class/net/eth0/statistics/{counter}"))
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

pub(crate) fn run_tool(ns: &Netns, tool: &ToolRun, jsonl: &str) -> Result<Row, String> {
    if Command::new("sh")
        .args(["-c", &format!("command -v {}", tool.program)])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
        && !std::path::Path::new(&tool.program).exists()
    {
        return Err(format!("not installed ({})", tool.program));
    }
    let _waker = match tool.wake {
        Some(target) => Some(crate::masscan::Waker::start(ns, target)?),
        None => None,
    };
    fresh_store(&tool.args);
    let before = tx_packets(ns);
    let start = Instant::now();
    let child = ns
        .command(&tool.program)
        .args(&tool.args)
        .args(no_store(&tool.program, &tool.args))
        // Tools that read keys from a terminal (masscan) must not wait on ours.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id();
    // Read the output on threads so a chatty tool cannot block on a full pipe while we wait.
    let mut child = child;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let timed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let peak = watch_peak_rss(pid, finished.clone());
    if let Some(limit) = tool.timeout {
        let finished = finished.clone();
        let timed_out = timed_out.clone();
        std::thread::spawn(move || {
            let done = || finished.load(std::sync::atomic::Ordering::Relaxed);
            let wait_until = |until: Instant| {
                while Instant::now() < until {
                    if done() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                done()
            };
            if wait_until(Instant::now() + limit) {
                return;
            }
            // Our own child, not reaped yet (finished is false). SIGINT first: masscan then writes the
            // results it still holds in its output buffer; SIGKILL if it is still there 5 s later.
            timed_out.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = kill(pid, Signal::SIGINT);
            if !wait_until(Instant::now() + Duration::from_secs(5)) {
                let _ = kill(pid, Signal::SIGKILL);
            }
        });
    }
    let usage = tojimari_net::process::wait_with_usage(pid).map_err(|e| format!("wait4: {e}"))?;
    let status = usage.code();
    finished.store(true, std::sync::atomic::Ordering::Relaxed);
    let wall = start.elapsed();
    std::mem::forget(child); // already reaped by wait4
    let packets = tx_packets(ns).saturating_sub(before);
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let text = if tool.name.starts_with("tojimari") { std::fs::read_to_string(jsonl).unwrap_or_default() } else { out };
    let note = if timed_out.load(std::sync::atomic::Ordering::Relaxed) {
        format!("stopped after {} s, not done", tool.timeout.unwrap_or_default().as_secs())
    } else if status == 0 {
        String::new()
    } else {
        let first = err.lines().find(|l| l.starts_with("error:")).or_else(|| err.lines().next());
        format!("exit {status}: {}", first.unwrap_or(""))
    };
    Ok(Row {
        tool: tool.name.to_string(),
        wall,
        packets,
        found: (tool.parse)(&text),
        cpu: usage.cpu,
        // The child was forked from this process, whose resident pages its ru_maxrss counts too (a bench
        // that has read a large result file would pass its own size on); the tool's own peak is what
        // /proc said while it ran.
        max_rss_kb: peak.join().ok().filter(|&kb| kb > 0).unwrap_or(usage.max_rss_kb),
        engine: parse_engine_notes(&err),
        note,
    })
}

/// Polls the peak resident size (`VmHWM`) of process `pid` every 10 ms until `finished`; returns the last
/// value read, in KiB (0 if none was).
pub(crate) fn watch_peak_rss(
    pid: u32,
    finished: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<i64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !finished.load(std::sync::atomic::Ordering::Relaxed) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            // Until it execs, the child is a copy of this bench, and its size is ours.
            let forked_copy = status.lines().next().is_some_and(|l| l.ends_with("tojimari-bench"));
            if let Some(kb) = vm_hwm_kb(&status).filter(|_| !forked_copy) {
                peak = peak.max(kb);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        peak
    })
}

/// `VmHWM:   12345 kB` from a /proc/PID/status text.
fn vm_hwm_kb(status: &str) -> Option<i64> {
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// Sends `signal` to the process `pid` (a child or a process of the bench's own namespaces).
pub(crate) fn kill(pid: u32, signal: Signal) -> nix::Result<()> {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal)
}

pub(crate) fn parse_tojimari_jsonl(text: &str) -> BTreeSet<Key> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "port" && v["state"] == "open")
        .filter_map(|v| Some((v["addr"].as_str()?.to_string(), v["port"].as_u64()? as u16)))
        .collect()
}

pub(crate) fn attr<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = s.find(&key)? + key.len();
    Some(&s[start..start + s[start..].find('"')?])
}

pub(crate) fn parse_nmap_xml(xml: &str) -> BTreeSet<Key> {
    let mut out = BTreeSet::new();
    for host in xml.split("<host ").skip(1) {
        let Some(addr) = host.split("<address ").nth(1).and_then(|a| attr(a, "addr")) else { continue };
        for chunk in host.split("<port protocol=").skip(1) {
            if chunk.contains("state=\"open\"")
                && let Some(port) = attr(chunk, "portid").and_then(|p| p.parse().ok())
            {
                out.insert((addr.to_string(), port));
            }
        }
    }
    out
}

/// rustscan -g prints `198.18.0.2 -> [22,80,443]`.
pub(crate) fn parse_rustscan(text: &str) -> BTreeSet<Key> {
    text.lines()
        .filter_map(|l| l.split_once(" -> ["))
        .flat_map(|(addr, rest)| {
            rest.trim_end_matches(']')
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .map(|p| (addr.trim().to_string(), p))
                .collect::<Vec<Key>>()
        })
        .collect()
}

/// masscan -oL prints `open tcp 22 198.18.0.2 1700000000`.
pub(crate) fn parse_masscan(text: &str) -> BTreeSet<Key> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() >= 4 && f[0] == "open" { Some((f[3].to_string(), f[2].parse().ok()?)) } else { None }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_resident_size() {
        assert_eq!(vm_hwm_kb("Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t   51234 kB\nVmRSS:\t 100 kB\n"), Some(51234));
        assert_eq!(vm_hwm_kb("Name:\tx\n"), None);
    }

    #[test]
    fn parsers_read_each_tool() {
        let k = |p: u16| ("198.18.0.2".to_string(), p);
        assert_eq!(parse_rustscan("198.18.0.2 -> [22,80]\n"), BTreeSet::from([k(22), k(80)]));
        let xml = r#"<host starttime="1"><address addr="198.18.0.2" addrtype="ipv4"/><port protocol="tcp" portid="22"><state state="open"/></port><port protocol="tcp" portid="23"><state state="closed"/></port></host>"#;
        assert_eq!(parse_nmap_xml(xml), BTreeSet::from([k(22)]));
        let jsonl = "{\"type\":\"port\",\"addr\":\"198.18.0.2\",\"port\":22,\"state\":\"open\"}\n{\"type\":\"port\",\"addr\":\"198.18.0.2\",\"port\":23,\"state\":\"closed\"}\n";
        assert_eq!(parse_tojimari_jsonl(jsonl), BTreeSet::from([k(22)]));
        assert_eq!(parse_masscan("#masscan\nopen tcp 22 198.18.0.2 1700000000\n"), BTreeSet::from([k(22)]));
    }
}
