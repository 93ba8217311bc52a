//! Property tests on stable Rust: random bytes and byte-mutated real frames (the corpus) go to every view's
//! `new_checked` and every representation's `parse`. Nothing may panic, every accessor of an accepted view
//! must be callable, and whatever a representation accepts must round-trip: `emit` then `parse` gives the
//! same representation, and `emit` gives back the input's bytes for the fields the representation covers.

use crate::support::{Link, corpus};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tojimari_wire::{
    ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr,
    Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, QuotedTransport, Sll2Frame, SllFrame, TcpPacket, TcpRepr, UdpPacket,
    UdpRepr, ip_protocol,
};

const SRC4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const DST4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const SRC6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 1);
const DST6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 2);

fn ethernet(b: &[u8]) {
    let Ok(f) = EthernetFrame::new_checked(b) else { return };
    let _ = (f.dst_addr(), f.src_addr(), f.ethertype(), f.payload(), f.inner());
    let repr = EthernetRepr::parse(&f).unwrap();
    let mut out = [0u8; 14];
    repr.emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
    assert_eq!(out, b[..14]);
}

fn cooked(b: &[u8]) {
    if let Ok(f) = SllFrame::new_checked(b) {
        let _ = (f.packet_type(), f.arphrd(), f.addr(), f.protocol(), f.payload());
    }
    if let Ok(f) = Sll2Frame::new_checked(b) {
        let _ = (f.protocol(), f.interface_index(), f.arphrd(), f.packet_type(), f.payload());
    }
}

fn arp(b: &[u8]) {
    let Ok(p) = ArpPacket::new_checked(b) else { return };
    let _ = (p.hardware_type(), p.protocol_type(), p.operation(), p.packet_len());
    let _ = (p.source_hardware_addr(), p.source_protocol_addr(), p.target_hardware_addr(), p.target_protocol_addr());
    let Ok(repr) = ArpRepr::parse(&p) else { return };
    let mut out = [0u8; 28];
    repr.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
    assert_eq!(out, b[..28]);
}

fn ipv4(b: &[u8]) {
    let Ok(p) = Ipv4Packet::new_checked(b) else { return };
    let _ = (p.dscp_ecn(), p.total_len(), p.ident(), p.dont_frag(), p.more_frags(), p.frag_offset(), p.ttl());
    let _ = (p.protocol(), p.checksum(), p.src_addr(), p.dst_addr(), p.options(), p.payload(), p.verify_checksum());
    let Ok(repr) = Ipv4Repr::parse(&p) else { return };
    let mut out = [0u8; 20];
    let Ok(()) = repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..])) else {
        panic!("a parsed header's lengths fit")
    };
    assert!(Ipv4Packet::new_checked(&out[..]).unwrap().verify_checksum());
    assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&out[..]).unwrap()), Ok(repr));
    if p.header_len() == 20 {
        // Covered: everything but the checksum and the reserved flag bit.
        let mut want: [u8; 20] = b[..20].try_into().unwrap();
        want[6] &= 0x7f;
        (out[10], out[11], want[10], want[11]) = (0, 0, 0, 0);
        assert_eq!(out, want);
    }
}

fn ipv6(b: &[u8]) {
    let Ok(p) = Ipv6Packet::new_checked(b) else { return };
    let _ = (p.traffic_class(), p.flow_label(), p.payload_len(), p.next_header(), p.hop_limit());
    let _ = (p.src_addr(), p.dst_addr(), p.payload());
    if let Ok(upper) = p.upper_layer() {
        assert!(upper.ext_len + upper.payload.len() == p.payload().len());
    }
    let repr = Ipv6Repr::parse(&p).unwrap();
    let mut out = [0u8; 40];
    repr.emit(&mut Ipv6Packet::new_unchecked(&mut out[..])).unwrap();
    assert_eq!(out, b[..40]);
}

