//! `web-render`: the server time of `tojimari serve`'s pages over a big store (issue 14's target: under
//! 300 ms per page with 100,000 hosts and a million port observations, SQLite).
//!
//! The store is filled through `Store::record_hosts` in batches of 1,000 hosts, as the scanner's sink would:
//! six small scans (`check quick` of 50 hosts, for the dashboard's plot), then two scans of the same scope
//! with 100,000 hosts each (198.18.0.1 on), 5 open ports per host with services (22 ssh, 80 http, 443 https
//! with a certificate, and two of 21, 23, 3306, 6379, 8080, 9200 by host), the other ports of 1-30 closed
//! (folded as nmap's extraports), findings on telnet and redis: 500,000 port observations per scan, a
//! million in all. Between the two big scans 1% of hosts close port 80, 1% open 8000, 0.5% change the ssh
//! version. The server runs in this process (`tojimari_web::serve` on 127.0.0.1:0); each page is fetched
//! over HTTP six times: the first (cold: nothing counted yet) printed on its own, then min and median of
//! the other five, all as the router's `server-timing: app;dur=X` header says. The store lives under
//! /tmp/tjw-bench-*, removed at the end; `TJW_BENCH_DB=path` keeps (and reuses) a store at `path` instead.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::os::{OsMatch, OsReport};
use tojimari_core::report::{Detail, Finding, HostReport, HostState, Severity, Tunnel};
use tojimari_core::{PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod};
use tojimari_store::{ScanStart, ScanStatus, Store};

pub(crate) const BIG_HOSTS: u32 = 100_000;
const BATCH: usize = 1000;
const EXTRA: [u16; 6] = [21, 23, 3306, 6379, 8080, 9200];

fn now_ms() -> i64 {
    tojimari_store::unix_ms(SystemTime::now())
}

fn service(name: &str, product: &str, version: &str) -> ServiceInfo {
    let mut s = ServiceInfo::named(name, ServiceMethod::Probed, 10);
    s.product = Some(product.into());
    s.version = Some(version.into());
    s
}

/// Host `i` of a big scan (`second`: the later one, with its changes).
pub(crate) fn big_host(i: u32, second: bool) -> HostReport {
    let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 1)) + i);
    let closes_80 = second && i % 100 == 7;
    let opens_8000 = second && i % 100 == 13;
    let new_ssh = second && i % 200 == 21;
    let extra = [EXTRA[(i % 6) as usize], EXTRA[((i / 6 + 1) % 6) as usize]];
    let mut open: Vec<u16> = vec![22, 80, 443];
    for p in extra {
        if !open.contains(&p) {
            open.push(p);
        }
    }
    if opens_8000 {
        open.push(8000);
    }
    if closes_80 {
        open.retain(|&p| p != 80);
    }
    let mut ports: Vec<PortResult> = Vec::new();
    for p in 1..=30u16 {
        if !open.contains(&p) {
            ports.push(PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset));
        }
    }
    if closes_80 {
        ports.push(PortResult::new(Protocol::Tcp, 80, PortState::Closed, Reason::Reset));
    }
    for &p in &open {
        let mut r = PortResult::new(Protocol::Tcp, p, PortState::Open, Reason::SynAck);
        r.reason_ttl = 64;
        let s = match p {
            22 => service("ssh", "OpenSSH", if new_ssh { "9.6p1 Debian 4" } else { "9.2p1 Debian 2" }),
            80 | 8000 | 8080 => {
                let mut s = service("http", "nginx", "1.22.1");
                s.details.push(Detail { id: "http-title".into(), output: format!("Welcome to host {i}") });
                s
            }
            443 => {
                let mut s = service("http", "nginx", "1.22.1");
                s.tunnel = Some(Tunnel::Ssl);
                s.details.push(Detail {
                    id: "ssl-cert".into(),
                    output: format!(
                        "Subject: commonName=host{i}.example.test\nIssuer: commonName=Example CA\n\
                         Not valid before: 2026-01-01T00:00:00\nNot valid after:  2027-01-01T00:00:00"
                    ),
                });
                s
            }
            21 => service("ftp", "vsftpd", "3.0.3"),
            23 => {
                let mut s = service("telnet", "Linux telnetd", "");
                s.version = None;
                s.findings.push(Finding {
                    id: "telnet-cleartext".into(),
                    severity: Severity::High,
                    evidence: "telnet answered with a login prompt".into(),
                    advice: "turn telnet off and use ssh".into(),
                });
                s
            }
            3306 => service("mysql", "MySQL", "8.0.36"),
            6379 => {
                let mut s = service("redis", "Redis key-value store", "7.0.15");
                s.findings.push(Finding {
                    id: "redis-noauth".into(),
                    severity: Severity::Critical,
                    evidence: "PING answered +PONG without a password".into(),
                    advice: "set requirepass or bind redis to localhost".into(),
                });
                s
            }
            _ => service("wap-wsp", "Elasticsearch REST API", "8.11.1"),
        };
        r.service = Some(Box::new(s));
        ports.push(r);
    }
    ports.sort_by_key(|p| p.port);
    let os = OsReport {
        matches: vec![OsMatch { name: "Linux 5.0 - 6.8".into(), accuracy: 96, line: 1, classes: Vec::new() }],
        ..OsReport::default()
    };
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
        os: Some(Box::new(os)),
        trace: None,
    }
}

