//! Ethernet II framing (IEEE 802.3 clause 3.2.6, "Length/Type" read as an EtherType): 6-byte destination,
//! 6-byte source, 2-byte EtherType, with up to two VLAN tags (802.1Q, 802.1ad, and the older 0x9100 QinQ tag)
//! skipped by [`EthernetFrame::inner`].

use crate::bytes::{array, read16, write16};
use crate::{Error, Result};

/// A 48-bit MAC address.
pub type MacAddr = [u8; 6];

/// The broadcast MAC address.
pub const BROADCAST: MacAddr = [0xff; 6];

/// An EtherType (IEEE registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4 (RFC 894).
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP (RFC 826).
    pub const ARP: EtherType = EtherType(0x0806);
    /// IPv6 (RFC 2464).
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// 802.1Q VLAN tag.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// 802.1ad service VLAN tag (QinQ outer tag).
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// The pre-standard QinQ outer tag some switches still send.
    pub const QINQ_OLD: EtherType = EtherType(0x9100);

    /// Whether this EtherType announces a VLAN tag (4 bytes: tag control, then the inner EtherType).
    #[inline]
    pub fn is_vlan_tag(self) -> bool {
        // Every tag type sorts above IPv4 and ARP: one comparison settles the common frames.
        self.0 >= EtherType::VLAN.0 && matches!(self, EtherType::VLAN | EtherType::QINQ | EtherType::QINQ_OLD)
    }
}

/// Ethernet II header length.
pub const HEADER_LEN: usize = 14;
/// VLAN tag length.
const TAG_LEN: usize = 4;
/// Tags skipped at most by [`EthernetFrame::inner`] (single-tagged and QinQ frames).
const MAX_TAGS: usize = 2;

/// A view over an Ethernet II frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without checking its length (accessors may panic on a short buffer).
    pub fn new_unchecked(buffer: T) -> EthernetFrame<T> {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer`, checking that it holds the 14-byte header.
    pub fn new_checked(buffer: T) -> Result<EthernetFrame<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination MAC address.
    pub fn dst_addr(&self) -> MacAddr {
        array(self.buffer.as_ref(), 0)
    }

    /// Source MAC address.
    pub fn src_addr(&self) -> MacAddr {
        array(self.buffer.as_ref(), 6)
    }

    /// The outer EtherType (a VLAN tag's type when the frame is tagged).
    pub fn ethertype(&self) -> EtherType {
        EtherType(read16(self.buffer.as_ref(), 12))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> EthernetFrame<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// Everything after the 14-byte header.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes()[HEADER_LEN..]
    }

    /// The EtherType and payload after skipping up to two VLAN tags. `Truncated` when a tag is cut short,
    /// `Malformed` when more tags follow than that.
    #[inline]
    pub fn inner(&self) -> Result<(EtherType, &'a [u8])> {
        let mut ethertype = self.ethertype();
        let mut rest = self.payload();
        if !ethertype.is_vlan_tag() {
            return Ok((ethertype, rest));
        }
        for _ in 0..MAX_TAGS {
            if !ethertype.is_vlan_tag() {
                return Ok((ethertype, rest));
            }
            let tag = rest.get(..TAG_LEN).ok_or(Error::Truncated)?;
            ethertype = EtherType(read16(tag, 2));
            rest = &rest[TAG_LEN..];
        }
        if ethertype.is_vlan_tag() { Err(Error::Malformed) } else { Ok((ethertype, rest)) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination MAC address.
    pub fn set_dst_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[0..6].copy_from_slice(&addr);
    }

    /// Sets the source MAC address.
    pub fn set_src_addr(&mut self, addr: MacAddr) {
        self.buffer.as_mut()[6..12].copy_from_slice(&addr);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, ethertype: EtherType) {
        write16(self.buffer.as_mut(), 12, ethertype.0);
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An untagged Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    /// Source MAC address.
    pub src_addr: MacAddr,
    /// Destination MAC address.
    pub dst_addr: MacAddr,
    /// EtherType.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        Ok(EthernetRepr { src_addr: frame.src_addr(), dst_addr: frame.dst_addr(), ethertype: frame.ethertype() })
    }

    /// The header length (14).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame`, which holds at least [`HEADER_LEN`] bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const FRAME: [u8; 18] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x08, 0x00,
        0xaa, 0xbb, 0xcc, 0xdd,
    ];

    fn repr() -> EthernetRepr {
        EthernetRepr {
            src_addr: [0x11, 0x12, 0x13, 0x14, 0x15, 0x16],
            dst_addr: [1, 2, 3, 4, 5, 6],
            ethertype: EtherType::IPV4,
        }
    }

    #[test]
    fn deconstruct() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst_addr(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(f.src_addr(), [0x11, 0x12, 0x13, 0x14, 0x15, 0x16]);
        assert_eq!(f.ethertype(), EtherType::IPV4);
        assert_eq!(f.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(f.inner().unwrap(), (EtherType::IPV4, &[0xaa, 0xbb, 0xcc, 0xdd][..]));
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 18];
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        f.set_dst_addr([1, 2, 3, 4, 5, 6]);
        f.set_src_addr([0x11, 0x12, 0x13, 0x14, 0x15, 0x16]);
        f.set_ethertype(EtherType::IPV4);
        f.payload_mut().copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(buf, FRAME);
    }

    #[test]
    fn truncated() {
        assert_eq!(EthernetFrame::new_checked(&FRAME[..13]).unwrap_err(), Error::Truncated);
        assert!(EthernetFrame::new_checked(&FRAME[..14]).is_ok());
    }

    #[test]
    fn parse() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&f).unwrap(), repr());
    }

    #[test]
    fn emit() {
        let mut buf = [0u8; 14];
        let r = repr();
        assert_eq!(r.buffer_len(), 14);
        r.emit(&mut EthernetFrame::new_unchecked(&mut buf[..]));
        assert_eq!(buf, FRAME[..14]);
    }

    #[test]
    fn vlan_tags() {
        let mut f = FRAME[..12].to_vec();
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x86, 0xdd, 0x60]);
        let v = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!(v.inner().unwrap(), (EtherType::IPV6, &[0x60][..]));
        // A tag cut short, and a third tag.
        assert_eq!(EthernetFrame::new_checked(&f[..17]).unwrap().inner(), Err(Error::Truncated));
        let mut three = FRAME[..12].to_vec();
        three.extend_from_slice(&[0x91, 0x00, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00]);
        assert_eq!(EthernetFrame::new_checked(&three[..]).unwrap().inner(), Err(Error::Malformed));
    }

    /// Moved from tojimari-packet's builder: the header layout for an IPv6 frame.
    #[test]
    fn emit_layout() {
        let mut b = [0u8; 14];
        let r =
            EthernetRepr { dst_addr: [1, 2, 3, 4, 5, 6], src_addr: [7, 8, 9, 10, 11, 12], ethertype: EtherType::IPV6 };
        r.emit(&mut EthernetFrame::new_unchecked(&mut b[..]));
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd]);
    }
}
