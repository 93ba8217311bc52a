//! The idle scan (`-sI zombie[:probeport]`): the target's ports read through a third host's IP ID counter,
//! no packet going from our address to the target.
//!
//! - [`ipid`]: the zombie's IP ID classes and how a step between two IDs counts packets.
//! - [`noise`]: the zombie's own traffic, and the rise it may cause by chance.
//! - [`machine`]: the scan of one target as a state machine (time and answers in, packets to send out):
//!   qualification, the check that the counter is global, groups split until each open port is found,
//!   three rises in a row for an open port.
//! - [`frames`]: the frames (probes, spoofed SYNs and SYN/ACKs) and the zombie's answers, as bytes.
//! - `edge`: the sockets, one target after the other.
//!
//! IPv4 only: an IPv6 packet has no IP ID unless it is fragmented (nmap's IPv6 idle scan reads the
//! fragment header's identification; tojimari does not).

mod edge;
pub mod frames;
pub mod ipid;
pub mod machine;
pub mod noise;

use std::net::Ipv4Addr;
use std::sync::Arc;

pub use ipid::IpIdClass;
pub use machine::{Failure, Outcome, Settings, Verdict};

use crate::trace::Tracer;

/// The port a zombie's probes go to unless told: nmap's default.
pub const DEFAULT_PROBE_PORT: u16 = 80;

/// What the scan tells its observer (the CLI's notes).
#[derive(Clone, Debug, PartialEq)]
pub enum IdleEvent {
    /// The zombie qualified for a target.
    Qualified {
        /// The zombie.
        zombie: Ipv4Addr,
        /// Its probe port.
        probe_port: u16,
        /// Its class.
        class: IpIdClass,
        /// Its own traffic, packets per second.
        background: f64,
    },
    /// A target is done.
    Finished {
        /// The target.
        target: Ipv4Addr,
        /// What was found.
        outcome: Outcome,
    },
}

/// Hears the scan's events.
pub type Observer = Arc<dyn Fn(&IdleEvent) + Send + Sync>;

/// An idle scan: the zombie, the ports, the knobs. Run with [`IdleScan::run`].
#[derive(Clone)]
pub struct IdleScan {
    /// The zombie.
    pub zombie: Ipv4Addr,
    /// The zombie's port our probes (SYN/ACKs) go to.
    pub probe_port: u16,
    /// The target ports.
    pub ports: Vec<u16>,
    /// The machine's knobs.
    pub settings: Settings,
    /// `--packet-trace`.
    pub trace: Tracer,
    /// Hears the scan's events.
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for IdleScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdleScan")
            .field("zombie", &self.zombie)
            .field("probe_port", &self.probe_port)
            .field("ports", &self.ports.len())
            .field("settings", &self.settings)
            .finish()
    }
}
