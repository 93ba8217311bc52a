//! The languages tojimari speaks, and how the reader's is chosen: from a browser's `Accept-Language`
//! header (RFC 9110 §12.5.4, q-values honoured) or from the POSIX locale variables (`LC_ALL`, then
//! `LC_MESSAGES`, then `LANG`; `C` and `POSIX` mean English).
//!
//! Everything here is pure except [`Lang::from_env`], which only reads the three variables and hands them to
//! [`Lang::from_env_vars`].

use unic_langid::LanguageIdentifier;

/// A language with a catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// Every language, English (the default) first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// The primary language subtag: `en`, `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's name in itself, as a language selector shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// A language tag or a POSIX locale name, if it names a language with a catalogue: `en`, `ja`, `ja-JP`,
    /// `JA`, `en_US.UTF-8`, `ja_JP.eucJP@modifier`. Region, script, encoding and modifier are ignored;
    /// `C`, `POSIX`, `*`, empty and malformed names are `None`.
    pub fn parse(text: &str) -> Option<Lang> {
        // POSIX locale names: language[_territory][.codeset][@modifier].
        let text = text.trim();
        let text = text.split_once('@').map_or(text, |(before, _)| before);
        let text = text.split_once('.').map_or(text, |(before, _)| before);
        if text.is_empty() || text.eq_ignore_ascii_case("C") || text.eq_ignore_ascii_case("POSIX") {
            return None;
        }
        let id: LanguageIdentifier = text.replace('_', "-").parse().ok()?;
        Lang::ALL.into_iter().find(|lang| id.language.as_str() == lang.code())
    }

    /// The best language of an `Accept-Language` header that has a catalogue: the highest q-value wins,
    /// earlier entries win ties, `q=0` means "not this one". `None` when no entry names one (then the
    /// caller falls back, to English or to the locale). Malformed entries are skipped, never an error.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut candidates: Vec<(u16, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(index, entry)| {
                let mut parts = entry.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let quality = parts.map(str::trim).find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")));
                let quality = match quality {
                    Some(q) => parse_quality(q)?,
                    None => 1000,
                };
                (quality > 0).then_some((quality, index, lang))
            })
            .collect();
        // Highest quality first; among equals, the order the browser gave.
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.first().map(|(_, _, lang)| *lang)
    }

    /// The language of the POSIX locale variables, given as values (`None` or empty is unset): the first
    /// set one of `LC_ALL`, `LC_MESSAGES`, `LANG` decides, as POSIX orders them. `C`, `POSIX`, a language
    /// without a catalogue, or nothing set at all: English.
    pub fn from_env_vars(lc_all: Option<&str>, lc_messages: Option<&str>, lang: Option<&str>) -> Lang {
        [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|value| !value.is_empty())
            .and_then(Lang::parse)
            .unwrap_or(Lang::En)
    }

    /// The language of this process's locale variables ([`Lang::from_env_vars`] over `LC_ALL`,
    /// `LC_MESSAGES`, `LANG`).
    pub fn from_env() -> Lang {
        let var = |name: &str| std::env::var(name).ok();
        Lang::from_env_vars(var("LC_ALL").as_deref(), var("LC_MESSAGES").as_deref(), var("LANG").as_deref())
    }

    /// The language of a web request: the reader's own choice (the page's selector, kept in a cookie or a
    /// query parameter) when it names a language, else the best of the browser's `Accept-Language`, else
    /// `fallback` (the server's locale: [`Lang::from_env`]).
    pub fn negotiate(chosen: Option<&str>, accept_language: Option<&str>, fallback: Lang) -> Lang {
        chosen
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(fallback)
    }
}

