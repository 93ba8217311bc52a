//! The set of addresses `--exclude` and `--excludefile` remove from a scan.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{OctetRange, TargetError, TargetSpec};

/// An octet range with more contiguous runs than this is kept as a pattern instead of being expanded into
/// ranges (`*.*.*.1` would be 2^24 ranges of one address each).
const MAX_EXPANDED_RUNS: u64 = 1 << 16;

/// Addresses to leave out of a scan.
///
/// Stored as sorted, merged, inclusive `(start, end)` ranges per family (`u32` for IPv4, `u128` for IPv6), so
/// a lookup is a logarithmic search however many specs were added and `198.18.0.0/24` plus `198.18.1.0/24`
/// is one range. Octet ranges too fragmented to expand (`*.*.*.1`) are kept as patterns and tested directly.
#[derive(Clone, Debug, Default)]
pub struct Exclusions {
    v4: RangeSet<u32>,
    v6: RangeSet<u128>,
    patterns: Vec<OctetRange>,
}

impl Exclusions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a spec's addresses. A [`TargetSpec::Hostname`] must be resolved by the caller first (see
    /// [`TargetSpec::with_resolved`]); adding one unresolved is [`TargetError::Unresolved`].
    pub fn add(&mut self, spec: &TargetSpec) -> Result<(), TargetError> {
        match spec {
            TargetSpec::Addr(addr) => self.add_block(*addr, *addr),
            TargetSpec::Network(net) => self.add_block(net.network(), net.broadcast()),
            TargetSpec::Octets(range) => match range.runs(MAX_EXPANDED_RUNS) {
                Some(runs) => runs.into_iter().for_each(|(start, end)| self.v4.insert(start, end)),
                None => self.patterns.push(range.clone()),
            },
            TargetSpec::Hostname { name, .. } => {
                return Err(TargetError::Unresolved { name: name.clone() });
            }
        }
        Ok(())
    }

    /// Whether `addr` is excluded.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.covering_end(addr).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.patterns.is_empty()
    }

    /// If `addr` is excluded, the last address of the excluded stretch that holds it, so a caller can jump
    /// past the whole stretch at once. Stretches from different specs that merely touch may take more than
    /// one jump.
    pub(crate) fn covering_end(&self, addr: IpAddr) -> Option<IpAddr> {
        match addr {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                let from_ranges = self.v4.covering_end(a);
                let from_patterns = self.patterns.iter().filter_map(|p| p.run_end(a)).max();
                from_ranges.max(from_patterns).map(|end| IpAddr::V4(Ipv4Addr::from(end)))
            }
            IpAddr::V6(a) => self.v6.covering_end(u128::from(a)).map(|end| IpAddr::V6(Ipv6Addr::from(end))),
        }
    }

    fn add_block(&mut self, first: IpAddr, last: IpAddr) {
        match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => self.v4.insert(a.into(), b.into()),
            (IpAddr::V6(a), IpAddr::V6(b)) => self.v6.insert(a.into(), b.into()),
            _ => {}
        }
    }
}

/// An address as an integer, for [`RangeSet`].
trait Point: Copy + Ord {
    fn saturating_next(self) -> Self;
}

impl Point for u32 {
    fn saturating_next(self) -> Self {
        self.saturating_add(1)
    }
}

impl Point for u128 {
    fn saturating_next(self) -> Self {
        self.saturating_add(1)
    }
}

/// Disjoint, non-adjacent inclusive ranges, keyed by start. Inserting merges, in logarithmic time, so an
/// `--excludefile` of many lines in any order stays cheap.
#[derive(Clone, Debug)]
struct RangeSet<T> {
    map: BTreeMap<T, T>,
}

impl<T> Default for RangeSet<T> {
    fn default() -> Self {
        RangeSet { map: BTreeMap::new() }
    }
}

impl<T: Point> RangeSet<T> {
    fn insert(&mut self, mut start: T, mut end: T) {
        // A range starting at or before `start` that overlaps or touches it absorbs the new one.
        if let Some((&s, &e)) = self.map.range(..=start).next_back()
            && e.saturating_next() >= start
        {
            if e >= end {
                return;
            }
            start = s;
        }
        // Swallow every range that starts inside `start..=end + 1`.
        while let Some((&s, &e)) = self.map.range(start..).next() {
            if s > end.saturating_next() {
                break;
            }
            self.map.remove(&s);
            end = end.max(e);
        }
        self.map.insert(start, end);
    }

