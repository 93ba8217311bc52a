//! Bad input: every case exits 2 with one line on stderr naming the problem and a hint, never a panic and
//! never a silent empty scan. Also `--help` snapshots. None of these send a packet.

use std::process::{Command, Output};

fn tojimari(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).output().expect("run tojimari")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = tojimari(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: status {:?}, stderr: {stderr}", out.status);
    assert_eq!(stderr.lines().count(), 1, "{args:?}: want one line, got: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: {stderr:?} does not mention {needle:?}");
    assert!(stderr.contains("hint:"), "{args:?}: no hint in {stderr:?}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: a usage error must not start a scan: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn port_out_of_range() {
    assert_usage_error(&["scan", "-p", "70000", "127.0.0.1"], "70000");
}

#[test]
fn reversed_port_range() {
    assert_usage_error(&["scan", "-p", "10-5", "127.0.0.1"], "10-5");
}

#[test]
fn empty_or_malformed_port_lists() {
    assert_usage_error(&["scan", "-p", "", "127.0.0.1"], "empty");
    assert_usage_error(&["scan", "-p", "22,,80", "127.0.0.1"], "empty");
    assert_usage_error(&["scan", "-p", "22x", "127.0.0.1"], "22x");
    assert_usage_error(&["scan", "-p", "nosuchservice", "127.0.0.1"], "nosuchservice");
}

#[test]
fn invalid_addresses_and_prefixes() {
    assert_usage_error(&["scan", "999.1.1.1"], "999");
    assert_usage_error(&["scan", "198.18.0.0/33"], "33");
    assert_usage_error(&["scan", "2001:db8::/129"], "129");
}

#[test]
fn no_targets() {
    assert_usage_error(&["scan"], "no targets");
    assert_usage_error(&["scan", "-p", "22"], "no targets");
}

#[test]
fn missing_target_file() {
    assert_usage_error(&["scan", "-iL", "/nonexistent/targets.txt"], "/nonexistent/targets.txt");
    assert_usage_error(&["scan", "--excludefile", "/nonexistent/ex.txt", "127.0.0.1"], "/nonexistent/ex.txt");
}

#[test]
fn unknown_option() {
    assert_usage_error(&["scan", "--frobnicate", "127.0.0.1"], "--frobnicate");
    assert_usage_error(&["frobnicate"], "frobnicate");
}

#[test]
fn top_ports_zero() {
    assert_usage_error(&["scan", "--top-ports", "0", "127.0.0.1"], "--top-ports");
    assert_usage_error(&["scan", "--top-ports", "many", "127.0.0.1"], "--top-ports");
}

#[test]
fn contradictory_options() {
    assert_usage_error(&["scan", "-sT", "-sS", "127.0.0.1"], "contradict");
    assert_usage_error(&["scan", "-F", "--top-ports", "10", "127.0.0.1"], "contradict");
    assert_usage_error(&["scan", "-sn", "-p", "22", "127.0.0.1"], "-sn");
    assert_usage_error(&["scan", "--min-rate", "100", "--max-rate", "10", "127.0.0.1"], "--max-rate");
    assert_usage_error(&["scan", "-oX", "-", "-oJ", "-", "127.0.0.1"], "standard output");
}

#[test]
fn bad_timing_values() {
    assert_usage_error(&["scan", "-T9", "127.0.0.1"], "-T9");
    assert_usage_error(&["scan", "--host-timeout", "soon", "127.0.0.1"], "--host-timeout");
    assert_usage_error(&["scan", "--max-retries", "-1", "127.0.0.1"], "--max-retries");
}

#[test]
fn techniques_that_cannot_go_together() {
    assert_usage_error(&["scan", "-sF", "-sX", "127.0.0.1"], "contradict");
    assert_usage_error(&["scan", "-sA", "--scanflags", "SYN", "127.0.0.1"], "contradict");
    assert_usage_error(&["scan", "--scanflags", "SYNBOGUS", "127.0.0.1"], "--scanflags");
    assert_usage_error(&["scan", "-PO", "127.0.0.1"], "-PO");
    assert_usage_error(&["scan", "-PSx", "127.0.0.1"], "-PSx");
    assert_usage_error(&["scan", "-sT", "-sU", "127.0.0.1"], "-sU");
    assert_usage_error(&["scan", "-sn", "-sS", "127.0.0.1"], "contradict");
}

/// Without raw-socket privilege: -sS falls back to a connect scan with a one-line notice; techniques that
/// only exist as raw packets explain why they cannot run (exit 1). `setpriv` drops CAP_NET_RAW even for root.
#[test]
fn without_raw_privilege() {
    let run = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", env!("CARGO_BIN_EXE_tojimari")])
            .args(args)
            .output()
            .expect("setpriv (util-linux)")
    };
    let out = run(&["scan", "-sS", "-p", "1", "-Pn", "-n", "127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("falling back to -sT"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1/tcp"));
    let out = run(&["scan", "-sF", "-p", "1", "127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("CAP_NET_RAW") && stderr.contains("hint:"), "{stderr}");
}

#[test]
fn unwritable_output_file() {
    assert_usage_error(&["scan", "-oX", "/nonexistent/dir/out.xml", "127.0.0.1"], "/nonexistent/dir/out.xml");
}

#[test]
fn ports_lookup_command() {
    let out = tojimari(&["ports", "8080", "ssh", "U:53", "49152"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("8080/tcp") && stdout.contains("registered"), "{stdout}");
    assert!(stdout.contains("22/tcp") && stdout.contains("well-known"), "{stdout}");
    assert!(stdout.contains("53/udp") && stdout.contains("domain"), "{stdout}");
    assert!(stdout.contains("49152/tcp") && stdout.contains("dynamic"), "{stdout}");
    assert_usage_error(&["ports", "70000"], "70000");
}

#[test]
fn version_detection_options() {
    assert_usage_error(&["scan", "-sV", "--version-intensity", "10", "127.0.0.1"], "0 to 9");
    assert_usage_error(&["scan", "-sV", "--version-intensity", "x", "127.0.0.1"], "0 to 9");
    assert_usage_error(&["scan", "--version-all", "127.0.0.1"], "need -sV");
    assert_usage_error(&["scan", "-sV", "--version-light", "--version-all", "127.0.0.1"], "contradict");
    assert_usage_error(&["scan", "-sV", "-sn", "127.0.0.1"], "contradict");
    assert_usage_error(
        &["scan", "-sV", "--versiondb", "/nonexistent/probes.txt", "127.0.0.1"],
        "/nonexistent/probes.txt",
    );
}

#[test]
fn malformed_probe_database_names_file_and_line() {
    let dir = std::env::temp_dir().join(format!("tojimari-usage-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probes.txt");
    std::fs::write(&path, "# a comment\nProbe TCP NULL q||\nmatch ssh m|^SSH-(unclosed| p/OpenSSH/\n").unwrap();
    let file = path.to_string_lossy().into_owned();
    assert_usage_error(&["scan", "-sV", "--versiondb", &file, "127.0.0.1"], &format!("{file}:3:"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn local_command_errors() {
    assert_usage_error(&["local", "--port", "0"], "--port");
    assert_usage_error(&["local", "--port", "ssh"], "--port");
    assert_usage_error(&["local", "--tcp", "--udp"], "--udp");
}

#[test]
fn watch_command_errors() {
    assert_usage_error(&["watch", "-i", "nosuch0"], "nosuch0");
    assert_usage_error(&["watch", "--pcap", "/nonexistent/capture.pcap"], "/nonexistent/capture.pcap");
    assert_usage_error(&["watch", "--log", "/nonexistent/kern.log"], "/nonexistent/kern.log");
    assert_usage_error(&["watch", "--for", "soon"], "--for");
    assert_usage_error(&["watch", "--net", "198.18.0.0/99"], "198.18.0.0/99");
}

#[test]
fn check_command_errors() {
    assert_usage_error(&["check", "nosuch", "198.18.0.2"], "nosuch");
    assert_usage_error(&["check", "quick"], "TARGET");
    assert_usage_error(&["check", "quick", "300.1.1.1"], "300.1.1.1");
}

/// `--help` output is part of the interface: a change must be deliberate. Regenerate with
/// `UPDATE_SNAPSHOTS=1 cargo test -p tojimari-cli --test usage`.
#[test]
fn help_snapshots() {
    for (args, file) in [
        (&["--help"][..], "help.txt"),
        (&["scan", "--help"][..], "scan-help.txt"),
        (&["ports", "--help"][..], "ports-help.txt"),
        (&["check", "--help"][..], "check-help.txt"),
        (&["local", "--help"][..], "local-help.txt"),
        (&["watch", "--help"][..], "watch-help.txt"),
    ] {
        let out = tojimari(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8 help");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(file);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_SNAPSHOTS=1)", path.display()));
        assert_eq!(text, want, "{args:?} differs from {}", path.display());
    }
}
