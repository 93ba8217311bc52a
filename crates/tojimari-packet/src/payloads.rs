//! UDP probe payloads for well-known services, written from the protocol specifications.
//!
//! An empty UDP datagram gets no answer from most services, so an open port would look open|filtered. Each
//! payload here is the smallest valid request that makes a real server answer; it is our own encoding of the
//! RFC or specification named beside it. Ports without a payload get an empty datagram.

/// DNS (RFC 1035 4.1, class CH from RFC 1035 3.2.4): standard query, id 0x7403, RD, for `version.bind` TXT CH.
/// Any DNS server answers, if only with REFUSED or NOTIMP.
const DNS: &[u8] = &[
    0x74, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header: 1 question
    7, b'v', b'e', b'r', b's', b'i', b'o', b'n', 4, b'b', b'i', b'n', b'd', 0, // version.bind.
    0x00, 0x10, 0x00, 0x03, // TXT, CH
];

/// mDNS (RFC 6762 6.7 legacy unicast, RFC 6763 9): query for `_services._dns-sd._udp.local` PTR, IN.
const MDNS: &[u8] = &[
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header: 1 question
    9, b'_', b's', b'e', b'r', b'v', b'i', b'c', b'e', b's', 7, b'_', b'd', b'n', b's', b'-', b's', b'd', 4, b'_',
    b'u', b'd', b'p', 5, b'l', b'o', b'c', b'a', b'l', 0, 0x00, 0x0c, 0x00, 0x01, // PTR, IN
];

/// NTP (RFC 5905 7.3): 48 bytes, LI 0, version 4, mode 3 (client); a fixed non-zero transmit timestamp, which
/// the server echoes as the origin timestamp.
const NTP: &[u8] = &[
    0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // LI/VN/mode, stratum, poll, precision, delay, dispersion
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // reference id, reference timestamp, origin (hi)
    0, 0, 0, 0, 0, 0, 0, 0, 0xe9, 0x6f, 0x2a, 0x1c, 0x54, 0x6f, 0x6a, 0x69, // origin (lo), receive, transmit
];

/// SNMP v2c (RFC 3416 GetRequest-PDU, RFC 1157 message, BER per X.690): community "public", request id
/// 0x746f6a69, one varbind sysDescr.0 (1.3.6.1.2.1.1.1.0) = NULL.
const SNMP: &[u8] = &[
    0x30, 0x29, // SEQUENCE, 41 bytes
    0x02, 0x01, 0x01, // version: 1 (v2c)
    0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', // community
    0xa0, 0x1c, // GetRequest-PDU, 28 bytes
    0x02, 0x04, 0x74, 0x6f, 0x6a, 0x69, // request-id
    0x02, 0x01, 0x00, // error-status
    0x02, 0x01, 0x00, // error-index
    0x30, 0x0e, 0x30, 0x0c, // variable-bindings, one VarBind
    0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, // OID 1.3.6.1.2.1.1.1.0
    0x05, 0x00, // NULL
];

/// NetBIOS name service (RFC 1002 4.2.17): NODE STATUS REQUEST for the wildcard name "*" (0x2a padded with
/// NULs to 16 bytes, first-level encoded: each nibble + 'A').
const NETBIOS_NS: &[u8] = &[
    0x74, 0x6a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header: 1 question, no flags
    0x20, b'C', b'K', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A',
    b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', 0x00, // "*"
    0x00, 0x21, 0x00, 0x01, // NBSTAT, IN
];

/// SSDP (UPnP Device Architecture 2.0, section 1.3.2): M-SEARCH for every device and service.
const SSDP: &[u8] =
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";

/// memcached UDP (protocol.txt "UDP protocol"): 8-byte frame header (request id 0x746a, sequence 0, 1 datagram,
/// reserved 0) then the ASCII `stats` command.
const MEMCACHED: &[u8] = b"\x74\x6a\x00\x00\x00\x01\x00\x00stats\r\n";

