//! Recording a scan as it runs: a [`Sink`] that hands finished hosts to a writer thread, which records them
//! in batches (one transaction each), so the engine never waits on the database. `run_end` finishes the scan
//! as complete or interrupted. A database that fails mid-scan does not stop the scan: the sink keeps the
//! first error ([`StoreSink::error`]) and hands the hosts it could not record (the batch that failed and
//! every later one) to its [`Spill`], where the caller writes them elsewhere (the CLI's JSON Lines fallback).

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, RunExit, RunInfo, RunSummary};
use tojimari_core::sink::Sink;

use crate::rows::unix_ms;
use crate::store::{ScanId, ScanStatus, Store, StoreError};

/// Hosts per transaction at most; a batch is also written when the writer has waited this long.
const BATCH_HOSTS: usize = 1024;
const BATCH_WAIT: Duration = Duration::from_millis(100);

enum Job {
    Run(Box<RunInfo>),
    Host(Box<HostReport>),
    Finish(ScanStatus, Box<RunSummary>),
}

/// A [`Sink`] recording into a [`Store`].
#[derive(Debug)]
pub struct StoreSink {
    scan: ScanId,
    jobs: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    error: Arc<Mutex<Option<StoreError>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Run(_) => write!(f, "Run"),
            Job::Host(h) => write!(f, "Host({})", h.addr),
            Job::Finish(s, _) => write!(f, "Finish({s:?})"),
        }
    }
}

/// Where the hosts a failed database could not take go, called on the writer thread.
pub type Spill = Box<dyn FnMut(&[HostReport]) + Send>;

impl StoreSink {
    /// Records into `store` the hosts of `scan` (begun with [`Store::begin_scan`]).
    pub fn new(store: Store, scan: ScanId) -> io::Result<StoreSink> {
        StoreSink::with_spill(store, scan, Box::new(|_| {}))
    }

    /// As [`StoreSink::new`]; once the database fails, the hosts not recorded go to `spill`.
    pub fn with_spill(store: Store, scan: ScanId, spill: Spill) -> io::Result<StoreSink> {
        let (jobs, rx) = mpsc::channel();
        let error = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&error);
        let writer =
            std::thread::Builder::new().name("store".into()).spawn(move || write(store, scan, rx, seen, spill))?;
        Ok(StoreSink { scan, jobs: Some(jobs), writer: Some(writer), error })
    }

    /// The scan being recorded.
    pub fn scan(&self) -> ScanId {
        self.scan
    }

    /// The first failure of the database, if any (later hosts were not recorded).
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.as_ref().map(ToString::to_string)
    }

    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }

    /// Waits for the writer to finish everything sent so far.
    fn join(&mut self) {
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: batches of hosts, one transaction each, until the scan is finished or the sink dropped.
fn write(store: Store, scan: ScanId, rx: Receiver<Job>, error: Arc<Mutex<Option<StoreError>>>, mut spill: Spill) {
    let mut batch: Vec<HostReport> = Vec::new();
    let fail = |e: StoreError| {
        if let Ok(mut slot) = error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    };
    let failed = || error.lock().map(|e| e.is_some()).unwrap_or(true);
    // A batch is one transaction: when it fails, none of it was recorded, and it is spilled whole.
    let mut flush = |batch: &mut Vec<HostReport>| {
        if batch.is_empty() {
            return;
        }
        if failed() {
            spill(batch);
        } else if let Err(e) = store.record_hosts(scan, batch, unix_ms(SystemTime::now())) {
            fail(e);
            spill(batch);
        }
        batch.clear();
    };
    loop {
        match rx.recv_timeout(BATCH_WAIT) {
            Ok(Job::Host(host)) => {
                batch.push(*host);
                if batch.len() >= BATCH_HOSTS {
                    flush(&mut batch);
                }
            }
            Ok(Job::Run(run)) => {
                if !failed()
                    && let Err(e) = store.set_run_info(scan, &run)
                {
                    fail(e);
                }
            }
            Ok(Job::Finish(status, summary)) => {
                flush(&mut batch);
                if !failed()
                    && let Err(e) = store.finish_run(scan, status, &summary)
                {
                    fail(e);
                }
                return;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => flush(&mut batch),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Dropped without run_end (a panic unwinding): what came is kept, the scan stays running and
                // is found interrupted the next time the store is read.
                flush(&mut batch);
                return;
            }
        }
    }
}

impl Sink for StoreSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.send(Job::Run(Box::new(run.clone())));
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.send(Job::Host(Box::new(host.clone())));
        Ok(())
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let status = match summary.exit {
            RunExit::Success => ScanStatus::Complete,
            RunExit::Error(_) => ScanStatus::Interrupted,
        };
        self.send(Job::Finish(status, Box::new(summary.clone())));
        self.join();
        Ok(())
    }
}

impl Drop for StoreSink {
    fn drop(&mut self) {
        self.join();
    }
}
