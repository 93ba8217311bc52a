//! The store itself: one database (SQLite file or PostgreSQL URL) behind a blocking API, the schema applied
//! by the embedded migrations (`migrations/`, the same files for both backends), scans begun, their hosts
//! recorded as observations with the current state per port kept up to date in the same transaction, and
//! scans finished as complete or interrupted.
//!
//! The API blocks: the scanner's engines are threads, so the store runs its own small tokio runtime and
//! callers never see `async`. Times are passed in (Unix milliseconds), as everywhere above the I/O edge.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::write::{ScanProgress, insert_scan, number_scan};

/// Which database a store writes to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why the store cannot be used. Each names the database (`what`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the result store {what}: {message}")]
    Open { what: String, message: String },
    #[error("the result store {what} has schema version {version}, newer than this tojimari knows")]
    NewerSchema { what: String, version: i64 },
    #[error("the result store {what} failed while {doing}: {message}")]
    Query { what: String, doing: &'static str, message: String },
}

/// How a scan ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScanStatus {
    Running,
    Complete,
    Interrupted,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Running => "running",
            ScanStatus::Complete => "complete",
            ScanStatus::Interrupted => "interrupted",
        }
    }

    pub(crate) fn parse(s: &str) -> ScanStatus {
        match s {
            "complete" => ScanStatus::Complete,
            "running" => ScanStatus::Running,
            _ => ScanStatus::Interrupted,
        }
    }
}

/// What a scan is, as recorded when it begins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStart {
    pub argv: String,
    /// `scan`, `check quick`, `import`, ...
    pub profile: String,
    /// The targets and ports asked, as the user wrote them.
    pub targets: String,
    pub ports: String,
    pub started_ms: i64,
    /// Where the results come from: `tojimari` for a run of this program, else the importer's format
    /// (`nmap-xml`, `masscan`, `jsonl`).
    pub source: String,
    /// Who writes it: host name, pid and boot id (to find scans whose process died).
    pub writer_host: String,
    pub writer_pid: i64,
    pub writer_boot: String,
}

/// A scan's identity: the row id and the number people see.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ScanId {
    pub id: i64,
    pub no: i64,
}

/// One scan as listed by [`Store::scans`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRow {
    pub no: i64,
    pub profile: String,
    pub targets: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub status: ScanStatus,
}

/// The current state of one port of one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentPort {
    pub proto: String,
    pub port: u16,
    pub state: String,
    pub service: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub last_changed_ms: i64,
}

/// The columns of a [`ScanRow`], in [`scan_row`]'s order.
const SCAN_ROW: &str = "no, profile, scope_targets, started_ms, ended_ms, status";
type ScanRowTuple = (i64, String, String, i64, Option<i64>, String);

fn scan_row((no, profile, targets, started_ms, ended_ms, status): ScanRowTuple) -> ScanRow {
    ScanRow { no, profile, targets, started_ms, ended_ms, status: ScanStatus::parse(&status) }
}

/// An open result store.
#[derive(Debug)]
pub struct Store {
    what: String,
    backend: Backend,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) pool: AnyPool,
    /// Per scan written by this process: what the next batch needs (see [`ScanProgress`]).
    pub(crate) progress: Mutex<HashMap<i64, ScanProgress>>,
    /// Finished scans' totals, once counted (`browse::counts`).
    pub(crate) counts_memo: Mutex<HashMap<i64, crate::browse::ScanCounts>>,
    /// Comparisons of finished scans, by (A, B) row ids (`browse::compare`).
    pub(crate) diff_memo: Mutex<crate::browse::compare::DiffMemo>,
}

