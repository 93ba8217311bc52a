//! Integration tests of `tojimari watch` on the test bed (root): real scans detected and
//! named, benign traffic silent, capture and log replay, interfaces going away, a long series
//! of scans against one watcher (one incident each, closed with true totals), and clear
//! errors for bad input.

mod benign;
mod interfaces;
mod replay;
mod scans;
mod series;
mod support;
