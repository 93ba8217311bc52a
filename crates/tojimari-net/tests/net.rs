//! Test-bed tests: real frames between the scanner namespace and a target namespace (and on
//! the scanner namespace's loopback), checked against listeners the tests open themselves.
//! Every test needs root and skips loudly without it (fails under CI).

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use tojimari_net::{
    Filter, FrameSender, Handoff, NetError, PacketSender, PacketSocket, RingConfig, Route, SendMethod, SendPreference,
    TxRingConfig, interface_by_name, interfaces, next_hop_mac, raw_allowed, route_to,
};
use tojimari_testbed::{SCANNER_V4, SCANNER_V6, TestBed, testbed_or_skip};
use tojimari_wire::tcp::flags::{ACK, RST, SYN};
use tojimari_wire::{
    EtherType, EthernetFrame, EthernetRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpPacket, TcpRepr,
};
use tojimari_wire::{ethernet, ip_protocol, ipv4, ipv6};

const OPEN: u16 = 8080;
const CLOSED: u16 = 8081;
const SMALL_RING: RingConfig = RingConfig { block_size: 1 << 16, block_count: 8, frame_timeout_ms: 5 };

/// The route to `dst` (on-link) and its MAC, from inside the scanner namespace.
fn route_and_mac(dst: IpAddr) -> (Route, [u8; 6]) {
    let route = route_to(dst).unwrap();
    let mac = next_hop_mac(&route, dst, Duration::from_secs(3)).unwrap();
    (route, mac)
}

// ---- frame building and parsing (just enough for SYNs and their answers), through tojimari-wire ----

/// Ethernet + IPv4/IPv6 + TCP SYN (no options, window 1024) with correct checksums.
fn syn_frame(route: &Route, dst_mac: [u8; 6], dport: u16, sport: u16, seq: u32) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq_number: seq,
        flags: SYN,
        window_len: 1024,
        ..TcpRepr::default()
    };
    let ip_len = if route.src.is_ipv4() { ipv4::HEADER_LEN } else { ipv6::HEADER_LEN };
    let mut frame = vec![0u8; ethernet::HEADER_LEN + ip_len + tcp.buffer_len()];
    let (eth, rest) = frame.split_at_mut(ethernet::HEADER_LEN);
    let (ip, segment) = rest.split_at_mut(ip_len);
    let ethertype = match (route.src, route.dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
            let repr = Ipv4Repr {
                src_addr,
                dst_addr,
                protocol: ip_protocol::TCP,
                payload_len: tcp.buffer_len(),
                ttl: 64,
                ident: 0x1234,
                dscp_ecn: 0,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
            };
            repr.emit(&mut Ipv4Packet::new_unchecked(ip)).unwrap();
            EtherType::IPV4
        }
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
            let repr = Ipv6Repr {
                src_addr,
                dst_addr,
                next_header: ip_protocol::TCP,
                payload_len: tcp.buffer_len(),
                hop_limit: 64,
                traffic_class: 0,
                flow_label: 0,
            };
            repr.emit(&mut Ipv6Packet::new_unchecked(ip)).unwrap();
            EtherType::IPV6
        }
        _ => panic!("mixed families"),
    };
    let mut packet = TcpPacket::new_unchecked(segment);
    tcp.emit(&mut packet);
    packet.fill_checksum(route.src, route.dst);
    EthernetRepr { src_addr: route.src_mac, dst_addr: dst_mac, ethertype }.emit(&mut EthernetFrame::new_unchecked(eth));
    frame
}

/// A TCP segment seen in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seg {
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
}

fn parse_tcp(frame: &[u8]) -> Option<Seg> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    let (src, dst, proto, segment) = match eth.ethertype() {
        EtherType::IPV4 => {
            let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
            (IpAddr::V4(ip.src_addr()), IpAddr::V4(ip.dst_addr()), ip.protocol(), ip.payload())
        }
        EtherType::IPV6 => {
            let ip = Ipv6Packet::new_checked(eth.payload()).ok()?;
            (IpAddr::V6(ip.src_addr()), IpAddr::V6(ip.dst_addr()), ip.next_header(), ip.payload())
        }
        _ => return None,
    };
    if proto != ip_protocol::TCP {
        return None;
    }
    let t = TcpPacket::new_checked(segment).ok()?;
    let (sport, dport, seq, ack, flags) = (t.src_port(), t.dst_port(), t.seq_number(), t.ack_number(), t.flags());
    Some(Seg { src, dst, sport, dport, seq, ack, flags })
}

