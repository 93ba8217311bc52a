//! Reading other tools' result files as a stream of records, in bounded memory.
//!
//! - [`nmap_xml`]: nmap's `-oX` (and tojimari's own, which writes the same format).
//! - [`masscan`]: masscan's `-oX`, nmap-like with one host element per port.
//!
//! Every reader takes a [`BufRead`](std::io::BufRead) and [`Limits`], pulls one record at a time
//! (the run's header, each host, the run's end) and never holds more than one host: a file of a
//! million ports is read in the memory of its largest host. Hostile input (entity declarations, deep
//! nesting, endless attributes, truncation, bytes that are not XML) ends the stream with an
//! [`ImportError`] that says where, never a panic.

pub mod error;
mod guard;
pub mod limits;
pub mod masscan;
pub mod nmap_xml;
pub(crate) mod ranges;

pub use error::{ImportError, Position};
pub use limits::Limits;
