//! The `watch` loop: [`WatchArgs`] in, alerts out, an exit code at the end.
//!
//! Live: the capture threads ([`crate::capture`]) send packet batches; this thread feeds them
//! to the [`Detector`], ticks it once a second (so unanswered probes count, due updates are
//! raised and quiet scans end), writes records through [`Outputs`], and stops on the stop flag
//! (Ctrl-C, SIGTERM), after `duration`, or when stdout closes. Replay (`--pcap`, `--log`):
//! the files, one after the other, then stop. Either way a stop ends every open scan with its
//! closing record ([`Detector::finish`]), so each scan reported has its true totals.
//!
//! stderr carries, in order: `watching ...` once capture runs (unless quiet), one readable
//! line per record (unless quiet: `warning: ` for a scan's start and updates, `note: ` for
//! its end), interface notices (`warning: `/`note: `), then one summary line:
//!
//! ```text
//! note: 48213 packets seen, 3 scans reported (7 records), 2 sources tracked, 0 kernel drops, detector memory 9 KiB
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use tojimari_detect::{Alert, Detector, DetectorConfig, LocalAddrs, LocalNet};

use crate::capture::{self, Capture, CaptureEvent, CaptureStats, Interfaces};
use crate::error::WatchError;
use crate::local;
use crate::output::{Delivery, Outputs, Readable};
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

/// Runs `watch` until Ctrl-C or SIGTERM (or the end of `duration`, or of the replayed files)
/// and returns the exit code (see the crate docs). A second Ctrl-C exits at once.
pub fn run(args: WatchArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let mut ids = Vec::new();
    for signal in [SIGINT, SIGTERM] {
        // The conditional shutdown goes first: it exits only if the flag was already set.
        if let Ok(id) = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop)) {
            ids.push(id);
        }
        match signal_hook::flag::register(signal, Arc::clone(&stop)) {
            Ok(id) => ids.push(id),
            Err(e) => {
                let _ = writeln!(stderr, "warning: cannot catch signal {signal}: {e}");
            }
        }
    }
    let code = run_until(args, &stop, stdout, stderr);
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    code
}

/// [`run`] with the stop flag given by the caller (no signal handlers are installed): watching
/// ends once `stop` is set. For tests and embedders.
pub fn run_until(args: WatchArgs, stop: &AtomicBool, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    run_until_with(args, DetectorConfig::default(), stop, stdout, stderr)
}

/// [`run_until`] with the detector's settings given (a shorter
/// [`DetectorConfig::quiet_timeout`] for a test, say); `config.local` is replaced by what
/// `args` and the host say.
pub fn run_until_with(
    args: WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    match watch(&args, config, stop, stdout, stderr) {
        Ok(code) => code,
        Err(error) => {
            // One line, in the CLI's format: `error: MESSAGE (hint: HINT)`.
            let _ = match error.hint() {
                Some(hint) => writeln!(stderr, "error: {error} (hint: {hint})"),
                None => writeln!(stderr, "error: {error}"),
            };
            error.exit_code()
        }
    }
}

fn watch(
    args: &WatchArgs,
    config: DetectorConfig,
    stop: &AtomicBool,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<i32, WatchError> {
    let replaying = !args.pcap.is_empty() || !args.log.is_empty();
    if replaying && !args.interfaces.is_empty() {
        return Err(WatchError::Usage("-i (live capture) cannot be combined with --pcap or --log (replay)".into()));
    }
    if replaying && args.duration.is_some() {
        return Err(WatchError::Usage("--for applies to live capture, not to --pcap or --log".into()));
    }
    let readable = if args.quiet { Readable::Off } else { Readable::Stderr };
    let syslog = if args.syslog {
        match Syslog::connect(Path::new(syslog::DEV_LOG), "tojimari") {
            Ok(client) => Some(client),
            Err(e) => {
                let _ =
                    writeln!(stderr, "warning: cannot reach syslog at {}: {e}; not logging to syslog", syslog::DEV_LOG);
                None
            }
        }
    } else {
        None
    };
    let mut outputs = Outputs::open(args.json.as_deref(), readable, syslog)?;
    if replaying {
        replay_files(args, config, &mut outputs, stdout, stderr)
    } else {
        live(args, config, stop, &mut outputs, stdout, stderr)
    }
}

/// Writes alerts until one fails; remembers the first failure and whether stdout closed.
struct Emitter<'a> {
    outputs: &'a mut Outputs,
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
    failure: Option<WatchError>,
    closed: bool,
}