fn start(profile: &str, targets: &str, ports: &str) -> ScanStart {
    ScanStart {
        argv: format!("tojimari {profile} -p {ports} {targets}"),
        profile: profile.into(),
        targets: targets.into(),
        ports: ports.into(),
        started_ms: now_ms(),
        source: "tojimari".into(),
        writer_host: "bench".into(),
        writer_pid: i64::from(std::process::id()),
        writer_boot: "bench".into(),
    }
}

/// Fills `db` (six small scans, two big ones); returns the big scans' numbers.
pub(crate) fn fill(db: &str) -> Result<(i64, i64), String> {
    let store = Store::open(db).map_err(|e| e.to_string())?;
    for k in 0..6 {
        let scan =
            store.begin_scan(&start("check quick", "198.18.0.1-50", "1-30,80,443")).map_err(|e| e.to_string())?;
        let hosts: Vec<HostReport> = (0..50).map(|i| big_host(i, k % 2 == 1)).collect();
        store.record_hosts(scan, &hosts, now_ms()).map_err(|e| e.to_string())?;
        store.finish_scan(scan, ScanStatus::Complete, now_ms()).map_err(|e| e.to_string())?;
    }
    let mut nos = [0; 2];
    for (k, second) in [false, true].into_iter().enumerate() {
        let t = Instant::now();
        let scan = store.begin_scan(&start("scan", "198.18.0.0/15", "1-30,80,443,3306,6379,8000,8080,9200"));
        let scan = scan.map_err(|e| e.to_string())?;
        let all: Vec<u32> = (0..BIG_HOSTS).collect();
        for chunk in all.chunks(BATCH) {
            let batch: Vec<HostReport> = chunk.iter().map(|&i| big_host(i, second)).collect();
            store.record_hosts(scan, &batch, now_ms()).map_err(|e| e.to_string())?;
        }
        store.finish_scan(scan, ScanStatus::Complete, now_ms()).map_err(|e| e.to_string())?;
        println!("recorded scan {} ({BIG_HOSTS} hosts) in {:.1} s", scan.no, t.elapsed().as_secs_f64());
        nos[k] = scan.no;
    }
    Ok((nos[0], nos[1]))
}

/// One GET over a new connection: (status, the server's time in ms, body length).
pub(crate) fn get(addr: SocketAddr, path: &str) -> Result<(u16, f64, usize), String> {
    get_page(addr, path).map(|(status, dur, body)| (status, dur, body.len()))
}

/// One request: (status, server time in ms, body).
fn get_page(addr: SocketAddr, path: &str) -> Result<(u16, f64, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let dur = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("server-timing: app;dur=").map(str::to_string))
        .and_then(|d| d.trim().parse().ok())
        .ok_or_else(|| format!("{path}: no server-timing header"))?;
    Ok((status, dur, body.to_string()))
}

