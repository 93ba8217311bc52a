//! The one table of `tojimari`'s exit statuses (README, "Exit status"). Libraries return outcomes and
//! errors; `main` and the subcommands map them to an [`Exit`] here and nowhere else.

use std::process::ExitCode;

/// Every exit status `tojimari` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success (also when standard output was a pipe closed early, as with `| head`).
    Success,
    /// 1: a runtime failure, or interrupted (Ctrl-C): nothing could be resolved, a file could not be
    /// written, the network failed, raw packets were asked for without the privilege; `local --port N`
    /// when nobody holds N or `--stop` did not leave it closed; `watch` when capture or a file failed.
    Failure,
    /// 2: bad usage (an unknown or contradictory option, an invalid value). Nothing was done.
    Usage,
    /// 130: a second Ctrl-C stopped at once (the shell's 128 + SIGINT).
    Interrupted,
}

impl Exit {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// The `watch` subcommand's result as an exit status.
pub fn of_watch(result: &Result<tojimari_watch::Outcome, tojimari_watch::WatchError>) -> Exit {
    use tojimari_watch::{Outcome, WatchError};
    match result {
        Ok(Outcome::Finished) => Exit::Success,
        Ok(Outcome::FilesFailed { .. }) => Exit::Failure,
        Err(WatchError::Usage(_)) => Exit::Usage,
        Err(_) => Exit::Failure,
    }
}

/// The `local` subcommand's result as an exit status.
pub fn of_local(result: &Result<tojimari_local::Outcome, tojimari_local::LocalError>) -> Exit {
    use tojimari_local::Outcome;
    match result {
        Ok(Outcome::Done) => Exit::Success,
        Ok(Outcome::NotHeld | Outcome::NotStopped) => Exit::Failure,
        Err(_) => Exit::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's table, row by row.
    #[test]
    fn the_codes_of_the_readme_table() {
        let readme = include_str!("../../../README.md");
        let table = &readme[readme.find("## Exit status").unwrap()..];
        for exit in [Exit::Success, Exit::Failure, Exit::Usage, Exit::Interrupted] {
            assert!(table.contains(&format!("\n| {} |", exit.code())), "{exit:?} is not in README's table");
        }
    }

    #[test]
    fn watch_outcomes() {
        use tojimari_watch::{Outcome, WatchError};
        assert_eq!(of_watch(&Ok(Outcome::Finished)), Exit::Success);
        assert_eq!(of_watch(&Ok(Outcome::FilesFailed { failed: 1 })), Exit::Failure);
        assert_eq!(of_watch(&Err(WatchError::Usage("x".into()))), Exit::Usage);
        assert_eq!(of_watch(&Err(WatchError::PermissionDenied)), Exit::Failure);
    }
}
