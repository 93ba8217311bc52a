//! Hand-built ClientHellos for versions rustls will not speak (SSLv3, TLS 1.0, TLS 1.1) and for plain
//! "would you take this version" questions about TLS 1.2 and 1.3.
//!
//! The hello offers what old servers accept (RSA key exchange, CBC, 3DES and RC4 suites) next to modern
//! ones, so the only reason a server has to refuse is the version. SSLv3 hellos carry no extensions (SSLv3
//! servers may choke on them) and signal secure renegotiation with the SCSV; TLS hellos carry
//! renegotiation_info, supported_groups and ec_point_formats (RFC 4492 servers pick no ECDHE suite without
//! them), plus signature_algorithms from TLS 1.2 and supported_versions/key_share for TLS 1.3.

use crate::TlsVersion;
use crate::record::handshake_record;

const CLIENT_HELLO: u8 = 1;

/// Cipher suites offered below TLS 1.3, strongest first.
const SUITES: &[u16] = &[
    0xc02b, 0xc02f, 0xc02c, 0xc030, // ECDHE AES-GCM
    0xcca9, 0xcca8, // ECDHE ChaCha20
    0xc023, 0xc027, 0xc024, 0xc028, // ECDHE AES-CBC SHA-2
    0xc009, 0xc013, 0xc00a, 0xc014, // ECDHE AES-CBC SHA
    0x009e, 0x009f, 0x0067, 0x006b, // DHE-RSA AES GCM / SHA-2
    0x0033, 0x0039, 0x0032, 0x0038, // DHE AES-CBC SHA
    0x009c, 0x009d, 0x003c, 0x003d, // RSA AES GCM / SHA-2
    0x002f, 0x0035, // RSA AES-CBC SHA
    0x0041, 0x0084, 0x0045, 0x0088, // Camellia
    0x0096, 0x0007, // SEED, IDEA
    0xc012, 0xc008, 0x0016, 0x0013, 0x000a, // 3DES
    0xc011, 0xc007, 0x0005, 0x0004, // RC4
    0x0015, 0x0012, 0x0009, // single DES
    0x0014, 0x0011, 0x0008, 0x0006, 0x0003, // export
];

/// TLS 1.3 suites (RFC 8446 B.4).
const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];
/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746).
const RENEGOTIATION_SCSV: u16 = 0x00ff;

const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
const EXT_KEY_SHARE: u16 = 0x0033;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

/// x25519, secp256r1, secp384r1, secp521r1.
const GROUPS: &[u16] = &[0x001d, 0x0017, 0x0018, 0x0019];
const GROUP_X25519: u16 = 0x001d;
/// ECDSA and RSA (PSS and PKCS#1) with SHA-2, Ed25519, then the SHA-1 forms old servers still use.
const SIGNATURE_SCHEMES: &[u16] =
    &[0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0807, 0x0201, 0x0203];

/// The version number as sent on the wire.
pub(crate) fn wire_version(version: TlsVersion) -> u16 {
    match version {
        TlsVersion::Ssl3 => 0x0300,
        TlsVersion::Tls10 => 0x0301,
        TlsVersion::Tls11 => 0x0302,
        TlsVersion::Tls12 => 0x0303,
        TlsVersion::Tls13 => 0x0304,
    }
}

/// The version a wire number names, if any.
pub(crate) fn version_from_wire(wire: u16) -> Option<TlsVersion> {
    match wire {
        0x0300 => Some(TlsVersion::Ssl3),
        0x0301 => Some(TlsVersion::Tls10),
        0x0302 => Some(TlsVersion::Tls11),
        0x0303 => Some(TlsVersion::Tls12),
        0x0304 => Some(TlsVersion::Tls13),
        _ => None,
    }
}

/// One ClientHello record asking for exactly `version`. `random` is the hello's random; `x25519_share` is
/// sent as the key share of a TLS 1.3 hello (any 32 bytes do: the probe never completes the handshake).
pub(crate) fn client_hello(version: TlsVersion, random: &[u8; 32], x25519_share: &[u8; 32]) -> Vec<u8> {
    // TLS 1.3 hellos keep 1.2 in the legacy fields (RFC 8446 4.1.2) and name 1.3 in supported_versions.
    let legacy_version = wire_version(version.min(TlsVersion::Tls12));
    let record_version = if version == TlsVersion::Tls13 { 0x0301 } else { legacy_version };

    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&legacy_version.to_be_bytes());
    body.extend_from_slice(random);
    body.push(0); // empty session id

    let mut suites: Vec<u16> = Vec::with_capacity(TLS13_SUITES.len() + SUITES.len() + 1);
    if version == TlsVersion::Tls13 {
        suites.extend_from_slice(TLS13_SUITES);
    }
    suites.extend_from_slice(SUITES);
    if version == TlsVersion::Ssl3 {
        suites.push(RENEGOTIATION_SCSV);
    }
    push_u16_list(&mut body, &suites);
    body.extend_from_slice(&[1, 0]); // compression methods: null only

    if version != TlsVersion::Ssl3 {
        let mut extensions = Vec::with_capacity(128);
        push_extension(&mut extensions, EXT_RENEGOTIATION_INFO, &[0]);
        let mut groups = Vec::new();
        push_u16_list(&mut groups, GROUPS);
        push_extension(&mut extensions, EXT_SUPPORTED_GROUPS, &groups);
        push_extension(&mut extensions, EXT_EC_POINT_FORMATS, &[1, 0]);
        if version >= TlsVersion::Tls12 {
            let mut schemes = Vec::new();
            push_u16_list(&mut schemes, SIGNATURE_SCHEMES);
            push_extension(&mut extensions, EXT_SIGNATURE_ALGORITHMS, &schemes);
        }
        if version == TlsVersion::Tls13 {
            push_extension(&mut extensions, EXT_SUPPORTED_VERSIONS, &[2, 0x03, 0x04]);
            let mut share = Vec::with_capacity(38);
            share.extend_from_slice(&36u16.to_be_bytes()); // client_shares length
            share.extend_from_slice(&GROUP_X25519.to_be_bytes());
            share.extend_from_slice(&32u16.to_be_bytes());
            share.extend_from_slice(x25519_share);
            push_extension(&mut extensions, EXT_KEY_SHARE, &share);
        }
        push_u16_len(&mut body, extensions.len());
        body.extend_from_slice(&extensions);
    }
    handshake_record(record_version, CLIENT_HELLO, &body)
}

