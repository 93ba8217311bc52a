//! The one error type of this crate: why a TLS look at a service failed.
//!
//! A server that refuses a legacy version is not an error (it is a [`crate::VersionAnswer`]); these are for
//! the look itself failing: the socket, the clock, or a peer that does not speak TLS at all.

use std::io;
use std::time::Duration;

/// Why a handshake or a legacy probe could not say anything about the server.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The socket failed (connect refused, reset mid-read, ...).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server did not finish within the allowed time.
    #[error("no TLS answer within {0:?}")]
    Timeout(Duration),
    /// The first bytes the server sent are not a TLS record.
    #[error("the peer does not speak TLS")]
    NotTls,
    /// The handshake failed or the server's messages were malformed.
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// A certificate could not be parsed.
    #[error("unreadable certificate: {0}")]
    Certificate(String),
    /// The server announced or sent more data than this crate reads (bytes announced or read).
    #[error("TLS message of {0} bytes exceeds the read limit")]
    TooLarge(usize),
}
