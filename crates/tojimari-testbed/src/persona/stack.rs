//! The parts every protocol handler shares: the datagram being answered ([`Datagram`]), the answer a
//! handler gives back ([`IpReply`]), the persona's state ([`Stack`]) and the [`IpHandler`] trait through
//! which TCP, UDP, ICMP (and later SCTP or a zombie's rules) answer, each in its own file.

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::counters::{IpIds, Isns};
use super::model::Persona;
use super::rng::Rng;

/// One IP datagram addressed to the persona, as the handlers see it.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Sender.
    pub src: IpAddr,
    /// The persona's address it was sent to.
    pub dst: IpAddr,
    /// The upper-layer protocol.
    pub protocol: u8,
    /// The transport bytes (after the IP header and any IPv6 extension headers, cut at the IP length).
    pub payload: &'a [u8],
    /// The whole IP datagram as received (header included, cut at its total length), for quoting.
    pub packet: &'a [u8],
    /// IPv4 TOS / IPv6 traffic class.
    pub tos: u8,
    /// IPv4 DF (false for IPv6).
    pub df: bool,
}

impl Datagram<'_> {
    /// Whether it came over IPv6.
    pub fn is_v6(&self) -> bool {
        self.src.is_ipv6()
    }
}

/// Which IP ID policy an answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// An answer from an open port: a SYN/ACK or ACK, a UDP echo.
    Tcp,
    /// A TCP reset.
    Rst,
    /// ICMP (echo reply, error) and anything else.
    Icmp,
}

/// One answer, above IP: the IP layer adds the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpReply {
    /// Destination.
    pub dst: IpAddr,
    /// Protocol number.
    pub protocol: u8,
    /// The transport bytes, checksum filled.
    pub payload: Vec<u8>,
    /// Which IP ID policy it takes.
    pub kind: ReplyKind,
    /// DF (IPv4 only).
    pub df: bool,
    /// TTL / hop limit, if other than the persona's.
    pub ttl: Option<u8>,
    /// TOS / traffic class.
    pub tos: u8,
    /// An IPv4 ID chosen by the handler instead of the policy (never used by the built-in handlers).
    pub ip_id: Option<u16>,
}

/// The persona and its running state, shared by the handlers of one responder.
#[derive(Debug)]
pub struct Stack {
    /// The persona.
    pub persona: Persona,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its IPv4 address.
    pub v4: Ipv4Addr,
    /// Its IPv6 address, if it has one.
    pub v6: Option<Ipv6Addr>,
    /// IP ID counters.
    pub ip_ids: IpIds,
    /// ISN generator.
    pub isns: Isns,
    /// Randomness (seeded).
    pub rng: Rng,
}

impl Stack {
    /// Whether `addr` is one of the persona's addresses.
    pub fn owns(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => a == self.v4,
            IpAddr::V6(a) => Some(a) == self.v6,
        }
    }
}

/// Answers one IP protocol (or a few) for a persona. The responder hands each datagram addressed to the
/// persona to the first handler whose [`protocols`](IpHandler::protocols) holds its protocol.
pub trait IpHandler: Debug + Send {
    /// The IP protocol numbers this handler answers.
    fn protocols(&self) -> &[u8];

    /// The answers to `datagram` at `now` (time since the responder started); empty for none. Must not
    /// panic whatever the bytes.
    fn answer(&mut self, stack: &mut Stack, datagram: &Datagram<'_>, now: Duration) -> Vec<IpReply>;
}
