//! `-sO` probe frames: an IP packet of the protocol being asked about. As nmap does, the protocols a stack
//! answers only when the header is right get a proper one, so that an answer in the protocol can come
//! back: ICMP (an echo request; ICMPv6's over IPv6), IGMP (a membership query), TCP (an ACK, which any
//! stack answers with a RST), UDP (to a port nothing is expected to listen on, which earns a port
//! unreachable) and SCTP (an INIT). Every other protocol gets an IP header and nothing after it.
//!
//! The cookie goes where the answer gives it back: the echo's identifier and sequence number, the ACK's
//! acknowledgement number (a RST's sequence number), the UDP source port, the INIT's initiate tag; and,
//! for IPv4, the IP identification (`ip_id`), which an ICMP error's quote gives back for every protocol.
//! The SCTP probe carries the checksum `--adler32` asks for, as nmap's does.

use super::{L2, SctpChunk, SctpProbe, TcpProbe, UdpProbe, build_echo, build_sctp, build_tcp, build_udp, emit_l3};
use std::net::IpAddr;
use tojimari_wire::ip_protocol::{ICMP, ICMPV6, IGMP, SCTP, TCP, UDP};
use tojimari_wire::{Icmpv4Packet, SctpChecksum, checksum};

/// The UDP port `-sO`'s UDP probe goes to, and the TCP and SCTP ports of its TCP and SCTP probes.
pub const UDP_PORT: u16 = 40125;
/// The TCP and SCTP destination port.
pub const TCP_PORT: u16 = 80;

/// One `-sO` probe.
#[derive(Clone, Copy, Debug)]
pub struct IpProtoProbe {
    /// Our address.
    pub src: IpAddr,
    /// The target's address (same family).
    pub dst: IpAddr,
    /// The protocol number asked about.
    pub protocol: u8,
    /// The validation cookie (see the module).
    pub cookie: u32,
    /// Our TCP/SCTP source port, and the UDP one (a UDP answer comes back to it).
    pub sport: u16,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    /// The checksum of the SCTP probe.
    pub sctp_checksum: SctpChecksum,
}

impl IpProtoProbe {
    /// The IPv4 identification the probe carries: the cookie's high half.
    pub fn ip_id(&self) -> u16 {
        (self.cookie >> 16) as u16
    }

    /// The echo identifier and sequence number of the ICMP probe.
    pub fn echo_id_seq(&self) -> (u16, u16) {
        ((self.cookie >> 16) as u16, self.cookie as u16)
    }
}

/// IGMP membership query (RFC 2236 section 2): type 0x11, no maximum response time, group 0.
const IGMP_QUERY: [u8; 8] = [0x11, 0, 0xee, 0xff, 0, 0, 0, 0];

