//! Test-bed tests: build real beds (root only; skipped loudly otherwise, failed under CI=true)
//! and check from inside the scanner namespace that what the bed promises is what the
//! kernel does. Every address used is in 198.18.0.0/15 or 2001:db8::/32.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, ErrorKind};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tojimari_testbed::{TestBed, firewall, testbed_or_skip};

/// Long enough for any answer inside the bed (replies take well under a millisecond).
const ANSWER: Duration = Duration::from_secs(2);
/// How long to wait before calling a silent port filtered.
const SILENCE: Duration = Duration::from_millis(300);

/// TCP connect from the scanner namespace.
fn connect(bed: &TestBed, ip: impl Into<IpAddr>, port: u16, timeout: Duration) -> io::Result<()> {
    let addr = SocketAddr::new(ip.into(), port);
    bed.scanner().run_in(move || TcpStream::connect_timeout(&addr, timeout).map(drop)).expect("enter scanner namespace")
}

fn kind(result: io::Result<()>) -> Option<ErrorKind> {
    result.err().map(|e| e.kind())
}

/// Open, closed, dropped and reset ports of `ip` (an address of target 0) behave as such.
fn check_port_states(bed: &TestBed, ip: IpAddr) {
    let target = bed.target(0);
    let _open = target.listen_tcp(&[80, 443, 8080]).unwrap();
    // A listener behind each firewall rule: the rule, not a missing socket, must decide.
    let _behind = target.listen_tcp(&[81, 82]).unwrap();
    target.firewall(&firewall::drop_tcp(&[81])).unwrap();
    target.firewall(&firewall::reject_tcp_reset(&[82])).unwrap();

    for port in [80, 443, 8080] {
        assert!(connect(bed, ip, port, ANSWER).is_ok(), "{ip}:{port} should be open");
    }
    assert_eq!(kind(connect(bed, ip, 9, ANSWER)), Some(ErrorKind::ConnectionRefused));
    let start = Instant::now();
    assert_eq!(kind(connect(bed, ip, 81, SILENCE)), Some(ErrorKind::TimedOut));
    assert!(start.elapsed() >= SILENCE);
    assert_eq!(kind(connect(bed, ip, 82, ANSWER)), Some(ErrorKind::ConnectionRefused));
}

#[test]
fn tcp_port_states_v4() {
    let bed = testbed_or_skip!(2);
    check_port_states(&bed, bed.target(0).v4.into());
}

#[test]
fn tcp_port_states_v6() {
    let bed = testbed_or_skip!(2);
    check_port_states(&bed, bed.target(0).v6.into());
}

#[test]
fn targets_are_separate_hosts() {
    let bed = testbed_or_skip!(2);
    let listeners = bed.target(1).listen_tcp(&[2222]).unwrap();
    for ip in [IpAddr::from(bed.target(1).v4), bed.target(1).v6.into()] {
        assert!(connect(&bed, ip, 2222, ANSWER).is_ok(), "{ip}");
    }
    assert_eq!(listeners.wait_handled(2, ANSWER), 2);
    for ip in [IpAddr::from(bed.target(0).v4), bed.target(0).v6.into()] {
        assert_eq!(kind(connect(&bed, ip, 2222, ANSWER)), Some(ErrorKind::ConnectionRefused));
    }
}

/// Sends `count` UDP datagrams, one at a time, from the scanner to `ip:port` and returns
/// what each one got back: Ok(reply length) or the error kind of the ICMP answer.
fn udp_probes(bed: &TestBed, ip: IpAddr, port: u16, count: usize) -> Vec<Result<usize, ErrorKind>> {
    bed.scanner()
        .run_in(move || {
            let bind: SocketAddr = match ip {
                IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
                IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
            };
            let socket = UdpSocket::bind(bind).unwrap();
            socket.set_read_timeout(Some(ANSWER)).unwrap();
            socket.connect((ip, port)).unwrap();
            let mut buf = [0u8; 64];
            (0..count)
                .map(|_| {
                    socket.send(b"probe").map_err(|e| e.kind())?;
                    socket.recv(&mut buf).map_err(|e| e.kind())
                })
                .collect()
        })
        .expect("enter scanner namespace")
}

#[test]
fn admin_prohibited_is_an_icmp_error_every_time() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.unlimit_icmp().unwrap();
    assert_eq!(target.ns.read_sysctl("net.ipv4.icmp_ratelimit").unwrap(), "0");
    assert_eq!(target.ns.read_sysctl("net.ipv6.icmp.ratelimit").unwrap(), "0");
    target.firewall(&firewall::reject_admin_prohibited(&[25, 500])).unwrap();
    // Linux maps ICMP admin-prohibited to EHOSTUNREACH (IPv4) and EACCES (IPv6).
    assert_eq!(kind(connect(&bed, target.v4, 25, ANSWER)), Some(ErrorKind::HostUnreachable));
    // Over veth the ICMPv6 error can arrive while connect() still holds the socket lock; the
    // kernel then drops it and only the SYN retransmit a second later gets the error that
    // ends connect. A raw scanner sees both ICMP messages; hence the long timeout here.
    assert_eq!(kind(connect(&bed, target.v6, 25, ANSWER)), Some(ErrorKind::PermissionDenied));
    // A burst of probes: with the default limits (one per second per peer after a burst of
    // about 6) most of these would go unanswered and time out.
    let start = Instant::now();
    let v4 = udp_probes(&bed, target.v4.into(), 500, 20);
    let v6 = udp_probes(&bed, target.v6.into(), 500, 20);
    assert!(v4.iter().all(|r| *r == Err(ErrorKind::HostUnreachable)), "{v4:?}");
    assert!(v6.iter().all(|r| *r == Err(ErrorKind::PermissionDenied)), "{v6:?}");
    assert!(start.elapsed() < ANSWER, "{:?}", start.elapsed());
}

