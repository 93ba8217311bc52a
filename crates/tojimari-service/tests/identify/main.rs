//! Version detection against fake servers on 127.0.0.1 (tokio tasks, one per behaviour: banner, HTTP, TLS,
//! hostile), the host-level parallel run, and the `IdentifySink` stage with a recording inner sink.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::report::RunExit;
use tojimari_core::{
    HostReport, HostState, PortResult, PortState, Protocol, Reason, RunInfo, RunSummary, ServiceMethod, Sink, Tunnel,
};
use tojimari_probedb::ProbeDb;
use tojimari_service::{IdentifyOptions, IdentifySink, Transport, identify_host, identify_port};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

mod daemons;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A small database in the builtin's format. `{http}`, `{tls}` and `{udp}` are replaced with the ports the
/// test's servers got, so the port hints can be exercised on ephemeral ports.
const TEST_DB: &str = r#"
Probe TCP NULL q||
totalwaitms 5000
tcpwrappedms 2000
match ssh m|^SSH-([\d.]+)-TestSSH_([\w.]+)\r?\n| p/TestSSH/ v/$2/ i/protocol $1/
softmatch ssh m|^SSH-[\d.]+-|
match ftp m|^220 TestFTP ready\r\n| p/TestFTP/

Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
rarity 1
ports {http}
sslports {tls}
totalwaitms 5000
match http m|^HTTP/1\.[01] \d\d\d [^\r\n]*\r\n(?:[^\r\n]+\r\n)*?Server: TestHTTPd/([\d.]+)\r\n|s p/TestHTTPd/ v/$1/
softmatch http m|^HTTP/1\.[01] \d\d\d |

Probe TCP GenericLines q|\r\n\r\n|
rarity 1
totalwaitms 3000
match lineecho m|^ECHO\r\n| p/LineEcho/

Probe TCP RareThing q|RARE\r\n|
rarity 9
match rare m|^RARE-OK| p/Rare/

Probe UDP Hello q|HELLO\n|
rarity 1
ports {udp}
totalwaitms 2000
match testudp m|^HI ([\d.]+)| p/TestUDP/ v/$1/
"#;

/// Ports named in the test database (as comma-separated lists, or `1` when none).
#[derive(Default)]
struct Hints {
    http: Vec<u16>,
    tls: Vec<u16>,
    udp: Vec<u16>,
}

fn list(ports: &[u16]) -> String {
    if ports.is_empty() { "1".into() } else { ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",") }
}

fn db(hints: &Hints) -> &'static ProbeDb {
    let text = TEST_DB
        .replace("{http}", &list(&hints.http))
        .replace("{tls}", &list(&hints.tls))
        .replace("{udp}", &list(&hints.udp));
    Box::leak(Box::new(ProbeDb::parse(&text, "test-db").expect("test database parses")))
}

/// Options for tests: short caps so hostile servers cost little.
fn opts(hints: &Hints) -> IdentifyOptions {
    IdentifyOptions::with_db(db(hints))
        .probe_wait_cap(Duration::from_millis(1500))
        .port_time_cap(Duration::from_secs(4))
        .connect_timeout(Duration::from_secs(2))
}

/// Binds a listener on 127.0.0.1 and serves each connection with `serve`.
async fn server<F, Fut>(serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    server_on(LOCALHOST, serve).await
}

/// Binds a listener on `ip` (a loopback address) and serves each connection with `serve`.
async fn server_on<F, Fut>(ip: IpAddr, serve: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    addr
}

/// Holds a connection open, reading and discarding whatever comes, until the peer goes.
async fn drain(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

async fn ssh_like(mut stream: TcpStream) {
    let _ = stream.write_all(b"SSH-2.0-TestSSH_1.2\r\n").await;
    drain(stream).await;
}

/// Reads until a blank line; answers `GET` with a page, stays silent for anything else.
async fn http_get_only(mut stream: TcpStream, server: &'static str) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    if request.starts_with(b"GET ") {
        let page = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nServer: {server}\r\n\r\n\
             <html><head><title>Fish &amp; Chips</title></head></html>"
        );
        let _ = stream.write_all(page.as_bytes()).await;
    } else {
        drain(stream).await;
    }
}

