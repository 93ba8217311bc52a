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
    /// The password or token the browser must give (hashed at start, the text dropped); `None` only on
    /// loopback.
    pub password: Option<String>,
    /// The targets the page may scan, as written (`local` for this machine's), passed to the checks' child
    /// processes, which enforce it again after reading their options.
    pub allow_text: String,
    /// The same list, parsed: the server checks the target field against it before starting anything.
    pub allow: crate::allow::AllowList,
    /// At most this many checks run at once; more wait in line.
    pub max_running: usize,
}
