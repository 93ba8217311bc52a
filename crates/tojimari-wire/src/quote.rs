//! The transport bytes quoted in an ICMP or ICMPv6 error (RFC 792 promises the IP header and the first 8
//! bytes of its payload; RFC 1812 and RFC 4443 allow more). A quote is too short for the TCP or UDP views, so
//! this reads what 8 bytes give: ports (or an echo's identifier and sequence number) and TCP's sequence.

use crate::bytes::{read16, read32};
use crate::{Error, Result, ip_protocol};

/// The identifying fields at the start of a quoted transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedTransport {
    /// Source port (TCP, UDP and others with ports first), or the identifier of a quoted ICMP/ICMPv6 message.
    pub src_port: u16,
    /// Destination port, or the sequence number of a quoted ICMP/ICMPv6 message.
    pub dst_port: u16,
    /// The sequence number of a quoted TCP segment, when its first 8 bytes are there.
    pub tcp_seq: Option<u32>,
}

impl QuotedTransport {
    /// Reads the start of a quoted header of `protocol`. `Truncated` when the 4 bytes of ports (8 for an
    /// ICMP message's identifier and sequence number) are not all there.
    #[inline]
    pub fn parse(protocol: u8, bytes: &[u8]) -> Result<QuotedTransport> {
        let at = if matches!(protocol, ip_protocol::ICMP | ip_protocol::ICMPV6) { 4 } else { 0 };
        if bytes.len() < at + 4 {
            return Err(Error::Truncated);
        }
        let tcp_seq = (protocol == ip_protocol::TCP && bytes.len() >= 8).then(|| read32(bytes, 4));
        Ok(QuotedTransport { src_port: read16(bytes, at), dst_port: read16(bytes, at + 2), tcp_seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP_START: [u8; 8] = [0x9c, 0x40, 0x00, 0x16, 0xca, 0xfe, 0xf0, 0x0d];

    #[test]
    fn deconstruct() {
        let q = QuotedTransport::parse(6, &TCP_START).unwrap();
        assert_eq!(q, QuotedTransport { src_port: 40000, dst_port: 22, tcp_seq: Some(0xcafe_f00d) });
        let q = QuotedTransport::parse(17, &TCP_START[..4]).unwrap();
        assert_eq!(q, QuotedTransport { src_port: 40000, dst_port: 22, tcp_seq: None });
        let echo = [8, 0, 0, 0, 0xab, 0xcd, 0, 42];
        let q = QuotedTransport::parse(1, &echo).unwrap();
        assert_eq!((q.src_port, q.dst_port, q.tcp_seq), (0xabcd, 42, None));
    }

    #[test]
    fn truncated() {
        assert_eq!(QuotedTransport::parse(6, &TCP_START[..3]), Err(Error::Truncated));
        assert_eq!(QuotedTransport::parse(6, &TCP_START[..7]).unwrap().tcp_seq, None);
        assert_eq!(QuotedTransport::parse(58, &TCP_START[..7]), Err(Error::Truncated));
    }
}
