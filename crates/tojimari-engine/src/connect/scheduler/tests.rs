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
use crate::connect::event::{Event, Open};
use crate::connect::flights::FlightId;
use crate::connect::window::BACKOFF;
use crate::rtt::RttEstimator;
use crate::trace::{ConnectEvent, ConnectOutcome};
use crate::trace::{PacketTrace, Tracer};
use tojimari_core::{PortState, Reason};

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
        selection: Default::default(),
        finished: Default::default(),
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
}

/// Everything the scheduler asked for, in order.
#[derive(Debug, Default)]
struct Log {
    opens: Vec<(Instant, Open)>,
    ports: Vec<(IpAddr, PortResult)>,
    hosts: Vec<HostReport>,
    closes: Vec<FlightId>,
    names: Vec<(HostId, IpAddr)>,
    /// Each boundary said, with the hosts reported by then.
    boundaries: Vec<(u64, usize)>,
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
                Action::Boundary { group } => self.log.boundaries.push((group, self.log.hosts.len())),
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
    assert_eq!(states, [(1, PortState::Closed, Reason::ConnRefused), (2, PortState::Filtered, Reason::NoResponse)]);
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

#[test]
fn max_rate_spaces_the_opens() {
    // --max-rate 100: one open per 10 ms, however much room the window has and however fast answers come.
    let t0 = Instant::now();
    let cfg = scan(1..=1000, Timing { max_rate: Some(100.0), ..Timing::default() });
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    let mut targets = vec![target(2)].into_iter();
    while sim.now < t0 + Duration::from_secs(1) {
        sim.turn(&mut targets, &mut |_, _| Fate::AtOnce(PortState::Closed, Reason::ConnRefused, MS));
    }
    let when: Vec<Instant> = sim.log.opens.iter().map(|(t, _)| *t).collect();
    assert!((95..=110).contains(&when.len()), "{} opens in one second", when.len());
    for pair in when.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_micros(9_900), "opens {:?} apart", pair[1] - pair[0]);
    }
    // With the bucket empty the loop is told to sleep until the next token, not to spin.
    assert!(sim.s.wake_at(sim.now) > sim.now);
}

#[test]
fn without_a_rate_limit_a_batch_goes_out_at_once() {
    let t0 = Instant::now();
    let cfg = scan(1..=1000, Timing::default());
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let opens = std::iter::from_fn(|| s.next_open(t0)).count();
    assert_eq!(opens, SEND_BATCH);
    assert_eq!(s.wake_at(t0), t0, "a full batch: look at completions, then send more at once");
}

#[test]
fn scan_delay_spaces_the_probes_to_one_host() {
    let t0 = Instant::now();
    let cfg = scan(1..=5, Timing { scan_delay: Duration::from_millis(400), ..Timing::default() });
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, _| Fate::AtOnce(PortState::Closed, Reason::ConnRefused, MS));
    let when: Vec<Duration> = sim.log.opens.iter().map(|(t, _)| *t - t0).collect();
    assert_eq!(when.len(), 5);
    for pair in when.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(400));
    }
}

