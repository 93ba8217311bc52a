//! tojimari's scan engines.
//!
//! For now the TCP connect scan ([`connect`]), which needs no privilege and is the fallback of every raw
//! technique. Engines never print: they feed a [`tojimari_core::Sink`] and bump [`control::Progress`];
//! `--packet-trace` hears their packets through the optional [`trace::PacketTrace`] hook.

pub mod connect;
pub mod control;
pub mod fdlimit;
pub mod own;
pub mod rate;
pub mod raw;
pub mod rtt;
mod sys;
pub mod trace;

pub use connect::{ConnectScan, Discovery, EngineError, PortOrder, RunStats, ScanTarget};
pub use control::{Control, Progress};
pub use own::OwnAddrs;
pub use sys::reverse_lookup;
pub use trace::{ConnectEvent, ConnectOutcome, PacketTrace, PassEvent, Tracer};