fn detail<'a>(info: &'a tojimari_core::ServiceInfo, id: &str) -> Option<&'a str> {
    info.details.iter().find(|d| d.id == id).map(|d| d.output.as_str())
}

#[tokio::test]
async fn banner_service_is_named_from_the_null_probe() {
    let addr = server(ssh_like).await;
    let start = Instant::now();
    let info = identify_port(addr, Transport::Tcp, &opts(&Hints::default())).await;
    assert_eq!(info.name, "ssh");
    assert_eq!((info.method, info.conf), (ServiceMethod::Probed, 10));
    assert_eq!((info.product.as_deref(), info.version.as_deref()), (Some("TestSSH"), Some("1.2")));
    assert_eq!(info.extrainfo.as_deref(), Some("protocol 2.0"));
    assert!(start.elapsed() < Duration::from_secs(1), "a banner should name the service at once");
}

#[tokio::test]
async fn http_get_goes_out_with_the_null_probe() {
    let addr = server(|s| http_get_only(s, "TestHTTPd/2.4")).await;
    let hints = Hints { http: vec![addr.port()], ..Hints::default() };
    // With a 5 s probe wait, waiting out the NULL probe first would take 5 s.
    let options = opts(&hints).probe_wait_cap(Duration::from_secs(5)).port_time_cap(Duration::from_secs(10));
    let start = Instant::now();
    let info = identify_port(addr, Transport::Tcp, &options).await;
    let elapsed = start.elapsed();
    assert_eq!(info.name, "http");
    assert_eq!((info.product.as_deref(), info.version.as_deref()), (Some("TestHTTPd"), Some("2.4")));
    assert_eq!(detail(&info, "http-title"), Some("Fish & Chips"));
    assert!(elapsed < Duration::from_secs(3), "GET should be sent in parallel with the NULL probe ({elapsed:?})");
}

