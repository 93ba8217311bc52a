//! Opening the connection a probe goes over: plain TCP, or TCP plus a TLS handshake (each probe inside TLS
//! gets its own handshake, as each plain probe gets its own connection).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tojimari_core::state::is_self_connection;
use tojimari_tls::TlsFacts;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A byte stream a probe can talk over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connected stream of either kind.
pub(crate) type Conn = Box<dyn Io>;

/// How to reach the service.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Dialer {
    Plain(SocketAddr),
    Tls(SocketAddr),
}

/// Why no connection came up.
#[derive(Debug)]
pub(crate) enum DialError {
    /// Connection refused: nothing listens (any more).
    Refused,
    /// Connect timed out or failed otherwise.
    Unreachable,
    /// TCP connected but TLS did not come up.
    Tls,
}

impl Dialer {
    /// Connects (and handshakes), each step within `limit`.
    pub(crate) async fn dial(self, limit: Duration) -> Result<(Conn, Option<TlsFacts>), DialError> {
        match self {
            Dialer::Plain(addr) => {
                let tcp = connect(addr, limit).await?;
                Ok((Box::new(tcp), None))
            }
            Dialer::Tls(addr) => {
                let (stream, facts) = crate::tunnel::open(addr, limit).await?;
                Ok((stream, Some(facts)))
            }
        }
    }
}

/// A TCP connection with Nagle off (probes are single small writes; waiting for an ACK costs a round trip).
pub(crate) async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, DialError> {
    match timeout(limit, TcpStream::connect(addr)).await {
        Err(_) => Err(DialError::Unreachable),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Err(DialError::Refused),
        Ok(Err(_)) => Err(DialError::Unreachable),
        // Met itself (the port's listener is gone and the kernel picked the port as the source port):
        // nothing listens, and probes would only read back their own bytes.
        Ok(Ok(tcp)) if matches!((tcp.local_addr(), tcp.peer_addr()), (Ok(l), Ok(p)) if is_self_connection(l, p)) => {
            Err(DialError::Refused)
        }
        Ok(Ok(tcp)) => {
            let _ = tcp.set_nodelay(true);
            Ok(tcp)
        }
    }
}
