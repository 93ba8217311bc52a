//! The pass policy against simulated networks, on a fake clock: random loss, a congested bottleneck,
//! silence, and the rate bounds (a target's ICMP limiter is `icmp_pacing`'s). The simulation plays the
//! sender's part exactly as `sender::run_passes` does: each pass sends the still-unanswered probes spaced `1/rate` apart,
//! then reports the answered count until the policy moves on.

use std::time::{Duration, Instant};

use tojimari_core::timing::{MIN_RETRIES, Timing, TimingTemplate};

use super::*;

/// A deterministic generator (xorshift64*), so every run of a test sees the same losses.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A token bucket on the fake clock: `rate` per second, at most `burst` at once.
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Bucket { rate, burst, tokens: burst, last: now }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What lies between the scanner and the targets.
struct Net {
    /// Chance that a probe or its answer is lost, each way.
    loss: f64,
    /// A bottleneck that passes this many probes per second, with a queue of `burst`: what exceeds it
    /// is dropped.
    bottleneck: Option<Bucket>,
    /// Whether the ports answer at all (false: filtered, all silent).
    answering: bool,
    rtt: Duration,
    rng: Rng,
}

impl Net {
    fn new() -> Self {
        Net { loss: 0.0, bottleneck: None, answering: true, rtt: Duration::from_millis(1), rng: Rng(7) }
    }

    /// The arrival time of the answer to a probe sent at `at`, if one comes.
    fn probe(&mut self, at: Instant) -> Option<Instant> {
        if !self.answering || self.rng.unit() < self.loss {
            return None;
        }
        if let Some(b) = &mut self.bottleneck
            && !b.take(at)
        {
            return None;
        }
        if self.rng.unit() < self.loss {
            return None;
        }
        Some(at + self.rtt)
    }
}

/// How a simulated run went.
#[derive(Debug)]
struct Run {
    /// The rate of every pass, in order.
    rates: Vec<f64>,
    /// Probes sent per pass.
    sent: Vec<u64>,
    answered: u64,
    backoffs: u32,
    elapsed: Duration,
    ended: Vec<PassEvent>,
}

/// The probe timeout the sender would read from the RTT estimator.
const TIMEOUT: Duration = Duration::from_millis(100);

/// Plays the sender's part for `probes` probes over `net`, from `now`.
fn simulate(control: &mut RateControl, timing: &Timing, probes: usize, net: &mut Net, start: Instant) -> Run {
    let mut arrivals: Vec<Option<Instant>> = vec![None; probes];
    let answered = |arrivals: &[Option<Instant>], now: Instant| {
        arrivals.iter().filter(|a| a.is_some_and(|t| t <= now)).count() as u64
    };
    let mut now = start;
    let backoffs_before = control.backoffs;
    let mut policy = PassPolicy::new(control, timing, probes as u64, now, 0);
    let mut action = policy.first();
    let mut run = Run {
        rates: Vec::new(),
        sent: Vec::new(),
        answered: 0,
        backoffs: 0,
        elapsed: Duration::ZERO,
        ended: Vec::new(),
    };
    for _ in 0..1_000_000 {
        action = match action {
            Action::Send { rate } => {
                run.rates.push(rate);
                let gap = Duration::from_secs_f64(1.0 / rate);
                let mut sent = 0;
                for arrival in arrivals.iter_mut() {
                    if arrival.is_some_and(|t| t <= now) {
                        continue;
                    }
                    if sent > 0 {
                        now += gap;
                    }
                    sent += 1;
                    if let Some(t) = net.probe(now) {
                        *arrival = Some(arrival.map_or(t, |old| old.min(t)));
                    }
                }
                run.sent.push(sent);
                policy.pass_sent(now, sent, TIMEOUT, answered(&arrivals, now))
            }
            Action::Wait { until } => {
                // The sender polls every millisecond; so does the simulation.
                now = (now + Duration::from_millis(1)).min(until);
                policy.tick(now, answered(&arrivals, now))
            }
            Action::Stop => break,
        };
        run.ended.extend(policy.take_ended());
    }
    assert_eq!(action, Action::Stop, "the policy never stopped");
    run.answered = answered(&arrivals, now);
    run.backoffs = control.backoffs - backoffs_before;
    run.elapsed = now - start;
    run
}

