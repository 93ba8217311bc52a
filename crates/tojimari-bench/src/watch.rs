//! The `watch` scenario: `tojimari watch` beside scanlogd (Debian) on the same traffic.
//!
//! 1. Detection: every scan type of nmap at -T2..-T5 (-T2 on 20 ports, the others on 1-200; UDP on
//!    1-100 with `--max-retries 1`), masscan, zmap (a sweep of 198.18.0.0/27, port 80), nmap -T1 on 12
//!    ports (about 3 minutes) and a slow randomized SYN scan (`--scan-delay 25s`, 12 random ports, about
//!    5 minutes). For each, a fresh `watch` and a fresh scanlogd run in the target namespace; the table
//!    says whether each detected it, how many probes `watch` needed, and the tool it guessed.
//! 2. Benign traffic (600 connections to open ports, 50 to one closed port, 100 DNS-like queries, a
//!    server restart under held connections): false alarms of each.
//! 3. Load: masscan at `--rate 300000`, then tojimari -sS at `--min-rate 300000`, against 64 AnyIP addresses x all ports for about 10 s while
//!    `watch` runs as a child process: its CPU time and peak RSS (wait4), packets it saw, packets
//!    the scanner sent (its eth0 counter, so the rate actually reached), kernel drops.
//!
//! scanlogd forks, chroots to /run/scanlogd/empty and logs with syslog(3). It runs here in a
//! private mount namespace whose /dev holds only `null` and a `log` socket served by `socat`, so
//! its lines are captured without a syslog daemon and without touching the machine's /dev.
//! ICMP rate limits are lifted in the target so UDP scans finish quickly.
//!
//! The watcher is `tojimari watch` of the release `tojimari` binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tojimari_testbed::{Netns, TestBed, random_ports};

use crate::tx_packets;

const TARGET: &str = "198.18.0.2";
const SCANNER: &str = "198.18.0.1";

/// One scan of the detection table.
struct Scan {
    name: String,
    script: String,
    /// What `watch` should call it.
    scan_type: &'static str,
    /// Extra `--net` for the watcher.
    net: Option<&'static str>,
    /// Time box for the scan itself.
    limit: Duration,
}

pub fn watch(runs: usize, peer_timeout: u64) -> Result<(), String> {
    run(runs, peer_timeout, Mode::All)
}

/// Only part 3, the load (`watch-load`).
pub fn watch_load(runs: usize, peer_timeout: u64) -> Result<(), String> {
    run(runs, peer_timeout, Mode::Load)
}

/// Only a randomized SYN scan with two minutes between probes, 8 ports, about 16 minutes (`watch-slow`).
pub fn watch_slow(runs: usize, peer_timeout: u64) -> Result<(), String> {
    run(runs, peer_timeout, Mode::Slow)
}

/// Which parts of the scenario run.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Mode {
    All,
    Load,
    Slow,
}

