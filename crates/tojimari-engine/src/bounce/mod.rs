//! The FTP bounce scan (`-b [user[:password]@]server[:port]`): an FTP server that accepts a third party's
//! address in `PORT` connects to the target for us, and its replies to `LIST` say how that went.
//!
//! The scanner never sends the target a packet: only the FTP server (the *relay*) does. The protocol lives
//! in sans-I/O pieces: [`reply`] reads replies (bounded, multi-line), [`session`] is one control
//! connection's state machine (replies and `now` in, commands and verdicts out), `board` shares one
//! host's ports among connections; `driver` is the thin I/O edge (threads, blocking sockets, the clock).
//! docs/bounce.md tells the states, the reasons and how this differs from nmap.
//!
//! Hosts are found up as in any other scan: by the discovery engine the caller hands in
//! ([`BounceDiscovery`]), or all of them with `-Pn`. Then each up host's ports are asked, one host after
//! the other, over several control connections at once. Reports go to the [`Sink`] in target order.

mod board;
mod driver;
pub mod reply;
pub mod session;
pub mod spec;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use tojimari_core::portspec::PortSet;
use tojimari_core::report::{HostReport, HostState, PortResult, RunInfo, RunSummary};
use tojimari_core::{PortState, Protocol, Reason, Sink};

pub use board::{Board, UNPRIVILEGED};
pub use driver::Fatal;
pub use session::{Timeouts, Verdict};
pub use spec::{RelaySpec, SpecError};

use crate::connect::{ConnectScan, EngineError, PortOrder, RunStats, ScanTarget};
use crate::control::Control;
use crate::raw::RawScan;

/// How the hosts to bounce to are found up.
#[derive(Clone, Debug)]
pub enum BounceDiscovery {
    /// `-Pn`: every host is up.
    Skip,
    /// The raw engine's discovery (a ping-only [`RawScan`]).
    Raw(Box<RawScan>),
    /// The connect engine's discovery (a [`ConnectScan`] without ports).
    Connect(Box<ConnectScan>),
}

/// Everything the bounce scan needs. Build it, then call [`BounceScan::run`].
#[derive(Clone, Debug)]
pub struct BounceScan {
    /// The relay's address (resolved) and login.
    pub relay: SocketAddr,
    pub user: String,
    pub password: String,
    /// Ports to ask about on each host.
    pub ports: PortSet,
    pub order: PortOrder,
    pub discovery: BounceDiscovery,
    /// Control connections at once, at most (the server may allow fewer).
    pub connections: usize,
    /// Times a port whose connection ended before its verdict is asked, in all.
    pub attempts: u8,
    pub timeouts: Timeouts,
}

/// Something the run wants the user to know (the caller prints it as a `note:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// The relay refused to connect to ports below 1024; `ports` of them are reported filtered.
    PrivilegedRefused { reply: String, ports: usize },
    /// The relay refused these unprivileged ports (reported filtered).
    Refused { reply: String, ports: usize },
    /// The relay turned away `turned_away` connections with 421 (too many users); the scan went on with the
    /// `sessions` it let in.
    SessionLimit { turned_away: usize, sessions: usize },
    /// No trustworthy answer came for these ports of `addr`: they are not reported.
    Unanswered { addr: IpAddr, ports: Vec<u16> },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::PrivilegedRefused { reply, ports } => write!(
                f,
                "the FTP server will not connect to ports below 1024 (it said \"{reply}\"; vsftpd never does): \
                 {ports} such ports are reported filtered (unknown-response); scan them from a host that can \
                 reach the target"
            ),
            Note::Refused { reply, ports } => {
                write!(f, "the FTP server refused {ports} ports (\"{reply}\"): reported filtered (unknown-response)")
            }
            Note::SessionLimit { turned_away, sessions } => write!(
                f,
                "the FTP server turned away {turned_away} of the scan's connections with 421 (too many users): \
                 the scan went on with the {sessions} it let in"
            ),
            Note::Unanswered { addr, ports } => write!(
                f,
                "{} ports of {addr} got no trustworthy answer and are not reported: {}",
                ports.len(),
                crate::bounce::compact(ports)
            ),
        }
    }
}

/// What a run found besides the hosts: counts and notes.
#[derive(Clone, Debug, Default)]
pub struct BounceOutcome {
    pub stats: RunStats,
    pub notes: Vec<Note>,
}

/// A sink that keeps the discovery engine's host reports.
#[derive(Default)]
struct Collect(Vec<HostReport>);

