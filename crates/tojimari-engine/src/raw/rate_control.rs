//! The raw engine's sending rate: where it starts (`--max-rate`, `--scan-delay`), how far it may fall
//! (`--min-rate`), and how it moves in answer to what the passes saw. Pure: no clock, no socket; the pass
//! policy ([`super::pass_policy`]) feeds it.
//!
//! Random loss and congestion look alike in one pass; they differ in how loss depends on the rate. Each
//! retry pass is sent at half the rate of the pass before. If the share of probes answered then grows
//! markedly (1.5x or more), the losses were caused by the rate (a queue overflowing, a rate limiter): the
//! rate is halved for what follows (multiplicative decrease). If it stays flat, the loss is random (or the
//! ports are filtered): the rate is kept and retransmission closes the gap; nmap, which treats every loss
//! as congestion, slows down here for nothing. Between host groups the rate creeps back up (x1.25), never
//! above `--max-rate` nor below `--min-rate`.

use tojimari_core::timing::Timing;

/// Probes per second when no --max-rate is given: as fast as the senders go, within reason.
pub const DEFAULT_RATE: f64 = 2_000_000.0;
/// A retry pass must have sent at least this many probes for its answered share to say anything.
const MIN_SAMPLES: u64 = 32;
/// The answered share must grow by this factor at half the rate to count as congestion.
const CONGESTION_GROWTH: f64 = 1.5;
/// Between host groups the rate grows by this factor.
const RECOVERY: f64 = 1.25;

/// The sending rate, adapted across passes, techniques and host groups.
#[derive(Clone, Debug)]
pub struct RateControl {
    rate: f64,
    min: f64,
    max: f64,
    /// Times the controller backed off.
    pub backoffs: u32,
}

impl RateControl {
    pub fn new(timing: &Timing) -> Self {
        let mut max = timing.max_rate.unwrap_or(DEFAULT_RATE);
        if !timing.scan_delay.is_zero() {
            // --scan-delay (and -T0..-T2): at most one probe per delay.
            max = max.min(1.0 / timing.scan_delay.as_secs_f64());
        }
        let min = timing.min_rate.unwrap_or(0.0).min(max);
        RateControl { rate: max, min, max, backoffs: 0 }
    }

    /// Probes per second the next pass starts from.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The rate of the first retry pass: half the current rate, within the bounds.
    pub fn retry_rate(&self) -> f64 {
        self.bounded(self.rate / 2.0)
    }

    /// A retry pass answered `answered_share` of its `samples` probes; the pass before answered
    /// `before_share`. Returns true when that says congestion, and the rate was halved.
    pub fn observe(&mut self, before_share: f64, answered_share: f64, samples: u64) -> bool {
        let congested = samples >= MIN_SAMPLES
            && before_share < 0.98
            && answered_share >= CONGESTION_GROWTH * before_share.max(0.01);
        if congested {
            self.rate = self.bounded(self.rate / 2.0);
            self.backoffs += 1;
        }
        congested
    }

    /// The senders reached only `achieved` probes per second: that, not the nominal ceiling, is the rate
    /// the next decisions start from.
    pub fn achieved(&mut self, achieved: f64) {
        if achieved.is_finite() && achieved > 0.0 && achieved < self.rate {
            self.rate = self.bounded(achieved);
        }
    }

    /// Called between host groups: probe upwards again.
    pub fn recover(&mut self) {
        self.rate = (self.rate * RECOVERY).min(self.max);
    }

    /// Never below `--min-rate`, nor below one probe per second.
    fn bounded(&self, rate: f64) -> f64 {
        rate.max(self.min).max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tojimari_core::timing::TimingTemplate;

    use super::*;

    fn timing(min: Option<f64>, max: Option<f64>) -> Timing {
        Timing { min_rate: min, max_rate: max, ..TimingTemplate::Aggressive.timing() }
    }

    #[test]
    fn starts_at_the_ceiling_and_the_scan_delay_caps_it() {
        assert_eq!(RateControl::new(&timing(None, None)).rate(), DEFAULT_RATE);
        assert_eq!(RateControl::new(&timing(None, Some(500.0))).rate(), 500.0);
        let polite = TimingTemplate::Polite.timing();
        assert_eq!(RateControl::new(&polite).rate(), 2.5);
        // --min-rate above the ceiling is held to it.
        let c = RateControl::new(&timing(Some(1000.0), Some(100.0)));
        assert_eq!((c.rate(), c.min), (100.0, 100.0));
        let t = Timing { scan_delay: Duration::from_millis(10), ..timing(None, Some(1e6)) };
        assert_eq!(RateControl::new(&t).rate(), 100.0);
    }

    #[test]
    fn growing_answers_at_half_the_rate_halve_it_flat_answers_do_not() {
        let mut c = RateControl::new(&timing(None, Some(10_000.0)));
        // Random loss: the retry answers the same share.
        assert!(!c.observe(0.10, 0.11, 1000));
        assert_eq!((c.rate(), c.backoffs), (10_000.0, 0));
        // Too few probes to judge.
        assert!(!c.observe(0.10, 0.90, 31));
        // Congestion: the share grew 1.5x or more.
        assert!(c.observe(0.10, 0.16, 1000));
        assert_eq!((c.rate(), c.backoffs), (5_000.0, 1));
        // A pass that answered nearly everything says nothing about congestion.
        assert!(!c.observe(0.99, 1.0, 1000));
    }

    #[test]
    fn min_rate_and_max_rate_bound_every_move() {
        let mut c = RateControl::new(&timing(Some(3_000.0), Some(10_000.0)));
        for _ in 0..10 {
            c.observe(0.1, 0.9, 1000);
        }
        assert_eq!(c.rate(), 3_000.0);
        assert_eq!(c.retry_rate(), 3_000.0);
        c.achieved(10.0);
        assert_eq!(c.rate(), 3_000.0);
        for _ in 0..20 {
            c.recover();
        }
        assert_eq!(c.rate(), 10_000.0);
        // Without --min-rate the floor is one probe per second.
        let mut c = RateControl::new(&timing(None, Some(4.0)));
        for _ in 0..10 {
            c.observe(0.1, 0.9, 1000);
        }
        assert_eq!((c.rate(), c.retry_rate()), (1.0, 1.0));
    }

    #[test]
    fn the_achieved_rate_only_lowers_it() {
        let mut c = RateControl::new(&timing(None, None));
        c.achieved(250_000.0);
        assert_eq!(c.rate(), 250_000.0);
        c.achieved(400_000.0);
        c.achieved(f64::INFINITY);
        c.achieved(0.0);
        assert_eq!(c.rate(), 250_000.0);
        assert_eq!(c.retry_rate(), 125_000.0);
    }
}
