//! A fleet scan's tables (schema 4, docs/fleet.md): the scan's options and chunks, each chunk's progress
//! (its checkpoint), and the workers with their heartbeats. The job queue that hands chunks to workers is
//! tojimari-fleet's; what makes a result land exactly once is here: [`Store::commit_chunk`] writes a chunk's
//! hosts and marks the chunk done in one transaction, and writes nothing for a chunk already done.
//!
//! A host whose probes fall in several chunks is recorded once per scan with the union of its ports: its
//! observation row is written by the first chunk, the ports of later chunks are added to it, folded ports
//! are merged into its fold rows, its open-port count recounted and its digest cleared (a host without a
//! digest is always compared in full).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use sqlx::{Any, Transaction};
use tojimari_core::HostReport;

use crate::port_ranges::{count_ports, format_port_ranges, merge_ranges, parse_port_ranges};
use crate::rows::{HostRows, host_rows};
use crate::store::{ScanId, ScanStatus, Store, StoreError};
use crate::write::{Marks, write_rows};

/// What a fleet scan is, as `tojimari scan --workers` records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetScan {
    /// The scan's options (JSON, opaque here): what every worker repeats.
    pub options: String,
    /// Positions of the probe space in all.
    pub positions: u64,
    pub chunk_size: u64,
    /// The global `--max-rate`, shared by the live workers.
    pub max_rate: Option<u64>,
}

/// A fleet scan as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetScanRow {
    pub scan: ScanId,
    pub fleet: FleetScan,
    pub chunks: u64,
    pub created_ms: i64,
}

/// A chunk's state.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChunkState {
    Pending,
    Running,
    Done,
}

impl ChunkState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkState::Pending => "pending",
            ChunkState::Running => "running",
            ChunkState::Done => "done",
        }
    }

    fn parse(s: &str) -> ChunkState {
        match s {
            "done" => ChunkState::Done,
            "running" => ChunkState::Running,
            _ => ChunkState::Pending,
        }
    }
}

/// One chunk as `tojimari jobs` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkRow {
    pub chunk: u64,
    pub range: Range<u64>,
    pub state: ChunkState,
    pub worker: Option<String>,
    pub claims: u64,
    pub completions: u64,
    pub probes_done: u64,
    pub hosts_up: u64,
    pub open_ports: u64,
    pub checkpoint_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub done_ms: Option<i64>,
}

/// What a worker finds when it takes a chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Its results are in already (a job run again after the commit): nothing to do.
    Done,
    /// Scan it, from `checkpoint` when a worker before saved one. `claims` counts this one.
    Open { range: Range<u64>, checkpoint: Option<String>, claims: u64 },
}

/// What [`Store::commit_chunk`] did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Committed {
    /// The chunk's hosts were written and the chunk marked done; `scan_complete` when it was the last.
    Now { scan_complete: bool },
    /// The chunk was done already: nothing was written.
    Already,
}

/// A worker's heartbeat: who it is and what it does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerBeat {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub started_ms: i64,
    pub now_ms: i64,
    /// The scan and chunk it is on, if any.
    pub scan_id: Option<i64>,
    pub chunk: Option<u64>,
    pub chunks_done: u64,
    pub probes: u64,
    /// Its share of the rate (packets per second), if limited.
    pub rate: Option<u64>,
}

/// A worker as `tojimari jobs` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerRow {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub started_ms: i64,
    pub last_seen_ms: i64,
    pub scan_id: Option<i64>,
    pub chunk: Option<u64>,
    pub chunks_done: u64,
    pub probes: u64,
    pub rate: Option<u64>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A host's place in the scan's output order: chunk by chunk, in the order the chunk found them.
fn seq_of(chunk: u64, index: usize) -> i64 {
    to_i64(chunk).saturating_mul(1 << 24).saturating_add(index as i64)
}

