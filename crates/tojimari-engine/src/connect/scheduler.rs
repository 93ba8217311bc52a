//! The connect scan's decisions as a state machine: which host and port to probe next, when a silent try
//! is retried or given up, how wide the window is, when a host is up, down, done or out of time.
//!
//! It does no I/O and reads no clock: every call takes `now`, what the kernel said comes in as an
//! [`Event`], and what must be done goes out as an [`Open`] (from [`Scheduler::next_open`]), a flight
//! to look at once more (from [`Scheduler::next_expired`]), or an [`Action`] (from
//! [`Scheduler::poll_action`]). [`Scheduler::wake_at`] says until when the event loop may wait, and
//! [`Scheduler::is_done`] when the scan is over. The event loop (`driver`) is a thin adapter around
//! it; tests drive it with a fabricated clock and no sockets.
//!
//! One step of the event loop, in this order: [`Scheduler::admit`] new hosts, take the
//! [`Scheduler::next_expired`] flights, [`Scheduler::check_hosts`] (host timeouts, name deadlines), then
//! [`Scheduler::start_sending`] and [`Scheduler::next_open`] until it says no more, carrying out the
//! actions after each call.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tojimari_core::permutation::Permutation;
use tojimari_core::report::HostState;
use tojimari_core::{PortState, Reason};

use super::event::{Action, Event, HostId, Open};
use super::flights::{Flight, FlightId, Flights};
use super::host::{HostScan, NextProbe, Phase, ScanTarget};
use super::wall::WallClock;
use super::window::Window;
use super::{ConnectScan, Discovery, PortOrder, RunStats};
use crate::control::Progress;
use crate::own::OwnAddrs;
use crate::rate::TokenBucket;
use crate::trace::{ConnectEvent, ConnectOutcome};

/// Probes in flight by default (the descriptor budget may allow fewer).
const DEFAULT_WINDOW: usize = 2048;
/// Probes handed out between two looks at completions.
pub const SEND_BATCH: usize = 64;
/// Hosts in discovery at once.
const DISCOVERY_GROUP: usize = 1024;
/// How long to wait for a PTR answer after a host's ports are done.
const PTR_GRACE: Duration = Duration::from_millis(1500);
/// The longest the event loop waits without looking again (cancels, name answers, back-offs).
const MAX_WAIT: Duration = Duration::from_millis(50);

/// Hosts whose ports are scanned at once, so that memory stays flat in the number of targets:
/// about a million port results in memory at most, and at most 256 hosts.
fn port_group_size(nports: usize) -> usize {
    (1_000_000 / nports.max(1)).clamp(1, 256)
}

/// Where a round of sending stands (see [`Scheduler::start_sending`]).
#[derive(Copy, Clone, Debug, Default)]
struct Round {
    /// Sending may go on in this round.
    open: bool,
    idle: usize,
    launched: usize,
}

/// The connect scan's state machine. See the module docs.
#[derive(Debug)]
pub struct Scheduler<'a> {
    cfg: &'a ConnectScan,
    progress: &'a Progress,
    own: OwnAddrs,
    wall: WallClock,
    hosts: Vec<Option<HostScan>>,
    free_hosts: Vec<usize>,
    /// Host slots in admission order, for round-robin sending.
    active: Vec<usize>,
    cursor: usize,
    waiting: VecDeque<usize>,
    flights: Flights,
    window: Window,
    bucket: Option<TokenBucket>,
    in_ports_phase: usize,
    host_seq: u64,
    round: Round,
    /// The last round stopped at [`SEND_BATCH`] with room for more.
    sent_full_batch: bool,
    stats: RunStats,
    targets_done: bool,
    actions: VecDeque<Action>,
}

