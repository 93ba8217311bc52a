//! The login step in one place, in the right order: a locked-out address is refused before
//! any hashing, a wrong password counts against the address, a right one clears its count and
//! starts a fresh session.
//!
//! [`Gate::login`] runs Argon2 (tens of milliseconds of CPU): call it from a blocking thread
//! (`tokio::task::spawn_blocking`), not on the async runtime's threads.

use std::net::IpAddr;

use super::AuthError;
use super::limiter::{LimitPolicy, Locked, LoginLimiter};
use super::secret::Credential;
use super::session::{NewSession, SessionPolicy, Sessions};

/// Why a login did not start a session.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The address is locked out; the password was not even checked.
    #[error("{0}")]
    Locked(Locked),
    /// The password is wrong; `locked` is set when this failure locked the address out.
    #[error("wrong password")]
    Wrong {
        /// The lockout this failure started, if it did.
        locked: Option<Locked>,
    },
    /// The session could not be made (no random bytes).
    #[error("{0}")]
    Internal(#[from] AuthError),
}

/// The password, the sessions and the failed-login table of one server. `Send + Sync`.
#[derive(Debug)]
pub struct Gate {
    credential: Credential,
    sessions: Sessions,
    limiter: LoginLimiter,
}

impl Gate {
    /// A gate for `credential` with the given policies.
    pub fn new(credential: Credential, sessions: SessionPolicy, limits: LimitPolicy) -> Gate {
        Gate { credential, sessions: Sessions::new(sessions), limiter: LoginLimiter::new(limits) }
    }

    /// A login attempt by `client` with `password` at `now_ms`. See the module docs.
    pub fn login(&self, client: IpAddr, password: &str, now_ms: u64) -> Result<NewSession, LoginError> {
        self.limiter.check(client, now_ms).map_err(LoginError::Locked)?;
        if !self.credential.verify(password) {
            let locked = self.limiter.record_failure(client, now_ms).err();
            return Err(LoginError::Wrong { locked });
        }
        self.limiter.record_success(client);
        Ok(self.sessions.create(now_ms)?)
    }

    /// Ends session `id` (logout); whether it existed.
    pub fn logout(&self, id: &str) -> bool {
        self.sessions.remove(id)
    }

    /// The session table (for [`Sessions::touch`] and [`Sessions::check_csrf`] on each request).
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The failed-login table.
    pub fn limiter(&self) -> &LoginLimiter {
        &self.limiter
    }
}

#[cfg(test)]
mod tests {
    use argon2::Params;

    use super::*;

    fn gate() -> Gate {
        let credential = Credential::hash_with("open sesame", Params::new(256, 1, 1, None).unwrap()).unwrap();
        Gate::new(credential, SessionPolicy::default(), LimitPolicy::default())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn gate_is_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Gate>();
    }

    #[test]
    fn the_right_password_starts_a_session() {
        let gate = gate();
        let session = gate.login(ip("198.18.0.2"), "open sesame", 1000).unwrap();
        assert_eq!(gate.sessions().touch(&session.id, 2000), Some(session.csrf.clone()));
        assert!(gate.sessions().check_csrf(&session.id, &session.csrf, 2000));
        assert!(gate.logout(&session.id));
        assert!(gate.sessions().touch(&session.id, 3000).is_none());
    }

    #[test]
    fn wrong_passwords_lock_the_address_out_even_for_the_right_one() {
        let gate = gate();
        let client = ip("198.18.0.2");
        for n in 0..4 {
            assert!(matches!(gate.login(client, "guess", n), Err(LoginError::Wrong { locked: None })));
        }
        let Err(LoginError::Wrong { locked: Some(locked) }) = gate.login(client, "guess", 4) else {
            panic!("the fifth failure locks out");
        };
        assert_eq!(locked.retry_after_ms, 300_000);
        assert!(matches!(gate.login(client, "open sesame", 5), Err(LoginError::Locked(_))));
        assert!(gate.sessions().is_empty());
        // Another address is not affected; after the lockout the right password works and
        // clears the count.
        assert!(gate.login(ip("198.18.0.3"), "open sesame", 5).is_ok());
        assert!(gate.login(client, "open sesame", 300_004).is_ok());
        assert!(gate.limiter().check(client, 300_004).is_ok());
        assert!(gate.limiter().is_empty());
    }
}
