//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers that TCP, UDP and ICMPv6 cover.
//!
//! Sums are kept unfolded in a `u64` so partial sums (pseudo-header, header, payload) can be added before the
//! final fold; [`finish`] folds and complements. A received segment whose checksum field is included sums to
//! `0xffff` when folded, which is what [`verify`] checks.

use std::net::IpAddr;

/// The unfolded one's-complement sum of `data` as big-endian 16-bit words (an odd last byte is padded with zero).
#[inline]
pub fn sum(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut acc: u64 = chunks.by_ref().map(|w| u64::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds an unfolded sum into 16 bits (end-around carry), without complementing.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for a sum taken with the field zeroed: the folded sum, complemented.
#[inline]
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The sum of the pseudo-header for an upper-layer packet of `len` bytes (RFC 9293 3.1 for IPv4, RFC 8200 8.1
/// for IPv6). Mixed families cannot occur in one packet; if they are passed anyway each address is summed as is.
#[inline]
pub fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: u32) -> u64 {
    let addr_sum = |a: IpAddr| match a {
        IpAddr::V4(a) => sum(&a.octets()),
        IpAddr::V6(a) => sum(&a.octets()),
    };
    addr_sum(src) + addr_sum(dst) + u64::from(proto) + u64::from(len >> 16) + u64::from(len & 0xffff)
}

/// The checksum of an upper-layer packet: its pseudo-header and `data` (with the checksum field zeroed).
#[inline]
pub fn upper_layer(src: IpAddr, dst: IpAddr, proto: u8, data: &[u8]) -> u16 {
    finish(pseudo_header(src, dst, proto, data.len() as u32) + sum(data))
}

/// Whether `data` (checksum field included) plus `extra` (e.g. a pseudo-header sum) folds to `0xffff`.
#[inline]
pub fn verify(extra: u64, data: &[u8]) -> bool {
    fold(extra + sum(data)) == 0xffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data)), 0xddf2);
        assert_eq!(finish(sum(&data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn known_ipv4_header_checksum() {
        // A classic example header: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
            0x00, 0xc7,
        ];
        let c = finish(sum(&h));
        assert_eq!(c, 0xb861);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verify(0, &h));
    }

    #[test]
    fn pseudo_header_v4() {
        let s = pseudo_header(Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into(), 6, 20);
        assert_eq!(s, 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
    }
}
