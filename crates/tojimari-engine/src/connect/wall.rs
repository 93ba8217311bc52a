//! Wall-clock times for reports, derived from the monotonic instants the scheduler is given.
//!
//! The scheduler never reads a clock: reports need calendar times (`start`, `end`), so the run pins one
//! monotonic instant to one wall-clock time at its start and maps every later instant from there.

use std::time::{Instant, SystemTime};

/// One instant and the wall-clock time it was.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WallClock {
    mono: Instant,
    wall: SystemTime,
}

impl WallClock {
    /// `mono` was `wall` on the calendar.
    pub fn pinned(mono: Instant, wall: SystemTime) -> WallClock {
        WallClock { mono, wall }
    }

    /// The calendar time of `at`.
    pub fn at(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.mono) {
            Some(later) => self.wall + later,
            None => self.wall - self.mono.duration_since(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn maps_instants_either_side_of_the_pin() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let w0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let clock = WallClock::pinned(t0, w0);
        assert_eq!(clock.at(t0 + Duration::from_millis(1500)), w0 + Duration::from_millis(1500));
        assert_eq!(clock.at(t0 - Duration::from_secs(2)), w0 - Duration::from_secs(2));
    }
}
