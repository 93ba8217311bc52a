//! Probe templates: a TCP probe frame built once per (technique, source, link) with the full builder, then
//! copied and patched per probe. Only what differs between probes is written (destination address, ports,
//! sequence and acknowledgement numbers, IPv4 identification), and both checksums are updated
//! incrementally (RFC 1624: `HC' = ~(~HC + ~m + m')` over each changed 16-bit word) instead of summed
//! over the whole header again. No allocation, no branch on the technique: the flags, window, TTL and
//! options stay as the template has them.

use std::net::IpAddr;

use super::{L2, TcpProbe, build_tcp};
use tojimari_wire::{ethernet, ipv4, ipv6};

/// Room for the largest TCP probe frame (Ethernet + IPv6 + TCP with its MSS option).
const MAX_TCP_FRAME: usize = 96;
const ETH: usize = ethernet::HEADER_LEN;

/// A TCP probe frame to patch. See the module docs.
#[derive(Clone, Debug)]
pub struct TcpTemplate {
    frame: [u8; MAX_TCP_FRAME],
    len: usize,
    v6: bool,
    /// Where the TCP header starts.
    tcp: usize,
}

/// Fields patched per probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFields {
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub ip_id: u16,
}

impl TcpTemplate {
    /// The template of `probe`'s kind (flags, window, TTL, source) on `l2`; its own destination and
    /// varying fields are only a starting point that every [`TcpTemplate::write`] replaces. `None` if the
    /// builder refuses the probe (mixed address families).
    pub fn new(l2: &L2, probe: &TcpProbe) -> Option<TcpTemplate> {
        let mut frame = [0u8; MAX_TCP_FRAME];
        let len = build_tcp(&mut frame, l2, probe);
        if len == 0 {
            return None;
        }
        let v6 = probe.src.is_ipv6();
        let tcp = ETH + if v6 { ipv6::HEADER_LEN } else { ipv4::HEADER_LEN };
        Some(TcpTemplate { frame, len, v6, tcp })
    }

    /// Whether the template is IPv6.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// Writes the probe with `f` into `buf` and returns its length; 0 if `buf` is too short or `f.dst` is
    /// of the other address family.
    pub fn write(&self, buf: &mut [u8], f: &TcpFields) -> usize {
        let Some(out) = buf.get_mut(..self.len) else { return 0 };
        out.copy_from_slice(&self.frame[..self.len]);
        let t = self.tcp;
        let mut tcp_sum = Sum::default();
        match (f.dst, self.v6) {
            (IpAddr::V4(dst), false) => {
                let mut ip_sum = Sum::default();
                ip_sum.replace(out, ETH + 4, &f.ip_id.to_be_bytes());
                let octets = dst.octets();
                ip_sum.replace_words(out, ETH + 16, &octets);
                tcp_sum.add_diff(&self.frame[ETH + 16..ETH + 20], &octets);
                let csum = ETH + 10;
                ip_sum.apply(out, csum);
            }
            (IpAddr::V6(dst), true) => {
                let octets = dst.octets();
                tcp_sum.replace_words(out, ETH + 24, &octets);
            }
            _ => return 0,
        }
        tcp_sum.replace(out, t, &f.sport.to_be_bytes());
        tcp_sum.replace(out, t + 2, &f.dport.to_be_bytes());
        tcp_sum.replace_words(out, t + 4, &f.seq.to_be_bytes());
        tcp_sum.replace_words(out, t + 8, &f.ack.to_be_bytes());
        tcp_sum.apply(out, t + 16);
        self.len
    }
}

/// A running ones'-complement sum of changes, `~m + m'` per changed 16-bit word.
#[derive(Default)]
struct Sum(u32);

impl Sum {
    /// Adds the change from the words `old` to the words `new` (same even length).
    fn add_diff(&mut self, old: &[u8], new: &[u8]) {
        for (o, n) in old.chunks_exact(2).zip(new.chunks_exact(2)) {
            let (o, n) = (u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([n[0], n[1]]));
            self.0 += u32::from(!o) + u32::from(n);
        }
    }

