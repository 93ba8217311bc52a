//! VNC (RFB, RFC 6143): whether the server offers the `None` security type.
//!
//! Reads the server's `RFB 003.00x` greeting, answers with a version, reads the offered security types and
//! closes without choosing one, so no session starts.

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{CheckError, Conn, Result};

/// The `None` security type.
pub const NONE: u8 = 1;

/// The protocol version in a 12-byte greeting (`RFB 003.008\n`).
pub fn parse_greeting(greeting: &[u8]) -> Result<(u16, u16)> {
    let bad = CheckError::Protocol("not an RFB greeting");
    let text = std::str::from_utf8(greeting).map_err(|_| CheckError::Protocol("not an RFB greeting"))?;
    let rest = text.strip_prefix("RFB ").and_then(|r| r.strip_suffix('\n')).ok_or(bad)?;
    let (major, minor) = rest.split_once('.').ok_or(CheckError::Protocol("not an RFB greeting"))?;
    match (major.parse(), minor.parse()) {
        (Ok(major), Ok(minor)) => Ok((major, minor)),
        _ => Err(CheckError::Protocol("not an RFB greeting")),
    }
}

/// A security type's name as RFC 6143 7.1.2 and the IANA registry give it.
pub fn type_name(t: u8) -> &'static str {
    match t {
        1 => "None",
        2 => "VNC Authentication",
        5 => "RA2",
        6 => "RA2ne",
        16 => "Tight",
        18 => "TLS",
        19 => "VeNCrypt",
        22 => "XVP",
        30 => "Apple Remote Desktop",
        _ => "other",
    }
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let mut conn = Conn::connect(ctx.addr).await?;
    let greeting = conn.read_exact(12).await?;
    let (major, minor) = parse_greeting(&greeting)?;
    let types = if (major, minor) < (3, 7) {
        // RFB 3.3: the server picks the type and sends it as a u32.
        conn.send(b"RFB 003.003\n").await?;
        let t = conn.read_exact(4).await?;
        let t = u32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        u8::try_from(t).ok().filter(|&t| t != 0).into_iter().collect()
    } else {
        conn.send(if (major, minor) >= (3, 8) { b"RFB 003.008\n" } else { b"RFB 003.007\n" }).await?;
        let count = conn.read_exact(1).await?[0];
        conn.read_exact(usize::from(count)).await?
    };
    conn.close().await;
    let mut out = Outcome::default();
    if types.contains(&NONE) {
        let offered: Vec<String> = types.iter().map(|&t| format!("{}({t})", type_name(t))).collect();
        let evidence = format!("RFB {major}.{minor} at {} offers security types {}", ctx.addr, offered.join(", "));
        out.findings.push(finding(catalog::VNC_NOAUTH, evidence));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        assert_eq!(parse_greeting(b"RFB 003.008\n").unwrap(), (3, 8));
        assert_eq!(parse_greeting(b"RFB 003.003\n").unwrap(), (3, 3));
        assert!(parse_greeting(b"SSH-2.0-Open").is_err());
        assert!(parse_greeting(b"RFB 003x008\n").is_err());
        assert!(parse_greeting(b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4").is_err());
    }
}