/// IKEv1 (RFC 2408 3.1-3.6, RFC 2409 Appendix A): Main Mode with one ISAKMP proposal offering 3DES-CBC, SHA,
/// pre-shared key, MODP-1024, 28800 s. A responder answers with its SA choice or a NO-PROPOSAL-CHOSEN notify.
const IKE: &[u8] = &[
    0x74, 0x6f, 0x6a, 0x69, 0x6d, 0x61, 0x72, 0x69, // initiator cookie
    0, 0, 0, 0, 0, 0, 0, 0, // responder cookie
    0x01, 0x10, 0x02, 0x00, // next payload SA, version 1.0, exchange Identity Protection (Main Mode), flags
    0, 0, 0, 0, // message id
    0, 0, 0, 80, // total length
    0x00, 0x00, 0x00, 52, // SA payload: no next, reserved, length 52
    0, 0, 0, 1, // DOI: IPsec
    0, 0, 0, 1, // situation: identity only
    0x00, 0x00, 0x00, 40, // proposal payload: last, length 40
    1, 1, 0, 1, // proposal #1, PROTO_ISAKMP, SPI size 0, one transform
    0x00, 0x00, 0x00, 32, // transform payload: last, length 32
    1, 1, 0, 0, // transform #1, KEY_IKE, reserved
    0x80, 0x01, 0x00, 0x05, // encryption: 3DES-CBC
    0x80, 0x02, 0x00, 0x02, // hash: SHA
    0x80, 0x03, 0x00, 0x01, // authentication: pre-shared key
    0x80, 0x04, 0x00, 0x02, // group: MODP 1024
    0x80, 0x0b, 0x00, 0x01, // life type: seconds
    0x80, 0x0c, 0x70, 0x80, // life duration: 28800
];

/// TFTP (RFC 1350 5): read request for an unlikely file name in octet mode; a server answers with an ERROR
/// (file not found) or DATA packet.
const TFTP: &[u8] = b"\x00\x01tjm-7q2x9.bin\x00octet\x00";

/// ONC RPC (RFC 5531 8-9) over UDP: CALL of procedure 0 (NULL) of portmapper (program 100000) version 2, with
/// AUTH_NONE credentials and verifier.
const PORTMAPPER: &[u8] = &[
    0x74, 0x6f, 0x6a, 0x69, // xid
    0, 0, 0, 0, // CALL
    0, 0, 0, 2, // RPC version 2
    0x00, 0x01, 0x86, 0xa0, // program 100000
    0, 0, 0, 2, // version 2
    0, 0, 0, 0, // procedure 0 (NULL)
    0, 0, 0, 0, 0, 0, 0, 0, // credentials: AUTH_NONE, length 0
    0, 0, 0, 0, 0, 0, 0, 0, // verifier: AUTH_NONE, length 0
];

