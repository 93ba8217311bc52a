//! Bad input: every case exits 2 with one line on stderr naming the problem and a hint, never a panic and
//! never a silent empty scan. Output files and messages. Also `--help` snapshots, the answers to nmap's
//! options (refused by name, combined scan letters, -sL, -A, -d, --iflist, --packet-trace). Outside the test
//! bed, nothing here sends a packet anywhere but loopback; the test-bed tests need root and say SKIPPED
//! without it.

use std::process::{Command, Output};

#[path = "../src/nmap_options.rs"]
#[allow(dead_code)]
mod nmap_options;

use tojimari_testbed::testbed_or_skip;

fn tojimari(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).output().expect("run tojimari")
}

/// Runs tojimari where a usage error is expected. As root it runs in a network namespace of its own, with
/// no interface but a loopback that is down: if an option once refused becomes a real one, the test fails
/// (the scan finds nothing to reach) instead of sending probes through this machine's own routes.
fn tojimari_isolated(args: &[&str]) -> Output {
    if !nix::unistd::geteuid().is_root() {
        return tojimari(args);
    }
    Command::new("unshare")
        .args(["--net", "--", env!("CARGO_BIN_EXE_tojimari")])
        .args(args)
        .output()
        .expect("run tojimari under unshare (util-linux)")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = tojimari_isolated(args);
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
    assert_usage_error(&["scan", "-PO256", "127.0.0.1"], "-PO256: protocol 256 is out of range (0-255)");
    assert_usage_error(&["scan", "-PY70000", "127.0.0.1"], "-PY70000: port 70000 is out of range");
    assert_usage_error(&["scan", "-PX", "127.0.0.1"], "-PX");
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
        // Not recorded: the store would fail under the limit too, and this test counts stderr's lines.
        .args(["scan", "--no-store", "-sT", "-Pn", "-n", "-p", "1", "-oX", &file, "127.0.0.1-60"])
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
    let root = nix::unistd::geteuid().is_root();
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
fn os_detection_options() {
    assert_usage_error(&["scan", "--osscan-guess", "127.0.0.1"], "add -O");
    assert_usage_error(&["scan", "--max-os-tries", "3", "127.0.0.1"], "--max-os-tries applies to OS detection");
    assert_usage_error(&["scan", "-O", "-sn", "127.0.0.1"], "-O and -sn contradict");
    assert_usage_error(&["scan", "-O", "-sL", "127.0.0.1"], "-sL");
    assert_usage_error(&["scan", "--unprivileged", "-O", "127.0.0.1"], "raw packets");
    if nix::unistd::geteuid().is_root() {
        assert_usage_error(&["scan", "-O", "--max-os-tries", "0", "127.0.0.1"], "1 to 50");
        assert_usage_error(&["scan", "-O", "--max-os-tries", "x", "127.0.0.1"], "1 to 50");
        assert_usage_error(&["scan", "-O", "-sT", "127.0.0.1"], "-sT");
        assert_usage_error(&["scan", "-O", "-sU", "127.0.0.1"], "TCP port scan");
        assert_usage_error(&["scan", "-O", "--osdb", "/nonexistent/os.db", "127.0.0.1"], "/nonexistent/os.db");
    }
}

#[test]
fn malformed_os_database_names_file_and_line() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: -O needs raw sockets, checked before the database is read");
        return;
    }
    let dir = std::env::temp_dir().join(format!("tojimari-usage-osdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("os.db");
    std::fs::write(&path, "# a comment\n\nos Broken\nno-such-key = 1\n").unwrap();
    let file = path.to_string_lossy().into_owned();
    assert_usage_error(&["scan", "-O", "--osdb", &file, "127.0.0.1"], &format!("{file}:"));
    let _ = std::fs::remove_dir_all(&dir);
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
        (&["history", "--help"][..], "history-help.txt"),
        (&["diff", "--help"][..], "diff-help.txt"),
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

/// Every nmap option of the table is answered by name with one line (exit 2), never clap's guess; a value
/// it takes is consumed (so it is never read as a target); the ones tojimari always obeys are accepted.
#[test]
fn every_nmap_option_in_the_table_is_answered() {
    use nmap_options::{Status, TABLE, Takes};
    for option in TABLE {
        for name in option.names {
            let mut args = vec!["scan", *name];
            if option.takes == Takes::Value {
                args.push("1,2");
            }
            match option.status {
                Status::Refused { .. } => {
                    args.push("198.18.0.2");
                    assert_usage_error(&args, &format!("nmap's {name} ({})", option.what));
                    // Without a target after it, the value is still the option's, not a target.
                    if option.takes == Takes::Value {
                        assert_usage_error(&args[..3], &format!("nmap's {name} "));
                    }
                }
                Status::AlwaysSo(_) => {
                    // A list scan sends nothing: the option is accepted and changes nothing.
                    args.extend(["-sL", "-n", "198.18.0.2"]);
                    let out = tojimari(&args);
                    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
                }
            }
        }
    }
    // Attached values, and letters inside a combined -s.
    assert_usage_error(&["scan", "-POfoo", "198.18.0.2"], "-POfoo: no ip protocol service name matches \"foo\"");
    assert_usage_error(&["scan", "-sSR", "198.18.0.2"], "nmap's -sR (RPC scan");
    assert_usage_error(&["scan", "-sSO", "198.18.0.2"], "-sO cannot be combined with -sS yet");
    assert_usage_error(&["scan", "-sQ", "198.18.0.2"], "unknown scan type -sQ");
    assert_usage_error(&["scan", "--proxies", "0", "198.18.0.2"], "nmap's --proxies");
    // Implemented options are checked here with a value that is refused, never run: the root namespace
    // has a route out (issue 16: --spoof-mac used to be refused here).
    assert_usage_error(&["scan", "--spoof-mac", "Apple", "198.18.0.2"], "--spoof-mac takes a MAC address");
    // The evasion options that exist now read their values (docs/evasion.md).
    assert_usage_error(&["scan", "-sS", "-Da,b", "198.18.0.2"], "-D: \"a\" is not an IP address");
    assert_usage_error(&["scan", "-sS", "--source-port", "0", "198.18.0.2"], "-g 0 is not a source port");
}

/// The options of docs/nmap-options.md and of the table agree: every option of the table has a row.
#[test]
fn the_nmap_options_doc_lists_the_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/nmap-options.md")).unwrap();
    for option in nmap_options::TABLE {
        for name in option.names {
            assert!(doc.contains(&format!("`{name}")), "docs/nmap-options.md has no row for {name}");
        }
    }
}

#[test]
fn combined_scan_letters_are_split_as_nmap_reads_them() {
    // -sSV is -sS plus -sV: -sn contradicts the -sS part.
    assert_usage_error(&["scan", "-sSV", "-sn", "127.0.0.1"], "-sS");
    assert_usage_error(&["scan", "-sCV", "--no-findings", "127.0.0.1"], "-sC and --no-findings");
    assert_usage_error(&["scan", "-sTU", "127.0.0.1"], "-sU");
    // The plan (-d) shows what each combination turned on; port 1 of loopback only.
    let plan = |args: &[&str]| {
        let mut all = vec!["scan", "-d", "-Pn", "-n", "--no-progress", "-p", "T:1,U:1"];
        all.extend(args);
        all.push("127.0.0.1");
        let out = tojimari(&all);
        assert_eq!(out.status.code(), Some(0), "{all:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A flag given twice is simply on, as in nmap.
    let p = plan(&["-sCV", "-sV", "-n"]);
    assert!(p.contains("version detection: intensity 7, exposure checks on"), "{p}");
    let p = plan(&["-sSV"]);
    assert!(p.contains("technique: SYN Stealth Scan (raw engine)\n"), "{p}");
    assert!(p.contains("version detection: intensity 7, exposure checks on"), "{p}");
    let p = plan(&["-sSUV"]);
    assert!(p.contains("technique: SYN Stealth Scan (raw engine) + UDP (raw engine)"), "{p}");
    assert!(p.contains("ports: 1 TCP, 1 UDP"), "{p}");
    assert!(p.contains("version detection: intensity 7"), "{p}");
    let p = plan(&["-sTV", "--no-findings"]);
    assert!(p.contains("technique: TCP connect") && p.contains("exposure checks off"), "{p}");
    // -sC alone turns on the version detection that feeds the checks.
    let p = plan(&["-sC"]);
    assert!(p.contains("version detection: intensity 7, exposure checks on"), "{p}");
}

#[test]
fn aggressive_says_what_it_left_out() {
    let out = tojimari(&["scan", "-A", "-d", "-Pn", "-n", "--no-progress", "--no-store", "-p", "1", "127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    let raw = nix::unistd::geteuid().is_root();
    if raw {
        // With raw sockets -A includes OS detection and the traceroute.
        assert_eq!(notes.len(), 1, "{stderr}");
        assert!(notes[0].contains("-A turned on -sV, -sC, -O, --traceroute"), "{stderr}");
        assert!(stderr.contains("os detection: on") && stderr.contains("traceroute: on"), "{stderr}");
    } else {
        assert_eq!(notes.len(), 3, "{stderr}");
        assert!(notes[0].ends_with("-A turned on -sV, -sC"), "{stderr}");
        assert!(notes[1].contains("-A left out OS detection") && notes[1].contains("raw packets"), "{stderr}");
        assert!(notes[2].contains("-A left out the traceroute") && notes[2].contains("raw packets"), "{stderr}");
    }
    assert!(stderr.contains("exposure checks on"), "{stderr}");
    // A usage error stays one line, without the note.
    assert_usage_error(&["scan", "-A", "--no-findings", "127.0.0.1"], "-A and --no-findings");
}

#[test]
fn ipv6_flag_with_an_ipv4_target() {
    assert_usage_error(&["scan", "-6", "198.18.0.2"], "198.18.0.2 is an IPv4 address");
    assert_usage_error(&["scan", "-6", "2001:db8::1", "198.18.0.0/30"], "198.18.0.0/30");
    assert_usage_error(&["scan", "-6", "198.18.0.1-3"], "IPv4");
}

#[test]
fn unprivileged_acts_without_raw_sockets() {
    assert_usage_error(&["scan", "--unprivileged", "-sF", "127.0.0.1"], "--unprivileged");
    let out = tojimari(&["scan", "--unprivileged", "-d", "-Pn", "-n", "--no-progress", "-p", "1", "127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("technique: TCP connect (connect engine)"), "{stderr}");
}

#[test]
fn ports_and_top_ports_together() {
    assert_usage_error(&["scan", "-p", "80", "--top-ports", "10", "127.0.0.1"], "-p and --top-ports");
}

#[test]
fn list_scan_contradictions() {
    assert_usage_error(&["scan", "-sL", "-sS", "198.18.0.2"], "-sL");
    assert_usage_error(&["scan", "-sL", "-p", "80", "198.18.0.2"], "-sL");
    assert_usage_error(&["scan", "-sLV", "198.18.0.2"], "-sV");
}

/// The XML says the `-d` and `-v` levels the run had, as nmap's does.
#[test]
fn xml_records_the_debugging_and_verbose_levels() {
    let out = tojimari(&["scan", "-dd", "-v", "-sL", "-n", "-oX", "-", "198.18.0.0/31"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.contains(r#"<debugging level="2"/>"#), "{xml}");
    assert!(xml.contains(r#"<verbose level="1"/>"#), "{xml}");
}

/// nmap -sL -n 198.18.0.0/30 prints one report line per address and "0 hosts up"; so do we, in every format.
#[test]
fn list_scan_of_a_small_block() {
    let out = tojimari(&["scan", "-sL", "-n", "198.18.0.0/30"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Starting tojimari "), "{stdout}");
    assert_eq!(
        &lines[1..5],
        [
            "tojimari scan report for 198.18.0.0",
            "tojimari scan report for 198.18.0.1",
            "tojimari scan report for 198.18.0.2",
            "tojimari scan report for 198.18.0.3"
        ]
    );
    assert!(lines[5].starts_with("tojimari done: 4 IP addresses (0 hosts up) scanned in "), "{stdout}");
    assert_eq!(lines.len(), 6, "{stdout}");

    let xml = String::from_utf8(tojimari(&["scan", "-sL", "-n", "-oX", "-", "198.18.0.0/30"]).stdout).unwrap();
    assert_eq!(xml.matches(r#"<status state="unknown" reason="user-set" reason_ttl="0"/>"#).count(), 4, "{xml}");
    assert!(xml.contains(r#"<hosts up="0" down="4" total="4"/>"#), "{xml}");
    assert!(!xml.contains("<scaninfo"), "{xml}");
    let grep = String::from_utf8(tojimari(&["scan", "-sL", "-n", "-oG", "-", "198.18.0.0/30"]).stdout).unwrap();
    assert!(grep.contains("Host: 198.18.0.3 ()\tStatus: Unknown\n"), "{grep}");
    let json = String::from_utf8(tojimari(&["scan", "-sL", "-n", "-oJ", "-", "198.18.0.0/30"]).stdout).unwrap();
    let hosts: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "host")
        .collect();
    assert_eq!(hosts.len(), 4);
    assert!(hosts.iter().all(|h| h["state"] == "unknown" && h["reason"] == "user-set"), "{json}");
    // Exclusions apply to the list, as to a scan.
    let out = tojimari(&["scan", "-sL", "-n", "--exclude", "198.18.0.1", "198.18.0.0/30"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("198.18.0.1\n"));
}

/// Runs tojimari with stdout to a file and returns (exit code, lines of stdout, peak RSS in KiB of that
/// child alone, from wait4).
fn run_measured(args: &[&str]) -> (i32, usize, String, i64) {
    let tag = args.last().unwrap_or(&"").replace(['/', '.'], "_");
    let path = std::env::temp_dir().join(format!("tojimari-usage-{}-{tag}.out", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    // Reaped by wait4 below, which also gives this child's own peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).stdout(file).spawn().unwrap();
    let usage = tojimari_net::process::wait_with_usage(child.id()).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let code = usage.status.code().unwrap_or(-1);
    let last = text.lines().last().unwrap_or_default().to_string();
    (code, text.lines().count(), last, usage.max_rss_kb)
}

/// A /16 is listed in full, streamed: the peak memory of listing 65536 addresses is that of listing 256.
#[test]
fn list_scan_of_a_large_block_streams() {
    let (code, lines, _, small) = run_measured(&["scan", "-sL", "-n", "198.18.0.0/24"]);
    assert_eq!((code, lines), (0, 258));
    let (code, lines, last, large) = run_measured(&["scan", "-sL", "-n", "198.18.0.0/16"]);
    assert_eq!(code, 0);
    assert_eq!(lines, 65536 + 2);
    assert!(last.starts_with("tojimari done: 65536 IP addresses (0 hosts up)"), "{last}");
    assert!(large < small + 4096, "listing a /16 took {large} KiB at peak, a /24 {small} KiB: not streamed");
}

/// -sL sends nothing: the target's own counter of packets from the test bed stays at zero while the
/// scanner lists the whole bed's /16 and the target itself (and counts what a real -sn sends, so the
/// counter is known to work).
#[test]
fn list_scan_sends_nothing() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target
        .firewall(
            "table inet tjm_count {\n\
               counter from_bed {}\n\
               chain pre { type filter hook prerouting priority -300; ip saddr 198.18.0.0/15 counter name from_bed; \
                           ip6 saddr 2001:db8::/32 counter name from_bed; }\n\
             }\n",
        )
        .unwrap();
    let packets = || {
        let out = target.ns.run(&["nft", "-j", "list", "counter", "inet", "tjm_count", "from_bed"]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["nftables"].as_array().unwrap().iter().find_map(|e| e["counter"]["packets"].as_u64()).unwrap()
    };
    let addr = target.v4.to_string();
    let out = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["scan", "-sL", "-n", "198.18.0.0/16", &addr, &target.v6.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("scan report for {addr}\n")));
    // Reverse DNS (no -n) goes to the resolver, never to the targets.
    let out = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari")).args(["scan", "-sL", &addr]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(packets(), 0, "-sL sent packets to the target");
    let out = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["scan", "-sn", "-n", "--no-progress", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(packets() > 0, "the counter saw nothing of -sn either: it does not count");
}

/// --iflist in the scanner's namespace lists its interfaces (with address/prefix, state, MTU, MAC) and
/// routes, as `ip` knows them.
#[test]
fn iflist_shows_the_namespace_interfaces_and_routes() {
    let bed = testbed_or_skip!(1);
    let out = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari")).args(["scan", "--iflist"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let link = bed.scanner().run(&["ip", "-j", "link", "show", "eth0"]).unwrap();
    let link: serde_json::Value = serde_json::from_slice(&link.stdout).unwrap();
    let mac = link[0]["address"].as_str().unwrap().to_ascii_uppercase();
    let mtu = link[0]["mtu"].as_u64().unwrap();
    let line_with = |needle: &str| text.lines().find(|l| l.contains(needle)).map(str::to_string);
    let v4 = line_with("198.18.0.1/24").unwrap_or_else(|| panic!("no scanner address in:\n{text}"));
    assert!(v4.starts_with("eth0 (eth0)"), "{v4}");
    assert!(v4.contains(" ethernet up ") && v4.contains(&format!(" {mtu} ")) && v4.ends_with(&mac), "{v4}");
    assert!(line_with("2001:db8:18::1/64").is_some_and(|l| l.starts_with("eth0")), "{text}");
    assert!(line_with("127.0.0.1/8").is_some_and(|l| l.starts_with("lo") && l.contains("loopback up")), "{text}");
    let routes = text.split("ROUTES").nth(1).unwrap_or_else(|| panic!("no ROUTES table:\n{text}"));
    assert!(routes.lines().nth(1).is_some_and(|l| l.starts_with("DST/MASK")), "{routes}");
    assert!(routes.lines().any(|l| l.starts_with("198.18.0.0/24 ") && l.contains(" eth0 ")), "{routes}");
    assert!(routes.lines().any(|l| l.starts_with("2001:db8:18::/64 ") && l.contains(" eth0 ")), "{routes}");
}

/// --packet-trace shows each probe and answer: for a SYN scan of one open and one closed port the SYNs
/// (SENT), the SYN/ACK and the RST/ACK (RCVD); for -sT the CONN lines with each outcome.
#[test]
fn packet_trace_shows_sent_and_received() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let (open, closed) = (8081u16, 8082u16);
    let _listener = target.listen_tcp(&[open]).unwrap();
    let addr = target.v4.to_string();
    let ports = format!("{open},{closed}");
    let run = |technique: &str| {
        let out = bed
            .scanner()
            .command(env!("CARGO_BIN_EXE_tojimari"))
            .args(["scan", technique, "-Pn", "-n", "--no-progress", "--packet-trace", "-p", &ports, &addr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let trace = run("-sS");
    let has = |prefix: &str, needle: &str| {
        trace.lines().any(|l| l.starts_with(prefix) && l.contains(needle) && l.contains("s) TCP "))
    };
    for port in [open, closed] {
        assert!(has("SENT (", &format!(" > {addr}:{port} S ttl=64 id=")), "no SYN to {port}:\n{trace}");
    }
    assert!(has("RCVD (", &format!("TCP {addr}:{open} > 198.18.0.1:")), "{trace}");
    assert!(
        trace.lines().any(|l| l.starts_with("RCVD") && l.contains(&format!("{addr}:{open} >")) && l.contains(" SA "))
    );
    assert!(
        trace.lines().any(|l| l.starts_with("RCVD") && l.contains(&format!("{addr}:{closed} >")) && l.contains(" RA "))
    );
    let trace = run("-sT");
    assert!(trace.contains(&format!("TCP localhost > {addr}:{open} => Connected")), "{trace}");
    assert!(trace.contains(&format!("TCP localhost > {addr}:{closed} => Connection refused")), "{trace}");
    assert!(trace.lines().filter(|l| l.contains("=>")).all(|l| l.starts_with("CONN (")), "{trace}");
}
