//! Traceroute's plan (`--traceroute`, issue 16 part 5), without I/O: which TTL to probe next for one host,
//! what the answers say, and which hops another host's trace already found.
//!
//! The probe is one that got an answer during the scan (a SYN to an open or closed port, or the ping that
//! worked), sent again with a chosen IP TTL. The first TTL is the host's distance as its reply's TTL
//! suggests (the initial TTLs stacks use, 32, 64, 128 and 255, minus what arrived, plus one). From there:
//!
//! - an answer from the host itself at TTL `t` means the host is at most `t` hops away: the trace goes down,
//!   `t - 1`, `t - 2`, ..., to learn the routers before it;
//! - a time-exceeded from a router at TTL `t` names hop `t`: if the trace was still looking for the host it
//!   goes up, `t + 1`, ..., until the host answers (or [`MAX_SILENT`] TTLs in a row stay silent, or
//!   [`MAX_TTL`]); going down, a router that another host's trace already found at the same TTL means the
//!   hops below it are the same ones: they are copied from the [`HopCache`] instead of probed;
//! - silence at a TTL is a hop that does not answer (`...` in nmap's output).
//!
//! The raw engine sends the probes and reads the answers (`raw::route_pass`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

pub use tojimari_core::route::TraceHop as Hop;

/// The highest TTL probed.
pub const MAX_TTL: u8 = 50;
/// Silent TTLs in a row, going up, after which the host is taken to be out of reach.
pub const MAX_SILENT: u8 = 5;

/// What came back for a probe at one TTL.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The host itself answered.
    Host(Duration),
    /// A router said time exceeded.
    Router(IpAddr, Duration),
    /// Nothing within the timeout.
    Silent,
}

/// Hops found by every trace so far: (TTL, router) -> the hops below that router on the trace that found it,
/// and that trace's host.
#[derive(Clone, Debug, Default)]
pub struct HopCache {
    below: BTreeMap<(u8, IpAddr), (Vec<Hop>, IpAddr)>,
}

impl HopCache {
    pub fn new() -> HopCache {
        HopCache::default()
    }

    /// Records the hops of `host`'s finished trace.
    pub fn learn(&mut self, hops: &[Hop], host: IpAddr) {
        for (i, hop) in hops.iter().enumerate() {
            if let Some(addr) = hop.addr() {
                // A complete run of lower hops only (TTL 1 up to this one).
                if hops[..i].iter().enumerate().all(|(j, h)| usize::from(h.ttl) == j + 1) && hop.ttl as usize == i + 1 {
                    self.below.entry((hop.ttl, addr)).or_insert_with(|| (hops[..i].to_vec(), host));
                }
            }
        }
    }

