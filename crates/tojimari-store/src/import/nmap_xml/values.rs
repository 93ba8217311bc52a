//! An element's attributes, and the value syntaxes nmap's XML uses: Unix seconds, `ctime` dates,
//! decimal seconds, comma-separated hexadecimal.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tojimari_core::civil::{CivilDate, CivilDateTime, MONTH_ABBREVIATIONS};

use crate::import::{ImportError, Position};

/// A start tag's name and unescaped attributes, with where it was.
#[derive(Clone, Debug)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub at: Position,
}

impl Element {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn owned(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_string)
    }

    pub fn require(&self, key: &str) -> Result<&str, ImportError> {
        self.get(key).ok_or_else(|| ImportError::Missing {
            at: self.at,
            element: self.name.clone(),
            attribute: key.to_string(),
        })
    }

    pub fn bad(&self, key: &str, value: &str, problem: impl Into<String>) -> ImportError {
        let mut value = value.to_string();
        if value.len() > 80 {
            let mut cut = 80;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            value.push_str("...");
        }
        ImportError::BadValue {
            at: self.at,
            element: self.name.clone(),
            attribute: key.to_string(),
            value,
            problem: problem.into(),
        }
    }

    /// The attribute parsed with [`FromStr`], `None` when absent.
    pub fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, ImportError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| self.bad(key, v, "not a valid value")),
        }
    }

    pub fn parse_required<T: FromStr>(&self, key: &str) -> Result<T, ImportError> {
        let v = self.require(key)?;
        v.trim().parse().map_err(|_| self.bad(key, v, "not a valid value"))
    }

    /// Unix seconds as a time, `None` when absent.
    pub fn unix_time(&self, key: &str) -> Result<Option<SystemTime>, ImportError> {
        Ok(self.parse::<u64>(key)?.map(|secs| UNIX_EPOCH + Duration::from_secs(secs)))
    }

    /// Microseconds as a duration (`<times srtt>`), zero when absent.
    pub fn micros(&self, key: &str) -> Result<Duration, ImportError> {
        Ok(Duration::from_micros(self.parse::<u64>(key)?.unwrap_or(0)))
    }

    /// Decimal seconds (`elapsed="0.06"`), `None` when absent.
    pub fn seconds(&self, key: &str) -> Result<Option<Duration>, ImportError> {
        let Some(v) = self.get(key) else { return Ok(None) };
        v.trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .map(Some)
            .ok_or_else(|| self.bad(key, v, "not a number of seconds"))
    }

    /// Comma-separated hexadecimal (`values="1F,A0"`), empty when absent.
    pub fn hex_list(&self, key: &str) -> Result<Vec<u32>, ImportError> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        v.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| u32::from_str_radix(s.trim(), 16))
            .collect::<Result<_, _>>()
            .map_err(|_| self.bad(key, v, "not comma-separated hexadecimal"))
    }
}

/// `ctime(3)`'s form (`Sun Nov 22 01:37:11 2026`), read as UTC; `None` when it is not that form.
pub(crate) fn parse_ctime(text: &str) -> Option<SystemTime> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let month_name = parts.next()?;
    let month = MONTH_ABBREVIATIONS.iter().position(|m| *m == month_name)?;
    let day: u32 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|p| p.parse::<u32>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    let year: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || clock.next().is_some() {
        return None;
    }
    let date = CivilDate { year, month: u32::try_from(month).ok()? + 1, day };
    let secs = CivilDateTime { date, hour, minute, second }.to_unix()?;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctime_dates() {
        assert_eq!(parse_ctime("Thu Jan  1 00:01:40 1970"), Some(UNIX_EPOCH + Duration::from_secs(100)));
        assert_eq!(parse_ctime("Sun Nov 22 01:37:11 2026"), Some(UNIX_EPOCH + Duration::from_secs(1_795_311_431)));
        assert_eq!(parse_ctime("Sun Nov 32 01:37:11 2026"), None);
        assert_eq!(parse_ctime("Sun Nov 22 01:37 2026"), None);
        assert_eq!(parse_ctime(""), None);
    }

    #[test]
    fn attribute_values() {
        let at = Position { offset: 0, line: 1 };
        let e = Element {
            name: "x".into(),
            attrs: vec![("v".into(), "1F,a0".into()), ("n".into(), "12".into()), ("s".into(), "0.25".into())],
            at,
        };
        assert_eq!(e.hex_list("v").unwrap(), vec![0x1F, 0xA0]);
        assert_eq!(e.parse::<u8>("n").unwrap(), Some(12));
        assert_eq!(e.seconds("s").unwrap(), Some(Duration::from_millis(250)));
        assert!(e.parse::<u8>("v").is_err());
        assert!(matches!(e.require("gone"), Err(ImportError::Missing { .. })));
    }
}
