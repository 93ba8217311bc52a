//! Turning what the probes found into a [`ServiceInfo`]: a tcpwrapped port, or the services table's guess.
//! A match becomes one through `ServiceInfo::from(&Match)` (in tojimari-probedb), so a probed name is only
//! ever one a match line gave.

use tojimari_core::{Protocol, ServiceInfo, ServiceMethod, services};
use tojimari_probedb::CONF_SOFT;

/// nmap's confidence for a services-table guess.
pub(crate) const CONF_TABLE: u8 = 3;

/// The services table's name for the port (`unknown` when it has none), as nmap reports it without a match.
pub(crate) fn table(proto: Protocol, port: u16) -> ServiceInfo {
    let name = services::lookup(proto, port).map_or("unknown", |entry| entry.name);
    ServiceInfo::named(name, ServiceMethod::Table, CONF_TABLE)
}

/// The server accepted and closed at once without a word (a TCP wrapper or a filtering proxy).
pub(crate) fn tcpwrapped() -> ServiceInfo {
    ServiceInfo::named("tcpwrapped", ServiceMethod::Probed, CONF_SOFT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_guess_has_low_confidence() {
        let info = table(Protocol::Tcp, 22);
        assert_eq!((info.name.as_str(), info.method, info.conf), ("ssh", ServiceMethod::Table, 3));
    }
}