#[test]
fn host_timeout_ends_the_host_with_what_it_has_and_drops_late_answers() {
    let t0 = Instant::now();
    let cfg = scan(1..=10, Timing { host_timeout: Some(Duration::from_secs(2)), ..Timing::default() });
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let opens: Vec<Open> = std::iter::from_fn(|| s.next_open(t0)).collect();
    assert_eq!(opens.len(), 10);
    // Port 1 answers, ports 2-9 are under way (silent), port 10 is still being opened.
    s.handle(
        Event::Answer { flight: opens[0].flight, state: PortState::Open, reason: Reason::SynAck, rtt: Some(MS) },
        t0,
    );
    for o in &opens[1..9] {
        s.handle(Event::InProgress { flight: o.flight, started: t0 }, t0);
    }
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert!(matches!(actions.as_slice(), [Action::Port { .. }]));
    s.check_hosts(t0 + Duration::from_millis(1999));
    assert!(s.poll_action().is_none(), "not yet");
    let t1 = t0 + Duration::from_secs(2);
    s.check_hosts(t1);
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    let closed: Vec<FlightId> =
        actions.iter().filter_map(|a| if let Action::Close(id) = a { Some(*id) } else { None }).collect();
    let mut expected: Vec<FlightId> = opens[1..9].iter().map(|o| o.flight).collect();
    expected.sort_by_key(|id| id.index());
    assert_eq!(closed, expected, "every socket under way is closed");
    // The host, then (past a second) a boundary: a timed-out host is finished.
    let [.., Action::HostDone { report, .. }, Action::Boundary { group: 0 }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert!(report.timed_out && !report.complete);
    assert_eq!(report.ports.len(), 1, "only what was answered");
    assert!(s.is_done());
    // The probe that was being opened comes back later: its socket is closed, nothing is recorded.
    s.handle(Event::InProgress { flight: opens[9].flight, started: t1 }, t1);
    let late: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert!(matches!(late.as_slice(), [Action::Close(id)] if *id == opens[9].flight));
    // So does an answer to an abandoned flight: ignored.
    s.handle(Event::Answer { flight: opens[1].flight, state: PortState::Open, reason: Reason::SynAck, rtt: None }, t1);
    assert!(s.poll_action().is_none());
    assert_eq!(s.inflight(), 0);
}

#[test]
fn a_self_connected_try_is_sent_again_holding_its_socket_then_counts_as_silent() {
    let t0 = Instant::now();
    let cfg = scan([40000], Timing::default());
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let first = s.next_open(t0).unwrap();
    s.handle(Event::SelfConnected { flight: first.flight }, t0);
    let Some(Action::Open(again)) = s.poll_action() else { panic!("sent again") };
    assert_eq!((again.port, again.try_no, again.guard), (40000, 0, Some(first.flight)), "the same try, guarded");
    assert_ne!(again.flight, first.flight);
    assert_eq!(progress.retransmissions.load(Ordering::Relaxed), 0, "not a retry");
    assert_eq!(progress.sent.load(Ordering::Relaxed), 2);
    // Met itself again: the socket is closed and the try counts as unanswered (retried later).
    s.handle(Event::SelfConnected { flight: again.flight }, t0);
    assert!(matches!(s.poll_action(), Some(Action::Close(id)) if id == again.flight));
    assert!(s.poll_action().is_none(), "no port result: a self-connection is no open port");
    s.start_sending(t0);
    let retry = s.next_open(t0).unwrap();
    assert_eq!((retry.port, retry.try_no, retry.guard), (40000, 1, None));
    // The retry's guarded second attempt gets the real answer.
    s.handle(Event::SelfConnected { flight: retry.flight }, t0);
    let Some(Action::Open(guarded)) = s.poll_action() else { panic!() };
    s.handle(
        Event::Answer { flight: guarded.flight, state: PortState::Closed, reason: Reason::ConnRefused, rtt: Some(MS) },
        t0,
    );
    let Some(Action::Port { result, .. }) = s.poll_action() else { panic!() };
    assert_eq!((result.port, result.state, result.reason), (40000, PortState::Closed, Reason::ConnRefused));
}

fn pinged(ports: impl IntoIterator<Item = u16>) -> ConnectScan {
    ConnectScan { discovery: Discovery::ConnectPing { ports: vec![80, 443] }, ..scan(ports, Timing::default()) }
}

#[test]
fn own_addresses_are_up_without_a_ping_and_pn_says_user_set() {
    let t0 = Instant::now();
    let cfg = pinged([22]);
    let progress = Progress::default();
    let wall = WallClock::pinned(t0, std::time::SystemTime::UNIX_EPOCH);
    let own = OwnAddrs::from_addrs([addr(1)]);
    let mut s = Scheduler::new(&cfg, own.clone(), &progress, wall, t0);
    s.admit(&mut vec![target(1), ScanTarget { addr: "127.0.0.1".parse().unwrap(), hostnames: vec![] }].into_iter(), t0);
    s.start_sending(t0);
    let opens: Vec<Open> = std::iter::from_fn(|| s.next_open(t0)).collect();
    assert!(opens.iter().all(|o| o.port == 22), "no ping: {opens:?}");
    for o in &opens {
        s.handle(
            Event::Answer { flight: o.flight, state: PortState::Closed, reason: Reason::ConnRefused, rtt: Some(MS) },
            t0,
        );
    }
    let reports: Vec<(HostState, Reason)> = std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| {
            if let Action::HostDone { report, .. } = a { Some((report.state, report.state_reason)) } else { None }
        })
        .collect();
    assert_eq!(reports, [(HostState::Up, Reason::LocalhostResponse); 2]);

    let cfg = scan([22], Timing::default());
    let mut s = Scheduler::new(&cfg, own, &progress, wall, t0);
    let mut sim_targets = vec![target(1)].into_iter();
    s.admit(&mut sim_targets, t0);
    s.start_sending(t0);
    let o = s.next_open(t0).unwrap();
    s.handle(
        Event::Answer { flight: o.flight, state: PortState::Closed, reason: Reason::ConnRefused, rtt: Some(MS) },
        t0,
    );
    let Some(Action::HostDone { report, .. }) = std::iter::from_fn(|| s.poll_action()).last() else { panic!() };
    assert_eq!(report.state_reason, Reason::UserSet, "-Pn: the user's word, own address or not");
}

