//! A real PostgreSQL server started by the test: it serves fresh databases over TCP on
//! 127.0.0.1 and over its Unix socket, listens nowhere else, runs unprivileged, runs beside a
//! second server, and leaves no process and no directory behind: not after drop, not after a
//! panic, and not (from the next start) after its test process died without dropping it.
//!
//! Needs root and Debian's `postgresql` package (skipped loudly otherwise, failed under
//! CI=true). Start and stop times are printed, so we know what a server costs.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::{PgServer, pg_or_skip};

/// Starts a server, printing how long it took.
fn start_timed() -> Option<PgServer> {
    let started = Instant::now();
    let server = tojimari_testbed::pg_or_skip()?;
    eprintln!("note: PostgreSQL server started in {:?} (port {})", started.elapsed(), server.port());
    Some(server)
}

/// Whether any process's command line names `data` (the postmaster's `-D DATA`).
fn running_on(data: &Path) -> bool {
    let status = Command::new("pgrep").arg("-f").arg(data).stdout(Stdio::null()).status().expect("run pgrep");
    // pgrep: 0 = found, 1 = none; anything else is pgrep failing.
    assert!(matches!(status.code(), Some(0 | 1)), "pgrep failed: {status}");
    status.success()
}

/// The addresses of every listening TCP socket on `port` in /proc/net/tcp and tcp6, as hex.
fn listeners_on(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).expect(table);
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else { continue };
            let Some((addr, hex_port)) = local.rsplit_once(':') else { continue };
            // State 0A is LISTEN.
            if *state == "0A" && u16::from_str_radix(hex_port, 16) == Ok(port) {
                found.push(addr.to_owned());
            }
        }
    }
    found
}

fn uid_of(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn serves_fresh_databases_over_tcp_and_the_socket_and_listens_nowhere_else() {
    let Some(pg) = start_timed() else { return };

    let alpha = pg.create_database("alpha").unwrap();
    let beta = pg.create_database("beta").unwrap();
    assert_eq!(alpha, format!("postgres://postgres@127.0.0.1:{}/alpha", pg.port()));
    assert_eq!(beta, pg.database_url("beta"));

    // Written over TCP, read back over the socket, and the other way round.
    pg.psql_at(&alpha, "CREATE TABLE ports (port int PRIMARY KEY, state text); INSERT INTO ports VALUES (22, 'open');")
        .unwrap();
    let alpha_socket = pg.database_socket_url("alpha");
    assert!(alpha_socket.starts_with("postgres://postgres@%2F"), "{alpha_socket}");
    pg.psql_at(&alpha_socket, "INSERT INTO ports VALUES (80, 'closed');").unwrap();
    assert_eq!(pg.psql_at(&alpha_socket, "SELECT port, state FROM ports ORDER BY port").unwrap(), "22|open\n80|closed");
    assert_eq!(pg.psql_at(&alpha, "SELECT count(*) FROM ports").unwrap(), "2");
    assert_eq!(pg.psql("alpha", "SELECT state FROM ports WHERE port = 80").unwrap(), "closed");

    // The second database is separate: no table there.
    let error = pg.psql_at(&beta, "SELECT * FROM ports").unwrap_err().to_string();
    assert!(error.contains("ports"), "{error}");
    pg.psql("beta", "CREATE TABLE ports (port int); INSERT INTO ports VALUES (443);").unwrap();
    assert_eq!(pg.psql_at(&beta, "SELECT port FROM ports").unwrap(), "443");
    // The server's own databases list exactly what we made.
    let names = pg.psql_at(&pg.url(), "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1").unwrap();
    assert_eq!(names, "alpha\nbeta\npostgres");
    assert!(pg.socket_url().ends_with(&format!(":{}/postgres", pg.port())));

    // Settings as promised.
    let show = |setting: &str| pg.psql("postgres", &format!("SHOW {setting}")).unwrap();
    assert_eq!(show("listen_addresses"), "127.0.0.1");
    assert_eq!(show("fsync"), "off");
    assert_eq!(show("server_encoding"), "UTF8");
    assert_eq!(show("lc_collate"), "C");
    assert_eq!(show("unix_socket_directories"), pg.dir().display().to_string());

    // Listening on 127.0.0.1 only (0100007F in /proc/net/tcp), plus its own socket.
    assert_eq!(listeners_on(pg.port()), vec!["0100007F".to_owned()]);
    assert!(pg.dir().join(format!(".s.PGSQL.{}", pg.port())).exists());

    // Unprivileged: the postmaster runs as the postgres user, not root.
    let postgres_uid = nix::unistd::User::from_name("postgres").unwrap().unwrap().uid.as_raw();
    assert_eq!(uid_of(pg.pid()), postgres_uid);
    assert_ne!(postgres_uid, 0);
}

#[test]
fn create_database_refuses_bad_names_and_duplicates() {
    let Some(pg) = start_timed() else { return };
    for bad in ["", "1st", "a-b", "a b", "x;DROP DATABASE postgres", &"n".repeat(64)] {
        assert!(pg.create_database(bad).is_err(), "{bad:?} accepted");
    }
    pg.create_database("twice").unwrap();
    let error = pg.create_database("twice").unwrap_err().to_string();
    assert!(error.contains("already exists"), "{error}");
    // A failing statement is an error, not empty output.
    assert!(pg.psql("twice", "SELECT * FROM missing").is_err());
}

#[test]
fn two_servers_run_at_once_on_different_ports() {
    let (Some(one), Some(two)) = (start_timed(), start_timed()) else { return };
    assert_ne!(one.port(), two.port());
    assert_ne!(one.dir(), two.dir());
    let url_one = one.create_database("same").unwrap();
    let url_two = two.create_database("same").unwrap();
    one.psql_at(&url_one, "CREATE TABLE t (who text); INSERT INTO t VALUES ('one');").unwrap();
    two.psql_at(&url_two, "CREATE TABLE t (who text); INSERT INTO t VALUES ('two');").unwrap();
    assert_eq!(one.psql_at(&url_one, "SELECT who FROM t").unwrap(), "one");
    assert_eq!(two.psql_at(&url_two, "SELECT who FROM t").unwrap(), "two");
    // Each answers on its own port: the other's URL really is the other server.
    assert_eq!(one.psql_at(&url_two, "SELECT who FROM t").unwrap(), "two");
}

#[test]
fn drop_stops_the_server_and_removes_its_directory() {
    let Some(pg) = start_timed() else { return };
    let (data, dir, port) = (pg.data_dir(), pg.dir().to_path_buf(), pg.port());
    assert!(running_on(&data), "no postmaster on {}", data.display());
    let stopping = Instant::now();
    drop(pg);
    eprintln!("note: PostgreSQL server stopped and removed in {:?}", stopping.elapsed());
    assert!(!running_on(&data), "a postmaster is left on {}", data.display());
    assert!(!dir.exists(), "{} is left", dir.display());
    let addr = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(), "port {port} still answers");
}

