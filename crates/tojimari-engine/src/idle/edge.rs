//! The idle scan's I/O: routes and next hops to the zombie and the target, one packet socket that hears
//! the zombie's answers, and the loop that runs a [`Machine`] per target, sending what it asks and
//! handing it the answers with the time they came. Each target becomes one host report: up (nothing is
//! sent to it from our address, so it is taken as up, as `-Pn` would), its ports open or closed|filtered.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::report::HostTimes;
use tojimari_core::{HostReport, HostState, PortResult, PortState, Protocol, Reason, Sink};
use tojimari_net::{Filter, NetError, PacketSender, PacketSocket, RingConfig, next_hop_mac, route_to};
use tojimari_packet::{L2, MAX_FRAME};

use super::frames::{self, Addresses};
use super::machine::{Machine, Outcome, Step, Verdict};
use super::{IdleEvent, IdleScan};
use crate::connect::{EngineError, RunStats, ScanTarget};
use crate::control::Control;

/// How long the next hop's MAC may take to resolve.
const RESOLVE: Duration = Duration::from_secs(2);
/// The longest a receive waits before the loop looks at the cancel flag.
const SLICE: Duration = Duration::from_millis(50);
/// Frames per send call.
const BATCH: usize = 64;

impl IdleScan {
    /// Scans every target through the zombie, feeding `sink` one host report per target. A zombie refused
    /// before a target's first port is an error and that target has no report; a zombie that fails
    /// mid-scan gives the target a report with only its trustworthy ports (marked incomplete), then the
    /// error.
    pub fn run(
        &self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        control: &Control,
    ) -> Result<RunStats, EngineError> {
        let mut stats = RunStats::default();
        for target in targets {
            stats.hosts_total += 1;
            let IpAddr::V4(addr) = target.addr else {
                return Err(fail(format!("the idle scan reads IPv4 IP IDs; {} is an IPv6 target", target.addr), stats));
            };
            let start = SystemTime::now();
            let outcome = self.scan_one(addr, control).map_err(|e| fail(e.to_string(), stats))?;
            if let Some(observer) = &self.observer {
                observer(&IdleEvent::Finished { target: addr, outcome: outcome.clone() });
            }
            let interrupted = control.is_cancelled();
            if let Some(failure) = &outcome.failure
                && outcome.ports.is_empty()
                && !interrupted
            {
                return Err(fail(format!("cannot use {} as an idle-scan zombie: {failure}", self.zombie), stats));
            }
            let report = report(&target, &outcome, start, interrupted);
            let p = &control.progress;
            p.ports_done.fetch_add(report.ports.len() as u64, Ordering::Relaxed);
            p.open.fetch_add(
                report.ports.iter().filter(|r| r.state == PortState::Open).count() as u64,
                Ordering::Relaxed,
            );
            p.probes.fetch_add(u64::from(outcome.probes), Ordering::Relaxed);
            p.hosts_done.fetch_add(1, Ordering::Relaxed);
            stats.hosts_up += 1;
            sink.host_done(&report).map_err(EngineError::Output)?;
            if let Some(failure) = &outcome.failure {
                return Err(fail(
                    format!(
                        "the zombie {} became unusable scanning {addr}: {failure}; {} of {} ports kept (those \
                         measured before its last good check)",
                        self.zombie,
                        outcome.ports.len(),
                        self.ports.len()
                    ),
                    stats,
                ));
            }
            if interrupted {
                stats.interrupted = true;
                break;
            }
        }
        Ok(stats)
    }

    /// One target: the machine driven over the sockets until done or cancelled.
    fn scan_one(&self, target: Ipv4Addr, control: &Control) -> Result<Outcome, NetError> {
        let link = Link::open(self.zombie, self.probe_port, target)?;
        let mut m = Machine::new(self.ports.clone(), self.settings, Instant::now());
        let mut qualified = false;
        let mut serial: u32 = 0;
        let mut buf = vec![0u8; MAX_FRAME];
        let mut answers: Vec<(u32, u16, Instant)> = Vec::new();
        let mut socket = link.socket;
        while !control.is_cancelled() {
            let now = Instant::now();
            match m.poll(now) {
                Step::Send(out) => {
                    let mut frames: Vec<Vec<u8>> = Vec::new();
                    let mut push = |f: &mut dyn FnMut(&mut [u8]) -> usize| {
                        let n = f(&mut buf);
                        if n > 0 {
                            frames.push(buf[..n].to_vec());
                        }
                    };
                    let (to_target, frames) = match out {
                        super::machine::Out::Probe { id } => {
                            push(&mut |b| frames::probe(b, &link.addresses, id));
                            (false, frames)
                        }
                        super::machine::Out::FromTarget { count } => {
                            for _ in 0..count {
                                serial = serial.wrapping_add(1);
                                push(&mut |b| frames::from_target(b, &link.addresses, serial));
                            }
                            (false, frames)
                        }
                        super::machine::Out::Spoof { ports, copies } => {
                            for port in ports {
                                for _ in 0..copies {
                                    serial = serial.wrapping_add(1);
                                    push(&mut |b| frames::spoofed_syn(b, &link.addresses, port, serial));
                                }
                            }
                            (true, frames)
                        }
                    };
                    if let Some(t) = self.trace.get() {
                        for f in &frames {
                            t.sent(f, Instant::now());
                        }
                    }
                    match (&link.target_sender, to_target) {
                        (Some(sender), true) => send_all(&frames, &|b| sender.send_batch(b))?,
                        _ => send_all(&frames, &|b| socket.send_batch(b))?,
                    }
                    control.progress.sent.fetch_add(frames.len() as u64, Ordering::Relaxed);
                    control.progress.frames.fetch_add(frames.len() as u64, Ordering::Relaxed);
                }
                Step::Wait(until) => {
                    let timeout = until.saturating_duration_since(now).min(SLICE);
                    let a = &link.addresses;
                    let trace = self.trace.get();
                    socket.recv(timeout, &mut |frame| {
                        if let Some(t) = trace {
                            t.received(frame, Instant::now());
                        }
                        if let Some((id, ip_id)) = frames::answer(frame, a) {
                            answers.push((id, ip_id, Instant::now()));
                        }
                    })?;
                    for (id, ip_id, at) in answers.drain(..) {
                        control.progress.replies.fetch_add(1, Ordering::Relaxed);
                        m.on_answer(id, ip_id, at);
                    }
                }
                Step::Done => break,
            }
            if !qualified && let Some(class) = m.class() {
                qualified = true;
                if let Some(observer) = &self.observer {
                    observer(&IdleEvent::Qualified {
                        zombie: self.zombie,
                        probe_port: self.probe_port,
                        class,
                        background: m.outcome().background,
                    });
                }
            }
        }
        if control.is_cancelled() {
            m.stop();
        }
        Ok(m.outcome())
    }
}

