//! Parsing received frames into [`Reply`] values.
//!
//! Hand-written over byte slices: every read goes through `get`, so no input can panic. Ethernet II with up to
//! two VLAN tags (802.1Q / 802.1ad), ARP, IPv4 (options skipped; non-first fragments ignored), IPv6 (hop-by-hop,
//! routing and destination-options headers skipped; fragments only when first), TCP, UDP, ICMP and ICMPv6.
//!
//! Checksums are deliberately not verified: with checksum offload (veth, loopback) a capture legitimately sees
//! partial checksums, and cookies are what tell our replies from stray traffic. Trailing Ethernet padding is
//! cut off by the IP total / payload length.

mod icmp;

use crate::Reply;
use crate::build::arp::{HTYPE_ETHERNET, OP_REPLY, OP_REQUEST};
use crate::build::ethernet::{ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN};
use crate::build::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Big-endian u16 at `at`, if in bounds.
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

/// Big-endian u32 at `at`, if in bounds.
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// `N` bytes at `at`, if in bounds.
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The IP layer of a packet: addresses, upper-layer protocol and the bytes after all headers we skip.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ip<'a> {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) proto: u8,
    pub(crate) ttl: u8,
    pub(crate) payload: &'a [u8],
}

/// Parses an IPv4 header. The payload is cut at the total length when the buffer is longer (padding) and left
/// as is when shorter (quotes inside ICMP errors). `None` for non-first fragments and malformed headers.
pub(crate) fn ipv4(p: &[u8]) -> Option<Ip<'_>> {
    let vihl = *p.first()?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return None;
    }
    let total = usize::from(be16(p, 2)?);
    if total < ihl {
        return None;
    }
    if be16(p, 6)? & 0x1fff != 0 {
        return None; // not the first fragment: no transport header
    }
    Some(Ip {
        src: IpAddr::V4(Ipv4Addr::from(array::<4>(p, 12)?)),
        dst: IpAddr::V4(Ipv4Addr::from(array::<4>(p, 16)?)),
        proto: p[9],
        ttl: p[8],
        payload: p.get(ihl..total.min(p.len()))?,
    })
}

/// Extension headers skipped at most (a longer chain is not something our probes provoke).
const MAX_EXT_HEADERS: usize = 8;

/// Parses an IPv6 header and skips hop-by-hop (0), routing (43), destination options (60) and fragment (44,
/// first fragment only) headers. Payload cut like [`ipv4`]; a zero payload length (jumbogram) keeps the rest.
pub(crate) fn ipv6(p: &[u8]) -> Option<Ip<'_>> {
    let head = p.get(..40)?;
    if head[0] >> 4 != 6 {
        return None;
    }
    let plen = usize::from(be16(head, 4)?);
    let end = if plen == 0 { p.len() } else { (40 + plen).min(p.len()) };
    let mut rest = p.get(40..end)?;
    let mut next = head[6];
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            0 | 43 | 60 => {
                let len = (usize::from(*rest.get(1)?) + 1) * 8;
                next = *rest.first()?;
                rest = rest.get(len..)?;
            }
            44 => {
                if be16(rest, 2)? & 0xfff8 != 0 {
                    return None;
                }
                next = *rest.first()?;
                rest = rest.get(8..)?;
            }
            _ => break,
        }
    }
    Some(Ip {
        src: IpAddr::V6(Ipv6Addr::from(array::<16>(head, 8)?)),
        dst: IpAddr::V6(Ipv6Addr::from(array::<16>(head, 24)?)),
        proto: next,
        ttl: head[7],
        payload: rest,
    })
}

/// Parses an Ethernet II frame (IPv4, IPv6 with extension headers skipped where simple (hop-by-hop, routing,
/// dest opts; fragments: only first fragment), ARP; 802.1Q VLAN tag skipped). Never panics on any input.
pub fn parse_frame(frame: &[u8]) -> Option<Reply> {
    let mut ethertype = be16(frame, 12)?;
    let mut at = 14;
    for _ in 0..2 {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        ethertype = be16(frame, at + 2)?;
        at += 4;
    }
    let body = frame.get(at..)?;
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => parse_ip(body),
        ETHERTYPE_ARP => arp(body),
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
        (PROTO_TCP, _) => tcp(&ip),
        (PROTO_UDP, _) => udp(&ip),
        (PROTO_ICMP, IpAddr::V4(_)) => icmp::icmpv4(&ip),
        (PROTO_ICMPV6, IpAddr::V6(_)) => icmp::icmpv6(&ip),
        _ => None,
    }
}

fn tcp(ip: &Ip<'_>) -> Option<Reply> {
    let t = ip.payload;
    let doff = usize::from(*t.get(12)? >> 4) * 4;
    if doff < 20 || t.len() < doff {
        return None;
    }
    Some(Reply::Tcp {
        src: ip.src,
        dst: ip.dst,
        sport: be16(t, 0)?,
        dport: be16(t, 2)?,
        seq: be32(t, 4)?,
        ack: be32(t, 8)?,
        flags: t[13],
        window: be16(t, 14)?,
        ttl: ip.ttl,
    })
}

fn udp(ip: &Ip<'_>) -> Option<Reply> {
    let u = ip.payload.get(..8)?;
    Some(Reply::Udp { src: ip.src, dst: ip.dst, sport: be16(u, 0)?, dport: be16(u, 2)?, ttl: ip.ttl })
}

/// ARP for Ethernet/IPv4 only (RFC 826 with hardware type 1, protocol type 0x0800).
fn arp(a: &[u8]) -> Option<Reply> {
    let a = a.get(..28)?;
    if be16(a, 0)? != HTYPE_ETHERNET || be16(a, 2)? != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 {
        return None;
    }
    let is_reply = match be16(a, 6)? {
        OP_REQUEST => false,
        OP_REPLY => true,
        _ => return None,
    };
    Some(Reply::Arp {
        sender_ip: Ipv4Addr::from(array::<4>(a, 14)?),
        sender_mac: array(a, 8)?,
        target_ip: Ipv4Addr::from(array::<4>(a, 24)?),
        is_reply,
    })
}

#[cfg(test)]
mod tests;
