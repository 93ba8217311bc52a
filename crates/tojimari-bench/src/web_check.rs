//! `web-check`: a check started from `tojimari serve`'s page against the same check typed on the command
//! line (issue 14's target: the page's takes the same time, within 10%).
//!
//! One target with 20 open TCP ports among 1-1024 and 100 dropped ones (so the check waits for
//! retransmissions, as a real one does). Each run: `tojimari check tcp ADDR` in the scanner namespace,
//! timed from start to exit; then the same check from the page: the New check form posted over HTTP to a
//! `tojimari serve` running in the scanner namespace, timed from the POST until the check's page says it is
//! over (polled every 50 ms, so the page's figure includes up to 50 ms of polling). Both record into a
//! store of their own under /tmp; the open ports each recorded are checked against the ground truth.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::http::Client;
use tojimari_testbed::{TestBed, firewall, random_ports};

use crate::tojimari_binary;

pub(crate) fn web_check(runs: usize) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    let open = random_ports(20, 0x7e6c, &[]).into_iter().map(|p| p % 1024 + 1).collect::<Vec<u16>>();
    let _listeners = target.listen_tcp(&open).map_err(|e| e.to_string())?;
    let dropped: Vec<u16> = (1..=1024).filter(|p| !open.contains(p)).take(100).collect();
    target.firewall(&firewall::drop_tcp(&dropped)).map_err(|e| e.to_string())?;
    let addr = target.v4.to_string();
    let dir = std::env::temp_dir().join(format!("tjweb-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cli_db = dir.join("cli.db").to_string_lossy().into_owned();
    let web_db = dir.join("web.db").to_string_lossy().into_owned();
    let exe = tojimari_binary();

    let mut serve = bed
        .scanner()
        .command(&exe)
        .args(["serve", "--listen", "127.0.0.1:0", "--allow", "198.18.0.0/15", "--db", &web_db])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tojimari serve: {e}"))?;
    let mut lines = BufReader::new(serve.stderr.take().ok_or("no stderr")?).lines();
    let server: std::net::SocketAddr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("on http://").nth(1) {
                    break rest
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .parse()
                        .map_err(|_| format!("bad address in {line}"))?;
                }
            }
            _ => {
                let _ = serve.kill();
                return Err("tojimari serve ended before listening".into());
            }
        }
    };
    std::thread::spawn(move || for _ in lines {});

    println!(
        "\nscenario web-check: `check tcp` (ports 1-1024, 20 open, 100 dropped) from the command line and from the page ({runs} run(s) each)"
    );
    println!("{:<34} {:>8}", "how", "time s");
    let (mut cli, mut web) = (Vec::new(), Vec::new());
    let mut result = Ok(());
    for _ in 0..runs {
        let start = Instant::now();
        let out = bed
            .scanner()
            .command(&exe)
            .args(["check", "tcp", &addr, "--db", &cli_db])
            .output()
            .map_err(|e| e.to_string())?;
        let t = start.elapsed();
        if !out.status.success() {
            result = Err(format!("the command-line check failed: {}", String::from_utf8_lossy(&out.stderr)));
            break;
        }
        println!("{:<34} {:>8.3}", "tojimari check tcp (command line)", t.as_secs_f64());
        cli.push(t);
        let a = addr.clone();
        let timed = bed
            .scanner()
            .run_in(move || -> Result<Duration, String> {
                let mut c = Client::new(server);
                let csrf = c.csrf("/check");
                let start = Instant::now();
                let r = c.post("/check", &[("csrf", &csrf), ("target", &a), ("profile", "tcp"), ("options", "")]);
                let path =
                    r.header("location").ok_or_else(|| format!("the page refused the check: {}", r.body))?.to_string();
                loop {
                    let page = c.get(&path);
                    if page.body.contains("data-over=\"1\"") {
                        return Ok(start.elapsed());
                    }
                    if start.elapsed() > Duration::from_secs(300) {
                        return Err("the page's check did not finish in 300 s".into());
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
            .map_err(|e| e.to_string())?;
        match timed {
            Ok(t) => {
                println!("{:<34} {:>8.3}", "the same check from the page", t.as_secs_f64());
                web.push(t);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    let _ = serve.kill();
    let _ = serve.wait();
    if result.is_ok() {
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (c, w) = (median(&mut cli), median(&mut web));
        println!(
            "median: command line {:.3} s, page {:.3} s: the page's check takes {:.3}x the command line's",
            c.as_secs_f64(),
            w.as_secs_f64(),
            w.as_secs_f64() / c.as_secs_f64()
        );
        for (what, db) in [("command line", &cli_db), ("page", &web_db)] {
            let found = open_in_latest(&exe, db)?;
            let mut truth = open.clone();
            truth.sort_unstable();
            truth.dedup();
            println!(
                "{what}: the latest recorded check found {} open port(s), {} expected{}",
                found.len(),
                truth.len(),
                if found == truth { "" } else { " (MISMATCH)" }
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
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
