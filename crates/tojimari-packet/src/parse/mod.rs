//! Parsing received frames into [`Reply`] values, over the views of `tojimari-wire`.
//!
//! Every read goes through a checked view, so no input can panic. Ethernet II with up to two VLAN tags
//! (802.1Q / 802.1ad), ARP, IPv4 (options skipped; non-first fragments ignored), IPv6 (hop-by-hop, routing
//! and destination-options headers skipped; fragments only when first), TCP, UDP, SCTP, ICMP and ICMPv6.
//!
//! Checksums are deliberately not verified: with checksum offload (veth, loopback) a capture legitimately sees
//! partial checksums, and cookies are what tell our replies from stray traffic. Trailing Ethernet padding is
//! cut off by the IP total / payload length.

mod icmp;

use crate::Reply;
use std::net::IpAddr;
use tojimari_wire::ip_protocol::{ICMP, ICMPV6, SCTP, TCP, UDP};
use tojimari_wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, Ipv4Packet, Ipv6Packet};
use tojimari_wire::{TcpPacket, UdpPacket};

/// The IP layer of a packet: addresses, upper-layer protocol and the bytes after all headers we skip.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ip<'a> {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) proto: u8,
    pub(crate) ttl: u8,
    pub(crate) payload: &'a [u8],
}

/// An IPv4 packet's IP layer. The payload is cut at the total length when the buffer is longer (padding) and
/// left as is when shorter (quotes inside ICMP errors). `None` for non-first fragments and malformed headers.
pub(crate) fn ipv4(p: &[u8]) -> Option<Ip<'_>> {
    let v = Ipv4Packet::new_checked(p).ok()?;
    if usize::from(v.total_len()) < v.header_len() || v.frag_offset() != 0 {
        return None;
    }
    let (src, dst) = (IpAddr::V4(v.src_addr()), IpAddr::V4(v.dst_addr()));
    Some(Ip { src, dst, proto: v.protocol(), ttl: v.ttl(), payload: v.payload() })
}

/// An IPv6 packet's IP layer, extension headers skipped (see [`Ipv6Packet::upper_layer`]). `None` for
/// non-first fragments and extension headers running past the buffer.
pub(crate) fn ipv6(p: &[u8]) -> Option<Ip<'_>> {
    let v = Ipv6Packet::new_checked(p).ok()?;
    let upper = v.upper_layer().ok()?;
    if upper.frag_offset.is_some_and(|o| o != 0) {
        return None;
    }
    let (src, dst) = (IpAddr::V6(v.src_addr()), IpAddr::V6(v.dst_addr()));
    Some(Ip { src, dst, proto: upper.protocol, ttl: v.hop_limit(), payload: upper.payload })
}

/// Parses an Ethernet II frame (IPv4, IPv6 with extension headers skipped where simple (hop-by-hop, routing,
/// dest opts; fragments: only first fragment), ARP; 802.1Q VLAN tag skipped). Never panics on any input.
pub fn parse_frame(frame: &[u8]) -> Option<Reply> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    // Untagged frames, the receive path's own, are dispatched before any tag is looked for.
    match eth.ethertype() {
        EtherType::IPV4 | EtherType::IPV6 => parse_ip(eth.payload()),
        EtherType::ARP => arp(eth.payload()),
        tag if tag.is_vlan_tag() => match eth.inner().ok()? {
            (EtherType::IPV4 | EtherType::IPV6, body) => parse_ip(body),
            (EtherType::ARP, body) => arp(body),
            _ => None,
        },
        _ => None,
    }
}

/// The IP packet an Ethernet II frame carries (IPv4 or IPv6, up to two VLAN tags skipped), as received:
/// for readers that need more of it than a [`Reply`] keeps (OS detection reads options, DF and IP IDs).
pub fn frame_ip(frame: &[u8]) -> Option<&[u8]> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    match eth.ethertype() {
        EtherType::IPV4 | EtherType::IPV6 => Some(eth.payload()),
        tag if tag.is_vlan_tag() => match eth.inner().ok()? {
            (EtherType::IPV4 | EtherType::IPV6, body) => Some(body),
            _ => None,
        },
        _ => None,
    }
}

/// Same, for a bare IP packet (no link layer); the version nibble picks IPv4 or IPv6.
pub fn parse_ip(packet: &[u8]) -> Option<Reply> {
    let ip = match *packet.first()? >> 4 {
        4 => ipv4(packet)?,
        6 => ipv6(packet)?,
        _ => return None,
    };
    match (ip.proto, ip.src) {
        (TCP, _) => tcp(&ip),
        (UDP, _) => udp(&ip),
        (SCTP, _) => sctp(&ip),
        (ICMP, IpAddr::V4(_)) => icmp::icmpv4(&ip),
        (ICMPV6, IpAddr::V6(_)) => icmp::icmpv6(&ip),
        _ => None,
    }
}

fn tcp(ip: &Ip<'_>) -> Option<Reply> {
    let t = TcpPacket::new_checked(ip.payload).ok()?;
    Some(Reply::Tcp {
        src: ip.src,
        dst: ip.dst,
        sport: t.src_port(),
        dport: t.dst_port(),
        seq: t.seq_number(),
        ack: t.ack_number(),
        flags: t.flags(),
        window: t.window_len(),
        ttl: ip.ttl,
    })
}

fn udp(ip: &Ip<'_>) -> Option<Reply> {
    let u = UdpPacket::new_checked(ip.payload).ok()?;
    Some(Reply::Udp { src: ip.src, dst: ip.dst, sport: u.src_port(), dport: u.dst_port(), ttl: ip.ttl })
}

/// SCTP: the common header and the first chunk (a packet without a whole chunk is no answer).
fn sctp(ip: &Ip<'_>) -> Option<Reply> {
    let p = tojimari_wire::SctpPacket::new_checked(ip.payload).ok()?;
    let c = p.first_chunk()?;
    Some(Reply::Sctp {
        src: ip.src,
        dst: ip.dst,
        sport: p.src_port(),
        dport: p.dst_port(),
        vtag: p.verification_tag(),
        chunk: c.kind,
        flags: c.flags,
        ttl: ip.ttl,
    })
}

/// ARP for Ethernet/IPv4 only (RFC 826 with hardware type 1, protocol type 0x0800), requests and replies.
fn arp(a: &[u8]) -> Option<Reply> {
    let r = ArpRepr::parse(&ArpPacket::new_checked(a).ok()?).ok()?;
    let is_reply = match r.operation {
        ArpOperation::REQUEST => false,
        ArpOperation::REPLY => true,
        _ => return None,
    };
    Some(Reply::Arp {
        sender_ip: r.source_protocol_addr,
        sender_mac: r.source_hardware_addr,
        target_ip: r.target_protocol_addr,
        is_reply,
    })
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
