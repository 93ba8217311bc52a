//! Pausing and resuming a scan (`tojimari scan --resume FILE`, docs/resume.md).
//!
//! A port scan (raw or connect) that runs longer than `--checkpoint-every` (5 s) keeps a checkpoint at `--checkpoint FILE`
//! (`./tojimari.resume`): written atomically at every group boundary and at least once per interval, and on
//! Ctrl-C or SIGTERM, when its path is printed; removed when the scan completes. Beside it, `FILE.hosts`
//! journals the finished groups' hosts. `--resume FILE` plans the scan again from the arguments the checkpoint
//! keeps, checks that the probe space is the same and the journal whole, then writes the outputs again from
//! the start (header, the journal's hosts, the new hosts, footer) while the engine continues at the first
//! group not finished, with what the checkpoint kept of that group's answers. A scan recorded in the result
//! store continues as the same scan there.
//!
//! - [`checkpoint`]: the file format and its refusals (pure).
//! - [`decide`]: when to write, what counts as done, where to continue (pure, time passed in).
//! - [`space`]: the probe space's digest.
//! - [`journal`]: the finished hosts, as JSON Lines.
//! - [`file`](mod@file): atomic writing and bounded reading.
//! - [`session`]: the run's checkpointing, its sinks.

pub mod checkpoint;
pub mod decide;
pub mod file;
pub mod journal;
pub mod session;
pub mod space;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tojimari_core::sink::{Sink, Tee};
use tojimari_engine::{Control, GroupState, PortOrder};
use tojimari_output::Format;

use crate::args::{Cli, Command, ScanArgs};
use crate::outputs::Dest;
use crate::plan::{ScanPlan, UsageError};
use crate::resolve::Targets;
use crate::resume::checkpoint::{Checkpoint, JournalMark, StoreScan, hex};
use crate::resume::decide::{DEFAULT_EVERY, Ledger, ResumePoint};
use crate::resume::journal::JournalFile;
use crate::resume::session::{Replayed, Session, Start};

/// Where a new scan keeps its checkpoint unless `--checkpoint` says otherwise.
pub const DEFAULT_PATH: &str = "./tojimari.resume";

/// `--checkpoint` and `--checkpoint-every`, checked.
#[derive(Clone, Debug)]
pub struct Options {
    pub path: PathBuf,
    pub every: Duration,
}

/// The checkpoint options of `args`.
pub fn options(args: &ScanArgs) -> Result<Options, UsageError> {
    let every = match &args.checkpoint_every {
        Some(text) => crate::plan::parse_time(text, "--checkpoint-every")?,
        None => DEFAULT_EVERY,
    };
    if every.is_zero() {
        return Err(UsageError::new(
            "--checkpoint-every must be longer than 0",
            "for example --checkpoint-every 5s (the default) or 1m",
        ));
    }
    let path = args.checkpoint.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_PATH));
    if path.file_name().is_none() {
        return Err(UsageError::new(
            format!("--checkpoint {} is not a file name", path.display()),
            "give a file, for example --checkpoint ./scan.resume",
        ));
    }
    Ok(Options { path, every })
}

/// `tojimari scan --resume FILE`: reads the checkpoint, plans the scan again from its arguments, runs it.
pub fn run(file: &Path) -> ExitCode {
    let refuse = |message: String, hint: &str| crate::usage(&UsageError::new(message, hint));
    let again = "start the scan again without --resume (its results so far are in its output files)";
    let bytes = match file::read_bounded(file, checkpoint::MAX_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
            return refuse(format!("the checkpoint {} {}", file.display(), checkpoint::Refusal::TooLarge), again);
        }
        Err(e) => {
            return refuse(
                format!("cannot read the checkpoint {}: {e}", file.display()),
                "give the file the paused scan named (its note on stderr says where)",
            );
        }
    };
    let checkpoint = match Checkpoint::decode(&bytes) {
        Ok(c) => c,
        Err(refusal) => return refuse(format!("the checkpoint {} {refusal}", file.display()), again),
    };
    let argv = checkpoint.argv.clone();
    let Some(mut args) = scan_args(&argv) else {
        return refuse(format!("the checkpoint {} holds arguments that are not a scan's", file.display()), again);
    };
    // A seed the first run chose is given back, as if it had been typed (the header keeps the typed words).
    let chose_seed = args.seed.is_none() && checkpoint.seed.is_some();
    if let Some(seed) = checkpoint.seed.filter(|_| chose_seed) {
        args.seed = Some(seed.to_string());
    }
    crate::scan::run_with(&args, &argv, Some(Continue { path: file.to_path_buf(), checkpoint, chose_seed }))
}

