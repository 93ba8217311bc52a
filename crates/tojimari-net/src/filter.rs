//! Classic BPF programs for `SO_ATTACH_FILTER` on AF_PACKET sockets, so the kernel drops
//! everything that cannot be a reply before it reaches the ring.
//!
//! Programs read the Ethernet frame (also on loopback, where the MACs are zero). Every jump is
//! short and local (a comparison skips at most a few instructions), so the programs stay valid
//! however many addresses they hold; the one long jump is a `ja`, whose offset is 32-bit.

use std::net::IpAddr;

// Opcodes (linux/bpf_common.h): class | size | mode, class | op | source.
const LD_W_ABS: u16 = 0x20;
const LD_H_ABS: u16 = 0x28;
const LD_B_ABS: u16 = 0x30;
const JMP_JA: u16 = 0x05;
const JMP_JEQ_K: u16 = 0x15;
const RET_K: u16 = 0x06;

/// What an accepting program returns: the number of bytes to keep, i.e. all of them.
const ACCEPT: u32 = u32::MAX;
const DROP: u32 = 0;

const ETHERTYPE_IPV4: u32 = 0x0800;
const ETHERTYPE_ARP: u32 = 0x0806;
const ETHERTYPE_IPV6: u32 = 0x86dd;
const PROTO_ICMP: u32 = 1;
const PROTO_TCP: u32 = 6;
const PROTO_UDP: u32 = 17;
const PROTO_ICMPV6: u32 = 58;
const PROTO_SCTP: u32 = 132;

// Frame offsets: Ethernet header 14 bytes, then the IP header.
const OFF_ETHERTYPE: u32 = 12;
const OFF_V4_PROTO: u32 = 14 + 9;
const OFF_V4_DST: u32 = 14 + 16;
const OFF_V6_NEXT: u32 = 14 + 6;
const OFF_V6_DST: u32 = 14 + 24;

/// One classic BPF instruction, laid out exactly as `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const fn stmt(code: u16, k: u32) -> Insn {
    Insn { code, jt: 0, jf: 0, k }
}

const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
    Insn { code: JMP_JEQ_K, jt, jf, k }
}

/// A classic BPF program for `SO_ATTACH_FILTER`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    insns: Vec<Insn>,
}

impl Filter {
    /// Accepts Ethernet frames that are
    /// - IPv4 to one of the IPv4 addresses in `ours`, carrying TCP, UDP, SCTP or ICMP;
    /// - IPv6 to one of the IPv6 addresses in `ours`, whose first next header is TCP, UDP, SCTP or
    ///   ICMPv6 (extension headers are not walked);
    /// - ARP (any).
    ///
    /// Everything else is dropped in the kernel. Frames with VLAN tags are not matched.
    pub fn replies_to(ours: &[IpAddr]) -> Filter {
        let v4: Vec<u32> = ours
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V4(v4) => Some(u32::from(*v4)),
                IpAddr::V6(_) => None,
            })
            .collect();
        let v6: Vec<[u32; 4]> = ours
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V6(v6) => {
                    let o = v6.octets();
                    Some(std::array::from_fn(|i| {
                        u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
                    }))
                }
                IpAddr::V4(_) => None,
            })
            .collect();

        let mut p = vec![stmt(LD_H_ABS, OFF_ETHERTYPE), jeq(ETHERTYPE_ARP, 0, 1), stmt(RET_K, ACCEPT)];
        p.extend(family_block(ETHERTYPE_IPV4, &v4_block(&v4)));
        p.extend(family_block(ETHERTYPE_IPV6, &v6_block(&v6)));
        p.push(stmt(RET_K, DROP));
        Filter { insns: p }
    }

    /// Accepts IPv4 frames carrying TCP, UDP or ICMP and IPv6 frames whose first next header
    /// is TCP, UDP or ICMPv6, from and to any address, and keeps at most `snaplen` bytes of
    /// each (headers are all a scan detector reads; a large GRO segment then costs the ring
    /// no more than a SYN). Everything else (ARP, VLAN-tagged frames, ...) is dropped.
    pub fn ip_transport(snaplen: u32) -> Filter {
        let keep = snaplen.max(1);
        Filter {
            insns: vec![
                stmt(LD_H_ABS, OFF_ETHERTYPE),
                jeq(ETHERTYPE_IPV4, 0, 5),
                stmt(LD_B_ABS, OFF_V4_PROTO),
                jeq(PROTO_TCP, 2, 0),
                jeq(PROTO_UDP, 1, 0),
                jeq(PROTO_ICMP, 0, 7),
                stmt(RET_K, keep),
                jeq(ETHERTYPE_IPV6, 0, 5),
                stmt(LD_B_ABS, OFF_V6_NEXT),
                jeq(PROTO_TCP, 2, 0),
                jeq(PROTO_UDP, 1, 0),
                jeq(PROTO_ICMPV6, 0, 1),
                stmt(RET_K, keep),
                stmt(RET_K, DROP),
            ],
        }
    }

    /// Accepts every frame whole.
    pub fn accept_all() -> Filter {
        Filter { insns: vec![stmt(RET_K, ACCEPT)] }
    }

    /// Drops every frame (for sockets that only send).
    pub fn drop_all() -> Filter {
        Filter { insns: vec![stmt(RET_K, DROP)] }
    }

    /// The number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program is empty (never true for the constructors here).
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Runs the program over `frame` in user space, as the kernel would, and says whether
    /// it keeps the frame. Supports the instructions this type emits; lets code above this
    /// crate test what its filter admits without privileges.
    pub fn accepts(&self, frame: &[u8]) -> bool {
        let mut acc: u32 = 0;
        let mut pc = 0usize;
        while let Some(insn) = self.insns.get(pc) {
            pc += 1;
            let load = |size: usize| -> Option<u32> {
                let at = insn.k as usize;
                let bytes = frame.get(at..at.checked_add(size)?)?;
                Some(bytes.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
            };
            match insn.code {
                LD_W_ABS | LD_H_ABS | LD_B_ABS => {
                    let size = match insn.code {
                        LD_W_ABS => 4,
                        LD_H_ABS => 2,
                        _ => 1,
                    };
                    match load(size) {
                        Some(v) => acc = v,
                        None => return false, // the kernel drops a frame read out of bounds
                    }
                }
                JMP_JA => pc += insn.k as usize,
                JMP_JEQ_K => pc += usize::from(if acc == insn.k { insn.jt } else { insn.jf }),
                RET_K => return insn.k != 0,
                _ => return false,
            }
        }
        false
    }

    /// The program as the kernel's `sock_filter` array.
    pub(crate) fn insns(&self) -> &[Insn] {
        &self.insns
    }
}

