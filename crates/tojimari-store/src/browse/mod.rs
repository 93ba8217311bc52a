//! What the web pages read (issue 14): paginated, indexed queries that stay fast with 100,000 hosts and a
//! million port observations in the store.
//!
//! - [`counts`]: a scan's totals (hosts, hosts up, open ports, findings by severity), pages of the scan
//!   list, the scans one writer process recorded.
//! - [`hosts`]: one page of a scan's hosts as full [`tojimari_core::HostReport`]s, in the scan's order.
//! - [`ports`]: the latest state per (host, protocol, port) across the store, filtered and paginated.
//! - [`events`]: the latest `local` snapshot and `watch` alerts after a cursor.
//! - [`compare`]: [`crate::diff_scans`] over only the hosts whose rows differ between two scans.

pub mod compare;
pub mod counts;
pub mod events;
pub mod hosts;
pub mod ports;

pub use compare::{compare_scans, remembered_comparison};
pub use counts::{ScanCounts, ScanListing, ScanPage, SeverityCount};
pub use events::EventEntry;
pub use hosts::{HostPage, PagedHost};
pub use ports::{PortFilter, PortFilterError, PortTable, PortTableRow, TABLE_COUNT_CAP};