pub(crate) fn web_render(runs: usize) -> Result<(), String> {
    let keep = std::env::var("TJW_BENCH_DB").ok();
    let dir = std::env::temp_dir().join(format!("tjw-bench-{}", std::process::id()));
    let db = match &keep {
        Some(p) => p.clone(),
        None => {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            dir.join("store.db").to_string_lossy().into_owned()
        }
    };
    let result = run(&db, runs.max(5));
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run(db: &str, runs: usize) -> Result<(), String> {
    let existing = Store::open(db).map_err(|e| e.to_string())?.scan_infos().map_err(|e| e.to_string())?;
    let (a, b) = match existing.iter().filter(|s| s.profile == "scan").map(|s| s.no).collect::<Vec<_>>()[..] {
        [b, a, ..] => (a, b),
        _ => fill(db)?,
    };
    let config = tojimari_web::Config::loopback(db.to_string(), crate::tojimari_binary().into());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tojimari_web::serve(config, move |addr| {
            let _ = tx.send(addr);
        });
    });
    let addr = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| "the server did not start")?;
    let middle = BIG_HOSTS / 50 / 2;
    let pages = [
        ("dashboard", "/".to_string()),
        ("scans list", "/scans".to_string()),
        ("scan, first page", format!("/scans/{b}")),
        ("scan, middle page", format!("/scans/{b}?page={middle}")),
        ("ports, unfiltered", "/ports".to_string()),
        ("ports, page 500", "/ports?page=500".to_string()),
        ("ports, port=8000", "/ports?port=8000".to_string()),
        ("ports, port+state", "/ports?port=20-25&state=open".to_string()),
        ("ports, service", "/ports?service=redis".to_string()),
        ("ports, product", "/ports?product=mysql".to_string()),
        ("ports, finding", "/ports?finding=telnet-cleartext".to_string()),
        ("ports, rare product", "/ports?product=no-such-product".to_string()),
        ("ports, rare finding", "/ports?finding=no-such-finding".to_string()),
        ("ports, rare port", "/ports?port=31337".to_string()),
        ("host", "/hosts/198.18.100.7".to_string()),
        ("compare big scans", format!("/compare?a={a}&b={b}")),
        ("compare, reversed", format!("/compare?a={b}&b={a}")),
        ("machine", "/machine".to_string()),
    ];
    println!("web-render: SQLite store {db}; server time (server-timing) in ms; {runs} warm runs");
    println!("{:<22} {:>6} {:>10} {:>10} {:>10} {:>10}", "page", "status", "cold", "min", "median", "bytes");
    let mut over = Vec::new();
    // The dashboard never waits for the totals and comparisons of big scans: the first reader after a start
    // gets what is in memory (and a note), while the server computes the rest in the background. Its first
    // render, the time until everything is in memory, then the whole dashboard.
    let started = std::time::Instant::now();
    let (status, first, body) = get_page(addr, "/")?;
    println!("{:<22} {status:>6} {first:>10.1} {:>10} {:>10} {:>10}", "dashboard, first", "-", "-", body.len());
    if first >= 300.0 {
        over.push("dashboard, first".to_string());
    }
    let mut body = body;
    while body.contains("id=\"pending\"") {
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the dashboard's totals were not ready after 300 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
        body = get_page(addr, "/")?.2;
    }
    println!(
        "(the dashboard's background totals and comparisons were ready {:.1} s after the start)",
        started.elapsed().as_secs_f64()
    );
    for (name, path) in &pages {
        let (status, cold, _) = get(addr, path)?;
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..runs {
            let (_, t, n) = get(addr, path)?;
            times.push(t);
            bytes = n;
        }
        times.sort_by(f64::total_cmp);
        let (min, median) = (times[0], times[times.len() / 2]);
        println!("{name:<22} {status:>6} {cold:>10.1} {min:>10.1} {median:>10.1} {bytes:>10}");
        if median >= 300.0 || cold >= 300.0 {
            over.push(name.to_string());
        }
    }
    if !over.is_empty() {
        println!("over 300 ms: {}", over.join(", "));
    }
    Ok(())
}
