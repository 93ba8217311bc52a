//! Personas on a real bed: each persona of the catalogue runs on a TAP device on the bed's bridge, and
//! from the scanner namespace (raw sockets of our own, and nmap) it must behave as its data says: the
//! open port open, a closed port closed, echoes answered, the SYN/ACK with the persona's TTL, DF, window
//! and options. Root only (skipped loudly otherwise, failed under CI=true). Every address is in
//! 198.18.0.0/15 or 2001:db8::/32.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tojimari_testbed::persona::{Persona, PersonaHost, TcpOpt, catalog};
use tojimari_testbed::{Netns, RoutedHops, SCANNER_V4, TestBed, testbed_or_skip};
use tojimari_wire::tcp::flags::{ACK, RST, SYN};
use tojimari_wire::{Icmpv4Packet, Ipv4Packet, Ipv6Packet, TcpPacket, checksum};

/// Long enough for any answer inside the bed.
const ANSWER: Duration = Duration::from_secs(2);
/// Every option, as nmap's first sequence probe offers them.
const ALL_OPTIONS: [u8; 20] = [3, 3, 10, 1, 2, 4, 5, 0xb4, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2];

/// The IPv4 facts of one answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub ttl: u8,
    pub df: bool,
    pub id: u16,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<u8>,
    pub icmp_code: u8,
}

/// Sends a SYN from `sport` with all options to `dst:dport` from the scanner namespace (a raw TCP socket;
/// the kernel adds the IP header) and returns the answer the raw socket sees, if any.
pub fn tcp_probe(ns: &Netns, src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, flags: u8) -> Option<Answer> {
    ns.run_in(move || {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::TCP)).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut seg = vec![0u8; 20 + ALL_OPTIONS.len()];
        let mut t = TcpPacket::new_unchecked(&mut seg[..]);
        t.set_src_port(sport);
        t.set_dst_port(dport);
        t.set_seq_number(0x1000);
        t.set_ack_number(0);
        t.set_header_len(40);
        t.set_flags(flags);
        t.set_window_len(1024);
        t.options_mut().copy_from_slice(&ALL_OPTIONS);
        t.fill_checksum(IpAddr::V4(src), IpAddr::V4(dst));
        // No route (e.g. after the routed hops went away) is no answer.
        socket.send_to(&seg, &SockAddr::from(SocketAddr::new(IpAddr::V4(dst), 0))).ok()?;
        receive(&socket, |ip| {
            let t = TcpPacket::new_checked(ip.payload()).ok()?;
            (ip.src_addr() == dst && t.src_port() == dport && t.dst_port() == sport).then(|| Answer {
                ttl: ip.ttl(),
                df: ip.dont_frag(),
                id: ip.ident(),
                flags: t.flags(),
                window: t.window_len(),
                options: t.options().to_vec(),
                icmp_code: 0,
            })
        })
    })
    .unwrap()
}

/// Sends an echo request with `code` and `ident` to `dst` from the scanner namespace and returns the reply.
pub fn echo(ns: &Netns, dst: Ipv4Addr, code: u8, ident: u16) -> Option<Answer> {
    ns.run_in(move || {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut msg = vec![8, code, 0, 0, 0, 0, 0, 1, b'p', b'i', b'n', b'g'];
        msg[4..6].copy_from_slice(&ident.to_be_bytes());
        let sum = checksum::finish(checksum::sum(&msg));
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
        socket.send_to(&msg, &SockAddr::from(SocketAddr::new(IpAddr::V4(dst), 0))).ok()?;
        receive(&socket, |ip| {
            let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
            (ip.src_addr() == dst && icmp.msg_type() == 0 && icmp.ident() == ident).then(|| Answer {
                ttl: ip.ttl(),
                df: ip.dont_frag(),
                id: ip.ident(),
                flags: 0,
                window: 0,
                options: Vec::new(),
                icmp_code: icmp.msg_code(),
            })
        })
    })
    .unwrap()
}

