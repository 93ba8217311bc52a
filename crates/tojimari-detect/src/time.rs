//! Wall-clock instants as plain values: the detector never reads a clock, every packet
//! carries its own [`Timestamp`] (capture time, log time), and alerts print them as RFC 3339.

use std::fmt;
use std::time::Duration;

/// An instant as microseconds since the Unix epoch (UTC). `Copy`, ordered, no time zone.
///
/// Relative times (dmesg's seconds since boot) are represented as if the epoch were the boot
/// time; see [`crate::firewall_log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    micros: u64,
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp { micros: 0 };

    /// From microseconds since the epoch.
    pub const fn from_micros(micros: u64) -> Timestamp {
        Timestamp { micros }
    }

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: u64) -> Timestamp {
        Timestamp { micros: secs.saturating_mul(1_000_000) }
    }

    /// From a duration since the epoch (what pcap files carry). Saturates past year 586 912.
    pub fn from_duration(since_epoch: Duration) -> Timestamp {
        Timestamp { micros: u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX) }
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.micros
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.micros / 1_000_000
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp { micros: self.micros.saturating_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX)) }
    }

    /// `self - earlier`, or zero when `earlier` is later (packets may arrive out of order).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(earlier.micros))
    }

    /// The instant at `year-month-day hour:minute:second` UTC plus `micros`, or `None` for an
    /// impossible date or a year before 1970.
    pub fn from_civil(year: i64, month: u32, day: u32, hms: (u32, u32, u32), micros: u32) -> Option<Timestamp> {
        let (hour, minute, second) = hms;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 || micros >= 1_000_000 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        let secs = u64::try_from(secs).ok()?;
        Some(Timestamp { micros: secs.checked_mul(1_000_000)?.checked_add(u64::from(micros))? })
    }

    /// The UTC calendar fields: (year, month, day, hour, minute, second, microsecond).
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let secs = self.micros / 1_000_000;
        let micros = (self.micros % 1_000_000) as u32;
        let days = (secs / 86_400) as i64;
        let rem = (secs % 86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, rem / 3600, rem / 60 % 60, rem % 60, micros)
    }

    /// RFC 3339 in UTC with microseconds, e.g. `2024-11-22T10:00:01.250000Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s, us) = self.to_civil();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}Z")
    }
}

/// Whether `year` is a Gregorian leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1-12) of `year`.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp::EPOCH.to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29T12:34:56.5Z (a leap day) = 1709210096.5
        let t = Timestamp::from_micros(1_709_210_096_500_000);
        assert_eq!(t.to_rfc3339(), "2024-02-29T12:34:56.500000Z");
    }

    #[test]
    fn civil_round_trip() {
        let t = Timestamp::from_civil(2024, 2, 29, (12, 34, 56), 500_000).unwrap();
        assert_eq!(t.as_micros(), 1_709_210_096_500_000);
        for days in [0u64, 59, 365, 10_000, 20_000, 60_000] {
            let t = Timestamp::from_secs(days * 86_400 + 3661);
            let (y, mo, d, h, mi, s, us) = t.to_civil();
            assert_eq!(Timestamp::from_civil(y, mo, d, (h, mi, s), us), Some(t));
        }
        assert_eq!(Timestamp::from_civil(2023, 2, 29, (0, 0, 0), 0), None);
        assert_eq!(Timestamp::from_civil(1969, 12, 31, (0, 0, 0), 0), None);
    }
}
