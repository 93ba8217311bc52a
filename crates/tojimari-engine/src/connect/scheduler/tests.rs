//! The scheduler driven by hand: a fabricated clock, a simulated network, no sockets.
//!
//! [`Sim`] plays the event loop's part the way `driver` does (admit, expired flights, host checks, a
//! round of sending, then a wait until the scheduler's wake-up time or the next simulated answer), with a
//! `fate` function deciding what the "kernel" says to each connection.

use tojimari_core::PortResult;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::HostReport;
use tojimari_core::timing::{MIN_RETRIES, Timing};

use super::*;
use crate::connect::window::BACKOFF;
use crate::rtt::RttEstimator;
use crate::trace::{PacketTrace, Tracer};

const MS: Duration = Duration::from_millis(1);

fn addr(last: u8) -> IpAddr {
    IpAddr::from([198, 18, 0, last])
}

fn target(last: u8) -> ScanTarget {
    ScanTarget { addr: addr(last), hostnames: Vec::new() }
}

fn scan(ports: impl IntoIterator<Item = u16>, timing: Timing) -> ConnectScan {
    ConnectScan {
        ports: PortSet::from_ports(ports),
        timing,
        order: PortOrder::Sequential,
        discovery: Discovery::Skip,
        max_sockets: 1000,
        reverse_dns: false,
        interface: None,
        trace: Tracer::off(),
    }
}

fn scheduler<'a>(cfg: &'a ConnectScan, progress: &'a Progress, t0: Instant) -> Scheduler<'a> {
    let wall = WallClock::pinned(t0, std::time::SystemTime::UNIX_EPOCH);
    Scheduler::new(cfg, OwnAddrs::default(), progress, wall, t0)
}

/// What the simulated kernel says to one connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fate {
    /// An answer within the `connect` call, after this round trip.
    AtOnce(PortState, Reason, Duration),
    /// `connect` in progress; the answer comes after this long.
    Later(PortState, Reason, Duration),
    /// In progress, and nothing ever comes back.
    Lost,
    /// No socket: out of descriptors.
    Emfile,
    /// The socket connected to itself (at once).
    SelfConnect,
}

/// Everything the scheduler asked for, in order.
#[derive(Debug, Default)]
struct Log {
    opens: Vec<(Instant, Open)>,
    ports: Vec<(IpAddr, PortResult)>,
    hosts: Vec<HostReport>,
    closes: Vec<FlightId>,
    names: Vec<(HostId, IpAddr)>,
}

