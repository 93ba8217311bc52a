//! Sending a pass: every unanswered probe index, in the seeded order, paced, batched, then waiting for the
//! stragglers. Passes repeat for the probes still silent, as long as retries keep recovering answers.
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
    let workers = if timing.max_parallelism.is_some_and(|p| p < 8) { 1 } else { sender_threads() };
    let total = pass.len();
    // Retry passes in a row that recovered nothing.
    let mut silent_retries = 0u32;
    loop {
        let answered_before = pass.results.answered();
        pass.pass_no.store(stats.passes, Ordering::Relaxed);
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
        if retries_done >= 1 {
            silent_retries = if recovered == 0 { silent_retries + 1 } else { 0 };
        }
        // nmap's rule, made per pass: one retry always; more while retries still recover answers. Once a
        // retry has recovered something (loss is real), stop only after two silent retries in a row: with
        // few probes left, one unlucky pass must not end the scan early.
        let stop = pass.results.answered() as usize >= total
            || retries_done >= timing.max_retries
            || (retries_done == 1 && recovered == 0)
            || silent_retries >= 2;
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
    let mut batch = Batch::new();
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
