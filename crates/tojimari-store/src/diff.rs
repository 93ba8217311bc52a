//! What changed between two scans, with ndiff's meaning: hosts that came up or went down, ports opened,
//! closed or otherwise changed state, services (name, product, version, TLS tunnel) and certificates that
//! changed, findings new, resolved or changed. Pure: two [`ScanSnapshot`]s in, a [`ScanDiff`] out.
//!
//! The rules that keep a diff honest:
//! - **Not scanned is never closed.** A port A saw that B did not cover (no observation, in no fold) is
//!   [`PortChange::NotScanned`]; a host A saw up that lies outside B's targets is [`HostChange::NotScanned`].
//!   Its findings are not "resolved" either: nobody looked.
//! - **Folded ports count.** A port in a fold (`1-21,23-79 closed`) is covered with the fold's state, so a
//!   fold that changed state (closed to filtered) is reported as ranges, and an open port that fell into a
//!   closed fold is closed.
//! - A host up in A and down in B, or missing from B although B's targets include it, went down; its open
//!   ports are listed as [`PortChange::HostDown`] (unknown now, not closed) and its findings are left alone.
//!   A host up in B and not up in A came up; its open ports are opened and its findings new.
//!
//! Port states are compared by name (`open`, `closed`, `filtered`, `open|filtered`, ...), reasons are not
//! (a closed port that answers with a reset or with an ICMP message is still closed).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use tojimari_core::Protocol;
use tojimari_core::target::{Exclusions, TargetSpec, parse_target, tokens_of_line};

use crate::port_ranges::count_ports;
use crate::snapshot::{FindingObs, HostSnapshot, PortObs, ScanInfo, ScanSnapshot, Seen};

/// The differences between scan A (the baseline) and scan B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanDiff {
    pub a: ScanInfo,
    pub b: ScanInfo,
    /// Hosts with a difference, in address order.
    pub hosts: Vec<HostDiff>,
}

/// How a host changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HostChange {
    /// Up in B, not up (or not seen) in A.
    Up,
    /// Up in A; down in B, or missing from B although B's targets include it.
    Down,
    /// Up in A; B's targets do not include it.
    NotScanned,
    /// Up in both, with changes in its names, OS, ports or findings.
    Changed,
}

impl HostChange {
    pub fn as_str(self) -> &'static str {
        match self {
            HostChange::Up => "up",
            HostChange::Down => "down",
            HostChange::NotScanned => "not-scanned",
            HostChange::Changed => "changed",
        }
    }
}

/// What A and B said of a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostView {
    pub state: String,
    pub reason: String,
    pub hostnames: String,
    pub os: Option<String>,
}

/// One host's differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostDiff {
    pub addr: String,
    pub change: HostChange,
    pub a: Option<HostView>,
    pub b: Option<HostView>,
    pub hostnames_changed: bool,
    pub os_changed: bool,
    pub ports: Vec<PortDiff>,
    pub findings: Vec<FindingDiff>,
}

/// How a port's state changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PortChange {
    /// Open in B; covered and not open in A, or its host was not up in A.
    Opened,
    /// Open in A; covered in B and not open there (closed, filtered, ...).
    Closed,
    /// Neither side open, both covered, the states differ (filtered to closed).
    State,
    /// Covered in A, not covered by B: unknown, never "closed".
    NotScanned,
    /// Covered by B, not by A, and not open in B.
    NewlyScanned,
    /// Open in A, and the host went down in B.
    HostDown,
}

impl PortChange {
    pub fn as_str(self) -> &'static str {
        match self {
            PortChange::Opened => "opened",
            PortChange::Closed => "closed",
            PortChange::State => "state",
            PortChange::NotScanned => "not-scanned",
            PortChange::NewlyScanned => "newly-scanned",
            PortChange::HostDown => "host-down",
        }
    }
}

/// One port's (or one range of folded ports') differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortDiff {
    pub proto: Protocol,
    /// One port (`[(80, 80)]`), or the ranges of folded ports that changed alike.
    pub ports: Vec<(u16, u16)>,
    /// The state's change, if it changed.
    pub state: Option<PortChange>,
    /// Same state, another service (name, product, version or tunnel).
    pub service_changed: bool,
    /// Same state, another certificate fingerprint (or one appeared or went).
    pub cert_changed: bool,
    /// What A and B saw (`None`: not covered, or the host was not up there).
    pub a: Option<PortObs>,
    pub b: Option<PortObs>,
}

impl PortDiff {
    /// The single port, when this is not a range.
    pub fn single(&self) -> Option<u16> {
        match self.ports.as_slice() {
            [(lo, hi)] if lo == hi => Some(*lo),
            _ => None,
        }
    }
}

/// How a finding changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FindingChange {
    New,
    /// In A, not in B, and B covered the port.
    Resolved,
    /// In both, with another severity or evidence.
    Changed,
}

