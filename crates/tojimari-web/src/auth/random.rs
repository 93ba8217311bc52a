//! Random bytes for salts, session ids, CSRF tokens and generated passwords, from the kernel's
//! `/dev/urandom` (the same source `getrandom(2)` uses once the pool is initialised, which it is
//! long before a user can start `tojimari serve`).

use std::fs::File;
use std::io::Read;

use super::AuthError;

/// `N` bytes from `/dev/urandom`.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).map_err(AuthError::Random)?;
    Ok(bytes)
}

/// A fresh random token: 32 bytes (256 bits) as 64 lowercase hex digits. Used for session ids,
/// CSRF tokens and the access token `serve` can generate when none is given.
pub fn random_token() -> Result<String, AuthError> {
    Ok(hex(&random_bytes::<32>()?))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn hex_of_known_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn random_bytes_are_not_constant() {
        // 16 zero bytes from a working source: probability 2^-128.
        assert_ne!(random_bytes::<16>().unwrap(), [0u8; 16]);
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
