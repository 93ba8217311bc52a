//! Reading a recorded scan back as the run's header, its hosts (in their output order, a chunk at a time) and
//! its summary: what `export` hands to the output sinks to write the scan's files again.

use std::collections::HashMap;

use tojimari_core::HostReport;
use tojimari_core::report::{RunInfo, RunSummary};

use crate::rows::{StoredFold, StoredPort, rebuild_host};
use crate::store::{ScanId, ScanRow, ScanStatus, Store, StoreError};

/// Hosts read per round trip.
const CHUNK: i64 = 1000;

/// A recorded scan and what the outputs need of it.
#[derive(Clone, Debug)]
pub struct StoredScan {
    pub id: ScanId,
    pub row: ScanRow,
    pub argv: String,
    /// `tojimari`, or the format it was imported from.
    pub source: String,
    /// The run's header and summary as recorded; `None` for an import whose file had none, or a scan whose
    /// process died before its end.
    pub run: Option<RunInfo>,
    pub summary: Option<RunSummary>,
}

/// Which scan.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScanRef {
    No(i64),
    /// The scan with the highest number.
    Latest,
}

type ScanSql = (i64, i64, String, String, String, i64, Option<i64>, String, String, Option<String>, Option<String>);

impl Store {
    /// The scan `which`, or `None` when the store has no such scan.
    pub fn find_scan(&self, which: ScanRef) -> Result<Option<StoredScan>, StoreError> {
        let columns = "SELECT id, no, argv, profile, scope_targets, started_ms, ended_ms, status, source, run_info, \
                       summary FROM scans";
        let found: Result<Option<ScanSql>, sqlx::Error> = self.rt.block_on(async {
            match which {
                ScanRef::No(no) => {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{columns} WHERE no = $1")))
                        .bind(no)
                        .fetch_optional(&self.pool)
                        .await
                }
                ScanRef::Latest => {
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{columns} WHERE no > 0 ORDER BY no DESC LIMIT 1")))
                        .fetch_optional(&self.pool)
                        .await
                }
            }
        });
        let found = found.map_err(|e| self.query_err("reading a scan", e))?;
        let Some((id, no, argv, profile, targets, started_ms, ended_ms, status, source, run, summary)) = found else {
            return Ok(None);
        };
        let damaged = |what: &str, e: serde_json::Error| StoreError::Query {
            what: self.name().to_string(),
            doing: "reading a scan",
            message: format!("scan {no} has a damaged {what}: {e}"),
        };
        let run = run.map(|r| serde_json::from_str(&r)).transpose().map_err(|e| damaged("header", e))?;
        let summary = summary.map(|s| serde_json::from_str(&s)).transpose().map_err(|e| damaged("summary", e))?;
        Ok(Some(StoredScan {
            id: ScanId { id, no },
            row: ScanRow { no, profile, targets, started_ms, ended_ms, status: ScanStatus::parse(&status) },
            argv,
            source,
            run,
            summary,
        }))
    }

    /// Hands every host of `scan` to `each`, in the order the scan reported them, a chunk at a time (memory
    /// stays bounded by the chunk, not the scan). Stops at the first error `each` returns.
    pub fn for_each_host<E>(
        &self,
        scan: ScanId,
        mut each: impl FnMut(HostReport) -> Result<(), E>,
    ) -> Result<(), ReadFailure<E>> {
        let mut from = i64::MIN;
        loop {
            let hosts = self.host_chunk(scan, from).map_err(ReadFailure::Store)?;
            let Some(last) = hosts.last().map(|h| h.0) else { return Ok(()) };
            for (_, host) in hosts {
                each(host).map_err(ReadFailure::Output)?;
            }
            from = last + 1;
        }
    }

