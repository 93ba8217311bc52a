//! memcached over UDP: whether a `stats` request is answered, and how much bigger the answer is.
//!
//! Every UDP request and response carries the 8-byte frame header of memcached's protocol.txt: request id,
//! sequence number, total datagrams, reserved (all big-endian u16). A `stats` answer of a few kilobytes to a
//! 15-byte request is what makes open memcached a DDoS amplifier.

use std::net::SocketAddr;

use tokio::time::Instant;

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{Datagrams, Result, request_id};

/// memcached's registered UDP port, tried when the TCP port's number does not answer over UDP.
pub const DEFAULT_PORT: u16 = 11211;

/// The `stats` request with its frame header.
pub fn stats_request(id: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(15);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
    out.extend_from_slice(b"stats\r\n");
    out
}

/// A response datagram's frame header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub id: u16,
    pub seq: u16,
    pub total: u16,
}

pub fn parse_frame(datagram: &[u8]) -> Option<Frame> {
    let h = datagram.get(..8)?;
    let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    Some(Frame { id: word(0), seq: word(2), total: word(4) })
}

/// What the answer to one request showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub datagrams: usize,
    pub bytes: usize,
    pub version: Option<String>,
}

/// Sends `stats` to `addr` and gathers the answer's datagrams until all arrived or the deadline passed.
async fn ask(addr: SocketAddr, deadline: Instant) -> Result<Option<Answer>> {
    let mut socket = Datagrams::connect(addr).await?;
    let id = request_id() as u16;
    socket.send(&stats_request(id)).await?;
    let mut answer = Answer::default();
    let mut seen = Vec::new();
    while let Some(datagram) = socket.recv_until(deadline).await {
        let Some(frame) = parse_frame(&datagram) else { continue };
        if frame.id != id || seen.contains(&frame.seq) {
            continue;
        }
        seen.push(frame.seq);
        answer.datagrams += 1;
        answer.bytes += datagram.len();
        let text = String::from_utf8_lossy(&datagram[8..]);
        if let Some(v) = text.lines().find_map(|l| l.strip_prefix("STAT version ")) {
            answer.version = Some(v.trim().to_string());
        }
        if seen.len() >= usize::from(frame.total.max(1)) {
            break;
        }
    }
    Ok((answer.datagrams > 0).then_some(answer))
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let deadline = Instant::now() + ctx.timeout;
    let mut targets = vec![ctx.addr];
    if ctx.transport == tojimari_core::Protocol::Tcp && ctx.addr.port() != DEFAULT_PORT {
        targets.push(SocketAddr::new(ctx.addr.ip(), DEFAULT_PORT));
    }
    let mut out = Outcome::default();
    for target in targets {
        if let Some(answer) = ask(target, deadline).await? {
            let request = stats_request(0).len();
            let factor = answer.bytes as f64 / request as f64;
            let mut evidence = format!(
                "UDP stats to {target} ({request} bytes) answered with {} bytes in {} datagram(s): amplification x{factor:.1}",
                answer.bytes, answer.datagrams
            );
            if let Some(v) = answer.version {
                evidence.push_str(&format!("; version {v}"));
            }
            out.findings.push(finding(catalog::MEMCACHED_UDP, evidence));
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_frame_header() {
        assert_eq!(stats_request(0x1234), b"\x12\x34\x00\x00\x00\x01\x00\x00stats\r\n");
    }

    #[test]
    fn frames_parse_and_short_datagrams_do_not() {
        let f = parse_frame(b"\x12\x34\x00\x01\x00\x02\x00\x00STAT pid 1\r\n").unwrap();
        assert_eq!(f, Frame { id: 0x1234, seq: 1, total: 2 });
        assert_eq!(parse_frame(b"\x12\x34\x00"), None);
    }
}
