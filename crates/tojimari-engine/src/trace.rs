//! An optional hook that sees every packet the engines send and receive, for `--packet-trace`, and how each
//! raw-engine pass went, for `-d`.
//!
//! Engines never print: the caller hands in a [`PacketTrace`] and formats what it hears. When no hook is
//! set ([`Tracer::off`], the default) the engines pay one branch per batch of frames sent and per frame
//! received, and one per pass, nothing else.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tojimari_core::{PortState, Reason};

/// What a connect probe came to (the connect engine has no frames to show).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// `connect(2)` returned "in progress": the answer comes later.
    InProgress,
    /// The probe's answer (also a timeout's: filtered, no-response).
    Answer(PortState, Reason),
}

/// A connect probe to `addr:port` and what came of it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ConnectEvent {
    pub addr: IpAddr,
    pub port: u16,
    pub outcome: ConnectOutcome,
}

/// One raw-engine pass over a host group, once its answers are in.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct PassEvent {
    /// 0 for the first send, then the retry number.
    pub pass: u32,
    /// Probes the pass sent.
    pub sent: u64,
    /// From its first probe to its last.
    pub send_time: Duration,
    /// The pass's rate ceiling, probes per second.
    pub rate: f64,
    /// Probes that got their first answer during the pass.
    pub recovered: u64,
    /// The rate controller's rate after judging the pass.
    pub next_rate: f64,
    /// The controller judged the pass's losses to be congestion and halved its rate.
    pub backed_off: bool,
}

/// Hears the engines' packets. Called from the sending and receiving threads: keep it quick.
pub trait PacketTrace: Send + Sync {
    /// A complete Ethernet frame the raw engine handed to the kernel at `at`.
    fn sent(&self, frame: &[u8], at: Instant);
    /// A frame the raw engine's receiver took in at `at` (one that passed the reply filter).
    fn received(&self, frame: &[u8], at: Instant);
    /// A connect-scan probe's progress.
    fn connect(&self, event: &ConnectEvent, at: Instant);
    /// A raw-engine pass ended (its wait for answers included) at `at`.
    fn pass(&self, event: &PassEvent, at: Instant) {
        let _ = (event, at);
    }
}

/// The hook an engine holds: off, or a shared [`PacketTrace`].
#[derive(Clone, Default)]
pub struct Tracer(Option<Arc<dyn PacketTrace>>);

impl Tracer {
    /// No tracing.
    pub fn off() -> Tracer {
        Tracer(None)
    }

    /// Tracing into `trace`.
    pub fn new(trace: Arc<dyn PacketTrace>) -> Tracer {
        Tracer(Some(trace))
    }

    /// The hook, when tracing is on.
    #[inline]
    pub fn get(&self) -> Option<&dyn PacketTrace> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Tracer(on)" } else { "Tracer(off)" })
    }
}
