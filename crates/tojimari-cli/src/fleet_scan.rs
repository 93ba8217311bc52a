//! A worker's scan of one chunk ([`RawChunks`], tojimari-fleet's `ChunkScanner`): the scan rebuilt from the
//! options recorded with it (never from the worker's own command line), run on the raw engine with the
//! chunk's range of positions as its selection, at the worker's share of the rate.
//!
//! While it runs, a checkpoint is handed to the worker every `checkpoint_every`: the engine's state of the
//! group under way (`Control::snapshot`) and the reports of the hosts of the groups finished so far
//! (`Sink::group_done`). A worker taking the chunk over starts at that group with that state as `prior`,
//! and counts those hosts as found: nothing finished is probed again.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use tojimari_core::HostReport;
use tojimari_core::report::{RunInfo, RunSummary};
use tojimari_core::sink::Sink;
use tojimari_core::sweep::{Selection, Shard};
use tojimari_engine::{Control, GroupState, Sweep};
use tojimari_fleet::{Checkpoint, ChunkOutcome, ChunkScanner, ChunkTask};

use crate::args::{Cli, Command, ScanArgs};
use crate::plan::ScanPlan;
use crate::resolve::Targets;
use crate::scan::Engine;

/// The raw engine as a fleet's chunk scanner.
#[derive(Debug)]
pub struct RawChunks;

/// The hosts a chunk's scan has reported: those of finished groups (with their group), and those of the
/// group under way.
#[derive(Debug, Default)]
struct Found {
    finished: Vec<(u64, HostReport)>,
    current: Vec<HostReport>,
    /// The last group finished.
    last_done: Option<u64>,
}

/// The sink of a chunk's scan: keeps every host, marked with its group once the group is done.
struct Collect(Arc<Mutex<Found>>);

