//! tojimari's wire layer: the bytes of Ethernet II (with VLAN tags), Linux cooked capture (SLL v1/v2), ARP,
//! IPv4, IPv6 (with its extension-header walk), TCP (with its options), UDP, SCTP (with CRC32c, or RFC 2960's Adler-32), ICMP and ICMPv6 (with neighbor
//! discovery), in the style of smoltcp's `wire` module.
//!
//! Each protocol has a zero-copy *view*, `XxxPacket<T: AsRef<[u8]>>` (or `XxxFrame`), made with
//! `new_checked`, after which no accessor panics whatever the bytes; setters exist when `T: AsMut<[u8]>`.
//! Where a user needs one, a *representation* `XxxRepr` holds the parsed fields with `parse`, `emit` and
//! `buffer_len`. The Internet checksum and the pseudo-headers live in [`checksum`].
//!
//! Nothing here does I/O, allocates or reads a clock. Parsing never verifies checksums (a capture on a
//! veth or loopback sees them before offload fills them); the views offer `verify_checksum` for those
//! who want it.

#![forbid(unsafe_code)]

pub mod adler32;
pub mod arp;
mod bytes;
pub mod checksum;
pub mod crc32c;
mod error;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod quote;
pub mod sctp;
pub mod sll;
pub mod tcp;
pub mod udp;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::{Error, Result};
pub use ethernet::{EtherType, EthernetFrame, EthernetRepr, MacAddr};
pub use icmpv4::{Icmpv4Packet, Icmpv4Repr};
pub use icmpv6::{Icmpv6Packet, Icmpv6Repr, NdpOption};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr, UpperLayer};
pub use quote::QuotedTransport;
pub use sctp::{ChunkRepr, SctpChecksum, SctpPacket, SctpRepr};
pub use sll::{Sll2Frame, SllFrame};
pub use tcp::{TcpOption, TcpPacket, TcpRepr};
pub use udp::{UdpPacket, UdpRepr};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), shared by IPv4's protocol field and
/// IPv6's next-header field.
pub mod ip_protocol {
    /// IPv6 hop-by-hop options.
    pub const HOP_BY_HOP: u8 = 0;
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IGMP.
    pub const IGMP: u8 = 2;
    /// SCTP.
    pub const SCTP: u8 = 132;
    /// IPv6 routing header.
    pub const ROUTING: u8 = 43;
    /// IPv6 fragment header.
    pub const FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 no next header.
    pub const NO_NEXT: u8 = 59;
    /// IPv6 destination options.
    pub const DST_OPTS: u8 = 60;
}
