//! The session table: who has logged in, until when, and each session's CSRF token.
//!
//! A session id is 256 random bits (64 hex digits), made at login and never reused, so a
//! session cannot be fixed in advance. A session ends when it has been idle for
//! [`SessionPolicy::idle_ms`], when it is [`SessionPolicy::lifetime_ms`] old whatever its use,
//! or at logout. The table holds at most [`SessionPolicy::max_sessions`]; a login beyond that
//! drops expired sessions first, then the least recently used one, so memory stays bounded
//! however often someone logs in.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::AuthError;
use super::random::random_token;
use super::secret::constant_time_eq;

/// How long sessions live and how many there may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends (default 1 hour).
    pub idle_ms: u64,
    /// A session this old ends even if in use (default 12 hours).
    pub lifetime_ms: u64,
    /// At most this many sessions at once (default 1,000).
    pub max_sessions: usize,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy { idle_ms: 60 * 60 * 1000, lifetime_ms: 12 * 60 * 60 * 1000, max_sessions: 1000 }
    }
}

/// What a login gets: the id for the cookie and the CSRF token for the forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// The session id (64 hex digits), for the session cookie only.
    pub id: String,
    /// The session's CSRF token (64 hex digits), for a hidden field in each form.
    pub csrf: String,
}

#[derive(Clone, Debug)]
struct Entry {
    csrf: String,
    created_ms: u64,
    last_ms: u64,
}

/// The sessions of one server, in memory (a restart logs everyone out). `Send + Sync`.
#[derive(Debug, Default)]
pub struct Sessions {
    policy: SessionPolicy,
    table: Mutex<HashMap<String, Entry>>,
}

impl Sessions {
    /// An empty table with `policy`.
    pub fn new(policy: SessionPolicy) -> Sessions {
        Sessions { policy, table: Mutex::new(HashMap::new()) }
    }

    /// The policy in force.
    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Starts a session at `now_ms` (after a successful login), with a fresh id and CSRF token.
    pub fn create(&self, now_ms: u64) -> Result<NewSession, AuthError> {
        let session = NewSession { id: random_token()?, csrf: random_token()? };
        let mut table = self.lock();
        if table.len() >= self.policy.max_sessions {
            table.retain(|_, entry| self.alive(entry, now_ms));
        }
        while table.len() >= self.policy.max_sessions.max(1) {
            let Some(oldest) = table.iter().min_by_key(|(_, e)| e.last_ms).map(|(id, _)| id.clone()) else {
                break;
            };
            table.remove(&oldest);
        }
        table.insert(session.id.clone(), Entry { csrf: session.csrf.clone(), created_ms: now_ms, last_ms: now_ms });
        Ok(session)
    }

    /// For a request carrying session `id` at `now_ms`: the session's CSRF token if the session
    /// is valid (and marks it used), `None` if there is no such session or it has expired (an
    /// expired session is removed).
    pub fn touch(&self, id: &str, now_ms: u64) -> Option<String> {
        let mut table = self.lock();
        let entry = table.get_mut(id)?;
        if !self.alive(entry, now_ms) {
            table.remove(id);
            return None;
        }
        entry.last_ms = entry.last_ms.max(now_ms);
        Some(entry.csrf.clone())
    }

    /// Whether session `id` is valid at `now_ms` (without marking it used).
    pub fn is_valid(&self, id: &str, now_ms: u64) -> bool {
        self.lock().get(id).is_some_and(|entry| self.alive(entry, now_ms))
    }

    /// Whether `token` is the CSRF token of session `id`, which must be valid at `now_ms`.
    /// The token comparison takes the same time wherever the first difference is.
    pub fn check_csrf(&self, id: &str, token: &str, now_ms: u64) -> bool {
        let table = self.lock();
        let Some(entry) = table.get(id) else {
            return false;
        };
        let matches = constant_time_eq(entry.csrf.as_bytes(), token.as_bytes());
        matches && self.alive(entry, now_ms)
    }

    /// Ends session `id` (logout); whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Drops every session expired at `now_ms`; how many were dropped.
    pub fn prune(&self, now_ms: u64) -> usize {
        let mut table = self.lock();
        let before = table.len();
        table.retain(|_, entry| self.alive(entry, now_ms));
        before - table.len()
    }

