//! A worker: claims chunks from the queue, scans them with a [`ChunkScanner`] (the CLI's raw engine),
//! saves each chunk's checkpoint now and then, spools its results, and commits them to the store in the
//! transaction that marks the chunk done.
//!
//! PostgreSQL away (at start or mid-scan) never costs a result: every database step is retried with a
//! [`Backoff`], a [`Notice::Waiting`] said once per outage; a chunk's results are in the spool before the
//! commit is tried and leave it only once committed; a worker started again commits its spool first.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use graphile_worker::WorkerOptions;
use tojimari_core::HostReport;
use tojimari_store::{Claim, Committed, Store, StoreError, WorkerBeat};

use crate::backoff::Backoff;
use crate::checkpoint::Checkpoint;
use crate::options::ScanOptions;
use crate::queue::{ChunkJob, SCHEMA, connect, migrate, requeue};
use crate::spool::{Spool, Spooled};
use crate::{FleetError, rate};

/// How long a worker may go without a heartbeat before its chunk is given to another.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub threshold: Duration,
}

impl Lease {
    /// The default lease: a minute.
    pub const DEFAULT: Lease = Lease { threshold: Duration::from_secs(60) };

    /// Heartbeats: five per lease, at least every half second.
    pub fn heartbeat(&self) -> Duration {
        (self.threshold / 5).max(Duration::from_millis(500))
    }

    /// How often a worker looks for others that stopped beating.
    pub fn sweep(&self) -> Duration {
        (self.threshold / 2).max(Duration::from_millis(500))
    }
}

/// What a worker is told to do.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The store's database (a `postgres://` URL).
    pub db: String,
    /// Where the spool lives.
    pub state_dir: PathBuf,
    pub lease: Lease,
    /// How often a chunk's checkpoint is saved while it is scanned.
    pub checkpoint_every: Duration,
    /// Stop once no fleet scan has a chunk left (and the spool is empty).
    pub exit_when_done: bool,
    /// This worker's name in `fleet_workers` and `tojimari jobs` (unique: host, pid, start).
    pub id: String,
    pub host: String,
}

/// A chunk to scan.
#[derive(Clone, Debug)]
pub struct ChunkTask {
    pub scan_id: i64,
    pub chunk: u64,
    /// Positions of the probe space.
    pub range: std::ops::Range<u64>,
    pub options: ScanOptions,
    /// Where a worker before got to.
    pub resume: Option<Checkpoint>,
    /// This worker's share of the scan's `--max-rate`.
    pub rate: Option<u64>,
    pub checkpoint_every: Duration,
    /// Set when the worker stops: the scan ends early, after a last checkpoint, and is not committed.
    pub stop: Arc<AtomicBool>,
}

/// A chunk's results.
#[derive(Clone, Debug, Default)]
pub struct ChunkOutcome {
    /// Every host of the chunk (those of the checkpoint's finished groups included).
    pub hosts: Vec<HostReport>,
    pub probes: u64,
}

/// Scans one chunk: the CLI's raw engine with the chunk as its selection. `save` is given a checkpoint now
/// and then (every `task.checkpoint_every`), from any thread.
pub trait ChunkScanner: Send + Sync {
    fn scan(&self, task: &ChunkTask, save: &(dyn Fn(&Checkpoint) + Sync)) -> Result<ChunkOutcome, String>;
}

