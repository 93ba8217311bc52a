//! Pure analyses of the series the sequence probes give: the ISNs (greatest common divisor, rate and its
//! predictability), the IP IDs (their class) and the TCP timestamps (clock rate, uptime). Numbers and
//! times in, classes out; wrap-around of the 32-bit and 16-bit counters is handled here.
//!
//! The classes and the difficulty words are nmap's (as its output prints them); the arithmetic follows the
//! prose of nmap.org/book/osdetect-methods.html (GCD, ISR, SP) and RFC 7323 section 5.4 (timestamp clock
//! rates between 1 ms and 1 s per tick).

use std::time::Duration;

/// The distance from `a` to `b` on a 32-bit counter that may have wrapped: the shorter way round.
pub fn seq_diff(a: u32, b: u32) -> u32 {
    let d = b.wrapping_sub(a);
    d.min(a.wrapping_sub(b))
}

pub fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// What the ISN series says: GCD of the differences, the average rate (ISR: 8*log2 of increments per
/// second) and the predictability (SP: 8*log2 of the rates' standard deviation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsnAnalysis {
    pub gcd: u32,
    pub isr: u32,
    /// `None` with fewer than four values.
    pub sp: Option<u32>,
}

/// Analyses ISNs `(value, time received)` in probe order; `None` with fewer than two values.
pub fn isn(series: &[(u32, Duration)]) -> Option<IsnAnalysis> {
    if series.len() < 2 {
        return None;
    }
    let diffs: Vec<u32> = series.windows(2).map(|w| seq_diff(w[0].0, w[1].0)).collect();
    let g = diffs.iter().fold(0, |g, &d| gcd(g, d));
    let rates: Vec<f64> = series
        .windows(2)
        .zip(&diffs)
        .map(|(w, &d)| {
            let dt = w[1].1.saturating_sub(w[0].1).as_secs_f64().max(0.001);
            f64::from(d) / dt
        })
        .collect();
    let avg = rates.iter().sum::<f64>() / rates.len() as f64;
    let isr = log_index(avg);
    let sp = (series.len() >= 4).then(|| {
        let div = if g > 9 { f64::from(g) } else { 1.0 };
        let scaled: Vec<f64> = rates.iter().map(|r| r / div).collect();
        let mean = scaled.iter().sum::<f64>() / scaled.len() as f64;
        let var = scaled.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / scaled.len() as f64;
        log_index(var.sqrt())
    });
    Some(IsnAnalysis { gcd: g, isr, sp })
}

/// `round(8 * log2(x))`, 0 for x <= 1.
fn log_index(x: f64) -> u32 {
    if x.is_finite() && x > 1.0 { (8.0 * x.log2()).round() as u32 } else { 0 }
}

/// nmap's difficulty words for a predictability index.
pub fn difficulty(index: u32) -> &'static str {
    match index {
        0..=2 => "Trivial joke",
        3..=5 => "Easy",
        6..=10 => "Medium",
        11 => "Formidable",
        12..=15 => "Worthy challenge",
        _ => "Good luck!",
    }
}

/// How a series of IP IDs grows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum IdClass {
    Zero,
    Constant,
    Incremental,
    ByTwo,
    /// Incrementing in the high byte: a little-endian counter written without byte swap.
    Swapped,
    /// Increments too large for a counter but all positive.
    RandomPositive,
    Random,
    Unknown,
}

impl IdClass {
    /// The database token (docs/os-db.md).
    pub fn token(self) -> &'static str {
        match self {
            IdClass::Zero => "zero",
            IdClass::Constant => "const",
            IdClass::Incremental => "incr",
            IdClass::ByTwo => "incr2",
            IdClass::Swapped => "swapped",
            IdClass::RandomPositive => "randpos",
            IdClass::Random => "random",
            IdClass::Unknown => "unknown",
        }
    }

    /// nmap's words for the class (`<ipidsequence class>`).
    pub fn words(self) -> &'static str {
        match self {
            IdClass::Zero => "All zeros",
            IdClass::Constant => "Duplicated ipid (!)",
            IdClass::Incremental => "Incremental",
            IdClass::ByTwo => "Incrementing by 2",
            IdClass::Swapped => "Broken little-endian incremental",
            IdClass::RandomPositive => "Random positive increments",
            IdClass::Random => "Randomized",
            IdClass::Unknown => "Busy server or unknown class",
        }
    }
}