/// Our own UDP probe payload for well-known UDP services, written from the protocol specs; empty for other ports.
pub fn udp_payload(port: u16) -> &'static [u8] {
    match port {
        53 => DNS,
        69 => TFTP,
        111 => PORTMAPPER,
        123 => NTP,
        137 => NETBIOS_NS,
        161 => SNMP,
        500 => IKE,
        1900 => SSDP,
        5353 => MDNS,
        11211 => MEMCACHED,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks a DNS name (uncompressed) from `at`, returning the labels and the offset after it.
    fn dns_name(b: &[u8], mut at: usize) -> (Vec<String>, usize) {
        let mut labels = Vec::new();
        loop {
            let len = usize::from(b[at]);
            at += 1;
            if len == 0 {
                return (labels, at);
            }
            labels.push(String::from_utf8(b[at..at + len].to_vec()).unwrap());
            at += len;
        }
    }

    #[test]
    fn dns_query_is_well_formed() {
        let q = udp_payload(53);
        assert_eq!(&q[4..6], &[0, 1], "one question");
        let (labels, end) = dns_name(q, 12);
        assert_eq!(labels, ["version", "bind"]);
        assert_eq!(&q[end..], &[0x00, 0x10, 0x00, 0x03]);
    }

    #[test]
    fn mdns_query_is_well_formed() {
        let q = udp_payload(5353);
        let (labels, end) = dns_name(q, 12);
        assert_eq!(labels, ["_services", "_dns-sd", "_udp", "local"]);
        assert_eq!(&q[end..], &[0x00, 0x0c, 0x00, 0x01]);
    }

    #[test]
    fn ntp_client_request() {
        let q = udp_payload(123);
        assert_eq!(q.len(), 48);
        assert_eq!(q[0] >> 6, 0, "leap indicator");
        assert_eq!((q[0] >> 3) & 7, 4, "version");
        assert_eq!(q[0] & 7, 3, "mode client");
    }

    /// Parses one BER TLV with a short-form length, returning (tag, value, rest).
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let len = usize::from(b[1]);
        assert!(len < 0x80, "short form only");
        (b[0], &b[2..2 + len], &b[2 + len..])
    }

    #[test]
    fn snmp_get_request_is_valid_ber() {
        let (tag, msg, rest) = tlv(udp_payload(161));
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, version, msg) = tlv(msg);
        assert_eq!((tag, version), (0x02, &[1u8][..]));
        let (tag, community, msg) = tlv(msg);
        assert_eq!((tag, community), (0x04, &b"public"[..]));
        let (tag, pdu, rest) = tlv(msg);
        assert_eq!((tag, rest.len()), (0xa0, 0));
        let (_, _, pdu) = tlv(pdu); // request-id
        let (_, status, pdu) = tlv(pdu);
        let (_, index, pdu) = tlv(pdu);
        assert_eq!((status, index), (&[0u8][..], &[0u8][..]));
        let (tag, list, rest) = tlv(pdu);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, bind, rest) = tlv(list);
        assert_eq!((tag, rest.len()), (0x30, 0));
        let (tag, oid, bind) = tlv(bind);
        assert_eq!(tag, 0x06);
        assert_eq!(oid, &[0x2b, 6, 1, 2, 1, 1, 1, 0], "1.3.6.1.2.1.1.1.0");
        assert_eq!(bind, &[0x05, 0x00]);
    }

    #[test]
    fn netbios_wildcard_name_encoding() {
        let q = udp_payload(137);
        assert_eq!(q[12], 32);
        let mut name = [0u8; 16];
        for (i, pair) in q[13..45].chunks(2).enumerate() {
            name[i] = ((pair[0] - b'A') << 4) | (pair[1] - b'A');
        }
        assert_eq!(name[0], b'*');
        assert!(name[1..].iter().all(|&c| c == 0));
        assert_eq!(&q[45..], &[0, 0x00, 0x21, 0x00, 0x01]);
    }

    #[test]
    fn ssdp_and_memcached() {
        let s = std::str::from_utf8(udp_payload(1900)).unwrap();
        assert!(s.starts_with("M-SEARCH * HTTP/1.1\r\n") && s.ends_with("\r\n\r\n"));
        assert!(s.contains("ST: ssdp:all\r\n") && s.contains("MAN: \"ssdp:discover\"\r\n"));
        let m = udp_payload(11211);
        assert_eq!(&m[4..6], &[0, 1], "one datagram");
        assert_eq!(&m[8..], b"stats\r\n");
    }

    #[test]
    fn ike_lengths_are_consistent() {
        let q = udp_payload(500);
        let be32 = |at: usize| u32::from_be_bytes(q[at..at + 4].try_into().unwrap()) as usize;
        let be16 = |at: usize| usize::from(u16::from_be_bytes([q[at], q[at + 1]]));
        assert_eq!(be32(24), q.len());
        assert_eq!(q[16], 1, "first payload SA");
        assert_eq!(be16(28 + 2), q.len() - 28, "SA payload");
        assert_eq!(be16(40 + 2), q.len() - 40, "proposal payload");
        assert_eq!(be16(48 + 2), q.len() - 48, "transform payload");
        assert_eq!((q.len() - 56) % 4, 0, "TV attributes");
    }

    #[test]
    fn tftp_and_portmapper() {
        let t = udp_payload(69);
        assert_eq!(&t[..2], &[0, 1], "RRQ");
        let parts: Vec<&[u8]> = t[2..].split(|&b| b == 0).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], b"octet");
        assert!(parts[2].is_empty());
        let r = udp_payload(111);
        assert_eq!(r.len(), 40);
        assert_eq!(u32::from_be_bytes(r[12..16].try_into().unwrap()), 100_000);
    }

    #[test]
    fn other_ports_are_empty() {
        for port in [0, 1, 22, 80, 443, 65535] {
            assert!(udp_payload(port).is_empty());
        }
    }
}
