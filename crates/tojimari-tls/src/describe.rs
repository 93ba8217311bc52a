//! Human-readable text for what a TLS look found, shown under a port.
//!
//! [`describe`] writes the `ssl-cert` detail, one `Label: value` per line, no trailing newline:
//! ```text
//! Subject: CN=example.org, O=Example
//! Subject Alternative Name: DNS:example.org, IP:198.18.0.2
//! Issuer: CN=Example CA
//! Public Key type: RSA
//! Public Key bits: 2048
//! Signature Algorithm: sha256WithRSAEncryption
//! Not valid before: 2025-01-01T00:00:00Z
//! Not valid after:  2026-01-01T00:00:00Z
//! SHA-256: 3f0c...
//! TLS: TLSv1.3, TLS13_AES_256_GCM_SHA384, ALPN h2
//! ```
//! The Subject Alternative Name line is left out when there are none; `(self-signed)` follows the issuer of a
//! self-signed certificate; `(expired)` or `(not yet valid)` follows a validity date that fails at `now`.
//! Without a certificate only the `TLS:` line is written.

use std::fmt::Write;
use std::time::SystemTime;

use tojimari_core::civil::CivilDateTime;

use crate::{LegacySupport, TlsFacts, TlsVersion};

/// The `ssl-cert` detail for `facts`, judged at `now`.
pub fn describe(facts: &TlsFacts, now: SystemTime) -> String {
    let mut out = String::new();
    if let Some(leaf) = facts.leaf() {
        let _ = writeln!(out, "Subject: {}", leaf.subject);
        if !leaf.sans.is_empty() {
            let _ = writeln!(out, "Subject Alternative Name: {}", leaf.sans.join(", "));
        }
        let self_signed = if leaf.self_signed { " (self-signed)" } else { "" };
        let _ = writeln!(out, "Issuer: {}{self_signed}", leaf.issuer);
        let _ = writeln!(out, "Public Key type: {}", leaf.key_type);
        let _ = writeln!(out, "Public Key bits: {}", leaf.key_bits);
        let _ = writeln!(out, "Signature Algorithm: {}", leaf.signature_algorithm);
        let early = if leaf.not_yet_valid_at(now) { " (not yet valid)" } else { "" };
        let _ = writeln!(out, "Not valid before: {}{early}", iso8601_utc(leaf.not_before));
        let expired = if leaf.expired_at(now) { " (expired)" } else { "" };
        let _ = writeln!(out, "Not valid after:  {}{expired}", iso8601_utc(leaf.not_after));
        let _ = writeln!(out, "SHA-256: {}", leaf.sha256);
    }
    let _ = write!(out, "TLS: {}", facts.version.as_str());
    if !facts.cipher.is_empty() {
        let _ = write!(out, ", {}", facts.cipher);
    }
    if let Some(alpn) = &facts.alpn {
        let _ = write!(out, ", ALPN {alpn}");
    }
    out
}

/// One line naming the versions known to be offered, refused and undetermined, oldest first:
/// `TLS versions offered: TLSv1.0, TLSv1.3; refused: SSLv3, TLSv1.1`. The handshake's version counts as
/// offered; `; undetermined: ...` lists legacy versions whose probe failed.
pub fn describe_versions(facts: Option<&TlsFacts>, legacy: &LegacySupport) -> String {
    let probed =
        [(TlsVersion::Ssl3, legacy.ssl3), (TlsVersion::Tls10, legacy.tls10), (TlsVersion::Tls11, legacy.tls11)];
    let mut offered: Vec<TlsVersion> = legacy.accepted();
    offered.extend(facts.map(|f| f.version));
    offered.sort();
    offered.dedup();
    let with = |want: Option<bool>| -> Vec<TlsVersion> {
        probed.iter().filter(|(_, got)| *got == want).map(|(v, _)| *v).collect()
    };
    let mut line = format!("TLS versions offered: {}", names(&offered));
    let refused = with(Some(false));
    if !refused.is_empty() {
        let _ = write!(line, "; refused: {}", names(&refused));
    }
    let undetermined = with(None);
    if !undetermined.is_empty() {
        let _ = write!(line, "; undetermined: {}", names(&undetermined));
    }
    line
}

