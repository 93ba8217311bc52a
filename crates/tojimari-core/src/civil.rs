//! Civil (calendar) time in UTC: Unix seconds to a proleptic Gregorian date and time of day, and back.
//!
//! The one calendar of the workspace: printers (nmap's `ctime` lines, RFC 3339, certificate dates), log
//! parsers and the watcher all convert here, so every crate agrees on leap years, on times before 1970
//! and on what happens at the edges. No time zones, no leap seconds (a Unix day is 86 400 seconds).
//!
//! # The overflow rule
//! - **Seconds to civil is total.** Every `i64` second count has a date: `i64::MIN` is in year
//!   -292 277 022 657 and `i64::MAX` in year 292 277 026 596, and the arithmetic cannot overflow there
//!   (a day count is at most about 1.1 * 10^14 in magnitude). Nothing is clamped; negative seconds are
//!   before 1970, rounded toward the past (-1 is 1969-12-31 23:59:59).
//! - **Civil to seconds is checked.** [`CivilDateTime::to_unix`] and [`days_from_civil`] return `None`
//!   for an impossible date (month 13, February 30, hour 24) and for a date whose second count does not
//!   fit an `i64`, so input read from a log line can never overflow or panic.
//! - [`unix_secs`] turns a `SystemTime` into seconds rounded toward the past, saturating at the `i64`
//!   bounds (a `SystemTime` can hold more than an `i64` of seconds on some platforms).
//!
//! The day-count conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`: shift the year to
//! start in March so the leap day falls at its end, then split time into 400-year eras of 146 097 days.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in a Unix day.
pub const SECS_PER_DAY: i64 = 86_400;
/// Days from 0000-03-01 (the start of Hinnant's era 0) to 1970-01-01.
const EPOCH_SHIFT: i64 = 719_468;
/// Days in a 400-year era.
const DAYS_PER_ERA: i64 = 146_097;

/// A day of the proleptic Gregorian calendar.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    /// Astronomical year numbering: year 0 is 1 BC, -1 is 2 BC.
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
}

/// A UTC date and time of day, to the second.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDateTime {
    pub date: CivilDate,
    /// 0..=23
    pub hour: u32,
    /// 0..=59
    pub minute: u32,
    /// 0..=59 from [`CivilDateTime::from_unix`]; [`CivilDateTime::to_unix`] also accepts 60 (a leap
    /// second as a log may write it, counted as the next minute's first second).
    pub second: u32,
}

