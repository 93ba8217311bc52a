//! The probes: what each of the sixteen looks like, when it goes out ([`schedule`]) and its frame
//! ([`build`]). Shapes follow the method nmap describes in prose (nmap.org/book/osdetect-methods.html),
//! written here in our own code; docs/os-db.md lists them.
//!
//! Every probe is told apart on return by its own source port (TCP, UDP) or ICMP sequence number, all
//! derived from the target's `key` ([`Ids`]), so [`answers`](crate::answers) needs no per-probe state.
//!
//! IPv4 and IPv6 alike: over IPv6 the TCP and UDP segments are the same, the echoes are ICMPv6 echo
//! requests with the same odd code, traffic class and payload lengths, the hop limit is `target.ttl`, and
//! the IPv4-only fields (DF, IP ID) simply do not exist.

use std::net::IpAddr;
use std::time::Duration;

use tojimari_wire::tcp::{flags, option_kind as kind};
use tojimari_wire::{
    EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr,
    TcpPacket, UdpPacket, ethernet, icmpv4, icmpv6, ip_protocol, ipv4, ipv6,
};

use crate::{Probe, Target};

/// The gap between two sequence probes (the timestamp and ISN rates are measured over it).
pub const SEQ_GAP: Duration = Duration::from_millis(100);
/// The TSval our SYNs carry (any value: a stack echoes it in TSecr).
pub const OUR_TSVAL: u32 = 0x7a69_6d61;
/// The byte the UDP probe's payload repeats, and its length.
pub const U1_FILL: u8 = b'T';
pub const U1_LEN: usize = 300;
/// ICMP echo payload lengths and codes (IE1 carries an odd code, IE2 an odd TOS, or traffic class over
/// IPv6).
pub const IE_LEN: [usize; 2] = [120, 150];
pub const IE_CODE: [u8; 2] = [9, 0];
pub const IE_TOS: [u8; 2] = [0, 4];

/// The numbers that identify our probes to one target, all from its key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    /// Source port of probe `i` is `port_base + i` (i as in [`Probe::index`]).
    pub port_base: u16,
    /// Sequence number of probe `i` is `seq_base + i * 0x0101_0000`.
    pub seq_base: u32,
    /// Acknowledgment number of probe `i` (ACK-carrying odd probes) is `ack_base + i`.
    pub ack_base: u32,
    /// IP ID of probe `i` is `ip_id_base + i`.
    pub ip_id_base: u16,
    /// ICMP identifier of both echoes; their sequence numbers are 1 and 2.
    pub icmp_id: u16,
}

impl Ids {
    pub fn of(target: &Target) -> Ids {
        let k = target.key;
        Ids {
            port_base: 33_000 + (mix(k, 1) % 30_000) as u16,
            seq_base: mix(k, 2),
            ack_base: mix(k, 3),
            ip_id_base: mix(k, 4) as u16,
            icmp_id: mix(k, 5) as u16,
        }
    }

    pub fn port(&self, probe: Probe) -> u16 {
        self.port_base.wrapping_add(probe.index().unwrap_or(0) as u16)
    }

    pub fn seq(&self, probe: Probe) -> u32 {
        self.seq_base.wrapping_add((probe.index().unwrap_or(0) as u32).wrapping_mul(0x0101_0000))
    }

    pub fn ack(&self, probe: Probe) -> u32 {
        self.ack_base.wrapping_add(probe.index().unwrap_or(0) as u32)
    }

    pub fn ip_id(&self, probe: Probe) -> u16 {
        self.ip_id_base.wrapping_add(probe.index().unwrap_or(0) as u16)
    }
}

/// A keyed 32-bit mix (splitmix32-like): spreads the engine's key into independent-looking values.
fn mix(key: u32, salt: u32) -> u32 {
    let mut z = key.wrapping_add(salt.wrapping_mul(0x9e37_79b9));
    z = (z ^ (z >> 16)).wrapping_mul(0x85eb_ca6b);
    z = (z ^ (z >> 13)).wrapping_mul(0xc2b2_ae35);
    z ^ (z >> 16)
}

