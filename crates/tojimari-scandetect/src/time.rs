//! Wall-clock instants as plain values: the detector never reads a clock, every packet
//! carries its own [`Timestamp`] (capture time, log time), and alerts print them as RFC 3339.

use std::fmt;
use std::time::Duration;

use tojimari_core::civil::{CivilDate, CivilDateTime};

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
    /// impossible date or a year before 1970 (the calendar is [`tojimari_core::civil`]).
    pub fn from_civil(year: i64, month: u32, day: u32, hms: (u32, u32, u32), micros: u32) -> Option<Timestamp> {
        let (hour, minute, second) = hms;
        if micros >= 1_000_000 {
            return None;
        }
        let at = CivilDateTime { date: CivilDate { year, month, day }, hour, minute, second };
        let secs = u64::try_from(at.to_unix()?).ok()?;
        Some(Timestamp { micros: secs.checked_mul(1_000_000)?.checked_add(u64::from(micros))? })
    }

    /// The UTC calendar fields: (year, month, day, hour, minute, second, microsecond).
    pub fn to_civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        // u64::MAX microseconds is about 1.8e13 seconds: always an i64.
        let secs = i64::try_from(self.micros / 1_000_000).unwrap_or(i64::MAX);
        let micros = (self.micros % 1_000_000) as u32;
        let CivilDateTime { date, hour, minute, second } = CivilDateTime::from_unix(secs);
        (date.year, date.month, date.day, hour, minute, second, micros)
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

    #[test]
    fn an_absurd_year_from_a_log_is_refused_not_overflowed() {
        // Before the shared calendar, days * 86 400 overflowed here (a panic in debug builds).
        assert_eq!(Timestamp::from_civil(99_999_999_999_999, 1, 1, (0, 0, 0), 0), None);
        assert_eq!(Timestamp::from_civil(i64::MAX, 12, 31, (23, 59, 59), 0), None);
        assert_eq!(Timestamp::from_civil(i64::MIN, 1, 1, (0, 0, 0), 0), None);
        assert_eq!(Timestamp::from_civil(2024, 1, 1, (0, 0, 0), 1_000_000), None);
        let last = Timestamp::from_micros(u64::MAX);
        let (y, mo, d, h, mi, s, us) = last.to_civil();
        assert_eq!(Timestamp::from_civil(y, mo, d, (h, mi, s), us), Some(last));
    }
}
