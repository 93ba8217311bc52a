//! The idle scan's frames, as pure functions over bytes: the probe to the zombie, the SYNs spoofed from the
//! zombie, the SYN/ACKs spoofed from the target (tojimari-packet's builders), and the zombie's reset read
//! back with its IP ID (tojimari-wire's views).
//!
//! A probe is a SYN/ACK whose acknowledgment number carries the probe's number masked by a per-run
//! secret: the zombie's reset takes that number as its sequence number (RFC 9293, section 3.10.7.1), so
//! an answer names its probe and a stray reset is not taken for one.

use std::net::Ipv4Addr;

use tojimari_packet::{L2, TcpProbe, build_tcp};
use tojimari_wire::tcp::flags::{ACK, RST, SYN};
use tojimari_wire::{EtherType, EthernetFrame, Ipv4Packet, TcpPacket};

/// The first source port of our probes (the probe's number picks one of [`PROBE_PORTS`] from here).
const PROBE_SPORT: u16 = 33_000;
const PROBE_PORTS: u32 = 8192;
/// The first source port of the spoofed packets.
const SPOOF_SPORT: u16 = 1024;
const SPOOF_PORTS: u32 = 60_000;
/// TTL of everything we send.
const TTL: u8 = 64;

/// The addresses and link of a scan.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Addresses {
    /// Our address.
    pub us: Ipv4Addr,
    /// The zombie.
    pub zombie: Ipv4Addr,
    /// The zombie's port our probes go to.
    pub probe_port: u16,
    /// The target.
    pub target: Ipv4Addr,
    /// Link towards the zombie.
    pub to_zombie: L2,
    /// Link towards the target.
    pub to_target: L2,
    /// Masks the probe numbers on the wire.
    pub secret: u32,
}

/// Writes the probe number `id` into `buf`; returns the frame's length.
pub fn probe(buf: &mut [u8], a: &Addresses, id: u32) -> usize {
    let p = TcpProbe {
        src: a.us.into(),
        dst: a.zombie.into(),
        sport: PROBE_SPORT + (id % PROBE_PORTS) as u16,
        dport: a.probe_port,
        seq: a.secret.rotate_left(13) ^ id,
        ack: a.secret ^ id,
        flags: SYN | ACK,
        window: 1024,
        ttl: TTL,
        ip_id: (a.secret ^ id) as u16,
    };
    build_tcp(buf, &a.to_zombie, &p)
}

/// Writes a SYN from the zombie to `port` on the target, from source port number `serial` (counted over
/// the scan, so that consecutive SYNs to one port are distinct connections); returns the frame's length.
pub fn spoofed_syn(buf: &mut [u8], a: &Addresses, port: u16, serial: u32) -> usize {
    let mixed = serial.wrapping_mul(0x9e37_79b9) ^ a.secret;
    let p = TcpProbe {
        src: a.zombie.into(),
        dst: a.target.into(),
        sport: SPOOF_SPORT + (serial % SPOOF_PORTS) as u16,
        dport: port,
        seq: mixed,
        ack: 0,
        flags: SYN,
        window: 1024,
        ttl: TTL,
        ip_id: mixed as u16,
    };
    build_tcp(buf, &a.to_target, &p)
}

/// Writes a SYN/ACK from the target to the zombie's probe port (the check: the zombie resets it towards
/// the target); returns the frame's length.
pub fn from_target(buf: &mut [u8], a: &Addresses, serial: u32) -> usize {
    let mixed = serial.wrapping_mul(0x85eb_ca6b) ^ a.secret;
    let p = TcpProbe {
        src: a.target.into(),
        dst: a.zombie.into(),
        sport: SPOOF_SPORT + (serial % SPOOF_PORTS) as u16,
        dport: a.probe_port,
        seq: mixed,
        ack: mixed.rotate_left(7),
        flags: SYN | ACK,
        window: 1024,
        ttl: TTL,
        ip_id: mixed as u16,
    };
    build_tcp(buf, &a.to_zombie, &p)
}