#[test]
fn a_ping_answer_brings_a_host_up_and_then_its_ports_are_scanned() {
    let t0 = Instant::now();
    let cfg = pinged([22, 25]);
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, open| match open.port {
        443 => Fate::Later(PortState::Closed, Reason::ConnRefused, 2 * MS),
        80 => Fate::Lost,
        _ => Fate::AtOnce(PortState::Closed, Reason::ConnRefused, MS),
    });
    let ports: Vec<u16> = sim.log.opens.iter().map(|(_, o)| o.port).collect();
    assert_eq!(&ports[..2], [80, 443], "pings first");
    assert_eq!(&ports[2..], [22, 25], "no retry of the silent ping once the host is up");
    let host = &sim.log.hosts[0];
    assert_eq!((host.state, host.state_reason), (HostState::Up, Reason::ConnRefused));
    assert_eq!(host.ports.len(), 2);
}

#[test]
fn a_host_that_answers_no_ping_is_down_and_an_icmp_error_says_why() {
    let t0 = Instant::now();
    let cfg = pinged([22]);
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2), target(3)], &mut |_, open| {
        if open.addr == addr(3) && open.port == 443 {
            Fate::AtOnce(PortState::Filtered, Reason::HostUnreach, MS)
        } else {
            Fate::Lost
        }
    });
    let mut got: Vec<(IpAddr, HostState, Reason)> =
        sim.log.hosts.iter().map(|h| (h.addr, h.state, h.state_reason)).collect();
    got.sort_by_key(|g| g.0);
    assert_eq!(
        got,
        [(addr(2), HostState::Down, Reason::NoHostResponse), (addr(3), HostState::Down, Reason::HostUnreach)]
    );
    assert!(sim.log.ports.is_empty());
    assert!(sim.log.opens.iter().all(|(_, o)| o.port != 22), "a down host's ports are not probed");
    assert_eq!(sim.s.stats().hosts_down, 2);
    assert_eq!(progress.ports_done.load(Ordering::Relaxed), 2, "a down host counts its ports done");
}

#[test]
fn hosts_share_the_window_round_robin_and_each_is_reported_after_its_ports() {
    let t0 = Instant::now();
    let cfg = scan([1, 2, 3], Timing::default());
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2), target(3)], &mut |_, open| {
        Fate::Later(PortState::Closed, Reason::ConnRefused, if open.addr == addr(2) { 5 * MS } else { MS })
    });
    let order: Vec<(IpAddr, u16)> = sim.log.opens.iter().map(|(_, o)| (o.addr, o.port)).collect();
    assert_eq!(order, [(addr(2), 1), (addr(3), 1), (addr(2), 2), (addr(3), 2), (addr(2), 3), (addr(3), 3)]);
    // Host 3 answers faster: its ports and its report come first.
    let done: Vec<IpAddr> = sim.log.hosts.iter().map(|h| h.addr).collect();
    assert_eq!(done, [addr(3), addr(2)]);
    let first_of_2 = sim.log.ports.iter().position(|(a, _)| *a == addr(2)).unwrap();
    assert_eq!(first_of_2, 3, "all of host 3's ports, then host 2's");
}

