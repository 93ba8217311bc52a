//! tojimari's scan engines.
//!
//! - [`connect`]: the TCP connect scan (`-sT`), which needs no privilege and is the fallback of every raw
//!   technique: a pure scheduler ([`connect::Scheduler`]: `now` and events in, actions out) driven by a thin
//!   mio adapter.
//! - [`raw`]: every raw-packet technique (`-sS -sF -sN -sX -sA -sW -sM --scanflags -sU`) and host discovery,
//!   over tojimari-net's packet sockets, with probes built and replies read by tojimari-packet.
//! - [`idle`]: the idle scan (`-sI`) through a zombie's IP ID counter: a state machine per target and a
//!   thin edge over tojimari-net's packet socket.
//! - [`bounce`]: the FTP bounce scan (`-b`): an FTP server connects to the target for us; a sans-I/O
//!   session per control connection, several connections at once.
//! - [`route`]: traceroute's plan (`--traceroute`), sans I/O: which TTL next, hops shared across hosts (not
//!   wired to the raw engine or the printers yet).
//! - [`rate`], [`rtt`], [`fdlimit`], [`own`]: sending pace, round-trip timeouts, the descriptor budget and
//!   this host's own addresses, shared by both.
//!
//! Engines never print: they feed a [`tojimari_core::Sink`] and bump [`control::Progress`]; `--packet-trace`
//! hears their packets through the optional [`trace::PacketTrace`] hook. The system calls they need
//! (descriptor limits, the socket error queue, reverse DNS) are tojimari-net's, the one crate with `unsafe`.

pub mod bounce;
pub mod connect;
pub mod control;
pub mod fdlimit;
pub mod idle;
pub mod own;
pub mod rate;
pub mod raw;
pub mod route;
pub mod rtt;
pub mod sweep;
pub mod trace;

pub use connect::{ConnectScan, Discovery, EngineError, PortOrder, RunStats, ScanTarget};
pub use control::{Control, Progress};
pub use own::OwnAddrs;
pub use sweep::{GroupState, StateError, Sweep};
pub use trace::{ConnectEvent, ConnectOutcome, PacketTrace, PassEvent, Tracer};