    /// Up to [`CHUNK`] hosts of `scan` from place `from` on, with their places.
    fn host_chunk(&self, scan: ScanId, from: i64) -> Result<Vec<(i64, HostReport)>, StoreError> {
        type Chunk = (Vec<HostSql>, Vec<PortSql>, Vec<FoldSql>);
        let read: Result<Chunk, sqlx::Error> = self.rt.block_on(async {
            let hosts: Vec<HostSql> = sqlx::query_as(
                "SELECT o.seq, o.host_id, h.addr, o.state, o.reason, o.detail FROM host_obs o \
                 JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = $1 AND o.seq >= $2 ORDER BY o.seq LIMIT $3",
            )
            .bind(scan.id)
            .bind(from)
            .bind(CHUNK)
            .fetch_all(&self.pool)
            .await?;
            let (Some(first), Some(last)) = (hosts.first(), hosts.last()) else {
                return Ok((hosts, Vec::new(), Vec::new()));
            };
            let (low, high) = (first.0, last.0);
            let ports: Vec<PortSql> = sqlx::query_as(
                "SELECT p.host_id, p.proto, p.port, p.state, p.reason, p.reason_ttl, p.service, p.product, p.version, \
                 p.tunnel, p.detail FROM port_obs p \
                 JOIN host_obs o ON o.scan_id = p.scan_id AND o.host_id = p.host_id \
                 WHERE p.scan_id = $1 AND o.seq >= $2 AND o.seq <= $3",
            )
            .bind(scan.id)
            .bind(low)
            .bind(high)
            .fetch_all(&self.pool)
            .await?;
            let folds: Vec<FoldSql> = sqlx::query_as(
                "SELECT f.host_id, f.proto, f.state, f.reason, f.ports FROM port_folds f \
                 JOIN host_obs o ON o.scan_id = f.scan_id AND o.host_id = f.host_id \
                 WHERE f.scan_id = $1 AND o.seq >= $2 AND o.seq <= $3",
            )
            .bind(scan.id)
            .bind(low)
            .bind(high)
            .fetch_all(&self.pool)
            .await?;
            Ok((hosts, ports, folds))
        });
        let (hosts, ports, folds) = read.map_err(|e| self.query_err("reading a scan's hosts", e))?;
        let (mut ports_of, mut folds_of) = by_host(ports, folds);
        hosts
            .into_iter()
            .map(|(seq, host, addr, state, reason, detail)| {
                let ports = ports_of.remove(&host).unwrap_or_default();
                let folds = folds_of.remove(&host).unwrap_or_default();
                rebuild_host(&addr, &state, &reason, &detail, &ports, &folds).map(|h| (seq, h)).map_err(|e| {
                    StoreError::Query {
                        what: self.name().to_string(),
                        doing: "reading a scan's hosts",
                        message: e.to_string(),
                    }
                })
            })
            .collect()
    }
}

/// Why [`Store::for_each_host`] stopped.
#[derive(Debug)]
pub enum ReadFailure<E> {
    Store(StoreError),
    /// The caller's `each` failed (an output could not be written).
    Output(E),
}

/// A host observation row as the readers select it: (seq, host id, addr, state, reason, detail).
pub(crate) type HostSql = (i64, i64, String, String, String, String);
type Text = Option<String>;
/// A port observation row: (host id, proto, port, state, reason, reason TTL, service, product, version,
/// tunnel, detail).
pub(crate) type PortSql = (i64, String, i64, String, String, i64, Text, Text, Text, Text, Text);
/// A fold row: (host id, proto, state, reason, ports).
pub(crate) type FoldSql = (i64, String, String, String, String);

/// Port and fold rows grouped by host id, for [`rebuild_host`].
pub(crate) fn by_host(
    ports: Vec<PortSql>,
    folds: Vec<FoldSql>,
) -> (HashMap<i64, Vec<StoredPort>>, HashMap<i64, Vec<StoredFold>>) {
    let mut ports_of: HashMap<i64, Vec<StoredPort>> = HashMap::new();
    for (host, proto, port, state, reason, reason_ttl, service, product, version, tunnel, detail) in ports {
        ports_of.entry(host).or_default().push(StoredPort {
            proto,
            port,
            state,
            reason,
            reason_ttl,
            service,
            product,
            version,
            tunnel,
            detail,
        });
    }
    let mut folds_of: HashMap<i64, Vec<StoredFold>> = HashMap::new();
    for (host, proto, state, reason, ports) in folds {
        folds_of.entry(host).or_default().push(StoredFold { proto, state, reason, ports });
    }
    (ports_of, folds_of)
}
