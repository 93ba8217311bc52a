//! How the `tojimari` binary talks to the user on standard error: one style for every subcommand.
//!
//! - Three prefixes only: `error:` (the run failed or was refused), `warning:` (something was skipped or may
//!   be wrong, the run goes on) and `note:` (worth knowing, nothing is wrong).
//! - One line per message. A message that can say what to do next ends with ` (hint: HINT)`:
//!   `error: -sF sends raw packets, which needs root (or the CAP_NET_RAW capability) (hint: run it as root ...)`.
//! - One wording for the privilege raw packets need ([`needs_raw`], [`raw_hint`]).
//!
//! Exit statuses are `main`'s: see [`crate::EXIT_USAGE`] and [`crate::EXIT_FAILURE`].

use std::fmt::Display;

/// `MESSAGE (hint: HINT)`: the one way a hint follows a message.
pub fn with_hint(message: impl Display, hint: impl Display) -> String {
    format!("{message} (hint: {hint})")
}

/// `error: MESSAGE` on standard error.
pub fn error(message: impl Display) {
    eprintln!("error: {message}");
}

/// `warning: MESSAGE` on standard error.
pub fn warning(message: impl Display) {
    eprintln!("warning: {message}");
}

/// `note: MESSAGE` on standard error.
pub fn note(message: impl Display) {
    eprintln!("note: {message}");
}

/// What sending raw packets takes, in the words every message uses.
pub const RAW_PRIVILEGE: &str = "root (or the CAP_NET_RAW capability)";

/// "`what` sends raw packets, which needs root (or the CAP_NET_RAW capability)": the one wording of the
/// privilege error and of the privilege fallback note.
pub fn needs_raw(what: &str) -> String {
    format!("{what} sends raw packets, which needs {RAW_PRIVILEGE}")
}

/// The hint after [`needs_raw`]: become root, or do without (`instead` says how).
pub fn raw_hint(instead: &str) -> String {
    format!("run it as root (sudo), or {instead}")
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
}
