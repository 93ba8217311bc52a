//! `history`: the scans with their totals, and one host's timeline per port across the scans that saw it.
//!
//! The queries load rows; [`host_timeline`] builds the timeline from them without a database. A host's
//! timeline lists the scans that recorded it (up or down), and for every port any of them observed on its
//! own (open ports, and the few closed or filtered ones no output folds) what each scan saw: its state and
//! service, the state of the fold it lay in, "host down", or "not scanned" when the scan did not cover it.
//! First seen, last seen and last changed come from the current state (`current_ports`). A host's rows
//! are found through its observations (`host_obs` is indexed by host), then by the primary keys' (scan,
//! host) prefix, so one host's history does not read every scan's ports.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use tojimari_core::Protocol;
use tojimari_core::target::{Exclusions, TargetSpec};

use crate::port_ranges::parse_port_ranges;
use crate::snapshot::{Fold, HostSnapshot, PortObs, ScanInfo};
use crate::store::{Store, StoreError};

/// One scan with its totals, as `history` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanSummary {
    pub scan: ScanInfo,
    pub hosts_up: i64,
    pub open_ports: i64,
}

/// What one scan saw of one port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSeen {
    /// Observed on its own.
    Observed(PortObs),
    /// In a fold of this state.
    Folded(String),
    /// The scan recorded the host down.
    HostDown,
    /// The scan recorded the host but did not cover the port.
    NotScanned,
}

/// One port of one host across scans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortTimeline {
    pub proto: Protocol,
    pub port: u16,
    /// From the current state: (state, service, first seen, last seen, last changed), in Unix ms.
    pub current: Option<CurrentState>,
    /// Oldest scan first.
    pub seen: Vec<(ScanInfo, PortSeen)>,
}

/// The current state of a port (`current_ports`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentState {
    pub state: String,
    pub service: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub last_changed_ms: i64,
}

/// One host's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostHistory {
    pub addr: String,
    /// The scans that recorded the host, oldest first, with the host's state there.
    pub scans: Vec<(ScanInfo, String)>,
    pub ports: Vec<PortTimeline>,
}

/// Builds a host's timeline. `observed` holds, per scan id, what that scan recorded of the host (its state,
/// ports, folds); `scans` are the scans' rows (any order); `current` the current state per port.
pub fn host_timeline(
    addr: &str,
    scans: &[ScanInfo],
    observed: &BTreeMap<i64, HostSnapshot>,
    current: &BTreeMap<(Protocol, u16), CurrentState>,
) -> HostHistory {
    let mut seen_scans: Vec<(&ScanInfo, &HostSnapshot)> =
        scans.iter().filter_map(|s| observed.get(&s.id).map(|h| (s, h))).collect();
    seen_scans.sort_by_key(|(s, _)| s.no);
    let keys: BTreeSet<(Protocol, u16)> =
        observed.values().flat_map(|h| h.ports.keys().copied()).chain(current.keys().copied()).collect();
    let ports = keys
        .into_iter()
        .map(|(proto, port)| PortTimeline {
            proto,
            port,
            current: current.get(&(proto, port)).cloned(),
            seen: seen_scans
                .iter()
                .map(|(s, h)| {
                    let seen = if let Some(obs) = h.ports.get(&(proto, port)) {
                        PortSeen::Observed(obs.clone())
                    } else if let Some(fold) = h.fold_of(proto, port) {
                        PortSeen::Folded(fold.state.clone())
                    } else if h.state == "down" {
                        PortSeen::HostDown
                    } else {
                        PortSeen::NotScanned
                    };
                    ((*s).clone(), seen)
                })
                .collect(),
        })
        .collect();
    HostHistory {
        addr: addr.to_string(),
        scans: seen_scans.iter().map(|(s, h)| ((*s).clone(), h.state.clone())).collect(),
        ports,
    }
}

/// Which hosts a `history` target names: one address, or every address in a block or range.
pub fn target_matcher(target: &str) -> Option<Exclusions> {
    let spec = tojimari_core::target::parse_target(target).ok()?;
    if matches!(spec, TargetSpec::Hostname { .. }) {
        return None;
    }
    let mut set = Exclusions::new();
    set.add(&spec).ok()?;
    Some(set)
}

