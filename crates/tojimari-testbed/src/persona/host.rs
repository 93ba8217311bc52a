//! A persona on the bed: a TAP device in the switch namespace, attached to a bridge, and a thread that
//! owns it and runs a [`Responder`] over its frames. The thread is a thin I/O loop (read with a timeout,
//! answer, write); all behaviour is in the responder. Dropping the [`PersonaHost`] stops the thread, which
//! closes the TAP device and so removes the interface.
//!
//! A host may also be *chatty* ([`Chatter`]): besides answering, it sends packets of its own at random
//! times (as a busy machine does), each taking an IP ID from its counter, the background traffic an
//! idle scan has to tell from the answers it provokes.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tojimari_net::{TAP_FRAME_MAX, TapDevice};
use tojimari_wire::MacAddr;

use super::model::{Persona, Truth};
use super::responder::Responder;
use super::stack::IpHandler;
use crate::error::{Error, Result};
use crate::netns::Netns;

/// The lowest last octet of a persona's address on a bed network (198.18.N.200).
pub const PERSONA_V4_FIRST: u8 = 200;
/// The highest last octet of a persona's address on a bed network (198.18.N.253).
pub const PERSONA_V4_LAST: u8 = 253;

/// The conventional address of the `i`-th persona on the bed's network (0-based): 198.18.0.(200+i), for
/// `i` up to 53.
pub fn persona_v4(i: usize) -> Option<Ipv4Addr> {
    let octet = u8::try_from(i).ok()?.checked_add(PERSONA_V4_FIRST)?;
    (octet <= PERSONA_V4_LAST).then(|| Ipv4Addr::new(198, 18, 0, octet))
}

/// The conventional IPv6 address of the `i`-th persona: 2001:db8:18::(c8+i).
pub fn persona_v6(i: usize) -> Option<Ipv6Addr> {
    let v4 = persona_v4(i)?;
    Some(Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, u16::from(v4.octets()[3])))
}

/// The TAP device's queue towards the responder (the kernel's default is 500 frames): deep enough for a
/// fast scan's bursts.
const TX_QUEUE: u32 = 8192;

/// How long one read waits before the thread looks at its stop flag.
const POLL: Duration = Duration::from_millis(50);

/// The MAC a persona at `v4` uses: locally administered, `02:50:45` ("PE") and the address's last three
/// octets.
pub fn persona_mac(v4: Ipv4Addr) -> MacAddr {
    let o = v4.octets();
    [0x02, 0x50, 0x45, o[1], o[2], o[3]]
}

/// A persona's own traffic: packets sent at exponentially distributed intervals averaging
/// `1 / per_second` ([`Responder::background`]), from a generator seeded with `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chatter {
    /// Packets per second on average (0 or less: none).
    pub per_second: f64,
    /// Seed of the intervals.
    pub seed: u64,
}

impl Chatter {
    /// The wait before the next packet: `-ln(u) / rate` for `u` uniform in (0, 1]; `None` when the rate
    /// is not positive.
    fn next_gap(&self, rng: &mut super::rng::Rng) -> Option<Duration> {
        if self.per_second.is_nan() || self.per_second <= 0.0 {
            return None;
        }
        let u = (f64::from(rng.next_u32()) + 1.0) / 4_294_967_296.0;
        Some(Duration::from_secs_f64((-u.ln() / self.per_second).min(3600.0)))
    }
}

/// Counters and the last error of a running persona, shared with its thread.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    received: AtomicU64,
    sent: AtomicU64,
    error: Mutex<Option<String>>,
}

/// Where a persona's TAP device goes: its name, the namespace and bridge it joins, and the hop distance
/// from the scanner (1 on the bed's own network).
#[derive(Debug)]
pub(crate) struct Attachment<'a> {
    pub(crate) switch: &'a Netns,
    pub(crate) bridge: &'a str,
    pub(crate) distance: u8,
    pub(crate) tap: String,
}