impl Sink for Collect {
    fn run_start(&mut self, _: &RunInfo) -> std::io::Result<()> {
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> std::io::Result<()> {
        if let Ok(mut found) = self.0.lock() {
            found.current.push(host.clone());
        }
        Ok(())
    }

    fn group_done(&mut self, group: u64) -> std::io::Result<()> {
        if let Ok(mut found) = self.0.lock() {
            let current = std::mem::take(&mut found.current);
            found.finished.extend(current.into_iter().map(|h| (group, h)));
            found.last_done = Some(group);
        }
        Ok(())
    }

    fn run_end(&mut self, _: &RunSummary) -> std::io::Result<()> {
        Ok(())
    }
}

/// The scan's plan and targets, rebuilt from its recorded options; checked to give the same probe space.
fn rebuild(task: &ChunkTask) -> Result<(ScanPlan, Targets), String> {
    let mut argv = vec!["tojimari".to_string(), "scan".to_string()];
    argv.extend(task.options.args.iter().cloned());
    let rewritten = crate::prepass::rewrite(argv);
    let cli = Cli::try_parse_from(&rewritten).map_err(|e| format!("the scan's recorded options: {e}"))?;
    let Command::Scan(mut args) = cli.command else {
        return Err("the scan's recorded options are not a scan".into());
    };
    let args: &mut ScanArgs = &mut args;
    args.targets = task.options.targets.clone();
    args.input_list = None;
    args.record.no_store = true;
    args.record.store.db = None;
    args.workers = false;
    args.chunk_size = None;
    let mut plan = crate::plan::build(args, &mut std::io::empty(), true, &mut |_| {})
        .map_err(|e| format!("the scan's recorded options: {}", e.message))?;
    plan.outputs.clear();
    plan.progress = false;
    plan.stats_every = None;
    plan.timing.max_rate = task.rate.map(|r| r as f64);
    let targets = crate::scan::resolve(&plan).map_err(|_| "the scan's targets do not resolve here".to_string())?;
    let space = crate::fleet_plan::space_of(&plan);
    let hosts = targets.iter().count() as u64;
    if hosts != task.options.hosts || space.total(hosts) != task.options.positions || space.seed() != task.options.seed
    {
        return Err(format!(
            "this worker makes {} probes of {hosts} hosts from the scan's options, the scan has {} of {}: refused",
            space.total(hosts),
            task.options.positions,
            task.options.hosts
        ));
    }
    if let Some(want) = &task.options.probe_space
        && *want != crate::resume::space::digest(&plan, &targets, space.seed())
    {
        return Err("this worker's probe space differs from the scan's (its --excludefile or -iL file reads \
                    otherwise, or a name resolves elsewhere): refused"
            .to_string());
    }
    Ok((plan, targets))
}

impl ChunkScanner for RawChunks {
    fn scan(&self, task: &ChunkTask, save: &(dyn Fn(&Checkpoint) + Sync)) -> Result<ChunkOutcome, String> {
        let (plan, targets) = rebuild(task)?;
        let Engine::Raw(mut engine) = crate::scan::engine_for(&plan, 0, None, Default::default()) else {
            return Err("a fleet scan runs on the raw engine".into());
        };
        let resume = task.resume.clone();
        let prior = match resume.as_ref().and_then(|r| r.state.as_deref()) {
            Some(bytes) => Some(GroupState::from_bytes(bytes).map_err(|e| format!("the chunk's checkpoint: {e}"))?),
            None => None,
        };
        let start_group = resume.as_ref().map_or(0, |r| r.group);
        engine.sweep = Sweep {
            selection: Selection { shard: Shard::WHOLE, range: task.range.clone() },
            start_group,
            prior,
            group_hosts: task.options.group_hosts,
        };
        let found = Arc::new(Mutex::new(Found::default()));
        if let (Some(r), Ok(mut f)) = (&resume, found.lock()) {
            // The hosts of the groups the worker before finished count as found in a group before ours.
            f.finished.extend(r.hosts.iter().cloned().map(|h| (r.group.saturating_sub(1), h)));
        }
        let probes_before = resume.as_ref().map_or(0, |r| r.probes);
        let control = Arc::new(Control::new());
        let checkpoint = || {
            let state = control.snapshot();
            let found = found.lock().map_err(|_| ())?;
            let group = match &state {
                Some(s) => s.group(),
                None => found.last_done.map_or(start_group, |g| g + 1).max(start_group),
            };
            Ok::<Checkpoint, ()>(Checkpoint {
                version: tojimari_fleet::checkpoint::VERSION,
                group,
                state: state.map(|s| s.to_bytes()),
                hosts: found.finished.iter().filter(|(g, _)| *g < group).map(|(_, h)| h.clone()).collect(),
                probes: probes_before + control.progress.probes.load(Ordering::Relaxed),
            })
        };
        let done = std::sync::atomic::AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut waited = Duration::ZERO;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    waited += Duration::from_millis(50);
                    if task.stop.load(Ordering::Relaxed) {
                        // Stopping: the engine stops, then the last checkpoint is saved below.
                        control.cancel();
                    }
                    if waited >= task.checkpoint_every {
                        waited = Duration::ZERO;
                        if let Ok(cp) = checkpoint() {
                            save(&cp);
                        }
                    }
                }
            });
            let mut sink = Collect(found.clone());
            let result = engine.run(&mut targets.iter(), &mut sink, &control);
            done.store(true, Ordering::Relaxed);
            result
        });
        let stats = result.map_err(|e| format!("the chunk's scan failed: {e}"))?;
        if stats.interrupted || control.is_cancelled() {
            // The group cut short is in the snapshot: the next worker resumes it.
            if let Ok(cp) = checkpoint() {
                save(&cp);
            }
            return Err("the chunk's scan was stopped".into());
        }
        let found = std::mem::take(&mut *found.lock().map_err(|_| "the chunk's results were lost".to_string())?);
        let mut hosts: Vec<HostReport> = found.finished.into_iter().map(|(_, h)| h).collect();
        hosts.extend(found.current);
        Ok(ChunkOutcome { hosts, probes: probes_before + control.progress.probes.load(Ordering::Relaxed) })
    }
}
