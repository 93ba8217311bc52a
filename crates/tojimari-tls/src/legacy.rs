//! Asking a server whether it still speaks SSLv3, TLS 1.0 or TLS 1.1 (or any one version), with a
//! hand-built ClientHello over a fresh TCP connection. The answer is read from the ServerHello; the
//! certificate comes along when the version sends it in the clear (before TLS 1.3).
//!
//! Bounded: the whole exchange (connect included) by the caller's timeout, the bytes read by
//! [`crate::record::MAX_RECORD`] per record and [`crate::record::MAX_FLIGHT`] in all.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cipher::suite_name;
use crate::client_hello::{client_hello, version_from_wire, wire_version};
use crate::handshake::parse_chain;
use crate::record::{HEADER_LEN, RecordHeader};
use crate::server_flight::ServerFlight;
use crate::{CertFacts, LegacySupport, TlsError, TlsFacts, TlsVersion};

/// How a server answered a ClientHello for one version.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VersionAnswer {
    /// A ServerHello with exactly the version asked for.
    Accepted,
    /// A ServerHello with another version (wire value, `0x0301` for TLS 1.0): the server's own choice.
    OtherVersion(u16),
    /// An alert before any ServerHello; the alert description (70 is protocol_version, 40 handshake_failure).
    Alert(u8),
    /// The connection closed (or was reset) before any ServerHello.
    Closed,
}

/// What one hand-built ClientHello showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyProbe {
    pub requested: TlsVersion,
    pub answer: VersionAnswer,
    /// IANA name of the cipher suite in the ServerHello.
    pub cipher: Option<String>,
    /// Certificates sent in the clear after the ServerHello (never for TLS 1.3), leaf first.
    pub chain: Vec<CertFacts>,
}

impl LegacyProbe {
    /// The server took the version asked for.
    pub fn accepted(&self) -> bool {
        self.answer == VersionAnswer::Accepted
    }

    pub fn leaf(&self) -> Option<&CertFacts> {
        self.chain.first()
    }

    /// The version the server chose, if it sent a ServerHello naming a known one.
    pub fn negotiated(&self) -> Option<TlsVersion> {
        match self.answer {
            VersionAnswer::Accepted => Some(self.requested),
            VersionAnswer::OtherVersion(wire) => version_from_wire(wire),
            VersionAnswer::Alert(_) | VersionAnswer::Closed => None,
        }
    }

    /// Handshake facts from the ServerHello (and Certificate), for a server rustls cannot talk to, such as
    /// one that speaks only TLS 1.0. `None` unless the server chose a known version and a cipher. ALPN is
    /// never offered by the probe, so it is `None`.
    pub fn facts(&self) -> Option<TlsFacts> {
        Some(TlsFacts {
            version: self.negotiated()?,
            cipher: self.cipher.clone()?,
            alpn: None,
            chain: self.chain.clone(),
        })
    }
}

/// Sends a ClientHello for exactly `version` to `addr` and reads the answer. Errors are for the probe
/// failing (connect refused, timeout before a ServerHello, a peer that is not TLS); a refusal by the server
/// is an `Ok` with [`VersionAnswer::Alert`], [`VersionAnswer::OtherVersion`] or [`VersionAnswer::Closed`].
pub async fn probe_version(addr: SocketAddr, version: TlsVersion, timeout: Duration) -> Result<LegacyProbe, TlsError> {
    let mut entropy = [0u8; 64];
    SystemRandom::new().fill(&mut entropy).map_err(|_| TlsError::Handshake("no randomness available".to_owned()))?;
    let (random, share) = entropy.split_at(32);
    let hello = client_hello(version, random.try_into().unwrap_or(&[0; 32]), share.try_into().unwrap_or(&[0; 32]));

    let mut flight = ServerFlight::default();
    let outcome = tokio::time::timeout(timeout, exchange(addr, &hello, &mut flight)).await;
    match outcome {
        // Once a ServerHello is in, a later stall or failure only costs the certificate.
        _ if flight.hello.is_some() => {}
        Err(_) => return Err(TlsError::Timeout(timeout)),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(())) => {}
    }
    Ok(answer(version, &flight))
}