/// An RFC 9110 qvalue (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed or above 1.
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match whole {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let fraction = format!("{fraction:0<3}").parse::<u16>().ok()?;
    let quality = whole + fraction;
    (quality <= 1000).then_some(quality)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names() {
        assert_eq!(Lang::ALL.map(Lang::code), ["en", "ja"]);
        assert_eq!(Lang::ALL.map(Lang::name), ["English", "日本語"]);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
    }

    #[test]
    fn parse_takes_tags_and_locale_names() {
        for (text, want) in [
            ("en", Some(Lang::En)),
            ("ja", Some(Lang::Ja)),
            ("JA", Some(Lang::Ja)),
            ("ja-JP", Some(Lang::Ja)),
            ("ja_JP.UTF-8", Some(Lang::Ja)),
            ("ja_JP.eucJP@euro", Some(Lang::Ja)),
            ("en_US.UTF-8", Some(Lang::En)),
            ("en-Latn-GB", Some(Lang::En)),
            (" en ", Some(Lang::En)),
            ("fr_FR.UTF-8", None),
            ("C", None),
            ("C.UTF-8", None),
            ("POSIX", None),
            ("", None),
            ("*", None),
            ("j", None),
            ("ja-JP-!!", None),
        ] {
            assert_eq!(Lang::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn accept_language_honours_q_values() {
        for (header, want) in [
            ("ja", Some(Lang::Ja)),
            ("ja,en-US;q=0.9,en;q=0.8", Some(Lang::Ja)),
            ("en-US,en;q=0.9,ja;q=0.8", Some(Lang::En)),
            ("en;q=0.5, ja;q=0.7", Some(Lang::Ja)),
            ("fr-FR,fr;q=0.9,ja;q=0.8,en;q=0.7", Some(Lang::Ja)),
            ("fr, de;q=0.5", None),
            ("ja;q=0, en;q=0.1", Some(Lang::En)),
            ("ja;q=0", None),
            ("*", None),
            ("", None),
            // Malformed q-values drop their entry, not the header.
            ("ja;q=2, en;q=0.3", Some(Lang::En)),
            ("ja;q=abc, en", Some(Lang::En)),
            ("ja;q=0.1234, en;q=0.001", Some(Lang::En)),
            // Equal q-values: the first listed wins.
            ("en;q=0.5, ja;q=0.5", Some(Lang::En)),
            ("ja-JP ; q=1.0 , en", Some(Lang::Ja)),
            (",,;;q=,ja", Some(Lang::Ja)),
        ] {
            assert_eq!(Lang::from_accept_language(header), want, "{header:?}");
        }
    }

    #[test]
    fn env_follows_posix_precedence() {
        let ja = Some("ja_JP.UTF-8");
        let en = Some("en_US.UTF-8");
        assert_eq!(Lang::from_env_vars(None, None, ja), Lang::Ja);
        assert_eq!(Lang::from_env_vars(None, None, None), Lang::En);
        assert_eq!(Lang::from_env_vars(Some(""), Some(""), ja), Lang::Ja);
        assert_eq!(Lang::from_env_vars(None, en, ja), Lang::En);
        assert_eq!(Lang::from_env_vars(ja, en, en), Lang::Ja);
        assert_eq!(Lang::from_env_vars(Some("C"), None, ja), Lang::En);
        assert_eq!(Lang::from_env_vars(None, Some("POSIX"), ja), Lang::En);
        assert_eq!(Lang::from_env_vars(None, None, Some("C.UTF-8")), Lang::En);
        // The first set variable decides even when it names a language without a catalogue.
        assert_eq!(Lang::from_env_vars(Some("fr_FR.UTF-8"), None, ja), Lang::En);
    }

    #[test]
    fn a_request_takes_the_choice_then_the_browser_then_the_server() {
        let browser = Some("ja,en;q=0.5");
        assert_eq!(Lang::negotiate(Some("en"), browser, Lang::Ja), Lang::En);
        assert_eq!(Lang::negotiate(None, browser, Lang::En), Lang::Ja);
        assert_eq!(Lang::negotiate(Some("klingon"), browser, Lang::En), Lang::Ja);
        assert_eq!(Lang::negotiate(None, Some("fr"), Lang::Ja), Lang::Ja);
        assert_eq!(Lang::negotiate(None, None, Lang::En), Lang::En);
    }

    #[test]
    fn qualities() {
        assert_eq!(parse_quality("1"), Some(1000));
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("1.001"), None);
        assert_eq!(parse_quality("0.5"), Some(500));
        assert_eq!(parse_quality("0.05"), Some(50));
        assert_eq!(parse_quality("0"), Some(0));
        assert_eq!(parse_quality(""), None);
        assert_eq!(parse_quality("0.-1"), None);
    }
}
