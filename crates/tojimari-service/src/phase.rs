//! Which probes a TCP detection phase sends, how many at once, and when it stops: a state machine over what
//! each probe brought back, with no socket and no clock of its own ([`crate::tcp`] is its adapter).
//!
//! A phase (plain, or inside TLS) runs the probes `ProbeDb::select` orders (the NULL probe, then those
//! listing the port, then the rest by rarity up to `--version-intensity`), each on its own connection, at
//! most `max_port_connections` at once. The first hard match ends the phase; a soft match narrows the
//! remaining probes to that service and gives them a bounded time. A TLS answer (a TLS record, or an `ssl`
//! match) ends the plain phase, and [`after_plain`] then asks for the TLS phase. While every answer is
//! silence, the phase goes [`Pace::Serial`]: a server that serves one connection at a time never saw the
//! probes it was sent in parallel. A refused connection, three failed connects without any answer, or
//! three answers that all say "closed at once, no data" (tcpwrapped) end the phase too.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use tojimari_probedb::{Match, ProbeDb, ProbeId, Transport};
use tojimari_tls::TlsFacts;

use crate::exchange::{Ending, Reply};
use crate::options::IdentifyOptions;

/// When a probe has no `tcpwrapped` value: closing this soon without data counts as wrapped.
const DEFAULT_WRAPPED: Duration = Duration::from_secs(2);
/// A phase gives up after this many failed connects (or handshakes) without any success.
const MAX_DIAL_FAILURES: usize = 3;
/// After a soft match, the phase goes on for at most this many probe waits (one when serial).
const SOFT_MATCH_BUDGET_WAITS: u32 = 2;
/// Replies that all say "closed at once, no data" before a phase stops as tcpwrapped.
const WRAPPED_EVIDENCE: usize = 3;

/// How many probes of a port run at once.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Up to `max_port_connections`.
    #[default]
    Parallel,
    /// One at a time: the server seems to serve one connection at a time (`openssl s_server`, simple
    /// single-threaded daemons), so parallel probes would only wait in its accept queue while the NULL
    /// probe holds it.
    Serial,
}

/// One probe's fate, as the adapter saw it.
pub(crate) enum Outcome {
    /// Connected (and, inside TLS, handshaken), sent the probe and read the answer.
    Talked(Box<(Reply, Option<TlsFacts>)>),
    /// Connection refused: nothing listens.
    Refused,
    /// The connect or the handshake failed otherwise.
    Failed,
}

/// What the adapter does next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Start this probe on its own connection (then ask again).
    Probe(ProbeId),
    /// Wait for a running probe's outcome until `until`; past it, call [`PhasePolicy::expired`].
    Await { until: Instant },
    /// The phase is over: take it with [`PhasePolicy::finish`].
    Done,
}

/// What one phase (plain or inside TLS) saw.
#[derive(Debug, Default)]
pub(crate) struct Phase {
    pub replies: Vec<Reply>,
    /// Index in `replies` of the hard match that ended the phase.
    pub hard: Option<usize>,
    /// Index in `replies` of the first soft match.
    pub soft: Option<usize>,
    /// A plaintext probe got a TLS answer.
    pub tls_seen: bool,
    /// Facts of the first handshake that succeeded (TLS phase).
    pub facts: Option<TlsFacts>,
    /// The pace the phase ended with (the TLS phase starts where the plain one ended).
    pub pace: Pace,
}

impl Phase {
    /// The match that names the service: the hard one, else the first soft one.
    pub(crate) fn decisive(&self) -> Option<&Match> {
        self.hard.or(self.soft).and_then(|i| self.replies[i].matched.as_ref())
    }

    /// The server accepted and hung up at once, saying nothing, on the NULL probe and every other probe.
    pub(crate) fn wrapped(&self, db: &ProbeDb) -> bool {
        let quick_empty_close = |r: &Reply| {
            let limit = db.probe(r.probe).tcpwrapped.unwrap_or(DEFAULT_WRAPPED);
            r.bytes.is_empty() && r.ending.hung_up() && r.elapsed <= limit
        };
        let null_wrapped = self.replies.iter().any(|r| db.probe(r.probe).payload.is_empty() && quick_empty_close(r));
        null_wrapped && self.replies.iter().all(|r| r.bytes.is_empty())
    }

