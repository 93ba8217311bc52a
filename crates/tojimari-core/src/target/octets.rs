//! IPv4 octet ranges (`198.18.0,2.1-20`, `198.18.*.1`): a cartesian product of four sets of octets.
//!
//! Each octet is a comma list of `N`, `N-M`, `-M` (0..=M), `N-` (N..=255), `-` or `*` (0..=255). The
//! addresses are the product of the four sets in ascending order, so the address at an index is a
//! mixed-radix decomposition of the index: nothing is ever materialised.

use std::fmt;
use std::net::Ipv4Addr;

use super::TargetError;

/// Four sets of octets; the addresses are their cartesian product, in ascending order.
///
/// Each set is a sorted list of disjoint, non-adjacent inclusive `(lo, hi)` ranges (so equal sets compare
/// equal however they were written) and is never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OctetRange {
    octets: [Vec<(u8, u8)>; 4],
}

/// What the octet syntax parsed to: one address, or a real range.
#[derive(Debug)]
pub(crate) enum Parsed {
    Single(Ipv4Addr),
    Range(OctetRange),
}

impl OctetRange {
    /// Parses `host` (the text before any `/`) as IPv4 octet syntax; `target` is the whole input, for errors.
    pub(crate) fn parse(target: &str, host: &str) -> Result<Parsed, TargetError> {
        let invalid = |reason: String| TargetError::InvalidIpv4 { target: target.to_owned(), reason };
        let parts: Vec<&str> = host.split('.').collect();
        if parts.len() != 4 {
            return Err(invalid(format!("expected 4 octets, found {}", parts.len())));
        }
        let mut octets: [Vec<(u8, u8)>; 4] = Default::default();
        for (set, part) in octets.iter_mut().zip(&parts) {
            for item in part.split(',') {
                set.push(parse_item(target, item)?);
            }
            normalise(set);
        }
        if octets.iter().all(|set| matches!(set[..], [(lo, hi)] if lo == hi)) {
            let [a, b, c, d] = octets.map(|set| set[0].0);
            return Ok(Parsed::Single(Ipv4Addr::new(a, b, c, d)));
        }
        Ok(Parsed::Range(OctetRange { octets }))
    }

    /// The four sets, each sorted, merged and non-empty.
    pub fn octets(&self) -> &[Vec<(u8, u8)>; 4] {
        &self.octets
    }

    /// The number of addresses (at most 2^32).
    pub fn len(&self) -> u64 {
        (0..4).map(|p| u64::from(self.count(p))).product()
    }

