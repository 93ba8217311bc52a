//! Packet summaries: the few header facts the detector needs, parsed from raw frames.
//!
//! [`summarize`] reads one captured frame (Ethernet, Linux cooked v1/v2, BSD loopback or raw
//! IP), then IPv4/IPv6, then TCP, UDP or ICMP/ICMPv6, and returns a [`PacketSummary`]. It never
//! panics and never allocates: hostile, truncated (snaplen) or nonsensical frames give `None`
//! or an [`Transport::Other`]. Lengths come from the IP header, not from the captured bytes,
//! so a frame cut at snaplen 128 still reports its true payload length, and Ethernet padding is
//! not mistaken for payload.
//!
//! The parser is written here rather than reusing `tojimari-packet`'s reply parser because it
//! must accept every packet in both directions, not only answers to our own probes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tojimari_packet::tcp;

use crate::time::Timestamp;

/// How a captured frame starts (the pcap "DLT"/"LINKTYPE").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II, with up to two 802.1Q/802.1ad tags (LINKTYPE_ETHERNET = 1).
    Ethernet,
    /// No link header: the frame starts with an IPv4 or IPv6 header (LINKTYPE_RAW = 101,
    /// DLT_RAW 12/14, LINKTYPE_IPV4 = 228, LINKTYPE_IPV6 = 229).
    RawIp,
    /// Linux "cooked" capture v1, what `tcpdump -i any` writes (LINKTYPE_LINUX_SLL = 113).
    LinuxSll,
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2 = 276).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family, then IP (LINKTYPE_NULL = 0, LINKTYPE_LOOP = 108).
    Loopback,
}

impl LinkType {
    /// The link type for a pcap/pcapng link-type number, or `None` when unsupported.
    pub fn from_linktype(number: u32) -> Option<LinkType> {
        match number {
            1 => Some(LinkType::Ethernet),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            0 | 108 => Some(LinkType::Loopback),
            _ => None,
        }
    }
}

/// TCP header flags as on the wire (the low 8 bits of the flags field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    // The bits as tojimari-packet names them (RFC 9293, RFC 3168), in one place.
    pub const FIN: u8 = tcp::FIN;
    pub const SYN: u8 = tcp::SYN;
    pub const RST: u8 = tcp::RST;
    pub const PSH: u8 = tcp::PSH;
    pub const ACK: u8 = tcp::ACK;
    pub const URG: u8 = tcp::URG;
    pub const ECE: u8 = tcp::ECE;
    pub const CWR: u8 = tcp::CWR;

    /// Whether every bit of `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// The six classic flags (ECN bits masked off), for classifying probes.
    pub fn classic(self) -> u8 {
        self.0 & 0x3f
    }
}

/// The shape of a TCP options block: the kinds in order and the values that tell stacks apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpOptions {
    kinds: [u8; TcpOptions::MAX_KINDS],
    count: u8,
    /// Maximum segment size (kind 2), if present.
    pub mss: Option<u16>,
    /// Window scale shift (kind 3), if present.
    pub wscale: Option<u8>,
}

impl TcpOptions {
    /// How many option kinds are remembered (a TCP header holds at most 40 option bytes).
    pub const MAX_KINDS: usize = 12;
    /// Kind of the maximum segment size option.
    pub const MSS: u8 = 2;
    /// Kind of the window scale option.
    pub const WSCALE: u8 = 3;
    /// Kind of the SACK-permitted option.
    pub const SACK_PERMITTED: u8 = 4;
    /// Kind of the timestamps option.
    pub const TIMESTAMPS: u8 = 8;

    /// The option kinds in wire order, NOPs (1) included, end-of-list (0) excluded.
    pub fn kinds(&self) -> &[u8] {
        &self.kinds[..usize::from(self.count)]
    }

    /// Whether an option of `kind` is present.
    pub fn has(&self, kind: u8) -> bool {
        self.kinds().contains(&kind)
    }

    /// Whether there are no options at all.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Parses an options block; stops quietly at anything malformed.
    pub fn parse(mut bytes: &[u8]) -> TcpOptions {
        let mut options = TcpOptions::default();
        while let Some((&kind, rest)) = bytes.split_first() {
            if kind == 0 {
                break;
            }
            if usize::from(options.count) < TcpOptions::MAX_KINDS {
                options.kinds[usize::from(options.count)] = kind;
                options.count += 1;
            }
            if kind == 1 {
                bytes = rest;
                continue;
            }
            let Some(&len) = rest.first() else { break };
            let len = usize::from(len);
            if len < 2 || len > bytes.len() {
                break;
            }
            let body = &bytes[2..len];
            match (kind, body) {
                (TcpOptions::MSS, [a, b]) => options.mss = Some(u16::from_be_bytes([*a, *b])),
                (TcpOptions::WSCALE, [s]) => options.wscale = Some(*s),
                _ => {}
            }
            bytes = &bytes[len..];
        }
        options
    }
}

/// The TCP facts of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSummary {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Flags.
    pub flags: TcpFlags,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// The options block's shape.
    pub options: TcpOptions,
    /// Payload bytes, from the IP length (not the captured length).
    pub payload_len: u16,
}