/// What a worker tells its user (the CLI prints [`Notice::is_warning`] ones as `warning:`, the rest as
/// `note:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The database failed while `doing`; tried again until it answers.
    Waiting { doing: &'static str, error: String, retry_in: Duration },
    /// It answers again after `failures` failed tries.
    Back { doing: &'static str, failures: u32 },
    /// A chunk taken (`claims` > 1: a worker before lost it; `resumed`: from its checkpoint).
    Taken { scan_id: i64, chunk: u64, claims: u64, resumed: bool, rate: Option<u64> },
    /// A chunk's results committed.
    Committed { scan_id: i64, chunk: u64, hosts: usize, scan_complete: bool },
    /// A chunk whose results were in already (its job ran again): nothing written.
    AlreadyDone { scan_id: i64, chunk: u64 },
    /// A checkpoint that could not be used: the chunk starts over.
    BadCheckpoint { scan_id: i64, chunk: u64, why: String },
    /// A spool file that cannot be read, left in place.
    BadSpool { path: PathBuf, why: String },
    /// A spool file that could not be written: the chunk is committed straight away.
    SpoolFailed { why: String },
}

impl Notice {
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Notice::Waiting { .. }
                | Notice::BadCheckpoint { .. }
                | Notice::BadSpool { .. }
                | Notice::SpoolFailed { .. }
        )
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Waiting { doing, error, retry_in } => write!(
                f,
                "the database failed while {doing} ({error}); trying again in {:.1} s, results are kept in the spool",
                retry_in.as_secs_f64()
            ),
            Notice::Back { doing, failures } => {
                write!(f, "the database answers again ({doing}, after {failures} failed tries)")
            }
            Notice::Taken { scan_id, chunk, claims, resumed, rate } => {
                write!(f, "chunk {chunk} of scan id {scan_id} taken")?;
                if *claims > 1 {
                    write!(
                        f,
                        " (claim {claims}, {})",
                        if *resumed { "resumed from its checkpoint" } else { "from its start" }
                    )?;
                }
                match rate {
                    Some(r) => write!(f, ", at most {r} packets/s"),
                    None => Ok(()),
                }
            }
            Notice::Committed { scan_id, chunk, hosts, scan_complete } => {
                write!(f, "chunk {chunk} of scan id {scan_id} committed ({hosts} hosts)")?;
                if *scan_complete { write!(f, "; the scan is complete") } else { Ok(()) }
            }
            Notice::AlreadyDone { scan_id, chunk } => {
                write!(f, "chunk {chunk} of scan id {scan_id} was done already; nothing written")
            }
            Notice::BadCheckpoint { scan_id, chunk, why } => {
                write!(f, "chunk {chunk} of scan id {scan_id}: {why}; it starts over")
            }
            Notice::BadSpool { path, why } => {
                write!(f, "cannot read the spooled chunk {}: {why}; left in place", path.display())
            }
            Notice::SpoolFailed { why } => {
                write!(f, "cannot spool a chunk's results ({why}); committing them directly")
            }
        }
    }
}

/// Where notices go.
pub type Notify = Arc<dyn Fn(Notice) + Send + Sync>;

/// What a worker did, when it stops.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    pub chunks_done: u64,
    pub probes: u64,
    /// Time spent in the chunk scanner (sending and waiting for answers).
    pub scanning: Duration,
    /// Time spent committing chunks (writing their hosts into the store: what any recorded scan pays).
    pub committing: Duration,
    /// From its first claim to its last commit: `busy - scanning` is the queue's share (claims, reading
    /// the scan, the spool, commits, and the wait for the next job).
    pub busy: Duration,
}

/// What the heartbeat reports.
#[derive(Clone, Debug, Default)]
struct Stats {
    scan_id: Option<i64>,
    chunk: Option<u64>,
    chunks_done: u64,
    probes: u64,
    rate: Option<u64>,
    scanning: Duration,
    committing: Duration,
    first_claim: Option<std::time::Instant>,
    last_commit: Option<std::time::Instant>,
}