/// Writes the probe and returns the frame length, or 0 if the families differ or `buf` is too short.
pub fn build_ip_proto(buf: &mut [u8], l2: &L2, p: &IpProtoProbe) -> usize {
    let (src, dst, ttl, ip_id) = (p.src, p.dst, p.ttl, p.ip_id());
    let v6 = src.is_ipv6();
    match p.protocol {
        ICMP if !v6 => {
            // build_echo puts the identifier in the IPv4 identification too: the cookie's high half, `ip_id`.
            let (id, seq) = p.echo_id_seq();
            build_echo(buf, l2, src, dst, id, seq, ttl)
        }
        ICMPV6 if v6 => {
            let (id, seq) = p.echo_id_seq();
            build_echo(buf, l2, src, dst, id, seq, ttl)
        }
        TCP => {
            let probe = TcpProbe {
                src,
                dst,
                sport: p.sport,
                dport: TCP_PORT,
                seq: p.cookie.rotate_left(16),
                ack: p.cookie,
                flags: crate::tcp::ACK,
                window: 1024,
                ttl,
                ip_id,
            };
            build_tcp(buf, l2, &probe)
        }
        UDP => build_udp(buf, l2, &UdpProbe { src, dst, sport: p.sport, dport: UDP_PORT, ttl, ip_id, payload: &[] }),
        SCTP => {
            let probe = SctpProbe {
                src,
                dst,
                sport: p.sport,
                dport: TCP_PORT,
                chunk: SctpChunk::Init,
                cookie: p.cookie,
                ttl,
                ip_id,
                checksum: p.sctp_checksum,
            };
            build_sctp(buf, l2, &probe)
        }
        IGMP if !v6 => {
            let Some(start) = emit_l3(buf, l2, src, dst, IGMP, ttl, ip_id, IGMP_QUERY.len()) else {
                return 0;
            };
            let end = start + IGMP_QUERY.len();
            buf[start..end].copy_from_slice(&IGMP_QUERY);
            let mut m = Icmpv4Packet::new_unchecked(&mut buf[start..end]);
            m.set_checksum(0);
            let c = checksum::finish(checksum::sum(&IGMP_QUERY[..2]) + checksum::sum(&IGMP_QUERY[4..]));
            m.set_checksum(c);
            end
        }
        other => emit_l3(buf, l2, src, dst, other, ttl, ip_id, 0).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{MAX_FRAME, check::assert_checksums};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const L: L2 = L2 { src_mac: [0; 6], dst_mac: [0; 6] };

    fn probe(v6: bool, protocol: u8) -> IpProtoProbe {
        let (src, dst): (IpAddr, IpAddr) = if v6 {
            (
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into(),
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).into(),
            )
        } else {
            (Ipv4Addr::new(198, 18, 0, 1).into(), Ipv4Addr::new(198, 18, 0, 2).into())
        };
        IpProtoProbe {
            src,
            dst,
            protocol,
            cookie: 0x1234_5678,
            sport: 61234,
            ttl: 64,
            sctp_checksum: SctpChecksum::Crc32c,
        }
    }

    #[test]
    fn every_protocol_builds_with_its_number_and_the_cookie_in_the_ip_id() {
        for protocol in 0..=255u8 {
            let mut buf = [0u8; MAX_FRAME];
            let n = build_ip_proto(&mut buf, &L, &probe(false, protocol));
            assert!(n >= 34, "protocol {protocol}");
            let ip = tojimari_wire::Ipv4Packet::new_checked(&buf[14..n]).unwrap();
            assert_eq!((ip.protocol(), ip.ident()), (protocol, 0x1234), "protocol {protocol}");
            assert!(ip.verify_checksum(), "protocol {protocol}");
            if matches!(protocol, ICMP | TCP | UDP) {
                assert_checksums(&buf[..n]);
            }
            let mut buf6 = [0u8; MAX_FRAME];
            let n6 = build_ip_proto(&mut buf6, &L, &probe(true, protocol));
            assert!(n6 >= 54, "v6 protocol {protocol}");
            assert_eq!(buf6[20], protocol, "v6 protocol {protocol}");
        }
    }

    #[test]
    fn proper_headers_where_stacks_need_them() {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_ip_proto(&mut buf, &L, &probe(false, ICMP));
        assert_eq!(&buf[34..42], &[8, 0, buf[36], buf[37], 0x12, 0x34, 0x56, 0x78]);
        let n2 = build_ip_proto(&mut buf, &L, &probe(false, 50));
        assert_eq!(n2, 34, "an empty ESP packet");
        let n3 = build_ip_proto(&mut buf, &L, &probe(false, IGMP));
        assert_eq!((n3, buf[34]), (42, 0x11));
        assert_eq!(checksum::fold(checksum::sum(&buf[34..42])), 0xffff, "IGMP checksum");
        let n4 = build_ip_proto(&mut buf, &L, &probe(false, TCP));
        let t = tojimari_wire::TcpPacket::new_checked(&buf[34..n4]).unwrap();
        assert_eq!((t.dst_port(), t.ack_number(), t.flags()), (TCP_PORT, 0x1234_5678, crate::tcp::ACK));
        let n5 = build_ip_proto(&mut buf, &L, &probe(false, SCTP));
        let s = tojimari_wire::SctpPacket::new_checked(&buf[34..n5]).unwrap();
        assert!(s.verify_checksum());
        assert_eq!(s.first_chunk().and_then(|c| c.initiate_tag()), Some(0x1234_5678));
        assert!(n > 0);
    }
}
