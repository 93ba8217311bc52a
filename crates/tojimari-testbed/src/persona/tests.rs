//! Unit tests of the pure responder: frames in, frames out, time passed in. Every knob of the persona
//! model is driven through [`Responder::answer`] and checked on the bytes it writes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use proptest::prelude::*;
use tojimari_wire::tcp::flags::{ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};
use tojimari_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv6Packet, Icmpv6Repr,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, TcpOption, TcpPacket, UdpPacket, UdpRepr, ethernet, ip_protocol,
};

use super::catalog;
use super::model::*;
use super::responder::Responder;
use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};

const SCANNER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const ME_MAC: [u8; 6] = [0x02, 0x50, 0x45, 18, 0, 200];
const SCANNER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const ME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 200);
const SCANNER6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 1);
const ME6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 0xc8);
/// Every option, as nmap's first sequence probe offers them (timestamp value 0xffffffff).
const ALL_OPTIONS: [u8; 20] = [3, 3, 10, 1, 2, 4, 5, 0xb4, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 4, 2];
const T: Duration = Duration::from_secs(10);

fn responder(persona: Persona) -> Responder {
    Responder::new(persona, ME_MAC, ME, Some(ME6), 42)
}

fn ethernet(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0u8; ethernet::HEADER_LEN + payload.len()];
    EthernetRepr { src_addr: SCANNER_MAC, dst_addr: ME_MAC, ethertype }
        .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    frame[ethernet::HEADER_LEN..].copy_from_slice(payload);
    frame
}

fn ipv4(src: Ipv4Addr, protocol: u8, payload: &[u8], tos: u8, df: bool) -> Vec<u8> {
    let repr = Ipv4Repr {
        src_addr: src,
        dst_addr: ME,
        protocol,
        payload_len: payload.len(),
        ttl: 50,
        ident: 0x4242,
        dscp_ecn: tos,
        dont_frag: df,
        more_frags: false,
        frag_offset: 0,
    };
    let mut packet = vec![0u8; 20 + payload.len()];
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut packet[..])).unwrap();
    packet[20..].copy_from_slice(payload);
    ethernet(EtherType::IPV4, &packet)
}

fn ipv6(dst: Ipv6Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let repr = Ipv6Repr {
        src_addr: SCANNER6,
        dst_addr: dst,
        next_header: protocol,
        payload_len: payload.len(),
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut packet = vec![0u8; 40 + payload.len()];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut packet[..])).unwrap();
    packet[40..].copy_from_slice(payload);
    ethernet(EtherType::IPV6, &packet)
}

struct Probe {
    src: IpAddr,
    sport: u16,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    options: Vec<u8>,
    data: Vec<u8>,
}

fn probe(dport: u16, flags: u8) -> Probe {
    Probe {
        src: IpAddr::V4(SCANNER),
        sport: 40000,
        dport,
        flags,
        seq: 1000,
        ack: 5555,
        options: ALL_OPTIONS.to_vec(),
        data: vec![],
    }
}

fn segment(p: &Probe, dst: IpAddr) -> Vec<u8> {
    let len = 20 + p.options.len();
    let mut bytes = vec![0u8; len + p.data.len()];
    let mut t = TcpPacket::new_unchecked(&mut bytes[..]);
    t.set_src_port(p.sport);
    t.set_dst_port(p.dport);
    t.set_seq_number(p.seq);
    t.set_ack_number(p.ack);
    t.set_header_len(len);
    t.set_flags(p.flags);
    t.set_window_len(1024);
    t.options_mut().copy_from_slice(&p.options);
    bytes[len..].copy_from_slice(&p.data);
    TcpPacket::new_unchecked(&mut bytes[..]).fill_checksum(p.src, dst);
    bytes
}

fn tcp_frame(p: &Probe) -> Vec<u8> {
    match p.src {
        IpAddr::V4(src) => ipv4(src, ip_protocol::TCP, &segment(p, IpAddr::V4(ME)), 0, true),
        IpAddr::V6(_) => ipv6(ME6, ip_protocol::TCP, &segment(p, IpAddr::V6(ME6))),
    }
}

fn udp_frame(dport: u16, data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 8 + data.len()];
    UdpRepr { src_port: 41000, dst_port: dport }
        .emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), IpAddr::V4(SCANNER), IpAddr::V4(ME), data)
        .unwrap();
    ipv4(SCANNER, ip_protocol::UDP, &bytes, 0, false)
}

