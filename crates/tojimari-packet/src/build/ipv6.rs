//! The IPv6 header of our probes (RFC 8200 section 3): 40 bytes, traffic class and flow label zero, no
//! extension headers.

use std::net::Ipv6Addr;

/// IPv6 fixed header length.
pub(crate) const HEADER_LEN: usize = 40;

/// Writes a 40-byte IPv6 header into `buf[..40]`. Callers check that `buf` is long enough and that
/// `payload_len` fits 16 bits.
pub(crate) fn emit(buf: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, hop_limit: u8, payload_len: usize) {
    let h = &mut buf[..HEADER_LEN];
    h[0..4].copy_from_slice(&[0x60, 0, 0, 0]); // version 6, traffic class 0, flow label 0
    h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    h[6] = next_header;
    h[7] = hop_limit;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_header() {
        let mut b = [0u8; 40];
        emit(&mut b, Ipv6Addr::LOCALHOST, "2001:db8::2".parse().unwrap(), 17, 64, 8);
        let mut want = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        want.extend_from_slice(&[0; 15]);
        want.push(1);
        want.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        want.extend_from_slice(&[0; 11]);
        want.push(2);
        assert_eq!(b.to_vec(), want);
    }
}
