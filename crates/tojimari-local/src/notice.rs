//! What `tojimari local` tells the user besides its data, as values: the caller (the CLI) prints them in its
//! one format ([`tojimari_core::diagnostic::render`]), and chooses the exit status from the run's
//! [`crate::Outcome`].

use std::fmt;

use tojimari_core::diagnostic::{Diagnostic, Level};

use crate::inventory::Privilege;
use crate::stop::Refusal;

/// One message of a `local` run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Some sockets had no visible owner, or some processes could not be read: the "could not see" sentence.
    Visibility(String),
    /// `--stop` will not stop a holder of `what` (the port).
    Refused { what: String, refusal: Refusal },
    /// `--stop`: the user answered no.
    Declined,
    /// `--stop`: standard input ended before an answer.
    NoAnswer,
    /// `--stop` without `--yes`, and standard input is not a terminal to ask on.
    NotATerminal,
    /// `--stop`: the holders of `what` changed while the question waited; nothing was done.
    HoldersChanged { what: String },
    /// A unit was stopped; `command` (`systemctl disable UNIT`) keeps it off after a reboot.
    KeepOff { command: String },
    /// `systemctl stop` failed: the command, its exit status and the first line it wrote on stderr.
    UnitFailed { command: String, status: String, reason: String },
    /// `program` (systemctl) could not be started.
    CannotRun { program: String, error: String },
    /// A process could not be signalled (`error`: the errno's description).
    CannotSignal { pid: u32, name: String, error: String, privilege: Privilege },
    /// Processes still alive after SIGKILL.
    Stuck { name: String, pids: String },
    /// After the stop, `what` is still held by `holders`; `hint` says what that suggests.
    StillOpen { what: String, holders: String, hint: &'static str },
}

impl Diagnostic for Notice {
    fn level(&self) -> Level {
        match self {
            Notice::Visibility(_) | Notice::Declined | Notice::NoAnswer | Notice::KeepOff { .. } => Level::Note,
            Notice::Refused { .. }
            | Notice::NotATerminal
            | Notice::HoldersChanged { .. }
            | Notice::UnitFailed { .. }
            | Notice::CannotRun { .. }
            | Notice::CannotSignal { .. }
            | Notice::Stuck { .. }
            | Notice::StillOpen { .. } => Level::Error,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            Notice::Refused { refusal, .. } => refusal.hint(),
            Notice::NotATerminal => "add --yes to stop without asking",
            Notice::HoldersChanged { .. } => "run the command again to see them",
            Notice::CannotRun { .. } => "a systemd unit is stopped with systemctl",
            Notice::CannotSignal { privilege: Privilege::Unprivileged, .. } => "run as root",
            Notice::CannotSignal { privilege: Privilege::Root, .. } => {
                "a security module (AppArmor, SELinux) or a container may forbid it"
            }
            Notice::Stuck { .. } => {
                "a process in uninterruptible sleep, state D in ps, ends only when the kernel lets go"
            }
            Notice::StillOpen { hint, .. } => hint,
            Notice::Visibility(_)
            | Notice::Declined
            | Notice::NoAnswer
            | Notice::KeepOff { .. }
            | Notice::UnitFailed { .. } => return None,
        };
        Some(hint.to_owned())
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Visibility(note) => f.write_str(note),
            Notice::Refused { what, refusal } => write!(f, "cannot stop {what}: {refusal}"),
            Notice::Declined => f.write_str("nothing was stopped"),
            Notice::NoAnswer => f.write_str("nothing was stopped (no answer)"),
            Notice::NotATerminal => f.write_str("nothing was stopped: standard input is not a terminal to ask on"),
            Notice::HoldersChanged { what } => {
                write!(f, "nothing was stopped: the holders of {what} changed while waiting for the answer")
            }
            Notice::KeepOff { command } => write!(f, "`{command}` keeps it off after a reboot"),
            Notice::UnitFailed { command, status, reason } => write!(f, "`{command}` failed ({status}): {reason}"),
            Notice::CannotRun { program, error } => write!(f, "cannot run {program}: {error}"),
            Notice::CannotSignal { pid, name, error, .. } => write!(f, "cannot signal pid {pid} ({name}): {error}"),
            Notice::Stuck { name, pids } => write!(f, "{name} ({pids}) still alive after SIGKILL"),
            Notice::StillOpen { what, holders, .. } => write!(f, "{what} is still open, held by {holders}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use tojimari_core::diagnostic::render;

    use super::*;

    #[test]
    fn the_lines_a_user_reads() {
        assert_eq!(render(&Notice::Declined), "note: nothing was stopped");
        assert_eq!(render(&Notice::NoAnswer), "note: nothing was stopped (no answer)");
        assert_eq!(
            render(&Notice::NotATerminal),
            "error: nothing was stopped: standard input is not a terminal to ask on (hint: add --yes to stop \
             without asking)"
        );
        let refused = Notice::Refused { what: "port 80/tcp".into(), refusal: Refusal::Init { name: "systemd".into() } };
        let line = render(&refused);
        assert!(line.starts_with("error: cannot stop port 80/tcp: pid 1 (systemd) holds the port"), "{line}");
        assert!(line.ends_with("by its own means)"), "{line}");
        let signal = Notice::CannotSignal {
            pid: 7,
            name: "nginx".into(),
            error: "Operation not permitted".into(),
            privilege: Privilege::Unprivileged,
        };
        assert_eq!(render(&signal), "error: cannot signal pid 7 (nginx): Operation not permitted (hint: run as root)");
    }
}
