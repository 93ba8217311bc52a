//! Waiting out a host's ICMP rate limit, so that every closed UDP port or IP protocol gets to say so: a
//! state machine per host over `now` and counts, with no clock and no socket of its own (the adapter is
//! [`super::sender::run_paced`]).
//!
//! A closed port (protocol) answers with an ICMP error, and hosts limit those. Linux's limiter is a token
//! bucket per destination: one token per `icmp_ratelimit` (1000 ms by default, IPv6's scaled by the
//! prefix), at most 6 saved up; an error sent takes a token, and a probe that meets an empty bucket gets no
//! answer **and takes nothing**. So the probes still silent after the normal passes are sent again in
//! sweeps, a few times faster than the host answers ([`OVERSEND`]): the host then answers exactly as fast
//! as its bucket refills, never slower, and the extra probes cost it nothing. Hosts are paced each on its
//! own, so several hosts take no longer than one.
//!
//! 1. **Check**: [`CANARIES`] probes of a port (protocol) the host already called closed, back to back. If
//!    every one is answered, the host does not limit its errors (or not at this pace): its silent ports are
//!    silent for another reason and the host is done. Otherwise its limit is in force. A host that called
//!    nothing closed (its bucket may have been emptied by a scan just before) has no such probe: it is
//!    swept a second after the pacing began, as in 3.
//! 2. **Sweeps** over the silent ports, one probe per interval. The interval is a quarter of the gap
//!    between the host's answers (a second until measured); a sweep that recovered answers is followed by
//!    another at once.
//! 3. A sweep that recovered nothing is **quiet** when it began at least the longest recent gap after the
//!    host's last answer: its bucket then held a token all along, so every closed port in the sweep would
//!    have answered. [`QUIET_SWEEPS`] quiet sweeps in a row end the host; what is still silent is really
//!    silent (open|filtered). Such a sweep goes at full pace: its first closed port finds a token whatever
//!    the pace, and silent probes take none.

use std::time::{Duration, Instant};

/// Probes of a known closed port that tell whether the host limits: more than Linux's burst of 6.
pub const CANARIES: u32 = 8;
/// Probes per refill interval of the host's limiter.
const OVERSEND: u32 = 4;
/// The gap between answers assumed until two have been measured: Linux's default `icmp_ratelimit`.
const DEFAULT_REFILL: Duration = Duration::from_secs(1);
/// The pace of one host's probes stays within these bounds.
const MIN_INTERVAL: Duration = Duration::from_millis(1);
const MAX_INTERVAL: Duration = Duration::from_millis(250);
/// Quiet sweeps in a row that end a host.
const QUIET_SWEEPS: u32 = 2;
/// Gaps kept for the estimates: more than a burst's worth, so that the longest is a refill's.
const GAPS: usize = 16;

/// What to do for a host next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send the probe of this port position (an index into the pass's ports).
    Send(usize),
    /// Send a probe of a port the host already called closed (the check).
    Canary,
    /// Nothing before this time (or before an answer arrives).
    Wait(Instant),
    /// The host is finished.
    Done,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// A host that has not answered any probe closed (its bucket may have been emptied just before, by
    /// another scan): its first sweep waits until `at`, a refill after the pacing began.
    Start {
        at: Instant,
    },
    /// Sending the canaries (`sent` so far); then waiting until `until` for their answers.
    Check {
        sent: u32,
        until: Option<Instant>,
        echoes_before: u32,
    },
    Sweeping,
    /// A sweep that recovered nothing is over; it is judged at `at` (its answers may still be in flight).
    Judging {
        at: Instant,
    },
    Done,
}

/// One host's pacing.
#[derive(Clone, Debug)]
pub struct HostPacing {
    stage: Stage,
    /// The host's answered probes, last seen.
    answered: u32,
    /// Answers of any kind (canaries' included), last seen.
    heard: u32,
    last_answer: Instant,
    /// Whether `last_answer` is a real answer of this phase (gaps are measured from it).
    timed: bool,
    gaps: Vec<Duration>,
    next_send: Instant,
    cursor: usize,
    sweep_started: Instant,
    sweep_answered: u32,
    quiet: u32,
    /// The check found the limit in force.
    limited: bool,
    /// Probes sent (canaries included).
    pub sent: u64,
}

impl HostPacing {
    /// A host with `answered` probes answered and `echoes` canary answers so far, at `now`; `canary`:
    /// whether it answered some probe closed (which the check sends again).
    pub fn new(now: Instant, answered: u32, echoes: u32, canary: bool) -> Self {
        let stage = if canary {
            Stage::Check { sent: 0, until: None, echoes_before: echoes }
        } else {
            Stage::Start { at: now + DEFAULT_REFILL }
        };
        HostPacing {
            stage,
            answered,
            heard: answered + echoes,
            last_answer: now,
            timed: false,
            gaps: Vec::with_capacity(GAPS),
            next_send: now,
            cursor: 0,
            sweep_started: now,
            sweep_answered: answered,
            quiet: 0,
            limited: false,
            sent: 0,
        }
    }