/// The TCP shape of a TCP probe: flags, window, options, DF, whether it goes to the open port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TcpShape {
    pub flags: u8,
    pub window: u16,
    pub options: &'static [Opt],
    pub df: bool,
    pub open_port: bool,
    /// The urgent pointer (the ECN probe sets one without URG).
    pub urgent: u16,
}

/// An option as a probe lays it out.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    Mss(u16),
    Ws(u8),
    Sack,
    Ts,
    Nop,
    Eol,
}

use Opt::{Eol, Mss, Nop, Sack, Ts, Ws};

const ODD_OPTS: &[Opt] = &[Ws(10), Nop, Mss(265), Ts, Sack];

/// The TCP shape of `probe`, `None` for UDP and ICMP probes.
pub fn tcp_shape(probe: Probe) -> Option<TcpShape> {
    let syn = |window, options| TcpShape { flags: flags::SYN, window, options, df: false, open_port: true, urgent: 0 };
    let odd = |flags, window, df, open_port| TcpShape { flags, window, options: ODD_OPTS, df, open_port, urgent: 0 };
    Some(match probe {
        Probe::Seq(0) => syn(1, &[Ws(10), Nop, Mss(1460), Ts, Sack]),
        Probe::Seq(1) => syn(63, &[Mss(1400), Ws(0), Sack, Ts, Eol]),
        Probe::Seq(2) => syn(4, &[Ts, Nop, Nop, Ws(5), Nop, Mss(640)]),
        Probe::Seq(3) => syn(4, &[Sack, Ts, Ws(10), Eol]),
        Probe::Seq(4) => syn(16, &[Mss(536), Sack, Ts, Ws(10), Eol]),
        Probe::Seq(5) => syn(512, &[Mss(265), Sack, Ts]),
        Probe::Ecn => TcpShape {
            flags: flags::SYN | flags::ECE | flags::CWR,
            window: 3,
            options: &[Ws(10), Nop, Mss(1460), Sack, Nop, Nop],
            df: false,
            open_port: true,
            urgent: 0xf7f5,
        },
        Probe::T(2) => odd(0, 128, true, true),
        Probe::T(3) => odd(flags::SYN | flags::FIN | flags::URG | flags::PSH, 256, false, true),
        Probe::T(4) => odd(flags::ACK, 1024, true, true),
        Probe::T(5) => odd(flags::SYN, 31337, false, false),
        Probe::T(6) => odd(flags::ACK, 32768, true, false),
        Probe::T(7) => odd(flags::FIN | flags::PSH | flags::URG, 65535, false, false),
        _ => return None,
    })
}

/// The probes to send to `target` (those its ports allow) with the offset from the first probe at
/// which each goes out: the six sequence SYNs [`SEQ_GAP`] apart, then the others 10 ms apart.
pub fn schedule(target: &Target) -> Vec<(Probe, Duration)> {
    if !same_family(target) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let open = target.open_tcp.is_some();
    if open {
        for n in 0..6u8 {
            out.push((Probe::Seq(n), SEQ_GAP * u32::from(n)));
        }
    }
    let mut at = if open { SEQ_GAP * 5 + Duration::from_millis(20) } else { Duration::ZERO };
    let step = Duration::from_millis(10);
    for probe in [Probe::Ie(1), Probe::Ie(2), Probe::Ecn, Probe::T(2), Probe::T(3), Probe::T(4)].into_iter().chain([
        Probe::T(5),
        Probe::T(6),
        Probe::T(7),
        Probe::U1,
    ]) {
        if applies(target, probe) {
            out.push((probe, at));
            at += step;
        }
    }
    out
}

/// Whether our address and the target's are of one family (else nothing can be sent).
fn same_family(target: &Target) -> bool {
    target.src.is_ipv4() == target.dst.is_ipv4()
}