/// Which ICMP query a request or reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IcmpQuery {
    /// Echo (ping): ICMP 8/0, ICMPv6 128/129.
    Echo,
    /// Timestamp: ICMP 13/14.
    Timestamp,
    /// Address mask: ICMP 17/18.
    AddressMask,
}

/// Why a destination-unreachable was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreachableReason {
    /// Port unreachable (ICMP 3/3, ICMPv6 1/4): nothing listens on a UDP port.
    Port,
    /// Administratively prohibited (ICMP 3/9, 3/10, 3/13; ICMPv6 1/1): a firewall rejected it.
    Prohibited,
    /// Host, net or protocol unreachable and the rest.
    Other,
}

/// The original packet quoted inside an ICMP error (who sent what to where).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedPacket {
    /// The original sender (the prober, when the error answers a probe).
    pub src: IpAddr,
    /// The original destination.
    pub dst: IpAddr,
    /// The original IP protocol (6 TCP, 17 UDP, ...).
    pub protocol: u8,
    /// The original source port (0 when not TCP/UDP or not quoted).
    pub sport: u16,
    /// The original destination port (0 when not TCP/UDP or not quoted).
    pub dport: u16,
}

/// The transport-layer part of a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A TCP segment.
    Tcp(TcpSummary),
    /// A UDP datagram.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Payload bytes, from the UDP/IP length.
        payload_len: u16,
    },
    /// An ICMP/ICMPv6 query request (echo, timestamp, address mask).
    IcmpRequest {
        /// Which query.
        query: IcmpQuery,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// An ICMP/ICMPv6 query reply.
    IcmpReply {
        /// Which query.
        query: IcmpQuery,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// A destination-unreachable error.
    IcmpUnreachable {
        /// The reason, normalised across ICMP and ICMPv6.
        reason: UnreachableReason,
        /// The raw code.
        code: u8,
        /// The quoted original packet, when enough of it was captured.
        quoted: Option<QuotedPacket>,
    },
    /// Anything else: another protocol, another ICMP type, a non-first fragment.
    Other {
        /// IP protocol / IPv6 next header.
        protocol: u8,
    },
}

/// What the detector knows about one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketSummary {
    /// When it was captured (or logged).
    pub ts: Timestamp,
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; `None` for IPv6.
    pub ip_id: Option<u16>,
    /// The transport part.
    pub transport: Transport,
}

/// Parses one captured frame. `None` when it is not IP or too short to say who sent it.
pub fn summarize(frame: &[u8], link: LinkType, ts: Timestamp) -> Option<PacketSummary> {
    let ip = match link {
        LinkType::Ethernet => ethernet_payload(frame)?,
        LinkType::RawIp => frame,
        LinkType::LinuxSll => sll_payload(frame, 14, 16)?,
        LinkType::LinuxSll2 => sll_payload(frame, 0, 20)?,
        LinkType::Loopback => frame.get(4..)?,
    };
    summarize_ip(ip, ts)
}

/// Parses a frame that starts at the IP header (either version).
pub fn summarize_ip(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    match ip.first()? >> 4 {
        4 => ipv4(ip, ts),
        6 => ipv6(ip, ts),
        _ => None,
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

fn ethernet_payload(frame: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    for _ in 0..3 {
        match be16(frame, at)? {
            0x8100 | 0x88a8 | 0x9100 => at += 4,
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return frame.get(at + 2..),
            _ => return None,
        }
    }
    None
}

fn sll_payload(frame: &[u8], proto_at: usize, header: usize) -> Option<&[u8]> {
    match be16(frame, proto_at)? {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => frame.get(header..),
        _ => None,
    }
}

fn ipv4(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let total = usize::from(be16(ip, 2)?);
    let ip_id = be16(ip, 4)?;
    let fragment_offset = be16(ip, 6)? & 0x1fff;
    let ttl = *ip.get(8)?;
    let protocol = *ip.get(9)?;
    let src = IpAddr::V4(Ipv4Addr::from(be32(ip, 12)?));
    let dst = IpAddr::V4(Ipv4Addr::from(be32(ip, 16)?));
    let body = ip.get(ihl..).unwrap_or(&[]);
    let body_len = total.saturating_sub(ihl);
    let transport = if fragment_offset != 0 {
        Transport::Other { protocol }
    } else {
        transport(protocol, body, body_len, Family::V4).unwrap_or(Transport::Other { protocol })
    };
    Some(PacketSummary { ts, src, dst, ttl, ip_id: Some(ip_id), transport })
}

fn ipv6(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    let payload_len = usize::from(be16(ip, 4)?);
    let mut next = *ip.get(6)?;
    let ttl = *ip.get(7)?;
    let src = IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(ip.get(8..24)?.try_into().ok()?)));
    let dst = IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(ip.get(24..40)?.try_into().ok()?)));
    let mut at = 40usize;
    let mut consumed = 0usize;
    // Walk a bounded number of extension headers.
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                let Some(len) = ip.get(at + 1) else { break };
                let ext = (usize::from(*len) + 1) * 8;
                next = ip.get(at).copied().unwrap_or(59);
                at += ext;
                consumed += ext;
            }
            44 => {
                let Some(offset) = be16(ip, at + 2) else { break };
                let inner = ip.get(at).copied().unwrap_or(59);
                at += 8;
                consumed += 8;
                if offset & 0xfff8 != 0 {
                    return Some(PacketSummary {
                        ts,
                        src,
                        dst,
                        ttl,
                        ip_id: None,
                        transport: Transport::Other { protocol: inner },
                    });
                }
                next = inner;
            }
            _ => break,
        }
    }
    let body = ip.get(at..).unwrap_or(&[]);
    let transport = transport(next, body, payload_len.saturating_sub(consumed), Family::V6)
        .unwrap_or(Transport::Other { protocol: next });
    Some(PacketSummary { ts, src, dst, ttl, ip_id: None, transport })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