/// Receives until `done` says so or `timeout` passes; returns the TCP segments seen.
fn collect(socket: &mut PacketSocket, timeout: Duration, done: impl Fn(&[Seg]) -> bool) -> Vec<Seg> {
    let deadline = Instant::now() + timeout;
    let mut segs = Vec::new();
    while !done(&segs) && Instant::now() < deadline {
        socket.recv(Duration::from_millis(50), &mut |frame| segs.extend(parse_tcp(frame))).unwrap();
    }
    segs
}

fn target_mac(bed: &TestBed) -> [u8; 6] {
    let out = bed.target(0).ns.run(&["cat", "/sys/class/net/eth0/address"]).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let bytes: Vec<u8> = text.trim().split(':').map(|h| u8::from_str_radix(h, 16).unwrap()).collect();
    bytes.try_into().unwrap()
}

// ---- routes, interfaces, neighbours ----

#[test]
fn routes_in_the_scanner_namespace() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let (t4, t6) = (bed.target(0).v4, bed.target(0).v6);
    bed.scanner()
        .run_in(move || {
            let eth0 = interface_by_name("eth0").unwrap();
            assert!(!eth0.loopback);
            assert!(eth0.addrs.contains(&IpAddr::V4(SCANNER_V4)) && eth0.addrs.contains(&IpAddr::V6(SCANNER_V6)));
            assert_ne!(eth0.mac, [0; 6]);
            let all = interfaces().unwrap();
            assert!(all.iter().any(|i| i.loopback && i.name == "lo"));
            assert!(all.iter().any(|i| i.name == "eth0"));

            for (dst, src) in [(IpAddr::V4(t4), IpAddr::V4(SCANNER_V4)), (IpAddr::V6(t6), IpAddr::V6(SCANNER_V6))] {
                let route = route_to(dst).unwrap();
                assert_eq!(
                    route,
                    Route {
                        dst,
                        ifindex: eth0.index,
                        ifname: "eth0".into(),
                        src,
                        gateway: None,
                        src_mac: eth0.mac,
                        loopback: false,
                        mtu: eth0.mtu,
                    }
                );
            }

            let via = route_to(IpAddr::V4(Ipv4Addr::new(198, 19, 1, 1))).unwrap();
            assert_eq!(via.gateway, Some(IpAddr::V4(t4)));
            assert_eq!(via.next_hop(), IpAddr::V4(t4));
            assert_eq!(via.ifname, "eth0");

            // No default route in the bed: anything else is unreachable.
            let nowhere = IpAddr::V4(Ipv4Addr::new(198, 18, 255, 1));
            let err = route_to(IpAddr::V4(Ipv4Addr::new(198, 20, 255, 1))).unwrap_err();
            assert!(matches!(err, NetError::NoRoute { .. }), "{err:?}");
            assert!(matches!(route_to(nowhere), Err(NetError::NoRoute { .. })));
            let v6_nowhere = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 1));
            assert!(matches!(route_to(v6_nowhere), Err(NetError::NoRoute { .. })));

            for local in [
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::new(127, 1, 2, 3)),
                IpAddr::V4(SCANNER_V4),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
                IpAddr::V6(SCANNER_V6),
            ] {
                let route = route_to(local).unwrap();
                assert!(route.loopback, "{local}: {route:?}");
                assert_eq!((route.ifname.as_str(), route.src_mac, route.gateway), ("lo", [0; 6], None), "{local}");
                assert_eq!(next_hop_mac(&route, local, Duration::ZERO).unwrap(), [0; 6]);
            }
        })
        .unwrap();
}

#[test]
fn route_to_an_unrouted_address_is_no_route() {
    let bed = testbed_or_skip!(0);
    bed.scanner()
        .run_in(|| {
            let dst = IpAddr::V4(Ipv4Addr::new(198, 19, 255, 1));
            match route_to(dst) {
                Err(NetError::NoRoute { dst: d }) => assert_eq!(d, dst),
                other => panic!("{other:?}"),
            }
        })
        .unwrap();
}