fn echo_frame(code: u8, tos: u8, df: bool) -> Vec<u8> {
    let mut bytes = vec![8, code, 0, 0, 0x12, 0x34, 0, 1, 0xab, 0xcd, 0xef];
    Icmpv4Packet::new_unchecked(&mut bytes[..]).fill_checksum();
    ipv4(SCANNER, ip_protocol::ICMP, &bytes, tos, df)
}

/// What a test reads back from an IPv4 answer.
#[derive(Debug, Clone)]
struct V4 {
    ttl: u8,
    df: bool,
    id: u16,
    tos: u8,
    protocol: u8,
    payload: Vec<u8>,
}

fn v4(frame: &[u8]) -> V4 {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!((eth.src_addr(), eth.dst_addr(), eth.ethertype()), (ME_MAC, SCANNER_MAC, EtherType::IPV4));
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr()), (ME, SCANNER));
    V4 {
        ttl: ip.ttl(),
        df: ip.dont_frag(),
        id: ip.ident(),
        tos: ip.dscp_ecn(),
        protocol: ip.protocol(),
        payload: ip.payload().to_vec(),
    }
}

/// What a test reads back from a TCP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    options: Vec<u8>,
    tsval: Option<u32>,
    tsecr: Option<u32>,
}

fn seg(payload: &[u8], src: IpAddr, dst: IpAddr) -> Seg {
    let t = TcpPacket::new_checked(payload).unwrap();
    assert!(t.verify_checksum(src, dst), "TCP checksum");
    let ts = t.option_iter().find_map(|o| match o {
        TcpOption::Timestamps(v, e) => Some((v, e)),
        _ => None,
    });
    Seg {
        flags: t.flags(),
        seq: t.seq_number(),
        ack: t.ack_number(),
        window: t.window_len(),
        options: t.options().to_vec(),
        tsval: ts.map(|t| t.0),
        tsecr: ts.map(|t| t.1),
    }
}

/// The one IPv4 TCP answer to `p` at `now`, or `None` when there is none.
fn ask(r: &mut Responder, p: &Probe, now: Duration) -> Option<(V4, Seg)> {
    let out = r.answer(&tcp_frame(p), now);
    assert!(out.len() <= 1, "one answer at most: {out:?}");
    let frame = out.first()?;
    let ip = v4(frame);
    assert_eq!(ip.protocol, ip_protocol::TCP);
    let s = seg(&ip.payload, IpAddr::V4(ME), IpAddr::V4(SCANNER));
    Some((ip, s))
}

#[test]
fn arp_is_answered_for_our_address_only() {
    let mut r = responder(catalog::windows_10());
    let ask_for = |target: Ipv4Addr| {
        let req = ArpRepr {
            operation: ArpOperation::REQUEST,
            source_hardware_addr: SCANNER_MAC,
            source_protocol_addr: SCANNER,
            target_hardware_addr: [0; 6],
            target_protocol_addr: target,
        };
        let mut bytes = vec![0u8; 28];
        req.emit(&mut ArpPacket::new_unchecked(&mut bytes[..]));
        let mut frame = ethernet(EtherType::ARP, &bytes);
        frame[..6].copy_from_slice(&[0xff; 6]);
        frame
    };
    let out = r.answer(&ask_for(ME), T);
    assert_eq!(out.len(), 1);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    assert_eq!((eth.dst_addr(), eth.src_addr(), eth.ethertype()), (SCANNER_MAC, ME_MAC, EtherType::ARP));
    let reply = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).unwrap()).unwrap();
    assert_eq!(reply.operation, ArpOperation::REPLY);
    assert_eq!((reply.source_hardware_addr, reply.source_protocol_addr), (ME_MAC, ME));
    assert_eq!((reply.target_hardware_addr, reply.target_protocol_addr), (SCANNER_MAC, SCANNER));
    assert!(r.answer(&ask_for(Ipv4Addr::new(198, 18, 0, 201)), T).is_empty());
}