/// `if ethertype == ethertype { block } else { skip it }`; `block` must end in a `ret`.
fn family_block(ethertype: u32, block: &[Insn]) -> Vec<Insn> {
    if block.is_empty() {
        return Vec::new();
    }
    let skip = u32::try_from(block.len()).expect("filter fits u32");
    let mut p = vec![jeq(ethertype, 1, 0), Insn { code: JMP_JA, jt: 0, jf: 0, k: skip }];
    p.extend_from_slice(block);
    p
}

/// IPv4: protocol TCP/UDP/ICMP/SCTP, then destination in `addrs`. Empty when `addrs` is.
fn v4_block(addrs: &[u32]) -> Vec<Insn> {
    if addrs.is_empty() {
        return Vec::new();
    }
    let mut p = vec![
        stmt(LD_B_ABS, OFF_V4_PROTO),
        jeq(PROTO_TCP, 4, 0),
        jeq(PROTO_UDP, 3, 0),
        jeq(PROTO_ICMP, 2, 0),
        jeq(PROTO_SCTP, 1, 0),
        stmt(RET_K, DROP),
        stmt(LD_W_ABS, OFF_V4_DST),
    ];
    for &addr in addrs {
        p.extend([jeq(addr, 0, 1), stmt(RET_K, ACCEPT)]);
    }
    p.push(stmt(RET_K, DROP));
    p
}

