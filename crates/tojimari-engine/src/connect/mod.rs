//! The TCP connect scan (`-sT`) and TCP connect host discovery, on one non-blocking event loop.
//!
//! Every probe is a non-blocking `connect(2)`; the operating system does the handshake, so no privilege
//! is needed. The loop keeps up to a window of probes in flight across a group of hosts, visits each host's
//! ports in a seeded permutation, retries silent ports (adaptively, as nmap does), and hands every final
//! answer to the [`Sink`] as it comes. Running out of descriptors or local ports is not fatal: the window
//! shrinks and the probe is tried again later. A probe whose socket connected to itself (a port of this
//! host's own address that the kernel also picked as the source port) is no answer: it is sent again
//! while that socket is held (see the `probe` module). This host's own addresses are up without a ping.

mod host;
mod launcher;
mod probe;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use socket2::Socket;
use tojimari_core::permutation::Permutation;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::HostState;
use tojimari_core::timing::Timing;
use tojimari_core::{PortState, Reason, Sink};

pub use host::ScanTarget;
use host::{HostScan, NextProbe, Phase};
pub use probe::classify;

use crate::control::Control;
use crate::own::OwnAddrs;
use crate::rate::TokenBucket;
use crate::sys;
use crate::trace::{ConnectEvent, ConnectOutcome};

/// In which order a host's ports are probed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PortOrder {
    /// A seeded permutation (the default; `--seed` reproduces it).
    Random { seed: u64 },
    /// Ascending (`-r`).
    Sequential,
}

/// How hosts are found to be up before their ports are scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discovery {
    /// `-Pn`: every host is taken as up.
    Skip,
    /// A connect to each of these ports; any answer (accept or refusal) means up.
    ConnectPing { ports: Vec<u16> },
}

/// Everything the connect engine needs to know. Build it, then call [`ConnectScan::run`].
#[derive(Clone, Debug)]
pub struct ConnectScan {
    /// Ports to scan on each host; empty for `-sn`.
    pub ports: PortSet,
    pub timing: Timing,
    pub order: PortOrder,
    pub discovery: Discovery,
    /// Sockets that may be open at once (from the descriptor budget).
    pub max_sockets: usize,
    /// Look up PTR names of hosts that are up.
    pub reverse_dns: bool,
    /// `-e`: bind every probe socket to this interface (SO_BINDTODEVICE).
    pub interface: Option<String>,
    /// `--packet-trace`: hears each probe's launch and answer.
    pub trace: crate::trace::Tracer,
}

/// Counts of a finished run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub hosts_total: u64,
    /// True when the run was cancelled before every host was done.
    pub interrupted: bool,
}