impl Emitter<'_> {
    fn emit(&mut self, alert: &Alert) {
        if self.failure.is_some() || self.closed {
            return;
        }
        match self.outputs.emit(alert, self.stdout, self.stderr) {
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
    stderr: &mut dyn Write,
) -> Result<i32, WatchError> {
    let local = if args.nets.is_empty() { LocalAddrs::Infer } else { LocalAddrs::Nets(args.nets.clone()) };
    let mut detector = Detector::new(DetectorConfig { local, ..config });
    let mut totals = ReplayTotals::default();
    let mut failed = 0;
    let mut em = Emitter { outputs, stdout, stderr, failure: None, closed: false };
    let files = args.pcap.iter().map(|p| (p, FileKind::Pcap)).chain(args.log.iter().map(|p| (p, FileKind::Log)));
    for (path, kind) in files {
        let mut notes = Vec::new();
        let result = {
            let mut sink = |alert: Alert| em.emit(&alert);
            match kind {
                FileKind::Pcap => replay::replay_pcap(path, &mut detector, &mut totals, &mut sink),
                FileKind::Log => replay::replay_log(path, &mut detector, &mut totals, &mut sink, &mut notes),
            }
        };
        let _ = em.stderr.write_all(&notes);
        if let Err(e) = result {
            // One bad file does not stop the others.
            failed += 1;
            let _ = writeln!(em.stderr, "error: {e}");
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
    let _ = writeln!(
        em.stderr,
        "note: {} records replayed ({} skipped), {} reported ({} records), {} sources tracked, detector memory {} KiB",
        totals.records,
        totals.skipped,
        scans(em.outputs.scans()),
        em.outputs.records(),
        stats.sources,
        memory.div_ceil(1024)
    );
    Ok(if failed > 0 { 1 } else { 0 })
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
    stderr: &mut dyn Write,
) -> Result<i32, WatchError> {
    let which = if args.interfaces.is_empty() { Interfaces::All } else { Interfaces::Named(args.interfaces.clone()) };
    let (addrs, local) = local::local_addrs(&args.nets)?;
    let capture = Capture::start(&which)?;
    let mut detector = Detector::new(DetectorConfig { local, ..config });
    if !args.quiet {
        let shown: Vec<String> =
            addrs.iter().map(ToString::to_string).chain(args.nets.iter().map(ToString::to_string)).collect();
        let _ = writeln!(
            stderr,
            "watching {} for scans against {}; Ctrl-C to stop",
            capture.names().join(", "),
            shown.join(" ")
        );
    }
    let started = Instant::now();
    let deadline = args.duration.and_then(|d| started.checked_add(d));
    let mut next_tick = started + TICK;
    let mut em = Emitter { outputs, stdout, stderr, failure: None, closed: false };
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
    summary(em.stderr, &detector, memory, em.outputs, kernel);
    if lost_all {
        let _ = writeln!(em.stderr, "error: no interface left to watch");
        return Ok(1);
    }
    Ok(0)
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
        CaptureEvent::Down { interface } => {
            let _ = writeln!(em.stderr, "warning: {interface} is down; capture resumes when it comes back up");
        }
        CaptureEvent::Up { interface } => {
            let _ = writeln!(em.stderr, "note: {interface} is capturing again");
        }
        CaptureEvent::Drops { interface, dropped } => {
            let _ = writeln!(
                em.stderr,
                "warning: the kernel dropped {dropped} packets on {interface} (capture ring full: not keeping up)"
            );
        }
        CaptureEvent::Gone { interface, reason } => {
            let _ = writeln!(em.stderr, "warning: stopped watching {interface}: {reason}; still watching the others");
        }
    }
}

/// The last line; `memory` is the detector's state before the open scans were closed.
fn summary(stderr: &mut dyn Write, detector: &Detector, memory: usize, outputs: &Outputs, kernel: CaptureStats) {
    let stats = detector.stats();
    let _ = writeln!(
        stderr,
        "note: {} packets seen, {} reported ({} records), {} sources tracked, {} kernel drops, detector memory {} KiB",
        stats.packets,
        scans(outputs.scans()),
        outputs.records(),
        stats.sources,
        kernel.drops,
        memory.div_ceil(1024)
    );
}

/// "1 scan", "3 scans".
fn scans(n: u64) -> String {
    format!("{n} scan{}", if n == 1 { "" } else { "s" })
}
