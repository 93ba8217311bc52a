//! What the connect scheduler is told (events) and what it asks for (actions).
//!
//! The scheduler never touches a socket, a thread or a clock. The event loop opens the connections it is
//! asked to ([`Open`]), reports what the kernel said about each ([`Event`]), and carries out the
//! [`Action`]s it is handed: closing sockets, starting name lookups, giving results to the sink.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tojimari_core::report::HostReport;
use tojimari_core::{PortResult, PortState, Reason};

use super::flights::FlightId;

/// A host of the run: its slot and its run-unique sequence number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostId {
    pub(super) slot: usize,
    pub(super) seq: u64,
}

/// A connection to open: one try of one probe.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Open {
    pub flight: FlightId,
    pub addr: IpAddr,
    pub port: u16,
    /// 0 for the first try.
    pub try_no: u8,
    /// The flight whose socket connected to itself: hold that socket until this connect has picked its
    /// source port, then close it (see the `probe` module).
    pub guard: Option<FlightId>,
}

/// What happened to a flight, or to a name lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `connect` is under way since `started` and its socket is watched.
    InProgress { flight: FlightId, started: Instant },
    /// The answer: open, refused, unreachable... `rtt` is the round trip when the launch itself timed it
    /// (an answer within the `connect` call); otherwise it runs from `InProgress` to now.
    Answer { flight: FlightId, state: PortState, reason: Reason, rtt: Option<Duration> },
    /// The socket connected to itself: no answer. The event loop keeps the socket until it is told to
    /// close it or to open the retry with it as guard.
    SelfConnected { flight: FlightId },
    /// The socket could not be opened: this machine is out of descriptors (EMFILE, ENFILE), local ports
    /// or buffers. Not an answer from the target.
    Exhausted { flight: FlightId },
    /// The socket was opened but the event loop could not watch it (it was closed).
    Unwatchable { flight: FlightId },
    /// The flight's deadline passed (it came from [`super::Scheduler::next_expired`]) and its socket had
    /// nothing to say: no answer to this try (the socket was closed).
    TimedOut { flight: FlightId },
    /// A reverse lookup finished (`None`: no name, or no lookup could be started).
    Named { host: HostId, name: Option<String> },
}

/// What the event loop must do, in order.
#[derive(Clone, Debug)]
pub enum Action {
    /// Open a connection (a retry after a self-connection: it is not paced by the window).
    Open(Open),
    /// Close a flight's socket: its host is over, or it connected to itself twice.
    Close(FlightId),
    /// Look up the PTR name of a host that is up; answer with [`Event::Named`].
    ResolveName { host: HostId, addr: IpAddr },
    /// A port's final state and reason.
    Port { addr: IpAddr, result: PortResult },
    /// A host is done: up, down or timed out, with every port it has.
    HostDone { host: HostId, report: Box<HostReport> },
    /// Every host reported so far is finished: a resumable run may count them done
    /// ([`Sink::group_done`](tojimari_core::Sink::group_done) with `group` = hosts reported - 1).
    Boundary { group: u64 },
}
