//! A [`Match`] as the report's [`ServiceInfo`]: the one place the match's fields become the printed ones.
//!
//! Templates copy bytes from the answer into the fields, so every field is cleaned on the way: control
//! characters dropped, trimmed, at most [`MAX_FIELD`] characters, and `None` when nothing is left. A service
//! name that cleans to nothing becomes `unknown`.

use tojimari_core::{ServiceInfo, ServiceMethod};

use crate::Match;

/// nmap's confidence for a hard match.
pub const CONF_HARD: u8 = 10;
/// Our confidence for a soft match (the service is known, the product is not).
pub const CONF_SOFT: u8 = 8;
/// Longest product/version/... string kept from a match (templates copy bytes from the response).
pub const MAX_FIELD: usize = 160;

impl From<&Match> for ServiceInfo {
    fn from(m: &Match) -> Self {
        let conf = if m.soft { CONF_SOFT } else { CONF_HARD };
        let name = clean(&m.service).unwrap_or_else(|| "unknown".into());
        let field = |f: &Option<String>| f.as_deref().and_then(clean);
        ServiceInfo {
            product: field(&m.product),
            version: field(&m.version),
            extrainfo: field(&m.extrainfo),
            hostname: field(&m.hostname),
            ostype: field(&m.ostype),
            devicetype: field(&m.devicetype),
            cpe: m.cpe.iter().filter_map(|c| clean(c)).collect(),
            ..ServiceInfo::named(name, ServiceMethod::Probed, conf)
        }
    }
}

impl From<Match> for ServiceInfo {
    fn from(m: Match) -> Self {
        ServiceInfo::from(&m)
    }
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
        let info = ServiceInfo::from(&hard);
        assert_eq!((info.name.as_str(), info.method, info.conf), ("ssh", ServiceMethod::Probed, 10));
        assert_eq!(info.product.as_deref(), Some("OpenSSH"));
        let soft = Match { service: "http".into(), soft: true, ..Match::default() };
        assert_eq!(ServiceInfo::from(soft).conf, CONF_SOFT);
    }

    #[test]
    fn fields_are_cleaned() {
        let m = Match {
            service: "ftp".into(),
            product: Some(" evil\u{1b}[2J\r\nftpd ".into()),
            version: Some("\u{0}".into()),
            ..Match::default()
        };
        let info = ServiceInfo::from(&m);
        assert_eq!(info.product.as_deref(), Some("evil[2Jftpd"));
        assert_eq!(info.version, None);
    }

    #[test]
    fn every_field_is_carried_over() {
        let m = Match {
            service: "ssh".into(),
            soft: false,
            product: Some("OpenSSH".into()),
            version: Some("9.2p1".into()),
            extrainfo: Some("protocol 2.0".into()),
            hostname: Some("gw".into()),
            ostype: Some("Linux".into()),
            devicetype: Some("router".into()),
            cpe: vec!["cpe:/a:openbsd:openssh:9.2p1".into(), "\u{7}".into()],
            line: 12,
        };
        let info = ServiceInfo::from(m);
        assert_eq!(info.version.as_deref(), Some("9.2p1"));
        assert_eq!(info.extrainfo.as_deref(), Some("protocol 2.0"));
        assert_eq!(info.hostname.as_deref(), Some("gw"));
        assert_eq!(info.ostype.as_deref(), Some("Linux"));
        assert_eq!(info.devicetype.as_deref(), Some("router"));
        assert_eq!(info.cpe, ["cpe:/a:openbsd:openssh:9.2p1"]);
        assert!(info.details.is_empty() && info.findings.is_empty() && info.tunnel.is_none());
    }

    #[test]
    fn empty_service_name_is_unknown_and_fields_are_bounded() {
        let m = Match { service: " \r\n".into(), product: Some("x".repeat(500)), ..Match::default() };
        let info = ServiceInfo::from(&m);
        assert_eq!(info.name, "unknown");
        assert_eq!(info.product.map(|p| p.len()), Some(MAX_FIELD));
    }
}
