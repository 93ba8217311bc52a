//! Probe shaping: nmap's firewall-evasion options applied to a probe frame the builders wrote, as a pure
//! function from one frame to the frames that go on the wire.
//!
//! - `--ttl`: the IPv4 TTL or IPv6 hop limit.
//! - `--data`, `--data-string`, `--data-length`: bytes appended to a TCP probe, or the UDP probe's payload
//!   (they replace the port's own payload, as nmap's do).
//! - `--badsum`: a TCP or UDP checksum that is wrong (never one a receiver could take for right, nor UDP's 0,
//!   "no checksum"). A host that answers such a probe did not check it: a firewall or a middlebox did.
//! - `--ip-options`: IPv4 options after the header (padded with end-of-list to a multiple of 4 bytes).
//! - `-f`, `-ff`, `--mtu`: IPv4 fragments carrying at most that many bytes of the IP payload each (a multiple
//!   of 8, RFC 791); options whose copied flag is set go into every fragment, the others into the first only.
//! - `-D`: decoys. The probe is sent once from each decoy address and once from ours, in the order given
//!   (`ME` marks ours; without it, ours comes last, as in nmap). Only our own copy can be answered to us.
//!
//! Checksums are computed again over the shaped packet (pseudo-header with each copy's source). IPv6 probes
//! take `--ttl`, data, `--badsum` and decoys; options and fragments are IPv4 only (the CLI refuses them with
//! `-6`). A frame that is not Ethernet with IPv4 or IPv6 carrying TCP or UDP passes unchanged except for TTL,
//! decoys and fragments (ICMP pings get those too).

use std::net::IpAddr;

use tojimari_wire::checksum;

/// Largest IPv4 options (the header length field allows 60 bytes of header).
pub const MAX_IP_OPTIONS: usize = 40;
/// Largest `--data-length`: the probe must still fit a 1500-byte link without fragments.
pub const MAX_DATA: usize = 1400;

const ETH: usize = 14;
const TCP: u8 = 6;
const UDP: u8 = 17;

/// What shaping asks for. [`Shaping::default`] changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shaping {
    pub ttl: Option<u8>,
    /// Appended to TCP probes; the payload of UDP probes. `None` keeps the builders' own.
    pub data: Option<Vec<u8>>,
    pub badsum: bool,
    /// Raw IPv4 options, at most [`MAX_IP_OPTIONS`] bytes (padded here).
    pub ip_options: Vec<u8>,
    /// Bytes of IP payload per fragment (a multiple of 8); `None` sends whole packets.
    pub fragment: Option<usize>,
    /// Decoy source addresses, in order; ours goes at [`Shaping::me_at`] among them.
    pub decoys: Vec<IpAddr>,
    pub me_at: usize,
}

impl Shaping {
    /// Whether shaping changes nothing (the engine then skips it).
    pub fn is_plain(&self) -> bool {
        *self == Shaping::default()
    }

    /// The part of the shaping host discovery's pings take: TTL and decoys (as nmap's pings do). Data and
    /// bad checksums would change what a ping's answer means, and fragments what the first hop must do.
    pub fn for_pings(&self) -> Shaping {
        Shaping { ttl: self.ttl, decoys: self.decoys.clone(), me_at: self.me_at, ..Shaping::default() }
    }

    /// The part of the shaping OS detection's probes take: the decoys (as nmap's OS probes are decoyed too).
    /// The tests read the TTL, options, data and checksums of what comes back, so nothing else changes.
    pub fn for_os_detection(&self) -> Shaping {
        Shaping { decoys: self.decoys.clone(), me_at: self.me_at, ..Shaping::default() }
    }

    /// Sends `frame` (a whole probe frame) through shaping: `out` gets every frame to send, in order, with
    /// `true` for those from our own address. Returns how many frames were given; 0 when `frame` cannot be
    /// shaped (shorter than an Ethernet header, or options and fragments asked of IPv6), which the caller
    /// reports as unsent. A frame that is not an IPv4 or IPv6 packet shaping reads (ARP) goes unchanged.
    pub fn shape(&self, frame: &[u8], out: &mut dyn FnMut(&[u8], bool)) -> usize {
        if frame.len() < ETH {
            return 0;
        }
        let Some(packet) = Packet::parse(frame) else {
            // Not an IP packet we shape (ARP, neighbour discovery's link layer, a header with options already):
            // it goes as it is.
            out(frame, true);
            return 1;
        };
        if packet.v6 && (!self.ip_options.is_empty() || self.fragment.is_some()) {
            return 0;
        }
        let mut body = packet.l4.to_vec();
        if let Some(data) = &self.data {
            match packet.proto {
                TCP => body.extend_from_slice(data),
                UDP if body.len() >= 8 => {
                    body.truncate(8);
                    body.extend_from_slice(data);
                    let len = (body.len() as u16).to_be_bytes();
                    body[4..6].copy_from_slice(&len);
                }
                _ => {}
            }
        }
        let ours = packet.src;
        let mut sources: Vec<(IpAddr, bool)> =
            self.decoys.iter().filter(|d| d.is_ipv6() == packet.v6).map(|&d| (d, false)).collect();
        sources.insert(self.me_at.min(sources.len()), (ours, true));
        let mut given = 0;
        let mut buf = Vec::with_capacity(frame.len() + body.len() + MAX_IP_OPTIONS);
        for (src, mine) in sources {
            let mut l4 = body.clone();
            self.checksum(&mut l4, packet.proto, src, packet.dst);
            given += self.emit(frame, &packet, src, &l4, &mut buf, &mut |f| out(f, mine));
        }
        given
    }

