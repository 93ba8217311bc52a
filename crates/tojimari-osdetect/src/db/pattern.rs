//! The values a fact line accepts: alternatives separated by `|`, each a number, an inclusive range
//! `LO-HI` (both decimal) or a word. An alternative made only of digits and one `-` is a number or a
//! range; anything else is a word (`ack+1`, `1000hz`, `MSTNW`).

use crate::notation::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alt {
    Range(u32, u32),
    Word(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(pub Vec<Alt>);

impl Pattern {
    /// Parses `64|128`, `5840-5900|65535`, `MSTNW|MNNSNW`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let mut alts = Vec::new();
        for raw in text.split('|') {
            let a = raw.trim();
            if a.is_empty() {
                return Err(format!("empty alternative in `{text}`"));
            }
            if a.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                let (lo, hi) = a.split_once('-').unwrap_or((a, a));
                let num = |s: &str| s.parse::<u32>().map_err(|_| format!("bad number `{s}` in `{a}`"));
                let (lo, hi) = (num(lo)?, num(hi)?);
                if lo > hi {
                    return Err(format!("range `{a}` runs backwards"));
                }
                alts.push(Alt::Range(lo, hi));
            } else if a.chars().all(|c| c.is_ascii_alphanumeric() || "+-".contains(c)) {
                alts.push(Alt::Word(a.to_string()));
            } else {
                return Err(format!("bad value `{a}`"));
            }
        }
        Ok(Pattern(alts))
    }

    pub fn matches(&self, v: &Value) -> bool {
        self.0.iter().any(|a| match (a, v) {
            (Alt::Range(lo, hi), Value::Num(n)) => (lo..=hi).contains(&n),
            (Alt::Word(w), Value::Word(x)) => w == x,
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_match() {
        let p = Pattern::parse("64|120-130|MSTNW").unwrap();
        assert!(p.matches(&Value::Num(64)));
        assert!(p.matches(&Value::Num(125)));
        assert!(!p.matches(&Value::Num(131)));
        assert!(p.matches(&Value::word("MSTNW")));
        assert!(!p.matches(&Value::word("MNWST")));
        assert!(Pattern::parse("5-3").is_err());
        assert!(Pattern::parse("64||128").is_err());
        assert!(Pattern::parse("6-4-2").is_err());
        assert_eq!(Pattern::parse("1000hz").unwrap().0, vec![Alt::Word("1000hz".into())]);
        assert!(Pattern::parse("a b").is_err());
        assert_eq!(Pattern::parse("ack+1").unwrap().0, vec![Alt::Word("ack+1".into())]);
    }
}
