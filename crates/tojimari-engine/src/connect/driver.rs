//! The connect scan's event loop: the thin adapter between the [`Scheduler`] and the world.
//!
//! It reads the clock, opens the sockets the scheduler asks for (inline or on the worker pool), waits on
//! mio for them to become ready, asks each socket what the kernel said, runs the reverse lookups, and
//! hands results to the [`Sink`]. It decides nothing: every choice is the scheduler's.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Instant, SystemTime};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use socket2::Socket;
use tojimari_core::Sink;

use super::event::{Action, Event, HostId, Open};
use super::flights::FlightId;
use super::host::ScanTarget;
use super::launcher::{self, Outcome, Pool, Request};
use super::probe::{self, Answer, Launch};
use super::scheduler::Scheduler;
use super::wall::WallClock;
use super::{ConnectScan, EngineError, RunStats};
use crate::control::Control;
use crate::own::OwnAddrs;
use tojimari_net::reverse_lookup;

/// The event loop's token for "worker outcomes are waiting".
const WAKER: Token = Token(usize::MAX);
/// Connect workers at most (more cores than this only add contention on one target).
const MAX_WORKERS: usize = 4;
/// Reverse lookups running at once; beyond it, hosts go without a PTR name rather than wait.
const MAX_PTR_LOOKUPS: usize = 64;

/// Runs a whole scan; see [`ConnectScan::run`].
pub fn run(
    cfg: &ConnectScan,
    targets: &mut dyn Iterator<Item = ScanTarget>,
    sink: &mut dyn Sink,
    control: &Control,
) -> Result<RunStats, EngineError> {
    let poll = Poll::new().map_err(EngineError::Poll)?;
    let now = Instant::now();
    let wall = WallClock::pinned(now, SystemTime::now());
    let sched = Scheduler::new(cfg, OwnAddrs::of_this_host(), &control.progress, wall, now);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Serial scans (T0-T2, --scan-delay) gain nothing from workers; a single core neither.
    let pool = if cores >= 2 && sched.window() >= 8 && cfg.timing.scan_delay.is_zero() {
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(EngineError::Poll)?);
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            let _ = waker.wake();
        });
        Some(Pool::start(cores.min(MAX_WORKERS), wake).map_err(EngineError::Poll)?)
    } else {
        None
    };
    let mut driver = Driver {
        sched,
        control,
        poll,
        sockets: Vec::new(),
        pool,
        device: cfg.interface.as_deref().map(Arc::from),
        names: Vec::new(),
        ptr_lookups: Arc::default(),
    };
    driver.drive(targets, sink)
}

struct Driver<'a> {
    sched: Scheduler<'a>,
    control: &'a Control,
    poll: Poll,
    /// The socket of each flight under way (or held as a guard after it connected to itself), by the
    /// flight's index, which is also its mio token.
    sockets: Vec<Option<(FlightId, Socket)>>,
    /// Worker threads for `connect` calls; `None` runs them inline (one core, or a slow, serial scan).
    pool: Option<Pool>,
    /// `-e`: the interface name probe sockets are bound to.
    device: Option<Arc<str>>,
    /// Reverse lookups under way.
    names: Vec<(HostId, mpsc::Receiver<Option<String>>)>,
    /// Lookup threads still running (some may outlive their host).
    ptr_lookups: Arc<AtomicUsize>,
}

