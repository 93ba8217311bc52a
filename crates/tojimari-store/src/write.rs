//! Writing scans: hosts recorded in batches (multi-row inserts, one transaction per batch), the current
//! state per port kept in step, a scan's header and summary, and whole imported scans in one transaction.
//!
//! The current state (`current_ports`) follows the observations in time order, not arrival order: an
//! observation older than what a port's row already has (an old file imported late) only moves its first
//! seen back. Ports only ever seen folded (one of a host's 998 closed ports) get no row; a port with a row
//! that is now folded is updated from the fold.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, Receiver, SyncSender};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Acquire, Any, Transaction};
use tojimari_core::HostReport;
use tojimari_core::report::{RunInfo, RunSummary};

use crate::digest::host_digest;
use crate::import::ranges::for_each_port;
use crate::rows::{HostRows, host_rows, unix_ms};
use crate::store::{Backend, ScanId, ScanStart, ScanStatus, Store, StoreError, new_id};

/// Bound parameters per statement at most (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMS: usize = 3_000;

/// What a scan being written needs between batches: its `-v` level (which states fold) and the next host's
/// place in the output order.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct ScanProgress {
    pub verbose: u8,
    pub next_seq: i64,
}

/// One piece of an imported file, in file order.
#[derive(Clone, Debug)]
pub enum Imported {
    /// The run's header (at most once, before the hosts).
    Run(Box<RunInfo>),
    Host(Box<HostReport>),
    /// The run's summary (at most once, after the hosts).
    Summary(Box<RunSummary>),
}

/// Why an import recorded nothing.
#[derive(Debug)]
pub enum ImportFailure<E> {
    /// The input failed (bad file): the transaction was rolled back.
    Input(E),
    Store(StoreError),
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments>;

/// Hosts an import hands to its writer at a time.
const IMPORT_BATCH: usize = 256;

/// What the reading half of an import hands to the writing half.
enum Piece {
    /// The run's header (JSON).
    Run(String),
    /// Hosts as rows (made on the reading side: writing is the slower half).
    Hosts(Vec<HostRows>),
    /// The run's summary (JSON) and its end.
    Summary(String, i64),
    /// Everything was read: commit with this status.
    End(ScanStatus),
}

/// The reading half of [`Store::import_scan`]: records to rows, in batches. Stops at the first bad record
/// (without sending [`Piece::End`], so the writer rolls back), or when the writer has stopped.
fn read_import<E>(
    records: impl Iterator<Item = Result<Imported, E>>,
    fallback_ms: i64,
    rows: &SyncSender<Piece>,
) -> Result<(), E> {
    let mut verbose = 0;
    let mut status = ScanStatus::Interrupted;
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for record in records {
        let piece = match record? {
            Imported::Run(run) => {
                verbose = run.display.verbose;
                Piece::Run(serde_json::to_string(&run).unwrap_or_default())
            }
            Imported::Host(host) => {
                batch.push(host_rows(&host, verbose, fallback_ms));
                if batch.len() < IMPORT_BATCH {
                    continue;
                }
                Piece::Hosts(std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH)))
            }
            Imported::Summary(summary) => {
                status = match summary.exit {
                    tojimari_core::report::RunExit::Success => ScanStatus::Complete,
                    tojimari_core::report::RunExit::Error(_) => ScanStatus::Interrupted,
                };
                Piece::Summary(serde_json::to_string(&summary).unwrap_or_default(), unix_ms(summary.end))
            }
        };
        if rows.send(piece).is_err() {
            // The writer failed; it says why.
            return Ok(());
        }
    }
    let _ = rows.send(Piece::Hosts(batch));
    let _ = rows.send(Piece::End(status));
    Ok(())
}

impl Store {
    /// Records finished hosts of `scan` in one transaction: their observations (folded ports as ranges), their
    /// findings, and the current state of their ports. `now_ms` stands in for a host without an end time.
    pub fn record_hosts(&self, scan: ScanId, hosts: &[HostReport], now_ms: i64) -> Result<(), StoreError> {
        let mut progress = self.progress(scan)?;
        let rows: Vec<HostRows> = hosts.iter().map(|h| host_rows(h, progress.verbose, now_ms)).collect();
        let done: Result<(), sqlx::Error> = self.rt.block_on(async {
            let mut tx = self.write_tx().await?;
            write_rows(&mut tx, Marks::of(self.backend()), scan.id, &rows, progress.next_seq).await?;
            tx.commit().await
        });
        done.map_err(|e| self.query_err("recording hosts", e))?;
        progress.next_seq += rows.len() as i64;
        self.set_progress(scan, progress);
        Ok(())
    }