#[test]
fn next_hop_mac_resolves_v4_and_v6() {
    let bed = testbed_or_skip!(1);
    let expected = target_mac(&bed);
    let (t4, t6) = (bed.target(0).v4, bed.target(0).v6);
    bed.scanner()
        .run_in(move || {
            for dst in [IpAddr::V4(t4), IpAddr::V6(t6)] {
                let route = route_to(dst).unwrap();
                let started = Instant::now();
                assert_eq!(next_hop_mac(&route, route.next_hop(), Duration::from_secs(3)).unwrap(), expected, "{dst}");
                assert!(started.elapsed() < Duration::from_secs(2), "{dst} took {:?}", started.elapsed());
                // Second time straight from the table.
                assert_eq!(next_hop_mac(&route, dst, Duration::ZERO).unwrap(), expected);
            }
            // Nobody has .200: unresolved, after the timeout.
            let silent = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 200));
            let route = route_to(silent).unwrap();
            let started = Instant::now();
            match next_hop_mac(&route, silent, Duration::from_millis(300)) {
                Err(NetError::NeighborUnresolved { ip }) => assert_eq!(ip, silent),
                other => panic!("{other:?}"),
            }
            assert!(started.elapsed() >= Duration::from_millis(300));
        })
        .unwrap();
}

// ---- packet sockets ----

/// Sends a SYN to an open and to a closed port of target 0 at `dst`, and returns the answers.
fn syn_to_open_and_closed(bed: &TestBed, dst: IpAddr, use_sender: bool) -> (Vec<Seg>, tojimari_net::RxStats) {
    bed.scanner()
        .run_in(move || {
            assert!(raw_allowed());
            let route = route_to(dst).unwrap();
            let mac = next_hop_mac(&route, route.next_hop(), Duration::from_secs(3)).unwrap();
            let mut socket = PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), SMALL_RING).unwrap();
            let frames = [syn_frame(&route, mac, OPEN, 40000, 1000), syn_frame(&route, mac, CLOSED, 40001, 2000)];
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let sent = if use_sender {
                socket.try_clone_sender().unwrap().send_batch(&refs).unwrap()
            } else {
                socket.send_batch(&refs).unwrap()
            };
            assert_eq!(sent, 2);
            let segs = collect(&mut socket, Duration::from_secs(3), |s| s.len() >= 2);
            (segs, socket.stats().unwrap())
        })
        .unwrap()
}

fn check_syn_answers(dst: IpAddr, src: IpAddr, segs: &[Seg], stats: tojimari_net::RxStats) {
    let syn_ack = segs.iter().find(|s| s.sport == OPEN).expect("a SYN/ACK from the open port");
    assert_eq!((syn_ack.src, syn_ack.dst, syn_ack.dport), (dst, src, 40000));
    assert_eq!(syn_ack.flags, SYN | ACK);
    assert_eq!(syn_ack.ack, 1001);
    let rst = segs.iter().find(|s| s.sport == CLOSED).expect("a RST from the closed port");
    assert_eq!((rst.src, rst.dst, rst.dport), (dst, src, 40001));
    assert_eq!(rst.flags, RST | ACK);
    assert_eq!(rst.ack, 2001);
    assert!(segs.iter().all(|s| s.dst == src), "the filter passed a frame to someone else: {segs:?}");
    assert!(segs.iter().all(|s| s.flags & SYN == 0 || s.flags & ACK != 0), "our own SYN was read back: {segs:?}");
    assert!(stats.packets >= 2, "{stats:?}");
    assert_eq!(stats.drops, 0);
}

#[test]
fn syn_gets_syn_ack_and_rst_v4() {
    let bed = testbed_or_skip!(1);
    let _listening = bed.target(0).listen_tcp(&[OPEN]).unwrap();
    let dst = IpAddr::V4(bed.target(0).v4);
    let (segs, stats) = syn_to_open_and_closed(&bed, dst, false);
    check_syn_answers(dst, IpAddr::V4(SCANNER_V4), &segs, stats);
}

