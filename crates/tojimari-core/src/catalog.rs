//! The catalogue of exposure findings: every finding id tojimari reports, with its one severity, its title
//! and its general advice.
//!
//! It is the single source of truth for a finding's severity. The scanner's checks (`tojimari-exposure`,
//! reported by `tojimari scan -sV` and `tojimari check`) and the local inventory (`tojimari-local`, reported
//! by `tojimari local`) both take a finding's severity from here and only supply the evidence; the local
//! inventory may replace the general advice with a line specific to the program it found (PostgreSQL's
//! `listen_addresses`, say). `docs/findings.md` documents every entry, and a test
//! (`tests/findings_doc.rs`) fails when the document and this table disagree.
//!
//! # How severities are chosen
//! - **critical**: anyone who can connect gets in: no authentication was needed (`*-noauth`) or the service
//!   gives root by design (`docker-api-exposed`).
//! - **high**: secrets or keystrokes cross the network in cleartext (`telnet-cleartext`, `x11-exposed`), or
//!   a known-dangerous protocol is on (`smbv1`, default SNMP communities, memcached amplification).
//! - **medium**: a service that authenticates its users is reachable from the network where it usually
//!   should not be (`rdp-exposed`, `vnc-exposed`, `smb-exposed`, `database-exposed`), or a weakness that
//!   needs more to exploit (FTP cleartext, TLS problems). tojimari cannot tell a LAN from the internet,
//!   so reachability alone is not rated high; what it proves beyond that has its own, higher, id.
//! - **low**: hygiene (`tls-self-signed`).

use crate::report::{Finding, Severity};

/// One kind of finding, as documented.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FindingKind {
    /// Stable id, also used in output (`redis-noauth`).
    pub id: &'static str,
    pub severity: Severity,
    /// A short title (one line, no trailing period).
    pub title: &'static str,
    /// What to do about it in general (one line).
    pub advice: &'static str,
}

impl FindingKind {
    /// A finding of this kind with the given one-line evidence and the catalogue's advice.
    pub fn finding(self, evidence: impl Into<String>) -> Finding {
        self.finding_with_advice(evidence, self.advice)
    }

    /// A finding of this kind whose advice is specific to what was found (still at the catalogue's severity).
    pub fn finding_with_advice(self, evidence: impl Into<String>, advice: impl Into<String>) -> Finding {
        Finding { id: self.id.to_owned(), severity: self.severity, evidence: evidence.into(), advice: advice.into() }
    }
}

macro_rules! kinds {
    ($($konst:ident = $id:literal, $sev:ident, $title:literal, $advice:literal;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $title, ".")]
            pub const $konst: FindingKind =
                FindingKind { id: $id, severity: Severity::$sev, title: $title, advice: $advice };
        )*
        static CATALOG: &[FindingKind] = &[$($konst,)*];
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
    SMB_EXPOSED = "smb-exposed", Medium, "SMB file sharing listens on a network address",
        "Firewall SMB (445, 139) to the hosts that need file sharing; never expose it beyond the local network";
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
    X11_EXPOSED = "x11-exposed", High, "An X server listens on TCP",
        "Start the X server with -nolisten tcp and forward X over SSH";
    DOCKER_API_EXPOSED = "docker-api-exposed", Critical, "The unencrypted Docker API listens on a network address",
        "Serve the Docker API on its unix socket only (or with TLS client certificates on 2376)";
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

/// Every finding kind, in a stable order (the order of `docs/findings.md`'s table).
pub fn catalog() -> &'static [FindingKind] {
    CATALOG
}

/// The catalogue entry for `id`, if it is one.
pub fn kind(id: &str) -> Option<&'static FindingKind> {
    CATALOG.iter().find(|k| k.id == id)
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
            assert!(!k.advice.is_empty() && !k.title.is_empty(), "{}", k.id);
            assert!(k.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{}", k.id);
        }
    }

    #[test]
    fn lookup_and_findings_carry_the_catalogue_severity() {
        assert_eq!(kind("rdp-exposed"), Some(&RDP_EXPOSED));
        assert_eq!(kind("no-such-finding"), None);
        let f = DATABASE_EXPOSED.finding("PostgreSQL port 5432/tcp bound to 0.0.0.0");
        assert_eq!(
            (f.id.as_str(), f.severity, f.advice.as_str()),
            ("database-exposed", Severity::Medium, DATABASE_EXPOSED.advice)
        );
        let g = DATABASE_EXPOSED.finding_with_advice("x", "Set listen_addresses = 'localhost'");
        assert_eq!((g.severity, g.advice.as_str()), (Severity::Medium, "Set listen_addresses = 'localhost'"));
    }
}