#[test]
fn a_host_waits_for_its_name_until_the_grace_period_ends() {
    let t0 = Instant::now();
    let cfg = ConnectScan { reverse_dns: true, ..scan([22], Timing::default()) };
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2), target(3)].into_iter(), t0);
    let names: Vec<HostId> = std::iter::from_fn(|| s.poll_action())
        .map(|a| if let Action::ResolveName { host, .. } = a { host } else { panic!("{a:?}") })
        .collect();
    assert_eq!(names.len(), 2);
    s.start_sending(t0);
    let opens: Vec<Open> = std::iter::from_fn(|| s.next_open(t0)).collect();
    for o in &opens {
        s.handle(Event::Answer { flight: o.flight, state: PortState::Open, reason: Reason::SynAck, rtt: Some(MS) }, t0);
    }
    assert!(std::iter::from_fn(|| s.poll_action()).all(|a| matches!(a, Action::Port { .. })), "no host done yet");
    // One name comes in: that host is done, with its name.
    s.handle(Event::Named { host: names[0], name: Some("two.example".into()) }, t0 + MS);
    let Some(Action::HostDone { report, .. }) = s.poll_action() else { panic!() };
    assert_eq!(report.addr, addr(2));
    assert_eq!(report.hostnames[0].name, "two.example");
    // The other never answers: done without a name when the grace period ends.
    s.check_hosts(t0 + Duration::from_millis(1499));
    // Only a boundary, a second on: the first host is counted finished.
    assert!(matches!(s.poll_action(), Some(Action::Boundary { group: 0 })));
    assert!(s.poll_action().is_none());
    s.check_hosts(t0 + PTR_GRACE);
    let Some(Action::HostDone { report, .. }) = s.poll_action() else { panic!() };
    assert!(report.addr == addr(3) && report.hostnames.is_empty() && report.complete);
    assert!(s.is_done());
}

#[test]
fn a_cancel_reports_hosts_past_discovery_as_incomplete_and_closes_every_socket() {
    let t0 = Instant::now();
    let cfg = scan(1..=100, Timing { max_parallelism: Some(10), ..Timing::default() });
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let opens: Vec<Open> = std::iter::from_fn(|| s.next_open(t0)).collect();
    for o in &opens {
        s.handle(Event::InProgress { flight: o.flight, started: t0 }, t0);
    }
    s.interrupt(t0 + MS);
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert_eq!(actions.iter().filter(|a| matches!(a, Action::Close(_))).count(), 10);
    let Some(Action::HostDone { report, .. }) = actions.last() else { panic!() };
    assert!(!report.complete && !report.timed_out);
    assert!(s.stats().interrupted);
    assert_eq!(s.inflight(), 0);
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<ConnectEvent>>);

impl PacketTrace for Recorder {
    fn sent(&self, _: &[u8], _: Instant) {}
    fn received(&self, _: &[u8], _: Instant) {}
    fn connect(&self, event: &ConnectEvent, _: Instant) {
        self.0.lock().unwrap().push(*event);
    }
}

#[test]
fn the_trace_hook_hears_each_launch_and_answer() {
    let t0 = Instant::now();
    let recorder = std::sync::Arc::new(Recorder::default());
    let cfg = ConnectScan {
        trace: Tracer::new(recorder.clone()),
        ..scan([22, 23], Timing { max_retries: 0, ..Timing::default() })
    };
    let progress = Progress::default();
    let mut sim = Sim::new(&cfg, &progress, t0);
    sim.run(vec![target(2)], &mut |_, open| match open.port {
        22 => Fate::Later(PortState::Open, Reason::SynAck, MS),
        _ => Fate::Lost,
    });
    let heard: Vec<(u16, ConnectOutcome)> = recorder.0.lock().unwrap().iter().map(|e| (e.port, e.outcome)).collect();
    assert_eq!(
        heard,
        [
            (22, ConnectOutcome::InProgress),
            (23, ConnectOutcome::InProgress),
            (22, ConnectOutcome::Answer(PortState::Open, Reason::SynAck)),
            (23, ConnectOutcome::Answer(PortState::Filtered, Reason::NoResponse)),
        ]
    );
}