#[test]
fn syn_gets_syn_ack_and_rst_v6_through_a_sender() {
    let bed = testbed_or_skip!(1);
    let _listening = bed.target(0).listen_tcp(&[OPEN]).unwrap();
    let dst = IpAddr::V6(bed.target(0).v6);
    let (segs, stats) = syn_to_open_and_closed(&bed, dst, true);
    check_syn_answers(dst, IpAddr::V6(SCANNER_V6), &segs, stats);
}

#[test]
fn syn_on_loopback_sees_syn_ack_and_own_probe() {
    let bed = testbed_or_skip!(0);
    for dst in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(SCANNER_V4),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(SCANNER_V6),
    ] {
        bed.scanner()
            .run_in(move || {
                let listener = TcpListener::bind(SocketAddr::new(dst, 0)).unwrap();
                let port = listener.local_addr().unwrap().port();
                let route = route_to(dst).unwrap();
                assert!(route.loopback);
                let mac = next_hop_mac(&route, dst, Duration::ZERO).unwrap();
                let mut socket =
                    PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), SMALL_RING).unwrap();
                let frame = syn_frame(&route, mac, port, 40002, 77);
                assert_eq!(socket.send_batch(&[&frame]).unwrap(), 1);
                let segs = collect(&mut socket, Duration::from_secs(3), |s| s.iter().any(|s| s.flags == SYN | ACK));
                let syn_ack = segs
                    .iter()
                    .find(|s| s.flags == SYN | ACK)
                    .unwrap_or_else(|| panic!("no SYN/ACK on lo for {dst}: {segs:?}"));
                assert_eq!((syn_ack.sport, syn_ack.dport, syn_ack.ack), (port, 40002, 78));
                // Loopback hands our own SYN back as an incoming frame.
                assert!(segs.iter().any(|s| s.flags == SYN && s.dport == port), "{segs:?}");
            })
            .unwrap();
    }
}

#[test]
fn the_filter_keeps_out_frames_to_other_addresses() {
    let bed = testbed_or_skip!(1);
    let _listening = bed.target(0).listen_tcp(&[OPEN]).unwrap();
    let dst = IpAddr::V4(bed.target(0).v4);
    bed.scanner()
        .run_in(move || {
            let (route, mac) = route_and_mac(dst);
            // A filter for an address that is not ours: the SYN/ACK must not get through.
            let mut filtered = PacketSocket::open(
                route.ifindex,
                &Filter::replies_to(&[IpAddr::V4(Ipv4Addr::new(198, 18, 0, 77))]),
                SMALL_RING,
            )
            .unwrap();
            let mut all = PacketSocket::open(route.ifindex, &Filter::accept_all(), SMALL_RING).unwrap();
            let frame = syn_frame(&route, mac, OPEN, 40003, 5);
            assert_eq!(all.send_batch(&[&frame]).unwrap(), 1);
            let seen = collect(&mut all, Duration::from_secs(3), |s| s.iter().any(|s| s.sport == OPEN));
            assert!(seen.iter().any(|s| s.sport == OPEN && s.flags == SYN | ACK), "{seen:?}");
            let leaked = collect(&mut filtered, Duration::from_millis(200), |_| false);
            assert!(leaked.is_empty(), "{leaked:?}");
        })
        .unwrap();
}

#[test]
fn send_batch_of_1000_frames() {
    let bed = testbed_or_skip!(1);
    let dst = IpAddr::V4(bed.target(0).v4);
    bed.scanner()
        .run_in(move || {
            let (route, mac) = route_and_mac(dst);
            let mut socket = PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), SMALL_RING).unwrap();
            let frames: Vec<Vec<u8>> =
                (0..1000u16).map(|i| syn_frame(&route, mac, 20000 + i, 41000, u32::from(i))).collect();
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let mut sent = 0;
            let mut backoffs = 0;
            let deadline = Instant::now() + Duration::from_secs(5);
            while sent < refs.len() && Instant::now() < deadline {
                let n = socket.send_batch(&refs[sent..]).unwrap();
                sent += n;
                if sent < refs.len() {
                    backoffs += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            assert_eq!(sent, 1000, "after {backoffs} back-offs");
            let segs = collect(&mut socket, Duration::from_secs(3), |s| s.len() >= 1000);
            let rsts = segs.iter().filter(|s| s.flags == RST | ACK && s.dport == 41000).count();
            let stats = socket.stats().unwrap();
            eprintln!("1000 SYNs: {backoffs} back-offs, {rsts} RSTs, {stats:?}");
            assert!(rsts >= 900, "only {rsts} of 1000 answered");
            assert!(stats.packets >= rsts as u64);
            // Counters accumulate across reads.
            assert!(socket.stats().unwrap().packets >= stats.packets);
        })
        .unwrap();
}

