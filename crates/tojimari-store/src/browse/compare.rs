//! Comparing two big scans without loading them whole: the database finds the hosts whose rows differ
//! between the scans (host state, names and OS; each port's state, service, product, version, tunnel and
//! certificate; the folds; the findings), with `EXCEPT` over each table's scan-id prefix, and only those
//! hosts' snapshots are loaded and handed to [`crate::diff_scans`]. A host whose rows are the same in both
//! scans has no difference by `diff`'s rules, so the result is the whole comparison.

use crate::diff::{ScanDiff, diff_scans};
use crate::snapshot::ScanInfo;
use crate::store::{Store, StoreError};

/// `SELECT host_id FROM (A's rows EXCEPT B's rows)` for one table's columns, both ways.
fn differing(table: &str, columns: &str) -> String {
    format!(
        "SELECT host_id FROM (SELECT host_id, {columns} FROM {table} WHERE scan_id = $1 \
         EXCEPT SELECT host_id, {columns} FROM {table} WHERE scan_id = $2) d \
         UNION SELECT host_id FROM (SELECT host_id, {columns} FROM {table} WHERE scan_id = $2 \
         EXCEPT SELECT host_id, {columns} FROM {table} WHERE scan_id = $1) e"
    )
}

impl Store {
    /// The row ids of the hosts whose rows differ between scans `a` and `b`.
    pub fn differing_hosts(&self, a: &ScanInfo, b: &ScanInfo) -> Result<Vec<i64>, StoreError> {
        let parts = [
            differing("host_obs", "state, hostnames, COALESCE(os_name, '')"),
            differing(
                "port_obs",
                "proto, port, state, COALESCE(service, ''), COALESCE(product, ''), COALESCE(version, ''), \
                 COALESCE(tunnel, ''), COALESCE(cert_sha256, '')",
            ),
            differing("port_folds", "proto, state, ports"),
            differing("findings", "proto, port, finding, severity, evidence"),
        ];
        let sql = format!("SELECT host_id FROM ({}) u ORDER BY host_id", parts.join(" UNION "));
        let ids: Result<Vec<i64>, sqlx::Error> = self.block_on(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(a.id).bind(b.id).fetch_all(self.pool()),
        );
        ids.map_err(|e| self.query_err("comparing two scans", e))
    }
}

/// What changed between scan `a` (the baseline) and scan `b`: the same [`ScanDiff`] as `diff_scans` over
/// both whole snapshots, read from the differing hosts only.
pub fn compare_scans(store: &Store, a: &ScanInfo, b: &ScanInfo) -> Result<ScanDiff, StoreError> {
    let ids = store.differing_hosts(a, b)?;
    let sa = store.snapshot_of_hosts(a, &ids)?;
    let sb = store.snapshot_of_hosts(b, &ids)?;
    Ok(diff_scans(&sa, &sb))
}