#[test]
fn stateless_firewall_drops_only_pure_syn() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22]).unwrap();
    target.firewall(&firewall::drop_pure_syn(&[22])).unwrap();
    assert_eq!(kind(connect(&bed, target.v4, 22, SILENCE)), Some(ErrorKind::TimedOut));
    let rules = target.ns.run(&["nft", "list", "ruleset"]).unwrap();
    let rules = String::from_utf8_lossy(&rules.stdout);
    assert!(rules.contains("tcp flags syn / syn,ack drop"), "{rules}");
}

#[test]
fn total_loss_drops_everything_and_no_loss_nothing() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[80]).unwrap();
    target.firewall(&firewall::random_loss(100)).unwrap();
    assert_eq!(kind(connect(&bed, target.v4, 80, SILENCE)), Some(ErrorKind::TimedOut));
    assert_eq!(kind(connect(&bed, target.v6, 80, SILENCE)), Some(ErrorKind::TimedOut));
    // Loading the preset again replaces it.
    target.firewall(&firewall::random_loss(0)).unwrap();
    for _ in 0..20 {
        assert!(connect(&bed, target.v4, 80, ANSWER).is_ok());
    }
    target.firewall(&firewall::clear()).unwrap();
}

#[test]
fn udp_echoes_and_closed_udp_port_is_unreachable() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.unlimit_icmp().unwrap();
    let listeners = target.listen_udp(&[53, 161]).unwrap();
    for ip in [IpAddr::from(target.v4), target.v6.into()] {
        assert_eq!(udp_probes(&bed, ip, 161, 3), vec![Ok(5); 3], "{ip}: echo of \"probe\"");
        // A closed port answers with port-unreachable, seen as ECONNREFUSED.
        assert_eq!(udp_probes(&bed, ip, 162, 3), vec![Err(ErrorKind::ConnectionRefused); 3], "{ip}");
    }
    assert_eq!(listeners.handled(), 6);
}

#[test]
fn no_route_out_of_the_bed() {
    let bed = testbed_or_skip!(1);
    for ns in bed.namespaces() {
        for family in ["-4", "-6"] {
            let out = ns.ip(&[family, "route", "show", "default"]).unwrap();
            assert!(out.stdout.is_empty(), "{} has a default route", ns.name());
        }
    }
    // Addresses of the test ranges that no route covers: refused locally, nothing is sent.
    // (Deliberately not 192.0.2.1 or any other range: we never aim at those.)
    let start = Instant::now();
    assert_eq!(kind(connect(&bed, Ipv4Addr::new(198, 19, 255, 1), 80, ANSWER)), Some(ErrorKind::NetworkUnreachable));
    assert_eq!(
        kind(connect(&bed, "2001:db8:99::1".parse::<Ipv6Addr>().unwrap(), 80, ANSWER)),
        Some(ErrorKind::NetworkUnreachable)
    );
    assert!(start.elapsed() < Duration::from_millis(500), "{:?}", start.elapsed());
}

#[test]
fn anyip_makes_a_target_answer_for_a_whole_network() {
    let bed = testbed_or_skip!(2);
    let _open = bed.target(1).listen_tcp(&[8443]).unwrap();
    bed.add_anyip_v4(1, "198.19.0.0/16").unwrap();
    bed.add_anyip_v6(1, "2001:db8:19::/64").unwrap();
    for ip in [Ipv4Addr::new(198, 19, 0, 77), Ipv4Addr::new(198, 19, 255, 254)] {
        assert!(connect(&bed, ip, 8443, ANSWER).is_ok(), "{ip}");
        assert_eq!(kind(connect(&bed, ip, 8444, ANSWER)), Some(ErrorKind::ConnectionRefused));
    }
    let v6: Ipv6Addr = "2001:db8:19::abcd".parse().unwrap();
    assert!(connect(&bed, v6, 8443, ANSWER).is_ok());
    // Routes outside the test ranges, or over the bed's own network, are refused.
    for net in ["10.0.0.0/8", "0.0.0.0/0", "198.18.0.0/16", "192.0.2.0/24"] {
        assert!(bed.add_anyip_v4(0, net).is_err(), "{net}");
    }
    for net in ["::/0", "2001:db8:18::/48", "fd00::/8"] {
        assert!(bed.add_anyip_v6(0, net).is_err(), "{net}");
    }
}

