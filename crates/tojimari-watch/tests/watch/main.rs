//! Integration tests of `tojimari watch` on the test bed (root): real scans detected and
//! named, benign traffic silent, capture and log replay, interfaces going away, and clear
//! errors for bad input.

mod benign;
mod interfaces;
mod replay;
mod scans;
mod support;
