//! The addresses of a whole target list, in order, with exclusions taken out.

use std::net::IpAddr;

use super::{Exclusions, TargetAddrs, TargetSpec};

/// Every address of a list of specs, spec by spec in the order given, leaving out excluded addresses.
///
/// Lazy: memory is the specs, the exclusions and one cursor. An excluded stretch is jumped over in one step
/// (excluding `10.1.0.0/16` from `10.0.0.0/8` costs one lookup, not 65536), so the cost is proportional to
/// the addresses yielded plus the excluded stretches met. Host names must be resolved first (see
/// [`TargetSpec::with_resolved`]); an unresolved [`TargetSpec::Hostname`] yields nothing. An address listed
/// by two specs is yielded twice, as nmap scans it twice.
#[derive(Clone, Debug)]
pub struct TargetIter {
    specs: Vec<TargetSpec>,
    excl: Exclusions,
    /// More addresses to leave out, kept apart from `excl` (see [`TargetIter::also_excluding`]).
    extra: Exclusions,
    /// The index in `specs` of the spec after `current`.
    next_spec: usize,
    current: TargetAddrs,
}

impl TargetIter {
    pub fn new(specs: Vec<TargetSpec>, excl: Exclusions) -> Self {
        TargetIter { specs, excl, extra: Exclusions::new(), next_spec: 0, current: TargetAddrs::empty() }
    }

    /// Leaves out `extra`'s addresses too. For a small set that belongs to these specs alone (the reserved
    /// blocks a spec contains): the shared exclusions, maybe a large `--excludefile`, are not copied into it.
    pub fn also_excluding(mut self, extra: Exclusions) -> Self {
        self.extra = extra;
        self
    }
}