    /// Always false: every octet set holds at least one value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `addr` is one of the addresses.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        addr.octets().iter().enumerate().all(|(p, &v)| self.has(p, v))
    }

    /// The `index`-th address in ascending order, if `index < len()`.
    pub fn get(&self, index: u64) -> Option<Ipv4Addr> {
        if index >= self.len() {
            return None;
        }
        let mut rest = index;
        let mut out = [0u8; 4];
        for p in (0..4).rev() {
            let count = u64::from(self.count(p));
            out[p] = self.nth_value(p, (rest % count) as u32);
            rest /= count;
        }
        Some(Ipv4Addr::from(out))
    }

    /// The index of the smallest address that is `>= addr`, if there is one.
    pub(crate) fn ceil_index(&self, addr: u32) -> Option<u64> {
        let t = addr.to_be_bytes();
        // The first octet that is not in its set; everything before it can be kept as it is.
        let Some(miss) = (0..4).find(|&p| !self.has(p, t[p])) else {
            return Some(self.index_of(t));
        };
        // Raise octet `p` to the next member (strictly above for octets that matched, since keeping them
        // failed further right) and put the minimum everywhere after it; back off leftwards if impossible.
        for p in (0..=miss).rev() {
            let want = u16::from(t[p]) + u16::from(p != miss);
            if let Some(v) = self.first_at_least(p, want) {
                let mut out = t;
                out[p] = v;
                for (q, slot) in out.iter_mut().enumerate().skip(p + 1) {
                    *slot = self.octets[q][0].0;
                }
                return Some(self.index_of(out));
            }
        }
        None
    }

    /// The contiguous runs of addresses as inclusive `(start, end)` pairs in order, or `None` if there are
    /// more than `limit` of them (`*.*.*.1` is 2^24 runs of one address).
    pub(crate) fn runs(&self, limit: u64) -> Option<Vec<(u32, u32)>> {
        let Some(k) = self.last_partial_octet() else {
            return Some(vec![(0, u32::MAX)]);
        };
        let prefixes: u64 = (0..k).map(|p| u64::from(self.count(p))).product();
        if prefixes.saturating_mul(self.octets[k].len() as u64) > limit {
            return None;
        }
        let (shift, low_mask) = octet_shift(k);
        let mut runs = Vec::new();
        for i in 0..prefixes {
            // Decompose `i` over the sets before `k`, as `get` does over all four.
            let mut rest = i;
            let mut base = 0u32;
            for p in (0..k).rev() {
                let count = u64::from(self.count(p));
                base |= u32::from(self.nth_value(p, (rest % count) as u32)) << octet_shift(p).0;
                rest /= count;
            }
            for &(lo, hi) in &self.octets[k] {
                runs.push((base | u32::from(lo) << shift, base | u32::from(hi) << shift | low_mask));
            }
        }
        Some(runs)
    }

    /// The last address of the contiguous run holding `addr`, if `addr` is one of the addresses.
    pub(crate) fn run_end(&self, addr: u32) -> Option<u32> {
        if !self.contains(Ipv4Addr::from(addr)) {
            return None;
        }
        let Some(k) = self.last_partial_octet() else {
            return Some(u32::MAX);
        };
        let (shift, low_mask) = octet_shift(k);
        let v = addr.to_be_bytes()[k];
        let hi = self.octets[k].iter().find(|&&(lo, hi)| lo <= v && v <= hi).map_or(v, |r| r.1);
        let above = if k == 0 { 0 } else { addr & !((1u32 << (shift + 8)) - 1) };
        Some(above | u32::from(hi) << shift | low_mask)
    }

    /// The last octet whose set is not all of 0-255: the octets after it vary freely inside a run.
    fn last_partial_octet(&self) -> Option<usize> {
        (0..4).rev().find(|&p| self.octets[p] != [(0, 255)])
    }

    fn count(&self, p: usize) -> u32 {
        self.octets[p].iter().map(|&(lo, hi)| u32::from(hi) - u32::from(lo) + 1).sum()
    }

    fn has(&self, p: usize, v: u8) -> bool {
        self.octets[p].iter().any(|&(lo, hi)| lo <= v && v <= hi)
    }

    /// The `k`-th smallest value of set `p`; `k < count(p)`.
    fn nth_value(&self, p: usize, mut k: u32) -> u8 {
        for &(lo, hi) in &self.octets[p] {
            let size = u32::from(hi) - u32::from(lo) + 1;
            if k < size {
                return lo + k as u8;
            }
            k -= size;
        }
        unreachable!("nth_value called with k >= count")
    }

    /// How many values of set `p` are below `v`.
    fn rank(&self, p: usize, v: u8) -> u32 {
        self.octets[p]
            .iter()
            .take_while(|&&(lo, _)| lo < v)
            .map(|&(lo, hi)| u32::from(hi.min(v - 1)) - u32::from(lo) + 1)
            .sum()
    }

    fn first_at_least(&self, p: usize, v: u16) -> Option<u8> {
        self.octets[p].iter().find(|&&(_, hi)| u16::from(hi) >= v).map(|&(lo, _)| lo.max(v as u8))
    }

    /// The index of `octets`, each of which must be a member of its set.
    fn index_of(&self, octets: [u8; 4]) -> u64 {
        (0..4).fold(0, |acc, p| acc * u64::from(self.count(p)) + u64::from(self.rank(p, octets[p])))
    }
}

impl fmt::Display for OctetRange {
    /// The canonical form: `198.18.0,2.1-20`, with `*` for a whole octet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (p, set) in self.octets.iter().enumerate() {
            if p > 0 {
                f.write_str(".")?;
            }
            for (i, &(lo, hi)) in set.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                match (lo, hi) {
                    (0, 255) => f.write_str("*")?,
                    _ if lo == hi => write!(f, "{lo}")?,
                    _ => write!(f, "{lo}-{hi}")?,
                }
            }
        }
        Ok(())
    }
}

/// The bit position of octet `p` in a `u32` address, and the mask of the bits below it.
fn octet_shift(p: usize) -> (u32, u32) {
    let shift = 24 - 8 * p as u32;
    (shift, if shift == 0 { 0 } else { (1u32 << shift) - 1 })
}

