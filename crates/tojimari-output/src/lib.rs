//! tojimari's output formats, each a [`Sink`].
//!
//! | format | sink | nmap option | written |
//! |---|---|---|---|
//! | normal | [`NormalSink`] | terminal, `-oN` | per host |
//! | XML | [`XmlSink`] | `-oX` | per host |
//! | grepable | [`GrepableSink`] | `-oG` | per host |
//! | JSON Lines | [`JsonLinesSink`] | `-oJ` (tojimari's own) | per port as found, then per host |
//!
//! Each sink writes to the `Box<dyn Write + Send>` it is built with and flushes after every host (JSON
//! Lines: after every line), so output streams and a file cut short by an interrupt holds every host
//! finished before it. Each module's documentation specifies its wire format. The three nmap formats
//! follow nmap 7.93's output as observed, including which ports are folded into "Not shown"
//! (the rule lives in one place, shared by all of them); times are printed in UTC.
//!
//! Service names come from [`PortResult::service`](tojimari_core::PortResult) when detection set it,
//! else from the services table ([`service::table_name`]); every sink can be given another table with
//! `with_service_names`, which is how the tests pin names.

mod collapse;
mod context;
mod datetime;
mod escape;
pub mod grepable;
pub mod jsonl;
pub mod normal;
mod os;
mod os_json;
mod route;
pub mod service;
mod wording;
pub mod xml;

use std::io::Write;

use tojimari_core::Sink;

pub use collapse::{compact_ranges, folded_by_every_output};
pub use escape::xml_attr;
pub use grepable::GrepableSink;
pub use jsonl::JsonLinesSink;
pub use normal::{NormalDestination, NormalSink};
pub use xml::XmlSink;

/// An output format a run can write.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// nmap's normal output (terminal, `-oN`).
    Normal,
    /// nmap's XML (`-oX`).
    Xml,
    /// nmap's grepable output (`-oG`).
    Grepable,
    /// tojimari's JSON Lines (`-oJ`).
    JsonLines,
}

/// Builds the sink for `format` writing to `writer`.
///
/// `stdout` says whether `writer` is the terminal rather than a file; only normal output differs
/// between the two (its header and footer, see [`NormalDestination`]).
pub fn sink(format: Format, writer: Box<dyn Write + Send>, stdout: bool) -> Box<dyn Sink + Send> {
    match format {
        Format::Normal => {
            let destination = if stdout { NormalDestination::Terminal } else { NormalDestination::File };
            Box::new(NormalSink::new(writer, destination))
        }
        Format::Xml => Box::new(XmlSink::new(writer)),
        Format::Grepable => Box::new(GrepableSink::new(writer)),
        Format::JsonLines => Box::new(JsonLinesSink::new(writer)),
    }
}
