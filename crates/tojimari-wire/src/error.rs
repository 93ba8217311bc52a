//! The one error type of the wire layer: why bytes could not be read as a given header.

/// Why a buffer is not a valid packet of the kind asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The buffer ends before the header (or a length field) says it should.
    #[error("truncated packet")]
    Truncated,
    /// A field holds a value the format forbids (a version, a header length shorter than the fixed header).
    #[error("malformed packet")]
    Malformed,
    /// A well-formed packet of a kind this layer does not represent (an unknown ICMP type, a non-Ethernet ARP).
    #[error("unrecognized packet")]
    Unrecognized,
    /// The buffer handed to `emit` is too short for the representation.
    #[error("buffer too short to emit")]
    Exhausted,
}

/// The result of every fallible wire operation.
pub type Result<T> = core::result::Result<T, Error>;