/// IPv6: next header TCP/UDP/ICMPv6/SCTP, then destination (four words) in `addrs`.
fn v6_block(addrs: &[[u32; 4]]) -> Vec<Insn> {
    if addrs.is_empty() {
        return Vec::new();
    }
    let mut p = vec![
        stmt(LD_B_ABS, OFF_V6_NEXT),
        jeq(PROTO_TCP, 4, 0),
        jeq(PROTO_UDP, 3, 0),
        jeq(PROTO_ICMPV6, 2, 0),
        jeq(PROTO_SCTP, 1, 0),
        stmt(RET_K, DROP),
    ];
    for words in addrs {
        // load w0, cmp, load w1, cmp, load w2, cmp, load w3, cmp, ret accept: each failed
        // comparison skips to the next address.
        for (i, &word) in words.iter().enumerate() {
            let step = u32::try_from(4 * i).expect("small");
            let skip = u8::try_from(7 - 2 * i).expect("small");
            p.extend([stmt(LD_W_ABS, OFF_V6_DST + step), jeq(word, 0, skip)]);
        }
        p.push(stmt(RET_K, ACCEPT));
    }
    p.push(stmt(RET_K, DROP));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const OURS4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const OURS6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 1);

    /// Ethernet + a 20-byte IPv4 header + 20 bytes of "TCP" (no checksums: BPF ignores them).
    fn v4_frame(dst: Ipv4Addr, proto: u8) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[22] = 64;
        f[23] = proto;
        f[26..30].copy_from_slice(&[198, 18, 0, 2]);
        f[30..34].copy_from_slice(&dst.octets());
        f[47] = 0x12; // SYN|ACK
        f
    }

    fn v6_frame(dst: Ipv6Addr, next: u8) -> Vec<u8> {
        let mut f = vec![0u8; 74];
        f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        f[14] = 0x60;
        f[18..20].copy_from_slice(&20u16.to_be_bytes());
        f[20] = next;
        f[21] = 64;
        f[38..54].copy_from_slice(&dst.octets());
        f
    }

    fn ours() -> Filter {
        Filter::replies_to(&[IpAddr::V4(OURS4), IpAddr::V6(OURS6)])
    }

    #[test]
    fn accepts_a_syn_ack_to_us_and_rejects_one_to_another_address() {
        assert!(ours().accepts(&v4_frame(OURS4, 6)));
        assert!(!ours().accepts(&v4_frame(Ipv4Addr::new(198, 18, 0, 3), 6)));
        assert!(ours().accepts(&v6_frame(OURS6, 6)));
        assert!(!ours().accepts(&v6_frame(Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 1, 1), 6)));
    }

    #[test]
    fn accepts_udp_icmp_sctp_and_arp_only() {
        let f = ours();
        assert!(f.accepts(&v4_frame(OURS4, 17)));
        assert!(f.accepts(&v4_frame(OURS4, 1)));
        assert!(!f.accepts(&v4_frame(OURS4, 47)), "GRE");
        assert!(f.accepts(&v6_frame(OURS6, 58)));
        assert!(f.accepts(&v6_frame(OURS6, 17)));
        assert!(f.accepts(&v4_frame(OURS4, 132)), "SCTP");
        assert!(f.accepts(&v6_frame(OURS6, 132)), "SCTP");
        assert!(!f.accepts(&v4_frame(Ipv4Addr::new(198, 18, 0, 3), 132)));
        assert!(!f.accepts(&v6_frame(OURS6, 0)), "hop-by-hop options are not walked");
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        assert!(f.accepts(&arp));
        let mut other = arp.clone();
        other[12..14].copy_from_slice(&0x88ccu16.to_be_bytes()); // LLDP
        assert!(!f.accepts(&other));
    }

    #[test]
    fn truncated_frames_are_dropped() {
        let frame = v4_frame(OURS4, 6);
        assert!(!ours().accepts(&frame[..20]));
        assert!(!ours().accepts(&[]));
    }

    #[test]
    fn one_family_only_drops_the_other() {
        let v4_only = Filter::replies_to(&[IpAddr::V4(OURS4)]);
        assert!(v4_only.accepts(&v4_frame(OURS4, 6)));
        assert!(!v4_only.accepts(&v6_frame(OURS6, 6)));
        let none = Filter::replies_to(&[]);
        assert!(!none.accepts(&v4_frame(OURS4, 6)));
        assert!(none.accepts(&{
            let mut arp = vec![0u8; 42];
            arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
            arp
        }));
    }

    #[test]
    fn many_addresses_keep_jumps_in_range() {
        let many: Vec<IpAddr> = (0..400u32)
            .flat_map(|i| [IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i)), IpAddr::V6(Ipv6Addr::from(u128::from(i)))])
            .collect();
        let f = Filter::replies_to(&many);
        assert!(f.accepts(&v4_frame(Ipv4Addr::from(0xc612_0000 + 399), 6)));
        assert!(f.accepts(&v6_frame(Ipv6Addr::from(399u128), 6)));
        assert!(!f.accepts(&v6_frame(Ipv6Addr::from(400u128), 6)));
    }

    #[test]
    fn ip_transport_keeps_any_address_and_only_ip_transports() {
        let f = Filter::ip_transport(128);
        for proto in [1, 6, 17] {
            assert!(f.accepts(&v4_frame(Ipv4Addr::new(203, 0, 113, 9), proto)), "v4 proto {proto}");
        }
        assert!(!f.accepts(&v4_frame(OURS4, 47)), "GRE");
        for next in [6, 17, 58] {
            assert!(f.accepts(&v6_frame(Ipv6Addr::LOCALHOST, next)), "v6 next {next}");
        }
        assert!(!f.accepts(&v6_frame(OURS6, 0)));
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        assert!(!f.accepts(&arp));
        assert!(!f.accepts(&[]));
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        crate::socket::attach_filter(&socket, &f).unwrap();
    }

    #[test]
    fn accept_all_and_drop_all() {
        assert!(Filter::accept_all().accepts(&[0; 60]));
        assert!(!Filter::drop_all().accepts(&[0; 60]));
    }

    #[test]
    fn the_kernel_accepts_the_program() {
        // SO_ATTACH_FILTER validates the program the same way on any socket type, and a UDP
        // socket needs no privilege. Nothing is sent.
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        crate::socket::attach_filter(&socket, &ours()).unwrap();
        let big: Vec<IpAddr> = (0..100u32).map(|i| IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i))).collect();
        crate::socket::attach_filter(&socket, &Filter::replies_to(&big)).unwrap();
    }
}
