//! Who may use a `tojimari serve` that listens beyond loopback: one password (or token) set at
//! start and kept only as an Argon2id hash, sessions in memory behind an HttpOnly,
//! SameSite=Strict cookie, a CSRF token per session for every form that changes something, and
//! a limit on failed logins per client address.
//!
//! Everything here is pure logic over values, with time passed in as Unix milliseconds
//! (`now_ms`); the only I/O is reading `/dev/urandom` for salts, session ids and tokens.
//!
//! - [`Credential`]: the hashed password; [`Credential::verify`] compares in constant time.
//! - [`Sessions`]: the session table (ids, expiry, CSRF tokens); `Send + Sync`, shareable in an
//!   `Arc`.
//! - [`LoginLimiter`]: too many failed logins from one address (or one IPv6 /64) lock it out.
//! - [`Gate`]: the login step (lockout check, password, session) in the right order.
//! - [`cookie`]: `Set-Cookie` values and the `Cookie` header reader, and the same-origin check
//!   for state-changing requests.
//!
//! The reasons for each default are in `docs/web-security.md`.

pub mod cookie;
mod gate;
mod limiter;
mod random;
mod secret;
mod session;

pub use gate::{Gate, LoginError};
pub use limiter::{LimitPolicy, Locked, LoginLimiter};
pub use random::{random_bytes, random_token};
pub use secret::{Credential, constant_time_eq};
pub use session::{NewSession, SessionPolicy, Sessions};

/// Why an authentication operation failed (never "wrong password": that is a `false`).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The system's random source could not be read.
    #[error("cannot read random bytes from /dev/urandom: {0}")]
    Random(#[source] std::io::Error),
    /// Argon2 refused the input or parameters (e.g. a secret longer than it accepts).
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// A stored hash is not an Argon2 PHC string.
    #[error("not an Argon2 password hash ({0}); expected a PHC string such as $argon2id$v=19$...")]
    BadHash(String),
    /// An empty password or token, which would let anyone in.
    #[error("the password is empty")]
    EmptySecret,
}
