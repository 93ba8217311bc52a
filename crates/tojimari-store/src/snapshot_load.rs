//! Loading scans for `diff`: the scans' rows, and one scan's whole snapshot (host and port observations,
//! folded ports, findings) in five queries keyed by the scan's id, each on a primary-key prefix. Rows the
//! reader cannot use (an unknown protocol, a port past 65535) are skipped, not fatal.

use std::collections::BTreeMap;

use tojimari_core::Protocol;

use crate::port_ranges::parse_port_ranges;
use crate::snapshot::{FindingObs, Fold, HostSnapshot, PortObs, ScanInfo, ScanSnapshot};
use crate::store::{ScanStatus, Store, StoreError};

pub(crate) const SCAN_COLUMNS: &str = "id, no, profile, scope_targets, scope_ports, started_ms, ended_ms, status";

pub(crate) type ScanTuple = (i64, i64, String, String, String, i64, Option<i64>, String);

pub(crate) fn scan_info((id, no, profile, targets, ports, started_ms, ended_ms, status): ScanTuple) -> ScanInfo {
    ScanInfo { id, no, profile, targets, ports, started_ms, ended_ms, status: ScanStatus::parse(&status) }
}

fn port_number(port: i64) -> Option<u16> {
    u16::try_from(port).ok()
}

impl Store {
    /// Every scan's row, newest (highest number) first. An import still being written (numbered below 1
    /// until it commits) is not listed.
    pub fn scan_infos(&self) -> Result<Vec<ScanInfo>, StoreError> {
        let sql = format!("SELECT {SCAN_COLUMNS} FROM scans WHERE no > 0 ORDER BY no DESC");
        let rows: Result<Vec<ScanTuple>, sqlx::Error> =
            self.block_on(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()));
        Ok(rows.map_err(|e| self.query_err("listing scans", e))?.into_iter().map(scan_info).collect())
    }

    /// The scan numbered `no`, if there is one.
    pub fn scan_info(&self, no: i64) -> Result<Option<ScanInfo>, StoreError> {
        let sql = format!("SELECT {SCAN_COLUMNS} FROM scans WHERE no = $1");
        let row: Result<Option<ScanTuple>, sqlx::Error> =
            self.block_on(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(no).fetch_optional(self.pool()));
        Ok(row.map_err(|e| self.query_err("reading a scan", e))?.map(scan_info))
    }

    /// Everything `scan` recorded, for [`crate::diff_scans`].
    pub fn snapshot(&self, scan: &ScanInfo) -> Result<ScanSnapshot, StoreError> {
        let loaded = self.block_on(load(self.pool(), scan.id));
        let hosts = loaded.map_err(|e| self.query_err("reading a scan's results", e))?;
        Ok(ScanSnapshot { scan: scan.clone(), hosts })
    }
}

type HostRow = (i64, String, String, String, String, Option<String>);
type PortRow =
    (i64, String, i64, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
type FoldRow = (i64, String, String, String, String);
type FindingRow = (i64, String, i64, String, String, String);

async fn load(pool: &sqlx::AnyPool, scan_id: i64) -> Result<BTreeMap<String, HostSnapshot>, sqlx::Error> {
    let host_rows: Vec<HostRow> = sqlx::query_as(
        "SELECT o.host_id, h.addr, o.state, o.reason, o.hostnames, o.os_name \
         FROM host_obs o JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = $1",
    )
    .bind(scan_id)
    .fetch_all(pool)
    .await?;
    // Host rows by id while loading; keyed by address at the end.
    let mut hosts: BTreeMap<i64, (String, HostSnapshot)> = host_rows
        .into_iter()
        .map(|(id, addr, state, reason, hostnames, os)| {
            (id, (addr, HostSnapshot { state, reason, hostnames, os, ..HostSnapshot::default() }))
        })
        .collect();

    let port_rows: Vec<PortRow> = sqlx::query_as(
        "SELECT host_id, proto, port, state, reason, service, product, version, tunnel, cert_sha256 \
         FROM port_obs WHERE scan_id = $1",
    )
    .bind(scan_id)
    .fetch_all(pool)
    .await?;
    let fold_rows: Vec<FoldRow> =
        sqlx::query_as("SELECT host_id, proto, state, reason, ports FROM port_folds WHERE scan_id = $1")
            .bind(scan_id)
            .fetch_all(pool)
            .await?;
    let finding_rows: Vec<FindingRow> =
        sqlx::query_as("SELECT host_id, proto, port, finding, severity, evidence FROM findings WHERE scan_id = $1")
            .bind(scan_id)
            .fetch_all(pool)
            .await?;

    // A port or finding row whose host has no observation (a store written by hand, say) still counts,
    // under its address, as a host in an unknown state.
    let orphans: Vec<i64> = port_rows
        .iter()
        .map(|r| r.0)
        .chain(fold_rows.iter().map(|r| r.0))
        .chain(finding_rows.iter().map(|r| r.0))
        .filter(|id| !hosts.contains_key(id))
        .collect();
    for id in orphans {
        if hosts.contains_key(&id) {
            continue;
        }
        let addr: Option<String> =
            sqlx::query_scalar("SELECT addr FROM hosts WHERE id = $1").bind(id).fetch_optional(pool).await?;
        let addr = addr.unwrap_or_else(|| format!("host#{id}"));
        hosts.insert(id, (addr, HostSnapshot { state: "unknown".into(), ..HostSnapshot::default() }));
    }

    for (host_id, proto, port, state, reason, service, product, version, tunnel, cert_sha256) in port_rows {
        let (Some(host), Ok(proto), Some(port)) =
            (hosts.get_mut(&host_id), proto.parse::<Protocol>(), port_number(port))
        else {
            continue;
        };
        let obs = PortObs { state, reason, service, product, version, tunnel, cert_sha256 };
        host.1.ports.insert((proto, port), obs);
    }
    for (host_id, proto, state, reason, ports) in fold_rows {
        let (Some(host), Ok(proto)) = (hosts.get_mut(&host_id), proto.parse::<Protocol>()) else { continue };
        host.1.folds.push(Fold { proto, state, reason, ranges: parse_port_ranges(&ports) });
    }
    for (host_id, proto, port, finding, severity, evidence) in finding_rows {
        let (Some(host), Ok(proto), Some(port)) =
            (hosts.get_mut(&host_id), proto.parse::<Protocol>(), port_number(port))
        else {
            continue;
        };
        host.1.findings.insert((proto, port, finding), FindingObs { severity, evidence });
    }
    Ok(hosts.into_values().collect())
}
