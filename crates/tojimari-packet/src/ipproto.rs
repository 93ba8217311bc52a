//! `-sO`: what an answer to an IP protocol probe is, and what it says about the protocol.
//!
//! The nmap book's rules ("IP Protocol Scan"): any answer in the probed protocol means open; an ICMP
//! protocol unreachable (type 3 code 2) means closed; an ICMP port unreachable (type 3 code 3, from a
//! stack that took our UDP probe) means open; the other unreachables (codes 1, 9, 10, 13) mean filtered;
//! silence after the retries means open|filtered. Over IPv6 the protocol unreachable is a parameter
//! problem with code 1 (unrecognized next header, RFC 8200 section 4); nmap reads any other parameter
//! problem about the probe as proof that the protocol was processed (open), and so does tojimari.
//! Any ICMP error about any probe also proves the ICMP protocol itself (1, or 58 over IPv6) open, which
//! the engine records when it is scanned.
//!
//! An empty probe's quote holds no transport bytes, so [`parse_proto_frame`] reads quotes itself (the
//! general parser wants ports): the quoted addresses, protocol and, for IPv4, the identification field,
//! which carries the probe's cookie.

use std::net::IpAddr;

use tojimari_core::{PortState, Reason};
use tojimari_wire::icmpv4::message as v4;
use tojimari_wire::icmpv6::message as v6;
use tojimari_wire::ip_protocol::{ICMP, ICMPV6};
use tojimari_wire::{Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv6Packet, QuotedTransport};

use crate::Reply;
use crate::parse::{Ip, frame_ip, ipv4, ipv6, parse_ip};

/// The probe an ICMP error quotes, as far as `-sO` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedIp {
    /// Our address.
    pub src: IpAddr,
    /// The target's.
    pub dst: IpAddr,
    /// The protocol probed (IPv6: the first next header).
    pub proto: u8,
    /// IPv4 identification (none over IPv6).
    pub ip_id: Option<u16>,
    /// The quoted transport's first four bytes as ports (or an echo's identifier and sequence), if present.
    pub ports: Option<(u16, u16)>,
}

/// A received frame as `-sO` reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoReply {
    /// A packet that is not an ICMP error: an answer in protocol `proto`. `reply` is what the general
    /// parser makes of it, when it can (TCP, UDP, SCTP, echo replies).
    Direct {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Its protocol.
        proto: u8,
        /// TTL / hop limit.
        ttl: u8,
        /// The general parser's reading.
        reply: Option<Reply>,
    },
    /// An ICMP or ICMPv6 error quoting a probe.
    Error {
        /// Who sent it.
        from: IpAddr,
        /// Its destination (us).
        to: IpAddr,
        /// TTL / hop limit of the error.
        ttl: u8,
        /// ICMPv6.
        v6: bool,
        /// ICMP type.
        kind: u8,
        /// ICMP code.
        code: u8,
        /// The quoted probe.
        quoted: QuotedIp,
    },
}

/// Reads an Ethernet frame for `-sO`. Never panics; `None` for what is neither an IP packet nor readable.
pub fn parse_proto_frame(frame: &[u8]) -> Option<ProtoReply> {
    let packet = frame_ip(frame)?;
    let ip = match *packet.first()? >> 4 {
        4 => ipv4(packet)?,
        6 => ipv6(packet)?,
        _ => return None,
    };
    if let Some(error) = icmp_error(&ip) {
        return Some(error);
    }
    Some(ProtoReply::Direct { src: ip.src, dst: ip.dst, proto: ip.proto, ttl: ip.ttl, reply: parse_ip(packet) })
}

fn icmp_error(ip: &Ip<'_>) -> Option<ProtoReply> {
    let (v6, kind, code, data) = match (ip.proto, ip.src) {
        (ICMP, IpAddr::V4(_)) => {
            let m = Icmpv4Packet::new_checked(ip.payload).ok()?;
            if !matches!(m.msg_type(), v4::DST_UNREACHABLE | v4::TIME_EXCEEDED | v4::PARAM_PROBLEM) {
                return None;
            }
            (false, m.msg_type(), m.msg_code(), m.data())
        }
        (ICMPV6, IpAddr::V6(_)) => {
            let m = Icmpv6Packet::new_checked(ip.payload).ok()?;
            if !matches!(m.msg_type(), v6::DST_UNREACHABLE | v6::TIME_EXCEEDED | v6::PARAM_PROBLEM) {
                return None;
            }
            (true, m.msg_type(), m.msg_code(), m.data())
        }
        _ => return None,
    };
    let quoted = if v6 { quoted_v6(data)? } else { quoted_v4(data)? };
    Some(ProtoReply::Error { from: ip.src, to: ip.dst, ttl: ip.ttl, v6, kind, code, quoted })
}