    fn wrapped_evidence(&self, db: &ProbeDb) -> bool {
        self.replies.len() >= WRAPPED_EVIDENCE && self.wrapped(db)
    }
}

/// What follows the plain phase.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum AfterPlain {
    /// No TLS anywhere: the plain phase names the service.
    Name,
    /// The service speaks TLS: probe again inside it, at this pace.
    Tunnel(Pace),
}

/// Decides what follows the plain phase (`None` when a TLS handshake won the race against it), given
/// whether a handshake racing it succeeded.
pub(crate) fn after_plain(plain: Option<&Phase>, handshake_succeeded: bool) -> AfterPlain {
    let plain_saw_tls = plain.is_some_and(|p| p.tls_seen);
    if !handshake_succeeded && !plain_saw_tls {
        AfterPlain::Name
    } else {
        AfterPlain::Tunnel(plain.map_or(Pace::Parallel, |p| p.pace))
    }
}

/// Whether a TLS handshake races the plain phase: some probe lists `port` among its TLS ports.
pub(crate) fn races_tls(db: &ProbeDb, port: u16) -> bool {
    db.probes()
        .iter()
        .any(|p| p.transport == Transport::Tcp && p.sslports.iter().any(|&(lo, hi)| (lo..=hi).contains(&port)))
}

/// The decisions of one phase.
pub(crate) struct PhasePolicy {
    db: &'static ProbeDb,
    port: u16,
    tls: bool,
    intensity: u8,
    max_port_connections: usize,
    probe_wait_cap: Duration,
    deadline: Instant,
    queue: VecDeque<ProbeId>,
    started: HashSet<ProbeId>,
    /// Probes sent while the pace was parallel: the ones a serial server may not have seen.
    in_parallel: HashSet<ProbeId>,
    in_flight: usize,
    dial_failures: usize,
    /// The probes that can name TLS, once asked for.
    tls_naming: Option<Vec<ProbeId>>,
    done: bool,
    phase: Phase,
}

impl PhasePolicy {
    /// A phase on `port` (inside TLS when `tls`), starting at `pace`, over by `deadline`.
    pub(crate) fn new(opts: &IdentifyOptions, port: u16, tls: bool, pace: Pace, deadline: Instant) -> Self {
        let db = opts.db;
        let mut queue: VecDeque<ProbeId> = db.select(Transport::Tcp, port, opts.intensity, tls, None).into();
        if pace == Pace::Serial || tls {
            // One at a time, a silent NULL probe would cost a whole wait before anything else is tried; the
            // plain phase already waited for a banner. Inside TLS the NULL probe goes last as well: a service
            // that greets first (IMAPS, SMTPS) greets every probe's connection, and the NULL probe's matches
            // are tried on every answer; a server that serves one TLS connection at a time (`openssl
            // s_server`) would otherwise sit on the silent NULL connection while the others queue.
            let (null, mut rest): (VecDeque<ProbeId>, VecDeque<ProbeId>) =
                queue.into_iter().partition(|&id| db.probe(id).payload.is_empty());
            rest.extend(null);
            queue = rest;
        }
        PhasePolicy {
            db,
            port,
            tls,
            intensity: opts.intensity,
            max_port_connections: opts.max_port_connections,
            probe_wait_cap: opts.probe_wait_cap,
            deadline,
            queue,
            started: HashSet::new(),
            in_parallel: HashSet::new(),
            in_flight: 0,
            dial_failures: 0,
            tls_naming: None,
            done: false,
            phase: Phase { pace, ..Phase::default() },
        }
    }

