//! Round-trip time estimation and the probe timeout derived from it (RFC 6298, as TCP and nmap do).

use std::time::Duration;

use tojimari_core::report::HostTimes;
use tojimari_core::timing::Timing;

/// Smoothed RTT and its variation for one host, and the timeout they give within the timing limits.
#[derive(Copy, Clone, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    min: Duration,
    /// Whether the user chose `min` (`--min-rtt-timeout`).
    min_given: bool,
    max: Duration,
    initial: Duration,
}

impl RttEstimator {
    pub fn new(timing: &Timing) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            min: timing.min_rtt_timeout,
            min_given: timing.min_rtt_timeout_given,
            max: timing.max_rtt_timeout.max(timing.min_rtt_timeout),
            initial: timing.initial_rtt_timeout,
        }
    }

    /// Feeds one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + delta) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
    }

    /// How long to wait for an answer before calling a probe lost.
    pub fn timeout(&self) -> Duration {
        match self.srtt {
            None => self.initial.clamp(self.min, self.max),
            Some(srtt) => (srtt + self.rttvar * 4).clamp(self.min, self.max),
        }
    }

    /// How long the raw engine waits after a pass for late answers: twice the timeout the measured round
    /// trips give (`srtt + 4 rttvar`), at least `floor` (the receive path's own delay) and at most the
    /// probe timeout. Unlike [`RttEstimator::timeout`], the template's minimum does not apply: on a path of a
    /// millisecond, waiting its 100 ms after every pass would be most of a scan's time. A minimum the user
    /// set (`--min-rtt-timeout`) does. Before any answer, the initial timeout.
    pub fn pass_wait(&self, floor: Duration) -> Duration {
        let Some(srtt) = self.srtt else { return self.timeout() };
        let lower = if self.min_given { self.min.max(floor) } else { floor };
        ((srtt + self.rttvar * 4) * 2).clamp(lower, self.timeout().max(lower))
    }

    /// The figures for reports, if anything answered.
    pub fn times(&self) -> Option<HostTimes> {
        self.srtt.map(|srtt| HostTimes { srtt, rttvar: self.rttvar, timeout: self.timeout() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_core::timing::TimingTemplate;

    #[test]
    fn starts_at_initial_then_follows_samples_within_limits() {
        let timing = TimingTemplate::Aggressive.timing();
        let mut rtt = RttEstimator::new(&timing);
        assert_eq!(rtt.timeout(), Duration::from_millis(500));
        assert!(rtt.times().is_none());
        for _ in 0..20 {
            rtt.sample(Duration::from_micros(50));
        }
        // Tiny RTTs are clamped to the template's minimum timeout.
        assert_eq!(rtt.timeout(), Duration::from_millis(100));
        for _ in 0..50 {
            rtt.sample(Duration::from_secs(5));
        }
        assert_eq!(rtt.timeout(), Duration::from_millis(1250));
        assert!(rtt.times().unwrap().srtt > Duration::from_secs(4));
    }

    #[test]
    fn the_wait_after_a_pass_follows_the_measured_round_trips() {
        let floor = Duration::from_millis(20);
        let mut timing = TimingTemplate::Aggressive.timing();
        let mut rtt = RttEstimator::new(&timing);
        // Nothing measured yet: the initial timeout.
        assert_eq!(rtt.pass_wait(floor), Duration::from_millis(500));
        for _ in 0..20 {
            rtt.sample(Duration::from_micros(50));
        }
        // A fast path: the floor, not the template's 100 ms.
        assert_eq!(rtt.pass_wait(floor), floor);
        for _ in 0..50 {
            rtt.sample(Duration::from_millis(30));
        }
        let wait = rtt.pass_wait(floor);
        assert!(wait > Duration::from_millis(60) && wait <= rtt.timeout(), "{wait:?}");
        // A minimum the user chose is kept.
        timing.min_rtt_timeout = Duration::from_millis(300);
        timing.min_rtt_timeout_given = true;
        let mut rtt = RttEstimator::new(&timing);
        rtt.sample(Duration::from_micros(50));
        assert_eq!(rtt.pass_wait(floor), Duration::from_millis(300));
    }
}
