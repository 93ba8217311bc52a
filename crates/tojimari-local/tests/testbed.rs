//! Test-bed tests: in a target namespace running real daemons (socat, redis, memcached, nginx with forked
//! workers, IPv4 and IPv6, TCP and UDP), `tojimari local` must agree with `ss -ltnupH` on every socket and
//! every owner pid; and run as `nobody`, it must list the same sockets but only the owners it may see.
//! `--stop` acts only on the holders the user was asked about. (`--stop`'s end-to-end tests, with the binary,
//! are in tojimari-cli's tests/local_stop.rs.)

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tojimari_core::Protocol;
use tojimari_core::diagnostic::render;
use tojimari_local::{
    Answer, FixedAnswer, Inventory, JsonOutput, LocalArgs, LocalOptions, Outcome, Privilege, Prompt, Reach,
    StopOptions, StopStep, listening_sockets, run_with, who_holds,
};
use tojimari_testbed::{Netns, testbed_or_skip};

/// `run_with` (default options) as `tojimari local` runs it: each notice and the error written to `err` as the
/// CLI prints them, and the CLI's exit status returned (0 done, 1 otherwise).
fn run_as_cli(args: &LocalArgs, prompt: &mut dyn Prompt, out: &mut Vec<u8>, err: &mut Vec<u8>) -> i32 {
    use std::io::Write;
    let result = run_with(args, &LocalOptions::default(), prompt, out, &mut |notice| {
        let _ = writeln!(err, "{}", render(&notice));
    });
    match result {
        Ok(Outcome::Done) => 0,
        Ok(Outcome::NotHeld | Outcome::NotStopped) => 1,
        Err(error) => {
            let _ = writeln!(err, "{}", render(&error));
            1
        }
    }
}

/// Never asked in these runs (no `--stop`); were it asked, the answer would be no.
fn no_one_asks() -> FixedAnswer {
    FixedAnswer(Answer::No)
}

/// Set in the environment of the re-executed test binary that takes the unprivileged view.
const CHILD_OUTPUT_VAR: &str = "TOJIMARI_LOCAL_UNPRIVILEGED_OUTPUT";

/// A daemon we started; stopped (SIGTERM, then SIGKILL) by pid when dropped.
struct Daemon {
    name: &'static str,
    child: Child,
    stderr: PathBuf,
}

impl Daemon {
    fn start(ns: &Netns, dir: &Path, name: &'static str, argv: &[&str]) -> Daemon {
        let stderr = dir.join(format!("{name}.stderr"));
        let mut command = ns.command(argv[0]);
        command
            .args(&argv[1..])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr).unwrap());
        let child = command.spawn().unwrap_or_else(|e| panic!("start {name}: {e}"));
        Daemon { name, child, stderr }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn describe(&self) -> String {
        let log = fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("{} (pid {}): {}", self.name, self.pid(), log.trim())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tojimari-local-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// (proto, address, port, sorted unique owner pids): what both tools must agree on.
type Row = (String, IpAddr, u16, Vec<u32>);

fn our_rows(inventory: &Inventory) -> Vec<Row> {
    let mut rows: Vec<Row> = inventory
        .sockets
        .iter()
        .map(|s| (s.proto.to_string(), s.addr, s.port, s.processes.iter().map(|p| p.pid).collect()))
        .collect();
    rows.sort();
    rows
}

/// Parses `ss -ltnupH`: `tcp LISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=7,fd=6),...)`.
fn ss_rows(output: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let (host, port) = columns[4].rsplit_once(':').unwrap_or_else(|| panic!("ss line {line:?}"));
            let host = host.trim_start_matches('[').split(['%', ']']).next().unwrap();
            // ss writes a dual-stack `::` socket as `*`.
            let addr: IpAddr = if host == "*" { "::".parse().unwrap() } else { host.parse().unwrap() };
            let pids: BTreeSet<u32> = line
                .split("pid=")
                .skip(1)
                .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap())
                .collect();
            (columns[0].to_owned(), addr, port.parse().unwrap(), pids.into_iter().collect())
        })
        .collect();
    rows.sort();
    rows
}