fn push_u16_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
}

/// A vector of u16 values with its two-byte length prefix.
fn push_u16_list(out: &mut Vec<u8>, values: &[u16]) {
    push_u16_len(out, values.len() * 2);
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn push_extension(out: &mut Vec<u8>, ext_type: u16, data: &[u8]) {
    out.extend_from_slice(&ext_type.to_be_bytes());
    push_u16_len(out, data.len());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the record and the hello, returning (record version, client version, suites, extension types).
    fn deconstruct(rec: &[u8]) -> (u16, u16, Vec<u16>, Vec<u16>) {
        assert_eq!(rec[0], 0x16);
        let record_version = u16::from_be_bytes([rec[1], rec[2]]);
        assert_eq!(usize::from(u16::from_be_bytes([rec[3], rec[4]])), rec.len() - 5);
        let hs = &rec[5..];
        assert_eq!(hs[0], CLIENT_HELLO);
        let len = u32::from_be_bytes([0, hs[1], hs[2], hs[3]]) as usize;
        assert_eq!(len, hs.len() - 4);
        let body = &hs[4..];
        let client_version = u16::from_be_bytes([body[0], body[1]]);
        let mut at = 2 + 32;
        let sid = usize::from(body[at]);
        at += 1 + sid;
        let suites_len = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
        let suites = body[at + 2..at + 2 + suites_len].chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        at += 2 + suites_len;
        let comp_len = usize::from(body[at]);
        at += 1 + comp_len;
        let mut exts = Vec::new();
        if at < body.len() {
            let ext_len = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
            at += 2;
            assert_eq!(at + ext_len, body.len());
            while at < body.len() {
                exts.push(u16::from_be_bytes([body[at], body[at + 1]]));
                let l = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
                at += 4 + l;
            }
            assert_eq!(at, body.len());
        }
        (record_version, client_version, suites, exts)
    }

    #[test]
    fn ssl3_hello_has_scsv_and_no_extensions() {
        let (rv, cv, suites, exts) = deconstruct(&client_hello(TlsVersion::Ssl3, &[7; 32], &[9; 32]));
        assert_eq!((rv, cv), (0x0300, 0x0300));
        assert!(suites.contains(&RENEGOTIATION_SCSV));
        assert!(suites.contains(&0x000a) && suites.contains(&0x0005));
        assert!(exts.is_empty());
    }

    #[test]
    fn tls10_and_11_hellos_carry_the_extensions_old_servers_need() {
        for (version, wire) in [(TlsVersion::Tls10, 0x0301), (TlsVersion::Tls11, 0x0302)] {
            let (rv, cv, suites, exts) = deconstruct(&client_hello(version, &[7; 32], &[9; 32]));
            assert_eq!((rv, cv), (wire, wire));
            assert!(suites.contains(&0x002f) && suites.contains(&0xc013));
            assert_eq!(exts, [EXT_RENEGOTIATION_INFO, EXT_SUPPORTED_GROUPS, EXT_EC_POINT_FORMATS]);
        }
    }

    #[test]
    fn tls12_hello_adds_signature_algorithms() {
        let (rv, cv, _, exts) = deconstruct(&client_hello(TlsVersion::Tls12, &[7; 32], &[9; 32]));
        assert_eq!((rv, cv), (0x0303, 0x0303));
        assert!(exts.contains(&EXT_SIGNATURE_ALGORITHMS));
        assert!(!exts.contains(&EXT_SUPPORTED_VERSIONS));
    }

    #[test]
    fn tls13_hello_uses_legacy_fields_and_supported_versions() {
        let rec = client_hello(TlsVersion::Tls13, &[7; 32], &[9; 32]);
        let (rv, cv, suites, exts) = deconstruct(&rec);
        assert_eq!((rv, cv), (0x0301, 0x0303));
        assert_eq!(&suites[..3], TLS13_SUITES);
        assert!(exts.contains(&EXT_SUPPORTED_VERSIONS) && exts.contains(&EXT_KEY_SHARE));
        assert!(rec.windows(32).any(|w| w == [9; 32]));
    }

    #[test]
    fn wire_versions_round_trip() {
        for v in [TlsVersion::Ssl3, TlsVersion::Tls10, TlsVersion::Tls11, TlsVersion::Tls12, TlsVersion::Tls13] {
            assert_eq!(version_from_wire(wire_version(v)), Some(v));
        }
        assert_eq!(version_from_wire(0x0200), None);
    }
}
