//! Every file input bounded: `-iL`, `--excludefile`, `--versiondb`, `watch --log` and `watch --pcap` fed
//! hostile files (`/dev/zero`, one 100 MB line, more entries than the cap, a huge pcap length field) stop
//! with one line naming the file and line (or packet) and a hint; usage-time inputs exit 2. And `-` reads
//! standard input for `--log` and `--pcap`. None of these send a packet.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tojimari(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tojimari"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tojimari");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The reader may stop early (that is the point): a broken pipe is expected then.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().expect("wait for tojimari")
}

/// A scratch directory for this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tjm-inputs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One `error:` line on stderr with `needles` and a hint, exit status `code`, nothing on stdout.
fn assert_error(out: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "want one error line, got: {stderr}");
    for needle in needles {
        assert!(errors[0].contains(needle), "{:?} does not mention {needle:?}", errors[0]);
    }
    assert!(errors[0].contains("(hint: "), "no hint in {:?}", errors[0]);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn usage_error(args: &[&str], needles: &[&str]) {
    let out = tojimari(args, None);
    assert_error(&out, 2, needles);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    assert!(out.stdout.is_empty(), "a usage error must not start a scan");
}

/// A file of one `size`-byte line of `x`.
fn long_line(dir: &Path, size: usize) -> PathBuf {
    let path = dir.join("long.txt");
    std::fs::write(&path, vec![b'x'; size]).unwrap();
    path
}

#[test]
fn target_lists_from_dev_zero_stop_at_the_first_line() {
    usage_error(&["scan", "-iL", "/dev/zero"], &["/dev/zero:1: NUL byte"]);
    usage_error(&["scan", "--excludefile", "/dev/zero", "127.0.0.1"], &["/dev/zero:1: NUL byte"]);
    let out = tojimari(&["scan", "-iL", "-"], Some(&[0u8; 100_000]));
    assert_error(&out, 2, &["<stdin>:1: NUL byte"]);
}

#[test]
fn target_lists_with_a_100_mb_line_are_refused() {
    let dir = scratch("iL-long");
    let long = long_line(&dir, 100 << 20);
    let long = long.to_str().unwrap();
    usage_error(&["scan", "-iL", long], &[&format!("{long}:1: line longer than 16 KiB"), "-iL takes"]);
    usage_error(&["scan", "--excludefile", long, "127.0.0.1"], &["line longer than 16 KiB", "--excludefile takes"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn target_list_errors_name_file_and_line() {
    let dir = scratch("iL-bad");
    let list = dir.join("targets.txt");
    std::fs::write(&list, "# hosts\n127.0.0.1 127.0.0.2\n\n127.0.0.3 # ok\n999.1.1.1\n").unwrap();
    let list = list.to_str().unwrap();
    usage_error(&["scan", "-iL", list], &[&format!("{list}:5: invalid target \"999.1.1.1\"")]);
    usage_error(&["scan", "--excludefile", list, "127.0.0.1"], &[&format!("{list}:5: invalid target")]);
    let bin = dir.join("bin.txt");
    std::fs::write(&bin, b"127.0.0.1\n\xff\xfe\n").unwrap();
    usage_error(&["scan", "-iL", bin.to_str().unwrap()], &[":2: not UTF-8 text"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exclude_file_past_its_entry_cap_is_refused() {
    // 1 million short lines are allowed; one more is not.
    let dir = scratch("ex-many");
    let path = dir.join("many.txt");
    std::fs::write(&path, "198.18.0.1\n".repeat(1_000_001)).unwrap();
    let path = path.to_str().unwrap();
    usage_error(
        &["scan", "--excludefile", path, "127.0.0.1"],
        &[&format!("{path}:1000001: more than 1000000 targets in the exclude file")],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn versiondb_hostile_files() {
    let dir = scratch("vdb");
    usage_error(&["scan", "-sV", "--versiondb", "/dev/zero", "127.0.0.1"], &["/dev/zero:1: NUL byte"]);
    let long = long_line(&dir, 100 << 20);
    let long = long.to_str().unwrap();
    usage_error(&["scan", "-sV", "--versiondb", long, "127.0.0.1"], &[&format!("{long}:1: line longer than 64 KiB")]);
    // Endless short (valid) lines: stopped by the size cap.
    let many = dir.join("many.txt");
    std::fs::write(&many, "# a comment line of forty bytes........\n".repeat(9 << 20 >> 5)).unwrap();
    let many = many.to_str().unwrap();
    usage_error(&["scan", "-sV", "--versiondb", many, "127.0.0.1"], &[":209716: input larger than 8 MiB"]);
    // A bad line still names file and line.
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "Probe TCP NULL q||\nmatch x m|(|\n").unwrap();
    usage_error(&["scan", "-sV", "--versiondb", bad.to_str().unwrap(), "127.0.0.1"], &["bad.txt:2: bad pattern"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tojimari-scandetect/tests/captures").join(name)
}

#[test]
fn watch_log_from_dev_zero_and_a_100_mb_line() {
    let out = tojimari(&["watch", "--log", "/dev/zero"], None);
    assert_error(&out, 1, &["/dev/zero:1: line longer than 64 KiB"]);
    let dir = scratch("log-long");
    let long = long_line(&dir, 100 << 20);
    let out = tojimari(&["watch", "--log", long.to_str().unwrap()], None);
    assert_error(&out, 1, &[":1: line longer than 64 KiB"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn watch_pcap_with_a_huge_length_field() {
    let mut bytes = std::fs::read(capture("nmap-sS.pcap")).unwrap();
    // The first record's captured length: 4 GiB.
    bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let out = tojimari(&["watch", "--pcap", "-"], Some(&bytes));
    assert_error(&out, 1, &["<stdin>: packet 0:", "past the 262144-byte limit"]);
    let out = tojimari(&["watch", "--pcap", "/dev/zero"], None);
    assert_error(&out, 1, &["/dev/zero: not a pcap or pcapng file"]);
}

/// `--pcap -` and `--log -` read standard input: the same alerts as from the file.
#[test]
fn dash_reads_standard_input() {
    let pcap = std::fs::read(capture("nmap-sS.pcap")).unwrap();
    let from_file =
        tojimari(&["watch", "--pcap", capture("nmap-sS.pcap").to_str().unwrap(), "--output-json", "-", "-q"], None);
    let from_stdin = tojimari(&["watch", "--pcap", "-", "--output-json", "-", "-q"], Some(&pcap));
    assert_eq!(from_stdin.status.code(), Some(0), "{}", String::from_utf8_lossy(&from_stdin.stderr));
    assert!(String::from_utf8_lossy(&from_stdin.stdout).contains("\"scan_type\""), "no alert from --pcap -");
    assert_eq!(from_stdin.stdout, from_file.stdout);

    let mut log = String::new();
    for port in 1..=40 {
        log.push_str(&format!(
            "Nov 22 10:00:{:02} gw kernel: DROP IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.2 LEN=44 TTL=52 \
             ID={port} PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0\n",
            port % 60
        ));
    }
    let out =
        tojimari(&["watch", "--log", "-", "--output-json", "-", "-q", "--net", "198.18.0.0/24"], Some(log.as_bytes()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("203.0.113.9"), "no alert from --log -: {stdout}");

    usage_error(&["watch", "--log", "-", "--pcap", "-"], &["standard input (-) can be given to only one"]);
}