#[tokio::test]
async fn soft_http_match_takes_the_server_header_as_product() {
    let addr = server(|s| http_get_only(s, "Mystery/9")).await;
    let info = identify_port(addr, Transport::Tcp, &opts(&Hints::default())).await;
    assert_eq!((info.name.as_str(), info.conf), ("http", 8));
    assert_eq!(info.product.as_deref(), Some("Mystery/9"));
    assert_eq!(info.version, None);
    assert_eq!(detail(&info, "http-title"), Some("Fish & Chips"));
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let certified = rcgen::generate_simple_self_signed(vec!["fake.test".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// An HTTPS server: TLS, then the GET-only HTTP server inside.
async fn https_server() -> SocketAddr {
    let acceptor = tls_acceptor();
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if request.starts_with(b"GET ") {
                    let page = "HTTP/1.1 200 OK\r\nServer: TestHTTPd/3.0\r\n\r\n<title>secure</title>";
                    let _ = tls.write_all(page.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn tls_port_is_probed_inside_tls() {
    let addr = https_server().await;
    let hints = Hints { tls: vec![addr.port()], ..Hints::default() };
    let info = identify_port(addr, Transport::Tcp, &opts(&hints)).await;
    assert_eq!(info.name, "http");
    assert_eq!(info.tunnel, Some(Tunnel::Ssl));
    assert_eq!((info.product.as_deref(), info.version.as_deref()), (Some("TestHTTPd"), Some("3.0")));
    assert_eq!(detail(&info, "http-title"), Some("secure"));
    let cert = detail(&info, "ssl-cert").expect("ssl-cert detail");
    assert!(cert.contains("fake.test"), "{cert}");
}

#[tokio::test]
async fn tls_is_found_on_a_port_no_probe_lists() {
    let addr = https_server().await;
    let info = identify_port(addr, Transport::Tcp, &opts(&Hints::default())).await;
    assert_eq!(info.tunnel, Some(Tunnel::Ssl), "{info:?}");
    assert_eq!(info.name, "http");
    assert!(detail(&info, "ssl-cert").is_some());
}

#[tokio::test]
async fn one_connection_at_a_time_server_is_still_named() {
    // Like `openssl s_server`: the next connection is accepted only when the current one is done, so
    // parallel probes queue behind the silent NULL probe.
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            http_get_only(stream, "TestHTTPd/5.0").await;
        }
    });
    let options = opts(&Hints::default()).port_time_cap(Duration::from_secs(10));
    let info = identify_port(addr, Transport::Tcp, &options).await;
    assert_eq!((info.name.as_str(), info.product.as_deref()), ("http", Some("TestHTTPd")), "{info:?}");
}

/// Runs detection on a hostile server and checks it stayed within the port cap plus slack.
async fn bounded(addr: SocketAddr) -> tojimari_core::ServiceInfo {
    let options = opts(&Hints::default());
    let cap = options.port_time_cap;
    let start = Instant::now();
    let info = identify_port(addr, Transport::Tcp, &options).await;
    let elapsed = start.elapsed();
    assert!(elapsed < cap + Duration::from_secs(2), "took {elapsed:?}");
    info
}

fn assert_unnamed(info: &tojimari_core::ServiceInfo) {
    assert_eq!((info.method, info.conf), (ServiceMethod::Table, 3), "{info:?}");
    assert_eq!(info.product, None);
    assert_eq!(info.tunnel, None);
}

#[tokio::test]
async fn endless_stream_is_bounded() {
    let addr = server(|mut s: TcpStream| async move {
        let chunk = vec![b'z'; 16 * 1024];
        while s.write_all(&chunk).await.is_ok() {}
    })
    .await;
    assert_unnamed(&bounded(addr).await);
}

#[tokio::test]
async fn silent_server_keeps_the_table_name() {
    let addr = server(drain).await;
    assert_unnamed(&bounded(addr).await);
}

#[tokio::test]
async fn immediate_close_is_tcpwrapped() {
    let addr = server(|s: TcpStream| async move { drop(s) }).await;
    let info = bounded(addr).await;
    assert_eq!((info.name.as_str(), info.method), ("tcpwrapped", ServiceMethod::Probed));
    assert_eq!(info.product, None);
}

#[tokio::test]
async fn close_mid_banner_keeps_the_partial_answer() {
    let addr = server(|mut s: TcpStream| async move {
        let _ = s.write_all(b"SSH-2.0-Tes").await;
    })
    .await;
    let info = bounded(addr).await;
    // The partial banner still says SSH (soft), but not which product.
    assert_eq!((info.name.as_str(), info.conf), ("ssh", 8));
    assert_eq!(info.product, None);
}

#[tokio::test]
async fn binary_junk_names_nothing() {
    let addr = server(|mut s: TcpStream| async move {
        let mut x: u32 = 0x1234_5678;
        let junk: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect();
        let _ = s.write_all(&junk).await;
        drain(s).await;
    })
    .await;
    assert_unnamed(&bounded(addr).await);
}

#[tokio::test]
async fn five_megabyte_banner_is_capped() {
    let addr = server(|mut s: TcpStream| async move {
        let banner = vec![b'A'; 5 * 1024 * 1024];
        let _ = s.write_all(&banner).await;
        drain(s).await;
    })
    .await;
    assert_unnamed(&bounded(addr).await);
}

#[tokio::test]
async fn refused_port_keeps_the_table_name() {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert_unnamed(&bounded(addr).await);
}

async fn udp_server(answer: bool) -> SocketAddr {
    let socket = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            if answer && &buf[..n] == b"HELLO\n" {
                let _ = socket.send_to(b"HI 3.1\n", peer).await;
            }
        }
    });
    addr
}

