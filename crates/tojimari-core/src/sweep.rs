//! The probe space of a scan, and the parts of it one run sends: shards, chunks and what a resumed run still
//! owes.
//!
//! A scan's probes are (host, technique, port): hosts in target order after excludes, each technique with its
//! ports (`-sS -sU` has two). They are numbered by *position*, the order in which one whole run would send
//! them:
//! - hosts are scanned in *groups* of consecutive targets, sized so that a group's answers fit in memory
//!   ([`Space::group_hosts`]); group `g` holds the positions `g * group_hosts * per_host ..`, contiguous;
//! - inside a group, each technique's probes (hosts of the group x that technique's ports) are a contiguous
//!   *segment*, in technique order;
//! - inside a segment, the order is the seeded [`Permutation`] of (host in group x port), or the identity
//!   with `-r`.
//!
//! This is one bijection between positions `0..total` and probes, the same for every process given the same
//! targets, ports, techniques and seed. A [`Shard`] `I/N` owns the positions `p` with `p % N == I - 1`: the
//! shards of one scan are disjoint and their union is the scan, whatever the targets. A [`Selection`] is a
//! shard within a range of positions: a fleet's chunk is a range, a resumed run starts past what it
//! finished.

use std::fmt;
use std::ops::Range;

use crate::permutation::Permutation;

/// Probes held in memory at once by one group (one answer word each): groups of hosts are sized to stay
/// below this.
pub const MAX_GROUP_PROBES: u64 = 16 << 20;
/// The most hosts in one group.
pub const MAX_GROUP_HOSTS: u64 = 1 << 16;