impl<'a> Scheduler<'a> {
    /// A scheduler for `cfg`, starting at `now` (which was `wall.at(now)` on the calendar); `own` are this
    /// host's addresses, `progress` the counters it bumps.
    pub fn new(cfg: &'a ConnectScan, own: OwnAddrs, progress: &'a Progress, wall: WallClock, now: Instant) -> Self {
        // The descriptor budget caps the default window. An explicit --max-parallelism is taken as
        // asked: if it exceeds the descriptors, EMFILE back-off finds the real limit as the scan runs.
        let window = match cfg.timing.max_parallelism {
            Some(n) => n.max(1),
            None if cfg.timing.min_rate.is_some() => cfg.max_sockets,
            None => DEFAULT_WINDOW.min(cfg.max_sockets),
        };
        Scheduler {
            cfg,
            progress,
            own,
            wall,
            hosts: Vec::new(),
            free_hosts: Vec::new(),
            active: Vec::new(),
            cursor: 0,
            waiting: VecDeque::new(),
            flights: Flights::default(),
            window: Window::new(window),
            bucket: cfg.timing.max_rate.map(|r| TokenBucket::new(r, now)),
            in_ports_phase: 0,
            host_seq: 0,
            round: Round::default(),
            sent_full_batch: false,
            stats: RunStats::default(),
            targets_done: false,
            actions: VecDeque::new(),
        }
    }

    /// The window: probes that may be in flight now.
    pub fn window(&self) -> usize {
        self.window.size()
    }

    /// Probes in flight (being opened or under way).
    pub fn inflight(&self) -> usize {
        self.flights.len()
    }

    /// Counts so far.
    pub fn stats(&self) -> RunStats {
        self.stats
    }

    /// Every target was taken and every host is done.
    pub fn is_done(&self) -> bool {
        self.targets_done && self.active.is_empty()
    }

    /// The next thing the event loop must do, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Until when the event loop may wait for completions before calling again: the next deadline,
    /// the end of a back-off, the next rate token, `--scan-delay`, and never more than 50 ms (so that
    /// cancels and name answers are noticed). `now` right after a full batch: there is more to send.
    pub fn wake_at(&self, now: Instant) -> Instant {
        if self.sent_full_batch {
            return now;
        }
        let mut t = MAX_WAIT;
        if let Some(deadline) = self.flights.next_deadline() {
            t = t.min(deadline.saturating_duration_since(now));
        }
        if let Some(until) = self.window.backoff_until() {
            t = t.min(until.saturating_duration_since(now));
        }
        if let Some(bucket) = &self.bucket
            && self.flights.len() < self.window.size()
        {
            t = t.min(bucket.wait());
        }
        if !self.cfg.timing.scan_delay.is_zero() {
            t = t.min(self.cfg.timing.scan_delay);
        }
        now + t
    }

    /// Takes new hosts from `targets` while there is room.
    pub fn admit(&mut self, targets: &mut dyn Iterator<Item = ScanTarget>, now: Instant) {
        let group = port_group_size(self.cfg.ports.len());
        while !self.targets_done && self.active.len() < DISCOVERY_GROUP && self.flights.len() < self.window.size() {
            // Do not pile up hosts that cannot start their ports yet.
            if self.waiting.len() >= group {
                break;
            }
            let Some(target) = targets.next() else {
                self.targets_done = true;
                break;
            };
            self.stats.hosts_total += 1;
            let nports = self.cfg.ports.len() as u64;
            let order = match self.cfg.order {
                PortOrder::Random { seed } => Permutation::new(nports, host_seed(seed, target.addr)),
                PortOrder::Sequential => Permutation::identity(nports),
            };
            self.host_seq += 1;
            let mut host = HostScan::new(self.host_seq, target, order, &self.cfg.timing, now);
            let slot = match self.free_hosts.pop() {
                Some(i) => i,
                None => {
                    self.hosts.push(None);
                    self.hosts.len() - 1
                }
            };
            match &self.cfg.discovery {
                // nmap's word for every host under -Pn, its own addresses included.
                Discovery::Skip => self.host_up(slot, &mut host, Reason::UserSet),
                // The scanner itself needs no ping to be known up.
                _ if self.own.contains(host.target.addr) => self.host_up(slot, &mut host, Reason::LocalhostResponse),
                Discovery::ConnectPing { ports } => {
                    for &port in ports {
                        host.queue.push_back(NextProbe { port, try_no: 0 });
                    }
                }
            }
            let waiting = host.phase == Phase::Waiting;
            self.hosts[slot] = Some(host);
            self.active.push(slot);
            if waiting {
                self.waiting.push_back(slot);
            }
            self.promote_waiting(now);
        }
    }