#[test]
fn neighbour_solicitations_for_our_address_are_advertised() {
    let mut r = responder(catalog::linux_2_6());
    let solicit = |target: Ipv6Addr| {
        let ns = Icmpv6Repr::NeighborSolicit { target, lladdr: Some(SCANNER_MAC) };
        let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00, 0x00c8);
        let mut bytes = vec![0u8; ns.buffer_len()];
        ns.emit(SCANNER6, group, &mut Icmpv6Packet::new_unchecked(&mut bytes[..]));
        let mut frame = ipv6(group, ip_protocol::ICMPV6, &bytes);
        frame[..6].copy_from_slice(&[0x33, 0x33, 0xff, 0, 0, 0xc8]);
        frame
    };
    let out = r.answer(&solicit(ME6), T);
    assert_eq!(out.len(), 1);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.hop_limit()), (ME6, SCANNER6, 255));
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert!(icmp.verify_checksum(ME6, SCANNER6));
    assert_eq!(
        Icmpv6Repr::parse(&icmp).unwrap(),
        Icmpv6Repr::NeighborAdvert { flags: 0x60, target: ME6, lladdr: Some(ME_MAC) }
    );
    assert!(r.answer(&solicit(SCANNER6), T).is_empty(), "not our address");
}

#[test]
fn syn_ack_has_the_personas_ttl_df_window_and_option_layout() {
    let mut r = responder(catalog::windows_10());
    let (ip, s) = ask(&mut r, &probe(445, SYN), T).unwrap();
    assert_eq!((ip.ttl, ip.df), (128, true));
    assert_eq!((s.flags, s.ack, s.window), (SYN | ACK, 1001, 64240));
    assert_eq!(s.options, [2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);

    let mut r = responder(catalog::linux_2_6());
    let (ip, s) = ask(&mut r, &probe(22, SYN), T).unwrap();
    assert_eq!((ip.ttl, ip.df, s.window), (64, true, 5840));
    let kinds: Vec<u8> = tojimari_wire::tcp::TcpOptions::new(&s.options).map(|o| o.kind()).collect();
    assert_eq!(kinds, [2, 4, 8, 1, 3], "MSS, SACK, TS, NOP, WS");
    assert_eq!(s.tsecr, Some(0xffff_ffff), "the timestamp echoes the probe's");

    let mut r = responder(catalog::cisco_ios());
    let (ip, s) = ask(&mut r, &probe(23, SYN), T).unwrap();
    assert_eq!((ip.ttl, ip.df, s.window, s.options), (255, false, 4128, vec![2, 4, 2, 0x18]));
}

#[test]
fn options_the_syn_did_not_offer_are_left_out() {
    let mut r = responder(catalog::macos());
    let mut p = probe(22, SYN);
    p.options = vec![2, 4, 5, 0xb4];
    let (_, s) = ask(&mut r, &p, T).unwrap();
    assert_eq!(s.options, [2, 4, 5, 0xb4], "only MSS");
    p.options = vec![2, 4, 5, 0xb4, 1, 3, 3, 2];
    let (_, s) = ask(&mut r, &p, T).unwrap();
    assert_eq!(s.options, [2, 4, 5, 0xb4, 1, 3, 3, 6], "MSS and window scale");
}

#[test]
fn timestamps_tick_at_the_personas_rate_from_its_uptime() {
    let mut r = responder(catalog::linux_2_6());
    let (_, a) = ask(&mut r, &probe(22, SYN), Duration::from_secs(1)).unwrap();
    let (_, b) = ask(&mut r, &probe(22, SYN), Duration::from_millis(1500)).unwrap();
    let (a, b) = (a.tsval.unwrap(), b.tsval.unwrap());
    assert_eq!(b.wrapping_sub(a), 500, "1000 Hz");
    let uptime = (40u64 * 86_400 + 1) * 1000;
    assert_eq!(a, (uptime % (1 << 32)) as u32);

    let mut r = responder(catalog::windows_server_2019());
    let (_, a) = ask(&mut r, &probe(80, SYN), Duration::from_secs(1)).unwrap();
    let (_, b) = ask(&mut r, &probe(80, SYN), Duration::from_secs(3)).unwrap();
    assert_eq!(b.tsval.unwrap() - a.tsval.unwrap(), 20, "10 Hz");

    let mut r = responder(catalog::windows_10());
    let (_, s) = ask(&mut r, &probe(445, SYN), T).unwrap();
    assert_eq!(s.tsval, None, "no clock, no timestamps");
}

#[test]
fn per_connection_timestamps_hide_the_uptime() {
    let mut r = responder(catalog::freebsd_14());
    let mut p = probe(22, SYN);
    let (_, a) = ask(&mut r, &p, Duration::from_secs(1)).unwrap();
    let (_, a2) = ask(&mut r, &p, Duration::from_secs(2)).unwrap();
    assert_eq!(a2.tsval.unwrap().wrapping_sub(a.tsval.unwrap()), 1000, "one connection ticks at 1000 Hz");
    p.sport = 40001;
    let (_, b) = ask(&mut r, &p, Duration::from_secs(2)).unwrap();
    let gap = b.tsval.unwrap().wrapping_sub(a2.tsval.unwrap());
    assert!(gap > 10_000 && gap < u32::MAX - 10_000, "another connection, another offset: {gap}");
}

#[test]
fn ip_id_policies_per_answer_kind() {
    // Windows: one global counter, shared by TCP, resets and ICMP.
    let mut r = responder(catalog::windows_10());
    let (a, _) = ask(&mut r, &probe(445, SYN), T).unwrap();
    let (b, _) = ask(&mut r, &probe(1, SYN), T).unwrap();
    let c = v4(&r.answer(&echo_frame(0, 0, false), T)[0]);
    assert_eq!((b.id.wrapping_sub(a.id), c.id.wrapping_sub(b.id)), (1, 1));

    // FreeBSD: zero on DF TCP answers, counting ICMP.
    let mut r = responder(catalog::freebsd_14());
    let (a, _) = ask(&mut r, &probe(22, SYN), T).unwrap();
    let (b, _) = ask(&mut r, &probe(1, SYN), T).unwrap();
    assert_eq!((a.id, b.id), (0, 0));
    let e1 = v4(&r.answer(&echo_frame(0, 0, false), T)[0]);
    let e2 = v4(&r.answer(&echo_frame(0, 0, false), T)[0]);
    assert_eq!(e2.id.wrapping_sub(e1.id), 1);

    // A zombie: global incremental by two, byte-swapped, constant.
    for (policy, step) in [(IpIdPolicy::IncrementalBy2, 2u16), (IpIdPolicy::ByteSwapped, 256)] {
        let mut r = responder(Persona { ip_id: IpIdPolicies::all(policy), ..catalog::windows_10() });
        let (a, _) = ask(&mut r, &probe(445, SYN), T).unwrap();
        let (b, _) = ask(&mut r, &probe(445, SYN), T).unwrap();
        assert_eq!(b.id.wrapping_sub(a.id), step, "{policy:?}");
    }
    let mut r = responder(Persona { ip_id: IpIdPolicies::all(IpIdPolicy::Constant(9)), ..catalog::windows_10() });
    assert_eq!(ask(&mut r, &probe(445, SYN), T).unwrap().0.id, 9);
}

#[test]
fn isn_policies() {
    let mut r = responder(catalog::lwip());
    let (_, a) = ask(&mut r, &probe(80, SYN), Duration::from_secs(1)).unwrap();
    let (_, b) = ask(&mut r, &probe(80, SYN), Duration::from_secs(2)).unwrap();
    assert_eq!(b.seq.wrapping_sub(a.seq), 250_000, "time-based at 250000/s");

    let mut r = responder(catalog::hp_jetdirect());
    let (_, a) = ask(&mut r, &probe(9100, SYN), T).unwrap();
    let (_, b) = ask(&mut r, &probe(9100, SYN), T).unwrap();
    assert_eq!(b.seq.wrapping_sub(a.seq), 64_000);

    let mut r = responder(Persona { isn: IsnPolicy::Constant(77), ..catalog::lwip() });
    assert_eq!(ask(&mut r, &probe(80, SYN), T).unwrap().1.seq, 77);
}

#[test]
fn odd_packets_follow_the_personas_rules() {
    let flags = |r: &mut Responder, p: &Probe| ask(r, p, T).map(|(_, s)| s);
    // NULL and FIN+PSH+URG... to an open port: Windows resets, Linux is silent.
    let mut win = responder(catalog::windows_10());
    let mut lin = responder(catalog::linux_2_6());
    let null = flags(&mut win, &probe(445, 0)).unwrap();
    assert_eq!((null.flags, null.seq, null.ack), (RST | ACK, 0, 1000));
    assert!(flags(&mut lin, &probe(22, 0)).is_none());
    assert!(flags(&mut lin, &probe(22, FIN | PSH | URG)).is_none());

    // SYN+FIN+URG+PSH to an open port: a SYN/ACK from macOS, a reset from Windows.
    let mut mac = responder(catalog::macos());
    let t3 = flags(&mut mac, &probe(22, SYN | FIN | URG | PSH)).unwrap();
    assert_eq!((t3.flags, t3.ack, t3.window), (SYN | ACK, 1001, 65535));
    assert!(!t3.options.is_empty());
    assert_eq!(flags(&mut win, &probe(445, SYN | FIN | URG | PSH)).unwrap().flags, RST | ACK);

    // ACK to an open port: a reset whose seq is the probe's ack.
    let t4 = flags(&mut lin, &probe(22, ACK)).unwrap();
    assert_eq!((t4.flags, t4.seq, t4.window), (RST, 5555, 0));

    // Closed port: SYN -> RST+ACK (seq 0, ack seq+1); ACK -> RST (seq = their ack); FIN+PSH+URG -> RST+ACK.
    let t5 = flags(&mut lin, &probe(1, SYN)).unwrap();
    assert_eq!((t5.flags, t5.seq, t5.ack), (RST | ACK, 0, 1001));
    let t6 = flags(&mut lin, &probe(1, ACK)).unwrap();
    assert_eq!((t6.flags, t6.seq), (RST, 5555));
    let t7 = flags(&mut lin, &probe(1, FIN | PSH | URG)).unwrap();
    assert_eq!((t7.flags, t7.ack), (RST | ACK, 1001));

    // lwIP's resets carry its window; a reset is never answered.
    let mut lw = responder(catalog::lwip());
    assert_eq!(flags(&mut lw, &probe(1, SYN)).unwrap().window, 2144);
    assert!(flags(&mut lw, &probe(80, RST)).is_none());

    // A custom rule: answer with seq = their ack + 1 and ack = their seq, window 7, DF clear.
    let rule = TcpRule {
        respond: true,
        flags: FlagChoice::Fixed(RST),
        seq: SeqChoice::TheirAckPlus1,
        ack: AckChoice::TheirSeq,
        window: 7,
        options: RuleOptions::Layout(&[TcpOpt::Mss(1200), TcpOpt::Nop, TcpOpt::WindowScale(2)]),
        df: Some(false),
    };
    let mut custom = responder(Persona { odd: OddRules { ack_closed: rule, ..OddRules::RFC }, ..catalog::linux_2_6() });
    let (ip, s) = ask(&mut custom, &probe(1, ACK), T).unwrap();
    assert_eq!((s.flags, s.seq, s.ack, s.window, ip.df), (RST, 5556, 1000, 7, false));
    assert_eq!(s.options, [2, 4, 0x04, 0xb0, 1, 3, 3, 2], "the rule's own layout: MSS 1200, NOP, WS 2");
}

#[test]
fn an_idle_scan_zombie_resets_unsolicited_syn_acks_from_one_counter() {
    let zombie = Persona { ip_id: IpIdPolicies::all(IpIdPolicy::Incremental), ..catalog::windows_10() };
    let mut r = responder(zombie);
    let (a, s) = ask(&mut r, &probe(445, SYN | ACK), T).unwrap();
    assert_eq!((s.flags, s.seq), (RST, 5555));
    let (b, _) = ask(&mut r, &probe(1, SYN | ACK), T).unwrap();
    assert_eq!(b.id.wrapping_sub(a.id), 1);
}

#[test]
fn a_chatty_zombies_own_packets_take_ids_from_its_counter() {
    let mut r = responder(catalog::idle_zombie_with(IpIdPolicy::Incremental));
    let (a, _) = ask(&mut r, &probe(80, SYN | ACK), T).unwrap();
    let own = r.background().unwrap();
    let eth = EthernetFrame::new_checked(&own[..]).unwrap();
    assert_eq!((eth.src_addr(), eth.dst_addr()), (ME_MAC, [0xff; 6]));
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert!(ip.verify_checksum());
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.protocol()), (ME, Ipv4Addr::new(198, 18, 0, 255), ip_protocol::UDP));
    assert_eq!(ip.ident().wrapping_sub(a.id), 1);
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!((udp.src_port(), udp.dst_port()), (9, 9));
    let (b, _) = ask(&mut r, &probe(80, SYN | ACK), T).unwrap();
    assert_eq!(b.id.wrapping_sub(a.id), 2, "the idle scan sees the packet of its own");

    let mut by2 = responder(catalog::idle_zombie_with(IpIdPolicy::IncrementalBy2));
    let (c, _) = ask(&mut by2, &probe(80, SYN | ACK), T).unwrap();
    let (d, _) = ask(&mut by2, &probe(80, SYN | ACK), T).unwrap();
    assert_eq!(d.id.wrapping_sub(c.id), 2);
}