impl Iterator for TargetIter {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        loop {
            let Some(addr) = self.current.next() else {
                let spec = self.specs.get(self.next_spec)?;
                self.next_spec += 1;
                self.current = spec.addrs();
                continue;
            };
            match self.excl.covering_end(addr).max(self.extra.covering_end(addr)) {
                None => return Some(addr),
                Some(end) => self.current.skip_through(end),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::parse_target;
    use super::*;

    fn iter(specs: &[&str], excluded: &[&str]) -> TargetIter {
        let mut excl = Exclusions::new();
        for s in excluded {
            excl.add(&parse_target(s).unwrap()).unwrap();
        }
        TargetIter::new(specs.iter().map(|s| parse_target(s).unwrap()).collect(), excl)
    }

    fn strings(it: impl Iterator<Item = IpAddr>) -> Vec<String> {
        it.map(|a| a.to_string()).collect()
    }

    #[test]
    fn specs_in_order_without_exclusions() {
        let got = strings(iter(&["198.18.0.9", "198.18.0.0/31", "2001:db8::1", "198.18.1,0.7"], &[]));
        assert_eq!(got, ["198.18.0.9", "198.18.0.0", "198.18.0.1", "2001:db8::1", "198.18.0.7", "198.18.1.7"]);
    }

    #[test]
    fn a_range_in_the_middle_of_a_block_is_skipped() {
        let got = strings(iter(&["198.18.0.0/28"], &["198.18.0.3-12"]));
        assert_eq!(got, ["198.18.0.0", "198.18.0.1", "198.18.0.2", "198.18.0.13", "198.18.0.14", "198.18.0.15"]);
    }

    #[test]
    fn exclusions_at_the_edges_and_touching_each_other() {
        let got = strings(iter(&["198.18.0.0/28"], &["198.18.0.0-1", "198.18.0.4-7", "198.18.0.8-9", "198.18.0.15"]));
        assert_eq!(
            got,
            ["198.18.0.2", "198.18.0.3", "198.18.0.10", "198.18.0.11", "198.18.0.12", "198.18.0.13", "198.18.0.14"]
        );
    }

    #[test]
    fn everything_excluded_yields_nothing() {
        assert_eq!(iter(&["198.18.0.0/24", "198.18.1.1-9"], &["198.18.0.0/15"]).count(), 0);
        assert_eq!(iter(&["2001:db8::/120"], &["2001:db8::/32"]).count(), 0);
        assert_eq!(iter(&["255.255.255.0/24"], &["255.255.255.128/25", "255.255.255.0/25"]).count(), 0);
    }

    #[test]
    fn octet_ranges_skip_to_the_next_member() {
        let excluded = ["198.18.0.100/32", "198.18.0.128/25", "198.18.1.0/24", "198.18.2.0/25"];
        let got = strings(iter(&["198.18.0-3.1,200"], &excluded));
        assert_eq!(got, ["198.18.0.1", "198.18.2.200", "198.18.3.1", "198.18.3.200"]);
    }

    #[test]
    fn excluded_patterns_apply_to_blocks() {
        let got = strings(iter(&["198.18.0.0/30", "198.18.1.0/30"], &["*.*.*.1", "*.*.*.2"]));
        assert_eq!(got, ["198.18.0.0", "198.18.0.3", "198.18.1.0", "198.18.1.3"]);
    }

    #[test]
    fn ipv6_exclusions() {
        let got = strings(iter(&["2001:db8::/126", "198.18.0.1"], &["2001:db8::1", "2001:db8::2"]));
        assert_eq!(got, ["2001:db8::", "2001:db8::3", "198.18.0.1"]);
    }

    #[test]
    fn extra_exclusions_apply_with_the_shared_ones() {
        let mut extra = Exclusions::new();
        extra.add(&parse_target("198.18.0.4/30").unwrap()).unwrap();
        let got = strings(iter(&["198.18.0.0/28"], &["198.18.0.2-5", "198.18.0.10-15"]).also_excluding(extra));
        assert_eq!(got, ["198.18.0.0", "198.18.0.1", "198.18.0.8", "198.18.0.9"]);
        // A reserved /4 inside the whole space is one jump.
        let mut extra = Exclusions::new();
        extra.add(&parse_target("224.0.0.0/3").unwrap()).unwrap();
        let mut it = iter(&["223.255.255.254/31", "224.0.0.0/3", "0.0.0.0/0"], &[]).also_excluding(extra);
        assert_eq!(strings(it.by_ref().take(2)), ["223.255.255.254", "223.255.255.255"]);
        assert_eq!(it.next().map(|a| a.to_string()).as_deref(), Some("0.0.0.0"));
    }

    #[test]
    fn unresolved_host_names_yield_nothing() {
        assert_eq!(strings(iter(&["scanme.example", "198.18.0.1"], &[])), ["198.18.0.1"]);
    }

    #[test]
    fn a_huge_excluded_stretch_is_jumped_not_walked() {
        // All of a /8 but its two ends, excluded in touching pieces.
        let excluded = ["10.0.0.1-255", "10.0.1-255.*", "10.1-254.*.*", "10.255.0-254.*", "10.255.255.0-254"];
        let start = Instant::now();
        assert_eq!(strings(iter(&["10.0.0.0/8"], &excluded)), ["10.0.0.0", "10.255.255.255"]);
        assert!(start.elapsed() < Duration::from_millis(500), "took {:?}", start.elapsed());
        // Walking 2^63 addresses would never finish.
        let mut it = iter(&["2001:db8::/64", "198.18.0.1"], &["2001:db8::/65", "2001:db8::8000:0:0:0/66"]);
        assert_eq!(it.next().map(|a| a.to_string()).as_deref(), Some("2001:db8:0:0:c000::"));
        assert_eq!(it.next().map(|a| a.to_string()).as_deref(), Some("2001:db8::c000:0:0:1"));
        let mut it = iter(&["2001:db8::/64", "198.18.0.1"], &["2001:db8::/32"]);
        assert_eq!(it.next().map(|a| a.to_string()).as_deref(), Some("198.18.0.1"));
    }
}
