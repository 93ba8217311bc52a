//! ICMPv6 (RFC 4443) and the neighbor discovery messages a scanner uses (RFC 4861 sections 4.3 and 4.4:
//! neighbor solicitation and advertisement with a link-layer address option).
//!
//! The layout matches ICMPv4 (type, code, checksum, four type-specific bytes, then data), but the checksum
//! covers the IPv6 pseudo-header (RFC 4443 section 2.3), so filling or verifying it takes the addresses.

use crate::bytes::{array, read16, read32, write16, write32};
use crate::ethernet::MacAddr;
use crate::{Error, Result, checksum, ip_protocol};
use std::net::{IpAddr, Ipv6Addr};

/// Header length: type, code, checksum and four type-specific bytes.
pub const HEADER_LEN: usize = 8;

/// ICMPv6 message types (IANA).
pub mod message {
    /// Destination unreachable.
    pub const DST_UNREACHABLE: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Neighbor solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

/// Destination-unreachable codes tojimari tells apart.
pub mod unreachable {
    /// Communication with destination administratively prohibited.
    pub const PROHIBITED: u8 = 1;
    /// Port unreachable.
    pub const PORT: u8 = 4;
    /// Source address failed ingress/egress policy.
    pub const POLICY_FAILED: u8 = 5;
    /// Reject route to destination.
    pub const REJECT_ROUTE: u8 = 6;
}

/// NDP option types (RFC 4861 section 4.6).
pub mod ndp_option {
    /// Source link-layer address.
    pub const SOURCE_LL_ADDR: u8 = 1;
    /// Target link-layer address.
    pub const TARGET_LL_ADDR: u8 = 2;
}

/// Offset of the target address in neighbor solicitations and advertisements, and of their options.
const NDP_TARGET: usize = 8;
const NDP_OPTIONS: usize = 24;

/// A view over an ICMPv6 message.
#[derive(Debug, Clone, Copy)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> Icmpv6Packet<T> {
        Icmpv6Packet { buffer }
    }

    /// Wraps `buffer`, checking that the 8-byte header is present.
    pub fn new_checked(buffer: T) -> Result<Icmpv6Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Icmpv6Packet { buffer })
    }

    /// Message type ([`message`]).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Identifier (echo).
    pub fn ident(&self) -> u16 {
        read16(self.buffer.as_ref(), 4)
    }

    /// Sequence number (echo).
    pub fn seq_no(&self) -> u16 {
        read16(self.buffer.as_ref(), 6)
    }

    /// The flags byte of a neighbor advertisement (router 0x80, solicited 0x40, override 0x20).
    pub fn ndp_flags(&self) -> u8 {
        self.buffer.as_ref()[4]
    }

    /// The target address of a neighbor solicitation or advertisement, if the message holds one.
    pub fn ndp_target(&self) -> Option<Ipv6Addr> {
        let b = self.buffer.as_ref();
        (b.len() >= NDP_OPTIONS).then(|| Ipv6Addr::from(array::<16>(b, NDP_TARGET)))
    }

    /// Whether the checksum over the pseudo-header and the whole buffer is right.
    #[inline]
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        let ph = checksum::pseudo_header(IpAddr::V6(src), IpAddr::V6(dst), ip_protocol::ICMPV6, b.len() as u32);
        checksum::verify(ph, b)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv6Packet<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The bytes after the 8-byte header: an echo's payload, an error's quoted packet, NDP's target and
    /// options.
    pub fn data(&self) -> &'a [u8] {
        &self.bytes()[HEADER_LEN..]
    }

    /// The NDP options after the target (empty when the message is shorter).
    pub fn ndp_options(&self) -> NdpOptions<'a> {
        NdpOptions { rest: self.bytes().get(NDP_OPTIONS..).unwrap_or(&[]) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[0] = value;
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[1] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the identifier.
    pub fn set_ident(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 4, value);
    }

    /// Sets the sequence number.
    pub fn set_seq_no(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 6, value);
    }

    /// Sets the four type-specific bytes as one word.
    pub fn set_rest_of_header(&mut self, value: u32) {
        write32(self.buffer.as_mut(), 4, value);
    }

    /// The bytes after the header, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer and writes it.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::upper_layer(IpAddr::V6(src), IpAddr::V6(dst), ip_protocol::ICMPV6, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// One NDP option: its type and the bytes after type and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdpOption<'a> {
    /// Option type ([`ndp_option`]).
    pub kind: u8,
    /// The value (length × 8 − 2 bytes).
    pub data: &'a [u8],
}