fn t4() -> Timing {
    TimingTemplate::Aggressive.timing()
}

fn with_rates(min: Option<f64>, max: Option<f64>) -> Timing {
    Timing { min_rate: min, max_rate: max, ..t4() }
}

#[test]
fn random_loss_keeps_the_rate_and_retries_recover_every_answer() {
    // 5% each way, 2000 answering ports, at 100k probes per second.
    let timing = with_rates(None, Some(100_000.0));
    let mut control = RateControl::new(&timing);
    let mut net = Net { loss: 0.05, ..Net::new() };
    let run = simulate(&mut control, &timing, 2000, &mut net, Instant::now());
    assert_eq!(run.answered, 2000, "{run:?}");
    assert_eq!(run.backoffs, 0, "random loss is not congestion: {run:?}");
    // Only the first retry goes at half the rate (the probe of congestion); the rate is kept after.
    assert!((control.rate() - 100_000.0).abs() < 1.0, "{}", control.rate());
    assert_eq!(run.rates[1], 50_000.0);
    // The first pass lost about 10%; a retry or two recovered them; then two silent retries ended it.
    assert!(run.sent[1] > 100 && run.sent[1] < 300, "{run:?}");
    assert!(run.rates.len() <= 1 + timing.max_retries as usize);
}

#[test]
fn congestion_halves_the_rate_then_it_recovers_between_host_groups() {
    // A bottleneck of 20k probes per second with a queue of 20, the scan at 200k per second: pass 0 loses
    // most of its probes; at half the rate the retry gets twice the share through.
    let timing = with_rates(None, Some(200_000.0));
    let mut control = RateControl::new(&timing);
    let start = Instant::now();
    let mut net = Net { bottleneck: Some(Bucket::new(20_000.0, 20.0, start)), ..Net::new() };
    let run = simulate(&mut control, &timing, 4000, &mut net, start);
    assert!(run.backoffs >= 1, "{run:?}");
    assert!(control.rate() <= 100_000.0, "{}", control.rate());
    assert!(run.ended.iter().any(|e| e.backed_off && e.next_rate < e.rate * 2.0), "{:?}", run.ended);
    // Each retry at the lower rate got a larger share through, and together they recovered every answer.
    assert!(run.rates.windows(2).all(|w| w[1] < w[0]), "{run:?}");
    assert!(
        run.ended
            .windows(2)
            .skip(1)
            .all(|w| w[1].recovered as f64 / w[1].sent as f64 > w[0].recovered as f64 / w[0].sent as f64),
        "{run:?}"
    );
    assert_eq!(run.answered, 4000, "{run:?}");
    assert!(run.rates.len() <= 1 + timing.max_retries as usize, "{run:?}");
    // The next host groups, uncongested, climb back to the ceiling and stay there.
    let lowered = control.rate();
    for _ in 0..20 {
        control.recover();
        let mut clear = Net::new();
        let run = simulate(&mut control, &timing, 500, &mut clear, start);
        assert_eq!((run.answered, run.backoffs), (500, 0));
    }
    assert!(control.rate() > lowered);
    assert_eq!(control.rate(), 200_000.0);
}

#[test]
fn a_congested_run_never_goes_below_min_rate_nor_above_max_rate() {
    let timing = with_rates(Some(150_000.0), Some(200_000.0));
    let mut control = RateControl::new(&timing);
    let start = Instant::now();
    let mut net = Net { bottleneck: Some(Bucket::new(10_000.0, 10.0, start)), ..Net::new() };
    let run = simulate(&mut control, &timing, 4000, &mut net, start);
    assert!(run.rates.iter().all(|&r| (150_000.0..=200_000.0).contains(&r)), "{:?}", run.rates);
    assert!(control.rate() >= 150_000.0);
    for _ in 0..10 {
        control.recover();
    }
    assert_eq!(control.rate(), 200_000.0);
}

