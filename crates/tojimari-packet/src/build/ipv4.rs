//! The IPv4 header of our probes (RFC 791 section 3.1): 20 bytes, no options, no fragmentation flags.

use crate::checksum;
use std::net::Ipv4Addr;

/// IPv4 header length without options.
pub(crate) const HEADER_LEN: usize = 20;

/// Writes a 20-byte IPv4 header (checksum included) for a payload of `payload_len` bytes into `buf[..20]`.
/// Callers check that `buf` is long enough and that the total length fits 16 bits.
pub(crate) fn emit(buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, proto: u8, ttl: u8, id: u16, payload_len: usize) {
    let total = (HEADER_LEN + payload_len) as u16;
    let h = &mut buf[..HEADER_LEN];
    h[0] = 0x45; // version 4, IHL 5 words
    h[1] = 0; // DSCP/ECN
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&[0, 0]); // flags and fragment offset: may fragment, first fragment
    h[8] = ttl;
    h[9] = proto;
    h[10..12].copy_from_slice(&[0, 0]);
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = checksum::finish(checksum::sum(h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_header() {
        // 10.0.0.1 -> 10.0.0.2, TCP, TTL 64, ID 0x1234, 20 bytes of TCP: hand-computed checksum.
        // Sum: 4500+0028+1234+0000+4006+0a00+0001+0a00+0002 = 0xab65, complement 0x549a.
        let mut b = [0u8; 20];
        emit(&mut b, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), 6, 64, 0x1234, 20);
        let want = [0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x00, 0x00, 0x40, 0x06, 0x54, 0x9a, 10, 0, 0, 1, 10, 0, 0, 2];
        assert_eq!(b, want);
    }
}