#[test]
fn ecn_setup_syns() {
    let mut mac = responder(catalog::macos());
    let (_, s) = ask(&mut mac, &probe(22, SYN | ECE | CWR), T).unwrap();
    assert_eq!(s.flags, SYN | ACK | ECE);
    let mut win = responder(catalog::windows_10());
    let (_, s) = ask(&mut win, &probe(445, SYN | ECE | CWR), T).unwrap();
    assert_eq!(s.flags, SYN | ACK);
    let silent = Persona { ecn: EcnRule { respond: false, ..catalog::macos().ecn }, ..catalog::macos() };
    assert!(ask(&mut responder(silent), &probe(22, SYN | ECE | CWR), T).is_none());
    let ecn =
        EcnRule { respond: true, echo_ece: true, also_cwr: true, window: Some(3), options: Some(&[TcpOpt::Mss(536)]) };
    let odd = Persona { ecn, ..catalog::macos() };
    let (_, s) = ask(&mut responder(odd), &probe(22, SYN | ECE | CWR), T).unwrap();
    assert_eq!(
        (s.flags, s.window, s.options),
        (SYN | ACK | ECE | CWR, 3, vec![2, 4, 2, 0x18]),
        "its own window and layout"
    );
}

#[test]
fn a_handshake_completes_and_data_and_fin_are_acknowledged() {
    let mut r = responder(catalog::linux_2_6());
    let (_, syn_ack) = ask(&mut r, &probe(80, SYN), T).unwrap();
    let mut p = probe(80, ACK);
    p.seq = 1001;
    p.ack = syn_ack.seq.wrapping_add(1);
    p.options.clear();
    assert!(ask(&mut r, &p, T).is_none(), "the final ACK is not answered");
    p.flags = ACK | PSH;
    p.data = b"GET /".to_vec();
    let (_, ack) = ask(&mut r, &p, T).unwrap();
    assert_eq!((ack.flags, ack.ack, ack.seq), (ACK, 1006, syn_ack.seq.wrapping_add(1)));
    p.seq = 1006;
    p.flags = FIN | ACK;
    p.data.clear();
    let (_, fin) = ask(&mut r, &p, T).unwrap();
    assert_eq!((fin.flags, fin.ack), (FIN | ACK, 1007));
    assert_eq!(ask(&mut r, &p, T).unwrap().1.flags, RST, "closed: an ACK outside a connection is reset");
}

