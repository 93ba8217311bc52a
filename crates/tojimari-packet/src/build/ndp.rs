//! IPv6 neighbor solicitations (RFC 4861 section 4.3), sent to the target's solicited-node multicast address
//! (RFC 4291 section 2.7.1) and its Ethernet mapping 33:33:xx:xx:xx:xx (RFC 2464 section 7).

use super::{L2, emit_l3};
use std::net::{IpAddr, Ipv6Addr};
use tojimari_wire::ip_protocol::ICMPV6;
use tojimari_wire::{Icmpv6Packet, Icmpv6Repr};

/// The solicited-node multicast address of `target`: ff02::1:ff00:0/104 plus its low 24 bits.
pub(crate) fn solicited_node(target: Ipv6Addr) -> Ipv6Addr {
    let t = target.octets();
    let mut a = [0u8; 16];
    a[0] = 0xff;
    a[1] = 0x02;
    a[11] = 0x01;
    a[12] = 0xff;
    a[13..16].copy_from_slice(&t[13..16]);
    Ipv6Addr::from(a)
}

/// ICMPv6 neighbor solicitation to the solicited-node multicast address (and its 33:33:ff:xx:xx:xx MAC), hop
/// limit 255, with source link-layer option (left out when `src` is unspecified, as RFC 4861 7.2.2 requires
/// for duplicate address detection). Returns the frame length, or 0 if `buf` is too short.
pub fn build_neighbor_solicit(buf: &mut [u8], src_mac: [u8; 6], src: Ipv6Addr, target: Ipv6Addr) -> usize {
    let dst = solicited_node(target);
    let d = dst.octets();
    let l2 = L2 { src_mac, dst_mac: [0x33, 0x33, d[12], d[13], d[14], d[15]] };
    let repr = Icmpv6Repr::NeighborSolicit { target, lladdr: (!src.is_unspecified()).then_some(src_mac) };
    let len = repr.buffer_len();
    let Some(start) = emit_l3(buf, &l2, IpAddr::V6(src), IpAddr::V6(dst), ICMPV6, 255, 0, len) else {
        return 0;
    };
    repr.emit(src, dst, &mut Icmpv6Packet::new_unchecked(&mut buf[start..start + len]));
    start + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{MAX_FRAME, check::assert_checksums};
    use crate::{Reply, parse_frame};
    use tojimari_wire::icmpv6::{message, ndp_option};

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[test]
    fn solicited_node_address() {
        let t: Ipv6Addr = "2001:db8::1234:5678".parse().unwrap();
        assert_eq!(solicited_node(t), "ff02::1:ff34:5678".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn fixture_layout() {
        let src: Ipv6Addr = "fe80::11:22ff:fe33:4455".parse().unwrap();
        let target: Ipv6Addr = "fe80::abcd:ef01".parse().unwrap();
        let mut buf = [0u8; MAX_FRAME];
        let n = build_neighbor_solicit(&mut buf, MAC, src, target);
        assert_eq!(n, 14 + 40 + 32);
        assert_eq!(&buf[0..14], &[0x33, 0x33, 0xff, 0xcd, 0xef, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x86, 0xdd]);
        assert_eq!(&buf[14..22], &[0x60, 0, 0, 0, 0, 32, 58, 255]);
        assert_eq!(&buf[38..54], &"ff02::1:ffcd:ef01".parse::<Ipv6Addr>().unwrap().octets());
        assert_eq!(&buf[54..56], &[135, 0]);
        assert_eq!(&buf[58..62], &[0, 0, 0, 0]);
        assert_eq!(&buf[62..78], &target.octets());
        assert_eq!(&buf[78..86], &[1, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_checksums(&buf[..n]);
        // A solicitation is not a reply we act on.
        assert_eq!(parse_frame(&buf[..n]), None);
    }

    #[test]
    fn unspecified_source_omits_option() {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_neighbor_solicit(&mut buf, MAC, Ipv6Addr::UNSPECIFIED, "fe80::1".parse().unwrap());
        assert_eq!(n, 14 + 40 + 24);
        assert_checksums(&buf[..n]);
    }

    #[test]
    fn advert_round_trip() {
        // Turn our solicitation into the target's advertisement: type 136, target link-layer option.
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let target: Ipv6Addr = "fe80::2".parse().unwrap();
        let mut buf = [0u8; MAX_FRAME];
        let n = build_neighbor_solicit(&mut buf, MAC, src, target);
        buf[22..38].copy_from_slice(&target.octets());
        buf[54] = message::NEIGHBOR_ADVERT;
        buf[58] = 0x60; // solicited, override
        buf[78] = ndp_option::TARGET_LL_ADDR;
        let want = Reply::NeighborAdvert { src: target.into(), target, mac: Some(MAC) };
        assert_eq!(parse_frame(&buf[..n]), Some(want));
        buf[78] = ndp_option::SOURCE_LL_ADDR;
        let want = Reply::NeighborAdvert { src: target.into(), target, mac: None };
        assert_eq!(parse_frame(&buf[..n]), Some(want));
        assert_eq!(build_neighbor_solicit(&mut buf[..85], MAC, src, target), 0);
    }
}