/// The zombie's reset to one of our probes in `frame`: (the probe's number, the reset's IP ID). `None`
/// for anything else.
pub fn answer(frame: &[u8], a: &Addresses) -> Option<(u32, u16)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != EtherType::IPV4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    if ip.src_addr() != a.zombie || ip.dst_addr() != a.us || ip.protocol() != tojimari_wire::ip_protocol::TCP {
        return None;
    }
    if ip.more_frags() || ip.frag_offset() != 0 {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    if tcp.flags() & RST == 0 || tcp.src_port() != a.probe_port {
        return None;
    }
    let id = tcp.seq_number() ^ a.secret;
    let sport = u32::from(tcp.dst_port().checked_sub(PROBE_SPORT)?);
    (sport == id % PROBE_PORTS).then_some((id, ip.ident()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_packet::MAX_FRAME;
    use tojimari_wire::{EthernetRepr, Ipv4Repr, TcpRepr};

    const A: Addresses = Addresses {
        us: Ipv4Addr::new(198, 18, 0, 1),
        zombie: Ipv4Addr::new(198, 18, 0, 200),
        probe_port: 80,
        target: Ipv4Addr::new(198, 18, 0, 2),
        to_zombie: L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0x50, 0x45, 18, 0, 200] },
        to_target: L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] },
        secret: 0xdead_beef,
    };

    fn fields(frame: &[u8]) -> (Ipv4Addr, Ipv4Addr, u16, u16, u8, u32, u32, [u8; 6]) {
        let eth = EthernetFrame::new_checked(frame).unwrap();
        let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
        assert!(ip.verify_checksum());
        let t = TcpPacket::new_checked(ip.payload()).unwrap();
        assert!(t.verify_checksum(ip.src_addr().into(), ip.dst_addr().into()));
        (
            ip.src_addr(),
            ip.dst_addr(),
            t.src_port(),
            t.dst_port(),
            t.flags(),
            t.seq_number(),
            t.ack_number(),
            eth.dst_addr(),
        )
    }

    /// The zombie's reset to a SYN/ACK `frame`, as RFC 9293 writes it, with IP ID `ip_id`.
    fn reset_to(frame: &[u8], ip_id: u16) -> Vec<u8> {
        let (src, dst, sport, dport, _, _, ack, _) = fields(frame);
        let tcp = TcpRepr { src_port: dport, dst_port: sport, seq_number: ack, flags: RST, ..TcpRepr::default() };
        let ip = Ipv4Repr {
            src_addr: dst,
            dst_addr: src,
            protocol: tojimari_wire::ip_protocol::TCP,
            payload_len: tcp.buffer_len(),
            ttl: 64,
            ident: ip_id,
            dscp_ecn: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        };
        let mut out = vec![0u8; 14 + 20 + tcp.buffer_len()];
        EthernetRepr { src_addr: A.to_zombie.dst_mac, dst_addr: A.to_zombie.src_mac, ethertype: EtherType::IPV4 }
            .emit(&mut EthernetFrame::new_unchecked(&mut out[..]));
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut out[14..])).unwrap();
        let mut t = TcpPacket::new_unchecked(&mut out[34..]);
        tcp.emit(&mut t);
        t.fill_checksum(dst.into(), src.into());
        out
    }

    #[test]
    fn a_probe_and_its_reset() {
        let mut buf = [0u8; MAX_FRAME];
        let n = probe(&mut buf, &A, 70_000);
        let (src, dst, _, dport, flags, _, _, mac) = fields(&buf[..n]);
        assert_eq!((src, dst, dport, flags, mac), (A.us, A.zombie, 80, SYN | ACK, A.to_zombie.dst_mac));
        let rst = reset_to(&buf[..n], 4242);
        assert_eq!(answer(&rst, &A), Some((70_000, 4242)));
        let other = Addresses { secret: 1, ..A };
        assert_eq!(answer(&rst, &other), None, "another run's secret");
        let elsewhere = Addresses { zombie: Ipv4Addr::new(198, 18, 0, 201), ..A };
        assert_eq!(answer(&rst, &elsewhere), None, "from another host");
        assert_eq!(answer(&buf[..n], &A), None, "our own probe is no answer");
        assert_eq!(answer(&rst[..20], &A), None, "truncated");
    }

    #[test]
    fn spoofed_packets() {
        let mut buf = [0u8; MAX_FRAME];
        let n = spoofed_syn(&mut buf, &A, 443, 7);
        let (src, dst, sport, dport, flags, _, _, mac) = fields(&buf[..n]);
        assert_eq!((src, dst, dport, flags, mac), (A.zombie, A.target, 443, SYN, A.to_target.dst_mac));
        let n2 = spoofed_syn(&mut buf, &A, 443, 8);
        assert_ne!(fields(&buf[..n2]).2, sport, "each copy its own connection");
        let n = from_target(&mut buf, &A, 1);
        let (src, dst, _, dport, flags, _, _, mac) = fields(&buf[..n]);
        assert_eq!((src, dst, dport, flags, mac), (A.target, A.zombie, 80, SYN | ACK, A.to_zombie.dst_mac));
    }
}