#[test]
fn a_panicking_test_leaves_no_server() {
    let (sender, receiver) = std::sync::mpsc::channel::<(PathBuf, PathBuf)>();
    let outcome = std::thread::Builder::new()
        .name("a_panicking_test_leaves_no_server (panics on purpose)".to_owned())
        .spawn(move || {
            let pg = pg_or_skip!();
            sender.send((pg.data_dir(), pg.dir().to_path_buf())).unwrap();
            assert!(running_on(&pg.data_dir()));
            panic!("on purpose, with a server running");
        })
        .unwrap()
        .join();
    // Skipped inside the thread: nothing was sent and the thread did not panic.
    let Ok((data, dir)) = receiver.recv() else { return };
    assert!(outcome.is_err(), "the thread did not panic");
    assert!(!running_on(&data), "a postmaster is left on {}", data.display());
    assert!(!dir.exists(), "{} is left", dir.display());
}

/// Not a test on its own: run by `a_dead_test_process_leaves_no_server_after_the_next_start` in
/// a child process, with `TJPG_CHILD` set. `leak` starts a server and exits without dropping
/// it (as a killed test would); `start` starts and drops one (which cleans up after `leak`).
#[test]
#[ignore = "a helper: run in a child process by a_dead_test_process_leaves_no_server_after_the_next_start"]
fn child_process_helper() {
    let role = std::env::var("TJPG_CHILD").expect("TJPG_CHILD: leak or start");
    let pg = PgServer::start().unwrap();
    println!("DATA={}", pg.data_dir().display());
    println!("DIR={}", pg.dir().display());
    if role == "leak" {
        std::process::exit(0);
    }
}

/// Runs `child_process_helper` in a child process with the role `role` and `TMPDIR=tmp`.
fn run_child(role: &str, tmp: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_process_helper", "--ignored", "--nocapture", "--test-threads=1"])
        .env("TJPG_CHILD", role)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

/// The child's `DATA=` and `DIR=` lines (the harness prints `test child_process_helper ... `
/// before the first).
fn child_paths(role: &str, output: &std::process::Output) -> (PathBuf, PathBuf) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{role}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let value = |key: &str| {
        let line = stdout.lines().find_map(|l| l.split_once(key).map(|(_, v)| v));
        PathBuf::from(line.unwrap_or_else(|| panic!("no {key} in {stdout}")))
    };
    (value("DATA="), value("DIR="))
}

/// Whatever the test's outcome: one more start in `.0` (which stops what a dead child left),
/// then `.0` removed.
struct Sweep(PathBuf);

impl Drop for Sweep {
    fn drop(&mut self) {
        let _ = run_child("start", &self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_dead_test_process_leaves_no_server_after_the_next_start() {
    // Probe first, so the children need not skip.
    let Some(probe) = start_timed() else { return };
    drop(probe);
    // A private temporary directory, so no other test's start cleans up before we look.
    let tmp = std::env::temp_dir().join(format!("tjpgtest-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).unwrap();
    let _sweep = Sweep(tmp.clone());

    let (leaked_data, leaked_dir) = child_paths("leak", &run_child("leak", &tmp));
    assert!(running_on(&leaked_data), "the leaking child did not leave its server running");
    assert!(leaked_dir.exists());
    let (clean_data, clean_dir) = child_paths("start", &run_child("start", &tmp));
    assert!(!running_on(&leaked_data), "the next start did not stop the leaked server");
    assert!(!leaked_dir.exists(), "the next start did not remove {}", leaked_dir.display());
    assert!(!running_on(&clean_data) && !clean_dir.exists());
}
