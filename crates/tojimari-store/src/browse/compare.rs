//! Comparing two big scans without loading them whole: each host observation carries a digest of what
//! `diff` compares (`crate::digest`), so the database finds the hosts whose observations differ (one join
//! of the two scans' `host_obs` rows on the primary key), and only those hosts' snapshots are loaded (both
//! scans' in one statement, `crate::snapshot_hosts::load_pair`) and handed to [`crate::diff_scans`]. A host whose digests are equal has the same rows in both scans, hence
//! no difference by `diff`'s rules, so the result is the whole comparison.

use std::sync::Arc;

use crate::diff::{ScanDiff, diff_scans};
use crate::snapshot::{ScanInfo, ScanSnapshot};
use crate::store::{Backend, ScanStatus, Store, StoreError};

/// The statement selecting the `host_id`s whose observations differ between the scans bound as `$1` (A) and
/// `$2` (B), `$3` (B) and `$4` (A): recorded by one of them only, or with other digests, or with no digest
/// (written before digests were kept). On SQLite B's rows are read from the covering index
/// `host_obs_browse` (SQLite would otherwise go through the primary key and read each row for its digest:
/// twice the time on 100,000 hosts).
fn differing_sql(backend: Backend) -> String {
    let covering = if backend == Backend::Sqlite { "INDEXED BY host_obs_browse " } else { "" };
    format!(
        "SELECT x.host_id FROM host_obs x LEFT JOIN host_obs y {covering}ON y.scan_id = $2 AND y.host_id = x.host_id \
         WHERE x.scan_id = $1 AND (y.host_id IS NULL OR x.digest IS NULL OR y.digest IS NULL \
         OR x.digest <> y.digest) \
         UNION SELECT y.host_id FROM host_obs y WHERE y.scan_id = $3 \
         AND NOT EXISTS (SELECT 1 FROM host_obs x WHERE x.scan_id = $4 AND x.host_id = y.host_id)"
    )
}

impl Store {
    /// The row ids of the hosts whose observations differ between scans `a` and `b`.
    pub fn differing_hosts(&self, a: &ScanInfo, b: &ScanInfo) -> Result<Vec<i64>, StoreError> {
        let ids: Result<Vec<i64>, sqlx::Error> = self.block_on(
            sqlx::query_scalar(sqlx::AssertSqlSafe(differing_sql(self.backend())))
                .bind(a.id)
                .bind(b.id)
                .bind(b.id)
                .bind(a.id)
                .fetch_all(self.pool()),
        );
        ids.map_err(|e| self.query_err("comparing two scans", e))
    }

    /// Both scans' snapshots of the hosts whose observations differ, in one statement.
    fn differing_snapshots(&self, a: &ScanInfo, b: &ScanInfo) -> Result<(ScanSnapshot, ScanSnapshot), StoreError> {
        let sql = differing_sql(self.backend());
        let loaded = self.block_on(crate::snapshot_hosts::load_pair(
            self.pool(),
            self.backend(),
            &sql,
            &[a.id, b.id, b.id, a.id],
            a.id,
            b.id,
        ));
        let (ha, hb) = loaded.map_err(|e| self.query_err("comparing two scans", e))?;
        Ok((ScanSnapshot { scan: a.clone(), hosts: ha }, ScanSnapshot { scan: b.clone(), hosts: hb }))
    }
}

/// Finished scans' comparisons by (A, B) row ids, oldest first.
pub(crate) type DiffMemo = Vec<((i64, i64), Arc<ScanDiff>)>;

/// Comparisons kept in memory at most (each of at most [`MEMO_HOSTS`] hosts).
const MEMO_PAIRS: usize = 8;
/// A comparison of more differing hosts than this is not kept.
const MEMO_HOSTS: usize = 20_000;

/// What changed between scan `a` (the baseline) and scan `b`: the same [`ScanDiff`] as `diff_scans` over
/// both whole snapshots, read from the differing hosts only. The comparison of two finished scans (whose
/// rows no longer change) is kept in memory, so the dashboard and the compare page ask the database once.
pub fn compare_scans(store: &Store, a: &ScanInfo, b: &ScanInfo) -> Result<ScanDiff, StoreError> {
    let finished = a.status != ScanStatus::Running && b.status != ScanStatus::Running;
    let key = (a.id, b.id);
    if finished && let Some(d) = store.diff_memo().iter().find(|(k, _)| *k == key).map(|(_, d)| d.clone()) {
        return Ok((*d).clone());
    }
    let (sa, sb) = store.differing_snapshots(a, b)?;
    let diff = diff_scans(&sa, &sb);
    if finished && diff.hosts.len() <= MEMO_HOSTS {
        let mut memo = store.diff_memo();
        if memo.len() >= MEMO_PAIRS {
            memo.remove(0);
        }
        memo.push((key, Arc::new(diff.clone())));
    }
    Ok(diff)
}

/// The comparison of `a` and `b` if it is in memory already (see [`compare_scans`]); never reads the store.
pub fn remembered_comparison(store: &Store, a: &ScanInfo, b: &ScanInfo) -> Option<ScanDiff> {
    let key = (a.id, b.id);
    store.diff_memo().iter().find(|(k, _)| *k == key).map(|(_, d)| (**d).clone())
}

impl Store {
    fn diff_memo(&self) -> std::sync::MutexGuard<'_, DiffMemo> {
        self.diff_memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
