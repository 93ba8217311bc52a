//! The idle scan of one target as a state machine: time and the zombie's answers go in, what to send comes
//! out ([`Machine::poll`], [`Machine::on_answer`]). No sockets, no clock: the edge (`edge.rs`) does
//! the I/O.
//!
//! 1. **Qualify**: probe the zombie [`QUALIFY_PROBES`] times, [`QUALIFY_GAP`] apart, then
//!    [`QUALIFY_QUICK`] times back to back; classify its IP IDs
//!    ([`super::ipid`]); refuse random, zero and constant ones; the steps between answers give a first
//!    estimate of its own traffic ([`super::noise`]).
//! 2. **Check**: SYN/ACKs spoofed from the target's address to the zombie make it reset them towards the
//!    target. A global counter moves by that many; a counter per destination (or a path that drops spoofed
//!    packets) does not move for our probes, and the zombie is refused. The check is repeated every
//!    [`CHECK_EVERY`] measurements and at the end: a zombie that changes mid-scan is caught, and only
//!    results measured before its last good check are kept.
//! 3. **Scan**: SYNs spoofed from the zombie go to a group of ports, `copies` per port from distinct source
//!    ports; an open port answers each with a SYN/ACK to the zombie, which resets it, moving its counter.
//!    A probe then reads the counter. The rise minus one (the answer to the probe) minus what the zombie's
//!    own traffic may explain is the group's open ports, times `copies`. A quiet group's ports are
//!    closed|filtered; a group that rose is split in two, down to single ports; a single port that rose is
//!    measured again, and called open after three rises in a row ([`RISES_FOR_OPEN`]), closed|filtered
//!    after two quiet measurements. `copies` is one more than the rise the zombie's own traffic reaches
//!    by chance (so one open port always shows above it); it follows the estimate, which control
//!    measurements (no spoofed packet) refresh every [`CONTROL_EVERY`] measurements.
//!
//! The wait between the spoofed SYNs and the probe grows when a split finds nothing where its group rose
//! (an answer came late, or the background was underestimated); the last quiet groups before it are then
//! measured again (the late answers may have been theirs), and the background too.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use super::ipid::{IpIdClass, classify};
use super::noise::{Background, FALSE_RISE, threshold};

/// Probes of the qualification sent [`QUALIFY_GAP`] apart...
pub const QUALIFY_PROBES: usize = 6;
/// ...then back to back (each when the last is answered): in so short a window even a chatty zombie
/// seldom sends a packet of its own, so a +1 counter shows steps of 1 there, which a +2 counter never
/// does.
pub const QUALIFY_QUICK: usize = 4;
/// Quiet groups remembered: measured again when a later rise turns out to be theirs, come late.
const RECENT_QUIET: usize = 16;
/// Time between the qualification's probes.
pub const QUALIFY_GAP: Duration = Duration::from_millis(20);
/// SYN/ACKs spoofed from the target in one check.
pub const CHECK_COUNT: u16 = 4;
/// Measurements between two checks.
pub const CHECK_EVERY: u32 = 40;
/// Measurements between two control measurements.
pub const CONTROL_EVERY: u32 = 8;
/// Rises in a row that make a port open.
pub const RISES_FOR_OPEN: u8 = 3;
/// Quiet measurements of a single port that make it closed|filtered after a rise.
const QUIETS_FOR_CLOSED: u8 = 2;
/// Probes lost in a row before the zombie is given up.
const LOSSES: u32 = 4;
/// Most spoofed copies per port: a zombie that needs more is too busy to read.
pub const MAX_COPIES: u32 = 32;
/// Most spoofed frames in one measurement, at first; halved (down to [`MIN_FRAMES`]) each time a
/// measurement's window was too long to read.
const MAX_FRAMES: usize = 512;
const MIN_FRAMES: usize = 16;
/// Rises that cannot be explained (more than every port open plus the background), or late answers, in a
/// row before the zombie is given up.
const ANOMALIES: u32 = 3;

/// The knobs of a scan.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Most ports in one group.
    pub max_group: usize,
    /// Shortest wait between the spoofed SYNs and the probe that reads their effect.
    pub min_wait: Duration,
    /// Longest.
    pub max_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_group: 128, min_wait: Duration::from_millis(3), max_wait: Duration::from_secs(1) }
    }
}

