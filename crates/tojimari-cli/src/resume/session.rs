//! A resumable run's checkpointing: the [`Session`] that writes the checkpoint when [`Schedule`] says so
//! (a clock thread, group boundaries, an interrupt), the [`JournalSink`] that keeps the finished hosts, and
//! the [`Replayed`] sink that gives a resumed run's outputs the journal's hosts first.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tojimari_core::report::{HostReport, PortResult, RunInfo, RunSummary};
use tojimari_core::sink::{Sink, Tee};
use tojimari_engine::Control;
use tojimari_output::JsonLinesSink;

use crate::resume::checkpoint::{Checkpoint, StoreScan};
use crate::resume::decide::{Ledger, Moment, Schedule, whole_summary};
use crate::resume::file;
use crate::resume::journal::{self, JournalFile, Shared};

/// How often the clock thread looks at the schedule.
const TICK: Duration = Duration::from_millis(200);

/// Recovers a lock's value after a panic elsewhere (the values here stay consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One resumable run's checkpointing (see the module docs).
pub struct Session {
    path: PathBuf,
    template: Checkpoint,
    /// The probe space's digest, computed on the clock thread (a large scope takes a moment).
    space: OnceLock<String>,
    started: Instant,
    earlier: Duration,
    journal: Arc<Mutex<JournalFile>>,
    ledger: Mutex<Ledger>,
    schedule: Mutex<Schedule>,
    control: Arc<Control>,
    /// The result store's scan, once the recorder has begun it.
    pub store: Arc<Mutex<Option<StoreScan>>>,
    /// Continuing a checkpoint: its file exists from the start.
    resumed: bool,
    problem: Mutex<Option<String>>,
    /// The last engine state written, by group: kept when the engine has none to give any more.
    last_state: Mutex<Option<(u64, Vec<u8>)>>,
    over: AtomicBool,
}

/// What a [`Session`] starts from.
pub struct Start {
    pub path: PathBuf,
    pub template: Checkpoint,
    pub every: Duration,
    pub journal: JournalFile,
    pub ledger: Ledger,
    pub resumed: bool,
}

impl Session {
    pub fn new(start: Start, control: Arc<Control>, now: Instant) -> Arc<Session> {
        let earlier = Duration::from_millis(start.template.elapsed_ms);
        // A resumed run's first checkpoints may come before the engine has its group going: they keep the
        // state the run was resumed with.
        let last_state = start.template.group_state.clone().map(|b| (start.ledger.groups_done, b));
        let store = Arc::new(Mutex::new(start.template.store.clone()));
        Arc::new(Session {
            path: start.path,
            space: OnceLock::new(),
            started: now,
            earlier,
            journal: Arc::new(Mutex::new(start.journal)),
            ledger: Mutex::new(start.ledger),
            schedule: Mutex::new(Schedule::new(start.every, now)),
            control,
            store,
            resumed: start.resumed,
            problem: Mutex::new(None),
            last_state: Mutex::new(last_state),
            over: AtomicBool::new(false),
            template: start.template,
        })
    }

    /// Time spent in earlier runs of this scan.
    pub fn earlier(&self) -> Duration {
        self.earlier
    }

    /// Starts the clock thread; `space` computes the probe-space digest first.
    pub fn start_clock(self: &Arc<Session>, space: impl FnOnce() -> String + Send + 'static) {
        let session = Arc::clone(self);
        let started = std::thread::Builder::new().name("checkpoint".into()).spawn(move || {
            let _ = session.space.set(space());
            while !session.over.load(Ordering::Relaxed) {
                session.consider(Moment::Tick, Instant::now());
                std::thread::sleep(TICK);
            }
        });
        if let Err(e) = started {
            self.fail(format!("cannot start the checkpoint thread: {e}"));
        }
    }

    /// The sink that keeps the journal (last in the run's `Tee`). `run_line`: write the run's header line
    /// (a new journal).
    pub fn journal_sink(self: &Arc<Session>) -> JournalSink {
        let run_line = lock(&self.journal).is_empty();
        JournalSink {
            lines: JsonLinesSink::new(Box::new(Shared(Arc::clone(&self.journal)))),
            session: Arc::clone(self),
            run_line,
        }
    }

    /// Ctrl-C or SIGTERM: later boundaries do not count; the checkpoint is written now.
    pub fn interrupted(&self) {
        lock(&self.ledger).freeze();
        self.consider(Moment::Interrupted, Instant::now());
    }

    /// The run is over. Completed: the checkpoint and journal are removed. Stopped (`cancelled`: by a signal)
    /// or failed after a checkpoint was written: the checkpoint is written a last time (the engine's state as
    /// it stopped) and its path returned, for the note. A run that failed before its first checkpoint leaves
    /// none.
    pub fn finish(&self, completed: bool, cancelled: bool) -> Option<PathBuf> {
        self.over.store(true, Ordering::Relaxed);
        if completed {
            // Under the schedule's lock: a checkpoint being written by the clock thread is finished first.
            let schedule = lock(&self.schedule);
            if (self.resumed || schedule.ever_written())
                && let Err(e) = file::remove(&self.path)
            {
                self.fail(format!("cannot remove the checkpoint {}: {e}", self.path.display()));
            }
            return None;
        }
        lock(&self.ledger).freeze();
        if !cancelled && !self.resumed && !lock(&self.schedule).ever_written() {
            return None;
        }
        self.consider(Moment::Interrupted, Instant::now());
        let written = self.resumed || lock(&self.schedule).ever_written();
        (written && lock(&self.problem).is_none()).then(|| self.path.clone())
    }

