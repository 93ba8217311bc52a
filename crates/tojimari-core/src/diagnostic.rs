//! What a library has to tell the user besides its data, as values: a [`Diagnostic`] has a [`Level`], a
//! message (its `Display`) and maybe a hint. Libraries hand them to a callback; only the binary prints them,
//! and [`render`] is the one format every message takes:
//!
//! ```text
//! error: MESSAGE (hint: HINT)
//! warning: MESSAGE
//! note: MESSAGE
//! ```
//!
//! Three levels only: `error` (the run failed or a step of it did), `warning` (something was skipped or may
//! be wrong, the run goes on), `note` (worth knowing, nothing is wrong). One line each: a message never
//! carries its own prefix, newline or hint.

use std::fmt;

/// How much a [`Diagnostic`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The run, or one of its steps, failed.
    Error,
    /// Something was skipped or may be wrong; the run goes on.
    Warning,
    /// Worth knowing; nothing is wrong.
    Note,
}

impl Level {
    /// `error`, `warning` or `note`: the prefix before the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message for the user: its `Display` is the message alone (no prefix, no hint, no newline).
pub trait Diagnostic: fmt::Display {
    /// How much it matters.
    fn level(&self) -> Level;

    /// What to do about it, when something helps.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// What the privilege of sending or capturing raw packets takes, in the words every message uses.
pub const RAW_PRIVILEGE: &str = "root (or the CAP_NET_RAW capability)";

/// The hint after a message that [`RAW_PRIVILEGE`] is lacking: become root, or do without (`instead` says
/// how).
pub fn raw_privilege_hint(instead: &str) -> String {
    format!("run it as root (sudo), or {instead}")
}

/// `MESSAGE (hint: HINT)`: the one way a hint follows a message.
pub fn with_hint(message: impl fmt::Display, hint: Option<impl fmt::Display>) -> String {
    match hint {
        Some(hint) => format!("{message} (hint: {hint})"),
        None => message.to_string(),
    }
}

/// The one line of a diagnostic, without its newline: `LEVEL: MESSAGE` and ` (hint: HINT)` when it has one.
pub fn render(diagnostic: &dyn Diagnostic) -> String {
    format!("{}: {}", diagnostic.level(), with_hint(diagnostic, diagnostic.hint()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sample(Level, Option<&'static str>);

    impl fmt::Display for Sample {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("no targets given")
        }
    }

    impl Diagnostic for Sample {
        fn level(&self) -> Level {
            self.0
        }
        fn hint(&self) -> Option<String> {
            self.1.map(str::to_owned)
        }
    }

    #[test]
    fn one_line_with_its_level_and_hint() {
        assert_eq!(
            render(&Sample(Level::Error, Some("give a target"))),
            "error: no targets given (hint: give a target)"
        );
        assert_eq!(render(&Sample(Level::Warning, None)), "warning: no targets given");
        assert_eq!(render(&Sample(Level::Note, None)), "note: no targets given");
    }

    #[test]
    fn the_privilege_hint_names_root_and_the_way_around() {
        assert_eq!(raw_privilege_hint("use -sT"), "run it as root (sudo), or use -sT");
        assert_eq!(RAW_PRIVILEGE, "root (or the CAP_NET_RAW capability)");
    }
}
