//! The read-only pages over real HTTP: the router served in-process on 127.0.0.1:0 (`tojimari_web::serve`
//! on a thread) over a temporary SQLite store filled through the store's API, each page fetched with a
//! plain HTTP/1.1 request. Checked: each page's content against what was recorded, hostile text a service
//! sent (markup in a product, a title, a certificate subject, a watch alert's subject) shown escaped and
//! never as markup, malformed paths and query strings answered with 400 and a message, unknown scans and
//! hosts with 404, pagination of a scan's hosts, the host fragments a running scan's page fetches, and a
//! store that cannot be opened answered with 503 and the reason.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime};

use tojimari_core::report::{Detail, Finding, HostReport, HostState, Severity, Tunnel};
use tojimari_core::{PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod};
use tojimari_store::{Event, EventKind, ScanStart, ScanStatus, Store};
use tojimari_testbed::Scratch;
use tojimari_web::Config;

const HOSTILE: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

fn start(ms: i64, targets: &str) -> ScanStart {
    ScanStart {
        argv: format!("tojimari scan -sV {targets} {HOSTILE}"),
        profile: "scan".into(),
        targets: targets.into(),
        ports: "1-1000".into(),
        started_ms: ms,
        source: "tojimari".into(),
        writer_host: "test".into(),
        writer_pid: 1,
        writer_boot: "boot".into(),
    }
}

/// Host 198.18.0.(i+1): ssh open, 80 open with a hostile product and title (`second`: 80 closed, 8080
/// open), 443 with a certificate whose subject carries markup, 23 with a finding, 1-30 closed, 9 filtered.
fn host(i: u32, second: bool) -> HostReport {
    let mut ports: Vec<PortResult> = (1..=30u16)
        .filter(|p| *p != 22 && *p != 23 && *p != 9)
        .map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset))
        .collect();
    ports.push(PortResult::new(Protocol::Tcp, 9, PortState::Filtered, Reason::NoResponse));
    let open = |port: u16, s: ServiceInfo| {
        let mut r = PortResult::new(Protocol::Tcp, port, PortState::Open, Reason::SynAck);
        r.service = Some(Box::new(s));
        r
    };
    let mut ssh = ServiceInfo::named("ssh", ServiceMethod::Probed, 10);
    ssh.product = Some("OpenSSH".into());
    ssh.version = Some("9.2p1".into());
    ports.push(open(22, ssh));
    let mut telnet = ServiceInfo::named("telnet", ServiceMethod::Probed, 10);
    telnet.findings.push(Finding {
        id: "telnet-cleartext".into(),
        severity: Severity::High,
        evidence: format!("banner {HOSTILE}"),
        advice: "turn telnet off and use ssh".into(),
    });
    ports.push(open(23, telnet));
    let mut http = ServiceInfo::named("http", ServiceMethod::Probed, 10);
    http.product = Some(HOSTILE.into());
    http.details.push(Detail { id: "http-title".into(), output: "<img src=x onerror=alert(2)>".into() });
    if second {
        ports.push(PortResult::new(Protocol::Tcp, 80, PortState::Closed, Reason::Reset));
        ports.push(open(8080, http));
    } else {
        ports.push(open(80, http));
    }
    let mut tls = ServiceInfo::named("http", ServiceMethod::Probed, 10);
    tls.tunnel = Some(Tunnel::Ssl);
    tls.details.push(Detail {
        id: "ssl-cert".into(),
        output:
            "Subject: commonName=<b>evil</b>.example\nIssuer: commonName=Test CA\nNot valid after:  2027-01-01T00:00:00"
                .into(),
    });
    ports.push(open(443, tls));
    ports.sort_by_key(|p| p.port);
    HostReport {
        addr: format!("198.18.0.{}", i + 1).parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::SynAck,
        state_reason_ttl: 0,
        ports,
        start: SystemTime::UNIX_EPOCH,
        end: SystemTime::UNIX_EPOCH + Duration::from_secs(if second { 2000 } else { 1000 }),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

const HOSTS: u32 = 120;

/// Scans 1 and 2 (complete, 120 hosts, same scope), scan 3 (running, 5 hosts so far), a local snapshot and
/// watch alerts.
fn fill(db: &str) {
    let store = Store::open(db).unwrap();
    for (k, second) in [false, true].into_iter().enumerate() {
        let ms = 1_000_000 * (k as i64 + 1);
        let scan = store.begin_scan(&start(ms, "198.18.0.0/24")).unwrap();
        let hosts: Vec<HostReport> = (0..HOSTS).map(|i| host(i, second)).collect();
        store.record_hosts(scan, &hosts, ms).unwrap();
        store.finish_scan(scan, ScanStatus::Complete, ms + 5000).unwrap();
    }
    let running = store.begin_scan(&start(3_000_000, "198.18.0.1-5")).unwrap();
    let hosts: Vec<HostReport> = (0..5).map(|i| host(i, true)).collect();
    store.record_hosts(running, &hosts, 3_000_000).unwrap();
    let socket = serde_json::json!({
        "type": "socket", "proto": "tcp", "addr": "0.0.0.0", "port": 6379, "reach": "network",
        "service": "redis",
        "processes": [{"pid": 77, "name": "redis-server", "user": "redis", "cmdline": format!("redis-server {HOSTILE}")}],
        "findings": [{"id": "redis-noauth", "severity": "critical", "evidence": "PONG", "advice": "set a password"}],
    });
    let batch = store.new_batch();
    store
        .record_events(
            EventKind::LocalSocket,
            batch,
            "box",
            &[Event { at_ms: 3_100_000, subject: "0.0.0.0:6379/tcp".into(), body: socket.to_string() }],
        )
        .unwrap();
    let alert = |at: i64, src: &str| Event {
        at_ms: at,
        subject: src.into(),
        body: serde_json::json!({"type": "alert", "src": src, "dst": "198.18.0.2", "dst_count": 1,
            "scan_type": "syn", "port_count": 1000, "probes": 1200, "tool": "nmap", "confidence": 0.9})
        .to_string(),
    };
    let batch = store.new_batch();
    store
        .record_events(
            EventKind::WatchAlert,
            batch,
            "box",
            &[alert(3_200_000, "198.18.5.5"), alert(3_300_000, HOSTILE)],
        )
        .unwrap();
}

/// Serves `store` on 127.0.0.1:0 on a thread of its own; the bound address.
fn serve(store: String) -> SocketAddr {
    let config = Config::loopback(store, "/bin/false".into());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tojimari_web::serve(config, move |addr| {
            let _ = tx.send(addr);
        });
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("the server starts")
}

/// (status, body) of `GET path`.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: en\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
    assert!(head.to_ascii_lowercase().contains("server-timing: app;dur="), "{path}: {head}");
    // Chunked bodies: good enough to search in, the chunk sizes are hex lines between the parts.
    (status, body.to_string())
}

