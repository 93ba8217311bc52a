//! OS detection (`-O`) as the last phase of a host group, after its port passes.
//!
//! Each host with what the tests need (see [`ports_for`]) gets the probes `tojimari_osdetect::schedule`
//! names, at the offsets it gives. Every host of the group is sent its probes on the same ticks, so the
//! phase costs the schedule's length (some half a second for the timed SYNs) plus one wait, whatever the
//! number of hosts. The receiver hands every frame from a host under test to
//! `tojimari_osdetect::answers`, which says which probe it answers; the first answer per probe is kept with
//! its arrival time. Probes left without an answer are sent again in later tries (`--max-os-tries`), in the
//! same relative order and spacing. The exchanges then go to `tojimari_osdetect::classify`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::os::OsReport;
use tojimari_core::portspec::PortSet;
use tojimari_core::{PortResult, PortState, Protocol};
use tojimari_net::NetError;
use tojimari_osdetect::{Db, Exchange, MatchOptions, Probe, Target};
use tojimari_packet::{Reply, frame_ip};

use super::io::{Link, Outbox, ReplyHandler};
use crate::control::Control;
use crate::rate::TokenBucket;

/// How OS detection runs (`-O` and its options).
#[derive(Clone, Debug)]
pub struct OsScan {
    /// `--osscan-guess`.
    pub guess: bool,
    /// `--osscan-limit`: only hosts with a known open and a known closed TCP port.
    pub limit: bool,
    /// `--max-os-tries`: sends of each probe at most (1 = no retry).
    pub max_tries: u8,
    pub db: &'static Db,
}

/// The ports one host's tests use, and what the scan knew of them.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct HostPorts {
    pub open_tcp: Option<u16>,
    pub closed_tcp: Option<u16>,
    pub closed_udp: Option<u16>,
    /// The closed TCP port was not found by the scan but picked among the ports it did not scan.
    pub closed_tcp_guessed: bool,
    pub closed_udp_guessed: bool,
}

/// The ports for one host's tests, from its scan results: the first open TCP port, the first closed TCP
/// port and the first closed UDP port. Where the scan found no closed port, a port it did not scan is
/// picked (from `salt`), as a port nobody listens on is closed on most hosts; the report says so.
pub fn ports_for(results: &[PortResult], scanned_tcp: &[&PortSet], scanned_udp: &[&PortSet], salt: u32) -> HostPorts {
    let find = |proto: Protocol, state: PortState| {
        results.iter().find(|r| r.proto == proto && r.state == state).map(|r| r.port)
    };
    let mut ports = HostPorts {
        open_tcp: find(Protocol::Tcp, PortState::Open),
        closed_tcp: find(Protocol::Tcp, PortState::Closed),
        closed_udp: find(Protocol::Udp, PortState::Closed),
        ..HostPorts::default()
    };
    if ports.closed_tcp.is_none() {
        ports.closed_tcp = unscanned(scanned_tcp, salt);
        ports.closed_tcp_guessed = ports.closed_tcp.is_some();
    }
    if ports.closed_udp.is_none() {
        ports.closed_udp = unscanned(scanned_udp, salt.rotate_left(16));
        ports.closed_udp_guessed = ports.closed_udp.is_some();
    }
    ports
}

/// A port in 30000..=60999 that `scanned` does not hold, starting from one chosen by `salt`.
fn unscanned(scanned: &[&PortSet], salt: u32) -> Option<u16> {
    const FIRST: u32 = 30000;
    const SPAN: u32 = 31000;
    (0..SPAN).map(|i| (FIRST + (salt.wrapping_add(i)) % SPAN) as u16).find(|p| !scanned.iter().any(|s| s.contains(*p)))
}

/// One host under test.
#[derive(Debug)]
struct Host {
    target: Target,
    link: u16,
    /// The probes to send and when, relative to the first.
    plan: Vec<(Probe, Duration)>,
    exchanges: Mutex<Vec<Exchange>>,
}

/// The hosts of a group under test, fed by the receiver.
#[derive(Debug)]
pub struct OsPass {
    hosts: Vec<Host>,
    index: HashMap<IpAddr, u32>,
    start: Instant,
}

impl OsPass {
    /// `hosts`: each host's target (addresses and ports) and the link it is reached by.
    pub fn new(hosts: Vec<(Target, u16)>, start: Instant) -> Self {
        let index = hosts.iter().enumerate().map(|(i, (t, _))| (t.dst, i as u32)).collect();
        let hosts = hosts
            .into_iter()
            .map(|(target, link)| {
                let plan = tojimari_osdetect::schedule(&target);
                let exchanges = plan
                    .iter()
                    .map(|&(probe, _)| Exchange { probe, sent: Duration::ZERO, reply: None })
                    .collect::<Vec<_>>();
                Host { target, link, plan, exchanges: Mutex::new(exchanges) }
            })
            .collect();
        OsPass { hosts, index, start }
    }

