//! The password (or token) `serve` was started with, kept only as an Argon2id hash in PHC
//! string form (`$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`), and the constant-time comparison
//! the rest of the module uses for tokens.

use std::fmt;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AuthError;
use super::random::random_bytes;

/// A hashed password: what the server keeps instead of the password itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    phc: String,
}

impl Credential {
    /// Hashes `secret` with Argon2id and the crate's default cost (19 MiB, 2 passes, 1 lane:
    /// the OWASP minimum) and a fresh 16-byte random salt.
    pub fn hash(secret: &str) -> Result<Credential, AuthError> {
        Credential::hash_with(secret, Params::DEFAULT)
    }

    /// Hashes `secret` with Argon2id and the given cost (tests use a cheap one).
    pub fn hash_with(secret: &str, params: Params) -> Result<Credential, AuthError> {
        if secret.is_empty() {
            return Err(AuthError::EmptySecret);
        }
        let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| AuthError::Hash(e.to_string()))?;
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Credential { phc: hash.to_string() })
    }

    /// A credential from a stored PHC string (e.g. a hash given at start instead of a password).
    /// Only Argon2 hashes are accepted.
    pub fn from_phc(phc: &str) -> Result<Credential, AuthError> {
        let phc = phc.trim();
        let parsed = PasswordHash::new(phc).map_err(|e| AuthError::BadHash(e.to_string()))?;
        if Algorithm::try_from(parsed.algorithm).is_err() || parsed.hash.is_none() {
            return Err(AuthError::BadHash(format!("algorithm {}", parsed.algorithm)));
        }
        Ok(Credential { phc: phc.to_owned() })
    }

    /// The PHC string.
    pub fn phc(&self) -> &str {
        &self.phc
    }

    /// Whether `secret` is the password. Argon2 recomputes the hash with the stored salt and
    /// cost and compares the outputs in constant time; a wrong password and a damaged hash are
    /// both `false`.
    pub fn verify(&self, secret: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(&self.phc) else {
            return false;
        };
        Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok()
    }
}

impl fmt::Debug for Credential {
    /// Shows the algorithm and cost, not the salt and hash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<&str> = self.phc.split('$').take(4).collect();
        write!(f, "Credential({}$...)", shown.join("$"))
    }
}

/// Whether `a` and `b` are equal, taking the same time for every pair of inputs of the same
/// lengths (the lengths themselves are not secret: tokens have a fixed length).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap cost so the tests run quickly in debug builds.
    fn cheap() -> Params {
        Params::new(256, 1, 1, None).unwrap()
    }

    #[test]
    fn the_right_password_verifies_and_others_do_not() {
        let credential = Credential::hash_with("correct horse", cheap()).unwrap();
        assert!(credential.phc().starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{}", credential.phc());
        assert!(credential.verify("correct horse"));
        assert!(!credential.verify("correct horse "));
        assert!(!credential.verify("Correct horse"));
        assert!(!credential.verify(""));
    }

    #[test]
    fn the_default_cost_is_argon2id_19_mib() {
        let credential = Credential::hash("s3cret").unwrap();
        assert!(credential.phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", credential.phc());
        assert!(credential.verify("s3cret"));
        assert!(!credential.verify("s3creT"));
    }

    #[test]
    fn salts_differ_so_equal_passwords_hash_differently() {
        let a = Credential::hash_with("same", cheap()).unwrap();
        let b = Credential::hash_with("same", cheap()).unwrap();
        assert_ne!(a.phc(), b.phc());
        assert!(a.verify("same") && b.verify("same"));
    }

    #[test]
    fn a_stored_hash_round_trips_and_garbage_is_refused() {
        let original = Credential::hash_with("token-123", cheap()).unwrap();
        let stored = Credential::from_phc(&format!("  {}\n", original.phc())).unwrap();
        assert_eq!(stored, original);
        assert!(stored.verify("token-123"));
        for bad in [
            "",
            "plaintext",
            "$argon2id$",
            "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHQ",
        ] {
            assert!(matches!(Credential::from_phc(bad), Err(AuthError::BadHash(_))), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_empty_password_is_refused() {
        assert!(matches!(Credential::hash_with("", cheap()), Err(AuthError::EmptySecret)));
    }

    #[test]
    fn debug_hides_salt_and_hash() {
        let credential = Credential::hash_with("x", cheap()).unwrap();
        let shown = format!("{credential:?}");
        assert_eq!(shown, "Credential($argon2id$v=19$m=256,t=1,p=1$...)");
        let hash = credential.phc().rsplit('$').next().unwrap();
        assert!(!shown.contains(hash));
    }

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"\x00", b"\x80"));
    }
}
