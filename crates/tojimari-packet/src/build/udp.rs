//! UDP probe frames (RFC 768): an 8-byte header and the service payload (see [`crate::payloads`]).

use super::{L2, emit_l3};
use std::net::IpAddr;
use tojimari_wire::{UdpPacket, UdpRepr, ip_protocol, udp};

/// One UDP probe.
#[derive(Clone, Copy, Debug)]
pub struct UdpProbe<'a> {
    /// Our address.
    pub src: IpAddr,
    /// The target's address (same family as `src`).
    pub dst: IpAddr,
    /// Our port.
    pub sport: u16,
    /// The target's port.
    pub dport: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub ip_id: u16,
    /// The datagram's payload.
    pub payload: &'a [u8],
}

/// Writes Ethernet + IPv4/IPv6 + UDP + payload into `buf` and returns the frame length, or 0 if the families
/// differ or the frame does not fit in `buf`.
pub fn build_udp(buf: &mut [u8], l2: &L2, p: &UdpProbe) -> usize {
    let udp_len = udp::HEADER_LEN + p.payload.len();
    if udp_len > usize::from(u16::MAX) {
        return 0;
    }
    let Some(start) = emit_l3(buf, l2, p.src, p.dst, ip_protocol::UDP, p.ttl, p.ip_id, udp_len) else {
        return 0;
    };
    let repr = UdpRepr { src_port: p.sport, dst_port: p.dport };
    let mut u = UdpPacket::new_unchecked(&mut buf[start..start + udp_len]);
    if repr.emit(&mut u, p.src, p.dst, p.payload).is_err() {
        return 0;
    }
    start + udp_len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{MAX_FRAME, check::assert_checksums};
    use crate::{Reply, parse_frame, payloads};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const L: L2 = L2 { src_mac: [0; 6], dst_mac: [0; 6] };

    #[test]
    fn fixture_v4() {
        let p = UdpProbe {
            src: Ipv4Addr::new(10, 0, 0, 1).into(),
            dst: Ipv4Addr::new(10, 0, 0, 2).into(),
            sport: 0x9c40,
            dport: 53,
            ttl: 64,
            ip_id: 1,
            payload: b"abc",
        };
        let mut buf = [0u8; MAX_FRAME];
        let n = build_udp(&mut buf, &L, &p);
        #[rustfmt::skip]
        let want: [u8; 45] = [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
            0x45, 0x00, 0x00, 0x1f, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcb, 10, 0, 0, 1, 10, 0, 0, 2,
            0x9c, 0x40, 0x00, 0x35, 0x00, 0x0b, 0x8a, 0xfd, b'a', b'b', b'c',
        ];
        assert_eq!(&buf[..n], &want[..]);
        assert_checksums(&want);
    }

    #[test]
    fn round_trip_v4_and_v6_with_payloads() {
        let v4: (IpAddr, IpAddr) = (Ipv4Addr::new(192, 0, 2, 1).into(), Ipv4Addr::new(198, 51, 100, 7).into());
        let v6: (IpAddr, IpAddr) =
            ("fe80::1".parse::<Ipv6Addr>().unwrap().into(), "2001:db8::53".parse::<Ipv6Addr>().unwrap().into());
        for (src, dst) in [v4, v6] {
            for port in [53, 123, 161, 7, 500] {
                let p = UdpProbe {
                    src,
                    dst,
                    sport: 50000,
                    dport: port,
                    ttl: 3,
                    ip_id: 77,
                    payload: payloads::udp_payload(port),
                };
                let mut buf = [0u8; MAX_FRAME];
                let n = build_udp(&mut buf, &L, &p);
                assert_eq!(n, if src.is_ipv4() { 42 } else { 62 } + p.payload.len());
                assert_checksums(&buf[..n]);
                assert_eq!(parse_frame(&buf[..n]), Some(Reply::Udp { src, dst, sport: 50000, dport: port, ttl: 3 }));
            }
        }
    }

    #[test]
    fn oversized_payload_yields_zero() {
        let big = [0u8; MAX_FRAME];
        let p = UdpProbe {
            src: Ipv4Addr::LOCALHOST.into(),
            dst: Ipv4Addr::LOCALHOST.into(),
            sport: 1,
            dport: 2,
            ttl: 64,
            ip_id: 0,
            payload: &big,
        };
        let mut buf = [0u8; MAX_FRAME];
        assert_eq!(build_udp(&mut buf, &L, &p), 0);
        let p = UdpProbe { payload: &big[..MAX_FRAME - 42], ..p };
        assert_eq!(build_udp(&mut buf, &L, &p), MAX_FRAME);
    }
}
