//! Packet summaries: the few header facts the detector needs, parsed from raw frames.
//!
//! [`summarize`] reads one captured frame (Ethernet, Linux cooked v1/v2, BSD loopback or raw
//! IP), then IPv4/IPv6, then TCP, UDP or ICMP/ICMPv6, and returns a [`PacketSummary`]. It never
//! panics and never allocates: hostile, truncated (snaplen) or nonsensical frames give `None`
//! or an [`Transport::Other`]. Lengths come from the IP header, not from the captured bytes,
//! so a frame cut at snaplen 128 still reports its true payload length, and Ethernet padding is
//! not mistaken for payload.
//!
//! The bytes are read through `tojimari-wire`'s checked views, the same ones the scanner's reply
//! parser uses; what is decided here is the detector's policy: every packet in both directions is
//! summarised (not only answers to our own probes), and whatever cannot be read beyond the IP
//! header becomes [`Transport::Other`].

use std::net::IpAddr;

use tojimari_wire::icmpv4::{message as v4, unreachable as v4_unreachable};
use tojimari_wire::icmpv6::{message as v6, unreachable as v6_unreachable};
use tojimari_wire::tcp::{TcpOption, TcpOptions as WireOptions, flags};
use tojimari_wire::{EtherType, EthernetFrame, Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv6Packet, QuotedTransport};
use tojimari_wire::{Sll2Frame, SllFrame, TcpPacket, UdpPacket, ip_protocol};

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
    // The bits as tojimari-wire names them (RFC 9293, RFC 3168), in one place.
    pub const FIN: u8 = flags::FIN;
    pub const SYN: u8 = flags::SYN;
    pub const RST: u8 = flags::RST;
    pub const PSH: u8 = flags::PSH;
    pub const ACK: u8 = flags::ACK;
    pub const URG: u8 = flags::URG;
    pub const ECE: u8 = flags::ECE;
    pub const CWR: u8 = flags::CWR;

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

    /// Parses an options block; stops quietly at anything malformed (whose kind is still listed).
    pub fn parse(bytes: &[u8]) -> TcpOptions {
        let mut options = TcpOptions::default();
        for option in WireOptions::new(bytes) {
            if usize::from(options.count) < TcpOptions::MAX_KINDS {
                options.kinds[usize::from(options.count)] = option.kind();
                options.count += 1;
            }
            match option {
                TcpOption::MaxSegmentSize(mss) => options.mss = Some(mss),
                TcpOption::WindowScale(shift) => options.wscale = Some(shift),
                _ => {}
            }
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
    /// IPv4 don't-fragment flag (false for IPv6, which has none).
    pub df: bool,
    /// The transport part.
    pub transport: Transport,
}

/// Parses one captured frame. `None` when it is not IP or too short to say who sent it.
pub fn summarize(frame: &[u8], link: LinkType, ts: Timestamp) -> Option<PacketSummary> {
    let (ethertype, ip) = match link {
        LinkType::Ethernet => EthernetFrame::new_checked(frame).ok()?.inner().ok()?,
        LinkType::RawIp => return summarize_ip(frame, ts),
        LinkType::LinuxSll => {
            let f = SllFrame::new_checked(frame).ok()?;
            (f.protocol(), f.payload())
        }
        LinkType::LinuxSll2 => {
            let f = Sll2Frame::new_checked(frame).ok()?;
            (f.protocol(), f.payload())
        }
        LinkType::Loopback => return summarize_ip(frame.get(4..)?, ts),
    };
    match ethertype {
        EtherType::IPV4 | EtherType::IPV6 => summarize_ip(ip, ts),
        _ => None,
    }
}

/// Parses a frame that starts at the IP header (either version).
pub fn summarize_ip(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    match ip.first()? >> 4 {
        4 => ipv4(ip, ts),
        6 => ipv6(ip, ts),
        _ => None,
    }
}

fn ipv4(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    let v = Ipv4Packet::new_checked(ip).ok()?;
    let protocol = v.protocol();
    // The transport header is read from the captured bytes even past a total length that says otherwise
    // (a segmentation-offloaded capture can carry 0 there); lengths still come from the header.
    let body = &ip[v.header_len()..];
    let body_len = usize::from(v.total_len()).saturating_sub(v.header_len());
    let transport = if v.frag_offset() != 0 {
        Transport::Other { protocol }
    } else {
        transport(protocol, body, body_len, Family::V4).unwrap_or(Transport::Other { protocol })
    };
    let (src, dst) = (IpAddr::V4(v.src_addr()), IpAddr::V4(v.dst_addr()));
    Some(PacketSummary { ts, src, dst, ttl: v.ttl(), ip_id: Some(v.ident()), df: v.dont_frag(), transport })
}

fn ipv6(ip: &[u8], ts: Timestamp) -> Option<PacketSummary> {
    let v = Ipv6Packet::new_checked(ip).ok()?;
    let (src, dst, ttl) = (IpAddr::V6(v.src_addr()), IpAddr::V6(v.dst_addr()), v.hop_limit());
    let transport = match v.upper_layer() {
        Ok(upper) if upper.frag_offset.is_some_and(|o| o != 0) => Transport::Other { protocol: upper.protocol },
        Ok(upper) => {
            let body_len = usize::from(v.payload_len()).saturating_sub(upper.ext_len);
            transport(upper.protocol, upper.payload, body_len, Family::V6)
                .unwrap_or(Transport::Other { protocol: upper.protocol })
        }
        // An extension header cut short: all that is known is the first next header.
        Err(_) => Transport::Other { protocol: v.next_header() },
    };
    Some(PacketSummary { ts, src, dst, ttl, ip_id: None, df: false, transport })
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
        (ip_protocol::TCP, _) => {
            let t = TcpPacket::new_checked(body).ok()?;
            Some(Transport::Tcp(TcpSummary {
                sport: t.src_port(),
                dport: t.dst_port(),
                seq: t.seq_number(),
                ack: t.ack_number(),
                flags: TcpFlags(t.flags()),
                window: t.window_len(),
                options: TcpOptions::parse(t.options()),
                payload_len: clamp16(body_len.saturating_sub(t.header_len())),
            }))
        }
        (ip_protocol::UDP, _) => {
            let u = UdpPacket::new_checked(body).ok()?;
            let payload_len = clamp16(usize::from(u.len()).min(body_len).saturating_sub(8));
            Some(Transport::Udp { sport: u.src_port(), dport: u.dst_port(), payload_len })
        }
        (ip_protocol::ICMP, Family::V4) => icmp4(&Icmpv4Packet::new_checked(body).ok()?),
        (ip_protocol::ICMPV6, Family::V6) => icmp6(&Icmpv6Packet::new_checked(body).ok()?),
        _ => None,
    }
}

