//! The TLS side of detection, over `tojimari-tls`: a handshake that yields a stream to keep probing in, and
//! the `ssl-cert` / `tls-versions` details.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use tojimari_core::Detail;
use tojimari_tls::{LegacySupport, TlsFacts};

use crate::dial::{Conn, DialError, connect};

/// Offered in the handshake: probes speak HTTP/1.x, so never let a server switch to h2.
const ALPN: &[&[u8]] = &[b"http/1.1"];

/// Connects to `addr` and completes a TLS handshake (certificate checks off), each within `limit`.
pub(crate) async fn open(addr: SocketAddr, limit: Duration) -> Result<(Conn, TlsFacts), DialError> {
    let tcp = connect(addr, limit).await?;
    // No SNI: the target is an address, and a name we made up could select the wrong virtual host.
    let (stream, facts) = tojimari_tls::handshake(tcp, None, ALPN, limit).await.map_err(|_| DialError::Tls)?;
    Ok((Box::new(stream), facts))
}

/// Whether a TLS handshake with `addr` succeeds; its facts if so.
pub(crate) async fn trial(addr: SocketAddr, limit: Duration) -> Option<TlsFacts> {
    open(addr, limit).await.ok().map(|(_, facts)| facts)
}

/// Handshake facts from hand-built ClientHellos, for a server rustls cannot finish a handshake with
/// (SSLv3/TLS 1.0-only servers).
pub(crate) async fn fallback(addr: SocketAddr, limit: Duration) -> Option<TlsFacts> {
    tojimari_tls::fallback_facts(addr, limit).await.ok()
}

/// Which legacy versions `addr` accepts.
pub(crate) async fn legacy(addr: SocketAddr, limit: Duration) -> LegacySupport {
    tojimari_tls::legacy_support(addr, limit).await
}

/// The `ssl-cert` detail for a completed handshake.
pub(crate) fn cert_detail(facts: &TlsFacts, now: SystemTime) -> Detail {
    Detail { id: "ssl-cert".into(), output: tojimari_tls::describe(facts, now) }
}

/// The `tls-versions` detail.
pub(crate) fn versions_detail(facts: Option<&TlsFacts>, legacy: &LegacySupport) -> Detail {
    Detail { id: "tls-versions".into(), output: tojimari_tls::describe_versions(facts, legacy) }
}
