//! What can go wrong reading another tool's result file, and where in it.

use std::fmt;

/// Where in the file: a byte offset from its start and the 1-based line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub line: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, byte {}", self.line, self.offset)
    }
}

/// Why a file could not be read (further). Records before the error were complete and stand.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The underlying reader failed.
    #[error("reading failed at {at}: {source}")]
    Io { at: Position, source: std::io::Error },
    /// The file is longer than [`Limits::max_bytes`](crate::import::Limits::max_bytes).
    #[error("the file is larger than the limit of {limit} bytes ({at})")]
    TooLarge { at: Position, limit: u64 },
    /// A tag or text longer than [`Limits::max_token`](crate::import::Limits::max_token).
    #[error("a tag, text, line or JSON object is longer than the limit of {limit} bytes ({at})")]
    TokenTooLong { at: Position, limit: usize },
    /// Elements nest deeper than [`Limits::max_depth`](crate::import::Limits::max_depth).
    #[error("elements nest deeper than the limit of {limit} ({at})")]
    TooDeep { at: Position, limit: usize },
    /// One host is longer than [`Limits::max_host_bytes`](crate::import::Limits::max_host_bytes).
    #[error("a host element is longer than the limit of {limit} bytes ({at})")]
    HostTooLarge { at: Position, limit: u64 },
    /// One host lists more ports than [`Limits::max_ports_per_host`](crate::import::Limits::max_ports_per_host).
    #[error("a host has more than the limit of {limit} ports ({at})")]
    TooManyPorts { at: Position, limit: usize },
    /// A `<!DOCTYPE>` with an internal subset (`<!ENTITY ...>` and the like), or a reference to an entity
    /// XML does not predefine: entities are never expanded.
    #[error("entity declarations and references are refused ({at}): {what}")]
    Entity { at: Position, what: String },
    /// Not well-formed XML.
    #[error("not well-formed XML ({at}): {message}")]
    Syntax { at: Position, message: String },
    /// The file ends before the document does.
    #[error("the file ends early, inside <{inside}> ({at})")]
    Truncated { at: Position, inside: String },
    /// Well-formed, but not the expected tool's format.
    #[error("not an nmap XML file ({at}): {what}")]
    NotNmap { at: Position, what: String },
    /// Not the format being read (detected or forced with `--format`).
    #[error("not a {format} file ({at}): {what}")]
    NotFormat { at: Position, format: &'static str, what: String },
    /// Not valid JSON, or JSON without the fields the format has.
    #[error("not valid {format} ({at}): {message}")]
    Json { at: Position, format: &'static str, message: String },
    /// The file ends before the format says it does (a JSON array left open, no summary line).
    #[error("the file ends early ({at}): {what}")]
    Ended { at: Position, what: String },
    /// An attribute whose value cannot be what the format says.
    #[error("bad value ({at}): <{element} {attribute}=\"{value}\">: {problem}")]
    BadValue { at: Position, element: String, attribute: String, value: String, problem: String },
    /// A required attribute is missing.
    #[error("missing attribute ({at}): <{element}> has no {attribute}")]
    Missing { at: Position, element: String, attribute: String },
}

impl ImportError {
    /// Where the error was found.
    pub fn position(&self) -> Position {
        match self {
            ImportError::Io { at, .. }
            | ImportError::TooLarge { at, .. }
            | ImportError::TokenTooLong { at, .. }
            | ImportError::TooDeep { at, .. }
            | ImportError::HostTooLarge { at, .. }
            | ImportError::TooManyPorts { at, .. }
            | ImportError::Entity { at, .. }
            | ImportError::Syntax { at, .. }
            | ImportError::Truncated { at, .. }
            | ImportError::NotNmap { at, .. }
            | ImportError::NotFormat { at, .. }
            | ImportError::Json { at, .. }
            | ImportError::Ended { at, .. }
            | ImportError::BadValue { at, .. }
            | ImportError::Missing { at, .. } => *at,
        }
    }
}