/// The class of IP IDs in the order they were sent; `None` with fewer than two values.
pub fn id_class(ids: &[u16]) -> Option<IdClass> {
    if ids.len() < 2 {
        return None;
    }
    if ids.iter().all(|&i| i == 0) {
        return Some(IdClass::Zero);
    }
    let diffs: Vec<u16> = ids.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    if diffs.iter().all(|&d| d == 0) {
        return Some(IdClass::Constant);
    }
    // A counter read through a byte swap moves by multiples of 256 (and, swapped back, by small steps).
    if diffs.iter().all(|&d| d != 0 && d % 256 == 0 && d <= 5120) {
        return Some(IdClass::Swapped);
    }
    if diffs.iter().any(|&d| d > 20_000) {
        return Some(IdClass::Random);
    }
    if diffs.iter().all(|&d| d == 2) || (ids.len() > 2 && diffs.iter().all(|&d| d % 2 == 0 && d <= 20)) {
        return Some(IdClass::ByTwo);
    }
    if diffs.iter().all(|&d| d < 1000) {
        return Some(IdClass::Incremental);
    }
    if diffs.iter().all(|&d| d < 20_000) {
        return Some(IdClass::RandomPositive);
    }
    Some(IdClass::Unknown)
}

/// A TCP timestamp clock.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum TsClock {
    /// No answer carried the option.
    Unsupported,
    /// TSval always zero.
    Zero,
    /// A rate in ticks per second.
    Hz(f64),
    /// Values that jump back and forth: a random offset per connection (RFC 7323 section 7.1 suggests
    /// one), so no rate or uptime can be read.
    Random,
}

impl TsClock {
    /// The database token: `none`, `zero`, `2hz`, `100hz`, `200hz`, `1000hz`, `other`.
    pub fn token(self) -> &'static str {
        match self {
            TsClock::Unsupported => "none",
            TsClock::Zero => "zero",
            TsClock::Random => "random",
            TsClock::Hz(hz) => match hz {
                0.0..5.66 => "2hz",
                70.0..150.0 => "100hz",
                150.0..350.0 => "200hz",
                500.0..5000.0 => "1000hz",
                _ => "other",
            },
        }
    }

    /// nmap's words for the class (`<tcptssequence class>`).
    pub fn words(self) -> String {
        match self {
            TsClock::Unsupported => "none returned (unsupported)".into(),
            TsClock::Zero => "zero timestamp".into(),
            TsClock::Random => "randomized per connection".into(),
            TsClock::Hz(hz) => match self.token() {
                "2hz" => "2HZ".into(),
                "100hz" => "100HZ".into(),
                "200hz" => "200HZ".into(),
                "1000hz" => "1000HZ".into(),
                _ => format!("other (~{hz:.0} Hz)"),
            },
        }
    }

    /// The nominal rate of a known class (the measured one otherwise), for the uptime.
    pub fn nominal_hz(self) -> Option<f64> {
        match self {
            TsClock::Hz(hz) => Some(match self.token() {
                "2hz" => 2.0,
                "100hz" => 100.0,
                "200hz" => 200.0,
                "1000hz" => 1000.0,
                _ => hz,
            }),
            _ => None,
        }
    }
}

/// The clock of `(TSval or None when the answer had no timestamp, time received)`; `None` without answers.
pub fn ts_clock(series: &[(Option<u32>, Duration)]) -> Option<TsClock> {
    if series.is_empty() {
        return None;
    }
    let vals: Vec<(u32, Duration)> = series.iter().filter_map(|&(v, t)| v.map(|v| (v, t))).collect();
    if vals.is_empty() {
        return Some(TsClock::Unsupported);
    }
    if vals.iter().all(|&(v, _)| v == 0) {
        return Some(TsClock::Zero);
    }
    let mut rates = Vec::new();
    for w in vals.windows(2) {
        let Some(dt) = w[1].1.checked_sub(w[0].1).map(|d| d.as_secs_f64()) else { continue };
        let d = w[1].0.wrapping_sub(w[0].0);
        // A clock that goes backwards, or faster than RFC 7323's fastest (1 ms per tick) by far, is a
        // fresh random offset per connection.
        if d >= 0x8000_0000 || f64::from(d) > 100_000.0 * dt.max(0.001) {
            return Some(TsClock::Random);
        }
        if dt >= 0.02 {
            rates.push(f64::from(d) / dt);
        }
    }
    if rates.is_empty() {
        return None;
    }
    Some(TsClock::Hz(rates.iter().sum::<f64>() / rates.len() as f64))
}

