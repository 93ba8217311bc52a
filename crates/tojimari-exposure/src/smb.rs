//! SMB1 ([MS-CIFS] 2.2.4.52): whether the server still accepts the `NT LM 0.12` dialect.
//!
//! Sends an SMB1 NEGOTIATE offering only `NT LM 0.12`, reads the answer and closes; no session is set up.
//! A server with SMB1 disabled closes the connection or answers dialect index 0xFFFF ("none acceptable").
//! On port 139 (`netbios-ssn`) a NetBIOS session request (RFC 1002 4.3.2) to `*SMBSERVER` comes first.

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{CheckError, Conn, Result};

const SMB1_MAGIC: &[u8] = b"\xffSMB";
const NEGOTIATE: u8 = 0x72;
const DIALECT: &[u8] = b"\x02NT LM 0.12\x00";

/// The NEGOTIATE request inside its NetBIOS session message header.
pub fn negotiate_request() -> Vec<u8> {
    let mut smb = Vec::with_capacity(47);
    smb.extend_from_slice(SMB1_MAGIC);
    smb.push(NEGOTIATE);
    smb.extend_from_slice(&[0; 4]); // status
    smb.push(0x18); // flags: canonicalized paths, case-insensitive
    smb.extend_from_slice(&0xc801u16.to_le_bytes()); // flags2: unicode, NT status, extended security, long names
    smb.extend_from_slice(&[0; 12]); // pid high, security features, reserved
    smb.extend_from_slice(&[0, 0, 0xfe, 0xff, 0, 0, 0, 0]); // tid, pid, uid, mid
    smb.push(0); // word count
    smb.extend_from_slice(&(DIALECT.len() as u16).to_le_bytes());
    smb.extend_from_slice(DIALECT);
    session_message(0x00, &smb)
}

fn session_message(kind: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![kind, (len >> 16) as u8 & 1, (len >> 8) as u8, len as u8];
    out.extend_from_slice(payload);
    out
}

/// First-level NetBIOS name encoding (RFC 1001 14.1) of a 15-character name plus a suffix byte.
fn netbios_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    for (slot, b) in raw.iter_mut().zip(name.bytes().take(15)) {
        *slot = b.to_ascii_uppercase();
    }
    raw[15] = suffix;
    let mut out = vec![32];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// A NetBIOS session request from `TOJIMARI` to `*SMBSERVER`.
pub fn session_request() -> Vec<u8> {
    session_message(0x81, &[netbios_name("*SMBSERVER", 0x20), netbios_name("TOJIMARI", 0x00)].concat())
}

/// Where one NetBIOS session message ends.
pub fn message_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(head) = buf.get(..4) else { return Ok(None) };
    if !matches!(head[0], 0x00 | 0x82 | 0x83 | 0x84 | 0x85) {
        return Err(CheckError::Protocol("not a NetBIOS session message"));
    }
    let len = 4 + ((usize::from(head[1] & 1) << 16) | (usize::from(head[2]) << 8) | usize::from(head[3]));
    Ok((buf.len() >= len).then_some(len))
}

/// What the NEGOTIATE answer showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Negotiated {
    /// `NT LM 0.12` was selected; the security mode byte when the answer carried it.
    Smb1 { security_mode: Option<u8> },
    /// No dialect was acceptable, or the answer was an error or not SMB1.
    Refused,
}

pub fn parse_negotiate(message: &[u8]) -> Negotiated {
    let Some(smb) = message.get(4..) else { return Negotiated::Refused };
    if message[0] != 0 || !smb.starts_with(SMB1_MAGIC) || smb.get(4) != Some(&NEGOTIATE) {
        return Negotiated::Refused;
    }
    let status = smb.get(5..9).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let word_count = smb.get(32).copied().unwrap_or(0);
    let index = smb.get(33..35).map(|d| u16::from_le_bytes([d[0], d[1]]));
    if status != Some(0) || word_count == 0 || index != Some(0) {
        return Negotiated::Refused;
    }
    let security_mode = if word_count >= 17 { smb.get(35).copied() } else { None };
    Negotiated::Smb1 { security_mode }
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let mut conn = Conn::connect(ctx.addr).await?;
    if ctx.name() == "netbios-ssn" {
        conn.send(&session_request()).await?;
        let answer = conn.read_message(message_len).await?;
        if answer.first() != Some(&0x82) {
            return Err(CheckError::Protocol("NetBIOS session refused"));
        }
    }
    conn.send(&negotiate_request()).await?;
    // A server without SMB1 may simply close: that is a refusal, not an error.
    let verdict = match conn.read_message(message_len).await {
        Ok(answer) => parse_negotiate(&answer),
        Err(CheckError::Closed) => Negotiated::Refused,
        Err(CheckError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Negotiated::Refused,
        Err(e) => return Err(e),
    };
    conn.close().await;
    let mut out = Outcome::default();
    if let Negotiated::Smb1 { security_mode } = verdict {
        let mut evidence = format!("SMB1 NEGOTIATE offering only \"NT LM 0.12\" was accepted at {}", ctx.addr);
        if let Some(mode) = security_mode {
            let signing = if mode & 0x08 != 0 { "required" } else { "not required" };
            evidence.push_str(&format!(" (security mode 0x{mode:02x}, message signing {signing})"));
        }
        out.findings.push(finding(catalog::SMBV1, evidence));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_request_layout() {
        let req = negotiate_request();
        assert_eq!(&req[..4], &[0, 0, 0, 47]);
        assert_eq!(&req[4..9], b"\xffSMB\x72");
        assert_eq!(&req[36..], b"\x00\x0c\x00\x02NT LM 0.12\x00");
        assert_eq!(message_len(&req).unwrap(), Some(req.len()));
    }

    #[test]
    fn session_request_encodes_names() {
        let req = session_request();
        assert_eq!(&req[..4], &[0x81, 0, 0, 68]);
        // '*' = 0x2a -> "CK", 'S' = 0x53 -> "FD"; the suffix 0x20 -> "CA".
        assert_eq!(&req[4..9], b"\x20CKFD");
        assert_eq!(&req[35..38], b"CA\x00");
    }

    fn answer(status: u32, words: &[u16]) -> Vec<u8> {
        let mut smb = SMB1_MAGIC.to_vec();
        smb.push(NEGOTIATE);
        smb.extend_from_slice(&status.to_le_bytes());
        smb.resize(32, 0);
        smb.push(words.len() as u8);
        for w in words {
            smb.extend_from_slice(&w.to_le_bytes());
        }
        smb.extend_from_slice(&[0, 0]);
        session_message(0, &smb)
    }

    #[test]
    fn verdicts() {
        let mut words = vec![0u16; 17];
        words[1] = 0x0003 | (0x32 << 8); // security mode 0x03 in the low byte after the index
        assert_eq!(parse_negotiate(&answer(0, &words)), Negotiated::Smb1 { security_mode: Some(0x03) });
        assert_eq!(parse_negotiate(&answer(0, &[0xffff])), Negotiated::Refused);
        assert_eq!(parse_negotiate(&answer(0xc000_0022, &words)), Negotiated::Refused);
        assert_eq!(parse_negotiate(&session_message(0, b"\xfeSMB@\x00")), Negotiated::Refused);
        assert_eq!(parse_negotiate(&[0]), Negotiated::Refused);
        assert!(message_len(b"HTTP").is_err());
    }
}