/// Engine failures. Port answers are never errors; these are the tool failing.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The event loop could not be created or polled.
    #[error("event loop failed: {0}")]
    Poll(#[source] io::Error),
    /// An output sink failed to write (disk full, closed pipe...). What was written so far stays valid.
    #[error("writing results failed: {0}")]
    Output(#[source] io::Error),
    /// The raw-packet layer failed (no permission, no interface, a socket error).
    #[error("{0}")]
    Net(String),
}

/// A probe in flight.
#[derive(Debug)]
struct Flight {
    socket: Socket,
    host: usize,
    probe: NextProbe,
    ping: bool,
    sent: Instant,
    generation: u32,
    /// Sent again after the try's first socket connected to itself.
    relaunched: bool,
}

/// Hosts whose ports are scanned at once, so that memory stays flat in the number of targets:
/// about a million port results in memory at most, and at most 256 hosts.
fn port_group_size(nports: usize) -> usize {
    (1_000_000 / nports.max(1)).clamp(1, 256)
}

/// Probes in flight by default (the descriptor budget may allow fewer).
const DEFAULT_WINDOW: usize = 2048;
/// The event loop's token for "worker outcomes are waiting".
const WAKER: Token = Token(usize::MAX);
/// Connect workers at most (more cores than this only add contention on one target).
const MAX_WORKERS: usize = 4;
/// Probes launched between two looks at completions.
const SEND_BATCH: usize = 64;
/// Hosts in discovery at once.
const DISCOVERY_GROUP: usize = 1024;
/// How long to wait for a PTR answer after a host's ports are done.
const PTR_GRACE: Duration = Duration::from_millis(1500);
/// Reverse lookups running at once; beyond it, hosts go without a PTR name rather than wait.
const MAX_PTR_LOOKUPS: usize = 64;

impl ConnectScan {
    /// Scans every target, feeding `sink`. Returns when all are done or `control` is cancelled;
    /// hosts cut short by a cancel are still reported, marked incomplete.
    pub fn run(
        &self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        control: &Control,
    ) -> Result<RunStats, EngineError> {
        let mut run = Run::new(self, control)?;
        run.drive(targets, sink)
    }
}

struct Run<'a> {
    cfg: &'a ConnectScan,
    control: &'a Control,
    poll: Poll,
    hosts: Vec<Option<HostScan>>,
    free_hosts: Vec<usize>,
    /// Host slots in admission order, for round-robin sending.
    active: Vec<usize>,
    cursor: usize,
    waiting: VecDeque<usize>,
    flights: Vec<Option<Flight>>,
    free_flights: Vec<usize>,
    generation: u32,
    timers: BinaryHeap<Reverse<(Instant, usize, u32)>>,
    inflight: usize,
    window: usize,
    /// The window the run starts with and grows back to after a back-off.
    max_window: usize,
    backoff_until: Option<Instant>,
    bucket: Option<TokenBucket>,
    in_ports_phase: usize,
    ptr_lookups: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    host_seq: u64,
    /// `-e`: the interface name probe sockets are bound to.
    device: Option<std::sync::Arc<str>>,
    /// Worker threads for `connect` calls; `None` runs them inline (one core, or a slow, serial scan).
    pool: Option<launcher::Pool>,
    /// The last `send` stopped at [`SEND_BATCH`] with room for more.
    sent_full_batch: bool,
    stats: RunStats,
    targets_done: bool,
    /// This host's addresses: up without a ping.
    own: OwnAddrs,
}

