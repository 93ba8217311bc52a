//! The I/O edge of the active checks: one short TCP connection or one UDP socket, with bounded reads.
//!
//! Protocol modules describe message boundaries as pure functions over bytes ([`Framer`]); this module only
//! moves bytes. Every read is capped at [`READ_CAP`] so a hostile service cannot make a check hold more.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tojimari_core::state::is_self_connection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::Instant;

/// The most a check keeps from one service.
pub const READ_CAP: usize = 64 * 1024;

/// Why an active check could not reach a verdict. Such a check reports nothing.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("timed out")]
    Timeout,
    #[error("the answer exceeded {READ_CAP} bytes")]
    TooLarge,
    #[error("the service closed the connection before a full answer")]
    Closed,
    /// The service answered something the protocol does not allow here.
    #[error("unexpected answer: {0}")]
    Protocol(&'static str),
}

pub type Result<T> = std::result::Result<T, CheckError>;

/// Where one message ends: `Ok(Some(len))` when the buffer starts with a complete message of `len` bytes,
/// `Ok(None)` when more bytes are needed, an error when the bytes can never become a valid message.
pub type Framer = fn(&[u8]) -> Result<Option<usize>>;

/// One TCP connection with a buffer of bytes read but not yet consumed.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`. A connection that met itself (the listener is gone and the kernel picked the
    /// port as the source port) is refused: a check would only read back its own bytes.
    pub async fn connect(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        if let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr())
            && is_self_connection(local, peer)
        {
            return Err(io::Error::from(io::ErrorKind::ConnectionRefused).into());
        }
        Ok(Conn { stream, buf: Vec::new() })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Reads one message as `framer` delimits it, keeping what follows for the next call.
    pub async fn read_message(&mut self, framer: Framer) -> Result<Vec<u8>> {
        loop {
            if let Some(len) = framer(&self.buf)? {
                let len = len.min(self.buf.len());
                let rest = self.buf.split_off(len);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.fill().await? == 0 {
                return Err(CheckError::Closed);
            }
        }
    }

    /// Like [`Conn::read_message`], but a close also ends the message (HTTP without a length).
    pub async fn read_message_or_close(&mut self, framer: Framer) -> Result<Vec<u8>> {
        loop {
            if let Some(len) = framer(&self.buf)? {
                let len = len.min(self.buf.len());
                let rest = self.buf.split_off(len);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() { Err(CheckError::Closed) } else { Ok(std::mem::take(&mut self.buf)) };
            }
        }
    }

    /// Reads exactly `n` bytes.
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>> {
        if n > READ_CAP {
            return Err(CheckError::TooLarge);
        }
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(CheckError::Closed);
            }
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Closes the writing side politely, ignoring failures (the verdict is already known).
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
    }

    async fn fill(&mut self) -> Result<usize> {
        let room = READ_CAP.saturating_sub(self.buf.len());
        if room == 0 {
            return Err(CheckError::TooLarge);
        }
        let mut chunk = vec![0u8; room.min(16 * 1024)];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// Runs `fut` for at most `limit`.
pub async fn bounded<T>(limit: Duration, fut: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, fut).await.unwrap_or(Err(CheckError::Timeout))
}

/// A UDP socket connected to one service.
#[derive(Debug)]
pub struct Datagrams {
    socket: UdpSocket,
    received: usize,
}

impl Datagrams {
    pub async fn connect(addr: SocketAddr) -> Result<Datagrams> {
        let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(addr).await?;
        Ok(Datagrams { socket, received: 0 })
    }

    pub async fn send(&self, datagram: &[u8]) -> Result<()> {
        self.socket.send(datagram).await?;
        Ok(())
    }

    /// The next datagram before `deadline`, or `None` at the deadline, when the port is closed (ICMP port
    /// unreachable) or when [`READ_CAP`] bytes have been received in all.
    pub async fn recv_until(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        if self.received >= READ_CAP {
            return None;
        }
        let mut buf = vec![0u8; 65_536];
        match tokio::time::timeout_at(deadline, self.socket.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                self.received += n;
                buf.truncate(n);
                Some(buf)
            }
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

/// A request id that differs between runs and processes (no randomness needed, only no fixed value).
pub fn request_id() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos());
    (nanos.unwrap_or(0) ^ std::process::id().rotate_left(16)) & 0x7fff_ffff
}

/// Finds `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