/// Something to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// A SYN/ACK from us to the zombie's probe port; the IP ID of its reset comes back to
    /// [`Machine::on_answer`] with this `id`.
    Probe {
        /// The probe's number.
        id: u32,
    },
    /// `count` SYN/ACKs spoofed from the target to the zombie's probe port (the check).
    FromTarget {
        /// How many.
        count: u16,
    },
    /// `copies` SYNs spoofed from the zombie to each of `ports` on the target.
    Spoof {
        /// Target ports.
        ports: Vec<u16>,
        /// SYNs per port, each from its own source port.
        copies: u16,
    },
}

/// What the edge does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this now, then poll again.
    Send(Out),
    /// Nothing to send before this time (or an answer).
    Wait(Instant),
    /// Finished: read [`Machine::outcome`].
    Done,
}

/// A port's state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Its SYN/ACKs moved the zombie's counter, three times in a row.
    Open,
    /// It did not move the counter.
    ClosedFiltered,
}

/// Why the zombie cannot be used (or no longer).
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// It never answered a probe.
    Silent,
    /// Its IP IDs are of an unusable class.
    Unusable(IpIdClass),
    /// Its counter did not move when it answered the target: a counter per destination, or spoofed
    /// packets do not get through.
    NotGlobal {
        /// Packets the check should have made it send.
        expected: u16,
        /// The rise seen.
        seen: u32,
        /// Whether this happened mid-scan (a check after the first).
        mid_scan: bool,
    },
    /// It sends so much of its own that open ports cannot be read from its counter.
    TooBusy {
        /// Packets per second of its own.
        per_second: f64,
    },
    /// It stopped answering mid-scan.
    Lost,
    /// Its counter stopped making sense mid-scan (random steps, jumps).
    Changed {
        /// The last step between two answers.
        step: Option<u32>,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Silent => f.write_str("it did not answer any probe (a SYN/ACK to its probe port)"),
            Failure::Unusable(class) => {
                write!(f, "its IP ID sequence class is {}: its IP IDs do not count the packets it sends", class.name())
            }
            Failure::NotGlobal { expected, seen, mid_scan: false } => write!(
                f,
                "its IP ID counter moved by {seen} where {expected} packets spoofed from the target should have \
                 moved it: it keeps a counter per destination, or spoofed packets do not reach it"
            ),
            Failure::NotGlobal { expected, seen, mid_scan: true } => write!(
                f,
                "it stopped counting the packets it sends to the target mid-scan (its counter moved by {seen} \
                 where {expected} were expected)"
            ),
            Failure::TooBusy { per_second } => write!(
                f,
                "it sends about {per_second:.0} packets per second of its own: too many to read open ports from \
                 its IP ID counter"
            ),
            Failure::Lost => f.write_str("it stopped answering mid-scan"),
            Failure::Changed { step: Some(step) } => {
                write!(f, "its IP ID counter stopped making sense mid-scan (a step of {step})")
            }
            Failure::Changed { step: None } => f.write_str("its IP ID counter stopped making sense mid-scan"),
        }
    }
}

/// What a finished machine found.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The zombie's class, once qualified.
    pub class: Option<IpIdClass>,
    /// Every port whose state is trustworthy, in port order. Without a failure: every port.
    pub ports: Vec<(u16, Verdict)>,
    /// Why the scan stopped early.
    pub failure: Option<Failure>,
    /// The zombie's own traffic, packets per second (last estimate).
    pub background: f64,
    /// Measurements made (checks and controls included).
    pub measurements: u32,
    /// Probes sent to the zombie.
    pub probes: u32,
    /// The smoothed round-trip time of the zombie's answers.
    pub srtt: Option<Duration>,
    /// Spoofed SYNs per port at the end.
    pub copies: u32,
    /// The wait between the spoofed SYNs and the probe at the end.
    pub wait: Duration,
    /// Splits that found nothing where their group rose, and quiet groups measured again.
    pub retried: u32,
}

/// One measurement: what was sent before the probe that reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Test {
    /// Spoofed SYNs to a group; `split` names the group this one was split from.
    Group { ports: Vec<u16>, split: Option<u32> },
    /// A single port measured again after a rise.
    Confirm(u16),
    /// Nothing sent: the zombie's own traffic.
    Control,
    /// SYN/ACKs spoofed from the target; `last`: the check that ends the scan.
    Check { last: bool },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    Qualify,
    Scan,
    Done,
}

#[derive(Clone, Debug)]
struct InFlight {
    id: u32,
    sent: Instant,
    /// The probes of the same measurement sent before it (timed out), and when: an answer to one of them
    /// is as good. (Each probe has its own number, so an answer's round trip is never ambiguous.)
    earlier: Vec<(u32, Instant)>,
}

