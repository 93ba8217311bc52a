//! The one error type of `watch`: why watching could not start or had to stop. Scans are not
//! errors; they are alerts.

use std::io;
use std::path::PathBuf;

use tojimari_core::diagnostic::{Diagnostic, Level, RAW_PRIVILEGE, raw_privilege_hint};
use tojimari_net::NetError;

/// Why `watch` failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No CAP_NET_RAW: live capture needs root.
    #[error("permission denied: capturing packets needs {RAW_PRIVILEGE}")]
    PermissionDenied,
    /// `-i NAME` names no interface of this network namespace.
    #[error("no interface named {name:?} (see `ip link`)")]
    NoInterface {
        /// The name given.
        name: String,
    },
    /// Opening or reading a capture socket failed for another reason.
    #[error("capture on {interface}: {source}")]
    Capture {
        /// The interface, or `all interfaces`.
        interface: String,
        /// What the network layer said.
        #[source]
        source: NetError,
    },
    /// Listing this namespace's addresses failed.
    #[error("cannot list this host's addresses: {0}")]
    LocalAddrs(String),
    /// The JSON output file could not be created or written.
    #[error("{}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A `--pcap` file could not be replayed (the alerts found before the error were reported).
    #[error(transparent)]
    Pcap(#[from] tojimari_scandetect::pcap::PcapError),
    /// A `--log` file could not be read (the alerts found before the error were reported).
    #[error(transparent)]
    Log(#[from] tojimari_scandetect::firewall_log::LogError),
    /// Every captured interface went away.
    #[error("no interface left to watch")]
    NoInterfaceLeft,
    /// Arguments that do not fit together (bad usage).
    #[error("{0}")]
    Usage(String),
}

impl Diagnostic for WatchError {
    fn level(&self) -> Level {
        Level::Error
    }

    /// What to do, where something helps.
    fn hint(&self) -> Option<String> {
        match self {
            WatchError::PermissionDenied => Some(raw_privilege_hint("replay a capture with --pcap FILE")),
            WatchError::NoInterface { .. } => Some("leave out -i to watch every interface".into()),
            _ => None,
        }
    }
}
