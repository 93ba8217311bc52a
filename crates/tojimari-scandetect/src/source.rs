//! Per-source state with fixed upper bounds: the probes awaiting answers, a Bloom filter of
//! first contacts, the random walk, and one [`Track`] per scan type seen from the source
//! (an open incident once reported; a closed one is dropped).

use crate::os_guess::SynFacts;
use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::mem::size_of;
use std::net::IpAddr;
use std::time::Duration;

use crate::alert::{Alert, ObservedScan, Tool, Trigger};
use crate::ports::{MapBudget, PortMap};
use crate::time::Timestamp;

/// Distinct ports, sorted, remembered up to a cap; beyond it only counted (then the count is
/// an upper bound: a repeat of a port not remembered counts again). Good enough for the
/// failed-port evidence, which only has to reach a threshold; incidents count with a
/// [`PortMap`].
#[derive(Debug, Clone, Default)]
pub(crate) struct PortSet {
    ports: Vec<u16>,
    overflow: u32,
}

impl PortSet {
    /// Adds `port`; whether it was new.
    pub(crate) fn insert(&mut self, port: u16, cap: usize) -> bool {
        match self.ports.binary_search(&port) {
            Ok(_) => false,
            Err(_) if self.ports.len() >= cap => {
                self.overflow = self.overflow.saturating_add(1);
                true
            }
            Err(at) => {
                self.ports.insert(at, port);
                true
            }
        }
    }

    pub(crate) fn count(&self) -> u32 {
        u32::try_from(self.ports.len()).unwrap_or(u32::MAX).saturating_add(self.overflow)
    }

    fn heap_bytes(&self) -> usize {
        self.ports.capacity() * size_of::<u16>()
    }
}

/// A 2048-bit Bloom filter (k = 3) of (protocol, address, port) first contacts: a few hundred
/// contacts with about 2% false "seen before", in 256 bytes whatever the scan size.
#[derive(Debug, Clone)]
pub(crate) struct ContactFilter {
    bits: Box<[u64; 32]>,
}

impl ContactFilter {
    pub(crate) fn new() -> ContactFilter {
        ContactFilter { bits: Box::new([0; 32]) }
    }

    /// Records a contact; whether it was (probably) the first.
    pub(crate) fn insert(&mut self, key: impl Hash) -> bool {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let h = hasher.finish();
        let mut new = false;
        for i in 0..3 {
            let bit = (h >> (i * 11)) & 2047;
            let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
            new |= self.bits[word] & mask == 0;
            self.bits[word] |= mask;
        }
        new
    }
}

/// How a probe was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// SYN/ACK, a UDP answer, an ICMP reply.
    Success,
    /// RST, ICMP unreachable, or blocked by a firewall.
    Failure,
    /// No answer within the timeout.
    Silence,
}

/// The transport of a pending probe, for matching answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Proto {
    Tcp,
    Udp,
    Icmp,
}

/// A probe waiting for its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending {
    pub dst: IpAddr,
    pub dport: u16,
    pub sport: u16,
    pub proto: Proto,
    pub class: ObservedScan,
    pub ts: Timestamp,
    pub first_contact: bool,
    pub tool: Option<Tool>,
}

/// An open incident: its number, and when and how big it was last reported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incident {
    pub id: u64,
    pub at: Timestamp,
    pub size: u32,
    pub updates: u32,
    pub trigger: Trigger,
    /// The confidence of the last record, repeated on the closing one.
    pub confidence: f32,
}

/// Everything about one scan type from one source since the last incident of that type ended.
#[derive(Debug, Clone)]
pub(crate) struct Track {
    pub scan_type: ObservedScan,
    pub probes: u32,
    pub ports: PortMap,
    /// Distinct ports whose first contact failed (SYN, connect, UDP).
    pub failed_ports: PortSet,
    pub dsts: Vec<IpAddr>,
    pub dst_count: u32,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Probe votes for nmap, masscan, zmap.
    pub votes: [u32; 3],
    pub incident: Option<Incident>,
}

