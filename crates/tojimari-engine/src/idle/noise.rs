//! The zombie's own traffic: how fast its counter moves by itself (estimated from measurements in which
//! the scan provoked nothing), and how large a rise that traffic alone can make in a window, so that a
//! rise above it can be read as answers the scan provoked.
//!
//! The count of packets a host sends at random in a window is taken as Poisson with mean `rate * window`;
//! the threshold is the count that mean exceeds with a chance under [`FALSE_RISE`]. A port is only called
//! open after three rises above it in a row (see [`super::machine`]), so a quiet-looking port is called
//! open by chance with odds under 10^-9.

use std::collections::VecDeque;
use std::time::Duration;

/// The chance, per measurement, that the zombie's own traffic alone passes the threshold.
pub const FALSE_RISE: f64 = 1e-3;

/// Measurements kept for the estimate (the oldest are dropped, so the estimate follows a change of pace).
const KEPT: usize = 32;

/// The smallest count `t` such that a Poisson variable of mean `mean` exceeds `t` with a chance under
/// `chance`. 0 for a mean of zero (or less, or not a number).
pub fn threshold(mean: f64, chance: f64) -> u32 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    // P(X <= t) summed term by term: e^-m * m^k / k!.
    let mut term = (-mean).exp();
    let mut below = term;
    let mut t = 0u32;
    while 1.0 - below >= chance && t < 10_000 {
        t += 1;
        term *= mean / f64::from(t);
        below += term;
    }
    t
}

/// The background estimate: packets the zombie sent of its own, over the windows measured.
#[derive(Debug, Clone, Default)]
pub struct Background {
    samples: VecDeque<(u32, Duration)>,
}

impl Background {
    /// Adds a measurement: `packets` sent of its own in `window`.
    pub fn add(&mut self, packets: u32, window: Duration) {
        if self.samples.len() == KEPT {
            self.samples.pop_front();
        }
        self.samples.push_back((packets, window));
    }

    /// Packets per second, 0 before any measurement.
    pub fn rate(&self) -> f64 {
        let packets: u64 = self.samples.iter().map(|s| u64::from(s.0)).sum();
        let seconds: f64 = self.samples.iter().map(|s| s.1.as_secs_f64()).sum();
        if seconds <= 0.0 { 0.0 } else { packets as f64 / seconds }
    }

    /// The mean count in `window`.
    pub fn mean(&self, window: Duration) -> f64 {
        self.rate() * window.as_secs_f64()
    }

    /// Measurements kept.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_of_poisson_counts() {
        assert_eq!(threshold(0.0, FALSE_RISE), 0);
        assert_eq!(threshold(f64::NAN, FALSE_RISE), 0);
        // Mean 0.01: P(X > 0) = 0.00995, P(X > 1) = 0.00005.
        assert_eq!(threshold(0.01, FALSE_RISE), 1);
        // Mean 1: P(X > 4) = 0.00366, P(X > 5) = 0.00059.
        assert_eq!(threshold(1.0, FALSE_RISE), 5);
        // Mean 10: P(X > 20) = 0.0016, P(X > 21) = 0.00072.
        assert_eq!(threshold(10.0, FALSE_RISE), 21);
    }

    #[test]
    fn the_rate_follows_the_latest_measurements() {
        let mut b = Background::default();
        assert_eq!(b.rate(), 0.0);
        b.add(0, Duration::from_millis(100));
        assert_eq!(b.rate(), 0.0);
        b.add(5, Duration::from_millis(100));
        assert!((b.rate() - 25.0).abs() < 1e-9);
        assert!((b.mean(Duration::from_millis(20)) - 0.5).abs() < 1e-9);
        for _ in 0..KEPT {
            b.add(1, Duration::from_millis(10));
        }
        assert!((b.rate() - 100.0).abs() < 1e-9, "the old measurements are gone");
        assert_eq!(b.len(), KEPT);
    }
}
