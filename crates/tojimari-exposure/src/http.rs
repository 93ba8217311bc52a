//! A minimal HTTP/1.1 client for the read-only checks: one `GET` per connection, bounded answer.

use std::net::SocketAddr;

use crate::exchange::{CheckError, Conn, Result, find};

/// An HTTP answer: status code and body (de-chunked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `GET path` to `addr` and reads the answer until the server closes the connection.
pub async fn get(addr: SocketAddr, path: &str) -> Result<Response> {
    let mut conn = Conn::connect(addr).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: tojimari\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    conn.send(request.as_bytes()).await?;
    let raw = conn.read_message_or_close(response_len).await?;
    conn.close().await;
    parse(&raw)
}

/// Where a response ends when its length is known (Content-Length or a final chunk); `None` while it is not
/// known, which [`Conn::read_message`] turns into reading on. A response without a length ends at close.
pub fn response_len(buf: &[u8]) -> Result<Option<usize>> {
    if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
        return Err(CheckError::Protocol("not an HTTP response"));
    }
    let Some(head_end) = find(buf, b"\r\n\r\n").map(|i| i + 4) else { return Ok(None) };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    if let Some(len) = header(&head, "content-length") {
        let len: usize = len.parse().map_err(|_| CheckError::Protocol("bad Content-Length"))?;
        let end = head_end.saturating_add(len);
        return Ok((buf.len() >= end).then_some(end));
    }
    if header(&head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        return Ok(dechunk(&buf[head_end..]).map(|(_, used)| head_end + used));
    }
    Ok(None)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| l.strip_prefix(name)?.trim_start().strip_prefix(':')).map(str::trim)
}

/// The body of a complete chunked encoding and the bytes it took; `None` while incomplete or malformed.
fn dechunk(mut buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = buf.len();
    let mut body = Vec::new();
    loop {
        let eol = find(buf, b"\r\n")?;
        let size_text = std::str::from_utf8(&buf[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        buf = &buf[eol + 2..];
        if size == 0 {
            let end = find(buf, b"\r\n")?;
            return Some((body, total - buf.len() + end + 2));
        }
        body.extend_from_slice(buf.get(..size)?);
        buf = buf.get(size..)?.strip_prefix(b"\r\n")?;
    }
}

/// Parses a complete response.
pub fn parse(raw: &[u8]) -> Result<Response> {
    let head_end = find(raw, b"\r\n\r\n").map(|i| i + 4).ok_or(CheckError::Protocol("HTTP head incomplete"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(CheckError::Protocol("HTTP status line without a code"))?;
    let rest = &raw[head_end..];
    let body = if header(&head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        dechunk(rest).map(|(b, _)| b).ok_or(CheckError::Protocol("bad chunked body"))?
    } else {
        let len = header(&head, "content-length").and_then(|l| l.parse().ok()).unwrap_or(rest.len());
        rest[..len.min(rest.len())].to_vec()
    };
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_frames() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra";
        assert_eq!(response_len(raw).unwrap(), Some(raw.len() - 5));
        assert_eq!(parse(raw).unwrap(), Response { status: 200, body: b"{}".to_vec() });
        assert_eq!(response_len(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").unwrap(), None);
    }

    #[test]
    fn chunked_frames() {
        let raw = b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n";
        assert_eq!(response_len(raw).unwrap(), Some(raw.len()));
        assert_eq!(response_len(&raw[..raw.len() - 2]).unwrap(), None);
        assert_eq!(parse(raw).unwrap(), Response { status: 401, body: b"abcd".to_vec() });
    }

    #[test]
    fn junk_is_refused() {
        assert!(response_len(b"SSH-2.0-OpenSSH_9.2\r\n").is_err());
        assert!(parse(b"HTTP/1.1 abc\r\n\r\n").is_err());
        assert!(response_len(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }
}
