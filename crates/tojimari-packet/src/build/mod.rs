//! Frame builders: Ethernet II + IPv4/IPv6 + TCP/UDP/SCTP/ICMP probes, `-sO`'s protocol probes, ARP and NDP solicitations.
//!
//! Every builder writes a complete frame (checksums included) at the start of `buf` and returns its length.
//! They never panic: a buffer shorter than the frame (always fine at [`MAX_FRAME`] bytes, except for UDP
//! payloads too large to fit), or source and destination of different address families, yields 0 and
//! leaves nothing meaningful in `buf`.

mod arp;
mod icmp;
pub(crate) mod ipproto;
mod ndp;
mod sctp;
mod tcp;
mod template;
mod udp;

pub use arp::build_arp_request;
pub use icmp::{build_address_mask, build_echo, build_timestamp};
pub use ipproto::{IpProtoProbe, build_ip_proto};
pub use ndp::build_neighbor_solicit;
pub use sctp::{SctpChunk, SctpProbe, build_sctp};
pub use tcp::{TcpProbe, build_tcp};
pub use template::{TcpFields, TcpTemplate};
pub use udp::{UdpProbe, build_udp};

use std::net::IpAddr;
use tojimari_wire::{
    EtherType, EthernetFrame, EthernetRepr, Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, ethernet, ipv4, ipv6,
};

/// The buffer size every builder accepts (an Ethernet frame of a 1500-byte MTU, plus room).
pub const MAX_FRAME: usize = 1600;

/// Link layer of every frame we send: Ethernet II (AF_PACKET on Ethernet-like links, loopback included, where
/// MACs are zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L2 {
    /// Our interface's MAC address.
    pub src_mac: [u8; 6],
    /// The next hop's MAC address (the target's on-link, else the gateway's).
    pub dst_mac: [u8; 6],
}

/// Writes the Ethernet and IP headers (20-byte IPv4 with checksum, or 40-byte IPv6; no options, no
/// fragmentation) for an upper-layer packet of `l4_len` bytes and returns the offset where that packet starts,
/// or `None` if the families differ or `buf` cannot hold the whole frame. `ip_id` is ignored for IPv6 (no
/// identification field without a fragment header).
#[allow(clippy::too_many_arguments)] // one call site per builder; a struct would only rename the fields
pub(crate) fn emit_l3(
    buf: &mut [u8],
    l2: &L2,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ttl: u8,
    ip_id: u16,
    l4_len: usize,
) -> Option<usize> {
    let eth = ethernet::HEADER_LEN;
    let (ethertype, start) = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => (EtherType::IPV4, eth + ipv4::HEADER_LEN),
        (IpAddr::V6(_), IpAddr::V6(_)) => (EtherType::IPV6, eth + ipv6::HEADER_LEN),
        _ => return None,
    };
    if buf.len() < start + l4_len {
        return None;
    }
    let ip = &mut buf[eth..start];
    match (src, dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
            let repr = Ipv4Repr {
                src_addr,
                dst_addr,
                protocol: proto,
                payload_len: l4_len,
                ttl,
                ident: ip_id,
                dscp_ecn: 0,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
            };
            repr.emit(&mut Ipv4Packet::new_unchecked(ip)).ok()?;
        }
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
            let repr = Ipv6Repr {
                src_addr,
                dst_addr,
                next_header: proto,
                payload_len: l4_len,
                hop_limit: ttl,
                traffic_class: 0,
                flow_label: 0,
            };
            repr.emit(&mut Ipv6Packet::new_unchecked(ip)).ok()?;
        }
        _ => return None,
    }
    let repr = EthernetRepr { src_addr: l2.src_mac, dst_addr: l2.dst_mac, ethertype };
    repr.emit(&mut EthernetFrame::new_unchecked(&mut buf[..eth]));
    Some(start)
}

/// Test helpers shared by the builder and parser tests: an independent checksum walk over whole frames.
#[cfg(test)]
pub(crate) mod check {
    /// A deliberately naive RFC 1071 sum (byte pairs into a u32, folded once at the end), independent of
    /// `crate::checksum`.
    fn naive_sum(parts: &[&[u8]]) -> u16 {
        let bytes: Vec<u8> = parts
            .iter()
            .flat_map(|p| {
                let mut v = p.to_vec();
                if v.len() % 2 == 1 {
                    v.push(0);
                }
                v
            })
            .collect();
        let mut s: u32 = 0;
        for i in (0..bytes.len()).step_by(2) {
            s += (u32::from(bytes[i]) << 8) | u32::from(bytes[i + 1]);
        }
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// Asserts that every checksum in an Ethernet frame carrying IPv4 or IPv6 (no extension headers) is right:
    /// the IPv4 header's, and TCP/UDP/ICMP/ICMPv6 over their pseudo-headers.
    pub(crate) fn assert_checksums(frame: &[u8]) {
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let ip = &frame[14..];
        let (proto, l4, pseudo): (u8, &[u8], Vec<u8>) = match ethertype {
            0x0800 => {
                let ihl = usize::from(ip[0] & 0x0f) * 4;
                assert_eq!(naive_sum(&[&ip[..ihl]]), 0xffff, "IPv4 header checksum");
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                let l4 = &ip[ihl..total];
                let mut ph = Vec::new();
                ph.extend_from_slice(&ip[12..20]);
                ph.extend_from_slice(&[0, ip[9]]);
                ph.extend_from_slice(&(l4.len() as u16).to_be_bytes());
                (ip[9], l4, ph)
            }
            0x86dd => {
                let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                let l4 = &ip[40..40 + plen];
                let mut ph = Vec::new();
                ph.extend_from_slice(&ip[8..40]);
                ph.extend_from_slice(&(l4.len() as u32).to_be_bytes());
                ph.extend_from_slice(&[0, 0, 0, ip[6]]);
                (ip[6], l4, ph)
            }
            other => panic!("not IP: {other:#06x}"),
        };
        let sum = if proto == 1 { naive_sum(&[l4]) } else { naive_sum(&[&pseudo, l4]) };
        assert_eq!(sum, 0xffff, "L4 checksum, protocol {proto}");
    }
}
