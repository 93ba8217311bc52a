//! When the raw engine sends a pass, at what rate, how long it waits for the stragglers, and when it stops:
//! a state machine over `now` and counts, with no clock and no socket of its own.
//!
//! The sender ([`super::sender`]) is its adapter: it asks for the first action, sends a pass when told
//! ([`Action::Send`]: every probe still unanswered, paced at `rate`), reports how many it sent
//! ([`PassPolicy::pass_sent`]), then reports the answered count as time passes ([`PassPolicy::tick`]) until
//! the policy says to send again or to stop. The rate moves as [`RateControl`] decides from each retry's
//! answered share; the stop rule is [`RetryRule`]'s.
//!
//! What stays silent because the targets limit their ICMP errors is waited for afterwards, host by host
//! ([`super::icmp_pacing`]).

use std::time::{Duration, Instant};

use tojimari_core::timing::Timing;

use super::rate_control::RateControl;
use super::retry_rule::RetryRule;
use crate::trace::PassEvent;

/// A pass must send at least this many probes for its sending speed to say what the senders can reach.
const ACHIEVED_SAMPLES: u64 = 1000;

/// What the sender does next.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Action {
    /// Send every probe still unanswered, at most `rate` per second; then call `pass_sent`.
    Send { rate: f64 },
    /// Wait for answers until `until` (calling `tick` as time passes and answers arrive).
    Wait { until: Instant },
    /// The run of passes is over.
    Stop,
}

/// Where the policy is in a pass.
#[derive(Copy, Clone, Debug, PartialEq)]
enum Stage {
    /// Sending pass `passes` since `started`; `answered_before` answers were in when it began.
    Sending {
        started: Instant,
        answered_before: u64,
    },
    /// Waiting until `until` for the answers to a pass of `sent` probes that took `send_time` and ended at
    /// `sent_at`.
    Waiting {
        until: Instant,
        sent_at: Instant,
        answered_before: u64,
        sent: u64,
        send_time: Duration,
    },
    Stopped,
}

/// The passes of one technique over one host group.
#[derive(Debug)]
pub struct PassPolicy<'a> {
    control: &'a mut RateControl,
    rule: RetryRule,
    max_retries: u32,
    /// Probes in the pass's index space.
    total: u64,
    /// Passes whose sending is over.
    passes: u32,
    /// The rate of the pass being sent.
    rate: f64,
    /// Answered share of the pass before (1.0 before the first).
    share_before: f64,
    stage: Stage,
    /// The pass that ended last, until taken.
    ended: Option<PassEvent>,
}

impl<'a> PassPolicy<'a> {
    /// Starts the run at `now` with `answered` of `total` probes already answered; the first action is
    /// to send pass 0 at the controller's rate.
    pub fn new(control: &'a mut RateControl, timing: &Timing, total: u64, now: Instant, answered: u64) -> Self {
        let rate = control.rate();
        PassPolicy {
            control,
            rule: RetryRule::default(),
            max_retries: timing.max_retries,
            total,
            passes: 0,
            rate,
            share_before: 1.0,
            stage: Stage::Sending { started: now, answered_before: answered },
            ended: None,
        }
    }

    /// What to do first: send pass 0.
    pub fn first(&self) -> Action {
        Action::Send { rate: self.rate }
    }

    /// The number of the pass being sent (0 for the first), or of passes sent once stopped.
    pub fn pass_no(&self) -> u32 {
        self.passes
    }

    /// The pass sent `sent` probes and its last one left at `now`; answers may take `timeout`.
    pub fn pass_sent(&mut self, now: Instant, sent: u64, timeout: Duration, answered: u64) -> Action {
        let Stage::Sending { started, answered_before } = self.stage else { return self.stopped() };
        let send_time = now.saturating_duration_since(started);
        if sent >= ACHIEVED_SAMPLES {
            self.control.achieved(sent as f64 / send_time.as_secs_f64());
        }
        self.passes += 1;
        self.stage = Stage::Waiting { until: now + timeout, sent_at: now, answered_before, sent, send_time };
        self.tick(now, answered)
    }

    /// The round trips measured since the pass ended say answers take at most `timeout`: the wait ends
    /// that long after the pass's last probe if that is sooner (it is never made longer). A first pass
    /// ends before any answer has been timed, with the initial timeout as its wait; its first answers
    /// shorten it.
    pub fn refine_wait(&mut self, timeout: Duration) {
        if let Stage::Waiting { until, sent_at, .. } = &mut self.stage {
            *until = (*until).min(*sent_at + timeout);
        }
    }

    /// Time passed: `answered` probes have an answer at `now`.
    pub fn tick(&mut self, now: Instant, answered: u64) -> Action {
        let Stage::Waiting { until, answered_before, sent, send_time, .. } = self.stage else {
            return match self.stage {
                Stage::Sending { .. } => Action::Send { rate: self.rate },
                _ => Action::Stop,
            };
        };
        if now < until && answered < self.total {
            return Action::Wait { until };
        }
        // The pass is over: judge it.
        let recovered = answered.saturating_sub(answered_before);
        let retries_done = self.passes - 1;
        let share = if sent == 0 { 1.0 } else { recovered as f64 / sent as f64 };
        let backed_off = retries_done >= 1 && self.control.observe(self.share_before, share, sent);
        self.ended = Some(PassEvent {
            pass: retries_done,
            sent,
            send_time,
            rate: self.rate,
            recovered,
            next_rate: self.control.rate(),
            backed_off,
        });
        self.share_before = share;
        self.rate = if retries_done == 0 { self.control.retry_rate() } else { self.control.rate().min(self.rate) };
        let all_answered = answered >= self.total;
        if self.rule.stop_after(retries_done, recovered, all_answered, self.max_retries) {
            return self.stopped();
        }
        self.stage = Stage::Sending { started: now, answered_before: answered };
        Action::Send { rate: self.rate }
    }

    /// The pass that ended at the last `tick`, once.
    pub fn take_ended(&mut self) -> Option<PassEvent> {
        self.ended.take()
    }

    fn stopped(&mut self) -> Action {
        self.stage = Stage::Stopped;
        Action::Stop
    }
}

#[cfg(test)]
mod tests;