#[test]
fn tcp_over_ipv6() {
    let mut r = responder(catalog::windows_10());
    let mut p = probe(445, SYN);
    p.src = IpAddr::V6(SCANNER6);
    let out = r.answer(&tcp_frame(&p), T);
    assert_eq!(out.len(), 1);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    let ip = Ipv6Packet::new_checked(eth.payload()).unwrap();
    assert_eq!((ip.src_addr(), ip.dst_addr(), ip.hop_limit(), ip.next_header()), (ME6, SCANNER6, 128, 6));
    let s = seg(ip.payload(), IpAddr::V6(ME6), IpAddr::V6(SCANNER6));
    assert_eq!((s.flags, s.window), (SYN | ACK, 64240));
    p.dport = 1;
    let out = r.answer(&tcp_frame(&p), T);
    let eth = EthernetFrame::new_checked(&out[0][..]).unwrap();
    let s = seg(Ipv6Packet::new_checked(eth.payload()).unwrap().payload(), IpAddr::V6(ME6), IpAddr::V6(SCANNER6));
    assert_eq!(s.flags, RST | ACK);
}

/// The ICMP error answering `frame`, split into (IP facts, ICMP type, code, unused word, quoted bytes).
fn icmp_error(r: &mut Responder, frame: &[u8]) -> (V4, u8, u8, u32, Vec<u8>) {
    let out = r.answer(frame, T);
    assert_eq!(out.len(), 1);
    let ip = v4(&out[0]);
    let icmp = Icmpv4Packet::new_checked(&ip.payload[..]).unwrap();
    assert!(icmp.verify_checksum());
    let unused = u32::from_be_bytes([ip.payload[4], ip.payload[5], ip.payload[6], ip.payload[7]]);
    (ip.clone(), icmp.msg_type(), icmp.msg_code(), unused, ip.payload[8..].to_vec())
}

