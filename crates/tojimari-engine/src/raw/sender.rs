//! Sending a pass: every unanswered probe index, in the seeded order, paced, batched, then waiting for the
//! stragglers. This is the adapter between sockets and clocks and the pure [`super::pass_policy`], which
//! decides when to send, at what rate, and when to stop.
//!
//! Each pass is sent by one thread per core: thread k takes the order's positions k, k+N, k+2N... with
//! its own sockets and its share of the rate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tojimari_core::permutation::Permutation;
use tojimari_core::timing::Timing;
use tojimari_net::NetError;

use super::io::{Link, Outbox, sender_threads};
use super::pass::PortPass;
use super::pass_policy::{Action, PassPolicy, SlowPassPolicy};
use super::rate_control::RateControl;
use crate::control::Control;
use crate::rate::TokenBucket;
use crate::trace::Tracer;

/// The shortest wait for late answers after a pass: the receive ring hands a block over at the latest
/// [`super::io::RX_RETIRE_MS`] milliseconds after its first frame, and the receiver thread may wait a scheduler slice to run.
const PASS_WAIT_FLOOR: Duration = Duration::from_millis(20);

/// The order of a pass's first tries: the seeded order of the whole (host x port) index space, or the
/// probes a selection picked (already in the scan's order).
#[derive(Debug)]
pub enum FirstPass {
    Seeded(Permutation),
    Picks(Vec<u32>),
}

impl FirstPass {
    fn len(&self) -> u64 {
        match self {
            FirstPass::Seeded(p) => p.len(),
            FirstPass::Picks(p) => p.len() as u64,
        }
    }

    fn get(&self, i: u64) -> usize {
        match self {
            FirstPass::Seeded(p) => p.get(i) as usize,
            FirstPass::Picks(p) => p[i as usize] as usize,
        }
    }

    /// `-r`: retries go in order too.
    fn in_order(&self) -> bool {
        match self {
            FirstPass::Seeded(p) => p.is_identity(),
            FirstPass::Picks(_) => false,
        }
    }
}

/// How a run of passes went.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PassStats {
    pub passes: u32,
    pub sent: u64,
    pub interrupted: bool,
}

/// Sends the passes [`PassPolicy`] asks for, until every probe has an answer or retries stop helping.
/// `order` is over the pass's index space.
pub fn run_passes(
    pass: &PortPass,
    order: &FirstPass,
    links: &[Link],
    timing: &Timing,
    rate_control: &mut RateControl,
    control: &Control,
    trace: &Tracer,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let serial = timing.max_parallelism.is_some_and(|p| p < 8) || !timing.scan_delay.is_zero();
    let workers = if serial { 1 } else { sender_threads() };
    let total = pass.selected() as u64;
    let mut policy = PassPolicy::new(rate_control, timing, total, Instant::now(), pass.results.answered());
    let mut action = policy.first();
    loop {
        match action {
            Action::Send { rate } => {
                pass.pass_no.store(policy.pass_no(), Ordering::Relaxed);
                let sent = send_pass(pass, order, links, workers, rate, control)?;
                control.progress.sent.fetch_add(sent, Ordering::Relaxed);
                if control.is_cancelled() {
                    stats.interrupted = true;
                    return Ok(stats);
                }
                stats.sent += sent;
                if stats.passes > 0 {
                    control.progress.retransmissions.fetch_add(sent, Ordering::Relaxed);
                }
                stats.passes += 1;
                let timeout =
                    pass.rtt.lock().map(|r| r.pass_wait(PASS_WAIT_FLOOR)).unwrap_or(timing.initial_rtt_timeout);
                action = policy.pass_sent(Instant::now(), sent, timeout, pass.results.answered());
            }
            Action::Wait { until } => {
                if control.is_cancelled() {
                    stats.interrupted = true;
                    return Ok(stats);
                }
                std::thread::sleep(until.saturating_duration_since(Instant::now()).min(Duration::from_millis(1)));
                if let Ok(rtt) = pass.rtt.lock() {
                    policy.refine_wait(rtt.pass_wait(PASS_WAIT_FLOOR));
                }
                action = policy.tick(Instant::now(), pass.results.answered());
            }
            Action::Stop => return Ok(stats),
        }
        if let Some(ended) = policy.take_ended() {
            if ended.backed_off {
                control.progress.backoffs.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(t) = trace.get() {
                t.pass(&ended, Instant::now());
            }
        }
    }
}

/// One pass: every unanswered probe, by `workers` threads sharing `rate`. Returns the probes sent.
fn send_pass(
    pass: &PortPass,
    order: &FirstPass,
    links: &[Link],
    workers: usize,
    rate: f64,
    control: &Control,
) -> Result<u64, NetError> {
    if pass.pass_no.load(Ordering::Relaxed) > 0 && !pass.retry_pending(pass.pass_no.load(Ordering::Relaxed)) {
        return Ok(0);
    }
    let stop_flag = AtomicBool::new(false);
    let sent: Result<Vec<u64>, NetError> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let stop_flag = &stop_flag;
                s.spawn(move || send_share(pass, order, links, w, workers, rate / workers as f64, control, stop_flag))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(Ok(0))).collect()
    });
    Ok(sent?.iter().sum())
}