impl<'a> Run<'a> {
    fn new(cfg: &'a ConnectScan, control: &'a Control) -> Result<Self, EngineError> {
        let poll = Poll::new().map_err(EngineError::Poll)?;
        // The descriptor budget caps the default window. An explicit --max-parallelism is taken as
        // asked: if it exceeds the descriptors, EMFILE back-off finds the real limit as the scan runs.
        let window = match cfg.timing.max_parallelism {
            Some(n) => n.max(1),
            None if cfg.timing.min_rate.is_some() => cfg.max_sockets,
            None => DEFAULT_WINDOW.min(cfg.max_sockets),
        }
        .max(1);
        let bucket = cfg.timing.max_rate.map(|r| TokenBucket::new(r, Instant::now()));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Serial scans (T0-T2, --scan-delay) gain nothing from workers; a single core neither.
        let pool = if cores >= 2 && window >= 8 && cfg.timing.scan_delay.is_zero() {
            let waker = std::sync::Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(EngineError::Poll)?);
            let wake: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(move || {
                let _ = waker.wake();
            });
            Some(launcher::Pool::start(cores.min(MAX_WORKERS), wake).map_err(EngineError::Poll)?)
        } else {
            None
        };
        Ok(Run {
            cfg,
            control,
            poll,
            hosts: Vec::new(),
            free_hosts: Vec::new(),
            active: Vec::new(),
            cursor: 0,
            waiting: VecDeque::new(),
            flights: Vec::new(),
            free_flights: Vec::new(),
            generation: 0,
            timers: BinaryHeap::new(),
            inflight: 0,
            window,
            max_window: window,
            backoff_until: None,
            bucket,
            in_ports_phase: 0,
            ptr_lookups: Default::default(),
            host_seq: 0,
            sent_full_batch: false,
            pool,
            device: cfg.interface.as_deref().map(std::sync::Arc::from),
            stats: RunStats::default(),
            targets_done: false,
            own: OwnAddrs::of_this_host(),
        })
    }

    fn drive(
        &mut self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
    ) -> Result<RunStats, EngineError> {
        let mut events = Events::with_capacity(1024);
        loop {
            if self.control.is_cancelled() {
                self.stats.interrupted = true;
                self.finish_all_interrupted(sink)?;
                return Ok(self.stats);
            }
            let now = Instant::now();
            self.admit(targets, sink, now)?;
            self.expire_timers(sink, now)?;
            self.check_hosts(sink, now)?;
            self.send(sink, now)?;
            if self.targets_done && self.active.is_empty() {
                return Ok(self.stats);
            }
            // More to send right now: only collect what has completed, then go on sending, so that round
            // trips are timed when they end, not after a long burst of launches.
            let timeout = if self.sent_full_batch { Duration::ZERO } else { self.poll_timeout(Instant::now()) };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(EngineError::Poll(e)),
            }
            let now = Instant::now();
            for event in events.iter() {
                if event.token() != WAKER {
                    self.complete(event.token(), sink, now)?;
                }
            }
            self.collect_outcomes(sink)?;
        }
    }

    /// How long the loop may sleep: until the next timer, capped so that cancels, PTR answers and
    /// back-offs are noticed quickly.
    fn poll_timeout(&self, now: Instant) -> Duration {
        let mut t = Duration::from_millis(50);
        if let Some(Reverse((deadline, _, _))) = self.timers.peek() {
            t = t.min(deadline.saturating_duration_since(now));
        }
        if let Some(until) = self.backoff_until {
            t = t.min(until.saturating_duration_since(now));
        }
        if let Some(bucket) = &self.bucket
            && self.inflight < self.window
        {
            t = t.min(bucket.wait());
        }
        if !self.cfg.timing.scan_delay.is_zero() {
            t = t.min(self.cfg.timing.scan_delay);
        }
        t
    }

    /// Takes new hosts from the target iterator while there is room.
    fn admit(
        &mut self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        now: Instant,
    ) -> Result<(), EngineError> {
        while !self.targets_done && self.active.len() < DISCOVERY_GROUP && self.inflight < self.window {
            // Do not pile up hosts that cannot start their ports yet.
            if self.waiting.len() >= port_group_size(self.cfg.ports.len()) {
                break;
            }
            let Some(target) = targets.next() else {
                self.targets_done = true;
                break;
            };
            self.stats.hosts_total += 1;
            let order = match self.cfg.order {
                PortOrder::Random { seed } => {
                    Permutation::new(self.cfg.ports.len() as u64, host_seed(seed, target.addr))
                }
                PortOrder::Sequential => Permutation::identity(self.cfg.ports.len() as u64),
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
                Discovery::Skip => self.host_up(&mut host, Reason::UserSet),
                // The scanner itself needs no ping to be known up.
                _ if self.own.contains(host.target.addr) => self.host_up(&mut host, Reason::LocalhostResponse),
                Discovery::ConnectPing { ports } => {
                    for &port in ports {
                        host.queue.push_back(NextProbe { port, try_no: 0 });
                    }
                }
            }
            self.hosts[slot] = Some(host);
            self.active.push(slot);
            if self.hosts[slot].as_ref().is_some_and(|h| h.phase == Phase::Waiting) {
                self.waiting.push_back(slot);
            }
            self.promote_waiting(sink, now)?;
        }
        Ok(())
    }

    fn host_up(&mut self, host: &mut HostScan, reason: Reason) {
        host.state = Some((HostState::Up, reason));
        host.phase = Phase::Waiting;
        host.queue.clear();
        if self.cfg.reverse_dns && self.ptr_lookups.load(Ordering::Relaxed) < MAX_PTR_LOOKUPS {
            let (tx, rx) = mpsc::channel();
            let addr = host.target.addr;
            let counter = self.ptr_lookups.clone();
            counter.fetch_add(1, Ordering::Relaxed);
            let spawned = std::thread::Builder::new().name("ptr".into()).spawn(move || {
                let _ = tx.send(sys::reverse_lookup(addr));
                counter.fetch_sub(1, Ordering::Relaxed);
            });
            if spawned.is_ok() {
                host.ptr = Some(rx);
            } else {
                self.ptr_lookups.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Moves up hosts into the port phase while the port group has room.
    fn promote_waiting(&mut self, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        let group = port_group_size(self.cfg.ports.len());
        while self.in_ports_phase < group {
            let Some(slot) = self.waiting.pop_front() else { break };
            let host = self.hosts[slot].as_mut().expect("waiting host exists");
            host.begin_ports();
            self.in_ports_phase += 1;
            if host.ports_finished() {
                // `-sn`: nothing to scan.
                self.enter_resolving(slot, sink, now)?;
            }
        }
        Ok(())
    }

    fn send(&mut self, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        if self.backoff_until.is_some_and(|t| now < t) {
            return Ok(());
        }
        self.backoff_until = None;
        let ports = self.cfg.ports.as_slice();
        let scan_delay = self.cfg.timing.scan_delay;
        let mut idle_rounds = 0;
        let mut launched = 0;
        self.sent_full_batch = false;
        while self.inflight < self.window && !self.active.is_empty() && idle_rounds < self.active.len() {
            if let Some(bucket) = &mut self.bucket
                && !bucket.try_take(now)
            {
                break;
            }
            self.cursor %= self.active.len();
            let slot = self.active[self.cursor];
            self.cursor += 1;
            let host = self.hosts[slot].as_mut().expect("active host exists");
            if !scan_delay.is_zero() && host.last_send.is_some_and(|t| now.duration_since(t) < scan_delay) {
                idle_rounds += 1;
                continue;
            }
            let next = match host.phase {
                Phase::Discovery => host.queue.pop_front().map(|p| (p, true)),
                Phase::Ports => host.next_port_probe(ports).map(|p| (p, false)),
                Phase::Waiting | Phase::Resolving => None,
            };
            let Some((probe, ping)) = next else {
                idle_rounds += 1;
                continue;
            };
            idle_rounds = 0;
            host.last_send = Some(now);
            self.launch(slot, probe, ping, sink)?;
            if self.backoff_until.is_some() {
                break;
            }
            launched += 1;
            if launched == SEND_BATCH {
                self.sent_full_batch = true;
                break;
            }
        }
        Ok(())
    }

    /// Sends one probe: on a worker when there is a pool, else right here.
    fn launch(&mut self, slot: usize, probe: NextProbe, ping: bool, sink: &mut dyn Sink) -> Result<(), EngineError> {
        if probe.try_no > 0 {
            self.control.progress.retransmissions.fetch_add(1, Ordering::Relaxed);
        }
        self.dispatch(slot, probe, ping, None, sink)
    }

    /// A probe's socket connected to itself, which says nothing about the port (see [`probe`]): the same
    /// try goes out again while `guard`, that socket, is held, so it leaves from another source port and
    /// gets the port's real answer. Should the kernel still hand back a self-connection, the try counts as
    /// unanswered.
    fn self_connected(
        &mut self,
        slot: usize,
        probe: NextProbe,
        ping: bool,
        guard: Socket,
        relaunched: bool,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        if relaunched {
            drop(guard);
            return self.silent(slot, probe, ping, sink, Instant::now());
        }
        self.dispatch(slot, probe, ping, Some(guard), sink)
    }

    /// [`Run::self_connected`] for a probe that was in flight (already taken out of the flights).
    fn flight_self_connected(&mut self, flight: Flight, sink: &mut dyn Sink) -> Result<(), EngineError> {
        // The socket lives on as the guard of the next try: take it out of the event loop first, so its
        // readiness can never be read as that of the flight that reuses its token.
        let _ = self.poll.registry().deregister(&mut SourceFd(&flight.socket.as_raw_fd()));
        let Flight { socket, host, probe, ping, relaunched, .. } = flight;
        self.self_connected(host, probe, ping, socket, relaunched, sink)
    }

    /// Hands a probe to a worker when there is a pool, else launches it right here.
    fn dispatch(
        &mut self,
        slot: usize,
        probe: NextProbe,
        ping: bool,
        guard: Option<Socket>,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        let host = self.hosts[slot].as_mut().expect("host");
        let req = launcher::Request {
            slot,
            host_id: host.id,
            probe,
            ping,
            addr: host.target.addr,
            device: self.device.clone(),
            relaunched: guard.is_some(),
            guard,
        };
        self.control.progress.sent.fetch_add(1, Ordering::Relaxed);
        // A dispatched probe counts as in flight until its outcome is handled.
        host.inflight += 1;
        self.inflight += 1;
        match &self.pool {
            Some(pool) => {
                pool.submit(req);
                Ok(())
            }
            None => self.handle_outcome(launcher::launch_now(req), sink),
        }
    }

    fn collect_outcomes(&mut self, sink: &mut dyn Sink) -> Result<(), EngineError> {
        let Some(pool) = &self.pool else { return Ok(()) };
        for outcome in pool.drain() {
            self.handle_outcome(outcome, sink)?;
        }
        Ok(())
    }

    /// What the kernel said to a launch: an answer at once, a connect under way, or no room here.
    fn handle_outcome(&mut self, outcome: launcher::Outcome, sink: &mut dyn Sink) -> Result<(), EngineError> {
        let launcher::Outcome { req, started, elapsed, launch } = outcome;
        self.inflight -= 1;
        let slot = req.slot;
        match self.hosts[slot].as_mut() {
            Some(host) if host.id == req.host_id => host.inflight -= 1,
            // The host was finished (interrupt, host timeout) while this probe was out: drop it.
            _ => return Ok(()),
        }
        let (probe, ping, relaunched) = (req.probe, req.ping, req.relaunched);
        let now = Instant::now();
        if let (Some(t), probe::Launch::Pending(_)) = (self.cfg.trace.get(), &launch) {
            let event = ConnectEvent { addr: req.addr, port: probe.port, outcome: ConnectOutcome::InProgress };
            t.connect(&event, now);
        }
        match launch {
            probe::Launch::Done(state, reason) => self.answer(slot, probe, ping, state, reason, elapsed, sink, now),
            probe::Launch::SelfConnected(guard) => self.self_connected(slot, probe, ping, guard, relaunched, sink),
            probe::Launch::Exhausted => {
                // Out of descriptors or local ports: shrink the window below what is in flight, put the
                // probe back, and pause briefly. No answer is lost; the probe is not counted as a try.
                self.control.progress.backoffs.fetch_add(1, Ordering::Relaxed);
                // What was in flight is what this machine holds: grow back towards that, not beyond.
                self.max_window = self.max_window.min(self.inflight.max(1));
                self.window = (self.inflight * 3 / 4).max(1);
                self.backoff_until = Some(now + Duration::from_millis(10));
                let host = self.hosts[slot].as_mut().expect("host");
                host.queue.push_front(probe);
                Ok(())
            }
            probe::Launch::Pending(socket) => {
                let idx = match self.free_flights.pop() {
                    Some(i) => i,
                    None => {
                        self.flights.push(None);
                        self.flights.len() - 1
                    }
                };
                self.generation = self.generation.wrapping_add(1);
                let generation = self.generation;
                let fd = socket.as_raw_fd();
                // Registering a socket that is already ready reports it at once (epoll checks on insert).
                if self.poll.registry().register(&mut SourceFd(&fd), Token(idx), Interest::WRITABLE).is_err() {
                    // Cannot watch it: treat like resource exhaustion and retry later.
                    self.free_flights.push(idx);
                    drop(socket);
                    self.window = (self.inflight * 3 / 4).max(1);
                    self.backoff_until = Some(now + Duration::from_millis(10));
                    let host = self.hosts[slot].as_mut().expect("host");
                    host.queue.push_front(probe);
                    return Ok(());
                }
                let host = self.hosts[slot].as_mut().expect("host");
                host.inflight += 1;
                let deadline = started + host.rtt.timeout();
                self.flights[idx] =
                    Some(Flight { socket, host: slot, probe, ping, sent: started, generation, relaunched });
                self.timers.push(Reverse((deadline, idx, generation)));
                self.inflight += 1;
                Ok(())
            }
        }
    }

    fn take_flight(&mut self, idx: usize, generation: Option<u32>) -> Option<Flight> {
        let matches = self.flights.get(idx)?.as_ref().is_some_and(|f| generation.is_none_or(|g| f.generation == g));
        if !matches {
            return None;
        }
        let flight = self.flights[idx].take()?;
        self.free_flights.push(idx);
        self.inflight -= 1;
        if let Some(host) = self.hosts[flight.host].as_mut() {
            host.inflight -= 1;
        }
        Some(flight)
    }

    /// A socket was reported ready: the probe has its answer, unless the readiness was only a soft
    /// error that decides nothing (then it stays in flight until its timer).
    fn complete(&mut self, token: Token, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        let Some(answer) = self.flights.get(token.0).and_then(Option::as_ref).map(|f| probe::finish(&f.socket)) else {
            return Ok(());
        };
        let Some(answer) = answer else { return Ok(()) };
        let flight = self.take_flight(token.0, None).expect("flight checked above");
        let (state, reason) = match answer {
            probe::Answer::Port(state, reason) => (state, reason),
            probe::Answer::SelfConnected => return self.flight_self_connected(flight, sink),
        };
        // Closing the socket (linger 0) resets an established probe connection and drops the epoll entry.
        drop(flight.socket);
        let rtt = now.saturating_duration_since(flight.sent);
        self.answer(flight.host, flight.probe, flight.ping, state, reason, rtt, sink, now)
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
        sink: &mut dyn Sink,
        now: Instant,
    ) -> Result<(), EngineError> {
        // Grow the window back after a back-off, one probe per answer (additive increase).
        if self.window < self.max_window {
            self.window += 1;
        }
        let Some(host) = self.hosts[slot].as_mut() else { return Ok(()) };
        if let Some(t) = self.cfg.trace.get() {
            let outcome = ConnectOutcome::Answer(state, reason);
            t.connect(&ConnectEvent { addr: host.target.addr, port: probe.port, outcome }, now);
        }
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
                return self.maybe_ports_done(slot, sink, now);
            }
            if answered {
                let reason = if state == PortState::Open { Reason::SynAck } else { Reason::ConnRefused };
                let mut host = self.hosts[slot].take().expect("host");
                self.host_up(&mut host, reason);
                self.hosts[slot] = Some(host);
                self.waiting.push_back(slot);
                self.promote_waiting(sink, now)?;
            } else {
                // An ICMP error or a local "no route": remember why, in case no other ping answers.
                host.state = Some((HostState::Down, reason));
                self.maybe_host_down(slot, sink, now)?;
            }
            return Ok(());
        }
        if host.phase != Phase::Ports {
            return self.maybe_ports_done(slot, sink, now);
        }
        if state == PortState::Open {
            self.control.progress.open.fetch_add(1, Ordering::Relaxed);
        }
        self.control.progress.ports_done.fetch_add(1, Ordering::Relaxed);
        let addr = host.target.addr;
        let result = host.record(probe.port, state, reason);
        sink.port_found(addr, result).map_err(EngineError::Output)?;
        self.maybe_ports_done(slot, sink, now)
    }

    /// A host in the port phase with nothing left to send and nothing in flight moves on.
    fn maybe_ports_done(&mut self, slot: usize, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        match self.hosts[slot].as_ref() {
            Some(host) if host.phase == Phase::Ports && host.ports_finished() => self.enter_resolving(slot, sink, now),
            _ => Ok(()),
        }
    }

    /// Discovery found no answer on any ping port (all tries done): the host is down.
    fn maybe_host_down(&mut self, slot: usize, sink: &mut dyn Sink, _now: Instant) -> Result<(), EngineError> {
        let host = self.hosts[slot].as_mut().expect("host");
        if host.phase != Phase::Discovery || host.inflight > 0 || !host.queue.is_empty() {
            return Ok(());
        }
        if host.state.is_none() {
            host.state = Some((HostState::Down, Reason::NoHostResponse));
        }
        self.finish_host(slot, true, sink)
    }

    fn expire_timers(&mut self, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        while let Some(Reverse((deadline, idx, generation))) = self.timers.peek().copied() {
            if deadline > now {
                break;
            }
            self.timers.pop();
            let Some(flight) = self.take_flight(idx, Some(generation)) else { continue };
            // The answer may be in without the loop having read it yet (a busy machine can keep this
            // thread off the CPU past a short timeout), or be an ICMP error queued as a soft error: the
            // socket says which. Only a socket with nothing to say is a probe without an answer.
            match probe::finish(&flight.socket) {
                Some(probe::Answer::Port(state, reason)) => {
                    drop(flight.socket);
                    let rtt = now.saturating_duration_since(flight.sent);
                    self.answer(flight.host, flight.probe, flight.ping, state, reason, rtt, sink, now)?;
                    continue;
                }
                Some(probe::Answer::SelfConnected) => {
                    self.flight_self_connected(flight, sink)?;
                    continue;
                }
                None => {}
            }
            drop(flight.socket);
            self.silent(flight.host, flight.probe, flight.ping, sink, now)?;
        }
        Ok(())
    }

    /// A try that got no answer: retried while tries are left, else the port is filtered (or, for a
    /// ping, the host may be down).
    fn silent(
        &mut self,
        slot: usize,
        probe: NextProbe,
        ping: bool,
        sink: &mut dyn Sink,
        now: Instant,
    ) -> Result<(), EngineError> {
        let max_retries = self.cfg.timing.max_retries;
        let host = self.hosts[slot].as_mut().expect("flights end with their host");
        if ping && host.phase != Phase::Discovery {
            // The host answered another ping meanwhile: this one needs no retry.
            return self.maybe_ports_done(slot, sink, now);
        }
        let next_try = probe.try_no + 1;
        if next_try < host.tries_allowed(max_retries) {
            host.queue.push_back(NextProbe { port: probe.port, try_no: next_try });
            return Ok(());
        }
        if ping {
            self.maybe_host_down(slot, sink, now)
        } else {
            self.answer(slot, probe, false, PortState::Filtered, Reason::NoResponse, Duration::ZERO, sink, now)
        }
    }

    /// Host timeouts and PTR answers.
    fn check_hosts(&mut self, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        let host_timeout = self.cfg.timing.host_timeout;
        let mut i = 0;
        while i < self.active.len() {
            let slot = self.active[i];
            let host = self.hosts[slot].as_mut().expect("active host");
            if host.phase == Phase::Resolving {
                let deadline_passed = host.resolve_deadline.is_some_and(|d| now >= d);
                if host.poll_ptr() || deadline_passed {
                    self.finish_host(slot, true, sink)?;
                    continue;
                }
            } else if host_timeout.is_some_and(|t| now.duration_since(host.started) >= t) {
                host.timed_out = true;
                self.abandon_flights(slot);
                self.finish_host(slot, false, sink)?;
                continue;
            }
            i += 1;
        }
        Ok(())
    }

    fn enter_resolving(&mut self, slot: usize, sink: &mut dyn Sink, now: Instant) -> Result<(), EngineError> {
        let host = self.hosts[slot].as_mut().expect("host");
        host.phase = Phase::Resolving;
        host.resolve_deadline = Some(now + PTR_GRACE);
        if host.poll_ptr() {
            self.finish_host(slot, true, sink)?;
        }
        Ok(())
    }

    fn abandon_flights(&mut self, slot: usize) {
        for idx in 0..self.flights.len() {
            if self.flights[idx].as_ref().is_some_and(|f| f.host == slot) {
                self.take_flight(idx, None);
            }
        }
    }

    /// Reports a host and frees its slot.
    fn finish_host(&mut self, slot: usize, complete: bool, sink: &mut dyn Sink) -> Result<(), EngineError> {
        // No flight may outlive its host: the slot is reused by the next host.
        if self.hosts[slot].as_ref().is_some_and(|h| h.inflight > 0) {
            self.abandon_flights(slot);
        }
        let host = self.hosts[slot].take().expect("host to finish");
        self.free_hosts.push(slot);
        if let Some(pos) = self.active.iter().position(|&s| s == slot) {
            self.active.remove(pos);
        }
        self.waiting.retain(|&s| s != slot);
        if matches!(host.phase, Phase::Ports | Phase::Resolving) {
            self.in_ports_phase -= 1;
        }
        let complete = complete && host.unsent() == 0 && host.queue.is_empty();
        let nports = self.cfg.ports.len() as u64;
        let report = host.into_report(complete);
        match report.state {
            HostState::Up => self.stats.hosts_up += 1,
            HostState::Down | HostState::Unknown => {
                self.stats.hosts_down += 1;
                self.control.progress.ports_done.fetch_add(nports, Ordering::Relaxed);
            }
        }
        self.control.progress.hosts_done.fetch_add(1, Ordering::Relaxed);
        sink.host_done(&report).map_err(EngineError::Output)?;
        let now = Instant::now();
        self.promote_waiting(sink, now)
    }

    fn finish_all_interrupted(&mut self, sink: &mut dyn Sink) -> Result<(), EngineError> {
        for idx in 0..self.flights.len() {
            self.take_flight(idx, None);
        }
        while let Some(&slot) = self.active.first() {
            // Hosts still in discovery have no answer yet: nothing to report about them.
            let in_discovery = self.hosts[slot].as_ref().is_some_and(|h| h.phase == Phase::Discovery);
            if in_discovery {
                self.hosts[slot] = None;
                self.active.remove(0);
                continue;
            }
            self.finish_host(slot, false, sink)?;
        }
        Ok(())
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
mod tests {
    use super::*;

    #[test]
    fn group_size_bounds_memory() {
        assert_eq!(port_group_size(65535), 15);
        assert_eq!(port_group_size(1000), 256);
        assert_eq!(port_group_size(0), 256);
    }

    #[test]
    fn host_seeds_differ_per_host() {
        let a = host_seed(1, "198.18.0.2".parse().unwrap());
        let b = host_seed(1, "198.18.0.3".parse().unwrap());
        assert_ne!(a, b);
        assert_eq!(a, host_seed(1, "198.18.0.2".parse().unwrap()));
    }
}