fn ok(addr: SocketAddr, path: &str) -> String {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    assert!(
        !body.contains(HOSTILE) && !body.contains("<img src=x") && !body.contains("<b>evil"),
        "{path} shows markup it was sent"
    );
    body
}

fn status(addr: SocketAddr, path: &str, want: u16) -> String {
    let (status, body) = get(addr, path);
    assert_eq!(status, want, "{path}: {body}");
    assert!(!body.contains("panicked") && !body.contains("backtrace"), "{path}: {body}");
    body
}

#[test]
fn the_read_only_pages() {
    let dir = Scratch::new("pages");
    let db = dir.path("store.db");
    fill(&db);
    let addr = serve(db);

    // Dashboard: the scope's change between scans 1 and 2 (80 closed, 8080 opened on every host). The page
    // never waits for a comparison: until the server has computed it in the background, it says so.
    let mut home = ok(addr, "/");
    for _ in 0..100 {
        if !home.contains("Comparing its last two scans") && !home.contains("id=\"pending\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        home = ok(addr, "/");
    }
    assert!(home.contains("/compare?a=1&amp;b=2"), "{home}");
    assert!(home.contains("<svg") && home.contains("polyline"), "the plot");
    assert!(home.contains("198.18.0.1") && home.contains("8080/tcp"));
    assert!(home.contains("sev-high"), "exposure by severity");

    // Scans list: newest first, statuses.
    let scans = ok(addr, "/scans");
    let (p3, p2, p1) =
        (scans.find("/scans/3\"").unwrap(), scans.find("/scans/2\"").unwrap(), scans.find("/scans/1\"").unwrap());
    assert!(p3 < p2 && p2 < p1, "newest first");
    assert!(scans.contains("status-running") && scans.contains("status-complete"));

    // A scan: summary, export links, the port table with the states' classes, escaped banners, advice,
    // TLS details, pagination (120 hosts, 50 a page).
    let s2 = ok(addr, "/scans/2");
    for part in ["/scans/2/export.xml", "/scans/2/export.jsonl", "st-open", "st-closed", "st-stealth", ESCAPED] {
        assert!(s2.contains(part), "scan page lacks {part}");
    }
    assert!(s2.contains("&lt;img src=x onerror=alert(2)&gt;") && s2.contains("&lt;b&gt;evil&lt;/b&gt;"));
    assert!(s2.contains("turn telnet off and use ssh") && s2.contains("telnet-cleartext"));
    assert!(s2.contains("id=\"host-198.18.0.50\"") && !s2.contains("id=\"host-198.18.0.51\""));
    assert!(s2.contains("/scans/2?page=2") && s2.contains("rel=\"next\""));
    let last = ok(addr, "/scans/2?page=3");
    assert!(last.contains("id=\"host-198.18.0.101\"") && last.contains("id=\"host-198.18.0.120\""));
    assert!(!last.contains("id=\"host-198.18.0.100\"") && !last.contains("rel=\"next\""));
    assert!(!ok(addr, "/scans/2?page=4").contains("id=\"host-"), "past the end: no hosts");

    // The running scan and its fragments.
    let s3 = ok(addr, "/scans/3");
    assert!(s3.contains("data-running=\"1\"") && s3.contains("id=\"host-198.18.0.5\""));
    let frag = ok(addr, "/scans/3/hosts?after=1");
    assert!(!frag.contains("<html") && !frag.contains("<nav"), "a fragment, no layout");
    assert!(frag.contains("id=\"host-198.18.0.3\"") && !frag.contains("id=\"host-198.18.0.2\""));
    assert!(!ok(addr, "/scans/3/hosts?after=4").contains("id=\"host-"), "nothing new yet");
    assert!(ok(addr, "/scans/2/hosts?page=3&limit=50").contains("id=\"host-198.18.0.120\""));

    // Compare: 80 closed, 8080 opened on 120 hosts; by default the last two complete scans of a scope.
    let cmp = ok(addr, "/compare?a=1&b=2");
    assert!(cmp.contains("ch-closed") && cmp.contains("ch-opened"));
    assert!(cmp.contains(">120<"), "120 ports opened and 120 closed: {cmp}");
    assert!(cmp.contains("/compare?a=1&amp;b=2&amp;page=2"), "hosts paginated");
    let default = ok(addr, "/compare");
    assert!(default.contains("<option value=\"1\" selected") && default.contains("<option value=\"2\" selected"));
    status(addr, "/compare?a=3&b=2", 400);
    status(addr, "/compare?a=1&b=99", 404);

    // Host timeline.
    let host = ok(addr, "/hosts/198.18.0.7");
    assert!(
        host.contains("8080/tcp")
            && host.contains("80/tcp")
            && host.contains("/scans/1\"")
            && host.contains("/scans/2\"")
    );
    status(addr, "/hosts/198.18.9.9", 404);

    // Ports table: filters and counts (the latest state: 80 closed on every host of scan 2, 120 of them).
    let p80 = ok(addr, "/ports?port=80&state=closed");
    assert_eq!(p80.matches("<tr class=\"st-closed\"").count(), 100, "a page of 100");
    assert!(p80.contains(": 120"), "120 match");
    assert!(ok(addr, "/ports?port=80&state=closed&page=2").matches("<tr class=\"st-closed\"").count() == 20);
    let f = ok(addr, "/ports?finding=telnet-cleartext&port=20-25");
    assert!(f.contains("telnet-cleartext") && f.matches("<tr class=\"st-open\"").count() == 100);
    assert!(
        ok(addr, "/ports?product=%3Cscript%3Ealert(1)%3C%2Fscript%3E").contains(ESCAPED),
        "a hostile product found and escaped"
    );

    // This machine: the snapshot and the alerts, escaped; the alerts after a cursor.
    let m = ok(addr, "/machine");
    assert!(m.contains("redis-server") && m.contains("redis-noauth") && m.contains(ESCAPED));
    let cursor = m.split("data-after=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    assert!(ok(addr, "/machine/alerts?after=0.0").matches("<tr").count() == 2);
    assert!(ok(addr, &format!("/machine/alerts?after={cursor}")).matches("<tr").count() == 0);

    // Malformed requests: 400 with what was wrong; unknown scans: 404.
    for path in [
        "/scans?page=0",
        "/scans?page=abc",
        "/scans?page=1&page=2",
        "/scans?colour=red",
        "/scans/abc",
        "/scans/-1",
        "/scans/2?page=%zz",
        "/scans/2/hosts?after=x",
        "/compare?a=one",
        "/hosts/not-an-address",
        "/ports?port=22-x",
        "/ports?port=70000",
        "/ports?state=stealthy",
        "/ports?service=%00",
        "/machine/alerts?after=1",
        "/?x=1",
    ] {
        let body = status(addr, path, 400);
        assert!(body.contains("notice error") || body.contains("class=\"error\""), "{path}: {body}");
    }
    assert!(status(addr, "/ports?port=22-x", 400).contains("22-x"), "the message names the value");
    status(addr, "/scans/99", 404);
}

#[test]
fn a_store_that_cannot_be_opened_is_said_so() {
    let dir = Scratch::new("unavailable");
    // A file where the store's directory should be: it cannot be created.
    let blocker = dir.0.join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let addr = serve(blocker.join("store.db").to_string_lossy().into_owned());
    for path in ["/", "/scans", "/scans/1", "/compare", "/hosts/198.18.0.1", "/ports", "/machine"] {
        let body = status(addr, path, 503);
        assert!(body.contains("store-unavailable") || body.contains("unavailable"), "{path}: {body}");
        assert!(body.contains("cannot"), "{path}: the reason is given: {body}");
    }
    let frag = status(addr, "/scans/1/hosts?after=0", 503);
    assert!(frag.contains("cannot"));
}
