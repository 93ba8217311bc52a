//! Reading a server's first flight (ServerHello, then the Certificate sent in the clear before TLS 1.3)
//! from records, without I/O: the legacy probe feeds records in and stops when [`ServerFlight::is_done`].
//!
//! Every length is checked against what is left; a handshake message announced larger than
//! [`MAX_FLIGHT`] fails at once instead of being buffered.

use crate::TlsError;
use crate::record::{ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, MAX_FLIGHT, RecordHeader};

const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;
const HELLO_REQUEST: u8 = 0;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// The parts of a ServerHello a probe reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerHello {
    /// The version chosen: supported_versions if present (TLS 1.3), else server_version.
    pub version: u16,
    pub cipher: u16,
}

/// What the server has said so far.
#[derive(Debug, Default)]
pub(crate) struct ServerFlight {
    /// Handshake bytes not yet forming a whole message.
    pending: Vec<u8>,
    /// Bytes read so far, headers included.
    read: usize,
    pub hello: Option<ServerHello>,
    /// DER certificates from the Certificate message, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// Description of the first alert received.
    pub alert: Option<u8>,
    done: bool,
}

impl ServerFlight {
    /// Whether the flight has told all it will in the clear.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Takes one record.
    pub fn record(&mut self, header: RecordHeader, fragment: &[u8]) -> Result<(), TlsError> {
        self.read += crate::record::HEADER_LEN + fragment.len();
        if self.read > MAX_FLIGHT {
            return Err(TlsError::TooLarge(self.read));
        }
        match header.content_type {
            ALERT => {
                if let [_level, description, ..] = fragment {
                    self.alert.get_or_insert(*description);
                }
                self.done = true;
            }
            HANDSHAKE => {
                self.pending.extend_from_slice(fragment);
                self.messages()?;
            }
            CHANGE_CIPHER_SPEC | APPLICATION_DATA if self.hello.is_some() => self.done = true,
            _ => return Err(TlsError::Handshake(format!("unexpected record type {}", header.content_type))),
        }
        Ok(())
    }

    /// Consumes every whole handshake message in `pending`.
    fn messages(&mut self) -> Result<(), TlsError> {
        let pending = std::mem::take(&mut self.pending);
        let mut at = 0;
        while !self.done {
            let [msg_type, l0, l1, l2, ..] = pending[at..] else {
                break;
            };
            let len = usize::try_from(u32::from_be_bytes([0, l0, l1, l2])).unwrap_or(usize::MAX);
            if len > MAX_FLIGHT {
                return Err(TlsError::TooLarge(len));
            }
            let Some(body) = pending.get(at + 4..at + 4 + len) else {
                break;
            };
            at += 4 + len;
            self.message(msg_type, body)?;
        }
        self.pending = pending.get(at..).unwrap_or_default().to_vec();
        Ok(())
    }

    fn message(&mut self, msg_type: u8, body: &[u8]) -> Result<(), TlsError> {
        match (msg_type, self.hello) {
            (HELLO_REQUEST, _) => {}
            (SERVER_HELLO, None) => {
                let hello = parse_server_hello(body)?;
                // From TLS 1.3 on, everything after the ServerHello is encrypted.
                self.done = hello.version >= 0x0304;
                self.hello = Some(hello);
            }
            (_, None) => return Err(TlsError::Handshake(format!("handshake message {msg_type} before ServerHello"))),
            (CERTIFICATE, Some(_)) => {
                self.chain = parse_certificate_list(body)?;
                self.done = true;
            }
            // ServerKeyExchange, CertificateRequest, ServerHelloDone...: no certificate is coming.
            (_, Some(_)) => self.done = true,
        }
        Ok(())
    }
}

/// A bounds-checked reader over a message body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        if n > self.0.len() {
            return Err(TlsError::Handshake("truncated handshake message".to_owned()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, TlsError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, TlsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self) -> Result<usize, TlsError> {
        let b = self.take(3)?;
        Ok(usize::try_from(u32::from_be_bytes([0, b[0], b[1], b[2]])).unwrap_or(usize::MAX))
    }
}

fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut r = Reader(body);
    let mut version = r.u16()?;
    r.take(32)?; // random
    let session_id_len = usize::from(r.u8()?);
    r.take(session_id_len)?;
    let cipher = r.u16()?;
    r.u8()?; // compression method
    if !r.0.is_empty() {
        let ext_len = usize::from(r.u16()?);
        let mut exts = Reader(r.take(ext_len)?);
        while !exts.0.is_empty() {
            let ext_type = exts.u16()?;
            let len = usize::from(exts.u16()?);
            let data = exts.take(len)?;
            if let (EXT_SUPPORTED_VERSIONS, [hi, lo]) = (ext_type, data) {
                version = u16::from_be_bytes([*hi, *lo]);
            }
        }
    }
    Ok(ServerHello { version, cipher })
}

