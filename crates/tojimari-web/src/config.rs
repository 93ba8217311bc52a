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

impl Config {
    /// A server on 127.0.0.1 (a port the system picks) over `store`, without a password, whose page may
    /// check only loopback: what tests and benchmarks start.
    pub fn loopback(store: String, exe: PathBuf) -> Config {
        let allow_text = "127.0.0.0/8,::1".to_string();
        let allow = crate::allow::AllowList::parse(&allow_text, &[]).unwrap_or_else(|_| unreachable!("a fixed list"));
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store,
            exe,
            password: None,
            allow_text,
            allow,
            max_running: 1,
        }
    }
}
