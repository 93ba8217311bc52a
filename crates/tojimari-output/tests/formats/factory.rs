//! `tojimari_output::sink` builds the right format for each flag.

use tojimari_core::report::RunExit;
use tojimari_output::{Format, sink};

use crate::fixtures::*;

fn first_line(format: Format, stdout: bool) -> String {
    let capture = Capture::default();
    let mut s = sink(format, capture.writer(), stdout);
    let (scans, host) = three_open();
    feed(s.as_mut(), &run_info("t", scans, display(false, false, 0)), &[host], &summary(1, 1, 0, RunExit::Success));
    capture.text().lines().next().unwrap().to_string()
}

#[test]
fn each_format_and_destination() {
    assert_eq!(first_line(Format::Normal, true), "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC");
    assert_eq!(first_line(Format::Normal, false), "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: t");
    assert_eq!(first_line(Format::Xml, false), r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    assert_eq!(first_line(Format::Grepable, true), "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: t");
    assert!(first_line(Format::JsonLines, true).starts_with(r#"{"type":"run","#));
}
