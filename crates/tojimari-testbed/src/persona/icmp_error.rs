//! ICMP errors as the persona builds them: port unreachable for a closed UDP port, protocol unreachable
//! for a protocol it does not speak. How much of the offending datagram is quoted, and which of its
//! fields come back changed, is the persona's [`IcmpErrorRule`](super::model::IcmpErrorRule).

use std::net::IpAddr;

use tojimari_wire::icmpv4::{self, Icmpv4Packet};
use tojimari_wire::icmpv6::{self, Icmpv6Packet};
use tojimari_wire::{ip_protocol, ipv4, ipv6};

use super::model::QuotedField;
use super::stack::{Datagram, IpReply, ReplyKind, Stack};

/// ICMPv4 destination-unreachable codes the persona sends.
pub mod code {
    /// Protocol unreachable.
    pub const PROTOCOL: u8 = 2;
    /// Port unreachable.
    pub const PORT: u8 = 3;
}

/// The smallest IPv6 MTU: an ICMPv6 error quotes as much as fits in it (RFC 4443 2.4(c)).
const IPV6_MIN_MTU: usize = 1280;

/// The destination-unreachable error (`v4_code` for IPv4; IPv6 uses port unreachable for a port and
/// parameter problem is not modelled, so a protocol error over IPv6 is not sent) answering `datagram`, or
/// none when the persona sends no errors.
pub fn unreachable(stack: &Stack, datagram: &Datagram<'_>, v4_code: u8) -> Option<IpReply> {
    let rule = stack.persona.icmp_error;
    if !rule.respond {
        return None;
    }
    match (datagram.src, datagram.dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => {
            let quoted = quote_v4(stack, datagram)?;
            let mut bytes = vec![0u8; icmpv4::HEADER_LEN + quoted.len()];
            let mut packet = Icmpv4Packet::new_unchecked(&mut bytes[..]);
            packet.set_msg_type(icmpv4::message::DST_UNREACHABLE);
            packet.set_msg_code(v4_code);
            packet.set_rest_of_header(rule.unused);
            packet.data_mut().copy_from_slice(&quoted);
            packet.fill_checksum();
            Some(IpReply {
                dst: datagram.src,
                protocol: ip_protocol::ICMP,
                payload: bytes,
                kind: ReplyKind::Icmp,
                df: rule.df,
                ttl: rule.ttl,
                tos: rule.tos,
                ip_id: None,
            })
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            if v4_code != code::PORT {
                return None;
            }
            let room = IPV6_MIN_MTU - ipv6::HEADER_LEN - icmpv6::HEADER_LEN;
            let quoted = &datagram.packet[..datagram.packet.len().min(room)];
            let mut bytes = vec![0u8; icmpv6::HEADER_LEN + quoted.len()];
            let mut packet = Icmpv6Packet::new_unchecked(&mut bytes[..]);
            packet.set_msg_type(icmpv6::message::DST_UNREACHABLE);
            packet.set_msg_code(icmpv6::unreachable::PORT);
            packet.set_rest_of_header(0);
            packet.data_mut().copy_from_slice(quoted);
            packet.fill_checksum(dst, src);
            Some(IpReply {
                dst: datagram.src,
                protocol: ip_protocol::ICMPV6,
                payload: bytes,
                kind: ReplyKind::Icmp,
                df: false,
                ttl: rule.ttl,
                tos: rule.tos,
                ip_id: None,
            })
        }
        _ => None,
    }
}

/// The quoted part of an IPv4 error: the offending header and as much of its payload as the rule says,
/// with the rule's changes to its fields.
fn quote_v4(stack: &Stack, datagram: &Datagram<'_>) -> Option<Vec<u8>> {
    let rule = stack.persona.icmp_error;
    let packet = datagram.packet;
    let header_len = usize::from(*packet.first()? & 0x0f) * 4;
    if header_len < ipv4::HEADER_LEN || packet.len() < header_len {
        return None;
    }
    let room = rule.max_total.saturating_sub(ipv4::HEADER_LEN + icmpv4::HEADER_LEN + header_len);
    let data = (packet.len() - header_len).min(rule.quote_data.unwrap_or(usize::MAX)).min(room);
    let mut quoted = packet[..header_len + data].to_vec();
    mangle(&mut quoted[2..4], rule.quoted_len);
    mangle(&mut quoted[4..6], rule.quoted_id);
    mangle(&mut quoted[10..12], rule.quoted_ip_checksum);
    if datagram.protocol == ip_protocol::UDP && rule.quoted_udp_checksum != QuotedField::Keep {
        let at = header_len + 6;
        if let Some(field) = quoted.get_mut(at..at + 2) {
            mangle(field, rule.quoted_udp_checksum);
        }
    }
    Some(quoted)
}

fn mangle(field: &mut [u8], how: QuotedField) {
    match how {
        QuotedField::Keep => {}
        QuotedField::Zero => field.fill(0),
        QuotedField::Swapped => field.reverse(),
    }
}