    /// Computes the TCP or UDP checksum of `l4` from `src` to `dst`, made wrong with `--badsum`.
    fn checksum(&self, l4: &mut [u8], proto: u8, src: IpAddr, dst: IpAddr) {
        let at = match proto {
            TCP if l4.len() >= 20 => 16,
            UDP if l4.len() >= 8 => 6,
            _ => return,
        };
        l4[at..at + 2].fill(0);
        let mut sum = checksum::upper_layer(src, dst, proto, l4);
        if proto == UDP && sum == 0 {
            sum = 0xffff;
        }
        if self.badsum {
            // One off: never the same value in ones' complement (0 and 0xffff), never UDP's "none".
            sum ^= 1;
            if proto == UDP && sum == 0 {
                sum = 2;
            }
        }
        l4[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    }

    /// Writes the frames of one copy (whole, or its fragments) into `buf` and gives each to `out`.
    fn emit(
        &self,
        frame: &[u8],
        packet: &Packet,
        src: IpAddr,
        l4: &[u8],
        buf: &mut Vec<u8>,
        out: &mut dyn FnMut(&[u8]),
    ) -> usize {
        if packet.v6 {
            buf.clear();
            buf.extend_from_slice(&frame[..ETH + 40]);
            let ip = &mut buf[ETH..];
            ip[4..6].copy_from_slice(&(l4.len() as u16).to_be_bytes());
            if let Some(ttl) = self.ttl {
                ip[7] = ttl;
            }
            if let IpAddr::V6(a) = src {
                ip[8..24].copy_from_slice(&a.octets());
            }
            buf.extend_from_slice(l4);
            out(buf);
            return 1;
        }
        let options = padded(&self.ip_options);
        let piece = self.fragment.unwrap_or(usize::MAX).max(8);
        let mut given = 0;
        let mut offset: usize = 0;
        loop {
            let end = l4.len().min(offset.saturating_add(piece));
            let first = offset == 0;
            let opts: Vec<u8> = if first { options.clone() } else { copied(&options) };
            let more = end < l4.len();
            buf.clear();
            buf.extend_from_slice(&frame[..ETH + 20]);
            buf.extend_from_slice(&opts);
            buf.extend_from_slice(&l4[offset..end]);
            let ip = &mut buf[ETH..];
            let ihl = (20 + opts.len()) / 4;
            ip[0] = 0x40 | ihl as u8;
            ip[2..4].copy_from_slice(&((20 + opts.len() + end - offset) as u16).to_be_bytes());
            let flags_frag = (u16::from(more) << 13) | ((offset / 8) as u16 & 0x1fff) | (u16::from(packet.df) << 14);
            ip[6..8].copy_from_slice(&flags_frag.to_be_bytes());
            if let Some(ttl) = self.ttl {
                ip[8] = ttl;
            }
            if let IpAddr::V4(a) = src {
                ip[12..16].copy_from_slice(&a.octets());
            }
            ip[10..12].fill(0);
            let sum = checksum::finish(checksum::sum(&ip[..ihl * 4]));
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            out(buf);
            given += 1;
            if !more {
                return given;
            }
            offset = end;
        }
    }
}

/// `options` padded with end-of-list (0) to a multiple of 4 bytes, at most [`MAX_IP_OPTIONS`].
fn padded(options: &[u8]) -> Vec<u8> {
    let mut o: Vec<u8> = options.iter().copied().take(MAX_IP_OPTIONS).collect();
    while !o.len().is_multiple_of(4) {
        o.push(0);
    }
    o
}

/// The options of a later fragment: those whose copied flag (the type's high bit) is set, padded.
fn copied(options: &[u8]) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let kind = options[i];
        match kind {
            0 => break,
            1 => i += 1,
            _ => {
                let len = usize::from(options.get(i + 1).copied().unwrap_or(0)).max(2);
                let end = (i + len).min(options.len());
                if kind & 0x80 != 0 {
                    kept.extend_from_slice(&options[i..end]);
                }
                i = end;
            }
        }
    }
    padded(&kept)
}