impl Store {
    /// Records the fleet scan of `scan` (begun with [`Store::begin_scan`]) and its chunks, all pending.
    pub fn create_fleet(
        &self,
        scan: ScanId,
        fleet: &FleetScan,
        chunks: &[Range<u64>],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done: Result<(), sqlx::Error> = self.block_on(async {
            let mut tx = self.write_tx().await?;
            sqlx::query(
                "INSERT INTO fleet_scans (scan_id, options, positions, chunk_size, chunks, max_rate, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(scan.id)
            .bind(&fleet.options)
            .bind(to_i64(fleet.positions))
            .bind(to_i64(fleet.chunk_size))
            .bind(chunks.len() as i64)
            .bind(fleet.max_rate.map(to_i64))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            for (i, range) in chunks.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO fleet_chunks (scan_id, chunk, first, past, state, claims, completions, probes_done, \
                     hosts_up, open_ports) VALUES ($1, $2, $3, $4, 'pending', 0, 0, 0, 0, 0)",
                )
                .bind(scan.id)
                .bind(i as i64)
                .bind(to_i64(range.start))
                .bind(to_i64(range.end))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        });
        done.map_err(|e| self.query_err("recording a fleet scan", e))
    }

    /// The fleet scan recorded into the scan with row id `scan_id`, if there is one.
    pub fn fleet_scan(&self, scan_id: i64) -> Result<Option<FleetScanRow>, StoreError> {
        type Row = (i64, String, i64, i64, i64, Option<i64>, i64);
        let row: Result<Option<Row>, sqlx::Error> = self.block_on(
            sqlx::query_as(
                "SELECT s.no, f.options, f.positions, f.chunk_size, f.chunks, f.max_rate, f.created_ms \
                 FROM fleet_scans f JOIN scans s ON s.id = f.scan_id WHERE f.scan_id = $1",
            )
            .bind(scan_id)
            .fetch_optional(self.pool()),
        );
        let row = row.map_err(|e| self.query_err("reading a fleet scan", e))?;
        Ok(row.map(|(no, options, positions, chunk_size, chunks, max_rate, created_ms)| FleetScanRow {
            scan: ScanId { id: scan_id, no },
            fleet: FleetScan {
                options,
                positions: to_u64(positions),
                chunk_size: to_u64(chunk_size),
                max_rate: max_rate.map(to_u64),
            },
            chunks: to_u64(chunks),
            created_ms,
        }))
    }

