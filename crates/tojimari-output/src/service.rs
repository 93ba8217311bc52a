//! Which service name a printer shows for a port.
//!
//! A port's own [`ServiceInfo`] wins (service detection filled it);
//! otherwise the services table is asked, as nmap does, and the answer is reported with method `table`
//! and confidence 3. Printers take the table as a plain function ([`ServiceNames`]) so that tests can
//! pin the names they expect instead of depending on the shipped table.

use tojimari_core::Protocol;
use tojimari_core::report::{PortResult, ServiceInfo};
use tojimari_core::services;

/// Looks a port up in a services table. [`table_name`] is the real one.
pub type ServiceNames = fn(Protocol, u16) -> Option<&'static str>;

/// The shipped services table ([`tojimari_core::services::lookup`]).
pub fn table_name(proto: Protocol, port: u16) -> Option<&'static str> {
    services::lookup(proto, port).map(|entry| entry.name)
}

/// A service as printers show it (XML `<service name method conf>`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceView<'a> {
    pub name: &'a str,
    pub method: &'static str,
    pub conf: u8,
    /// What detection found, when it ran; `None` for a services-table name.
    pub info: Option<&'a ServiceInfo>,
}

impl ServiceView<'_> {
    /// The name as nmap's normal and grepable output show it: `ssl/http` for a service inside TLS.
    pub fn shown_name(&self, tunnel_separator: char) -> String {
        match self.info.and_then(|i| i.tunnel) {
            Some(tunnel) => format!("{}{tunnel_separator}{}", tunnel.as_str(), self.name),
            None => self.name.to_string(),
        }
    }

    /// Product, version and `(extrainfo)`: nmap's VERSION column. Empty when detection found none.
    pub fn version_line(&self) -> String {
        self.info.map(ServiceInfo::version_line).unwrap_or_default()
    }
}

/// nmap's confidence for a name taken from the services table.
const TABLE_CONF: u8 = 3;

/// The service to show for `port`, or `None` when neither detection nor the table names one.
pub(crate) fn service_of(port: &PortResult, names: ServiceNames) -> Option<ServiceView<'_>> {
    match &port.service {
        Some(info) => {
            Some(ServiceView { name: &info.name, method: info.method.as_str(), conf: info.conf, info: Some(info) })
        }
        None => {
            names(port.proto, port.port).map(|name| ServiceView { name, method: "table", conf: TABLE_CONF, info: None })
        }
    }
}