/// Whether `probe` can be sent to `target` (its port is known).
fn applies(target: &Target, probe: Probe) -> bool {
    match probe {
        Probe::U1 => target.closed_udp.is_some(),
        Probe::Ie(1..=2) => true,
        p => match tcp_shape(p) {
            Some(s) if s.open_port => target.open_tcp.is_some(),
            Some(_) => target.closed_tcp.is_some(),
            None => false,
        },
    }
}

/// Writes `probe` for `target` as a whole frame (Ethernet header first) into `buf`; returns its length,
/// 0 when it does not apply (no port for it, addresses of two families, a buffer too small).
pub fn build(target: &Target, probe: Probe, buf: &mut [u8]) -> usize {
    if !same_family(target) || !applies(target, probe) {
        return 0;
    }
    let ids = Ids::of(target);
    let mut l4 = [0u8; 400];
    let (proto, len, df, tos) = match probe {
        Probe::U1 => {
            let Some(port) = target.closed_udp else { return 0 };
            let len = 8 + U1_LEN;
            let mut udp = UdpPacket::new_unchecked(&mut l4[..len]);
            udp.set_src_port(ids.port(probe));
            udp.set_dst_port(port);
            udp.set_len(len as u16);
            udp.payload_mut().fill(U1_FILL);
            (ip_protocol::UDP, len, false, 0)
        }
        Probe::Ie(n @ 1..=2) => {
            let i = usize::from(n - 1);
            let len = 8 + IE_LEN[i];
            // ICMPv4 and ICMPv6 echoes share their layout; only the type and the checksum differ.
            let mut icmp = Icmpv4Packet::new_unchecked(&mut l4[..len]);
            let (proto, echo) = match target.dst {
                IpAddr::V4(_) => (ip_protocol::ICMP, icmpv4::message::ECHO_REQUEST),
                IpAddr::V6(_) => (ip_protocol::ICMPV6, icmpv6::message::ECHO_REQUEST),
            };
            icmp.set_msg_type(echo);
            icmp.set_msg_code(IE_CODE[i]);
            icmp.set_ident(ids.icmp_id);
            icmp.set_seq_no(u16::from(n));
            icmp.data_mut().fill(0);
            if proto == ip_protocol::ICMP {
                icmp.fill_checksum();
            }
            (proto, len, n == 1, IE_TOS[i])
        }
        p => {
            let Some(shape) = tcp_shape(p) else { return 0 };
            let port = if shape.open_port { target.open_tcp } else { target.closed_tcp };
            let Some(port) = port else { return 0 };
            let len = write_tcp(&mut l4, &shape, &ids, p, port);
            (ip_protocol::TCP, len, shape.df, 0)
        }
    };
    write_frame(target, buf, IpHeader { proto, id: ids.ip_id(probe), df, tos }, &l4[..len])
}

/// Writes the TCP header and options of `probe` into `l4` and returns its length (checksum left zero).
fn write_tcp(l4: &mut [u8], shape: &TcpShape, ids: &Ids, probe: Probe, dst_port: u16) -> usize {
    let mut opts = [0u8; 40];
    let mut n = 0;
    for opt in shape.options {
        let bytes: &[u8] = match *opt {
            Mss(v) => &[kind::MSS, 4, (v >> 8) as u8, v as u8],
            Ws(s) => &[kind::WINDOW_SCALE, 3, s],
            Sack => &[kind::SACK_PERMITTED, 2],
            Ts => {
                let v = OUR_TSVAL.to_be_bytes();
                &[kind::TIMESTAMPS, 10, v[0], v[1], v[2], v[3], 0, 0, 0, 0]
            }
            Nop => &[kind::NOP],
            Eol => &[kind::END],
        };
        opts[n..n + bytes.len()].copy_from_slice(bytes);
        n += bytes.len();
    }
    let opt_len = n.div_ceil(4) * 4; // padded with zeros (end of list)
    let len = 20 + opt_len;
    let mut tcp = TcpPacket::new_unchecked(&mut l4[..len]);
    tcp.set_src_port(ids.port(probe));
    tcp.set_dst_port(dst_port);
    tcp.set_seq_number(ids.seq(probe));
    let ack = if shape.flags & flags::ACK != 0 { ids.ack(probe) } else { 0 };
    tcp.set_ack_number(ack);
    tcp.set_header_len(len);
    tcp.set_flags(shape.flags);
    tcp.set_window_len(shape.window);
    tcp.set_urgent_at(shape.urgent);
    tcp.options_mut()[..opt_len].copy_from_slice(&opts[..opt_len]);
    len
}

