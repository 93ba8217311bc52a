//! ICMP and ICMPv6 as the persona answers them: echo replies shaped by its
//! [`EchoRule`](super::model::EchoRule) (DF, code, TOS, TTL), and, over IPv6, neighbour advertisements
//! for its address (RFC 4861 7.2.4) so the persona can be found and scanned over IPv6.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use tojimari_wire::icmpv4::{self, Icmpv4Packet};
use tojimari_wire::icmpv6::{self, Icmpv6Packet};
use tojimari_wire::{Icmpv6Repr, ip_protocol};

use super::model::DfEcho;
use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};

/// Neighbour advertisement flags: solicited and override.
const NA_SOLICITED_OVERRIDE: u8 = 0x60;
/// Override only (an answer to a solicitation from the unspecified address).
const NA_OVERRIDE: u8 = 0x20;
/// NDP messages travel with hop limit 255 (RFC 4861 7.1.2).
const NDP_HOP_LIMIT: u8 = 255;

/// The persona's ICMP (IPv4) and ICMPv6.
#[derive(Debug, Default)]
pub struct IcmpHandler;

impl IpHandler for IcmpHandler {
    fn protocols(&self) -> &[u8] {
        &[ip_protocol::ICMP, ip_protocol::ICMPV6]
    }

    fn answer(&mut self, stack: &mut Stack, datagram: &Datagram<'_>, _now: Duration) -> Vec<IpReply> {
        let reply = match (datagram.protocol, datagram.src, datagram.dst) {
            (ip_protocol::ICMP, IpAddr::V4(_), IpAddr::V4(_)) => echo_v4(stack, datagram),
            (ip_protocol::ICMPV6, IpAddr::V6(src), IpAddr::V6(dst)) => icmp_v6(stack, datagram, src, dst),
            _ => None,
        };
        reply.into_iter().collect()
    }
}

fn echo_dressing(stack: &Stack, datagram: &Datagram<'_>, protocol: u8, payload: Vec<u8>) -> IpReply {
    let rule = stack.persona.echo;
    IpReply {
        dst: datagram.src,
        protocol,
        payload,
        kind: ReplyKind::Icmp,
        df: match rule.df {
            DfEcho::Copy => datagram.df,
            DfEcho::Set => true,
            DfEcho::Clear => false,
        },
        ttl: rule.ttl,
        tos: if rule.copy_tos { datagram.tos } else { 0 },
        ip_id: None,
    }
}

/// An echo request (any code: the OS-detection probes use odd ones) earns an echo reply.
fn echo_v4(stack: &Stack, datagram: &Datagram<'_>) -> Option<IpReply> {
    let rule = stack.persona.echo;
    let request = Icmpv4Packet::new_checked(datagram.payload).ok()?;
    if !rule.respond || request.msg_type() != icmpv4::message::ECHO_REQUEST {
        return None;
    }
    let mut bytes = datagram.payload.to_vec();
    let mut reply = Icmpv4Packet::new_unchecked(&mut bytes[..]);
    reply.set_msg_type(icmpv4::message::ECHO_REPLY);
    reply.set_msg_code(if rule.copy_code { request.msg_code() } else { 0 });
    reply.fill_checksum();
    Some(echo_dressing(stack, datagram, ip_protocol::ICMP, bytes))
}

fn icmp_v6(stack: &Stack, datagram: &Datagram<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Option<IpReply> {
    let packet = Icmpv6Packet::new_checked(datagram.payload).ok()?;
    match packet.msg_type() {
        icmpv6::message::ECHO_REQUEST => {
            let rule = stack.persona.echo;
            if !rule.respond {
                return None;
            }
            let mut bytes = datagram.payload.to_vec();
            let mut reply = Icmpv6Packet::new_unchecked(&mut bytes[..]);
            reply.set_msg_type(icmpv6::message::ECHO_REPLY);
            reply.set_msg_code(if rule.copy_code { packet.msg_code() } else { 0 });
            reply.fill_checksum(dst, src);
            Some(echo_dressing(stack, datagram, ip_protocol::ICMPV6, bytes))
        }
        icmpv6::message::NEIGHBOR_SOLICIT => neighbor_advert(stack, &packet, src),
        _ => None,
    }
}

/// A neighbour advertisement for our address, to the solicitation's sender (or all nodes when it came
/// from the unspecified address, RFC 4861 7.2.4).
fn neighbor_advert(stack: &Stack, packet: &Icmpv6Packet<&[u8]>, src: Ipv6Addr) -> Option<IpReply> {
    let our = stack.v6?;
    let Ok(Icmpv6Repr::NeighborSolicit { target, .. }) = Icmpv6Repr::parse(packet) else {
        return None;
    };
    if target != our {
        return None;
    }
    let (to, flags) = if src.is_unspecified() {
        (Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), NA_OVERRIDE)
    } else {
        (src, NA_SOLICITED_OVERRIDE)
    };
    let advert = Icmpv6Repr::NeighborAdvert { flags, target: our, lladdr: Some(stack.mac) };
    let mut bytes = vec![0u8; advert.buffer_len()];
    advert.emit(our, to, &mut Icmpv6Packet::new_unchecked(&mut bytes[..]));
    Some(IpReply {
        dst: IpAddr::V6(to),
        protocol: ip_protocol::ICMPV6,
        payload: bytes,
        kind: ReplyKind::Icmp,
        df: false,
        ttl: Some(NDP_HOP_LIMIT),
        tos: 0,
        ip_id: None,
    })
}
