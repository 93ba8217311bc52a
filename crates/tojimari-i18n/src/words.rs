//! The words for tojimari-core's states in the reader's language: a port's plain-words verdict (OPEN /
//! CLOSED / STEALTH, with what each means) and nmap's port states, as the web pages' tables show them.

use tojimari_core::PortState;
use tojimari_core::verdict::Verdict;

use crate::from_core::state_id;
use crate::{Lang, attribute_with, text};

fn verdict_id(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Open => "verdict-open",
        Verdict::Closed => "verdict-closed",
        Verdict::Stealth => "verdict-stealth",
    }
}

/// A verdict as a label: `OPEN` in English, `OPEN（開いている）` in Japanese.
pub fn verdict_label(lang: Lang, verdict: Verdict) -> String {
    text(lang, verdict_id(verdict))
}

/// What a verdict means, in a short phrase ("a program answers on this port").
pub fn verdict_help(lang: Lang, verdict: Verdict) -> String {
    attribute_with(lang, verdict_id(verdict), "help", &[])
}

/// nmap's port state in `lang` (English: nmap's own word, `open|filtered`).
pub fn state_word(lang: Lang, state: PortState) -> String {
    text(lang, &state_id(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_core::STATES;

    const VERDICTS: [Verdict; 3] = [Verdict::Open, Verdict::Closed, Verdict::Stealth];

    #[test]
    fn english_words_are_the_outputs_words() {
        for verdict in VERDICTS {
            assert_eq!(verdict_label(Lang::En, verdict), verdict.word());
            assert!(!verdict_help(Lang::En, verdict).contains("verdict-"));
        }
        for state in STATES {
            assert_eq!(state_word(Lang::En, state), state.as_str());
        }
    }

    #[test]
    fn japanese_keeps_the_latin_verdict_and_explains_it() {
        for verdict in VERDICTS {
            let label = verdict_label(Lang::Ja, verdict);
            assert!(label.starts_with(verdict.word()) && label.ends_with('）'), "{label}");
            assert_ne!(verdict_help(Lang::Ja, verdict), verdict_help(Lang::En, verdict));
        }
        let words: std::collections::BTreeSet<String> = STATES.iter().map(|s| state_word(Lang::Ja, *s)).collect();
        assert_eq!(words.len(), STATES.len(), "{words:?}");
    }
}