impl NdpOption<'_> {
    /// The link-layer address of a source/target link-layer address option on Ethernet.
    #[inline]
    pub fn ll_addr(&self) -> Option<MacAddr> {
        let kind_ok = matches!(self.kind, ndp_option::SOURCE_LL_ADDR | ndp_option::TARGET_LL_ADDR);
        (kind_ok && self.data.len() >= 6).then(|| array(self.data, 0))
    }
}

/// NDP options in wire order; stops at a zero length (malformed, RFC 4861 4.6) or an option past the end.
#[derive(Debug, Clone)]
pub struct NdpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for NdpOptions<'a> {
    type Item = NdpOption<'a>;

    #[inline]
    fn next(&mut self) -> Option<NdpOption<'a>> {
        let (&kind, &units) = (self.rest.first()?, self.rest.get(1)?);
        let len = usize::from(units) * 8;
        let Some(option) = self.rest.get(..len).filter(|_| len > 0) else {
            self.rest = &[];
            return None;
        };
        self.rest = &self.rest[len..];
        Some(NdpOption { kind, data: &option[2..] })
    }
}

/// An ICMPv6 message tojimari sends or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// Echo request (128) or reply (129).
    Echo {
        /// Whether it is the reply.
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// An error quoting a packet: destination unreachable (1), packet too big (2), time exceeded (3),
    /// parameter problem (4).
    Error {
        /// The type.
        msg_type: u8,
        /// The code.
        code: u8,
        /// The four type-specific bytes (MTU, pointer).
        rest: u32,
        /// As much of the offending packet as fits.
        quoted: &'a [u8],
    },
    /// Neighbor solicitation (135), with the source link-layer address option when present.
    NeighborSolicit {
        /// The address being resolved.
        target: Ipv6Addr,
        /// The sender's MAC.
        lladdr: Option<MacAddr>,
    },
    /// Neighbor advertisement (136), with the target link-layer address option when present.
    NeighborAdvert {
        /// Router, solicited and override flags (the byte's top three bits).
        flags: u8,
        /// The address advertised.
        target: Ipv6Addr,
        /// Its MAC.
        lladdr: Option<MacAddr>,
    },
}

