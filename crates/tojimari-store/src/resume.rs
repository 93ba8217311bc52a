//! Continuing a scan recorded by a run that was paused or killed (`tojimari scan --resume`): the same scan,
//! not a second one. The hosts it recorded past what the resumed run keeps (a group of hosts that was not
//! finished, scanned again) are removed, so that every host and port is recorded once.

use crate::store::{ScanId, ScanStatus, Store, StoreError};

impl Store {
    /// Makes scan number `no` running again, written by this process, keeping its first `keep` hosts in
    /// output order and removing the observations of the others. Returns the scan and how many hosts it now
    /// has (fewer than `keep` when the run died before its writer recorded them all).
    pub fn continue_scan(&self, no: i64, keep: u64) -> Result<(ScanId, u64), StoreError> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let writer = crate::reap::this_writer();
        let done: Result<Option<(i64, i64)>, sqlx::Error> = self.rt.block_on(async {
            let mut tx = self.write_tx().await?;
            let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM scans WHERE no = $1")
                .bind(no)
                .fetch_optional(&mut *tx)
                .await?
            else {
                return Ok(None);
            };
            for delete in [
                "DELETE FROM port_obs WHERE scan_id = $1 AND host_id IN \
                 (SELECT host_id FROM host_obs WHERE scan_id = $1 AND seq >= $2)",
                "DELETE FROM port_folds WHERE scan_id = $1 AND host_id IN \
                 (SELECT host_id FROM host_obs WHERE scan_id = $1 AND seq >= $2)",
                "DELETE FROM findings WHERE scan_id = $1 AND host_id IN \
                 (SELECT host_id FROM host_obs WHERE scan_id = $1 AND seq >= $2)",
            ] {
                sqlx::query(delete).bind(id).bind(keep).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM host_obs WHERE scan_id = $1 AND seq >= $2")
                .bind(id)
                .bind(keep)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE scans SET status = $1, ended_ms = NULL, summary = NULL, writer_host = $2, writer_pid = $3, \
                 writer_boot = $4 WHERE id = $5",
            )
            .bind(ScanStatus::Running.as_str())
            .bind(&writer.host)
            .bind(writer.pid)
            .bind(&writer.boot)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let hosts = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM host_obs WHERE scan_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some((id, hosts)))
        });
        match done.map_err(|e| self.query_err("continuing a paused scan", e))? {
            Some((id, hosts)) => {
                // What this process knew of the scan's next host is stale: read it again.
                if let Ok(mut map) = self.progress.lock() {
                    map.remove(&id);
                }
                Ok((ScanId { id, no }, u64::try_from(hosts).unwrap_or(0)))
            }
            None => Err(self.query_err("continuing a paused scan", format!("the store has no scan {no}"))),
        }
    }
}