impl Track {
    pub(crate) fn new(scan_type: ObservedScan, ts: Timestamp) -> Track {
        Track {
            scan_type,
            probes: 0,
            ports: PortMap::default(),
            failed_ports: PortSet::default(),
            dsts: Vec::new(),
            dst_count: 0,
            first_seen: ts,
            last_seen: ts,
            votes: [0; 3],
            incident: None,
        }
    }

    /// Counts one probe. `new_dst` says whether the source's contact filter had not seen
    /// `dst` for this scan type; it is only asked once the address list is full.
    pub(crate) fn count(
        &mut self,
        dst: IpAddr,
        new_dst: impl FnOnce() -> bool,
        port: u16,
        tool: Option<Tool>,
        ts: Timestamp,
        budget: &mut MapBudget,
    ) {
        self.probes = self.probes.saturating_add(1);
        self.ports.insert(port, budget);
        if !self.dsts.contains(&dst) {
            let new = if self.dsts.len() < Alert::MAX_DSTS {
                self.dsts.push(dst);
                true
            } else {
                new_dst()
            };
            self.dst_count = self.dst_count.saturating_add(u32::from(new));
        }
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
        if let Some(tool) = tool {
            let slot = &mut self.votes[tool_index(tool)];
            *slot = slot.saturating_add(1);
        }
    }

    /// The tool most probes point at and its share of all probes: at least 3 votes and 60%.
    pub(crate) fn tool(&self) -> (Option<Tool>, f32) {
        let tools = [Tool::Nmap, Tool::Masscan, Tool::Zmap];
        let (best, votes) = tools.iter().zip(self.votes).max_by_key(|(_, v)| *v).unwrap_or((&Tool::Nmap, 0));
        let share = votes as f32 / self.probes.max(1) as f32;
        if votes >= 3 && share >= 0.6 { (Some(*best), share.min(1.0)) } else { (None, 0.0) }
    }

    /// How long without a probe ends this incident: the quiet timeout, or eight average
    /// gaps of a slow scan, at most `longest`.
    pub(crate) fn quiet_after(&self, quiet: Duration, longest: Duration) -> Duration {
        let gaps = self.probes.saturating_sub(1).max(1);
        let mean = self.last_seen.since(self.first_seen) / gaps;
        quiet.max(mean.saturating_mul(8)).min(longest.max(quiet))
    }

    fn heap_bytes(&self) -> usize {
        self.ports.heap_bytes() + self.failed_ports.heap_bytes() + self.dsts.capacity() * size_of::<IpAddr>()
    }
}

fn tool_index(tool: Tool) -> usize {
    match tool {
        Tool::Nmap => 0,
        Tool::Masscan => 1,
        Tool::Zmap => 2,
    }
}

/// One port swept across addresses: failed first contacts to distinct addresses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SweepPort {
    pub proto: Proto,
    pub port: u16,
    pub failures: u32,
}

/// How many swept ports a source remembers; the least-failed one makes room.
const MAX_SWEEP_PORTS: usize = 8;

/// All state about one source address.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub addr: IpAddr,
    pub last_seen: Timestamp,
    pub walk: f32,
    pub contacts: ContactFilter,
    pub pending: VecDeque<Pending>,
    pub tracks: Vec<Track>,
    pub sweeps: Vec<SweepPort>,
    /// The facts of the source's first pure SYN, for the passive OS guess (kept until it is evicted).
    pub syn: Option<SynFacts>,
}

impl Source {
    pub(crate) fn new(addr: IpAddr, ts: Timestamp) -> Source {
        Source {
            addr,
            last_seen: ts,
            walk: 0.0,
            contacts: ContactFilter::new(),
            pending: VecDeque::new(),
            tracks: Vec::new(),
            sweeps: Vec::new(),
            syn: None,
        }
    }

