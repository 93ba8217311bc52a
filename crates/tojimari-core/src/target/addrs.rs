//! The lazy iterator over one spec's addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::OctetRange;

/// The addresses of one [`TargetSpec`](super::TargetSpec), in ascending order, computed one at a time.
///
/// Holds a cursor and the spec's shape, never a list of addresses, so a `/8` or an IPv6 `/64` costs the same
/// as a single address. Created by [`TargetSpec::addrs`](super::TargetSpec::addrs).
#[derive(Clone, Debug)]
pub struct TargetAddrs {
    space: Space,
    /// The next position to yield: an address value for `V4`/`V6`, an index for `Octets`.
    next: u128,
    /// The last position, inclusive (inclusive so that `::/0`, 2^128 addresses, fits).
    last: u128,
    done: bool,
}

/// What a position means.
#[derive(Clone, Debug)]
enum Space {
    V4,
    V6,
    Octets(OctetRange),
}

impl TargetAddrs {
    /// The addresses `first..=last` of one family (both must be the same family).
    pub(crate) fn block(first: IpAddr, last: IpAddr) -> Self {
        match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Self::cursor(Space::V4, u32::from(a).into(), u32::from(b).into()),
            (IpAddr::V6(a), IpAddr::V6(b)) => Self::cursor(Space::V6, a.into(), b.into()),
            _ => Self::empty(),
        }
    }

    pub(crate) fn octets(range: OctetRange) -> Self {
        let last = u128::from(range.len() - 1);
        Self::cursor(Space::Octets(range), 0, last)
    }

    pub(crate) fn empty() -> Self {
        TargetAddrs { space: Space::V4, next: 0, last: 0, done: true }
    }

    fn cursor(space: Space, next: u128, last: u128) -> Self {
        TargetAddrs { space, next, last, done: next > last }
    }

    /// The address `offset` positions after the next one, without moving.
    pub(crate) fn peek_at(&self, offset: u128) -> Option<IpAddr> {
        if self.done || offset > self.last - self.next {
            return None;
        }
        Some(self.addr(self.next + offset))
    }

    /// Moves forward so the next address yielded is the first one above `end`. Never moves backwards; an
    /// `end` of the other family is ignored.
    pub(crate) fn skip_through(&mut self, end: IpAddr) {
        if self.done {
            return;
        }
        // The position of the first address above `end`; `None` when nothing of this spec lies above it.
        let target = match (&self.space, end) {
            (Space::V4, IpAddr::V4(end)) => Some(u128::from(u32::from(end)) + 1),
            (Space::V6, IpAddr::V6(end)) => u128::from(end).checked_add(1),
            (Space::Octets(range), IpAddr::V4(end)) => {
                u32::from(end).checked_add(1).and_then(|t| range.ceil_index(t)).map(u128::from)
            }
            _ => return,
        };
        match target {
            Some(target) if target <= self.last => self.next = self.next.max(target),
            _ => self.done = true,
        }
    }

    fn addr(&self, pos: u128) -> IpAddr {
        match &self.space {
            Space::V4 => IpAddr::V4(Ipv4Addr::from(pos as u32)),
            Space::V6 => IpAddr::V6(Ipv6Addr::from(pos)),
            // Positions never exceed `len() - 1`, so `get` always answers.
            Space::Octets(range) => IpAddr::V4(range.get(pos as u64).unwrap_or(Ipv4Addr::UNSPECIFIED)),
        }
    }

    fn remaining(&self) -> Option<u128> {
        if self.done { Some(0) } else { (self.last - self.next).checked_add(1) }
    }
}

impl Iterator for TargetAddrs {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        if self.done {
            return None;
        }
        let addr = self.addr(self.next);
        if self.next == self.last {
            self.done = true;
        } else {
            self.next += 1;
        }
        Some(addr)
    }

    /// Skips arithmetically: `nth(1 << 40)` on an IPv6 `/64` is as cheap as `next()`.
    fn nth(&mut self, n: usize) -> Option<IpAddr> {
        if self.done {
            return None;
        }
        if n as u128 > self.last - self.next {
            self.done = true;
            return None;
        }
        self.next += n as u128;
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.remaining() {
            Some(n) => (usize::try_from(n).unwrap_or(usize::MAX), usize::try_from(n).ok()),
            None => (usize::MAX, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn block_yields_first_to_last_inclusive() {
        let got: Vec<IpAddr> = TargetAddrs::block(v4("198.18.0.254"), v4("198.18.1.1")).collect();
        assert_eq!(got, [v4("198.18.0.254"), v4("198.18.0.255"), v4("198.18.1.0"), v4("198.18.1.1")]);
    }

    #[test]
    fn the_very_last_address_of_a_family_ends_cleanly() {
        let mut it = TargetAddrs::block(v4("255.255.255.255"), v4("255.255.255.255"));
        assert_eq!(it.next(), Some(v4("255.255.255.255")));
        assert_eq!(it.next(), None);
        let top = IpAddr::V6(Ipv6Addr::from(u128::MAX));
        let mut it = TargetAddrs::block(IpAddr::V6(Ipv6Addr::from(u128::MAX - 1)), top);
        assert_eq!(it.nth(1), Some(top));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn nth_skips_without_walking() {
        let mut it = TargetAddrs::block(IpAddr::V6(Ipv6Addr::UNSPECIFIED), IpAddr::V6(Ipv6Addr::from(u128::MAX)));
        assert_eq!(it.nth(usize::MAX), Some(IpAddr::V6(Ipv6Addr::from(usize::MAX as u128))));
        assert_eq!(it.size_hint(), (usize::MAX, None));
        let mut it = TargetAddrs::block(v4("198.18.0.0"), v4("198.18.0.9"));
        assert_eq!(it.nth(10), None);
        assert_eq!(it.next(), None);
    }

    #[test]
    fn size_hint_is_exact_when_it_fits() {
        let mut it = TargetAddrs::block(v4("198.18.0.0"), v4("198.18.0.255"));
        assert_eq!(it.size_hint(), (256, Some(256)));
        it.next();
        assert_eq!(it.size_hint(), (255, Some(255)));
        assert_eq!(TargetAddrs::empty().size_hint(), (0, Some(0)));
    }

    #[test]
    fn skip_through_moves_forward_only() {
        let mut it = TargetAddrs::block(v4("198.18.0.0"), v4("198.18.0.255"));
        it.skip_through(v4("198.18.0.9"));
        assert_eq!(it.next(), Some(v4("198.18.0.10")));
        it.skip_through(v4("198.18.0.1"));
        assert_eq!(it.next(), Some(v4("198.18.0.11")));
        it.skip_through(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(it.next(), Some(v4("198.18.0.12")));
        it.skip_through(v4("255.255.255.255"));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn peek_at_does_not_move() {
        let it = TargetAddrs::block(v4("198.18.0.0"), v4("198.18.0.9"));
        assert_eq!(it.peek_at(9), Some(v4("198.18.0.9")));
        assert_eq!(it.peek_at(10), None);
        assert_eq!(it.clone().next(), Some(v4("198.18.0.0")));
    }
}
