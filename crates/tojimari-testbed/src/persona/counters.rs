//! The persona's changing numbers: IP IDs, initial sequence numbers and timestamp values, each chosen by
//! the persona's policy from state kept here, with time passed in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use super::model::{IpIdPolicy, IsnPolicy, TimestampClock};
use super::rng::Rng;

/// Most destinations a per-destination IP ID counter is kept for; past it the table starts again.
const MAX_DESTINATIONS: usize = 65_536;

/// The shared state behind every IP ID policy of one persona.
#[derive(Debug, Clone)]
pub struct IpIds {
    global: u16,
    per_destination: HashMap<IpAddr, u16>,
}

impl IpIds {
    /// Counters starting at `start` (the global one and each new destination's).
    pub fn new(start: u16) -> IpIds {
        IpIds { global: start, per_destination: HashMap::new() }
    }

    /// The next IP ID for a packet to `dst` under `policy`.
    pub fn next(&mut self, policy: IpIdPolicy, dst: IpAddr, rng: &mut Rng) -> u16 {
        match policy {
            IpIdPolicy::Zero => 0,
            IpIdPolicy::Constant(value) => value,
            IpIdPolicy::Random => rng.next_u16(),
            IpIdPolicy::Incremental => self.step(1),
            IpIdPolicy::IncrementalBy2 => self.step(2),
            IpIdPolicy::ByteSwapped => self.step(1).swap_bytes(),
            IpIdPolicy::PerDestination => {
                if self.per_destination.len() >= MAX_DESTINATIONS && !self.per_destination.contains_key(&dst) {
                    self.per_destination.clear();
                }
                let start = rng.next_u16();
                let counter = self.per_destination.entry(dst).or_insert(start);
                *counter = counter.wrapping_add(1);
                *counter
            }
        }
    }

    fn step(&mut self, by: u16) -> u16 {
        self.global = self.global.wrapping_add(by);
        self.global
    }
}

/// The ISN generator.
#[derive(Debug, Clone)]
pub struct Isns {
    base: u32,
    last: u32,
}

impl Isns {
    /// A generator whose time-based and stepped sequences start from `base`.
    pub fn new(base: u32) -> Isns {
        Isns { base, last: base }
    }

    /// The next ISN under `policy` at `now` (time since the stack started).
    pub fn next(&mut self, policy: IsnPolicy, now: Duration, rng: &mut Rng) -> u32 {
        let isn = match policy {
            IsnPolicy::Random => rng.next_u32(),
            IsnPolicy::Constant(value) => value,
            IsnPolicy::TimeBased { per_second } => {
                let ticks = (now.as_nanos() * u128::from(per_second) / 1_000_000_000) as u32;
                self.base.wrapping_add(ticks)
            }
            IsnPolicy::Steps64K => self.last.wrapping_add(64_000),
            IsnPolicy::Incremental { step } => self.last.wrapping_add(step),
        };
        self.last = isn;
        isn
    }
}

