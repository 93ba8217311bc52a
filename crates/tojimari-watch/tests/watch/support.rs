//! Test support: a watcher running `tojimari_watch::run_until` on a thread inside a test-bed
//! namespace, with its JSON Lines and stderr captured, and scans run in the scanner namespace.
//! The library prints nothing: [`run_until_with`] here renders its notices and its error as the
//! CLI prints them ([`tojimari_core::diagnostic::render`]) and maps its result to the CLI's exit
//! status, so the tests read what a user of `tojimari watch` reads.

use std::io::Write;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tojimari_core::diagnostic::render;
use tojimari_scandetect::DetectorConfig;
use tojimari_testbed::Netns;
use tojimari_watch::{Outcome, WatchArgs, WatchError};

/// `tojimari_watch::run_until` as `tojimari watch` runs it: see [`run_until_with`].
pub fn run_until(args: WatchArgs, stop: &AtomicBool, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    run_until_with(args, DetectorConfig::default(), stop, stdout, stderr)
}

/// `tojimari_watch::run_until_with`, each notice and the final error written to `stderr` as one
/// line in the CLI's format; returns the CLI's exit status (README "Exit status": 0 a clean
/// stop, 1 a runtime failure, 2 bad usage).
pub fn run_until_with(
    args: WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let result = tojimari_watch::run_until_with(args, config, stop, stdout, &mut |notice| {
        let _ = writeln!(stderr, "{}", render(&notice));
    });
    match result {
        Ok(Outcome::Finished) => 0,
        Ok(Outcome::FilesFailed { .. }) => 1,
        Err(error) => {
            let _ = writeln!(stderr, "{}", render(&error));
            if matches!(error, WatchError::Usage(_)) { 2 } else { 1 }
        }
    }
}

/// A `Write` whose bytes the test can read while the watcher still runs.
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A unique temporary file path.
pub fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("tojimari-watch-test-{}-{n}-{name}", std::process::id()))
}

/// What a finished watcher left behind.
pub struct Finished {
    pub code: i32,
    pub stderr: String,
    pub alerts: Vec<Value>,
}

/// `watch` running in a namespace.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<i32>>,
    json: PathBuf,
    stderr: SharedBuf,
}

impl Watcher {
    /// Starts `watch` with `args` (its `json` is set here) inside `ns` and waits until it
    /// captures (its `watching` line), or panics with its stderr.
    pub fn start(ns: &Netns, args: WatchArgs) -> Watcher {
        Watcher::start_with(ns, args, DetectorConfig::default())
    }

    /// [`Watcher::start`] with the detector's settings given.
    pub fn start_with(ns: &Netns, mut args: WatchArgs, config: DetectorConfig) -> Watcher {
        let json = temp_path("alerts.jsonl");
        args.json = Some(json.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let stderr = SharedBuf::default();
        let (flag, mut err) = (Arc::clone(&stop), stderr.clone());
        let handle = ns
            .spawn_in(move || run_until_with(args, config, &flag, &mut std::io::sink(), &mut err))
            .expect("enter the namespace");
        let watcher = Watcher { stop, handle: Some(handle), json, stderr };
        let until = Instant::now() + Duration::from_secs(10);
        while !watcher.stderr.text().contains("watching ") {
            let ended = watcher.handle.as_ref().is_some_and(JoinHandle::is_finished);
            assert!(!ended && Instant::now() < until, "watch did not start: {}", watcher.stderr.text());
            std::thread::sleep(Duration::from_millis(20));
        }
        watcher
    }

    /// Alerts written so far.
    pub fn alerts(&self) -> Vec<Value> {
        read_alerts(&self.json)
    }

    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Waits up to `timeout` for an alert matching `pred`.
    pub fn wait_for(&self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(a) = self.alerts().into_iter().find(|a| pred(a)) {
                return Some(a);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the watcher and returns what it wrote.
    pub fn finish(mut self) -> Finished {
        self.stop.store(true, Ordering::Relaxed);
        let code = self.handle.take().map(|h| h.join().expect("watch thread panicked")).unwrap_or(-1);
        let alerts = read_alerts(&self.json);
        let _ = std::fs::remove_file(&self.json);
        Finished { code, stderr: self.stderr.text(), alerts }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let _ = std::fs::remove_file(&self.json);
    }
}

pub fn read_alerts(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Runs a shell command in `ns`, killed after `limit`.
pub fn sh(ns: &Netns, limit: Duration, script: &str) -> Output {
    ns.command("timeout")
        .args(["-s", "KILL", &limit.as_secs().to_string(), "sh", "-c", script])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run a command in the namespace")
}

/// The MAC address of `eth0` in `ns`.
pub fn mac_of(ns: &Netns) -> String {
    let out = ns.command("cat").arg("/sys/class/net/eth0/address").output().expect("read MAC");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether `program` is installed.
pub fn installed(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
