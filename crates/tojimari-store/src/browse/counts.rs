//! A scan's totals and the scan list a page at a time. Hosts, hosts up and open ports come from one pass
//! over the scan's entries of the `host_obs_browse` index (each host observation keeps its number of open
//! ports), findings by severity from the `findings` primary key's scan prefix: a scan's totals cost what its
//! own hosts cost, never the whole store's; finished scans' totals are kept in memory once counted (a
//! finished scan's rows do not change).

use crate::snapshot::ScanInfo;
use crate::snapshot_load::{SCAN_COLUMNS, ScanTuple, scan_info};
use crate::store::{ScanStatus, Store, StoreError};

/// What a scan recorded, in totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanCounts {
    /// Hosts recorded (up or down).
    pub hosts: i64,
    pub hosts_up: i64,
    /// Ports observed open.
    pub open_ports: i64,
    /// Findings, by severity, most severe first.
    pub findings: Vec<SeverityCount>,
}

impl ScanCounts {
    /// All findings, whatever their severity.
    pub fn findings_total(&self) -> i64 {
        self.findings.iter().map(|s| s.count).sum()
    }
}

/// How many findings of one severity (`critical`, `high`, `medium`, `low`, `info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeverityCount {
    pub severity: String,
    pub count: i64,
}

/// One scan with its totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanListing {
    pub scan: ScanInfo,
    pub counts: ScanCounts,
}

/// One page of the scan list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanPage {
    /// Scans in the store (numbered, so not an import still being written).
    pub total: i64,
    /// Newest first.
    pub scans: Vec<ScanListing>,
}

/// Severities from the most to the least severe; others (an import's own words) after them, by name.
pub(crate) fn severity_rank(s: &str) -> (u8, String) {
    (tojimari_core::report::Severity::rank_of(s), s.to_string())
}

impl Store {
    /// The totals of finished scan `scan` if they are in memory already (see [`Store::scan_counts`]); never
    /// reads the store.
    pub fn remembered_counts(&self, scan: &ScanInfo) -> Option<ScanCounts> {
        let memo = self.counts_memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (scan.status != ScanStatus::Running).then(|| memo.get(&scan.id).cloned()).flatten()
    }

    /// The totals of the scan with row id `scan_id`.
    pub fn scan_counts(&self, scan: &ScanInfo) -> Result<ScanCounts, StoreError> {
        if scan.status != ScanStatus::Running
            && let Some(c) = self.counts_memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&scan.id)
        {
            return Ok(c.clone());
        }
        type Totals = (i64, i64, i64);
        let read: Result<(Totals, Vec<(String, i64)>), sqlx::Error> = self.block_on(async {
            // One pass over the `host_obs_browse` index (open ports per host are kept with the host).
            let totals: Totals = sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN state = 'up' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(open_ports), 0) AS BIGINT) FROM host_obs WHERE scan_id = $1",
            )
            .bind(scan.id)
            .fetch_one(self.pool())
            .await?;
            let by_severity: Vec<(String, i64)> =
                sqlx::query_as("SELECT severity, COUNT(*) FROM findings WHERE scan_id = $1 GROUP BY severity")
                    .bind(scan.id)
                    .fetch_all(self.pool())
                    .await?;
            Ok((totals, by_severity))
        });
        let ((hosts, hosts_up, open_ports), by_severity) =
            read.map_err(|e| self.query_err("counting a scan's hosts and ports", e))?;
        let mut findings: Vec<SeverityCount> =
            by_severity.into_iter().map(|(severity, count)| SeverityCount { severity, count }).collect();
        findings.sort_by_key(|s| severity_rank(&s.severity));
        let counts = ScanCounts { hosts, hosts_up, open_ports, findings };
        if scan.status != ScanStatus::Running {
            self.counts_memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(scan.id, counts.clone());
        }
        Ok(counts)
    }

    /// Scans `offset..offset + limit` of the list, newest first, with their totals.
    pub fn scan_page(&self, offset: i64, limit: i64) -> Result<ScanPage, StoreError> {
        let sql = format!("SELECT {SCAN_COLUMNS} FROM scans WHERE no > 0 ORDER BY no DESC LIMIT $1 OFFSET $2");
        let read: Result<(i64, Vec<ScanTuple>), sqlx::Error> = self.block_on(async {
            let total = sqlx::query_scalar("SELECT COUNT(*) FROM scans WHERE no > 0").fetch_one(self.pool()).await?;
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(limit.max(0))
                .bind(offset.max(0))
                .fetch_all(self.pool())
                .await?;
            Ok((total, rows))
        });
        let (total, rows) = read.map_err(|e| self.query_err("listing scans", e))?;
        let scans = rows
            .into_iter()
            .map(scan_info)
            .map(|scan| Ok(ScanListing { counts: self.scan_counts(&scan)?, scan }))
            .collect::<Result<_, StoreError>>()?;
        Ok(ScanPage { total, scans })
    }
}