struct Sim<'a> {
    s: Scheduler<'a>,
    now: Instant,
    /// Answers on their way: when, to which flight, what.
    arriving: Vec<(Instant, FlightId, PortState, Reason)>,
    log: Log,
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a ConnectScan, progress: &'a Progress, t0: Instant) -> Self {
        Sim { s: scheduler(cfg, progress, t0), now: t0, arriving: Vec::new(), log: Log::default() }
    }

    fn drain(&mut self, fate: &mut dyn FnMut(Instant, &Open) -> Fate) {
        while let Some(action) = self.s.poll_action() {
            match action {
                Action::Open(open) => self.open(open, fate),
                Action::Close(id) => self.log.closes.push(id),
                Action::ResolveName { host, addr } => self.log.names.push((host, addr)),
                Action::Port { addr, result } => self.log.ports.push((addr, result)),
                Action::HostDone { report, .. } => self.log.hosts.push(*report),
            }
        }
    }

    fn open(&mut self, open: Open, fate: &mut dyn FnMut(Instant, &Open) -> Fate) {
        self.log.opens.push((self.now, open));
        let flight = open.flight;
        let event = match fate(self.now, &open) {
            Fate::AtOnce(state, reason, rtt) => Event::Answer { flight, state, reason, rtt: Some(rtt) },
            Fate::Later(state, reason, after) => {
                self.arriving.push((self.now + after, flight, state, reason));
                Event::InProgress { flight, started: self.now }
            }
            Fate::Lost => Event::InProgress { flight, started: self.now },
            Fate::Emfile => Event::Exhausted { flight },
            Fate::SelfConnect => Event::SelfConnected { flight },
        };
        self.s.handle(event, self.now);
    }

    /// One turn of the event loop at `self.now`, then the clock moves on to the next thing to happen.
    fn turn(&mut self, targets: &mut dyn Iterator<Item = ScanTarget>, fate: &mut dyn FnMut(Instant, &Open) -> Fate) {
        let now = self.now;
        self.s.admit(targets, now);
        self.drain(fate);
        while let Some(id) = self.s.next_expired(now) {
            // The simulated socket has nothing to say: nothing arrived for it yet.
            self.s.handle(Event::TimedOut { flight: id }, now);
            self.drain(fate);
        }
        self.s.check_hosts(now);
        self.drain(fate);
        self.s.start_sending(now);
        while let Some(open) = self.s.next_open(now) {
            self.open(open, fate);
            self.drain(fate);
        }
        if self.s.is_done() {
            return;
        }
        let mut next = self.s.wake_at(now);
        if let Some(t) = self.arriving.iter().map(|a| a.0).min() {
            next = next.min(t);
        }
        // A wake-up "now" (more to send) still lets a little time pass, as a real loop does.
        self.now = next.max(now + Duration::from_micros(100));
        let due: Vec<_> = self.arriving.iter().filter(|a| a.0 <= self.now).copied().collect();
        self.arriving.retain(|a| a.0 > self.now);
        for (_, flight, state, reason) in due {
            self.s.handle(Event::Answer { flight, state, reason, rtt: None }, self.now);
            self.drain(fate);
        }
    }

    /// Turns until the scan is done (bounded, so a stuck machine fails the test instead of hanging).
    fn run(&mut self, targets: Vec<ScanTarget>, fate: &mut dyn FnMut(Instant, &Open) -> Fate) {
        let mut targets = targets.into_iter();
        for _ in 0..1_000_000 {
            self.turn(&mut targets, fate);
            if self.s.is_done() {
                return;
            }
        }
        panic!("the scan never finished");
    }
}

#[test]
fn group_size_bounds_memory() {
    assert_eq!(port_group_size(65535), 15);
    assert_eq!(port_group_size(1000), 256);
    assert_eq!(port_group_size(0), 256);
}

#[test]
fn host_seeds_differ_per_host() {
    let a = host_seed(1, addr(2));
    let b = host_seed(1, addr(3));
    assert_ne!(a, b);
    assert_eq!(a, host_seed(1, addr(2)));
}

#[test]
fn open_refused_and_unreachable_answers_become_states_with_reasons() {
    let t0 = Instant::now();
    let cfg = scan([22, 80, 443, 8080], Timing::default());
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, open| match open.port {
        22 => Fate::Later(PortState::Open, Reason::SynAck, 3 * MS),
        80 => Fate::AtOnce(PortState::Closed, Reason::ConnRefused, MS),
        443 => Fate::Later(PortState::Filtered, Reason::HostUnreach, 2 * MS),
        _ => Fate::AtOnce(PortState::Filtered, Reason::AdminProhibited, MS),
    });
    // Results reach the sink in the order the answers came.
    let got: Vec<_> = sim.log.ports.iter().map(|(a, r)| (*a, r.port, r.state, r.reason)).collect();
    assert_eq!(
        got,
        [
            (addr(2), 80, PortState::Closed, Reason::ConnRefused),
            (addr(2), 8080, PortState::Filtered, Reason::AdminProhibited),
            (addr(2), 443, PortState::Filtered, Reason::HostUnreach),
            (addr(2), 22, PortState::Open, Reason::SynAck),
        ]
    );
    let [host] = sim.log.hosts.as_slice() else { panic!("one host report: {:?}", sim.log.hosts) };
    assert_eq!((host.state, host.state_reason), (HostState::Up, Reason::UserSet));
    assert!(host.complete && !host.timed_out);
    let ports: Vec<_> = host.ports.iter().map(|r| r.port).collect();
    assert_eq!(ports, [22, 80, 443, 8080], "the report is sorted by port");
    assert_eq!(host.start, std::time::SystemTime::UNIX_EPOCH, "wall times come from the pinned clock");
    assert_eq!(host.end, std::time::SystemTime::UNIX_EPOCH + (sim.now - t0));
    assert_eq!(progress.open.load(Ordering::Relaxed), 1);
    assert_eq!(progress.ports_done.load(Ordering::Relaxed), 4);
    assert_eq!(progress.retransmissions.load(Ordering::Relaxed), 0, "answers need no retry");
    assert_eq!(sim.s.stats(), RunStats { hosts_up: 1, hosts_down: 0, hosts_total: 1, interrupted: false });
}