    /// Keeps the run's header with `scan` (for export) and the `-v` level that decides which ports fold.
    pub fn set_run_info(&self, scan: ScanId, run: &RunInfo) -> Result<(), StoreError> {
        let json = serde_json::to_string(run).map_err(|e| self.query_err("keeping the run header", e))?;
        let done = self.rt.block_on(
            sqlx::query("UPDATE scans SET run_info = $1 WHERE id = $2").bind(json).bind(scan.id).execute(&self.pool),
        );
        done.map_err(|e| self.query_err("keeping the run header", e))?;
        let mut progress = self.progress(scan)?;
        progress.verbose = run.display.verbose;
        self.set_progress(scan, progress);
        Ok(())
    }

    /// Marks `scan` finished with its summary.
    pub fn finish_run(&self, scan: ScanId, status: ScanStatus, summary: &RunSummary) -> Result<(), StoreError> {
        let json = serde_json::to_string(summary).map_err(|e| self.query_err("finishing a scan", e))?;
        let done = self.rt.block_on(
            sqlx::query("UPDATE scans SET status = $1, ended_ms = $2, summary = $3 WHERE id = $4")
                .bind(status.as_str())
                .bind(unix_ms(summary.end))
                .bind(json)
                .bind(scan.id)
                .execute(&self.pool),
        );
        done.map(drop).map_err(|e| self.query_err("finishing a scan", e))
    }