fn query(request: bool, query: IcmpQuery, id: u16, seq: u16) -> Option<Transport> {
    Some(if request { Transport::IcmpRequest { query, id, seq } } else { Transport::IcmpReply { query, id, seq } })
}

fn icmp4(m: &Icmpv4Packet<&[u8]>) -> Option<Transport> {
    let (id, seq, code) = (m.ident(), m.seq_no(), m.msg_code());
    match m.msg_type() {
        v4::ECHO_REQUEST => query(true, IcmpQuery::Echo, id, seq),
        v4::ECHO_REPLY => query(false, IcmpQuery::Echo, id, seq),
        v4::TIMESTAMP_REQUEST => query(true, IcmpQuery::Timestamp, id, seq),
        v4::TIMESTAMP_REPLY => query(false, IcmpQuery::Timestamp, id, seq),
        v4::ADDRESS_MASK_REQUEST => query(true, IcmpQuery::AddressMask, id, seq),
        v4::ADDRESS_MASK_REPLY => query(false, IcmpQuery::AddressMask, id, seq),
        v4::DST_UNREACHABLE => {
            let reason = match code {
                v4_unreachable::PORT => UnreachableReason::Port,
                v4_unreachable::NET_PROHIBITED | v4_unreachable::HOST_PROHIBITED | v4_unreachable::COMM_PROHIBITED => {
                    UnreachableReason::Prohibited
                }
                _ => UnreachableReason::Other,
            };
            Some(Transport::IcmpUnreachable { reason, code, quoted: quoted(m.data()) })
        }
        _ => None,
    }
}

fn icmp6(m: &Icmpv6Packet<&[u8]>) -> Option<Transport> {
    let (id, seq, code) = (m.ident(), m.seq_no(), m.msg_code());
    match m.msg_type() {
        v6::ECHO_REQUEST => query(true, IcmpQuery::Echo, id, seq),
        v6::ECHO_REPLY => query(false, IcmpQuery::Echo, id, seq),
        v6::DST_UNREACHABLE => {
            let reason = match code {
                v6_unreachable::PORT => UnreachableReason::Port,
                v6_unreachable::PROHIBITED | v6_unreachable::POLICY_FAILED | v6_unreachable::REJECT_ROUTE => {
                    UnreachableReason::Prohibited
                }
                _ => UnreachableReason::Other,
            };
            Some(Transport::IcmpUnreachable { reason, code, quoted: quoted(m.data()) })
        }
        _ => None,
    }
}

/// The original packet inside an ICMP error (header plus the first 8 bytes of its payload). The quoted
/// header is taken as it stands: no IPv6 extension headers are walked.
fn quoted(ip: &[u8]) -> Option<QuotedPacket> {
    let (src, dst, protocol, l4) = match ip.first()? >> 4 {
        4 => {
            let v = Ipv4Packet::new_checked(ip).ok()?;
            (IpAddr::V4(v.src_addr()), IpAddr::V4(v.dst_addr()), v.protocol(), &ip[v.header_len()..])
        }
        6 => {
            let v = Ipv6Packet::new_checked(ip).ok()?;
            (IpAddr::V6(v.src_addr()), IpAddr::V6(v.dst_addr()), v.next_header(), v.payload())
        }
        _ => return None,
    };
    let (sport, dport) = match (protocol, QuotedTransport::parse(protocol, l4)) {
        (ip_protocol::TCP | ip_protocol::UDP, Ok(t)) => (t.src_port, t.dst_port),
        _ => (0, 0),
    };
    Some(QuotedPacket { src, dst, protocol, sport, dport })
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "summary_prop_tests.rs"]
mod prop_tests;