#[test]
fn a_lost_probe_is_retried_up_to_the_allowed_tries_then_filtered_no_response() {
    let t0 = Instant::now();
    let cfg = scan([9], Timing::default());
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, _| Fate::Lost);
    let tries: Vec<u8> = sim.log.opens.iter().map(|(_, o)| o.try_no).collect();
    // Nothing ever answered: nmap's rule would allow one retry; MIN_RETRIES gives two.
    assert_eq!(tries, (0..=MIN_RETRIES as u8).collect::<Vec<_>>());
    let when: Vec<Duration> = sim.log.opens.iter().map(|(t, _)| *t - t0).collect();
    // Each try waits the initial RTT timeout (1 s under -T3), then the retry goes out.
    assert_eq!(when, [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(2)]);
    let result = &sim.log.ports[0].1;
    assert_eq!((result.state, result.reason), (PortState::Filtered, Reason::NoResponse));
    assert_eq!(progress.retransmissions.load(Ordering::Relaxed), u64::from(MIN_RETRIES));
    assert_eq!(progress.sent.load(Ordering::Relaxed), 1 + u64::from(MIN_RETRIES));
}

#[test]
fn max_retries_bounds_the_tries() {
    let t0 = Instant::now();
    let cfg = scan([9], Timing { max_retries: 0, ..Timing::default() });
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, _| Fate::Lost);
    assert_eq!(sim.log.opens.len(), 1, "--max-retries 0: one try");
    assert_eq!(sim.log.ports[0].1.reason, Reason::NoResponse);
}

#[test]
fn an_answer_to_a_late_try_earns_the_silent_ports_more_tries() {
    // Port 1 is lost twice and answers its third try: the path loses probes, so port 2 (never answering)
    // gets one try beyond that, as nmap's max_successful_try rule says.
    let t0 = Instant::now();
    let cfg = scan([1, 2], Timing::default());
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, open| match (open.port, open.try_no) {
        (1, 2) => Fate::Later(PortState::Closed, Reason::ConnRefused, MS),
        _ => Fate::Lost,
    });
    let tries_of_2 = sim.log.opens.iter().filter(|(_, o)| o.port == 2).count();
    assert_eq!(tries_of_2, 4);
    let states: Vec<_> = sim.log.hosts[0].ports.iter().map(|r| (r.port, r.state, r.reason)).collect();
    assert_eq!(
        states,
        [(1, PortState::Closed, Reason::ConnRefused), (2, PortState::Filtered, Reason::NoResponse)]
    );
}

#[test]
fn the_rtt_timeout_of_each_try_follows_the_measured_round_trips() {
    let t0 = Instant::now();
    let cfg = scan(1..=50, Timing::default());
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let first = s.next_open(t0).expect("a probe");
    s.handle(Event::InProgress { flight: first.flight, started: t0 }, t0);
    // Before any round trip: the initial timeout.
    assert_eq!(s.next_expired(t0 + Duration::from_millis(999)), None);
    assert_eq!(s.next_expired(t0 + Duration::from_secs(1)), Some(first.flight));
    // Answers with a 20 ms round trip bring the next try's timeout down (to the 100 ms floor).
    let mut expected = RttEstimator::new(&cfg.timing);
    let mut opens = Vec::new();
    while let Some(open) = s.next_open(t0) {
        opens.push(open);
    }
    for open in &opens[..10] {
        s.handle(Event::InProgress { flight: open.flight, started: t0 }, t0);
        s.handle(
            Event::Answer { flight: open.flight, state: PortState::Closed, reason: Reason::ConnRefused, rtt: None },
            t0 + 20 * MS,
        );
        expected.sample(20 * MS);
    }
    let t1 = t0 + 20 * MS;
    let next = opens[10];
    s.handle(Event::InProgress { flight: next.flight, started: t1 }, t1);
    let timeout = expected.timeout();
    assert_eq!(timeout, Duration::from_millis(100));
    assert_eq!(s.next_expired(t1 + timeout - MS), None);
    assert_eq!(s.next_expired(t1 + timeout), Some(next.flight));
}

