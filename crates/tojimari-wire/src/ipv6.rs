//! IPv6 headers (RFC 8200 section 3) and the walk over the extension headers a scanner meets: hop-by-hop
//! options (0), routing (43), destination options (60) and fragment (44) headers (RFC 8200 section 4).
//!
//! As for IPv4, a checked packet need not hold its whole payload (quotes in ICMPv6 errors, snaplen cuts);
//! [`Ipv6Packet::payload`] stops at the payload length or the end of the buffer. A payload length of zero
//! (a jumbogram, RFC 2675) keeps the rest of the buffer.

use crate::bytes::{array, read16, read32, write16, write32};
use crate::ip_protocol;
use crate::{Error, Result};
use std::net::Ipv6Addr;

/// Fixed header length.
pub const HEADER_LEN: usize = 40;
/// Extension headers walked at most (a longer chain is not something probes provoke).
const MAX_EXT_HEADERS: usize = 8;
/// Fragment header length.
const FRAGMENT_LEN: usize = 8;

/// A view over an IPv6 packet.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

/// Where the upper-layer header starts, after the extension headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpperLayer<'a> {
    /// The upper-layer protocol (the last next-header value; an unwalked extension header's own number when
    /// the chain is longer than the walk).
    pub protocol: u8,
    /// Bytes of extension headers skipped.
    pub ext_len: usize,
    /// The fragment offset (8-byte units) when a fragment header was passed; non-zero means no upper-layer
    /// header follows.
    pub frag_offset: Option<u16>,
    /// The bytes after the extension headers.
    pub payload: &'a [u8],
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// Wraps `buffer`, checking that the 40-byte header is present and says version 6.
    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = Ipv6Packet { buffer };
        if p.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(p)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IP version (6 in a checked packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((read16(self.buffer.as_ref(), 0) >> 4) & 0xff) as u8
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        read32(self.buffer.as_ref(), 0) & 0x000f_ffff
    }

    /// Payload length (extension headers included).
    pub fn payload_len(&self) -> u16 {
        read16(self.buffer.as_ref(), 4)
    }

    /// The first next-header value.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[7]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), 8))
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.buffer.as_ref(), 24))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6Packet<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The payload (extension headers included): up to the payload length or the end of the buffer.
    pub fn payload(&self) -> &'a [u8] {
        let b = self.bytes();
        let plen = usize::from(self.payload_len());
        let end = if plen == 0 { b.len() } else { (HEADER_LEN + plen).min(b.len()) };
        &b[HEADER_LEN..end]
    }

    /// Walks hop-by-hop, routing, destination-options and fragment headers to the upper layer. Stops at a
    /// non-first fragment (its [`UpperLayer::frag_offset`] is non-zero). `Truncated` when an extension header
    /// runs past the buffer.
    #[inline]
    pub fn upper_layer(&self) -> Result<UpperLayer<'a>> {
        let next = self.next_header();
        // The common case, and the receive path's: no extension header at all.
        if !matches!(
            next,
            ip_protocol::HOP_BY_HOP | ip_protocol::ROUTING | ip_protocol::DST_OPTS | ip_protocol::FRAGMENT
        ) {
            return Ok(UpperLayer { protocol: next, ext_len: 0, frag_offset: None, payload: self.payload() });
        }
        self.walk_extensions(next)
    }

    /// The extension-header walk behind [`Ipv6Packet::upper_layer`], starting at next header `next`.
    fn walk_extensions(&self, mut next: u8) -> Result<UpperLayer<'a>> {
        let mut rest = self.payload();
        let mut ext_len = 0;
        let mut frag_offset = None;
        for _ in 0..MAX_EXT_HEADERS {
            let len = match next {
                ip_protocol::HOP_BY_HOP | ip_protocol::ROUTING | ip_protocol::DST_OPTS => {
                    (usize::from(*rest.get(1).ok_or(Error::Truncated)?) + 1) * 8
                }
                ip_protocol::FRAGMENT => {
                    let header = rest.get(..FRAGMENT_LEN).ok_or(Error::Truncated)?;
                    let offset = read16(header, 2) >> 3;
                    frag_offset = Some(offset);
                    if offset != 0 {
                        return Ok(UpperLayer {
                            protocol: header[0],
                            ext_len: ext_len + FRAGMENT_LEN,
                            frag_offset,
                            payload: &rest[FRAGMENT_LEN..],
                        });
                    }
                    FRAGMENT_LEN
                }
                _ => break,
            };
            next = rest[0];
            rest = rest.get(len..).ok_or(Error::Truncated)?;
            ext_len += len;
        }
        Ok(UpperLayer { protocol: next, ext_len, frag_offset, payload: rest })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets version, traffic class and flow label.
    pub fn set_version_class_flow(&mut self, version: u8, traffic_class: u8, flow_label: u32) {
        let v = (u32::from(version) << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        write32(self.buffer.as_mut(), 0, v);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 4, value);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, value: u8) {
        self.buffer.as_mut()[6] = value;
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, value: u8) {
        self.buffer.as_mut()[7] = value;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[8..24].copy_from_slice(&addr.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: Ipv6Addr) {
        self.buffer.as_mut()[24..40].copy_from_slice(&addr.octets());
    }

    /// The bytes after the fixed header, mutably (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// The first next-header value.
    pub next_header: u8,
    /// Payload length (extension headers included).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label.
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Reads the fixed header of a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv6Packet<T>) -> Result<Ipv6Repr> {
        Ok(Ipv6Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// The header length (40).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header into `packet` (at least 40 bytes). `Exhausted` when the payload length does not
    /// fit 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv6Packet<T>) -> Result<()> {
        let plen = u16::try_from(self.payload_len).map_err(|_| Error::Exhausted)?;
        packet.set_version_class_flow(6, self.traffic_class, self.flow_label);
        packet.set_payload_len(plen);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ::1 -> 2001:db8::2, UDP, hop limit 64, 8 bytes of payload, traffic class 0x12, flow label 0x34567.
    #[rustfmt::skip]
    const HEADER: [u8; 40] = [
        0x61, 0x23, 0x45, 0x67, 0, 8, 17, 64,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    ];

    fn repr() -> Ipv6Repr {
        Ipv6Repr {
            src_addr: Ipv6Addr::LOCALHOST,
            dst_addr: "2001:db8::2".parse().unwrap(),
            next_header: 17,
            payload_len: 8,
            hop_limit: 64,
            traffic_class: 0x12,
            flow_label: 0x34567,
        }
    }

    #[test]
    fn deconstruct() {
        let mut b = HEADER.to_vec();
        b.extend_from_slice(&[9; 10]);
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.version(), p.traffic_class(), p.flow_label()), (6, 0x12, 0x34567));
        assert_eq!((p.payload_len(), p.next_header(), p.hop_limit()), (8, 17, 64));
        assert_eq!((p.src_addr(), p.dst_addr()), (repr().src_addr, repr().dst_addr));
        assert_eq!(p.payload(), &[9; 8], "padding is cut");
        let u = p.upper_layer().unwrap();
        assert_eq!((u.protocol, u.ext_len, u.frag_offset, u.payload.len()), (17, 0, None, 8));
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 40];
        let mut p = Ipv6Packet::new_unchecked(&mut buf[..]);
        p.set_version_class_flow(6, 0x12, 0x34567);
        p.set_payload_len(8);
        p.set_next_header(17);
        p.set_hop_limit(64);
        p.set_src_addr(Ipv6Addr::LOCALHOST);
        p.set_dst_addr("2001:db8::2".parse().unwrap());
        assert_eq!(buf, HEADER);
    }

    #[test]
    fn truncated() {
        assert_eq!(Ipv6Packet::new_checked(&HEADER[..39]).unwrap_err(), Error::Truncated);
        let mut v4 = HEADER;
        v4[0] = 0x45;
        assert_eq!(Ipv6Packet::new_checked(&v4[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn parse() {
        assert_eq!(Ipv6Repr::parse(&Ipv6Packet::new_checked(&HEADER[..]).unwrap()), Ok(repr()));
    }

    #[test]
    fn emit() {
        let mut buf = [0u8; 40];
        repr().emit(&mut Ipv6Packet::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(buf, HEADER);
        let big = Ipv6Repr { payload_len: 65_536, ..repr() };
        assert_eq!(big.emit(&mut Ipv6Packet::new_unchecked(&mut buf[..])), Err(Error::Exhausted));
    }

    fn with_exts(exts: &[u8], first: u8) -> Vec<u8> {
        let mut b = HEADER.to_vec();
        b[5] = (exts.len() + 8) as u8;
        b[6] = first;
        b.extend_from_slice(exts);
        b.extend_from_slice(&[0xee; 8]);
        b
    }

    #[test]
    fn extension_walk() {
        // Hop-by-hop (8 bytes) -> destination options (16 bytes) -> first fragment -> UDP.
        let mut exts = vec![60, 0, 1, 4, 0, 0, 0, 0];
        exts.extend_from_slice(&[44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        exts.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 7]);
        let b = with_exts(&exts, 0);
        let u = Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer().unwrap();
        assert_eq!((u.protocol, u.ext_len, u.frag_offset, u.payload), (17, 32, Some(0), &[0xee; 8][..]));
        // A non-first fragment stops the walk.
        let b = with_exts(&[6, 0, 0, 0x19, 0, 0, 0, 1], 44);
        let u = Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer().unwrap();
        assert_eq!((u.protocol, u.frag_offset), (6, Some(3)));
        // An extension header longer than the packet.
        let b = with_exts(&[6, 4, 0, 0, 0, 0, 0, 0], 43);
        assert_eq!(Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer(), Err(Error::Truncated));
    }

    /// Moved from tojimari-packet's builder: a probe's header (traffic class and flow label zero).
    #[test]
    fn fixture_header() {
        let mut b = [0u8; 40];
        let r = Ipv6Repr {
            src_addr: Ipv6Addr::LOCALHOST,
            dst_addr: "2001:db8::2".parse().unwrap(),
            next_header: 17,
            payload_len: 8,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        };
        r.emit(&mut Ipv6Packet::new_unchecked(&mut b[..])).unwrap();
        let mut want = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        want.extend_from_slice(&[0; 15]);
        want.push(1);
        want.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        want.extend_from_slice(&[0; 11]);
        want.push(2);
        assert_eq!(b.to_vec(), want);
    }
}
