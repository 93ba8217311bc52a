//! The database parser's error: the file, the line and what is wrong there.

/// A malformed fingerprint database: `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DbError {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line (0 for the whole text, e.g. too large).
    pub line: u32,
    pub message: String,
}