    /// Whether the check found the host's limit in force (it is being swept, or was).
    pub fn limited(&self) -> bool {
        self.limited
    }

    #[cfg(test)]
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// The gap between the host's answers: the median of the recent ones, once two are measured.
    pub fn refill(&self) -> Option<Duration> {
        if self.gaps.len() < 2 {
            return None;
        }
        let mut g = self.gaps.clone();
        g.sort_unstable();
        Some(g[g.len() / 2])
    }

    fn interval(&self) -> Duration {
        (self.refill().unwrap_or(DEFAULT_REFILL) / OVERSEND).clamp(MIN_INTERVAL, MAX_INTERVAL)
    }

    /// How long after the last answer a sweep must begin for the bucket to hold a token all along: the
    /// longest recent gap (the default until two are measured).
    fn quiet_after(&self) -> Duration {
        if self.gaps.len() < 2 {
            return DEFAULT_REFILL.max(self.gaps.iter().copied().max().unwrap_or_default());
        }
        self.gaps.iter().copied().max().unwrap_or(DEFAULT_REFILL)
    }

    /// What to do at `now`. `answered`: the host's probes answered; `echoes`: answers to canaries;
    /// `timeout`: how long an answer may take; `silent(p)`: whether the probe of port position `p` (of
    /// `ports`) is still unanswered.
    pub fn poll(
        &mut self,
        now: Instant,
        answered: u32,
        echoes: u32,
        timeout: Duration,
        ports: usize,
        silent: &dyn Fn(usize) -> bool,
    ) -> Step {
        let heard = answered + echoes;
        if heard > self.heard {
            if heard == self.heard + 1 && self.timed {
                if self.gaps.len() == GAPS {
                    self.gaps.remove(0);
                }
                self.gaps.push(now.saturating_duration_since(self.last_answer));
            }
            self.heard = heard;
            self.last_answer = now;
            self.timed = true;
        }
        if answered > self.answered {
            self.answered = answered;
            self.quiet = 0;
        }
        // Each arm either returns or moves to a stage that does; a few turns at most.
        loop {
            match self.stage {
                Stage::Done => return Step::Done,
                Stage::Start { at } => {
                    if now < at {
                        return Step::Wait(at);
                    }
                    // Limited or not, its first sweep is a proving one: a second after anything it sent.
                    self.limited = true;
                    self.start_sweep(now);
                }
                Stage::Check { sent, until: None, echoes_before } => {
                    if sent < CANARIES {
                        self.stage = Stage::Check { sent: sent + 1, until: None, echoes_before };
                        self.sent += 1;
                        return Step::Canary;
                    }
                    self.stage = Stage::Check { sent, until: Some(now + timeout), echoes_before };
                }
                Stage::Check { sent, until: Some(until), echoes_before } => {
                    let got = echoes.saturating_sub(echoes_before);
                    if got >= sent {
                        // Every canary answered: no limit in force; the silent ports are silent.
                        self.stage = Stage::Done;
                        continue;
                    }
                    if now < until {
                        return Step::Wait(until);
                    }
                    self.limited = true;
                    // The canaries' answers came as fast as the bucket's saved tokens allowed: no gap of
                    // theirs measures its refill.
                    self.timed = false;
                    self.gaps.clear();
                    self.start_sweep(now);
                }
                Stage::Sweeping => {
                    if now < self.next_send {
                        return Step::Wait(self.next_send);
                    }
                    match (self.cursor..ports).find(|&p| silent(p)) {
                        Some(p) => {
                            self.cursor = p + 1;
                            // A sweep that began long enough after the last answer meets a token for its
                            // first closed port whatever its pace, and silent probes take none: it goes fast.
                            let pace = if self.proving() { MIN_INTERVAL } else { self.interval() };
                            self.next_send = now + pace;
                            self.sent += 1;
                            return Step::Send(p);
                        }
                        None if !(0..ports).any(silent) => self.stage = Stage::Done,
                        None if self.answered > self.sweep_answered => self.start_sweep(now),
                        None => self.stage = Stage::Judging { at: now + timeout },
                    }
                }
                Stage::Judging { at } => {
                    if self.answered > self.sweep_answered {
                        self.start_sweep(now);
                        continue;
                    }
                    if now < at {
                        return Step::Wait(at);
                    }
                    if self.proving() {
                        self.quiet += 1;
                    }
                    if self.quiet >= QUIET_SWEEPS {
                        self.stage = Stage::Done;
                    } else {
                        self.start_sweep(now);
                    }
                }
            }
        }
    }

    /// Whether the sweep began at least [`Self::quiet_after`] after the last answer.
    fn proving(&self) -> bool {
        self.sweep_started >= self.last_answer + self.quiet_after()
    }

    fn start_sweep(&mut self, now: Instant) {
        self.stage = Stage::Sweeping;
        self.cursor = 0;
        self.sweep_started = now;
        self.sweep_answered = self.answered;
    }
}

#[cfg(test)]
mod tests;
