//! The pacing against simulated hosts on a fake clock: Linux's limiter (a token bucket per destination,
//! one token a second, six saved up, a refused probe costing nothing), a faster limiter, no limiter, and
//! several hosts at once. The simulation plays the adapter's part as `sender::run_paced` does: every
//! millisecond each host is polled and its probe, if any, sent.

use std::time::{Duration, Instant};

use super::*;

/// A token bucket on the fake clock, Linux's way: a refused probe takes nothing.
struct Limiter {
    per: Duration,
    burst: u32,
    tokens: f64,
    last: Instant,
}

impl Limiter {
    fn new(per: Duration, burst: u32, now: Instant) -> Self {
        Limiter { per, burst, tokens: 0.0, last: now }
    }

    fn allow(&mut self, now: Instant) -> bool {
        let add = now.saturating_duration_since(self.last).as_secs_f64() / self.per.as_secs_f64();
        self.tokens = (self.tokens + add).min(f64::from(self.burst));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A host with `ports` ports: `silent` never answer, the others are closed and answer through the
/// limiter (`None`: no limiter). `known` closed ports are answered already (the normal passes' burst).
struct Host {
    limiter: Option<Limiter>,
    silent: Vec<usize>,
    answered: Vec<bool>,
    echoes: u32,
    /// Answers in flight: (arrival, port position or None for a canary).
    flying: Vec<(Instant, Option<usize>)>,
}

impl Host {
    fn new(ports: usize, silent: &[usize], known: usize, limiter: Option<Limiter>) -> Host {
        let mut answered = vec![false; ports];
        let mut k = 0;
        for (p, a) in answered.iter_mut().enumerate() {
            if k < known && !silent.contains(&p) {
                *a = true;
                k += 1;
            }
        }
        Host { limiter, silent: silent.to_vec(), answered, echoes: 0, flying: Vec::new() }
    }

    fn probe(&mut self, now: Instant, port: Option<usize>) {
        if port.is_some_and(|p| self.silent.contains(&p)) {
            return;
        }
        if self.limiter.as_mut().is_none_or(|l| l.allow(now)) {
            self.flying.push((now + Duration::from_millis(1), port));
        }
    }

    fn arrive(&mut self, now: Instant) {
        let (due, later): (Vec<_>, Vec<_>) = self.flying.drain(..).partition(|(t, _)| *t <= now);
        self.flying = later;
        for (_, port) in due {
            match port {
                Some(p) if !self.answered[p] => self.answered[p] = true,
                _ => self.echoes += 1,
            }
        }
    }

    fn count(&self) -> u32 {
        self.answered.iter().filter(|a| **a).count() as u32
    }
}

const TIMEOUT: Duration = Duration::from_millis(100);

/// Runs the pacing of `hosts` from `start` until every host is done; returns the time it took.
fn run(hosts: &mut [Host], start: Instant) -> Duration {
    let mut pacing: Vec<HostPacing> =
        hosts.iter().map(|h| HostPacing::new(start, h.count(), h.echoes, h.count() > 0)).collect();
    let mut now = start;
    while !pacing.iter().all(HostPacing::is_done) {
        for (h, p) in hosts.iter_mut().zip(pacing.iter_mut()) {
            h.arrive(now);
            let answered = h.answered.clone();
            let ports = answered.len();
            match p.poll(now, h.count(), h.echoes, TIMEOUT, ports, &|i| !answered[i]) {
                Step::Send(i) => h.probe(now, Some(i)),
                Step::Canary => h.probe(now, None),
                Step::Wait(_) | Step::Done => {}
            }
        }
        now += Duration::from_millis(1);
        assert!(now - start < Duration::from_secs(900), "never ended");
    }
    now - start
}

fn closed_all_found(h: &Host) -> bool {
    h.answered.iter().enumerate().all(|(p, a)| *a != h.silent.contains(&p))
}

#[test]
fn a_linux_host_is_waited_out_at_its_refill_rate() {
    // 256 protocols: 3 open (answered, not silent), 3 silent, 6 closed answered in the normal passes'
    // burst; the bucket is empty when the pacing starts. 244 closed left at one a second.
    let start = Instant::now();
    let mut host = Host::new(256, &[2, 47, 136], 9, Some(Limiter::new(Duration::from_secs(1), 6, start)));
    let took = run(std::slice::from_mut(&mut host), start);
    assert!(closed_all_found(&host), "every closed protocol answered, the silent ones left silent");
    let closed_left = 256 - 3 - 9;
    assert!(took.as_secs_f64() < closed_left as f64 + 8.0, "{took:?} for {closed_left} answers at 1/s");
    assert!(took.as_secs_f64() > closed_left as f64 - 2.0, "faster than the limiter allows? {took:?}");
}

#[test]
fn several_hosts_take_no_longer_than_one() {
    let start = Instant::now();
    let mut hosts: Vec<Host> =
        (0..4).map(|i| Host::new(60, &[5 + i, 40], 4, Some(Limiter::new(Duration::from_secs(1), 6, start)))).collect();
    let took = run(&mut hosts, start);
    assert!(hosts.iter().all(closed_all_found));
    assert!(took < Duration::from_secs(62), "{took:?}");
}

#[test]
fn a_host_without_a_limit_is_done_after_the_check() {
    let start = Instant::now();
    let mut host = Host::new(256, &[2, 47, 136], 253, None);
    let took = run(std::slice::from_mut(&mut host), start);
    assert!(took < Duration::from_millis(150), "{took:?}");
    let mut p = HostPacing::new(start, 1, 0, true);
    assert!(!p.limited() && !p.is_done());
    assert_eq!(p.poll(start, 1, 0, TIMEOUT, 2, &|_| true), Step::Canary);
}

#[test]
fn a_host_whose_bucket_was_emptied_before_is_still_waited_out() {
    // Another scan took every token just before: the normal passes got no closed answer at all (3 open
    // protocols answered), so there is no canary; its first sweep a second later finds the closed ones.
    let start = Instant::now();
    let mut host = Host::new(40, &[2], 0, Some(Limiter::new(Duration::from_secs(1), 6, start)));
    for p in [1, 6, 17] {
        host.answered[p] = true;
        host.silent.push(p);
    }
    let mut pacing = HostPacing::new(start, 3, 0, false);
    let mut now = start;
    while !pacing.is_done() {
        host.arrive(now);
        let answered = host.answered.clone();
        match pacing.poll(now, host.count(), host.echoes, TIMEOUT, 40, &|i| !answered[i]) {
            Step::Send(i) => host.probe(now, Some(i)),
            Step::Canary => panic!("no canary without a closed answer"),
            _ => {}
        }
        now += Duration::from_millis(1);
        assert!(now - start < Duration::from_secs(60));
    }
    assert_eq!(host.count(), 39, "every closed protocol found, 2 left silent");
}

#[test]
fn a_host_that_answers_nothing_costs_a_second_and_two_quick_sweeps() {
    let start = Instant::now();
    let mut host = Host::new(256, &(0..256).collect::<Vec<_>>(), 0, None);
    let took = run(std::slice::from_mut(&mut host), start);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_faster_limiter_is_met_at_its_own_pace() {
    // IPv6 on a /64 with this kernel's default: a token every 25 ms. 200 closed ports in well under 10 s.
    let start = Instant::now();
    let mut host = Host::new(210, &[7], 5, Some(Limiter::new(Duration::from_millis(25), 6, start)));
    let took = run(std::slice::from_mut(&mut host), start);
    assert!(closed_all_found(&host));
    assert!(took < Duration::from_secs(9), "{took:?}");
}

#[test]
fn a_limited_host_with_a_burst_left_is_not_taken_for_an_unlimited_one() {
    // The bucket refilled to its 6 tokens while other hosts were scanned: 6 of the 8 canaries answer.
    let start = Instant::now();
    let mut limiter = Limiter::new(Duration::from_secs(1), 6, start);
    limiter.tokens = 6.0;
    let mut host = Host::new(30, &[3], 2, Some(limiter));
    run(std::slice::from_mut(&mut host), start);
    assert!(closed_all_found(&host));
}
