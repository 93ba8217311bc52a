//! SNMP v1/v2c (RFC 1157, RFC 3416): whether a default community answers a GET of `sysDescr.0`.
//!
//! Only GetRequest PDUs are sent, never SET: `private` is tried because it is the usual default *write*
//! community, but a GET answer is all it takes to show that the agent accepts it. A wrong community gets no
//! answer at all (agents drop it silently), so the check waits for its deadline in the locked case.

use tojimari_core::Detail;
use tokio::time::Instant;

use crate::active::Outcome;
use crate::catalog::{self, finding};
use crate::context::CheckContext;
use crate::exchange::{Datagrams, Result, request_id};

/// Communities tried, in order of preference for the evidence.
pub const COMMUNITIES: &[&str] = &["public", "private"];

/// `1.3.6.1.2.1.1.1.0`, BER-encoded.
const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const GET_REQUEST: u8 = 0xa0;
const RESPONSE: u8 = 0xa2;

/// The message version field.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2c,
}

impl Version {
    fn wire(self) -> i64 {
        match self {
            Version::V1 => 0,
            Version::V2c => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "SNMPv1",
            Version::V2c => "SNMPv2c",
        }
    }
}

fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

fn integer(n: i64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    // Minimal two's complement: drop leading bytes that only repeat the sign.
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    tlv(INTEGER, &bytes[start..])
}

/// A GetRequest for `sysDescr.0`.
pub fn get_sys_descr(version: Version, community: &str, request_id: i32) -> Vec<u8> {
    let varbind = tlv(SEQUENCE, &[tlv(OID, SYS_DESCR), tlv(NULL, &[])].concat());
    let pdu = [integer(request_id.into()), integer(0), integer(0), tlv(SEQUENCE, &varbind)].concat();
    let message = [integer(version.wire()), tlv(OCTET_STRING, community.as_bytes()), tlv(GET_REQUEST, &pdu)].concat();
    tlv(SEQUENCE, &message)
}

/// Splits one BER TLV off the front: (tag, value, rest). `None` on truncated or over-long input.
fn split_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn expect(buf: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, value, rest) = split_tlv(buf)?;
    (t == tag).then_some((value, rest))
}

fn read_integer(value: &[u8]) -> Option<i64> {
    if value.is_empty() || value.len() > 8 {
        return None;
    }
    let sign = if value[0] & 0x80 != 0 { -1i64 } else { 0 };
    Some(value.iter().fold(sign, |acc, &b| (acc << 8) | i64::from(b)))
}

/// A GetResponse, as far as this check needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub version: i64,
    pub community: String,
    pub request_id: i64,
    pub error_status: i64,
    /// The first variable's value when it is an OCTET STRING.
    pub value: Option<String>,
}

/// Parses a GetResponse message; `None` for anything else.
pub fn parse_response(datagram: &[u8]) -> Option<Response> {
    let (message, _) = expect(datagram, SEQUENCE)?;
    let (version, rest) = expect(message, INTEGER)?;
    let (community, rest) = expect(rest, OCTET_STRING)?;
    let (pdu, _) = expect(rest, RESPONSE)?;
    let (request_id, rest) = expect(pdu, INTEGER)?;
    let (error_status, rest) = expect(rest, INTEGER)?;
    let (_error_index, rest) = expect(rest, INTEGER)?;
    let value = expect(rest, SEQUENCE)
        .and_then(|(list, _)| expect(list, SEQUENCE))
        .and_then(|(varbind, _)| expect(varbind, OID))
        .and_then(|(_, value)| expect(value, OCTET_STRING))
        .map(|(text, _)| String::from_utf8_lossy(text).into_owned());
    Some(Response {
        version: read_integer(version)?,
        community: String::from_utf8_lossy(community).into_owned(),
        request_id: read_integer(request_id)?,
        error_status: read_integer(error_status)?,
        value,
    })
}

