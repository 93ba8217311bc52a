//! Per-host bookkeeping of a connect scan: which ports are left, which wait for a retry, what was found.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Instant;

use tojimari_core::permutation::Permutation;
use tojimari_core::report::{HostReport, HostState, Hostname, HostnameKind};
use tojimari_core::timing::{MIN_RETRIES, Timing};
use tojimari_core::{PortResult, PortState, Protocol, Reason};

use super::wall::WallClock;
use crate::rtt::RttEstimator;

/// A host to scan: an address and the names the user gave it.
#[derive(Clone, Debug)]
pub struct ScanTarget {
    pub addr: IpAddr,
    pub hostnames: Vec<Hostname>,
}

/// Where a host is in its scan.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Ping probes are out; the host's state is not known yet.
    Discovery,
    /// Up, waiting for room in the group of hosts whose ports are being scanned.
    Waiting,
    /// Port probes are going out.
    Ports,
    /// Every probe is answered or given up; waiting for reverse DNS (bounded).
    Resolving,
}

/// What to probe next for a host.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NextProbe {
    pub port: u16,
    pub try_no: u8,
}

/// The order of a host's first tries: its seeded order of every port, or the ports a selection picked
/// (indexes into the scan's ports, in the scan's order).
#[derive(Debug)]
pub enum HostOrder {
    Seeded(Permutation),
    Picks(Vec<u32>),
}

impl HostOrder {
    fn len(&self) -> u64 {
        match self {
            HostOrder::Seeded(p) => p.len(),
            HostOrder::Picks(p) => p.len() as u64,
        }
    }

    fn get(&self, i: u64) -> u64 {
        match self {
            HostOrder::Seeded(p) => p.get(i),
            HostOrder::Picks(p) => u64::from(p[i as usize]),
        }
    }
}

#[derive(Debug)]
pub struct HostScan {
    /// Unique in a run: tells a late answer for a reused slot from one for this host.
    pub id: u64,
    pub target: ScanTarget,
    pub phase: Phase,
    pub state: Option<(HostState, Reason)>,
    /// Port probes whose first try has not gone out yet are `order.get(next..)`.
    order: HostOrder,
    next: u64,
    /// Ports waiting for another try, and ping probes still to send.
    pub queue: VecDeque<NextProbe>,
    pub inflight: usize,
    pub results: Vec<PortResult>,
    pub rtt: RttEstimator,
    /// Highest try number (0 = first send) that ever got an answer: retries beyond one more than this
    /// are not sent, as nmap does, so a lossless host costs one retry per silent port, not ten.
    pub max_successful_try: u8,
    pub started: Instant,
    pub last_send: Option<Instant>,
    /// A reverse lookup of the address was asked for and has not answered yet.
    pub name_pending: bool,
    pub ptr_name: Option<String>,
    pub resolve_deadline: Option<Instant>,
    pub timed_out: bool,
}

impl HostScan {
    pub fn new(id: u64, target: ScanTarget, order: HostOrder, timing: &Timing, now: Instant) -> Self {
        HostScan {
            id,
            target,
            phase: Phase::Discovery,
            state: None,
            order,
            next: 0,
            queue: VecDeque::new(),
            inflight: 0,
            results: Vec::new(),
            rtt: RttEstimator::new(timing),
            max_successful_try: 0,
            started: now,
            last_send: None,
            name_pending: false,
            ptr_name: None,
            resolve_deadline: None,
            timed_out: false,
        }
    }

    /// Starts the port phase: reserves room for results.
    pub fn begin_ports(&mut self) {
        self.phase = Phase::Ports;
        self.results.reserve_exact(self.order.len() as usize);
    }

    /// Tries allowed for a probe on this host, given `--max-retries`: nmap's rule (one more than the
    /// latest try that got any answer), but never fewer than [`MIN_RETRIES`] retries.
    pub fn tries_allowed(&self, max_retries: u32) -> u8 {
        let retries = (u32::from(self.max_successful_try) + 1).max(MIN_RETRIES).min(max_retries);
        (1 + retries).min(u32::from(u8::MAX)) as u8
    }

    /// The next port probe to send: retries first, then new ports in permutation order.
    pub fn next_port_probe(&mut self, ports: &[u16]) -> Option<NextProbe> {
        if let Some(p) = self.queue.pop_front() {
            return Some(p);
        }
        if self.next < self.order.len() {
            let idx = self.order.get(self.next) as usize;
            self.next += 1;
            return Some(NextProbe { port: ports[idx], try_no: 0 });
        }
        None
    }

    /// Nothing left to send and nothing in flight.
    pub fn ports_finished(&self) -> bool {
        self.inflight == 0 && self.queue.is_empty() && self.next >= self.order.len()
    }

    pub fn record(&mut self, port: u16, state: PortState, reason: Reason) -> &PortResult {
        self.results.push(PortResult::new(Protocol::Tcp, port, state, reason));
        self.results.last().expect("just pushed")
    }

    /// The ports this host is scanned on.
    pub fn planned(&self) -> u64 {
        self.order.len()
    }

    /// Ports whose first try never went out (for interrupted or timed-out hosts).
    pub fn unsent(&self) -> u64 {
        self.order.len() - self.next
    }

    /// Builds the report at `now`; the caller decides whether it is complete.
    pub fn into_report(mut self, complete: bool, wall: &WallClock, now: Instant) -> HostReport {
        self.results.sort_unstable_by_key(|r| (r.proto, r.port));
        let (state, reason) = self.state.unwrap_or((HostState::Down, Reason::NoHostResponse));
        let mut hostnames = self.target.hostnames;
        if let Some(name) = self.ptr_name {
            hostnames.push(Hostname { name, kind: HostnameKind::Ptr });
        }
        HostReport {
            addr: self.target.addr,
            hostnames,
            state,
            state_reason: reason,
            state_reason_ttl: 0,
            ports: self.results,
            start: wall.at(self.started),
            end: wall.at(now),
            times: self.rtt.times(),
            complete,
            timed_out: self.timed_out,
            os: None,
            trace: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostScan {
        let target = ScanTarget { addr: IpAddr::from([198, 18, 0, 2]), hostnames: Vec::new() };
        HostScan::new(0, target, HostOrder::Seeded(Permutation::new(10, 1)), &Timing::default(), Instant::now())
    }

    #[test]
    fn every_silent_probe_gets_at_least_two_retries() {
        // Regression (correctness campaign, 5% loss): one retry let a twice-lost open port read filtered.
        let host = host();
        assert_eq!(host.tries_allowed(6), 1 + MIN_RETRIES as u8);
        assert_eq!(host.tries_allowed(1), 2, "--max-retries still bounds it");
        assert_eq!(host.tries_allowed(0), 1);
    }

    #[test]
    fn answers_to_later_tries_allow_more() {
        let mut host = host();
        host.max_successful_try = 3;
        assert_eq!(host.tries_allowed(6), 5);
        assert_eq!(host.tries_allowed(4), 5);
        assert_eq!(host.tries_allowed(3), 4);
    }
}