#[tokio::test]
async fn udp_answer_is_matched() {
    let addr = udp_server(true).await;
    let hints = Hints { udp: vec![addr.port()], ..Hints::default() };
    let info = identify_port(addr, Transport::Udp, &opts(&hints)).await;
    assert_eq!((info.name.as_str(), info.method), ("testudp", ServiceMethod::Probed));
    assert_eq!((info.product.as_deref(), info.version.as_deref()), (Some("TestUDP"), Some("3.1")));
}

#[tokio::test]
async fn udp_silence_keeps_the_table_name() {
    let addr = udp_server(false).await;
    let options = opts(&Hints::default());
    let start = Instant::now();
    let info = identify_port(addr, Transport::Udp, &options).await;
    assert!(start.elapsed() < options.port_time_cap + Duration::from_secs(1));
    assert_eq!((info.method, info.product), (ServiceMethod::Table, None));
}

#[tokio::test]
async fn host_ports_are_detected_together() {
    let ssh = server(ssh_like).await;
    let http = server(|s| http_get_only(s, "TestHTTPd/1.0")).await;
    let silent = server(drain).await;
    let ports = [(Transport::Tcp, ssh.port()), (Transport::Tcp, silent.port()), (Transport::Tcp, http.port())];
    let options = opts(&Hints::default());
    let start = Instant::now();
    let found = identify_host(LOCALHOST, &ports, &options).await;
    let names: Vec<(u16, &str)> = found.iter().map(|(_, port, info)| (*port, info.name.as_str())).collect();
    assert_eq!(names[0], (ssh.port(), "ssh"));
    assert_eq!(names[2], (http.port(), "http"));
    assert_eq!(found[1].2.method, ServiceMethod::Table);
    // In parallel: the silent port's wait is not added to the others'.
    assert!(start.elapsed() < options.port_time_cap + Duration::from_secs(2));
}

// --- IdentifySink -------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Start,
    Port(IpAddr, u16, Option<String>),
    Host(IpAddr, usize),
    End,
}

struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Sink for Recorder {
    fn run_start(&mut self, _run: &RunInfo) -> io::Result<()> {
        self.0.lock().unwrap().push(Event::Start);
        Ok(())
    }
    fn port_found(&mut self, addr: IpAddr, port: &PortResult) -> io::Result<()> {
        self.0.lock().unwrap().push(Event::Port(addr, port.port, port.service.as_ref().map(|s| s.name.clone())));
        Ok(())
    }
    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.0.lock().unwrap().push(Event::Host(host.addr, host.ports.len()));
        Ok(())
    }
    fn run_end(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.0.lock().unwrap().push(Event::End);
        Ok(())
    }
}

fn run_info() -> RunInfo {
    RunInfo {
        args: "tojimari -sV".into(),
        start: SystemTime::now(),
        version: "test".into(),
        scans: Vec::new(),
        display: Default::default(),
    }
}

fn summary() -> RunSummary {
    RunSummary {
        end: SystemTime::now(),
        elapsed: Duration::ZERO,
        hosts_up: 0,
        hosts_down: 0,
        hosts_total: 0,
        exit: RunExit::Success,
    }
}