    fn below(&self, ttl: u8, addr: IpAddr) -> Option<&(Vec<Hop>, IpAddr)> {
        self.below.get(&(ttl, addr))
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// The trace of one host.
#[derive(Clone, Debug)]
pub struct RouteTrace {
    hops: BTreeMap<u8, Option<(IpAddr, Duration)>>,
    /// The lowest TTL at which the host itself answered, and that answer's round trip.
    host_at: Option<u8>,
    host_rtt: Option<Duration>,
    direction: Direction,
    next: Option<u8>,
    /// The lowest TTL probed (the down phase starts below it).
    lowest: u8,
    silent_run: u8,
    /// Hops 1..=N copied from another host's trace: (N, that host).
    copied: Option<(u8, IpAddr)>,
}

impl RouteTrace {
    /// A trace whose first probe goes out at `first_ttl` (see [`guess_distance`]).
    pub fn new(first_ttl: u8) -> RouteTrace {
        let first = first_ttl.clamp(1, MAX_TTL);
        RouteTrace {
            hops: BTreeMap::new(),
            host_at: None,
            host_rtt: None,
            direction: Direction::Up,
            next: Some(first),
            lowest: first,
            silent_run: 0,
            copied: None,
        }
    }

    /// The TTL to probe next, or `None` when the trace is done.
    pub fn next_ttl(&self) -> Option<u8> {
        self.next
    }

    /// The answer to the probe at `ttl` (the one [`RouteTrace::next_ttl`] gave).
    pub fn answer(&mut self, ttl: u8, answer: Answer, cache: &HopCache) {
        if self.next != Some(ttl) {
            return;
        }
        self.lowest = self.lowest.min(ttl);
        match answer {
            Answer::Host(rtt) => {
                self.host_at = Some(self.host_at.map_or(ttl, |t| t.min(ttl)));
                self.hops.retain(|&t, _| t < ttl);
                self.host_rtt = Some(rtt);
                self.down_from(ttl);
            }
            Answer::Router(addr, rtt) => {
                self.hops.insert(ttl, Some((addr, rtt)));
                self.silent_run = 0;
                if self.direction == Direction::Down
                    && let Some((lower, from)) = cache.below(ttl, addr)
                {
                    for hop in lower {
                        self.hops.insert(hop.ttl, hop.answer.as_ref().map(|a| (a.addr, a.rtt)));
                    }
                    if let Some(last) = lower.last() {
                        self.copied = Some((last.ttl, *from));
                    }
                    self.next = None;
                    return;
                }
                self.step();
            }
            Answer::Silent => {
                self.hops.insert(ttl, None);
                if self.direction == Direction::Up {
                    self.silent_run += 1;
                    if self.silent_run >= MAX_SILENT {
                        // Out of reach going up: the silent run is no hops of the path.
                        let from = ttl + 1 - self.silent_run;
                        self.hops.retain(|&t, _| t < from);
                        self.down_from(self.lowest);
                        return;
                    }
                }
                self.step();
            }
        }
    }

    fn step(&mut self) {
        let Some(current) = self.next else { return };
        match self.direction {
            Direction::Up if current < MAX_TTL => self.next = Some(current + 1),
            Direction::Up => self.down_from(self.lowest),
            Direction::Down => self.down_from(current),
        }
    }

    /// Goes on down from below `ttl`, skipping TTLs already answered.
    fn down_from(&mut self, ttl: u8) {
        self.direction = Direction::Down;
        let mut next = ttl.saturating_sub(1);
        while next >= 1 && self.hops.contains_key(&next) {
            next -= 1;
        }
        self.next = (next >= 1).then_some(next);
    }

    /// Hops 1..=N copied from another host's trace, if some were: (N, that host).
    pub fn copied(&self) -> Option<(u8, IpAddr)> {
        self.copied
    }

    /// The TTL at which the host answered, if it did.
    pub fn host_at(&self) -> Option<u8> {
        self.host_at
    }

    /// The hops up to the host (the host last, with its own address given as `host`), or up to the last router
    /// that answered when the host never did.
    pub fn hops(&self, host: IpAddr) -> Vec<Hop> {
        let mut hops: Vec<Hop> = self
            .hops
            .iter()
            .map(|(&ttl, answer)| match answer {
                Some((addr, rtt)) => Hop::answered(ttl, *addr, *rtt),
                None => Hop::silent(ttl),
            })
            .collect();
        if let (Some(at), Some(rtt)) = (self.host_at, self.host_rtt) {
            hops.retain(|h| h.ttl < at);
            hops.push(Hop::answered(at, host, rtt));
        } else {
            while hops.last().is_some_and(|h| h.answer.is_none()) {
                hops.pop();
            }
        }
        hops
    }
}

/// The distance a reply's TTL suggests: the nearest initial TTL at or above it (32, 64, 128, 255) minus the
/// TTL received, plus one: the TTL a probe needs to reach the host.
pub fn guess_distance(received_ttl: u8) -> u8 {
    let initial: u16 = [32u16, 64, 128, 255].into_iter().find(|&i| i >= u16::from(received_ttl)).unwrap_or(255);
    u8::try_from(initial - u16::from(received_ttl) + 1).unwrap_or(MAX_TTL).clamp(1, MAX_TTL)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const MS: Duration = Duration::from_millis(1);

    /// Runs a trace against a path: `path[t - 1]` answers TTL `t` (None: silent); the host is at
    /// `path.len() + 1`. Returns the TTLs probed and the hops.
    fn run(first: u8, path: &[Option<&str>], cache: &HopCache) -> (Vec<u8>, Vec<Hop>, RouteTrace) {
        let mut trace = RouteTrace::new(first);
        let mut probed = Vec::new();
        while let Some(ttl) = trace.next_ttl() {
            probed.push(ttl);
            let answer = match path.get(usize::from(ttl) - 1) {
                Some(Some(router)) => Answer::Router(ip(router), MS),
                Some(None) => Answer::Silent,
                None => Answer::Host(MS),
            };
            trace.answer(ttl, answer, cache);
            assert!(probed.len() < 200);
        }
        let hops = trace.hops(ip("198.18.9.9"));
        (probed, hops, trace)
    }

    #[test]
    fn a_right_guess_goes_down_only() {
        let path = [Some("198.18.1.1"), None, Some("198.18.3.1")];
        let (probed, hops, _) = run(4, &path, &HopCache::new());
        assert_eq!(probed, [4, 3, 2, 1]);
        let shown: Vec<_> = hops.iter().map(|h| (h.ttl, h.addr().map(|a| a.to_string()))).collect();
        assert_eq!(
            shown,
            [(1, Some("198.18.1.1".into())), (2, None), (3, Some("198.18.3.1".into())), (4, Some("198.18.9.9".into()))]
        );
    }

    #[test]
    fn a_short_guess_goes_up_then_down() {
        let path = [Some("198.18.1.1"), Some("198.18.2.1"), Some("198.18.3.1")];
        let (probed, hops, trace) = run(2, &path, &HopCache::new());
        assert_eq!(probed, [2, 3, 4, 1]);
        assert_eq!(hops.len(), 4);
        assert_eq!(trace.host_at(), Some(4));
    }

    #[test]
    fn a_long_guess_finds_the_host_nearer() {
        let path = [Some("198.18.1.1")];
        let (probed, hops, _) = run(9, &path, &HopCache::new());
        // TTL 9 reaches the host; so do 8..2; TTL 1 is the router.
        assert_eq!(probed, [9, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(hops.iter().map(|h| h.ttl).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn hops_another_trace_found_are_copied() {
        let path = [Some("198.18.1.1"), Some("198.18.2.1"), Some("198.18.3.1")];
        let mut cache = HopCache::new();
        let (_, first, _) = run(4, &path, &cache);
        cache.learn(&first, ip("198.18.3.9"));
        // A second host behind the same routers, one hop further.
        let longer = [Some("198.18.1.1"), Some("198.18.2.1"), Some("198.18.3.1"), Some("198.18.4.1")];
        let (probed, hops, trace) = run(5, &longer, &cache);
        assert_eq!(probed, [5, 4, 3], "TTL 3's router is known: hops 1 and 2 are copied");
        assert_eq!(trace.copied(), Some((2, ip("198.18.3.9"))));
        assert_eq!(hops.len(), 5);
        assert_eq!(hops[0].addr(), Some(ip("198.18.1.1")));
    }

    #[test]
    fn an_unreachable_host_stops_after_silent_ttls() {
        let mut path: Vec<Option<&str>> = vec![Some("198.18.1.1")];
        path.extend(std::iter::repeat_n(None, 60));
        let (probed, hops, trace) = run(2, &path, &HopCache::new());
        assert_eq!(probed, [2, 3, 4, 5, 6, 1]);
        assert_eq!(trace.host_at(), None);
        assert_eq!(hops, [Hop::answered(1, ip("198.18.1.1"), MS)]);
    }

    #[test]
    fn distance_from_the_reply_ttl() {
        assert_eq!(guess_distance(64), 1);
        assert_eq!(guess_distance(62), 3);
        assert_eq!(guess_distance(126), 3);
        assert_eq!(guess_distance(250), 6);
        assert_eq!(guess_distance(0), 33);
    }
}
