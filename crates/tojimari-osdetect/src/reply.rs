//! An answer's IP packet read once into plain values: the IP fields the facts use and the TCP segment,
//! ICMP echo reply or ICMP error it carries, IPv4 or IPv6 alike (ICMPv4 and ICMPv6 share the header
//! layout this reads). Never panics: anything short or odd gives `None` or leaves a field out.

use std::net::IpAddr;

use tojimari_wire::{Icmpv4Packet, Ipv4Packet, Ipv6Packet, TcpOption, TcpPacket, icmpv4, icmpv6, ip_protocol};

/// The IP layer of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ip<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// IPv4's DF bit (None for IPv6, which has no such bit).
    pub df: Option<bool>,
    /// IPv4's identification (None for IPv6).
    pub id: Option<u16>,
    /// IPv4's total length (IPv6: header + payload length).
    pub total_len: u16,
    pub proto: u8,
    pub payload: &'a [u8],
}

/// Reads an IPv4 or IPv6 packet (no IPv6 extension headers beyond what the wire layer walks).
pub(crate) fn ip(bytes: &[u8]) -> Option<Ip<'_>> {
    match bytes.first()? >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(bytes).ok()?;
            if p.more_frags() || p.frag_offset() != 0 {
                return None;
            }
            Some(Ip {
                src: IpAddr::V4(p.src_addr()),
                dst: IpAddr::V4(p.dst_addr()),
                ttl: p.ttl(),
                df: Some(p.dont_frag()),
                id: Some(p.ident()),
                total_len: p.total_len(),
                proto: p.protocol(),
                payload: p.payload(),
            })
        }
        6 => {
            let p = Ipv6Packet::new_checked(bytes).ok()?;
            let upper = p.upper_layer().ok()?;
            if upper.frag_offset.is_some_and(|o| o != 0) {
                return None;
            }
            Some(Ip {
                src: IpAddr::V6(p.src_addr()),
                dst: IpAddr::V6(p.dst_addr()),
                ttl: p.hop_limit(),
                df: None,
                id: None,
                total_len: p.payload_len().saturating_add(40),
                proto: upper.protocol,
                payload: upper.payload,
            })
        }
        _ => None,
    }
}

/// One TCP option as the facts keep it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Opt {
    Mss(u16),
    Ws(u8),
    Sack,
    Ts(u32, u32),
    Nop,
    Eol,
    /// Another kind, or a known kind of the wrong length.
    Other(u8),
    /// A length byte missing or past the block: the walk stopped here.
    Broken,
}

/// A TCP segment's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tcp {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<Opt>,
    pub payload: Vec<u8>,
}

/// Reads a TCP segment (header and options; at most 64 bytes of payload kept).
pub(crate) fn tcp(bytes: &[u8]) -> Option<Tcp> {
    let p = TcpPacket::new_checked(bytes).ok()?;
    let block = p.options();
    let mut options = Vec::new();
    // The wire iterator stops at end-of-list; we also want to see an explicit EOL in the order.
    let mut eol_at = None;
    let mut i = 0;
    while i < block.len() {
        match block[i] {
            0 => {
                eol_at = Some(i);
                break;
            }
            1 => i += 1,
            _ => match block.get(i + 1) {
                Some(&l) if l >= 2 => i += usize::from(l),
                _ => break,
            },
        }
    }
    for opt in p.option_iter() {
        options.push(match opt {
            TcpOption::NoOperation => Opt::Nop,
            TcpOption::MaxSegmentSize(v) => Opt::Mss(v),
            TcpOption::WindowScale(s) => Opt::Ws(s),
            TcpOption::SackPermitted => Opt::Sack,
            TcpOption::Timestamps(a, b) => Opt::Ts(a, b),
            TcpOption::Unknown { kind, .. } => Opt::Other(kind),
            TcpOption::Malformed { .. } => Opt::Broken,
        });
        if options.len() >= 40 {
            break;
        }
    }
    if eol_at.is_some() && !options.contains(&Opt::Broken) {
        options.push(Opt::Eol);
    }
    let payload = p.payload();
    Some(Tcp {
        src_port: p.src_port(),
        dst_port: p.dst_port(),
        seq: p.seq_number(),
        ack: p.ack_number(),
        flags: p.flags(),
        window: p.window_len(),
        options,
        payload: payload[..payload.len().min(64)].to_vec(),
    })
}

/// An ICMPv4 or ICMPv6 message's header fields and body (both put type, code, checksum, then identifier
/// and sequence number or an error's 32-bit word, then the body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Icmp<'a> {
    pub msg_type: u8,
    pub code: u8,
    pub ident: u16,
    pub seq: u16,
    /// The four bytes after type, code and checksum, as one word (an error's "unused" field).
    pub rest: u32,
    pub data: &'a [u8],
}

pub(crate) fn icmp(bytes: &[u8]) -> Option<Icmp<'_>> {
    let p = Icmpv4Packet::new_checked(bytes).ok()?;
    Some(Icmp {
        msg_type: p.msg_type(),
        code: p.msg_code(),
        ident: p.ident(),
        seq: p.seq_no(),
        rest: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        data: p.data(),
    })
}

/// Whether an ICMP message carried by protocol `proto` (ICMP or ICMPv6) is an echo reply.
pub(crate) fn is_echo_reply(proto: u8, m: &Icmp<'_>) -> bool {
    match proto {
        ICMP => m.msg_type == icmpv4::message::ECHO_REPLY,
        ICMPV6 => m.msg_type == icmpv6::message::ECHO_REPLY,
        _ => false,
    }
}

/// Whether an ICMP message carried by protocol `proto` (ICMP or ICMPv6) is a destination-unreachable port
/// error.
pub(crate) fn is_port_unreachable(proto: u8, m: &Icmp<'_>) -> bool {
    match proto {
        ICMP => m.msg_type == icmpv4::message::DST_UNREACHABLE && m.code == icmpv4::unreachable::PORT,
        ICMPV6 => m.msg_type == icmpv6::message::DST_UNREACHABLE && m.code == icmpv6::unreachable::PORT,
        _ => false,
    }
}

/// Whether `proto` is ICMP of either family.
pub(crate) fn is_icmp(proto: u8) -> bool {
    proto == ICMP || proto == ICMPV6
}

pub(crate) const TCP: u8 = ip_protocol::TCP;
pub(crate) const ICMP: u8 = ip_protocol::ICMP;
pub(crate) const ICMPV6: u8 = ip_protocol::ICMPV6;
pub(crate) const UDP: u8 = ip_protocol::UDP;
