//! The one error type of this crate. Errors are for the tool failing (no privilege, no route,
//! a syscall refused); nothing here is a port state.

use std::io;
use std::net::IpAddr;

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The process lacks CAP_NET_RAW (raw and AF_PACKET sockets need it).
    /// Worded as every privilege message (`tojimari_core::diagnostic::RAW_PRIVILEGE`); a hint is the caller's.
    #[error("permission denied: raw packet sockets need root (or the CAP_NET_RAW capability)")]
    PermissionDenied,
    /// The routing table has no route to `dst` (ENETUNREACH, an `unreachable`/`prohibit`/
    /// `blackhole` route, ...).
    #[error("no route to {dst}")]
    NoRoute {
        /// The destination that was looked up.
        dst: IpAddr,
    },
    /// No interface of that name (or index) exists in this network namespace.
    #[error("no interface named {name:?}")]
    NoInterface {
        /// The name asked for, or `#INDEX` when looked up by index.
        name: String,
    },
    /// The route to `dst` names no source address, and its interface has none of that family.
    #[error("no source address to reach {dst}")]
    NoSourceAddress {
        /// The destination that was looked up.
        dst: IpAddr,
    },
    /// The next hop's MAC address did not appear in the neighbour table in time
    /// (no ARP/NDP answer).
    #[error("could not resolve the MAC address of {ip} (no ARP/neighbour discovery answer)")]
    NeighborUnresolved {
        /// The next hop that was being resolved.
        ip: IpAddr,
    },
    /// A netlink answer did not have the expected shape.
    #[error("malformed netlink message: {what}")]
    Netlink {
        /// What was wrong with it.
        what: &'static str,
    },
    /// An argument out of range, e.g. a ring size that is not a multiple of the page size.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The interface went down or away (ENETDOWN, ENXIO, ENODEV: what a packet socket reports then) while
    /// `context`.
    #[error("{context}: the interface is down or gone")]
    InterfaceDown {
        /// What was being done, e.g. `"sendmmsg"`.
        context: &'static str,
    },
    /// A system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `"bind AF_PACKET socket"`.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl NetError {
    /// An [`NetError::Io`] from `errno`, except that EPERM/EACCES become
    /// [`NetError::PermissionDenied`].
    pub(crate) fn os(context: &'static str, source: io::Error) -> NetError {
        match source.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => NetError::PermissionDenied,
            Some(libc::ENETDOWN | libc::ENXIO | libc::ENODEV) => NetError::InterfaceDown { context },
            _ => NetError::Io { context, source },
        }
    }

    /// Whether the interface went down or away ([`NetError::InterfaceDown`]).
    pub fn is_interface_down(&self) -> bool {
        matches!(self, NetError::InterfaceDown { .. })
    }

    /// [`NetError::os`] with the calling thread's last OS error.
    pub(crate) fn last_os(context: &'static str) -> NetError {
        NetError::os(context, io::Error::last_os_error())
    }
}