/// 1000 SYNs through each kind of FrameSender: the transmit ring where granted, sendmmsg when asked or
/// when the kernel refuses the ring (here a slot size that is not a multiple of 16, which it rejects with
/// EINVAL); every one reaches the target, which answers with a reset.
#[test]
fn frame_senders_ring_and_fallback_deliver_every_frame() {
    let bed = testbed_or_skip!(1);
    let dst = IpAddr::V4(bed.target(0).v4);
    bed.scanner()
        .run_in(move || {
            let (route, mac) = route_and_mac(dst);
            let refused = TxRingConfig { frame_size: 1000, ..TxRingConfig::default() };
            let cases = [
                ("ring", FrameSender::open(route.ifindex, SendPreference::Auto).unwrap()),
                ("asked", FrameSender::open(route.ifindex, SendPreference::Mmsg).unwrap()),
                ("refused", FrameSender::open_with(route.ifindex, SendPreference::Auto, refused).unwrap()),
            ];
            for (k, (what, mut sender)) in cases.into_iter().enumerate() {
                match (what, sender.method()) {
                    ("ring", SendMethod::Ring { slots, .. }) => assert!(*slots >= 64),
                    ("asked", SendMethod::Mmsg { why, refused: false }) => assert!(why.contains("turned off"), "{why}"),
                    ("refused", SendMethod::Mmsg { why, refused: true }) => assert!(why.contains("refused"), "{why}"),
                    (what, method) => panic!("{what}: {method}"),
                }
                let sport = 42000 + k as u16;
                let mut socket =
                    PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), SMALL_RING).unwrap();
                let mut queued = 0u16;
                let deadline = Instant::now() + Duration::from_secs(5);
                while queued < 1000 && Instant::now() < deadline {
                    let frame = syn_frame(&route, mac, 20000 + queued, sport, u32::from(queued));
                    let pushed = sender.push(&mut |buf: &mut [u8]| {
                        buf[..frame.len()].copy_from_slice(&frame);
                        frame.len()
                    });
                    if pushed {
                        queued += 1;
                    } else {
                        sender.flush().unwrap();
                    }
                }
                while sender.pending() > 0 && Instant::now() < deadline {
                    sender.flush().unwrap();
                }
                assert_eq!((queued, sender.pending()), (1000, 0), "{what}");
                let segs = collect(&mut socket, Duration::from_secs(3), |s| s.len() >= 1000);
                let rsts = segs.iter().filter(|s| s.flags == RST | ACK && s.dport == sport).count();
                assert_eq!(rsts, 1000, "{what}: {}", sender.method());
            }
            // Loopback keeps sendmmsg, whose IPv4 detour the ring cannot take.
            let lo = interface_by_name("lo").unwrap();
            let sender = FrameSender::open(lo.index, SendPreference::Auto).unwrap();
            assert!(matches!(sender.method(), SendMethod::Mmsg { why, refused: false } if why.contains("loopback")));
        })
        .unwrap();
}

/// A hand-off child keeps only the sockets: a pipe this process closes reaches its end at once although the
/// child is alive; the child waits for the release, then closes its copies and exits.
#[test]
fn a_handoff_child_holds_only_the_sockets_and_ends_after_the_release() {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let bed = testbed_or_skip!(0);
    bed.scanner()
        .run_in(|| {
            let (mut reader, writer) = std::io::pipe().unwrap();
            let lo = interface_by_name("lo").unwrap();
            let socket = PacketSocket::open(lo.index, &Filter::accept_all(), SMALL_RING).unwrap();
            let handoff = Handoff::start(&[socket.as_raw_fd()]).expect("fork");
            let child = handoff.child();
            let alive = |pid: u32| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
            };
            drop(writer);
            let mut rest = Vec::new();
            assert_eq!(reader.read_to_end(&mut rest).unwrap(), 0, "the child holds no copy of the pipe");
            assert!(alive(child), "the child waits for the release");
            drop(socket);
            std::thread::sleep(Duration::from_millis(100));
            assert!(alive(child), "still waiting: not released yet");
            handoff.release();
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive(child) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(!alive(child), "the child ended after the release");
            // Reap it: this test process lives on.
            let _ = tojimari_net::process::wait_with_usage(child);
        })
        .unwrap();
}