fn names(versions: &[TlsVersion]) -> String {
    if versions.is_empty() {
        return "none known".to_owned();
    }
    versions.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
}

/// `2026-01-31T12:00:00Z`. Times before 1970 are written too (X.509 allows them).
pub(crate) fn iso8601_utc(time: SystemTime) -> String {
    let CivilDateTime { date, hour, minute, second } = CivilDateTime::from_system_time(time);
    format!("{:04}-{:02}-{:02}T{hour:02}:{minute:02}:{second:02}Z", date.year, date.month, date.day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CertFacts;
    use std::time::Duration;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn facts() -> TlsFacts {
        TlsFacts {
            version: TlsVersion::Tls13,
            cipher: "TLS13_AES_256_GCM_SHA384".to_owned(),
            alpn: Some("h2".to_owned()),
            chain: vec![CertFacts {
                subject: "CN=example.org".to_owned(),
                issuer: "CN=Example CA".to_owned(),
                common_name: Some("example.org".to_owned()),
                sans: vec!["DNS:example.org".to_owned(), "IP:198.18.0.2".to_owned()],
                not_before: at(1_735_689_600),
                not_after: at(1_767_225_600),
                key_type: "EC".to_owned(),
                key_bits: 256,
                signature_algorithm: "ecdsa-with-SHA256".to_owned(),
                self_signed: false,
                sha256: "ab".repeat(32),
                serial: "01".to_owned(),
            }],
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_utc(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_utc(at(1_767_225_599)), "2025-12-31T23:59:59Z");
        assert_eq!(iso8601_utc(at(253_402_300_799)), "9999-12-31T23:59:59Z");
        assert_eq!(iso8601_utc(UNIX_EPOCH - Duration::from_secs(1)), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn cert_description() {
        let text = describe(&facts(), at(1_750_000_000));
        let expected = [
            "Subject: CN=example.org",
            "Subject Alternative Name: DNS:example.org, IP:198.18.0.2",
            "Issuer: CN=Example CA",
            "Public Key type: EC",
            "Public Key bits: 256",
            "Signature Algorithm: ecdsa-with-SHA256",
            "Not valid before: 2025-01-01T00:00:00Z",
            "Not valid after:  2026-01-01T00:00:00Z",
            &format!("SHA-256: {}", "ab".repeat(32)),
            "TLS: TLSv1.3, TLS13_AES_256_GCM_SHA384, ALPN h2",
        ]
        .join("\n");
        assert_eq!(text, expected);
    }

    #[test]
    fn expired_and_self_signed_are_marked() {
        let mut f = facts();
        f.chain[0].self_signed = true;
        let text = describe(&f, at(1_800_000_000));
        assert!(text.contains("Issuer: CN=Example CA (self-signed)"));
        assert!(text.contains("2026-01-01T00:00:00Z (expired)"));
        let early = describe(&f, at(1_700_000_000));
        assert!(early.contains("2025-01-01T00:00:00Z (not yet valid)"));
    }

    #[test]
    fn no_certificate_only_the_tls_line() {
        let f = TlsFacts {
            version: TlsVersion::Tls10,
            cipher: "TLS_RSA_WITH_AES_128_CBC_SHA".to_owned(),
            alpn: None,
            chain: vec![],
        };
        assert_eq!(describe(&f, UNIX_EPOCH), "TLS: TLSv1.0, TLS_RSA_WITH_AES_128_CBC_SHA");
    }

    #[test]
    fn version_line() {
        let legacy = LegacySupport { ssl3: Some(false), tls10: Some(true), tls11: None };
        assert_eq!(
            describe_versions(Some(&facts()), &legacy),
            "TLS versions offered: TLSv1.0, TLSv1.3; refused: SSLv3; undetermined: TLSv1.1"
        );
        assert_eq!(
            describe_versions(None, &LegacySupport::default()),
            "TLS versions offered: none known; undetermined: SSLv3, TLSv1.0, TLSv1.1"
        );
    }
}
