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

use tojimari_core::Reason;
use tojimari_core::permutation::Permutation;
use tojimari_core::report::HostState;
use tojimari_core::sweep::Space;

use super::event::{Action, HostId};
use super::flights::Flights;
use super::host::{HostOrder, HostScan, NextProbe, Phase, ScanTarget};
use super::wall::WallClock;
use super::window::Window;
use super::{ConnectScan, Discovery, PortOrder, RunStats};
use crate::control::Progress;
use crate::own::OwnAddrs;
use crate::rate::TokenBucket;

/// Probes in flight by default (the descriptor budget may allow fewer).
const DEFAULT_WINDOW: usize = 2048;
/// Probes handed out between two looks at completions.
pub(super) const SEND_BATCH: usize = 64;
/// Hosts in discovery at once.
const DISCOVERY_GROUP: usize = 1024;
/// How long to wait for a PTR answer after a host's ports are done.
const PTR_GRACE: Duration = Duration::from_millis(1500);
/// How often at most a run says that the hosts reported so far are finished ([`Action::Boundary`]).
const BOUNDARY_EVERY: Duration = Duration::from_secs(1);
/// The longest the event loop waits without looking again (cancels, name answers, back-offs).
pub(super) const MAX_WAIT: Duration = Duration::from_millis(50);

/// Hosts whose ports are scanned at once, so that memory stays flat in the number of targets:
/// about a million port results in memory at most, and at most 256 hosts.
fn port_group_size(nports: usize) -> usize {
    (1_000_000 / nports.max(1)).clamp(1, 256)
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
    /// With a selection: the current group's targets that have picked ports, each with its picks.
    picked: VecDeque<(ScanTarget, Vec<u32>)>,
    /// With a selection: the next group of targets to take.
    next_group: u64,
    /// Hosts to skip, finished by an earlier run (see [`ConnectScan::finished`]).
    finished: super::Finished,
    /// Hosts reported so far; when the last [`Action::Boundary`] was said, and the hosts it counted.
    reported: u64,
    boundary_at: Instant,
    boundary_reported: u64,
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
            picked: VecDeque::new(),
            next_group: 0,
            finished: cfg.finished.clone(),
            // Boundaries go on counting from the hosts the earlier runs finished.
            reported: cfg.finished.values().map(|&n| u64::from(n)).sum(),
            boundary_at: now,
            boundary_reported: cfg.finished.values().map(|&n| u64::from(n)).sum(),
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

    /// Takes new hosts from `targets` while there is room.
    pub fn admit(&mut self, targets: &mut dyn Iterator<Item = ScanTarget>, now: Instant) {
        let group = port_group_size(self.cfg.ports.len());
        while !self.targets_done && self.active.len() < DISCOVERY_GROUP && self.flights.len() < self.window.size() {
            // Do not pile up hosts that cannot start their ports yet.
            if self.waiting.len() >= group {
                break;
            }
            let Some((target, order)) = self.next_target(targets) else {
                self.targets_done = true;
                break;
            };
            self.stats.hosts_total += 1;
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

    /// The next target to admit and the order of its first tries, past the hosts an earlier run finished.
    fn next_target(&mut self, targets: &mut dyn Iterator<Item = ScanTarget>) -> Option<(ScanTarget, HostOrder)> {
        loop {
            let (target, order) = self.next_candidate(targets)?;
            match self.finished.get_mut(&target.addr) {
                Some(times) if *times > 0 => *times -= 1,
                _ => return Some((target, order)),
            }
        }
    }

    /// The next target and the order of its first tries. With a selection, targets are taken a group at a
    /// time (the probe space's groups), and only those with a picked port are admitted.
    fn next_candidate(&mut self, targets: &mut dyn Iterator<Item = ScanTarget>) -> Option<(ScanTarget, HostOrder)> {
        let nports = self.cfg.ports.len() as u64;
        if self.cfg.selection.is_everything() {
            let target = targets.next()?;
            let order = match self.cfg.order {
                PortOrder::Random { seed } => Permutation::new(nports, host_seed(seed, target.addr)),
                PortOrder::Sequential => Permutation::identity(nports),
            };
            return Some((target, HostOrder::Seeded(order)));
        }
        while self.picked.is_empty() {
            let seed = match self.cfg.order {
                PortOrder::Random { seed } => Some(seed),
                PortOrder::Sequential => None,
            };
            let space = Space::new(&[nports], seed);
            let group: Vec<ScanTarget> = targets.take(space.group_hosts() as usize).collect();
            if group.is_empty() {
                return None;
            }
            let g = self.next_group;
            self.next_group += 1;
            let mut per_host: Vec<Vec<u32>> = vec![Vec::new(); group.len()];
            for list in space.picks(&self.cfg.selection, g, group.len() as u64) {
                for r in list {
                    per_host[(u64::from(r) / nports) as usize].push((u64::from(r) % nports) as u32);
                }
            }
            self.picked.extend(group.into_iter().zip(per_host).filter(|(_, picks)| !picks.is_empty()));
        }
        self.picked.pop_front().map(|(t, picks)| (t, HostOrder::Picks(picks)))
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

    /// Host timeouts (`--host-timeout`) and the deadlines of name lookups, at `now`; a boundary, when due.
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
        self.boundary(now);
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
        let nports = host.planned();
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
        self.reported += 1;
        self.boundary(now);
        self.promote_waiting(now)
    }

    /// Says that the hosts reported so far are finished, if some were reported since it was last said and a
    /// second has passed. Never after an interrupt: a host cut short by one is not finished.
    fn boundary(&mut self, now: Instant) {
        if !self.stats.interrupted
            && self.reported > self.boundary_reported
            && now.saturating_duration_since(self.boundary_at) >= BOUNDARY_EVERY
        {
            self.boundary_at = now;
            self.boundary_reported = self.reported;
            self.actions.push_back(Action::Boundary { group: self.reported - 1 });
        }
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

mod answers;
mod sending;

use sending::Round;
#[cfg(test)]
mod tests;