/// One sending thread's share of a pass: positions `worker, worker + workers, ...` of the order.
#[allow(clippy::too_many_arguments)]
fn send_share(
    pass: &PortPass,
    order: &FirstPass,
    links: &[Link],
    worker: usize,
    workers: usize,
    rate: f64,
    control: &Control,
    stop: &AtomicBool,
) -> Result<u64, NetError> {
    let mut bucket = TokenBucket::new(rate, Instant::now());
    let mut outbox = Outbox::for_rate(links, worker, rate);
    let mut sent = 0u64;
    let pass_no = pass.pass_no.load(Ordering::Relaxed);
    let mut failed: Option<NetError> = None;
    // Sends one probe, paced; false to stop the walk (cancelled, another thread failed, or a send error).
    let mut send = |index: usize| -> bool {
        if control.is_cancelled() || stop.load(Ordering::Relaxed) {
            return false;
        }
        let mut now = Instant::now();
        while !bucket.try_take(now) {
            if !outbox.is_empty()
                && let Err(e) = outbox.flush()
            {
                failed = Some(e);
                return false;
            }
            std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
            now = Instant::now();
        }
        let pushed = match &pass.shaping {
            None => outbox.push(pass.link_of(index), &mut |buf| pass.build(index, buf, now)),
            Some(shaping) => shaped(&mut outbox, pass.link_of(index), shaping, &mut |buf| pass.build(index, buf, now)),
        };
        match pushed {
            Ok(pushed) => {
                sent += u64::from(pushed);
                true
            }
            Err(e) => {
                failed = Some(e);
                false
            }
        }
    };
    if pass_no == 0 {
        // The first pass: every probe, in the seeded order, but those a previous run had answered (only a
        // resumed pass has any before it starts: the others skip the lookup, a cache miss per probe on a
        // large pass).
        let resumed = pass.results.answered() > 0;
        let mut i = worker as u64;
        while i < order.len() {
            let index = order.get(i);
            i += workers as u64;
            if resumed && pass.results.is_answered(index) {
                continue;
            }
            if !send(index) {
                break;
            }
        }
    } else {
        // A retry: the units of hosts' ports in a seeded order (in order with `-r`), only what the retry
        // rule wants.
        let n = pass.retry_units() as u64;
        let units = if order.in_order() {
            Permutation::identity(n)
        } else {
            Permutation::new(n, u64::from(pass_no) ^ 0x7e72_u64)
        };
        let mut u = worker as u64;
        while u < units.len() && pass.for_each_retry(units.get(u) as usize, pass_no, &mut send) {
            u += workers as u64;
        }
    }
    let result = match failed {
        Some(e) => Err(e),
        None => outbox.flush(),
    };
    control.progress.frames.fetch_add(outbox.frames, Ordering::Relaxed);
    if let Err(e) = result {
        stop.store(true, Ordering::Relaxed);
        return Err(e);
    }
    Ok(sent)
}

/// Sends the probe `build` writes through `shaping` on `link`: decoys, fragments and all. Returns whether
/// our own copy was sent (the probe counts once).
pub(super) fn shaped(
    outbox: &mut Outbox<'_>,
    link: u16,
    shaping: &tojimari_packet::Shaping,
    build: &mut dyn FnMut(&mut [u8]) -> usize,
) -> Result<bool, NetError> {
    let mut probe = [0u8; tojimari_packet::MAX_FRAME];
    let n = build(&mut probe);
    if n == 0 {
        return Ok(false);
    }
    let mut result = Ok(false);
    shaping.shape(&probe[..n], &mut |frame, ours| {
        if result.is_err() {
            return;
        }
        let copy = &mut |buf: &mut [u8]| match buf.get_mut(..frame.len()) {
            Some(out) => {
                out.copy_from_slice(frame);
                frame.len()
            }
            None => 0,
        };
        match outbox.push(link, copy) {
            Ok(pushed) if ours => result = Ok(pushed),
            Ok(_) => {}
            Err(e) => result = Err(e),
        }
    });
    result
}

/// `--udp-full-split`: sends the passes [`SlowPassPolicy`] asks for, starting at `rate` (the ICMP
/// port-unreachable rate the targets showed).
pub fn run_slow_passes(
    pass: &PortPass,
    order: &FirstPass,
    links: &[Link],
    rate: f64,
    control: &Control,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let stop = AtomicBool::new(false);
    let mut policy = SlowPassPolicy::new(rate, pass.selected() as u64, Instant::now(), pass.results.answered());
    let mut action = policy.first();
    loop {
        match action {
            Action::Send { rate } => {
                pass.pass_no.fetch_add(1, Ordering::Relaxed);
                stats.sent += send_share(pass, order, links, 0, 1, rate, control, &stop)?;
                stats.passes += 1;
                let timeout = pass.rtt.lock().map(|r| r.timeout()).unwrap_or(Duration::from_secs(1));
                action = policy.pass_sent(Instant::now(), timeout);
            }
            Action::Wait { until } => {
                if control.is_cancelled() {
                    stats.interrupted = true;
                    return Ok(stats);
                }
                std::thread::sleep(until.saturating_duration_since(Instant::now()).min(Duration::from_millis(5)));
                action = policy.tick(Instant::now(), pass.results.answered());
            }
            Action::Stop => return Ok(stats),
        }
    }
}