impl<'a> Icmpv6Repr<'a> {
    /// Reads a checked message (the checksum is not verified). `Unrecognized` for other types, `Truncated`
    /// for an NDP message without its target, `Malformed` for an echo or NDP message whose code is not 0.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv6Packet<&'a T>) -> Result<Icmpv6Repr<'a>> {
        use message::*;
        let b: &'a [u8] = packet.buffer.as_ref();
        let kind = packet.msg_type();
        // Echo (RFC 4443 4.1) and neighbor discovery (RFC 4861 7.1) messages have code 0.
        if matches!(kind, ECHO_REQUEST | ECHO_REPLY | NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT) && packet.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        let ll = |wanted: u8| {
            let options = NdpOptions { rest: &b[NDP_OPTIONS..] };
            options.filter(|o| o.kind == wanted).filter_map(|o| o.ll_addr()).last()
        };
        Ok(match kind {
            ECHO_REQUEST | ECHO_REPLY => Icmpv6Repr::Echo {
                reply: kind == ECHO_REPLY,
                ident: packet.ident(),
                seq_no: packet.seq_no(),
                data: &b[HEADER_LEN..],
            },
            DST_UNREACHABLE | PACKET_TOO_BIG | TIME_EXCEEDED | PARAM_PROBLEM => Icmpv6Repr::Error {
                msg_type: kind,
                code: packet.msg_code(),
                rest: read32(b, 4),
                quoted: &b[HEADER_LEN..],
            },
            NEIGHBOR_SOLICIT => Icmpv6Repr::NeighborSolicit {
                target: packet.ndp_target().ok_or(Error::Truncated)?,
                lladdr: ll(ndp_option::SOURCE_LL_ADDR),
            },
            NEIGHBOR_ADVERT => Icmpv6Repr::NeighborAdvert {
                flags: packet.ndp_flags() & 0xe0,
                target: packet.ndp_target().ok_or(Error::Truncated)?,
                lladdr: ll(ndp_option::TARGET_LL_ADDR),
            },
            _ => return Err(Error::Unrecognized),
        })
    }

    /// The message length.
    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::Echo { data, .. } => HEADER_LEN + data.len(),
            Icmpv6Repr::Error { quoted, .. } => HEADER_LEN + quoted.len(),
            Icmpv6Repr::NeighborSolicit { lladdr, .. } | Icmpv6Repr::NeighborAdvert { lladdr, .. } => {
                NDP_OPTIONS + if lladdr.is_some() { 8 } else { 0 }
            }
        }
    }

    /// Writes the message, checksum included, into `packet` (exactly [`Icmpv6Repr::buffer_len`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, src: Ipv6Addr, dst: Ipv6Addr, packet: &mut Icmpv6Packet<T>) {
        use message::*;
        packet.set_msg_code(0);
        packet.set_rest_of_header(0);
        let ndp = |packet: &mut Icmpv6Packet<T>, target: Ipv6Addr, option: u8, lladdr: Option<MacAddr>| {
            let d = packet.data_mut();
            d[..16].copy_from_slice(&target.octets());
            if let Some(mac) = lladdr {
                d[16] = option;
                d[17] = 1; // length in units of 8 bytes
                d[18..24].copy_from_slice(&mac);
            }
        };
        match *self {
            Icmpv6Repr::Echo { reply, ident, seq_no, data } => {
                packet.set_msg_type(if reply { ECHO_REPLY } else { ECHO_REQUEST });
                packet.set_ident(ident);
                packet.set_seq_no(seq_no);
                packet.data_mut()[..data.len()].copy_from_slice(data);
            }
            Icmpv6Repr::Error { msg_type, code, rest, quoted } => {
                packet.set_msg_type(msg_type);
                packet.set_msg_code(code);
                packet.set_rest_of_header(rest);
                packet.data_mut()[..quoted.len()].copy_from_slice(quoted);
            }
            Icmpv6Repr::NeighborSolicit { target, lladdr } => {
                packet.set_msg_type(NEIGHBOR_SOLICIT);
                ndp(packet, target, ndp_option::SOURCE_LL_ADDR, lladdr);
            }
            Icmpv6Repr::NeighborAdvert { flags, target, lladdr } => {
                packet.set_msg_type(NEIGHBOR_ADVERT);
                packet.set_rest_of_header(u32::from(flags) << 24);
                ndp(packet, target, ndp_option::TARGET_LL_ADDR, lladdr);
            }
        }
        packet.fill_checksum(src, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    fn src() -> Ipv6Addr {
        "fe80::11:22ff:fe33:4455".parse().unwrap()
    }

    fn dst() -> Ipv6Addr {
        "ff02::1:ffcd:ef01".parse().unwrap()
    }

    fn target() -> Ipv6Addr {
        "fe80::abcd:ef01".parse().unwrap()
    }

    /// A neighbor solicitation as the NDP RFC lays it out, checksum left to `fill_checksum`.
    fn solicitation() -> Vec<u8> {
        let mut m = vec![135, 0, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&target().octets());
        m.extend_from_slice(&[1, 1]);
        m.extend_from_slice(&MAC);
        Icmpv6Packet::new_unchecked(&mut m[..]).fill_checksum(src(), dst());
        m
    }

    #[test]
    fn deconstruct() {
        let m = solicitation();
        let p = Icmpv6Packet::new_checked(&m[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.ndp_target()), (135, 0, Some(target())));
        let options: Vec<_> = p.ndp_options().collect();
        assert_eq!(options, [NdpOption { kind: 1, data: &MAC }]);
        assert_eq!(options[0].ll_addr(), Some(MAC));
        assert!(p.verify_checksum(src(), dst()));
        assert!(!p.verify_checksum(src(), target()));
        let echo = [129u8, 0, 0, 0, 0xab, 0xcd, 0, 42, 1, 2];
        let p = Icmpv6Packet::new_checked(&echo[..]).unwrap();
        assert_eq!((p.ident(), p.seq_no(), p.data()), (0xabcd, 42, &[1, 2][..]));
    }

    #[test]
    fn construct() {
        let mut m = [0u8; 32];
        let mut p = Icmpv6Packet::new_unchecked(&mut m[..]);
        p.set_msg_type(135);
        p.set_msg_code(0);
        p.set_rest_of_header(0);
        p.data_mut()[..16].copy_from_slice(&target().octets());
        p.data_mut()[16..18].copy_from_slice(&[1, 1]);
        p.data_mut()[18..24].copy_from_slice(&MAC);
        p.fill_checksum(src(), dst());
        assert_eq!(m.to_vec(), solicitation());
    }

    #[test]
    fn truncated() {
        assert_eq!(Icmpv6Packet::new_checked(&[128u8, 0, 0, 0, 0, 0, 0][..]).unwrap_err(), Error::Truncated);
        let m = solicitation();
        let short = Icmpv6Packet::new_checked(&m[..23]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&short), Err(Error::Truncated));
        // An option cut short is dropped, a zero-length one ends the walk.
        assert_eq!(Icmpv6Packet::new_checked(&m[..31]).unwrap().ndp_options().count(), 0);
        let mut zero = m.clone();
        zero[25] = 0;
        assert_eq!(Icmpv6Packet::new_checked(&zero[..]).unwrap().ndp_options().count(), 0);
    }

    #[test]
    fn parse() {
        let m = solicitation();
        let p = Icmpv6Packet::new_checked(&m[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p), Ok(Icmpv6Repr::NeighborSolicit { target: target(), lladdr: Some(MAC) }));
        let unreach = [1u8, 4, 0, 0, 0, 0, 0, 0, 0x60, 0];
        let want = Icmpv6Repr::Error { msg_type: 1, code: 4, rest: 0, quoted: &[0x60, 0] };
        assert_eq!(Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&unreach[..]).unwrap()), Ok(want));
        let router_advert = [134u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&router_advert[..]).unwrap()),
            Err(Error::Unrecognized)
        );
    }

    #[test]
    fn emit() {
        let r = Icmpv6Repr::NeighborSolicit { target: target(), lladdr: Some(MAC) };
        let mut m = [0u8; 32];
        assert_eq!(r.buffer_len(), 32);
        r.emit(src(), dst(), &mut Icmpv6Packet::new_unchecked(&mut m[..]));
        assert_eq!(m.to_vec(), solicitation());
        let advert = Icmpv6Repr::NeighborAdvert { flags: 0x60, target: target(), lladdr: Some(MAC) };
        let mut m = [0u8; 32];
        advert.emit(target(), src(), &mut Icmpv6Packet::new_unchecked(&mut m[..]));
        assert_eq!((m[0], m[4], m[24]), (136, 0x60, 2));
        assert_eq!(Icmpv6Repr::parse(&Icmpv6Packet::new_checked(&m[..]).unwrap()), Ok(advert));
        let bare = Icmpv6Repr::NeighborSolicit { target: target(), lladdr: None };
        assert_eq!(bare.buffer_len(), 24);
    }
}
