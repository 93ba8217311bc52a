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
//!   first contacts, with FIN/NULL/Xmas probes, or with ACK/FIN+ACK probes the host answered
//!   with RST. A bare ACK or FIN+ACK only counts once the host resets it (or a firewall log
//!   says it was blocked): until then it may be a late packet of a connection just closed.
//! - Host and ICMP sweeps: [`DetectorConfig::sweep_threshold`] distinct addresses.
//! - Slow scans: the threshold random walk ([`crate::config::RandomWalk`]) over first contacts
//!   of SYN/connect/UDP probes has no time window; when it fires, the alert names the scan
//!   type with the most failures and `pace` says whether the probes were slow.
//! - Reply-shaped packets are not probes: UDP from a port below 1024 to a port at or above
//!   1024 (a DNS or NTP answer), and bare ACK / FIN+ACK from a port below 1024 to a port at or
//!   above 32768 (a server's segments to this host's ephemeral port).
//!
//! # Alert policy
//! One alert per (source, scan type) when first detected (`update` 0, `probes` = probes seen
//! until detection). Then an update when the scan has reached new ports/addresses and either
//! [`DetectorConfig::update_interval`] has passed since the last report or the port/address
//! count has doubled (and grown by at least the threshold). Never one per packet.
//!
//! # Bounded state
//! At most [`DetectorConfig::max_sources`] sources; a new one beyond that evicts the
//! lowest-scoring of 8 sampled sources (sources with reported scans score highest), so a flood
//! of spoofed sources churns through the table without growing it. Each source holds a fixed
//! 256-byte contact filter, at most [`DetectorConfig::max_pending`] pending probes and per scan
//! type at most [`DetectorConfig::max_ports_per_scan`] ports and [`Alert::MAX_DSTS`] addresses.

use std::collections::HashMap;
use std::mem::size_of;
use std::net::IpAddr;

use crate::alert::{Alert, Pace, ScanType, Trigger};
use crate::config::DetectorConfig;
use crate::fingerprint::{is_stack_syn, tool_of};
use crate::source::{Outcome, Pending, Proto, Reported, Source, Track};
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
    /// Alerts raised (first alerts and updates).
    pub alerts: u64,
}

/// The scan detector. See the module docs for the rules.
#[derive(Debug)]
pub struct Detector {
    config: DetectorConfig,
    sources: Vec<Source>,
    index: HashMap<IpAddr, usize>,
    stats: DetectorStats,
    rng: u64,
}

/// Whether a probe must be confirmed by an RST from the host before it counts.
fn needs_confirmation(class: ScanType) -> bool {
    matches!(class, ScanType::Ack | ScanType::Maimon)
}

/// Probe types whose first contacts feed the random walk and failed-port counts.
fn is_contact_type(class: ScanType) -> bool {
    matches!(class, ScanType::Syn | ScanType::Connect | ScanType::Udp)
}

