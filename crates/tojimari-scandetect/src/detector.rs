//! The scan detector: a sans-I/O state machine fed [`PacketSummary`]s in capture order.
//!
//! # What it sees
//! Both directions of traffic. A packet is either a *probe* (a SYN, a FIN/NULL/Xmas, a bare
//! ACK or FIN+ACK without payload, a UDP datagram, an ICMP query request) or an *answer*
//! matched to an earlier probe by address, ports and protocol (SYN/ACK, RST, a UDP reply, an
//! ICMP reply, an ICMP unreachable quoting the probe). Everything else is ignored. RSTs and
//! SYN/ACKs are never probes, so a server restart (a burst of RSTs to established clients)
//! says nothing.
//!
//! # How it decides, per source
//! - SYN probes are `connect` when they carry an operating system's full option set and
//!   `syn` when crafted ([`crate::fingerprint::is_stack_syn`]).
//! - Fast path: [`DetectorConfig::port_threshold`] distinct ports with failed SYN/connect/UDP
//!   probes (counted per scan type, whether or not the source touched the port before with
//!   another technique, so a connect scan that follows a SYN scan of the same ports is named
//!   as quickly as the SYN scan was), with FIN/NULL/Xmas probes, or with ACK/FIN+ACK probes
//!   the host answered with RST. A bare ACK or FIN+ACK only counts once the host resets it (or a firewall log
//!   says it was blocked): until then it may be a late packet of a connection just closed.
//! - Host and ICMP sweeps: [`DetectorConfig::sweep_threshold`] distinct addresses.
//! - Slow scans: the threshold random walk ([`crate::config::RandomWalk`]) over first contacts
//!   of SYN/connect/UDP probes has no time window; when it fires, the alert names the scan
//!   type with the most failures and `pace` says whether the probes were slow.
//! - Reply-shaped packets are not probes: UDP from a port below 1024 to a port at or above
//!   1024 (a DNS or NTP answer), and bare ACK / FIN+ACK from a port below 1024 to a port at or
//!   above 32768 (a server's segments to this host's ephemeral port).
//!
//! # Incidents and records
//! Each recognised scan is an incident (see [`crate::alert`]): per (source, scan type), one
//! [`AlertKind::Start`] record when it is recognised (`probes` = probes seen until then),
//! [`AlertKind::Update`] records at most every [`DetectorConfig::update_interval`] while it
//! reaches new ports or addresses, and one [`AlertKind::End`] record with the final totals
//! once it has been quiet for [`DetectorConfig::quiet_timeout`] (eight average probe gaps for
//! a slow scan), or when [`Detector::finish`] is called. Never one per packet.
//!
//! An incident's end starts its source afresh: the random walk, the first contacts, the swept
//! ports and the evidence of scans not reported are forgotten (other open incidents go on),
//! so the same technique again later is a new incident, recognised as quickly as the first.
//! Another technique from the same source is its own incident at once, whatever is open.
//!
//! # Time
//! Time is only what packets and [`Detector::tick`] say. Every second of that time, the
//! detector sweeps all sources (answer timeouts, updates, quiet incidents, idle sources)
//! by itself, so a replay behaves as a live capture does with no tick in between; on a live
//! capture call [`Detector::tick`] about once a second so that quiet ends show up while no
//! packet comes.
//!
//! # Bounded state
//! At most [`DetectorConfig::max_sources`] sources; a new one beyond that evicts the
//! lowest-scoring of 8 sampled sources (sources with open incidents score highest; their
//! incidents end with reason `evicted`), so a flood of spoofed sources churns through the
//! table without growing it. Each source holds a fixed 256-byte contact filter, at most
//! [`DetectorConfig::max_pending`] pending probes, and per scan type a capped list of failed
//! ports, at most [`Alert::MAX_DSTS`] addresses and an exact port map of at most 8 KiB,
//! drawn from a detector-wide budget of [`DetectorConfig::max_port_maps`].

