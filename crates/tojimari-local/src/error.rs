//! What can stop `tojimari local` from taking an inventory or writing it out.

use std::io;
use std::path::PathBuf;

use crate::proc_net::LineError;

/// Why the inventory could not be taken, or its output written. A process that vanishes or hides its descriptors is not an error:
/// its sockets are kept without an owner and counted.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// A socket table or `/proc` itself could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A socket table line is not in the format this kernel should print.
    #[error("{path} line {line}: {source}")]
    Parse {
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        #[source]
        source: LineError,
    },
    /// The process list (`/proc`) could not be opened.
    #[error("cannot list processes in {path}: {source}")]
    Processes {
        path: PathBuf,
        #[source]
        source: procfs::ProcError,
    },
    /// Standard output (the table, the holders, `-oJ -`) could not be written. A closed pipe is not
    /// reported: the reader went away, and the run ends as done.
    #[error("cannot write output: {0}")]
    Output(#[from] io::Error),
    /// The `-oJ FILE` could not be created or written.
    #[error("cannot write {}: {source}", path.display())]
    JsonFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl tojimari_core::diagnostic::Diagnostic for LocalError {
    fn level(&self) -> tojimari_core::diagnostic::Level {
        tojimari_core::diagnostic::Level::Error
    }
}
