//! The TCP connect scan (`-sT`) and TCP connect host discovery, on one non-blocking event loop.
//!
//! Every probe is a non-blocking `connect(2)`; the operating system does the handshake, so no privilege
//! is needed. The loop keeps up to a window of probes in flight across a group of hosts, visits each host's
//! ports in a seeded permutation, retries silent ports (adaptively, as nmap does), and hands every final
//! answer to the [`Sink`] as it comes. Running out of descriptors or local ports is not fatal: the window
//! shrinks and the probe is tried again later. A probe whose socket connected to itself (a port of this
//! host's own address that the kernel also picked as the source port) is no answer: it is sent again
//! while that socket is held (see the `probe` module). This host's own addresses are up without a ping.
//!
//! A run that may be paused (`--resume`) counts its hosts: at most once a second, when hosts were reported since,
//! it says that every host reported so far is finished ([`Action::Boundary`], the sink's `group_done` with the
//! count of hosts reported, minus one); a resumed run skips the hosts its earlier run finished
//! ([`ConnectScan::finished`]). Hosts finished after the last boundary are scanned again.
//!
//! Every decision is made by the [`Scheduler`], a state machine without I/O that takes `now` and events
//! and returns actions; the `driver` module is the event loop around it (mio, sockets, threads, clock).

mod driver;
mod event;
mod flights;
mod host;
mod launcher;
mod probe;
mod scheduler;
mod wall;
mod window;

use std::io;

use tojimari_core::Sink;
use tojimari_core::portspec::PortSet;
use tojimari_core::timing::Timing;

pub use event::{Action, Event, HostId, Open};
pub use flights::FlightId;
pub use host::ScanTarget;
pub use probe::classify;
pub use scheduler::Scheduler;
pub use wall::WallClock;

use crate::control::Control;

/// In which order a host's ports are probed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PortOrder {
    /// A seeded permutation (the default; `--seed` reproduces it).
    Random { seed: u64 },
    /// Ascending (`-r`).
    Sequential,
}

/// How hosts are found to be up before their ports are scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// `-Pn`: every host is taken as up.
    Skip,
    /// A connect to each of these ports; any answer (accept or refusal) means up.
    ConnectPing { ports: Vec<u16> },
}

/// Everything the connect engine needs to know. Build it, then call [`ConnectScan::run`].
#[derive(Clone, Debug)]
pub struct ConnectScan {
    /// Ports to scan on each host; empty for `-sn`.
    pub ports: PortSet,
    pub timing: Timing,
    pub order: PortOrder,
    pub discovery: Discovery,
    /// Sockets that may be open at once (from the descriptor budget).
    pub max_sockets: usize,
    /// Look up PTR names of hosts that are up.
    pub reverse_dns: bool,
    /// `-e`: bind every probe socket to this interface (SO_BINDTODEVICE).
    pub interface: Option<String>,
    /// `--packet-trace`: hears each probe's launch and answer.
    pub trace: crate::trace::Tracer,
    /// The probes of the scan this run sends (`--shard`); see [`tojimari_core::sweep`].
    pub selection: tojimari_core::sweep::Selection,
    /// Hosts a paused run finished (`--resume`): each address is skipped as many times as it was
    /// finished, and its results are the earlier run's. Empty for a new scan.
    pub finished: Finished,
}

/// Finished hosts, each with how many times its address was finished (a target listed twice is scanned
/// twice).
pub type Finished = std::collections::HashMap<std::net::IpAddr, u32>;

/// Counts of a finished run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub hosts_total: u64,
    /// True when the run was cancelled before every host was done.
    pub interrupted: bool,
}

/// Engine failures. Port answers are never errors; these are the tool failing.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The event loop could not be created or polled.
    #[error("event loop failed: {0}")]
    Poll(#[source] io::Error),
    /// An output sink failed to write (disk full, closed pipe...). What was written so far stays valid.
    #[error("writing results failed: {0}")]
    Output(#[source] io::Error),
    /// The raw-packet layer failed (no permission, no interface, a socket error).
    #[error("{0}")]
    Net(String),
    /// Sending failed mid-scan (the interface went down): the hosts reported until then are in `stats`.
    #[error("{message}")]
    SendFailed { message: String, stats: RunStats },
}

impl ConnectScan {
    /// Scans every target, feeding `sink`. Returns when all are done or `control` is cancelled;
    /// hosts cut short by a cancel are still reported, marked incomplete.
    pub fn run(
        &self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        control: &Control,
    ) -> Result<RunStats, EngineError> {
        driver::run(self, targets, sink, control)
    }
}
