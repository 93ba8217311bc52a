//! Failed logins per client: after [`LimitPolicy::max_failures`] failures within
//! [`LimitPolicy::window_ms`] a client is refused for [`LimitPolicy::lockout_ms`], whatever it
//! sends, so a password cannot be guessed at the speed of the network.
//!
//! A client is its IPv4 address, or its IPv6 /64 (one host usually has a whole /64 to pick
//! addresses from); an IPv4-mapped IPv6 address counts as the IPv4 address. The table holds at
//! most [`LimitPolicy::max_clients`] clients: when full, records that no longer matter are
//! dropped first, then the oldest.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// How many failures lock a client out, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitPolicy {
    /// Failures allowed within one window; the last of them locks the client out (default 5).
    pub max_failures: u32,
    /// The window failures are counted in (default 1 minute).
    pub window_ms: u64,
    /// How long a locked-out client is refused (default 5 minutes).
    pub lockout_ms: u64,
    /// At most this many clients are remembered (default 10,000).
    pub max_clients: usize,
}

impl Default for LimitPolicy {
    fn default() -> LimitPolicy {
        LimitPolicy { max_failures: 5, window_ms: 60 * 1000, lockout_ms: 5 * 60 * 1000, max_clients: 10_000 }
    }
}

/// A client is locked out: no login is even tried until `retry_after_ms` have passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins from this address; try again in {} s", retry_after_ms.div_ceil(1000))]
pub struct Locked {
    /// Milliseconds until the lockout ends (for a `Retry-After` header, round up to seconds).
    pub retry_after_ms: u64,
}

#[derive(Clone, Copy, Debug)]
struct Record {
    window_start_ms: u64,
    failures: u32,
    locked_until_ms: u64,
}

/// The failed-login table of one server. `Send + Sync`.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    policy: LimitPolicy,
    table: Mutex<HashMap<IpAddr, Record>>,
}

impl LoginLimiter {
    /// An empty table with `policy`.
    pub fn new(policy: LimitPolicy) -> LoginLimiter {
        LoginLimiter { policy, table: Mutex::new(HashMap::new()) }
    }

    /// Whether `client` may try a login at `now_ms`. Call before verifying the password, so a
    /// locked-out client costs no Argon2 work.
    pub fn check(&self, client: IpAddr, now_ms: u64) -> Result<(), Locked> {
        let table = self.lock();
        match table.get(&key(client)) {
            Some(record) if record.locked_until_ms > now_ms => {
                Err(Locked { retry_after_ms: record.locked_until_ms - now_ms })
            }
            _ => Ok(()),
        }
    }

