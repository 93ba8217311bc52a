//! `tojimari export`: a real SYN scan of a test-bed host (open, closed, dropped and prohibited ports, more
//! than 25 closed so they fold) recorded with `--db`, then exported again with `-oA`: all four files equal
//! what the scan wrote, byte for byte. Bad input: a scan that is not there, or not a number, is a usage
//! error that creates no file.

mod support;

use support::*;
use tojimari_testbed::{firewall, testbed_or_skip};

fn tojimari(ns: &tojimari_testbed::Netns, args: &[&str]) -> std::process::Output {
    ns.command(env!("CARGO_BIN_EXE_tojimari")).args(args).output().unwrap()
}

#[test]
fn an_exported_scan_equals_the_files_the_scan_wrote() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _listeners = target.listen_tcp(&[22, 80]).unwrap();
    target.unlimit_icmp().unwrap();
    target.firewall(&firewall::drop_tcp(&[81, 82])).unwrap();
    target.firewall(&firewall::reject_admin_prohibited(&[83])).unwrap();
    let scratch = Scratch::new("export");
    let db = scratch.path("store.db");
    let live = scratch.path("live");
    let addr = target.v4.to_string();
    let out = tojimari(
        bed.scanner(),
        &["scan", "-sS", "-Pn", "-p", "1-100", "--reason", "--db", &db, "-oA", &live, "--no-progress", &addr],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = scratch.path("again");
    let out = tojimari(bed.scanner(), &["export", "latest", "--db", &db, "-oA", &again]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for ext in ["nmap", "xml", "gnmap", "jsonl"] {
        let a = std::fs::read_to_string(format!("{live}.{ext}")).unwrap();
        let b = std::fs::read_to_string(format!("{again}.{ext}")).unwrap();
        assert!(a.contains("22"), "{ext}: {a}");
        assert_eq!(a, b, "{ext} differs");
    }
    // The same scan by its number, to standard output as JSON Lines.
    let out = tojimari(bed.scanner(), &["export", "1", "--db", &db, "-oJ", "-"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), std::fs::read_to_string(format!("{live}.jsonl")).unwrap());

    // Bad input: no such scan, not a scan; no file is created either way.
    let none = scratch.path("none.xml");
    for (which, says) in [("7", "has no scan 7"), ("seven", "is not a scan")] {
        let out = tojimari(bed.scanner(), &["export", which, "--db", &db, "-oX", &none]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says) && stderr.contains("hint:"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!std::path::Path::new(&none).exists());
    }
}
