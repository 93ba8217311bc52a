//! What a check knows about the port it judges: the address, what detection found, the TLS facts, the clock.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::{Protocol, ServiceInfo, Tunnel};
use tojimari_tls::{LegacySupport, TlsFacts};

/// Everything [`judge`](crate::judge) and [`active`](crate::active) need about one port.
///
/// `now` is passed in (never read inside) so certificate dates are judged reproducibly; `timeout` bounds
/// each active check as a whole (connect, exchange and close).
#[derive(Clone, Debug)]
pub struct CheckContext<'a> {
    pub addr: SocketAddr,
    pub transport: Protocol,
    pub service: &'a ServiceInfo,
    /// What the TLS handshake showed, when the service spoke TLS.
    pub tls: Option<&'a TlsFacts>,
    /// Which legacy TLS versions the server accepted, when that was probed.
    pub legacy: Option<&'a LegacySupport>,
    pub now: SystemTime,
    pub timeout: Duration,
}

impl CheckContext<'_> {
    /// The service name, lower-cased (nmap names: `ftp`, `ms-wbt-server`, ...).
    pub(crate) fn name(&self) -> String {
        self.service.name.to_ascii_lowercase()
    }

    /// The product string, lower-cased, or empty.
    pub(crate) fn product(&self) -> String {
        self.service.product.as_deref().unwrap_or("").to_ascii_lowercase()
    }

    /// Whether the service was found inside TLS (tunnel or TLS facts present).
    pub(crate) fn in_tls(&self) -> bool {
        self.service.tunnel == Some(Tunnel::Ssl) || self.tls.is_some()
    }

    /// Whether the address is a loopback one (also as an IPv4-mapped IPv6 address).
    pub(crate) fn is_loopback(&self) -> bool {
        self.addr.ip().to_canonical().is_loopback()
    }

    /// `name (product version)` for evidence lines.
    pub(crate) fn describe(&self) -> String {
        let version = self.service.version_line();
        if version.is_empty() { self.service.name.clone() } else { format!("{} ({version})", self.service.name) }
    }
}
