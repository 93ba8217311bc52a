//! Traceroute (`--traceroute`) as the last phase of a host group, after its port passes and OS detection.
//!
//! Each up host is traced with a probe that drew an answer from it during the scan ([`pick_probe`]): a SYN
//! to a closed TCP port (a reset is what any stack and most firewalls let back), else to an open one, else a
//! datagram to a closed UDP port, else an ICMP echo request. The TTL a probe carries is in its source port
//! (TCP, UDP: `base + TTL`) or its echo sequence number, which the host's answer and a router's time
//! exceeded (whose quote holds our ports, or the echo's identifier and sequence) both give back.
//!
//! The plan of each trace is [`crate::route::RouteTrace`]: the first TTL is the distance the scan's answer
//! suggested, then down (or up) one TTL at a time. Every host has at most one probe out; the probes of all
//! the hosts go together in rounds, and a round waits for its answers (or the timeout: a silent TTL is asked
//! again a second later, when a rate-limiting router has a token again, before it is a silent hop). Hosts sharing the interface, the next hop and the TTL their answers
//! arrived with are traced in two waves: the first host of each such class alone first, so that the others find its routers in the [`HopCache`] (and
//! copy the hops below one they meet at the same TTL) instead of asking every router again. A follower whose
//! host answers at the same TTL as its leader's, from the same guess, copies all of the leader's routers
//! without asking them: routers rate-limit their time-exceeded messages (Linux: a burst of six, then one a
//! second per destination), so a /24 behind one router would otherwise see its routers fall silent after a
//! few hosts. The report says so ("Hops 1-N are the same as for ..."), as nmap's does.
//!
//! A host on the local link is one hop away and is not probed, as with nmap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tojimari_core::route::{Trace, TraceProbe};
use tojimari_core::{PortResult, PortState, Protocol, Reason, ScanType};
use tojimari_net::NetError;
use tojimari_packet::{Probing, Reply, UdpProbe, build_echo, build_tcp, build_udp};

use super::io::{Link, Outbox, ReplyHandler};
use super::pass::{HostLink, Identity};
use crate::control::Control;
use crate::route::{Answer, HopCache, MAX_TTL, RouteTrace, guess_distance};

/// Sends of one TTL before it counts as a silent hop.
const TRIES: u8 = 2;
/// The least time between two sends of one TTL: routers rate-limit their time-exceeded messages (Linux: one
/// a second per destination after a burst of six), so an immediate second try would often meet the same
/// empty bucket.
const RETRY_GAP: Duration = Duration::from_millis(1100);

/// One host to trace.
#[derive(Clone, Debug)]
pub struct RouteHost {
    pub dst: IpAddr,
    pub link: HostLink,
    pub probe: TraceProbe,
    /// The TTL of the scan's answer that chose the probe (0: unknown, the trace starts at TTL 1).
    pub reply_ttl: u8,
}

/// The probe for a host's trace, from its scan results, and the TTL its answer arrived with: a closed TCP
/// port first, then an open one, then a closed UDP port; `None` when no port answered (the caller uses the
/// echo request).
pub fn pick_probe(results: &[PortResult]) -> Option<(TraceProbe, u8)> {
    let find = |proto: Protocol, state: PortState| {
        results.iter().find(|r| r.proto == proto && r.state == state && r.reason_ttl > 0)
    };
    let tcp_answered = |r: &&PortResult| r.proto == Protocol::Tcp && r.reason_ttl > 0 && r.reason == Reason::Reset;
    find(Protocol::Tcp, PortState::Closed)
        .or_else(|| results.iter().find(tcp_answered))
        .or_else(|| find(Protocol::Tcp, PortState::Open))
        .or_else(|| find(Protocol::Udp, PortState::Closed))
        .map(|r| (TraceProbe::Port { proto: r.proto, port: r.port }, r.reason_ttl))
}

/// The ICMP echo's protocol number for `dst`'s family.
pub fn echo_probe(dst: IpAddr) -> TraceProbe {
    TraceProbe::Proto { number: if dst.is_ipv4() { 1 } else { 58 } }
}

/// The probe out for one host, and its answer once it came.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    ttl: u8,
    sent: Option<Instant>,
    answer: Option<Answer>,
}

/// The hosts of a group under trace, fed by the receiver.
#[derive(Debug)]
pub struct RoutePass {
    id: Identity,
    /// Source port (TCP, UDP) or echo sequence number of the probe at TTL `t`: `base + t`.
    base: u16,
    icmp_id: u16,
    hosts: Vec<RouteHost>,
    index: HashMap<IpAddr, u32>,
    slots: Vec<Mutex<Slot>>,
    /// Time-exceeded messages about a traced host that quoted no probe of ours.
    ignored: AtomicU64,
}

