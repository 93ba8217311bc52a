//! FTP (RFC 959, RFC 2389 FEAT, RFC 4217 AUTH TLS): whether TLS is offered and whether anonymous login works.
//!
//! One connection: banner, `FEAT`, `USER anonymous`, `PASS` with an e-mail-like password, then `QUIT`.
//! Nothing is listed, read or written.

use tojimari_core::Detail;

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{CheckError, Conn, Result};

/// The password anonymous FTP traditionally asks for: an e-mail address (RFC 1635), here a reserved domain.
const ANONYMOUS_PASSWORD: &str = "tojimari@example.com";

/// One FTP reply: its code and its text lines joined by ` / `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

/// Where the first complete reply in `buf` ends (RFC 959 4.2: a multi-line reply starts `ddd-` and ends
/// with a line starting `ddd `).
pub fn reply_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(code) = buf.get(..3) else { return Ok(None) };
    if !code.iter().all(u8::is_ascii_digit) {
        return Err(CheckError::Protocol("FTP reply without a 3-digit code"));
    }
    let mut start = 0;
    while let Some(nl) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + nl + 1];
        let last =
            if start == 0 { line.get(3) != Some(&b'-') } else { line.starts_with(code) && line.get(3) == Some(&b' ') };
        start += nl + 1;
        if last {
            return Ok(Some(start));
        }
    }
    Ok(None)
}

/// Parses a complete reply as [`reply_len`] delimited it.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply> {
    let text = String::from_utf8_lossy(bytes);
    let code = text.get(..3).and_then(|c| c.parse().ok()).ok_or(CheckError::Protocol("FTP reply without a code"))?;
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .map(|l| if l.len() >= 4 && l.as_bytes()[..3].iter().all(u8::is_ascii_digit) { &l[4..] } else { l.trim() })
        .filter(|l| !l.is_empty())
        .collect();
    Ok(Reply { code, text: lines.join(" / ") })
}

/// Whether a FEAT reply lists `AUTH TLS` (or `AUTH SSL`, its older spelling).
pub fn offers_auth_tls(feat: &Reply) -> bool {
    feat.code == 211 && {
        let upper = feat.text.to_ascii_uppercase();
        upper.split(" / ").any(|l| l.trim().starts_with("AUTH") && (l.contains("TLS") || l.contains("SSL")))
    }
}

async fn command(conn: &mut Conn, line: &str) -> Result<Reply> {
    conn.send(format!("{line}\r\n").as_bytes()).await?;
    parse_reply(&conn.read_message(reply_len).await?)
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let mut conn = Conn::connect(ctx.addr).await?;
    let mut banner = parse_reply(&conn.read_message(reply_len).await?)?;
    // 120: "service ready in nnn minutes", followed by the real greeting.
    if banner.code == 120 {
        banner = parse_reply(&conn.read_message(reply_len).await?)?;
    }
    if banner.code != 220 {
        return Err(CheckError::Protocol("FTP greeting is not 220"));
    }
    let mut out = Outcome::default();

    let feat = command(&mut conn, "FEAT").await?;
    let evidence = if offers_auth_tls(&feat) {
        "FEAT offers AUTH TLS but logins are still accepted in cleartext before it"
    } else if feat.code == 211 {
        "FEAT does not offer AUTH TLS: logins can only travel in cleartext"
    } else {
        "FEAT is not supported (no AUTH TLS advertised): logins travel in cleartext"
    };
    out.findings.push(finding(catalog::FTP_CLEARTEXT, format!("{} at {}: {evidence}", ctx.describe(), ctx.addr)));

    let user = command(&mut conn, "USER anonymous").await?;
    let login = match user.code {
        230 => Some(user),
        331 | 332 => Some(command(&mut conn, &format!("PASS {ANONYMOUS_PASSWORD}")).await?).filter(|r| r.code == 230),
        _ => None,
    };
    if let Some(ok) = login {
        let evidence = format!("USER anonymous / PASS {ANONYMOUS_PASSWORD} answered {} {}", ok.code, ok.text);
        out.findings.push(finding(catalog::FTP_ANONYMOUS, evidence));
        let mut output = format!("Anonymous FTP login allowed (FTP code {})", ok.code);
        if let Ok(pwd) = command(&mut conn, "PWD").await
            && pwd.code == 257
        {
            output.push_str(&format!("\nWorking directory: {}", pwd.text));
        }
        out.details.push(Detail { id: "ftp-anon".into(), output });
    }
    // QUIT is a courtesy; the verdict does not depend on its answer.
    if conn.send(b"QUIT\r\n").await.is_ok() {
        let _ = conn.read_message(reply_len).await;
    }
    conn.close().await;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_reply() {
        let buf = b"220 (vsFTPd 3.0.3)\r\n331 next";
        assert_eq!(reply_len(buf).unwrap(), Some(20));
        assert_eq!(parse_reply(&buf[..20]).unwrap(), Reply { code: 220, text: "(vsFTPd 3.0.3)".into() });
    }

    #[test]
    fn multi_line_feat_reply_ends_at_matching_code() {
        let buf = b"211-Features:\r\n AUTH TLS\r\n EPRT\r\n211-not the end\r\n211 End\r\n";
        assert_eq!(reply_len(buf).unwrap(), Some(buf.len()));
        assert_eq!(reply_len(&buf[..buf.len() - 3]).unwrap(), None);
        let reply = parse_reply(buf).unwrap();
        assert_eq!(reply.code, 211);
        assert!(offers_auth_tls(&reply), "{reply:?}");
        let plain = parse_reply(b"211-Features:\r\n EPRT\r\n PASV\r\n211 End\r\n").unwrap();
        assert!(!offers_auth_tls(&plain));
        assert!(!offers_auth_tls(&parse_reply(b"500 Unknown command.\r\n").unwrap()));
    }

    #[test]
    fn junk_is_rejected_without_panic() {
        assert!(reply_len(b"HTTP/1.1 400 Bad Request\r\n").is_err());
        assert_eq!(reply_len(b"22").unwrap(), None);
        assert!(parse_reply(b"\xff\xfe\xfd").is_err());
    }
}
