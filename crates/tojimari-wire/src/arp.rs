//! ARP (RFC 826). The view reads any hardware/protocol address sizes; the representation covers Ethernet
//! hardware with IPv4 protocol addresses (28 bytes), the only kind a scanner sends or acts on.

use crate::EtherType;
use crate::bytes::{array, read16, write16};
use crate::ethernet::MacAddr;
use crate::{Error, Result};
use std::net::Ipv4Addr;

/// Hardware type: Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = 28;

/// An ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpOperation(pub u16);

impl ArpOperation {
    /// Request (who-has).
    pub const REQUEST: ArpOperation = ArpOperation(1);
    /// Reply (is-at).
    pub const REPLY: ArpOperation = ArpOperation(2);
}

/// A view over an ARP packet.
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checking its length.
    pub fn new_unchecked(buffer: T) -> ArpPacket<T> {
        ArpPacket { buffer }
    }

    /// Wraps `buffer`, checking that it holds the fixed part and the four addresses its lengths announce.
    pub fn new_checked(buffer: T) -> Result<ArpPacket<T>> {
        let b = buffer.as_ref();
        if b.len() < 8 {
            return Err(Error::Truncated);
        }
        let p = ArpPacket { buffer };
        if p.buffer.as_ref().len() < p.packet_len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// The length the address sizes call for: 8 + 2 × (hardware + protocol length).
    pub fn packet_len(&self) -> usize {
        8 + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        read16(self.buffer.as_ref(), 0)
    }

    /// Protocol type (an EtherType).
    pub fn protocol_type(&self) -> EtherType {
        EtherType(read16(self.buffer.as_ref(), 2))
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[4]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[5]
    }

    /// Operation.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation(read16(self.buffer.as_ref(), 6))
    }

    fn field(&self, index: usize) -> &[u8] {
        let (h, p) = (usize::from(self.hardware_len()), usize::from(self.protocol_len()));
        let starts = [8, 8 + h, 8 + h + p, 8 + 2 * h + p];
        let lens = [h, p, h, p];
        &self.buffer.as_ref()[starts[index]..starts[index] + lens[index]]
    }

    /// Sender hardware address.
    pub fn source_hardware_addr(&self) -> &[u8] {
        self.field(0)
    }

    /// Sender protocol address.
    pub fn source_protocol_addr(&self) -> &[u8] {
        self.field(1)
    }

    /// Target hardware address.
    pub fn target_hardware_addr(&self) -> &[u8] {
        self.field(2)
    }

    /// Target protocol address.
    pub fn target_protocol_addr(&self) -> &[u8] {
        self.field(3)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 0, value);
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, value: EtherType) {
        write16(self.buffer.as_mut(), 2, value.0);
    }

    /// Sets the hardware address length.
    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[4] = value;
    }

    /// Sets the protocol address length.
    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[5] = value;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, value: ArpOperation) {
        write16(self.buffer.as_mut(), 6, value.0);
    }

    /// Writes the four Ethernet/IPv4 addresses (hardware length 6 and protocol length 4 must be set).
    pub fn set_ethernet_ipv4_addrs(&mut self, sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr) {
        let b = self.buffer.as_mut();
        b[8..14].copy_from_slice(&sha);
        b[14..18].copy_from_slice(&spa.octets());
        b[18..24].copy_from_slice(&tha);
        b[24..28].copy_from_slice(&tpa.octets());
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    /// Operation (request, reply or another code).
    pub operation: ArpOperation,
    /// Sender MAC address.
    pub source_hardware_addr: MacAddr,
    /// Sender IPv4 address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC address (zero in a request).
    pub target_hardware_addr: MacAddr,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Reads an Ethernet/IPv4 ARP packet; `Unrecognized` for other hardware or protocol types.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != EtherType::IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unrecognized);
        }
        let b = packet.buffer.as_ref();
        Ok(ArpRepr {
            operation: packet.operation(),
            source_hardware_addr: array(b, 8),
            source_protocol_addr: Ipv4Addr::from(array::<4>(b, 14)),
            target_hardware_addr: array(b, 18),
            target_protocol_addr: Ipv4Addr::from(array::<4>(b, 24)),
        })
    }

    /// The packet length (28).
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet into `packet`, which holds at least 28 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(EtherType::IPV4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_ethernet_ipv4_addrs(
            self.source_hardware_addr,
            self.source_protocol_addr,
            self.target_hardware_addr,
            self.target_protocol_addr,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const PACKET: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
        0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 254,
        0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1,
    ];

    fn repr() -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::REPLY,
            source_hardware_addr: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
            source_protocol_addr: Ipv4Addr::new(10, 0, 0, 254),
            target_hardware_addr: [2, 0, 0, 0, 0, 1],
            target_protocol_addr: Ipv4Addr::new(10, 0, 0, 1),
        }
    }

    #[test]
    fn deconstruct() {
        let p = ArpPacket::new_checked(&PACKET[..]).unwrap();
        assert_eq!(
            (p.hardware_type(), p.protocol_type(), p.hardware_len(), p.protocol_len()),
            (1, EtherType::IPV4, 6, 4)
        );
        assert_eq!(p.operation(), ArpOperation::REPLY);
        assert_eq!(p.source_hardware_addr(), &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(p.source_protocol_addr(), &[10, 0, 0, 254]);
        assert_eq!(p.target_hardware_addr(), &[2, 0, 0, 0, 0, 1]);
        assert_eq!(p.target_protocol_addr(), &[10, 0, 0, 1]);
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 28];
        let mut p = ArpPacket::new_unchecked(&mut buf[..]);
        p.set_hardware_type(1);
        p.set_protocol_type(EtherType::IPV4);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(ArpOperation::REPLY);
        p.set_ethernet_ipv4_addrs(
            [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
            Ipv4Addr::new(10, 0, 0, 254),
            [2, 0, 0, 0, 0, 1],
            Ipv4Addr::new(10, 0, 0, 1),
        );
        assert_eq!(buf, PACKET);
    }

    #[test]
    fn truncated() {
        assert_eq!(ArpPacket::new_checked(&PACKET[..7]).unwrap_err(), Error::Truncated);
        assert_eq!(ArpPacket::new_checked(&PACKET[..27]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn parse() {
        assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&PACKET[..]).unwrap()), Ok(repr()));
        let mut other = PACKET;
        other[1] = 6; // IEEE 802 hardware
        assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&other[..]).unwrap()), Err(Error::Unrecognized));
    }

    #[test]
    fn emit() {
        let mut buf = [0u8; 28];
        repr().emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(buf, PACKET);
    }
}