/// The migrations, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Opens (creating where needed) the store at `location`: a `postgres://` or `postgresql://` URL, a
    /// `sqlite:` URL, or a file path (SQLite). Applies the migrations this tojimari has; a store with
    /// newer ones is refused ([`StoreError::NewerSchema`]).
    pub fn open(location: &str) -> Result<Store, StoreError> {
        Store::open_with(location, 1)
    }

    /// [`Store::open`] with `sqlite_connections` connections to a SQLite store (at least 1): a reader such as
    /// `tojimari serve` takes several, so that a page is read while a long query (a background comparison)
    /// runs on another (WAL lets readers run side by side; writes still go one at a time). PostgreSQL
    /// stores always get 4.
    pub fn open_with(location: &str, sqlite_connections: u32) -> Result<Store, StoreError> {
        let (backend, url, what) = locate(location);
        let open_err = |message: String| StoreError::Open { what: what.clone(), message };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| open_err(format!("cannot start its runtime: {e}")))?;
        if backend == Backend::Sqlite
            && let Some(dir) = std::path::Path::new(&what).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| open_err(format!("cannot create {}: {e}", dir.display())))?;
        }
        install_default_drivers();
        // One plain connection first: a file that is not a database, a read-only directory or a refused
        // login fails here at once, where the pool would retry until its acquire timeout.
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&url).await?;
            if backend == Backend::Sqlite {
                conn.execute("PRAGMA schema_version").await?;
            }
            conn.close().await
        })
        .map_err(|e| open_err(e.to_string()))?;
        let pool = rt.block_on(async {
            let options = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite {
                sqlite_connections.max(1)
            } else {
                4
            });
            let options = if backend == Backend::Sqlite {
                options.after_connect(|conn, _| {
                    Box::pin(async move {
                        // A new store gets 16 KiB pages: four times fewer pages (and b-tree splits) for the same
                        // rows than SQLite's default 4 KiB. A store that already has tables keeps its size.
                        conn.execute("PRAGMA page_size = 16384").await?;
                        // WAL lets a second scan read and queue while one writes; a locked database is
                        // waited for, not failed at once.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        // In WAL mode NORMAL syncs at checkpoints, not at every batch's commit: a crash of the
                        // process loses nothing committed, a power cut at most the last batches.
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // A scan of a /16 or an import of a million ports is one big transaction: 64 MiB
                        // of page cache keeps its indexes in memory instead of spilling to the WAL midway.
                        conn.execute("PRAGMA cache_size = -65536").await?;
                        // Statement journals of multi-row inserts in memory, not in temporary files.
                        conn.execute("PRAGMA temp_store = MEMORY").await?;
                        Ok(())
                    })
                })
            } else {
                options
            };
            options.connect(&url).await
        });
        let pool = pool.map_err(|e| open_err(e.to_string()))?;
        let store = Store {
            what,
            backend,
            rt,
            pool,
            progress: Mutex::default(),
            counts_memo: Mutex::default(),
            diff_memo: Mutex::default(),
        };
        store.migrate()?;
        // Scans whose process died are marked interrupted; a store that cannot be written is still read.
        let _ = crate::reap::interrupt_dead_writers(&store);
        Ok(store)
    }

    /// Runs a query future on the store's runtime (for the read-only queries of other modules).
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The connection pool (for the read-only queries of other modules).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The database, as messages name it.
    pub fn name(&self) -> &str {
        &self.what
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = self.rt.block_on(async {
            // A store never migrated has no table of migrations yet.
            sqlx::query_scalar::<_, i64>("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&self.pool).await.ok()
        });
        if let Some(version) = applied
            && version > known
        {
            return Err(StoreError::NewerSchema { what: self.what.clone(), version });
        }
        // Two processes opening a new SQLite file at once both find no schema, and the second to apply it fails
        // (its transaction rolled back): tried again, it finds the schema applied.
        let mut tries = 0;
        loop {
            match self.rt.block_on(MIGRATOR.run(&self.pool)) {
                Ok(()) => return Ok(()),
                Err(_) if tries < 3 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50 * tries));
                }
                Err(e) => return Err(self.query_err("applying its schema", e)),
            }
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): two
    /// deferred transactions that both read and then write would deadlock, and SQLite fails the second at
    /// once instead of waiting (the busy timeout does not apply to that upgrade).
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub(crate) fn query_err(&self, doing: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Query { what: self.what.clone(), doing, message: e.to_string() }
    }

    /// Records that a scan begins; returns its id and number (one more than the highest so far).
    pub fn begin_scan(&self, start: &ScanStart) -> Result<ScanId, StoreError> {
        let id = new_id();
        let result: Result<i64, sqlx::Error> = self.rt.block_on(async {
            let mut tx = self.write_tx().await?;
            insert_scan(&mut tx, id, start).await?;
            let no = number_scan(&mut tx, id).await?;
            tx.commit().await?;
            Ok(no)
        });
        let no = result.map_err(|e| self.query_err("recording a new scan", e))?;
        Ok(ScanId { id, no })
    }

    /// Marks `scan` finished.
    pub fn finish_scan(&self, scan: ScanId, status: ScanStatus, ended_ms: i64) -> Result<(), StoreError> {
        let done = self.rt.block_on(
            sqlx::query("UPDATE scans SET status = $1, ended_ms = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(ended_ms)
                .bind(scan.id)
                .execute(&self.pool),
        );
        done.map(drop).map_err(|e| self.query_err("finishing a scan", e))
    }

    /// Every scan, newest first.
    pub fn scans(&self) -> Result<Vec<ScanRow>, StoreError> {
        let sql = format!("SELECT {SCAN_ROW} FROM scans WHERE no > 0 ORDER BY no DESC");
        let rows: Result<Vec<ScanRowTuple>, sqlx::Error> =
            self.rt.block_on(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool));
        let rows = rows.map_err(|e| self.query_err("listing scans", e))?;
        Ok(rows.into_iter().map(scan_row).collect())
    }

    /// The scans process `pid` of this machine began at or after `since_ms`, oldest first (how `serve` finds
    /// what the checks it started recorded).
    pub fn scans_by_writer(&self, pid: u32, since_ms: i64) -> Result<Vec<ScanRow>, StoreError> {
        let host = crate::reap::this_writer().host;
        let sql = format!(
            "SELECT {SCAN_ROW} FROM scans WHERE no > 0 AND writer_pid = $1 AND writer_host = $2 AND started_ms >= $3 \
             ORDER BY no"
        );
        let rows: Result<Vec<ScanRowTuple>, sqlx::Error> = self.rt.block_on(
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(pid))
                .bind(host)
                .bind(since_ms)
                .fetch_all(&self.pool),
        );
        let rows = rows.map_err(|e| self.query_err("finding a process's scans", e))?;
        Ok(rows.into_iter().map(scan_row).collect())
    }

    /// How many hosts `scan` recorded.
    pub fn observed_hosts(&self, scan: ScanId) -> Result<i64, StoreError> {
        let n = self.rt.block_on(
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM host_obs WHERE scan_id = $1")
                .bind(scan.id)
                .fetch_one(&self.pool),
        );
        n.map_err(|e| self.query_err("counting hosts", e))
    }

    /// The current state of every port of `addr` the store knows, by protocol and port.
    pub fn current_ports(&self, addr: IpAddr) -> Result<Vec<CurrentPort>, StoreError> {
        type Row = (String, i64, String, Option<String>, i64, i64, i64);
        let rows: Result<Vec<Row>, sqlx::Error> = self.rt.block_on(
            sqlx::query_as(
                "SELECT c.proto, c.port, c.state, c.service, c.first_seen_ms, c.last_seen_ms, c.last_changed_ms \
                 FROM current_ports c JOIN hosts h ON h.id = c.host_id WHERE h.addr = $1 ORDER BY c.proto, c.port",
            )
            .bind(addr.to_string())
            .fetch_all(&self.pool),
        );
        let rows = rows.map_err(|e| self.query_err("reading the current state", e))?;
        Ok(rows
            .into_iter()
            .map(|(proto, port, state, service, first_seen_ms, last_seen_ms, last_changed_ms)| CurrentPort {
                proto,
                port: u16::try_from(port).unwrap_or(0),
                state,
                service,
                first_seen_ms,
                last_seen_ms,
                last_changed_ms,
            })
            .collect())
    }
}

