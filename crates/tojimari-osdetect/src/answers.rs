//! Which probe an IP packet answers, over IPv4 or IPv6. Exact: a TCP answer must come from the probed
//! port to the probe's own source port, an echo reply (ICMP or ICMPv6) must carry our identifier and a
//! sequence number of ours, and a port unreachable (ICMP type 3 code 3, ICMPv6 type 1 code 4) must quote
//! our UDP probe (our source port, the closed port, the target's address, in an IP header of the
//! target's family). Anything else (other hosts, other ports, garbage) is `None`.

use std::net::IpAddr;

use tojimari_wire::{Ipv4Packet, Ipv6Packet, QuotedTransport, TcpPacket, ipv6};

use crate::probes::{Ids, tcp_shape};
use crate::reply::{self, TCP};
use crate::{Probe, Target};

/// The probe an IP packet from `target.dst` answers, if it answers one of ours.
pub fn answers(target: &Target, ip_packet: &[u8]) -> Option<Probe> {
    let ip = reply::ip(ip_packet)?;
    if ip.src != target.dst || ip.dst != target.src {
        return None;
    }
    let ids = Ids::of(target);
    match ip.proto {
        TCP => {
            // Only the ports are needed: the checked view, no option walk, no allocation.
            let tcp = TcpPacket::new_checked(ip.payload).ok()?;
            let probe = *Probe::ALL.get(usize::from(tcp.dst_port().wrapping_sub(ids.port_base)))?;
            let shape = tcp_shape(probe)?;
            let port = if shape.open_port { target.open_tcp } else { target.closed_tcp };
            (Some(tcp.src_port()) == port).then_some(probe)
        }
        proto if reply::is_icmp(proto) => {
            let m = reply::icmp(ip.payload)?;
            if reply::is_echo_reply(proto, &m) && m.ident == ids.icmp_id {
                match m.seq {
                    n @ 1..=2 => Some(Probe::Ie(n as u8)),
                    _ => None,
                }
            } else if reply::is_port_unreachable(proto, &m) {
                quotes_u1(target, &ids, m.data).then_some(Probe::U1)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether an ICMP error's quoted datagram is our UDP probe.
fn quotes_u1(target: &Target, ids: &Ids, quoted: &[u8]) -> bool {
    let Some(transport) = quoted_udp(target, quoted) else { return false };
    match QuotedTransport::parse(reply::UDP, transport) {
        Ok(t) => t.src_port == ids.port(Probe::U1) && Some(t.dst_port) == target.closed_udp,
        Err(_) => false,
    }
}

/// The quoted datagram's bytes after its IP header when that header is ours to the target (the target's
/// family, our addresses, UDP next). The quote may be cut anywhere: the header fields are read by hand.
pub(crate) fn quoted_udp<'a>(target: &Target, quoted: &'a [u8]) -> Option<&'a [u8]> {
    match (target.src, target.dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            if quoted.len() < 20 || quoted[0] >> 4 != 4 {
                return None;
            }
            let ihl = usize::from(quoted[0] & 0x0f) * 4;
            let q = Ipv4Packet::new_unchecked(quoted);
            if ihl < 20 || q.protocol() != reply::UDP || q.dst_addr() != dst || q.src_addr() != src {
                return None;
            }
            quoted.get(ihl..)
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            if quoted.len() < ipv6::HEADER_LEN || quoted[0] >> 4 != 6 {
                return None;
            }
            // Our probe has no extension header: UDP must follow the fixed header.
            let q = Ipv6Packet::new_unchecked(quoted);
            if q.next_header() != reply::UDP || q.dst_addr() != dst || q.src_addr() != src {
                return None;
            }
            quoted.get(ipv6::HEADER_LEN..)
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::probes::tests::{target, target6};
    use crate::probes::{build, schedule};
    use tojimari_wire::Icmpv4Packet;

    /// The probe's IP packet turned around as the target would send it back (addresses and ports swapped).
    pub(crate) fn mirror(t: &Target, p: Probe) -> Vec<u8> {
        let mut buf = [0u8; 1600];
        let n = build(t, p, &mut buf);
        let mut ip = buf[14..n].to_vec();
        let (s, d) = (ip[12..16].to_vec(), ip[16..20].to_vec());
        ip[12..16].copy_from_slice(&d);
        ip[16..20].copy_from_slice(&s);
        match p {
            Probe::Ie(_) => Icmpv4Packet::new_unchecked(&mut ip[20..]).set_msg_type(0),
            Probe::U1 => {}
            _ => {
                let mut tcp = TcpPacket::new_unchecked(&mut ip[20..]);
                let (a, b) = (tcp.src_port(), tcp.dst_port());
                tcp.set_src_port(b);
                tcp.set_dst_port(a);
            }
        }
        ip
    }

    #[test]
    fn each_answer_names_its_probe() {
        let t = target();
        for (p, _) in schedule(&t) {
            if p == Probe::U1 {
                continue;
            }
            assert_eq!(answers(&t, &mirror(&t, p)), Some(p), "{p:?}");
        }
    }

    #[test]
    fn port_unreachable_quoting_u1() {
        let t = target();
        let mut buf = [0u8; 1600];
        let n = build(&t, Probe::U1, &mut buf);
        let quoted = &buf[14..n];
        let mut icmp = vec![3u8, 3, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&quoted[..28]);
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1];
        ip.extend_from_slice(&icmp);
        let len = ip.len() as u16;
        ip[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(answers(&t, &ip), Some(Probe::U1));
        // Cut inside the UDP header: not ours any more (ports unreadable).
        let cut = ip.len() - 6;
        let mut short = ip[..cut].to_vec();
        short[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
        assert_eq!(answers(&t, &short), None);
        // Another destination port quoted.
        let mut other = ip.clone();
        other[20 + 8 + 22] ^= 1;
        assert_eq!(answers(&t, &other), None);
    }

    #[test]
    fn strangers_are_rejected() {
        let t = target();
        let mut p = mirror(&t, Probe::Seq(0));
        p[15] = 99; // another source host
        assert_eq!(answers(&t, &p), None);
        let mut p = mirror(&t, Probe::T(5));
        p[20] ^= 0x40; // from another port than the closed one
        assert_eq!(answers(&t, &p), None);
        let mut p = mirror(&t, Probe::Ie(1));
        p[20 + 6] = 0;
        p[20 + 7] = 7; // a sequence number not ours
        assert_eq!(answers(&t, &p), None);
        assert_eq!(answers(&t, &[]), None);
        assert_eq!(answers(&t, &[0x45; 19]), None);
    }

    /// As [`mirror`], over IPv6.
    pub(crate) fn mirror6(t: &Target, p: Probe) -> Vec<u8> {
        let mut buf = [0u8; 1600];
        let n = build(t, p, &mut buf);
        let mut ip = buf[14..n].to_vec();
        let (s, d) = (ip[8..24].to_vec(), ip[24..40].to_vec());
        ip[8..24].copy_from_slice(&d);
        ip[24..40].copy_from_slice(&s);
        match p {
            Probe::Ie(_) => ip[40] = 129,
            Probe::U1 => {}
            _ => {
                let mut tcp = TcpPacket::new_unchecked(&mut ip[40..]);
                let (a, b) = (tcp.src_port(), tcp.dst_port());
                tcp.set_src_port(b);
                tcp.set_dst_port(a);
            }
        }
        ip
    }

    /// An ICMPv6 port unreachable from the target quoting `quoted`.
    pub(crate) fn unreachable6(t: &Target, quoted: &[u8]) -> Vec<u8> {
        let (IpAddr::V6(ours), IpAddr::V6(theirs)) = (t.src, t.dst) else { unreachable!() };
        let mut ip = vec![0x60, 0, 0, 0, 0, 0, 58, 64];
        ip.extend_from_slice(&theirs.octets());
        ip.extend_from_slice(&ours.octets());
        ip.extend_from_slice(&[1, 4, 0, 0, 0, 0, 0, 0]);
        ip.extend_from_slice(quoted);
        let plen = (ip.len() - 40) as u16;
        ip[4..6].copy_from_slice(&plen.to_be_bytes());
        ip
    }

    #[test]
    fn each_ipv6_answer_names_its_probe() {
        let t = target6();
        for (p, _) in schedule(&t) {
            if p == Probe::U1 {
                continue;
            }
            assert_eq!(answers(&t, &mirror6(&t, p)), Some(p), "{p:?}");
            // The same answer over IPv4 addresses to an IPv6 target is not ours.
            assert_eq!(answers(&t, &mirror(&target(), p)), None, "{p:?}");
        }
        // An ICMPv4 echo reply type (0) inside IPv6 is not an ICMPv6 echo reply.
        let mut p = mirror6(&t, Probe::Ie(1));
        p[40] = 0;
        assert_eq!(answers(&t, &p), None);
        // An ICMPv6 echo request from the target is not a reply.
        p[40] = 128;
        assert_eq!(answers(&t, &p), None);
    }

    #[test]
    fn ipv6_port_unreachable_quoting_u1() {
        let t = target6();
        let mut buf = [0u8; 1600];
        let n = build(&t, Probe::U1, &mut buf);
        let quoted = buf[14..n].to_vec();
        assert_eq!(answers(&t, &unreachable6(&t, &quoted)), Some(Probe::U1));
        // Only the headers quoted: still ours.
        assert_eq!(answers(&t, &unreachable6(&t, &quoted[..48])), Some(Probe::U1));
        // Cut inside the UDP ports: not ours.
        assert_eq!(answers(&t, &unreachable6(&t, &quoted[..42])), None);
        // Another code (1: administratively prohibited), another type (3: time exceeded).
        let mut other = unreachable6(&t, &quoted);
        other[41] = 1;
        assert_eq!(answers(&t, &other), None);
        other[41] = 4;
        other[40] = 3;
        assert_eq!(answers(&t, &other), None);
        // Another quoted destination port, source port, destination address, next header.
        for at in [40 + 3, 40 + 1, 24 + 15, 6] {
            let mut q = quoted.clone();
            q[at] ^= 1;
            assert_eq!(answers(&t, &unreachable6(&t, &q)), None, "byte {at}");
        }
        // An IPv4 header quoted inside an ICMPv6 error.
        let mut buf4 = [0u8; 1600];
        let n4 = build(&target(), Probe::U1, &mut buf4);
        assert_eq!(answers(&t, &unreachable6(&t, &buf4[14..n4])), None);
    }

    #[test]
    fn ipv6_strangers_are_rejected() {
        let t = target6();
        let mut p = mirror6(&t, Probe::Seq(0));
        p[23] ^= 1; // another source host
        assert_eq!(answers(&t, &p), None);
        let mut p = mirror6(&t, Probe::T(5));
        p[40] ^= 0x40; // from another port than the closed one
        assert_eq!(answers(&t, &p), None);
        let mut p = mirror6(&t, Probe::Ie(2));
        p[40 + 7] = 7; // a sequence number not ours
        assert_eq!(answers(&t, &p), None);
        let mut p = mirror6(&t, Probe::Ie(2));
        p[40 + 4] ^= 1; // another identifier
        assert_eq!(answers(&t, &p), None);
        assert_eq!(answers(&t, &[0x60; 39]), None);
        let p = mirror6(&t, Probe::Seq(3));
        for cut in 0..p.len() {
            let _ = answers(&t, &p[..cut]);
        }
    }
}
