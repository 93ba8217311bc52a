//! The catalog of every finding this crate can report: id, severity, title and advice.
//!
//! The catalog is the single source of truth for a finding's severity and advice; checks only supply the
//! evidence. `tojimari check` and `docs/findings.md` explain findings from it.

use tojimari_core::{Finding, Severity};

/// One kind of finding, as documented.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FindingKind {
    /// Stable id, also used in output (`redis-noauth`).
    pub id: &'static str,
    pub severity: Severity,
    /// A short title (one line, no trailing period).
    pub title: &'static str,
    /// What to do about it (one line).
    pub advice: &'static str,
}

macro_rules! kinds {
    ($($konst:ident = $id:literal, $sev:ident, $title:literal, $advice:literal;)*) => {
        $(pub(crate) const $konst: &str = $id;)*
        static CATALOG: &[FindingKind] = &[
            $(FindingKind { id: $id, severity: Severity::$sev, title: $title, advice: $advice },)*
        ];
    };
}

kinds! {
    TELNET_CLEARTEXT = "telnet-cleartext", High, "Telnet sends logins and sessions in cleartext",
        "Disable telnet and use SSH instead; if it must stay, firewall it to a management network";
    FTP_CLEARTEXT = "ftp-cleartext", Medium, "FTP without TLS sends passwords in cleartext",
        "Require TLS (vsftpd: ssl_enable=YES, force_local_logins_ssl=YES) or replace FTP with SFTP";
    FTP_ANONYMOUS = "ftp-anonymous", Medium, "Anonymous FTP login is allowed",
        "Set anonymous_enable=NO (vsftpd) unless the server is meant to publish files to everyone";
    RDP_EXPOSED = "rdp-exposed", Medium, "Remote Desktop is reachable",
        "Put RDP behind a VPN or gateway, firewall it to admin hosts and require Network Level Authentication";
    VNC_EXPOSED = "vnc-exposed", Medium, "VNC remote desktop is reachable",
        "Tunnel VNC through SSH or a VPN and bind it to localhost; firewall the port";
    VNC_NOAUTH = "vnc-noauth", Critical, "VNC offers the None security type (no password)",
        "Require a VNC password or stronger authentication, bind it to localhost and firewall the port";
    DATABASE_EXPOSED = "database-exposed", Medium, "A database or cache answers on a network address",
        "Bind it to localhost (or a private interface) and firewall the port to the application hosts";
    REDIS_NOAUTH = "redis-noauth", Critical, "Redis answers commands without authentication",
        "Set requirepass (or ACL users), keep protected-mode yes and bind Redis to 127.0.0.1";
    MEMCACHED_UDP = "memcached-udp", High, "memcached answers over UDP (DDoS amplification)",
        "Start memcached with -U 0 to disable UDP and bind it with -l 127.0.0.1";
    SNMP_DEFAULT_COMMUNITY = "snmp-default-community", High, "SNMP answers a default community string",
        "Remove the public/private communities; use SNMPv3 with authPriv or a long random community and an ACL";
    MONGODB_NOAUTH = "mongodb-noauth", Critical, "MongoDB lists databases without authentication",
        "Enable authorization (security.authorization: enabled), create users and bind to 127.0.0.1";
    ELASTICSEARCH_NOAUTH = "elasticsearch-noauth", Critical, "Elasticsearch answers without authentication",
        "Enable security (xpack.security.enabled: true) with passwords and TLS, bind to a private address";
    SMBV1 = "smbv1", High, "SMB server accepts the obsolete SMBv1 dialect",
        "Disable SMBv1 (Samba: server min protocol = SMB2; Windows: Disable-WindowsOptionalFeature SMB1Protocol)";
    TLS_EXPIRED = "tls-expired", Medium, "TLS certificate expired or not yet valid",
        "Replace the certificate with a valid one and automate renewal (ACME)";
    TLS_SELF_SIGNED = "tls-self-signed", Low, "TLS certificate is self-signed",
        "Replace the certificate with one from a trusted (public or internal) CA";
    TLS_LEGACY_PROTOCOL = "tls-legacy-protocol", Medium, "Server accepts SSLv3, TLS 1.0 or TLS 1.1",
        "Disable SSLv3, TLS 1.0 and TLS 1.1 (RFC 8996); allow only TLS 1.2 and 1.3";
    TLS_WEAK_KEY = "tls-weak-key", Medium, "TLS certificate key is too short",
        "Replace the certificate with an RSA key of at least 2048 bits or an EC key of at least 256 bits";
    TLS_WEAK_SIGNATURE = "tls-weak-signature", Medium, "TLS certificate is signed with MD5 or SHA-1",
        "Reissue the certificate with a SHA-256 (or stronger) signature";
}

/// Every finding id this crate can report, in a stable order.
pub fn catalog() -> &'static [FindingKind] {
    CATALOG
}

/// The catalog entry for `id`, if it is one of ours.
pub fn kind(id: &str) -> Option<&'static FindingKind> {
    CATALOG.iter().find(|k| k.id == id)
}

/// A finding of catalog kind `id` with the given evidence (flattened to one line).
///
/// Only called with the crate's own constants, which are all in the catalog.
pub(crate) fn finding(id: &'static str, evidence: impl AsRef<str>) -> Finding {
    let (severity, advice) = match kind(id) {
        Some(k) => (k.severity, k.advice),
        None => (Severity::Info, ""),
    };
    Finding { id: id.to_string(), severity, evidence: one_line(evidence.as_ref()), advice: advice.to_string() }
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
    use super::*;

    #[test]
    fn ids_are_unique_and_one_line() {
        let mut ids: Vec<_> = catalog().iter().map(|k| k.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), catalog().len());
        for k in catalog() {
            assert!(!k.advice.contains('\n') && !k.title.contains('\n'), "{}", k.id);
            assert!(k.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{}", k.id);
        }
    }

    #[test]
    fn finding_takes_severity_and_advice_from_catalog() {
        let f = finding(REDIS_NOAUTH, "PING answered\r\n+PONG");
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.evidence, "PING answered +PONG");
        assert!(f.advice.contains("requirepass"));
    }
}