impl FindingChange {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingChange::New => "new",
            FindingChange::Resolved => "resolved",
            FindingChange::Changed => "changed",
        }
    }
}

/// One finding's difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingDiff {
    pub proto: Protocol,
    pub port: u16,
    pub id: String,
    pub change: FindingChange,
    pub a: Option<FindingObs>,
    pub b: Option<FindingObs>,
}

/// Totals for a summary line: hosts by change, ports by change (folded ranges count every port), findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffCounts {
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub hosts_not_scanned: u64,
    pub hosts_changed: u64,
    pub opened: u64,
    pub closed: u64,
    pub state_changed: u64,
    pub not_scanned: u64,
    pub newly_scanned: u64,
    pub service_changed: u64,
    pub cert_changed: u64,
    pub findings_new: u64,
    pub findings_resolved: u64,
    pub findings_changed: u64,
}

impl ScanDiff {
    /// No difference at all (ndiff's exit status 0).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    pub fn counts(&self) -> DiffCounts {
        let mut c = DiffCounts::default();
        for h in &self.hosts {
            *match h.change {
                HostChange::Up => &mut c.hosts_up,
                HostChange::Down => &mut c.hosts_down,
                HostChange::NotScanned => &mut c.hosts_not_scanned,
                HostChange::Changed => &mut c.hosts_changed,
            } += 1;
            for p in &h.ports {
                let n = count_ports(&p.ports);
                match p.state {
                    Some(PortChange::Opened) => c.opened += n,
                    Some(PortChange::Closed) => c.closed += n,
                    Some(PortChange::State) => c.state_changed += n,
                    Some(PortChange::NotScanned) => c.not_scanned += n,
                    Some(PortChange::NewlyScanned) => c.newly_scanned += n,
                    Some(PortChange::HostDown) | None => {}
                }
                c.service_changed += u64::from(p.service_changed);
                c.cert_changed += u64::from(p.cert_changed);
            }
            for f in &h.findings {
                *match f.change {
                    FindingChange::New => &mut c.findings_new,
                    FindingChange::Resolved => &mut c.findings_resolved,
                    FindingChange::Changed => &mut c.findings_changed,
                } += 1;
            }
        }
        c
    }
}

/// Compares scan `a` (the baseline) with scan `b`.
pub fn diff_scans(a: &ScanSnapshot, b: &ScanSnapshot) -> ScanDiff {
    let scope_b = Scope::of(&b.scan.targets);
    let addrs: BTreeSet<&String> = a.hosts.keys().chain(b.hosts.keys()).collect();
    let mut hosts: Vec<HostDiff> =
        addrs.into_iter().filter_map(|addr| diff_host(addr, a.hosts.get(addr), b.hosts.get(addr), &scope_b)).collect();
    // Address order (198.18.0.2 before 198.18.0.10); text that is no address goes last, by text.
    hosts.sort_by_cached_key(|h| (h.addr.parse::<IpAddr>().ok().map_or((1, None), |ip| (0, Some(ip))), h.addr.clone()));
    ScanDiff { a: a.scan.clone(), b: b.scan.clone(), hosts }
}

fn view(h: &HostSnapshot) -> HostView {
    HostView { state: h.state.clone(), reason: h.reason.clone(), hostnames: h.hostnames.clone(), os: h.os.clone() }
}

fn diff_host(addr: &str, a: Option<&HostSnapshot>, b: Option<&HostSnapshot>, scope_b: &Scope) -> Option<HostDiff> {
    let a_up = a.filter(|h| h.is_up());
    let b_up = b.filter(|h| h.is_up());
    let mut diff = HostDiff {
        addr: addr.to_string(),
        change: HostChange::Changed,
        a: a.map(view),
        b: b.map(view),
        hostnames_changed: false,
        os_changed: false,
        ports: Vec::new(),
        findings: Vec::new(),
    };
    match (a_up, b_up) {
        (None, None) => return None,
        (None, Some(b)) => {
            diff.change = HostChange::Up;
            diff.ports = open_ports(b, PortChange::Opened, false);
            diff.findings = b
                .findings
                .iter()
                .map(|((proto, port, id), f)| FindingDiff {
                    proto: *proto,
                    port: *port,
                    id: id.clone(),
                    change: FindingChange::New,
                    a: None,
                    b: Some(f.clone()),
                })
                .collect();
        }
        (Some(a), None) => {
            if b.is_none() && !scope_b.covers(addr) {
                diff.change = HostChange::NotScanned;
            } else {
                diff.change = HostChange::Down;
                diff.ports = open_ports(a, PortChange::HostDown, true);
            }
        }
        (Some(a), Some(b)) => {
            diff.hostnames_changed = a.hostnames != b.hostnames;
            diff.os_changed = a.os != b.os;
            diff.ports = diff_ports(a, b);
            diff.findings = diff_findings(a, b);
            if !diff.hostnames_changed && !diff.os_changed && diff.ports.is_empty() && diff.findings.is_empty() {
                return None;
            }
        }
    }
    Some(diff)
}

