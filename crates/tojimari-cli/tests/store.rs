//! Recording into the result store, with the real binary and real databases (docs/store-recording.md):
//! recorded by default where XDG says, `--db`, `TOJIMARI_DB` and `--no-store`; what a run records (argv,
//! profile, scope, writer); nothing for `-sL` or bad usage; a store that is corrupt, from a newer tojimari,
//! locked, read-only or full: one warning naming it, the scan's outputs whole, the exit status unchanged,
//! and the hosts not recorded in a JSON Lines fallback file; two scans at once into one SQLite file and one
//! PostgreSQL; Ctrl-C and kill -9 mid-scan leave the scan `interrupted` with the hosts found so far.
//!
//! SQLite is read back with the `sqlite3` program, PostgreSQL with the test server's `psql`. Scans go to
//! loopback, or to test-bed namespaces for the interrupted ones.

// A test binary: it may say on stderr what it skipped.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{Scratch, parse_jsonl};

const BIN: &str = env!("CARGO_BIN_EXE_tojimari");

/// tojimari with no store chosen by the environment (cargo's config sets `TOJIMARI_DB` for every test).
fn tojimari() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("TOJIMARI_DB");
    c
}

fn run(cmd: &mut Command) -> (Output, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("run tojimari");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

/// `sqlite3 -batch DB SQL`: the rows, `|` between columns.
fn sqlite(db: &str, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .args(["-batch", db, sql])
        .output()
        .expect("the sqlite3 program (apt-get install sqlite3)");
    assert!(out.status.success(), "sqlite3 {sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// `(no, status, hosts observed)` of every scan, by number.
fn scans(db: &str) -> Vec<(i64, String, i64)> {
    rows(&sqlite(db, SCANS_SQL))
}

const SCANS_SQL: &str = "SELECT s.no, s.status, (SELECT COUNT(*) FROM host_obs h WHERE h.scan_id = s.id) \
                         FROM scans s ORDER BY s.no";

fn rows(text: &str) -> Vec<(i64, String, i64)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f[0].parse().unwrap(), f[1].to_string(), f[2].parse().unwrap())
        })
        .collect()
}

const LOOPBACK_SCAN: &[&str] = &["scan", "-sT", "-Pn", "-n", "--no-progress", "-p", "1-5"];

#[test]
fn recorded_by_default_where_xdg_says_with_a_note() {
    let dir = Scratch::new("store-default");
    let xdg = dir.path("xdg");
    let db = format!("{xdg}/tojimari/store.db");
    let (out, stderr) = run(tojimari().env("XDG_DATA_HOME", &xdg).args(LOOPBACK_SCAN).arg("127.0.0.1"));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "note: recorded as scan 1: tojimari history\n");
    let (_, stderr) = run(tojimari().env("XDG_DATA_HOME", &xdg).args(LOOPBACK_SCAN).args(["127.0.0.1", "127.0.0.2"]));
    assert_eq!(stderr, "note: recorded as scan 2: tojimari history\n");
    assert_eq!(scans(&db), [(1, "complete".into(), 1), (2, "complete".into(), 2)]);
    // What a scan records of itself.
    let row = sqlite(
        &db,
        "SELECT argv, profile, scope_targets, scope_ports, source, writer_pid > 0, length(writer_boot) > 40, \
         ended_ms >= started_ms FROM scans WHERE no = 2",
    );
    let f: Vec<&str> = row.split('|').collect();
    assert!(f[0].ends_with("tojimari scan -sT -Pn -n --no-progress -p 1-5 127.0.0.1 127.0.0.2"), "{row}");
    assert_eq!(&f[1..], ["scan", "127.0.0.1 127.0.0.2", "T:1-5", "tojimari", "1", "1", "1"], "{row}");
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert!(sqlite(&db, "SELECT writer_boot FROM scans WHERE no = 1").starts_with(boot.trim()));
    // Ports as observed.
    let covered = "SELECT (SELECT COUNT(*) FROM port_obs) + (SELECT COALESCE(SUM(count), 0) FROM port_folds)";
    assert_eq!(sqlite(&db, covered), "15");

    // Without XDG_DATA_HOME: under HOME.
    let home = dir.path("home");
    let (_, stderr) =
        run(tojimari().env_remove("XDG_DATA_HOME").env("HOME", &home).args(LOOPBACK_SCAN).arg("127.0.0.1"));
    assert_eq!(stderr, "note: recorded as scan 1: tojimari history\n");
    assert_eq!(scans(&format!("{home}/.local/share/tojimari/store.db")).len(), 1);

    // TOJIMARI_DB chooses another; --db wins over it.
    let env_db = dir.path("env.db");
    let flag_db = dir.path("flag.db");
    run(tojimari().env("XDG_DATA_HOME", &xdg).env("TOJIMARI_DB", &env_db).args(LOOPBACK_SCAN).arg("127.0.0.1"));
    run(tojimari().env("TOJIMARI_DB", &env_db).args(LOOPBACK_SCAN).args(["--db", &flag_db, "127.0.0.1"]));
    assert_eq!((scans(&env_db).len(), scans(&flag_db).len(), scans(&db).len()), (1, 1, 2));

    // Not recorded: --no-store, a list scan, bad usage, nothing resolved.
    for args in [
        &["scan", "--no-store", "-sT", "-Pn", "-p", "1", "127.0.0.1"][..],
        &["scan", "-sL", "-n", "127.0.0.1"][..],
        &["scan", "-p", "0-x", "127.0.0.1"][..],
        &["scan", "--db", &env_db, "--no-store", "127.0.0.1"][..],
    ] {
        let (out, stderr) = run(tojimari().env("XDG_DATA_HOME", &xdg).args(args));
        assert!(!stderr.contains("recorded"), "{args:?}: {stderr}");
        assert!(out.status.code().is_some());
    }
    assert_eq!(scans(&db).len(), 2);
    assert_eq!(scans(&env_db).len(), 1);

    // A check is recorded too, with its profile.
    let (out, stderr) = run(tojimari().args(["check", "trojan", "--db", &db, "127.0.0.1"]));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.ends_with("note: recorded as scan 3: tojimari history\n"), "{stderr}");
    assert_eq!(
        sqlite(&db, "SELECT profile, scope_targets, status FROM scans WHERE no = 3"),
        "check trojan|127.0.0.1|complete"
    );
}