#[test]
fn bad_interface_and_ring_are_errors() {
    let bed = testbed_or_skip!(0);
    bed.scanner()
        .run_in(|| {
            let err = PacketSocket::open(999_999, &Filter::accept_all(), SMALL_RING).unwrap_err();
            assert!(matches!(err, NetError::NoInterface { .. }), "{err:?}");
            let bad = RingConfig { block_size: 5000, ..SMALL_RING };
            let lo = interface_by_name("lo").unwrap();
            assert!(matches!(PacketSocket::open(lo.index, &Filter::accept_all(), bad), Err(NetError::Invalid { .. })));
        })
        .unwrap();
}

// ---- measurement (run by hand: cargo test -p tojimari-net --release --test net -- --ignored --nocapture) ----

/// SYNs to closed ports of one target for a few seconds from `senders` threads, each with its
/// own `PacketSender`; counts the RSTs that come back. Prints sent and answered rates.
fn measure(senders: usize, seconds: u64) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    let bed = testbed_or_skip!(1);
    let dst = IpAddr::V4(bed.target(0).v4);
    bed.scanner()
        .run_in(move || {
            let (route, mac) = route_and_mac(dst);
            let mut rx =
                PacketSocket::open(route.ifindex, &Filter::replies_to(&[route.src]), RingConfig::default()).unwrap();
            let stop = Arc::new(AtomicBool::new(false));
            let replies = Arc::new(AtomicU64::new(0));
            let receiver = {
                let (stop, replies) = (stop.clone(), replies.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        rx.recv(Duration::from_millis(20), &mut |frame| {
                            if parse_tcp(frame).is_some_and(|s| s.flags & RST != 0) {
                                replies.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                        .unwrap();
                    }
                    rx.stats().unwrap()
                })
            };
            let started = Instant::now();
            let deadline = started + Duration::from_secs(seconds);
            let threads: Vec<_> = (0..senders)
                .map(|t| {
                    let route = route.clone();
                    let sender = PacketSender::open(route.ifindex).unwrap();
                    std::thread::spawn(move || {
                        let frames: Vec<Vec<u8>> = (1..=u16::MAX)
                            .map(|port| syn_frame(&route, mac, port, 50000 + t as u16, u32::from(port)))
                            .collect();
                        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
                        let (mut sent, mut backoffs) = (0u64, 0u64);
                        'outer: loop {
                            for batch in refs.chunks(1024) {
                                let mut done = 0;
                                while done < batch.len() {
                                    let n = sender.send_batch(&batch[done..]).unwrap();
                                    done += n;
                                    sent += n as u64;
                                    if done < batch.len() {
                                        backoffs += 1;
                                        std::thread::yield_now();
                                    }
                                }
                                if Instant::now() >= deadline {
                                    break 'outer;
                                }
                            }
                        }
                        (sent, backoffs)
                    })
                })
                .collect();
            let (mut sent, mut backoffs) = (0, 0);
            for t in threads {
                let (s, b) = t.join().unwrap();
                sent += s;
                backoffs += b;
            }
            let elapsed = started.elapsed().as_secs_f64();
            std::thread::sleep(Duration::from_millis(500));
            stop.store(true, Ordering::Relaxed);
            let stats = receiver.join().unwrap();
            let answered = replies.load(Ordering::Relaxed);
            eprintln!(
                "sendmmsg, {senders} sender thread(s): {sent} SYNs in {elapsed:.2} s = {:.0} pps sent, {answered} RSTs \
                 ({:.1}%, {:.0} pps answered), {backoffs} back-offs, rx {stats:?}",
                sent as f64 / elapsed,
                100.0 * answered as f64 / sent as f64,
                answered as f64 / elapsed,
            );
        })
        .unwrap();
}

#[test]
#[ignore = "a measurement, run by hand with --release"]
fn measure_sendmmsg_one_sender() {
    measure(1, 3);
}