/// One comma-separated item of an octet: `N`, `N-M`, `-M`, `N-`, `-` or `*`.
fn parse_item(target: &str, item: &str) -> Result<(u8, u8), TargetError> {
    if item == "*" {
        return Ok((0, 255));
    }
    let (lo, hi) = match item.split_once('-') {
        // An open end means the edge of the octet: `-9` is 0-9, `250-` is 250-255.
        Some((lo, hi)) => (parse_end(target, lo, 0)?, parse_end(target, hi, 255)?),
        None => {
            let v = parse_octet(target, item)?;
            (v, v)
        }
    };
    if lo > hi {
        return Err(TargetError::ReversedRange { target: target.to_owned(), range: item.to_owned() });
    }
    Ok((lo, hi))
}

fn parse_end(target: &str, text: &str, open: u8) -> Result<u8, TargetError> {
    if text.is_empty() { Ok(open) } else { parse_octet(target, text) }
}

fn parse_octet(target: &str, text: &str) -> Result<u8, TargetError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        let reason = if text.is_empty() { "empty octet".to_owned() } else { format!("bad octet {text:?}") };
        return Err(TargetError::InvalidIpv4 { target: target.to_owned(), reason });
    }
    // All digits, so the only way to fail is being too big (including overflowing u32).
    text.parse::<u8>().map_err(|_| TargetError::OctetOutOfRange { target: target.to_owned(), octet: text.to_owned() })
}

