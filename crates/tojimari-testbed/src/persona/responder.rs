//! The responder: the persona's whole stack as a pure function of frames and time.
//! [`Responder::answer`] takes one received Ethernet frame and the time since the responder started, and
//! returns the frames to send. Link-layer work (ARP, Ethernet, the IPv4 and IPv6 headers with the
//! persona's TTL, DF and IP ID) is done here; each IP protocol is answered by an
//! [`IpHandler`](super::stack::IpHandler) (TCP, UDP, ICMP built in; [`Responder::with_handler`] adds or
//! overrides one, as an SCTP target or an idle-scan zombie would).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use tojimari_wire::{
    ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet,
    Ipv6Repr, MacAddr, UdpPacket, UdpRepr, ethernet, ipv6, udp,
};

/// The discard port (RFC 863), source and destination of [`Responder::background`]'s datagrams.
const DISCARD_PORT: u16 = 9;

use super::counters::{IpIds, Isns};
use super::icmp::IcmpHandler;
use super::icmp_error::{self, code};
use super::model::Persona;
use super::rng::{Rng, seed_from};
use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};
use super::tcp::TcpHandler;
use super::udp::UdpHandler;

/// A persona's stack: see the module documentation.
#[derive(Debug)]
pub struct Responder {
    stack: Stack,
    handlers: Vec<Box<dyn IpHandler>>,
}

impl Responder {
    /// A responder for `persona` owning `mac`, `v4` and optionally `v6`, with its randomness seeded from
    /// the persona's name and `seed` (the same seed replays the same IDs and ISNs).
    pub fn new(persona: Persona, mac: MacAddr, v4: Ipv4Addr, v6: Option<Ipv6Addr>, seed: u64) -> Responder {
        let mut rng = Rng::new(seed_from(persona.truth.name, seed));
        let ip_ids = IpIds::new(rng.next_u16());
        let isns = Isns::new(rng.next_u32());
        let tcp_seed = rng.next_u64();
        Responder {
            stack: Stack { persona, mac, v4, v6, ip_ids, isns, rng },
            handlers: vec![Box::new(TcpHandler::new(tcp_seed)), Box::new(UdpHandler), Box::new(IcmpHandler)],
        }
    }

    /// Adds `handler` in front of the others: it answers its protocols from now on.
    pub fn with_handler(mut self, handler: Box<dyn IpHandler>) -> Responder {
        self.handlers.insert(0, handler);
        self
    }

    /// The persona.
    pub fn persona(&self) -> &Persona {
        &self.stack.persona
    }

    /// The frames answering `frame`, received `now` after the responder started. Anything malformed, not
    /// addressed to the persona, fragmented, or not answered by its rules gives none.
    pub fn answer(&mut self, frame: &[u8], now: Duration) -> Vec<Vec<u8>> {
        let Ok(view) = EthernetFrame::new_checked(frame) else {
            return Vec::new();
        };
        let dst_mac = view.dst_addr();
        let group = dst_mac[0] & 1 == 1;
        if dst_mac != self.stack.mac && !group {
            return Vec::new();
        }
        let peer = view.src_addr();
        let Ok((ethertype, payload)) = view.inner() else {
            return Vec::new();
        };
        match ethertype {
            EtherType::ARP => self.arp(peer, payload).into_iter().collect(),
            EtherType::IPV4 => self.ipv4(peer, payload, now),
            EtherType::IPV6 => self.ipv6(peer, payload, now),
            _ => Vec::new(),
        }
    }

    /// A packet of the persona's own, not an answer: an empty UDP datagram to the bed network's broadcast
    /// address (discard port), which no namespace answers. It takes an IP ID from the persona's counter as
    /// any packet it sends, so a host that sends these now and then is a "chatty" idle-scan zombie. `None`
    /// when the persona has no IPv4 address on a /24 (never on the bed).
    pub fn background(&mut self) -> Option<Vec<u8>> {
        let o = self.stack.v4.octets();
        let broadcast = Ipv4Addr::new(o[0], o[1], o[2], 255);
        let repr = UdpRepr { src_port: DISCARD_PORT, dst_port: DISCARD_PORT };
        let mut bytes = vec![0u8; udp::HEADER_LEN];
        let (src, dst) = (IpAddr::V4(self.stack.v4), IpAddr::V4(broadcast));
        repr.emit(&mut UdpPacket::new_unchecked(&mut bytes[..]), src, dst, &[]).ok()?;
        let reply = IpReply {
            dst,
            protocol: tojimari_wire::ip_protocol::UDP,
            payload: bytes,
            kind: ReplyKind::Tcp,
            df: self.stack.persona.df,
            ttl: None,
            tos: 0,
            ip_id: None,
        };
        self.frame([0xff; 6], reply)
    }

    fn arp(&self, peer: MacAddr, payload: &[u8]) -> Option<Vec<u8>> {
        let request = ArpRepr::parse(&ArpPacket::new_checked(payload).ok()?).ok()?;
        if request.operation != ArpOperation::REQUEST || request.target_protocol_addr != self.stack.v4 {
            return None;
        }
        let reply = ArpRepr {
            operation: ArpOperation::REPLY,
            source_hardware_addr: self.stack.mac,
            source_protocol_addr: self.stack.v4,
            target_hardware_addr: request.source_hardware_addr,
            target_protocol_addr: request.source_protocol_addr,
        };
        let mut bytes = ethernet_frame(self.stack.mac, peer, EtherType::ARP, reply.buffer_len());
        reply.emit(&mut ArpPacket::new_unchecked(&mut bytes[ethernet::HEADER_LEN..]));
        Some(bytes)
    }

