//! Turning what the probes found into a [`ServiceInfo`]: a match, a tcpwrapped port, or the services
//! table's guess. A probed name is only ever one a match line gave.

use tojimari_core::{Protocol, ServiceInfo, ServiceMethod, services};
use tojimari_probedb::Match;

/// nmap's confidence for a hard match.
pub(crate) const CONF_HARD: u8 = 10;
/// Our confidence for a soft match (the service is known, the product is not).
pub(crate) const CONF_SOFT: u8 = 8;
/// nmap's confidence for a services-table guess.
pub(crate) const CONF_TABLE: u8 = 3;
/// Longest product/version/... string kept from a match (templates copy bytes from the response).
const MAX_FIELD: usize = 160;

/// The service a match names.
pub(crate) fn probed(m: &Match) -> ServiceInfo {
    let conf = if m.soft { CONF_SOFT } else { CONF_HARD };
    let mut info =
        ServiceInfo::named(clean(&m.service).unwrap_or_else(|| "unknown".into()), ServiceMethod::Probed, conf);
    info.product = m.product.as_deref().and_then(clean);
    info.version = m.version.as_deref().and_then(clean);
    info.extrainfo = m.extrainfo.as_deref().and_then(clean);
    info.hostname = m.hostname.as_deref().and_then(clean);
    info.ostype = m.ostype.as_deref().and_then(clean);
    info.devicetype = m.devicetype.as_deref().and_then(clean);
    info.cpe = m.cpe.iter().filter_map(|c| clean(c)).collect();
    info
}

/// The services table's name for the port (`unknown` when it has none), as nmap reports it without a match.
pub(crate) fn table(proto: Protocol, port: u16) -> ServiceInfo {
    let name = services::lookup(proto, port).map_or("unknown", |entry| entry.name);
    ServiceInfo::named(name, ServiceMethod::Table, CONF_TABLE)
}

/// The server accepted and closed at once without a word (a TCP wrapper or a filtering proxy).
pub(crate) fn tcpwrapped() -> ServiceInfo {
    ServiceInfo::named("tcpwrapped", ServiceMethod::Probed, CONF_SOFT)
}

/// A match field fit for printing: control characters dropped, trimmed, bounded; `None` when empty.
fn clean(text: &str) -> Option<String> {
    let kept: String = text.chars().filter(|c| !c.is_control()).take(MAX_FIELD).collect();
    let trimmed = kept.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_and_soft_confidence() {
        let hard = Match { service: "ssh".into(), product: Some("OpenSSH".into()), ..Match::default() };
        let info = probed(&hard);
        assert_eq!((info.name.as_str(), info.method, info.conf), ("ssh", ServiceMethod::Probed, 10));
        assert_eq!(info.product.as_deref(), Some("OpenSSH"));
        let soft = Match { service: "http".into(), soft: true, ..Match::default() };
        assert_eq!(probed(&soft).conf, CONF_SOFT);
    }

    #[test]
    fn fields_are_cleaned() {
        let m = Match {
            service: "ftp".into(),
            product: Some(" evil\u{1b}[2J\r\nftpd ".into()),
            version: Some("\u{0}".into()),
            ..Match::default()
        };
        let info = probed(&m);
        assert_eq!(info.product.as_deref(), Some("evil[2Jftpd"));
        assert_eq!(info.version, None);
    }

    #[test]
    fn table_guess_has_low_confidence() {
        let info = table(Protocol::Tcp, 22);
        assert_eq!((info.name.as_str(), info.method, info.conf), ("ssh", ServiceMethod::Table, 3));
    }
}
