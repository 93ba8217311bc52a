//! An optional hook that sees every packet the engines send and receive, for `--packet-trace`.
//!
//! Engines never print: the caller hands in a [`PacketTrace`] and formats what it hears. When no hook is
//! set ([`Tracer::off`], the default) the engines pay one branch per batch of frames sent and per frame
//! received, nothing else.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

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

/// Hears the engines' packets. Called from the sending and receiving threads: keep it quick.
pub trait PacketTrace: Send + Sync {
    /// A complete Ethernet frame the raw engine handed to the kernel at `at`.
    fn sent(&self, frame: &[u8], at: Instant);
    /// A frame the raw engine's receiver took in at `at` (one that passed the reply filter).
    fn received(&self, frame: &[u8], at: Instant);
    /// A connect-scan probe's progress.
    fn connect(&self, event: &ConnectEvent, at: Instant);
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