/// Most probes remembered as stale.
const STALE_KEPT: usize = 64;

/// The idle scan of one target (see the module documentation).
#[derive(Debug)]
pub struct Machine {
    settings: Settings,
    phase: Phase,
    next_id: u32,
    probe: Option<InFlight>,
    /// Probes given up, whose answers may still come.
    stale: Vec<u32>,
    /// Answers to stale probes since the last measurement.
    stale_seen: u32,
    losses: u32,
    /// The last answer: its IP ID and when it came.
    last: Option<(u16, Instant)>,
    /// The qualification's answers: IP ID and when it came.
    qualify: Vec<(u16, Instant)>,
    next_qualify: Option<Instant>,
    class: Option<IpIdClass>,
    srtt: Option<Duration>,
    background: Background,
    work: VecDeque<Test>,
    /// The test whose packets are out, and when its probe goes.
    current: Option<(Test, Instant, u32)>,
    trusted: BTreeMap<u16, Verdict>,
    unchecked: BTreeMap<u16, Verdict>,
    /// Rises and quiet measurements of single ports.
    tally: HashMap<u16, (u8, u8)>,
    /// The last quiet groups.
    recent: VecDeque<Vec<u16>>,
    /// Split groups: children left, and whether any rose.
    splits: HashMap<u32, (u8, bool)>,
    next_split: u32,
    copies: u32,
    /// Quiet groups measured again.
    retried: u32,
    /// Stopped early by [`Machine::stop`].
    stopped: bool,
    /// Most spoofed frames per measurement now.
    frame_budget: usize,
    /// The windows measurements took, smoothed.
    seen_window: Duration,
    wait: Duration,
    measurements: u32,
    since_control: u32,
    since_check: u32,
    checks_passed: u32,
    check_failures: u32,
    anomalies: u32,
    probes: u32,
    failure: Option<Failure>,
    ports: Vec<u16>,
}

impl Machine {
    /// A scan of `ports` (each once; any order) starting at `now`.
    pub fn new(ports: Vec<u16>, settings: Settings, now: Instant) -> Machine {
        Machine {
            settings,
            phase: Phase::Qualify,
            next_id: 0,
            probe: None,
            stale: Vec::new(),
            stale_seen: 0,
            losses: 0,
            last: None,
            qualify: Vec::new(),
            next_qualify: Some(now),
            class: None,
            srtt: None,
            background: Background::default(),
            work: VecDeque::new(),
            current: None,
            trusted: BTreeMap::new(),
            unchecked: BTreeMap::new(),
            tally: HashMap::new(),
            recent: VecDeque::new(),
            splits: HashMap::new(),
            next_split: 0,
            copies: 1,
            seen_window: Duration::ZERO,
            retried: 0,
            stopped: false,
            frame_budget: MAX_FRAMES,
            wait: settings.min_wait,
            measurements: 0,
            since_control: 0,
            since_check: 0,
            checks_passed: 0,
            check_failures: 0,
            anomalies: 0,
            probes: 0,
            failure: None,
            ports,
        }
    }

    /// The zombie's class, once qualified.
    pub fn class(&self) -> Option<IpIdClass> {
        self.class
    }

    /// What to do at `now`.
    pub fn poll(&mut self, now: Instant) -> Step {
        if self.phase == Phase::Done {
            return Step::Done;
        }
        if let Some(p) = &self.probe {
            let deadline = p.sent + self.probe_timeout();
            if now < deadline {
                return Step::Wait(deadline);
            }
            self.losses += 1;
            if self.losses >= LOSSES {
                let failure = if self.last.is_none() { Failure::Silent } else { Failure::Lost };
                return self.fail(failure);
            }
            return self.send_probe(now, true);
        }
        if let Some((_, probe_at, _)) = &self.current {
            if now < *probe_at {
                return Step::Wait(*probe_at);
            }
            return self.send_probe(now, false);
        }
        match self.phase {
            Phase::Qualify => self.qualify_step(now),
            Phase::Scan => self.next_test(now),
            Phase::Done => Step::Done,
        }
    }

