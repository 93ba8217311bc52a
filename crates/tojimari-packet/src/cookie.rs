//! Per-scan secrets for stateless reply validation.
//!
//! Each probe carries 32 bits of a keyed SipHash-1-3 over its address/port 4-tuple (in the TCP sequence or
//! acknowledgment number, see [`crate::Probing::probe_seq_ack`]). A reply, or the probe quoted inside an ICMP
//! error, is accepted only if it echoes the cookie recomputed from its own 4-tuple, so the receiver needs no
//! table of outstanding probes and blind spoofers cannot forge answers without the key.

use siphasher::sip::SipHasher13;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;

/// Per-scan secret for stateless reply validation (SipHash-1-3 keyed).
#[derive(Clone, Copy, Debug)]
pub struct CookieKey {
    k0: u64,
    k1: u64,
}

/// SplitMix64's finaliser: spreads every input bit over the output, so nearby seeds give unrelated keys.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl CookieKey {
    /// A key derived deterministically from `seed` (for `--seed` and reproducible tests).
    pub fn new(seed: u64) -> Self {
        let k0 = mix(seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
        let k1 = mix(k0 ^ seed.wrapping_add(0x3c6e_f372_fe94_f82a));
        CookieKey { k0, k1 }
    }

    /// A fresh key from the time, the process id, a stack address and std's per-process random hasher seed.
    pub fn random() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let local = 0u8;
        let stack = &local as *const u8 as usize as u64;
        // `RandomState` is seeded from the operating system's random source once per process.
        let os = std::collections::hash_map::RandomState::new().hash_one(stack);
        let seed = mix(now as u64 ^ ((now >> 64) as u64)) ^ mix(u64::from(std::process::id()) << 17) ^ mix(stack) ^ os;
        let mut key = Self::new(seed);
        key.k1 ^= mix(os.rotate_left(29));
        key
    }

    /// Keyed hash of the probe's (scanner addr, target addr, scanner port, target port), 32 bits.
    pub fn cookie(&self, ours: IpAddr, theirs: IpAddr, our_port: u16, their_port: u16) -> u32 {
        // Fixed layout: family tag, two 16-byte address slots, two ports. No length ambiguity between families.
        let mut buf = [0u8; 37];
        let put = |slot: &mut [u8], a: IpAddr| match a {
            IpAddr::V4(a) => slot[..4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => slot.copy_from_slice(&a.octets()),
        };
        buf[0] = match (ours, theirs) {
            (IpAddr::V4(_), IpAddr::V4(_)) => 4,
            (IpAddr::V6(_), IpAddr::V6(_)) => 6,
            _ => 46,
        };
        put(&mut buf[1..17], ours);
        put(&mut buf[17..33], theirs);
        buf[33..35].copy_from_slice(&our_port.to_be_bytes());
        buf[35..37].copy_from_slice(&their_port.to_be_bytes());
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        h.write(&buf);
        let x = h.finish();
        (x ^ (x >> 32)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn deterministic_from_seed() {
        let (k1, k2) = (CookieKey::new(42), CookieKey::new(42));
        assert_eq!(k1.cookie(A, B, 40000, 80), k2.cookie(A, B, 40000, 80));
        assert_ne!(CookieKey::new(42).cookie(A, B, 40000, 80), CookieKey::new(43).cookie(A, B, 40000, 80));
    }

    #[test]
    fn sensitive_to_every_field() {
        let k = CookieKey::new(7);
        let base = k.cookie(A, B, 40000, 80);
        assert_ne!(base, k.cookie(B, A, 40000, 80));
        assert_ne!(base, k.cookie(A, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3)), 40000, 80));
        assert_ne!(base, k.cookie(A, B, 40001, 80));
        assert_ne!(base, k.cookie(A, B, 40000, 81));
        assert_ne!(base, k.cookie(A, B, 80, 40000));
        let v6a = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        let v6b = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 2).to_ipv6_mapped());
        assert_ne!(base, k.cookie(v6a, v6b, 40000, 80));
        assert_ne!(k.cookie(IpAddr::V6(Ipv6Addr::LOCALHOST), v6b, 1, 2), k.cookie(v6a, v6b, 1, 2));
    }

    #[test]
    fn spreads_over_ports() {
        let k = CookieKey::new(1);
        let mut seen: Vec<u32> = (0..4096).map(|p| k.cookie(A, B, 40000, p)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert!(seen.len() >= 4094, "too many collisions: {}", 4096 - seen.len());
    }

    #[test]
    fn random_keys_differ() {
        let (a, b) = (CookieKey::random(), CookieKey::random());
        assert_ne!(a.cookie(A, B, 1, 2), b.cookie(A, B, 1, 2));
    }
}
