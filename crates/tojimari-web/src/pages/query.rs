//! Query strings read strictly: only the keys a page knows, each at most once, valid percent-encoding and
//! UTF-8, numbers that are numbers. Anything else is a [`QueryError`] the page shows (status 400), never a
//! guess and never a 500.

use std::collections::BTreeMap;

use crate::page::PageCtx;

/// What was wrong with a query string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// Not valid percent-encoding or not UTF-8.
    Encoding,
    /// A key this page does not take.
    Unknown(String),
    /// A key given twice.
    Repeated(String),
    /// A value that is not what the key takes (key, value).
    Number(String, String),
    /// A value the page refused: the message id saying why, and the value.
    Value(&'static str, String),
}

impl QueryError {
    /// The message for the page.
    pub fn message(&self, ctx: &PageCtx) -> String {
        let cut = |s: &str| s.chars().take(60).collect::<String>();
        match self {
            QueryError::Encoding => ctx.t("query-encoding"),
            QueryError::Unknown(k) => format!("{}: {}", ctx.t("query-unknown-key"), cut(k)),
            QueryError::Repeated(k) => format!("{}: {}", ctx.t("query-repeated-key"), cut(k)),
            QueryError::Number(k, v) => format!("{}: {}={}", ctx.t("query-not-a-number"), cut(k), cut(v)),
            QueryError::Value(id, v) if v.is_empty() => ctx.t(id),
            QueryError::Value(id, v) => format!("{}: {}", ctx.t(id), cut(v)),
        }
    }
}

/// The pairs of `raw` (without the `?`), if every key is one of `allowed` and none repeats. Empty values
/// count as absent.
pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<BTreeMap<String, String>, QueryError> {
    let mut out = BTreeMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k)?, decode(v)?);
        if !allowed.contains(&k.as_str()) {
            return Err(QueryError::Unknown(k));
        }
        if out.contains_key(&k) {
            return Err(QueryError::Repeated(k));
        }
        out.insert(k, v);
    }
    out.retain(|_, v| !v.trim().is_empty());
    Ok(out)
}

/// Percent-decoding with `+` as a space.
fn decode(s: &str) -> Result<String, QueryError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(QueryError::Encoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| QueryError::Encoding)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| QueryError::Encoding)?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| QueryError::Encoding)
}

/// The whole number under `key` in `min..=max`, or `default` when absent.
pub fn number(q: &BTreeMap<String, String>, key: &str, min: i64, max: i64, default: i64) -> Result<i64, QueryError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => {
            let t = v.as_str();
            t.parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n) && t.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
                .ok_or_else(|| QueryError::Number(key.to_string(), v.clone()))
        }
    }
}

/// A page number (1 on), 1 when absent.
pub fn page(q: &BTreeMap<String, String>) -> Result<i64, QueryError> {
    number(q, "page", 1, 10_000_000, 1)
}

/// Percent-encodes `s` for a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_once_each() {
        let q = parse(Some("a=1&b=x+y%2Fz&c="), &["a", "b", "c"]).unwrap();
        assert_eq!(q.get("a").map(String::as_str), Some("1"));
        assert_eq!(q.get("b").map(String::as_str), Some("x y/z"));
        assert!(!q.contains_key("c"));
        assert_eq!(parse(Some("d=1"), &["a"]), Err(QueryError::Unknown("d".into())));
        assert_eq!(parse(Some("a=1&a=2"), &["a"]), Err(QueryError::Repeated("a".into())));
        assert_eq!(parse(Some("a=%zz"), &["a"]), Err(QueryError::Encoding));
        assert_eq!(parse(Some("a=%"), &["a"]), Err(QueryError::Encoding));
        assert_eq!(parse(Some("a=%ff"), &["a"]), Err(QueryError::Encoding));
        assert_eq!(parse(None, &["a"]), Ok(BTreeMap::new()));
    }

    #[test]
    fn numbers_are_numbers_in_range() {
        let q = parse(Some("page=3&x=abc&y=0&z=+5"), &["page", "x", "y", "z"]).unwrap();
        assert_eq!(page(&q), Ok(3));
        assert!(number(&q, "x", 1, 9, 1).is_err());
        assert!(number(&q, "y", 1, 9, 1).is_err());
        assert!(number(&q, "z", 1, 9, 1).is_err(), "a leading + (a space once decoded) is refused");
        assert_eq!(number(&q, "absent", 1, 9, 7), Ok(7));
    }

    #[test]
    fn encoding_round_trips() {
        let s = "a b/é&=";
        let q = parse(Some(&format!("k={}", encode(s))), &["k"]).unwrap();
        assert_eq!(q["k"], s);
    }
}