/// Reads IPv4 packets from a raw socket until `pick` accepts one or [`ANSWER`] passes.
fn receive(socket: &Socket, pick: impl Fn(&Ipv4Packet<&[u8]>) -> Option<Answer>) -> Option<Answer> {
    let deadline = Instant::now() + ANSWER;
    let mut buf = [0u8; 2048];
    let mut reader = socket;
    while Instant::now() < deadline {
        let Ok(n) = reader.read(&mut buf) else { continue };
        if let Ok(ip) = Ipv4Packet::new_checked(&buf[..n])
            && let Some(answer) = pick(&ip)
        {
            return Some(answer);
        }
    }
    None
}

/// The address of persona `i` of a bed: 198.18.0.(200+i), 2001:db8:18::(c8+i).
fn persona_addrs(i: usize) -> (Ipv4Addr, Ipv6Addr) {
    let i = u8::try_from(i).unwrap();
    (Ipv4Addr::new(198, 18, 0, 200 + i), Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 0xc8 + u16::from(i)))
}

/// A port the persona keeps closed.
fn closed_port(persona: &Persona) -> u16 {
    (1..).find(|p| !persona.tcp_open(*p)).unwrap()
}

/// The option kinds (NOP and EOL included) of an option block, in order.
fn kinds(options: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < options.len() {
        let kind = options[at];
        out.push(kind);
        at += if kind <= 1 { 1 } else { usize::from(*options.get(at + 1).unwrap_or(&1)).max(1) };
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// The option kinds a persona's SYN/ACK layout gives when everything was offered.
fn layout_kinds(persona: &Persona) -> Vec<u8> {
    let mut out: Vec<u8> = persona
        .syn_ack
        .options
        .iter()
        .filter(|o| {
            !(matches!(o, TcpOpt::Timestamps) && persona.timestamps == tojimari_testbed::persona::TimestampClock::None)
        })
        .map(|o| match o {
            TcpOpt::Mss(_) => 2,
            TcpOpt::Nop => 1,
            TcpOpt::Eol => 0,
            TcpOpt::WindowScale(_) => 3,
            TcpOpt::SackPermitted => 4,
            TcpOpt::Timestamps => 8,
        })
        .collect();
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// nmap's grepable verdict for `ports` of `addr`, run inside the scanner namespace.
fn nmap_states(bed: &TestBed, args: &[&str], addr: &str, ports: &[u16]) -> String {
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let list = list.join(",");
    let mut full = vec!["nmap", "-n", "-Pn", "-sS", "--max-retries", "2", "-oG", "-", "-p", &list];
    full.extend_from_slice(args);
    full.push(addr);
    let out = bed.scanner().run(&full).unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_all(bed: &TestBed) -> Vec<PersonaHost> {
    let hosts = bed.add_personas(catalog::all()).unwrap();
    for (i, host) in hosts.iter().enumerate() {
        assert_eq!((host.v4(), host.v6()), (persona_addrs(i).0, Some(persona_addrs(i).1)));
    }
    hosts
}

#[test]
fn every_persona_answers_as_written() {
    let bed = testbed_or_skip!(1);
    let hosts = start_all(&bed);
    let scanner = bed.scanner();
    for (i, host) in hosts.iter().enumerate() {
        let p = host.persona();
        let name = p.truth.name;
        let open = p.open_tcp[0];
        let closed = closed_port(p);
        let sport = 50_000 + u16::try_from(i).unwrap() * 10;

        let syn_ack = tcp_probe(scanner, SCANNER_V4, host.v4(), sport, open, SYN)
            .unwrap_or_else(|| panic!("{name}: no answer on open port {open}"));
        assert_eq!(syn_ack.flags & (SYN | ACK | RST), SYN | ACK, "{name}");
        assert_eq!(
            (syn_ack.ttl, syn_ack.df, syn_ack.window),
            (p.ttl, p.df, p.syn_ack.window),
            "{name}: TTL, DF, window"
        );
        assert_eq!(kinds(&syn_ack.options), layout_kinds(p), "{name}: option layout {:?}", syn_ack.options);

        let rst = tcp_probe(scanner, SCANNER_V4, host.v4(), sport + 1, closed, SYN)
            .unwrap_or_else(|| panic!("{name}: no answer on closed port {closed}"));
        assert_eq!(rst.flags & (RST | SYN), RST, "{name}: closed port resets");

        let reply = echo(scanner, host.v4(), 0, 0x7700 + u16::try_from(i).unwrap())
            .unwrap_or_else(|| panic!("{name}: no echo reply"));
        assert_eq!(reply.ttl, p.echo.ttl.unwrap_or(p.ttl), "{name}: echo TTL");

        let grep = nmap_states(&bed, &[], &host.v4().to_string(), &[open, closed]);
        assert!(grep.contains(&format!("{open}/open/tcp")), "{name}: nmap sees {open} open:\n{grep}");
        assert!(grep.contains(&format!("{closed}/closed/tcp")), "{name}: nmap sees {closed} closed:\n{grep}");
        let (received, sent) = host.frames();
        assert!(received > 0 && sent > 0, "{name}: frames {received}/{sent}");
        assert_eq!(host.last_error(), None, "{name}");
    }
}

#[test]
fn a_persona_is_scanned_over_ipv6_and_its_device_goes_with_it() {
    let bed = testbed_or_skip!(0);
    let (v4, v6) = persona_addrs(0);
    let host = bed.add_persona(catalog::windows_10(), v4, Some(v6)).unwrap();
    assert_eq!((host.v4(), host.v6(), host.truth().family, host.distance()), (v4, Some(v6), "Windows", 1));
    assert_eq!(host.truth().cpe, "cpe:/o:microsoft:windows_10");
    assert_eq!(host.expected_uptime(), None, "Windows 10 sends no timestamps");
    let grep = nmap_states(&bed, &["-6"], &v6.to_string(), &[445, 1]);
    assert!(grep.contains("445/open/tcp") && grep.contains("1/closed/tcp"), "nmap -6:\n{grep}");

    let tap = host.tap_name().to_owned();
    assert!(bed.switch().ip(&["link", "show", &tap]).is_ok());
    drop(host);
    assert!(bed.switch().ip(&["link", "show", &tap]).is_err(), "dropping the host removes {tap}");
    assert!(echo(bed.scanner(), v4, 0, 1).is_none(), "and nothing answers for {v4} any more");
}

#[test]
fn persona_addresses_are_checked() {
    let bed = testbed_or_skip!(1);
    let taken = bed.target(0).v4;
    assert!(bed.add_persona(catalog::lwip(), taken, None).is_err(), "a target's address");
    assert!(bed.add_persona(catalog::lwip(), SCANNER_V4, None).is_err(), "the scanner's address");
    assert!(bed.add_persona(catalog::lwip(), Ipv4Addr::new(10, 0, 0, 1), None).is_err(), "outside the bed");
    let (v4, _) = persona_addrs(1);
    assert!(bed.add_persona(catalog::lwip(), v4, Some("2001:db8:99::1".parse().unwrap())).is_err(), "v6 outside");
    assert!(bed.add_personas(vec![catalog::lwip(); 55]).is_err(), "more than the range holds");
    let first = bed.add_persona(catalog::lwip(), v4, None).unwrap();
    assert!(bed.add_persona(catalog::lwip(), v4, None).is_err(), "the same address twice");
    drop(first);
}

/// The uptime a persona's timestamps show moves with the clock it was given, and the SYN/ACK's timestamp
/// value agrees with it (within the time the probe takes).
#[test]
fn timestamps_show_the_claimed_uptime() {
    let bed = testbed_or_skip!(0);
    let (v4, _) = persona_addrs(2);
    let host = bed.add_persona(catalog::linux_2_6(), v4, None).unwrap();
    let answer = tcp_probe(bed.scanner(), SCANNER_V4, v4, 51_000, 22, SYN).unwrap();
    let expected = host.expected_uptime().unwrap();
    let at = answer.options.windows(2).position(|w| w == [8, 10]).unwrap();
    let tsval = u32::from_be_bytes(answer.options[at + 2..at + 6].try_into().unwrap());
    let want = (expected.as_millis() % (1u128 << 32)) as u32;
    let diff = want.wrapping_sub(tsval);
    assert!(diff < 2000, "TSval {tsval} vs {want} (1000 Hz from 40 days)");
}

#[test]
fn routed_hops_take_one_and_two_from_the_ttl() {
    let bed = testbed_or_skip!(0);
    let routed = bed.add_routed_hops(2).unwrap();
    let _near = routed.host(1).listen_tcp(&[80]).unwrap();
    let _far = routed.host(2).listen_tcp(&[80]).unwrap();
    let cisco = bed.add_persona_behind(&routed, 1, catalog::cisco_ios(), Ipv4Addr::new(198, 18, 1, 200), None).unwrap();
    let far_v6: Ipv6Addr = "2001:db8:18:2::c8".parse().unwrap();
    let lwip =
        bed.add_persona_behind(&routed, 2, catalog::lwip(), Ipv4Addr::new(198, 18, 2, 200), Some(far_v6)).unwrap();
    let scanner = bed.scanner();

    for (hop, port) in [(1usize, 52_000u16), (2, 52_010)] {
        let host = routed.host(hop);
        let answer = tcp_probe(scanner, SCANNER_V4, host.v4, port, 80, SYN)
            .unwrap_or_else(|| panic!("no SYN/ACK from the Linux host {} hops away", hop));
        assert_eq!(answer.flags & (SYN | ACK), SYN | ACK);
        assert_eq!(usize::from(answer.ttl), 64 - hop, "Linux host {hop} hops away");
    }
    for (host, hop, port) in [(&cisco, 1u8, 52_020u16), (&lwip, 2, 52_030)] {
        let p = host.persona();
        let answer = tcp_probe(scanner, SCANNER_V4, host.v4(), port, p.open_tcp[0], SYN)
            .unwrap_or_else(|| panic!("no SYN/ACK from {} {hop} hops away", p.truth.name));
        assert_eq!(answer.ttl, p.ttl - hop, "{} {hop} hops away", p.truth.name);
        assert_eq!((host.distance(), RoutedHops::distance(usize::from(hop))), (hop + 1, hop + 1));
        assert_eq!(answer.window, p.syn_ack.window);
        let reply = echo(scanner, host.v4(), 0, 0x6600 + u16::from(hop)).unwrap();
        assert_eq!(reply.ttl, p.ttl - hop);
        let grep = nmap_states(&bed, &[], &host.v4().to_string(), &[p.open_tcp[0]]);
        assert!(grep.contains(&format!("{}/open/tcp", p.open_tcp[0])), "nmap through {hop} routers:\n{grep}");
    }
    // Over IPv6 too: the Linux host and the persona two routers away.
    let far_host = routed.host(2).v6.to_string();
    let grep = nmap_states(&bed, &["-6"], &far_host, &[80]);
    assert!(grep.contains("80/open/tcp"), "nmap -6 to the Linux host two routers away:\n{grep}");
    let grep = nmap_states(&bed, &["-6"], &far_v6.to_string(), &[80]);
    assert!(grep.contains("80/open/tcp"), "nmap -6 to the persona two routers away:\n{grep}");
    let hop_limit = hop_limit_of_answer(&bed, far_v6, 80);
    assert_eq!(hop_limit, catalog::lwip().hop_limit - 2, "the persona's hop limit less two");

    let v4 = |c: u8, d: u8| Ipv4Addr::new(198, 18, c, d);
    assert!(bed.add_persona_behind(&routed, 3, catalog::lwip(), v4(3, 200), None).is_err());
    assert!(bed.add_persona_behind(&routed, 1, catalog::lwip(), v4(2, 201), None).is_err());
    assert!(bed.add_persona_behind(&routed, 1, catalog::lwip(), v4(1, 201), Some(far_v6)).is_err(), "v6 of hop 2");
    drop((cisco, lwip));
    let router = routed.router(1).name().to_owned();
    drop(routed);
    assert!(!std::path::Path::new(&format!("/run/netns/{router}")).exists(), "routers go with the value");
    assert!(tcp_probe(scanner, SCANNER_V4, Ipv4Addr::new(198, 18, 1, 2), 52_040, 80, SYN).is_none());
}

#[test]
fn linux_variants_change_what_the_syn_ack_shows() {
    use tojimari_testbed::LinuxVariant::{self, *};
    use tojimari_wire::tcp::flags::{CWR, ECE};
    let variants = [Stock, NoTimestamps, NoSack, NoWindowScaling, Ttl(128), EcnOn, EcnOff];
    let bed = testbed_or_skip!(variants.len());
    let mut keep = Vec::new();
    for (i, variant) in variants.iter().enumerate() {
        let target = bed.target(i);
        variant.apply(target).unwrap();
        keep.push(target.listen_tcp(&[80]).unwrap());
    }
    for (i, variant) in variants.iter().enumerate() {
        let target = bed.target(i);
        let port = 53_000 + u16::try_from(i).unwrap() * 10;
        let a = tcp_probe(bed.scanner(), SCANNER_V4, target.v4, port, 80, SYN).unwrap();
        let k = kinds(&a.options);
        let name = variant.name();
        assert_eq!(k.contains(&8), *variant != NoTimestamps, "{name}: timestamps {k:?}");
        assert_eq!(k.contains(&4), *variant != NoSack, "{name}: SACK {k:?}");
        assert_eq!(k.contains(&3), *variant != NoWindowScaling, "{name}: window scale {k:?}");
        assert_eq!(a.ttl, if *variant == Ttl(128) { 128 } else { 64 }, "{name}: TTL");
        let ecn = tcp_probe(bed.scanner(), SCANNER_V4, target.v4, port + 1, 80, SYN | ECE | CWR).unwrap();
        let echoed = ecn.flags & ECE != 0;
        // The kernel's default (2) accepts ECN when asked; 0 refuses it.
        assert_eq!(echoed, *variant != EcnOff, "{name}: ECE in the answer to an ECN SYN");
        assert_eq!(
            bed.target(i).ns.read_sysctl("net.ipv4.tcp_sack").unwrap(),
            if *variant == NoSack { "0" } else { "1" },
            "{name}: only its own namespace changed"
        );
    }
    let _ = LinuxVariant::all();
}

/// nmap's own OS detection runs against every persona at once and finds, for each, the open and closed
/// ports it needs (it says so when it cannot). What nmap then names each persona is for the benchmark to
/// report, not for this test to judge: it names them from its own database.
#[test]
fn nmap_os_detection_finds_the_ports_it_needs_on_every_persona() {
    let bed = testbed_or_skip!(0);
    let hosts = start_all(&bed);
    let mut args: Vec<String> = ["nmap", "-n", "-Pn", "-O", "--osscan-guess", "--max-retries", "1", "-oN", "-"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut ports: Vec<u16> = hosts.iter().flat_map(|h| [h.persona().open_tcp[0], closed_port(h.persona())]).collect();
    ports.sort_unstable();
    ports.dedup();
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    args.push("-p".into());
    args.push(ports.join(","));
    args.extend(hosts.iter().map(|h| h.v4().to_string()));
    let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = Instant::now();
    let out = bed.scanner().run(&borrowed).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if std::env::var_os("TOJIMARI_SHOW_NMAP").is_some() {
        println!("nmap -O took {:?}:\n{text}", started.elapsed());
    }
    for host in &hosts {
        let section = text
            .split("Nmap scan report for ")
            .find(|s| s.starts_with(&host.v4().to_string()))
            .unwrap_or_else(|| panic!("no report for {}:\n{text}", host.v4()));
        let name = host.truth().name;
        assert!(!section.contains("could not find at least 1 open and 1 closed port"), "{name}:\n{section}");
        assert!(section.contains(&format!("{}/tcp", host.persona().open_tcp[0])), "{name}:\n{section}");
        assert!(section.contains("Network Distance: 1 hop") || section.contains("MAC Address"), "{name}:\n{section}");
    }
}

/// The idle-scan zombie answers an unsolicited SYN/ACK with a reset, and its IP ID counts every packet
/// it sends, whoever asks.
#[test]
fn the_idle_scan_zombie_counts_every_packet() {
    let bed = testbed_or_skip!(0);
    let (v4, _) = persona_addrs(3);
    let _zombie = bed.add_persona(catalog::idle_zombie(), v4, None).unwrap();
    let first = tcp_probe(bed.scanner(), SCANNER_V4, v4, 54_000, 80, SYN | ACK).unwrap();
    assert_eq!(first.flags, RST);
    let ping = echo(bed.scanner(), v4, 0, 0x5500).unwrap();
    let second = tcp_probe(bed.scanner(), SCANNER_V4, v4, 54_001, 80, SYN | ACK).unwrap();
    assert_eq!((ping.id.wrapping_sub(first.id), second.id.wrapping_sub(ping.id)), (1, 1));
}

/// A fast full SYN scan (65535 ports at nmap's --min-rate 20000) of two personas at once: every port is
/// answered, so nmap finds exactly the open ports and calls all others closed.
#[test]
fn a_fast_full_port_scan_gets_every_answer() {
    let bed = testbed_or_skip!(0);
    let hosts = bed.add_personas(vec![catalog::windows_10(), catalog::linux_2_6()]).unwrap();
    let mut args = vec!["nmap", "-n", "-Pn", "-sS", "-p-", "--min-rate", "20000", "-oG", "-"];
    let addrs: Vec<String> = hosts.iter().map(|h| h.v4().to_string()).collect();
    args.extend(addrs.iter().map(String::as_str));
    let out = bed.scanner().run(&args).unwrap();
    let grep = String::from_utf8_lossy(&out.stdout);
    for host in &hosts {
        let p = host.persona();
        let line = grep
            .lines()
            .find(|l| l.starts_with(&format!("Host: {} ", host.v4())) && l.contains("Ports:"))
            .unwrap_or_else(|| panic!("no ports line for {}:\n{grep}", p.truth.name));
        for port in &p.open_tcp {
            assert!(line.contains(&format!("{port}/open/tcp")), "{}: {line}", p.truth.name);
        }
        let closed = 65535 - p.open_tcp.len();
        assert!(line.contains(&format!("Ignored State: closed ({closed})")), "{}: {line}", p.truth.name);
        let (received, sent) = host.frames();
        assert!(received >= 65535 && sent >= 65535, "{}: {received} in, {sent} out", p.truth.name);
    }
}

/// The hop limit of the SYN/ACK `dst:port` sends to a SYN from the scanner namespace (sent on a raw IPv6
/// socket, the answer read whole from a packet socket).
fn hop_limit_of_answer(bed: &TestBed, dst: Ipv6Addr, port: u16) -> u8 {
    let src = tojimari_testbed::SCANNER_V6;
    bed.scanner()
        .run_in(move || {
            // ETH_P_IPV6 in network byte order, as packet(7) wants the protocol.
            let ipv6_frames = Protocol::from(i32::from(0x86ddu16.to_be()));
            let capture = Socket::new(Domain::PACKET, Type::DGRAM, Some(ipv6_frames)).unwrap();
            capture.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
            let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::TCP)).unwrap();
            let mut seg = vec![0u8; 20 + ALL_OPTIONS.len()];
            let mut t = TcpPacket::new_unchecked(&mut seg[..]);
            t.set_src_port(55_000);
            t.set_dst_port(port);
            t.set_seq_number(7);
            t.set_header_len(40);
            t.set_flags(SYN);
            t.set_window_len(1024);
            t.options_mut().copy_from_slice(&ALL_OPTIONS);
            t.fill_checksum(IpAddr::V6(src), IpAddr::V6(dst));
            socket.send_to(&seg, &SockAddr::from(SocketAddr::new(IpAddr::V6(dst), 0))).unwrap();
            let deadline = Instant::now() + ANSWER;
            let mut buf = [0u8; 2048];
            let mut reader = &capture;
            while Instant::now() < deadline {
                let Ok(n) = reader.read(&mut buf) else { continue };
                let Ok(ip) = Ipv6Packet::new_checked(&buf[..n]) else { continue };
                let Ok(t) = TcpPacket::new_checked(ip.payload()) else { continue };
                if ip.src_addr() == dst && t.src_port() == port && t.dst_port() == 55_000 {
                    return ip.hop_limit();
                }
            }
            panic!("no SYN/ACK from {dst}:{port}");
        })
        .unwrap()
}