#[test]
fn timeouts_keep_the_window_exhaustion_shrinks_it_and_answers_grow_it_back() {
    let t0 = Instant::now();
    let cfg = scan(1..=100, Timing { max_parallelism: Some(8), ..Timing::default() });
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let opens: Vec<Open> = std::iter::from_fn(|| s.next_open(t0)).collect();
    assert_eq!(opens.len(), 8, "the window");
    for o in &opens {
        s.handle(Event::InProgress { flight: o.flight, started: t0 }, t0);
    }
    // Loss is not congestion: every try times out, the window stays.
    let t1 = t0 + Duration::from_secs(1);
    while let Some(id) = s.next_expired(t1) {
        s.handle(Event::TimedOut { flight: id }, t1);
    }
    assert_eq!(s.window(), 8);
    s.start_sending(t1);
    let retries: Vec<Open> = std::iter::from_fn(|| s.next_open(t1)).collect();
    assert_eq!(retries.len(), 8);
    assert!(retries.iter().all(|o| o.try_no == 1), "retries go first");
    // The machine runs out of descriptors on the 8th: the window drops to 3/4 of the 7 in flight and
    // sending pauses.
    for o in &retries[..7] {
        s.handle(Event::InProgress { flight: o.flight, started: t1 }, t1);
    }
    s.handle(Event::Exhausted { flight: retries[7].flight }, t1);
    assert_eq!(s.window(), 5);
    assert_eq!(progress.backoffs.load(Ordering::Relaxed), 1);
    assert_eq!(s.wake_at(t1), t1 + BACKOFF, "wakes when the pause ends");
    s.start_sending(t1 + 5 * MS);
    assert_eq!(s.next_open(t1 + 5 * MS), None, "paused");
    // Answers grow it back one by one, up to the 7 the machine held.
    let t2 = t1 + 20 * MS;
    for o in &retries[..4] {
        s.handle(
            Event::Answer { flight: o.flight, state: PortState::Closed, reason: Reason::ConnRefused, rtt: None },
            t2,
        );
    }
    assert_eq!(s.window(), 7);
    s.start_sending(t2);
    let more: Vec<Open> = std::iter::from_fn(|| s.next_open(t2)).collect();
    assert_eq!(more.len(), 4, "3 in flight, a window of 7");
    assert_eq!((more[0].port, more[0].try_no), (retries[7].port, 1), "the refused open goes first, same try");
}

#[test]
fn running_out_of_descriptors_loses_no_port_and_costs_no_try() {
    // A machine that holds 20 sockets at most, a window of 64: EMFILE all along the scan.
    let t0 = Instant::now();
    let cfg = scan(1..=300, Timing { max_parallelism: Some(64), ..Timing::default() });
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    let mut held: Vec<Instant> = Vec::new();
    let mut peak = 0;
    sim.run(vec![target(2)], &mut |now, open| {
        // A socket is held from its open until its answer, 5 ms later.
        held.retain(|until| *until > now);
        if held.len() >= 20 {
            return Fate::Emfile;
        }
        held.push(now + 5 * MS);
        peak = peak.max(held.len());
        if open.port % 3 == 0 {
            Fate::Later(PortState::Open, Reason::SynAck, 5 * MS)
        } else {
            Fate::Later(PortState::Closed, Reason::ConnRefused, 5 * MS)
        }
    });
    assert!(progress.backoffs.load(Ordering::Relaxed) > 0, "the limit was hit");
    assert!(peak <= 20);
    assert!(sim.log.opens.iter().all(|(_, o)| o.try_no == 0), "a refused socket is no try");
    let mut ports: Vec<u16> = sim.log.ports.iter().map(|(_, r)| r.port).collect();
    ports.sort_unstable();
    assert_eq!(ports, (1..=300).collect::<Vec<_>>(), "every port once");
    let host = &sim.log.hosts[0];
    assert!(host.complete);
    assert_eq!(host.ports.iter().filter(|r| r.state == PortState::Open).count(), 100);
}
