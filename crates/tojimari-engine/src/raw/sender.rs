//! Sending a pass: every unanswered probe index, in the seeded order, paced, batched, then waiting for the
//! stragglers. Passes repeat for the probes still silent, as [`super::retry_rule`] decides.
//!
//! Each pass is sent by one thread per core: thread k takes the order's positions k, k+N, k+2N... with
//! its own sockets and its share of the rate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tojimari_core::permutation::Permutation;
use tojimari_core::timing::Timing;
use tojimari_net::NetError;

use super::io::{Batch, Link, sender_threads};
use super::pass::PortPass;
use super::retry_rule::RetryRule;
use crate::control::Control;
use crate::rate::TokenBucket;

/// How a run of passes went.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    pub passes: u32,
    pub sent: u64,
    pub interrupted: bool,
}

/// Probes per second when no --max-rate is given: as fast as the senders go, within reason.
pub const DEFAULT_RATE: f64 = 2_000_000.0;

/// The sending rate, adapted across passes, techniques and host groups.
///
/// Random loss and congestion look alike in one pass; they differ in how loss depends on the rate. Each
/// retry pass is sent at half the rate of the pass before. If the share of probes answered then grows
/// markedly (1.5x or more), the losses were caused by the rate (a queue overflowing, a rate limiter):
/// the rate is halved for what follows (multiplicative decrease). If it stays flat, the loss is random
/// (or the ports are filtered): the rate is kept and retransmission closes the gap; nmap, which treats
/// every loss as congestion, slows down here for nothing. Between host groups the rate creeps back up
/// (x1.25), never above `--max-rate` nor below `--min-rate`.
#[derive(Clone, Debug)]
pub struct RateControl {
    rate: f64,
    min: f64,
    max: f64,
    /// Times the controller backed off.
    pub backoffs: u32,
}

