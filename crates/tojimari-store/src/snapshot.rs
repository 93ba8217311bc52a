//! One scan as the store holds it, loaded into memory for comparison: the scan's row, and per host its
//! observation, its port observations, its folded ports (`port_folds`, as ranges) and its findings.
//!
//! Plain values: [`crate::diff`] compares two of them without a database, and [`crate::snapshot_load`]
//! fills them from one. A port is *covered* by the scan when it has an observation or lies in a fold.

use std::collections::BTreeMap;

use tojimari_core::Protocol;

use crate::store::ScanStatus;

/// A scan's row: what it was asked and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanInfo {
    pub id: i64,
    pub no: i64,
    pub profile: String,
    pub targets: String,
    pub ports: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub status: ScanStatus,
}

impl ScanInfo {
    /// Whether `other` asked the same: profile, targets and ports (the default pair of `diff`).
    pub fn same_scope(&self, other: &ScanInfo) -> bool {
        (&self.profile, &self.targets, &self.ports) == (&other.profile, &other.targets, &other.ports)
    }
}

/// One scan's results, by host address (as the store writes it: `198.18.0.2`, `2001:db8::1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanSnapshot {
    pub scan: ScanInfo,
    pub hosts: BTreeMap<String, HostSnapshot>,
}

/// What a scan saw of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSnapshot {
    /// `up`, `down` (or what an import wrote).
    pub state: String,
    pub reason: String,
    /// Host names, space-separated.
    pub hostnames: String,
    /// The OS best match, if any.
    pub os: Option<String>,
    /// Ports with an observation of their own.
    pub ports: BTreeMap<(Protocol, u16), PortObs>,
    /// Ports kept folded, per protocol and state.
    pub folds: Vec<Fold>,
    /// Findings by (protocol, port, finding id).
    pub findings: BTreeMap<(Protocol, u16, String), FindingObs>,
}

/// One port's observation (a folded port has the state and reason of its fold, nothing else).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortObs {
    pub state: String,
    pub reason: String,
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub tunnel: Option<String>,
    pub cert_sha256: Option<String>,
}

impl PortObs {
    /// A folded port: state and reason only.
    pub fn folded(state: &str, reason: &str) -> PortObs {
        PortObs { state: state.to_string(), reason: reason.to_string(), ..PortObs::default() }
    }

    /// Whether the service (name, product, version, TLS tunnel) differs from `other`'s.
    pub fn service_differs(&self, other: &PortObs) -> bool {
        (&self.service, &self.product, &self.version, &self.tunnel)
            != (&other.service, &other.product, &other.version, &other.tunnel)
    }
}

/// Ports of one protocol and state kept as ranges (nmap's extraports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub proto: Protocol,
    pub state: String,
    pub reason: String,
    /// Sorted, merged (`port_ranges::parse_port_ranges`).
    pub ranges: Vec<(u16, u16)>,
}

/// One finding on one port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingObs {
    pub severity: String,
    pub evidence: String,
}

impl HostSnapshot {
    pub fn is_up(&self) -> bool {
        self.state == "up"
    }

    /// What the scan saw of `port`: its own observation, else its fold's state, else `None` (not covered).
    pub fn seen(&self, proto: Protocol, port: u16) -> Option<Seen<'_>> {
        if let Some(obs) = self.ports.get(&(proto, port)) {
            return Some(Seen::Port(obs));
        }
        self.fold_of(proto, port).map(Seen::Fold)
    }

    /// The fold `port` lies in, if any.
    pub fn fold_of(&self, proto: Protocol, port: u16) -> Option<&Fold> {
        self.folds.iter().filter(|f| f.proto == proto).find(|f| {
            let i = f.ranges.partition_point(|&(_, hi)| hi < port);
            f.ranges.get(i).is_some_and(|&(lo, _)| lo <= port)
        })
    }
}

/// A covered port: observed on its own, or folded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Seen<'a> {
    Port(&'a PortObs),
    Fold(&'a Fold),
}

impl Seen<'_> {
    pub fn state(&self) -> &str {
        match self {
            Seen::Port(p) => &p.state,
            Seen::Fold(f) => &f.state,
        }
    }

    /// The observation to show: the port's own, or its fold's state and reason.
    pub fn obs(&self) -> PortObs {
        match self {
            Seen::Port(p) => (*p).clone(),
            Seen::Fold(f) => PortObs::folded(&f.state, &f.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_covered_by_its_observation_or_its_fold() {
        let mut host = HostSnapshot { state: "up".into(), ..HostSnapshot::default() };
        host.ports.insert((Protocol::Tcp, 22), PortObs::folded("open", "syn-ack"));
        host.folds.push(Fold {
            proto: Protocol::Tcp,
            state: "closed".into(),
            reason: "reset".into(),
            ranges: vec![(1, 21), (23, 79)],
        });
        assert_eq!(host.seen(Protocol::Tcp, 22).map(|s| s.state().to_string()).as_deref(), Some("open"));
        for port in [1, 21, 23, 79] {
            assert_eq!(host.seen(Protocol::Tcp, port).map(|s| s.state().to_string()).as_deref(), Some("closed"));
        }
        assert_eq!(host.seen(Protocol::Tcp, 80), None);
        assert_eq!(host.seen(Protocol::Udp, 1), None);
    }
}