    /// Every fleet scan, newest first.
    pub fn fleet_scans(&self) -> Result<Vec<FleetScanRow>, StoreError> {
        let ids: Result<Vec<i64>, sqlx::Error> = self.block_on(
            sqlx::query_scalar("SELECT scan_id FROM fleet_scans ORDER BY created_ms DESC, scan_id")
                .fetch_all(self.pool()),
        );
        let ids = ids.map_err(|e| self.query_err("listing fleet scans", e))?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.fleet_scan(id)?);
        }
        Ok(out)
    }

    /// Worker `worker` takes chunk `chunk` of scan `scan_id`: unless it is done, it becomes `running` and
    /// held by `worker`, its claims counted, and its checkpoint handed over.
    pub fn claim_chunk(&self, scan_id: i64, chunk: u64, worker: &str, now_ms: i64) -> Result<Claim, StoreError> {
        type Row = (i64, i64, String, Option<String>, i64);
        let found: Result<Option<Row>, sqlx::Error> = self.block_on(async {
            let mut tx = self.write_tx().await?;
            let changed = sqlx::query(
                "UPDATE fleet_chunks SET state = 'running', worker = $1, claims = claims + 1, \
                 started_ms = COALESCE(started_ms, $2) WHERE scan_id = $3 AND chunk = $4 AND state <> 'done'",
            )
            .bind(worker)
            .bind(now_ms)
            .bind(scan_id)
            .bind(to_i64(chunk))
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(None);
            }
            let row: Row = sqlx::query_as(
                "SELECT first, past, state, checkpoint, claims FROM fleet_chunks WHERE scan_id = $1 AND chunk = $2",
            )
            .bind(scan_id)
            .bind(to_i64(chunk))
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(row))
        });
        let found = found.map_err(|e| self.query_err("claiming a chunk", e))?;
        Ok(match found {
            None => Claim::Done,
            Some((first, past, _, checkpoint, claims)) => {
                Claim::Open { range: to_u64(first)..to_u64(past), checkpoint, claims: to_u64(claims) }
            }
        })
    }

    /// Saves `checkpoint` as the progress of chunk `chunk` while `worker` holds it and it is not done;
    /// returns whether it was saved (not: the chunk was done or taken over meanwhile).
    pub fn save_checkpoint(
        &self,
        scan_id: i64,
        chunk: u64,
        worker: &str,
        checkpoint: &str,
        probes_done: u64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = self.block_on(
            sqlx::query(
                "UPDATE fleet_chunks SET checkpoint = $1, checkpoint_ms = $2, probes_done = $3 \
                 WHERE scan_id = $4 AND chunk = $5 AND worker = $6 AND state = 'running'",
            )
            .bind(checkpoint)
            .bind(now_ms)
            .bind(to_i64(probes_done))
            .bind(scan_id)
            .bind(to_i64(chunk))
            .bind(worker)
            .execute(self.pool()),
        );
        let done = done.map_err(|e| self.query_err("saving a chunk's checkpoint", e))?;
        Ok(done.rows_affected() > 0)
    }

    /// Records the hosts of chunk `chunk` of scan `scan_id` and marks the chunk done, in one transaction;
    /// a chunk already done gets nothing ([`Committed::Already`]). The last chunk done also finishes the
    /// scan (`complete`). `now_ms` stands in for a host without an end time.
    pub fn commit_chunk(
        &self,
        scan_id: i64,
        chunk: u64,
        worker: &str,
        hosts: &[HostReport],
        probes: u64,
        now_ms: i64,
    ) -> Result<Committed, StoreError> {
        let verbose = self.scan_verbose(scan_id)?;
        let rows: Vec<HostRows> = hosts.iter().map(|h| host_rows(h, verbose, now_ms)).collect();
        let up = hosts.iter().filter(|h| h.state == tojimari_core::HostState::Up).count() as i64;
        let open: i64 = rows.iter().map(|r| r.ports.iter().filter(|p| p.state == "open").count() as i64).sum();
        let marks = Marks::of(self.backend());
        let done: Result<Committed, sqlx::Error> = self.block_on(async {
            let mut tx = self.write_tx().await?;
            // One commit per scan at a time: two chunks sharing a host must see each other's rows to merge
            // them (on PostgreSQL this locks the scan's row until commit; SQLite's write lock does it already).
            sqlx::query("UPDATE fleet_scans SET chunks = chunks WHERE scan_id = $1")
                .bind(scan_id)
                .execute(&mut *tx)
                .await?;
            let changed = sqlx::query(
                "UPDATE fleet_chunks SET state = 'done', worker = $1, completions = completions + 1, done_ms = $2, \
                 probes_done = $3, hosts_up = $4, open_ports = $5, checkpoint = NULL \
                 WHERE scan_id = $6 AND chunk = $7 AND state <> 'done'",
            )
            .bind(worker)
            .bind(now_ms)
            .bind(to_i64(probes))
            .bind(up)
            .bind(open)
            .bind(scan_id)
            .bind(to_i64(chunk))
            .execute(&mut *tx)
            .await?;
            if changed.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Committed::Already);
            }
            merge_hosts(&mut tx, marks, scan_id, chunk, &rows).await?;
            let left: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM fleet_chunks WHERE scan_id = $1 AND state <> 'done'")
                    .bind(scan_id)
                    .fetch_one(&mut *tx)
                    .await?;
            if left == 0 {
                sqlx::query("UPDATE scans SET status = $1, ended_ms = $2 WHERE id = $3")
                    .bind(ScanStatus::Complete.as_str())
                    .bind(now_ms)
                    .bind(scan_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Committed::Now { scan_complete: left == 0 })
        });
        done.map_err(|e| self.query_err("committing a chunk", e))
    }

    /// The chunks of scan `scan_id`, in order.
    pub fn fleet_chunks(&self, scan_id: i64) -> Result<Vec<ChunkRow>, StoreError> {
        type Row =
            (i64, i64, i64, String, Option<String>, i64, i64, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>);
        let rows: Result<Vec<Row>, sqlx::Error> = self.block_on(
            sqlx::query_as(
                "SELECT chunk, first, past, state, worker, claims, completions, probes_done, hosts_up, open_ports, \
                 checkpoint_ms, started_ms, done_ms FROM fleet_chunks WHERE scan_id = $1 ORDER BY chunk",
            )
            .bind(scan_id)
            .fetch_all(self.pool()),
        );
        let rows = rows.map_err(|e| self.query_err("listing a scan's chunks", e))?;
        Ok(rows
            .into_iter()
            .map(|(chunk, first, past, state, worker, claims, completions, probes, up, open, cp, started, done)| {
                ChunkRow {
                    chunk: to_u64(chunk),
                    range: to_u64(first)..to_u64(past),
                    state: ChunkState::parse(&state),
                    worker,
                    claims: to_u64(claims),
                    completions: to_u64(completions),
                    probes_done: to_u64(probes),
                    hosts_up: to_u64(up),
                    open_ports: to_u64(open),
                    checkpoint_ms: cp,
                    started_ms: started,
                    done_ms: done,
                }
            })
            .collect())
    }

    /// Records a worker's heartbeat (inserting the worker the first time).
    pub fn worker_beat(&self, beat: &WorkerBeat) -> Result<(), StoreError> {
        let done = self.block_on(
            sqlx::query(
                "INSERT INTO fleet_workers (id, host, pid, started_ms, last_seen_ms, scan_id, chunk, chunks_done, \
                 probes, rate) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, scan_id = excluded.scan_id, \
                 chunk = excluded.chunk, chunks_done = excluded.chunks_done, probes = excluded.probes, \
                 rate = excluded.rate",
            )
            .bind(&beat.id)
            .bind(&beat.host)
            .bind(beat.pid)
            .bind(beat.started_ms)
            .bind(beat.now_ms)
            .bind(beat.scan_id)
            .bind(beat.chunk.map(to_i64))
            .bind(to_i64(beat.chunks_done))
            .bind(to_i64(beat.probes))
            .bind(beat.rate.map(to_i64))
            .execute(self.pool()),
        );
        done.map(drop).map_err(|e| self.query_err("recording a worker's heartbeat", e))
    }

    /// Every worker that ever beat, most recently seen first.
    pub fn fleet_workers(&self) -> Result<Vec<WorkerRow>, StoreError> {
        type Row = (String, String, i64, i64, i64, Option<i64>, Option<i64>, i64, i64, Option<i64>);
        let rows: Result<Vec<Row>, sqlx::Error> = self.block_on(
            sqlx::query_as(
                "SELECT id, host, pid, started_ms, last_seen_ms, scan_id, chunk, chunks_done, probes, rate \
                 FROM fleet_workers ORDER BY last_seen_ms DESC, id",
            )
            .fetch_all(self.pool()),
        );
        let rows = rows.map_err(|e| self.query_err("listing workers", e))?;
        Ok(rows
            .into_iter()
            .map(|(id, host, pid, started_ms, last_seen_ms, scan_id, chunk, chunks_done, probes, rate)| WorkerRow {
                id,
                host,
                pid,
                started_ms,
                last_seen_ms,
                scan_id,
                chunk: chunk.map(to_u64),
                chunks_done: to_u64(chunks_done),
                probes: to_u64(probes),
                rate: rate.map(to_u64),
            })
            .collect())
    }

    /// Chunks of every fleet scan not done yet.
    pub fn chunks_left(&self) -> Result<u64, StoreError> {
        let n: Result<i64, sqlx::Error> = self.block_on(
            sqlx::query_scalar("SELECT COUNT(*) FROM fleet_chunks WHERE state <> 'done'").fetch_one(self.pool()),
        );
        n.map(to_u64).map_err(|e| self.query_err("counting chunks left", e))
    }

    /// The chunks of every fleet scan not done yet, as (scan id, chunk), in order.
    pub fn chunks_not_done(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        let rows: Result<Vec<(i64, i64)>, sqlx::Error> = self.block_on(
            sqlx::query_as("SELECT scan_id, chunk FROM fleet_chunks WHERE state <> 'done' ORDER BY scan_id, chunk")
                .fetch_all(self.pool()),
        );
        let rows = rows.map_err(|e| self.query_err("listing chunks left", e))?;
        Ok(rows.into_iter().map(|(scan, chunk)| (scan, to_u64(chunk))).collect())
    }

    /// How many workers beat at or after `since_ms`.
    pub fn live_workers(&self, since_ms: i64) -> Result<u64, StoreError> {
        let n: Result<i64, sqlx::Error> = self.block_on(
            sqlx::query_scalar("SELECT COUNT(*) FROM fleet_workers WHERE last_seen_ms >= $1")
                .bind(since_ms)
                .fetch_one(self.pool()),
        );
        n.map(to_u64).map_err(|e| self.query_err("counting live workers", e))
    }

    /// The `-v` level the scan was recorded with (which states fold).
    fn scan_verbose(&self, scan_id: i64) -> Result<u8, StoreError> {
        let run: Result<Option<Option<String>>, sqlx::Error> = self.block_on(
            sqlx::query_scalar("SELECT run_info FROM scans WHERE id = $1").bind(scan_id).fetch_optional(self.pool()),
        );
        let run = run.map_err(|e| self.query_err("reading a scan", e))?.flatten();
        Ok(run
            .and_then(|r| serde_json::from_str::<tojimari_core::report::RunInfo>(&r).ok())
            .map_or(0, |r| r.display.verbose))
    }
}

