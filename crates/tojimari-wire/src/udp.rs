//! UDP datagrams (RFC 768): ports, length and checksum, then the payload.

use crate::bytes::{read16, write16};
use crate::{Error, Result, checksum, ip_protocol};
use std::net::IpAddr;

/// Header length.
pub const HEADER_LEN: usize = 8;

/// A view over a UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// Wraps `buffer`, checking that the 8-byte header is present. The length field is not checked against
    /// the buffer (a snaplen cut or a quote holds less).
    pub fn new_checked(buffer: T) -> Result<UdpPacket<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(UdpPacket { buffer })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Length (header and payload) as the header states it.
    pub fn len(&self) -> u16 {
        read16(self.buffer.as_ref(), 4)
    }

    /// Whether the length field says there is no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Checksum (zero: none, IPv4 only).
    pub fn checksum(&self) -> u16 {
        read16(self.buffer.as_ref(), 6)
    }

    /// Whether the checksum over the pseudo-header and the whole buffer is right.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let b = self.buffer.as_ref();
        checksum::verify(checksum::pseudo_header(src, dst, ip_protocol::UDP, b.len() as u32), b)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> UdpPacket<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The payload: after the header, up to the length field or the end of the buffer.
    pub fn payload(&self) -> &'a [u8] {
        let b = self.bytes();
        let end = usize::from(self.len()).clamp(HEADER_LEN, b.len());
        &b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 0, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 4, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 6, value);
    }

    /// The bytes after the header, mutably (to the end of the buffer).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer and writes it; a computed zero is
    /// sent as all ones (RFC 768: zero means "no checksum", which IPv6 forbids).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let c = checksum::upper_layer(src, dst, ip_protocol::UDP, self.buffer.as_ref());
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Reads a checked datagram's ports. `Malformed` when the length field is shorter than the header.
    pub fn parse<T: AsRef<[u8]>>(packet: &UdpPacket<T>) -> Result<UdpRepr> {
        if usize::from(packet.len()) < HEADER_LEN {
            return Err(Error::Malformed);
        }
        Ok(UdpRepr { src_port: packet.src_port(), dst_port: packet.dst_port() })
    }

    /// The header length (8).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header and `payload` into `packet` (at least 8 + payload bytes; the datagram is the whole
    /// buffer) and fills the checksum. `Exhausted` when the buffer is too short or the length does not fit.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: IpAddr,
        dst: IpAddr,
        payload: &[u8],
    ) -> Result<()> {
        let len = HEADER_LEN + payload.len();
        let len16 = u16::try_from(len).map_err(|_| Error::Exhausted)?;
        if packet.buffer.as_ref().len() != len {
            return Err(Error::Exhausted);
        }
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len16);
        packet.payload_mut().copy_from_slice(payload);
        packet.fill_checksum(src, dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    // 10.0.0.1:40000 -> 10.0.0.2:53, "abc"; checksum by hand (RFC 1071 over the pseudo-header).
    const DATAGRAM: [u8; 11] = [0x9c, 0x40, 0x00, 0x35, 0x00, 0x0b, 0x8a, 0xfd, b'a', b'b', b'c'];

    fn addrs() -> (IpAddr, IpAddr) {
        (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into())
    }

    #[test]
    fn deconstruct() {
        let mut padded = DATAGRAM.to_vec();
        padded.push(0);
        let p = UdpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len(), p.checksum()), (40000, 53, 11, 0x8afd));
        assert_eq!(p.payload(), b"abc");
        let p = UdpPacket::new_checked(&DATAGRAM[..]).unwrap();
        let (s, d) = addrs();
        assert!(p.verify_checksum(s, d));
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 11];
        let mut p = UdpPacket::new_unchecked(&mut buf[..]);
        p.set_src_port(40000);
        p.set_dst_port(53);
        p.set_len(11);
        p.payload_mut().copy_from_slice(b"abc");
        let (s, d) = addrs();
        p.fill_checksum(s, d);
        assert_eq!(buf, DATAGRAM);
    }

    #[test]
    fn truncated() {
        assert_eq!(UdpPacket::new_checked(&DATAGRAM[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(UdpPacket::new_checked(&DATAGRAM[..9]).unwrap().payload(), b"a");
    }

    #[test]
    fn parse() {
        let p = UdpPacket::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(UdpRepr::parse(&p), Ok(UdpRepr { src_port: 40000, dst_port: 53 }));
        let mut short = DATAGRAM;
        short[5] = 7;
        assert_eq!(UdpRepr::parse(&UdpPacket::new_checked(&short[..]).unwrap()), Err(Error::Malformed));
    }

    #[test]
    fn emit() {
        let mut buf = [0u8; 11];
        let (s, d) = addrs();
        let r = UdpRepr { src_port: 40000, dst_port: 53 };
        assert_eq!(r.buffer_len(), 8);
        r.emit(&mut UdpPacket::new_unchecked(&mut buf[..]), s, d, b"abc").unwrap();
        assert_eq!(buf, DATAGRAM);
        assert_eq!(r.emit(&mut UdpPacket::new_unchecked(&mut buf[..10]), s, d, b"abc"), Err(Error::Exhausted));
    }
}
