//! What `tojimari serve` was started with.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The server's settings, fixed at start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (127.0.0.1:8431 by default).
    pub listen: SocketAddr,
    /// The result store's location, as `--db` takes it.
    pub store: String,
    /// The tojimari binary that runs checks (this one).
    pub exe: PathBuf,
    /// The password or token's hash (argon2 PHC string); `None` only on loopback.
    pub password_hash: Option<String>,
    /// The targets the page may scan: addresses and networks as written (`local` for this machine's).
    pub allow: String,
    /// At most this many checks run at once; more wait in line.
    pub max_running: usize,
}