    /// Records a whole imported scan in one transaction: the scan, its header, every host and its summary.
    /// When `records` yields an error, or the database fails, everything is rolled back: no partial scan is
    /// left behind. The scan is `complete` when the records ended with a summary that says success, else
    /// `interrupted` (a file cut short).
    pub fn import_scan<E>(
        &self,
        start: &ScanStart,
        records: impl Iterator<Item = Result<Imported, E>>,
    ) -> Result<ScanId, ImportFailure<E>> {
        // The file is read and turned into rows on this thread while a writer thread puts the rows in the
        // database: the two halves take about as long as each other. At most a few batches wait between them.
        let (rows, inbox) = mpsc::sync_channel::<Piece>(2);
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || self.write_import(start, &inbox));
            let read = read_import(records, start.started_ms, &rows);
            drop(rows);
            let written = writer.join().unwrap_or_else(|_| {
                Err(StoreError::Query {
                    what: self.name().to_string(),
                    doing: "importing",
                    message: "the writer stopped".into(),
                })
            });
            match (read, written) {
                // The input failed: the writer saw the channel close without the end and rolled back.
                (Err(e), _) => Err(ImportFailure::Input(e)),
                (Ok(()), Err(e)) => Err(ImportFailure::Store(e)),
                (Ok(()), Ok(id)) => Ok(id),
            }
        })
    }

    /// The writing half of [`Store::import_scan`]: one transaction, committed only when the reading half
    /// sends [`Piece::End`].
    fn write_import(&self, start: &ScanStart, inbox: &Receiver<Piece>) -> Result<ScanId, StoreError> {
        let id = new_id();
        let marks = Marks::of(self.backend());
        // On SQLite the import's rows reference only the scan and the hosts it writes itself in the same
        // transaction, so the foreign-key lookups (two index searches per row) are switched off on the
        // store's one connection while it runs, and on again after (also after a failure). A store opened
        // with several connections keeps them on (the pragma could land on another connection).
        let relax = self.backend() == Backend::Sqlite && self.pool().options().get_max_connections() == 1;
        let done: Result<Option<i64>, sqlx::Error> = self.rt.block_on(async {
            if relax {
                sqlx::query("PRAGMA foreign_keys = OFF").execute(self.pool()).await?;
            }
            let written = self.write_import_tx(id, marks, start, inbox).await;
            if relax {
                sqlx::query("PRAGMA foreign_keys = ON").execute(self.pool()).await?;
            }
            written
        });
        match done.map_err(|e| self.query_err("importing", e))? {
            Some(no) => Ok(ScanId { id, no }),
            None => Err(StoreError::Query {
                what: self.name().to_string(),
                doing: "importing",
                message: "the input ended early".into(),
            }),
        }
    }

    /// The import's one transaction: `Some(number)` once committed, `None` (rolled back) when the reading
    /// half stopped before the end.
    async fn write_import_tx(
        &self,
        id: i64,
        marks: Marks,
        start: &ScanStart,
        inbox: &Receiver<Piece>,
    ) -> Result<Option<i64>, sqlx::Error> {
        {
            let mut tx = self.write_tx().await?;
            insert_scan(&mut tx, id, start).await?;
            let mut seq = 0i64;
            let mut ended_ms = start.started_ms;
            while let Ok(piece) = inbox.recv() {
                match piece {
                    Piece::Run(json) => {
                        sqlx::query("UPDATE scans SET run_info = $1 WHERE id = $2")
                            .bind(json)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Piece::Hosts(batch) => {
                        ended_ms = batch.iter().map(|h| h.seen_ms).fold(ended_ms, i64::max);
                        write_rows(&mut tx, marks, id, &batch, seq).await?;
                        seq += batch.len() as i64;
                    }
                    Piece::Summary(json, end_ms) => {
                        ended_ms = end_ms.max(start.started_ms);
                        sqlx::query("UPDATE scans SET summary = $1 WHERE id = $2")
                            .bind(json)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Piece::End(status) => {
                        let no = number_scan(&mut tx, id).await?;
                        sqlx::query("UPDATE scans SET status = $1, ended_ms = $2 WHERE id = $3")
                            .bind(status.as_str())
                            .bind(ended_ms)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        return Ok(Some(no));
                    }
                }
            }
            // The reading half stopped without the end: nothing is kept.
            tx.rollback().await?;
            Ok(None)
        }
    }

    fn progress(&self, scan: ScanId) -> Result<ScanProgress, StoreError> {
        if let Some(p) = self.progress.lock().ok().and_then(|m| m.get(&scan.id).copied()) {
            return Ok(p);
        }
        // Not written by this process so far: what the database says.
        let found: Result<(Option<String>, i64), sqlx::Error> = self.rt.block_on(
            sqlx::query_as(
                "SELECT run_info, (SELECT COALESCE(MAX(seq) + 1, 0) FROM host_obs WHERE scan_id = $1) \
                 FROM scans WHERE id = $1",
            )
            .bind(scan.id)
            .fetch_one(&self.pool),
        );
        let (run, next_seq) = found.map_err(|e| self.query_err("reading a scan", e))?;
        let verbose =
            run.and_then(|r| serde_json::from_str::<RunInfo>(&r).ok()).map_or(0, |r: RunInfo| r.display.verbose);
        Ok(ScanProgress { verbose, next_seq })
    }

    fn set_progress(&self, scan: ScanId, progress: ScanProgress) {
        if let Ok(mut map) = self.progress.lock() {
            map.insert(scan.id, progress);
        }
    }
}

/// Inserts the row of scan `id`, `running`, with a placeholder number (`-id`) until [`number_scan`].
pub(crate) async fn insert_scan(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    start: &ScanStart,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO scans (id, no, argv, profile, scope_targets, scope_ports, started_ms, status, source, \
         writer_host, writer_pid, writer_boot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(-id)
    .bind(&start.argv)
    .bind(&start.profile)
    .bind(&start.targets)
    .bind(&start.ports)
    .bind(start.started_ms)
    .bind(ScanStatus::Running.as_str())
    .bind(if start.source.is_empty() { "tojimari" } else { start.source.as_str() })
    .bind(&start.writer_host)
    .bind(start.writer_pid)
    .bind(&start.writer_boot)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Gives the scan `id` (inserted with a placeholder number) the next number, inside `tx`. Two writers may
/// pick the same one: the UNIQUE constraint refuses the second, which tries again from a savepoint.
/// Placeholder numbers are negative and never counted.
pub(crate) async fn number_scan(tx: &mut Transaction<'static, Any>, id: i64) -> Result<i64, sqlx::Error> {
    let mut last = None;
    for _ in 0..8 {
        let mut attempt = tx.begin().await?;
        let no: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(no), 0) + 1 FROM scans WHERE no > 0")
            .fetch_one(&mut *attempt)
            .await?;
        match sqlx::query("UPDATE scans SET no = $1 WHERE id = $2").bind(no).bind(id).execute(&mut *attempt).await {
            Ok(_) => {
                attempt.commit().await?;
                return Ok(no);
            }
            Err(e) => {
                last = Some(e);
                attempt.rollback().await?;
            }
        }
    }
    Err(last.unwrap_or(sqlx::Error::PoolClosed))
}

/// How bound values are marked in SQL. PostgreSQL wants `$1, $2...`; SQLite takes those too, but looks each
/// named one up in a list (a statement of 30,000 took seconds to prepare), so it gets plain `?`s, bound in
/// order.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Marks {
    Numbered,
    InOrder,
}

impl Marks {
    pub(crate) fn of(backend: Backend) -> Marks {
        match backend {
            Backend::Postgres => Marks::Numbered,
            Backend::Sqlite => Marks::InOrder,
        }
    }

    fn push(self, sql: &mut String, n: usize) {
        match self {
            Marks::Numbered => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            Marks::InOrder => sql.push('?'),
        }
    }

    /// `(<mark>, <mark>, ...)` for `count` values.
    pub(crate) fn list(self, count: usize) -> String {
        let mut sql = String::from("(");
        for i in 1..=count {
            if i > 1 {
                sql.push(',');
            }
            self.push(&mut sql, i);
        }
        sql.push(')');
        sql
    }
}

/// `INSERT INTO <head> VALUES (...), (...)` for `rows` rows of `width` values, with `tail` after the values.
/// With `lead`, every row starts with that number written out (the scan id: the same in every row, and one
/// value fewer to bind per row; the statement text stays the same for the whole scan).
fn values_sql(marks: Marks, head: &str, lead: Option<i64>, width: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + rows * width * 5 + tail.len());
    sql.push_str("INSERT INTO ");
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        if let Some(lead) = lead {
            sql.push_str(&lead.to_string());
            sql.push(',');
        }
        for c in 0..width {
            if c > 0 {
                sql.push(',');
            }
            marks.push(&mut sql, r * width + c + 1);
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// Runs a multi-row insert over `items` in chunks: `bind` binds one item's `width` values. While the database
/// runs one chunk (on SQLite, on its own thread), the next chunk's values are bound here: binding a million
/// rows' values is a fifth of an import's writing, and it need not wait.
// The statement's parts and the rows' binder are each one argument; grouping them would only rename them.
#[allow(clippy::too_many_arguments)]
async fn insert_chunked<'a, T>(
    tx: &mut Transaction<'static, Any>,
    marks: Marks,
    head: &str,
    lead: Option<i64>,
    width: usize,
    tail: &str,
    items: &'a [T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> Result<(), sqlx::Error> {
    let build = |chunk: &'a [T]| -> AnyQuery<'a> {
        let sql = values_sql(marks, head, lead, width, chunk.len(), tail);
        chunk.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), &bind)
    };
    let mut chunks = items.chunks((MAX_PARAMS / width).max(1));
    let mut next = chunks.next().map(build);
    while let Some(query) = next.take() {
        let mut running = std::pin::pin!(query.execute(&mut **tx));
        // The first poll hands the statement over; then the next chunk is bound while it runs.
        let started = std::future::poll_fn(|cx| std::task::Poll::Ready(running.as_mut().poll(cx))).await;
        next = chunks.next().map(build);
        match started {
            std::task::Poll::Ready(done) => done?,
            std::task::Poll::Pending => running.await?,
        };
    }
    Ok(())
}