fn host(addr: IpAddr, state: HostState, ports: Vec<PortResult>) -> HostReport {
    HostReport {
        addr,
        hostnames: Vec::new(),
        state,
        state_reason: Reason::SynAck,
        state_reason_ttl: 0,
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

fn tcp(port: u16, state: PortState) -> PortResult {
    PortResult::new(Protocol::Tcp, port, state, Reason::SynAck)
}

/// The events of one host, checking that its port calls come right before its host_done.
fn host_events(events: &[Event], addr: IpAddr) -> Vec<Event> {
    let done = events.iter().position(|e| *e == Event::Host(addr, 2) || *e == Event::Host(addr, 0)).expect("host");
    let mut start = done;
    while start > 0 && matches!(&events[start - 1], Event::Port(a, ..) if *a == addr) {
        start -= 1;
    }
    let count = events.iter().filter(|e| matches!(e, Event::Port(a, ..) | Event::Host(a, _) if *a == addr)).count();
    assert_eq!(count, done - start + 1, "calls for {addr} are not together: {events:?}");
    events[start..=done].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_sink_fills_services_and_keeps_each_host_together() {
    let (a, b, c) = (LOCALHOST, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)));
    let ssh = server_on(a, ssh_like).await;
    let http = server_on(c, |s| http_get_only(s, "TestHTTPd/1.0")).await;
    let closed = {
        let l = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
        l.local_addr().unwrap().port()
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let options = opts(&Hints::default());
    let reports = vec![
        host(a, HostState::Up, vec![tcp(ssh.port(), PortState::Open), tcp(closed, PortState::Closed)]),
        host(b, HostState::Down, Vec::new()),
        host(c, HostState::Up, vec![tcp(closed, PortState::Filtered), tcp(http.port(), PortState::Open)]),
    ];
    let recorder = Recorder(Arc::clone(&events));
    let interrupt = Arc::new(AtomicBool::new(false));
    // The sink is driven from a plain thread, as the scan engine does.
    let ran = std::thread::spawn(move || {
        let mut sink = IdentifySink::new(Box::new(recorder), options, interrupt).unwrap();
        sink.run_start(&run_info()).unwrap();
        for report in &reports {
            for port in &report.ports {
                sink.port_found(report.addr, port).unwrap();
            }
            sink.host_done(report).unwrap();
        }
        sink.run_end(&summary()).unwrap();
    });
    tokio::task::spawn_blocking(move || ran.join().unwrap()).await.unwrap();

    let events = events.lock().unwrap().clone();
    assert_eq!(events.first(), Some(&Event::Start));
    assert_eq!(events.last(), Some(&Event::End));
    assert_eq!(events.len(), 1 + 3 + 1 + 3 + 1, "{events:?}");
    assert_eq!(
        host_events(&events, a),
        vec![Event::Port(a, ssh.port(), Some("ssh".into())), Event::Port(a, closed, None), Event::Host(a, 2)]
    );
    assert_eq!(host_events(&events, b), vec![Event::Host(b, 0)]);
    assert_eq!(
        host_events(&events, c),
        vec![Event::Port(c, closed, None), Event::Port(c, http.port(), Some("http".into())), Event::Host(c, 2)]
    );
    // The down host needs no detection: it is forwarded before the probed ones finish.
    let position = |addr| events.iter().position(|e| *e == Event::Host(addr, 0) || *e == Event::Host(addr, 2));
    assert!(position(b) < position(a) && position(b) < position(c), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_stops_detection_and_still_forwards_the_host() {
    let silent = server(drain).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let options =
        opts(&Hints::default()).probe_wait_cap(Duration::from_secs(30)).port_time_cap(Duration::from_secs(60));
    let recorder = Recorder(Arc::clone(&events));
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupt);
    let report = host(LOCALHOST, HostState::Up, vec![tcp(silent.port(), PortState::Open)]);
    let ran = std::thread::spawn(move || {
        let mut sink = IdentifySink::new(Box::new(recorder), options, interrupt).unwrap();
        sink.run_start(&run_info()).unwrap();
        sink.host_done(&report).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        flag.store(true, Ordering::Relaxed);
        let start = Instant::now();
        sink.run_end(&summary()).unwrap();
        start.elapsed()
    });
    let waited = tokio::task::spawn_blocking(move || ran.join().unwrap()).await.unwrap();
    assert!(waited < Duration::from_secs(2), "run_end waited {waited:?} after the interrupt");
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![Event::Start, Event::Port(LOCALHOST, silent.port(), None), Event::Host(LOCALHOST, 1), Event::End]
    );
}
