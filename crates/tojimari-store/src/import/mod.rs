//! Reading other tools' result files (and tojimari's own) as a stream of records, in bounded memory.
//!
//! - [`nmap_xml`]: nmap's `-oX` (and tojimari's own, which writes the same format).
//! - [`masscan`]: masscan's `-oX`, `-oJ` and `-oL`.
//! - [`jsonl`]: tojimari's `-oJ` (JSON Lines).
//! - [`merge`]: shard files of one scan (`--shard I/N --seed S`) checked and united into one scan.
//! - [`Format`]: which of these a file is, told from its first bytes, and its reader.
//! - [`convert`]: the records as the run header and summary core's sinks take, and the scope a file
//!   states.
//!
//! Every reader takes a [`BufRead`](std::io::BufRead) and [`Limits`], pulls one record at a time
//! (the run's header, each host, the run's end) and never holds more than one host, except masscan's
//! (grouped by address over the file) and the JSON Lines' interleaved hosts, both within
//! [`Limits::max_pending_ports`]: a file of a million ports is read in the memory of its largest host.
//! Hostile input (entity declarations, deep nesting, endless attributes or lines, truncation, bytes that
//! are not the format) ends the stream with an [`ImportError`] that says where, never a panic.

pub mod convert;
pub mod error;
mod format;
mod guard;
mod json_array;
pub mod jsonl;
pub mod limits;
mod lines;
pub mod masscan;
pub mod merge;
pub mod nmap_xml;
pub(crate) mod ranges;

pub use error::{ImportError, Position};
pub use format::{DETECT_BYTES, Format, UnknownFormat};
pub use limits::Limits;