/// The row ids of `addrs` in `hosts`, inserting the new ones.
async fn host_ids(
    tx: &mut Transaction<'static, Any>,
    marks: Marks,
    addrs: &[&str],
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut unique: Vec<&str> = addrs.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let fresh: Vec<(i64, &str)> = unique.iter().map(|a| (new_id(), *a)).collect();
    insert_chunked(tx, marks, "hosts (id, addr)", None, 2, "ON CONFLICT (addr) DO NOTHING", &fresh, |q, (id, addr)| {
        q.bind(*id).bind(*addr)
    })
    .await?;
    let mut ids = HashMap::with_capacity(unique.len());
    for chunk in unique.chunks(MAX_PARAMS) {
        let sql = format!("SELECT id, addr FROM hosts WHERE addr IN {}", marks.list(chunk.len()));
        let mut query = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for addr in chunk {
            query = query.bind(*addr);
        }
        for (id, addr) in query.fetch_all(&mut **tx).await? {
            ids.insert(addr, id);
        }
    }
    Ok(ids)
}

/// Writes the rows of a batch of hosts of scan `scan_id`, the first at place `seq` in the output order.
pub(crate) async fn write_rows(
    tx: &mut Transaction<'static, Any>,
    marks: Marks,
    scan_id: i64,
    rows: &[HostRows],
    seq: i64,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let addrs: Vec<&str> = rows.iter().map(|r| r.addr.as_str()).collect();
    let ids = host_ids(tx, marks, &addrs).await?;
    let id_of = |r: &HostRows| ids.get(&r.addr).copied().unwrap_or_default();
    let hosts: Vec<(i64, i64, &HostRows, String)> =
        rows.iter().enumerate().map(|(i, r)| (id_of(r), seq + i as i64, r, host_digest(r))).collect();
    insert_chunked(
        tx,
        marks,
        "host_obs (scan_id, host_id, state, reason, hostnames, os_name, os_accuracy, distance, seq, seen_ms, \
         detail, digest, open_ports)",
        Some(scan_id),
        12,
        "ON CONFLICT DO NOTHING",
        &hosts,
        |q, (host, seq, r, digest)| {
            q.bind(*host)
                .bind(r.host.state)
                .bind(r.host.reason)
                .bind(r.host.hostnames.as_str())
                .bind(r.host.os_name.as_deref())
                .bind(r.host.os_accuracy)
                .bind(r.host.distance)
                .bind(*seq)
                .bind(r.seen_ms)
                .bind(r.host.detail.as_str())
                .bind(digest.as_str())
                .bind(r.ports.iter().filter(|p| p.state == "open").count() as i64)
        },
    )
    .await?;
    let ports: Vec<(i64, &crate::rows::PortRow)> =
        rows.iter().flat_map(|r| r.ports.iter().map(move |p| (id_of(r), p))).collect();
    insert_chunked(
        tx,
        marks,
        "port_obs (scan_id, host_id, proto, port, state, reason, service, product, version, tunnel, cert_sha256, \
         reason_ttl, detail)",
        Some(scan_id),
        12,
        "ON CONFLICT DO NOTHING",
        &ports,
        |q, (host, p)| {
            q.bind(*host)
                .bind(p.proto)
                .bind(p.port)
                .bind(p.state)
                .bind(p.reason)
                .bind(p.service.as_deref())
                .bind(p.product.as_deref())
                .bind(p.version.as_deref())
                .bind(p.tunnel)
                .bind(p.cert.as_deref())
                .bind(p.reason_ttl)
                .bind(p.detail.as_deref())
        },
    )
    .await?;
    let folds: Vec<(i64, &crate::rows::FoldRow)> =
        rows.iter().flat_map(|r| r.folds.iter().map(move |f| (id_of(r), f))).collect();
    insert_chunked(
        tx,
        marks,
        "port_folds (scan_id, host_id, proto, state, reason, count, ports)",
        Some(scan_id),
        6,
        "ON CONFLICT DO NOTHING",
        &folds,
        |q, (host, f)| q.bind(*host).bind(f.proto).bind(f.state).bind(f.reason).bind(f.count).bind(f.ports.as_str()),
    )
    .await?;
    let findings: Vec<(i64, &crate::rows::FindingRow)> =
        rows.iter().flat_map(|r| r.findings.iter().map(move |f| (id_of(r), f))).collect();
    insert_chunked(
        tx,
        marks,
        "findings (scan_id, host_id, proto, port, finding, severity, evidence)",
        Some(scan_id),
        6,
        "ON CONFLICT DO NOTHING",
        &findings,
        |q, (host, f)| {
            q.bind(*host).bind(f.proto).bind(f.port).bind(f.id.as_str()).bind(f.severity).bind(f.evidence.as_str())
        },
    )
    .await?;
    update_current(tx, marks, scan_id, rows, &id_of).await
}

