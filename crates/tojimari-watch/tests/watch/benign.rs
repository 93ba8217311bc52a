//! Benign traffic against a watched target must raise no alert: a busy client, a client
//! retrying one closed port, a server restart under held connections (its clients then hit
//! RSTs and refusals), and DNS-like UDP queries.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tojimari_testbed::{Netns, testbed_or_skip};
use tojimari_watch::WatchArgs;

use crate::support::Watcher;

const T: [u8; 4] = [198, 18, 0, 2];
const TIMEOUT: Duration = Duration::from_secs(2);

/// A server on `port` in `ns` that accepts and holds every connection without reading, until
/// `stop`; then it closes them all (with unread data, so the clients get RSTs) and the listener.
fn holding_server(ns: &Netns, port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = ns
        .spawn_in(move || {
            let listener = TcpListener::bind(("0.0.0.0", port)).expect("bind the holding server");
            listener.set_nonblocking(true).unwrap();
            ready_tx.send(()).unwrap();
            let mut held = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            held.len()
        })
        .expect("enter the target");
    ready_rx.recv_timeout(Duration::from_secs(5)).expect("server ready");
    handle
}

#[test]
fn benign_traffic_raises_no_alert() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _tcp = target.listen_tcp(&[22, 80]).expect("tcp listeners");
    let _udp = target.listen_udp(&[53]).expect("udp listener");
    let watcher = Watcher::start(&target.ns, WatchArgs::default());

    // A busy client: 500 connections to port 80 and 100 to port 22, each read to EOF.
    let served = bed
        .scanner()
        .run_in(|| {
            let mut ok = 0;
            for (port, n) in [(80u16, 500), (22, 100)] {
                for _ in 0..n {
                    if let Ok(mut s) = TcpStream::connect_timeout(&SocketAddr::from((T, port)), TIMEOUT) {
                        let _ = s.set_read_timeout(Some(TIMEOUT));
                        let _ = s.read(&mut [0u8; 16]);
                        ok += 1;
                    }
                }
            }
            ok
        })
        .unwrap();
    assert_eq!(served, 600);

    // One closed port, 50 times.
    let refused = bed
        .scanner()
        .run_in(|| (0..50).filter(|_| TcpStream::connect_timeout(&SocketAddr::from((T, 81)), TIMEOUT).is_err()).count())
        .unwrap();
    assert_eq!(refused, 50);

    // DNS-like queries: 200, each from a fresh socket (a fresh source port).
    let answered = bed
        .scanner()
        .run_in(|| {
            (0..200u16)
                .filter(|i| {
                    let s = UdpSocket::bind("0.0.0.0:0").unwrap();
                    s.set_read_timeout(Some(TIMEOUT)).unwrap();
                    let mut query = vec![0u8; 29];
                    query[..2].copy_from_slice(&i.to_be_bytes());
                    s.send_to(&query, SocketAddr::from((T, 53))).is_ok() && s.recv(&mut [0u8; 64]).is_ok()
                })
                .count()
        })
        .unwrap();
    assert!(answered >= 190, "only {answered} DNS answers");

    // A server restart: 20 clients hold connections to 8080 and have sent data the server
    // never read; the server goes away (RSTs), clients retry while it is down (refused), it
    // comes back, clients reconnect.
    let stop = Arc::new(AtomicBool::new(false));
    let server = holding_server(&target.ns, 8080, Arc::clone(&stop));
    let clients = bed
        .scanner()
        .run_in(|| {
            (0..20)
                .map(|_| {
                    let mut s = TcpStream::connect_timeout(&SocketAddr::from((T, 8080)), TIMEOUT).unwrap();
                    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                    s
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    assert_eq!(server.join().unwrap(), 20);
    let after_restart = bed
        .scanner()
        .run_in(move || {
            let mut clients = clients;
            // Late segments of the dead connections, answered by RST.
            for s in &mut clients {
                let _ = s.write_all(b"more");
            }
            std::thread::sleep(Duration::from_millis(100));
            let refused =
                (0..20).filter(|_| TcpStream::connect_timeout(&SocketAddr::from((T, 8080)), TIMEOUT).is_err()).count();
            drop(clients);
            refused
        })
        .unwrap();
    assert_eq!(after_restart, 20, "the server was down: every retry is refused");
    let stop = Arc::new(AtomicBool::new(false));
    let server = holding_server(&target.ns, 8080, Arc::clone(&stop));
    let reconnected = bed
        .scanner()
        .run_in(|| {
            (0..20).filter(|_| TcpStream::connect_timeout(&SocketAddr::from((T, 8080)), TIMEOUT).is_ok()).count()
        })
        .unwrap();
    assert_eq!(reconnected, 20);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();

    // Let unanswered probes time out (3 s) and a tick run before judging.
    std::thread::sleep(Duration::from_secs(4));
    let done = watcher.finish();
    assert_eq!(done.code, 0, "{}", done.stderr);
    let seen: u64 =
        done.stderr.lines().find_map(|l| l.strip_prefix("note: ")?.split(' ').next()?.parse().ok()).unwrap_or(0);
    assert!(seen > 4000, "the watcher saw only {seen} packets: {}", done.stderr);
    assert!(done.alerts.is_empty(), "false alarms: {:#?}", done.alerts);
    eprintln!("benign: {seen} packets, 0 alerts");
}
