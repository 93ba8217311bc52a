//! The findings this crate reports, from the one catalogue in [`tojimari_core::catalog`] (ids, severities,
//! titles, advice; documented in `docs/findings.md`). Checks only supply the evidence.

use tojimari_core::Finding;
pub(crate) use tojimari_core::catalog::{
    DATABASE_EXPOSED, ELASTICSEARCH_NOAUTH, FTP_ANONYMOUS, FTP_CLEARTEXT, MEMCACHED_UDP, MONGODB_NOAUTH, RDP_EXPOSED,
    REDIS_NOAUTH, SMBV1, SNMP_DEFAULT_COMMUNITY, TELNET_CLEARTEXT, TLS_EXPIRED, TLS_LEGACY_PROTOCOL, TLS_SELF_SIGNED,
    TLS_WEAK_KEY, TLS_WEAK_SIGNATURE, VNC_EXPOSED, VNC_NOAUTH,
};
pub use tojimari_core::catalog::{FindingKind, catalog, kind};

/// A finding of catalogue kind `kind` with the given evidence (flattened to one line).
pub(crate) fn finding(kind: FindingKind, evidence: impl AsRef<str>) -> Finding {
    kind.finding(one_line(evidence.as_ref()))
}

/// Collapses control characters and runs of whitespace so service-supplied text stays on one line.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use tojimari_core::Severity;

    use super::*;

    #[test]
    fn finding_takes_severity_and_advice_from_catalog() {
        let f = finding(REDIS_NOAUTH, "PING answered\r\n+PONG");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.evidence, "PING answered +PONG");
        assert!(f.advice.contains("requirepass"));
    }
}