/// The outputs a fault test compares: stdout, -oN, -oX and -oJ, each whole.
struct Outputs {
    normal: String,
    xml: String,
    jsonl: String,
}

impl Outputs {
    fn args(dir: &Scratch) -> Vec<String> {
        ["-oN", "out.nmap", "-oX", "out.xml", "-oJ", "out.jsonl"]
            .iter()
            .enumerate()
            .map(|(i, a)| if i % 2 == 1 { dir.path(a) } else { a.to_string() })
            .collect()
    }

    fn read(dir: &Scratch) -> Outputs {
        let read = |f: &str| std::fs::read_to_string(dir.path(f)).unwrap();
        Outputs { normal: read("out.nmap"), xml: read("out.xml"), jsonl: read("out.jsonl") }
    }

    /// Every output is complete and names every host.
    fn check_whole(&self, stdout: &str, hosts: &[&str]) {
        assert!(self.normal.contains("# tojimari done"), "{}", self.normal);
        assert!(self.xml.trim_end().ends_with("</nmaprun>") && self.xml.contains("exit=\"success\""), "{}", self.xml);
        let lines = parse_jsonl(&self.jsonl);
        assert_eq!(lines.last().unwrap()["exit"], "success");
        assert!(stdout.contains("tojimari done"), "{stdout}");
        for h in hosts {
            assert!(
                self.normal.contains(h) && self.xml.contains(h) && self.jsonl.contains(h) && stdout.contains(h),
                "{h}"
            );
        }
    }
}

/// The fallback files in `dir`.
fn fallbacks(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.retain(|p: &std::path::PathBuf| {
        p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("store-fallback-"))
    });
    v
}

/// The host addresses of a JSON Lines file.
fn jsonl_hosts(path: &Path) -> Vec<String> {
    let lines = parse_jsonl(&std::fs::read_to_string(path).unwrap());
    assert_eq!(lines.first().unwrap()["type"], "run");
    assert_eq!(lines.last().unwrap()["type"], "summary");
    lines.iter().filter(|l| l["type"] == "host").map(|l| l["addr"].as_str().unwrap().to_string()).collect()
}