#[test]
fn closed_udp_ports_earn_a_port_unreachable_quoted_the_personas_way() {
    let data = [0x55u8; 300];
    let probe = udp_frame(33434, &data);
    let sent_ip = &probe[14..];

    // Cisco: the header and 8 bytes, faithful.
    let mut r = responder(catalog::cisco_ios());
    let (ip, kind, code, unused, quoted) = icmp_error(&mut r, &probe);
    assert_eq!((kind, code, unused, ip.ttl, ip.df), (3, 3, 0, 255, false));
    assert_eq!(quoted, sent_ip[..28]);

    // Linux 2.6: the whole datagram (it fits 576), TOS 0xc0.
    let mut r = responder(catalog::linux_2_6());
    let (ip, _, _, _, quoted) = icmp_error(&mut r, &probe);
    assert_eq!((quoted.len(), ip.tos), (sent_ip.len(), 0xc0));
    assert_eq!(quoted, sent_ip);

    // A long datagram is cut so the error stays within 576 bytes.
    let long = udp_frame(33434, &[1u8; 1000]);
    let (ip, ..) = icmp_error(&mut r, &long);
    assert_eq!(20 + ip.payload.len(), 576);

    // Mangling: length swapped, ID zeroed, IP checksum zeroed, UDP checksum zeroed, unused set, DF set.
    let mangler = IcmpErrorRule {
        quoted_len: QuotedField::Swapped,
        quoted_id: QuotedField::Zero,
        quoted_ip_checksum: QuotedField::Zero,
        quoted_udp_checksum: QuotedField::Zero,
        unused: 0xdead_beef,
        df: true,
        ttl: Some(33),
        ..IcmpErrorRule::RFC792
    };
    let mut r = responder(Persona { icmp_error: mangler, ..catalog::cisco_ios() });
    let (ip, _, _, unused, quoted) = icmp_error(&mut r, &probe);
    assert_eq!((unused, ip.df, ip.ttl), (0xdead_beef, true, 33));
    assert_eq!(&quoted[2..4], &[sent_ip[3], sent_ip[2]], "length byte-swapped");
    assert_eq!((&quoted[4..6], &quoted[10..12], &quoted[26..28]), (&[0u8, 0][..], &[0u8, 0][..], &[0u8, 0][..]));
    assert_eq!(quoted[20..26], sent_ip[20..26], "ports and UDP length kept");

    // A silent persona sends nothing.
    let silent =
        Persona { icmp_error: IcmpErrorRule { respond: false, ..IcmpErrorRule::RFC792 }, ..catalog::cisco_ios() };
    assert!(responder(silent).answer(&probe, T).is_empty());
}

