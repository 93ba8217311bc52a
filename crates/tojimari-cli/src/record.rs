//! Recording a run into the result store (docs/store-recording.md): a [`Recorder`] sink, last in the run's
//! `Tee`, after the output sinks.
//!
//! - **The engine never waits on the database.** The store is opened, and the scan begun, on a thread of
//!   its own; hosts that finish meanwhile are kept, then handed to [`StoreSink`], whose writer thread records
//!   them in batches. Only `run_end` waits, for the last batch and the scan's end.
//! - **Nothing is lost.** A store that cannot be opened or begun (locked, read-only, full, corrupt, from a
//!   newer tojimari), or that fails later, sends the hosts it did not record to the JSON Lines
//!   [`Fallback`] file.
//! - **The run is not changed by the store.** Every sink call returns `Ok`; what happened is kept in a
//!   [`Recorded`] that the command prints at its very end ([`tell`]): one `warning:` naming the database and
//!   the problem, and one `note:` (the scan's number, or where the fallback file is).

use std::io;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tojimari_core::report::{HostReport, RunExit, RunInfo, RunSummary};
use tojimari_core::sink::Sink;
use tojimari_store::{ScanId, ScanStart, Store, StoreSink};

use crate::messages;
use crate::store_fallback::{Fallback, FallbackReport};

/// What became of one run's recording.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// The database, as messages name it.
    pub db: String,
    /// The scan's number in the store, once begun.
    pub scan: Option<i64>,
    pub interrupted: bool,
    /// The store's problem, naming it; `None` when every host was recorded.
    pub problem: Option<String>,
    pub fallback: Option<FallbackReport>,
}

/// Where the outcomes of a command's runs are collected (`check` runs several).
pub type Outcomes = Arc<Mutex<Vec<Recorded>>>;

/// The store opened and the scan begun, or why not.
type Opened = Result<(Store, ScanId), String>;

enum State {
    /// The store is being opened; the hosts so far.
    Opening(Receiver<Opened>, Vec<HostReport>),
    Store(StoreSink),
    Fallback,
    Done,
}

/// A [`Sink`] recording the run into the store at `location` (see the module docs).
pub struct Recorder {
    location: String,
    state: State,
    run: Option<RunInfo>,
    data_dir: Option<PathBuf>,
    fallback: Option<Fallback>,
    recorded: Recorded,
    problem: Option<String>,
    outcomes: Outcomes,
}

impl Recorder {
    /// Starts opening the store at `location` and beginning the scan `start`; the outcome goes to
    /// `outcomes` at `run_end`.
    pub fn start(location: String, start: ScanStart, data_dir: Option<PathBuf>, outcomes: Outcomes) -> Recorder {
        let (tx, rx) = mpsc::channel();
        let at = location.clone();
        let opener = std::thread::Builder::new().name("store-open".into()).spawn(move || {
            let opened = Store::open(&at).and_then(|store| store.begin_scan(&start).map(|scan| (store, scan)));
            let _ = tx.send(opened.map_err(|e| e.to_string()));
        });
        let (state, problem) = match opener {
            Ok(_) => (State::Opening(rx, Vec::new()), None),
            Err(e) => (State::Fallback, Some(format!("cannot open the result store {location}: {e}"))),
        };
        Recorder {
            recorded: Recorded { db: location.clone(), ..Recorded::default() },
            location,
            state,
            run: None,
            data_dir,
            fallback: None,
            problem,
            outcomes,
        }
    }

    /// A recorder for a store that could not even be located: every host goes to the fallback file.
    pub fn failed(problem: String, outcomes: Outcomes) -> Recorder {
        Recorder {
            location: String::new(),
            state: State::Fallback,
            run: None,
            data_dir: None,
            fallback: None,
            recorded: Recorded::default(),
            problem: Some(problem),
            outcomes,
        }
    }

    fn fallback(&mut self) -> Fallback {
        let run = self.run.clone().unwrap_or_else(|| RunInfo {
            args: String::new(),
            start: SystemTime::now(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            scans: Vec::new(),
            display: Default::default(),
        });
        let places = if self.location.is_empty() {
            vec![std::env::temp_dir()]
        } else {
            crate::store_fallback::places(&self.location, self.data_dir.clone())
        };
        self.fallback.get_or_insert_with(|| Fallback::new(places, run, SystemTime::now())).clone()
    }

    /// Moves on from `Opening` once the opener answered (`wait`: block until it does).
    fn settle(&mut self, wait: bool) {
        let State::Opening(rx, _) = &self.state else { return };
        let answer = if wait {
            rx.recv().map_err(|_| TryRecvError::Disconnected)
        } else {
            match rx.try_recv() {
                Err(TryRecvError::Empty) => return,
                other => other,
            }
        };
        let State::Opening(_, held) = std::mem::replace(&mut self.state, State::Done) else { return };
        let opened = answer.unwrap_or_else(|_| Err(format!("the result store {} could not be opened", self.location)));
        match opened {
            Ok((store, scan)) => {
                self.recorded.db = store.name().to_string();
                self.recorded.scan = Some(scan.no);
                let spill = self.fallback();
                match StoreSink::with_spill(store, scan, Box::new(move |hosts| spill.hosts(hosts))) {
                    Ok(mut sink) => {
                        if let Some(run) = &self.run {
                            let _ = sink.run_start(run);
                        }
                        for host in &held {
                            let _ = sink.host_done(host);
                        }
                        self.state = State::Store(sink);
                    }
                    Err(e) => {
                        self.problem = Some(format!("cannot record into the result store {}: {e}", self.location));
                        self.fallback().hosts(&held);
                        self.state = State::Fallback;
                    }
                }
            }
            Err(message) => {
                self.problem = Some(message);
                self.fallback().hosts(&held);
                self.state = State::Fallback;
            }
        }
    }
}

impl Sink for Recorder {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.run = Some(run.clone());
        self.settle(false);
        if let State::Store(sink) = &mut self.state {
            let _ = sink.run_start(run);
        }
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.settle(false);
        match &mut self.state {
            State::Opening(_, held) => held.push(host.clone()),
            State::Store(sink) => {
                let _ = sink.host_done(host);
            }
            State::Fallback => self.fallback().hosts(std::slice::from_ref(host)),
            State::Done => {}
        }
        Ok(())
    }

