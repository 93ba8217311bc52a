//! Checks started from the page. Each runs as a child process of this tojimari binary, recording into the
//! same store as the command line does (so it takes the same time as the same check typed in a terminal),
//! and it belongs to the server, not to the browser: a reader who closes the tab leaves it running, and it
//! is recorded. The child's `--stats-every` lines ([`Progress`]) are read back for the page; its hosts reach
//! the page through the store, where the child records them as they finish.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tojimari_core::progress::Progress;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{Semaphore, watch};

use crate::profile::Profile;

/// The most of a child's report and messages kept for the page.
const KEEP_REPORT: usize = 256 * 1024;
const KEEP_MESSAGES: usize = 50;
/// The most checks remembered (finished ones are forgotten oldest first; the store keeps them all).
const KEEP_JOBS: usize = 200;

/// Where a check is.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Queued,
    Running,
    /// The child exited with this status (0: done; 1: done, something failed; 2: refused its input).
    Exited(i32),
    /// The child could not be started or was killed.
    Failed(String),
}

impl Status {
    pub fn is_over(&self) -> bool {
        matches!(self, Status::Exited(_) | Status::Failed(_))
    }
}

/// What the page shows of one check.
#[derive(Clone, Debug)]
pub struct JobView {
    pub id: u64,
    pub profile: String,
    pub targets: Vec<String>,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub status: Status,
    pub progress: Option<Progress>,
    pub pid: Option<u32>,
    /// What the child printed on stdout (the check's plain-words report), at most 256 KiB.
    pub report: String,
    /// The child's messages on stderr other than progress (errors, warnings, notes).
    pub messages: Vec<String>,
}

#[derive(Debug)]
struct Job {
    view: Mutex<JobView>,
    /// Bumped on every change; the page's event stream waits on it.
    changed: watch::Sender<u64>,
}

impl Job {
    fn update(&self, f: impl FnOnce(&mut JobView)) {
        f(&mut self.view.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        self.changed.send_modify(|n| *n += 1);
    }
}

/// Starts and tracks the page's checks.
#[derive(Debug)]
pub struct Runner {
    exe: PathBuf,
    store: String,
    allow: String,
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
    slots: Arc<Semaphore>,
}

impl Runner {
    pub fn new(exe: PathBuf, store: String, allow: String, max_running: usize) -> Runner {
        Runner {
            exe,
            store,
            allow,
            next: AtomicU64::new(1),
            jobs: Mutex::default(),
            slots: Arc::new(Semaphore::new(max_running.max(1))),
        }
    }

    /// Starts `profile` against `targets` (checked against the allow-list by the caller, and again by the
    /// child after it resolves them); returns the check's id at once.
    pub fn start(
        &self,
        profile: &Profile,
        targets: Vec<String>,
        now_ms: i64,
    ) -> Result<u64, crate::profile::FormError> {
        let mut argv = profile.argv(&targets, &self.allow)?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        // A scan keeps a checkpoint while it runs (docs/resume.md); the page's own goes to a file of this
        // server's in the temporary directory, not the server's working directory, and is removed after.
        let checkpoint = (argv.first().map(String::as_str) == Some("scan"))
            .then(|| std::env::temp_dir().join(format!("tojimari-serve-{}-check-{id}.resume", std::process::id())));
        if let Some(path) = &checkpoint {
            argv.splice(1..1, ["--checkpoint".to_string(), path.display().to_string()]);
        }
        let view = JobView {
            id,
            profile: profile.name().to_string(),
            targets,
            started_ms: now_ms,
            finished_ms: None,
            status: Status::Queued,
            progress: None,
            pid: None,
            report: String::new(),
            messages: Vec::new(),
        };
        let job = Arc::new(Job { view: Mutex::new(view), changed: watch::channel(0).0 });
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            jobs.insert(id, job.clone());
            while jobs.len() > KEEP_JOBS {
                let Some(oldest) = jobs.iter().find(|(_, j)| j.view.lock().map(|v| v.status.is_over()).unwrap_or(true))
                else {
                    break;
                };
                let oldest = *oldest.0;
                jobs.remove(&oldest);
            }
        }
        let (exe, store, slots) = (self.exe.clone(), self.store.clone(), self.slots.clone());
        tokio::spawn(async move {
            let Ok(_slot) = slots.acquire_owned().await else { return };
            run(&job, &exe, &store, &argv).await;
            if let Some(path) = checkpoint {
                let mut journal = path.clone().into_os_string();
                journal.push(".hosts");
                let _ = std::fs::remove_file(&path);
                let _ = std::fs::remove_file(journal);
            }
        });
        Ok(id)
    }

    /// What check `id` looks like now.
    pub fn view(&self, id: u64) -> Option<JobView> {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(&id).map(|j| j.view.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
    }

    /// A receiver that changes whenever check `id` does.
    pub fn watch(&self, id: u64) -> Option<watch::Receiver<u64>> {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.get(&id).map(|j| j.changed.subscribe())
    }

    /// Every check this server remembers, newest first.
    pub fn list(&self) -> Vec<JobView> {
        let jobs = self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        jobs.values().rev().map(|j| j.view.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()).collect()
    }
}

async fn run(job: &Job, exe: &PathBuf, store: &str, argv: &[String]) {
    let child = tokio::process::Command::new(exe)
        .args(argv)
        .env("TOJIMARI_DB", store)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            job.update(|v| {
                v.status = Status::Failed(format!("cannot start {}: {e}", exe.display()));
                v.finished_ms = Some(now_ms());
            });
            return;
        }
    };
    job.update(|v| {
        v.status = Status::Running;
        v.pid = child.id();
    });
    let out = child.stdout.take().map(|o| read_lines(o, job, Line::Report));
    let err = child.stderr.take().map(|e| read_lines(e, job, Line::Message));
    let (status, _, _) = tokio::join!(child.wait(), opt(out), opt(err));
    job.update(|v| {
        v.finished_ms = Some(now_ms());
        v.status = match status {
            Ok(s) => match s.code() {
                Some(code) => Status::Exited(code),
                None => Status::Failed(format!("the check was stopped ({s})")),
            },
            Err(e) => Status::Failed(format!("cannot wait for the check: {e}")),
        };
    });
}

async fn opt<F: std::future::Future<Output = ()>>(f: Option<F>) {
    if let Some(f) = f {
        f.await;
    }
}

#[derive(Clone, Copy)]
enum Line {
    Report,
    Message,
}

async fn read_lines(stream: impl AsyncRead + Unpin, job: &Job, kind: Line) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        job.update(|v| match kind {
            Line::Report => {
                if v.report.len() + line.len() < KEEP_REPORT {
                    v.report.push_str(&line);
                    v.report.push('\n');
                }
            }
            Line::Message => {
                if let Some(p) = line.starts_with("Stats: ").then(|| Progress::parse(&line)).flatten() {
                    v.progress = Some(p);
                } else if v.messages.len() < KEEP_MESSAGES {
                    v.messages.push(line);
                }
            }
        });
    }
}

/// The wall clock in Unix milliseconds (the I/O edge; pages take it as a value).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
