//! tojimari-osdetect: which operating system answers, from how its TCP/IP stack behaves. No I/O: the
//! engine sends what [`build`] writes, at the offsets [`schedule`] gives, hands back each answer's IP
//! packet with the time it came ([`Exchange`]), and gets an [`OsReport`] from [`classify`].
//!
//! - [`probes`]: the sixteen probes (shapes in docs/os-db.md), [`schedule`] and [`build`].
//! - [`answers()`]: which probe an IPv4 or IPv6 packet answers (exact: ports, ICMP or ICMPv6 id and
//!   sequence, quoted ports).
//! - [`facts`]: the fact vector ([`Facts`]) read from the exchanges; [`sequence`] holds the pure series
//!   analyses (GCD, rates, IP ID classes, timestamp clocks).
//! - [`db`]: our own fingerprint database ([`Db`], docs/os-db.md), its parser and the shipped file.
//! - `matcher`: weighted matching of facts against entries; [`classify`] puts it all in an [`OsReport`].
//! - [`passive`]: guesses from one SYN or SYN/ACK, without any probe of ours.

mod answers;
pub mod db;
pub mod facts;
mod matcher;
pub mod notation;
pub mod passive;
pub mod probes;
mod reply;
mod report;
pub mod sequence;

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::os::OsReport;
use tojimari_packet::L2;

pub use answers::answers;
pub use db::{Db, DbError};
pub use facts::Facts;
pub use matcher::{MatchOptions, score};
pub use probes::{build, schedule};

/// One active probe (the set is described in docs/design/os-detection.md and docs/os-db.md).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// The six timed SYNs to the open port (0..=5), 100 ms apart.
    Seq(u8),
    /// The SYN with ECN flags to the open port.
    Ecn,
    /// The odd TCP packets 2..=7 (2-4 to the open port, 5-7 to the closed one).
    T(u8),
    /// UDP to the closed UDP port.
    U1,
    /// The ICMP echoes (1, 2).
    Ie(u8),
}

impl Probe {
    /// Every probe, in the order they are numbered (0..16): Seq 0-5, Ecn, T2-T7, U1, Ie 1-2.
    pub const ALL: [Probe; 16] = [
        Probe::Seq(0),
        Probe::Seq(1),
        Probe::Seq(2),
        Probe::Seq(3),
        Probe::Seq(4),
        Probe::Seq(5),
        Probe::Ecn,
        Probe::T(2),
        Probe::T(3),
        Probe::T(4),
        Probe::T(5),
        Probe::T(6),
        Probe::T(7),
        Probe::U1,
        Probe::Ie(1),
        Probe::Ie(2),
    ];

    /// The probe's index in [`Probe::ALL`], `None` for numbers outside the set (`Seq(9)`, `T(1)`, ...).
    pub fn index(self) -> Option<usize> {
        match self {
            Probe::Seq(n @ 0..=5) => Some(usize::from(n)),
            Probe::Ecn => Some(6),
            Probe::T(n @ 2..=7) => Some(usize::from(n) + 5),
            Probe::U1 => Some(13),
            Probe::Ie(n @ 1..=2) => Some(usize::from(n) + 13),
            _ => None,
        }
    }
}

/// One host under test: how to reach it and the ports its scan found.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub l2: L2,
    /// Our address (same family as `dst`).
    pub src: IpAddr,
    pub dst: IpAddr,
    pub open_tcp: Option<u16>,
    pub closed_tcp: Option<u16>,
    pub closed_udp: Option<u16>,
    /// Per-host randomness (source ports, sequence numbers, ICMP ids), from the engine's key.
    pub key: u32,
    /// The TTL our probes carry.
    pub ttl: u8,
}

/// One probe sent and what came back: times are offsets from the host's first probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub probe: Probe,
    pub sent: Duration,
    /// The answer's IP packet (IPv4 or IPv6 header first) and when it came.
    pub reply: Option<(Vec<u8>, Duration)>,
}

/// From the exchanges with one host, its report: matches, distance, uptime, sequence classes. `now` is
/// the wall clock at the end of the tests (for the last boot time).
pub fn classify(db: &Db, target: &Target, exchanges: &[Exchange], opts: MatchOptions, now: SystemTime) -> OsReport {
    report::classify(db, target, exchanges, opts, now)
}