    fn exchanges(&self, h: usize) -> std::sync::MutexGuard<'_, Vec<Exchange>> {
        self.hosts[h].exchanges.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The probes of try `try_no` in the order they go: (offset in the try, host, probe's slot). The first
    /// try sends every planned probe; later ones those still without an answer.
    fn sends(&self, try_no: u8) -> Vec<(Duration, usize, usize)> {
        let mut sends = Vec::new();
        for (h, host) in self.hosts.iter().enumerate() {
            let exchanges = self.exchanges(h);
            let missing: Vec<usize> =
                (0..host.plan.len()).filter(|&i| try_no == 0 || exchanges[i].reply.is_none()).collect();
            // A retry keeps the probes' spacing but starts at once.
            let base = missing.first().map_or(Duration::ZERO, |&i| host.plan[i].1);
            sends.extend(missing.into_iter().map(|i| (host.plan[i].1 - base, h, i)));
        }
        sends.sort_by_key(|&(at, h, i)| (at, h, i));
        sends
    }

    fn all_answered(&self) -> bool {
        (0..self.hosts.len()).all(|h| self.exchanges(h).iter().all(|e| e.reply.is_some()))
    }

    /// Sends the probes of each try, waiting `wait` after the last of a try for late answers.
    /// `shaping`: the decoys ([`tojimari_packet::Shaping::for_os_detection`]), or plain.
    pub fn run(
        &self,
        links: &[Link],
        tries: u8,
        rate: f64,
        wait: Duration,
        shaping: &tojimari_packet::Shaping,
        control: &Control,
    ) -> Result<u64, NetError> {
        let mut outbox = Outbox::for_rate(links, 0, rate);
        let mut bucket = TokenBucket::new(rate, Instant::now());
        for try_no in 0..tries.max(1) {
            let sends = self.sends(try_no);
            if sends.is_empty() {
                break;
            }
            let began = Instant::now();
            for (at, h, slot) in sends {
                if control.is_cancelled() {
                    break;
                }
                let due = began + at;
                if let Some(pause) = due.checked_duration_since(Instant::now()) {
                    // Frames queued for an earlier tick leave before this one waits.
                    outbox.flush()?;
                    std::thread::sleep(pause);
                }
                while !bucket.try_take(Instant::now()) {
                    std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
                }
                let host = &self.hosts[h];
                let probe = host.plan[slot].0;
                let build = &mut |buf: &mut [u8]| tojimari_osdetect::build(&host.target, probe, buf);
                let sent = if shaping.is_plain() {
                    outbox.push(host.link, build)?
                } else {
                    super::sender::shaped(&mut outbox, host.link, shaping, build)?
                };
                if sent {
                    self.exchanges(h)[slot].sent = Instant::now().saturating_duration_since(self.start);
                }
            }
            outbox.flush()?;
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline && !self.all_answered() && !control.is_cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            if self.all_answered() || control.is_cancelled() {
                break;
            }
        }
        Ok(outbox.frames)
    }

    /// Host `h`'s report, from what came back.
    pub fn report(&self, h: usize, opts: MatchOptions, db: &Db, now: SystemTime) -> OsReport {
        let exchanges = self.exchanges(h).clone();
        tojimari_osdetect::classify(db, &self.hosts[h].target, &exchanges, opts, now)
    }

    /// The host index of `addr` among the hosts under test.
    pub fn host_of(&self, addr: IpAddr) -> Option<usize> {
        self.index.get(&addr).map(|&h| h as usize)
    }
}

/// The source address of an IP packet.
fn source(ip: &[u8]) -> Option<IpAddr> {
    match ip.first()? >> 4 {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?)),
        6 => Some(IpAddr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?)),
        _ => None,
    }
}

impl ReplyHandler for OsPass {
    fn handle(&self, _reply: &Reply, _now: Instant) -> bool {
        false
    }

    fn handle_frame(&self, frame: &[u8], now: Instant) -> bool {
        let Some(ip) = frame_ip(frame) else { return false };
        let Some(h) = source(ip).and_then(|a| self.host_of(a)) else { return false };
        let Some(probe) = tojimari_osdetect::answers(&self.hosts[h].target, ip) else { return false };
        let at = now.saturating_duration_since(self.start);
        let mut exchanges = self.exchanges(h);
        match exchanges.iter_mut().find(|e| e.probe == probe && e.reply.is_none()) {
            Some(e) => {
                e.reply = Some((ip.to_vec(), at));
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(proto: Protocol, port: u16, state: PortState) -> PortResult {
        PortResult::new(proto, port, state, tojimari_core::Reason::UserSet)
    }

    #[test]
    fn ports_come_from_the_results_first() {
        let results = vec![
            result(Protocol::Tcp, 22, PortState::Open),
            result(Protocol::Tcp, 23, PortState::Closed),
            result(Protocol::Tcp, 80, PortState::Open),
            result(Protocol::Udp, 53, PortState::Closed),
        ];
        let tcp = PortSet::from_ports([22, 23, 80]);
        let udp = PortSet::from_ports([53]);
        let p = ports_for(&results, &[&tcp], &[&udp], 7);
        assert_eq!((p.open_tcp, p.closed_tcp, p.closed_udp), (Some(22), Some(23), Some(53)));
        assert!(!p.closed_tcp_guessed && !p.closed_udp_guessed);
    }

    #[test]
    fn a_missing_closed_port_is_one_not_scanned() {
        let results = vec![result(Protocol::Tcp, 22, PortState::Open), result(Protocol::Tcp, 23, PortState::Filtered)];
        let tcp = PortSet::from_ports(1..=65535);
        let p = ports_for(&results, &[&tcp], &[], 12345);
        assert_eq!(p.closed_tcp, None, "every TCP port was scanned, none is left to guess");
        assert!(!p.closed_tcp_guessed);
        let u = p.closed_udp.unwrap();
        assert!((30000..=60999).contains(&u) && p.closed_udp_guessed);
        let tcp = PortSet::from_ports(30000..=40000);
        let p = ports_for(&results, &[&tcp], &[], 0);
        assert_eq!(p.closed_tcp, Some(40001));
    }
}