impl RoutePass {
    pub fn new(id: Identity, hosts: Vec<RouteHost>) -> RoutePass {
        let salt = id.key.cookie(IpAddr::from([0u8; 4]), IpAddr::from([0u8; 4]), 7, 7);
        // Clear of the scan's own source ports (61000-63999 and the UDP spread above them).
        let base = 40000 + (salt % 8000) as u16;
        let icmp_id = (salt >> 16) as u16;
        let index = hosts.iter().enumerate().map(|(i, h)| (h.dst, i as u32)).collect();
        let slots = hosts.iter().map(|_| Mutex::new(Slot::default())).collect();
        RoutePass { id, base, icmp_id, hosts, index, slots, ignored: AtomicU64::new(0) }
    }

    fn slot(&self, h: usize) -> std::sync::MutexGuard<'_, Slot> {
        self.slots[h].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The TTL a source port (or echo sequence number) stands for.
    fn ttl_of(&self, marker: u16) -> Option<u8> {
        let t = marker.wrapping_sub(self.base);
        (1..=u16::from(MAX_TTL)).contains(&t).then_some(t as u8)
    }

    fn build(&self, h: usize, ttl: u8, buf: &mut [u8]) -> usize {
        let host = &self.hosts[h];
        let (ours, l2) = (host.link.src, &host.link.l2);
        let marker = self.base + u16::from(ttl);
        match host.probe {
            TraceProbe::Port { proto: Protocol::Tcp, port } => {
                let mut p = self.id.tcp_probe(ScanType::Syn, ours, host.dst, marker, port);
                p.ttl = ttl;
                build_tcp(buf, l2, &p)
            }
            TraceProbe::Port { port, .. } => {
                let ip_id = (self.id.key.cookie(ours, host.dst, marker, port) >> 16) as u16;
                let p = UdpProbe { src: ours, dst: host.dst, sport: marker, dport: port, ttl, ip_id, payload: &[] };
                build_udp(buf, l2, &p)
            }
            TraceProbe::Proto { .. } => build_echo(buf, l2, ours, host.dst, self.icmp_id, marker, ttl),
        }
    }

    /// Records the answer for host `h` at `ttl`, if that is the probe out.
    fn record(&self, h: usize, ttl: u8, answer: impl FnOnce(Duration) -> Answer, now: Instant) -> bool {
        let mut slot = self.slot(h);
        match slot.sent {
            Some(sent) if slot.ttl == ttl && slot.answer.is_none() => {
                slot.answer = Some(answer(now.saturating_duration_since(sent)));
                true
            }
            _ => false,
        }
    }

    /// Whether an ICMP error's quote is host `h`'s probe, and at which TTL.
    fn quoted_ttl(&self, h: usize, quoted: &tojimari_packet::Quoted) -> Option<u8> {
        let host = &self.hosts[h];
        if quoted.src != host.link.src {
            return None;
        }
        match host.probe {
            TraceProbe::Port { proto, port } => {
                let want = if proto == Protocol::Tcp { 6 } else { 17 };
                if quoted.proto != want || quoted.dport != port {
                    return None;
                }
                let ttl = self.ttl_of(quoted.sport)?;
                if proto == Protocol::Tcp
                    && let Some(seq) = quoted.seq
                {
                    let cookie = self.id.key.cookie(host.link.src, host.dst, quoted.sport, port);
                    if seq != ScanType::Syn.probe_seq_ack(cookie).0 {
                        return None;
                    }
                }
                Some(ttl)
            }
            TraceProbe::Proto { .. } => {
                let echo = if host.dst.is_ipv4() { 1 } else { 58 };
                (quoted.proto == echo && quoted.sport == self.icmp_id).then(|| self.ttl_of(quoted.dport)).flatten()
            }
        }
    }

