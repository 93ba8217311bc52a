//! tojimari-store: the result store of issue 13 (docs/design/store.md), being built.
//!
//! - [`Store`]: the database (SQLite file or PostgreSQL), its schema (`migrations/`, the same for both), scans
//!   begun and finished, hosts recorded as observations with the current state per port.
//! - [`StoreSink`]: a scan's hosts recorded as they finish, in batches by a writer thread.
//! - [`this_writer`]: who records a scan; a `running` scan whose process died is marked interrupted when the
//!   store is next opened (`reap`).
//! - [`import`]: reading result files (nmap XML; masscan XML, JSON and list; tojimari's JSON Lines) as a
//!   stream of records, in bounded memory, for [`Store::import_scan`].
//! - [`diff_scans`]: what changed between two scans ([`ScanDiff`], pure), over [`ScanSnapshot`]s that
//!   [`Store::snapshot`] loads, the pair chosen by [`select_pair`]; [`Store::scan_summaries`] and
//!   [`Store::host_history`] for `history`.
//! - The fleet's tables (issue 15): [`Store::create_fleet`], [`Store::claim_chunk`], [`Store::save_checkpoint`],
//!   [`Store::commit_chunk`] (a chunk's hosts and its completion in one transaction, exactly once),
//!   [`Store::worker_beat`], [`Store::fleet_chunks`], [`Store::fleet_workers`].

pub mod browse;
mod diff;
mod diff_select;
mod digest;
mod events;
mod fleet;
mod history;
pub mod import;
mod port_ranges;
mod read;
mod reap;
mod resume;
mod rows;
mod sink;
mod snapshot;
mod snapshot_hosts;
mod snapshot_load;
mod store;
mod write;

pub use diff::{
    DiffCounts, FindingChange, FindingDiff, HostChange, HostDiff, HostView, PortChange, PortDiff, ScanDiff, diff_scans,
};
pub use diff_select::{ScanName, SelectError, parse_scan_ref, resolve_scan, select_pair};
pub use events::{Event, EventKind, EventRow};
pub use fleet::{ChunkRow, ChunkState, Claim, Committed, FleetScan, FleetScanRow, WorkerBeat, WorkerRow};
pub use history::{CurrentState, HostHistory, PortSeen, PortTimeline, ScanSummary, host_timeline, target_matcher};
pub use port_ranges::{count_ports, format_port_ranges, merge_ranges, parse_port_ranges};
pub use read::{ReadFailure, ScanRef, StoredScan};
pub use reap::{Writer, this_writer};
pub use rows::unix_ms;
pub use sink::{Spill, StoreSink};
pub use snapshot::{FindingObs, Fold, HostSnapshot, PortObs, ScanInfo, ScanSnapshot, Seen};
pub use store::{Backend, CurrentPort, ScanId, ScanRow, ScanStart, ScanStatus, Store, StoreError};
pub use write::{ImportFailure, Imported};