/// Connects, sends the hello, and feeds records to `flight` until it is done or the server closes.
async fn exchange(addr: SocketAddr, hello: &[u8], flight: &mut ServerFlight) -> Result<(), TlsError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(hello).await?;
    let mut fragment = Vec::new();
    while !flight.is_done() {
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut stream, &mut header).await?;
        if got < HEADER_LEN {
            return if RecordHeader::plausible_prefix(&header[..got]) { Ok(()) } else { Err(TlsError::NotTls) };
        }
        let header = RecordHeader::parse(header)?;
        fragment.resize(header.length, 0);
        if read_full(&mut stream, &mut fragment).await? < header.length {
            return Ok(());
        }
        flight.record(header, &fragment)?;
    }
    Ok(())
}

/// Reads until `buf` is full or the peer closes; a reset counts as a close (some servers refuse that way).
async fn read_full<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut [u8]) -> Result<usize, TlsError> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(TlsError::Io(e)),
        }
    }
    Ok(filled)
}

fn answer(requested: TlsVersion, flight: &ServerFlight) -> LegacyProbe {
    let (answer, cipher) = match (flight.hello, flight.alert) {
        (Some(hello), _) if hello.version == wire_version(requested) => {
            (VersionAnswer::Accepted, Some(suite_name(hello.cipher)))
        }
        (Some(hello), _) => (VersionAnswer::OtherVersion(hello.version), Some(suite_name(hello.cipher))),
        (None, Some(alert)) => (VersionAnswer::Alert(alert), None),
        (None, None) => (VersionAnswer::Closed, None),
    };
    LegacyProbe { requested, answer, cipher, chain: parse_chain(flight.chain.iter().map(Vec::as_slice)) }
}

/// Probes SSLv3, TLS 1.0 and TLS 1.1 concurrently, each on its own connection. A probe that failed (timeout,
/// connection refused, not TLS) leaves its version `None`.
pub async fn legacy_support(addr: SocketAddr, timeout: Duration) -> LegacySupport {
    let (ssl3, tls10, tls11) = tokio::join!(
        probe_version(addr, TlsVersion::Ssl3, timeout),
        probe_version(addr, TlsVersion::Tls10, timeout),
        probe_version(addr, TlsVersion::Tls11, timeout),
    );
    let known = |probe: Result<LegacyProbe, TlsError>| probe.ok().map(|p| p.accepted());
    LegacySupport { ssl3: known(ssl3), tls10: known(tls10), tls11: known(tls11) }
}

/// Handshake facts for a server rustls could not talk to: asks for TLS 1.2, then 1.1, 1.0 and SSLv3, and
/// returns the first ServerHello's facts (a server answering a TLS 1.2 hello with TLS 1.0 stops the search
/// at once). Each attempt gets `timeout`.
pub async fn fallback_facts(addr: SocketAddr, timeout: Duration) -> Result<TlsFacts, TlsError> {
    let mut last = TlsError::Handshake("the server accepted no protocol version".to_owned());
    for version in [TlsVersion::Tls12, TlsVersion::Tls11, TlsVersion::Tls10, TlsVersion::Ssl3] {
        match probe_version(addr, version, timeout).await {
            Ok(probe) => {
                if let Some(facts) = probe.facts() {
                    return Ok(facts);
                }
            }
            Err(e @ (TlsError::NotTls | TlsError::Timeout(_))) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server_flight::ServerHello;

    #[test]
    fn answer_compares_the_exact_version() {
        let mut flight = ServerFlight::default();
        flight.hello = Some(ServerHello { version: 0x0301, cipher: 0x002f });
        let probe = answer(TlsVersion::Tls10, &flight);
        assert!(probe.accepted());
        assert_eq!(probe.cipher.as_deref(), Some("TLS_RSA_WITH_AES_128_CBC_SHA"));
        assert_eq!(probe.facts().map(|f| f.version), Some(TlsVersion::Tls10));

        let probe = answer(TlsVersion::Tls11, &flight);
        assert_eq!(probe.answer, VersionAnswer::OtherVersion(0x0301));
        assert!(!probe.accepted());
        assert_eq!(probe.negotiated(), Some(TlsVersion::Tls10));
    }

    #[test]
    fn alerts_and_closes_are_refusals() {
        let mut flight = ServerFlight::default();
        flight.alert = Some(70);
        let probe = answer(TlsVersion::Ssl3, &flight);
        assert_eq!(probe.answer, VersionAnswer::Alert(70));
        assert!(!probe.accepted() && probe.facts().is_none());
        assert_eq!(answer(TlsVersion::Ssl3, &ServerFlight::default()).answer, VersionAnswer::Closed);
    }
}