    /// The next thing to do: start a probe while there is room, else wait, else stop.
    pub(crate) fn next(&mut self) -> Step {
        if self.done {
            return Step::Done;
        }
        let limit = if self.phase.pace == Pace::Serial { 1 } else { self.max_port_connections };
        while self.in_flight < limit {
            let Some(id) = self.queue.pop_front() else { break };
            if self.started.insert(id) {
                if self.phase.pace == Pace::Parallel {
                    self.in_parallel.insert(id);
                }
                self.in_flight += 1;
                return Step::Probe(id);
            }
        }
        if self.in_flight == 0 {
            self.done = true;
            return Step::Done;
        }
        Step::Await { until: self.deadline }
    }

    /// The phase's time is up with probes still running.
    pub(crate) fn expired(&mut self) {
        self.done = true;
    }

    /// A running probe ended without an outcome (its task failed).
    pub(crate) fn lost(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// A running probe's outcome, at `now`.
    pub(crate) fn outcome(&mut self, now: Instant, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let (reply, facts) = match outcome {
            Outcome::Refused => {
                self.done = true;
                return;
            }
            Outcome::Failed => {
                self.dial_failures += 1;
                if self.dial_failures >= MAX_DIAL_FAILURES && self.phase.replies.is_empty() {
                    self.done = true;
                }
                return;
            }
            Outcome::Talked(talked) => *talked,
        };
        self.talked(now, reply, facts);
    }

    fn talked(&mut self, now: Instant, reply: Reply, facts: Option<TlsFacts>) {
        let db = self.db;
        let phase = &mut self.phase;
        if phase.facts.is_none() {
            phase.facts = facts;
        }
        let silent = |r: &Reply| r.bytes.is_empty() && r.ending == Ending::TimedOut;
        // Only silence so far (a probe the server hung up on without a byte, as a TLS server does to
        // plaintext, says nothing either): the server may be serving one connection at a time.
        if silent(&reply)
            && phase.replies.iter().all(|r| r.bytes.is_empty())
            && !db.probe(reply.probe).payload.is_empty()
            && self.in_parallel.remove(&reply.probe)
        {
            phase.pace = Pace::Serial;
            self.started.remove(&reply.probe);
            self.queue.push_front(reply.probe);
            // One at a time, each silent probe costs a whole wait: try first the probes that can name TLS.
            // A TLS server is the usual reason for silence to plaintext (it waits for a ClientHello), and
            // single-connection servers are mostly TLS test servers (`openssl s_server`).
            let port = self.port;
            let tls_probes =
                self.tls_naming.get_or_insert_with(|| db.select(Transport::Tcp, port, 9, false, Some("ssl")));
            let (first, rest): (VecDeque<ProbeId>, VecDeque<ProbeId>) =
                self.queue.drain(..).partition(|id| tls_probes.contains(id));
            self.queue = first;
            self.queue.extend(rest);
        }
        let is_ssl = reply.matched.as_ref().is_some_and(|m| m.service == "ssl");
        if !self.tls && (is_ssl || tojimari_tls::looks_like_tls(&reply.bytes)) {
            phase.tls_seen = true;
            if is_ssl {
                phase.hard = Some(phase.replies.len());
            }
            phase.replies.push(reply);
            self.done = true;
            return;
        }
        let index = phase.replies.len();
        match &reply.matched {
            Some(m) if !m.soft => {
                phase.hard = Some(index);
                phase.replies.push(reply);
                self.done = true;
                return;
            }
            Some(m) if phase.soft.is_none() => {
                phase.soft = Some(index);
                // The service is known; give the narrowed probes a bounded time to name the product.
                let waits = if phase.pace == Pace::Serial { 1 } else { SOFT_MATCH_BUDGET_WAITS };
                self.deadline = self.deadline.min(now + waits * self.probe_wait_cap);
                let started = &self.started;
                self.queue = db
                    .select(Transport::Tcp, self.port, self.intensity, self.tls, Some(&m.service))
                    .into_iter()
                    .filter(|id| !started.contains(id))
                    .collect();
            }
            _ => {}
        }
        phase.replies.push(reply);
        if phase.wrapped_evidence(db) {
            self.done = true;
        }
    }

    /// What the phase saw.
    pub(crate) fn finish(self) -> Phase {
        self.phase
    }
}

#[cfg(test)]
mod tests;