    fn group_done(&mut self, group: u64) -> io::Result<()> {
        if let State::Store(sink) = &mut self.state {
            let _ = sink.group_done(group);
        }
        Ok(())
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.settle(true);
        self.recorded.interrupted = matches!(summary.exit, RunExit::Error(_));
        if let State::Store(sink) = &mut self.state {
            let _ = sink.run_end(summary);
            if let Some(e) = sink.error() {
                self.problem = Some(e);
            }
        }
        self.state = State::Done;
        if self.problem.is_some() {
            let fallback = self.fallback();
            fallback.finish(summary);
            self.recorded.fallback = Some(fallback.report());
        }
        self.recorded.problem = self.problem.take();
        self.outcomes.lock().unwrap_or_else(|e| e.into_inner()).push(self.recorded.clone());
        Ok(())
    }
}

/// Prints what became of a command's recordings, at its very end: per problem one `warning:` naming the
/// database, then one `note:` (the scan numbers and how to see them, or where the fallback file is).
pub fn tell(outcomes: &Outcomes) {
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));
    let mut recorded = Vec::new();
    for o in &outcomes {
        if let Some(problem) = &o.problem {
            messages::warning(problem);
            if let Some(fallback) = &o.fallback {
                tell_fallback(o, fallback);
            }
        } else if let Some(no) = o.scan {
            recorded.push((no, o.interrupted));
        }
    }
    match recorded.as_slice() {
        [] => {}
        [(no, interrupted)] => messages::note(format!(
            "recorded as scan {no}{}: tojimari history",
            if *interrupted { " (interrupted)" } else { "" }
        )),
        many => {
            let nos: Vec<String> = many.iter().map(|(no, _)| no.to_string()).collect();
            messages::note(format!("recorded as scans {}: tojimari history", nos.join(", ")))
        }
    }
}

fn tell_fallback(o: &Recorded, f: &FallbackReport) {
    let hosts = match f.hosts {
        1 => "1 host".to_string(),
        n => format!("{n} hosts"),
    };
    let elsewhere = match f.skipped.as_slice() {
        [] => String::new(),
        skipped => format!(" (not beside the database: {})", skipped.join("; ")),
    };
    match (&f.path, o.scan) {
        (Some(path), None) if !f.failed => messages::note(format!(
            "the scan's results ({hosts}) were written to {} instead, as JSON Lines{elsewhere}",
            path.display()
        )),
        (Some(path), Some(no)) if !f.failed => messages::note(format!(
            "scan {no} keeps the hosts recorded before the failure; the {hosts} after it were written to {}, as \
             JSON Lines{elsewhere}",
            path.display()
        )),
        _ => messages::warning(format!(
            "the store's fallback file could not be written either ({}); the scan's own outputs have its results",
            f.skipped.join("; ")
        )),
    }
}

/// A command's recordings: where they go, and their outcomes.
pub struct Recording {
    location: Result<String, String>,
    data_dir: Option<PathBuf>,
    outcomes: Outcomes,
}

impl Recording {
    /// Recording as `args` ask; `None` with `--no-store`.
    pub fn new(args: &crate::store_plan::RecordArgs) -> Option<Recording> {
        let location = crate::store_plan::record_location(args)?;
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let data_dir = crate::store_plan::default_dir(var("XDG_DATA_HOME"), var("HOME"));
        Some(Recording { location, data_dir, outcomes: Outcomes::default() })
    }

    /// The sink recording one run that begins as `start`.
    pub fn recorder(&self, start: ScanStart) -> Box<dyn Sink + Send> {
        let outcomes = Arc::clone(&self.outcomes);
        match &self.location {
            Ok(location) => Box::new(Recorder::start(location.clone(), start, self.data_dir.clone(), outcomes)),
            Err(problem) => Box::new(Recorder::failed(problem.clone(), outcomes)),
        }
    }

    /// Prints the outcomes (see [`tell`]).
    pub fn tell(&self) {
        tell(&self.outcomes);
    }
}

/// The scan as it begins: the command line, the profile (`scan`, `check quick`, ...), the targets as
/// asked and the ports planned (`T:1-1024 U:53`), this process as its writer.
// `..ScanStart::default()`: the store's fields grow (run info, summary), filled elsewhere.
#[allow(clippy::needless_update)]
pub fn scan_start(
    argv: String,
    profile: &str,
    targets: String,
    ports: &tojimari_core::portspec::PortSpec,
) -> ScanStart {
    let writer = tojimari_store::this_writer();
    let mut scope = Vec::new();
    for (letter, set) in [("T", &ports.tcp), ("U", &ports.udp)] {
        if !set.is_empty() {
            scope.push(format!("{letter}:{}", set.to_ranges()));
        }
    }
    ScanStart {
        argv,
        profile: profile.to_string(),
        targets,
        ports: scope.join(" "),
        started_ms: tojimari_store::unix_ms(SystemTime::now()),
        source: "tojimari".to_string(),
        writer_host: writer.host,
        writer_pid: writer.pid,
        writer_boot: writer.boot,
        ..ScanStart::default()
    }
}
