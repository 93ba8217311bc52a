//! tojimari-store: the result store of issue 13 (docs/design/store.md), being built.
//!
//! - [`Store`]: the database (SQLite file or PostgreSQL), its schema (`migrations/`, the same for both), scans
//!   begun and finished, hosts recorded as observations with the current state per port.
//! - [`StoreSink`]: a scan's hosts recorded as they finish, in batches by a writer thread.
//! - [`import`]: reading result files (nmap XML; masscan XML, JSON and list; tojimari's JSON Lines) as a
//!   stream of records, in bounded memory, for [`Store::import_scan`].

pub mod import;
mod read;
mod rows;
mod sink;
mod store;
mod write;

pub use read::{ReadFailure, ScanRef, StoredScan};
pub use rows::unix_ms;
pub use sink::StoreSink;
pub use store::{Backend, CurrentPort, ScanId, ScanRow, ScanStart, ScanStatus, Store, StoreError};
pub use write::{ImportFailure, Imported};