fn inventory_in(ns: &Netns) -> Inventory {
    ns.run_in(|| listening_sockets(&LocalOptions::default())).unwrap().unwrap()
}

/// Waits until every `(proto, port, owners)` is listening with at least that many owners.
fn wait_for(ns: &Netns, expected: &[(Protocol, u16, usize)], daemons: &[&Daemon]) -> Inventory {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let inventory = inventory_in(ns);
        let ready = expected.iter().all(|&(proto, port, owners)| {
            inventory.sockets.iter().any(|s| s.proto == proto && s.port == port && s.processes.len() >= owners)
        });
        if ready {
            return inventory;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = daemons.iter().map(|d| d.describe()).collect();
            panic!("daemons did not start: {:#?}\ninventory: {:#?}", logs, our_rows(&inventory));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn nginx_config(dir: &Path, v4: IpAddr) -> PathBuf {
    let dir_text = dir.display();
    let config = format!(
        "daemon off;\nmaster_process on;\nworker_processes 2;\nuser nobody nogroup;\npid {dir_text}/nginx.pid;\n\
         error_log {dir_text}/nginx-error.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  server {{\n    listen {v4}:8080;\n    listen [::]:8080 ipv6only=on;\n\
         return 204;\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    fs::write(&path, config).unwrap();
    path
}

#[test]
fn agrees_with_ss_on_every_socket_and_owner() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let ns = &target.ns;
    let scratch = Scratch::new("ss");
    let dir = scratch.0.as_path();
    let dir_text = dir.display().to_string();
    let nginx_conf = nginx_config(dir, IpAddr::V4(target.v4));
    let nginx_conf = nginx_conf.to_str().unwrap();

    let postgres_like =
        Daemon::start(ns, dir, "socat-5432", &["socat", "TCP-LISTEN:5432,bind=0.0.0.0,reuseaddr,fork", "EXEC:cat"]);
    let redis = Daemon::start(
        ns,
        dir,
        "redis",
        &[
            "redis-server",
            "--port",
            "6379",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            &dir_text,
        ],
    );
    let memcached = Daemon::start(
        ns,
        dir,
        "memcached",
        &["memcached", "-u", "nobody", "-l", "0.0.0.0", "-p", "11211", "-U", "11211"],
    );
    let nginx = Daemon::start(
        ns,
        dir,
        "nginx",
        &["nginx", "-c", nginx_conf, "-p", &dir_text, "-e", &format!("{dir_text}/nginx-error.log")],
    );
    let telnet_v6 = Daemon::start(
        ns,
        dir,
        "socat-23",
        &["socat", "TCP6-LISTEN:23,bind=[::],ipv6only=1,reuseaddr,fork", "EXEC:cat"],
    );
    let udp_v4 =
        Daemon::start(ns, dir, "socat-udp4", &["socat", "-u", "UDP4-RECV:9999,bind=0.0.0.0", "OPEN:/dev/null"]);
    let udp_v6 = Daemon::start(ns, dir, "socat-udp6", &["socat", "-u", "UDP6-RECV:9998,bind=[::1]", "OPEN:/dev/null"]);
    let daemons = [&postgres_like, &redis, &memcached, &nginx, &telnet_v6, &udp_v4, &udp_v6];

    let inventory = wait_for(
        ns,
        &[
            (Protocol::Tcp, 5432, 1),
            (Protocol::Tcp, 6379, 1),
            (Protocol::Tcp, 11211, 1),
            (Protocol::Udp, 11211, 1),
            (Protocol::Tcp, 8080, 3),
            (Protocol::Tcp, 23, 1),
            (Protocol::Udp, 9999, 1),
            (Protocol::Udp, 9998, 1),
        ],
        &daemons,
    );

    // Ground truth: ss in the same namespace, taken after ours (nothing starts or stops in between now).
    let ss = ns.run(&["ss", "-ltnupH"]).unwrap();
    let ss_rows = ss_rows(&String::from_utf8_lossy(&ss.stdout));
    let ours = our_rows(&inventory);
    assert_eq!(ours, ss_rows, "tojimari local vs ss -ltnupH");
    assert!(ours.len() >= 9, "{ours:#?}");

    let socket = |proto: Protocol, addr: &str, port: u16| {
        let addr: IpAddr = addr.parse().unwrap();
        inventory
            .sockets
            .iter()
            .find(|s| s.proto == proto && s.addr == addr && s.port == port)
            .unwrap_or_else(|| panic!("{proto} {addr}:{port} missing from {ours:#?}"))
    };

    // Owners, users, command lines.
    let pg = socket(Protocol::Tcp, "0.0.0.0", 5432);
    assert_eq!(pg.processes.len(), 1);
    assert_eq!(pg.processes[0].pid, postgres_like.pid());
    assert_eq!(pg.processes[0].name, "socat");
    assert_eq!(pg.processes[0].user, "root");
    assert!(pg.processes[0].cmdline.starts_with("socat TCP-LISTEN:5432"), "{}", pg.processes[0].cmdline);
    assert_eq!(pg.reach, Reach::Network);
    assert_eq!(pg.service, Some("postgresql"));
    assert_eq!(pg.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["database-exposed"]);
    assert!(pg.findings[0].evidence.contains(&format!("by socat (pid {})", postgres_like.pid())));

    let redis_socket = socket(Protocol::Tcp, "127.0.0.1", 6379);
    assert_eq!(redis_socket.reach, Reach::Local);
    assert!(redis_socket.findings.is_empty(), "redis on loopback is not exposed");
    assert_eq!(redis_socket.processes[0].pid, redis.pid());

    for proto in [Protocol::Tcp, Protocol::Udp] {
        let mc = socket(proto, "0.0.0.0", 11211);
        assert_eq!(mc.processes[0].pid, memcached.pid());
        assert_eq!(mc.processes[0].user, "nobody", "memcached -u nobody runs as nobody");
        assert_eq!(mc.findings[0].id, "database-exposed");
    }

    // nginx: the master (root) and two workers (nobody) share both sockets; killing the master frees them.
    let v4 = target.v4.to_string();
    for http in [socket(Protocol::Tcp, &v4, 8080), socket(Protocol::Tcp, "::", 8080)] {
        assert_eq!(http.processes.len(), 3, "{:#?}", http.processes);
        let master = http.processes.iter().find(|p| p.pid == nginx.pid()).expect("nginx master holds the socket");
        assert_eq!(master.user, "root");
        let workers: Vec<u32> = http.processes.iter().filter(|p| p.ppid == nginx.pid()).map(|p| p.pid).collect();
        assert_eq!(workers.len(), 2);
        assert!(http.processes.iter().filter(|p| p.pid != nginx.pid()).all(|p| p.user == "nobody"));
        assert!(http.findings.is_empty());
    }
    let holding = who_holds(&inventory, 8080, Some(Protocol::Tcp));
    let steps = holding.stop_steps();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert!(matches!(&steps[0], StopStep::Kill { pid, followers, .. } if *pid == nginx.pid() && followers.len() == 2));

    let telnet = socket(Protocol::Tcp, "::", 23);
    assert_eq!(telnet.processes[0].pid, telnet_v6.pid());
    assert_eq!(telnet.findings[0].id, "telnet-cleartext");
    assert_eq!(socket(Protocol::Udp, "0.0.0.0", 9999).processes[0].pid, udp_v4.pid());
    let udp6 = socket(Protocol::Udp, "::1", 9998);
    assert_eq!(udp6.processes[0].pid, udp_v6.pid());
    assert_eq!(udp6.reach, Reach::Local);
    assert_eq!(inventory.privilege, Privilege::Root);

    // The CLI entry point, inside the namespace: --port answers and exit codes, -oJ to a file.
    let json_path = dir.join("local.jsonl");
    let args = LocalArgs { port: Some(5432), json: Some(JsonOutput::File(json_path.clone())), ..LocalArgs::default() };
    let (code, out, err) = ns
        .run_in(move || {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = run_as_cli(&args, &mut no_one_asks(), &mut out, &mut err);
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
        })
        .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("  kill {}    # socat\n", postgres_like.pid())), "{out}");
    let json = fs::read_to_string(&json_path).unwrap();
    let lines: Vec<serde_json::Value> = json.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{json}");
    assert_eq!(lines[0]["port"], 5432);
    assert_eq!(lines[0]["processes"][0]["pid"], postgres_like.pid());
    assert_eq!(lines[1]["type"], "summary");

    let args = LocalArgs { port: Some(4), ..LocalArgs::default() };
    let (code, out) = ns
        .run_in(move || {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            (run_as_cli(&args, &mut no_one_asks(), &mut out, &mut err), String::from_utf8(out).unwrap())
        })
        .unwrap();
    assert_eq!(code, 1);
    assert_eq!(out, "Nobody holds port 4 (tcp or udp).\n");
}