/// Writes a chunk's hosts into scan `scan_id`, merging hosts an earlier chunk recorded already.
async fn merge_hosts(
    tx: &mut Transaction<'static, Any>,
    marks: Marks,
    scan_id: i64,
    chunk: u64,
    rows: &[HostRows],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    // The hosts this scan has already, with their fold rows (read before this chunk's rows go in).
    let mut known: HashMap<String, i64> = HashMap::new();
    let mut folds: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    for part in rows.chunks(1000) {
        let sql = format!(
            "SELECT h.addr, h.id FROM host_obs o JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = {scan_id} \
             AND h.addr IN {}",
            marks.list(part.len())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for r in part {
            query = query.bind(r.addr.as_str());
        }
        known.extend(query.fetch_all(&mut **tx).await?);
    }
    let merged: Vec<&HostRows> = rows.iter().filter(|r| known.contains_key(&r.addr)).collect();
    for part in merged.chunks(1000) {
        let sql = format!(
            "SELECT h.addr, f.proto, f.state, f.reason, f.ports FROM port_folds f JOIN hosts h ON h.id = f.host_id \
             WHERE f.scan_id = {scan_id} AND h.addr IN {}",
            marks.list(part.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String, String, String)>(sqlx::AssertSqlSafe(sql));
        for r in part {
            query = query.bind(r.addr.as_str());
        }
        for (addr, proto, state, reason, ports) in query.fetch_all(&mut **tx).await? {
            folds.insert((addr, proto, state, reason), ports);
        }
    }
    write_rows(tx, marks, scan_id, rows, seq_of(chunk, 0)).await?;
    // Hosts seen before: their fold rows are the union of both (rare: a chunk folds only what it saw)...
    for r in &merged {
        for f in &r.folds {
            let key = (r.addr.clone(), f.proto.to_string(), f.state.to_string(), f.reason.to_string());
            let Some(before) = folds.get(&key) else { continue };
            let mut ranges = parse_port_ranges(before);
            ranges.extend(parse_port_ranges(&f.ports));
            merge_ranges(&mut ranges);
            sqlx::query(
                "UPDATE port_folds SET ports = $1, count = $2 WHERE scan_id = $3 AND host_id = $4 AND proto = $5 \
                 AND state = $6 AND reason = $7",
            )
            .bind(format_port_ranges(&ranges))
            .bind(count_ports(&ranges) as i64)
            .bind(scan_id)
            .bind(known.get(&r.addr).copied().unwrap_or_default())
            .bind(f.proto)
            .bind(f.state)
            .bind(f.reason)
            .execute(&mut **tx)
            .await?;
        }
    }
    // ... and their open ports recounted, a thousand hosts per statement (one statement per host made a
    // commit of a chunk that shares its 65,536 hosts with others take seconds).
    let ids: Vec<i64> = merged.iter().filter_map(|r| known.get(&r.addr).copied()).collect();
    for part in ids.chunks(1000) {
        let sql = format!(
            "UPDATE host_obs SET digest = NULL, open_ports = (SELECT COUNT(*) FROM port_obs p \
             WHERE p.scan_id = host_obs.scan_id AND p.host_id = host_obs.host_id AND p.state = 'open') \
             WHERE scan_id = {scan_id} AND host_id IN {}",
            marks.list(part.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in part {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
