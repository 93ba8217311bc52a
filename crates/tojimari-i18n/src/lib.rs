//! tojimari's texts for readers, in English and Japanese: one Fluent catalogue per language
//! (`locales/en.ftl`, `locales/ja.ftl`, embedded in the binary), the reader's language chosen from a
//! browser's `Accept-Language` or the locale variables, and the helpers the web pages and `tojimari check`
//! call.
//!
//! - [`Lang`]: the languages, and how one is chosen ([`Lang::from_accept_language`], [`Lang::from_env`]).
//! - [`text`], [`text_with`]: a message by id, with its variables; never fails (a missing id comes back as
//!   itself). [`ids`] lists them for other crates' tests.
//! - [`finding_title`], [`finding_advice`], [`recorded_advice`], [`severity_word`]: exposure findings,
//!   whose English is tojimari-core's catalogue (the one definition) and whose Japanese is `ja.ftl`'s.
//! - [`verdict_label`], [`verdict_help`], [`state_word`]: a port's plain-words verdict
//!   ([`tojimari_core::verdict::Verdict`]) and nmap's port states in the reader's language.
//! - [`width`]: padding by terminal columns, for tables with Japanese words.
//!
//! `docs/web-i18n.md` says how to add a message or a language.

mod catalog;
#[cfg(test)]
mod consistency;
mod findings;
mod from_core;
mod lang;
pub mod width;
mod words;

pub use catalog::{TextArg, attribute_with, has, ids, text, text_with};
pub use findings::{finding_advice, finding_title, recorded_advice, severity_word};
pub use lang::Lang;
pub use words::{state_word, verdict_help, verdict_label};
