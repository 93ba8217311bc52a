//! How the `tojimari` binary talks to the user on standard error: the one diagnostic printer of every
//! subcommand. Libraries hand it values ([`tojimari_core::diagnostic::Diagnostic`]: scan notes, `local`'s
//! and `watch`'s notices and errors); nothing below the CLI writes to stderr.
//!
//! - Three prefixes only: `error:` (the run failed or was refused), `warning:` (something was skipped or may
//!   be wrong, the run goes on) and `note:` (worth knowing, nothing is wrong).
//! - One line per message. A message that can say what to do next ends with ` (hint: HINT)`:
//!   `error: -sF sends raw packets, which needs root (or the CAP_NET_RAW capability) (hint: run it as root ...)`.
//! - One wording for the privilege raw packets need ([`needs_raw`], [`raw_hint`], from
//!   [`tojimari_core::diagnostic::RAW_PRIVILEGE`]).
//! - No colour, so nothing for `NO_COLOR` to turn off; colour added later must respect it.
//!
//! Exit statuses are [`crate::exit::Exit`]'s.

use std::fmt::Display;
use std::io::Write;

pub use tojimari_core::diagnostic::RAW_PRIVILEGE;
use tojimari_core::diagnostic::{self, Diagnostic, Level};

/// `MESSAGE (hint: HINT)`: the one way a hint follows a message.
pub fn with_hint(message: impl Display, hint: impl Display) -> String {
    diagnostic::with_hint(message, Some(hint))
}

/// Prints a diagnostic as its one line on standard error. A stderr that cannot be written is ignored:
/// there is nowhere left to say so.
pub fn report(message: &dyn Diagnostic) {
    let _ = writeln!(std::io::stderr().lock(), "{}", diagnostic::render(message));
}

/// A message with a level, for the CLI's own messages.
struct Plain<'a>(Level, &'a dyn Display);

impl Display for Plain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.1.fmt(f)
    }
}

impl Diagnostic for Plain<'_> {
    fn level(&self) -> Level {
        self.0
    }
}

/// `error: MESSAGE` on standard error.
pub fn error(message: impl Display) {
    report(&Plain(Level::Error, &message));
}

/// `warning: MESSAGE` on standard error.
pub fn warning(message: impl Display) {
    report(&Plain(Level::Warning, &message));
}

/// `note: MESSAGE` on standard error.
pub fn note(message: impl Display) {
    report(&Plain(Level::Note, &message));
}

/// "`what` sends raw packets, which needs root (or the CAP_NET_RAW capability)": the one wording of the
/// privilege error and of the privilege fallback note.
pub fn needs_raw(what: &str) -> String {
    format!("{what} sends raw packets, which needs {RAW_PRIVILEGE}")
}

/// The hint after [`needs_raw`]: become root, or do without (`instead` says how).
pub fn raw_hint(instead: &str) -> String {
    diagnostic::raw_privilege_hint(instead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_follows_the_message_in_parentheses() {
        assert_eq!(with_hint("no targets given", "give a target"), "no targets given (hint: give a target)");
    }

    #[test]
    fn the_privilege_wording_names_root_and_the_capability() {
        let line = with_hint(needs_raw("-sF"), raw_hint("use -sT"));
        assert_eq!(
            line,
            "-sF sends raw packets, which needs root (or the CAP_NET_RAW capability) \
             (hint: run it as root (sudo), or use -sT)"
        );
    }

    #[test]
    fn the_cli_own_messages_take_the_same_format() {
        assert_eq!(diagnostic::render(&Plain(Level::Warning, &"x skipped")), "warning: x skipped");
    }
}
