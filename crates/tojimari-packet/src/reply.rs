//! What a received frame means to the scanner: the [`Reply`] values [`crate::parse_frame`] produces.
//!
//! Replies are plain values: the engine validates them against its cookies (TCP `seq`/`ack`, or the quoted
//! probe's ports and sequence number) and then classifies them with [`crate::classify`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The first bytes of our probe quoted inside an ICMP error (RFC 792: the IP header plus at least 8 bytes;
/// RFC 4443: as much of the invoking packet as fits).
///
/// `sport`/`dport` are the first four bytes of the quoted transport header, so for TCP, UDP (and SCTP) they
/// are the ports; for a quoted ICMP/ICMPv6 message they are its bytes 4..8 (an echo's identifier and sequence
/// number). `seq` is the TCP sequence number when the quote is TCP and long enough to hold it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quoted {
    /// Source address of the quoted packet (ours, for our probes).
    pub src: IpAddr,
    /// Destination address of the quoted packet (the target).
    pub dst: IpAddr,
    /// IP protocol / IPv6 next header of the quoted packet, after skipping extension headers.
    pub proto: u8,
    /// Quoted source port (or ICMP echo identifier).
    pub sport: u16,
    /// Quoted destination port (or ICMP echo sequence number).
    pub dport: u16,
    /// Quoted TCP sequence number, if present.
    pub seq: Option<u32>,
}

/// A received frame, parsed. `ttl` is the IPv4 TTL / IPv6 hop limit of the received packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A TCP segment.
    Tcp {
        /// Sender (the target).
        src: IpAddr,
        /// Receiver (us).
        dst: IpAddr,
        /// Sender's port.
        sport: u16,
        /// Receiver's port.
        dport: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number (meaningful only with ACK set).
        ack: u32,
        /// TCP flags ([`crate::tcp`]).
        flags: u8,
        /// Advertised window (the Window scan reads it).
        window: u16,
        /// TTL / hop limit.
        ttl: u8,
    },
    /// A UDP datagram.
    Udp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Sender's port.
        sport: u16,
        /// Receiver's port.
        dport: u16,
        /// TTL / hop limit.
        ttl: u8,
    },
    /// An SCTP packet: its common header and first chunk.
    Sctp {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Sender's port.
        sport: u16,
        /// Receiver's port.
        dport: u16,
        /// The packet's verification tag.
        vtag: u32,
        /// The first chunk's type (`tojimari_wire::sctp::chunk`).
        chunk: u8,
        /// The first chunk's flags (an ABORT's T bit).
        flags: u8,
        /// TTL / hop limit.
        ttl: u8,
    },
    /// ICMP/ICMPv6 error (v4: type 3 dest unreach, 11 time exceeded, 12 param problem; v6: type 1, 3, 4) quoting
    /// one of our probes.
    IcmpError {
        /// The host or router that sent the error.
        from: IpAddr,
        /// Its destination (us).
        to: IpAddr,
        /// TTL / hop limit of the error itself.
        ttl: u8,
        /// Whether this is ICMPv6.
        v6: bool,
        /// ICMP type.
        kind: u8,
        /// ICMP code.
        code: u8,
        /// The probe it quotes.
        quoted: Quoted,
    },
    /// ICMP echo reply (type 0) or ICMPv6 echo reply (type 129).
    EchoReply {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// TTL / hop limit.
        ttl: u8,
    },
    /// ICMP timestamp reply (type 14).
    TimestampReply {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// TTL.
        ttl: u8,
    },
    /// ICMP address mask reply (RFC 950 type 18, code 0). The mask itself is not kept: the reply only shows the
    /// host is up.
    AddressMaskReply {
        /// Sender.
        src: IpAddr,
        /// Receiver.
        dst: IpAddr,
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
        /// TTL.
        ttl: u8,
    },
    /// An ARP request or reply for Ethernet/IPv4.
    Arp {
        /// Sender protocol address.
        sender_ip: Ipv4Addr,
        /// Sender hardware address.
        sender_mac: [u8; 6],
        /// Target protocol address.
        target_ip: Ipv4Addr,
        /// Operation 2 (reply) rather than 1 (request).
        is_reply: bool,
    },
    /// An ICMPv6 neighbor advertisement (hop limit 255, as RFC 4861 7.1.2 requires).
    NeighborAdvert {
        /// The advertiser's address.
        src: IpAddr,
        /// The address being advertised.
        target: Ipv6Addr,
        /// Its target link-layer address option, if present.
        mac: Option<[u8; 6]>,
    },
}
