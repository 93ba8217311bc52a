//! Timing templates (`-T0`..`-T5`) and the knobs they set, with nmap's values and meanings.

use std::time::Duration;

/// Retries every silent probe gets (within `--max-retries`) before its silence is believed, in both
/// engines. One retry is not enough under loss: with 5% loss each way a try is lost about 10% of the time,
/// so a port lost in the first send is lost again in the only retry one time in ten, and when that retry
/// recovers nothing else, an open port would be called filtered. The correctness campaign
/// (`tojimari-bench campaign`) measured exactly that with one retry.
pub const MIN_RETRIES: u32 = 2;

/// nmap's six timing templates.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimingTemplate {
    Paranoid = 0,
    Sneaky = 1,
    Polite = 2,
    Normal = 3,
    Aggressive = 4,
    Insane = 5,
}

impl TimingTemplate {
    pub fn from_level(level: u8) -> Option<Self> {
        Some(match level {
            0 => TimingTemplate::Paranoid,
            1 => TimingTemplate::Sneaky,
            2 => TimingTemplate::Polite,
            3 => TimingTemplate::Normal,
            4 => TimingTemplate::Aggressive,
            5 => TimingTemplate::Insane,
            _ => return None,
        })
    }

    /// The values nmap's documentation gives for each template.
    pub fn timing(self) -> Timing {
        let ms = Duration::from_millis;
        let base = Timing {
            template: self,
            initial_rtt_timeout: ms(1000),
            min_rtt_timeout: ms(100),
            min_rtt_timeout_given: false,
            max_rtt_timeout: ms(10_000),
            max_retries: 10,
            scan_delay: Duration::ZERO,
            max_scan_delay: ms(1000),
            min_rate: None,
            max_rate: None,
            host_timeout: None,
            max_parallelism: None,
        };
        match self {
            TimingTemplate::Paranoid => {
                Timing { initial_rtt_timeout: ms(300_000), scan_delay: ms(300_000), max_parallelism: Some(1), ..base }
            }
            TimingTemplate::Sneaky => {
                Timing { initial_rtt_timeout: ms(15_000), scan_delay: ms(15_000), max_parallelism: Some(1), ..base }
            }
            TimingTemplate::Polite => Timing { scan_delay: ms(400), max_parallelism: Some(1), ..base },
            TimingTemplate::Normal => base,
            TimingTemplate::Aggressive => Timing {
                initial_rtt_timeout: ms(500),
                max_rtt_timeout: ms(1250),
                max_retries: 6,
                max_scan_delay: ms(10),
                ..base
            },
            TimingTemplate::Insane => Timing {
                initial_rtt_timeout: ms(250),
                min_rtt_timeout: ms(50),
                max_rtt_timeout: ms(300),
                max_retries: 2,
                max_scan_delay: ms(5),
                host_timeout: Some(ms(900_000)),
                ..base
            },
        }
    }
}

/// The timing knobs of a run. Built from a template, then overridden by explicit options.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Timing {
    pub template: TimingTemplate,
    /// Timeout for a probe before any round trip was measured.
    pub initial_rtt_timeout: Duration,
    pub min_rtt_timeout: Duration,
    /// Whether `--min-rtt-timeout` set `min_rtt_timeout` (the raw engine's waits for late answers honour a
    /// floor the user chose, not the template's).
    pub min_rtt_timeout_given: bool,
    pub max_rtt_timeout: Duration,
    /// Retransmissions of an unanswered probe (`--max-retries`).
    pub max_retries: u32,
    /// Pause between probes to one host (`--scan-delay`).
    pub scan_delay: Duration,
    pub max_scan_delay: Duration,
    /// Probes per second at least (`--min-rate`).
    pub min_rate: Option<f64>,
    /// Probes per second at most (`--max-rate`).
    pub max_rate: Option<f64>,
    /// Give up on a host after this long (`--host-timeout`).
    pub host_timeout: Option<Duration>,
    /// Probes in flight at most; `None` lets the engine decide.
    pub max_parallelism: Option<usize>,
}

impl Default for Timing {
    fn default() -> Self {
        TimingTemplate::Normal.timing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_nmap() {
        let t4 = TimingTemplate::Aggressive.timing();
        assert_eq!(t4.max_retries, 6);
        assert_eq!(t4.max_rtt_timeout, Duration::from_millis(1250));
        let t5 = TimingTemplate::Insane.timing();
        assert_eq!(t5.max_retries, 2);
        assert_eq!(t5.host_timeout, Some(Duration::from_secs(900)));
        assert_eq!(TimingTemplate::Polite.timing().scan_delay, Duration::from_millis(400));
        assert_eq!(TimingTemplate::from_level(6), None);
    }
}
