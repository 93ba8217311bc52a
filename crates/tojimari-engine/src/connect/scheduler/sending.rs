//! The scheduler's sending round: which host and port go next, within the window, the rate limit
//! (`--max-rate`), `--scan-delay` and a batch, and until when the event loop may sleep.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{MAX_WAIT, SEND_BATCH, Scheduler};
use crate::connect::event::Open;
use crate::connect::flights::{Flight, FlightId};
use crate::connect::host::{NextProbe, Phase};

/// Where a round of sending stands (see [`Scheduler::start_sending`]).
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct Round {
    /// Sending may go on in this round.
    open: bool,
    idle: usize,
    launched: usize,
}

impl Scheduler<'_> {
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
    pub(super) fn dispatch(&mut self, slot: usize, probe: NextProbe, ping: bool, guard: Option<FlightId>) -> Open {
        let host = self.hosts[slot].as_mut().expect("dispatch to a live host");
        let addr = host.target.addr;
        let flight = Flight { host: slot, host_id: host.id, probe, ping, sent: None, relaunched: guard.is_some() };
        self.progress.sent.fetch_add(1, Ordering::Relaxed);
        // A dispatched probe counts as in flight until its outcome is handled.
        host.inflight += 1;
        let flight = self.flights.insert(flight);
        Open { flight, addr, port: probe.port, try_no: probe.try_no, guard }
    }
}
