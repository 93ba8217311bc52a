//! A full TLS 1.2/1.3 handshake with rustls that inspects instead of trusting: every certificate is
//! accepted and recorded, so an expired, self-signed or mismatched one is still reported. The caller gets
//! the TLS stream back to keep probing the service inside it.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::{CertFacts, TlsError, TlsFacts, TlsVersion, parse_certificate};

/// Connects TLS over `stream` (already connected), offering `alpn` in order. `server_name` is sent as SNI
/// when it is a DNS name; for an IP address or `None` no SNI is sent. The whole handshake is bounded by
/// `timeout`. Certificates are never judged here: see [`CertFacts`].
pub async fn handshake<S>(
    stream: S,
    server_name: Option<&str>,
    alpn: &[&[u8]],
    timeout: Duration,
) -> Result<(TlsStream<S>, TlsFacts), TlsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let config = client_config(alpn)?;
    let name = sni_name(server_name);
    let connect = TlsConnector::from(Arc::new(config)).connect(name, stream);
    let tls = match tokio::time::timeout(timeout, connect).await {
        Err(_) => return Err(TlsError::Timeout(timeout)),
        Ok(Err(e)) => return Err(handshake_error(e)),
        Ok(Ok(tls)) => tls,
    };
    let facts = connection_facts(tls.get_ref().1);
    Ok((tls, facts))
}

fn client_config(alpn: &[&[u8]]) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(InspectOnly { algorithms: provider.signature_verification_algorithms });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Handshake(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // A probe has no session to resume; a fresh config per call keeps connections independent.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// rustls sends SNI only for DNS names; an IP address (or the unspecified one when there is no name at all)
/// makes it send none.
fn sni_name(server_name: Option<&str>) -> ServerName<'static> {
    server_name
        .and_then(|name| ServerName::try_from(name).ok())
        .map(|name| name.to_owned())
        .unwrap_or(ServerName::IpAddress(IpAddr::V4(Ipv4Addr::UNSPECIFIED).into()))
}

/// tokio-rustls reports rustls errors as `io::Error`s wrapping a `rustls::Error`.
fn handshake_error(e: io::Error) -> TlsError {
    let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => TlsError::Handshake("connection closed during the handshake".to_owned()),
            _ => TlsError::Io(e),
        };
    };
    match tls {
        rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType | rustls::InvalidMessage::UnknownProtocolVersion,
        ) => TlsError::NotTls,
        other => TlsError::Handshake(other.to_string()),
    }
}

fn connection_facts(conn: &rustls::ClientConnection) -> TlsFacts {
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => TlsVersion::Tls13,
        _ => TlsVersion::Tls12,
    };
    let cipher = conn.negotiated_cipher_suite().map(|s| crate::cipher::suite_name(u16::from(s.suite())));
    TlsFacts {
        version,
        cipher: cipher.unwrap_or_default(),
        alpn: conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        chain: parse_chain(conn.peer_certificates().unwrap_or_default().iter().map(|c| c.as_ref())),
    }
}

/// Parses a chain leaf first, stopping at the first unreadable certificate so the leaf stays first.
pub(crate) fn parse_chain<'a>(ders: impl Iterator<Item = &'a [u8]>) -> Vec<CertFacts> {
    ders.map_while(|der| parse_certificate(der).ok()).collect()
}

/// Accepts any certificate: the scanner reports what it sees and judges it elsewhere.
#[derive(Debug)]
struct InspectOnly {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for InspectOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sni_only_for_dns_names() {
        assert!(matches!(sni_name(Some("example.org")), ServerName::DnsName(_)));
        assert!(matches!(sni_name(Some("198.18.0.2")), ServerName::IpAddress(_)));
        assert!(matches!(sni_name(Some("::1")), ServerName::IpAddress(_)));
        assert!(matches!(sni_name(Some("not a name!")), ServerName::IpAddress(_)));
        assert!(matches!(sni_name(None), ServerName::IpAddress(_)));
    }

    #[test]
    fn rustls_errors_are_classified() {
        let junk = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        assert!(matches!(handshake_error(junk), TlsError::NotTls));
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion),
        );
        assert!(matches!(handshake_error(alert), TlsError::Handshake(_)));
        assert!(matches!(handshake_error(io::ErrorKind::ConnectionReset.into()), TlsError::Io(_)));
    }
}