fn clamp16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The transport part, or `None` when its header was not captured.
fn transport(protocol: u8, body: &[u8], body_len: usize, family: Family) -> Option<Transport> {
    match (protocol, family) {
        (6, _) => {
            let offset = usize::from(body.get(12)? >> 4) * 4;
            if offset < 20 {
                return None;
            }
            let flags = TcpFlags(*body.get(13)?);
            let options_end = offset.min(body.len());
            let options = TcpOptions::parse(body.get(20..options_end).unwrap_or(&[]));
            Some(Transport::Tcp(TcpSummary {
                sport: be16(body, 0)?,
                dport: be16(body, 2)?,
                seq: be32(body, 4)?,
                ack: be32(body, 8)?,
                flags,
                window: be16(body, 14)?,
                options,
                payload_len: clamp16(body_len.saturating_sub(offset)),
            }))
        }
        (17, _) => Some(Transport::Udp {
            sport: be16(body, 0)?,
            dport: be16(body, 2)?,
            payload_len: clamp16(usize::from(be16(body, 4)?).min(body_len).saturating_sub(8)),
        }),
        (1, Family::V4) => icmp4(body),
        (58, Family::V6) => icmp6(body),
        _ => None,
    }
}

fn query(request: bool, query: IcmpQuery, body: &[u8]) -> Option<Transport> {
    let id = be16(body, 4)?;
    let seq = be16(body, 6)?;
    Some(if request { Transport::IcmpRequest { query, id, seq } } else { Transport::IcmpReply { query, id, seq } })
}

fn icmp4(body: &[u8]) -> Option<Transport> {
    let kind = *body.first()?;
    let code = *body.get(1)?;
    match kind {
        8 => query(true, IcmpQuery::Echo, body),
        0 => query(false, IcmpQuery::Echo, body),
        13 => query(true, IcmpQuery::Timestamp, body),
        14 => query(false, IcmpQuery::Timestamp, body),
        17 => query(true, IcmpQuery::AddressMask, body),
        18 => query(false, IcmpQuery::AddressMask, body),
        3 => {
            let reason = match code {
                3 => UnreachableReason::Port,
                9 | 10 | 13 => UnreachableReason::Prohibited,
                _ => UnreachableReason::Other,
            };
            Some(Transport::IcmpUnreachable { reason, code, quoted: quoted(body.get(8..)?) })
        }
        _ => None,
    }
}

fn icmp6(body: &[u8]) -> Option<Transport> {
    let kind = *body.first()?;
    let code = *body.get(1)?;
    match kind {
        128 => query(true, IcmpQuery::Echo, body),
        129 => query(false, IcmpQuery::Echo, body),
        1 => {
            let reason = match code {
                4 => UnreachableReason::Port,
                1 | 5 | 6 => UnreachableReason::Prohibited,
                _ => UnreachableReason::Other,
            };
            Some(Transport::IcmpUnreachable { reason, code, quoted: quoted(body.get(8..)?) })
        }
        _ => None,
    }
}

/// The original packet inside an ICMP error (header plus the first 8 bytes of its payload).
fn quoted(ip: &[u8]) -> Option<QuotedPacket> {
    let (src, dst, protocol, l4) = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if ihl < 20 {
                return None;
            }
            let src = IpAddr::V4(Ipv4Addr::from(be32(ip, 12)?));
            let dst = IpAddr::V4(Ipv4Addr::from(be32(ip, 16)?));
            (src, dst, *ip.get(9)?, ip.get(ihl..).unwrap_or(&[]))
        }
        6 => {
            let src = IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(ip.get(8..24)?.try_into().ok()?)));
            let dst = IpAddr::V6(Ipv6Addr::from(u128::from_be_bytes(ip.get(24..40)?.try_into().ok()?)));
            (src, dst, *ip.get(6)?, ip.get(40..).unwrap_or(&[]))
        }
        _ => return None,
    };
    let (sport, dport) = match protocol {
        6 | 17 => (be16(l4, 0).unwrap_or(0), be16(l4, 2).unwrap_or(0)),
        _ => (0, 0),
    };
    Some(QuotedPacket { src, dst, protocol, sport, dport })
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
