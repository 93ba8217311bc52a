//! The TLS record layer as far as this crate needs it: recognising a record header, and the read limits
//! that keep a hostile server from costing more than a few hundred KiB.

use crate::TlsError;

pub(crate) const CHANGE_CIPHER_SPEC: u8 = 0x14;
pub(crate) const ALERT: u8 = 0x15;
pub(crate) const HANDSHAKE: u8 = 0x16;
pub(crate) const APPLICATION_DATA: u8 = 0x17;

/// Record header length: type, version, length.
pub(crate) const HEADER_LEN: usize = 5;
/// The largest record any TLS version allows (2^14 plus expansion, RFC 5246 section 6.2.3).
pub(crate) const MAX_RECORD: usize = 16_384 + 2_048;
/// The most a legacy probe reads from one server, headers included.
pub(crate) const MAX_FLIGHT: usize = 256 * 1024;

/// Whether `response` starts like a TLS record a server sends first: an alert or a handshake, version
/// 3.0 to 3.4. The prober uses it to spot a TLS service answering a plaintext probe.
pub fn looks_like_tls(response: &[u8]) -> bool {
    matches!(response, [ALERT | HANDSHAKE, 0x03, minor, ..] if *minor <= 0x04)
}

/// A checked record header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub length: usize,
}

impl RecordHeader {
    /// A header whose type or major version is not TLS is [`TlsError::NotTls`]; a length over
    /// [`MAX_RECORD`] is [`TlsError::TooLarge`].
    pub fn parse(bytes: [u8; HEADER_LEN]) -> Result<Self, TlsError> {
        let [content_type, major, minor, len_hi, len_lo] = bytes;
        if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&content_type) || major != 0x03 {
            return Err(TlsError::NotTls);
        }
        let length = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        if length > MAX_RECORD {
            return Err(TlsError::TooLarge(length));
        }
        Ok(RecordHeader { content_type, version: u16::from_be_bytes([major, minor]), length })
    }

    /// Whether a prefix of a header (the peer closed early) could still have been TLS.
    pub fn plausible_prefix(bytes: &[u8]) -> bool {
        match bytes {
            [] => true,
            [t] => (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(t),
            [t, major, ..] => (CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(t) && *major == 0x03,
        }
    }
}

/// Wraps a handshake message body in a handshake header and a record.
pub(crate) fn handshake_record(record_version: u16, msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 4 + body.len());
    let msg_len = body.len() + 4;
    out.push(HANDSHAKE);
    out.extend_from_slice(&record_version.to_be_bytes());
    out.extend_from_slice(&u16::try_from(msg_len).unwrap_or(u16::MAX).to_be_bytes());
    out.push(msg_type);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_records_look_like_tls() {
        assert!(looks_like_tls(&[0x16, 0x03, 0x03, 0x00, 0x2a]));
        assert!(looks_like_tls(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x00]));
        assert!(looks_like_tls(&[0x16, 0x03, 0x04]));
    }

    #[test]
    fn other_protocols_do_not() {
        assert!(!looks_like_tls(b"HTTP/1.1 400 Bad Request\r\n"));
        assert!(!looks_like_tls(b"SSH-2.0-OpenSSH_9.2\r\n"));
        assert!(!looks_like_tls(&[0x16, 0x03, 0x05]));
        assert!(!looks_like_tls(&[0x17, 0x03, 0x03]));
        assert!(!looks_like_tls(&[0x16, 0x02, 0x00]));
        assert!(!looks_like_tls(&[0x16, 0x03]));
        assert!(!looks_like_tls(&[]));
    }

    #[test]
    fn header_parse_checks_type_version_and_length() {
        let h = RecordHeader::parse([0x16, 0x03, 0x01, 0x01, 0x00]).unwrap();
        assert_eq!(h, RecordHeader { content_type: HANDSHAKE, version: 0x0301, length: 256 });
        assert!(matches!(RecordHeader::parse(*b"HTTP/"), Err(TlsError::NotTls)));
        assert!(matches!(RecordHeader::parse([0x16, 0x02, 0x00, 0, 1]), Err(TlsError::NotTls)));
        assert!(matches!(RecordHeader::parse([0x16, 0x03, 0x03, 0xff, 0xff]), Err(TlsError::TooLarge(65535))));
    }

    #[test]
    fn plausible_prefixes() {
        assert!(RecordHeader::plausible_prefix(&[0x15, 0x03]));
        assert!(!RecordHeader::plausible_prefix(b"HT"));
        assert!(!RecordHeader::plausible_prefix(&[0x16, 0x04]));
    }

    #[test]
    fn handshake_record_layout() {
        let rec = handshake_record(0x0301, 1, &[0xaa, 0xbb]);
        assert_eq!(rec, [0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0xaa, 0xbb]);
    }
}
