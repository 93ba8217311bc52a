//! What stops the server from starting.

use std::net::SocketAddr;

/// Why `serve` could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on {addr}: {message}")]
    Bind { addr: SocketAddr, message: String },
    #[error("{0}")]
    Start(String),
    #[error("{0}")]
    Config(String),
}