/// The TLS 1.0-1.2 Certificate message: a u24-length list of u24-length DER certificates.
fn parse_certificate_list(body: &[u8]) -> Result<Vec<Vec<u8>>, TlsError> {
    let mut r = Reader(body);
    let list_len = r.u24()?;
    let mut list = Reader(r.take(list_len)?);
    let mut chain = Vec::new();
    while !list.0.is_empty() {
        let len = list.u24()?;
        chain.push(list.take(len)?.to_vec());
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(content_type: u8, len: usize) -> RecordHeader {
        RecordHeader { content_type, version: 0x0301, length: len }
    }

    fn server_hello(version: u16, cipher: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[0x11; 32]);
        body.push(4);
        body.extend_from_slice(&[1, 2, 3, 4]);
        body.extend_from_slice(&cipher.to_be_bytes());
        body.push(0);
        if !extensions.is_empty() {
            body.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
            body.extend_from_slice(extensions);
        }
        message(SERVER_HELLO, &body)
    }

    fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![msg_type];
        m.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn certificate(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&u32::try_from(c.len()).unwrap().to_be_bytes()[1..]);
            list.extend_from_slice(c);
        }
        let mut body = u32::try_from(list.len()).unwrap().to_be_bytes()[1..].to_vec();
        body.extend_from_slice(&list);
        message(CERTIFICATE, &body)
    }

    #[test]
    fn hello_and_certificate_in_one_record() {
        let mut bytes = server_hello(0x0301, 0xc013, &[0xff, 0x01, 0x00, 0x01, 0x00]);
        bytes.extend(certificate(&[b"leaf", b"ca"]));
        let mut flight = ServerFlight::default();
        flight.record(header(HANDSHAKE, bytes.len()), &bytes).unwrap();
        assert_eq!(flight.hello, Some(ServerHello { version: 0x0301, cipher: 0xc013 }));
        assert_eq!(flight.chain, [b"leaf".to_vec(), b"ca".to_vec()]);
        assert!(flight.is_done());
    }

    #[test]
    fn messages_split_across_records() {
        let mut bytes = server_hello(0x0302, 0x002f, &[]);
        bytes.extend(certificate(&[b"leaf"]));
        let mut flight = ServerFlight::default();
        for chunk in bytes.chunks(3) {
            assert!(!flight.is_done());
            flight.record(header(HANDSHAKE, chunk.len()), chunk).unwrap();
        }
        assert_eq!(flight.hello.map(|h| h.version), Some(0x0302));
        assert_eq!(flight.chain, [b"leaf".to_vec()]);
        assert!(flight.is_done());
    }

    #[test]
    fn supported_versions_names_tls13_and_ends_the_clear_part() {
        let bytes = server_hello(0x0303, 0x1302, &[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        let mut flight = ServerFlight::default();
        flight.record(header(HANDSHAKE, bytes.len()), &bytes).unwrap();
        assert_eq!(flight.hello, Some(ServerHello { version: 0x0304, cipher: 0x1302 }));
        assert!(flight.is_done());
    }

    #[test]
    fn server_hello_done_without_certificate() {
        let mut bytes = server_hello(0x0301, 0x0034, &[]);
        bytes.extend(message(14, &[]));
        let mut flight = ServerFlight::default();
        flight.record(header(HANDSHAKE, bytes.len()), &bytes).unwrap();
        assert!(flight.is_done() && flight.chain.is_empty());
    }

    #[test]
    fn alert_ends_the_flight() {
        let mut flight = ServerFlight::default();
        flight.record(header(ALERT, 2), &[2, 70]).unwrap();
        assert_eq!(flight.alert, Some(70));
        assert!(flight.is_done() && flight.hello.is_none());
    }

    #[test]
    fn truncated_hello_is_an_error_not_a_panic() {
        let bytes = server_hello(0x0301, 0x002f, &[]);
        for cut in 4..bytes.len() {
            let mut msg = bytes[..cut].to_vec();
            let len = u32::try_from(cut - 4).unwrap().to_be_bytes();
            msg[1..4].copy_from_slice(&len[1..]);
            let mut flight = ServerFlight::default();
            assert!(flight.record(header(HANDSHAKE, msg.len()), &msg).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn lying_lengths_are_errors() {
        let mut flight = ServerFlight::default();
        // A 16 MiB handshake message is refused as soon as its header arrives.
        let huge = [SERVER_HELLO, 0xff, 0xff, 0xff];
        assert!(matches!(flight.record(header(HANDSHAKE, 4), &huge), Err(TlsError::TooLarge(_))));

        let mut bytes = server_hello(0x0301, 0x002f, &[]);
        bytes.extend(message(CERTIFICATE, &[0x00, 0x00, 0x10, 0x00, 0x00, 0x05, 1, 2]));
        let mut flight = ServerFlight::default();
        assert!(matches!(flight.record(header(HANDSHAKE, bytes.len()), &bytes), Err(TlsError::Handshake(_))));
    }

    #[test]
    fn total_read_is_capped() {
        let mut flight = ServerFlight::default();
        let chunk = vec![0u8; 16_000];
        // An endless stream of HelloRequest-looking padding still ends.
        let mut result = Ok(());
        for _ in 0..20 {
            result = flight.record(header(HANDSHAKE, chunk.len()), &chunk);
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(TlsError::TooLarge(_))));
    }

    #[test]
    fn application_data_before_hello_is_an_error() {
        let mut flight = ServerFlight::default();
        assert!(flight.record(header(APPLICATION_DATA, 3), &[1, 2, 3]).is_err());
    }
}
