//! `tojimari local --port N --stop`, end to end: the binary run inside a test-bed target namespace against
//! real daemons the test started there (nginx with forked workers, redis, a listener that ignores SIGTERM, a
//! shell loop that restarts its child, a listener that is pid 1 of its own PID namespace).
//!
//! Safety: every process these tests stop is one they started, inside their own network namespace; before
//! each `--stop`, the holders `tojimari local` finds are checked to be exactly those processes.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tojimari_testbed::daemons::{self, Daemon, Posture, Running};
use tojimari_testbed::{Netns, Target, in_ci, testbed_or_skip};

const BIN: &str = env!("CARGO_BIN_EXE_tojimari");

/// A process the test started; killed (if still running and not yet reaped) and reaped when dropped.
struct Started(Child);

impl Started {
    fn spawn(ns: &Netns, argv: &[&str]) -> Started {
        let child = ns
            .command(argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {argv:?}: {e}"));
        Started(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        // Only an unreaped child: its pid cannot have been given to anyone else.
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// `tojimari local ARGS` in `ns`, standard input not a terminal.
fn local(ns: &Netns, args: &[&str]) -> Output {
    ns.command(BIN).arg("local").args(args).stdin(Stdio::null()).output().unwrap()
}

/// `tojimari local ARGS` in `ns` on a terminal (`script` gives it one), typing `answer`. stdout and stderr
/// come back merged, as a terminal shows them.
fn local_on_terminal(ns: &Netns, args: &[&str], answer: &str) -> (Option<i32>, String) {
    let command = format!("{BIN} local {}", args.join(" "));
    let mut child = ns
        .command("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.code(), format!("{}{}", text(&output.stdout), text(&output.stderr)))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The pids holding `port` in `ns`, as `tojimari local --port N -oJ -` lists them.
fn holders(ns: &Netns, port: u16) -> BTreeSet<u32> {
    let out = local(ns, &["--port", &port.to_string(), "-oJ", "-"]);
    text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|object| object["type"] == "socket")
        .flat_map(|socket| {
            let pids: Vec<u32> = socket["processes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|process| u32::try_from(process["pid"].as_u64().unwrap()).unwrap())
                .collect();
            pids
        })
        .collect()
}

/// Waits until somebody holds `port`, and returns who.
fn wait_held(ns: &Netns, port: u16) -> BTreeSet<u32> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let pids = holders(ns, port);
        if !pids.is_empty() {
            return pids;
        }
        assert!(Instant::now() < deadline, "nobody listens on {port}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Ground truth from another tool: whether `ss` sees a TCP socket listening on `port` in `ns`.
fn listening(ns: &Netns, port: u16) -> bool {
    let out = ns.run(&["ss", "-ltnH", &format!("sport = :{port}")]).unwrap();
    !text(&out.stdout).trim().is_empty()
}

/// (state, parent pid) from `/proc/PID/stat`, `None` when there is no such process.
fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = text.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.next()?.parse().ok()?))
}

/// Whether `pid` runs (exists and is not a zombie).
fn runs(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

fn start_daemon(target: &Target, daemon: Daemon) -> Option<Running> {
    if !daemons::available(daemon) {
        assert!(!in_ci(), "{daemon:?} is not installed: scripts/test installs it");
        eprintln!("SKIPPED: {daemon:?} is not installed (run scripts/test)");
        return None;
    }
    Some(daemons::start(target, daemon, Posture::Safe).unwrap_or_else(|e| panic!("{daemon:?}: {e}")))
}

fn pids_text(pids: &[u32]) -> String {
    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

#[test]
fn stop_yes_ends_nginx_master_and_workers_and_the_port_closes() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let ns = &target.ns;
    let Some(nginx) = start_daemon(target, Daemon::Nginx) else { return };
    let master = nginx.pid();
    let held = wait_held(ns, 80);
    // Only our nginx holds it: its master and the workers the master forked.
    assert!(held.contains(&master), "{held:?} vs master {master}");
    let workers: Vec<u32> = held.iter().copied().filter(|&pid| pid != master).collect();
    assert!(!workers.is_empty(), "nginx runs workers: {held:?}");
    for worker in &workers {
        assert_eq!(stat(*worker).map(|(_, ppid)| ppid), Some(master), "pid {worker} is not our nginx's worker");
    }

    let out = local(ns, &["--port", "80", "--stop", "--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // SIGTERM to the master alone: it ends its workers itself (and would respawn one killed behind its back).
    assert!(stdout.contains(&format!("Sending SIGTERM to nginx (pid {master}).\n")), "{stdout}");
    let all: Vec<u32> = held.iter().copied().collect();
    assert!(stdout.contains(&format!("nginx (pids {}) exited.\n", pids_text(&all))), "{stdout}");
    assert!(stdout.ends_with("Port 80 (tcp or udp) is closed now.\n"), "{stdout}");
    assert!(!stdout.contains("SIGKILL"), "nginx ends on SIGTERM: {stdout}");
    assert!(stderr.is_empty(), "{stderr}");

    for pid in held {
        assert!(!runs(pid), "pid {pid} still runs");
    }
    assert!(!listening(ns, 80), "ss still sees port 80");
    assert!(!listening(ns, 443), "the whole nginx is gone, its TLS port too");
    assert!(holders(ns, 80).is_empty());
}

#[test]
fn the_question_answered_no_leaves_redis_running_and_yes_stops_it() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let ns = &target.ns;
    let Some(redis) = start_daemon(target, Daemon::Redis) else { return };
    let pid = redis.pid();
    assert_eq!(wait_held(ns, 6379), BTreeSet::from([pid]), "only our redis holds 6379");

    // Standard input not a terminal and no --yes: nobody to ask, so no.
    let out = local(ns, &["--port", "6379", "--stop"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: nothing was stopped: standard input is not a terminal"), "{stderr}");
    assert!(stderr.contains("(hint: add --yes"), "{stderr}");
    assert!(runs(pid));

    let question = format!("Stop redis-server (pid {pid})? [y/N] ");
    let (code, shown) = local_on_terminal(ns, &["--port", "6379", "--stop"], "n\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains(&question), "{shown}");
    assert!(shown.contains("note: nothing was stopped"), "{shown}");
    assert!(!shown.contains("SIGTERM"), "{shown}");
    assert!(runs(pid), "answered no, redis must still run");
    assert!(listening(ns, 6379));

    // The end of input is no as well.
    let (code, shown) = local_on_terminal(ns, &["--port", "6379", "--stop"], "");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("note: nothing was stopped (no answer)"), "{shown}");
    assert!(runs(pid));

    assert_eq!(holders(ns, 6379), BTreeSet::from([pid]), "still only our redis");
    let (code, shown) = local_on_terminal(ns, &["--port", "6379", "--stop"], "y\n");
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains(&question), "{shown}");
    assert!(shown.contains(&format!("Sending SIGTERM to redis-server (pid {pid}).")), "{shown}");
    assert!(shown.contains("Port 6379 (tcp or udp) is closed now."), "{shown}");
    assert!(!runs(pid));
    assert!(!listening(ns, 6379));
}

/// Binds 0.0.0.0:PORT with SIGTERM ignored, then sleeps.
const IGNORES_SIGTERM: &str = "import signal, socket, sys, time\n\
signal.signal(signal.SIGTERM, signal.SIG_IGN)\n\
s = socket.socket()\n\
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
s.bind(('0.0.0.0', int(sys.argv[1])))\n\
s.listen()\n\
time.sleep(600)\n";

#[test]
fn a_process_ignoring_sigterm_gets_sigkill_after_the_grace_period() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let listener = Started::spawn(ns, &["/usr/bin/python3", "-c", IGNORES_SIGTERM, "7007"]);
    let pid = listener.pid();
    assert_eq!(wait_held(ns, 7007), BTreeSet::from([pid]), "only our listener holds 7007");

    let started = Instant::now();
    let out = local(ns, &["--port", "7007", "--stop", "--yes", "--grace", "1s"]);
    let elapsed = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains(&format!("Sending SIGTERM to python3 (pid {pid}).\n")), "{stdout}");
    assert!(stdout.contains(&format!("python3 still running after 1s: sending SIGKILL (pid {pid}).\n")), "{stdout}");
    assert!(stdout.contains(&format!("python3 (pid {pid}) ended by SIGKILL.\n")), "{stdout}");
    assert!(stdout.ends_with("Port 7007 (tcp or udp) is closed now.\n"), "{stdout}");
    assert!(elapsed >= Duration::from_secs(1), "SIGKILL came before the grace period: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    let mut listener = listener;
    let status = listener.0.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL, not by SIGTERM: {status:?}");
    assert!(!listening(ns, 7007));
}

#[test]
fn a_restarted_holder_is_reported_with_its_parent() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let supervisor =
        Started::spawn(ns, &["sh", "-c", "while :; do socat TCP-LISTEN:7008,reuseaddr,fork EXEC:cat; done"]);
    let held = wait_held(ns, 7008);
    assert_eq!(held.len(), 1, "{held:?}");
    let first = *held.first().unwrap();
    assert_eq!(stat(first).map(|(_, ppid)| ppid), Some(supervisor.pid()), "the holder is our loop's socat");

    let out = local(ns, &["--port", "7008", "--stop", "--yes"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("socat (pid {first}) exited.\n")), "{stdout}");
    assert!(!stdout.contains("closed now"), "{stdout}");
    assert!(!runs(first));
    let again = holders(ns, 7008);
    assert_eq!(again.len(), 1, "{again:?}");
    let second = *again.first().unwrap();
    assert_ne!(second, first);
    let expected = format!(
        "error: port 7008 (tcp or udp) is still open, held by pid {second} (socat, parent pid {} sh)",
        supervisor.pid()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains("restarted it"), "{stderr}");
    // The loop first (it would restart socat), then its last socat, which is ours: our loop's child.
    assert_eq!(stat(second).map(|(_, ppid)| ppid), Some(supervisor.pid()));
    drop(supervisor);
    let _ = std::process::Command::new("kill").args(["-KILL", &second.to_string()]).status();
}

/// The children of `pid` (`/proc/PID/task/PID/children`).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

#[test]
fn pid_1_is_refused() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    // socat as pid 1 of a new PID namespace (with its own /proc).
    let unshare = Started::spawn(
        ns,
        &["unshare", "--pid", "--fork", "--mount-proc", "socat", "TCP-LISTEN:7009,reuseaddr,fork", "EXEC:cat"],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let socat = loop {
        if let Some(&pid) = children(unshare.pid()).first()
            && listening(ns, 7009)
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "socat did not start");
        thread::sleep(Duration::from_millis(50));
    };
    // From the host's PID namespace it is an ordinary process, our unshare's child.
    assert_eq!(wait_held(ns, 7009), BTreeSet::from([socat]));

    // From inside its PID namespace it is pid 1.
    let pid_socat = socat.to_string();
    let out = ns
        .command("nsenter")
        .args(["-t", &pid_socat, "-p", "-m", BIN, "local", "--port", "7009", "--stop", "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("    pid 1 socat user root: socat TCP-LISTEN:7009"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot stop port 7009 (tcp or udp): pid 1 (socat) holds the port, and tojimari never stops pid 1"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("SIGTERM"), "{stdout}");
    assert!(runs(socat), "pid 1 must not be touched");
    assert!(listening(ns, 7009));
}

#[test]
fn an_owner_in_another_pid_namespace_is_refused_without_telling_root_to_run_as_root() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let socat = Started::spawn(ns, &["socat", "TCP-LISTEN:7010,reuseaddr,fork", "EXEC:cat"]);
    assert_eq!(wait_held(ns, 7010), BTreeSet::from([socat.pid()]));

    // tojimari in a PID namespace of its own, as root, cannot see the socat of the host's.
    let in_own_pid_ns = |args: &[&str]| {
        ns.command("unshare")
            .args(["--pid", "--fork", "--mount-proc", BIN, "local"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = in_own_pid_ns(&["--port", "7010"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("    owner not visible (socket created by uid 0)"), "{stdout}");
    assert!(stderr.starts_with("note: no process visible from here holds a socket on port 7010"), "{stderr}");
    assert!(stderr.contains("another PID namespace"), "{stderr}");
    assert!(!stderr.contains("run as root") && !stdout.contains("run as root"), "we are root: {stdout}{stderr}");

    let out = in_own_pid_ns(&["--port", "7010", "--stop", "--yes"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot stop port 7010 (tcp or udp): no process visible from here holds tcp 0.0.0.0:7010"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("another PID namespace"), "{stderr}");
    assert!(!stderr.contains("run as root"), "{stderr}");
    assert!(runs(socat.pid()));
    assert!(listening(ns, 7010));
}

#[test]
fn nobody_holding_the_port_is_nothing_to_stop() {
    let bed = testbed_or_skip!(1);
    let ns = &bed.target(0).ns;
    let out = local(ns, &["--port", "7011", "--stop", "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "Nobody holds port 7011 (tcp or udp).\nNothing to stop.\n");
    assert!(out.stderr.is_empty());
}

#[test]
fn stop_usage_errors_are_exit_2() {
    for (args, needle) in [
        (&["--stop"][..], "--stop needs --port"),
        (&["--stop", "--yes"][..], "--stop needs --port"),
        (&["--yes"][..], "--yes goes with --stop"),
        (&["--port", "80", "--grace", "3s"][..], "--grace goes with --stop"),
        (&["--port", "80", "--stop", "--grace", "soon"][..], "--grace"),
        (&["--port", "80", "--stop", "--grace", "2h"][..], "longer than an hour"),
        (&["--port", "80", "--stop", "-oJ", "-"][..], "--stop does not write -oJ"),
    ] {
        let out = std::process::Command::new(BIN).arg("local").args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle) && stderr.contains("(hint: "),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn runtime_failures_are_exit_1() {
    let out = std::process::Command::new(BIN)
        .args(["local", "-oJ", "/nonexistent/tojimari/sockets.jsonl"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "2 is for bad usage only: {stderr}");
    assert!(stderr.starts_with("error: cannot write /nonexistent/tojimari/sockets.jsonl: "), "{stderr}");
}
