//! IPv4 headers (RFC 791 section 3.1), options included in the header length.
//!
//! [`Ipv4Packet::new_checked`] checks the version and that the whole header (IHL words) is present, not that
//! the buffer holds the total length: a datagram quoted in an ICMP error or cut at a capture's snaplen is
//! shorter than its total length, and trailing Ethernet padding makes a frame longer. [`Ipv4Packet::payload`]
//! is therefore the bytes after the header up to the total length or the end of the buffer, whichever comes
//! first.

use crate::bytes::{array, read16, write16};
use crate::{Error, Result, checksum};
use std::net::Ipv4Addr;

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

/// A view over an IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer`, checking version 4, a header length of at least 20 bytes, and that the buffer holds it.
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Ipv4Packet { buffer };
        if p.version() != 4 || p.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if p.buffer.as_ref().len() < p.header_len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IP version (4 in a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f) * 4
    }

    /// DSCP and ECN bits (the old type-of-service byte).
    pub fn dscp_ecn(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Total length (header and payload) as the header states it.
    pub fn total_len(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        read16(self.buffer.as_ref(), 4)
    }

    /// The don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        read16(self.buffer.as_ref(), 6) & 0x4000 != 0
    }

    /// The more-fragments flag.
    pub fn more_frags(&self) -> bool {
        read16(self.buffer.as_ref(), 6) & 0x2000 != 0
    }

    /// Fragment offset in 8-byte units (non-zero for every fragment but the first).
    pub fn frag_offset(&self) -> u16 {
        read16(self.buffer.as_ref(), 6) & 0x1fff
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[8]
    }

    /// Upper-layer protocol ([`crate::ip_protocol`]).
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }

    /// Header checksum.
    pub fn checksum(&self) -> u16 {
        read16(self.buffer.as_ref(), 10)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 12))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 16))
    }

    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(0, &self.buffer.as_ref()[..self.header_len()])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv4Packet<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The options bytes (between the fixed header and the payload).
    pub fn options(&self) -> &'a [u8] {
        &self.bytes()[HEADER_LEN..self.header_len()]
    }

    /// The payload: after the header, up to the total length or the end of the buffer (empty when the total
    /// length is shorter than the header).
    pub fn payload(&self) -> &'a [u8] {
        let b = self.bytes();
        let end = usize::from(self.total_len()).min(b.len());
        b.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets the version and header length (in bytes, a multiple of 4).
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: usize) {
        self.buffer.as_mut()[0] = (version << 4) | ((header_len / 4) as u8 & 0x0f);
    }

    /// Sets DSCP and ECN.
    pub fn set_dscp_ecn(&mut self, value: u8) {
        self.buffer.as_mut()[1] = value;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 4, value);
    }

    /// Sets the flags and fragment offset (offset in 8-byte units).
    pub fn set_flags_and_frag_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = (u16::from(dont_frag) << 14) | (u16::from(more_frags) << 13) | (offset & 0x1fff);
        write16(self.buffer.as_mut(), 6, v);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[8] = value;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: u8) {
        self.buffer.as_mut()[9] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 10, value);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[12..16].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv4Addr) {
        self.buffer.as_mut()[16..20].copy_from_slice(&addr.octets());
    }

    /// Computes and writes the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let len = self.header_len();
        let c = checksum::finish(checksum::sum(&self.buffer.as_ref()[..len]));
        self.set_checksum(c);
    }

    /// The bytes after the header, mutably (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let at = self.header_len();
        &mut self.buffer.as_mut()[at..]
    }
}

/// An IPv4 header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Upper-layer protocol.
    pub protocol: u8,
    /// Payload length (total length minus header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// DSCP and ECN.
    pub dscp_ecn: u8,
    /// Don't fragment.
    pub dont_frag: bool,
    /// More fragments.
    pub more_frags: bool,
    /// Fragment offset in 8-byte units.
    pub frag_offset: u16,
}