/// The worker's state, shared by the queue's handler, the heartbeat and the main loop.
pub(crate) struct Core {
    config: WorkerConfig,
    scanner: Arc<dyn ChunkScanner>,
    notify: Notify,
    spool: Spool,
    store: Mutex<Option<Arc<Store>>>,
    stats: Mutex<Stats>,
    stop: Arc<AtomicBool>,
    started_ms: i64,
    /// Held while a chunk is scanned and committed: a queue session that failed meanwhile leaves that scan
    /// running on its own thread, and the next session waits for it, so a worker never runs two at once.
    busy: Mutex<()>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("config", &self.config).finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Core {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps `wait` in small steps, returning early when stopped.
    fn pause(&self, wait: Duration) {
        let until = std::time::Instant::now() + wait;
        while !self.stopped() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50).min(wait));
        }
    }

    /// The store, opened (again) if needed; `None` while the database does not answer.
    fn store(&self) -> Result<Arc<Store>, StoreError> {
        if let Some(store) = self.store.lock().ok().and_then(|s| s.clone()) {
            return Ok(store);
        }
        let store = Arc::new(Store::open(&self.config.db)?);
        if let Ok(mut slot) = self.store.lock() {
            *slot = Some(store.clone());
        }
        Ok(store)
    }

    /// Runs `step` on the store until it succeeds, backing off while the database is away; `None` only
    /// when the worker was stopped meanwhile.
    fn retry<T>(&self, doing: &'static str, step: impl Fn(&Store) -> Result<T, StoreError>) -> Option<T> {
        let mut backoff = Backoff::default();
        loop {
            let result = self.store().and_then(|store| step(&store));
            match result {
                Ok(value) => {
                    if backoff.failures() > 0 {
                        (self.notify)(Notice::Back { doing, failures: backoff.failures() });
                    }
                    return Some(value);
                }
                Err(e) => {
                    if matches!(e, StoreError::Open { .. }) {
                        // A store that never opened is opened again next time.
                        if let Ok(mut slot) = self.store.lock() {
                            *slot = None;
                        }
                    }
                    let wait = backoff.failed();
                    if backoff.failures() == 1 || backoff.failures().is_power_of_two() {
                        (self.notify)(Notice::Waiting { doing, error: e.to_string(), retry_in: wait });
                    }
                    if self.stopped() {
                        return None;
                    }
                    self.pause(wait);
                }
            }
        }
    }

    /// Commits what the spool holds (left by this worker before a restart, or by a commit that failed).
    fn flush_spool(&self) {
        let pending = match self.spool.pending() {
            Ok(p) => p,
            Err(e) => {
                (self.notify)(Notice::BadSpool { path: self.spool.dir().to_path_buf(), why: e.to_string() });
                return;
            }
        };
        for spooled in pending {
            match spooled {
                Ok(s) => {
                    self.commit(&s);
                }
                Err((path, why)) => (self.notify)(Notice::BadSpool { path, why }),
            }
        }
    }

    /// Commits a spooled chunk and removes it from the spool; false when the worker was stopped first.
    fn commit(&self, s: &Spooled) -> bool {
        let id = self.config.id.clone();
        let started = std::time::Instant::now();
        let done = self.retry("committing a chunk", |store| {
            store.commit_chunk(s.scan_id, s.chunk, &id, &s.hosts, s.probes, now_ms())
        });
        if let Ok(mut st) = self.stats.lock() {
            st.committing += started.elapsed();
        }
        let Some(done) = done else {
            return false;
        };
        let _ = self.spool.remove(s.scan_id, s.chunk);
        match done {
            Committed::Now { scan_complete } => {
                if let Ok(mut st) = self.stats.lock() {
                    st.chunks_done += 1;
                    st.last_commit = Some(std::time::Instant::now());
                }
                (self.notify)(Notice::Committed {
                    scan_id: s.scan_id,
                    chunk: s.chunk,
                    hosts: s.hosts.len(),
                    scan_complete,
                })
            }
            Committed::Already => (self.notify)(Notice::AlreadyDone { scan_id: s.scan_id, chunk: s.chunk }),
        }
        true
    }

    /// The queue's handler: one chunk, from claim to commit.
    pub(crate) fn run_chunk(&self, scan_id: i64, chunk: u64) -> Result<(), String> {
        let _busy = self.busy.lock().map_err(|_| "the worker's last chunk failed".to_string())?;
        let id = self.config.id.clone();
        if let Ok(mut st) = self.stats.lock() {
            st.first_claim.get_or_insert_with(std::time::Instant::now);
        }
        let stopped = || "the worker is stopping".to_string();
        let claim = self.retry("claiming a chunk", |store| store.claim_chunk(scan_id, chunk, &id, now_ms()));
        let (range, checkpoint, claims) = match claim.ok_or_else(stopped)? {
            Claim::Done => {
                (self.notify)(Notice::AlreadyDone { scan_id, chunk });
                return Ok(());
            }
            Claim::Open { range, checkpoint, claims } => (range, checkpoint, claims),
        };
        let fleet = self.retry("reading the scan", |store| store.fleet_scan(scan_id)).ok_or_else(stopped)?;
        let fleet = fleet.ok_or_else(|| format!("scan id {scan_id} is not a fleet scan"))?;
        let options =
            ScanOptions::from_text(&fleet.fleet.options, env!("CARGO_PKG_VERSION")).map_err(|e| e.to_string())?;
        let resume = checkpoint.and_then(|text| match Checkpoint::from_text(&text) {
            Ok(cp) => Some(cp),
            Err(e) => {
                (self.notify)(Notice::BadCheckpoint { scan_id, chunk, why: e.to_string() });
                None
            }
        });
        let since = now_ms() - self.config.lease.threshold.as_millis() as i64;
        let live = self.retry("counting live workers", |store| store.live_workers(since)).ok_or_else(stopped)?;
        let share = rate::share(fleet.fleet.max_rate, live);
        if let Ok(mut st) = self.stats.lock() {
            st.scan_id = Some(scan_id);
            st.chunk = Some(chunk);
            st.rate = share;
        }
        (self.notify)(Notice::Taken { scan_id, chunk, claims, resumed: resume.is_some(), rate: share });
        let task = ChunkTask {
            scan_id,
            chunk,
            range,
            options,
            resume,
            rate: share,
            checkpoint_every: self.config.checkpoint_every,
            stop: self.stop.clone(),
        };
        let save = |cp: &Checkpoint| {
            // A checkpoint that cannot be saved now is saved next time; the results are not at stake.
            if let Ok(store) = self.store() {
                let _ = store.save_checkpoint(scan_id, chunk, &id, &cp.to_text(), cp.probes, now_ms());
            }
        };
        let scan_start = std::time::Instant::now();
        let outcome = self.scanner.scan(&task, &save);
        if let Ok(mut st) = self.stats.lock() {
            st.scanning += scan_start.elapsed();
        }
        let outcome = outcome?;
        if self.stopped() {
            // Cut short: the checkpoint has what was done; the next worker resumes from it.
            return Err(stopped());
        }
        if let Ok(mut st) = self.stats.lock() {
            st.probes += outcome.probes;
            st.chunk = None;
        }
        let spooled = Spooled { scan_id, chunk, probes: outcome.probes, hosts: outcome.hosts };
        if let Err(e) = self.spool.put(&spooled) {
            (self.notify)(Notice::SpoolFailed { why: e.to_string() });
        }
        if self.commit(&spooled) { Ok(()) } else { Err(stopped()) }
    }

    /// One heartbeat in `fleet_workers`; true when `exit_when_done` and nothing is left to do.
    fn beat(&self) -> bool {
        let Ok(store) = self.store() else { return false };
        let st = self.stats.lock().map(|s| s.clone()).unwrap_or_default();
        let beat = WorkerBeat {
            id: self.config.id.clone(),
            host: self.config.host.clone(),
            pid: i64::from(std::process::id()),
            started_ms: self.started_ms,
            now_ms: now_ms(),
            scan_id: st.scan_id,
            chunk: st.chunk,
            chunks_done: st.chunks_done,
            probes: st.probes,
            rate: st.rate,
        };
        if store.worker_beat(&beat).is_err() {
            return false;
        }
        self.config.exit_when_done
            && st.chunk.is_none()
            && store.chunks_left().is_ok_and(|n| n == 0)
            && self.spool.pending().is_ok_and(|p| p.is_empty())
    }
}

