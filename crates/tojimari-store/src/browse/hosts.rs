//! One page of a scan's hosts, rebuilt as full host reports (ports with their services, findings with their
//! advice, TLS details, OS guesses) in the scan's own order (`host_obs.seq`). A page is found by its place
//! (`offset`, through the `(scan_id, seq)` index) or after a host's place (`after`, for a running scan's
//! page that fetches the hosts recorded since it last looked); its ports and folds are then read by the
//! primary keys' (scan, host) prefix for just those hosts.

use tojimari_core::HostReport;

use crate::read::{FoldSql, HostSql, PortSql, by_host};
use crate::rows::rebuild_host;
use crate::store::{Store, StoreError};

/// A host of a scan with its place in the scan's order.
#[derive(Clone, Debug)]
pub struct PagedHost {
    /// The host's place (`seq`): pass it as `after` to read the hosts that follow.
    pub seq: i64,
    pub report: HostReport,
}

/// A page of a scan's hosts.
#[derive(Clone, Debug)]
pub struct HostPage {
    /// Hosts the scan recorded.
    pub total: i64,
    pub hosts: Vec<PagedHost>,
}

fn marks(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Hosts `offset..offset + limit` of the scan with row id `scan_id`, in the scan's order.
    pub fn scan_hosts_page(&self, scan_id: i64, offset: i64, limit: i64) -> Result<HostPage, StoreError> {
        let read: Result<(i64, Vec<HostSql>), sqlx::Error> = self.block_on(async {
            let total = sqlx::query_scalar("SELECT COUNT(*) FROM host_obs WHERE scan_id = $1")
                .bind(scan_id)
                .fetch_one(self.pool())
                .await?;
            let hosts = sqlx::query_as(
                "SELECT o.seq, o.host_id, h.addr, o.state, o.reason, o.detail FROM host_obs o \
                 JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = $1 ORDER BY o.seq LIMIT $2 OFFSET $3",
            )
            .bind(scan_id)
            .bind(limit.max(0))
            .bind(offset.max(0))
            .fetch_all(self.pool())
            .await?;
            Ok((total, hosts))
        });
        let (total, hosts) = read.map_err(|e| self.query_err("reading a scan's hosts", e))?;
        Ok(HostPage { total, hosts: self.rebuild(scan_id, hosts)? })
    }

    /// Up to `limit` hosts of the scan with row id `scan_id` whose place comes after `after` (-1: from the
    /// first), in the scan's order.
    pub fn scan_hosts_after(&self, scan_id: i64, after: i64, limit: i64) -> Result<Vec<PagedHost>, StoreError> {
        let read: Result<Vec<HostSql>, sqlx::Error> = self.block_on(
            sqlx::query_as(
                "SELECT o.seq, o.host_id, h.addr, o.state, o.reason, o.detail FROM host_obs o \
                 JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = $1 AND o.seq > $2 ORDER BY o.seq LIMIT $3",
            )
            .bind(scan_id)
            .bind(after)
            .bind(limit.max(0))
            .fetch_all(self.pool()),
        );
        let hosts = read.map_err(|e| self.query_err("reading a scan's hosts", e))?;
        self.rebuild(scan_id, hosts)
    }

    /// The hosts' ports and folds, and each host rebuilt from its rows.
    fn rebuild(&self, scan_id: i64, hosts: Vec<HostSql>) -> Result<Vec<PagedHost>, StoreError> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = hosts.iter().map(|h| h.1).collect();
        let read: Result<(Vec<PortSql>, Vec<FoldSql>), sqlx::Error> = self.block_on(async {
            let list = marks(2, ids.len());
            let port_sql = format!(
                "SELECT host_id, proto, port, state, reason, reason_ttl, service, product, version, tunnel, detail \
                 FROM port_obs WHERE scan_id = $1 AND host_id IN ({list}) ORDER BY host_id, proto, port"
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(port_sql)).bind(scan_id);
            for id in &ids {
                q = q.bind(*id);
            }
            let ports: Vec<PortSql> = q.fetch_all(self.pool()).await?;
            let fold_sql = format!(
                "SELECT host_id, proto, state, reason, ports FROM port_folds WHERE scan_id = $1 AND host_id IN ({list})"
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(fold_sql)).bind(scan_id);
            for id in &ids {
                q = q.bind(*id);
            }
            let folds: Vec<FoldSql> = q.fetch_all(self.pool()).await?;
            Ok((ports, folds))
        });
        let (ports, folds) = read.map_err(|e| self.query_err("reading a scan's hosts", e))?;
        let (mut ports_of, mut folds_of) = by_host(ports, folds);
        hosts
            .into_iter()
            .map(|(seq, host, addr, state, reason, detail)| {
                let ports = ports_of.remove(&host).unwrap_or_default();
                let folds = folds_of.remove(&host).unwrap_or_default();
                rebuild_host(&addr, &state, &reason, &detail, &ports, &folds)
                    .map(|report| PagedHost { seq, report })
                    .map_err(|e| StoreError::Query {
                        what: self.name().to_string(),
                        doing: "reading a scan's hosts",
                        message: e.0,
                    })
            })
            .collect()
    }
}