type Counts = Vec<(i64, i64)>;
type ObsRow = (i64, String, String, String, Option<String>);
type PortRow =
    (i64, String, i64, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
type FoldRow = (i64, String, String, String, String);
type CurrentRow = (String, i64, String, Option<String>, i64, i64, i64);

impl Store {
    /// Every scan, newest first, with its hosts up and open ports.
    pub fn scan_summaries(&self) -> Result<Vec<ScanSummary>, StoreError> {
        let scans = self.scan_infos()?;
        let counts: Result<(Counts, Counts), sqlx::Error> = self.block_on(async {
            let up = sqlx::query_as("SELECT scan_id, COUNT(*) FROM host_obs WHERE state = 'up' GROUP BY scan_id")
                .fetch_all(self.pool())
                .await?;
            let open = sqlx::query_as("SELECT scan_id, COUNT(*) FROM port_obs WHERE state = 'open' GROUP BY scan_id")
                .fetch_all(self.pool())
                .await?;
            Ok((up, open))
        });
        let (up, open) = counts.map_err(|e| self.query_err("counting the scans' hosts and ports", e))?;
        let (up, open): (BTreeMap<i64, i64>, BTreeMap<i64, i64>) =
            (up.into_iter().collect(), open.into_iter().collect());
        Ok(scans
            .into_iter()
            .map(|scan| ScanSummary {
                hosts_up: up.get(&scan.id).copied().unwrap_or(0),
                open_ports: open.get(&scan.id).copied().unwrap_or(0),
                scan,
            })
            .collect())
    }

    /// The addresses the store knows that `matcher` includes, in address order.
    pub fn known_hosts(&self, matcher: &Exclusions) -> Result<Vec<String>, StoreError> {
        let rows: Result<Vec<String>, sqlx::Error> =
            self.block_on(sqlx::query_scalar("SELECT addr FROM hosts").fetch_all(self.pool()));
        let mut addrs: Vec<(IpAddr, String)> = rows
            .map_err(|e| self.query_err("listing hosts", e))?
            .into_iter()
            .filter_map(|a| a.parse::<IpAddr>().ok().filter(|ip| matcher.contains(*ip)).map(|ip| (ip, a)))
            .collect();
        addrs.sort();
        Ok(addrs.into_iter().map(|(_, a)| a).collect())
    }

    /// The timeline of the host at `addr`; `None` when the store has never seen it.
    pub fn host_history(&self, addr: &str, scans: &[ScanInfo]) -> Result<Option<HostHistory>, StoreError> {
        let loaded = self.block_on(load_host(self.pool(), addr));
        let Some((observed, current)) = loaded.map_err(|e| self.query_err("reading a host's history", e))? else {
            return Ok(None);
        };
        Ok(Some(host_timeline(addr, scans, &observed, &current)))
    }
}

type Loaded = (BTreeMap<i64, HostSnapshot>, BTreeMap<(Protocol, u16), CurrentState>);

async fn load_host(pool: &sqlx::AnyPool, addr: &str) -> Result<Option<Loaded>, sqlx::Error> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM hosts WHERE addr = $1").bind(addr).fetch_optional(pool).await?;
    let Some(id) = id else { return Ok(None) };
    let obs: Vec<ObsRow> =
        sqlx::query_as("SELECT scan_id, state, reason, hostnames, os_name FROM host_obs WHERE host_id = $1")
            .bind(id)
            .fetch_all(pool)
            .await?;
    let mut observed: BTreeMap<i64, HostSnapshot> = obs
        .into_iter()
        .map(|(scan, state, reason, hostnames, os)| {
            (scan, HostSnapshot { state, reason, hostnames, os, ..HostSnapshot::default() })
        })
        .collect();
    let ports: Vec<PortRow> = sqlx::query_as(
        "SELECT scan_id, proto, port, state, reason, service, product, version, tunnel, cert_sha256 \
         FROM port_obs WHERE scan_id IN (SELECT scan_id FROM host_obs WHERE host_id = $1) AND host_id = $2",
    )
    .bind(id)
    .bind(id)
    .fetch_all(pool)
    .await?;
    for (scan, proto, port, state, reason, service, product, version, tunnel, cert_sha256) in ports {
        let (Ok(proto), Ok(port)) = (proto.parse::<Protocol>(), u16::try_from(port)) else { continue };
        let host =
            observed.entry(scan).or_insert_with(|| HostSnapshot { state: "unknown".into(), ..HostSnapshot::default() });
        host.ports.insert((proto, port), PortObs { state, reason, service, product, version, tunnel, cert_sha256 });
    }
    let folds: Vec<FoldRow> = sqlx::query_as(
        "SELECT scan_id, proto, state, reason, ports FROM port_folds \
             WHERE scan_id IN (SELECT scan_id FROM host_obs WHERE host_id = $1) AND host_id = $2",
    )
    .bind(id)
    .bind(id)
    .fetch_all(pool)
    .await?;
    for (scan, proto, state, reason, ports) in folds {
        let Ok(proto) = proto.parse::<Protocol>() else { continue };
        let host =
            observed.entry(scan).or_insert_with(|| HostSnapshot { state: "unknown".into(), ..HostSnapshot::default() });
        host.folds.push(Fold { proto, state, reason, ranges: parse_port_ranges(&ports) });
    }
    let rows: Vec<CurrentRow> = sqlx::query_as(
        "SELECT proto, port, state, service, first_seen_ms, last_seen_ms, last_changed_ms \
         FROM current_ports WHERE host_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let current = rows
        .into_iter()
        .filter_map(|(proto, port, state, service, first_seen_ms, last_seen_ms, last_changed_ms)| {
            let key = (proto.parse::<Protocol>().ok()?, u16::try_from(port).ok()?);
            Some((key, CurrentState { state, service, first_seen_ms, last_seen_ms, last_changed_ms }))
        })
        .collect();
    Ok(Some((observed, current)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ScanStatus;

    fn scan(no: i64) -> ScanInfo {
        ScanInfo {
            id: no * 10,
            no,
            profile: "scan".into(),
            targets: "198.18.0.2".into(),
            ports: "1-100".into(),
            started_ms: no * 1000,
            ended_ms: None,
            status: ScanStatus::Complete,
        }
    }

    #[test]
    fn the_timeline_says_what_each_scan_saw_of_each_port() {
        let scans: Vec<ScanInfo> = (1..=4).map(scan).collect();
        let open = |svc: &str| PortObs {
            state: "open".into(),
            reason: "syn-ack".into(),
            service: Some(svc.into()),
            ..PortObs::default()
        };
        let mut s1 = HostSnapshot { state: "up".into(), ..HostSnapshot::default() };
        s1.ports.insert((Protocol::Tcp, 22), open("ssh"));
        s1.folds.push(Fold {
            proto: Protocol::Tcp,
            state: "closed".into(),
            reason: "reset".into(),
            ranges: vec![(1, 21), (23, 100)],
        });
        // Scan 2 covered only 1-50: 80 was not scanned; 22 open again.
        let mut s2 = HostSnapshot { state: "up".into(), ..HostSnapshot::default() };
        s2.ports.insert((Protocol::Tcp, 22), open("ssh"));
        s2.folds.push(Fold {
            proto: Protocol::Tcp,
            state: "closed".into(),
            reason: "reset".into(),
            ranges: vec![(1, 21), (23, 50)],
        });
        // Scan 3 did not record the host at all; scan 4 found it down.
        let s4 = HostSnapshot { state: "down".into(), ..HostSnapshot::default() };
        let mut s1b = s1.clone();
        s1b.ports.insert((Protocol::Tcp, 80), open("http"));
        s1b.folds[0].ranges = vec![(1, 21), (23, 79), (81, 100)];
        let observed: BTreeMap<i64, HostSnapshot> = [(10, s1b), (20, s2), (40, s4)].into_iter().collect();
        let h = host_timeline("198.18.0.2", &scans, &observed, &BTreeMap::new());
        assert_eq!(
            h.scans.iter().map(|(s, st)| (s.no, st.as_str())).collect::<Vec<_>>(),
            [(1, "up"), (2, "up"), (4, "down")]
        );
        let p80 = h.ports.iter().find(|p| p.port == 80).unwrap();
        let seen: Vec<(i64, PortSeen)> = p80.seen.iter().map(|(s, p)| (s.no, p.clone())).collect();
        assert_eq!(seen, [(1, PortSeen::Observed(open("http"))), (2, PortSeen::NotScanned), (4, PortSeen::HostDown)]);
        let p22 = h.ports.iter().find(|p| p.port == 22).unwrap();
        assert!(matches!(p22.seen[1].1, PortSeen::Observed(ref o) if o.state == "open"));
        assert_eq!(h.ports.len(), 2);
        drop(s1);
    }

    #[test]
    fn targets_are_addresses_or_blocks() {
        let m = target_matcher("198.18.0.0/30").unwrap();
        assert!(m.contains("198.18.0.3".parse().unwrap()) && !m.contains("198.18.0.4".parse().unwrap()));
        assert!(target_matcher("198.18.0.2").unwrap().contains("198.18.0.2".parse().unwrap()));
        assert!(target_matcher("not a target!").is_none());
    }
}
