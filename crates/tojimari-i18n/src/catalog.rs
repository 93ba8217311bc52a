//! The catalogues: one Fluent bundle per language, built once on first use from the `.ftl` files embedded
//! in the binary (and, for English, the texts tojimari-core defines: [`crate::from_core`]), and the lookups.
//!
//! A lookup never fails: a message missing from a language falls back to English, and a message missing
//! from English too comes back as its id, so a typo shows on the page instead of taking it down. The
//! catalogue test (`src/consistency.rs`) keeps both catalogues complete, so neither fallback happens in a
//! release. Unicode isolation marks are off: the texts go to terminals and HTML, where they would show as
//! stray characters, and English output stays byte-identical to the texts it replaced.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast::Entry;
use unic_langid::LanguageIdentifier;

use crate::Lang;

/// The English catalogue's source.
pub(crate) const EN_FTL: &str = include_str!("../locales/en.ftl");
/// The Japanese catalogue's source.
pub(crate) const JA_FTL: &str = include_str!("../locales/ja.ftl");

/// A value for a message's variable (`{ $name }`): text or a number (numbers also choose plural forms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TextArg<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
}

impl<'a> From<&'a str> for TextArg<'a> {
    fn from(text: &'a str) -> Self {
        TextArg::Str(text)
    }
}

impl<'a> From<&'a String> for TextArg<'a> {
    fn from(text: &'a String) -> Self {
        TextArg::Str(text)
    }
}

impl From<f64> for TextArg<'_> {
    fn from(n: f64) -> Self {
        TextArg::Float(n)
    }
}

macro_rules! int_args {
    ($($t:ty)*) => {$(
        impl From<$t> for TextArg<'_> {
            fn from(n: $t) -> Self {
                TextArg::Int(i64::from(n))
            }
        }
    )*};
}
int_args!(u8 u16 u32 i32 i64);

impl From<usize> for TextArg<'_> {
    fn from(n: usize) -> Self {
        TextArg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u64> for TextArg<'_> {
    fn from(n: u64) -> Self {
        TextArg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl<'a> From<TextArg<'a>> for FluentValue<'a> {
    fn from(arg: TextArg<'a>) -> Self {
        match arg {
            TextArg::Str(text) => FluentValue::from(text),
            TextArg::Int(n) => FluentValue::from(n),
            TextArg::Float(n) => FluentValue::from(n),
        }
    }
}

/// One language's parsed sources and the bundle over them.
struct Catalogue {
    bundle: FluentBundle<&'static FluentResource>,
}

/// The sources of a language's catalogue, in the order they are added.
pub(crate) fn sources(lang: Lang) -> Vec<String> {
    match lang {
        Lang::En => vec![EN_FTL.to_string(), crate::from_core::english_source()],
        Lang::Ja => vec![JA_FTL.to_string()],
    }
}

/// Every language's resources, parsed once and kept for the life of the process (the bundles borrow them).
static RESOURCES: LazyLock<Vec<(Lang, Vec<FluentResource>)>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|lang| {
            // A resource with syntax errors keeps the messages that parsed; the catalogue test fails on any.
            let resources = sources(lang)
                .into_iter()
                .map(|source| FluentResource::try_new(source).unwrap_or_else(|(partial, _errors)| partial))
                .collect();
            (lang, resources)
        })
        .collect()
});

static CATALOGUES: LazyLock<Vec<(Lang, Catalogue)>> = LazyLock::new(|| {
    RESOURCES
        .iter()
        .map(|(lang, resources)| {
            let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            for resource in resources {
                // A duplicate id keeps its first definition; the catalogue test fails on any.
                let _ = bundle.add_resource(resource);
            }
            (*lang, Catalogue { bundle })
        })
        .collect()
});

fn catalogue(lang: Lang) -> Option<&'static Catalogue> {
    CATALOGUES.iter().find(|(l, _)| *l == lang).map(|(_, c)| c)
}