impl RateControl {
    pub fn new(timing: &Timing) -> Self {
        let mut max = timing.max_rate.unwrap_or(DEFAULT_RATE);
        if !timing.scan_delay.is_zero() {
            // --scan-delay (and -T0..-T2): at most one probe per delay.
            max = max.min(1.0 / timing.scan_delay.as_secs_f64());
        }
        let min = timing.min_rate.unwrap_or(0.0).min(max);
        RateControl { rate: max, min, max, backoffs: 0 }
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn retry_rate(&self) -> f64 {
        (self.rate / 2.0).max(self.min).max(1.0)
    }

    /// A retry pass answered `answered_share` of its probes; the pass before answered `before_share`.
    fn observe(&mut self, before_share: f64, answered_share: f64, samples: u64) -> bool {
        let congested = samples >= 32 && before_share < 0.98 && answered_share >= 1.5 * before_share.max(0.01);
        if congested {
            self.rate = (self.rate / 2.0).max(self.min).max(1.0);
            self.backoffs += 1;
        }
        congested
    }

    /// The senders reached only `achieved` probes per second: that, not the nominal ceiling, is the rate
    /// the next decisions start from.
    fn achieved(&mut self, achieved: f64) {
        if achieved.is_finite() && achieved > 0.0 && achieved < self.rate {
            self.rate = achieved.max(self.min).max(1.0);
        }
    }

    /// Called between host groups: probe upwards again.
    pub fn recover(&mut self) {
        self.rate = (self.rate * 1.25).min(self.max);
    }
}

/// Sends the pass until every probe has an answer or retries stop helping. `order` is over the pass's
/// index space.
pub fn run_passes(
    pass: &PortPass,
    order: &Permutation,
    links: &[Link],
    timing: &Timing,
    rate_control: &mut RateControl,
    control: &Control,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let serial = timing.max_parallelism.is_some_and(|p| p < 8) || !timing.scan_delay.is_zero();
    let workers = if serial { 1 } else { sender_threads() };
    let mut rate = rate_control.rate();
    let mut share_before = 1.0f64;
    let total = pass.len();
    let mut retry_rule = RetryRule::default();
    loop {
        let answered_before = pass.results.answered();
        pass.pass_no.store(stats.passes, Ordering::Relaxed);
        let send_started = Instant::now();
        let stop_flag = AtomicBool::new(false);
        let sent: Result<Vec<u64>, NetError> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let stop_flag = &stop_flag;
                    s.spawn(move || {
                        send_share(pass, order, links, w, workers, rate / workers as f64, control, stop_flag)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(Ok(0))).collect()
        });
        let sent_this_pass: u64 = sent?.iter().sum();
        let send_time = send_started.elapsed().as_secs_f64();
        if sent_this_pass >= 1000 {
            rate_control.achieved(sent_this_pass as f64 / send_time);
        }
        control.progress.sent.fetch_add(sent_this_pass, Ordering::Relaxed);
        if control.is_cancelled() {
            stats.interrupted = true;
            return Ok(stats);
        }
        stats.sent += sent_this_pass;
        if stats.passes > 0 {
            control.progress.retransmissions.fetch_add(sent_this_pass, Ordering::Relaxed);
        }
        stats.passes += 1;

        // Wait for the answers still on their way: the probe timeout after the last send, or less if
        // everything has answered.
        let timeout = pass.rtt.lock().map(|r| r.timeout()).unwrap_or(timing.initial_rtt_timeout);
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && (pass.results.answered() as usize) < total {
            if control.is_cancelled() {
                stats.interrupted = true;
                return Ok(stats);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let recovered = pass.results.answered() - answered_before;
        let retries_done = stats.passes - 1;
        let share = if sent_this_pass == 0 { 1.0 } else { recovered as f64 / sent_this_pass as f64 };
        if retries_done >= 1 && rate_control.observe(share_before, share, sent_this_pass) {
            control.progress.backoffs.fetch_add(1, Ordering::Relaxed);
        }
        if std::env::var_os("TOJIMARI_DEBUG_PASSES").is_some() {
            eprintln!(
                "pass {}: sent {sent_this_pass} in {send_time:.3}s at <= {rate:.0}/s, recovered {recovered} (share {share:.3}), controller {:.0}/s",
                stats.passes - 1,
                rate_control.rate()
            );
        }
        share_before = share;
        rate = if retries_done == 0 { rate_control.retry_rate() } else { rate_control.rate().min(rate) };
        let all_answered = pass.results.answered() as usize >= total;
        let stop = retry_rule.stop_after(retries_done, recovered, all_answered, timing.max_retries);
        if stop {
            return Ok(stats);
        }
    }
}

/// One sending thread's share of a pass: positions `worker, worker + workers, ...` of the order.
#[allow(clippy::too_many_arguments)]
fn send_share(
    pass: &PortPass,
    order: &Permutation,
    links: &[Link],
    worker: usize,
    workers: usize,
    rate: f64,
    control: &Control,
    stop: &AtomicBool,
) -> Result<u64, NetError> {
    let mut bucket = TokenBucket::new(rate, Instant::now());
    let mut batch = Batch::for_rate(rate);
    let mut sent = 0u64;
    let mut i = worker as u64;
    while i < order.len() {
        if control.is_cancelled() || stop.load(Ordering::Relaxed) {
            break;
        }
        let index = order.get(i) as usize;
        i += workers as u64;
        if pass.results.is_answered(index) {
            continue;
        }
        while !bucket.try_take(Instant::now()) {
            if !batch.is_empty() {
                batch.flush(links, worker)?;
            }
            std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
        }
        let (link, len) = pass.build(index, batch.slot(), Instant::now());
        if len == 0 {
            continue;
        }
        batch.push(link, len);
        sent += 1;
        if batch.is_full() {
            batch.flush(links, worker)?;
        }
    }
    if let Err(e) = batch.flush(links, worker) {
        stop.store(true, Ordering::Relaxed);
        return Err(e);
    }
    Ok(sent)
}

/// `--udp-full-split`: the probes still silent are sent again at `rate` (the ICMP port-unreachable rate the
/// targets showed), so that each closed port gets its ICMP answer despite the targets' rate limit. A pass
/// that recovers nothing halves the rate (the estimate included the limiter's initial burst); three such
/// passes in a row end it.
pub fn run_slow_passes(
    pass: &PortPass,
    order: &Permutation,
    links: &[Link],
    rate: f64,
    control: &Control,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let mut silent = 0;
    let mut rate = rate;
    let stop = AtomicBool::new(false);
    while silent < 3 && (pass.results.answered() as usize) < pass.len() {
        let before = pass.results.answered();
        pass.pass_no.fetch_add(1, Ordering::Relaxed);
        stats.sent += send_share(pass, order, links, 0, 1, rate, control, &stop)?;
        stats.passes += 1;
        // Wait at least one pacing interval too: the next pass's first probe must not come sooner than
        // the rate allows, or a pass of one probe meets an empty ICMP token bucket every time.
        let timeout = pass.rtt.lock().map(|r| r.timeout()).unwrap_or(Duration::from_secs(1));
        let deadline = Instant::now() + timeout.max(Duration::from_secs_f64(1.0 / rate));
        while Instant::now() < deadline {
            if control.is_cancelled() {
                stats.interrupted = true;
                return Ok(stats);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if pass.results.answered() == before {
            silent += 1;
            rate = (rate / 2.0).max(0.25);
        } else {
            silent = 0;
        }
    }
    Ok(stats)
}