    /// The zombie's answer to probe `id`: the IP ID of its reset, received at `now`. Answers to probes no
    /// longer waited for (a retried one answering late) are ignored.
    pub fn on_answer(&mut self, id: u32, ip_id: u16, now: Instant) {
        let matched = self.probe.as_ref().is_some_and(|p| p.id == id || p.earlier.iter().any(|e| e.0 == id));
        if !matched {
            // The answer to a probe given up: it moved the counter, which the next measurement must not
            // read as the target's doing.
            if let Some(i) = self.stale.iter().position(|s| *s == id) {
                self.stale.swap_remove(i);
                self.stale_seen += 1;
            }
            return;
        }
        let Some(p) = self.probe.take() else { return };
        // The other probes of this measurement may still be answered: stale from now on.
        let all = || p.earlier.iter().copied().chain(std::iter::once((p.id, p.sent)));
        for (other, _) in all().filter(|o| o.0 != id) {
            if self.stale.len() == STALE_KEPT {
                self.stale.remove(0);
            }
            self.stale.push(other);
        }
        let sent = all().find(|o| o.0 == id).map_or(p.sent, |o| o.1);
        self.losses = 0;
        let sample = now.saturating_duration_since(sent);
        self.srtt = Some(match self.srtt {
            None => sample,
            Some(s) => (s * 7 + sample) / 8,
        });
        let previous = self.last.replace((ip_id, now));
        if self.phase == Phase::Qualify {
            self.qualify.push((ip_id, now));
            let gap = if self.qualify.len() < QUALIFY_PROBES { QUALIFY_GAP } else { Duration::ZERO };
            self.next_qualify = Some(now + gap);
            return;
        }
        let (Some((before, at)), Some(class), Some((test, _, copies))) = (previous, self.class, self.current.take())
        else {
            return;
        };
        self.measurements += 1;
        let window = now.saturating_duration_since(at);
        let stale = std::mem::take(&mut self.stale_seen);
        match class.sent_between(before, ip_id) {
            Some(sent) => self.evaluate(test, (sent - 1).saturating_sub(stale), window, copies),
            None => self.anomaly(test, None),
        }
    }