/// The message ids of a language's catalogue, in source order.
pub(crate) fn message_ids(lang: Lang) -> Vec<&'static str> {
    RESOURCES
        .iter()
        .filter(|(l, _)| *l == lang)
        .flat_map(|(_, resources)| resources.iter())
        .flat_map(|resource| resource.entries())
        .filter_map(|entry| match entry {
            Entry::Message(message) => Some(message.id.name),
            _ => None,
        })
        .collect()
}

/// Every message id (the English catalogue's; the catalogue test keeps the others equal), so that other
/// crates' tests can check the ids they use exist.
pub fn ids() -> impl Iterator<Item = &'static str> {
    message_ids(Lang::En).into_iter()
}

/// Whether `id` is a message of the catalogues.
pub fn has(id: &str) -> bool {
    catalogue(Lang::En).is_some_and(|c| c.bundle.has_message(id))
}

/// The text of message `id` in `lang` (a message without variables). Falls back to English, then to `id`.
pub fn text(lang: Lang, id: &str) -> String {
    text_with(lang, id, &[])
}

/// The text of message `id` in `lang` with its variables set. A variable the message uses but `args`
/// lacks shows as `{$name}`. Falls back to English, then to `id`.
pub fn text_with(lang: Lang, id: &str, args: &[(&str, TextArg)]) -> String {
    [lang, Lang::En].into_iter().find_map(|lang| format(lang, id, None, args)).unwrap_or_else(|| id.to_string())
}

/// The text of attribute `attribute` of message `id` (`id.attribute` in Fluent) in `lang`, falling back as
/// [`text_with`] does (to `id.attribute` last).
pub fn attribute_with(lang: Lang, id: &str, attribute: &str, args: &[(&str, TextArg)]) -> String {
    [lang, Lang::En]
        .into_iter()
        .find_map(|lang| format(lang, id, Some(attribute), args))
        .unwrap_or_else(|| format!("{id}.{attribute}"))
}

/// A message (or its attribute) formatted, if `lang`'s catalogue has it.
fn format(lang: Lang, id: &str, attribute: Option<&str>, args: &[(&str, TextArg)]) -> Option<String> {
    let bundle = &catalogue(lang)?.bundle;
    let message = bundle.get_message(id)?;
    let pattern = match attribute {
        Some(name) => message.get_attribute(name)?.value(),
        None => message.value()?,
    };
    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        fluent_args.set(*name, *value);
    }
    // Formatting errors (a missing variable) leave a readable placeholder in the text; nothing to report.
    let mut errors = Vec::new();
    Some(bundle.format_pattern(pattern, Some(&fluent_args), &mut errors).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ids_come_back_as_themselves() {
        for lang in Lang::ALL {
            assert_eq!(text(lang, "no-such-message"), "no-such-message");
            assert_eq!(attribute_with(lang, "no-such-message", "x", &[]), "no-such-message.x");
        }
        assert!(!has("no-such-message"));
        assert!(has("language"));
    }

    #[test]
    fn variables_are_filled_without_isolation_marks() {
        let en = text_with(Lang::En, "advice-default", &[("port", 8080u16.into())]);
        assert!(en.contains("`tojimari local --port 8080`"), "{en}");
        assert!(!en.contains('\u{2068}') && !en.contains('\u{2069}'), "{en:?}");
        let ja = text_with(Lang::Ja, "advice-default", &[("port", 8080u16.into())]);
        assert!(ja.contains("`tojimari local --port 8080`") && ja.contains("ファイアウォール"), "{ja}");
        // A variable left out shows as a placeholder instead of failing.
        assert!(text(Lang::En, "advice-default").contains("{$port}"));
        // Strings, floats and large numbers.
        assert_eq!(text_with(Lang::En, "check-banner", &[("banner", "SSH-2.0-x".into())]), "banner: SSH-2.0-x");
        let big = text_with(Lang::En, "check-verdict-counts", &[("total", 65536usize.into()), ("open", 1.5f64.into())]);
        assert!(big.contains("65536 ports") && big.contains("1.5 OPEN"), "{big}");
    }

    #[test]
    fn texts_differ_by_language() {
        assert_eq!(text(Lang::En, "language"), "Language");
        assert_eq!(text(Lang::Ja, "language"), "言語");
    }
}