/// The open ports of `h`, each as a change of kind `change`, on side A (`in_a`) or B.
fn open_ports(h: &HostSnapshot, change: PortChange, in_a: bool) -> Vec<PortDiff> {
    h.ports
        .iter()
        .filter(|(_, p)| p.state == "open")
        .map(|(&(proto, port), p)| PortDiff {
            proto,
            ports: vec![(port, port)],
            state: Some(change),
            service_changed: false,
            cert_changed: false,
            a: in_a.then(|| p.clone()),
            b: (!in_a).then(|| p.clone()),
        })
        .collect()
}

/// The state change between what A and B saw of a port, if any.
fn state_change(a: Option<&str>, b: Option<&str>) -> Option<PortChange> {
    match (a, b) {
        (Some(a), Some(b)) if a == b => None,
        (Some(_), Some("open")) => Some(PortChange::Opened),
        (Some("open"), Some(_)) => Some(PortChange::Closed),
        (Some(_), Some(_)) => Some(PortChange::State),
        (Some(_), None) => Some(PortChange::NotScanned),
        (None, Some("open")) => Some(PortChange::Opened),
        (None, Some(_)) => Some(PortChange::NewlyScanned),
        (None, None) => None,
    }
}

/// Ports of a host up in both scans: first those observed on their own in either scan, then the folded
/// ranges that neither observed on its own.
fn diff_ports(a: &HostSnapshot, b: &HostSnapshot) -> Vec<PortDiff> {
    let mut out = Vec::new();
    let keys: BTreeSet<(Protocol, u16)> = a.ports.keys().chain(b.ports.keys()).copied().collect();
    for &(proto, port) in &keys {
        let (sa, sb) = (a.seen(proto, port), b.seen(proto, port));
        let state = state_change(sa.as_ref().map(Seen::state), sb.as_ref().map(Seen::state));
        let (mut service_changed, mut cert_changed) = (false, false);
        if state.is_none()
            && let (Some(Seen::Port(pa)), Some(Seen::Port(pb))) = (sa, sb)
        {
            service_changed = pa.service_differs(pb);
            cert_changed = pa.cert_sha256 != pb.cert_sha256;
        }
        if state.is_some() || service_changed || cert_changed {
            out.push(PortDiff {
                proto,
                ports: vec![(port, port)],
                state,
                service_changed,
                cert_changed,
                a: sa.map(|s| s.obs()),
                b: sb.map(|s| s.obs()),
            });
        }
    }
    let protos: BTreeSet<Protocol> = a.folds.iter().chain(&b.folds).map(|f| f.proto).collect();
    for proto in protos {
        let own: Vec<u16> = keys.range((proto, 0)..=(proto, u16::MAX)).map(|&(_, p)| p).collect();
        out.extend(diff_folds(proto, a, b, &own));
    }
    out
}

/// A stretch of folded ports: (first, last, index of its fold in the host's folds).
type Seg = (u16, u16, usize);

/// The folds of one protocol as sorted, non-overlapping segments (a port in two folds, which a sound store
/// never has, counts for the first).
fn folds_of(h: &HostSnapshot, proto: Protocol) -> Vec<Seg> {
    let mut segs: Vec<Seg> = h
        .folds
        .iter()
        .enumerate()
        .filter(|(_, f)| f.proto == proto)
        .flat_map(|(i, f)| f.ranges.iter().map(move |&(lo, hi)| (lo, hi, i)))
        .collect();
    segs.sort_by_key(|&(lo, hi, _)| (lo, hi));
    let mut out: Vec<Seg> = Vec::with_capacity(segs.len());
    for (lo, hi, f) in segs {
        let lo = match out.last() {
            Some(&(_, last_hi, _)) if last_hi >= lo => match last_hi.checked_add(1) {
                Some(next) if next <= hi => next,
                _ => continue,
            },
            _ => lo,
        };
        out.push((lo, hi, f));
    }
    out
}

/// The fold covering `port` among sorted segments.
fn seg_at(segs: &[Seg], port: u16) -> Option<usize> {
    let i = segs.partition_point(|&(_, hi, _)| hi < port);
    segs.get(i).filter(|&&(lo, _, _)| lo <= port).map(|&(_, _, f)| f)
}

/// The state of fold `f` of `h`, if any.
fn fold_state(h: &HostSnapshot, f: Option<usize>) -> Option<&str> {
    f.and_then(|i| h.folds.get(i)).map(|f| f.state.as_str())
}

