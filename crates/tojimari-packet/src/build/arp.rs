//! ARP requests (RFC 826) for Ethernet/IPv4: who-has `target`, tell `src`, broadcast.

use std::net::Ipv4Addr;
use tojimari_wire::ethernet::{self, BROADCAST};
use tojimari_wire::{ArpOperation, ArpPacket, ArpRepr, EtherType, EthernetFrame, EthernetRepr};

/// ARP who-has (Ethernet broadcast). Returns the frame length (42), or 0 if `buf` is too short.
pub fn build_arp_request(buf: &mut [u8], src_mac: [u8; 6], src: Ipv4Addr, target: Ipv4Addr) -> usize {
    let arp = ArpRepr {
        operation: ArpOperation::REQUEST,
        source_hardware_addr: src_mac,
        source_protocol_addr: src,
        target_hardware_addr: [0; 6], // unknown: that is the question
        target_protocol_addr: target,
    };
    let len = ethernet::HEADER_LEN + arp.buffer_len();
    if buf.len() < len {
        return 0;
    }
    let eth = EthernetRepr { src_addr: src_mac, dst_addr: BROADCAST, ethertype: EtherType::ARP };
    eth.emit(&mut EthernetFrame::new_unchecked(&mut buf[..ethernet::HEADER_LEN]));
    arp.emit(&mut ArpPacket::new_unchecked(&mut buf[ethernet::HEADER_LEN..len]));
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::MAX_FRAME;
    use crate::{Reply, parse_frame};

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn fixture_request() {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_arp_request(&mut buf, MAC, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 254));
        #[rustfmt::skip]
        let want: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
            0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 1,
            0, 0, 0, 0, 0, 0, 10, 0, 0, 254,
        ];
        assert_eq!(&buf[..n], &want[..]);
    }

    #[test]
    fn round_trip_and_reply() {
        let mut buf = [0u8; MAX_FRAME];
        let (src, target) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 254));
        let n = build_arp_request(&mut buf, MAC, src, target);
        let req = Reply::Arp { sender_ip: src, sender_mac: MAC, target_ip: target, is_reply: false };
        assert_eq!(parse_frame(&buf[..n]), Some(req));
        // Turn it into the answer: operation 2, sender = the target with its MAC.
        let their_mac = [0x02, 0, 0, 0, 0, 0xfe];
        let a = &mut buf[14..42];
        a[6..8].copy_from_slice(&ArpOperation::REPLY.0.to_be_bytes());
        a[8..14].copy_from_slice(&their_mac);
        a[14..18].copy_from_slice(&target.octets());
        a[18..24].copy_from_slice(&MAC);
        a[24..28].copy_from_slice(&src.octets());
        let rep = Reply::Arp { sender_ip: target, sender_mac: their_mac, target_ip: src, is_reply: true };
        // Padded to the Ethernet minimum, as received frames are.
        assert_eq!(parse_frame(&buf[..60]), Some(rep));
        assert_eq!(build_arp_request(&mut buf[..41], MAC, src, target), 0);
    }
}
