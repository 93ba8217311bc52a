//! Skipping loudly: a test that needs the bed (or a PostgreSQL server) and cannot have one
//! says so on stderr, and under CI (`CI=true`, which runs as root) fails instead, so a broken
//! bed cannot hide as a skip.

use std::io::Write;

use crate::Error;
use crate::bed::TestBed;
use crate::postgres::PgServer;

/// Builds a bed with `targets` targets, or explains why not.
///
/// - The bed could be built: `Some(bed)`.
/// - This machine cannot host one (not root, no network namespaces) and `CI` is not `true`:
///   prints a loud `SKIPPED:` banner to stderr and returns `None`.
/// - Under `CI=true`, or for any other error (a real fault in the bed): panics.
///
/// Most tests want the [`testbed_or_skip!`](crate::testbed_or_skip) macro, which returns
/// from the test on `None`.
pub fn bed_or_skip(targets: usize) -> Option<TestBed> {
    match TestBed::new(targets) {
        Ok(bed) => Some(bed),
        Err(error) => {
            skip_or_panic("test bed", "root (CAP_NET_ADMIN) and network namespaces", &error);
            None
        }
    }
}

/// Starts a [`PgServer`], or explains why not: like [`bed_or_skip`], skipping loudly only
/// where PostgreSQL is not installed or we are not root (and `CI` is not `true`), panicking
/// on any other error. Most tests want the [`pg_or_skip!`](crate::pg_or_skip!) macro.
pub fn pg_or_skip() -> Option<PgServer> {
    match PgServer::start() {
        Ok(server) => Some(server),
        Err(error) => {
            skip_or_panic("PostgreSQL server", "root and Debian's postgresql package", &error);
            None
        }
    }
}

/// Panics unless `error` is [`is_unavailable`](Error::is_unavailable) and we are not under
/// CI; otherwise prints the loud `SKIPPED:` banner naming the current test.
pub(crate) fn skip_or_panic(thing: &str, needs: &str, error: &Error) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("this test");
    let message = format!("SKIPPED: {thing} needs {needs}; `{test}` did NOT run: {error}");
    if !error.is_unavailable() {
        panic!("{thing} is broken, not unavailable: {error}");
    }
    if in_ci() {
        panic!("{message} (CI=true: CI runs as root, so a missing {thing} is a failure, not a skip)");
    }
    let bar = "!".repeat(78);
    // Straight to the stderr handle, not `eprintln!`: the test harness captures the macros'
    // output of passing tests, and this must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! {message}\n!!! run as root (e.g. `sudo -E cargo test`) after scripts/test to run it\n{bar}\n"
    );
}

/// Whether the `CI` variable says we run under CI (`true` or `1`, any case).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `let bed = testbed_or_skip!(2);` builds a bed with 2 targets, or returns from the (unit-
/// returning) test after a loud `SKIPPED:` message, or panics under `CI=true`.
/// See [`bed_or_skip`].
#[macro_export]
macro_rules! testbed_or_skip {
    ($targets:expr) => {
        match $crate::bed_or_skip($targets) {
            Some(bed) => bed,
            None => return,
        }
    };
}

/// `let pg = pg_or_skip!();` starts a [`PgServer`](crate::PgServer), or returns from the
/// (unit-returning) test after a loud `SKIPPED:` message, or panics under `CI=true`.
/// See [`pg_or_skip`](fn@crate::pg_or_skip).
#[macro_export]
macro_rules! pg_or_skip {
    () => {
        match $crate::pg_or_skip() {
            Some(server) => server,
            None => return,
        }
    };
}
