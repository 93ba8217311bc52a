//! Exact distinct-port counts in bounded memory: [`PortMap`] keeps a short sorted list while a
//! scan has touched few ports and switches to a 65 536-bit map (8 KiB) beyond that, so an
//! incident's port count, range and lowest ports are exact whatever its size. The maps are
//! drawn from a [`MapBudget`] shared by the whole detector; once it is spent, a scan that
//! needs one more keeps counting without it and says that its count is an estimate.

use std::mem::size_of;

/// How many ports the sorted list holds before a bitmap replaces it (512 bytes).
const LIST_MAX: usize = 256;

/// Words in a bitmap of every port.
const WORDS: usize = 65_536 / 64;

/// How many bitmaps the detector may hold at once (see
/// [`crate::DetectorConfig::max_port_maps`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapBudget {
    left: usize,
}

impl MapBudget {
    pub(crate) fn new(maps: usize) -> MapBudget {
        MapBudget { left: maps }
    }

    fn take(&mut self) -> bool {
        let ok = self.left > 0;
        self.left = self.left.saturating_sub(1);
        ok
    }

    /// Returns the bitmaps `map` held (when it is dropped).
    pub(crate) fn give_back(&mut self, map: &PortMap) {
        if map.bits.is_some() {
            self.left += 1;
        }
    }
}

/// The distinct ports of one scan.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortMap {
    /// Sorted, while there is no bitmap.
    list: Vec<u16>,
    bits: Option<Box<[u64; WORDS]>>,
    count: u32,
    range: Option<(u16, u16)>,
    /// The budget ran out when a bitmap was needed: `count` went on as an upper bound (a
    /// repeat of a port not in the list counts again).
    estimated: bool,
}

impl PortMap {
    /// Adds `port`; whether it was new (or, for an estimate, not in the list).
    pub(crate) fn insert(&mut self, port: u16, budget: &mut MapBudget) -> bool {
        if let Some(bits) = &mut self.bits {
            let (word, mask) = (usize::from(port / 64), 1u64 << (port % 64));
            if bits[word] & mask != 0 {
                return false;
            }
            bits[word] |= mask;
        } else {
            let at = match self.list.binary_search(&port) {
                Ok(_) => return false,
                Err(at) => at,
            };
            if self.list.len() < LIST_MAX {
                self.list.insert(at, port);
            } else if !self.estimated && budget.take() {
                let mut bits = Box::new([0u64; WORDS]);
                for p in self.list.drain(..).chain([port]) {
                    bits[usize::from(p / 64)] |= 1u64 << (p % 64);
                }
                self.list = Vec::new();
                self.bits = Some(bits);
            } else {
                self.estimated = true;
            }
        }
        self.count = self.count.saturating_add(1);
        self.range = Some(self.range.map_or((port, port), |(lo, hi)| (lo.min(port), hi.max(port))));
        true
    }

    /// Distinct ports (an upper bound when [`PortMap::is_exact`] is false).
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// Whether [`PortMap::count`] is exact.
    pub(crate) fn is_exact(&self) -> bool {
        !self.estimated
    }

    /// The lowest and highest port (always exact).
    pub(crate) fn range(&self) -> Option<(u16, u16)> {
        self.range
    }

    pub(crate) fn contains(&self, port: u16) -> bool {
        match &self.bits {
            Some(bits) => bits[usize::from(port / 64)] & (1u64 << (port % 64)) != 0,
            None => self.list.binary_search(&port).is_ok(),
        }
    }

    /// The `n` lowest ports known, ascending.
    pub(crate) fn lowest(&self, n: usize) -> Vec<u16> {
        match &self.bits {
            None => self.list.iter().copied().take(n).collect(),
            Some(bits) => {
                let mut out = Vec::with_capacity(n.min(self.count as usize));
                for (w, &word) in bits.iter().enumerate() {
                    let mut word = word;
                    while word != 0 && out.len() < n {
                        let bit = word.trailing_zeros();
                        out.push((w * 64) as u16 + bit as u16);
                        word &= word - 1;
                    }
                    if out.len() >= n {
                        break;
                    }
                }
                out
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.list.capacity() * size_of::<u16>() + if self.bits.is_some() { WORDS * 8 } else { 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beyond_the_list_with_a_bitmap() {
        let mut budget = MapBudget::new(1);
        let mut map = PortMap::default();
        for round in 0..3 {
            for port in (1..=1000u16).rev() {
                assert_eq!(map.insert(port, &mut budget), round == 0, "{port}");
            }
        }
        assert_eq!(map.count(), 1000);
        assert!(map.is_exact());
        assert_eq!(map.range(), Some((1, 1000)));
        assert_eq!(map.lowest(4), vec![1, 2, 3, 4]);
        assert!(map.contains(777) && !map.contains(1001));
        assert!(map.heap_bytes() <= 8 * 1024 + 64);
        assert!(!budget.take(), "the one bitmap is in use");
        budget.give_back(&map);
        assert!(budget.take());
    }

    #[test]
    fn small_maps_need_no_bitmap_and_a_spent_budget_is_stated() {
        let mut budget = MapBudget::new(0);
        let mut map = PortMap::default();
        for port in [443u16, 22, 80, 22] {
            map.insert(port, &mut budget);
        }
        assert_eq!((map.count(), map.lowest(10), map.range()), (3, vec![22, 80, 443], Some((22, 443))));
        assert!(map.is_exact());
        for port in 1000..1300u16 {
            map.insert(port, &mut budget);
        }
        assert!(!map.is_exact());
        assert_eq!(map.count(), 303);
        assert_eq!(map.range(), Some((22, 1299)));
    }
}