fn run(runs: usize, peer_timeout: u64, mode: Mode) -> Result<(), String> {
    let watcher = watcher_command()?;
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    target.unlimit_icmp().map_err(|e| e.to_string())?;
    let _tcp = target.listen_tcp(&[22, 80]).map_err(|e| e.to_string())?;
    let _udp = target.listen_udp(&[53]).map_err(|e| e.to_string())?;
    let mac = read_in(&target.ns, "/sys/class/net/eth0/address")?;
    let dir = std::env::temp_dir().join(format!("tojimari-bench-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let scanlogd = Path::new("/usr/sbin/scanlogd").exists() && which("socat");
    if !scanlogd {
        println!("note: scanlogd or socat not installed: the scanlogd column is empty");
    }

    if mode == Mode::Load {
        bed.add_anyip_v4(0, "198.19.0.0/16").map_err(|e| e.to_string())?;
        for _ in 0..runs.max(1) {
            load(&watcher, &bed, &dir, &mac, Duration::from_secs(peer_timeout.clamp(20, 60)))?;
        }
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let timeout = Duration::from_secs(peer_timeout);
    let mut scans = Vec::new();
    for flag in ["sS", "sT", "sF", "sN", "sX", "sA", "sW", "sM", "sU"] {
        let scan_type = match flag {
            "sS" => "syn",
            "sT" => "connect",
            "sF" => "fin",
            "sN" => "null",
            "sX" => "xmas",
            "sA" | "sW" => "ack",
            "sM" => "maimon",
            _ => "udp",
        };
        for t in [2, 3, 4, 5] {
            let ports = match (t, flag) {
                (2, _) => "10-29",
                (_, "sU") => "1-100",
                _ => "1-200",
            };
            let retries = if flag == "sU" { " --max-retries 1" } else { "" };
            scans.push(Scan {
                name: format!("nmap -{flag} -T{t}"),
                script: format!("nmap -n -Pn -{flag} -T{t}{retries} -p {ports} {TARGET}"),
                scan_type,
                net: None,
                limit: timeout,
            });
        }
    }
    if which("masscan") {
        scans.push(Scan {
            name: "masscan --rate 2000".into(),
            // masscan 1.3 does not exit after --wait on a veth: the time box ends it.
            script: format!(
                "timeout -s KILL 6 masscan {TARGET} -p1-200 --rate 2000 --wait 1 -e eth0 --adapter-ip {SCANNER} \
                 --router-mac {mac}; true"
            ),
            scan_type: "syn",
            net: None,
            limit: timeout,
        });
    }
    if which("zmap") {
        let blocklist = dir.join("zmap-blocklist");
        std::fs::write(&blocklist, "\n").map_err(|e| e.to_string())?;
        scans.push(Scan {
            name: "zmap 198.18.0.0/27:80".into(),
            script: format!(
                "zmap -q -p 80 198.18.0.0/27 -i eth0 -G {mac} -S {SCANNER} -r 200 -b {} -c 1 -o /dev/null",
                blocklist.display()
            ),
            scan_type: "host-sweep",
            net: Some("198.18.0.0/24"),
            limit: timeout,
        });
    }
    let twelve: Vec<String> = random_ports(12, 0x51_0e, &[22, 80]).iter().map(u16::to_string).collect();
    let twelve = twelve.join(",");
    scans.push(Scan {
        name: "nmap -sS -T1 (12 ports)".into(),
        script: format!("nmap -n -Pn -sS -T1 -p {twelve} {TARGET}"),
        scan_type: "syn",
        net: None,
        limit: Duration::from_secs(peer_timeout.max(260)),
    });
    scans.push(Scan {
        name: "slow random (25 s apart)".into(),
        script: format!("nmap -n -Pn -sS --max-retries 0 --scan-delay 25s -p {twelve} {TARGET}"),
        scan_type: "syn",
        net: None,
        limit: Duration::from_secs(peer_timeout.max(360)),
    });

    if mode == Mode::Slow {
        let eight: Vec<String> = random_ports(8, 0x5105, &[22, 80]).iter().map(u16::to_string).collect();
        scans = vec![Scan {
            name: "slow random (120 s apart)".into(),
            script: format!("nmap -n -Pn -sS --max-retries 0 --scan-delay 120s -p {} {TARGET}", eight.join(",")),
            scan_type: "syn",
            net: None,
            limit: Duration::from_secs(peer_timeout.max(1100)),
        }];
    }
    println!("\nscenario watch: detection, tojimari watch beside scanlogd ({} scans)", scans.len());
    println!(
        "{:<26} {:>7} {:<12} {:>7} {:<8} {:<9}  scanlogd",
        "scan", "scan s", "tojimari", "probes", "tool", "expected"
    );
    let mut detected = (0, 0);
    for scan in &scans {
        let observers = Observers::start(&watcher, &bed, &dir, scan.net, scanlogd)?;
        let started = Instant::now();
        let _ = run_limited(bed.scanner(), &scan.script, scan.limit);
        let secs = started.elapsed().as_secs_f64();
        // Unanswered probes count after the detector's 3 s answer timeout.
        std::thread::sleep(Duration::from_secs(4));
        let seen = observers.stop();
        let first = seen.alerts.iter().find(|a| a["src"] == SCANNER && a["update"] == 0);
        let types: Vec<&str> =
            seen.alerts.iter().filter(|a| a["update"] == 0).filter_map(|a| a["scan_type"].as_str()).collect();
        let ok = first.is_some_and(|a| a["scan_type"] == scan.scan_type);
        detected.0 += usize::from(ok);
        detected.1 += usize::from(seen.scanlogd.iter().any(|l| l.contains(SCANNER)));
        println!(
            "{:<26} {:>7.1} {:<12} {:>7} {:<8} {:<9}  {}",
            scan.name,
            secs,
            if types.is_empty() { "-".to_string() } else { types.join(",") },
            first.map(|a| a["probes"].to_string()).unwrap_or_else(|| "-".into()),
            first.and_then(|a| a["tool"].as_str()).unwrap_or("-"),
            if ok { scan.scan_type.to_string() } else { format!("{}!", scan.scan_type) },
            scanlogd_cell(scanlogd, &seen.scanlogd)
        );
    }
    println!("detected: tojimari {}/{n}, scanlogd {}/{n}", detected.0, detected.1, n = scans.len());
    if mode == Mode::Slow {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }

    benign(&watcher, &bed, &dir, scanlogd)?;
    bed.add_anyip_v4(0, "198.19.0.0/16").map_err(|e| e.to_string())?;
    for _ in 0..runs.max(1) {
        load(&watcher, &bed, &dir, &mac, Duration::from_secs(peer_timeout.clamp(20, 60)))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn scanlogd_cell(running: bool, lines: &[String]) -> String {
    if !running {
        return "n/a".into();
    }
    match lines.iter().find(|l| l.contains(SCANNER)) {
        // "198.18.0.1 to 198.18.0.2 ports 1, 3, ..., fSrpauxy, TOS 00 @12:00:01": keep the flags.
        Some(line) => {
            let flags =
                line.split(", ").find(|f| f.len() == 8 && f.chars().all(|c| c.is_ascii_alphabetic() || c == '?'));
            format!("yes ({} line(s), flags {})", lines.len(), flags.unwrap_or("?"))
        }
        None => "no".into(),
    }
}

/// The benign traffic of the tests, with both detectors watching.
fn benign(watcher: &[String], bed: &TestBed, dir: &Path, scanlogd: bool) -> Result<(), String> {
    let observers = Observers::start(watcher, bed, dir, None, scanlogd)?;
    let t = TARGET;
    let started = Instant::now();
    let busy = format!(
        "for i in $(seq 500); do socat -u OPEN:/dev/null TCP:{t}:80; done; \
         for i in $(seq 100); do socat -u OPEN:/dev/null TCP:{t}:22; done; \
         for i in $(seq 50); do socat -u OPEN:/dev/null TCP:{t}:81 2>/dev/null; done; \
         for i in $(seq 100); do echo query | socat -t 0.2 - UDP:{t}:53 >/dev/null; done"
    );
    let _ = run_limited(bed.scanner(), &busy, Duration::from_secs(120));
    // A server restart: 20 clients hold connections to 8080; the server goes away after 1.5 s,
    // the clients' late data meets RSTs and their retries are refused; it comes back and they
    // reconnect.
    let target = &bed.target(0).ns;
    let server = |secs: &str, child: &str| {
        target
            .command("timeout")
            .args([secs, "socat", "TCP-LISTEN:8080,fork,reuseaddr", &format!("SYSTEM:{child}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())
    };
    let mut first = server("1.5", "sleep 1")?;
    std::thread::sleep(Duration::from_millis(200));
    let held = format!(
        "for i in $(seq 20); do (sleep 3; echo late) | socat -u - TCP:{t}:8080 2>/dev/null & done; sleep 2; \
         for i in $(seq 20); do socat -u OPEN:/dev/null TCP:{t}:8080 2>/dev/null; done; wait"
    );
    let _ = run_limited(bed.scanner(), &held, Duration::from_secs(30));
    let _ = first.wait();
    let mut again = server("3", "true")?;
    std::thread::sleep(Duration::from_millis(200));
    let reconnect = format!("for i in $(seq 20); do socat -u OPEN:/dev/null TCP:{t}:8080; done");
    let _ = run_limited(bed.scanner(), &reconnect, Duration::from_secs(30));
    let _ = again.wait();
    std::thread::sleep(Duration::from_secs(4));
    let mut seen = observers.stop();
    // A false alarm is a scan reported (its closing record is the same alarm).
    seen.alerts.retain(|a| a["type"] == "alert");
    println!(
        "\nbenign traffic ({:.1} s, {} packets seen): tojimari {} alert(s), scanlogd {}",
        started.elapsed().as_secs_f64(),
        seen.packets,
        seen.alerts.len(),
        if scanlogd { format!("{} line(s)", seen.scanlogd.len()) } else { "n/a".into() }
    );
    for a in &seen.alerts {
        println!("  false alarm: {a}");
    }
    for l in &seen.scanlogd {
        println!("  scanlogd: {l}");
    }
    Ok(())
}

/// A flood at 300 kpps asked against 64 AnyIP addresses, all ports, with `watch` measured: once from masscan,
/// once from tojimari's own SYN sender (which reaches higher rates on this machine than masscan does).
fn load(watcher: &[String], bed: &TestBed, dir: &Path, mac: &str, limit: Duration) -> Result<(), String> {
    let tojimari = crate::tojimari_binary();
    let generators = [
        (
            "masscan --rate 300000",
            which("masscan"),
            format!(
                "masscan 198.19.0.0/26 -p1-65535 --rate 300000 --wait 0 -e eth0 --adapter-ip {SCANNER} --router-mac {mac} \
                 >/dev/null 2>&1"
            ),
        ),
        (
            "tojimari -sS --min-rate 300000",
            true,
            format!(
                "{tojimari} scan -sS -Pn -n --max-retries 0 --min-rate 300000 --no-progress -p- 198.19.0.0/26 \
                 >/dev/null 2>&1"
            ),
        ),
    ];
    for (label, available, script) in generators {
        if !available {
            println!("\nload: {label}: not installed");
            continue;
        }
        let observers = Observers::start(watcher, bed, dir, Some("198.19.0.0/16"), false)?;
        let before = tx_packets(bed.scanner());
        let started = Instant::now();
        let _ = run_limited(bed.scanner(), &script, limit.min(Duration::from_secs(14)));
        let secs = started.elapsed().as_secs_f64();
        let sent = tx_packets(bed.scanner()).saturating_sub(before);
        std::thread::sleep(Duration::from_secs(1));
        let seen = observers.stop();
        println!("\nload: {label}, 64 addresses x 65535 ports, stopped after {secs:.1} s (or at its end)");
        println!(
            "  sent {sent} probes ({:.0} pps achieved); watch saw {} packets (both directions), {} kernel drops",
            sent as f64 / secs,
            seen.packets,
            seen.drops
        );
        println!(
            "  watch: cpu {:.2} s ({:.0}% of one core over the scan), peak RSS {:.1} MB, detector memory {} KiB, {} alert(s)",
            seen.cpu.as_secs_f64(),
            seen.cpu.as_secs_f64() / secs * 100.0,
            seen.max_rss_kb as f64 / 1024.0,
            seen.memory_kib,
            seen.alerts.iter().filter(|a| a["type"] == "alert").count()
        );
    }
    Ok(())
}

/// The watcher's command line: `tojimari watch`.
fn watcher_command() -> Result<Vec<String>, String> {
    let main = crate::tojimari_binary();
    let has_watch = Command::new(&main)
        .args(["watch", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_watch {
        return Ok(vec![main, "watch".into()]);
    }
    Err(format!("no watcher: {main} has no `watch` subcommand (cargo build --release -p tojimari-cli)"))
}

/// What the observers of one run saw.
struct Seen {
    alerts: Vec<Value>,
    scanlogd: Vec<String>,
    packets: u64,
    drops: u64,
    memory_kib: u64,
    cpu: Duration,
    max_rss_kb: i64,
}

/// `watch` (and optionally scanlogd) running in the target namespace.
struct Observers<'a> {
    bed: &'a TestBed,
    watch: Child,
    json: PathBuf,
    stderr: PathBuf,
    socat: Option<Child>,
    syslog: PathBuf,
}

impl<'a> Observers<'a> {
    fn start(
        watcher: &[String],
        bed: &'a TestBed,
        dir: &Path,
        net: Option<&str>,
        scanlogd: bool,
    ) -> Result<Observers<'a>, String> {
        let ns = &bed.target(0).ns;
        let json = dir.join("alerts.jsonl");
        let stderr = dir.join("watch.err");
        let syslog = dir.join("scanlogd.log");
        let _ = std::fs::remove_file(&json);
        let mut args: Vec<String> = watcher[1..].to_vec();
        args.extend(["-i", "eth0", "-oJ"].map(String::from));
        args.push(json.to_string_lossy().into_owned());
        if let Some(net) = net {
            args.extend(["--net".to_string(), net.to_string()]);
        }
        let err_file = std::fs::File::create(&stderr).map_err(|e| e.to_string())?;
        let watch = ns
            .command(&watcher[0])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .map_err(|e| format!("start watch: {e}"))?;
        let until = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&stderr).unwrap_or_default().contains("watching ") {
            if Instant::now() > until {
                return Err(format!("watch did not start: {}", std::fs::read_to_string(&stderr).unwrap_or_default()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let socat = if scanlogd { Some(start_scanlogd(ns, dir, &syslog)?) } else { None };
        Ok(Observers { bed, watch, json, stderr, socat, syslog })
    }

    fn stop(mut self) -> Seen {
        let ns = &self.bed.target(0).ns;
        // scanlogd daemonized: find it by name among the namespace's processes (our own child
        // of this run; the namespace is the bench's).
        for pid in ns.pids() {
            if std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "scanlogd") {
                // A pid of the bench's own namespace.
                let _ = crate::kill(pid, nix::sys::signal::Signal::SIGTERM);
            }
        }
        let pid = self.watch.id();
        // Our own child, not reaped yet.
        let _ = crate::kill(pid, nix::sys::signal::Signal::SIGINT);
        let (cpu, max_rss_kb) =
            tojimari_net::process::wait_with_usage(pid).map(|u| (u.cpu, u.max_rss_kb)).unwrap_or((Duration::ZERO, 0));
        std::mem::forget(self.watch); // reaped by wait4
        std::thread::sleep(Duration::from_millis(100));
        if let Some(mut socat) = self.socat.take() {
            let _ = socat.kill();
            let _ = socat.wait();
        }
        let alerts = std::fs::read_to_string(&self.json)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let scanlogd = std::fs::read_to_string(&self.syslog)
            .unwrap_or_default()
            .split('\n')
            .filter(|l| l.contains(" to "))
            .map(|l| l.trim_matches(char::from(0)).to_string())
            .collect();
        let _ = std::fs::remove_file(&self.syslog);
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let summary = err.lines().rev().find(|l| l.starts_with("note: ") && l.contains("packets seen")).unwrap_or("");
        let number_before = |word: &str| -> u64 {
            let words: Vec<&str> = summary.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            words.windows(2).find(|w| w[1] == word).and_then(|w| w[0].parse().ok()).unwrap_or(0)
        };
        Seen {
            alerts,
            scanlogd,
            packets: number_before("packets"),
            drops: number_before("kernel"),
            memory_kib: summary
                .split("detector memory ")
                .nth(1)
                .and_then(|r| r.split(' ').next()?.parse().ok())
                .unwrap_or(0),
            cpu,
            max_rss_kb,
        }
    }
}

/// Starts a syslog catcher (socat on a socket file) and scanlogd in a private mount namespace
/// of `ns` whose /dev holds only `null` and that socket as `log`. Returns the catcher.
fn start_scanlogd(ns: &Netns, dir: &Path, syslog: &Path) -> Result<Child, String> {
    let dev = dir.join("dev");
    std::fs::create_dir_all(&dev).map_err(|e| e.to_string())?;
    let socket = dev.join("log");
    let _ = std::fs::remove_file(&socket);
    let out = std::fs::File::create(syslog).map_err(|e| e.to_string())?;
    let socat = Command::new("socat")
        .args(["-u", &format!("UNIX-RECV:{},mode=666", socket.display()), "STDOUT"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start socat: {e}"))?;
    let until = Instant::now() + Duration::from_secs(5);
    while !socket.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let d = dev.display();
    let script = format!(
        "set -e; touch {d}/null; mount --bind /dev/null {d}/null; mount --bind {d} /dev; \
         mkdir -p /run/scanlogd/empty; exec /usr/sbin/scanlogd"
    );
    let status = ns
        .command("unshare")
        .args(["-m", "sh", "-c", &script])
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("start scanlogd: {e}"))?;
    if !status.success() {
        return Err(format!("scanlogd did not start ({status})"));
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok(socat)
}

/// Runs `script` with `sh -c` in `ns`, killed after `limit`.
fn run_limited(ns: &Netns, script: &str, limit: Duration) -> Result<(), String> {
    let status = ns
        .command("timeout")
        .args(["-s", "KILL", &limit.as_secs().max(1).to_string(), "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if status.success() { Ok(()) } else { Err(format!("{script}: {status}")) }
}

fn read_in(ns: &Netns, path: &str) -> Result<String, String> {
    let out = ns.command("cat").arg(path).output().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn which(program: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {program}")]).output().is_ok_and(|o| o.status.success())
}