    pub(crate) fn track(&mut self, scan_type: ObservedScan, ts: Timestamp) -> &mut Track {
        let at = match self.tracks.iter().position(|t| t.scan_type == scan_type) {
            Some(at) => at,
            None => {
                self.tracks.push(Track::new(scan_type, ts));
                self.tracks.len() - 1
            }
        };
        &mut self.tracks[at]
    }

    /// Counts one probe of `class` into its track.
    pub(crate) fn count_probe(
        &mut self,
        class: ObservedScan,
        dst: IpAddr,
        port: u16,
        tool: Option<Tool>,
        ts: Timestamp,
        budget: &mut MapBudget,
    ) {
        self.track(class, ts);
        let Source { contacts, tracks, .. } = self;
        if let Some(track) = tracks.iter_mut().find(|t| t.scan_type == class) {
            track.count(dst, || contacts.insert((class, dst)), port, tool, ts, budget);
        }
    }

    pub(crate) fn find_track(&self, scan_type: ObservedScan) -> Option<&Track> {
        self.tracks.iter().find(|t| t.scan_type == scan_type)
    }

    /// Records a failed first contact on a port swept across addresses.
    pub(crate) fn sweep_failure(&mut self, proto: Proto, port: u16) {
        if let Some(s) = self.sweeps.iter_mut().find(|s| s.proto == proto && s.port == port) {
            s.failures = s.failures.saturating_add(1);
            return;
        }
        let entry = SweepPort { proto, port, failures: 1 };
        if self.sweeps.len() < MAX_SWEEP_PORTS {
            self.sweeps.push(entry);
        } else if let Some(min) = self.sweeps.iter_mut().min_by_key(|s| s.failures) {
            *min = entry;
        }
    }

    /// The most-swept port.
    pub(crate) fn top_sweep(&self) -> Option<SweepPort> {
        self.sweeps.iter().copied().max_by_key(|s| s.failures)
    }

    /// How suspicious the source is, for eviction: reported scans first, then the walk and
    /// the evidence gathered.
    pub(crate) fn score(&self) -> f32 {
        let reported = if self.tracks.iter().any(|t| t.incident.is_some()) { 1.0e6 } else { 0.0 };
        let evidence: u32 = self.tracks.iter().map(|t| t.ports.count() + t.failed_ports.count()).sum();
        reported + self.walk.max(0.0) + evidence as f32
    }

    /// Forgets the evidence that has not made an incident: the walk, the first contacts, the
    /// swept ports and the tracks not reported, so the next scan from this source is judged
    /// afresh. Open incidents stay. Returns their bitmaps to `budget`.
    pub(crate) fn clear_evidence(&mut self, budget: &mut MapBudget) {
        self.walk = 0.0;
        self.contacts = ContactFilter::new();
        self.sweeps.clear();
        self.tracks.retain(|t| {
            if t.incident.is_none() {
                budget.give_back(&t.ports);
            }
            t.incident.is_some()
        });
    }

    /// Approximate bytes held by this source, heap included.
    pub(crate) fn memory(&self) -> usize {
        size_of::<Source>()
            + size_of::<[u64; 32]>()
            + self.pending.capacity() * size_of::<Pending>()
            + self.tracks.capacity() * size_of::<Track>()
            + self.tracks.iter().map(Track::heap_bytes).sum::<usize>()
            + self.sweeps.capacity() * size_of::<SweepPort>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_set_caps_and_counts() {
        let mut set = PortSet::default();
        assert!(set.insert(80, 3));
        assert!(!set.insert(80, 3));
        set.insert(22, 3);
        set.insert(443, 3);
        assert!(set.insert(8080, 3));
        assert_eq!(set.ports, vec![22, 80, 443]);
        assert_eq!(set.count(), 4);
    }

    #[test]
    fn contact_filter_remembers() {
        let mut f = ContactFilter::new();
        let mut new = 0;
        for port in 0u16..200 {
            new += usize::from(f.insert((6u8, port)));
        }
        assert!(new >= 195, "{new}");
        assert!(!f.insert((6u8, 5u16)));
    }
}