    /// Stops the scan early (the user interrupted it): the outcome keeps only checked results.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.phase = Phase::Done;
    }

    /// The outcome, once [`Step::Done`] (or after [`Machine::stop`]).
    pub fn outcome(&self) -> Outcome {
        let mut ports: BTreeMap<u16, Verdict> = self.trusted.clone();
        if self.failure.is_none() && !self.stopped {
            ports.extend(self.unchecked.iter().map(|(p, v)| (*p, *v)));
        }
        Outcome {
            class: self.class,
            ports: ports.into_iter().collect(),
            failure: self.failure.clone(),
            background: self.background.rate(),
            measurements: self.measurements,
            probes: self.probes,
            srtt: self.srtt,
            copies: self.copies,
            wait: self.wait,
            retried: self.retried,
        }
    }

    fn fail(&mut self, failure: Failure) -> Step {
        self.failure = Some(failure);
        self.phase = Phase::Done;
        self.probe = None;
        self.current = None;
        Step::Done
    }

    fn probe_timeout(&self) -> Duration {
        let base = self.srtt.map_or(Duration::from_millis(500), |s| (s * 8).max(Duration::from_millis(30)));
        (base * (1 << self.losses.min(4))).min(Duration::from_secs(2))
    }

    fn send_probe(&mut self, now: Instant, retry: bool) -> Step {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.probes += 1;
        let mut earlier = Vec::new();
        if retry && let Some(p) = self.probe.take() {
            earlier = p.earlier;
            earlier.push((p.id, p.sent));
        }
        self.probe = Some(InFlight { id, sent: now, earlier });
        Step::Send(Out::Probe { id })
    }

    fn qualify_step(&mut self, now: Instant) -> Step {
        if self.qualify.len() < QUALIFY_PROBES + QUALIFY_QUICK {
            return match self.next_qualify {
                Some(at) if now < at => Step::Wait(at),
                _ => self.send_probe(now, false),
            };
        }
        let ids: Vec<u16> = self.qualify.iter().map(|q| q.0).collect();
        let class = classify(&ids);
        if !class.usable() {
            return self.fail(Failure::Unusable(class));
        }
        self.class = Some(class);
        // The steps between the qualification's answers are the zombie's own traffic plus one.
        for w in self.qualify.windows(2) {
            if let Some(sent) = class.sent_between(w[0].0, w[1].0) {
                self.background.add(sent - 1, w[1].1.saturating_duration_since(w[0].1));
            }
        }
        self.wait = ((self.srtt.unwrap_or_default() * 4) + Duration::from_millis(1))
            .clamp(self.settings.min_wait, self.settings.max_wait);
        if let Some(step) = self.retune() {
            return step;
        }
        let group = self.group_size();
        let mut ports = std::mem::take(&mut self.ports);
        ports.sort_unstable();
        ports.dedup();
        // Two control measurements before the first group: the estimate of the zombie's own traffic then
        // rests on windows as long as the groups' own, not only on the qualification's.
        self.work.push_back(Test::Check { last: false });
        self.work.push_back(Test::Control);
        self.work.push_back(Test::Control);
        for chunk in ports.chunks(group) {
            self.work.push_back(Test::Group { ports: chunk.to_vec(), split: None });
        }
        self.work.push_back(Test::Check { last: true });
        self.phase = Phase::Scan;
        self.next_test(now)
    }

    /// Ports per group: as many as fit the frame budget at the current copies, at most the setting.
    fn group_size(&self) -> usize {
        (self.frame_budget / self.copies.max(1) as usize).clamp(1, self.settings.max_group.max(1))
    }

    /// The window a measurement takes: the wait plus a round trip for the probe.
    /// With margin: the longest of the planned window and the windows measurements have really taken
    /// (sending a large group, and the zombie reading the target's answers, take time too), times 1.5.
    fn window(&self) -> Duration {
        let planned = self.wait + self.srtt.unwrap_or_default() * 2;
        planned.max(self.seen_window) * 3 / 2
    }

    /// The rise the zombie's own traffic reaches by chance in a measurement's window.
    fn limit(&self, window: Duration) -> u32 {
        threshold(self.background.mean(window), FALSE_RISE)
    }

    /// Sets `copies` from the background estimate; refuses a zombie too busy to read.
    fn retune(&mut self) -> Option<Step> {
        let copies = self.limit(self.window()) + 1;
        if copies > MAX_COPIES {
            let per_second = self.background.rate();
            return Some(self.fail(Failure::TooBusy { per_second }));
        }
        self.copies = copies;
        None
    }

    fn next_test(&mut self, now: Instant) -> Step {
        let test = if self.since_check >= CHECK_EVERY {
            self.since_check = 0;
            Test::Check { last: false }
        } else if self.since_control >= CONTROL_EVERY {
            self.since_control = 0;
            Test::Control
        } else {
            match self.work.pop_front() {
                Some(test) => test,
                None => {
                    self.phase = Phase::Done;
                    return Step::Done;
                }
            }
        };
        self.since_check += 1;
        self.since_control += 1;
        let probe_at = now + self.wait;
        let out = match &test {
            Test::Group { ports, .. } => Some(Out::Spoof { ports: ports.clone(), copies: self.copies as u16 }),
            Test::Confirm(port) => Some(Out::Spoof { ports: vec![*port], copies: self.copies as u16 }),
            Test::Check { .. } => Some(Out::FromTarget { count: CHECK_COUNT }),
            Test::Control => None,
        };
        self.current = Some((test, probe_at, self.copies));
        match out {
            Some(out) => Step::Send(out),
            None => Step::Wait(probe_at),
        }
    }

    /// Reads a measurement: `extra` packets beyond the probe's answer in `window`.
    fn evaluate(&mut self, test: Test, extra: u32, window: Duration, copies: u32) {
        let limit = self.limit(window);
        if matches!(test, Test::Group { .. } | Test::Confirm(_)) {
            // The windows of the measurements that send packets, which sending and the target's answers
            // make longer than a control's: the copies are sized on them.
            self.seen_window = if self.seen_window.is_zero() { window } else { (self.seen_window * 3 + window) / 4 };
            if limit >= copies {
                // The window was so long that the background could hide an open port's rise: the
                // measurement says nothing. Fewer frames per measurement (a shorter window), more copies,
                // and again.
                self.frame_budget = (self.frame_budget / 2).max(MIN_FRAMES);
                let _ = self.retune();
                let group = self.group_size();
                match test {
                    Test::Group { ports, split } if ports.len() > group => {
                        for chunk in ports.chunks(group).rev() {
                            self.work.push_front(Test::Group { ports: chunk.to_vec(), split: None });
                        }
                        if let Some(parent) = split {
                            // Its children are new groups now: the split is no longer waited for.
                            self.splits.remove(&parent);
                        }
                    }
                    other => self.work.push_front(other),
                }
                return;
            }
        }
        match test {
            Test::Control => {
                // A jump no background explains: the counter is no longer what it was.
                if extra > limit.saturating_mul(4) + 16 {
                    return self.anomaly(Test::Control, Some(extra + 1));
                }
                self.anomalies = 0;
                if extra > limit {
                    // A rise with nothing sent: the zombie's own traffic, or the late answers of a group
                    // already called quiet, which is measured again.
                    self.requeue_recent();
                }
                self.background.add(extra, window);
                // A zombie now too busy fails here; the step is read by the next poll.
                let _ = self.retune();
            }
            Test::Check { last } => {
                let expected = u32::from(CHECK_COUNT);
                // Half the check's packets may be lost, and the background only adds.
                if extra >= expected.div_ceil(2) {
                    self.anomalies = 0;
                    self.check_failures = 0;
                    self.checks_passed += 1;
                    let checked = std::mem::take(&mut self.unchecked);
                    self.trusted.extend(checked);
                    if last {
                        self.phase = Phase::Done;
                    }
                } else {
                    self.check_failures += 1;
                    if self.check_failures >= 2 {
                        let mid_scan = self.checks_passed > 0;
                        self.fail(Failure::NotGlobal { expected: CHECK_COUNT, seen: extra, mid_scan });
                    } else {
                        self.work.push_front(Test::Check { last });
                    }
                }
            }
            Test::Group { ports, split } => {
                // More than every port open plus the background: not this measurement's doing.
                let most = copies as usize * ports.len() + limit as usize + 2;
                if extra as usize > most {
                    return self.anomaly(Test::Group { ports, split }, Some(extra + 1));
                }
                self.anomalies = 0;
                let rose = extra > limit;
                if let Some(parent) = split {
                    self.child_done(parent, rose);
                }
                if !rose {
                    for p in &ports {
                        self.unchecked.insert(*p, Verdict::ClosedFiltered);
                    }
                    if self.recent.len() == RECENT_QUIET {
                        self.recent.pop_front();
                    }
                    self.recent.push_back(ports);
                } else if ports.len() == 1 {
                    self.tally.insert(ports[0], (1, 0));
                    self.work.push_front(Test::Confirm(ports[0]));
                } else {
                    let token = self.next_split;
                    self.next_split = self.next_split.wrapping_add(1);
                    self.splits.insert(token, (2, false));
                    let (a, b) = ports.split_at(ports.len() / 2);
                    self.work.push_front(Test::Group { ports: b.to_vec(), split: Some(token) });
                    self.work.push_front(Test::Group { ports: a.to_vec(), split: Some(token) });
                }
            }
            Test::Confirm(port) => {
                if extra as usize > copies as usize + limit as usize + 2 {
                    return self.anomaly(Test::Confirm(port), Some(extra + 1));
                }
                self.anomalies = 0;
                let (rises, quiets) = self.tally.entry(port).or_insert((0, 0));
                if extra > limit {
                    *rises += 1;
                } else {
                    *quiets += 1;
                }
                let verdict = if *rises >= RISES_FOR_OPEN {
                    Some(Verdict::Open)
                } else if *quiets >= QUIETS_FOR_CLOSED {
                    Some(Verdict::ClosedFiltered)
                } else {
                    None
                };
                match verdict {
                    Some(v) => {
                        self.unchecked.insert(port, v);
                    }
                    None => self.work.push_front(Test::Confirm(port)),
                }
            }
        }
    }

    /// A child of split `parent` measured; when both are done and neither rose, the parent's rise was not
    /// its ports' doing: the wait grows (an answer may have come late) and the background is measured.
    fn child_done(&mut self, parent: u32, rose: bool) {
        let Some((left, any)) = self.splits.get_mut(&parent) else { return };
        *left = left.saturating_sub(1);
        *any |= rose;
        if *left == 0 {
            let any = *any;
            self.splits.remove(&parent);
            if !any {
                self.wait = (self.wait * 3 / 2).clamp(self.settings.min_wait, self.settings.max_wait);
                self.requeue_recent();
                self.work.push_front(Test::Control);
            }
        }
    }

    /// The last quiet groups measured again.
    fn requeue_recent(&mut self) {
        for ports in std::mem::take(&mut self.recent) {
            self.retried += 1;
            for p in &ports {
                self.unchecked.remove(p);
            }
            self.work.push_front(Test::Group { ports, split: None });
        }
    }

    /// A measurement that cannot be read: measured again after a control; given up after [`ANOMALIES`]
    /// in a row.
    fn anomaly(&mut self, test: Test, step: Option<u32>) {
        self.anomalies += 1;
        if self.anomalies >= ANOMALIES {
            self.fail(Failure::Changed { step });
            return;
        }
        self.work.push_front(test);
        self.work.push_front(Test::Control);
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
