//! tojimari-store: the result store of issue 13 (docs/design/store.md), being built.
//!
//! - [`import`]: reading other tools' result files (nmap XML first) as a stream of records, in bounded
//!   memory.

pub mod import;