pub(crate) async fn check(ctx: &CheckContext<'_>) -> Result<Outcome> {
    let deadline = Instant::now() + ctx.timeout;
    let mut socket = Datagrams::connect(ctx.addr).await?;
    let base = i64::from(request_id() & 0x0fff_ffff);
    // One request per (community, version), each with its own id; v2c first, as most agents prefer it.
    let mut asked = Vec::new();
    for (c, community) in COMMUNITIES.iter().enumerate() {
        for version in [Version::V2c, Version::V1] {
            let id = base + asked.len() as i64;
            socket.send(&get_sys_descr(version, community, id as i32)).await?;
            asked.push((id, c, version));
        }
    }
    let mut best: Option<(usize, Version, Response)> = None;
    while let Some(datagram) = socket.recv_until(deadline).await {
        let Some(response) = parse_response(&datagram) else { continue };
        let Some(&(_, c, version)) = asked.iter().find(|(id, _, _)| *id == response.request_id) else { continue };
        if best.as_ref().is_none_or(|(b, _, _)| c < *b) {
            best = Some((c, version, response));
        }
        if c == 0 {
            break;
        }
    }
    let mut out = Outcome::default();
    if let Some((c, version, response)) = best {
        let descr = response.value.as_deref().unwrap_or("(no sysDescr value)");
        let evidence = format!(
            "community '{}' answered GET sysDescr.0 ({}) at {}: {descr}",
            COMMUNITIES[c],
            version.as_str(),
            ctx.addr
        );
        out.findings.push(finding(catalog::SNMP_DEFAULT_COMMUNITY, evidence));
        if let Some(value) = response.value {
            out.details.push(Detail { id: "snmp-sysdescr".into(), output: crate::catalog::one_line(&value) });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_request_encodes_as_net_snmp_does() {
        // snmpget -v2c -c public 127.0.0.1 1.3.6.1.2.1.1.1.0 with request id 0x1234.
        let expected = b"\x30\x27\x02\x01\x01\x04\x06public\xa0\x1a\x02\x02\x12\x34\x02\x01\x00\x02\x01\x00\
\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00";
        assert_eq!(get_sys_descr(Version::V2c, "public", 0x1234), expected);
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer(0), [2, 1, 0]);
        assert_eq!(integer(128), [2, 2, 0, 128]);
        assert_eq!(integer(-1), [2, 1, 0xff]);
        assert_eq!(read_integer(&[0, 128]), Some(128));
        assert_eq!(read_integer(&[0xff]), Some(-1));
    }

    #[test]
    fn response_parses() {
        let value = tlv(OCTET_STRING, b"Linux box 6.1.0");
        let varbind = tlv(SEQUENCE, &[tlv(OID, SYS_DESCR), value].concat());
        let pdu = [integer(77), integer(0), integer(0), tlv(SEQUENCE, &varbind)].concat();
        let msg = tlv(SEQUENCE, &[integer(1), tlv(OCTET_STRING, b"public"), tlv(RESPONSE, &pdu)].concat());
        let r = parse_response(&msg).unwrap();
        assert_eq!(r.request_id, 77);
        assert_eq!(r.community, "public");
        assert_eq!(r.value.as_deref(), Some("Linux box 6.1.0"));
        for cut in 0..msg.len() {
            assert_eq!(parse_response(&msg[..cut]), None, "truncated at {cut}");
        }
        // A request is not a response.
        assert_eq!(parse_response(&get_sys_descr(Version::V1, "public", 1)), None);
        assert_eq!(parse_response(b"\x30\x84\xff\xff\xff\xff"), None);
    }

    #[test]
    fn long_lengths_encode() {
        let long = tlv(OCTET_STRING, &[b'a'; 300]);
        assert_eq!(&long[..4], &[OCTET_STRING, 0x82, 0x01, 0x2c]);
        assert_eq!(split_tlv(&long).map(|(_, v, _)| v.len()), Some(300));
    }
}