#[test]
#[ignore = "a measurement, run by hand with --release"]
fn measure_sendmmsg_two_senders() {
    measure(2, 3);
}

/// A TAP device opened on a thread inside the scanner namespace appears there (and only there), reads
/// the ARP request the kernel sends for an address behind it, and writes back the ARP reply, after which
/// the kernel sends the UDP datagram that was waiting, which the device reads too. Dropping the device
/// removes the interface.
#[test]
fn a_tap_device_reads_and_writes_frames_in_its_namespace() {
    use tojimari_net::{TAP_FRAME_MAX, TapDevice};
    use tojimari_wire::{ArpOperation, ArpPacket, ArpRepr, UdpPacket};

    let bed = testbed_or_skip!(0);
    let scanner = bed.scanner();
    let tap = scanner.run_in(|| TapDevice::open("tjmtap0")).unwrap().unwrap();
    assert_eq!(tap.name(), "tjmtap0");
    let shown = scanner.ip(&["-o", "link", "show", "tjmtap0"]).unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("tjmtap0"));
    assert!(bed.switch().ip(&["link", "show", "tjmtap0"]).is_err(), "the device is only in the scanner namespace");
    assert!(matches!(TapDevice::open(""), Err(NetError::Invalid { .. })));

    scanner.ip_batch("addr add 198.18.9.1/24 dev tjmtap0\nlink set tjmtap0 up\n").unwrap();
    let our_mac = [0x02, 0x54, 0x4a, 0x00, 0x09, 0x02];
    let peer = Ipv4Addr::new(198, 18, 9, 2);
    scanner
        .run_in(move || {
            let socket = std::net::UdpSocket::bind("198.18.9.1:0").unwrap();
            socket.send_to(b"hello tap", (peer, 9999)).unwrap();
        })
        .unwrap();

    let mut buf = [0u8; TAP_FRAME_MAX];
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut kernel_mac = None;
    let mut got_datagram = false;
    while Instant::now() < deadline && !got_datagram {
        let Some(n) = tap.recv(&mut buf, Duration::from_millis(200)).unwrap() else { continue };
        let frame = EthernetFrame::new_checked(&buf[..n]).unwrap();
        match frame.ethertype() {
            EtherType::ARP => {
                let arp = ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap();
                if arp.operation != ArpOperation::REQUEST || arp.target_protocol_addr != peer {
                    continue;
                }
                kernel_mac = Some(arp.source_hardware_addr);
                let reply = ArpRepr {
                    operation: ArpOperation::REPLY,
                    source_hardware_addr: our_mac,
                    source_protocol_addr: peer,
                    target_hardware_addr: arp.source_hardware_addr,
                    target_protocol_addr: arp.source_protocol_addr,
                };
                let mut out = vec![0u8; ethernet::HEADER_LEN + reply.buffer_len()];
                let eth =
                    EthernetRepr { src_addr: our_mac, dst_addr: arp.source_hardware_addr, ethertype: EtherType::ARP };
                let mut view = EthernetFrame::new_unchecked(&mut out[..]);
                eth.emit(&mut view);
                reply.emit(&mut ArpPacket::new_unchecked(view.payload_mut()));
                tap.send(&out).unwrap();
            }
            EtherType::IPV4 => {
                let ip = Ipv4Packet::new_checked(frame.payload()).unwrap();
                if ip.dst_addr() != peer || ip.protocol() != ip_protocol::UDP {
                    continue;
                }
                assert_eq!(frame.dst_addr(), our_mac, "sent to the MAC our ARP reply gave");
                assert_eq!(Some(frame.src_addr()), kernel_mac);
                let udp = UdpPacket::new_checked(ip.payload()).unwrap();
                assert_eq!((udp.dst_port(), udp.payload()), (9999, &b"hello tap"[..]));
                got_datagram = true;
            }
            _ => {}
        }
    }
    assert!(kernel_mac.is_some(), "no ARP request for {peer} came out of the TAP device");
    assert!(got_datagram, "the datagram never came after the ARP reply");

    drop(tap);
    assert!(scanner.ip(&["link", "show", "tjmtap0"]).is_err(), "dropping the device removes the interface");
}