/// What kind of probe a packet is, with its (destination port, source port, protocol).
fn probe_of(pkt: &PacketSummary) -> Option<(ScanType, u16, u16, Proto)> {
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
                if is_stack_syn(tcp) { ScanType::Connect } else { ScanType::Syn }
            } else if ack {
                if tcp.payload_len != 0 || psh || urg || server_reply {
                    return None;
                }
                if fin { ScanType::Maimon } else { ScanType::Ack }
            } else if fin && (psh || urg) {
                ScanType::Xmas
            } else if fin {
                ScanType::Fin
            } else {
                ScanType::Null
            };
            Some((class, tcp.dport, tcp.sport, Proto::Tcp))
        }
        Transport::Udp { sport, dport, .. } => {
            if *sport < 1024 && *dport >= 1024 {
                return None;
            }
            Some((ScanType::Udp, *dport, *sport, Proto::Udp))
        }
        Transport::IcmpRequest { id, .. } => Some((ScanType::IcmpSweep, 0, *id, Proto::Icmp)),
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
        Detector { config, sources: Vec::new(), index: HashMap::new(), stats: DetectorStats::default(), rng }
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
        self.probe(pkt, Evidence::Blocked, &mut alerts);
        alerts
    }

    /// Advances time: probes unanswered for [`DetectorConfig::answer_timeout`] count as
    /// unanswered, due updates are raised, idle sources are forgotten. Call it about once a
    /// second on a live capture and once at the end of a replay (with a time past the last
    /// packet plus the answer timeout, to flush).
    pub fn tick(&mut self, now: Timestamp) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut i = 0;
        while i < self.sources.len() {
            self.expire_pending(i, now);
            self.evaluate(i, now, &mut alerts);
            let source = &self.sources[i];
            if source.pending.is_empty() && now.since(source.last_seen) > self.config.idle_expiry {
                self.remove(i);
                self.stats.expired += 1;
            } else {
                i += 1;
            }
        }
        alerts
    }

    fn probe(&mut self, pkt: &PacketSummary, evidence: Evidence, alerts: &mut Vec<Alert>) {
        let Some((class, dport, sport, proto)) = probe_of(pkt) else { return };
        if !self.config.local.is_watched(pkt.dst) {
            return;
        }
        self.stats.probes += 1;
        let now = pkt.ts;
        let tool = tool_of(pkt);
        let i = self.source_index(pkt.src, now);
        let cap = self.config.max_ports_per_scan;
        let source = &mut self.sources[i];
        source.last_seen = source.last_seen.max(now);
        let first_contact = source.contacts.insert((proto, pkt.dst, dport));
        let pending = Pending { dst: pkt.dst, dport, sport, proto, class, ts: now, first_contact, tool };
        if !needs_confirmation(class) {
            let new_dst = source.contacts.insert((class, pkt.dst));
            source.track(class, now).count(pkt.dst, new_dst, dport, tool, now, cap);
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
                let new_dst = source.contacts.insert((p.class, p.dst));
                source.track(p.class, p.ts).count(p.dst, new_dst, p.dport, p.tool, p.ts, cap);
            }
            return;
        }
        if !is_contact_type(p.class) || !p.first_contact {
            return;
        }
        match outcome {
            Outcome::Success => source.walk = (source.walk + walk.success_step()).max(walk.floor),
            Outcome::Failure | Outcome::Silence => {
                source.walk += walk.failure_step();
                source.track(p.class, p.ts).failed_ports.insert(p.dport, cap);
                source.sweep_failure(p.proto, p.dport);
            }
        }
    }

    /// Raises first alerts and due updates for source `i`.
    fn evaluate(&mut self, i: usize, now: Timestamp, alerts: &mut Vec<Alert>) {
        let config = &self.config;
        let source = &mut self.sources[i];
        let walk_fired = source.walk >= config.walk.upper;
        let top_sweep = source.top_sweep();
        let sweep_failures = top_sweep.map_or(0, |s| s.failures);

        // Host sweep: a track rebuilt from the SYN/connect/UDP tracks that probed the swept
        // port, once that port has failed on more addresses than any track has failed ports.
        let sweep_exists = source.find_track(ScanType::HostSweep).is_some();
        let sweep_wins = source
            .tracks
            .iter()
            .filter(|t| is_contact_type(t.scan_type))
            .all(|t| t.failed_ports.count() < sweep_failures);
        let sweep_starts = sweep_wins && (sweep_failures >= config.sweep_threshold || walk_fired);
        if let Some(sweep) = top_sweep
            && (sweep_exists || sweep_starts)
        {
            let mut merged = Track::new(ScanType::HostSweep, now);
            merged.last_seen = Timestamp::EPOCH;
            for t in source.tracks.iter().filter(|t| is_contact_type(t.scan_type)) {
                if t.ports.as_slice().contains(&sweep.port) {
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
            let track = source.track(ScanType::HostSweep, merged.first_seen);
            merged.reported = track.reported;
            merged.ports = std::mem::take(&mut track.ports);
            merged.ports.insert(sweep.port, config.max_ports_per_scan);
            *track = merged;
        }
        let sweeping = source.find_track(ScanType::HostSweep).is_some();

        let src = source.addr;
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
                ScanType::Syn | ScanType::Connect | ScanType::Udp => (t.failed_ports.count(), config.port_threshold),
                ScanType::IcmpSweep => (t.dst_count, config.sweep_threshold),
                ScanType::HostSweep => (t.dst_count.max(sweep_failures), config.sweep_threshold),
                _ => (t.ports.count(), config.port_threshold),
            };
            let by_threshold = size >= threshold;
            let by_walk =
                walk_fired && (Some(t.scan_type) == walk_type || t.scan_type == ScanType::HostSweep) && size > 0;
            // A sweep of one port also fails many SYN first contacts: name it once, as a sweep.
            let swept = sweeping && is_contact_type(t.scan_type) && t.ports.count() < 3;
            let due = match t.reported {
                None => (by_threshold || by_walk) && !swept,
                Some(r) => {
                    let grown = size > r.size;
                    let tenfold = size >= r.size.saturating_mul(10);
                    grown && (tenfold || now.since(r.at) >= config.update_interval)
                }
            };
            if !due {
                continue;
            }
            let trigger = match t.reported {
                Some(r) => r.trigger,
                None if by_threshold => Trigger::Threshold,
                None => Trigger::RandomWalk,
            };
            let updates = t.reported.map_or(0, |r| r.updates + 1);
            t.reported = Some(Reported { at: now, size, updates, trigger });
            alerts.push(make_alert(src, t, trigger, size, threshold, walk, config));
            self.stats.alerts += 1;
        }
    }

    /// The index of `addr`'s state, creating it (and evicting another) as needed.
    fn source_index(&mut self, addr: IpAddr, now: Timestamp) -> usize {
        if let Some(&i) = self.index.get(&addr) {
            return i;
        }
        if self.sources.len() >= self.config.max_sources.max(1) {
            let victim = self.pick_victim();
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

fn make_alert(
    src: IpAddr,
    t: &Track,
    trigger: Trigger,
    size: u32,
    threshold: u32,
    walk: f32,
    config: &DetectorConfig,
) -> Alert {
    let (tool, tool_confidence) = t.tool();
    let span = t.last_seen.since(t.first_seen);
    let gaps = t.probes.saturating_sub(1).max(1);
    let pace = if t.probes > 1 && span / gaps > config.slow_gap { Pace::Slow } else { Pace::Normal };
    let base = match trigger {
        Trigger::Threshold => 0.6 + 0.3 * (1.0 - threshold as f32 / size.max(1) as f32).max(0.0),
        Trigger::RandomWalk => 0.55 + 0.35 * (1.0 - config.walk.upper / walk.max(config.walk.upper)),
    };
    let flags_bonus = if t.scan_type.is_invalid_flags() { 0.1 } else { 0.0 };
    let tool_bonus = if tool.is_some() { 0.05 } else { 0.0 };
    let confidence = (base + flags_bonus + tool_bonus).clamp(0.0, 0.99);
    let ports = t.ports.as_slice().to_vec();
    Alert {
        src,
        dsts: t.dsts.clone(),
        dst_count: t.dst_count.max(u32::from(!t.dsts.is_empty())),
        scan_type: t.scan_type,
        ports,
        port_count: t.ports.count(),
        first_seen: t.first_seen,
        last_seen: t.last_seen,
        probes: t.probes,
        tool,
        tool_confidence,
        confidence,
        trigger,
        pace,
        update: t.reported.map_or(0, |r| r.updates),
    }
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
