//! Every frame of the corpus of real frames (captured on the test bed, see `capture_corpus.rs`) is read
//! through the views and representations, its fields are checked against tcpdump's own reading of it, and
//! each representation's `emit` gives back the captured bytes it covers.
//!
//! Transport checksums are compared only where the capture holds them whole: frames the scanner namespace's
//! kernel sent leave the veth with checksum offload, so TCP/UDP checksums there are partial.

use std::net::{IpAddr, Ipv6Addr};

use crate::support::{Entry, Link, corpus};
use tojimari_wire::tcp::flags;
use tojimari_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet,
    Icmpv6Repr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, QuotedTransport, Sll2Frame, SllFrame, TcpPacket, TcpRepr,
    UdpPacket, UdpRepr, ip_protocol,
};

fn mac(m: &[u8]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Asserts that tcpdump's line says `what`.
fn says(entry: &Entry, what: &str) {
    assert!(entry.tcpdump.contains(what), "tcpdump says {:?}, the wire layer {what:?}", entry.tcpdump);
}

/// TCP flags as tcpdump prints them.
fn tcpdump_flags(f: u8) -> String {
    let table = [
        (flags::FIN, 'F'),
        (flags::SYN, 'S'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::ACK, '.'),
        (flags::URG, 'U'),
        (flags::ECE, 'E'),
        (flags::CWR, 'W'),
    ];
    table.iter().filter(|(bit, _)| f & bit != 0).map(|(_, c)| *c).collect()
}

/// What the corpus test saw, to check that the corpus covers every kind it should.
#[derive(Default)]
struct Seen {
    kinds: Vec<&'static str>,
}

impl Seen {
    fn saw(&mut self, kind: &'static str) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
    }
}

fn check_arp(entry: &Entry, body: &[u8], seen: &mut Seen) {
    let packet = ArpPacket::new_checked(body).unwrap();
    let repr = ArpRepr::parse(&packet).unwrap();
    match repr.operation {
        ArpOperation::REQUEST => {
            says(entry, &format!("Request who-has {} tell {}", repr.target_protocol_addr, repr.source_protocol_addr));
            seen.saw("arp request");
        }
        ArpOperation::REPLY => {
            says(entry, &format!("Reply {} is-at {}", repr.source_protocol_addr, mac(&repr.source_hardware_addr)));
            seen.saw("arp reply");
        }
        other => panic!("ARP operation {other:?}"),
    }
    let mut out = [0u8; 28];
    repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
    assert_eq!(out, body[..28], "ARP emit round trip");
}

fn check_tcp(entry: &Entry, src: IpAddr, dst: IpAddr, segment: &[u8], seen: &mut Seen) {
    let t = TcpPacket::new_checked(segment).unwrap();
    let ep = |a: IpAddr, p: u16| format!("{a}.{p}");
    says(
        entry,
        &format!("{} > {}: Flags [{}]", ep(src, t.src_port()), ep(dst, t.dst_port()), tcpdump_flags(t.flags())),
    );
    says(entry, &format!("win {}", t.window_len()));
    if t.flags() & flags::SYN != 0 {
        says(entry, &format!("seq {}", t.seq_number()));
    }
    let repr = TcpRepr::parse(&t).unwrap();
    if let Some(m) = repr.max_seg_size {
        says(entry, &format!("mss {m}"));
    }
    if repr.sack_permitted {
        says(entry, "sackOK");
    }
    if let Some((value, echo)) = repr.timestamps {
        says(entry, &format!("TS val {value} ecr {echo}"));
    }
    if let Some(shift) = repr.window_scale {
        says(entry, &format!("wscale {shift}"));
    }
    seen.saw(match t.flags() & (flags::SYN | flags::ACK | flags::RST) {
        f if f == flags::SYN => "tcp syn",
        f if f == flags::SYN | flags::ACK => "tcp syn-ack",
        f if f & flags::RST != 0 => "tcp rst",
        _ => "tcp other",
    });
    if repr.timestamps.is_some() && repr.sack_permitted {
        seen.saw("tcp linux options");
    }
    // The representation covers the whole header when the options are in the layout it writes.
    if repr.buffer_len() == t.header_len() {
        let mut out = vec![0u8; t.header_len()];
        repr.emit(&mut TcpPacket::new_unchecked(&mut out[..]));
        let mut want = segment[..t.header_len()].to_vec();
        want[16..18].fill(0); // checksum: offloaded on our own frames
        assert_eq!(out, want, "TCP emit round trip: {}", entry.tcpdump);
    }
}

fn check_udp(entry: &Entry, src: IpAddr, dst: IpAddr, datagram: &[u8], seen: &mut Seen) {
    let u = UdpPacket::new_checked(datagram).unwrap();
    let repr = UdpRepr::parse(&u).unwrap();
    says(entry, &format!("{src}.{} > {dst}.{}: UDP, length {}", repr.src_port, repr.dst_port, u.payload().len()));
    let mut out = vec![0u8; usize::from(u.len())];
    repr.emit(&mut UdpPacket::new_unchecked(&mut out[..]), src, dst, u.payload()).unwrap();
    let mut want = datagram[..usize::from(u.len())].to_vec();
    out[6..8].fill(0);
    want[6..8].fill(0);
    assert_eq!(out, want, "UDP emit round trip");
    seen.saw("udp");
}

fn check_icmpv4(entry: &Entry, message: &[u8], seen: &mut Seen) {
    let m = Icmpv4Packet::new_checked(message).unwrap();
    assert!(m.verify_checksum(), "ICMP checksums are computed in software");
    let repr = Icmpv4Repr::parse(&m).unwrap();
    match repr {
        Icmpv4Repr::Echo { reply, ident, seq_no, data } => {
            let word = if reply { "reply" } else { "request" };
            says(entry, &format!("ICMP echo {word}, id {ident}, seq {seq_no}, length {}", 8 + data.len()));
            seen.saw(if reply { "icmp echo reply" } else { "icmp echo request" });
        }
        Icmpv4Repr::Error { msg_type: 3, code: 3, quoted, .. } => {
            let ip = Ipv4Packet::new_checked(quoted).unwrap();
            let t = QuotedTransport::parse(ip.protocol(), ip.payload()).unwrap();
            assert_eq!(ip.protocol(), ip_protocol::UDP);
            says(entry, &format!("ICMP {} udp port {} unreachable", ip.dst_addr(), t.dst_port));
            seen.saw("icmp port unreachable");
        }
        other => panic!("unexpected ICMP {other:?}"),
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
    assert_eq!(out, message, "ICMP emit round trip");
}

fn check_icmpv6(entry: &Entry, src: Ipv6Addr, dst: Ipv6Addr, message: &[u8], seen: &mut Seen) {
    let m = Icmpv6Packet::new_checked(message).unwrap();
    assert!(m.verify_checksum(src, dst), "ICMPv6 checksums are computed in software");
    let repr = match Icmpv6Repr::parse(&m) {
        Ok(repr) => repr,
        Err(e) => {
            // Multicast listener reports (type 143) are real traffic the layer does not represent.
            assert_eq!((m.msg_type(), e), (143, tojimari_wire::Error::Unrecognized));
            says(entry, "multicast listener report");
            return;
        }
    };
    match repr {
        Icmpv6Repr::Echo { reply, ident, seq_no, .. } => {
            let word = if reply { "reply" } else { "request" };
            says(entry, &format!("ICMP6, echo {word}, id {ident}, seq {seq_no}"));
            seen.saw(if reply { "icmpv6 echo reply" } else { "icmpv6 echo request" });
        }
        Icmpv6Repr::Error { msg_type: 1, code: 4, quoted, .. } => {
            let ip = Ipv6Packet::new_checked(quoted).unwrap();
            let t = QuotedTransport::parse(ip.next_header(), ip.payload()).unwrap();
            says(entry, &format!("unreachable port, {} udp port {}", ip.dst_addr(), t.dst_port));
            seen.saw("icmpv6 port unreachable");
        }
        Icmpv6Repr::NeighborSolicit { target, lladdr } => {
            says(entry, &format!("neighbor solicitation, who has {target}"));
            assert!(lladdr.is_some(), "Linux sends its source link-layer address");
            seen.saw("ndp solicitation");
        }
        Icmpv6Repr::NeighborAdvert { target, lladdr, flags } => {
            says(entry, &format!("neighbor advertisement, tgt is {target}"));
            assert!(lladdr.is_some() && flags & 0x40 != 0, "a solicited advertisement with the target's address");
            seen.saw("ndp advertisement");
        }
        other => panic!("unexpected ICMPv6 {other:?}"),
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(src, dst, &mut Icmpv6Packet::new_unchecked(&mut out[..]));
    assert_eq!(out, message, "ICMPv6 emit round trip");
}

fn check_ip(entry: &Entry, ethertype: EtherType, ip: &[u8], seen: &mut Seen) {
    match ethertype {
        EtherType::IPV4 => {
            let p = Ipv4Packet::new_checked(ip).unwrap();
            assert!(p.verify_checksum());
            let repr = Ipv4Repr::parse(&p).unwrap();
            says(entry, &format!(": {}", repr.src_addr));
            says(entry, &format!("> {}", repr.dst_addr));
            let mut out = [0u8; 20];
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..])).unwrap();
            assert_eq!(out, ip[..20], "IPv4 emit round trip");
            let (src, dst) = (IpAddr::V4(repr.src_addr), IpAddr::V4(repr.dst_addr));
            match repr.protocol {
                ip_protocol::TCP => check_tcp(entry, src, dst, p.payload(), seen),
                ip_protocol::UDP => check_udp(entry, src, dst, p.payload(), seen),
                ip_protocol::ICMP => check_icmpv4(entry, p.payload(), seen),
                other => panic!("IP protocol {other}"),
            }
        }
        EtherType::IPV6 => {
            let p = Ipv6Packet::new_checked(ip).unwrap();
            let repr = Ipv6Repr::parse(&p).unwrap();
            says(entry, &format!(": {}", repr.src_addr));
            says(entry, &format!("> {}", repr.dst_addr));
            let mut out = [0u8; 40];
            repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..])).unwrap();
            assert_eq!(out, ip[..40], "IPv6 emit round trip");
            let upper = p.upper_layer().unwrap();
            if upper.ext_len > 0 {
                says(entry, "HBH");
                seen.saw("ipv6 extension header");
            }
            let (src, dst) = (IpAddr::V6(repr.src_addr), IpAddr::V6(repr.dst_addr));
            match upper.protocol {
                ip_protocol::TCP => check_tcp(entry, src, dst, upper.payload, seen),
                ip_protocol::UDP => check_udp(entry, src, dst, upper.payload, seen),
                ip_protocol::ICMPV6 => check_icmpv6(entry, repr.src_addr, repr.dst_addr, upper.payload, seen),
                other => panic!("IPv6 next header {other}"),
            }
        }
        EtherType::ARP => check_arp(entry, ip, seen),
        other => panic!("EtherType {other:?}"),
    }
}

