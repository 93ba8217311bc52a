//! Shared between an engine and whoever watches it: a cancel flag (Ctrl-C) and progress counters.
//!
//! Counters are plain atomics bumped by the engine; a progress printer reads them at its own pace
//! (about ten times a second), so the engine never prints and never waits for a terminal.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tojimari_core::diagnostic::Diagnostic;

use crate::sweep::GroupState;

/// A receiver of notes.
type NoteFn = Box<dyn Fn(&dyn Diagnostic) + Send + Sync>;

/// Where an engine's notes go as the scan runs (the binary prints them); none by default.
#[derive(Default)]
struct NoteHook(Option<NoteFn>);

impl std::fmt::Debug for NoteHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "NoteHook(set)" } else { "NoteHook(none)" })
    }
}

/// Counters of a running scan.
#[derive(Debug, Default)]
pub struct Progress {
    /// Port results expected in all (hosts x ports), if the caller knows the host count.
    pub planned: AtomicU64,
    /// Port results final so far (a down host counts all of its ports).
    pub ports_done: AtomicU64,
    pub hosts_done: AtomicU64,
    pub open: AtomicU64,
    /// Probes sent, retransmissions included.
    pub sent: AtomicU64,
    pub retransmissions: AtomicU64,
    /// Times the engine backed off because this machine ran out of descriptors or local ports (connect
    /// scan), or halved its rate because losses grew with it (raw scans).
    pub backoffs: AtomicU64,
    /// UDP probes left without any answer (open|filtered) after the scan.
    pub udp_silent: AtomicU64,
    /// ICMP port-unreachable messages per second the targets sent during the UDP scan, times 1000.
    pub udp_icmp_rate_milli: AtomicU64,
    /// `--traceroute`: time-exceeded messages about a traced host that quoted no probe of ours (ignored: the
    /// hop they came from shows as silent).
    pub trace_ignored: AtomicU64,
    /// Raw scans: probes in the (host x port) index spaces of every pass, each counted once.
    pub probes: AtomicU64,
    /// Raw scans: frames handed to the kernel (first tries, retries and pings).
    pub frames: AtomicU64,
    /// Raw scans: frames the receivers read.
    pub replies: AtomicU64,
    /// Raw scans: replies the kernel dropped because the receive ring was full.
    pub ring_drops: AtomicU64,
    /// Raw scans: how the frames were sent (the method of the first interface, and the threads).
    pub sender: std::sync::Mutex<Option<String>>,
    /// Raw scans: why the kernel refused the transmit ring, when it did (the scan went on with `sendmmsg`).
    pub ring_refused: std::sync::Mutex<Option<String>>,
}

/// A cancel flag and the progress counters.
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    pub progress: Progress,
    /// The group a raw engine is scanning, for [`Control::snapshot`].
    live: std::sync::Mutex<Option<std::sync::Arc<dyn Live>>>,
    notes: std::sync::Mutex<NoteHook>,
}

/// What an engine publishes about the group it is scanning.
pub(crate) trait Live: Send + Sync + std::fmt::Debug {
    fn snapshot(&self) -> GroupState;
}

impl Control {
    pub fn new() -> Self {
        Control::default()
    }

    /// Asks the engine to stop soon; it reports what it has and returns.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// The state of the group being scanned (or of the last one, when the run was cut short), from any
    /// thread while the engine runs or after it returned: what a resumed run needs. `None` before the
    /// first group and after a group finished with nothing cut short.
    pub fn snapshot(&self) -> Option<GroupState> {
        let live = self.live.lock().ok()?.clone()?;
        Some(live.snapshot())
    }

    /// Hands the engine's notes (said while the scan runs, such as why it waits) to `hook`.
    pub fn on_note(&self, hook: impl Fn(&dyn Diagnostic) + Send + Sync + 'static) {
        if let Ok(mut slot) = self.notes.lock() {
            slot.0 = Some(Box::new(hook));
        }
    }

    /// Says `note` through the hook, if one is set.
    pub(crate) fn note(&self, note: &dyn Diagnostic) {
        if let Ok(slot) = self.notes.lock()
            && let Some(hook) = &slot.0
        {
            hook(note);
        }
    }

    pub(crate) fn set_live(&self, live: Option<std::sync::Arc<dyn Live>>) {
        if let Ok(mut slot) = self.live.lock() {
            *slot = live;
        }
    }
}
