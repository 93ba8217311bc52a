//! `web-check`: a check started from `tojimari serve`'s page against the same check typed on the command
//! line (issue 14's target: the page's takes the same time, within 10%).
//!
//! One target with 20 open TCP ports and the same 20 UDP ports open among 1-1024, and 100 dropped TCP ports.
//! For `check tcp` and `check udp` (each a fraction of a second on the bed) and the page's `full` profile
//! (`scan -p- -sV`), and custom options that make a scan of seconds (`-sS -p 1-20000 --max-rate 5000`), each run: the check in the scanner
//! namespace from the command line, timed from start to exit; then the same check from the page: the New
//! check form posted over HTTP to a `tojimari serve` running in the scanner namespace, timed from the POST
//! until the check's event stream (what the page's script listens to) says `done`. Both record into a store
//! of their own under /tmp; the open ports each recorded are checked against the ground truth.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::http::Client;
use tojimari_testbed::{TestBed, firewall, random_ports};

use crate::tojimari_binary;

/// Where one comparison runs and records.
struct Bed<'a> {
    bed: &'a TestBed,
    exe: String,
    server: SocketAddr,
    addr: String,
    cli_db: String,
    web_db: String,
    open: Vec<u16>,
}

pub(crate) fn web_check(runs: usize) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    let mut open = random_ports(20, 0x7e6c, &[]).into_iter().map(|p| p % 1024 + 1).collect::<Vec<u16>>();
    open.sort_unstable();
    open.dedup();
    let _tcp = target.listen_tcp(&open).map_err(|e| e.to_string())?;
    let _udp = target.listen_udp(&open).map_err(|e| e.to_string())?;
    let dropped: Vec<u16> = (1..=1024).filter(|p| !open.contains(p)).take(100).collect();
    target.firewall(&firewall::drop_tcp(&dropped)).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("tjweb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let exe = tojimari_binary();
    let web_db = dir.join("web.db").to_string_lossy().into_owned();
    let mut serve = bed
        .scanner()
        .command(&exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--allow", "198.18.0.0/15", "--db", &web_db])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tojimari serve: {e}"))?;
    let server = match listening(&mut serve) {
        Ok(addr) => addr,
        Err(e) => {
            let _ = serve.kill();
            let _ = serve.wait();
            return Err(e);
        }
    };
    let here = Bed {
        bed: &bed,
        exe,
        server,
        addr: target.v4.to_string(),
        cli_db: dir.join("cli.db").to_string_lossy().into_owned(),
        web_db,
        open,
    };
    let mut result = Ok(());
    for profile in ["tcp", "udp", "full", "custom"] {
        result = compare(&here, profile, runs);
        if result.is_err() {
            break;
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The address `tojimari serve` says it listens on (its stderr drained afterwards).
fn listening(serve: &mut std::process::Child) -> Result<SocketAddr, String> {
    let mut lines = BufReader::new(serve.stderr.take().ok_or("no stderr")?).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("on http://").nth(1) {
                    let addr =
                        rest.split('/').next().unwrap_or("").parse().map_err(|_| format!("bad address in {line}"))?;
                    std::thread::spawn(move || for _ in lines {});
                    return Ok(addr);
                }
            }
            _ => return Err("tojimari serve ended before listening".into()),
        }
    }
}

/// `runs` runs of `check PROFILE` on the command line and from the page, side by side; prints each time, the
/// medians and their ratio, and checks the open ports both recorded against the ground truth.
fn compare(b: &Bed, profile: &'static str, runs: usize) -> Result<(), String> {
    println!(
        "\nscenario web-check: `{}` (20 open TCP and UDP ports, 100 TCP ports dropped) from the command line and from the page ({runs} run(s) each)",
        command_line(profile, "ADDR", "DB").join(" ")
    );
    println!("{:<34} {:>8}", "how", "time s");
    let (mut cli, mut web) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let out = b
            .bed
            .scanner()
            .command(&b.exe)
            .args(command_line(profile, &b.addr, &b.cli_db))
            .output()
            .map_err(|e| e.to_string())?;
        let t = start.elapsed();
        if !out.status.success() {
            return Err(format!("the command-line check failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        println!("{:<34} {:>8.3}", format!("{profile} (command line)"), t.as_secs_f64());
        cli.push(t);
        let (server, target) = (b.server, b.addr.clone());
        let t = b.bed.scanner().run_in(move || from_page(server, &target, profile)).map_err(|e| e.to_string())??;
        println!("{:<34} {:>8.3}", "the same check from the page", t.as_secs_f64());
        web.push(t);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (c, w) = (median(&mut cli), median(&mut web));
    println!(
        "median: command line {:.3} s, page {:.3} s: the page's check takes {:.3}x the command line's ({:+.0} ms)",
        c.as_secs_f64(),
        w.as_secs_f64(),
        w.as_secs_f64() / c.as_secs_f64(),
        (w.as_secs_f64() - c.as_secs_f64()) * 1000.0
    );
    for (what, db) in [("command line", &b.cli_db), ("page", &b.web_db)] {
        let found = open_in_latest(&b.exe, db)?;
        println!(
            "{what}: the latest recorded `{profile}` found {} open TCP/UDP port(s), {} expected{}",
            found.len(),
            b.open.len(),
            if found == b.open { "" } else { " (MISMATCH)" }
        );
    }
    Ok(())
}

/// The command line the page runs for `profile` (as `crates/tojimari-web/src/profile.rs` builds it, without
/// the server's progress and allow-list options).
fn command_line<'a>(profile: &'a str, addr: &'a str, db: &'a str) -> Vec<&'a str> {
    match profile {
        "full" => vec!["scan", "-p-", "-sV", addr, "--db", db],
        "custom" => {
            let mut v = vec!["scan"];
            v.extend(CUSTOM.split(' '));
            v.extend([addr, "--db", db]);
            v
        }
        check => vec!["check", check, addr, "--db", db],
    }
}

/// The custom options the scenario gives the page: a scan of some seconds, its pace set by the rate.
const CUSTOM: &str = "-sS -p 1-20000 --max-rate 5000";

/// One check from the page: the form posted, then the check's event stream (what the page's script
/// listens to) read until its `done` event.
fn from_page(server: SocketAddr, target: &str, profile: &str) -> Result<Duration, String> {
    use std::io::{Read, Write};
    let mut c = Client::new(server);
    let csrf = c.csrf("/check");
    let start = Instant::now();
    let options = if profile == "custom" { CUSTOM } else { "" };
    let r = c.post("/check", &[("csrf", &csrf), ("target", target), ("profile", profile), ("options", options)]);
    let path = r.header("location").ok_or_else(|| format!("the page refused the check: {}", r.body))?.to_string();
    let mut s = std::net::TcpStream::connect(server).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(300))).map_err(|e| e.to_string())?;
    let cookies: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    write!(s, "GET {path}/events HTTP/1.1\r\nHost: {server}\r\nCookie: {}\r\n\r\n", cookies.join("; "))
        .map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the event stream ended before the check did".into());
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.windows(11).any(|w| w == b"event: done") {
            return Ok(start.elapsed());
        }
    }
}

/// The open ports of the latest scan in store `db` (through `tojimari export -oJ`).
fn open_in_latest(exe: &str, db: &str) -> Result<Vec<u16>, String> {
    let out =
        Command::new(exe).args(["export", "latest", "-oJ", "-", "--db", db]).output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut ports: Vec<u16> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "port" && v["state"] == "open")
        .filter_map(|v| v["port"].as_u64().and_then(|p| u16::try_from(p).ok()))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}