impl Ipv4Repr {
    /// Reads the header of a checked packet (options are skipped, the checksum is not verified: offloading
    /// NICs and veth pairs hand over packets before it is filled). `Malformed` when the total length is
    /// shorter than the header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        let total = usize::from(packet.total_len());
        if total < packet.header_len() {
            return Err(Error::Malformed);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: total - packet.header_len(),
            ttl: packet.ttl(),
            ident: packet.ident(),
            dscp_ecn: packet.dscp_ecn(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// The header length (20).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header, checksum included, into `packet` (at least 20 bytes). `Exhausted` when the
    /// total length does not fit 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) -> Result<()> {
        let total = u16::try_from(HEADER_LEN + self.payload_len).map_err(|_| Error::Exhausted)?;
        packet.set_version_and_header_len(4, HEADER_LEN);
        packet.set_dscp_ecn(self.dscp_ecn);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        packet.set_flags_and_frag_offset(self.dont_frag, self.more_frags, self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 10.0.0.1 -> 10.0.0.2, TCP, TTL 64, ID 0x1234, 20 bytes of payload; checksum by hand:
    // 4500+0028+1234+0000+4006+0a00+0001+0a00+0002 = 0xab65, complement 0x549a.
    #[rustfmt::skip]
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x54, 0x9a, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    fn repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            protocol: 6,
            payload_len: 20,
            ttl: 64,
            ident: 0x1234,
            dscp_ecn: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }

    #[test]
    fn deconstruct() {
        let mut bytes = HEADER.to_vec();
        bytes.extend_from_slice(&[7; 24]); // 20 bytes of payload and 4 of padding
        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!((p.version(), p.header_len(), p.total_len(), p.ident()), (4, 20, 40, 0x1234));
        assert_eq!((p.ttl(), p.protocol(), p.checksum()), (64, 6, 0x549a));
        assert_eq!((p.src_addr(), p.dst_addr()), (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)));
        assert!(!p.dont_frag() && !p.more_frags() && p.frag_offset() == 0);
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 20, "padding is cut");
        assert_eq!(Ipv4Packet::new_checked(&bytes[..30]).unwrap().payload().len(), 10, "a quote keeps what is there");
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 20];
        let mut p = Ipv4Packet::new_unchecked(&mut buf[..]);
        p.set_version_and_header_len(4, 20);
        p.set_total_len(40);
        p.set_ident(0x1234);
        p.set_flags_and_frag_offset(false, false, 0);
        p.set_ttl(64);
        p.set_protocol(6);
        p.set_src_addr(Ipv4Addr::new(10, 0, 0, 1));
        p.set_dst_addr(Ipv4Addr::new(10, 0, 0, 2));
        p.fill_checksum();
        assert_eq!(buf, HEADER);
    }

    #[test]
    fn truncated() {
        assert_eq!(Ipv4Packet::new_checked(&HEADER[..19]).unwrap_err(), Error::Truncated);
        let mut with_options = HEADER;
        with_options[0] = 0x46;
        assert_eq!(Ipv4Packet::new_checked(&with_options[..]).unwrap_err(), Error::Truncated);
        let mut short_ihl = HEADER;
        short_ihl[0] = 0x44;
        assert_eq!(Ipv4Packet::new_checked(&short_ihl[..]).unwrap_err(), Error::Malformed);
        let mut v6 = HEADER;
        v6[0] = 0x65;
        assert_eq!(Ipv4Packet::new_checked(&v6[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn parse() {
        assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&HEADER[..]).unwrap()), Ok(repr()));
        let mut short_total = HEADER;
        short_total[3] = 19;
        assert_eq!(Ipv4Repr::parse(&Ipv4Packet::new_checked(&short_total[..]).unwrap()), Err(Error::Malformed));
    }

    #[test]
    fn emit() {
        let mut buf = [0u8; 20];
        let r = repr();
        r.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(buf, HEADER);
        let big = Ipv4Repr { payload_len: 65_516, ..r };
        assert_eq!(big.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..])), Err(Error::Exhausted));
    }

    #[test]
    fn options_and_fragments() {
        let mut b = HEADER.to_vec();
        b[0] = 0x46;
        b.splice(20..20, [1, 1, 1, 0]);
        b[6] = 0x20; // more fragments
        b[7] = 0x00;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.header_len(), p.options(), p.more_frags(), p.frag_offset()), (24, &[1, 1, 1, 0][..], true, 0));
        b[6] = 0x00;
        b[7] = 0x10;
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap().frag_offset(), 0x10);
    }
}
