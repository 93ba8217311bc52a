//! Integration tests of `tojimari watch` on the test bed (root): real scans detected and
//! named, benign traffic silent, capture and log replay, interfaces going away, a long series
//! of scans against one watcher (one incident each, closed with true totals), and clear
//! errors for bad input.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod benign;
mod interfaces;
mod replay;
mod scans;
mod series;
mod support;