fn ports(proto: u8, transport: &[u8]) -> Option<(u16, u16)> {
    QuotedTransport::parse(proto, transport).ok().map(|t| (t.src_port, t.dst_port))
}

fn quoted_v4(data: &[u8]) -> Option<QuotedIp> {
    let ip_id = Ipv4Packet::new_checked(data).ok()?.ident();
    let inner = ipv4(data)?;
    Some(QuotedIp {
        src: inner.src,
        dst: inner.dst,
        proto: inner.proto,
        ip_id: Some(ip_id),
        ports: ports(inner.proto, inner.payload),
    })
}

/// The quoted IPv6 probe: its extension headers walked when they are whole, else (an empty hop-by-hop or
/// fragment header, which the target refused) the fixed header's next header.
fn quoted_v6(data: &[u8]) -> Option<QuotedIp> {
    if let Some(inner) = ipv6(data) {
        let first = Ipv6Packet::new_checked(data).ok()?.next_header();
        // A probe of an extension header's number quotes as that number, not what follows it.
        let proto = if first != inner.proto && inner.payload.is_empty() { first } else { inner.proto };
        return Some(QuotedIp {
            src: inner.src,
            dst: inner.dst,
            proto,
            ip_id: None,
            ports: ports(inner.proto, inner.payload),
        });
    }
    let p = Ipv6Packet::new_checked(data).ok()?;
    let (src, dst) = (IpAddr::V6(p.src_addr()), IpAddr::V6(p.dst_addr()));
    Some(QuotedIp { src, dst, proto: p.next_header(), ip_id: None, ports: None })
}

/// The state and reason an ICMP error about a `-sO` probe gives (see the module), or `None`.
pub fn error_state(v6: bool, kind: u8, code: u8) -> Option<(PortState, Reason)> {
    match (v6, kind, code) {
        (false, v4::DST_UNREACHABLE, 2) => Some((PortState::Closed, Reason::ProtoUnreach)),
        (false, v4::DST_UNREACHABLE, 3) => Some((PortState::Open, Reason::PortUnreach)),
        (false, v4::DST_UNREACHABLE, 1 | 9 | 10 | 13) => {
            Some((PortState::Filtered, Reason::from_icmp_unreach_code(code)))
        }
        (false, v4::TIME_EXCEEDED, _) | (true, v6::TIME_EXCEEDED, _) => {
            Some((PortState::Filtered, Reason::TimeExceeded))
        }
        (true, v6::DST_UNREACHABLE, 4) => Some((PortState::Open, Reason::PortUnreach)),
        (true, v6::DST_UNREACHABLE, 0 | 1 | 3 | 5 | 6) => {
            Some((PortState::Filtered, Reason::from_icmpv6_unreach_code(code)))
        }
        (true, v6::PARAM_PROBLEM, 1) => Some((PortState::Closed, Reason::ParamProblem)),
        (true, v6::PARAM_PROBLEM, _) => Some((PortState::Open, Reason::ParamProblem)),
        _ => None,
    }
}

/// Whether a packet from the probed host in protocol `proto` answers our probe of that protocol, built
/// by [`build_ip_proto`](crate::build_ip_proto) with `cookie` and source port `sport`: TCP, UDP, SCTP and
/// ICMP echo answers must give the cookie (or our ports) back; a packet of those protocols that is not
/// such an answer (our own kind of packet seen coming back, an echo request, a neighbour message) is none;
/// any packet of another protocol is one.
pub fn direct_answer_matches(proto: u8, reply: Option<&Reply>, cookie: u32, sport: u16) -> bool {
    use crate::build::ipproto::{TCP_PORT, UDP_PORT};
    use tojimari_wire::ip_protocol::{SCTP, TCP, UDP};
    match reply {
        Some(&Reply::Tcp { sport: theirs, dport, seq, .. }) => (theirs, dport, seq) == (TCP_PORT, sport, cookie),
        Some(&Reply::Udp { sport: theirs, dport, .. }) => (theirs, dport) == (UDP_PORT, sport),
        Some(&Reply::Sctp { vtag, .. }) => vtag == cookie,
        Some(&Reply::EchoReply { id, seq, .. }) => (id, seq) == ((cookie >> 16) as u16, cookie as u16),
        Some(_) => false,
        None => !matches!(proto, TCP | UDP | SCTP | ICMP | ICMPV6),
    }
}

