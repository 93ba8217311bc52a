//! Weighted matching of facts against the database's entries.
//!
//! For one entry, only facts present on both sides are compared: the *agreement* is the weight of the
//! facts that agree over the weight of those compared. Two things lower it: an entry that says nothing
//! about many of the facts we measured (coverage), and a test run that measured few facts at all
//! (completeness, e.g. no open port). Accuracy = agreement x (0.80 + 0.20 coverage) x (0.70 + 0.30
//! completeness), in percent.

use crate::db::{Entry, keys};
use crate::notation::Value;

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
    let (mut agreed, mut compared) = (0, 0);
    for (key, value) in facts {
        if key.starts_with("passive.") != passive {
            continue;
        }
        let Some(info) = keys::info(key) else { continue };
        observed += info.weight;
        if let Some(rule) = entry.rules.iter().find(|r| &r.key == key) {
            compared += rule.weight;
            if rule.pattern.matches(value) {
                agreed += rule.weight;
            }
        }
    }
    let accuracy = if compared == 0 || observed == 0 {
        0.0
    } else {
        let agreement = f64::from(agreed) / f64::from(compared);
        let coverage = (f64::from(compared) / f64::from(observed)).min(1.0);
        let completeness = (f64::from(observed) / f64::from(full.max(1))).min(1.0);
        agreement * (0.80 + 0.20 * coverage) * (0.70 + 0.30 * completeness)
    };
    Score { agreed, compared, observed, accuracy: (accuracy * 100.0).floor().clamp(0.0, 100.0) as u8 }
}

/// The full weight of the active keys (for [`score`]).
pub fn full_active() -> u32 {
    keys::full_active_weight()
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
        // Passive keys are not looked at by an active match.
        let p = vec![("passive.syn.ttl".to_string(), Value::Num(64))];
        assert_eq!(score(&db.entries[0], &p, false, full).observed, 0);
    }
}
