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

use super::icmp_pacing::{HostPacing, Step};
use super::io::{Link, Outbox, sender_threads};
use super::pass::PortPass;
use super::pass_policy::{Action, PassPolicy};
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

/// Waits out the hosts' ICMP rate limits (see [`super::icmp_pacing`]): each host that still has silent
/// probes is paced on its own until its silent probes are proven
/// silent. `rate` caps the probes of all hosts together. `ip_proto` words the note that says how long it
/// will take, given once the hosts' rates are measured.
pub fn run_paced(
    pass: &PortPass,
    links: &[Link],
    rate: f64,
    ip_proto: bool,
    control: &Control,
) -> Result<PassStats, NetError> {
    let mut stats = PassStats::default();
    let ports = pass.ports.len();
    if ports == 0 {
        return Ok(stats);
    }
    let start = Instant::now();
    // (host, its pacing, a probe it answered closed) for every host with silent probes.
    let mut hosts: Vec<(usize, HostPacing, Option<usize>)> = (0..pass.hosts.len())
        .filter_map(|h| {
            let indexes = h * ports..(h + 1) * ports;
            let closed = indexes
                .clone()
                .find(|&i| pass.results.get(i).is_some_and(|a| a.state == tojimari_core::PortState::Closed));
            indexes.clone().any(|i| pass.is_silent(i)).then(|| {
                let (answered, echoes) = pass.host_counts(h);
                (h, HostPacing::new(start, answered, echoes, closed.is_some()), closed)
            })
        })
        .collect();
    if hosts.is_empty() {
        return Ok(stats);
    }
    pass.pass_no.fetch_add(1, Ordering::Relaxed);
    let mut bucket = TokenBucket::new(rate.max(1.0), start);
    let mut outbox = Outbox::new(links, 0);
    let mut noted = false;
    let result = loop {
        if control.is_cancelled() {
            stats.interrupted = true;
            break Ok(());
        }
        let now = Instant::now();
        let timeout = pass.rtt.lock().map(|r| r.pass_wait(PASS_WAIT_FLOOR)).unwrap_or(Duration::from_secs(1));
        let mut wake = now + Duration::from_millis(1);
        let mut done = true;
        let mut failed = None;
        for (h, pacing, closed) in hosts.iter_mut() {
            let (answered, echoes) = pass.host_counts(*h);
            let base = *h * ports;
            let index = match pacing.poll(now, answered, echoes, timeout, ports, &|p| pass.is_silent(base + p)) {
                Step::Send(p) => base + p,
                Step::Canary => match closed {
                    Some(index) => *index,
                    None => continue,
                },
                Step::Wait(until) => {
                    done = false;
                    wake = wake.min(until);
                    continue;
                }
                Step::Done => continue,
            };
            done = false;
            while !bucket.try_take(Instant::now()) {
                std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
            }
            let build = &mut |buf: &mut [u8]| pass.build(index, buf, now);
            let pushed = match &pass.shaping {
                None => outbox.push(pass.link_of(index), build),
                Some(shaping) => shaped(&mut outbox, pass.link_of(index), shaping, build),
            };
            match pushed {
                Ok(pushed) => stats.sent += u64::from(pushed),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
        if let Err(e) = outbox.flush() {
            break Err(e);
        }
        if done {
            break Ok(());
        }
        if !noted && IcmpWait::ready(&hosts, now.duration_since(start)) {
            noted = true;
            if let Some(wait) = IcmpWait::estimate(pass, &hosts, ip_proto) {
                control.note(&wait);
            }
        }
        std::thread::sleep(wake.saturating_duration_since(Instant::now()).min(Duration::from_millis(1)));
    };
    stats.passes = 1;
    control.progress.sent.fetch_add(stats.sent, Ordering::Relaxed);
    control.progress.retransmissions.fetch_add(stats.sent, Ordering::Relaxed);
    control.progress.frames.fetch_add(outbox.frames, Ordering::Relaxed);
    result.map(|()| stats)
}

/// The note a long wait for ICMP errors gets: why the scan is slow, and how long it will take.
#[derive(Clone, Debug, PartialEq)]
pub struct IcmpWait {
    /// The host, when only one waits.
    pub host: Option<std::net::IpAddr>,
    pub hosts: usize,
    /// Its (their) silent probes.
    pub silent: u64,
    /// The answers a second a host allows (the slowest host's).
    pub per_second: f64,
    pub eta: Duration,
    pub ip_proto: bool,
}

impl IcmpWait {
    /// Whether the estimate can be made: some host is limited, and every limited host's rate is measured
    /// (or a few seconds went by).
    fn ready(hosts: &[(usize, HostPacing, Option<usize>)], elapsed: Duration) -> bool {
        let mut limited = hosts.iter().filter(|(_, p, _)| p.limited()).peekable();
        limited.peek().is_some() && (elapsed >= Duration::from_secs(5) || limited.all(|(_, p, _)| p.refill().is_some()))
    }

    /// The wait ahead, if long.
    fn estimate(pass: &PortPass, hosts: &[(usize, HostPacing, Option<usize>)], ip_proto: bool) -> Option<Self> {
        let limited: Vec<&(usize, HostPacing, Option<usize>)> = hosts.iter().filter(|(_, p, _)| p.limited()).collect();
        let ports = pass.ports.len();
        let mut silent = 0u64;
        let mut eta = Duration::ZERO;
        let mut slowest = Duration::ZERO;
        for (h, p, _) in &limited {
            let n = (h * ports..(h + 1) * ports).filter(|&i| pass.is_silent(i)).count() as u64;
            let gap = p.refill().unwrap_or(Duration::from_secs(1));
            silent += n;
            eta = eta.max(gap * n as u32);
            slowest = slowest.max(gap);
        }
        (eta >= Duration::from_secs(5)).then(|| IcmpWait {
            host: (limited.len() == 1).then(|| pass.hosts[limited[0].0]),
            hosts: limited.len(),
            silent,
            per_second: 1.0 / slowest.as_secs_f64().max(1e-3),
            eta,
            ip_proto,
        })
    }
}

impl std::fmt::Display for IcmpWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, error) =
            if self.ip_proto { ("protocols", "protocol-unreachable") } else { ("UDP ports", "port-unreachable") };
        let who = match self.host {
            Some(addr) => format!("{addr} sends"),
            None => format!("{} hosts send", self.hosts),
        };
        let secs = self.eta.as_secs();
        let eta = if secs >= 120 { format!("{} min", (secs + 30) / 60) } else { format!("{secs} s") };
        write!(
            f,
            "{who} ICMP {error} errors at about {:.1}/s (a rate limit): {} silent {what} are probed again at that \
             pace until each closed one has said so, about {eta} more",
            self.per_second, self.silent
        )
    }
}

impl tojimari_core::diagnostic::Diagnostic for IcmpWait {
    fn level(&self) -> tojimari_core::diagnostic::Level {
        tojimari_core::diagnostic::Level::Note
    }

    fn hint(&self) -> Option<String> {
        self.ip_proto.then(|| "--defeat-icmp-ratelimit skips the wait and leaves them open|filtered".to_string())
    }
}
