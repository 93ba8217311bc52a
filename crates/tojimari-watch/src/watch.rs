//! The `watch` loop: [`WatchArgs`] in, alerts out, an [`Outcome`] (or a [`WatchError`]) at the end.
//!
//! Live: the capture threads ([`crate::capture`]) send packet batches; this thread feeds them
//! to the [`Detector`], ticks it once a second (so unanswered probes count, due updates are
//! raised and quiet scans end), writes records through [`Outputs`], and stops on the stop flag
//! (which the caller sets: the CLI on Ctrl-C or SIGTERM), after `duration`, or when stdout
//! closes. Replay (`--pcap`, `--log`): the files, one after the other, then stop. Either way a
//! stop ends every open scan with its closing record ([`Detector::finish`]), so each scan
//! reported has its true totals.
//!
//! Nothing is printed here: data (`-oJ -`) goes to the `stdout` given, and everything else is a
//! [`Notice`] handed to the caller, in order: [`Notice::Watching`] once capture runs (unless
//! quiet), one [`Notice::Scan`] per record (unless quiet), interface notices, then one summary
//! ([`Notice::LiveSummary`] or [`Notice::ReplaySummary`]), which the CLI prints as
//!
//! ```text
//! note: 48213 packets seen, 3 scans reported (7 records), 2 sources tracked, 0 kernel drops, detector memory 9 KiB
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use tojimari_scandetect::{Alert, Detector, DetectorConfig, LocalAddrs, LocalNet};

use crate::capture::{self, Capture, CaptureEvent, Interfaces};
use crate::error::WatchError;
use crate::local;
use crate::notice::Notice;
use crate::output::{AlertHook, Delivery, Outputs, Readable};
use crate::replay::{self, ReplayTotals};
use crate::syslog::{self, Syslog};

/// How often the detector is ticked on a live capture.
const TICK: Duration = Duration::from_secs(1);

/// What `tojimari watch` was asked to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchArgs {
    /// `-i IFACE`, repeatable; empty means every interface.
    pub interfaces: Vec<String>,
    /// `--pcap FILE`, repeatable: replay these captures instead of capturing live.
    pub pcap: Vec<PathBuf>,
    /// `--log FILE`, repeatable: replay these firewall logs instead of capturing live.
    pub log: Vec<PathBuf>,
    /// `-oJ FILE`: alerts as JSON Lines; `-` is stdout.
    pub json: Option<PathBuf>,
    /// `--syslog`: also send each alert to syslog (authpriv.warning).
    pub syslog: bool,
    /// `--for DURATION`: stop after this long (live capture only).
    pub duration: Option<Duration>,
    /// `-q`: no `watching` notice and no readable alert lines on stderr (JSON and syslog are
    /// still written; errors and the summary line still go to stderr).
    pub quiet: bool,
    /// `--net CIDR`, repeatable: networks to watch besides this host's own addresses (a subnet
    /// the host routes or mirrors, an AnyIP range), so host sweeps across them are seen. For
    /// a replay, these are the watched addresses; without any, a replay infers them.
    pub nets: Vec<LocalNet>,
}

/// How a watch that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stopped cleanly: the stop flag, `--for`, the end of the replayed files, or stdout closed.
    Finished,
    /// The replay went through every file, but `failed` of them could not be read (each was told as a
    /// [`Notice::FileFailed`]).
    FilesFailed { failed: usize },
}

/// Runs `watch` until `stop` is set (or the end of `duration`, or of the replayed files). No signal
/// handler is installed: the caller sets `stop` (the CLI does on Ctrl-C and SIGTERM). `-oJ -` writes to
/// `stdout`; messages go to `report`.
pub fn run_until(
    args: WatchArgs,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, WatchError> {
    run_until_with(args, DetectorConfig::default(), stop, stdout, report)
}

/// [`run_until`] with the detector's settings given (a shorter
/// [`DetectorConfig::quiet_timeout`] for a test, say); `config.local` is replaced by what
/// `args` and the host say.
pub fn run_until_with(
    args: WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, WatchError> {
    watch(&args, config, stop, stdout, report, None)
}

/// [`run_until`] that also hands every alert record to `hook` as it is written (`watch --store`).
pub fn run_recording(
    args: WatchArgs,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
    hook: AlertHook,
) -> Result<Outcome, WatchError> {
    watch(&args, DetectorConfig::default(), stop, stdout, report, Some(hook))
}

fn watch(
    args: &WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
    hook: Option<AlertHook>,
) -> Result<Outcome, WatchError> {
    let replaying = !args.pcap.is_empty() || !args.log.is_empty();
    if replaying && !args.interfaces.is_empty() {
        return Err(WatchError::Usage("-i (live capture) cannot be combined with --pcap or --log (replay)".into()));
    }
    if replaying && args.duration.is_some() {
        return Err(WatchError::Usage("--for applies to live capture, not to --pcap or --log".into()));
    }
    let readable = if args.quiet { Readable::Off } else { Readable::Notices };
    let syslog = if args.syslog {
        match Syslog::connect(Path::new(syslog::DEV_LOG), "tojimari") {
            Ok(client) => Some(client),
            Err(error) => {
                report(Notice::SyslogUnreachable { path: syslog::DEV_LOG.to_owned(), error });
                None
            }
        }
    } else {
        None
    };
    let mut outputs = Outputs::open(args.json.as_deref(), readable, syslog)?.with_hook(hook);
    if replaying {
        replay_files(args, config, &mut outputs, stdout, report)
    } else {
        live(args, config, stop, &mut outputs, stdout, report)
    }
}

/// Writes alerts until one fails; remembers the first failure and whether stdout closed.
struct Emitter<'a> {
    outputs: &'a mut Outputs,
    stdout: &'a mut dyn Write,
    report: &'a mut dyn FnMut(Notice),
    failure: Option<WatchError>,
    closed: bool,
}

impl Emitter<'_> {
    fn emit(&mut self, alert: &Alert) {
        if self.failure.is_some() || self.closed {
            return;
        }
        match self.outputs.emit(alert, self.stdout, self.report) {
            Ok(Delivery::Delivered) => {}
            Ok(Delivery::StdoutClosed) => self.closed = true,
            Err(e) => self.failure = Some(e),
        }
    }

    /// Whether the loop must end: an output failed or stdout closed.
    fn done(&self) -> bool {
        self.failure.is_some() || self.closed
    }
}

