//! A seeded pseudo-random permutation of `0..n`, computed one index at a time.
//!
//! Scans visit their probes in `order.get(i)` for `i` in `0..n`: the order looks random (it spreads load
//! and dodges naive sequential-scan detection), is reproducible from `--seed`, and costs no memory, so a
//! /8 times 1000 ports needs no table. `-r` uses [`Permutation::identity`].
//!
//! Construction: a balanced Feistel network over the smallest even number of bits covering `n`, with a
//! keyed SipHash round function, plus cycle-walking (re-encrypt until the value falls below `n`). A Feistel
//! network is a bijection whatever its round function, and cycle-walking keeps it one on `0..n`. The domain
//! is less than 4n, so the expected number of walks is below 4.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

const ROUNDS: u32 = 4;

/// A bijection on `0..n`. See the module docs.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    half_bits: u32,
    key: [u64; 2],
    identity: bool,
}

impl Permutation {
    /// A keyed permutation of `0..n`; the same `(n, seed)` gives the same order.
    pub fn new(n: u64, seed: u64) -> Self {
        let bits = if n <= 1 { 2 } else { 64 - (n - 1).leading_zeros() };
        let half_bits = bits.div_ceil(2).max(1);
        // Spread the seed into two key words (splitmix64), so seeds 1 and 2 give unrelated keys.
        let k0 = splitmix64(seed);
        let k1 = splitmix64(k0 ^ 0x9e37_79b9_7f4a_7c15);
        Permutation { n, half_bits, key: [k0, k1], identity: false }
    }

    /// The order `0, 1, 2, ...` (for `-r`).
    pub fn identity(n: u64) -> Self {
        Permutation { n, half_bits: 1, key: [0, 0], identity: true }
    }

    /// Whether this is the order `0, 1, 2, ...` (`-r`).
    pub fn is_identity(&self) -> bool {
        self.identity
    }

    /// The size of the domain.
    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The `i`-th element of the order. Panics if `i >= len()` (a caller bug, not a runtime condition).
    pub fn get(&self, i: u64) -> u64 {
        assert!(i < self.n, "permutation index {i} out of range 0..{}", self.n);
        if self.identity {
            return i;
        }
        let mut x = i;
        loop {
            x = self.encrypt(x);
            if x < self.n {
                return x;
            }
        }
    }

    /// The inverse of [`Permutation::get`]: the index `i` with `get(i) == value`. Panics if `value >= len()`
    /// (a caller bug). Decrypting walks the cycle backwards, so this costs what `get` does.
    pub fn position(&self, value: u64) -> u64 {
        assert!(value < self.n, "permutation value {value} out of range 0..{}", self.n);
        if self.identity {
            return value;
        }
        let mut x = value;
        loop {
            x = self.decrypt(x);
            if x < self.n {
                return x;
            }
        }
    }

    /// Iterates the whole order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.n).map(|i| self.get(i))
    }

    fn encrypt(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = x >> self.half_bits;
        let mut right = x & mask;
        for round in 0..ROUNDS {
            let f = self.round(round, right) & mask;
            let next = left ^ f;
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    fn decrypt(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let mut left = x >> self.half_bits;
        let mut right = x & mask;
        for round in (0..ROUNDS).rev() {
            let previous = right ^ (self.round(round, left) & mask);
            right = left;
            left = previous;
        }
        (left << self.half_bits) | right
    }

    fn round(&self, round: u32, value: u64) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key[0], self.key[1]);
        h.write_u32(round);
        h.write_u64(value);
        h.finish()
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_bijection(p: &Permutation) -> bool {
        let mut seen = vec![false; p.len() as usize];
        for v in p.iter() {
            if seen[v as usize] {
                return false;
            }
            seen[v as usize] = true;
        }
        seen.iter().all(|&s| s)
    }

    #[test]
    fn bijection_for_many_sizes() {
        for n in [0u64, 1, 2, 3, 4, 5, 7, 8, 9, 100, 1000, 1023, 1024, 1025, 65535, 65536, 100_003] {
            for seed in [0, 1, 42] {
                assert!(is_bijection(&Permutation::new(n, seed)), "n={n} seed={seed}");
            }
        }
    }

    #[test]
    fn same_seed_same_order_other_seed_other_order() {
        let a: Vec<_> = Permutation::new(1000, 7).iter().collect();
        let b: Vec<_> = Permutation::new(1000, 7).iter().collect();
        let c: Vec<_> = Permutation::new(1000, 8).iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn looks_shuffled() {
        let order: Vec<_> = Permutation::new(65535, 1).iter().take(100).collect();
        let in_place = order.iter().enumerate().filter(|(i, v)| *i as u64 == **v).count();
        assert!(in_place < 5, "too many fixed points: {in_place}");
        let ascending = order.windows(2).filter(|w| w[0] < w[1]).count();
        assert!((25..75).contains(&ascending), "ascending pairs {ascending} of 99");
    }

    #[test]
    fn position_inverts_get() {
        for n in [1u64, 2, 3, 5, 1000, 65_537] {
            for seed in [0, 9] {
                let p = Permutation::new(n, seed);
                for i in (0..n).step_by((n as usize / 200).max(1)) {
                    assert_eq!(p.position(p.get(i)), i, "n={n} seed={seed} i={i}");
                }
            }
        }
        let p = Permutation::identity(4);
        assert_eq!(p.position(3), 3);
    }

    #[test]
    fn identity_is_in_order() {
        let order: Vec<_> = Permutation::identity(5).iter().collect();
        assert_eq!(order, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn large_domain_is_lazy() {
        // A /8 times 1000 ports: no table, values stay in range.
        let p = Permutation::new((1 << 24) * 1000, 3);
        for i in (0..p.len()).step_by(1 << 30) {
            assert!(p.get(i) < p.len());
        }
    }
}