    fn host_up(&mut self, slot: usize, host: &mut HostScan, reason: Reason) {
        host.state = Some((HostState::Up, reason));
        host.phase = Phase::Waiting;
        host.queue.clear();
        if self.cfg.reverse_dns {
            host.name_pending = true;
            let id = HostId { slot, seq: host.id };
            self.actions.push_back(Action::ResolveName { host: id, addr: host.target.addr });
        }
    }

    /// Moves up hosts into the port phase while the port group has room.
    fn promote_waiting(&mut self, now: Instant) {
        let group = port_group_size(self.cfg.ports.len());
        while self.in_ports_phase < group {
            let Some(slot) = self.waiting.pop_front() else { break };
            let Some(host) = self.hosts[slot].as_mut() else { continue };
            host.begin_ports();
            self.in_ports_phase += 1;
            if host.ports_finished() {
                // `-sn`: nothing to scan.
                self.enter_resolving(slot, now);
            }
        }
    }

    /// Begins a round of sending at `now`; [`Scheduler::next_open`] then hands out its probes.
    pub fn start_sending(&mut self, now: Instant) {
        let open = self.window.resume(now);
        if open {
            // (During a back-off the last round's verdict stands.)
            self.sent_full_batch = false;
        }
        self.round = Round { open, idle: 0, launched: 0 };
    }

    /// The next connection to open in this round, or `None` when the round is over: the window is
    /// full, the rate limit or `--scan-delay` says wait, a back-off began, a batch went out, or no host
    /// has anything to send. Open it, and report what happened before asking again.
    pub fn next_open(&mut self, now: Instant) -> Option<Open> {
        if !self.round.open {
            return None;
        }
        if self.window.backing_off() {
            // The machine ran out of something while opening the last one.
            self.round.open = false;
            return None;
        }
        if self.round.launched == SEND_BATCH {
            self.sent_full_batch = true;
            self.round.open = false;
            return None;
        }
        let scan_delay = self.cfg.timing.scan_delay;
        while self.flights.len() < self.window.size() && !self.active.is_empty() && self.round.idle < self.active.len()
        {
            if let Some(bucket) = &mut self.bucket
                && !bucket.try_take(now)
            {
                break;
            }
            self.cursor %= self.active.len();
            let slot = self.active[self.cursor];
            self.cursor += 1;
            let Some(host) = self.hosts[slot].as_mut() else { continue };
            if !scan_delay.is_zero() && host.last_send.is_some_and(|t| now.duration_since(t) < scan_delay) {
                self.round.idle += 1;
                continue;
            }
            let next = match host.phase {
                Phase::Discovery => host.queue.pop_front().map(|p| (p, true)),
                Phase::Ports => host.next_port_probe(self.cfg.ports.as_slice()).map(|p| (p, false)),
                Phase::Waiting | Phase::Resolving => None,
            };
            let Some((probe, ping)) = next else {
                self.round.idle += 1;
                continue;
            };
            self.round.idle = 0;
            host.last_send = Some(now);
            if probe.try_no > 0 {
                self.progress.retransmissions.fetch_add(1, Ordering::Relaxed);
            }
            self.round.launched += 1;
            return Some(self.dispatch(slot, probe, ping, None));
        }
        self.round.open = false;
        None
    }

    /// Starts a flight for `probe` of the host in `slot`.
    fn dispatch(&mut self, slot: usize, probe: NextProbe, ping: bool, guard: Option<FlightId>) -> Open {
        let host = self.hosts[slot].as_mut().expect("dispatch to a live host");
        let addr = host.target.addr;
        let flight = Flight { host: slot, host_id: host.id, probe, ping, sent: None, relaunched: guard.is_some() };
        self.progress.sent.fetch_add(1, Ordering::Relaxed);
        // A dispatched probe counts as in flight until its outcome is handled.
        host.inflight += 1;
        let flight = self.flights.insert(flight);
        Open { flight, addr, port: probe.port, try_no: probe.try_no, guard }
    }