/// The scan arguments of a whole command line (`tojimari scan ...`), parsed as `main` does.
fn scan_args(argv: &[String]) -> Option<ScanArgs> {
    if argv.get(1).is_none_or(|c| c != "scan")
        || crate::nmap_options::check(&argv[2..], &crate::prepass::scan_value_options()).is_err()
    {
        return None;
    }
    match Cli::try_parse_from(crate::prepass::rewrite(argv.iter().cloned())).ok()?.command {
        Command::Scan(args) if args.resume.is_none() => Some(*args),
        _ => None,
    }
}

/// A checkpoint read, to continue.
pub struct Continue {
    path: PathBuf,
    checkpoint: Checkpoint,
    /// The first run chose the seed (none was given).
    chose_seed: bool,
}

/// A checkpoint found to continue this scan: where from, and the journal's kept part.
pub struct Resumed {
    path: PathBuf,
    checkpoint: Checkpoint,
    point: ResumePoint,
    /// The journal, cut back to the checkpoint's mark and locked for this run.
    journal: JournalFile,
}

impl Continue {
    /// The seed the paused scan drew its order from (chosen then, when none was given).
    pub fn keep_seed(&self, plan: &mut ScanPlan) {
        if self.chose_seed {
            plan.chosen_seed = self.checkpoint.seed;
        }
    }

    /// Whether the checkpoint continues this plan over these targets, and from where.
    pub fn check(self, plan: &ScanPlan, targets: &Targets) -> Result<Resumed, UsageError> {
        let hint = "start the scan again without --resume";
        let refuse = |why: &dyn std::fmt::Display| {
            UsageError::new(format!("cannot resume from {}: {why}", self.path.display()), hint)
        };
        let digest = space::digest(plan, targets, self.checkpoint.seed);
        let journal = file::journal_path(&self.path);
        let on_disk = std::fs::metadata(&journal).map_or(0, |m| m.len());
        let point = decide::resume_point(&self.checkpoint, &digest, on_disk).map_err(|e| refuse(&e))?;
        let kept = journal::digest_prefix(&journal, point.journal.bytes).map_err(|e| refuse(&e))?;
        let hosts = journal::read_hosts(&journal, point.journal.bytes, &mut |_| Ok(()))
            .map_err(|e| refuse(&format!("its results journal is not valid: {e}")))?;
        decide::check_journal(&point.journal, hosts, &kept.sha256).map_err(|e| refuse(&e))?;
        if let Some(bytes) = &point.prior {
            let state = GroupState::from_bytes(bytes)
                .map_err(|e| refuse(&format!("the engine state it holds is not valid: {e}")))?;
            if state.group() != point.start_group {
                return Err(refuse(&format!(
                    "the engine state it holds is of group {}, not {}",
                    state.group(),
                    point.start_group
                )));
            }
        }
        let journal = JournalFile::continuing(journal, point.journal.bytes, kept.hash)
            .map_err(|e| refuse(&format!("cannot continue its results journal: {e}")))?;
        Ok(Resumed { path: self.path, checkpoint: self.checkpoint, point, journal })
    }
}

/// A run that keeps a checkpoint: its session, and where the engine starts.
pub struct Resumable {
    pub session: Arc<Session>,
    /// When the scan first started (for the outputs' header).
    pub started: SystemTime,
    /// The first group to scan, and the engine's state of it.
    pub start_group: u64,
    pub prior: Option<Vec<u8>>,
    replay: Option<(PathBuf, JournalMark)>,
    store: Option<crate::record::Continuing>,
}

/// Whether a plan's scan can be paused and resumed: port scans, raw or connect (`-sn`, `-sL`, the idle scan
/// and the FTP bounce scan are not).
fn resumable(plan: &ScanPlan) -> bool {
    !plan.list_only && !plan.ping_only && plan.idle.is_none() && plan.bounce.is_none()
}

