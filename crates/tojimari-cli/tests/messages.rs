//! What `tojimari local` and `tojimari watch` write, through the binary: their libraries print nothing, so
//! every stderr line comes from the CLI's one printer (`error:`, `warning:` or `note:` and nothing else), the
//! exit status from its one table, and `watch`'s Ctrl-C handling from the CLI's signal handlers.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::testbed_or_skip;

fn tojimari(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).stdin(Stdio::null()).output().expect("run tojimari")
}

/// Every line of `stderr` is one message in the printer's format.
fn assert_one_format(stderr: &str) {
    for line in stderr.lines() {
        assert!(
            ["error: ", "warning: ", "note: "].iter().any(|prefix| line.starts_with(prefix)),
            "a line outside the printer's format: {line:?}\n{stderr}"
        );
        assert!(line.matches("(hint: ").count() <= 1, "{line}");
    }
}

#[test]
fn watch_replay_messages_take_the_one_format() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tojimari-scandetect/tests/captures/nmap-sS.pcap");
    let out = tojimari(&["watch", "--pcap", capture.to_str().unwrap()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_one_format(&stderr);
    assert!(stderr.lines().any(|l| l.starts_with("warning: ") && l.contains("syn scan from")), "{stderr}");
    assert!(stderr.lines().last().is_some_and(|l| l.starts_with("note: ") && l.contains("records replayed")));

    // A replay of a file that is not a capture: an error line, exit 1, the summary still said.
    let not_a_capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let out = tojimari(&["watch", "--pcap", not_a_capture.to_str().unwrap()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_one_format(&stderr);
    assert!(stderr.starts_with("error: ") && stderr.contains("Cargo.toml"), "{stderr}");
}

/// Without CAP_NET_RAW, live watching fails with the one privilege wording and exit 1. As root the
/// capability is dropped from the bounding set with setpriv (util-linux), so the scanner lacks it after
/// exec exactly as an unprivileged user's would; without root it is simply not there.
#[test]
fn watch_without_capture_privilege_says_what_to_do() {
    let bin = env!("CARGO_BIN_EXE_tojimari");
    let out = if nix::unistd::geteuid().is_root() {
        Command::new("setpriv")
            .args(["--bounding-set=-net_raw", "--inh-caps=-net_raw", bin, "watch", "-i", "lo", "--for", "1s"])
            .stdin(Stdio::null())
            .output()
            .expect("setpriv (util-linux) runs")
    } else {
        tojimari(&["watch", "-i", "lo", "--for", "1s"])
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_one_format(&stderr);
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert!(stderr.contains("hint: run it as root (sudo), or replay a capture with --pcap FILE"), "{stderr}");
}

#[test]
fn watch_usage_errors_from_the_library_are_exit_2() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tojimari-scandetect/tests/captures/nmap-sS.pcap");
    let out = tojimari(&["watch", "--pcap", capture.to_str().unwrap(), "--for", "5s"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr, "error: --for applies to live capture, not to --pcap or --log\n");
}

#[test]
fn local_messages_take_the_one_format() {
    let out = tojimari(&["local"]);
    assert_eq!(out.status.code(), Some(0));
    assert_one_format(&String::from_utf8(out.stderr).unwrap());
    // In a fresh namespace nobody holds port 9: exit 1, the answer on stdout, no error.
    let bed = testbed_or_skip!(1);
    let out = bed.target(0).ns.command(env!("CARGO_BIN_EXE_tojimari")).args(["local", "--port", "9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Nobody holds port 9 (tcp or udp).\n");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_one_format(&stderr);
    assert!(!stderr.contains("error:"), "{stderr}");
}

/// Reads `child`'s stderr until it contains `what`, or panics after 10 s.
fn wait_for(stderr: &mut std::process::ChildStderr, seen: &mut String, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    while !seen.contains(what) {
        assert!(Instant::now() < deadline, "no {what:?} in {seen}");
        let n = stderr.read(&mut buf).expect("read stderr");
        assert!(n > 0, "stderr closed before {what:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// Live capture in a test-bed namespace: Ctrl-C ends the watch with its summary and exit 0 (the CLI's
/// handler sets the library's stop flag).
#[test]
fn watch_stops_on_ctrl_c_with_its_summary() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let mut child = ns
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["watch", "-i", "eth0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch");
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    wait_for(&mut stderr, &mut seen, "note: watching eth0 for scans against");
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(sent.success());
    let status = child.wait().unwrap();
    stderr.read_to_string(&mut seen).unwrap();
    assert_eq!(status.code(), Some(0), "{seen}");
    assert_one_format(&seen);
    assert!(seen.lines().last().is_some_and(|l| l.starts_with("note: ") && l.contains("packets seen")), "{seen}");
}