fn tcp(b: &[u8], src: IpAddr, dst: IpAddr) {
    let Ok(p) = TcpPacket::new_checked(b) else { return };
    let _ = (p.src_port(), p.dst_port(), p.seq_number(), p.ack_number(), p.flags(), p.window_len(), p.urgent_at());
    let _ = (p.checksum(), p.payload(), p.verify_checksum(src, dst), p.option_iter().count());
    assert!(p.option_iter().count() <= p.options().len());
    let repr = TcpRepr::parse(&p).unwrap();
    let mut out = vec![0u8; repr.buffer_len()];
    let mut view = TcpPacket::new_unchecked(&mut out[..]);
    repr.emit(&mut view);
    view.fill_checksum(src, dst);
    let back = TcpPacket::new_checked(&out[..]).unwrap();
    assert!(back.verify_checksum(src, dst));
    assert_eq!(TcpRepr::parse(&back), Ok(repr));
    // Covered: ports, numbers, flags, window, urgent pointer; the data offset when the options are all ones
    // the representation writes back in the same layout.
    let mut want = b[..20].to_vec();
    want[12] = out[12];
    (want[16], want[17]) = (out[16], out[17]);
    assert_eq!(out[..20], want[..]);
    if out[20..] == b[20..p.header_len()] {
        assert_eq!(out[12], b[12] & 0xf0);
    }
}

fn udp(b: &[u8], src: IpAddr, dst: IpAddr) {
    let Ok(p) = UdpPacket::new_checked(b) else { return };
    let _ = (p.src_port(), p.dst_port(), p.len(), p.is_empty(), p.checksum(), p.payload(), p.verify_checksum(src, dst));
    let Ok(repr) = UdpRepr::parse(&p) else { return };
    let mut out = vec![0u8; 8 + p.payload().len()];
    repr.emit(&mut UdpPacket::new_unchecked(&mut out[..]), src, dst, p.payload()).unwrap();
    let back = UdpPacket::new_checked(&out[..]).unwrap();
    assert!(back.verify_checksum(src, dst));
    assert_eq!(UdpRepr::parse(&back), Ok(repr));
    assert_eq!(out[..4], b[..4]);
    if usize::from(p.len()) == 8 + p.payload().len() {
        assert_eq!(out[..6], b[..6]);
        assert_eq!(out[8..], b[8..usize::from(p.len())]);
    }
}

fn icmpv4(b: &[u8]) {
    let Ok(p) = Icmpv4Packet::new_checked(b) else { return };
    let _ =
        (p.msg_type(), p.msg_code(), p.checksum(), p.ident(), p.seq_no(), p.pointer(), p.data(), p.verify_checksum());
    let Ok(repr) = Icmpv4Repr::parse(&p) else { return };
    if let Icmpv4Repr::Error { quoted, msg_type, .. } = repr {
        assert!(matches!(msg_type, 3 | 11 | 12));
        quoted_datagram(quoted);
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut out[..]));
    let back = Icmpv4Packet::new_checked(&out[..]).unwrap();
    assert!(back.verify_checksum());
    assert_eq!(Icmpv4Repr::parse(&back), Ok(repr));
    // Covered: the message up to the representation's length, checksum aside.
    let mut want = b[..out.len()].to_vec();
    (want[2], want[3], out[2], out[3]) = (0, 0, 0, 0);
    assert_eq!(out, want);
}

fn icmpv6(b: &[u8], src: Ipv6Addr, dst: Ipv6Addr) {
    let Ok(p) = Icmpv6Packet::new_checked(b) else { return };
    let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.ident(), p.seq_no(), p.ndp_flags(), p.data());
    let _ = (p.ndp_target(), p.ndp_options().count(), p.verify_checksum(src, dst));
    for option in p.ndp_options() {
        let _ = option.ll_addr();
    }
    let Ok(repr) = Icmpv6Repr::parse(&p) else { return };
    if let Icmpv6Repr::Error { quoted, .. } = repr {
        quoted_datagram(quoted);
    }
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(src, dst, &mut Icmpv6Packet::new_unchecked(&mut out[..]));
    let back = Icmpv6Packet::new_checked(&out[..]).unwrap();
    assert!(back.verify_checksum(src, dst));
    assert_eq!(Icmpv6Repr::parse(&back), Ok(repr));
    match repr {
        // Covered: type, code and the message (echo, errors).
        Icmpv6Repr::Echo { .. } | Icmpv6Repr::Error { .. } => {
            let mut want = b[..out.len()].to_vec();
            (want[2], want[3], out[2], out[3]) = (0, 0, 0, 0);
            assert_eq!(out, want);
        }
        // Covered: type, code, flags and target (options are rewritten as one link-layer option).
        Icmpv6Repr::NeighborSolicit { .. } | Icmpv6Repr::NeighborAdvert { .. } => {
            assert_eq!((out[0], out[1]), (b[0], b[1]));
            if matches!(repr, Icmpv6Repr::NeighborAdvert { .. }) {
                assert_eq!(out[4], b[4] & 0xe0);
            }
            assert_eq!(out[8..24], b[8..24]);
        }
    }
}