#[test]
fn an_unwatchable_socket_puts_its_probe_back_without_counting_a_backoff() {
    let t0 = Instant::now();
    let cfg = scan([7, 8], Timing::default());
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2)].into_iter(), t0);
    s.start_sending(t0);
    let first = s.next_open(t0).unwrap();
    s.handle(Event::Unwatchable { flight: first.flight }, t0);
    assert_eq!(s.next_open(t0), None, "paused");
    assert_eq!(progress.backoffs.load(Ordering::Relaxed), 0, "the descriptor limit was not the cause");
    s.start_sending(t0 + BACKOFF);
    let again = s.next_open(t0 + BACKOFF).unwrap();
    assert_eq!((again.port, again.try_no), (first.port, 0));
}

#[test]
fn a_ping_scan_reports_each_host_at_once() {
    let t0 = Instant::now();
    let cfg = scan([], Timing::default());
    let progress = Progress::default();
    let mut s = scheduler(&cfg, &progress, t0);
    s.admit(&mut vec![target(2), target(3)].into_iter(), t0);
    let done: Vec<IpAddr> = std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| if let Action::HostDone { report, .. } = a { Some(report.addr) } else { None })
        .collect();
    assert_eq!(done, [addr(2), addr(3)]);
    assert!(s.is_done());
}

#[test]
fn boundaries_count_the_hosts_reported_at_most_once_a_second_and_finished_hosts_are_skipped() {
    // Each host's one port answers after 300 ms, one host at a time: a host is reported every 300 ms.
    let timing = Timing { max_parallelism: Some(1), ..Timing::default() };
    let cfg = scan([80], timing);
    let progress = Progress::default();
    let t0 = Instant::now();
    let mut sim = Sim::new(&cfg, &progress, t0);
    let fate = &mut |_: Instant, _: &Open| Fate::Later(PortState::Open, Reason::SynAck, 300 * MS);
    sim.run((1..=10).map(target).collect(), fate);
    assert_eq!(sim.log.hosts.len(), 10);
    assert!(!sim.log.boundaries.is_empty());
    let mut last = None;
    for &(group, reported) in &sim.log.boundaries {
        // A boundary counts every host reported before it, and they grow.
        assert_eq!(group + 1, reported as u64, "{:?}", sim.log.boundaries);
        assert!(last.is_none_or(|l| group > l));
        last = Some(group);
    }
    // 10 hosts over 3 s: about three boundaries, never more than one a second, and the last host counted.
    assert!((2..=4).contains(&sim.log.boundaries.len()), "{:?}", sim.log.boundaries);
    assert_eq!(sim.log.boundaries.last().map(|b| b.0), Some(9), "{:?}", sim.log.boundaries);

    // A resumed run skips the hosts the earlier one finished, each as many times as it finished.
    let mut cfg = scan([80], timing);
    cfg.finished = [(addr(2), 1), (addr(3), 2)].into_iter().collect();
    let mut sim = Sim::new(&cfg, &progress, t0);
    let fate = &mut |_: Instant, _: &Open| Fate::AtOnce(PortState::Closed, Reason::ConnRefused, MS);
    sim.run([1, 2, 3, 2, 3, 3, 4].into_iter().map(target).collect(), fate);
    let mut scanned: Vec<IpAddr> = sim.log.hosts.iter().map(|h| h.addr).collect();
    scanned.sort();
    assert_eq!(scanned, vec![addr(1), addr(2), addr(3), addr(4)]);
    assert_eq!(sim.s.stats().hosts_total, 4);
}

#[test]
fn no_boundary_follows_an_interrupt() {
    let cfg = scan([80, 81], Timing::default());
    let progress = Progress::default();
    let t0 = Instant::now();
    let mut sim = Sim::new(&cfg, &progress, t0);
    let fate = &mut |_: Instant, _: &Open| Fate::Lost;
    let mut targets = (1..=3).map(target);
    sim.turn(&mut targets, fate);
    sim.s.interrupt(t0 + Duration::from_secs(5));
    sim.drain(fate);
    assert_eq!(sim.log.hosts.len(), 3);
    assert!(sim.log.boundaries.is_empty(), "{:?}", sim.log.boundaries);
}
