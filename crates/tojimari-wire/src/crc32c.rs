//! CRC32c (Castagnoli, RFC 9260 appendix A), the checksum of SCTP packets: the reflected CRC with
//! polynomial 0x1EDC6F41, initial value and final XOR all ones. SCTP stores the result least significant
//! byte first (see [`crate::sctp`]).

/// The reflected polynomial.
const POLY: u32 = 0x82f6_3b78;

/// The byte-at-a-time table, built at compile time.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// The CRC32c of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| step(crc, b))
}

/// One byte into a running (not yet complemented) CRC32c register, for sums taken over pieces.
#[inline]
pub(crate) fn step(crc: u32, byte: u8) -> u32 {
    (crc >> 8) ^ TABLE[usize::from((crc as u8) ^ byte)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // The standard check value, and RFC 3720 (iSCSI) appendix B.4's vectors.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46dd_794e);
        assert_eq!(crc32c(&[]), 0);
    }
}
