//! UDP as the persona answers it: open ports echo the datagram back, closed ports earn a port
//! unreachable quoted the persona's way ([`super::icmp_error`]).

use std::time::Duration;

use tojimari_wire::{UdpPacket, UdpRepr, ip_protocol, udp};

use super::icmp_error::{self, code};
use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};

/// The persona's UDP.
#[derive(Debug, Default)]
pub struct UdpHandler;

impl IpHandler for UdpHandler {
    fn protocols(&self) -> &[u8] {
        &[ip_protocol::UDP]
    }

    fn answer(&mut self, stack: &mut Stack, datagram: &Datagram<'_>, _now: Duration) -> Vec<IpReply> {
        let Ok(packet) = UdpPacket::new_checked(datagram.payload) else {
            return Vec::new();
        };
        let Ok(repr) = UdpRepr::parse(&packet) else {
            return Vec::new();
        };
        if !stack.persona.udp_open(repr.dst_port) {
            return icmp_error::unreachable(stack, datagram, code::PORT).into_iter().collect();
        }
        let data = packet.payload();
        let echo = UdpRepr { src_port: repr.dst_port, dst_port: repr.src_port };
        let mut bytes = vec![0u8; udp::HEADER_LEN + data.len()];
        if echo.emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), datagram.dst, datagram.src, data).is_err() {
            return Vec::new();
        }
        vec![IpReply {
            dst: datagram.src,
            protocol: ip_protocol::UDP,
            payload: bytes,
            kind: ReplyKind::Tcp,
            df: stack.persona.df,
            ttl: None,
            tos: 0,
            ip_id: None,
        }]
    }
}