    /// How many sessions the table holds (expired ones included until pruned).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn alive(&self, entry: &Entry, now_ms: u64) -> bool {
        now_ms.saturating_sub(entry.last_ms) < self.policy.idle_ms
            && now_ms.saturating_sub(entry.created_ms) < self.policy.lifetime_ms
    }

    /// The table; a panic elsewhere while holding the lock leaves it consistent (every change
    /// is one insert or remove), so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60 * 1000;

    fn policy() -> SessionPolicy {
        SessionPolicy { idle_ms: 10 * MIN, lifetime_ms: 60 * MIN, max_sessions: 3 }
    }

    #[test]
    fn sessions_are_shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sessions>();
    }

    #[test]
    fn a_new_session_is_valid_with_its_own_csrf_token() {
        let sessions = Sessions::new(policy());
        let a = sessions.create(0).unwrap();
        let b = sessions.create(0).unwrap();
        assert_eq!(a.id.len(), 64);
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert_ne!(a.id, a.csrf);
        assert_eq!(sessions.touch(&a.id, 1).as_deref(), Some(a.csrf.as_str()));
        assert!(sessions.is_valid(&b.id, 1));
        assert!(sessions.touch("0".repeat(64).as_str(), 1).is_none());
        assert!(!sessions.is_valid("", 1));
    }

    #[test]
    fn csrf_check_needs_this_sessions_token() {
        let sessions = Sessions::new(policy());
        let a = sessions.create(0).unwrap();
        let b = sessions.create(0).unwrap();
        assert!(sessions.check_csrf(&a.id, &a.csrf, 1));
        assert!(!sessions.check_csrf(&a.id, &b.csrf, 1), "another session's token");
        assert!(!sessions.check_csrf(&a.id, "", 1));
        assert!(!sessions.check_csrf(&a.id, &a.csrf[..63], 1));
        assert!(!sessions.check_csrf(&a.id, &a.csrf.to_uppercase(), 1));
        assert!(!sessions.check_csrf("no-such-session", &a.csrf, 1));
        sessions.remove(&a.id);
        assert!(!sessions.check_csrf(&a.id, &a.csrf, 1), "after logout");
    }

    #[test]
    fn idle_sessions_expire_and_use_keeps_them() {
        let sessions = Sessions::new(policy());
        let kept = sessions.create(0).unwrap();
        let idle = sessions.create(0).unwrap();
        assert!(sessions.touch(&kept.id, 9 * MIN).is_some());
        assert!(sessions.is_valid(&idle.id, 10 * MIN - 1));
        assert!(!sessions.is_valid(&idle.id, 10 * MIN));
        assert!(!sessions.check_csrf(&idle.id, &idle.csrf, 10 * MIN));
        assert!(sessions.touch(&idle.id, 10 * MIN).is_none());
        assert!(sessions.touch(&kept.id, 18 * MIN).is_some(), "used at 9 min, so alive until 19");
        assert_eq!(sessions.len(), 1, "the expired session was removed when touched");
    }

    #[test]
    fn the_lifetime_ends_a_session_in_constant_use() {
        let sessions = Sessions::new(policy());
        let s = sessions.create(0).unwrap();
        for minute in (5..60).step_by(5) {
            assert!(sessions.touch(&s.id, minute * MIN).is_some(), "minute {minute}");
        }
        assert!(sessions.touch(&s.id, 60 * MIN).is_none());
    }

    #[test]
    fn logout_and_prune_remove_sessions() {
        let sessions = Sessions::new(policy());
        let a = sessions.create(0).unwrap();
        let b = sessions.create(5 * MIN).unwrap();
        assert!(sessions.remove(&a.id));
        assert!(!sessions.remove(&a.id));
        assert!(!sessions.is_valid(&a.id, 1));
        let c = sessions.create(0).unwrap();
        assert_eq!(sessions.prune(12 * MIN), 1, "c idle since 0");
        assert!(sessions.is_valid(&b.id, 12 * MIN));
        assert!(!sessions.is_valid(&c.id, 12 * MIN));
        assert_eq!(sessions.prune(30 * MIN), 1);
        assert!(sessions.is_empty());
    }

    #[test]
    fn the_table_is_bounded_expired_first_then_least_recently_used() {
        let sessions = Sessions::new(policy());
        let old = sessions.create(0).unwrap();
        let a = sessions.create(MIN).unwrap();
        let b = sessions.create(2 * MIN).unwrap();
        sessions.touch(&a.id, 3 * MIN);
        // Full, nothing expired: the next login evicts the least recently used session (old).
        let c = sessions.create(4 * MIN).unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(!sessions.is_valid(&old.id, 4 * MIN));
        let d = sessions.create(5 * MIN).unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(!sessions.is_valid(&b.id, 5 * MIN));
        for kept in [&a, &c, &d] {
            assert!(sessions.is_valid(&kept.id, 5 * MIN));
        }
        // Expired sessions go before live ones: at 14 min a (idle since 3) and c (since 4)
        // have expired, so both go and d stays, though only one place was needed.
        let e = sessions.create(14 * MIN).unwrap();
        assert_eq!(sessions.len(), 2);
        assert!(sessions.is_valid(&d.id, 14 * MIN) && sessions.is_valid(&e.id, 14 * MIN));
    }
}
