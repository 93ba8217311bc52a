//! A scan's progress as one line of text: what the terminal's progress line and `--stats-every` print, and
//! what `tojimari serve` reads back from the checks it runs. The one definition of that line, both ways.

use std::fmt;
use std::time::Duration;

/// Where a scan is: probes done of planned, the rate, open ports so far, time elapsed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub done: u64,
    pub planned: u64,
    /// Ports per second, smoothed.
    pub rate: f64,
    pub open: u64,
    pub elapsed: Duration,
}

impl Progress {
    /// The time left at the current rate, when there is a rate and work left.
    pub fn eta(&self) -> Option<Duration> {
        (self.rate > 0.0 && self.done < self.planned)
            .then(|| Duration::from_secs_f64((self.planned - self.done) as f64 / self.rate))
    }

    /// Done as a share of planned, 0 to 100.
    pub fn percent(&self) -> f64 {
        self.done as f64 * 100.0 / self.planned.max(1) as f64
    }

    /// Reads a line as [`fmt::Display`] writes it, anywhere in `line` (a `Stats: ...; ` prefix is skipped).
    pub fn parse(line: &str) -> Option<Progress> {
        let body = line.rsplit("; ").next()?;
        let mut parts = body.split(", ");
        let (done, rest) = parts.next()?.split_once('/')?;
        let planned = rest.split_once(' ')?.0;
        let rate = parts.next()?.strip_suffix("/s")?;
        let _eta = parts.next()?.strip_prefix("ETA ")?;
        let open = parts.next()?.strip_suffix(" open")?;
        let elapsed = parse_clock(parts.next()?.strip_suffix(" elapsed")?)?;
        Some(Progress {
            done: done.parse().ok()?,
            planned: planned.parse().ok()?,
            rate: rate.parse().ok()?,
            open: open.parse().ok()?,
            elapsed,
        })
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let eta = self.eta().map_or_else(|| "--:--".to_string(), clock);
        write!(
            f,
            "{}/{} ports ({:.1}%), {:.0}/s, ETA {eta}, {} open, {} elapsed",
            self.done,
            self.planned,
            self.percent(),
            self.rate,
            self.open,
            clock(self.elapsed)
        )
    }
}

/// `H:MM:SS`.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn parse_clock(s: &str) -> Option<Duration> {
    let mut it = s.split(':');
    let (h, m, sec) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let secs = h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60 + sec.parse::<u64>().ok()?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_done_rate_eta_open() {
        let p = Progress { done: 500, planned: 1000, rate: 100.0, open: 3, elapsed: Duration::from_secs(5) };
        assert_eq!(p.to_string(), "500/1000 ports (50.0%), 100/s, ETA 0:00:05, 3 open, 0:00:05 elapsed");
        let idle = Progress { done: 0, planned: 10, rate: 0.0, open: 0, elapsed: Duration::ZERO };
        assert!(idle.to_string().contains("ETA --:--"));
    }

    #[test]
    fn a_printed_line_reads_back() {
        let p = Progress { done: 7, planned: 65535, rate: 1234.0, open: 2, elapsed: Duration::from_secs(3725) };
        assert_eq!(Progress::parse(&format!("Stats: 1:02:05 elapsed; {p}")), Some(p));
        assert_eq!(Progress::parse(&p.to_string()), Some(p));
        for bad in ["", "Stats: nonsense", "1/2 ports (50.0%), x/s, ETA --:--, 0 open, 0:00:01 elapsed"] {
            assert_eq!(Progress::parse(bad), None, "{bad}");
        }
    }
}