/// A persona running on the bed (see the module documentation). Drop it before the bed.
#[derive(Debug)]
pub struct PersonaHost {
    persona: Persona,
    v4: Ipv4Addr,
    v6: Option<Ipv6Addr>,
    mac: MacAddr,
    tap: String,
    distance: u8,
    started: Instant,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl PersonaHost {
    /// Opens the TAP device `at.tap` in `at.switch`, starts the responder on it (with `handlers` in place
    /// of the built-in ones for their protocols), then attaches it to `at.bridge` and brings it up.
    pub(crate) fn start(
        at: Attachment<'_>,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
        handlers: Vec<Box<dyn IpHandler>>,
    ) -> Result<PersonaHost> {
        PersonaHost::start_chatty(at, persona, v4, v6, handlers, None)
    }

    /// As [`PersonaHost::start`], the host also sending packets of its own as `chatter` says.
    pub(crate) fn start_chatty(
        at: Attachment<'_>,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
        handlers: Vec<Box<dyn IpHandler>>,
        chatter: Option<Chatter>,
    ) -> Result<PersonaHost> {
        let Attachment { switch, bridge, distance, tap } = at;
        let mac = persona_mac(v4);
        let mut responder = Responder::new(persona.clone(), mac, v4, v6, u64::from(u32::from(v4)));
        for handler in handlers {
            responder = responder.with_handler(handler);
        }
        let shared = Arc::new(Shared::default());
        let started = Instant::now();
        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let thread_shared = Arc::clone(&shared);
        let name = tap.clone();
        let thread = switch.spawn_in(move || {
            let device = match TapDevice::open(&name) {
                Ok(device) => {
                    let _ = opened_tx.send(Ok(()));
                    device
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let mut buf = vec![0u8; TAP_FRAME_MAX + 64];
            let mut chat_rng = super::rng::Rng::new(chatter.map_or(0, |c| c.seed));
            let mut next_chat = chatter.and_then(|c| c.next_gap(&mut chat_rng)).map(|gap| Instant::now() + gap);
            while !thread_shared.stop.load(Ordering::Relaxed) {
                let mut wait = POLL;
                if let (Some(c), Some(at)) = (chatter, next_chat) {
                    let now = Instant::now();
                    if now >= at {
                        if let Some(frame) = responder.background()
                            && device.send(&frame).is_ok()
                        {
                            thread_shared.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        // The next time counts from the time planned, not from now: the rate holds even
                        // when the thread was late.
                        next_chat = c.next_gap(&mut chat_rng).map(|gap| at + gap);
                        continue;
                    }
                    wait = wait.min(at - now);
                }
                let n = match device.recv(&mut buf, wait) {
                    Ok(Some(n)) => n,
                    Ok(None) => continue,
                    Err(e) => {
                        *thread_shared.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                        std::thread::sleep(POLL);
                        continue;
                    }
                };
                thread_shared.received.fetch_add(1, Ordering::Relaxed);
                for frame in responder.answer(&buf[..n], started.elapsed()) {
                    match device.send(&frame) {
                        Ok(()) => {
                            thread_shared.sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => *thread_shared.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string()),
                    }
                }
            }
        })?;
        let mut host =
            PersonaHost { persona, v4, v6, mac, tap: tap.clone(), distance, started, shared, thread: Some(thread) };
        match opened_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => return Err(Error::Invalid(format!("TAP device {tap} for persona at {v4}: {reason}"))),
            Err(_) => return Err(Error::Invalid(format!("the thread of TAP device {tap} ended before opening it"))),
        }
        switch
            .ip_batch(&format!("link set {tap} master {bridge} txqueuelen {TX_QUEUE}\nlink set {tap} up\n"))
            .inspect_err(|_| {
                host.stop();
            })?;
        Ok(host)
    }

    /// The persona.
    pub fn persona(&self) -> &Persona {
        &self.persona
    }

    /// The ground truth an OS guess is compared with.
    pub fn truth(&self) -> &Truth {
        &self.persona.truth
    }

    /// Its IPv4 address.
    pub fn v4(&self) -> Ipv4Addr {
        self.v4
    }

    /// Its IPv6 address, if it has one.
    pub fn v6(&self) -> Option<Ipv6Addr> {
        self.v6
    }

    /// Its MAC address ([`persona_mac`]).
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// Its hop distance from the scanner as nmap counts it: 1 on the bed's network, `k + 1` behind `k`
    /// routers.
    pub fn distance(&self) -> u8 {
        self.distance
    }

    /// The TAP interface's name in the switch namespace.
    pub fn tap_name(&self) -> &str {
        &self.tap
    }

    /// The uptime its timestamps show now, when its clock runs from a claimed uptime.
    pub fn expected_uptime(&self) -> Option<Duration> {
        self.persona.expected_uptime(self.started.elapsed())
    }

    /// Frames received and sent so far.
    pub fn frames(&self) -> (u64, u64) {
        (self.shared.received.load(Ordering::Relaxed), self.shared.sent.load(Ordering::Relaxed))
    }

    /// The last I/O error of the thread, if any.
    pub fn last_error(&self) -> Option<String> {
        self.shared.error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for PersonaHost {
    fn drop(&mut self) {
        self.stop();
    }
}