use std::collections::HashMap;
use std::mem::size_of;
use std::net::IpAddr;
use std::time::Duration;

use tojimari_core::ScanType;

use crate::alert::{Alert, AlertKind, EndReason, ObservedScan, Pace, Trigger};
use crate::config::DetectorConfig;
use crate::fingerprint::{is_stack_syn, tool_of};
use crate::os_guess::{self, SynFacts};
use crate::ports::MapBudget;
use crate::source::{Incident, Outcome, Pending, Proto, Source, Track};
use crate::summary::{PacketSummary, TcpFlags, Transport};
use crate::time::Timestamp;

/// Running counters, for `watch`'s status line and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectorStats {
    /// Packets observed.
    pub packets: u64,
    /// Packets taken as probes.
    pub probes: u64,
    /// Packets matched as answers to probes.
    pub answers: u64,
    /// Sources tracked now.
    pub sources: usize,
    /// Sources evicted to stay under the cap.
    pub evicted: u64,
    /// Sources forgotten after [`DetectorConfig::idle_expiry`].
    pub expired: u64,
    /// Start and update records raised.
    pub alerts: u64,
    /// Incidents opened (scans recognised).
    pub incidents: u64,
    /// Incidents closed (closing records raised).
    pub closed: u64,
}

/// How often, in the detector's time, all sources are swept.
const SWEEP: Duration = Duration::from_secs(1);

/// The scan detector. See the module docs for the rules.
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    sources: Vec<Source>,
    index: HashMap<IpAddr, usize>,
    stats: DetectorStats,
    rng: u64,
    budget: MapBudget,
    /// The latest time told (packets, ticks).
    clock: Timestamp,
    next_sweep: Timestamp,
}

/// Whether a probe must be confirmed by an RST from the host before it counts.
fn needs_confirmation(class: ObservedScan) -> bool {
    matches!(class, ObservedScan::Ports(ScanType::Ack) | ObservedScan::Ports(ScanType::Maimon))
}

/// Probe types whose first contacts feed the random walk and failed-port counts.
fn is_contact_type(class: ObservedScan) -> bool {
    matches!(
        class,
        ObservedScan::Ports(ScanType::Syn)
            | ObservedScan::Ports(ScanType::Connect)
            | ObservedScan::Ports(ScanType::Udp)
    )
}

/// What kind of probe a packet is, with its (destination port, source port, protocol).
fn probe_of(pkt: &PacketSummary) -> Option<(ObservedScan, u16, u16, Proto)> {
    match &pkt.transport {
        Transport::Tcp(tcp) => {
            let flags = tcp.flags.classic();
            let (fin, syn, rst, psh, ack, urg) = (
                flags & TcpFlags::FIN != 0,
                flags & TcpFlags::SYN != 0,
                flags & TcpFlags::RST != 0,
                flags & TcpFlags::PSH != 0,
                flags & TcpFlags::ACK != 0,
                flags & TcpFlags::URG != 0,
            );
            let server_reply = tcp.sport < 1024 && tcp.dport >= 32768;
            let class = if rst {
                return None;
            } else if syn {
                if ack || fin {
                    return None;
                }
                if is_stack_syn(tcp) {
                    ObservedScan::Ports(ScanType::Connect)
                } else {
                    ObservedScan::Ports(ScanType::Syn)
                }
            } else if ack {
                if tcp.payload_len != 0 || psh || urg || server_reply {
                    return None;
                }
                if fin { ObservedScan::Ports(ScanType::Maimon) } else { ObservedScan::Ports(ScanType::Ack) }
            } else if fin && (psh || urg) {
                ObservedScan::Ports(ScanType::Xmas)
            } else if fin {
                ObservedScan::Ports(ScanType::Fin)
            } else {
                ObservedScan::Ports(ScanType::Null)
            };
            Some((class, tcp.dport, tcp.sport, Proto::Tcp))
        }
        Transport::Udp { sport, dport, .. } => {
            if *sport < 1024 && *dport >= 1024 {
                return None;
            }
            Some((ObservedScan::Ports(ScanType::Udp), *dport, *sport, Proto::Udp))
        }
        Transport::IcmpRequest { id, .. } => Some((ObservedScan::IcmpSweep, 0, *id, Proto::Icmp)),
        _ => None,
    }
}