struct IpHeader {
    proto: u8,
    id: u16,
    df: bool,
    tos: u8,
}

/// Ethernet + IPv4 or IPv6 (as the target's addresses) around `l4`, with the IPv4 and upper-layer
/// checksums filled. Over IPv6 `df` and `id` have no field to go in; `tos` is the traffic class.
fn write_frame(target: &Target, buf: &mut [u8], ip: IpHeader, l4: &[u8]) -> usize {
    let (ethertype, ip_len) = match target.dst {
        IpAddr::V4(_) => (EtherType::IPV4, ipv4::HEADER_LEN),
        IpAddr::V6(_) => (EtherType::IPV6, ipv6::HEADER_LEN),
    };
    let at = ethernet::HEADER_LEN + ip_len;
    let total = at + l4.len();
    if buf.len() < total {
        return 0;
    }
    let repr = EthernetRepr { src_addr: target.l2.src_mac, dst_addr: target.l2.dst_mac, ethertype };
    repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..ethernet::HEADER_LEN]));
    let header = &mut buf[ethernet::HEADER_LEN..at];
    let emitted = match (target.src, target.dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => Ipv4Repr {
            src_addr,
            dst_addr,
            protocol: ip.proto,
            payload_len: l4.len(),
            ttl: target.ttl,
            ident: ip.id,
            dscp_ecn: ip.tos,
            dont_frag: ip.df,
            more_frags: false,
            frag_offset: 0,
        }
        .emit(&mut Ipv4Packet::new_unchecked(header)),
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => Ipv6Repr {
            src_addr,
            dst_addr,
            next_header: ip.proto,
            payload_len: l4.len(),
            hop_limit: target.ttl,
            traffic_class: ip.tos,
            flow_label: 0,
        }
        .emit(&mut Ipv6Packet::new_unchecked(header)),
        _ => return 0,
    };
    if emitted.is_err() {
        return 0;
    }
    buf[at..total].copy_from_slice(l4);
    let (s, d) = (target.src, target.dst);
    match (ip.proto, s, d) {
        (ip_protocol::TCP, ..) => TcpPacket::new_unchecked(&mut buf[at..total]).fill_checksum(s, d),
        (ip_protocol::UDP, ..) => UdpPacket::new_unchecked(&mut buf[at..total]).fill_checksum(s, d),
        (ip_protocol::ICMPV6, IpAddr::V6(s), IpAddr::V6(d)) => {
            Icmpv6Packet::new_unchecked(&mut buf[at..total]).fill_checksum(s, d)
        }
        _ => {}
    }
    total
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use tojimari_packet::L2;
    use tojimari_wire::{TcpOption, TcpRepr};

    pub(crate) fn target() -> Target {
        Target {
            l2: L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] },
            src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            open_tcp: Some(22),
            closed_tcp: Some(1),
            closed_udp: Some(9),
            key: 0x1234_5678,
            ttl: 57,
        }
    }

    fn ip_of(frame: &[u8]) -> Ipv4Packet<&[u8]> {
        let eth = EthernetFrame::new_checked(frame).unwrap();
        assert_eq!(eth.ethertype(), EtherType::IPV4);
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        assert!(ip.verify_checksum());
        ip
    }

    #[test]
    fn every_probe_parses_back() {
        let t = target();
        let ids = Ids::of(&t);
        let sched = schedule(&t);
        assert_eq!(sched.len(), 16);
        let mut ports = std::collections::HashSet::new();
        for (probe, _) in &sched {
            let mut buf = [0u8; 1600];
            let n = build(&t, *probe, &mut buf);
            assert!(n > 0, "{probe:?}");
            let ip = ip_of(&buf[..n]);
            assert_eq!(usize::from(ip.total_len()), n - 14);
            assert_eq!(ip.ttl(), 57);
            assert_eq!(ip.ident(), ids.ip_id(*probe));
            let payload = ip.payload();
            match probe {
                Probe::U1 => {
                    let udp = UdpPacket::new_checked(payload).unwrap();
                    assert!(udp.verify_checksum(t.src, t.dst));
                    assert_eq!(udp.dst_port(), 9);
                    assert!(udp.payload().iter().all(|&b| b == U1_FILL));
                    assert!(ports.insert(udp.src_port()));
                }
                Probe::Ie(n) => {
                    let icmp = Icmpv4Packet::new_checked(payload).unwrap();
                    assert!(icmp.verify_checksum());
                    assert_eq!(icmp.msg_code(), IE_CODE[usize::from(*n - 1)]);
                    assert_eq!(icmp.seq_no(), u16::from(*n));
                    assert_eq!(ip.dont_frag(), *n == 1);
                    assert_eq!(ip.dscp_ecn(), IE_TOS[usize::from(*n - 1)]);
                }
                p => {
                    let tcp = TcpPacket::new_checked(payload).unwrap();
                    assert!(tcp.verify_checksum(t.src, t.dst));
                    let shape = tcp_shape(*p).unwrap();
                    assert_eq!(tcp.flags(), shape.flags);
                    assert_eq!(tcp.window_len(), shape.window);
                    assert_eq!(tcp.dst_port(), if shape.open_port { 22 } else { 1 });
                    assert_eq!(ip.dont_frag(), shape.df);
                    assert!(ports.insert(tcp.src_port()));
                    let kinds: Vec<u8> = tcp.option_iter().map(|o| o.kind()).collect();
                    let want: Vec<u8> = shape
                        .options
                        .iter()
                        .take_while(|o| **o != Eol)
                        .map(|o| match o {
                            Mss(_) => 2,
                            Ws(_) => 3,
                            Sack => 4,
                            Ts => 8,
                            _ => 1,
                        })
                        .collect();
                    assert_eq!(kinds, want, "{p:?}");
                    assert!(tcp.option_iter().all(|o| !matches!(o, TcpOption::Malformed { .. })));
                    let repr = TcpRepr::parse(&tcp).unwrap();
                    assert_eq!(repr.seq_number, ids.seq(*p));
                }
            }
        }
    }

    #[test]
    fn sequence_probes_are_100ms_apart_and_ports_limit_the_set() {
        let mut t = target();
        let s = schedule(&t);
        assert_eq!(s[5], (Probe::Seq(5), Duration::from_millis(500)));
        assert!(s.windows(2).all(|w| w[0].1 < w[1].1));
        t.open_tcp = None;
        t.closed_udp = None;
        let s: Vec<Probe> = schedule(&t).into_iter().map(|(p, _)| p).collect();
        assert_eq!(s, vec![Probe::Ie(1), Probe::Ie(2), Probe::T(5), Probe::T(6), Probe::T(7)]);
        let mut buf = [0u8; 1600];
        assert_eq!(build(&t, Probe::Seq(0), &mut buf), 0);
        assert_eq!(build(&t, Probe::U1, &mut buf), 0);
        assert_eq!(build(&target(), Probe::Seq(9), &mut buf), 0);
        assert_eq!(build(&target(), Probe::Seq(0), &mut buf[..40]), 0);
    }

    /// The same target over IPv6 (the test bed's documentation prefix).
    pub(crate) fn target6() -> Target {
        Target { src: "2001:db8:18::1".parse().unwrap(), dst: "2001:db8:18::2".parse().unwrap(), ..target() }
    }

    #[test]
    fn every_ipv6_probe_parses_back() {
        let t = target6();
        let ids = Ids::of(&t);
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (t.src, t.dst) else { unreachable!() };
        let sched = schedule(&t);
        assert_eq!(sched, schedule(&target()), "the same plan in both families");
        let mut ports = std::collections::HashSet::new();
        for (probe, _) in &sched {
            let mut buf = [0u8; 1600];
            let n = build(&t, *probe, &mut buf);
            assert!(n > 0, "{probe:?}");
            let eth = EthernetFrame::new_checked(&buf[..n]).unwrap();
            assert_eq!(eth.ethertype(), EtherType::IPV6);
            let ip = Ipv6Packet::new_checked(&buf[14..n]).unwrap();
            assert_eq!(usize::from(ip.payload_len()), n - 14 - 40);
            assert_eq!((ip.hop_limit(), ip.src_addr(), ip.dst_addr()), (57, src, dst));
            let payload = ip.payload();
            // The IPv4 frame of the same probe carries the same transport bytes but for the checksum.
            let mut buf4 = [0u8; 1600];
            let n4 = build(&target(), *probe, &mut buf4);
            assert_eq!(n4 - 34, n - 54, "{probe:?}");
            match probe {
                Probe::U1 => {
                    assert_eq!(ip.next_header(), ip_protocol::UDP);
                    let udp = UdpPacket::new_checked(payload).unwrap();
                    assert!(udp.verify_checksum(t.src, t.dst));
                    assert_eq!((udp.dst_port(), usize::from(udp.len())), (9, 8 + U1_LEN));
                    assert!(udp.payload().iter().all(|&b| b == U1_FILL));
                    assert!(ports.insert(udp.src_port()));
                    assert_eq!(ip.traffic_class(), 0);
                }
                Probe::Ie(n) => {
                    let i = usize::from(*n - 1);
                    assert_eq!(ip.next_header(), ip_protocol::ICMPV6);
                    let icmp = Icmpv6Packet::new_checked(payload).unwrap();
                    assert!(icmp.verify_checksum(src, dst));
                    assert_eq!(icmp.msg_type(), icmpv6::message::ECHO_REQUEST);
                    assert_eq!(icmp.msg_code(), IE_CODE[i]);
                    assert_eq!((icmp.ident(), icmp.seq_no()), (ids.icmp_id, u16::from(*n)));
                    assert_eq!(icmp.data().len(), IE_LEN[i]);
                    assert_eq!(ip.traffic_class(), IE_TOS[i]);
                }
                p => {
                    assert_eq!(ip.next_header(), ip_protocol::TCP);
                    let tcp = TcpPacket::new_checked(payload).unwrap();
                    assert!(tcp.verify_checksum(t.src, t.dst));
                    let shape = tcp_shape(*p).unwrap();
                    assert_eq!((tcp.flags(), tcp.window_len()), (shape.flags, shape.window));
                    assert_eq!(tcp.dst_port(), if shape.open_port { 22 } else { 1 });
                    assert_eq!(tcp.seq_number(), ids.seq(*p));
                    assert!(ports.insert(tcp.src_port()));
                    // Same segment as over IPv4 once the checksums are set aside.
                    let mut a = payload.to_vec();
                    let mut b = buf4[34..n4].to_vec();
                    a[16..18].fill(0);
                    b[16..18].fill(0);
                    assert_eq!(a, b, "{p:?}");
                    assert_eq!(ip.traffic_class(), 0);
                }
            }
        }
    }

    #[test]
    fn mixed_families_get_no_probe() {
        let mut t = target();
        t.dst = "2001:db8::2".parse().unwrap();
        assert!(schedule(&t).is_empty());
        assert_eq!(build(&t, Probe::Seq(0), &mut [0u8; 1600]), 0);
        // A buffer too small for the longer IPv6 header.
        let t6 = target6();
        let n4 = build(&target(), Probe::Seq(0), &mut [0u8; 1600]);
        assert_eq!(build(&t6, Probe::Seq(0), &mut vec![0u8; n4]), 0);
    }
}