/// The timestamp clock's value at `now` for a connection whose random offset is `offset` (used only by
/// [`TimestampClock::PerConnection`]). `None` when the clock sends no timestamps.
pub fn timestamp(clock: TimestampClock, now: Duration, offset: u32) -> Option<u32> {
    let ticks = |hz: u32, at: Duration| (at.as_nanos() * u128::from(hz) / 1_000_000_000) as u32;
    match clock {
        TimestampClock::None => None,
        TimestampClock::Zero => Some(0),
        TimestampClock::Uptime { hz, uptime } => Some(ticks(hz, uptime + now)),
        TimestampClock::PerConnection { hz } => Some(offset.wrapping_add(ticks(hz, now))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn dst(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, last))
    }

    #[test]
    fn ip_id_policies() {
        let mut rng = Rng::new(1);
        let mut ids = IpIds::new(100);
        assert_eq!(ids.next(IpIdPolicy::Zero, dst(1), &mut rng), 0);
        assert_eq!(ids.next(IpIdPolicy::Constant(77), dst(1), &mut rng), 77);
        assert_eq!(ids.next(IpIdPolicy::Incremental, dst(1), &mut rng), 101);
        assert_eq!(ids.next(IpIdPolicy::Incremental, dst(2), &mut rng), 102, "one global counter");
        assert_eq!(ids.next(IpIdPolicy::IncrementalBy2, dst(1), &mut rng), 104);
        let swapped = ids.next(IpIdPolicy::ByteSwapped, dst(1), &mut rng);
        assert_eq!(swapped, 105u16.swap_bytes());
        let next_swapped = ids.next(IpIdPolicy::ByteSwapped, dst(1), &mut rng);
        assert_eq!(next_swapped.wrapping_sub(swapped), 256, "byte-swapped +1 is +256 on the wire");

        let a1 = ids.next(IpIdPolicy::PerDestination, dst(1), &mut rng);
        let b1 = ids.next(IpIdPolicy::PerDestination, dst(2), &mut rng);
        let a2 = ids.next(IpIdPolicy::PerDestination, dst(1), &mut rng);
        let b2 = ids.next(IpIdPolicy::PerDestination, dst(2), &mut rng);
        assert_eq!((a2.wrapping_sub(a1), b2.wrapping_sub(b1)), (1, 1), "each destination its own counter");

        let randoms: Vec<u16> = (0..8).map(|_| ids.next(IpIdPolicy::Random, dst(1), &mut rng)).collect();
        let steps_of_one = randoms.windows(2).filter(|w| w[1].wrapping_sub(w[0]) == 1).count();
        assert!(steps_of_one < 2, "random IDs are not a sequence: {randoms:?}");
    }

    #[test]
    fn ip_ids_wrap() {
        let mut rng = Rng::new(1);
        let mut ids = IpIds::new(u16::MAX);
        assert_eq!(ids.next(IpIdPolicy::Incremental, dst(1), &mut rng), 0);
    }

    #[test]
    fn isn_policies() {
        let mut rng = Rng::new(3);
        let mut isns = Isns::new(1000);
        assert_eq!(isns.next(IsnPolicy::Constant(5), Duration::ZERO, &mut rng), 5);
        let mut isns = Isns::new(1000);
        assert_eq!(isns.next(IsnPolicy::Steps64K, Duration::ZERO, &mut rng), 65_000);
        assert_eq!(isns.next(IsnPolicy::Steps64K, Duration::ZERO, &mut rng), 129_000);
        let mut isns = Isns::new(1000);
        assert_eq!(isns.next(IsnPolicy::Incremental { step: 7 }, Duration::ZERO, &mut rng), 1007);
        let mut isns = Isns::new(1000);
        let time = IsnPolicy::TimeBased { per_second: 250_000 };
        assert_eq!(isns.next(time, Duration::from_millis(100), &mut rng), 26_000);
        assert_eq!(isns.next(time, Duration::from_millis(200), &mut rng), 51_000, "rate 250000/s");
        let a = isns.next(IsnPolicy::Random, Duration::ZERO, &mut rng);
        let b = isns.next(IsnPolicy::Random, Duration::ZERO, &mut rng);
        assert_ne!(a, b);
    }

    #[test]
    fn timestamp_clocks() {
        let now = Duration::from_millis(1500);
        assert_eq!(timestamp(TimestampClock::None, now, 9), None);
        assert_eq!(timestamp(TimestampClock::Zero, now, 9), Some(0));
        let uptime = TimestampClock::Uptime { hz: 100, uptime: Duration::from_secs(1000) };
        assert_eq!(timestamp(uptime, now, 9), Some(100_150));
        let per_conn = TimestampClock::PerConnection { hz: 1000 };
        assert_eq!(timestamp(per_conn, now, 9), Some(1509));
        let long = TimestampClock::Uptime { hz: 1000, uptime: Duration::from_secs(50 * 86_400) };
        assert_eq!(timestamp(long, Duration::ZERO, 0), Some((50u64 * 86_400_000 % (1 << 32)) as u32), "wraps");
    }
}
