//! Adler-32 (RFC 1950 section 8.2), the checksum SCTP packets carried under RFC 2960 before RFC 3309
//! replaced it with CRC32c: two sums modulo 65521, `a` of the bytes plus one and `b` of the successive
//! `a` values, the result `b << 16 | a`. SCTP stores it as any 32-bit field, most significant byte first
//! (RFC 2960 appendix B), unlike its CRC32c (see [`crate::sctp`]).

/// The largest prime below 2^16.
const MOD: u32 = 65_521;
/// Bytes that can be summed before `b` could overflow a `u32` (zlib's NMAX).
const RUN: usize = 5552;

/// The Adler-32 of `data`.
pub fn adler32(data: &[u8]) -> u32 {
    adler32_of(data.iter().copied())
}

/// The Adler-32 of the bytes `bytes` yields (for a sum over pieces, without copying them together).
pub fn adler32_of(bytes: impl IntoIterator<Item = u8>) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for (i, byte) in bytes.into_iter().enumerate() {
        a += u32::from(byte);
        b += a;
        if (i + 1) % RUN == 0 {
            a %= MOD;
            b %= MOD;
        }
    }
    ((b % MOD) << 16) | (a % MOD)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one modulo per byte.
    fn plain(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in data {
            a = (a + u32::from(byte)) % MOD;
            b = (b + a) % MOD;
        }
        (b << 16) | a
    }

    #[test]
    fn known_values() {
        assert_eq!(adler32(b""), 1);
        // RFC 1950's example string, as zlib computes it.
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b"abc"), 0x024d_0127);
    }

    #[test]
    fn long_runs_do_not_overflow() {
        let data = vec![0xffu8; 3 * RUN + 17];
        assert_eq!(adler32(&data), plain(&data));
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
        assert_eq!(adler32(&data), plain(&data));
    }
}