impl Sink for Collect {
    fn run_start(&mut self, _: &RunInfo) -> io::Result<()> {
        Ok(())
    }
    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.0.push(host.clone());
        Ok(())
    }
    fn run_end(&mut self, _: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

impl BounceScan {
    /// Finds the hosts up, then bounces to each one's ports, feeding `sink`; `notes` hears what the user
    /// should know. Fails when the relay refuses bounces or the login, or stops answering: the hosts
    /// reported until then stand, and no port without a trustworthy answer is reported.
    pub fn run(
        &self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        control: &Control,
    ) -> Result<BounceOutcome, EngineError> {
        let hosts: Vec<HostReport> = match &self.discovery {
            BounceDiscovery::Skip => targets.map(|t| up_by_user(t.addr, t.hostnames)).collect(),
            BounceDiscovery::Raw(scan) => {
                let mut found = Collect::default();
                scan.run(targets, &mut found, control)?;
                found.0
            }
            BounceDiscovery::Connect(scan) => {
                let mut found = Collect::default();
                scan.run(targets, &mut found, control)?;
                found.0
            }
        };
        let mut outcome = BounceOutcome::default();
        let mut refused = (None::<String>, 0usize);
        let mut privileged = (None::<String>, 0usize);
        let mut sessions = None;
        for mut host in hosts {
            outcome.stats.hosts_total += 1;
            if host.state != HostState::Up {
                outcome.stats.hosts_down += 1;
                sink.host_done(&host).map_err(EngineError::Output)?;
                continue;
            }
            outcome.stats.hosts_up += 1;
            if control.is_cancelled() {
                outcome.stats.interrupted = true;
                host.complete = false;
                sink.host_done(&host).map_err(EngineError::Output)?;
                continue;
            }
            let IpAddr::V4(target) = host.addr else {
                return Err(EngineError::Net(format!(
                    "the FTP bounce scan reaches IPv4 targets only (FTP's PORT names an IPv4 address): {}",
                    host.addr
                )));
            };
            let ports = self.port_order(host.addr);
            let started = SystemTime::now();
            let run = driver::scan_host(
                self.relay,
                &self.user,
                &self.password,
                target,
                &ports,
                self.connections,
                self.attempts,
                self.timeouts,
                control,
            );
            if run.turned_away > 0 {
                sessions = Some((run.turned_away, run.sessions.max(1)));
            }
            // A port asked its last time without a trustworthy answer makes the run fail, with what the server
            // last did; the ports answered stand.
            let fatal = run.fatal.or_else(|| {
                (!run.board.unsettled().is_empty() && !control.is_cancelled())
                    .then(|| Fatal::Stopped(run.last_failure.clone().unwrap_or_else(|| "no trustworthy answer".into())))
            });
            if let Some(fatal) = fatal {
                if run.board.verdicts().is_empty() {
                    return Err(EngineError::Net(self.fatal_message(&fatal, target)));
                }
                // Keep what was found: the host is reported cut short, then the run fails, saying how many
                // ports went without an answer (the notes are not printed after an error).
                self.report(&mut host, &run.board, started, &mut outcome, &mut refused, &mut privileged);
                sink.host_done(&host).map_err(EngineError::Output)?;
                let unanswered = run.board.unsettled().len();
                return Err(EngineError::SendFailed {
                    message: format!(
                        "{}; {} ports were answered and are reported, {unanswered} got no trustworthy answer",
                        self.fatal_message(&fatal, target),
                        run.board.verdicts().len()
                    ),
                    stats: outcome.stats,
                });
            }
            self.report(&mut host, &run.board, started, &mut outcome, &mut refused, &mut privileged);
            if control.is_cancelled() {
                outcome.stats.interrupted = true;
            }
            sink.host_done(&host).map_err(EngineError::Output)?;
            control.progress.hosts_done.fetch_add(1, Ordering::Relaxed);
        }
        outcome.notes.splice(0..0, notes(refused, privileged, sessions));
        Ok(outcome)
    }

    /// Fills `host` with the board's verdicts.
    fn report(
        &self,
        host: &mut HostReport,
        board: &Board,
        started: SystemTime,
        outcome: &mut BounceOutcome,
        refused: &mut (Option<String>, usize),
        privileged: &mut (Option<String>, usize),
    ) {
        host.ports = board
            .verdicts()
            .iter()
            .map(|(&port, verdict)| {
                let (state, reason) = match verdict {
                    Verdict::Open => (PortState::Open, Reason::SynAck),
                    Verdict::Closed => (PortState::Closed, Reason::ConnRefused),
                    Verdict::Filtered => (PortState::Filtered, Reason::NoResponse),
                    Verdict::Refused(reply) => {
                        let tally = if port < UNPRIVILEGED { &mut *privileged } else { &mut *refused };
                        tally.0.get_or_insert_with(|| reply.clone());
                        tally.1 += 1;
                        (PortState::Filtered, Reason::Unknown)
                    }
                };
                PortResult::new(Protocol::Tcp, port, state, reason)
            })
            .collect();
        let unsettled = board.unsettled();
        host.complete = unsettled.is_empty();
        if !unsettled.is_empty() {
            outcome.notes.push(Note::Unanswered { addr: host.addr, ports: unsettled });
        }
        host.start = started;
        host.end = SystemTime::now();
    }

    /// The ports of one host in the order they are asked.
    fn port_order(&self, addr: IpAddr) -> Vec<u16> {
        let mut ports: Vec<u16> = self.ports.as_slice().to_vec();
        if let PortOrder::Random { seed } = self.order {
            let salt = match addr {
                IpAddr::V4(v4) => u64::from(u32::from(v4)),
                IpAddr::V6(v6) => u128::from(v6) as u64,
            };
            shuffle(&mut ports, seed ^ salt);
        }
        ports
    }

    fn fatal_message(&self, fatal: &Fatal, target: std::net::Ipv4Addr) -> String {
        let relay = self.relay;
        match fatal {
            Fatal::BounceRefused(reply) => format!(
                "the FTP server {relay} refuses to connect to third parties (it answered \"{reply}\" to PORT naming \
                 {target}): it cannot bounce; use a server that accepts PORT to other addresses"
            ),
            Fatal::LoginRefused(reply) => {
                format!("the FTP server {relay} refused the login as \"{}\": \"{reply}\"", self.user)
            }
            Fatal::Stopped(why) => format!("the FTP bounce scan through {relay} stopped: {why}"),
        }
    }
}

/// The notes about refusals and the session limit, in that order.
fn notes(
    refused: (Option<String>, usize),
    privileged: (Option<String>, usize),
    sessions: Option<(usize, usize)>,
) -> Vec<Note> {
    let mut notes = Vec::new();
    if let (Some(reply), ports) = privileged {
        notes.push(Note::PrivilegedRefused { reply, ports });
    }
    if let (Some(reply), ports) = refused {
        notes.push(Note::Refused { reply, ports });
    }
    if let Some((turned_away, sessions)) = sessions {
        notes.push(Note::SessionLimit { turned_away, sessions });
    }
    notes
}

/// A host up because the user said so (`-Pn`), without ports yet.
fn up_by_user(addr: IpAddr, hostnames: Vec<tojimari_core::report::Hostname>) -> HostReport {
    let now = SystemTime::now();
    HostReport {
        addr,
        hostnames,
        state: HostState::Up,
        state_reason: Reason::UserSet,
        state_reason_ttl: 0,
        ports: Vec::new(),
        start: now,
        end: now,
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// A seeded Fisher-Yates shuffle (splitmix64), so `--seed` repeats the order.
fn shuffle(ports: &mut [u16], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..ports.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        ports.swap(i, j);
    }
}

/// "1-3,22" from [1, 2, 3, 22] (sorted input).
fn compact(ports: &[u16]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ports.len() {
        let start = ports[i];
        let mut end = start;
        while i + 1 < ports.len() && ports[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = ports[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_ranges() {
        assert_eq!(compact(&[1, 2, 3, 22, 80, 81]), "1-3,22,80-81");
        assert_eq!(compact(&[]), "");
    }

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<u16> = (1..=100).collect();
        let mut b = a.clone();
        shuffle(&mut a, 7);
        shuffle(&mut b, 7);
        assert_eq!(a, b);
        assert_ne!(a, (1..=100).collect::<Vec<u16>>());
        a.sort_unstable();
        assert_eq!(a, (1..=100).collect::<Vec<u16>>());
    }

    #[test]
    fn notes_read_well() {
        let n = Note::PrivilegedRefused { reply: "500 OOPS: Illegal port request".into(), ports: 3 };
        assert!(n.to_string().contains("below 1024") && n.to_string().contains("3 such ports"));
        let n = Note::Unanswered { addr: "198.18.0.3".parse().unwrap(), ports: vec![5, 6, 9] };
        assert_eq!(n.to_string(), "3 ports of 198.18.0.3 got no trustworthy answer and are not reported: 5-6,9");
    }
}