    /// Runs the traces: the leaders of each class of hosts (same interface and next hop) first, then the
    /// others, each round sending one probe per host still tracing and waiting up to `wait` for the answers.
    /// Returns each host's trace (in the order given) and the frames sent.
    pub fn run(
        &self,
        links: &[Link],
        rate: f64,
        wait: Duration,
        control: &Control,
    ) -> Result<(Vec<Option<Trace>>, u64), NetError> {
        let n = self.hosts.len();
        let mut traces: Vec<RouteTrace> = self
            .hosts
            .iter()
            .map(|h| RouteTrace::new(if h.reply_ttl == 0 { 1 } else { guess_distance(h.reply_ttl) }))
            .collect();
        let mut leader_of: Vec<Option<usize>> = vec![None; n];
        let mut leaders: HashMap<(u16, [u8; 6], u8), usize> = HashMap::new();
        for (h, host) in self.hosts.iter().enumerate() {
            // Same interface, same next hop, same distance by the scan's answer: most likely the same routers.
            let class = (host.link.link, host.link.l2.dst_mac, host.reply_ttl);
            match leaders.get(&class) {
                Some(&l) => leader_of[h] = Some(l),
                None => {
                    leaders.insert(class, h);
                }
            }
        }
        let mut cache = HopCache::new();
        let mut copied: Vec<Option<(u8, IpAddr)>> = vec![None; n];
        let mut done = vec![false; n];
        let mut outbox = Outbox::for_rate(links, 0, rate);
        let mut bucket = crate::rate::TokenBucket::new(rate, Instant::now());
        for wave in [true, false] {
            let members: Vec<usize> = (0..n).filter(|&h| leader_of[h].is_none() == wave).collect();
            let mut tries = vec![0u8; n];
            // A silent TTL is asked again no sooner than RETRY_GAP after: a router out of time-exceeded tokens
            // has one again by then.
            let mut not_before: Vec<Option<Instant>> = vec![None; n];
            loop {
                if control.is_cancelled() {
                    break;
                }
                let mut out = Vec::new();
                let mut later: Option<Instant> = None;
                for &h in &members {
                    if done[h] {
                        continue;
                    }
                    if let Some(at) = not_before[h].filter(|&at| at > Instant::now()) {
                        later = Some(later.map_or(at, |l| l.min(at)));
                        continue;
                    }
                    let Some(ttl) = traces[h].next_ttl() else {
                        done[h] = true;
                        cache.learn(&traces[h].hops(self.hosts[h].dst), self.hosts[h].dst);
                        continue;
                    };
                    // A first try's answer that came after its wait, before the second try: no need to send.
                    let late = tries[h] > 0 && {
                        let slot = self.slot(h);
                        slot.ttl == ttl && slot.answer.is_some()
                    };
                    if !late {
                        while !bucket.try_take(Instant::now()) {
                            std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
                        }
                        *self.slot(h) = Slot { ttl, sent: Some(Instant::now()), answer: None };
                        outbox.push(self.hosts[h].link.link, &mut |buf| self.build(h, ttl, buf))?;
                    }
                    out.push((h, ttl));
                }
                if out.is_empty() {
                    match later {
                        Some(at) => {
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            continue;
                        }
                        None => break,
                    }
                }
                outbox.flush()?;
                let deadline = Instant::now() + wait;
                while Instant::now() < deadline && !control.is_cancelled() {
                    if out.iter().all(|&(h, _)| self.slot(h).answer.is_some()) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                for (h, ttl) in out {
                    let answer = self.slot(h).answer;
                    let answer = match answer {
                        Some(a) => a,
                        None if tries[h] + 1 < TRIES => {
                            tries[h] += 1;
                            not_before[h] = self.slot(h).sent.map(|sent| sent + RETRY_GAP);
                            continue;
                        }
                        None => Answer::Silent,
                    };
                    tries[h] = 0;
                    let first = traces[h].host_at().is_none() && matches!(answer, Answer::Host(_));
                    traces[h].answer(ttl, answer, &cache);
                    // A follower whose host is where its leader's is, by the same guess, goes the same way.
                    if first
                        && let Some(l) = leader_of[h]
                        && traces[l].host_at() == Some(ttl)
                        && traces[l].hops(self.hosts[l].dst).len() == usize::from(ttl)
                        && self.hosts[l].reply_ttl == self.hosts[h].reply_ttl
                        && ttl > 1
                    {
                        copied[h] = Some((ttl - 1, self.hosts[l].dst));
                        done[h] = true;
                    }
                }
            }
        }
        let traces = (0..n)
            .map(|h| {
                let dst = self.hosts[h].dst;
                let mut hops = traces[h].hops(dst);
                let mut same_as = traces[h].copied();
                if let Some((below, leader)) = copied[h] {
                    let mut all = traces[leader_of[h].unwrap_or(h)].hops(leader);
                    all.truncate(usize::from(below));
                    all.extend(hops.into_iter().filter(|hop| hop.ttl > below));
                    hops = all;
                    same_as = Some((below, leader));
                }
                (!hops.is_empty()).then_some(Trace { probe: Some(self.hosts[h].probe), hops, same_as })
            })
            .collect();
        Ok((traces, outbox.frames))
    }

    /// Time-exceeded messages about a traced host that quoted no probe of ours.
    pub fn ignored(&self) -> u64 {
        self.ignored.load(Ordering::Relaxed)
    }
}

impl ReplyHandler for RoutePass {
    fn handle(&self, reply: &Reply, now: Instant) -> bool {
        let host_of = |addr: &IpAddr| self.index.get(addr).map(|&h| h as usize);
        match *reply {
            Reply::Tcp { src, dst, sport, dport, seq, ack, flags, .. } => {
                let Some(h) = host_of(&src) else { return false };
                let host = &self.hosts[h];
                let TraceProbe::Port { proto: Protocol::Tcp, port } = host.probe else { return false };
                let Some(ttl) = self.ttl_of(dport) else { return false };
                let cookie = self.id.key.cookie(dst, src, dport, sport);
                if sport != port || dst != host.link.src || !ScanType::Syn.reply_matches(cookie, seq, ack, flags) {
                    return false;
                }
                self.record(h, ttl, Answer::Host, now)
            }
            Reply::Udp { src, dst, sport, dport, .. } => {
                let Some(h) = host_of(&src) else { return false };
                let host = &self.hosts[h];
                let TraceProbe::Port { proto: Protocol::Udp, port } = host.probe else { return false };
                let Some(ttl) = self.ttl_of(dport) else { return false };
                if sport != port || dst != host.link.src {
                    return false;
                }
                self.record(h, ttl, Answer::Host, now)
            }
            Reply::EchoReply { src, dst, id, seq, .. } => {
                let Some(h) = host_of(&src) else { return false };
                let host = &self.hosts[h];
                if !matches!(host.probe, TraceProbe::Proto { .. }) || id != self.icmp_id || dst != host.link.src {
                    return false;
                }
                let Some(ttl) = self.ttl_of(seq) else { return false };
                self.record(h, ttl, Answer::Host, now)
            }
            Reply::IcmpError { from, v6, kind, quoted, .. } => {
                let Some(h) = host_of(&quoted.dst) else { return false };
                let time_exceeded = if v6 { kind == 3 } else { kind == 11 };
                let Some(ttl) = self.quoted_ttl(h, &quoted) else {
                    // Only the trace's probes expire on the way: this one's quote was changed, or is not ours.
                    if time_exceeded {
                        self.ignored.fetch_add(1, Ordering::Relaxed);
                    }
                    return false;
                };
                if from == quoted.dst {
                    // The host itself: a port or protocol unreachable is its answer.
                    self.record(h, ttl, Answer::Host, now)
                } else if time_exceeded {
                    self.record(h, ttl, |rtt| Answer::Router(from, rtt), now)
                } else {
                    // A router's unreachable says the way ends there, not which hop it is.
                    false
                }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(proto: Protocol, port: u16, state: PortState, reason: Reason, ttl: u8) -> PortResult {
        let mut r = PortResult::new(proto, port, state, reason);
        r.reason_ttl = ttl;
        r
    }

    #[test]
    fn a_closed_tcp_port_is_the_first_choice() {
        let results = vec![
            result(Protocol::Tcp, 22, PortState::Open, Reason::SynAck, 61),
            result(Protocol::Tcp, 23, PortState::Closed, Reason::Reset, 61),
            result(Protocol::Udp, 53, PortState::Closed, Reason::PortUnreach, 61),
        ];
        assert_eq!(pick_probe(&results), Some((TraceProbe::Port { proto: Protocol::Tcp, port: 23 }, 61)));
        assert_eq!(
            pick_probe(&results[..1]),
            Some((TraceProbe::Port { proto: Protocol::Tcp, port: 22 }, 61)),
            "an open port when none is closed"
        );
        assert_eq!(pick_probe(&results[2..]), Some((TraceProbe::Port { proto: Protocol::Udp, port: 53 }, 61)));
    }

    #[test]
    fn ports_without_an_answer_are_not_chosen() {
        let results = vec![
            result(Protocol::Tcp, 22, PortState::Filtered, Reason::NoResponse, 0),
            result(Protocol::Udp, 53, PortState::OpenFiltered, Reason::NoResponse, 0),
        ];
        assert_eq!(pick_probe(&results), None);
        assert_eq!(echo_probe("2001:db8::1".parse().unwrap()), TraceProbe::Proto { number: 58 });
    }
}
