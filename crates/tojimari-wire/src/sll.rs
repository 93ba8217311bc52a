//! Linux "cooked" capture headers, what `tcpdump -i any` writes: SLL v1 (LINKTYPE_LINUX_SLL = 113, 16 bytes:
//! packet type, ARPHRD type, address length, 8 address bytes, protocol) and SLL v2 (LINKTYPE_LINUX_SLL2 = 276,
//! 20 bytes: protocol first, then reserved, interface index, ARPHRD type, packet type, address length and 8
//! address bytes). The protocol field holds an EtherType for Ethernet-like devices.

use crate::EtherType;
use crate::bytes::{array, read16, read32, write16};
use crate::{Error, Result};

/// SLL v1 header length.
pub const SLL_HEADER_LEN: usize = 16;
/// SLL v2 header length.
pub const SLL2_HEADER_LEN: usize = 20;

/// A view over a Linux cooked capture v1 frame.
#[derive(Debug, Clone, Copy)]
pub struct SllFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> SllFrame<T> {
    /// Wraps `buffer` without checking its length.
    pub fn new_unchecked(buffer: T) -> SllFrame<T> {
        SllFrame { buffer }
    }

    /// Wraps `buffer`, checking that it holds the 16-byte header.
    pub fn new_checked(buffer: T) -> Result<SllFrame<T>> {
        if buffer.as_ref().len() < SLL_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(SllFrame { buffer })
    }

    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to someone else, 4 sent by us.
    pub fn packet_type(&self) -> u16 {
        read16(self.buffer.as_ref(), 0)
    }

    /// The device's ARPHRD type (1 for Ethernet, 772 for loopback).
    pub fn arphrd(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// The link-layer address length, and the 8 address bytes (zero-padded).
    pub fn addr(&self) -> (u16, [u8; 8]) {
        (read16(self.buffer.as_ref(), 4), array(self.buffer.as_ref(), 6))
    }

    /// The protocol (an EtherType on Ethernet-like devices).
    pub fn protocol(&self) -> EtherType {
        EtherType(read16(self.buffer.as_ref(), 14))
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> SllFrame<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// Everything after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes()[SLL_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SllFrame<T> {
    /// Sets the packet type.
    pub fn set_packet_type(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 0, value);
    }

    /// Sets the ARPHRD type.
    pub fn set_arphrd(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: EtherType) {
        write16(self.buffer.as_mut(), 14, value.0);
    }
}

/// A view over a Linux cooked capture v2 frame.
#[derive(Debug, Clone, Copy)]
pub struct Sll2Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Sll2Frame<T> {
    /// Wraps `buffer` without checking its length.
    pub fn new_unchecked(buffer: T) -> Sll2Frame<T> {
        Sll2Frame { buffer }
    }

    /// Wraps `buffer`, checking that it holds the 20-byte header.
    pub fn new_checked(buffer: T) -> Result<Sll2Frame<T>> {
        if buffer.as_ref().len() < SLL2_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Sll2Frame { buffer })
    }

    /// The protocol (an EtherType on Ethernet-like devices).
    pub fn protocol(&self) -> EtherType {
        EtherType(read16(self.buffer.as_ref(), 0))
    }

    /// The capturing interface's index.
    pub fn interface_index(&self) -> u32 {
        read32(self.buffer.as_ref(), 4)
    }

    /// The device's ARPHRD type.
    pub fn arphrd(&self) -> u16 {
        read16(self.buffer.as_ref(), 8)
    }

    /// Packet type (as in v1).
    pub fn packet_type(&self) -> u8 {
        self.buffer.as_ref()[10]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Sll2Frame<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// Everything after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes()[SLL2_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Sll2Frame<T> {
    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: EtherType) {
        write16(self.buffer.as_mut(), 0, value.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const SLL: [u8; 17] = [0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd, 0x60];
    #[rustfmt::skip]
    const SLL2: [u8; 21] = [0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x45];

    #[test]
    fn deconstruct() {
        let f = SllFrame::new_checked(&SLL[..]).unwrap();
        assert_eq!((f.packet_type(), f.arphrd(), f.protocol()), (4, 1, EtherType::IPV6));
        assert_eq!(f.addr(), (6, [2, 0, 0, 0, 0, 1, 0, 0]));
        assert_eq!(f.payload(), &[0x60]);
        let f = Sll2Frame::new_checked(&SLL2[..]).unwrap();
        assert_eq!((f.protocol(), f.interface_index(), f.arphrd(), f.packet_type()), (EtherType::IPV4, 3, 1, 0));
        assert_eq!(f.payload(), &[0x45]);
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 17];
        let mut f = SllFrame::new_unchecked(&mut buf[..]);
        f.set_packet_type(4);
        f.set_arphrd(1);
        f.set_protocol(EtherType::IPV6);
        assert_eq!(&buf[..4], &SLL[..4]);
        assert_eq!(&buf[14..16], &SLL[14..16]);
        let mut buf = [0u8; 20];
        Sll2Frame::new_unchecked(&mut buf[..]).set_protocol(EtherType::IPV4);
        assert_eq!(&buf[..2], &SLL2[..2]);
    }

    #[test]
    fn truncated() {
        assert_eq!(SllFrame::new_checked(&SLL[..15]).unwrap_err(), Error::Truncated);
        assert_eq!(Sll2Frame::new_checked(&SLL2[..19]).unwrap_err(), Error::Truncated);
        assert!(SllFrame::new_checked(&SLL[..16]).is_ok());
        assert!(Sll2Frame::new_checked(&SLL2[..20]).is_ok());
    }
}