/// A port's current state as one observation says it.
#[derive(Clone, Debug)]
struct Seen<'a> {
    state: &'a str,
    service: Option<&'a str>,
    product: Option<&'a str>,
    at: i64,
}

/// The states in which a port may let traffic in: a port is tracked in `current_ports` from the first time it
/// is seen in one of them ("since when has this door been open"), and followed in every state after that.
const DOOR_STATES: [&str; 3] = ["open", "open|filtered", "unfiltered"];

/// Updates `current_ports` from a batch: ports seen in a [`DOOR_STATES`] state are inserted or updated; ports
/// already tracked are updated from whatever this batch says of them, listed or folded.
async fn update_current(
    tx: &mut Transaction<'static, Any>,
    marks: Marks,
    scan_id: i64,
    rows: &[HostRows],
    id_of: &impl Fn(&HostRows) -> i64,
) -> Result<(), sqlx::Error> {
    // What is tracked already for the batch's hosts (one query per chunk of hosts).
    let mut tracked: HashMap<(i64, String, i64), i64> = HashMap::new();
    let hosts: Vec<i64> = rows.iter().map(id_of).collect();
    for chunk in hosts.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT host_id, proto, port, last_seen_ms FROM current_ports WHERE host_id IN {}",
            marks.list(chunk.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String, i64, i64)>(sqlx::AssertSqlSafe(sql));
        for host in chunk {
            query = query.bind(*host);
        }
        for (host, proto, port, last_seen) in query.fetch_all(&mut **tx).await? {
            tracked.insert((host, proto, port), last_seen);
        }
    }
    // The latest observation per port in this batch (a host may come twice in an imported file).
    let mut listed: BTreeMap<(i64, &str, i64), Seen<'_>> = BTreeMap::new();
    for r in rows {
        for p in &r.ports {
            let key = (id_of(r), p.proto, p.port);
            let known = !tracked.is_empty() && tracked.contains_key(&(key.0, key.1.to_string(), key.2));
            // On SQLite, ports seen open for the first time are inserted below, by the database.
            if !known && (marks == Marks::InOrder || !DOOR_STATES.contains(&p.state)) {
                continue;
            }
            let seen =
                Seen { state: p.state, service: p.service.as_deref(), product: p.product.as_deref(), at: r.seen_ms };
            let slot = listed.entry(key).or_insert_with(|| seen.clone());
            if seen.at >= slot.at {
                *slot = seen;
            }
        }
    }
    let listed: Vec<((i64, &str, i64), Seen<'_>)> = listed.into_iter().collect();
    insert_chunked(
        tx,
        marks,
        "current_ports (host_id, proto, port, state, service, first_seen_ms, last_seen_ms, last_changed_ms, \
         last_scan_id, product)",
        None,
        10,
        "ON CONFLICT (host_id, proto, port) DO UPDATE SET \
         first_seen_ms = CASE WHEN excluded.first_seen_ms < current_ports.first_seen_ms \
           AND excluded.state IN ('open', 'open|filtered', 'unfiltered') \
           THEN excluded.first_seen_ms ELSE current_ports.first_seen_ms END, \
         last_changed_ms = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.last_changed_ms \
           WHEN current_ports.state = excluded.state \
           AND COALESCE(current_ports.service, '') = COALESCE(excluded.service, '') \
           THEN current_ports.last_changed_ms ELSE excluded.last_seen_ms END, \
         state = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.state ELSE excluded.state END, \
         service = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.service ELSE excluded.service END, \
         product = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.product ELSE excluded.product END, \
         last_scan_id = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.last_scan_id ELSE excluded.last_scan_id END, \
         last_seen_ms = CASE WHEN excluded.last_seen_ms < current_ports.last_seen_ms \
           THEN current_ports.last_seen_ms ELSE excluded.last_seen_ms END",
        &listed,
        |q, ((host, proto, port), seen)| {
            q.bind(*host)
                .bind(*proto)
                .bind(*port)
                .bind(seen.state)
                .bind(seen.service)
                .bind(seen.at)
                .bind(seen.at)
                .bind(seen.at)
                .bind(scan_id)
                .bind(seen.product)
        },
    )
    .await?;
    // SQLite: ports seen in a door state that are not tracked yet are inserted by the database from the
    // observations just written, nothing bound per port (a million-port import binds nothing here). Tracked
    // ones were updated above and are left alone. The scan id is a number this store made, written into the
    // statement. (PostgreSQL plans this join badly on tables it has not analysed yet: 1M ports took 53 s
    // instead of 21; there the ports are bound above.)
    let by_select = if marks == Marks::InOrder { hosts.as_slice() } else { &[] };
    for chunk in by_select.chunks(MAX_PARAMS) {
        let sql = format!(
            "INSERT INTO current_ports (host_id, proto, port, state, service, first_seen_ms, last_seen_ms, \
             last_changed_ms, last_scan_id, product) \
             SELECT p.host_id, p.proto, p.port, p.state, p.service, o.seen_ms, o.seen_ms, o.seen_ms, p.scan_id, \
             p.product \
             FROM port_obs p JOIN host_obs o ON o.scan_id = p.scan_id AND o.host_id = p.host_id \
             WHERE p.scan_id = {scan_id} AND p.host_id IN {} AND p.state IN ({}) \
             ON CONFLICT (host_id, proto, port) DO NOTHING",
            marks.list(chunk.len()),
            DOOR_STATES.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for host in chunk {
            query = query.bind(*host);
        }
        query.execute(&mut **tx).await?;
    }
    // Tracked ports this batch folded.
    let by_host: HashMap<i64, &HostRows> = rows.iter().filter(|r| !r.folds.is_empty()).map(|r| (id_of(r), r)).collect();
    for ((host, proto, port), last_seen) in &tracked {
        let Some(r) = by_host.get(host) else { continue };
        if r.seen_ms < *last_seen {
            continue;
        }
        let Ok(port16) = u16::try_from(*port) else { continue };
        let fold = r.folds.iter().find(|f| f.proto == proto && for_each_port(&f.ports, |p| p != port16) == Some(false));
        let Some(fold) = fold else { continue };
        sqlx::query(
            "UPDATE current_ports SET last_changed_ms = CASE WHEN state = $1 THEN last_changed_ms ELSE $2 END, \
             service = CASE WHEN state = $1 THEN service ELSE NULL END, \
             product = CASE WHEN state = $1 THEN product ELSE NULL END, \
             state = $1, last_seen_ms = $2, last_scan_id = $3 WHERE host_id = $4 AND proto = $5 AND port = $6",
        )
        .bind(fold.state)
        .bind(r.seen_ms)
        .bind(scan_id)
        .bind(*host)
        .bind(proto.as_str())
        .bind(*port)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The import switches SQLite's foreign-key checks off for its transaction only: on again after a
    /// good import and after one whose input failed, on the same store.
    #[test]
    fn imports_leave_foreign_keys_on() {
        let dir = std::env::temp_dir().join(format!("tjstore-fk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(dir.join("s.db").to_str().unwrap()).unwrap();
        let fk = |store: &Store| {
            store.block_on(sqlx::query_scalar::<_, i64>("PRAGMA foreign_keys").fetch_one(store.pool())).unwrap()
        };
        assert_eq!(fk(&store), 1);
        let start = ScanStart { profile: "import".into(), source: "jsonl".into(), ..ScanStart::default() };
        let good: Vec<Result<Imported, &str>> = Vec::new();
        assert!(store.import_scan(&start, good.into_iter()).is_ok());
        assert_eq!(fk(&store), 1);
        let bad: Vec<Result<Imported, &str>> = vec![Err("line 1: not XML")];
        assert!(store.import_scan(&start, bad.into_iter()).is_err());
        assert_eq!(fk(&store), 1);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn multi_row_inserts_number_their_parameters() {
        assert_eq!(
            values_sql(Marks::Numbered, "t (a, b)", None, 2, 2, "ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(values_sql(Marks::InOrder, "t (a)", None, 1, 3, ""), "INSERT INTO t (a) VALUES (?),(?),(?) ");
        assert_eq!(
            values_sql(Marks::Numbered, "t (s, a)", Some(7), 1, 2, ""),
            "INSERT INTO t (s, a) VALUES (7,$1),(7,$2) "
        );
        assert_eq!(Marks::Numbered.list(2), "($1,$2)");
    }
}
