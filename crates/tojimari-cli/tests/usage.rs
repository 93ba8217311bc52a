//! Bad input: every case exits 2 with one line on stderr naming the problem and a hint, never a panic and
//! never a silent empty scan. Output files and messages. Also `--help` snapshots. None of these send a packet
//! beyond loopback.

use std::process::{Command, Output};

fn tojimari(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).output().expect("run tojimari")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = tojimari(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: status {:?}, stderr: {stderr}", out.status);
    assert_eq!(stderr.lines().count(), 1, "{args:?}: want one line, got: {stderr}");
    assert!(
        stderr.starts_with("error: ") && !stderr.starts_with("error: error:"),
        "{args:?}: want one `error: ` prefix: {stderr:?}"
    );
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
    assert!(stderr.starts_with("note: ") && stderr.contains("falling back to -sT"), "{stderr}");
    assert!(stderr.contains(PRIVILEGE), "the fallback note words the privilege as the errors do: {stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1/tcp"));
    // The same wording wherever raw packets are refused: a raw technique, raw discovery, a raw check.
    for args in [
        &["scan", "-sF", "-p", "1", "127.0.0.1"][..],
        &["scan", "-sT", "-PE", "-p", "1", "127.0.0.1"][..],
        &["check", "stealth", "127.0.0.1"][..],
        &["check", "udp", "127.0.0.1"][..],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(PRIVILEGE) && stderr.contains("(hint: run it as root (sudo), or "),
            "{args:?}: {stderr}"
        );
    }
    // Bad usage is told first (exit 2), even where the privilege is missing too.
    let out = run(&["check", "stealth", "--", "-bogus"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: invalid target \"-bogus\""), "{stderr}");
}

/// How every privilege message names what raw packets need.
const PRIVILEGE: &str = "sends raw packets, which needs root (or the CAP_NET_RAW capability)";

/// A fresh directory for output files, removed at drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tojimari-usage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, file: &str) -> String {
        self.0.join(file).to_string_lossy().into_owned()
    }

    /// The names in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn two_formats_to_one_file_is_a_usage_error_naming_file_and_options() {
    let dir = Scratch::new("samefile");
    let f = dir.path("out.txt");
    assert_usage_error(&["scan", "-oN", &f, "-oX", &f, "127.0.0.1"], &format!("-oN and -oX both write to {f}"));
    // -oA's files overlap another option's.
    let base = dir.path("run");
    assert_usage_error(
        &["scan", "-oA", &base, "-oX", &format!("{base}.xml"), "127.0.0.1"],
        &format!("-oX and -oA both write to {base}.xml"),
    );
    // The same file spelled another way.
    let roundabout = format!("{}/./sub/../out.txt", dir.0.display());
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    assert_usage_error(&["scan", "-oG", &f, "-oJ", &roundabout, "127.0.0.1"], "are the same file");
    // Nothing was created by the refused runs.
    assert_eq!(dir.listing(), ["sub"]);
    // A file that is the standard output normal output already goes to.
    assert_usage_error(&["scan", "-oX", "/dev/stdout", "127.0.0.1"], "-oX /dev/stdout is standard output");
}