#[test]
fn open_udp_ports_echo() {
    let mut r = responder(catalog::hp_jetdirect());
    let out = r.answer(&udp_frame(161, b"public"), T);
    let ip = v4(&out[0]);
    let udp = UdpPacket::new_checked(&ip.payload[..]).unwrap();
    assert!(udp.verify_checksum(IpAddr::V4(ME), IpAddr::V4(SCANNER)));
    assert_eq!((udp.src_port(), udp.dst_port(), udp.payload()), (161, 41000, &b"public"[..]));
}

#[test]
fn echo_replies_follow_the_echo_rule() {
    // Windows: code 0, DF copied, TOS 0.
    let mut r = responder(catalog::windows_10());
    let ip = v4(&r.answer(&echo_frame(9, 0x20, true), T)[0]);
    let icmp = Icmpv4Packet::new_checked(&ip.payload[..]).unwrap();
    assert!(icmp.verify_checksum());
    assert_eq!((icmp.msg_type(), icmp.msg_code(), icmp.ident(), icmp.seq_no()), (0, 0, 0x1234, 1));
    assert_eq!((ip.df, ip.tos, ip.ttl), (true, 0, 128));
    assert_eq!(&ip.payload[8..], &[0xab, 0xcd, 0xef]);
    // lwIP: the code comes back.
    let mut r = responder(catalog::lwip());
    let ip = v4(&r.answer(&echo_frame(9, 0, false), T)[0]);
    assert_eq!((ip.payload[1], ip.df), (9, false));
    // Copying TOS, a fixed TTL, always DF; and a persona that does not answer.
    let rule = EchoRule { respond: true, df: DfEcho::Set, copy_code: false, copy_tos: true, ttl: Some(99) };
    let mut r = responder(Persona { echo: rule, ..catalog::macos() });
    let ip = v4(&r.answer(&echo_frame(0, 0x20, false), T)[0]);
    assert_eq!((ip.df, ip.tos, ip.ttl), (true, 0x20, 99));
    let quiet = Persona { echo: EchoRule { respond: false, ..EchoRule::PLAIN }, ..catalog::macos() };
    assert!(responder(quiet).answer(&echo_frame(0, 0, false), T).is_empty());
}