/// Seconds since the clock started: `tsval / rate`, `None` for a clock without a rate or an implausible
/// answer (more than 20 years).
pub fn uptime(clock: TsClock, tsval: u32) -> Option<u64> {
    let hz = clock.nominal_hz()?;
    if hz <= 0.0 {
        return None;
    }
    let secs = (f64::from(tsval) / hz).round();
    (secs < 20.0 * 365.0 * 86_400.0).then_some(secs as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn gcd_and_wrap() {
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(0, 7), 7);
        assert_eq!(seq_diff(0xffff_fff0, 0x10), 0x20);
        assert_eq!(seq_diff(0x10, 0xffff_fff0), 0x20);
        let s = isn(&[(0xffff_f000, ms(0)), (0x0000_1000, ms(100)), (0x0000_3000, ms(200))]).unwrap();
        assert_eq!(s.gcd, 0x2000);
        assert_eq!(s.sp, None);
    }

    #[test]
    fn isn_rates() {
        // 64000 per 100 ms: 640000/s, ISR = round(8*log2(640000)) = 154; constant steps: SP 0.
        let series: Vec<(u32, Duration)> = (0..6u32).map(|i| (i * 64_000, ms(u64::from(i) * 100))).collect();
        let s = isn(&series).unwrap();
        assert_eq!(s.gcd, 64_000);
        assert_eq!(s.isr, (8.0 * 640_000f64.log2()).round() as u32);
        assert_eq!(s.sp, Some(0));
        assert_eq!(difficulty(0), "Trivial joke");
        // Pseudo-random ISNs: large SP.
        let random = [0x1234_5678u32, 0x9abc_def0, 0x0fed_cba9, 0x7654_3210, 0xdead_beef, 0x0bad_f00d];
        let series: Vec<(u32, Duration)> = random.iter().enumerate().map(|(i, &v)| (v, ms(i as u64 * 100))).collect();
        let s = isn(&series).unwrap();
        assert_eq!(s.gcd, 1);
        assert!(s.sp.unwrap() > 200, "{s:?}");
        assert_eq!(difficulty(s.sp.unwrap()), "Good luck!");
        assert!(isn(&series[..1]).is_none());
    }

    #[test]
    fn id_classes() {
        assert_eq!(id_class(&[0, 0, 0]), Some(IdClass::Zero));
        assert_eq!(id_class(&[7, 7, 7]), Some(IdClass::Constant));
        assert_eq!(id_class(&[100, 101, 103, 104]), Some(IdClass::Incremental));
        assert_eq!(id_class(&[65534, 0, 2, 4]), Some(IdClass::ByTwo));
        assert_eq!(id_class(&[0x0100, 0x0200, 0x0300]), Some(IdClass::Swapped));
        assert_eq!(id_class(&[0xff00, 0x0000, 0x0100]), Some(IdClass::Swapped));
        assert_eq!(id_class(&[1, 40_000, 12, 55_000]), Some(IdClass::Random));
        assert_eq!(id_class(&[1, 5_001, 12_000]), Some(IdClass::RandomPositive));
        assert_eq!(id_class(&[1]), None);
        assert_eq!(IdClass::Swapped.words(), "Broken little-endian incremental");
    }

    #[test]
    fn timestamp_clocks_and_uptime() {
        let at = |hz: u32, start: u32| -> Vec<(Option<u32>, Duration)> {
            (0..6u32).map(|i| (Some(start.wrapping_add(hz * i / 10)), ms(u64::from(i) * 100))).collect()
        };
        assert_eq!(ts_clock(&at(1000, 5)).unwrap().token(), "1000hz");
        assert_eq!(ts_clock(&at(100, 5)).unwrap().token(), "100hz");
        assert_eq!(ts_clock(&at(1000, u32::MAX - 200)).unwrap().token(), "1000hz");
        let two: Vec<(Option<u32>, Duration)> = (0..6u32).map(|i| (Some(10 + i / 2), ms(u64::from(i) * 250))).collect();
        assert_eq!(ts_clock(&two).unwrap().token(), "2hz");
        assert_eq!(ts_clock(&[(Some(0), ms(0)), (Some(0), ms(100))]), Some(TsClock::Zero));
        assert_eq!(ts_clock(&[(None, ms(0)), (None, ms(100))]), Some(TsClock::Unsupported));
        assert_eq!(ts_clock(&[]), None);
        let jumpy = [(Some(3_315_114_603), ms(0)), (Some(3_279_979_904), ms(100)), (Some(740_734_371), ms(200))];
        assert_eq!(ts_clock(&jumpy), Some(TsClock::Random));
        assert_eq!(uptime(TsClock::Random, 5), None);
        let c = ts_clock(&at(1000, 3_600_000)).unwrap();
        assert_eq!(uptime(c, 3_600_000), Some(3600));
        assert_eq!(uptime(TsClock::Zero, 5), None);
    }
}
