//! Exposure findings: the lock-up judgement on what version detection found, and safe active checks (no
//! writes, no brute force).
//!
//! - [`judge`] is passive: from a [`CheckContext`] (address, [`ServiceInfo`](tojimari_core::ServiceInfo),
//!   TLS facts, the clock) it reports cleartext logins, reachable remote desktops, databases on network
//!   addresses and certificate problems, without sending anything.
//! - [`active`] runs the read-only checks that apply to the service ([`planned`]): anonymous FTP, Redis
//!   without AUTH, memcached over UDP, default SNMP communities, MongoDB and Elasticsearch without
//!   authentication, SMBv1, VNC without a password. Each opens its own short connection under
//!   `ctx.timeout` and reads at most 64 KiB.
//! - [`evaluate`] runs both and merges them.
//! - [`catalog`] lists every finding id with its severity, title and advice: the one catalogue of
//!   [`tojimari_core::catalog`], re-exported (see `docs/findings.md`).
//!
//! The protocol modules hold the message builders and parsers as pure functions over bytes.

mod active;
mod bson;
mod catalog;
mod context;
mod elasticsearch;
mod exchange;
mod ftp;
mod http;
mod judge;
mod memcached;
mod mongodb;
mod redis;
mod smb;
mod snmp;
mod vnc;

pub use active::{ActiveCheck, active, evaluate, planned};
pub use catalog::{FindingKind, catalog, kind};
pub use context::CheckContext;
pub use exchange::READ_CAP;
pub use judge::judge;
