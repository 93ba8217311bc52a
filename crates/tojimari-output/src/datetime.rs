//! Calendar dates for headers and footers, in UTC, without a date crate.
//!
//! nmap prints local time; tojimari always prints UTC (and says so where nmap prints a zone name), so
//! that output does not depend on the machine's zone and tests can fix every byte. The three shapes are
//! the ones nmap uses: `ctime(3)` style (`Sun Nov 22 01:40:00 2026`, day padded with a space) in file
//! headers, footers and XML `startstr`/`timestr`; `2026-11-22 01:40 UTC` in the "Starting" line; and
//! `2026-11-22 01:40:15 UTC` in the `-vv` "Scanned at" line. The calendar itself is [`tojimari_core::civil`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use tojimari_core::civil::unix_secs;
use tojimari_core::civil::{CivilDateTime, MONTH_ABBREVIATIONS, WEEKDAY_ABBREVIATIONS};

/// A broken-down UTC time, to the second.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct UtcTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

impl UtcTime {
    pub fn from_system_time(t: SystemTime) -> UtcTime {
        UtcTime::from_unix(unix_secs(t))
    }

    pub fn from_unix(secs: i64) -> UtcTime {
        let CivilDateTime { date, hour, minute, second } = CivilDateTime::from_unix(secs);
        UtcTime { year: date.year, month: date.month, day: date.day, hour, minute, second, weekday: date.weekday() }
    }

    /// `Sun Nov 22 01:40:00 2026`, as `ctime(3)` without its newline.
    pub fn ctime(self) -> String {
        format!(
            "{} {} {:>2} {:02}:{:02}:{:02} {}",
            WEEKDAY_ABBREVIATIONS[self.weekday as usize],
            MONTH_ABBREVIATIONS[self.month as usize - 1],
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        )
    }

    /// `2026-11-22 01:40 UTC`.
    pub fn to_minute(self) -> String {
        format!("{}-{:02}-{:02} {:02}:{:02} UTC", self.year, self.month, self.day, self.hour, self.minute)
    }

    /// `2026-11-22 01:40:15 UTC`.
    pub fn to_second(self) -> String {
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Seconds since the Unix epoch with the fraction, for JSON.
pub(crate) fn unix_secs_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => micros_as_secs(d),
        Err(e) => -micros_as_secs(e.duration()),
    }
}

/// A duration in seconds, kept to the microsecond so that JSON numbers stay short.
pub(crate) fn micros_as_secs(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_a_thursday() {
        let t = UtcTime::from_unix(0);
        assert_eq!(t.ctime(), "Thu Jan  1 00:00:00 1970");
    }

    #[test]
    fn matches_nmap_startstr_seen_on_this_machine() {
        // nmap 7.93 wrote start="1795311431" startstr="Sun Nov 22 01:37:11 2026" (TZ=UTC).
        let t = UtcTime::from_unix(1_795_311_431);
        assert_eq!(t.ctime(), "Sun Nov 22 01:37:11 2026");
        assert_eq!(t.to_minute(), "2026-11-22 01:37 UTC");
        assert_eq!(t.to_second(), "2026-11-22 01:37:11 UTC");
    }

    #[test]
    fn leap_days_and_century_rules() {
        // 2000-02-29 (leap: divisible by 400), 2100-03-01 (2100 is not leap).
        assert_eq!(UtcTime::from_unix(951_782_400).ctime(), "Tue Feb 29 00:00:00 2000");
        assert_eq!(UtcTime::from_unix(4_107_542_400).ctime(), "Mon Mar  1 00:00:00 2100");
        assert_eq!(UtcTime::from_unix(1_709_164_799).ctime(), "Wed Feb 28 23:59:59 2024");
    }

    #[test]
    fn before_the_epoch() {
        assert_eq!(UtcTime::from_unix(-1).ctime(), "Wed Dec 31 23:59:59 1969");
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(unix_secs(t), -1);
        assert_eq!(unix_secs_f64(t), -0.5);
    }
}
