//! Redis (RESP): whether commands are answered without authentication.
//!
//! Sends `PING`; `+PONG` means no authentication is required, `-NOAUTH` means it is, `-DENIED` means
//! protected mode refused the client. When open, `INFO server` gives the version for the evidence.
//! Only these two read-only commands are ever sent.

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{CheckError, Conn, Result, find};

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const INFO_SERVER: &[u8] = b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";

/// Where the first RESP reply ends: a `+`, `-` or `:` line, or a `$len` bulk string.
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(&kind) = buf.first() else { return Ok(None) };
    let Some(eol) = find(buf, b"\r\n") else { return Ok(None) };
    match kind {
        b'+' | b'-' | b':' => Ok(Some(eol + 2)),
        b'$' => {
            let len: i64 = std::str::from_utf8(&buf[1..eol])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(CheckError::Protocol("RESP bulk length is not a number"))?;
            if len < 0 {
                return Ok(Some(eol + 2));
            }
            let end = usize::try_from(len).map_err(|_| CheckError::TooLarge)?.saturating_add(eol + 4);
            Ok((buf.len() >= end).then_some(end))
        }
        _ => Err(CheckError::Protocol("not a RESP reply")),
    }
}

/// What `PING` showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PingVerdict {
    /// `+PONG`: commands run without authentication.
    Open,
    /// `-NOAUTH`, `-DENIED` or another error: the server refused.
    Refused(String),
}

pub fn ping_verdict(reply: &[u8]) -> Result<PingVerdict> {
    let line = String::from_utf8_lossy(reply).trim_end().to_string();
    match line.as_bytes().first() {
        Some(b'+') if line.eq_ignore_ascii_case("+PONG") => Ok(PingVerdict::Open),
        Some(b'-') => Ok(PingVerdict::Refused(line[1..].to_string())),
        _ => Err(CheckError::Protocol("PING answered neither +PONG nor an error")),
    }
}

/// `key:value` from an `INFO` bulk reply.
pub fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')).map(str::trim)
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let mut conn = Conn::connect(ctx.addr).await?;
    conn.send(PING).await?;
    let verdict = ping_verdict(&conn.read_message(reply_len).await?)?;
    let mut out = Outcome::default();
    if verdict == PingVerdict::Open {
        let mut evidence = format!("PING at {} answered +PONG without AUTH", ctx.addr);
        conn.send(INFO_SERVER).await?;
        if let Ok(info) = conn.read_message(reply_len).await {
            let info = String::from_utf8_lossy(&info);
            let facts: Vec<String> = ["redis_version", "redis_mode", "os"]
                .iter()
                .filter_map(|k| info_field(&info, k).map(|v| format!("{k} {v}")))
                .collect();
            if !facts.is_empty() {
                evidence.push_str(&format!("; INFO server: {}", facts.join(", ")));
            }
        }
        out.findings.push(finding(catalog::REDIS_NOAUTH, evidence));
    }
    conn.close().await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_and_bulk_replies_are_framed() {
        assert_eq!(reply_len(b"+PONG\r\n+").unwrap(), Some(7));
        assert_eq!(reply_len(b"+PON").unwrap(), None);
        assert_eq!(reply_len(b"$5\r\nhello\r\n").unwrap(), Some(11));
        assert_eq!(reply_len(b"$5\r\nhel").unwrap(), None);
        assert_eq!(reply_len(b"$-1\r\n").unwrap(), Some(5));
        assert!(reply_len(b"$x\r\n").is_err());
        assert!(reply_len(b"SSH-2.0-OpenSSH\r\n").is_err());
        assert!(reply_len(b"$99999999999999999999999\r\n").is_err());
    }

    #[test]
    fn verdicts() {
        assert_eq!(ping_verdict(b"+PONG\r\n").unwrap(), PingVerdict::Open);
        assert_eq!(
            ping_verdict(b"-NOAUTH Authentication required.\r\n").unwrap(),
            PingVerdict::Refused("NOAUTH Authentication required.".into())
        );
        assert!(matches!(ping_verdict(b"-DENIED Redis is running in protected mode\r\n"), Ok(PingVerdict::Refused(_))));
        assert!(ping_verdict(b":1\r\n").is_err());
    }

    #[test]
    fn info_fields() {
        let info = "# Server\r\nredis_version:7.0.15\r\nos:Linux 6.1.0 x86_64\r\n";
        assert_eq!(info_field(info, "redis_version"), Some("7.0.15"));
        assert_eq!(info_field(info, "os"), Some("Linux 6.1.0 x86_64"));
        assert_eq!(info_field(info, "redis_mode"), None);
    }
}
