//! Seeded choice of random ports, for ground truth like "300 open among 65535", without a
//! random-number crate.

/// `k` distinct ports from 1..=65535, none in `exclude`, chosen by `seed`: the same seed
/// always gives the same ports. Sorted ascending. Fewer than `k` come back only when fewer
/// are available.
pub fn random_ports(k: usize, seed: u64, exclude: &[u16]) -> Vec<u16> {
    let mut excluded = vec![false; 1 << 16];
    for &port in exclude {
        excluded[usize::from(port)] = true;
    }
    let mut pool: Vec<u16> = (1..=u16::MAX).filter(|&p| !excluded[usize::from(p)]).collect();
    let k = k.min(pool.len());
    let mut rng = XorShift::new(seed);
    // Partial Fisher-Yates: the first k slots become a uniform sample.
    for i in 0..k {
        let span = (pool.len() - i) as u64;
        let j = i + (rng.next() % span) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool.sort_unstable();
    pool
}

/// xorshift64* seeded through splitmix64, so seed 0 and nearby seeds work as well as any.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(if z == 0 { 1 } else { z })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_ports() {
        assert_eq!(random_ports(300, 7, &[]), random_ports(300, 7, &[]));
        assert_ne!(random_ports(300, 7, &[]), random_ports(300, 8, &[]));
    }

    #[test]
    fn distinct_sorted_nonzero_and_excluded() {
        let exclude = [22, 80, 443];
        let ports = random_ports(2000, 0, &exclude);
        assert_eq!(ports.len(), 2000);
        assert!(ports.windows(2).all(|w| w[0] < w[1]));
        assert!(!ports.contains(&0));
        assert!(ports.iter().all(|p| !exclude.contains(p)));
    }

    #[test]
    fn asks_for_more_than_exist() {
        let exclude: Vec<u16> = (1..=65530).collect();
        assert_eq!(random_ports(10, 1, &exclude), vec![65531, 65532, 65533, 65534, 65535]);
    }

    #[test]
    fn spreads_over_the_range() {
        let ports = random_ports(300, 42, &[]);
        assert!(ports.iter().any(|&p| p < 10_000));
        assert!(ports.iter().any(|&p| p > 55_000));
    }
}