impl Resumable {
    /// The checkpointing of a run of `plan` (new, or `resumed`); `None` for a scan that cannot be resumed.
    pub fn prepare(
        plan: &ScanPlan,
        targets: &Targets,
        argv: &[String],
        options: Options,
        resumed: Option<Resumed>,
        control: &Arc<Control>,
    ) -> Option<Resumable> {
        if !resumable(plan) {
            return None;
        }
        let now = Instant::now();
        let seed = match plan.order {
            PortOrder::Random { seed } => Some(seed),
            PortOrder::Sequential => None,
        };
        let outputs = plan
            .outputs
            .iter()
            .filter_map(|(format, dest)| match dest {
                Dest::File(path) => Some(format!("{} {path}", option_of(*format))),
                Dest::Stdout => None,
            })
            .collect();
        let Some(resumed) = resumed else {
            let template = Checkpoint {
                tojimari: env!("CARGO_PKG_VERSION").to_string(),
                argv: argv.to_vec(),
                seed,
                space: String::new(),
                started_ms: unix_ms(SystemTime::now()),
                elapsed_ms: 0,
                outputs,
                store: None,
                groups_done: 0,
                journal: JournalMark::default(),
                group_state: None,
            };
            let empty = JournalMark {
                sha256: hex(ring::digest::digest(&ring::digest::SHA256, b"").as_ref()),
                ..JournalMark::default()
            };
            let start = Start {
                journal: JournalFile::fresh(file::journal_path(&options.path)),
                path: options.path,
                template,
                every: options.every,
                ledger: Ledger::from_mark(0, empty),
                resumed: false,
            };
            let session = Session::new(start, control.clone(), now);
            let (plan, targets) = (plan.clone(), targets.clone());
            session.start_clock(move || space::digest(&plan, &targets, seed));
            return Some(Resumable {
                session,
                started: SystemTime::now(),
                start_group: 0,
                prior: None,
                replay: None,
                store: None,
            });
        };
        let Resumed { path, checkpoint, point, journal } = resumed;
        let journal_path = file::journal_path(&path);
        let store = checkpoint.store.as_ref().map(|s| crate::record::Continuing {
            db: s.db.clone(),
            no: s.scan,
            keep: point.journal.hosts,
            journal: journal_path.clone(),
            journal_bytes: point.journal.bytes,
        });
        let started = UNIX_EPOCH + Duration::from_millis(u64::try_from(checkpoint.started_ms).unwrap_or(0));
        let space = checkpoint.space.clone();
        let start = Start {
            journal,
            path,
            template: Checkpoint { outputs, ..checkpoint },
            every: options.every,
            ledger: Ledger::from_mark(point.start_group, point.journal.clone()),
            resumed: true,
        };
        let session = Session::new(start, control.clone(), now);
        session.start_clock(move || space);
        Some(Resumable {
            session,
            started,
            start_group: point.start_group,
            prior: point.prior,
            replay: Some((journal_path, point.journal)),
            store,
        })
    }

    /// The hosts the paused run finished, each with how many times (a connect scan skips them): the
    /// journal's kept part, which was checked against the checkpoint when it was read.
    pub fn finished_hosts(&self) -> std::io::Result<tojimari_engine::connect::Finished> {
        let mut finished = tojimari_engine::connect::Finished::new();
        if let Some((journal, mark)) = &self.replay {
            journal::read_hosts(journal, mark.bytes, &mut |host| {
                *finished.entry(host.addr).or_insert(0) += 1;
                Ok(())
            })?;
        }
        Ok(finished)
    }

    /// The store records into the scan the paused run began, and the checkpoint learns the scan's number.
    pub fn record_into(&self, recording: &mut crate::record::Recording) {
        recording.continuing = self.store.clone();
        let slot: Arc<Mutex<Option<StoreScan>>> = self.session.store.clone();
        recording.begun = Some(Arc::new(move |db: &str, scan: i64| {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(StoreScan { db: db.to_string(), scan });
            }
        }));
    }

    /// The run's sinks: `outputs`, then `rest` and the journal; a resumed run's outputs get the journal's
    /// hosts first.
    pub fn sinks(&self, mut outputs: Tee, mut rest: Tee) -> Box<dyn Sink + Send> {
        rest.push(Box::new(self.session.journal_sink()));
        match &self.replay {
            Some((journal, mark)) => Box::new(Replayed {
                outputs,
                rest,
                journal: journal.clone(),
                mark: mark.clone(),
                earlier: self.session.earlier(),
            }),
            None => {
                outputs.push(Box::new(rest));
                Box::new(outputs)
            }
        }
    }
}

/// The option that writes `format`.
fn option_of(format: Format) -> &'static str {
    match format {
        Format::Normal => "-oN",
        Format::Xml => "-oX",
        Format::Grepable => "-oG",
        Format::JsonLines => "-oJ",
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