/// English month abbreviations, January first, as `ctime(3)` and BSD syslog write them.
pub const MONTH_ABBREVIATIONS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/// English weekday abbreviations, Sunday first (the index [`CivilDate::weekday`] returns).
pub const WEEKDAY_ABBREVIATIONS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1..=12) of `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The date `days` days after 1970-01-01 (before it when negative). Total over all `i64`.
pub fn civil_from_days(days: i64) -> CivilDate {
    // Split first so that no intermediate can overflow: `days` may be anything, `era` and `doe` are exact.
    let era = days.div_euclid(DAYS_PER_ERA);
    let doe = days.rem_euclid(DAYS_PER_ERA) + EPOCH_SHIFT; // [719 468, 865 564]: spills into the next era
    let (era, doe) = (era + doe / DAYS_PER_ERA, doe % DAYS_PER_ERA); // doe in [0, 146 096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], March 1 = 0
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    // |era| <= 2^63 / 146 097, so era * 400 fits with room to spare.
    let year = era * 400 + yoe + i64::from(month <= 2);
    CivilDate { year, month, day }
}

/// Days from 1970-01-01 to `year-month-day`, or `None` for an impossible date or one beyond `i64` days.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146 096]
    era.checked_mul(DAYS_PER_ERA)?.checked_add(doe - EPOCH_SHIFT)
}

impl CivilDate {
    /// 0 = Sunday .. 6 = Saturday.
    pub fn weekday(self) -> u32 {
        // Any valid date's day count fits (it came from or round-trips with an i64); 1970-01-01 was a Thursday.
        days_from_civil(self.year, self.month, self.day).map_or(0, |days| (days + 4).rem_euclid(7) as u32)
    }
}

impl CivilDateTime {
    /// The UTC date and time `secs` seconds after the epoch. Total: see the module's overflow rule.
    pub fn from_unix(secs: i64) -> CivilDateTime {
        let days = secs.div_euclid(SECS_PER_DAY);
        let of_day = secs.rem_euclid(SECS_PER_DAY) as u32;
        CivilDateTime {
            date: civil_from_days(days),
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    /// The same, from a `SystemTime` (see [`unix_secs`]).
    pub fn from_system_time(t: SystemTime) -> CivilDateTime {
        CivilDateTime::from_unix(unix_secs(t))
    }

    /// Seconds since the epoch, or `None` for an impossible date or time, or one outside `i64` seconds.
    pub fn to_unix(self) -> Option<i64> {
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return None;
        }
        let days = days_from_civil(self.date.year, self.date.month, self.date.day)?;
        let of_day = i128::from(self.hour * 3600 + self.minute * 60 + self.second);
        // In i128: the last day before i64::MIN's second starts before i64::MIN.
        i64::try_from(i128::from(days) * i128::from(SECS_PER_DAY) + of_day).ok()
    }
}

/// Whole seconds since the Unix epoch, rounded toward the past (negative before 1970), saturating at the
/// `i64` bounds.
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let d = before.duration();
            let whole = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
            if d.subsec_nanos() > 0 { whole.saturating_sub(1) } else { whole }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> CivilDateTime {
        CivilDateTime { date: CivilDate { year, month, day }, hour, minute, second }
    }

    #[test]
    fn the_epoch_and_the_second_before_it() {
        assert_eq!(CivilDateTime::from_unix(0), at(1970, 1, 1, 0, 0, 0));
        assert_eq!(CivilDateTime::from_unix(-1), at(1969, 12, 31, 23, 59, 59));
        assert_eq!(CivilDateTime::from_unix(-86_400), at(1969, 12, 31, 0, 0, 0));
        assert_eq!(at(1969, 12, 31, 23, 59, 59).to_unix(), Some(-1));
        assert_eq!(civil_from_days(0).weekday(), 4, "1970-01-01 was a Thursday");
    }

    #[test]
    fn leap_days_and_century_rules() {
        assert_eq!(CivilDateTime::from_unix(951_782_400), at(2000, 2, 29, 0, 0, 0), "2000 is divisible by 400");
        assert_eq!(CivilDateTime::from_unix(4_107_542_400), at(2100, 3, 1, 0, 0, 0), "2100 is not a leap year");
        assert_eq!(CivilDateTime::from_unix(1_709_210_096), at(2024, 2, 29, 12, 34, 56));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2100, 2, 29), None);
        assert!(days_from_civil(2000, 2, 29).is_some());
        assert!(days_from_civil(1600, 2, 29).is_some());
        assert_eq!(days_from_civil(2024, 4, 31), None);
        assert_eq!(days_from_civil(2024, 13, 1), None);
        assert_eq!(days_from_civil(2024, 0, 1), None);
        assert_eq!(days_from_civil(2024, 1, 0), None);
    }

    #[test]
    fn years_9999_and_10000() {
        assert_eq!(CivilDateTime::from_unix(253_402_300_799), at(9999, 12, 31, 23, 59, 59));
        assert_eq!(CivilDateTime::from_unix(253_402_300_800), at(10_000, 1, 1, 0, 0, 0));
        assert_eq!(at(10_000, 1, 1, 0, 0, 0).to_unix(), Some(253_402_300_800));
        assert_eq!(at(0, 1, 1, 0, 0, 0).to_unix(), Some(-62_167_219_200), "year 0 (1 BC) is a leap year");
    }

    #[test]
    fn the_ends_of_i64_have_dates_and_do_not_overflow() {
        let max = CivilDateTime::from_unix(i64::MAX);
        assert_eq!(max, at(292_277_026_596, 12, 4, 15, 30, 7));
        assert_eq!(max.to_unix(), Some(i64::MAX));
        let min = CivilDateTime::from_unix(i64::MIN);
        assert_eq!(min, at(-292_277_022_657, 1, 27, 8, 29, 52));
        assert_eq!(min.to_unix(), Some(i64::MIN));
        // One second past either end has a date but no i64 second count.
        assert_eq!(at(292_277_026_596, 12, 4, 15, 30, 8).to_unix(), None);
        assert_eq!(at(-292_277_022_657, 1, 27, 8, 29, 51).to_unix(), None);
        // Day counts at the ends of i64 have dates too, and absurd years are refused, not wrapped.
        assert_eq!(civil_from_days(i64::MAX), civil_from_days(i64::MAX - 1).next_day_for_test());
        assert_eq!(days_from_civil(i64::MAX, 12, 31), None);
        assert_eq!(days_from_civil(i64::MIN, 1, 1), None);
        assert_eq!(at(i64::MAX, 1, 1, 0, 0, 0).to_unix(), None);
    }

    #[test]
    fn round_trips_over_a_wide_range() {
        let mut secs = -80_000_000_000i64;
        while secs < 80_000_000_000 {
            let t = CivilDateTime::from_unix(secs);
            assert_eq!(t.to_unix(), Some(secs), "{t:?}");
            assert_eq!(days_from_civil(t.date.year, t.date.month, t.date.day), Some(secs.div_euclid(86_400)));
            secs += 7_777_777;
        }
    }

    #[test]
    fn impossible_times_and_the_leap_second() {
        assert_eq!(at(2024, 1, 1, 24, 0, 0).to_unix(), None);
        assert_eq!(at(2024, 1, 1, 0, 60, 0).to_unix(), None);
        assert_eq!(at(2024, 1, 1, 0, 0, 61).to_unix(), None);
        assert_eq!(at(2016, 12, 31, 23, 59, 60).to_unix(), at(2017, 1, 1, 0, 0, 0).to_unix());
    }

    #[test]
    fn system_time_rounds_toward_the_past() {
        assert_eq!(unix_secs(UNIX_EPOCH), 0);
        assert_eq!(unix_secs(UNIX_EPOCH + Duration::from_millis(1500)), 1);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_millis(500)), -1);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }

    impl CivilDate {
        fn next_day_for_test(self) -> CivilDate {
            if self.day < days_in_month(self.year, self.month) {
                CivilDate { day: self.day + 1, ..self }
            } else if self.month < 12 {
                CivilDate { month: self.month + 1, day: 1, ..self }
            } else {
                CivilDate { year: self.year + 1, month: 1, day: 1 }
            }
        }
    }
}