    /// Ends a flight and returns it with its host's slot, if the flight and its host are still live
    /// (a host finished by a timeout or a cancel leaves its probes being opened behind).
    fn end_flight(&mut self, id: FlightId) -> Option<(Flight, usize)> {
        let flight = self.flights.remove(id)?;
        let host = self.hosts[flight.host].as_mut().filter(|h| h.id == flight.host_id)?;
        host.inflight -= 1;
        Some((flight, flight.host))
    }

    /// Takes in what happened.
    pub fn handle(&mut self, event: Event, now: Instant) {
        match event {
            Event::InProgress { flight: id, started } => self.in_progress(id, started, now),
            Event::Answer { flight: id, state, reason, rtt } => {
                let Some((flight, slot)) = self.end_flight(id) else { return };
                let rtt =
                    rtt.unwrap_or_else(|| flight.sent.map_or(Duration::ZERO, |s| now.saturating_duration_since(s)));
                self.answer(slot, flight.probe, flight.ping, state, reason, rtt, now);
            }
            Event::SelfConnected { flight: id } => {
                let Some((flight, slot)) = self.end_flight(id) else {
                    self.actions.push_back(Action::Close(id));
                    return;
                };
                self.self_connected(slot, id, flight, now);
            }
            Event::Exhausted { flight: id } => {
                let Some((flight, slot)) = self.end_flight(id) else { return };
                // Out of descriptors or local ports: shrink the window below what is in flight, put the
                // probe back, and pause briefly. No answer is lost; the probe is not counted as a try.
                self.progress.backoffs.fetch_add(1, Ordering::Relaxed);
                self.window.on_exhausted(self.flights.len(), now);
                self.requeue(slot, flight.probe);
            }
            Event::Unwatchable { flight: id } => {
                let Some((flight, slot)) = self.end_flight(id) else { return };
                self.trace(slot, flight.probe.port, ConnectOutcome::InProgress, now);
                // Cannot watch it: treat like resource exhaustion and retry later.
                self.window.on_unwatchable(self.flights.len(), now);
                self.requeue(slot, flight.probe);
            }
            Event::TimedOut { flight: id } => {
                let Some((flight, slot)) = self.end_flight(id) else { return };
                self.silent(slot, flight.probe, flight.ping, now);
            }
            Event::Named { host, name } => {
                let Some(h) = self.hosts[host.slot].as_mut().filter(|h| h.id == host.seq) else { return };
                h.name_pending = false;
                h.ptr_name = name;
                if h.phase == Phase::Resolving {
                    self.finish_host(host.slot, true, now);
                }
            }
        }
    }

    fn in_progress(&mut self, id: FlightId, started: Instant, now: Instant) {
        let Some(flight) = self.flights.get_mut(id) else { return };
        let (slot, host_id, port) = (flight.host, flight.host_id, flight.probe.port);
        let Some(host) = self.hosts[slot].as_ref().filter(|h| h.id == host_id) else {
            // The host was finished (interrupt, host timeout) while this probe was being opened.
            self.flights.remove(id);
            self.actions.push_back(Action::Close(id));
            return;
        };
        let deadline = started + host.rtt.timeout();
        flight.sent = Some(started);
        self.flights.arm(id, deadline);
        self.trace(slot, port, ConnectOutcome::InProgress, now);
    }

    fn requeue(&mut self, slot: usize, probe: NextProbe) {
        if let Some(host) = self.hosts[slot].as_mut() {
            host.queue.push_front(probe);
        }
    }

    /// A probe's socket connected to itself, which says nothing about the port (see the `probe` module):
    /// the same try goes out again while that socket is held, so it leaves from another source port and
    /// gets the port's real answer. Should the kernel still hand back a self-connection, the try counts
    /// as unanswered.
    fn self_connected(&mut self, slot: usize, id: FlightId, flight: Flight, now: Instant) {
        if flight.relaunched {
            self.actions.push_back(Action::Close(id));
            self.silent(slot, flight.probe, flight.ping, now);
            return;
        }
        let open = self.dispatch(slot, flight.probe, flight.ping, Some(id));
        self.actions.push_back(Action::Open(open));
    }