/// The reason a direct answer gives (always open): an ICMP echo reply is `echo-reply`, a UDP datagram
/// `udp-response`, anything else `proto-response`.
pub fn direct_reason(reply: Option<&Reply>) -> Reason {
    match reply {
        Some(Reply::EchoReply { src: IpAddr::V4(_), .. }) => Reason::EchoReply,
        Some(Reply::Udp { .. }) => Reason::UdpResponse,
        _ => Reason::ProtoResponse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{IpProtoProbe, L2, MAX_FRAME, build_ip_proto};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const L: L2 = L2 { src_mac: [0; 6], dst_mac: [0; 6] };

    #[test]
    fn nmaps_rules() {
        use PortState::*;
        for code in 0..=255u8 {
            let want = match code {
                2 => Some((Closed, Reason::ProtoUnreach)),
                3 => Some((Open, Reason::PortUnreach)),
                1 | 9 | 10 | 13 => Some((Filtered, Reason::from_icmp_unreach_code(code))),
                _ => None,
            };
            assert_eq!(error_state(false, 3, code), want, "code {code}");
        }
        assert_eq!(error_state(false, 11, 0), Some((Filtered, Reason::TimeExceeded)));
        assert_eq!(error_state(false, 12, 0), None);
        assert_eq!(error_state(true, 4, 1), Some((Closed, Reason::ParamProblem)));
        assert_eq!(error_state(true, 4, 0), Some((Open, Reason::ParamProblem)));
        assert_eq!(error_state(true, 1, 4), Some((Open, Reason::PortUnreach)));
        assert_eq!(error_state(true, 1, 1), Some((Filtered, Reason::AdminProhibited)));
        assert_eq!(error_state(true, 128, 0), None);
    }

    /// A protocol unreachable quoting an empty probe of protocol 47, as Linux sends it (the quote is the
    /// 20-byte IP header and nothing more).
    #[test]
    fn protocol_unreachable_quoting_an_empty_probe() {
        let (us, them) = (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2));
        let probe = IpProtoProbe {
            src: us.into(),
            dst: them.into(),
            protocol: 47,
            cookie: 0xabcd_0001,
            sport: 1,
            ttl: 64,
            sctp_checksum: Default::default(),
        };
        let mut sent = [0u8; MAX_FRAME];
        let n = build_ip_proto(&mut sent, &L, &probe);
        let quote = &sent[14..n];
        let mut icmp = vec![3, 2, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(quote);
        let c = tojimari_wire::checksum::finish(tojimari_wire::checksum::sum(&icmp));
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        let mut frame = [0u8; MAX_FRAME];
        let start = crate::build::emit_l3(&mut frame, &L, them.into(), us.into(), ICMP, 64, 9, icmp.len()).unwrap();
        frame[start..start + icmp.len()].copy_from_slice(&icmp);
        let got = parse_proto_frame(&frame[..start + icmp.len()]).unwrap();
        let want_quoted = QuotedIp { src: us.into(), dst: them.into(), proto: 47, ip_id: Some(0xabcd), ports: None };
        assert_eq!(
            got,
            ProtoReply::Error {
                from: them.into(),
                to: us.into(),
                ttl: 64,
                v6: false,
                kind: 3,
                code: 2,
                quoted: want_quoted
            }
        );
        // The general parser cannot read such a quote.
        assert_eq!(crate::parse_frame(&frame[..start + icmp.len()]), None);
    }

    #[test]
    fn direct_answers_and_garbage() {
        let (us, them) = (Ipv6Addr::LOCALHOST, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
        let mut frame = [0u8; MAX_FRAME];
        let start = crate::build::emit_l3(&mut frame, &L, them.into(), us.into(), 47, 64, 0, 4).unwrap();
        let got = parse_proto_frame(&frame[..start + 4]).unwrap();
        assert_eq!(got, ProtoReply::Direct { src: them.into(), dst: us.into(), proto: 47, ttl: 64, reply: None });
        assert_eq!(direct_reason(None), Reason::ProtoResponse);
        for len in 0..80 {
            let _ = parse_proto_frame(&frame[..len]);
        }
    }
}
