//! One X.509 certificate read into [`CertFacts`]: names, validity, key, signature algorithm, self-signature,
//! fingerprint. Parsing only; nothing here decides whether the certificate is to be trusted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_DSA, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS, OID_SIG_ED448, OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::time::ASN1Time;

use crate::{CertFacts, TlsError};

/// Reads one DER certificate. Trailing bytes after the certificate are ignored.
pub fn parse_certificate(der: &[u8]) -> Result<CertFacts, TlsError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| TlsError::Certificate(e.to_string()))?;
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let common_name = cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned);
    let (key_type, key_bits) = public_key(&cert);
    let signature_algorithm = match oid2sn(&cert.signature_algorithm.algorithm, oid_registry()) {
        Ok(name) => name.to_owned(),
        Err(_) => cert.signature_algorithm.algorithm.to_id_string(),
    };
    Ok(CertFacts {
        self_signed: self_signed(&cert, &key_type, key_bits),
        subject,
        issuer,
        common_name,
        sans: subject_alt_names(&cert),
        not_before: system_time(cert.validity().not_before),
        not_after: system_time(cert.validity().not_after),
        key_type,
        key_bits,
        signature_algorithm,
        sha256: hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
        serial: hex(cert.tbs_certificate.raw_serial()),
    })
}

/// `DNS:name` and `IP:address` entries, in certificate order; other name forms are left out.
fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
            GeneralName::IPAddress(bytes) => ip_address(bytes).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .collect()
}

fn ip_address(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    <[u8; 16]>::try_from(bytes).ok().map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
}

/// Key type and size in bits. EC sizes come from the named curve, because the point length over-counts
/// P-521 (66-byte coordinates).
fn public_key(cert: &X509Certificate<'_>) -> (String, u32) {
    let spki = cert.public_key();
    let alg = &spki.algorithm.algorithm;
    let parsed = spki.parsed();
    if *alg == OID_PKCS1_RSAENCRYPTION || *alg == OID_PKCS1_RSASSAPSS {
        let bits = match &parsed {
            Ok(PublicKey::RSA(rsa)) => significant_bits(rsa.modulus),
            _ => 0,
        };
        ("RSA".to_owned(), bits)
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
        let bits = match curve {
            Some(c) if c == OID_EC_P256 => 256,
            Some(c) if c == OID_NIST_EC_P384 => 384,
            Some(c) if c == OID_NIST_EC_P521 => 521,
            _ => parsed.map(|k| k.key_size()).unwrap_or(0).try_into().unwrap_or(0),
        };
        ("EC".to_owned(), bits)
    } else if *alg == OID_SIG_ED25519 {
        ("Ed25519".to_owned(), 256)
    } else if *alg == OID_SIG_ED448 {
        ("Ed448".to_owned(), 448)
    } else if *alg == OID_KEY_TYPE_DSA {
        let bits = parsed.map(|k| k.key_size()).unwrap_or(0);
        ("DSA".to_owned(), bits.try_into().unwrap_or(0))
    } else {
        let name = oid2sn(alg, oid_registry()).map(str::to_owned).unwrap_or_else(|_| alg.to_id_string());
        (name, 0)
    }
}

/// Bits of a big-endian unsigned integer, ignoring leading zero bytes (DER adds one before a high bit).
fn significant_bits(bytes: &[u8]) -> u32 {
    let digits = match bytes.iter().position(|&b| b != 0) {
        Some(first) => &bytes[first..],
        None => return 0,
    };
    let len = u32::try_from(digits.len()).unwrap_or(u32::MAX / 8);
    (len - 1) * 8 + (8 - digits[0].leading_zeros())
}

/// Issuer equals subject and the certificate's own key verifies its signature. Where the signature cannot be
/// checked (an algorithm `ring` lacks, or an RSA key under 2048 bits, which `ring` refuses for SHA-2), fall
/// back to the key identifiers: no authority key identifier, or one equal to the subject key identifier.
fn self_signed(cert: &X509Certificate<'_>, key_type: &str, key_bits: u32) -> bool {
    if cert.subject().as_raw() != cert.issuer().as_raw() && cert.subject().to_string() != cert.issuer().to_string() {
        return false;
    }
    match cert.verify_signature(None) {
        Ok(()) => true,
        Err(X509Error::SignatureVerificationError) if !(key_type == "RSA" && key_bits < 2048) => false,
        Err(_) => key_identifiers_match(cert),
    }
}

fn key_identifiers_match(cert: &X509Certificate<'_>) -> bool {
    let mut authority = None;
    let mut subject = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => authority = Some(aki.key_identifier.as_ref().map(|k| k.0)),
            ParsedExtension::SubjectKeyIdentifier(ski) => subject = Some(ski.0),
            _ => {}
        }
    }
    match authority {
        None | Some(None) => true,
        Some(Some(aki)) => subject == Some(aki),
    }
}

fn system_time(time: ASN1Time) -> SystemTime {
    let secs = time.timestamp();
    let offset = Duration::from_secs(secs.unsigned_abs());
    let shifted = if secs >= 0 { UNIX_EPOCH.checked_add(offset) } else { UNIX_EPOCH.checked_sub(offset) };
    shifted.unwrap_or(UNIX_EPOCH)
}

/// Lowercase hex, no separators.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_bits_ignores_der_sign_byte() {
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01, 0xff]), 9);
        assert_eq!(significant_bits(&[0x00, 0x00]), 0);
        assert_eq!(significant_bits(&[]), 0);
    }

    #[test]
    fn junk_is_a_certificate_error() {
        assert!(matches!(parse_certificate(b"not a certificate"), Err(TlsError::Certificate(_))));
        assert!(matches!(parse_certificate(&[]), Err(TlsError::Certificate(_))));
        assert!(matches!(parse_certificate(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(TlsError::Certificate(_))));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn ip_addresses_of_both_families() {
        assert_eq!(ip_address(&[198, 18, 0, 2]), Some("198.18.0.2".parse().unwrap()));
        assert_eq!(
            ip_address(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(ip_address(&[1, 2, 3]), None);
    }
}