/// The parts of a probe frame shaping needs.
struct Packet<'a> {
    v6: bool,
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    df: bool,
    l4: &'a [u8],
}

impl<'a> Packet<'a> {
    fn parse(frame: &'a [u8]) -> Option<Packet<'a>> {
        let ip = frame.get(ETH..)?;
        match u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]) {
            0x0800 => {
                let ihl = usize::from(ip.first()? & 0x0f) * 4;
                let total = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
                if ihl != 20 || total < ihl {
                    return None;
                }
                let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
                let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
                Some(Packet {
                    v6: false,
                    proto: ip[9],
                    src: IpAddr::from(src),
                    dst: IpAddr::from(dst),
                    df: ip[6] & 0x40 != 0,
                    l4: ip.get(ihl..total)?,
                })
            }
            0x86dd => {
                let plen = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
                let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
                let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
                Some(Packet {
                    v6: true,
                    proto: ip[6],
                    src: IpAddr::from(src),
                    dst: IpAddr::from(dst),
                    df: false,
                    l4: ip.get(40..40 + plen)?,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::check::assert_checksums;
    use crate::{L2, MAX_FRAME, TcpProbe, UdpProbe, build_tcp, build_udp};

    const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

    fn syn(src: &str, dst: &str) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_tcp(
            &mut buf,
            &L,
            &TcpProbe {
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                sport: 61000,
                dport: 80,
                seq: 7,
                ack: 0,
                flags: 0x02,
                window: 1024,
                ttl: 64,
                ip_id: 9,
            },
        );
        buf[..n].to_vec()
    }

    fn udp(payload: &'static [u8]) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME];
        let probe = UdpProbe {
            src: "198.18.0.1".parse().unwrap(),
            dst: "198.18.0.2".parse().unwrap(),
            sport: 61000,
            dport: 53,
            ttl: 64,
            ip_id: 1,
            payload,
        };
        let n = build_udp(&mut buf, &L, &probe);
        buf[..n].to_vec()
    }

    fn frames(s: &Shaping, frame: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut v = Vec::new();
        let n = s.shape(frame, &mut |f, mine| v.push((f.to_vec(), mine)));
        assert_eq!(n, v.len());
        v
    }

    #[test]
    fn plain_shaping_gives_the_frame_back() {
        let f = syn("198.18.0.1", "198.18.0.2");
        let out = frames(&Shaping::default(), &f);
        assert_eq!(out, vec![(f, true)]);
        assert!(Shaping::default().is_plain());
    }

    #[test]
    fn ttl_and_data_change_the_packet_and_keep_checksums_right() {
        let f = syn("198.18.0.1", "198.18.0.2");
        let s = Shaping { ttl: Some(3), data: Some(b"hello".to_vec()), ..Shaping::default() };
        let out = frames(&s, &f);
        let (g, mine) = &out[0];
        assert!(mine);
        assert_eq!(g.len(), f.len() + 5);
        assert_eq!(g[ETH + 8], 3);
        assert_eq!(&g[g.len() - 5..], b"hello");
        assert_checksums(g);
        // IPv6: the hop limit and the payload length.
        let f6 = syn("2001:db8::1", "2001:db8::2");
        let (g6, _) = &frames(&s, &f6)[0];
        assert_eq!(g6[ETH + 7], 3);
        assert_eq!(u16::from_be_bytes([g6[ETH + 4], g6[ETH + 5]]) as usize, 20 + 4 + 5);
        assert_checksums(g6);
    }

    #[test]
    fn udp_data_replaces_the_payload() {
        let f = udp(b"original payload");
        let s = Shaping { data: Some(vec![0xab; 3]), ..Shaping::default() };
        let (g, _) = &frames(&s, &f)[0];
        let l4 = &g[ETH + 20..];
        assert_eq!(l4.len(), 11);
        assert_eq!(u16::from_be_bytes([l4[4], l4[5]]), 11);
        assert_eq!(&l4[8..], &[0xab; 3]);
        assert_checksums(g);
    }

    #[test]
    fn badsum_is_always_wrong() {
        for dport in 0..2000u16 {
            let mut f = syn("198.18.0.1", "198.18.0.2");
            f[ETH + 22..ETH + 24].copy_from_slice(&dport.to_be_bytes());
            let s = Shaping { badsum: true, ..Shaping::default() };
            let (g, _) = &frames(&s, &f)[0];
            let l4 = &g[ETH + 20..];
            let pseudo = checksum::pseudo_header(
                "198.18.0.1".parse().unwrap(),
                "198.18.0.2".parse().unwrap(),
                TCP,
                l4.len() as u32,
            );
            assert!(!checksum::verify(pseudo, l4), "port {dport}");
        }
        let s = Shaping { badsum: true, ..Shaping::default() };
        let (g, _) = &frames(&s, &udp(b"x"))[0];
        assert_ne!(&g[ETH + 26..ETH + 28], &[0, 0], "never UDP's no-checksum");
    }

    #[test]
    fn options_are_padded_and_the_header_grows() {
        let f = syn("198.18.0.1", "198.18.0.2");
        // Record route with room for one address: 7 bytes, padded to 8.
        let s = Shaping { ip_options: vec![7, 7, 4, 0, 0, 0, 0], ..Shaping::default() };
        let (g, _) = &frames(&s, &f)[0];
        assert_eq!(g[ETH] & 0x0f, 7, "IHL 28 bytes");
        assert_eq!(&g[ETH + 20..ETH + 28], &[7, 7, 4, 0, 0, 0, 0, 0]);
        assert_eq!(g.len(), f.len() + 8);
        assert_checksums(g);
    }

    #[test]
    fn fragments_carry_eight_bytes_each_and_reassemble() {
        let f = syn("198.18.0.1", "198.18.0.2");
        let s = Shaping { fragment: Some(8), ip_options: vec![0x83, 7, 4, 0, 0, 0, 0], ..Shaping::default() };
        let out = frames(&s, &f);
        // A 24-byte TCP header (with its MSS option) in three fragments.
        assert_eq!(out.len(), 3);
        let mut whole = Vec::new();
        for (i, (g, mine)) in out.iter().enumerate() {
            assert!(mine);
            let ip = &g[ETH..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            assert_eq!(ihl, 28, "loose source route is copied into every fragment");
            let word = u16::from_be_bytes([ip[6], ip[7]]);
            assert_eq!(usize::from(word & 0x1fff) * 8, i * 8);
            assert_eq!(word & 0x2000 != 0, i < 2, "more fragments");
            assert_eq!(checksum::fold(checksum::sum(&ip[..ihl])), 0xffff);
            whole.extend_from_slice(&ip[ihl..usize::from(u16::from_be_bytes([ip[2], ip[3]]))]);
        }
        assert_eq!(whole, f[ETH + 20..].to_vec());
        // Record route (not copied) stays in the first fragment only.
        let s = Shaping { fragment: Some(8), ip_options: vec![7, 3, 4], ..Shaping::default() };
        let out = frames(&s, &f);
        assert_eq!(out[0].0[ETH] & 0x0f, 6);
        assert_eq!(out[1].0[ETH] & 0x0f, 5);
    }

    #[test]
    fn decoys_send_a_copy_from_each_address_ours_where_me_is() {
        let f = syn("198.18.0.1", "198.18.0.2");
        let decoys: Vec<IpAddr> =
            ["198.18.0.77", "198.18.0.78", "2001:db8::9"].iter().map(|a| a.parse().unwrap()).collect();
        let s = Shaping { decoys, me_at: 1, ..Shaping::default() };
        let out = frames(&s, &f);
        let srcs: Vec<(String, bool)> = out
            .iter()
            .map(|(g, mine)| {
                (std::net::Ipv4Addr::new(g[ETH + 12], g[ETH + 13], g[ETH + 14], g[ETH + 15]).to_string(), *mine)
            })
            .collect();
        assert_eq!(
            srcs,
            vec![("198.18.0.77".into(), false), ("198.18.0.1".into(), true), ("198.18.0.78".into(), false)],
            "the IPv6 decoy is not used for an IPv4 probe"
        );
        for (g, _) in &out {
            assert_checksums(g);
        }
    }

    #[test]
    fn ipv6_refuses_options_and_fragments_and_garbage_is_not_shaped() {
        let f6 = syn("2001:db8::1", "2001:db8::2");
        assert_eq!(Shaping { fragment: Some(8), ..Shaping::default() }.shape(&f6, &mut |_, _| {}), 0);
        assert_eq!(Shaping { ip_options: vec![1], ..Shaping::default() }.shape(&f6, &mut |_, _| {}), 0);
        for junk in [&[][..], &[0u8; 13]] {
            assert_eq!(Shaping { ttl: Some(1), ..Shaping::default() }.shape(junk, &mut |_, _| {}), 0);
        }
        // Not IP (an ARP request, or bytes of no known type): sent as it is, once, as ours.
        let arp = [0xffu8; 60];
        let s = Shaping { ttl: Some(1), decoys: vec!["198.18.0.9".parse().unwrap()], ..Shaping::default() };
        assert_eq!(frames(&s, &arp), vec![(arp.to_vec(), true)]);
    }
}