/// (backend, URL for sqlx, the name messages use) of a location given by the user.
fn locate(location: &str) -> (Backend, String, String) {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        // The password, if any, stays out of messages.
        let shown = match (location.find("://"), location.find('@')) {
            (Some(scheme), Some(at)) if at > scheme => format!("{}://...@{}", &location[..scheme], &location[at + 1..]),
            _ => location.to_string(),
        };
        return (Backend::Postgres, location.to_string(), shown);
    }
    let path = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")).unwrap_or(location);
    (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"), path.to_string())
}

/// A fresh 63-bit row id: a random start per process (from the OS, with the time and pid), counted up. Within
/// a process ids never repeat and grow, so new rows go to the end of their indexes (a million ports written
/// in random id order spent a tenth of their time splitting index pages); two processes' runs of ids meet
/// only if their random starts fall within a few million of each other in 2^62.
pub(crate) fn new_id() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.finish() >> 2
    });
    // The start is below 2^62 and a process never counts to 2^62: the sum stays a positive i64.
    (seed + COUNTER.fetch_add(1, Ordering::Relaxed)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_pick_the_backend_and_hide_passwords() {
        assert_eq!(locate("/tmp/x/store.db").0, Backend::Sqlite);
        assert_eq!(locate("sqlite:/tmp/s.db").1, "sqlite:///tmp/s.db?mode=rwc");
        let (b, url, shown) = locate("postgres://me:secret@127.0.0.1:5432/tj");
        assert_eq!((b, url.as_str()), (Backend::Postgres, "postgres://me:secret@127.0.0.1:5432/tj"));
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn ids_are_positive_and_distinct() {
        // A million in a row (a large scan's hosts and rows): the old time-and-counter mix repeated here.
        let ids: Vec<i64> = (0..1_000_000).map(|_| new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow, so none repeats");
        assert!(ids.iter().all(|&i| i >= 0));
    }
}
