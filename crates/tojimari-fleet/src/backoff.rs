//! Backing off while PostgreSQL is away (pure): waits that double from [`FIRST`] up to [`LONGEST`], reset
//! once it answers again.

use std::time::Duration;

/// The first wait after a failure.
pub const FIRST: Duration = Duration::from_millis(250);

/// The longest wait between tries.
pub const LONGEST: Duration = Duration::from_secs(10);

/// Consecutive failures and the wait before the next try.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// One more failure: how long to wait before trying again.
    pub fn failed(&mut self) -> Duration {
        let wait = FIRST.saturating_mul(1u32 << self.failures.min(16)).min(LONGEST);
        self.failures = self.failures.saturating_add(1);
        wait
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest_and_reset() {
        let mut b = Backoff::default();
        let waits: Vec<Duration> = (0..8).map(|_| b.failed()).collect();
        assert_eq!(waits[0], FIRST);
        assert_eq!(waits[1], FIRST * 2);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*waits.last().unwrap(), LONGEST);
        assert_eq!(b.failures(), 8);
        b.succeeded();
        assert_eq!(b.failed(), FIRST);
    }
}
