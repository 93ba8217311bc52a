//! tojimari-fleet: a scan split into chunks that workers on any number of machines claim from PostgreSQL
//! (issue 15, docs/fleet.md).
//!
//! - [`chunks`], [`rate`], [`backoff`], [`checkpoint`], [`options`]: pure logic (chunk planning, a worker's
//!   share of the global rate, waits while the database is away, a chunk's checkpoint and the scan's
//!   options as recorded).
//! - [`queue`]: the job queue, graphile_worker in PostgreSQL ([`queue::enqueue`] adds a scan's chunks).
//! - [`spool`]: a worker's results on disk until committed.
//! - [`worker`]: the worker loop ([`worker::run`]) around a [`worker::ChunkScanner`] the CLI provides.
//!
//! The store (tojimari-store, schema 4) keeps the fleet's tables: a chunk's results are committed in the
//! transaction that marks it done ([`tojimari_store::Store::commit_chunk`]), so each lands exactly once.

use std::path::PathBuf;

pub mod backoff;
pub mod checkpoint;
pub mod chunks;
pub mod options;
pub mod queue;
pub mod rate;
pub mod spool;
pub mod worker;

pub use checkpoint::Checkpoint;
pub use options::ScanOptions;
pub use worker::{ChunkOutcome, ChunkScanner, ChunkTask, Lease, Notice, Notify, WorkerConfig, WorkerSummary};

/// Why the fleet cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the job queue failed while {doing}: {message}")]
    Queue { doing: &'static str, message: String },
    #[error("cannot use the worker's state directory {}: {message}", path.display())]
    State { path: PathBuf, message: String },
}