/// Runs a worker until `stop` is set (or, with `exit_when_done`, until no chunk is left). Blocks.
pub fn run(
    config: WorkerConfig,
    scanner: Arc<dyn ChunkScanner>,
    notify: Notify,
    stop: Arc<AtomicBool>,
) -> Result<WorkerSummary, FleetError> {
    let spool = Spool::open(&config.state_dir)
        .map_err(|e| FleetError::State { path: config.state_dir.clone(), message: e.to_string() })?;
    let core = Arc::new(Core {
        config,
        scanner,
        notify,
        spool,
        store: Mutex::new(None),
        stats: Mutex::default(),
        stop: stop.clone(),
        started_ms: now_ms(),
        busy: Mutex::new(()),
    });
    core.flush_spool();
    let state_dir = core.config.state_dir.clone();
    let beats = {
        let core = core.clone();
        std::thread::Builder::new()
            .name("fleet-beat".into())
            .spawn(move || {
                while !core.stopped() {
                    if core.beat() {
                        core.stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    core.pause(core.config.lease.heartbeat());
                }
            })
            .map_err(|e| FleetError::State { path: state_dir, message: e.to_string() })?
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| FleetError::Queue { doing: "starting its runtime", message: e.to_string() })?;
    let mut backoff = Backoff::default();
    while !core.stopped() {
        // What the store says is left; a database that does not answer fails the session below as well.
        let left = core.store().and_then(|store| store.chunks_not_done()).unwrap_or_default();
        let ran = rt.block_on(serve(&core, &left, backoff.failures()));
        // A chunk still being scanned by the session that ended finishes (and commits) first.
        drop(core.busy.lock());
        if let Err(e) = ran {
            let wait = backoff.failed();
            (core.notify)(Notice::Waiting { doing: "waiting for chunks", error: e.to_string(), retry_in: wait });
            core.pause(wait);
            continue;
        }
        backoff.succeeded();
        // A spooled chunk whose commit was cut short by a stop stays for the next start.
        core.flush_spool();
    }
    let _ = beats.join();
    let st = core.stats.lock().map(|s| s.clone()).unwrap_or_default();
    let busy = match (st.first_claim, st.last_commit) {
        (Some(first), Some(last)) => last.saturating_duration_since(first),
        _ => Duration::ZERO,
    };
    Ok(WorkerSummary {
        chunks_done: st.chunks_done,
        probes: st.probes,
        scanning: st.scanning,
        committing: st.committing,
        busy,
    })
}

/// One session with the queue: connect, give every chunk in `left` its job if the queue lost it, then run
/// jobs until stopped or the queue fails; `failures`: the sessions that failed before this one.
async fn serve(core: &Arc<Core>, left: &[(i64, u64)], failures: u32) -> Result<(), FleetError> {
    let pool = connect(&core.config.db, 4).await?;
    migrate(&pool).await?;
    requeue(&pool, left).await?;
    if failures > 0 {
        (core.notify)(Notice::Back { doing: "waiting for chunks", failures });
    }
    let lease = core.config.lease;
    let worker = WorkerOptions::default()
        .concurrency(1)
        .schema(SCHEMA)
        .poll_interval(Duration::from_millis(500))
        .define_job::<ChunkJob>()
        .pg_pool(pool.clone())
        .add_extension(core.clone())
        .heartbeat_interval(lease.heartbeat())
        .sweep_interval(lease.sweep())
        .sweep_threshold(lease.threshold)
        .recovery_delay(Duration::ZERO)
        .init()
        .await
        .map_err(|e| FleetError::Queue { doing: "starting the worker", message: e.to_string() })?;
    let worker = Arc::new(worker);
    let watcher = {
        let (worker, core) = (worker.clone(), core.clone());
        tokio::spawn(async move {
            while !core.stopped() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            worker.request_shutdown();
        })
    };
    let ran = worker.run().await;
    watcher.abort();
    pool.close().await;
    ran.map_err(|e| FleetError::Queue { doing: "running jobs", message: e.to_string() })
}