/// Sorts a set and merges overlapping or adjacent ranges, so each set has one canonical form.
fn normalise(set: &mut Vec<(u8, u8)>) {
    set.sort_unstable();
    let mut merged: Vec<(u8, u8)> = Vec::with_capacity(set.len());
    for &(lo, hi) in set.iter() {
        match merged.last_mut() {
            Some(last) if u16::from(lo) <= u16::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    *set = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> OctetRange {
        match OctetRange::parse(s, s).unwrap() {
            Parsed::Range(r) => r,
            Parsed::Single(a) => panic!("{s} parsed to the single address {a}"),
        }
    }

    fn all(r: &OctetRange) -> Vec<Ipv4Addr> {
        (0..r.len()).map(|i| r.get(i).unwrap()).collect()
    }

    #[test]
    fn item_forms() {
        let r = range("198.18.0.1-20");
        assert_eq!(r.octets()[3], [(1, 20)]);
        assert_eq!(range("198.18.0.-9").octets()[3], [(0, 9)]);
        assert_eq!(range("198.18.0.250-").octets()[3], [(250, 255)]);
        assert_eq!(range("198.18.0.*").octets()[3], [(0, 255)]);
        assert_eq!(range("198.18.0.-").octets()[3], [(0, 255)]);
        assert_eq!(range("198.18.0,2.1").octets()[2], [(0, 0), (2, 2)]);
    }

    #[test]
    fn sets_are_sorted_and_merged() {
        let r = range("198.18.9,1-3,2,4,7-8.1");
        assert_eq!(r.octets()[2], [(1, 4), (7, 9)]);
        assert_eq!(range("198.18.0-3.1"), range("198.18.3,2,1,0.1"));
        assert_eq!(range("198.18.0.0-255"), range("198.18.0.*"));
    }

    #[test]
    fn all_single_values_is_an_address() {
        assert!(matches!(
            OctetRange::parse("x", "198.18.0.1").unwrap(),
            Parsed::Single(a) if a == Ipv4Addr::new(198, 18, 0, 1)
        ));
        assert!(matches!(OctetRange::parse("x", "198.18.0.1-1,1").unwrap(), Parsed::Single(_)));
    }

    #[test]
    fn order_is_ascending_cartesian_product() {
        let r = range("198.18.0,2.1-2");
        let want: Vec<Ipv4Addr> =
            ["198.18.0.1", "198.18.0.2", "198.18.2.1", "198.18.2.2"].iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(all(&r), want);
        assert_eq!(r.len(), 4);
        assert_eq!(r.get(4), None);
        // Written out of order, iterated in order.
        assert_eq!(all(&range("198.18.0.5,1,3")), all(&range("198.18.0.1,3,5")));
    }

    #[test]
    fn len_of_wildcards() {
        assert_eq!(range("*.*.*.*").len(), 1 << 32);
        assert_eq!(range("198.18.*.*").len(), 65536);
        assert_eq!(range("198.18.0-3.1,5").len(), 8);
        assert_eq!(range("*.*.*.*").get((1 << 32) - 1), Some(Ipv4Addr::BROADCAST));
    }

    #[test]
    fn contains_checks_every_octet() {
        let r = range("198.18.0-3.1,5");
        assert!(r.contains(Ipv4Addr::new(198, 18, 2, 5)));
        assert!(!r.contains(Ipv4Addr::new(198, 18, 4, 5)));
        assert!(!r.contains(Ipv4Addr::new(198, 18, 2, 2)));
    }

    #[test]
    fn ceil_index_agrees_with_a_linear_search() {
        for spec in ["198.18.0,2.1-2", "198.18.1-3,9.*", "10,198.18,20.0.5-9,200", "*.1.2.3"] {
            let r = range(spec);
            let members: Vec<u32> = (0..r.len()).map(|i| u32::from(r.get(i).unwrap())).collect();
            let probes = [0, u32::from(Ipv4Addr::new(198, 18, 0, 0)), u32::MAX]
                .into_iter()
                .chain(members.iter().flat_map(|&m| [m.wrapping_sub(1), m, m.wrapping_add(1)]))
                .chain(members.iter().flat_map(|&m| [m | 0xff, (m | 0xffff).wrapping_add(1), m ^ 0x0100]));
            for probe in probes {
                let want = members.iter().position(|&m| m >= probe).map(|i| i as u64);
                assert_eq!(r.ceil_index(probe), want, "{spec} ceil of {}", Ipv4Addr::from(probe));
            }
        }
    }

    #[test]
    fn runs_cover_exactly_the_members() {
        for spec in ["198.18.0,2.1-2", "198.18.1-3,9.*", "198.18-19.*.*", "*.1.2.3", "1-2,5.*.*.*"] {
            let r = range(spec);
            let runs = r.runs(1 << 20).unwrap();
            assert!(runs.windows(2).all(|w| w[0].1 < w[1].0), "{spec}: runs out of order");
            let total: u64 = runs.iter().map(|&(s, e)| u64::from(e - s) + 1).sum();
            assert_eq!(total, r.len(), "{spec}");
            for &(s, e) in &runs {
                assert!(r.contains(s.into()) && r.contains(e.into()), "{spec}");
                assert_eq!(r.run_end(s), Some(e), "{spec}");
            }
        }
        assert_eq!(range("*.*.*.*").runs(1), Some(vec![(0, u32::MAX)]));
        assert_eq!(range("198.18.*.1").runs(1 << 20).unwrap().len(), 256);
        assert_eq!(range("*.*.*.1").runs(1 << 20), None);
    }

    #[test]
    fn run_end_of_a_non_member_is_none() {
        assert_eq!(range("198.18.0.1-5").run_end(u32::from(Ipv4Addr::new(198, 18, 0, 6))), None);
        assert_eq!(
            range("198.18.0.1-5").run_end(u32::from(Ipv4Addr::new(198, 18, 0, 3))),
            Some(u32::from(Ipv4Addr::new(198, 18, 0, 5)))
        );
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(range("198.18.2,0.0-20,1-").to_string(), "198.18.0,2.*");
        assert_eq!(range("198.18.0.1-20,22").to_string(), "198.18.0.1-20,22");
    }

    #[test]
    fn errors() {
        let err = |s: &str| OctetRange::parse(s, s).unwrap_err();
        assert_eq!(err("999.1.1.1"), TargetError::OctetOutOfRange { target: "999.1.1.1".into(), octet: "999".into() });
        assert_eq!(
            err("1.1.1.1-256"),
            TargetError::OctetOutOfRange { target: "1.1.1.1-256".into(), octet: "256".into() }
        );
        assert!(matches!(err("1.1.1.99999999999999999999"), TargetError::OctetOutOfRange { .. }));
        assert_eq!(err("1.1.1.20-1"), TargetError::ReversedRange { target: "1.1.1.20-1".into(), range: "20-1".into() });
        assert_eq!(
            err("1.2.3"),
            TargetError::InvalidIpv4 { target: "1.2.3".into(), reason: "expected 4 octets, found 3".into() }
        );
        assert!(matches!(err("1.2.3.4.5"), TargetError::InvalidIpv4 { .. }));
        assert!(matches!(err("1..3.4"), TargetError::InvalidIpv4 { .. }));
        assert!(matches!(err("1.2.3.4,"), TargetError::InvalidIpv4 { .. }));
        assert!(matches!(err("1.2.3.1-2-3"), TargetError::InvalidIpv4 { .. }));
        assert!(matches!(err("1.2.3.**"), TargetError::InvalidIpv4 { .. }));
    }
}