/// An answer: (prober, probed address, probed port, prober's port, protocol, outcome).
type Answer = (IpAddr, IpAddr, u16, u16, Proto, Outcome);

fn answer_of(pkt: &PacketSummary) -> Option<Answer> {
    match &pkt.transport {
        Transport::Tcp(tcp) => {
            let flags = tcp.flags.classic();
            let outcome = if flags & TcpFlags::RST != 0 {
                Outcome::Failure
            } else if flags & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN | TcpFlags::ACK {
                Outcome::Success
            } else {
                return None;
            };
            Some((pkt.dst, pkt.src, tcp.sport, tcp.dport, Proto::Tcp, outcome))
        }
        Transport::Udp { sport, dport, .. } => Some((pkt.dst, pkt.src, *sport, *dport, Proto::Udp, Outcome::Success)),
        Transport::IcmpReply { id, .. } => Some((pkt.dst, pkt.src, 0, *id, Proto::Icmp, Outcome::Success)),
        Transport::IcmpUnreachable { quoted: Some(q), .. } => {
            let proto = match q.protocol {
                6 => Proto::Tcp,
                17 => Proto::Udp,
                _ => return None,
            };
            Some((q.src, q.dst, q.dport, q.sport, proto, Outcome::Failure))
        }
        _ => None,
    }
}

impl Detector {
    /// A detector with `config`.
    pub fn new(config: DetectorConfig) -> Detector {
        let rng = config.seed | 1;
        let budget = MapBudget::new(config.max_port_maps);
        Detector {
            config,
            sources: Vec::new(),
            index: HashMap::new(),
            stats: DetectorStats::default(),
            rng,
            budget,
            clock: Timestamp::EPOCH,
            next_sweep: Timestamp::EPOCH,
        }
    }

