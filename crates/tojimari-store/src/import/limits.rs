//! The bounds an import stays within, whatever the file says.

/// How much of a file, and of each piece of it, a reader accepts before refusing it.
///
/// Memory is bounded by `max_token` (the reader's buffer) plus what one host holds (bounded by
/// `max_host_bytes` and `max_ports_per_host`), plus the ports held back (`max_pending_ports`), however
/// large the file is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole file, in bytes.
    pub max_bytes: u64,
    /// How deep elements may nest (nmap's own files go 7 deep, with script tables a few more).
    pub max_depth: usize,
    /// The longest stretch without a `<`: one tag with its attributes and the text after it.
    pub max_token: usize,
    /// One `<host>` element, from its start tag to its end tag, in bytes.
    pub max_host_bytes: u64,
    /// Ports in one host, listed and folded (`extrareasons ports`) together.
    pub max_ports_per_host: usize,
    /// Ports held back until their host is complete, across all hosts: masscan's files list one port at a
    /// time in random order (its readers group a whole file by address), and tojimari's JSON Lines
    /// interleave the ports of the hosts being scanned.
    pub max_pending_ports: usize,
}

impl Default for Limits {
    /// Generous for any real scan: 64 GiB files, depth 32, 1 MiB tokens, 256 MiB hosts, every port of
    /// TCP and UDP twice over, a million ports held back.
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 30,
            max_depth: 32,
            max_token: 1 << 20,
            max_host_bytes: 256 << 20,
            max_ports_per_host: 4 * 65_536,
            max_pending_ports: 1 << 20,
        }
    }
}