impl Driver<'_> {
    fn drive(
        &mut self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
    ) -> Result<RunStats, EngineError> {
        let mut events = Events::with_capacity(1024);
        loop {
            if self.control.is_cancelled() {
                self.sched.interrupt(Instant::now());
                self.perform(sink)?;
                return Ok(self.sched.stats());
            }
            let now = Instant::now();
            self.sched.admit(targets, now);
            self.perform(sink)?;
            while let Some(id) = self.sched.next_expired(now) {
                self.expired(id, now);
                self.perform(sink)?;
            }
            self.poll_names(now);
            self.sched.check_hosts(now);
            self.perform(sink)?;
            self.sched.start_sending(now);
            while let Some(open) = self.sched.next_open(now) {
                self.launch(open, None);
                self.perform(sink)?;
            }
            if self.sched.is_done() {
                return Ok(self.sched.stats());
            }
            let now = Instant::now();
            let timeout = self.sched.wake_at(now).saturating_duration_since(now);
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(EngineError::Poll(e)),
            }
            let now = Instant::now();
            for event in events.iter() {
                if event.token() != WAKER {
                    self.ready(event.token().0, now);
                    self.perform(sink)?;
                }
            }
            if let Some(pool) = &self.pool {
                for outcome in pool.drain() {
                    self.outcome(outcome);
                    self.perform(sink)?;
                }
            }
        }
    }

    /// Carries out the scheduler's actions, in order (an action may lead to more).
    fn perform(&mut self, sink: &mut dyn Sink) -> Result<(), EngineError> {
        while let Some(action) = self.sched.poll_action() {
            match action {
                Action::Open(open) => {
                    let guard = open.guard.and_then(|g| self.take_socket(g));
                    self.launch(open, guard);
                }
                Action::Close(id) => drop(self.take_socket(id)),
                Action::ResolveName { host, addr } => self.resolve(host, addr),
                Action::Port { addr, result } => sink.port_found(addr, &result).map_err(EngineError::Output)?,
                Action::HostDone { host, report } => {
                    self.names.retain(|(h, _)| *h != host);
                    sink.host_done(&report).map_err(EngineError::Output)?;
                }
                Action::Boundary { group } => sink.group_done(group).map_err(EngineError::Output)?,
            }
        }
        Ok(())
    }

    /// Opens a connection: on a worker when there is a pool, else right here.
    fn launch(&mut self, open: Open, guard: Option<Socket>) {
        let req = Request { open, device: self.device.clone(), guard };
        match &self.pool {
            Some(pool) => pool.submit(req),
            None => self.outcome(launcher::launch_now(req)),
        }
    }

    /// What the kernel said to a launch: an answer at once, a connect under way, or no room here.
    fn outcome(&mut self, outcome: Outcome) {
        let Outcome { req, started, elapsed, launch } = outcome;
        let flight = req.open.flight;
        let now = Instant::now();
        let event = match launch {
            Launch::Done(state, reason) => Event::Answer { flight, state, reason, rtt: Some(elapsed) },
            Launch::SelfConnected(socket) => {
                self.put_socket(flight, socket);
                Event::SelfConnected { flight }
            }
            Launch::Exhausted => Event::Exhausted { flight },
            Launch::Pending(socket) => {
                // Registering a socket that is already ready reports it at once (epoll checks on insert).
                let fd = socket.as_raw_fd();
                let token = Token(flight.index());
                if self.poll.registry().register(&mut SourceFd(&fd), token, Interest::WRITABLE).is_err() {
                    drop(socket);
                    Event::Unwatchable { flight }
                } else {
                    self.put_socket(flight, socket);
                    Event::InProgress { flight, started }
                }
            }
        };
        self.sched.handle(event, now);
    }

    /// A socket was reported ready: the probe has its answer, unless the readiness was only a soft
    /// error that decides nothing (then it stays in flight until its deadline).
    fn ready(&mut self, index: usize, now: Instant) {
        let Some((flight, socket)) = self.sockets.get(index).and_then(Option::as_ref) else { return };
        let flight = *flight;
        if let Some(answer) = probe::finish(socket) {
            self.answered(flight, answer, now);
        }
    }

    /// A flight's deadline passed: the answer may be in without the loop having read it yet (a busy
    /// machine can keep this thread off the CPU past a short timeout), or be an ICMP error queued as a
    /// soft error: the socket says which. Only a socket with nothing to say is a probe without an answer.
    fn expired(&mut self, flight: FlightId, now: Instant) {
        let answer = match self.socket(flight) {
            Some(socket) => probe::finish(socket),
            None => None,
        };
        match answer {
            Some(answer) => self.answered(flight, answer, now),
            None => {
                drop(self.take_socket(flight));
                self.sched.handle(Event::TimedOut { flight }, now);
            }
        }
    }

    fn answered(&mut self, flight: FlightId, answer: Answer, now: Instant) {
        let event = match answer {
            Answer::Port(state, reason) => {
                // Closing the socket (linger 0) resets an established probe connection and drops the
                // epoll entry.
                drop(self.take_socket(flight));
                Event::Answer { flight, state, reason, rtt: None }
            }
            Answer::SelfConnected => {
                // The socket lives on as the guard of the next try: take it out of the event loop first,
                // so its readiness can never be read as that of the flight that reuses its token.
                if let Some(socket) = self.socket(flight) {
                    let _ = self.poll.registry().deregister(&mut SourceFd(&socket.as_raw_fd()));
                }
                Event::SelfConnected { flight }
            }
        };
        self.sched.handle(event, now);
    }

    fn socket(&self, flight: FlightId) -> Option<&Socket> {
        match self.sockets.get(flight.index())? {
            Some((id, socket)) if *id == flight => Some(socket),
            _ => None,
        }
    }

    fn put_socket(&mut self, flight: FlightId, socket: Socket) {
        let index = flight.index();
        if self.sockets.len() <= index {
            self.sockets.resize_with(index + 1, || None);
        }
        self.sockets[index] = Some((flight, socket));
    }

    fn take_socket(&mut self, flight: FlightId) -> Option<Socket> {
        let slot = self.sockets.get_mut(flight.index())?;
        match slot {
            Some((id, _)) if *id == flight => slot.take().map(|(_, socket)| socket),
            _ => None,
        }
    }

    /// Starts a reverse lookup on its own thread, or answers "no name" at once when too many run.
    fn resolve(&mut self, host: HostId, addr: std::net::IpAddr) {
        if self.ptr_lookups.load(Ordering::Relaxed) < MAX_PTR_LOOKUPS {
            let (tx, rx) = mpsc::channel();
            let counter = self.ptr_lookups.clone();
            counter.fetch_add(1, Ordering::Relaxed);
            let spawned = std::thread::Builder::new().name("ptr".into()).spawn(move || {
                let _ = tx.send(reverse_lookup(addr));
                counter.fetch_sub(1, Ordering::Relaxed);
            });
            if spawned.is_ok() {
                self.names.push((host, rx));
                return;
            }
            self.ptr_lookups.fetch_sub(1, Ordering::Relaxed);
        }
        self.sched.handle(Event::Named { host, name: None }, Instant::now());
    }

    /// Hands the scheduler every name lookup that has finished.
    fn poll_names(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.names.len() {
            let name = match self.names[i].1.try_recv() {
                Ok(name) => name,
                Err(mpsc::TryRecvError::Empty) => {
                    i += 1;
                    continue;
                }
                Err(mpsc::TryRecvError::Disconnected) => None,
            };
            let (host, _) = self.names.swap_remove(i);
            self.sched.handle(Event::Named { host, name }, now);
        }
    }
}