/// A datagram quoted in an ICMP error: its IP header and the first transport bytes.
fn quoted_datagram(q: &[u8]) {
    ipv4(q);
    ipv6(q);
    for proto in [ip_protocol::TCP, ip_protocol::UDP, ip_protocol::ICMP, ip_protocol::ICMPV6, 47] {
        if let Ok(t) = QuotedTransport::parse(proto, q) {
            assert!(t.tcp_seq.is_none() || proto == ip_protocol::TCP);
        }
    }
}

/// Every view and representation over the same bytes, as if they were each protocol in turn.
fn every_view(b: &[u8]) {
    ethernet(b);
    cooked(b);
    arp(b);
    ipv4(b);
    ipv6(b);
    tcp(b, IpAddr::V4(SRC4), IpAddr::V4(DST4));
    tcp(b, IpAddr::V6(SRC6), IpAddr::V6(DST6));
    udp(b, IpAddr::V4(SRC4), IpAddr::V4(DST4));
    icmpv4(b);
    icmpv6(b, SRC6, DST6);
    quoted_datagram(b);
}

/// A frame walked as a receiver would: link, network, transport, each layer checked as above.
fn walk(link: Link, b: &[u8]) {
    ethernet(b);
    let inner = match link {
        Link::Ethernet => EthernetFrame::new_checked(b).ok().and_then(|f| f.inner().ok()),
        Link::Sll => SllFrame::new_checked(b).ok().map(|f| (f.protocol(), f.payload())),
        Link::Sll2 => Sll2Frame::new_checked(b).ok().map(|f| (f.protocol(), f.payload())),
    };
    let Some((ethertype, body)) = inner else { return };
    match ethertype {
        EtherType::ARP => arp(body),
        EtherType::IPV4 => {
            ipv4(body);
            let Ok(p) = Ipv4Packet::new_checked(body) else { return };
            let (src, dst) = (IpAddr::V4(p.src_addr()), IpAddr::V4(p.dst_addr()));
            match p.protocol() {
                ip_protocol::TCP => tcp(p.payload(), src, dst),
                ip_protocol::UDP => udp(p.payload(), src, dst),
                ip_protocol::ICMP => icmpv4(p.payload()),
                _ => {}
            }
        }
        EtherType::IPV6 => {
            ipv6(body);
            let Ok(p) = Ipv6Packet::new_checked(body) else { return };
            let Ok(upper) = p.upper_layer() else { return };
            let (src, dst) = (IpAddr::V6(p.src_addr()), IpAddr::V6(p.dst_addr()));
            match upper.protocol {
                ip_protocol::TCP => tcp(upper.payload, src, dst),
                ip_protocol::UDP => udp(upper.payload, src, dst),
                ip_protocol::ICMPV6 => icmpv6(upper.payload, p.src_addr(), p.dst_addr()),
                _ => {}
            }
        }
        _ => {}
    }
}

/// A corpus frame with up to 8 bytes overwritten and possibly cut short.
fn mutated_frame() -> impl Strategy<Value = (Link, Vec<u8>)> {
    let corpus = corpus();
    let n = corpus.len();
    (
        0..n,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<Option<prop::sample::Index>>(),
    )
        .prop_map(move |(i, edits, cut)| {
            let mut bytes = corpus[i].bytes.clone();
            for (at, value) in edits {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            (corpus[i].link, bytes)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
        every_view(&bytes);
        for link in [Link::Ethernet, Link::Sll, Link::Sll2] {
            walk(link, &bytes);
        }
    }

    #[test]
    fn mutated_real_frames_never_panic_and_round_trip((link, bytes) in mutated_frame()) {
        walk(link, &bytes);
        every_view(&bytes);
        for skip in [14, 16, 20, 34, 54] {
            every_view(bytes.get(skip..).unwrap_or(&[]));
        }
    }
}

#[test]
fn unmutated_corpus_frames_walk_cleanly() {
    for entry in corpus() {
        walk(entry.link, &entry.bytes);
    }
}
