//! Skipping loudly: a test that needs the bed and cannot have one says so on stderr, and
//! under CI (`CI=true`, which runs as root) fails instead, so a broken bed cannot hide as a
//! skip.

use std::io::Write;

use crate::bed::TestBed;

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
    let error = match TestBed::new(targets) {
        Ok(bed) => return Some(bed),
        Err(error) => error,
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("this test");
    let message = format!(
        "SKIPPED: test bed needs root (CAP_NET_ADMIN) and network namespaces; \
         `{test}` did NOT run: {error}"
    );
    if !error.is_unavailable() {
        panic!("test bed is broken, not unavailable: {error}");
    }
    if in_ci() {
        panic!("{message} (CI=true: CI runs as root, so a missing bed is a failure, not a skip)");
    }
    let bar = "!".repeat(78);
    // Straight to the stderr handle, not `eprintln!`: the test harness captures the macros'
    // output of passing tests, and this must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n!!! {message}\n!!! run as root (e.g. `sudo -E cargo test`) to run it\n{bar}\n"
    );
    None
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
