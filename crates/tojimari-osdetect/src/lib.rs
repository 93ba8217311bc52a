//! tojimari-osdetect: which operating system answers, from how its TCP/IP stack behaves. No I/O: the
//! engine sends what [`build`] writes, at the offsets [`schedule`] gives, hands back each answer's IP
//! packet with the time it came ([`Exchange`]), and gets an [`OsReport`] from [`classify`].
//!
//! SKELETON: the public API the engine (tojimari-engine `raw::os_pass`) is written against. The bodies
//! are being written; every function here must be filled in before issue 12 closes.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::os::{OsMatch, OsReport};
use tojimari_packet::L2;

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

/// The probes to send to `target` (those its ports allow) with the offset from the first probe at
/// which each goes out.
pub fn schedule(target: &Target) -> Vec<(Probe, Duration)> {
    let _ = target;
    Vec::new()
}

/// Writes `probe` for `target` as a whole frame (Ethernet header first) into `buf`; returns its length,
/// 0 when it does not apply.
pub fn build(target: &Target, probe: Probe, buf: &mut [u8]) -> usize {
    let _ = (target, probe, buf);
    0
}

/// The probe an IP packet from `target.dst` answers, if it answers one of ours.
pub fn answers(target: &Target, ip_packet: &[u8]) -> Option<Probe> {
    let _ = (target, ip_packet);
    None
}

/// How to match (`--osscan-guess`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// `--osscan-guess`: list near matches even when none is close enough to state.
    pub guess: bool,
}

/// The fingerprint database (docs/os-db.md).
#[derive(Clone, Debug, Default)]
pub struct Db {}

/// A fingerprint database that does not parse: `name:line: message`.
#[derive(Debug, thiserror::Error)]
#[error("{name}:{line}: {message}")]
pub struct DbError {
    pub name: String,
    pub line: u32,
    pub message: String,
}

impl Db {
    /// Parses a database in the format of docs/os-db.md; `name` names it in errors.
    pub fn parse(name: &str, text: &str) -> Result<Db, DbError> {
        let _ = text;
        Err(DbError { name: name.into(), line: 1, message: "not written yet".into() })
    }

    /// The database shipped with tojimari.
    pub fn builtin() -> &'static Db {
        static DB: Db = Db {};
        &DB
    }
}

/// From the exchanges with one host, its report: matches, distance, uptime, sequence classes. `now` is
/// the wall clock at the end of the tests (for the last boot time).
pub fn classify(db: &Db, target: &Target, exchanges: &[Exchange], opts: MatchOptions, now: SystemTime) -> OsReport {
    let _ = (db, target, exchanges, opts, now);
    OsReport::default()
}

/// Passive guesses from one SYN/ACK (a scan's answer) or one SYN (a scanning source's probe).
pub mod passive {
    use super::*;

    /// What a SYN or SYN/ACK says without any probe of ours: the facts kept per host.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct Handshake {
        pub ttl: u8,
        pub window: u16,
        pub df: bool,
        /// The TCP options' kinds in order, with the MSS and window scale values.
        pub options: Vec<u8>,
        pub mss: Option<u16>,
        pub wscale: Option<u8>,
        /// True for a SYN/ACK (an answer), false for a SYN (a client's own choice).
        pub syn_ack: bool,
    }

    /// Reads the facts from an IP packet carrying a SYN or SYN/ACK.
    pub fn read(ip_packet: &[u8]) -> Option<Handshake> {
        let _ = ip_packet;
        None
    }

    /// The likely systems, best first, each with accuracy.
    pub fn guess(db: &Db, handshake: &Handshake) -> Vec<OsMatch> {
        let _ = (db, handshake);
        Vec::new()
    }
}
