//! Why a daemon could not be started: not installed, a setup step failed, it exited, or it
//! did not answer in time. The last two carry the tail of its logs.

use std::process::ExitStatus;
use std::time::Duration;

use super::Daemon;

/// Why [`start`](super::start) failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A program the daemon needs is missing (run `scripts/test`).
    #[error("{daemon} is not installed: {program} is missing (run scripts/test)")]
    NotInstalled {
        /// The daemon.
        daemon: Daemon,
        /// The first missing program.
        program: String,
    },
    /// Preparing the daemon failed: its directory, configuration, keys or certificates, or
    /// spawning it.
    #[error("{daemon}: {step}: {source}")]
    Setup {
        /// The daemon.
        daemon: Daemon,
        /// What was being done, e.g. "generate host keys".
        step: String,
        /// The underlying failure.
        #[source]
        source: crate::Error,
    },
    /// The daemon exited before all its ports answered.
    #[error("{daemon} exited during startup ({status}); log tail:\n{log_tail}")]
    Exited {
        /// The daemon.
        daemon: Daemon,
        /// Its exit status.
        status: ExitStatus,
        /// The last lines of its logs.
        log_tail: String,
    },
    /// The daemon kept running but a port did not answer within the startup time.
    #[error("{daemon} not ready after {waited:?}: {what} did not answer; log tail:\n{log_tail}")]
    NotReady {
        /// The daemon.
        daemon: Daemon,
        /// How long we waited.
        waited: Duration,
        /// The check that failed, e.g. "tcp 198.18.0.2:25 banner `ESMTP Exim`".
        what: String,
        /// The last lines of its logs.
        log_tail: String,
    },
}

impl DaemonError {
    pub(super) fn setup(daemon: Daemon, step: impl Into<String>, source: crate::Error) -> DaemonError {
        DaemonError::Setup { daemon, step: step.into(), source }
    }

    pub(super) fn io(daemon: Daemon, step: impl Into<String>, source: std::io::Error) -> DaemonError {
        let step = step.into();
        DaemonError::Setup { daemon, source: crate::Error::io(step.clone(), source), step }
    }
}