#[test]
fn frames_not_for_us_are_ignored() {
    let mut r = responder(catalog::windows_10());
    let mut frame = tcp_frame(&probe(445, SYN));
    frame[..6].copy_from_slice(&[0x02, 9, 9, 9, 9, 9]);
    assert!(r.answer(&frame, T).is_empty(), "another MAC");
    let mut frame = tcp_frame(&probe(445, SYN));
    frame[14 + 19] = 201;
    assert!(r.answer(&frame, T).is_empty(), "another IP address");
    assert!(r.answer(&[], T).is_empty());
}

#[test]
fn unknown_protocols_earn_a_protocol_unreachable_unless_a_handler_takes_them() {
    let frame = ipv4(SCANNER, 132, &[0u8; 12], 0, false);
    let mut r = responder(catalog::linux_2_6());
    let (_, kind, code, _, quoted) = icmp_error(&mut r, &frame);
    assert_eq!((kind, code, quoted.len()), (3, 2, 32), "Linux 2.6 quotes the whole datagram");

    #[derive(Debug)]
    struct Sctp;
    impl IpHandler for Sctp {
        fn protocols(&self) -> &[u8] {
            &[132]
        }
        fn answer(&mut self, _stack: &mut Stack, d: &Datagram<'_>, _now: Duration) -> Vec<IpReply> {
            vec![IpReply {
                dst: d.src,
                protocol: 132,
                payload: vec![1, 2, 3, 4],
                kind: ReplyKind::Tcp,
                df: false,
                ttl: None,
                tos: 0,
                ip_id: Some(7),
            }]
        }
    }
    let mut r = responder(catalog::linux_2_6()).with_handler(Box::new(Sctp));
    let ip = v4(&r.answer(&frame, T)[0]);
    assert_eq!((ip.protocol, ip.id, ip.payload), (132, 7, vec![1, 2, 3, 4]));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), persona in 0usize..9) {
        let mut r = responder(catalog::all()[persona].clone());
        let _ = r.answer(&bytes, T);
    }

    #[test]
    fn damaged_frames_never_panic(
        persona in 0usize..9,
        which in 0usize..4,
        cut in 0usize..120,
        flips in proptest::collection::vec((0usize..120, any::<u8>()), 0..6),
    ) {
        let mut r = responder(catalog::all()[persona].clone());
        let mut p = probe(22, SYN);
        p.src = if which == 3 { IpAddr::V6(SCANNER6) } else { IpAddr::V4(SCANNER) };
        let mut frame = match which {
            0 | 3 => tcp_frame(&p),
            1 => udp_frame(9, b"xyz"),
            _ => echo_frame(3, 0, true),
        };
        for (at, value) in flips {
            if let Some(byte) = frame.get_mut(at) {
                *byte = value;
            }
        }
        frame.truncate(frame.len().min(cut.max(14)));
        let _ = r.answer(&frame, T);
    }
}