/// A scan of two loopback hosts recording into `db` that cannot take it: exit 0, the outputs whole, one
/// warning naming the database and `problem`, and both hosts in the fallback file named by the note, found
/// in `fallback_dir`. `wrap` runs the scan some other way (as another user, in a mount namespace).
fn a_store_that_fails(name: &str, db: &str, problem: &str, fallback_dir: &Path, wrap: &dyn Fn(Command) -> Command) {
    let dir = Scratch::new(name);
    let mut cmd = tojimari();
    cmd.args(LOOPBACK_SCAN).args(["--db", db]).args(Outputs::args(&dir)).args(["127.0.0.1", "127.0.0.2"]);
    let mut cmd = wrap(cmd);
    let (out, stderr) = run(&mut cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{name}: the store does not change the exit status: {stderr}");
    Outputs::read(&dir).check_whole(&stdout, &["127.0.0.1", "127.0.0.2"]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{name}: {stderr}");
    assert!(
        lines[0].starts_with("warning: ") && lines[0].contains(db) && lines[0].contains(problem),
        "{name}: {stderr}"
    );
    assert!(lines[1].starts_with("note: the scan's results (2 hosts) were written to "), "{name}: {stderr}");
    let files = fallbacks(fallback_dir);
    assert_eq!(files.len(), 1, "{name}: {files:?} {stderr}");
    assert!(lines[1].contains(&files[0].to_string_lossy().into_owned()), "{name}: {stderr}");
    let mut hosts = jsonl_hosts(&files[0]);
    hosts.sort();
    assert_eq!(hosts, ["127.0.0.1", "127.0.0.2"], "{name}");
    let _ = std::fs::remove_file(&files[0]);
}

#[test]
fn a_corrupt_store_or_one_from_a_newer_tojimari_falls_back_to_json_lines() {
    let dir = Scratch::new("store-corrupt");
    let db = dir.path("garbage.db");
    std::fs::write(&db, "this is no database, only text long enough to be read as a header ".repeat(20)).unwrap();
    a_store_that_fails("corrupt", &db, "file is not a database", &dir.0, &|c| c);

    let db = dir.path("newer.db");
    let (out, stderr) = run(tojimari().args(LOOPBACK_SCAN).args(["--db", &db, "127.0.0.1"]));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    sqlite(
        &db,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', 1, x'00', 0)",
    );
    a_store_that_fails("newer", &db, "newer than this tojimari knows", &dir.0, &|c| c);
    assert_eq!(scans(&db).len(), 1, "the newer store is left alone");
}

/// Drops the capabilities that let root write anywhere, so that file modes apply.
fn without_dac_override(cmd: Command) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-dac_override,-dac_read_search"]);
    c.arg(cmd.get_program());
    c.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// Moves everything of `db` into its main file and removes the WAL files, as the last connection to close
/// does: the store must then create them to write.
fn settle(db: &str) {
    sqlite(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{side}"));
    }
}

#[test]
fn a_read_only_store_falls_back_beside_it_or_in_the_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Scratch::new("store-ro");
    // A read-only file in a writable directory: the fallback goes beside it.
    let db = dir.path("ro.db");
    run(tojimari().args(LOOPBACK_SCAN).args(["--db", &db, "127.0.0.1"]));
    settle(&db);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    a_store_that_fails("ro-file", &db, "", &dir.0, &without_dac_override);
    assert_eq!(scans(&db).len(), 1);

    // A read-only directory: the fallback goes to the data directory, and the note says why.
    let locked = dir.0.join("locked");
    std::fs::create_dir(&locked).unwrap();
    let db = locked.join("store.db").to_string_lossy().into_owned();
    run(tojimari().args(LOOPBACK_SCAN).args(["--db", &db, "127.0.0.1"]));
    settle(&db);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let xdg = dir.path("xdg");
    let data = Path::new(&xdg).join("tojimari");
    a_store_that_fails("ro-dir", &db, "", &data, &|c| {
        let mut c = without_dac_override(c);
        c.env("XDG_DATA_HOME", &xdg);
        c
    });
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(scans(&db).len(), 1);
}

/// Another process holds the write lock longer than the store waits (10 s): the scan does not wait for it,
/// its results go to the fallback file.
#[test]
fn a_locked_store_falls_back_and_the_scan_does_not_wait_for_it() {
    let dir = Scratch::new("store-locked");
    let db = dir.path("locked.db");
    run(tojimari().args(LOOPBACK_SCAN).args(["--db", &db, "127.0.0.1"]));
    let mut holder = Command::new("sqlite3")
        .args(["-batch", &db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sqlite3");
    {
        use std::io::{BufRead, Write};
        let stdin = holder.stdin.as_mut().unwrap();
        writeln!(stdin, "BEGIN EXCLUSIVE; INSERT INTO hosts (id, addr) VALUES (1, 'lock'); SELECT 'held';").unwrap();
        let mut line = String::new();
        std::io::BufReader::new(holder.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "held");
    }
    let started = Instant::now();
    a_store_that_fails("locked", &db, "locked", &dir.0, &|c| c);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(scans(&db).len(), 1);
}

/// A store on a small filesystem that fills up mid-scan (a tmpfs mounted in a mount namespace of the scan's
/// own, so nothing changes outside it): the hosts recorded before stay in the store, the others are in the
/// fallback file (in the data directory, since the full one cannot take it), and together they are all.
#[test]
fn a_store_that_fills_up_mid_scan_loses_no_host() {
    let dir = Scratch::new("store-full");
    let small = dir.path("small");
    std::fs::create_dir(&small).unwrap();
    let xdg = dir.path("xdg");
    let copy = dir.path("copy.db");
    let jsonl = dir.path("out.jsonl");
    // 4096 hosts with 20 closed ports each: some 7 MiB of rows (and as much again in the WAL) for a 4 MiB
    // filesystem; the writer's batches (up to 1024 hosts) are smaller than that, so the first ones fit.
    let script = format!(
        "mount -t tmpfs -o size=4m tmpfs {small} && \"$0\" \"$@\"; rc=$?; sqlite3 {small}/store.db .dump | \
         sqlite3 {copy}; exit $rc"
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", &script, BIN]);
    cmd.args(["scan", "-sT", "-Pn", "-n", "--no-progress", "-p", "1-20", "-oJ", &jsonl, "--db"]);
    cmd.arg(format!("{small}/store.db")).arg("127.0.16.0/20").env_remove("TOJIMARI_DB").env("XDG_DATA_HOME", &xdg);
    let (out, stderr) = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let all = jsonl_hosts(Path::new(&jsonl));
    assert_eq!(all.len(), 4096);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with(&format!("warning: the result store {small}/store.db failed")), "{stderr}");
    assert!(lines[0].contains("full"), "{stderr}");
    assert!(lines[1].starts_with("note: scan 1 keeps the hosts recorded before the failure; the "), "{stderr}");
    assert!(lines[1].contains(&format!("not beside the database: {small}: ")), "{stderr}");
    let files = fallbacks(&Path::new(&xdg).join("tojimari"));
    assert_eq!(files.len(), 1, "{stderr}");
    let spilled = jsonl_hosts(&files[0]);
    let stored = sqlite(&copy, "SELECT h.addr FROM host_obs o JOIN hosts h ON h.id = o.host_id");
    let stored: Vec<String> = stored.lines().map(str::to_string).collect();
    assert!(!stored.is_empty() && !spilled.is_empty(), "stored {} spilled {}", stored.len(), spilled.len());
    let mut together: Vec<String> = stored.iter().chain(&spilled).cloned().collect();
    together.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(together, want, "every host is in the store or in the fallback file, once");
    assert!(lines[1].contains(&format!("the {} hosts after it", spilled.len())), "{stderr}");
}

#[test]
fn two_scans_at_once_into_one_sqlite_file() {
    let dir = Scratch::new("store-two");
    let db = dir.path("two.db");
    let children: Vec<_> = (0..2)
        .map(|i| {
            tojimari()
                .args(["scan", "-sT", "-Pn", "-n", "--no-progress", "-p", "1-20", "--db", &db])
                .arg(format!("127.0.{}.0/26", 10 + i))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut notes = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        notes.push(stderr);
    }
    let mut got = scans(&db);
    got.sort();
    assert_eq!(got, [(1, "complete".into(), 64), (2, "complete".into(), 64)], "{notes:?}");
    notes.sort();
    assert_eq!(notes, ["note: recorded as scan 1: tojimari history\n", "note: recorded as scan 2: tojimari history\n"]);
}

#[test]
fn postgres_records_and_takes_two_scans_at_once() {
    let server = tojimari_testbed::pg_or_skip!();
    let url = server.create_database("rec").unwrap();
    let (out, stderr) = run(tojimari().args(LOOPBACK_SCAN).args(["--db", &url, "127.0.0.1"]));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "note: recorded as scan 1: tojimari history\n");
    // TOJIMARI_DB names a PostgreSQL as well.
    let children: Vec<_> = (0..2)
        .map(|i| {
            tojimari()
                .env("TOJIMARI_DB", &url)
                .args(["scan", "-sT", "-Pn", "-n", "--no-progress", "-p", "1-20"])
                .arg(format!("127.0.{}.0/26", 20 + i))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let got = server.psql("rec", SCANS_SQL).unwrap();
    assert_eq!(rows(&got), [(1, "complete".into(), 1), (2, "complete".into(), 64), (3, "complete".into(), 64)]);
    // A server that is not there: the warning names it (without a password), the results go to a file.
    let gone = format!("postgres://tj:secret@127.0.0.1:{}/none", server.port().wrapping_add(1));
    let dir = Scratch::new("store-pg-gone");
    let (out, stderr) =
        run(tojimari().env("XDG_DATA_HOME", &dir.0).args(LOOPBACK_SCAN).args(["--db", &gone, "127.0.0.1"]));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("warning: cannot open the result store postgres://...@127.0.0.1:"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
    assert_eq!(fallbacks(&dir.0.join("tojimari")).len(), 1, "{stderr}");
}

/// A connect sweep of 65536 test-bed addresses (AnyIP, each answering; hosts finish one after another, over
/// minutes), writing JSON Lines to `jsonl` and recording
/// into `db`; returns once the store has recorded some of its hosts.
fn sweep(bed: &tojimari_testbed::TestBed, db: &str, jsonl: &str) -> std::process::Child {
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let mut child = bed
        .scanner()
        .command(BIN)
        .env_remove("TOJIMARI_DB")
        .args(["scan", "-sT", "-Pn", "-n", "--no-progress", "-p", "1-10", "--db", db])
        .args(["-oJ", jsonl, "198.19.0.0/16"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let recorded = Command::new("sqlite3")
            .args(["-batch", db, "SELECT COUNT(*) FROM host_obs"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<u64>().unwrap_or(0))
            .unwrap_or(0);
        if recorded >= 3 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended before the store had hosts");
        assert!(Instant::now() < deadline, "the store got no host");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_scan_killed_with_sigkill_is_interrupted_with_its_hosts_and_the_database_is_sound() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let dir = Scratch::new("store-kill9");
    let (db, jsonl) = (dir.path("kill.db"), dir.path("out.jsonl"));
    let mut child = sweep(&bed, &db, &jsonl);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let written = jsonl_lines_hosts(&jsonl);
    // Read as it was left: running.
    let left = sqlite(&db, "SELECT status FROM scans");
    assert_eq!(left, "running");
    // Opened again by tojimari (another scan): the dead one is interrupted, with the hosts recorded so far.
    let (out, stderr) = run(tojimari().args(LOOPBACK_SCAN).args(["--db", &db, "127.0.0.1"]));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("recorded as scan 2"), "{stderr}");
    let got = scans(&db);
    assert_eq!(got[0].1, "interrupted", "{got:?}");
    assert!(got[0].2 >= 3 && got[0].2 as usize <= written && written < 65536, "{got:?}, {written} written");
    assert_eq!(got[1], (2, "complete".into(), 1));
    assert_eq!(sqlite(&db, "PRAGMA integrity_check"), "ok");
    assert_eq!(sqlite(&db, "PRAGMA foreign_key_check"), "");
}

/// Host lines of a JSON Lines file that may end in a cut line.
fn jsonl_lines_hosts(path: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"host\"") && l.ends_with('}'))
        .count()
}

#[test]
fn ctrl_c_records_the_scan_interrupted_with_what_it_found() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let dir = Scratch::new("store-sigint");
    let (db, jsonl) = (dir.path("int.db"), dir.path("out.jsonl"));
    let child = sweep(&bed, &db, &jsonl);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.ends_with("note: recorded as scan 1 (interrupted): tojimari history\n"), "{stderr}");
    let written = jsonl_hosts(Path::new(&jsonl)).len();
    let got = scans(&db);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].1.as_str(), got[0].2 as usize), ("interrupted", written), "{got:?}");
    assert!((3..65536).contains(&written), "{written}");
    assert_eq!(sqlite(&db, "SELECT ended_ms IS NOT NULL FROM scans"), "1");
}