#[test]
fn sysctls_are_per_namespace() {
    let bed = testbed_or_skip!(2);
    let root_ttl = std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").unwrap();
    bed.target(0).ns.sysctl("net.ipv4.ip_default_ttl", "33").unwrap();
    let seen = bed.target(0).ns.run(&["sysctl", "-n", "net.ipv4.ip_default_ttl"]);
    let seen = String::from_utf8(seen.unwrap().stdout).unwrap();
    assert_eq!(seen.trim(), "33");
    assert_eq!(bed.target(1).ns.read_sysctl("net.ipv4.ip_default_ttl").unwrap(), "64");
    let root_after = std::fs::read_to_string("/proc/sys/net/ipv4/ip_default_ttl").unwrap();
    assert_eq!(root_ttl, root_after, "the root namespace must not change");
}

#[test]
fn dropping_listeners_closes_the_ports() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let listeners = target.listen_tcp(&[7000]).unwrap();
    assert!(connect(&bed, target.v4, 7000, ANSWER).is_ok());
    drop(listeners);
    assert_eq!(kind(connect(&bed, target.v4, 7000, ANSWER)), Some(ErrorKind::ConnectionRefused));
    // And the port can be opened again.
    let _again = target.listen_tcp(&[7000]).unwrap();
    assert!(connect(&bed, target.v4, 7000, ANSWER).is_ok());
}

#[test]
fn many_ports_with_a_large_backlog() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let ports = tojimari_testbed::random_ports(300, 2026, &[]);
    let listeners = target.listen_tcp(&ports).unwrap();
    assert_eq!(listeners.addrs().len(), 600);
    let ip = target.v4;
    let open = bed
        .scanner()
        .run_in(move || ports.iter().filter(|&&p| TcpStream::connect_timeout(&(ip, p).into(), ANSWER).is_ok()).count())
        .unwrap();
    assert_eq!(open, 300);
    assert_eq!(listeners.wait_handled(300, ANSWER), 300);
}

#[test]
fn drop_tears_everything_down() {
    let bed = testbed_or_skip!(3);
    let paths: Vec<_> = bed.namespaces().map(|ns| ns.path()).collect();
    assert_eq!(paths.len(), 5);
    assert!(paths.iter().all(|p| p.exists()));
    let mut child = bed.target(2).ns.command("sleep").arg("60").spawn().unwrap();
    // Wait until the child has entered the namespace, so the bed finds it.
    let deadline = Instant::now() + ANSWER;
    while bed.target(2).ns.pids().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(bed.target(2).ns.pids(), vec![child.id()]);
    drop(bed);
    assert!(paths.iter().all(|p| !p.exists()), "{paths:?}");
    let status = child.wait().unwrap();
    assert!(!status.success(), "the process in the bed was killed");
}

#[test]
fn a_panicking_test_still_tears_down() {
    let names = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&names);
    let outcome = std::thread::spawn(move || {
        let bed = testbed_or_skip!(1);
        seen.lock().unwrap().extend(bed.namespaces().map(|ns| ns.path()));
        panic!("deliberate panic with a live bed");
    })
    .join();
    let names = names.lock().unwrap();
    if names.is_empty() {
        return; // skipped (not root)
    }
    assert!(outcome.is_err());
    assert!(names.iter().all(|p| !p.exists()), "{names:?}");
}

#[test]
fn stale_namespaces_of_dead_runs_are_cleaned() {
    let bed = testbed_or_skip!(0); // root check, and a live bed that must survive
    // A prefix of its own (per process too), so neither the cleanup that every TestBed::new
    // runs nor a parallel run of this test can race it.
    let prefix = &format!("tjmstale{}z", std::process::id());
    // pid_max is at most 2^22, so this pid cannot be alive.
    let dead = format!("{prefix}99999999x0-sw");
    let live = format!("{prefix}{}x0-sw", std::process::id());
    let odd = format!("{prefix}99999999-sw"); // not the naming scheme: left alone
    for name in [&dead, &live, &odd] {
        let status = std::process::Command::new("ip").args(["netns", "add", name]).status().unwrap();
        assert!(status.success());
    }
    let removed = tojimari_testbed::cleanup_stale(prefix).unwrap();
    assert_eq!(removed, vec![dead.clone()]);
    assert!(!Path::new("/run/netns").join(&dead).exists());
    assert!(Path::new("/run/netns").join(&live).exists());
    assert!(Path::new("/run/netns").join(&odd).exists());
    assert!(bed.namespaces().all(|ns| ns.exists()));
    for name in [&live, &odd] {
        std::process::Command::new("ip").args(["netns", "del", name]).status().unwrap();
    }
}

#[test]
fn three_target_bed_is_quick() {
    let start = Instant::now();
    let bed = testbed_or_skip!(3);
    let built = start.elapsed();
    let start = Instant::now();
    drop(bed);
    let torn = start.elapsed();
    eprintln!("3-target bed: setup {built:?}, teardown {torn:?}");
    // The goal is well under 1 s; the bound leaves room for a loaded 2-core CI machine.
    assert!(built < Duration::from_secs(3), "setup took {built:?}");
    assert!(torn < Duration::from_secs(3), "teardown took {torn:?}");
}