    fn covering_end(&self, x: T) -> Option<T> {
        let (_, &end) = self.map.range(..=x).next_back()?;
        (end >= x).then_some(end)
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    #[cfg(test)]
    fn ranges(&self) -> Vec<(T, T)> {
        self.map.iter().map(|(&s, &e)| (s, e)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_target;
    use super::*;

    fn excl(specs: &[&str]) -> Exclusions {
        let mut e = Exclusions::new();
        for s in specs {
            e.add(&parse_target(s).unwrap()).unwrap();
        }
        e
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn v4(s: &str) -> u32 {
        s.parse::<Ipv4Addr>().unwrap().into()
    }

    #[test]
    fn empty_excludes_nothing() {
        let e = Exclusions::new();
        assert!(e.is_empty());
        assert!(!e.contains(ip("198.18.0.1")));
        assert!(!e.contains(ip("2001:db8::1")));
    }

    #[test]
    fn each_spec_form() {
        let e = excl(&["198.18.0.1", "198.18.1.0/24", "198.18.2.1-5,9", "2001:db8::/120"]);
        assert!(!e.is_empty());
        for yes in ["198.18.0.1", "198.18.1.0", "198.18.1.255", "198.18.2.3", "198.18.2.9", "2001:db8::ff"] {
            assert!(e.contains(ip(yes)), "{yes}");
        }
        for no in ["198.18.0.2", "198.18.2.0", "198.18.2.6", "198.18.3.0", "2001:db8::100", "::ffff:198.18.0.1"] {
            assert!(!e.contains(ip(no)), "{no}");
        }
    }

    #[test]
    fn adjacent_and_overlapping_ranges_merge() {
        let e = excl(&["198.18.1.0/24", "198.18.0.0/24", "198.18.2.0-9", "198.18.2.5-20", "198.18.2.21"]);
        assert_eq!(e.v4.ranges(), [(v4("198.18.0.0"), v4("198.18.2.21"))]);
        let e = excl(&["198.18.0.1", "198.18.0.3", "198.18.0.2"]);
        assert_eq!(e.v4.ranges(), [(v4("198.18.0.1"), v4("198.18.0.3"))]);
    }

    #[test]
    fn a_wide_range_swallows_the_ranges_inside_it() {
        let e = excl(&["198.18.0.5", "198.18.0.9", "198.18.3.0/24", "198.19.0.0", "198.18.0.0/16"]);
        assert_eq!(e.v4.ranges(), [(v4("198.18.0.0"), v4("198.19.0.0"))]);
        let e = excl(&["198.18.0.0/16", "198.18.0.5"]);
        assert_eq!(e.v4.ranges(), [(v4("198.18.0.0"), v4("198.18.255.255"))]);
    }

    #[test]
    fn disjoint_ranges_stay_apart() {
        let e = excl(&["198.18.0.10-20", "198.18.0.1", "198.18.0.30"]);
        assert_eq!(
            e.v4.ranges(),
            [
                (v4("198.18.0.1"), v4("198.18.0.1")),
                (v4("198.18.0.10"), v4("198.18.0.20")),
                (v4("198.18.0.30"), v4("198.18.0.30"))
            ]
        );
        assert_eq!(e.covering_end(ip("198.18.0.12")), Some(ip("198.18.0.20")));
        assert_eq!(e.covering_end(ip("198.18.0.21")), None);
    }

    #[test]
    fn the_ends_of_the_address_space_merge() {
        let e = excl(&["255.255.255.255", "0.0.0.0", "128.0.0.0/1", "0.0.0.0/1"]);
        assert_eq!(e.v4.ranges(), [(0, u32::MAX)]);
        let e = excl(&["::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1"]);
        assert_eq!(e.v6.ranges(), [(0, u128::MAX)]);
    }

    #[test]
    fn ipv6_ranges() {
        let e = excl(&["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:3::1"]);
        assert_eq!(e.v6.ranges().len(), 2);
        assert!(e.contains(ip("2001:db8:0:1:ffff:ffff:ffff:ffff")));
        assert!(!e.contains(ip("2001:db8:0:2::")));
        assert_eq!(e.covering_end(ip("2001:db8::5")), Some(ip("2001:db8:0:1:ffff:ffff:ffff:ffff")));
    }

    #[test]
    fn fragmented_octet_ranges_stay_patterns() {
        let e = excl(&["*.*.*.1", "198.18.0.0/24"]);
        assert_eq!(e.patterns.len(), 1);
        assert!(e.contains(ip("203.0.113.1")));
        assert!(!e.contains(ip("203.0.113.2")));
        assert!(e.contains(ip("198.18.0.2")));
        assert_eq!(e.covering_end(ip("203.0.113.1")), Some(ip("203.0.113.1")));
        assert_eq!(e.covering_end(ip("198.18.0.1")), Some(ip("198.18.0.255")));
        // A few hundred runs are expanded.
        assert!(excl(&["198.18.*.1"]).patterns.is_empty());
    }

    #[test]
    fn unresolved_host_names_are_refused() {
        let mut e = Exclusions::new();
        let err = e.add(&parse_target("scanme.example").unwrap()).unwrap_err();
        assert_eq!(err, TargetError::Unresolved { name: "scanme.example".into() });
        assert!(e.is_empty());
    }
}