    /// The first failure to keep the checkpoint, told once as a warning: the scan goes on, not resumable.
    fn fail(&self, message: String) {
        let mut problem = lock(&self.problem);
        if problem.is_none() {
            crate::messages::warning(format!("{message}; this scan cannot be resumed"));
            *problem = Some(message);
        }
    }

    fn host(&self, host: &HostReport) {
        lock(&self.ledger).host(host.state);
    }

    fn group_done(&self, group: u64) {
        {
            let journal = lock(&self.journal);
            let (bytes, sha256) = journal.mark();
            if !lock(&self.ledger).group_done(group, bytes, sha256) {
                return;
            }
        }
        self.consider(Moment::GroupDone, Instant::now());
    }

    /// Writes the checkpoint if `moment` calls for one: the journal synced first, then the checkpoint.
    fn consider(&self, moment: Moment, now: Instant) {
        if lock(&self.problem).is_some() {
            return;
        }
        let mut schedule = lock(&self.schedule);
        if !schedule.due(moment, now) || (moment != Moment::Interrupted && self.over.load(Ordering::Relaxed)) {
            return;
        }
        let Some(space) = self.space.get().cloned() else {
            // Not digested yet: only an interrupt waits for it.
            if moment != Moment::Interrupted {
                return;
            }
            return self.write_waiting(schedule, now);
        };
        if let Err(e) = lock(&self.journal).sync() {
            return self.fail(format!("cannot write the results journal {}: {e}", self.journal_path().display()));
        }
        let ledger = lock(&self.ledger).clone();
        let group_state = {
            let mut last = lock(&self.last_state);
            match snapshot(&self.control, ledger.groups_done) {
                Some(now) => {
                    *last = Some((ledger.groups_done, now.clone()));
                    Some(now)
                }
                None => last.as_ref().filter(|(g, _)| *g == ledger.groups_done).map(|(_, b)| b.clone()),
            }
        };
        let checkpoint = Checkpoint {
            space,
            store: lock(&self.store).clone(),
            groups_done: ledger.groups_done,
            journal: ledger.journal,
            group_state,
            elapsed_ms: u64::try_from((self.earlier + now.saturating_duration_since(self.started)).as_millis())
                .unwrap_or(u64::MAX),
            ..self.template.clone()
        };
        match file::write_atomic(&self.path, &checkpoint.encode()) {
            Ok(()) => schedule.written(now),
            Err(e) => self.fail(format!("cannot write the checkpoint {}: {e}", self.path.display())),
        }
    }

    /// An interrupt before the digest was ready: wait for it (bounded), then write.
    fn write_waiting(&self, schedule: std::sync::MutexGuard<'_, Schedule>, now: Instant) {
        drop(schedule);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.space.get().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.space.get().is_some() {
            self.consider(Moment::Interrupted, now);
        }
    }

    fn journal_path(&self) -> PathBuf {
        file::journal_path(&self.path)
    }
}

/// The engine's state of group `group` now, when it is that group's.
fn snapshot(control: &Control, group: u64) -> Option<Vec<u8>> {
    control.snapshot().filter(|state| state.group() == group).map(|state| state.to_bytes())
}

/// Keeps the journal: each host as JSON Lines (its ports with it, not streamed), the group boundaries told
/// to the [`Session`].
pub struct JournalSink {
    lines: JsonLinesSink,
    session: Arc<Session>,
    run_line: bool,
}

impl JournalSink {
    fn kept(&self, result: io::Result<()>) {
        if let Err(e) = result {
            self.session.fail(format!("cannot write the results journal: {e}"));
        }
    }
}

impl Sink for JournalSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        if self.run_line {
            let written = self.lines.run_start(run);
            self.kept(written);
        }
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        let written = self.lines.host_done(host);
        self.kept(written);
        self.session.host(host);
        Ok(())
    }

    fn group_done(&mut self, group: u64) -> io::Result<()> {
        self.session.group_done(group);
        Ok(())
    }

    fn run_end(&mut self, _: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

/// A resumed run's sinks: the outputs get the run's header, then the journal's hosts, then this run's
/// hosts; the others (store, journal) only this run's. Both get the whole scan's summary.
pub struct Replayed {
    pub outputs: Tee,
    pub rest: Tee,
    pub journal: PathBuf,
    pub mark: crate::resume::checkpoint::JournalMark,
    pub earlier: Duration,
}

impl Sink for Replayed {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        let started = self.outputs.run_start(run);
        let outputs = &mut self.outputs;
        let replayed = journal::read_hosts(&self.journal, self.mark.bytes, &mut |host| outputs.host_done(&host));
        let rest = self.rest.run_start(run);
        started.and(replayed.map(drop)).and(rest)
    }

    fn port_found(&mut self, addr: IpAddr, port: &PortResult) -> io::Result<()> {
        let first = self.outputs.port_found(addr, port);
        first.and(self.rest.port_found(addr, port))
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        let first = self.outputs.host_done(host);
        first.and(self.rest.host_done(host))
    }

    fn group_done(&mut self, group: u64) -> io::Result<()> {
        let first = self.outputs.group_done(group);
        first.and(self.rest.group_done(group))
    }

    fn drain(&mut self) -> io::Result<()> {
        let first = self.outputs.drain();
        first.and(self.rest.drain())
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let whole = whole_summary(summary.clone(), &self.mark, self.earlier);
        let first = self.outputs.run_end(&whole);
        first.and(self.rest.run_end(&whole))
    }
}