/// Folded ports whose state differs between A and B (or that only one side covers), as ranges grouped by
/// (A's fold, B's fold). Ports in `own` (observed on their own in either scan) were compared already.
fn diff_folds(proto: Protocol, a: &HostSnapshot, b: &HostSnapshot, own: &[u16]) -> Vec<PortDiff> {
    let (sa, sb) = (folds_of(a, proto), folds_of(b, proto));
    let obs = |h: &HostSnapshot, f: Option<usize>| {
        f.and_then(|i| h.folds.get(i)).map(|f| PortObs::folded(&f.state, &f.reason))
    };
    // Every place where A's or B's coverage may change, as u32 so 65536 can end the last range.
    let mut cuts: Vec<u32> = sa.iter().chain(&sb).flat_map(|&(lo, hi, _)| [u32::from(lo), u32::from(hi) + 1]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    // By (A's fold, B's fold): the ranges that changed alike.
    type Pair = (Option<usize>, Option<usize>);
    let mut groups: BTreeMap<Pair, Vec<(u16, u16)>> = BTreeMap::new();
    for w in cuts.windows(2) {
        let (lo, hi) = (w[0], w[1] - 1);
        let Ok(lo16) = u16::try_from(lo) else { continue };
        let hi16 = u16::try_from(hi).unwrap_or(u16::MAX);
        let (fa, fb) = (seg_at(&sa, lo16), seg_at(&sb, lo16));
        if state_change(fold_state(a, fa), fold_state(b, fb)).is_none() {
            continue;
        }
        push_without(groups.entry((fa, fb)).or_default(), lo16, hi16, own);
    }
    let mut out: Vec<PortDiff> = groups
        .into_iter()
        .filter(|(_, ranges)| !ranges.is_empty())
        .map(|((fa, fb), ranges)| PortDiff {
            proto,
            ports: ranges,
            state: state_change(fold_state(a, fa), fold_state(b, fb)),
            service_changed: false,
            cert_changed: false,
            a: obs(a, fa),
            b: obs(b, fb),
        })
        .collect();
    out.sort_by_key(|p| p.ports.first().copied());
    out
}

/// Appends `lo..=hi` less the ports in `own` (sorted) to `ranges`, merging with the last range it touches.
fn push_without(ranges: &mut Vec<(u16, u16)>, lo: u16, hi: u16, own: &[u16]) {
    let mut start = u32::from(lo);
    let first = own.partition_point(|&p| p < lo);
    let holes = own[first..].iter().take_while(|&&p| p <= hi).map(|&p| u32::from(p));
    for hole in holes.chain(std::iter::once(u32::from(hi) + 1)) {
        if hole > start {
            let (s, e) = (start as u16, (hole - 1) as u16);
            match ranges.last_mut() {
                Some(last) if u32::from(last.1) + 1 == u32::from(s) => last.1 = e,
                _ => ranges.push((s, e)),
            }
        }
        start = hole + 1;
    }
}

/// Findings of a host up in both scans. One that went from A is resolved only if B covered its port.
fn diff_findings(a: &HostSnapshot, b: &HostSnapshot) -> Vec<FindingDiff> {
    let keys: BTreeSet<&(Protocol, u16, String)> = a.findings.keys().chain(b.findings.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let (fa, fb) = (a.findings.get(key), b.findings.get(key));
            let change = match (fa, fb) {
                (None, Some(_)) => FindingChange::New,
                (Some(_), None) if b.seen(key.0, key.1).is_some() => FindingChange::Resolved,
                (Some(x), Some(y)) if x != y => FindingChange::Changed,
                _ => return None,
            };
            Some(FindingDiff { proto: key.0, port: key.1, id: key.2.clone(), change, a: fa.cloned(), b: fb.cloned() })
        })
        .collect()
}

/// The addresses a scan's targets (as recorded) include, when they can be known: addresses, CIDR blocks and
/// octet ranges. Targets that name hosts or lists (`scanme.example`, `-iL hosts.txt`) make it unknown, and
/// then every address counts as included, so a host missing from B is down, as ndiff would show it.
struct Scope(Option<Exclusions>);

impl Scope {
    fn of(targets: &str) -> Scope {
        let mut set = Exclusions::new();
        let mut any = false;
        for token in tokens_of_line(targets) {
            match parse_target(token) {
                Ok(spec @ (TargetSpec::Addr(_) | TargetSpec::Network(_) | TargetSpec::Octets(_))) => {
                    if set.add(&spec).is_err() {
                        return Scope(None);
                    }
                    any = true;
                }
                _ => return Scope(None),
            }
        }
        Scope(any.then_some(set))
    }

    fn covers(&self, addr: &str) -> bool {
        match (&self.0, addr.parse::<IpAddr>()) {
            (Some(set), Ok(ip)) => set.contains(ip),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests;
