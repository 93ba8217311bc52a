//! tojimari's domain model, free of I/O.
//!
//! Everything a scan is *about* lives here: which targets and ports to visit ([`target`], [`portspec`]),
//! in which order ([`permutation`]), what a port's answer means ([`state`]), what the services table says
//! about a port ([`services`]), and how results flow out of an engine ([`report`], [`sink`]).
//! [`scan_type`] names the scan techniques (nmap's options, XML and output names).
//! [`verdict`] tells a port's answer in plain words (OPEN / CLOSED / STEALTH).
//! [`catalog`] is the one list of exposure findings (ids, severities, advice).
//! [`os`] holds what OS detection found (active `-O` and passive guesses), for the printers.
//! [`civil`] is the one calendar (Unix seconds to UTC dates and back).
//! [`input`] reads user-supplied text within stated limits (it opens nothing itself). [`diagnostic`]: what
//! a library tells the user, as values the binary prints. [`progress`]: a scan's progress line, written and read.
//! Engines and printers depend on this crate; it depends on none of them.

pub mod catalog;
pub mod civil;
pub mod diagnostic;
pub mod input;
pub mod ip_protocols;
pub mod os;
pub mod permutation;
pub mod portspec;
pub mod progress;
pub mod protocol;
pub mod report;
pub mod route;
pub mod scan_type;
pub mod services;
pub mod sink;
pub mod state;
pub mod sweep;
pub mod target;
pub mod timing;
pub mod verdict;

pub use protocol::Protocol;
pub use report::{
    Detail, Finding, HostReport, HostState, Hostname, HostnameKind, PortResult, RunInfo, RunSummary, ScanType,
    ServiceInfo, ServiceMethod, Severity, Tunnel,
};
pub use sink::Sink;
pub use state::{PortState, Reason};
