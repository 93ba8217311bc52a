//! TLS facts about a service: certificate, negotiated version, cipher and ALPN (rustls), and legacy protocol
//! versions offered (hand-built ClientHellos).
//!
//! CONTRACT (types fixed; other crates code against them): the prober calls [`handshake`] on a connected
//! stream, keeps probing inside the returned TLS stream, and reports [`TlsFacts`]; the checks crate judges
//! [`TlsFacts`] and [`LegacySupport`] (`tls-expired`, `tls-self-signed`, `tls-legacy-protocol`).

use std::time::SystemTime;

mod cert;
mod cipher;
mod client_hello;
mod describe;
mod error;
mod handshake;
mod legacy;
mod record;
mod server_flight;

pub use cert::parse_certificate;
pub use describe::{describe, describe_versions};
pub use error::TlsError;
pub use handshake::handshake;
pub use legacy::{LegacyProbe, VersionAnswer, fallback_facts, legacy_support, probe_version};
pub use record::looks_like_tls;

/// What one certificate says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertFacts {
    /// RFC 4514-style distinguished name (`CN=example.org, O=Example`).
    pub subject: String,
    pub issuer: String,
    /// The subject's common name, if any.
    pub common_name: Option<String>,
    /// DNS names and IP addresses from subjectAltName (`DNS:example.org`, `IP:198.18.0.2`).
    pub sans: Vec<String>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// `RSA`, `EC`, `Ed25519`, `DSA`, ... as the public key says.
    pub key_type: String,
    /// Key size in bits (RSA modulus bits, EC curve bits).
    pub key_bits: u32,
    /// The signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`).
    pub signature_algorithm: String,
    /// Issuer equals subject and the signature verifies with the certificate's own key (or, where it cannot
    /// be verified, issuer == subject).
    pub self_signed: bool,
    /// Lowercase hex SHA-256 of the DER.
    pub sha256: String,
    pub serial: String,
}

impl CertFacts {
    /// Expired (or not yet valid) at `now`.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        now > self.not_after
    }

    pub fn not_yet_valid_at(&self, now: SystemTime) -> bool {
        now < self.not_before
    }
}

/// A TLS protocol version.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// `SSLv3`, `TLSv1.0`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1.0",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    /// Versions before TLS 1.2, which RFC 8996 deprecates.
    pub fn is_legacy(self) -> bool {
        self < TlsVersion::Tls12
    }
}

/// What a completed (or legacy-probed) handshake showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFacts {
    pub version: TlsVersion,
    /// IANA cipher suite name (`TLS13_AES_256_GCM_SHA384`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub cipher: String,
    /// The ALPN protocol the server chose (`h2`, `http/1.1`).
    pub alpn: Option<String>,
    /// The chain as sent, leaf first. Empty if the server sent none.
    pub chain: Vec<CertFacts>,
}

impl TlsFacts {
    pub fn leaf(&self) -> Option<&CertFacts> {
        self.chain.first()
    }
}

/// Which legacy versions a server accepted a hand-built ClientHello for. `None`: not determined (the
/// connection failed or timed out).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacySupport {
    pub ssl3: Option<bool>,
    pub tls10: Option<bool>,
    pub tls11: Option<bool>,
}

impl LegacySupport {
    /// The legacy versions accepted, oldest first.
    pub fn accepted(&self) -> Vec<TlsVersion> {
        [(self.ssl3, TlsVersion::Ssl3), (self.tls10, TlsVersion::Tls10), (self.tls11, TlsVersion::Tls11)]
            .into_iter()
            .filter(|(ok, _)| *ok == Some(true))
            .map(|(_, v)| v)
            .collect()
    }
}