fn replay_files(
    args: &WatchArgs,
    config: DetectorConfig,
    outputs: &mut Outputs,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, WatchError> {
    let local = if args.nets.is_empty() { LocalAddrs::Infer } else { LocalAddrs::Nets(args.nets.clone()) };
    let mut detector = Detector::new(DetectorConfig { local, ..config });
    let mut totals = ReplayTotals::default();
    let mut failed = 0;
    let mut em = Emitter { outputs, stdout, report, failure: None, closed: false };
    let files = args.pcap.iter().map(|p| (p, FileKind::Pcap)).chain(args.log.iter().map(|p| (p, FileKind::Log)));
    for (path, kind) in files {
        // The log reader's notices are told after the file, as the alerts are told during it.
        let mut notes = Vec::new();
        let result = {
            let mut sink = |alert: Alert| em.emit(&alert);
            match kind {
                FileKind::Pcap => replay::replay_pcap(path, &mut detector, &mut totals, &mut sink),
                FileKind::Log => {
                    replay::replay_log(path, &mut detector, &mut totals, &mut sink, &mut |n| notes.push(n))
                }
            }
        };
        notes.into_iter().for_each(&mut *em.report);
        if let Err(e) = result {
            // One bad file does not stop the others.
            failed += 1;
            (em.report)(Notice::FileFailed(e));
        }
        if em.done() {
            break;
        }
    }
    // The replay is over: every scan still open ends here, at the last time the files told.
    // (Memory is measured before, while the open scans still hold their state.)
    let memory = detector.memory_estimate();
    for end in detector.finish(detector.now()) {
        em.emit(&end);
    }
    if let Some(e) = em.failure.take() {
        return Err(e);
    }
    let stats = detector.stats();
    (em.report)(Notice::ReplaySummary {
        records: totals.records,
        skipped: totals.skipped,
        scans: em.outputs.scans(),
        alerts: em.outputs.records(),
        sources: stats.sources,
        memory,
    });
    Ok(if failed > 0 { Outcome::FilesFailed { failed } } else { Outcome::Finished })
}

#[derive(Clone, Copy)]
enum FileKind {
    Pcap,
    Log,
}

fn live(
    args: &WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    outputs: &mut Outputs,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, WatchError> {
    let which = if args.interfaces.is_empty() { Interfaces::All } else { Interfaces::Named(args.interfaces.clone()) };
    let (addrs, local) = local::local_addrs(&args.nets)?;
    let capture = Capture::start(&which)?;
    let mut detector = Detector::new(DetectorConfig { local, ..config });
    if !args.quiet {
        let targets: Vec<String> =
            addrs.iter().map(ToString::to_string).chain(args.nets.iter().map(ToString::to_string)).collect();
        report(Notice::Watching { interfaces: capture.names().to_vec(), targets });
    }
    let started = Instant::now();
    let deadline = args.duration.and_then(|d| started.checked_add(d));
    let mut next_tick = started + TICK;
    let mut em = Emitter { outputs, stdout, report, failure: None, closed: false };
    let mut lost_all = false;
    while !stop.load(Ordering::Relaxed) && !em.done() {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        if now >= next_tick {
            next_tick = now + TICK;
            for alert in detector.tick(capture::now()) {
                em.emit(&alert);
            }
        }
        let wait = next_tick.saturating_duration_since(now).min(Duration::from_millis(200));
        match capture.events().recv_timeout(wait) {
            Ok(event) => handle(event, &mut detector, &mut em),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                lost_all = true;
                break;
            }
        }
    }
    let kernel = capture.stop(&mut |event| handle(event, &mut detector, &mut em));
    // Ctrl-C, SIGTERM, the end of --for: every scan still open ends with its totals.
    let memory = detector.memory_estimate();
    for end in detector.finish(capture::now()) {
        em.emit(&end);
    }
    if let Some(e) = em.failure.take() {
        return Err(e);
    }
    let stats = detector.stats();
    (em.report)(Notice::LiveSummary {
        packets: stats.packets,
        scans: em.outputs.scans(),
        alerts: em.outputs.records(),
        sources: stats.sources,
        kernel_drops: kernel.drops,
        memory,
    });
    if lost_all {
        return Err(WatchError::NoInterfaceLeft);
    }
    Ok(Outcome::Finished)
}

fn handle(event: CaptureEvent, detector: &mut Detector, em: &mut Emitter<'_>) {
    match event {
        CaptureEvent::Packets(packets) => {
            for pkt in &packets {
                for alert in detector.observe(pkt) {
                    em.emit(&alert);
                }
            }
        }
        CaptureEvent::Down { interface } => (em.report)(Notice::InterfaceDown { interface }),
        CaptureEvent::Up { interface } => (em.report)(Notice::InterfaceUp { interface }),
        CaptureEvent::Drops { interface, dropped } => (em.report)(Notice::KernelDrops { interface, dropped }),
        CaptureEvent::Gone { interface, reason } => (em.report)(Notice::InterfaceGone { interface, reason }),
    }
}