/// One shard of a scan: `index` of `count`, 1-based as typed (`--shard 2/3`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole scan (`1/1`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// `I/N`, with `1 <= I <= N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text.split_once('/').ok_or_else(|| format!("shard {text:?} is not of the form I/N"))?;
        let number = |s: &str, what: &str| {
            s.trim().parse::<u64>().map_err(|_| format!("shard {text:?}: {what} {s:?} is not a whole number"))
        };
        let (index, count) = (number(i, "index")?, number(n, "count")?);
        if count == 0 {
            return Err(format!("shard {text:?}: the count of shards must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(format!("shard {text:?}: the index must be between 1 and {count}"));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard sends the probe at `position`.
    pub fn owns(&self, position: u64) -> bool {
        position % self.count == self.index - 1
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The positions one run sends: a shard's positions within a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub shard: Shard,
    pub range: Range<u64>,
}

impl Selection {
    /// Every probe of the scan.
    pub fn everything() -> Selection {
        Selection { shard: Shard::WHOLE, range: 0..u64::MAX }
    }

    /// Whether this selects every probe (the engine's plain path).
    pub fn is_everything(&self) -> bool {
        self.shard.is_whole() && self.range.start == 0 && self.range.end == u64::MAX
    }

    pub fn contains(&self, position: u64) -> bool {
        self.range.contains(&position) && self.shard.owns(position)
    }

    /// Whether any position of `within` is selected.
    pub fn meets(&self, within: &Range<u64>) -> bool {
        self.positions(within.clone()).next().is_some()
    }

    /// The selected positions of `within`, in order.
    pub fn positions(&self, within: Range<u64>) -> impl Iterator<Item = u64> + use<> {
        let start = within.start.max(self.range.start);
        let end = within.end.min(self.range.end);
        let (n, k) = (self.shard.count, self.shard.index - 1);
        // The first position >= start that is k modulo n.
        let first = start + (k + n - start % n) % n;
        let count = if first >= end { 0 } else { (end - first).div_ceil(n) };
        (0..count).map(move |j| first + j * n)
    }
}

impl Default for Selection {
    fn default() -> Self {
        Selection::everything()
    }
}

/// A probe as [`Space::locate`] names it: indexes into the target order, the technique list and that
/// technique's port list.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    pub host: u64,
    pub technique: usize,
    pub port: usize,
}

/// The numbering of a scan's probes. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Space {
    ports: Vec<u64>,
    per_host: u64,
    group: u64,
    seed: Option<u64>,
}

impl Space {
    /// `ports_per_technique`: how many ports each technique scans, in the scan's technique order. `seed`:
    /// the order's seed, or `None` for `-r` (in order).
    pub fn new(ports_per_technique: &[u64], seed: Option<u64>) -> Space {
        let per_host: u64 = ports_per_technique.iter().sum();
        Space { ports: ports_per_technique.to_vec(), per_host, group: Space::hosts_per_group(per_host), seed }
    }

    /// As [`Space::new`], with groups of `group_hosts` hosts (at least 1, and never more than
    /// [`Space::hosts_per_group`] allows). A fleet cuts its scan into groups of about a chunk each, so that a
    /// chunk holds whole hosts.
    pub fn with_group_hosts(ports_per_technique: &[u64], seed: Option<u64>, group_hosts: u64) -> Space {
        let mut space = Space::new(ports_per_technique, seed);
        space.group = group_hosts.clamp(1, space.group);
        space
    }

    /// Hosts per group when each host has `per_host` probes: as many as keep the group under
    /// [`MAX_GROUP_PROBES`], at least 1 and at most [`MAX_GROUP_HOSTS`]. The engine groups targets by this.
    pub fn hosts_per_group(per_host: u64) -> u64 {
        (MAX_GROUP_PROBES / per_host.max(1)).clamp(1, MAX_GROUP_HOSTS)
    }

    pub fn group_hosts(&self) -> u64 {
        self.group
    }

    pub fn per_host(&self) -> u64 {
        self.per_host
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Every position of a scan of `hosts` hosts.
    pub fn total(&self, hosts: u64) -> u64 {
        hosts.saturating_mul(self.per_host)
    }

    /// The group holding `position`.
    pub fn group_of(&self, position: u64) -> u64 {
        position / (self.group * self.per_host).max(1)
    }

    /// How many hosts group `group` holds in a scan of `hosts` hosts.
    pub fn group_len(&self, group: u64, hosts: u64) -> u64 {
        hosts.saturating_sub(group.saturating_mul(self.group)).min(self.group)
    }

    /// The positions of group `group` (of `n` hosts: the last group may be short).
    pub fn group_positions(&self, group: u64, n: u64) -> Range<u64> {
        let base = group.saturating_mul(self.group).saturating_mul(self.per_host);
        base..base.saturating_add(n.saturating_mul(self.per_host))
    }

    /// The positions of group `group` in a scan of `hosts` hosts.
    pub fn group_range(&self, group: u64, hosts: u64) -> Range<u64> {
        self.group_positions(group, self.group_len(group, hosts))
    }

    /// The segments of a group of `n` hosts: per technique, its positions.
    pub fn segments(&self, group: u64, n: u64) -> Vec<Range<u64>> {
        let mut at = self.group_positions(group, n).start;
        self.ports
            .iter()
            .map(|&p| {
                let r = at..at + n * p;
                at = r.end;
                r
            })
            .collect()
    }

    /// The order inside a segment of `len` probes.
    pub fn segment_order(&self, len: u64) -> Permutation {
        match self.seed {
            Some(seed) => Permutation::new(len, seed ^ 0x5eed),
            None => Permutation::identity(len),
        }
    }

    /// The probes `selection` picks in group `group` (of `n` hosts): per technique, their (host in group x
    /// port) numbers (`host * ports + port`), in the scan's order.
    pub fn picks(&self, selection: &Selection, group: u64, n: u64) -> Vec<Vec<u32>> {
        self.segments(group, n)
            .into_iter()
            .map(|segment| {
                let order = self.segment_order(segment.end - segment.start);
                selection.positions(segment.clone()).map(|p| order.get(p - segment.start) as u32).collect()
            })
            .collect()
    }

    /// The probe at `position` of a scan of `hosts` hosts. Panics if `position >= total(hosts)` (a caller
    /// bug).
    pub fn locate(&self, hosts: u64, position: u64) -> Probe {
        assert!(position < self.total(hosts), "position {position} out of range");
        let group = self.group_of(position);
        let n = self.group_len(group, hosts);
        let (technique, segment) = self
            .segments(group, n)
            .into_iter()
            .enumerate()
            .find(|(_, s)| s.contains(&position))
            .expect("a position inside the scan lies in a segment");
        let r = self.segment_order(segment.end - segment.start).get(position - segment.start);
        let ports = self.ports[technique];
        Probe { host: group * self.group + r / ports, technique, port: (r % ports) as usize }
    }

    /// The position of `probe` in a scan of `hosts` hosts (the inverse of [`Space::locate`]).
    pub fn position(&self, hosts: u64, probe: Probe) -> u64 {
        let group = probe.host / self.group;
        let n = self.group_len(group, hosts);
        let segment = self.segments(group, n)[probe.technique].clone();
        let ports = self.ports[probe.technique];
        let r = (probe.host - group * self.group) * ports + probe.port as u64;
        segment.start + self.segment_order(segment.end - segment.start).position(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::parse("1/1").unwrap().to_string(), "1/1");
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/-1", "", "/"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selection_positions_follow_the_shard_and_range() {
        let s = Selection { shard: Shard { index: 2, count: 3 }, range: 5..20 };
        let got: Vec<u64> = s.positions(0..100).collect();
        assert_eq!(got, [7, 10, 13, 16, 19]);
        assert_eq!(s.positions(8..14).collect::<Vec<_>>(), [10, 13]);
        assert_eq!(s.positions(20..30).count(), 0);
        assert!(s.meets(&(6..8)) && !s.meets(&(8..10)));
        assert!(Selection::everything().is_everything());
    }

    #[test]
    fn a_small_space_is_a_bijection() {
        let space = Space::new(&[3, 2], Some(7));
        let hosts = 4;
        let mut seen = HashSet::new();
        for p in 0..space.total(hosts) {
            let probe = space.locate(hosts, p);
            assert!(probe.host < hosts && probe.port < [3, 2][probe.technique]);
            assert!(seen.insert(probe), "{probe:?} twice");
            assert_eq!(space.position(hosts, probe), p);
        }
        assert_eq!(seen.len(), 20);
    }

    #[test]
    fn picks_are_the_selected_positions_of_a_group() {
        let space = Space::new(&[3, 2], Some(11));
        let sel = Selection { shard: Shard { index: 2, count: 4 }, range: 0..u64::MAX };
        let picks = space.picks(&sel, 0, 5);
        let mut got: Vec<Probe> = Vec::new();
        for (t, list) in picks.iter().enumerate() {
            let ports = [3u32, 2][t];
            got.extend(list.iter().map(|&r| Probe {
                host: u64::from(r / ports),
                technique: t,
                port: (r % ports) as usize,
            }));
        }
        let want: Vec<Probe> = sel.positions(0..25).map(|p| space.locate(5, p)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn smaller_groups_keep_the_space_a_bijection() {
        let space = Space::with_group_hosts(&[3, 2], Some(4), 2);
        assert_eq!(space.group_hosts(), 2);
        let mut seen = HashSet::new();
        for p in 0..space.total(5) {
            let probe = space.locate(5, p);
            assert_eq!(probe.host / 2, space.group_of(p), "a group's positions hold its hosts only");
            assert!(seen.insert(probe));
            assert_eq!(space.position(5, probe), p);
        }
        assert_eq!(seen.len(), 25);
        assert_eq!(Space::with_group_hosts(&[65_535], None, 1 << 20).group_hosts(), 256, "bounded by memory");
    }

    #[test]
    fn in_order_without_a_seed() {
        let space = Space::new(&[2], None);
        let order: Vec<(u64, usize)> = (0..6).map(|p| space.locate(3, p)).map(|x| (x.host, x.port)).collect();
        assert_eq!(order, [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]);
    }

    #[test]
    fn groups_cut_large_scans() {
        let space = Space::new(&[65_535], Some(1));
        assert_eq!(space.group_hosts(), 256);
        assert_eq!(space.group_of(256 * 65_535), 1);
        assert_eq!(space.group_range(1, 300), 256 * 65_535..300 * 65_535);
        assert_eq!(space.locate(300, 256 * 65_535).host / 256, 1);
    }

    proptest! {
        /// For any seed, any number of shards, any targets (their count; excludes only shorten the list)
        /// and any mix of techniques and ports: the shards are disjoint and their union is every probe.
        #[test]
        fn shards_partition_the_scan(
            seed in any::<u64>(),
            ordered in any::<bool>(),
            count in 1u64..9,
            hosts in 0u64..40,
            ports in prop::collection::vec(1u64..30, 1..4),
            chunk in 1u64..50,
        ) {
            let space = Space::new(&ports, (!ordered).then_some(seed));
            let total = space.total(hosts);
            let mut owner = vec![0u32; total as usize];
            let mut probes = HashSet::new();
            for index in 1..=count {
                let shard = Shard { index, count };
                // Walked in chunks, as a fleet does: the chunks' selections together are the shard's.
                let mut at = 0;
                while at < total {
                    let sel = Selection { shard, range: at..(at + chunk).min(total) };
                    for p in sel.positions(0..total) {
                        owner[p as usize] += 1;
                        prop_assert!(probes.insert(space.locate(hosts, p)));
                    }
                    at += chunk;
                }
            }
            prop_assert!(owner.iter().all(|&o| o == 1));
            prop_assert_eq!(probes.len() as u64, hosts * ports.iter().sum::<u64>());
        }
    }
}