#[test]
fn a_write_error_names_the_file() {
    // /dev/full opens, then refuses the first write (the header, before any probe).
    let out = tojimari(&["scan", "-oX", "/dev/full", "-p", "1", "127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one error line, not one per failed write: {stderr}");
    assert!(stderr.starts_with("error: cannot write /dev/full: No space left on device"), "{stderr}");
}

/// A file that stops taking data in the middle of the run (a file-size limit, as a full disk would): one line
/// naming the file, exit status 1. The scan connects to loopback addresses only.
#[test]
fn a_write_error_during_the_scan_names_the_file_once() {
    let dir = Scratch::new("midrun");
    let file = dir.path("big.xml");
    // SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of killing the process.
    let out = Command::new("bash")
        .args(["-c", r#"trap "" XFSZ; ulimit -f 4; exec "$0" "$@""#, env!("CARGO_BIN_EXE_tojimari")])
        .args(["scan", "-sT", "-Pn", "-n", "-p", "1", "-oX", &file, "127.0.0.1-60"])
        .output()
        .expect("bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("error: cannot write {file}: File too large")), "{stderr}");
    assert!(std::fs::metadata(&file).unwrap().len() > 0, "the header was written before the limit");
}

/// A directory the scanner may not write to: as root, the scan runs as `nobody` (root may write anywhere).
#[test]
fn an_unwritable_directory_is_named_before_the_scan() {
    let dir = Scratch::new("readonly");
    let locked = dir.0.join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let file = locked.join("out.xml").to_string_lossy().into_owned();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups", env!("CARGO_BIN_EXE_tojimari")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_tojimari"))
    };
    let out = cmd.args(["scan", "-oX", &file, "-p", "1", "127.0.0.1"]).output().expect("run tojimari");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with(&format!("error: cannot write {file}: Permission denied")), "{stderr}");
    assert!(stderr.contains("(hint: "), "{stderr}");
    assert!(out.stdout.is_empty(), "the scan must not start: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_failed_output_all_leaves_no_empty_siblings() {
    // The directory does not exist: nothing is created, nothing is scanned.
    let dir = Scratch::new("oa");
    let missing = dir.path("missing/run");
    assert_usage_error(&["scan", "-oA", &missing, "127.0.0.1"], &format!("cannot write {missing}.nmap"));
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
    // One of the files cannot be created (a directory has its name): the others are removed again, and a
    // file that was there before keeps its contents.
    let base = dir.path("run");
    std::fs::create_dir(format!("{base}.xml")).unwrap();
    std::fs::write(format!("{base}.gnmap"), "earlier results\n").unwrap();
    assert_usage_error(&["scan", "-oA", &base, "127.0.0.1"], &format!("cannot write {base}.xml"));
    assert_eq!(dir.listing(), ["run.gnmap", "run.xml"]);
    assert_eq!(std::fs::read_to_string(format!("{base}.gnmap")).unwrap(), "earlier results\n");
}

#[test]
fn check_reads_a_target_after_double_dash_as_a_target() {
    let dir = Scratch::new("checkdash");
    for target in ["-bogus", "-oNout.txt"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tojimari"))
            .current_dir(&dir.0)
            .args(["check", "quick", "--", target, "127.0.0.1"])
            .output()
            .expect("run tojimari");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{target}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{target}: {stderr}");
        assert!(stderr.starts_with(&format!("error: invalid target \"{target}\"")), "{target}: {stderr}");
        assert!(stderr.contains("(hint: "), "{target}: {stderr}");
        assert!(out.stdout.is_empty(), "{target}: nothing may be checked");
    }
    assert!(dir.listing().is_empty(), "a target was taken for an output option: {:?}", dir.listing());
}

#[test]
fn check_says_where_scan_options_belong() {
    for option in ["-p", "-T4", "--frobnicate", "-sS"] {
        assert_usage_error(&["check", "quick", option, "127.0.0.1"], "belong to `tojimari scan`");
    }
}

#[test]
fn check_refuses_output_options_by_name() {
    let dir = Scratch::new("checkout");
    let f = dir.path("out.txt");
    for (typed, option) in [
        (vec!["-oN", f.as_str()], "-oN"),
        (vec![&*format!("-oN{f}")], "-oN"),
        (vec!["-oX", f.as_str()], "-oX"),
        (vec!["-oG", f.as_str()], "-oG"),
        (vec!["-oJ", f.as_str()], "-oJ"),
        (vec!["-oA", f.as_str()], "-oA"),
    ] {
        let mut args = vec!["check", "quick"];
        args.extend(typed.iter().map(|s| &**s));
        args.push("127.0.0.1");
        assert_usage_error(&args, &format!("{option} is an option of `tojimari scan`"));
    }
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[test]
fn unwritable_output_file() {
    assert_usage_error(
        &["scan", "-oX", "/nonexistent/dir/out.xml", "127.0.0.1"],
        "cannot write /nonexistent/dir/out.xml: No such file or directory",
    );
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
