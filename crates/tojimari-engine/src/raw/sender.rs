//! Sending a pass: every unanswered probe index, in the seeded order, paced, batched, then waiting for the
//! stragglers. Passes repeat for the probes still silent, as long as retries keep recovering answers.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tojimari_core::permutation::Permutation;
use tojimari_core::timing::Timing;
use tojimari_net::NetError;

use super::io::{Batch, Link};
use super::pass::PortPass;
use crate::control::Control;
use crate::rate::TokenBucket;

/// How a run of passes went.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    pub passes: u32,
    pub sent: u64,
    pub interrupted: bool,
}

/// Probes per second when no --max-rate is given: as fast as the sender goes, within reason.
pub const DEFAULT_RATE: f64 = 2_000_000.0;

/// Sends the pass until every probe has an answer or retries stop helping. `order` is over the pass's
/// index space.
pub fn run_passes(
    pass: &PortPass,
    order: &Permutation,
    links: &[Link],
    timing: &Timing,
    control: &Control,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let rate = timing.max_rate.unwrap_or(DEFAULT_RATE);
    let mut bucket = TokenBucket::new(rate, Instant::now());
    let mut batch = Batch::new();
    let total = pass.len();
    let mut recovered_last = u64::MAX;
    loop {
        let answered_before = pass.results.answered();
        let mut sent_this_pass = 0u64;
        for i in 0..order.len() {
            if control.is_cancelled() {
                stats.interrupted = true;
                batch.flush(links)?;
                return Ok(stats);
            }
            let index = order.get(i) as usize;
            if pass.results.is_answered(index) {
                continue;
            }
            while !bucket.try_take(Instant::now()) {
                if !batch.is_empty() {
                    batch.flush(links)?;
                }
                std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
            }
            let (link, len) = pass.build(index, batch.slot(), Instant::now());
            batch.push(link, len);
            sent_this_pass += 1;
            if batch.is_full() {
                batch.flush(links)?;
                control.progress.sent.fetch_add(super::io::BATCH as u64, Ordering::Relaxed);
            }
        }
        batch.flush(links)?;
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
            std::thread::sleep(Duration::from_millis(2));
        }
        let recovered = pass.results.answered() - answered_before;
        let retries_done = stats.passes - 1;
        // nmap's rule, made per pass: one retry always; more only while retries still recover answers.
        let stop = pass.results.answered() as usize >= total
            || retries_done >= timing.max_retries
            || (retries_done >= 1 && recovered == 0)
            || (retries_done >= 1 && recovered_last == 0);
        recovered_last = if stats.passes > 1 { recovered } else { u64::MAX };
        if stop {
            return Ok(stats);
        }
    }
}