    /// Records a failed login by `client` at `now_ms`; `Err` when this failure locked it out.
    pub fn record_failure(&self, client: IpAddr, now_ms: u64) -> Result<(), Locked> {
        let policy = self.policy;
        let mut table = self.lock();
        let key = key(client);
        if !table.contains_key(&key) && table.len() >= policy.max_clients.max(1) {
            make_room(&mut table, &policy, now_ms);
        }
        let record = table.entry(key).or_insert(Record { window_start_ms: now_ms, failures: 0, locked_until_ms: 0 });
        if now_ms.saturating_sub(record.window_start_ms) >= policy.window_ms {
            record.window_start_ms = now_ms;
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        if record.failures >= policy.max_failures {
            record.locked_until_ms = now_ms.saturating_add(policy.lockout_ms);
            record.failures = 0;
            record.window_start_ms = now_ms;
            return Err(Locked { retry_after_ms: policy.lockout_ms });
        }
        Ok(())
    }

    /// Forgets `client`'s failures after a successful login.
    pub fn record_success(&self, client: IpAddr) {
        self.lock().remove(&key(client));
    }

    /// How many clients the table remembers.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The table; every change is one entry's update, so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Record>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops records whose window and lockout are over; if none, the one with the oldest window.
fn make_room(table: &mut HashMap<IpAddr, Record>, policy: &LimitPolicy, now_ms: u64) {
    table.retain(|_, r| r.locked_until_ms > now_ms || now_ms.saturating_sub(r.window_start_ms) < policy.window_ms);
    if table.len() >= policy.max_clients.max(1)
        && let Some(oldest) =
            table.iter().min_by_key(|(_, r)| r.window_start_ms.max(r.locked_until_ms)).map(|(k, _)| *k)
    {
        table.remove(&oldest);
    }
}

/// The client's key: the IPv4 address, or the IPv6 /64.
fn key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn five_failures_in_a_minute_lock_out_for_five_minutes() {
        let limiter = LoginLimiter::new(LimitPolicy::default());
        let client = ip("198.18.0.9");
        for n in 0..4 {
            assert_eq!(limiter.check(client, n * S), Ok(()));
            assert_eq!(limiter.record_failure(client, n * S), Ok(()), "failure {}", n + 1);
        }
        assert_eq!(limiter.record_failure(client, 4 * S), Err(Locked { retry_after_ms: 300 * S }));
        assert_eq!(limiter.check(client, 4 * S), Err(Locked { retry_after_ms: 300 * S }));
        assert_eq!(limiter.check(client, 304 * S - 1), Err(Locked { retry_after_ms: 1 }));
        assert_eq!(limiter.check(client, 304 * S), Ok(()));
        // After the lockout the count starts again.
        assert_eq!(limiter.record_failure(client, 305 * S), Ok(()));
    }

    #[test]
    fn failures_spread_over_windows_do_not_lock_out() {
        let limiter = LoginLimiter::new(LimitPolicy::default());
        let client = ip("198.18.0.9");
        for n in 0..20 {
            assert_eq!(limiter.record_failure(client, n * 20 * S), Ok(()), "failure at {} s", n * 20);
            // 3 per minute at most: the window restarts every 60 s.
        }
        assert_eq!(limiter.check(client, 400 * S), Ok(()));
    }

    #[test]
    fn success_forgets_failures_and_clients_are_separate() {
        let limiter = LoginLimiter::new(LimitPolicy::default());
        let (a, b) = (ip("198.18.0.9"), ip("198.18.0.10"));
        for n in 0..4 {
            limiter.record_failure(a, n).unwrap();
        }
        limiter.record_success(a);
        assert_eq!(limiter.record_failure(a, 10), Ok(()), "counting restarted");
        for n in 0..5 {
            let _ = limiter.record_failure(b, n);
        }
        assert!(limiter.check(b, 10).is_err());
        assert_eq!(limiter.check(a, 10), Ok(()));
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_mapped_ipv4_is_ipv4() {
        let limiter = LoginLimiter::new(LimitPolicy::default());
        for n in 1..=5u64 {
            let _ = limiter.record_failure(ip(&format!("2001:db8:18::{n:x}")), n);
        }
        assert!(limiter.check(ip("2001:db8:18::ffff:1234"), 10).is_err(), "same /64");
        assert_eq!(limiter.check(ip("2001:db8:18:1::1"), 10), Ok(()), "another /64");
        for n in 1..=5u64 {
            let _ = limiter.record_failure(ip("::ffff:198.18.0.7"), n);
        }
        assert!(limiter.check(ip("198.18.0.7"), 10).is_err());
    }

    #[test]
    fn the_table_is_bounded() {
        let policy = LimitPolicy { max_clients: 3, ..LimitPolicy::default() };
        let limiter = LoginLimiter::new(policy);
        let locked = ip("198.18.0.1");
        for n in 0..5 {
            let _ = limiter.record_failure(locked, n);
        }
        for n in 2..=40u8 {
            let _ = limiter.record_failure(ip(&format!("198.18.0.{n}")), 100 * S);
            assert!(limiter.len() <= 3);
        }
        // With every record live, the one that matters least (the oldest) goes: not the lockout.
        assert!(limiter.check(locked, 100 * S).is_err(), "the lockout survived");
        // Stale records go before live ones.
        let limiter = LoginLimiter::new(policy);
        for n in 0..5 {
            let _ = limiter.record_failure(locked, 1000 * S + n);
        }
        let _ = limiter.record_failure(ip("198.18.0.2"), 0);
        let _ = limiter.record_failure(ip("198.18.0.3"), 0);
        let _ = limiter.record_failure(ip("198.18.0.4"), 1001 * S);
        assert_eq!(limiter.len(), 2, "the two stale records were dropped");
        assert!(limiter.check(locked, 1001 * S).is_err(), "the lockout survived");
    }

    #[test]
    fn locked_message_rounds_up_to_seconds() {
        assert_eq!(
            Locked { retry_after_ms: 1500 }.to_string(),
            "too many failed logins from this address; try again in 2 s"
        );
    }
}