/// The sockets and addresses of one target's scan.
struct Link {
    socket: PacketSocket,
    /// A sender of its own when the target is reached by another interface than the zombie.
    target_sender: Option<PacketSender>,
    addresses: Addresses,
}

impl Link {
    fn open(zombie: Ipv4Addr, probe_port: u16, target: Ipv4Addr) -> Result<Link, NetError> {
        let to_zombie = route_to(IpAddr::V4(zombie))?;
        let to_target = route_to(IpAddr::V4(target))?;
        let IpAddr::V4(us) = to_zombie.src else {
            return Err(NetError::Invalid { what: "route to the zombie", reason: "not an IPv4 source".into() });
        };
        let zombie_mac = next_hop_mac(&to_zombie, to_zombie.next_hop(), RESOLVE)?;
        let target_mac = next_hop_mac(&to_target, to_target.next_hop(), RESOLVE)?;
        let ring = RingConfig { block_size: 1 << 16, block_count: 4, frame_timeout_ms: 1 };
        let socket = PacketSocket::open(to_zombie.ifindex, &Filter::replies_to(&[IpAddr::V4(us)]), ring)?;
        let target_sender =
            if to_target.ifindex == to_zombie.ifindex { None } else { Some(PacketSender::open(to_target.ifindex)?) };
        let secret = seed();
        let addresses = Addresses {
            us,
            zombie,
            probe_port,
            target,
            to_zombie: L2 { src_mac: to_zombie.src_mac, dst_mac: zombie_mac },
            to_target: L2 { src_mac: to_target.src_mac, dst_mac: target_mac },
            secret,
        };
        Ok(Link { socket, target_sender, addresses })
    }
}

/// A per-run secret for the probe numbers: the clock's nanoseconds mixed with the process id.
fn seed() -> u32 {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mixed = (nanos ^ (u64::from(std::process::id()) << 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 32) as u32
}

/// Sends one batch of frames, returning how many the kernel took.
type SendBatch<'a> = &'a dyn Fn(&[&[u8]]) -> Result<usize, NetError>;

/// Sends every frame, a batch at a time, retrying what the queue did not take (bounded).
fn send_all(frames: &[Vec<u8>], send: SendBatch<'_>) -> Result<(), NetError> {
    let mut stalls = 0;
    let mut rest: &[Vec<u8>] = frames;
    while !rest.is_empty() {
        let batch: Vec<&[u8]> = rest.iter().take(BATCH).map(Vec::as_slice).collect();
        let n = send(&batch)?;
        if n == 0 {
            stalls += 1;
            if stalls > 200 {
                return Err(NetError::Io {
                    context: "sending frames (the interface queue stayed full)",
                    source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
                });
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        rest = &rest[n.min(rest.len())..];
    }
    Ok(())
}

fn fail(message: String, stats: RunStats) -> EngineError {
    EngineError::SendFailed { message, stats }
}

/// The host report of `target` from `outcome`.
fn report(target: &ScanTarget, outcome: &Outcome, start: SystemTime, interrupted: bool) -> HostReport {
    let ports = outcome
        .ports
        .iter()
        .map(|(port, verdict)| match verdict {
            Verdict::Open => PortResult::new(Protocol::Tcp, *port, PortState::Open, Reason::IpIdChange),
            Verdict::ClosedFiltered => {
                PortResult::new(Protocol::Tcp, *port, PortState::ClosedFiltered, Reason::NoIpIdChange)
            }
        })
        .collect();
    HostReport {
        addr: target.addr,
        hostnames: target.hostnames.clone(),
        state: HostState::Up,
        state_reason: Reason::UserSet,
        state_reason_ttl: 0,
        ports,
        start,
        end: SystemTime::now(),
        times: outcome.srtt.map(|srtt| HostTimes { srtt, rttvar: srtt / 2, timeout: srtt * 8 }),
        complete: outcome.failure.is_none() && !interrupted,
        timed_out: false,
        os: None,
        trace: None,
    }
}
