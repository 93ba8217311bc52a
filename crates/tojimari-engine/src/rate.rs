//! Pacing: a token bucket for `--max-rate`, refilled from the caller's clock (time is passed in).

use std::time::{Duration, Instant};

/// Allows at most `rate` sends per second, with a small burst so that batching stays cheap.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, now: Instant) -> Self {
        // A tenth of a second's worth of probes, at least one.
        let burst = (rate / 10.0).max(1.0);
        TokenBucket { rate, burst, tokens: 1.0, last: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until the next token.
    pub fn wait(&self) -> Duration {
        if self.tokens >= 1.0 { Duration::ZERO } else { Duration::from_secs_f64((1.0 - self.tokens) / self.rate) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_to_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(100.0, t0);
        let mut sent = 0;
        // Simulate one second in 1 ms steps.
        for ms in 0..1000 {
            let now = t0 + Duration::from_millis(ms);
            while bucket.try_take(now) {
                sent += 1;
            }
        }
        assert!((95..=110).contains(&sent), "sent {sent}");
        assert!(bucket.wait() <= Duration::from_millis(10));
    }
}
