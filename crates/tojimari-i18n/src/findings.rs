//! Exposure findings in the reader's language: the title and general advice of each kind of finding in
//! [`tojimari_core::catalog`] (whose English is the one definition; the Japanese is `ja.ftl`'s
//! `finding-<id>-title` and `finding-<id>-advice`), and the severity words.

use tojimari_core::catalog;
use tojimari_core::report::Severity;

use crate::from_core::{advice_id, severity_id, title_id};
use crate::{Lang, text};

/// The title of finding kind `kind_id` in `lang`; `None` when the catalogue has no such kind (an id recorded
/// by another version, say: show the id).
pub fn finding_title(lang: Lang, kind_id: &str) -> Option<String> {
    catalog::kind(kind_id).map(|kind| text(lang, &title_id(kind.id)))
}

/// The general advice of finding kind `kind_id` in `lang`; `None` when the catalogue has no such kind.
pub fn finding_advice(lang: Lang, kind_id: &str) -> Option<String> {
    catalog::kind(kind_id).map(|kind| text(lang, &advice_id(kind.id)))
}

/// The advice a finding carries, in `lang`: the catalogue's general advice is given in `lang`; advice
/// written for what was found (the local inventory's, naming a program's setting) is kept as written.
pub fn recorded_advice(lang: Lang, kind_id: &str, advice: &str) -> String {
    match catalog::kind(kind_id) {
        Some(kind) if kind.advice == advice => text(lang, &advice_id(kind.id)),
        _ => advice.to_string(),
    }
}

/// A severity's word in `lang` (English: `critical`, `high`, `medium`, `low`, `info`, as the outputs spell
/// them).
pub fn severity_word(lang: Lang, severity: Severity) -> String {
    text(lang, &severity_id(severity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::from_core::SEVERITIES;

    #[test]
    fn english_is_the_core_catalogue_itself() {
        for kind in catalog::catalog() {
            assert_eq!(finding_title(Lang::En, kind.id).as_deref(), Some(kind.title), "{}", kind.id);
            assert_eq!(finding_advice(Lang::En, kind.id).as_deref(), Some(kind.advice), "{}", kind.id);
        }
        for severity in SEVERITIES {
            assert_eq!(severity_word(Lang::En, severity), severity.as_str());
        }
    }

    #[test]
    fn every_finding_has_its_japanese_title_and_advice() {
        for kind in catalog::catalog() {
            for (what, text) in
                [("title", finding_title(Lang::Ja, kind.id)), ("advice", finding_advice(Lang::Ja, kind.id))]
            {
                let text = text.unwrap_or_default();
                // Japanese, not the English fallback.
                assert!(text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)), "{} {what}: {text}", kind.id);
                assert!(
                    crate::catalog::message_ids(Lang::Ja)
                        .iter()
                        .any(|id| id.starts_with(&format!("finding-{}-", kind.id)))
                );
            }
        }
        for severity in SEVERITIES {
            assert_ne!(severity_word(Lang::Ja, severity), severity.as_str());
        }
    }

    #[test]
    fn unknown_kinds_and_specific_advice() {
        assert_eq!(finding_title(Lang::Ja, "no-such-finding"), None);
        assert_eq!(finding_advice(Lang::En, "no-such-finding"), None);
        let redis = catalog::REDIS_NOAUTH;
        assert_eq!(recorded_advice(Lang::En, redis.id, redis.advice), redis.advice);
        assert_eq!(recorded_advice(Lang::Ja, redis.id, redis.advice), finding_advice(Lang::Ja, redis.id).unwrap());
        let specific = "Set listen_addresses = 'localhost'";
        assert_eq!(recorded_advice(Lang::Ja, "database-exposed", specific), specific);
        assert_eq!(recorded_advice(Lang::Ja, "no-such-finding", "x"), "x");
    }
}