    /// Writes `new` (an even number of bytes) at `at` in `buf` and adds the change.
    fn replace(&mut self, buf: &mut [u8], at: usize, new: &[u8]) {
        let old = [buf[at], buf[at + 1]];
        self.add_diff(&old, new);
        buf[at..at + 2].copy_from_slice(new);
    }

    /// As [`Sum::replace`] for several words.
    fn replace_words(&mut self, buf: &mut [u8], at: usize, new: &[u8]) {
        for (i, word) in new.chunks_exact(2).enumerate() {
            self.replace(buf, at + 2 * i, word);
        }
    }

    /// Updates the checksum stored at `at` in `buf` by the changes summed (RFC 1624, eqn. 3).
    fn apply(&self, buf: &mut [u8], at: usize) {
        let old = u16::from_be_bytes([buf[at], buf[at + 1]]);
        let mut sum = u32::from(!old) + self.0;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        buf[at..at + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::MAX_FRAME;
    use crate::build::check::assert_checksums;
    use crate::tcp::{ACK, FIN, PSH, SYN, URG};
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

    fn probe(src: IpAddr, dst: IpAddr, flags: u8, f: &TcpFields) -> TcpProbe {
        TcpProbe {
            src,
            dst,
            sport: f.sport,
            dport: f.dport,
            seq: f.seq,
            ack: f.ack,
            flags,
            window: 1024,
            ttl: 64,
            ip_id: f.ip_id,
        }
    }

    proptest! {
        /// A patched template is byte for byte the frame the full builder writes for the same probe.
        #[test]
        fn patched_equals_built(
            v6 in any::<bool>(), dst4 in any::<u32>(), dst6 in any::<u128>(),
            sport in any::<u16>(), dport in any::<u16>(), seq in any::<u32>(), ack in any::<u32>(),
            ip_id in any::<u16>(), flags in prop::sample::select(vec![SYN, ACK, FIN, 0, FIN | PSH | URG, SYN | ACK]),
        ) {
            let (src, dst): (IpAddr, IpAddr) = if v6 {
                (Ipv6Addr::from(0x2001_0db8_u128 << 96 | 1).into(), Ipv6Addr::from(dst6).into())
            } else {
                (Ipv4Addr::new(198, 18, 0, 1).into(), Ipv4Addr::from(dst4).into())
            };
            let start = TcpFields { dst: if v6 { "2001:db8::2".parse().unwrap() } else { "198.18.0.2".parse().unwrap() }, sport: 61000, dport: 1, seq: 7, ack: 0, ip_id: 0 };
            let template = TcpTemplate::new(&L, &probe(src, start.dst, flags, &start)).unwrap();
            let f = TcpFields { dst, sport, dport, seq, ack, ip_id };
            let mut patched = [0u8; MAX_FRAME];
            let mut built = [0u8; MAX_FRAME];
            let n = template.write(&mut patched, &f);
            let m = build_tcp(&mut built, &L, &probe(src, dst, flags, &f));
            prop_assert_eq!(n, m);
            prop_assert_eq!(&patched[..n], &built[..m]);
            assert_checksums(&patched[..n]);
        }
    }

    #[test]
    fn wrong_family_or_short_buffer_writes_nothing() {
        let f = TcpFields { dst: "198.18.0.2".parse().unwrap(), sport: 1, dport: 2, seq: 3, ack: 4, ip_id: 5 };
        let t = TcpTemplate::new(&L, &probe("198.18.0.1".parse().unwrap(), f.dst, SYN, &f)).unwrap();
        assert_eq!(t.write(&mut [0u8; 20], &f), 0);
        let v6 = TcpFields { dst: "2001:db8::2".parse().unwrap(), ..f };
        assert_eq!(t.write(&mut [0u8; MAX_FRAME], &v6), 0);
        assert!(TcpTemplate::new(&L, &probe("198.18.0.1".parse().unwrap(), v6.dst, SYN, &f)).is_none());
    }
}