    fn trace(&self, slot: usize, port: u16, outcome: ConnectOutcome, now: Instant) {
        if let (Some(t), Some(host)) = (self.cfg.trace.get(), self.hosts[slot].as_ref()) {
            t.connect(&ConnectEvent { addr: host.target.addr, port, outcome }, now);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        slot: usize,
        probe: NextProbe,
        ping: bool,
        state: PortState,
        reason: Reason,
        rtt: Duration,
        now: Instant,
    ) {
        self.window.on_answer();
        self.trace(slot, probe.port, ConnectOutcome::Answer(state, reason), now);
        let Some(host) = self.hosts[slot].as_mut() else { return };
        let answered = matches!(state, PortState::Open | PortState::Closed);
        if answered {
            host.rtt.sample(rtt);
        }
        // Any answer that came back (an ICMP error too, not a timeout) shows this try got through: loss
        // on the path is real, so the silent probes deserve as many tries (as the raw engine counts).
        if reason != Reason::NoResponse {
            host.max_successful_try = host.max_successful_try.max(probe.try_no);
        }
        if ping {
            if host.phase != Phase::Discovery {
                // A late answer to a second ping of a host already found up: nothing to record, but it
                // was the last thing in flight maybe.
                return self.maybe_ports_done(slot, now);
            }
            if answered {
                let reason = if state == PortState::Open { Reason::SynAck } else { Reason::ConnRefused };
                let mut host = self.hosts[slot].take().expect("host");
                self.host_up(slot, &mut host, reason);
                self.hosts[slot] = Some(host);
                self.waiting.push_back(slot);
                self.promote_waiting(now);
            } else {
                // An ICMP error or a local "no route": remember why, in case no other ping answers.
                host.state = Some((HostState::Down, reason));
                self.maybe_host_down(slot, now);
            }
            return;
        }
        if host.phase != Phase::Ports {
            return self.maybe_ports_done(slot, now);
        }
        if state == PortState::Open {
            self.progress.open.fetch_add(1, Ordering::Relaxed);
        }
        self.progress.ports_done.fetch_add(1, Ordering::Relaxed);
        let addr = host.target.addr;
        let result = host.record(probe.port, state, reason).clone();
        self.actions.push_back(Action::Port { addr, result });
        self.maybe_ports_done(slot, now)
    }

    /// A host in the port phase with nothing left to send and nothing in flight moves on.
    fn maybe_ports_done(&mut self, slot: usize, now: Instant) {
        if self.hosts[slot].as_ref().is_some_and(|h| h.phase == Phase::Ports && h.ports_finished()) {
            self.enter_resolving(slot, now);
        }
    }

    /// Discovery found no answer on any ping port (all tries done): the host is down.
    fn maybe_host_down(&mut self, slot: usize, now: Instant) {
        let Some(host) = self.hosts[slot].as_mut() else { return };
        if host.phase != Phase::Discovery || host.inflight > 0 || !host.queue.is_empty() {
            return;
        }
        if host.state.is_none() {
            host.state = Some((HostState::Down, Reason::NoHostResponse));
        }
        self.finish_host(slot, true, now)
    }

    /// The next flight whose RTT timeout has passed at `now`, or `None`. The event loop looks at its
    /// socket once more (an answer may be in without having been read, or an ICMP error be queued) and
    /// reports the answer, a self-connection, or [`Event::TimedOut`].
    pub fn next_expired(&mut self, now: Instant) -> Option<FlightId> {
        self.flights.pop_expired(now)
    }

    /// A try that got no answer: retried while tries are left, else the port is filtered (or, for a
    /// ping, the host may be down).
    fn silent(&mut self, slot: usize, probe: NextProbe, ping: bool, now: Instant) {
        let max_retries = self.cfg.timing.max_retries;
        let Some(host) = self.hosts[slot].as_mut() else { return };
        if ping && host.phase != Phase::Discovery {
            // The host answered another ping meanwhile: this one needs no retry.
            return self.maybe_ports_done(slot, now);
        }
        let next_try = probe.try_no + 1;
        if next_try < host.tries_allowed(max_retries) {
            host.queue.push_back(NextProbe { port: probe.port, try_no: next_try });
            return;
        }
        if ping {
            self.maybe_host_down(slot, now)
        } else {
            self.answer(slot, probe, false, PortState::Filtered, Reason::NoResponse, Duration::ZERO, now)
        }
    }

    /// Host timeouts (`--host-timeout`) and the deadlines of name lookups, at `now`.
    pub fn check_hosts(&mut self, now: Instant) {
        let host_timeout = self.cfg.timing.host_timeout;
        let mut i = 0;
        while i < self.active.len() {
            let slot = self.active[i];
            let Some(host) = self.hosts[slot].as_mut() else {
                i += 1;
                continue;
            };
            if host.phase == Phase::Resolving {
                if !host.name_pending || host.resolve_deadline.is_some_and(|d| now >= d) {
                    self.finish_host(slot, true, now);
                    continue;
                }
            } else if host_timeout.is_some_and(|t| now.duration_since(host.started) >= t) {
                host.timed_out = true;
                self.abandon_flights(slot);
                self.finish_host(slot, false, now);
                continue;
            }
            i += 1;
        }
    }

    fn enter_resolving(&mut self, slot: usize, now: Instant) {
        let Some(host) = self.hosts[slot].as_mut() else { return };
        host.phase = Phase::Resolving;
        host.resolve_deadline = Some(now + PTR_GRACE);
        if !host.name_pending {
            self.finish_host(slot, true, now);
        }
    }

    /// Ends the host's flights that are under way and closes their sockets. Those still being opened end
    /// when their outcome comes in.
    fn abandon_flights(&mut self, slot: usize) {
        for id in self.flights.under_way_of(slot) {
            self.end_flight(id);
            self.actions.push_back(Action::Close(id));
        }
    }

    /// Reports a host and frees its slot.
    fn finish_host(&mut self, slot: usize, complete: bool, now: Instant) {
        // No flight may outlive its host: the slot is reused by the next host.
        if self.hosts[slot].as_ref().is_some_and(|h| h.inflight > 0) {
            self.abandon_flights(slot);
        }
        if let Some(pos) = self.active.iter().position(|&s| s == slot) {
            self.active.remove(pos);
        }
        self.waiting.retain(|&s| s != slot);
        let Some(host) = self.hosts[slot].take() else { return };
        self.free_hosts.push(slot);
        if matches!(host.phase, Phase::Ports | Phase::Resolving) {
            self.in_ports_phase -= 1;
        }
        let complete = complete && host.unsent() == 0 && host.queue.is_empty();
        let nports = self.cfg.ports.len() as u64;
        let id = HostId { slot, seq: host.id };
        let report = host.into_report(complete, &self.wall, now);
        match report.state {
            HostState::Up => self.stats.hosts_up += 1,
            HostState::Down | HostState::Unknown => {
                self.stats.hosts_down += 1;
                self.progress.ports_done.fetch_add(nports, Ordering::Relaxed);
            }
        }
        self.progress.hosts_done.fetch_add(1, Ordering::Relaxed);
        self.actions.push_back(Action::HostDone { host: id, report: Box::new(report) });
        self.promote_waiting(now)
    }

    /// The run was cancelled at `now`: every flight under way is closed, and every host past discovery
    /// is reported, marked incomplete (those still in discovery have no answer yet: nothing to say).
    pub fn interrupt(&mut self, now: Instant) {
        self.stats.interrupted = true;
        for id in self.flights.all_under_way() {
            self.end_flight(id);
            self.actions.push_back(Action::Close(id));
        }
        while let Some(&slot) = self.active.first() {
            let in_discovery = self.hosts[slot].as_ref().is_some_and(|h| h.phase == Phase::Discovery);
            if in_discovery {
                self.hosts[slot] = None;
                self.active.remove(0);
                continue;
            }
            self.finish_host(slot, false, now);
        }
    }
}

/// A per-host seed, so hosts do not share one port order yet `--seed` reproduces every order.
fn host_seed(seed: u64, addr: IpAddr) -> u64 {
    let bits = match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    seed ^ (bits as u64) ^ ((bits >> 64) as u64).rotate_left(17)
}

#[cfg(test)]
mod tests;