#[test]
fn corpus_frames_read_as_tcpdump_reads_them_and_round_trip() {
    let corpus = corpus();
    assert!(corpus.len() >= 30, "the corpus holds {} frames", corpus.len());
    let mut seen = Seen::default();
    for entry in &corpus {
        let (ethertype, body) = match entry.link {
            Link::Ethernet => {
                let f = EthernetFrame::new_checked(&entry.bytes[..]).unwrap();
                let repr = EthernetRepr::parse(&f).unwrap();
                says(entry, &format!("{} > {}, ethertype", mac(&repr.src_addr), mac(&repr.dst_addr)));
                let mut out = [0u8; 14];
                repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
                assert_eq!(out, entry.bytes[..14], "Ethernet emit round trip");
                seen.saw("ethernet");
                f.inner().unwrap()
            }
            Link::Sll => {
                let f = SllFrame::new_checked(&entry.bytes[..]).unwrap();
                let (len, addr) = f.addr();
                says(entry, &format!("{} ethertype", mac(&addr[..usize::from(len)])));
                seen.saw("sll");
                (f.protocol(), f.payload())
            }
            Link::Sll2 => {
                let f = Sll2Frame::new_checked(&entry.bytes[..]).unwrap();
                says(entry, &format!("ifindex {} ", f.interface_index()));
                seen.saw("sll2");
                (f.protocol(), f.payload())
            }
        };
        says(entry, &format!("(0x{:04x})", ethertype.0));
        check_ip(entry, ethertype, body, &mut seen);
    }
    for kind in [
        "ethernet",
        "sll",
        "sll2",
        "arp request",
        "arp reply",
        "icmp echo request",
        "icmp echo reply",
        "tcp syn",
        "tcp syn-ack",
        "tcp rst",
        "tcp linux options",
        "udp",
        "icmp port unreachable",
        "ndp solicitation",
        "ndp advertisement",
        "icmpv6 echo request",
        "icmpv6 echo reply",
        "icmpv6 port unreachable",
        "ipv6 extension header",
    ] {
        assert!(seen.kinds.contains(&kind), "the corpus has no {kind} frame");
    }
}
