//! The test bed's error type: what failed while building, using or tearing down a bed.

use std::io;
use std::process::ExitStatus;

/// Why a test-bed operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The process is not root; namespaces, veths and nft need CAP_NET_ADMIN.
    #[error("not root (effective uid {euid}); the test bed needs CAP_NET_ADMIN and CAP_NET_RAW")]
    NotRoot {
        /// The effective uid the process runs as.
        euid: u32,
    },
    /// Root, but network namespaces cannot be created here (`ip netns add` failed or `ip` is
    /// missing), e.g. inside a container without the mount or netns privileges.
    #[error("network namespaces are unavailable: {reason}")]
    NamespacesUnavailable {
        /// What `ip netns add` (or starting `ip`) reported.
        reason: String,
    },
    /// A helper program could not be started.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line, for the message.
        command: String,
        /// Why it could not start.
        #[source]
        source: io::Error,
    },
    /// A helper program ran and exited unsuccessfully.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, for the message.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it wrote to stderr, trimmed.
        stderr: String,
    },
    /// A thread could not join a network namespace with `setns(2)`.
    #[error("cannot enter network namespace {namespace}: {source}")]
    Setns {
        /// The namespace name.
        namespace: String,
        /// Why `open` or `setns` failed.
        #[source]
        source: io::Error,
    },
    /// Any other I/O failure; `what` says which operation.
    #[error("{what}: {source}")]
    Io {
        /// The operation that failed, e.g. "bind 0.0.0.0:80".
        what: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A program the test bed needs is not installed (e.g. Debian's `postgresql` package for
    /// [`PgServer`](crate::postgres::PgServer)); `scripts/test` installs them.
    #[error("{program} is not installed (run scripts/test)")]
    NotInstalled {
        /// The first missing program (or system user).
        program: String,
    },
    /// A server the test started (PostgreSQL) failed to start or did not become ready.
    #[error("{what}; log tail:\n{log_tail}")]
    Server {
        /// What failed, e.g. "start /usr/lib/postgresql/17/bin/postgres: postgres exited (...)".
        what: String,
        /// The last lines of the server's log.
        log_tail: String,
    },
    /// A WebDriver command of a [`Browser`](crate::browser::Browser) failed (an element not found in
    /// time, a click on nothing, chromedriver gone); `what` says which command, with its argument.
    #[error("browser: {what}: {reason}")]
    Browser {
        /// The command, e.g. "click #go".
        what: String,
        /// What chromedriver (or the wait) reported.
        reason: String,
    },
    /// An argument the bed refuses, e.g. a route outside the test ranges or too many targets.
    #[error("invalid test-bed argument: {0}")]
    Invalid(String),
}

impl Error {
    /// True when the error means "this machine cannot host a test bed" (not root, no network
    /// namespaces, a package not installed) rather than "the bed is broken". Only these may
    /// turn into a skip.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::NotRoot { .. } | Error::NamespacesUnavailable { .. } | Error::NotInstalled { .. })
    }

    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Error {
        Error::Io { what: what.into(), source }
    }
}

/// `Result` with the test bed's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
