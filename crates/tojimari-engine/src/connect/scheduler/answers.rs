//! The scheduler's answers: what each event about a flight means for its port, its host, the retries
//! and the window.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tojimari_core::report::HostState;
use tojimari_core::{PortState, Reason};

use super::Scheduler;
use crate::connect::event::{Action, Event};
use crate::connect::flights::{Flight, FlightId};
use crate::connect::host::{NextProbe, Phase};
use crate::trace::{ConnectEvent, ConnectOutcome};

impl Scheduler<'_> {
    /// Ends a flight and returns it with its host's slot, if the flight and its host are still live
    /// (a host finished by a timeout or a cancel leaves its probes being opened behind).
    pub(super) fn end_flight(&mut self, id: FlightId) -> Option<(Flight, usize)> {
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
}
