//! The job queue (the PostgreSQL edge): graphile_worker 0.14, in the schema [`SCHEMA`] of the store's
//! database. One job per chunk ([`ChunkJob`]: scan and chunk); graphile_worker hands each to one worker at a
//! time, keeps the workers' heartbeats and gives the jobs of a worker that stopped beating to another (the
//! lease). What a chunk is and whether its results are in is the store's (`fleet_chunks`), not the queue's:
//! graphile_worker completes its job row itself after the handler returns, so a handler that ran twice
//! finds the chunk done and does nothing (docs/fleet.md).

use std::time::Duration;

use graphile_worker::{IntoTaskHandlerResult, JobKeyMode, JobSpecBuilder, TaskHandler, WorkerContext, WorkerUtils};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;

use crate::FleetError;

/// The PostgreSQL schema of the queue's tables.
pub const SCHEMA: &str = "tojimari_jobs";

/// How often a job whose handler failed is tried (a chunk whose options this tojimari refuses, a scan that
/// fails to start): graphile_worker waits longer after each failure.
pub const MAX_ATTEMPTS: i16 = 5;

/// The job of one chunk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChunkJob {
    pub scan_id: i64,
    pub chunk: u64,
}

impl TaskHandler for ChunkJob {
    const IDENTIFIER: &'static str = "tojimari_chunk";

    async fn run(self, ctx: WorkerContext) -> impl IntoTaskHandlerResult {
        let Some(core) = ctx.get_ext::<std::sync::Arc<crate::worker::Core>>().cloned() else {
            return Err("the worker has no scanner".to_string());
        };
        // The scan runs on threads of its own and the store's API blocks: off the runtime's threads.
        match tokio::task::spawn_blocking(move || core.run_chunk(self.scan_id, self.chunk)).await {
            Ok(done) => done,
            Err(e) => Err(format!("the chunk's scan stopped: {e}")),
        }
    }
}

/// The key of chunk `chunk`'s job: adding it twice leaves one job.
fn job_key(scan_id: i64, chunk: u64) -> String {
    format!("tojimari-{scan_id}-{chunk}")
}

/// Connects to `url` (a `postgres://` URL) with a pool of `connections`.
pub(crate) async fn connect(url: &str, connections: u32) -> Result<sqlx::PgPool, FleetError> {
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(|e| FleetError::Queue { doing: "connecting", message: e.to_string() })
}

/// Creates (or updates) the queue's schema.
pub(crate) async fn migrate(pool: &sqlx::PgPool) -> Result<(), FleetError> {
    WorkerUtils::new(pool.clone(), SCHEMA)
        .migrate()
        .await
        .map_err(|e| FleetError::Queue { doing: "creating its tables", message: e.to_string() })
}

/// Adds the jobs of chunks `0..chunks` of scan `scan_id` to the queue at `url`.
pub fn enqueue(url: &str, scan_id: i64, chunks: u64) -> Result<(), FleetError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FleetError::Queue { doing: "starting its runtime", message: e.to_string() })?;
    rt.block_on(async {
        let pool = connect(url, 2).await?;
        migrate(&pool).await?;
        let utils = WorkerUtils::new(pool.clone(), SCHEMA);
        for chunk in 0..chunks {
            add(&utils, scan_id, chunk, JobKeyMode::Replace).await?;
        }
        pool.close().await;
        Ok(())
    })
}

/// Adds the job of each chunk in `left` (scan id, chunk) that has none in the queue: the store's
/// `fleet_chunks` is the truth, and a queue that lost jobs (a database restored, or one that lost its last
/// commits in a crash) would leave those chunks pending with no worker ever given them. A job that exists,
/// even one being run, is left as it is.
pub(crate) async fn requeue(pool: &sqlx::PgPool, left: &[(i64, u64)]) -> Result<(), FleetError> {
    let utils = WorkerUtils::new(pool.clone(), SCHEMA);
    for &(scan_id, chunk) in left {
        add(&utils, scan_id, chunk, JobKeyMode::UnsafeDedupe).await?;
    }
    Ok(())
}

/// Adds chunk `chunk`'s job, keyed so that it is one job per chunk; `mode` says what an existing one gets.
async fn add(utils: &WorkerUtils, scan_id: i64, chunk: u64, mode: JobKeyMode) -> Result<(), FleetError> {
    let spec =
        JobSpecBuilder::new().job_key(job_key(scan_id, chunk)).job_key_mode(mode).max_attempts(MAX_ATTEMPTS).build();
    utils
        .add_job(ChunkJob { scan_id, chunk }, spec)
        .await
        .map(drop)
        .map_err(|e| FleetError::Queue { doing: "adding a chunk's job", message: e.to_string() })
}