    /// The latest time the detector was told, by a packet or a tick (the epoch before any).
    /// A replay finishes at this time.
    pub fn now(&self) -> Timestamp {
        self.clock
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> DetectorStats {
        DetectorStats { sources: self.sources.len(), ..self.stats }
    }

    /// Approximate bytes of state held (sources, their sets and the index).
    pub fn memory_estimate(&self) -> usize {
        let sources: usize = self.sources.iter().map(Source::memory).sum();
        let slack = self.sources.capacity().saturating_sub(self.sources.len()) * size_of::<Source>();
        let index = self.index.capacity() * (size_of::<IpAddr>() + size_of::<usize>() + 1);
        sources + slack + index
    }

    /// Feeds one packet seen on the wire (either direction). Time comes from `pkt.ts`.
    pub fn observe(&mut self, pkt: &PacketSummary) -> Vec<Alert> {
        self.stats.packets += 1;
        let mut alerts = Vec::new();
        self.advance(pkt.ts, &mut alerts);
        if let Some(answer) = answer_of(pkt)
            && self.apply_answer(answer, pkt.ts, &mut alerts)
        {
            return alerts;
        }
        self.probe(pkt, Evidence::Wire, &mut alerts);
        alerts
    }

    /// Feeds one packet that a firewall logged as blocked (only the inbound probe is known;
    /// it failed by definition). See [`crate::firewall_log`].
    pub fn observe_blocked(&mut self, pkt: &PacketSummary) -> Vec<Alert> {
        self.stats.packets += 1;
        let mut alerts = Vec::new();
        self.advance(pkt.ts, &mut alerts);
        self.probe(pkt, Evidence::Blocked, &mut alerts);
        alerts
    }

    /// Advances time: probes unanswered for [`DetectorConfig::answer_timeout`] count as
    /// unanswered, due updates are raised, quiet incidents end, idle sources are forgotten.
    /// Call it about once a second on a live capture and once at the end of a replay (with a
    /// time past the last packet plus the answer timeout, to flush).
    pub fn tick(&mut self, now: Timestamp) -> Vec<Alert> {
        let mut alerts = Vec::new();
        self.clock = self.clock.max(now);
        self.sweep(now, &mut alerts);
        alerts
    }

    /// Ends every open incident with its closing record (reason `finish`), after a last
    /// [`Detector::tick`] at `now`: for the end of a replay (at [`Detector::now`]), of
    /// `--for`, or Ctrl-C. Probes still awaiting an answer stay pending. The detector can go
    /// on being fed afterwards: sources that had an incident start afresh, as after any end.
    pub fn finish(&mut self, now: Timestamp) -> Vec<Alert> {
        let mut alerts = self.tick(now);
        for i in 0..self.sources.len() {
            self.close(i, &mut alerts, |_| Some(EndReason::Finish));
        }
        alerts
    }

    /// Sweeps all sources once a second of packet time.
    fn advance(&mut self, now: Timestamp, alerts: &mut Vec<Alert>) {
        self.clock = self.clock.max(now);
        if now >= self.next_sweep {
            self.sweep(now, alerts);
        }
    }

    fn sweep(&mut self, now: Timestamp, alerts: &mut Vec<Alert>) {
        self.next_sweep = now.plus(SWEEP);
        let mut i = 0;
        while i < self.sources.len() {
            self.expire_pending(i, now);
            // Quiet incidents end before updates are considered: the end has the totals.
            self.close_quiet(i, now, alerts);
            self.evaluate(i, now, alerts);
            let source = &self.sources[i];
            if source.pending.is_empty() && now.since(source.last_seen) > self.config.idle_expiry {
                self.close(i, alerts, |_| Some(EndReason::Quiet));
                self.remove(i);
                self.stats.expired += 1;
            } else {
                i += 1;
            }
        }
    }

    /// Ends the incidents of source `i` that have been quiet long enough by `now`.
    fn close_quiet(&mut self, i: usize, now: Timestamp, alerts: &mut Vec<Alert>) {
        let (quiet, longest) = (self.config.quiet_timeout.max(self.config.answer_timeout), self.config.idle_expiry);
        self.close(i, alerts, |t| (now.since(t.last_seen) > t.quiet_after(quiet, longest)).then_some(EndReason::Quiet));
    }

    /// Ends the open incidents of source `i` for which `why` gives a reason: one closing
    /// record each, the track dropped, and the source's other evidence forgotten.
    fn close(&mut self, i: usize, alerts: &mut Vec<Alert>, why: impl Fn(&Track) -> Option<EndReason>) {
        let config = &self.config;
        let source = &mut self.sources[i];
        let mut closed = false;
        let mut k = 0;
        while k < source.tracks.len() {
            let t = &source.tracks[k];
            let reason = match t.incident {
                Some(_) => why(t),
                None => None,
            };
            let (Some(reason), Some(incident)) = (reason, t.incident) else {
                k += 1;
                continue;
            };
            alerts.push(record(AlertKind::End(reason), source.addr, source.syn.as_ref(), t, incident, config));
            self.stats.closed += 1;
            let t = source.tracks.remove(k);
            self.budget.give_back(&t.ports);
            closed = true;
        }
        if closed {
            source.clear_evidence(&mut self.budget);
        }
    }

    fn probe(&mut self, pkt: &PacketSummary, evidence: Evidence, alerts: &mut Vec<Alert>) {
        let Some((class, dport, sport, proto)) = probe_of(pkt) else { return };
        if !self.config.local.is_watched(pkt.dst) {
            return;
        }
        self.stats.probes += 1;
        let now = pkt.ts;
        let tool = tool_of(pkt);
        let i = self.source_index(pkt.src, now, alerts);
        // A probe after its incident went quiet starts a new one: close the old one first
        // (the sweep usually has).
        self.close_quiet(i, now, alerts);
        let source = &mut self.sources[i];
        source.last_seen = source.last_seen.max(now);
        if source.syn.is_none() {
            source.syn = SynFacts::of(pkt);
        }
        let first_contact = source.contacts.insert((proto, pkt.dst, dport));
        let pending = Pending { dst: pkt.dst, dport, sport, proto, class, ts: now, first_contact, tool };
        if !needs_confirmation(class) {
            source.count_probe(class, pkt.dst, dport, tool, now, &mut self.budget);
        }
        match evidence {
            Evidence::Blocked => self.resolve(i, pending, Outcome::Failure),
            Evidence::Wire => {
                let max = self.config.max_pending.max(1);
                while self.sources[i].pending.len() >= max {
                    if let Some(old) = self.sources[i].pending.pop_front() {
                        self.resolve(i, old, Outcome::Silence);
                    }
                }
                self.sources[i].pending.push_back(pending);
            }
        }
        self.expire_pending(i, now);
        self.evaluate(i, now, alerts);
    }

    /// Matches an answer to a pending probe; whether it matched.
    fn apply_answer(&mut self, answer: Answer, now: Timestamp, alerts: &mut Vec<Alert>) -> bool {
        let (prober, probed, port, prober_port, proto, outcome) = answer;
        let Some(&i) = self.index.get(&prober) else { return false };
        let source = &mut self.sources[i];
        let found = source
            .pending
            .iter()
            .position(|p| p.dst == probed && p.dport == port && p.sport == prober_port && p.proto == proto);
        let Some(at) = found else { return false };
        let Some(pending) = source.pending.remove(at) else { return false };
        self.stats.answers += 1;
        self.resolve(i, pending, outcome);
        self.expire_pending(i, now);
        self.evaluate(i, now, alerts);
        true
    }

    /// Resolves probes older than the answer timeout as unanswered.
    fn expire_pending(&mut self, i: usize, now: Timestamp) {
        let timeout = self.config.answer_timeout;
        while let Some(front) = self.sources[i].pending.front() {
            if now.since(front.ts) <= timeout {
                break;
            }
            if let Some(old) = self.sources[i].pending.pop_front() {
                self.resolve(i, old, Outcome::Silence);
            }
        }
    }

    /// Applies a probe's outcome to its source.
    fn resolve(&mut self, i: usize, p: Pending, outcome: Outcome) {
        let cap = self.config.max_ports_per_scan;
        let walk = self.config.walk;
        let source = &mut self.sources[i];
        if needs_confirmation(p.class) {
            if outcome == Outcome::Failure {
                source.count_probe(p.class, p.dst, p.dport, p.tool, p.ts, &mut self.budget);
            }
            return;
        }
        if !is_contact_type(p.class) {
            return;
        }
        match outcome {
            Outcome::Success if p.first_contact => {
                source.walk = (source.walk + walk.success_step()).max(walk.floor);
            }
            Outcome::Success => {}
            Outcome::Failure | Outcome::Silence => {
                // Failed ports count per scan type even when the source probed them before
                // with another technique; the walk and the sweep counts take first contacts.
                source.track(p.class, p.ts).failed_ports.insert(p.dport, cap);
                if p.first_contact {
                    source.walk += walk.failure_step();
                    source.sweep_failure(p.proto, p.dport);
                }
            }
        }
    }

    /// Raises first alerts and due updates for source `i`.
    fn evaluate(&mut self, i: usize, now: Timestamp, alerts: &mut Vec<Alert>) {
        let config = &self.config;
        let budget = &mut self.budget;
        let source = &mut self.sources[i];
        let walk_fired = source.walk >= config.walk.upper;
        let top_sweep = source.top_sweep();
        let sweep_failures = top_sweep.map_or(0, |s| s.failures);

        // Host sweep: a track rebuilt from the SYN/connect/UDP tracks that probed the swept
        // port, once that port has failed on more addresses than any track has failed ports.
        let sweep_exists = source.find_track(ObservedScan::HostSweep).is_some();
        let sweep_wins = source
            .tracks
            .iter()
            .filter(|t| is_contact_type(t.scan_type))
            .all(|t| t.failed_ports.count() < sweep_failures);
        let sweep_starts = sweep_wins && (sweep_failures >= config.sweep_threshold || walk_fired);
        if let Some(sweep) = top_sweep
            && (sweep_exists || sweep_starts)
        {
            let mut merged = Track::new(ObservedScan::HostSweep, now);
            merged.last_seen = Timestamp::EPOCH;
            for t in source.tracks.iter().filter(|t| is_contact_type(t.scan_type)) {
                if t.ports.contains(sweep.port) {
                    merged.first_seen = merged.first_seen.min(t.first_seen);
                    merged.last_seen = merged.last_seen.max(t.last_seen);
                    merged.probes = merged.probes.saturating_add(t.probes);
                    merged.dst_count = merged.dst_count.max(t.dst_count);
                    merged.dsts.extend(t.dsts.iter().copied());
                    for (sum, v) in merged.votes.iter_mut().zip(t.votes) {
                        *sum = sum.saturating_add(v);
                    }
                }
            }
            merged.dsts.truncate(Alert::MAX_DSTS);
            merged.last_seen = merged.last_seen.max(merged.first_seen);
            let track = source.track(ObservedScan::HostSweep, merged.first_seen);
            merged.incident = track.incident;
            merged.ports = std::mem::take(&mut track.ports);
            merged.ports.insert(sweep.port, budget);
            *track = merged;
        }
        let sweeping = source.find_track(ObservedScan::HostSweep).is_some();

        let src = source.addr;
        let syn = source.syn;
        let walk = source.walk;
        // The contact type the random walk should name: the one with the most failed ports.
        let walk_type = source
            .tracks
            .iter()
            .filter(|t| is_contact_type(t.scan_type))
            .max_by_key(|t| t.failed_ports.count())
            .map(|t| t.scan_type);
        for t in source.tracks.iter_mut() {
            let (size, threshold) = match t.scan_type {
                ObservedScan::Ports(ScanType::Syn)
                | ObservedScan::Ports(ScanType::Connect)
                | ObservedScan::Ports(ScanType::Udp) => (t.failed_ports.count(), config.port_threshold),
                ObservedScan::IcmpSweep => (t.dst_count, config.sweep_threshold),
                ObservedScan::HostSweep => (t.dst_count.max(sweep_failures), config.sweep_threshold),
                _ => (t.ports.count(), config.port_threshold),
            };
            let by_threshold = size >= threshold;
            let by_walk =
                walk_fired && (Some(t.scan_type) == walk_type || t.scan_type == ObservedScan::HostSweep) && size > 0;
            // A sweep of one port also fails many SYN first contacts: name it once, as a sweep.
            let swept = sweeping && is_contact_type(t.scan_type) && t.ports.count() < 3;
            let due = match t.incident {
                None => (by_threshold || by_walk) && !swept,
                Some(r) => size > r.size && now.since(r.at) >= config.update_interval,
            };
            if !due {
                continue;
            }
            let (kind, id, trigger, updates) = match t.incident {
                Some(r) => (AlertKind::Update, r.id, r.trigger, r.updates + 1),
                None => {
                    self.stats.incidents += 1;
                    let trigger = if by_threshold { Trigger::Threshold } else { Trigger::RandomWalk };
                    (AlertKind::Start, self.stats.incidents, trigger, 0)
                }
            };
            let confidence = confidence(t, trigger, size, threshold, walk, config);
            let incident = Incident { id, at: now, size, updates, trigger, confidence };
            t.incident = Some(incident);
            alerts.push(record(kind, src, syn.as_ref(), t, incident, config));
            self.stats.alerts += 1;
        }
    }

    /// The index of `addr`'s state, creating it (and evicting another) as needed.
    fn source_index(&mut self, addr: IpAddr, now: Timestamp, alerts: &mut Vec<Alert>) -> usize {
        if let Some(&i) = self.index.get(&addr) {
            return i;
        }
        if self.sources.len() >= self.config.max_sources.max(1) {
            let victim = self.pick_victim();
            self.close(victim, alerts, |_| Some(EndReason::Evicted));
            self.remove(victim);
            self.stats.evicted += 1;
        }
        self.sources.push(Source::new(addr, now));
        self.index.insert(addr, self.sources.len() - 1);
        self.sources.len() - 1
    }

    /// The lowest-scoring of 8 sampled sources (oldest on ties).
    fn pick_victim(&mut self) -> usize {
        let n = self.sources.len();
        let mut best = (f32::INFINITY, Timestamp::EPOCH, 0usize);
        for _ in 0..8 {
            let i = (self.next_random() % n as u64) as usize;
            let s = &self.sources[i];
            let key = (s.score(), s.last_seen, i);
            if key.0 < best.0 || (key.0 == best.0 && key.1 < best.1) {
                best = key;
            }
        }
        best.2
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn remove(&mut self, i: usize) {
        let removed = self.sources.swap_remove(i);
        for t in &removed.tracks {
            self.budget.give_back(&t.ports);
        }
        self.index.remove(&removed.addr);
        if let Some(moved) = self.sources.get(i) {
            self.index.insert(moved.addr, i);
        }
    }
}

/// Where a probe came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Seen on the wire: wait for the answer.
    Wire,
    /// Logged by a firewall as blocked: failed at once.
    Blocked,
}

/// How sure the detector is, from the rule that fired and how far past it the scan is.
fn confidence(t: &Track, trigger: Trigger, size: u32, threshold: u32, walk: f32, config: &DetectorConfig) -> f32 {
    let base = match trigger {
        Trigger::Threshold => 0.6 + 0.3 * (1.0 - threshold as f32 / size.max(1) as f32).max(0.0),
        Trigger::RandomWalk => 0.55 + 0.35 * (1.0 - config.walk.upper / walk.max(config.walk.upper)),
    };
    let flags_bonus = if t.scan_type.is_invalid_flags() { 0.1 } else { 0.0 };
    let tool_bonus = if t.tool().0.is_some() { 0.05 } else { 0.0 };
    (base + flags_bonus + tool_bonus).clamp(0.0, 0.99)
}

/// The record of `kind` for incident `incident`, from what its track holds now; `syn` (the source's
/// first SYN) gives the passive OS guess.
fn record(
    kind: AlertKind,
    src: IpAddr,
    syn: Option<&SynFacts>,
    t: &Track,
    incident: Incident,
    config: &DetectorConfig,
) -> Alert {
    let (tool, tool_confidence) = t.tool();
    let span = t.last_seen.since(t.first_seen);
    let gaps = t.probes.saturating_sub(1).max(1);
    let pace = if t.probes > 1 && span / gaps > config.slow_gap { Pace::Slow } else { Pace::Normal };
    Alert {
        kind,
        incident: incident.id,
        src,
        dsts: t.dsts.clone(),
        dst_count: t.dst_count.max(u32::from(!t.dsts.is_empty())),
        scan_type: t.scan_type,
        ports: t.ports.lowest(config.max_ports_per_scan),
        port_count: t.ports.count(),
        port_count_exact: t.ports.is_exact(),
        port_range: t.ports.range(),
        first_seen: t.first_seen,
        last_seen: t.last_seen,
        probes: t.probes,
        tool,
        tool_confidence,
        os: syn.and_then(os_guess::guess),
        confidence: incident.confidence,
        trigger: incident.trigger,
        pace,
        update: incident.updates,
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
