//! TCP probe frames (RFC 9293 section 3.1): a 20-byte header, plus an MSS option on SYN probes so they look
//! like a real stack's connection attempt.

use super::{L2, emit_l3};
use crate::tcp::SYN;
use std::net::IpAddr;
use tojimari_wire::{TcpPacket, TcpRepr, ip_protocol};

/// The MSS we advertise on SYN probes (an Ethernet MTU's worth).
const MSS: u16 = 1460;

/// One TCP probe: addresses, ports, sequence/acknowledgment numbers (see
/// [`crate::Probing::probe_seq_ack`]), flags, window, and IP TTL / hop limit and ID.
#[derive(Clone, Copy, Debug)]
pub struct TcpProbe {
    /// Our address.
    pub src: IpAddr,
    /// The target's address (same family as `src`).
    pub dst: IpAddr,
    /// Our port.
    pub sport: u16,
    /// The target's port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent as is, whether or not ACK is set).
    pub ack: u32,
    /// TCP flags ([`crate::tcp`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub ip_id: u16,
}

/// Writes Ethernet + IPv4 (or IPv6, by address family; src and dst must be the same family) + TCP into `buf`,
/// returns the frame length. SYN probes carry an MSS option (1460) like a real stack's SYN; others no options.
/// Checksums correct. `buf` must be >= MAX_FRAME bytes; on a short buffer or mixed families, returns 0.
pub fn build_tcp(buf: &mut [u8], l2: &L2, p: &TcpProbe) -> usize {
    let repr = TcpRepr {
        src_port: p.sport,
        dst_port: p.dport,
        seq_number: p.seq,
        ack_number: p.ack,
        flags: p.flags,
        window_len: p.window,
        max_seg_size: (p.flags & SYN != 0).then_some(MSS),
        ..TcpRepr::default()
    };
    let tcp_len = repr.buffer_len();
    let Some(start) = emit_l3(buf, l2, p.src, p.dst, ip_protocol::TCP, p.ttl, p.ip_id, tcp_len) else {
        return 0;
    };
    let mut t = TcpPacket::new_unchecked(&mut buf[start..start + tcp_len]);
    repr.emit(&mut t);
    t.fill_checksum(p.src, p.dst);
    start + tcp_len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{MAX_FRAME, check::assert_checksums};
    use crate::tcp::{ACK, FIN, PSH, RST, URG};
    use crate::{Reply, parse_frame};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

    fn probe(src: IpAddr, dst: IpAddr, flags: u8) -> TcpProbe {
        TcpProbe {
            src,
            dst,
            sport: 40000,
            dport: 443,
            seq: 0xdead_beef,
            ack: 7,
            flags,
            window: 1024,
            ttl: 51,
            ip_id: 9,
        }
    }

    fn v4() -> (IpAddr, IpAddr) {
        (Ipv4Addr::new(192, 0, 2, 1).into(), Ipv4Addr::new(198, 51, 100, 7).into())
    }

    fn v6() -> (IpAddr, IpAddr) {
        ("2001:db8::1".parse::<Ipv6Addr>().unwrap().into(), "2001:db8:1::7".parse::<Ipv6Addr>().unwrap().into())
    }

    #[test]
    fn fixture_syn_v4() {
        // Hand-assembled from the RFC 791 / RFC 9293 layouts; checksums computed independently (RFC 1071 by hand).
        let p = TcpProbe {
            src: Ipv4Addr::new(10, 0, 0, 1).into(),
            dst: Ipv4Addr::new(10, 0, 0, 2).into(),
            sport: 0x9c40,
            dport: 80,
            seq: 0x0102_0304,
            ack: 0,
            flags: SYN,
            window: 1024,
            ttl: 64,
            ip_id: 0x1234,
        };
        let mut buf = [0u8; MAX_FRAME];
        let n = build_tcp(&mut buf, &L2 { src_mac: [0; 6], dst_mac: [0; 6] }, &p);
        #[rustfmt::skip]
        let want: [u8; 58] = [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
            0x45, 0x00, 0x00, 0x2c, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x54, 0x96, 10, 0, 0, 1, 10, 0, 0, 2,
            0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0x60, 0x02, 0x04, 0x00, 0xdf, 0x8d, 0x00, 0x00,
            0x02, 0x04, 0x05, 0xb4,
        ];
        assert_eq!(&buf[..n], &want[..]);
        assert_checksums(&want);
    }

    #[test]
    fn round_trip_every_technique_v4_and_v6() {
        for (src, dst) in [v4(), v6()] {
            for flags in [SYN, FIN, 0, FIN | PSH | URG, ACK, FIN | ACK, SYN | ACK | RST] {
                let mut buf = [0u8; MAX_FRAME];
                let p = probe(src, dst, flags);
                let n = build_tcp(&mut buf, &L, &p);
                let hdr = if src.is_ipv4() { 34 } else { 54 };
                assert_eq!(n, hdr + if flags & SYN != 0 { 24 } else { 20 });
                assert_eq!(&buf[0..6], &L.dst_mac);
                assert_eq!(&buf[6..12], &L.src_mac);
                assert_checksums(&buf[..n]);
                let want = Reply::Tcp {
                    src,
                    dst,
                    sport: 40000,
                    dport: 443,
                    seq: 0xdead_beef,
                    ack: 7,
                    flags,
                    window: 1024,
                    ttl: 51,
                };
                assert_eq!(parse_frame(&buf[..n]), Some(want));
            }
        }
    }

    #[test]
    fn mixed_families_or_short_buffer_yield_zero() {
        let mut buf = [0u8; MAX_FRAME];
        assert_eq!(build_tcp(&mut buf, &L, &probe(v4().0, v6().1, SYN)), 0);
        assert_eq!(build_tcp(&mut buf[..57], &L, &probe(v4().0, v4().1, SYN)), 0);
        assert_eq!(build_tcp(&mut buf[..58], &L, &probe(v4().0, v4().1, SYN)), 58);
    }
}