#[test]
fn silent_ports_end_after_the_minimum_retries() {
    // Filtered ports: nothing ever answers. The first pass and MIN_RETRIES silent retries, then stop.
    let timing = t4();
    let mut control = RateControl::new(&timing);
    let mut net = Net { answering: false, ..Net::new() };
    let run = simulate(&mut control, &timing, 300, &mut net, Instant::now());
    assert_eq!(run.rates.len(), 1 + MIN_RETRIES as usize, "{run:?}");
    assert_eq!((run.answered, run.backoffs), (0, 0));
    // Each pass waited out the probe timeout for its stragglers.
    assert!(run.elapsed >= TIMEOUT * (1 + MIN_RETRIES), "{:?}", run.elapsed);
}

#[test]
fn answers_still_arriving_keep_the_passes_going_up_to_max_retries() {
    // Heavy random loss: every retry recovers some, so only --max-retries ends it.
    let timing = Timing { max_retries: 4, ..with_rates(None, Some(50_000.0)) };
    let mut control = RateControl::new(&timing);
    let mut net = Net { loss: 0.45, ..Net::new() };
    let run = simulate(&mut control, &timing, 3000, &mut net, Instant::now());
    assert_eq!(run.rates.len(), 5, "{run:?}");
    assert!(run.ended.iter().all(|e| e.recovered > 0), "{:?}", run.ended);
    assert!(run.answered < 3000);
    // --max-retries 0: one pass; 1: two.
    for (max_retries, passes) in [(0, 1), (1, 2)] {
        let timing = Timing { max_retries, ..timing };
        let run = simulate(
            &mut RateControl::new(&timing),
            &timing,
            3000,
            &mut Net { loss: 0.45, ..Net::new() },
            Instant::now(),
        );
        assert_eq!(run.rates.len(), passes, "--max-retries {max_retries}: {run:?}");
    }
}

#[test]
fn a_pass_answered_in_full_ends_without_waiting_out_the_timeout() {
    let timing = t4();
    let mut control = RateControl::new(&timing);
    let mut net = Net::new();
    let run = simulate(&mut control, &timing, 100, &mut net, Instant::now());
    assert_eq!((run.rates.len(), run.answered), (1, 100));
    assert!(run.elapsed < TIMEOUT, "{:?}", run.elapsed);
    assert_eq!(run.ended.len(), 1);
    assert_eq!((run.ended[0].pass, run.ended[0].sent, run.ended[0].recovered), (0, 100, 100));
}

#[test]
fn the_senders_speed_becomes_the_rate() {
    // The senders reached only 100k per second of the nominal 2M: the retry goes at half of that.
    let timing = t4();
    let mut control = RateControl::new(&timing);
    let t0 = Instant::now();
    let mut policy = PassPolicy::new(&mut control, &timing, 10_000, t0, 0);
    assert_eq!(policy.first(), Action::Send { rate: 2_000_000.0 });
    let sent_at = t0 + Duration::from_millis(100);
    assert_eq!(policy.pass_sent(sent_at, 10_000, TIMEOUT, 9000), Action::Wait { until: sent_at + TIMEOUT });
    assert_eq!(policy.tick(sent_at + TIMEOUT, 9000), Action::Send { rate: 50_000.0 });
    let ended = policy.take_ended().unwrap();
    assert_eq!((ended.pass, ended.recovered, ended.next_rate), (0, 9000, 100_000.0));
    assert_eq!(policy.take_ended(), None);
}

/// A first pass ends before any answer was timed, so its wait starts at the initial timeout; the round trips
/// measured while it waits shorten it (never lengthen it), and the next pass goes as soon as they say.
#[test]
fn measured_round_trips_shorten_the_wait_after_a_pass() {
    let ms = Duration::from_millis;
    let timing = Timing::default();
    let mut control = RateControl::new(&timing);
    let t0 = Instant::now();
    let mut policy = PassPolicy::new(&mut control, &timing, 10, t0, 0);
    assert!(matches!(policy.first(), Action::Send { .. }));
    let sent_at = t0 + ms(1);
    assert_eq!(policy.pass_sent(sent_at, 10, ms(500), 0), Action::Wait { until: sent_at + ms(500) });
    policy.refine_wait(ms(1000));
    assert_eq!(policy.tick(sent_at + ms(10), 5), Action::Wait { until: sent_at + ms(500) });
    policy.refine_wait(ms(20));
    assert_eq!(policy.tick(sent_at + ms(10), 5), Action::Wait { until: sent_at + ms(20) });
    assert!(matches!(policy.tick(sent_at + ms(21), 5), Action::Send { .. }));
}
