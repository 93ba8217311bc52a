//! MongoDB (OP_MSG wire protocol, MongoDB 3.6+): whether `listDatabases` runs without authentication.
//!
//! Sends `{listDatabases: 1, nameOnly: true, $db: "admin"}`, a read-only command. `ok: 1` with a database
//! list means anyone can read; `ok: 0` with `Unauthorized` (code 13) means authorization is on.

use tojimari_core::Detail;

use crate::active::Outcome;
use crate::bson::{self, Value};
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{CheckError, Conn, READ_CAP, Result, request_id};

/// OP_MSG's opcode.
pub const OP_MSG: i32 = 2013;

/// A complete OP_MSG message carrying one body section with `doc`.
pub fn op_msg(request_id: i32, doc: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + 1 + doc.len();
    let mut out = Vec::with_capacity(len);
    for word in [len as i32, request_id, 0, OP_MSG] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    out.extend_from_slice(doc);
    out
}

/// The `listDatabases` request.
pub fn list_databases(request_id: i32) -> Vec<u8> {
    let doc = bson::encode(&[
        ("listDatabases", Value::Int32(1)),
        ("nameOnly", Value::Bool(true)),
        ("$db", Value::String("admin".into())),
    ]);
    op_msg(request_id, &doc)
}

/// Where one wire-protocol message ends (its first 4 bytes are its length, little-endian).
pub fn message_len(buf: &[u8]) -> Result<Option<usize>> {
    let Some(head) = buf.get(..4) else { return Ok(None) };
    let len = i32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    match usize::try_from(len) {
        Ok(n) if n < 16 => Err(CheckError::Protocol("MongoDB message shorter than its header")),
        Ok(n) if n > READ_CAP => Err(CheckError::TooLarge),
        Ok(n) => Ok((buf.len() >= n).then_some(n)),
        Err(_) => Err(CheckError::Protocol("negative MongoDB message length")),
    }
}

/// The body document of an OP_MSG reply.
pub fn reply_body(message: &[u8]) -> Result<Value> {
    let opcode = message.get(12..16).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if opcode != Some(OP_MSG) {
        return Err(CheckError::Protocol("not an OP_MSG reply"));
    }
    // Sections follow the 4 flag bytes; the body is the kind-0 section.
    let mut sections = message.get(20..).ok_or(CheckError::Protocol("OP_MSG without sections"))?;
    while let Some((&kind, rest)) = sections.split_first() {
        match kind {
            0 => return bson::decode(rest).map(|(v, _)| v).ok_or(CheckError::Protocol("bad BSON body")),
            1 => {
                let size = rest.get(..4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                let size = size.and_then(|s| usize::try_from(s).ok()).ok_or(CheckError::Protocol("bad section"))?;
                sections = rest.get(size..).ok_or(CheckError::Protocol("bad section"))?;
            }
            _ => return Err(CheckError::Protocol("unknown OP_MSG section kind")),
        }
    }
    Err(CheckError::Protocol("OP_MSG without a body"))
}

/// The verdict on a `listDatabases` reply: `Some(names)` when it succeeded.
pub fn open_databases(body: &Value) -> Option<Vec<String>> {
    if body.get("ok").and_then(Value::as_f64) != Some(1.0) {
        return None;
    }
    let names = match body.get("databases") {
        Some(Value::Array(dbs)) => {
            dbs.iter().filter_map(|d| d.get("name").and_then(Value::as_str)).map(String::from).collect()
        }
        _ => Vec::new(),
    };
    Some(names)
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let mut conn = Conn::connect(ctx.addr).await?;
    conn.send(&list_databases(request_id() as i32)).await?;
    let body = reply_body(&conn.read_message(message_len).await?)?;
    conn.close().await;
    let mut out = Outcome::default();
    if let Some(names) = open_databases(&body) {
        let shown: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
        let more = if names.len() > shown.len() { ", ..." } else { "" };
        let evidence = format!(
            "listDatabases on admin at {} answered ok:1 without authentication: {} database(s) ({}{more})",
            ctx.addr,
            names.len(),
            shown.join(", ")
        );
        out.findings.push(finding(catalog::MONGODB_NOAUTH, evidence));
        out.details.push(Detail { id: "mongodb-databases".into(), output: names.join("\n") });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let msg = list_databases(7);
        assert_eq!(message_len(&msg).unwrap(), Some(msg.len()));
        assert_eq!(&msg[4..8], &7i32.to_le_bytes());
        assert_eq!(&msg[12..16], &OP_MSG.to_le_bytes());
        let Value::Document(fields) = reply_body(&msg).unwrap() else { panic!() };
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["listDatabases", "nameOnly", "$db"]);
    }

    #[test]
    fn verdicts() {
        let ok = bson::encode(&[("ok", Value::Int32(1))]);
        assert_eq!(open_databases(&reply_body(&op_msg(1, &ok)).unwrap()), Some(vec![]));
        let denied = bson::encode(&[
            ("ok", Value::Int32(0)),
            ("errmsg", Value::String("command listDatabases requires authentication".into())),
            ("code", Value::Int32(13)),
        ]);
        assert_eq!(open_databases(&reply_body(&op_msg(1, &denied)).unwrap()), None);
    }

    #[test]
    fn junk_is_refused() {
        assert!(message_len(b"\x05\x00\x00\x00").is_err());
        assert!(message_len(b"\xff\xff\xff\xff").is_err());
        assert!(message_len(b"\x00\x00\x10\x00").is_err());
        assert_eq!(message_len(b"\x20\x00").unwrap(), None);
        let mut not_msg = op_msg(1, &bson::encode(&[]));
        not_msg[12] = 1;
        assert!(reply_body(&not_msg).is_err());
        let mut bad_kind = op_msg(1, &bson::encode(&[]));
        bad_kind[20] = 9;
        assert!(reply_body(&bad_kind).is_err());
    }
}