#[test]
fn unprivileged_view_keeps_every_socket_but_only_visible_owners() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let scratch = Scratch::new("nobody");
    let dir = scratch.0.as_path();
    let root_socat =
        Daemon::start(ns, dir, "socat-root", &["socat", "TCP-LISTEN:5432,bind=0.0.0.0,reuseaddr,fork", "EXEC:cat"]);
    let nobody_socat = Daemon::start(
        ns,
        dir,
        "socat-nobody",
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "socat",
            "TCP-LISTEN:7000,bind=127.0.0.1,reuseaddr,fork",
            "EXEC:cat",
        ],
    );
    let as_root = wait_for(ns, &[(Protocol::Tcp, 5432, 1), (Protocol::Tcp, 7000, 1)], &[&root_socat, &nobody_socat]);

    // Re-run this test binary as nobody inside the namespace; its `unprivileged_child` test writes JSON Lines.
    let output_path = dir.join("nobody.jsonl");
    File::create(&output_path).unwrap();
    fs::set_permissions(&output_path, fs::Permissions::from_mode(0o666)).unwrap();
    let exe = std::env::current_exe().unwrap();
    let child = ns
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["--exact", "unprivileged_child", "--test-threads=1", "--quiet"])
        .env(CHILD_OUTPUT_VAR, &output_path)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let text = fs::read_to_string(&output_path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let (summary, sockets) = lines.split_last().expect("the child wrote JSON Lines");

    // Every socket is still listed: the socket tables are world-readable.
    let mut seen: Vec<(String, String, u64)> = sockets
        .iter()
        .map(|s| {
            (
                s["proto"].as_str().unwrap().to_owned(),
                s["addr"].as_str().unwrap().to_owned(),
                s["port"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String, u64)> =
        as_root.sockets.iter().map(|s| (s.proto.to_string(), s.addr.to_string(), u64::from(s.port))).collect();
    expected.sort();
    assert_eq!(seen, expected);

    let find = |port: u64| sockets.iter().find(|s| s["port"] == port).unwrap();
    assert_eq!(find(5432)["processes"], serde_json::json!([]), "root's process is hidden from nobody");
    assert_eq!(find(5432)["findings"][0]["id"], "database-exposed");
    let own = &find(7000)["processes"];
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own[0]["pid"], nobody_socat.pid());
    assert_eq!(own[0]["user"], "nobody");

    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["root"], false);
    assert!(summary["unowned"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["note"].as_str().unwrap().contains("run as root to see every owner"), "{summary}");
}

/// Not a test of its own: the body of the unprivileged run above, which re-executes this binary as `nobody`
/// with [`CHILD_OUTPUT_VAR`] set. Run directly (the variable unset), it only checks that a normal inventory
/// can be taken.
#[test]
fn unprivileged_child() {
    let Some(output) = std::env::var_os(CHILD_OUTPUT_VAR) else {
        assert!(listening_sockets(&LocalOptions::default()).is_ok());
        return;
    };
    let args = LocalArgs { json: Some(JsonOutput::File(PathBuf::from(output))), ..LocalArgs::default() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_as_cli(&args, &mut no_one_asks(), &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let note = String::from_utf8(err).unwrap();
    assert!(note.starts_with("note: ") && note.contains("run as root to see every owner"), "{note}");
    assert!(!String::from_utf8(out).unwrap().contains("run as root"), "the note is a message on stderr, not data");
}

/// Every real Debian daemon the test bed can run (tojimari-testbed's `daemons`: 22 of them, master and worker
/// processes, IPv4 and IPv6, TCP and UDP, root and service users) in one namespace: the same sockets and the
/// same owners as `ss -ltnupH`, both taken in a quiet moment (no daemon starting or stopping).
#[test]
fn agrees_with_ss_on_real_daemons() {
    use tojimari_testbed::daemons::{self, Posture};
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let running = daemons::start_all(target, Posture::Exposed).expect("every installed daemon starts");
    assert!(running.len() >= 10 || !tojimari_testbed::in_ci(), "only {} daemons", running.len());
    // Let forked workers settle, then take both views back to back; retry if they raced a fork.
    let mut last = None;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(500));
        let ours = our_rows(&inventory_in(&target.ns));
        let ss = target.ns.run(&["ss", "-ltnupH"]).unwrap();
        let theirs = ss_rows(&String::from_utf8_lossy(&ss.stdout));
        if ours == theirs {
            assert!(ours.len() >= running.len(), "{ours:#?}");
            return;
        }
        last = Some((ours, theirs));
    }
    let (ours, theirs) = last.unwrap();
    assert_eq!(ours, theirs, "tojimari local vs ss -ltnupH with {} real daemons", running.len());
}

/// A user who, while the question is on the screen, stops the holder and starts another one in its place.
struct SwapWhileAsking {
    first: Option<Daemon>,
    second: Option<Child>,
    question: String,
}

impl Prompt for SwapWhileAsking {
    fn ask(&mut self, question: &str) -> std::io::Result<Answer> {
        self.question = question.to_owned();
        drop(self.first.take());
        // This thread is in the target namespace: the child starts there too.
        let second = std::process::Command::new("socat")
            .args(["TCP-LISTEN:7020,reuseaddr,fork", "EXEC:cat"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let pid = second.id();
        self.second = Some(second);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let inventory = listening_sockets(&LocalOptions::default()).unwrap();
            if who_holds(&inventory, 7020, None).processes().iter().any(|process| process.pid == pid) {
                return Ok(Answer::Yes);
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("the second socat did not start");
    }
}

#[test]
fn stop_does_nothing_when_the_holders_changed_while_asking() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let scratch = Scratch::new("swap");
    let first = Daemon::start(ns, &scratch.0, "socat-7020", &["socat", "TCP-LISTEN:7020,reuseaddr,fork", "EXEC:cat"]);
    let first_pid = first.pid();
    let inventory = wait_for(ns, &[(Protocol::Tcp, 7020, 1)], &[&first]);
    let pids: Vec<u32> = who_holds(&inventory, 7020, None).processes().iter().map(|p| p.pid).collect();
    assert_eq!(pids, [first_pid], "only our socat holds 7020");

    let args = LocalArgs { port: Some(7020), stop: Some(StopOptions::default()), ..LocalArgs::default() };
    let (code, out, err, prompt) = ns
        .run_in(move || {
            let mut prompt = SwapWhileAsking { first: Some(first), second: None, question: String::new() };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = run_as_cli(&args, &mut prompt, &mut out, &mut err);
            (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap(), prompt)
        })
        .unwrap();
    let mut second = prompt.second.expect("the prompt ran");
    let second_pid = second.id();
    assert_eq!(prompt.question, format!("Stop socat (pid {first_pid})? [y/N] "));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains(&format!("pid {first_pid} socat user root")), "{out}");
    assert!(!out.contains("SIGTERM"), "{out}");
    assert!(err.starts_with("error: nothing was stopped: the holders of port 7020 (tcp or udp) changed"), "{err}");
    // The newcomer, which the user was never asked about, still runs and holds the port.
    assert!(matches!(second.try_wait(), Ok(None)), "the second socat was signalled");
    let inventory = inventory_in(ns);
    let pids: Vec<u32> = who_holds(&inventory, 7020, None).processes().iter().map(|p| p.pid).collect();
    assert_eq!(pids, [second_pid]);
    let _ = second.kill();
    let _ = second.wait();
}
