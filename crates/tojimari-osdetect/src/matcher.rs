//! Weighted matching of facts against the database's entries.
//!
//! For one entry, only facts present on both sides are compared: the *agreement* is the weight of the
//! facts that agree over the weight of those compared. Two things lower it: an entry that compares few of
//! the facts we measured (coverage: the compared weight over the smaller of the measured weight and
//! [`COVERED`]; entries written from public documents know fewer facts than a capture, and that should
//! not sink them once they compare enough), and a test run that measured few facts at all (completeness,
//! e.g. no open port). Accuracy = agreement x (0.80 + 0.20 coverage) x (0.70 + 0.30 completeness), in
//! percent.
//!
//! A fact that a configuration switch can turn off earns half its weight when it differs only that way:
//! a TCP option list whose options (NOPs and end-of-list aside) keep the entry's order with some left
//! out, a window scale or timestamp clock that is absent (`none`). A stack keeps its option writer when an
//! administrator turns timestamps, SACK or window scaling off, so its remaining order still says who it is.

use crate::db::keys::Kind;
use crate::db::{Alt, Entry, Pattern, keys};
use crate::notation::Value;

/// The compared weight at which an entry counts as fully covering the facts.
pub const COVERED: u32 = 40;

/// How to match (`--osscan-guess`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MatchOptions {
    /// `--osscan-guess`: list near matches even when none is close enough to state.
    pub guess: bool,
    /// The accuracy (percent) at or above which a match is stated (default 85).
    pub state_at: u8,
    /// The accuracy at or above which near matches are listed as guesses without `guess` (default 80;
    /// with `guess`, 50).
    pub guess_at: u8,
    /// At most this many matches are listed (default 8).
    pub limit: usize,
}

impl Default for MatchOptions {
    fn default() -> MatchOptions {
        MatchOptions { guess: false, state_at: 85, guess_at: 80, limit: 8 }
    }
}

/// The comparison of one entry with the facts.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Score {
    pub agreed: u32,
    pub compared: u32,
    /// The weight of the facts measured that this kind of match looks at.
    pub observed: u32,
    /// Percent.
    pub accuracy: u8,
}

/// Scores `entry` against `facts` (active keys, or with `passive` only the `passive.` keys). `full` is the
/// weight a complete test run would measure (for completeness).
pub fn score(entry: &Entry, facts: &[(String, Value)], passive: bool, full: u32) -> Score {
    let mut observed = 0;
    // In half weights, so that a partial agreement counts half.
    let (mut agreed2, mut compared) = (0, 0);
    for (key, value) in facts {
        if key.starts_with("passive.") != passive {
            continue;
        }
        let Some(info) = keys::info(key) else { continue };
        observed += info.weight;
        if let Some(rule) = entry.rules.iter().find(|r| &r.key == key) {
            compared += rule.weight;
            if rule.pattern.matches(value) {
                agreed2 += 2 * rule.weight;
            } else if switched_off(key, info.kind, &rule.pattern, value) {
                agreed2 += rule.weight;
            }
        }
    }
    let agreed = agreed2 / 2;
    let accuracy = if compared == 0 || observed == 0 {
        0.0
    } else {
        let agreement = f64::from(agreed2) / f64::from(2 * compared);
        let coverage = (f64::from(compared) / f64::from(observed.min(COVERED))).min(1.0);
        let completeness = (f64::from(observed) / f64::from(full.max(1))).min(1.0);
        agreement * (0.80 + 0.20 * coverage) * (0.70 + 0.30 * completeness)
    };
    Score { agreed, compared, observed, accuracy: (accuracy * 100.0).floor().clamp(0.0, 100.0) as u8 }
}

/// Whether `value` differs from what `pattern` wants only by options or clocks turned off.
fn switched_off(key: &str, kind: Kind, pattern: &Pattern, value: &Value) -> bool {
    let Value::Word(seen) = value else { return false };
    match kind {
        Kind::Options => {
            let seen: Vec<char> = seen.chars().filter(|c| !"NE".contains(*c)).collect();
            !seen.is_empty()
                && seen.iter().all(|c| c.is_ascii_uppercase())
                && pattern.0.iter().any(|alt| match alt {
                    Alt::Word(w) => {
                        is_subsequence(&seen, &w.chars().filter(|c| !"NE".contains(*c)).collect::<Vec<_>>())
                    }
                    Alt::Range(..) => false,
                })
        }
        Kind::NumOrNone => seen == "none",
        _ => key == "ts" && seen == "none",
    }
}

/// Whether `small` appears in `big` in order (not necessarily adjacent).
fn is_subsequence(small: &[char], big: &[char]) -> bool {
    let mut it = big.iter();
    small.iter().all(|c| it.any(|b| b == c))
}

/// The full weight of the active keys (for [`score`]) over IPv4, or over IPv6 where the IPv4-only facts
/// (DF, IP ID) cannot be measured and so do not make a run less complete.
pub fn full_active(v6: bool) -> u32 {
    keys::full_active_weight(v6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    const DB: &str = "\
os A
class general purpose | A | A | -
provenance test
ttl = 64
ws = 7
opts.s1 = MSTNW
os B
class general purpose | B | B | -
provenance test
ttl = 128
";

    #[test]
    fn agreement_coverage_completeness() {
        let db = Db::parse("t", DB).unwrap();
        let facts = vec![
            ("ttl".to_string(), Value::Num(64)),
            ("ws".to_string(), Value::Num(7)),
            ("opts.s1".to_string(), Value::word("MSTNW")),
        ];
        let full = 14; // as if these were all the facts there are
        let a = score(&db.entries[0], &facts, false, full);
        assert_eq!((a.agreed, a.compared, a.observed, a.accuracy), (14, 14, 14, 100));
        let b = score(&db.entries[1], &facts, false, full);
        assert_eq!((b.agreed, b.compared), (0, 6));
        assert_eq!(b.accuracy, 0);
        // Half the facts measured: lower accuracy even when all agree.
        let a = score(&db.entries[0], &facts, false, 28);
        assert_eq!(a.accuracy, 85);
        // Nothing comparable.
        assert_eq!(score(&db.entries[0], &[], false, full).accuracy, 0);
        // Options turned off keep the rest of the order: half credit; another order gets none.
        let off = vec![("opts.s1".to_string(), Value::word("MNNSNW")), ("ws".to_string(), Value::word("none"))];
        let s = score(&db.entries[0], &off, false, 8);
        assert_eq!((s.agreed, s.compared), (4, 8));
        let other = vec![("opts.s1".to_string(), Value::word("MNWNNS"))];
        assert_eq!(score(&db.entries[0], &other, false, 5).agreed, 0);
        assert!(is_subsequence(&['M', 'W'], &['M', 'S', 'T', 'W']));
        assert!(!is_subsequence(&['W', 'S'], &['M', 'S', 'T', 'W']));
        // Passive keys are not looked at by an active match.
        let p = vec![("passive.syn.ttl".to_string(), Value::Num(64))];
        assert_eq!(score(&db.entries[0], &p, false, full).observed, 0);
    }
}