    fn ipv4(&mut self, peer: MacAddr, payload: &[u8], now: Duration) -> Vec<Vec<u8>> {
        let Ok(packet) = Ipv4Packet::new_checked(payload) else {
            return Vec::new();
        };
        let Ok(repr) = Ipv4Repr::parse(&packet) else {
            return Vec::new();
        };
        if repr.dst_addr != self.stack.v4 || repr.more_frags || repr.frag_offset != 0 {
            return Vec::new();
        }
        let whole = &payload[..(packet.header_len() + repr.payload_len).min(payload.len())];
        let datagram = Datagram {
            src: IpAddr::V4(repr.src_addr),
            dst: IpAddr::V4(repr.dst_addr),
            protocol: repr.protocol,
            payload: packet.payload(),
            packet: whole,
            tos: repr.dscp_ecn,
            df: repr.dont_frag,
        };
        self.dispatch(peer, &datagram, now)
    }

    fn ipv6(&mut self, peer: MacAddr, payload: &[u8], now: Duration) -> Vec<Vec<u8>> {
        let Some(our) = self.stack.v6 else {
            return Vec::new();
        };
        let Ok(packet) = Ipv6Packet::new_checked(payload) else {
            return Vec::new();
        };
        let Ok(repr) = Ipv6Repr::parse(&packet) else {
            return Vec::new();
        };
        // Ours, or our solicited-node group (ff02::1:ffXX:XXXX) for neighbour discovery.
        let o = our.octets();
        let solicited =
            Ipv6Addr::new(0xff02, 0, 0, 0, 0, 1, 0xff00 | u16::from(o[13]), u16::from_be_bytes([o[14], o[15]]));
        if repr.dst_addr != our && repr.dst_addr != solicited {
            return Vec::new();
        }
        let Ok(upper) = packet.upper_layer() else {
            return Vec::new();
        };
        if upper.frag_offset.is_some() {
            return Vec::new();
        }
        let whole = &payload[..(ipv6::HEADER_LEN + repr.payload_len).min(payload.len())];
        let datagram = Datagram {
            src: IpAddr::V6(repr.src_addr),
            dst: IpAddr::V6(our),
            protocol: upper.protocol,
            payload: upper.payload,
            packet: whole,
            tos: repr.traffic_class,
            df: false,
        };
        if repr.dst_addr == solicited && datagram.protocol != tojimari_wire::ip_protocol::ICMPV6 {
            return Vec::new();
        }
        self.dispatch(peer, &datagram, now)
    }

    fn dispatch(&mut self, peer: MacAddr, datagram: &Datagram<'_>, now: Duration) -> Vec<Vec<u8>> {
        let handler = self.handlers.iter_mut().find(|h| h.protocols().contains(&datagram.protocol));
        let replies = match handler {
            Some(handler) => handler.answer(&mut self.stack, datagram, now),
            None if self.stack.persona.protocol_unreachable => {
                icmp_error::unreachable(&self.stack, datagram, code::PROTOCOL).into_iter().collect()
            }
            None => Vec::new(),
        };
        replies.into_iter().filter_map(|reply| self.frame(peer, reply)).collect()
    }

    /// `reply` with its IP header (the persona's TTL, DF and IP ID) and Ethernet header, to `peer`.
    fn frame(&mut self, peer: MacAddr, reply: IpReply) -> Option<Vec<u8>> {
        let stack = &mut self.stack;
        match reply.dst {
            IpAddr::V4(dst) => {
                let policy = match reply.kind {
                    ReplyKind::Tcp => stack.persona.ip_id.tcp,
                    ReplyKind::Rst => stack.persona.ip_id.rst,
                    ReplyKind::Icmp => stack.persona.ip_id.icmp,
                };
                let ident = match reply.ip_id {
                    Some(id) => id,
                    None => stack.ip_ids.next(policy, reply.dst, &mut stack.rng),
                };
                let header = Ipv4Repr {
                    src_addr: stack.v4,
                    dst_addr: dst,
                    protocol: reply.protocol,
                    payload_len: reply.payload.len(),
                    ttl: reply.ttl.unwrap_or(stack.persona.ttl),
                    ident,
                    dscp_ecn: reply.tos,
                    dont_frag: reply.df,
                    more_frags: false,
                    frag_offset: 0,
                };
                let mut bytes =
                    ethernet_frame(stack.mac, peer, EtherType::IPV4, header.buffer_len() + reply.payload.len());
                let ip = &mut bytes[ethernet::HEADER_LEN..];
                header.emit(&mut Ipv4Packet::new_unchecked(&mut *ip)).ok()?;
                ip[header.buffer_len()..].copy_from_slice(&reply.payload);
                Some(bytes)
            }
            IpAddr::V6(dst) => {
                let header = Ipv6Repr {
                    src_addr: stack.v6?,
                    dst_addr: dst,
                    next_header: reply.protocol,
                    payload_len: reply.payload.len(),
                    hop_limit: reply.ttl.unwrap_or(stack.persona.hop_limit),
                    traffic_class: reply.tos,
                    flow_label: 0,
                };
                let mut bytes =
                    ethernet_frame(stack.mac, peer, EtherType::IPV6, header.buffer_len() + reply.payload.len());
                let ip = &mut bytes[ethernet::HEADER_LEN..];
                header.emit(&mut Ipv6Packet::new_unchecked(&mut *ip)).ok()?;
                ip[header.buffer_len()..].copy_from_slice(&reply.payload);
                Some(bytes)
            }
        }
    }
}

/// A zeroed frame of `payload_len` bytes after an Ethernet header from `src` to `dst`.
fn ethernet_frame(src: MacAddr, dst: MacAddr, ethertype: EtherType, payload_len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; ethernet::HEADER_LEN + payload_len];
    EthernetRepr { src_addr: src, dst_addr: dst, ethertype }.emit(&mut EthernetFrame::new_unchecked(&mut bytes[..]));
    bytes
}
