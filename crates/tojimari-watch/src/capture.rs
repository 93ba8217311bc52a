//! Live capture: AF_PACKET sockets that see both directions of traffic, one thread per
//! socket, each turning frames into [`PacketSummary`]s and sending them in batches over a
//! channel to the detector's thread.
//!
//! - [`Interfaces::All`] is one socket bound to interface index 0, which receives the frames
//!   of every interface of the namespace, `lo` included, each with an Ethernet header (zero
//!   MACs on `lo`); interfaces created later are covered too. Where such a socket cannot be
//!   opened, it falls back to one socket per interface present at start.
//! - [`Interfaces::Named`] is one socket per interface. One that goes down is reported and
//!   resumes when it comes up; one that is deleted is reported and its thread ends, while the
//!   others keep running.
//!
//! The kernel filter ([`Filter::ip_transport`]) keeps only IPv4/IPv6 TCP, UDP and ICMP and
//! cuts each frame to [`SNAPLEN`] bytes: headers are all the detector reads, and a snapped
//! frame keeps the ring small. Timestamps are the wall clock when the frame is read from the
//! ring (the ring hands a block over within [`RING`]'s `frame_timeout_ms`).
//!
//! Limits: devices without an Ethernet header (tun, WireGuard) are not understood; VLAN-tagged
//! frames are dropped by the filter.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tojimari_net::{Filter, Interface, NetError, PacketSocket, RingConfig, RxStats};
use tojimari_scandetect::{LinkType, PacketSummary, Timestamp, summarize};

use crate::dedupe::LoopbackTwins;
use crate::error::WatchError;

/// Bytes kept of each frame: Ethernet + IPv4 with options or IPv6 + a full TCP header, or an
/// ICMP error with the quoted headers.
pub const SNAPLEN: u32 = 160;

/// The receive ring of each socket: 32 blocks of 1 MiB (about 130,000 snapped frames, 0.4 s
/// at 300 kpps), handed over at least every 20 ms.
pub const RING: RingConfig = RingConfig { block_size: 1 << 20, block_count: 32, frame_timeout_ms: 20 };

/// How long a capture thread waits for frames before it checks whether to stop.
const POLL: Duration = Duration::from_millis(100);
/// How often a thread whose interface is down checks whether it was deleted.
const RECHECK: Duration = Duration::from_secs(1);
/// How often a thread reads the kernel's drop counter.
const DROP_REPORT: Duration = Duration::from_secs(5);

/// Which interfaces to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interfaces {
    /// Every interface of the namespace, through one socket.
    All,
    /// These interfaces, by name, one socket each.
    Named(Vec<String>),
}

/// What a capture thread reports.
#[derive(Debug)]
pub enum CaptureEvent {
    /// Packets read from the ring, in order.
    Packets(Vec<PacketSummary>),
    /// The interface went down; capture resumes when it comes back up.
    Down {
        /// Its name.
        interface: String,
    },
    /// The interface is capturing again after [`CaptureEvent::Down`].
    Up {
        /// Its name.
        interface: String,
    },
    /// The kernel dropped frames on this interface since the last report (the ring was
    /// full: the detector is not keeping up).
    Drops {
        /// Its name.
        interface: String,
        /// Frames lost since the last report.
        dropped: u64,
    },
    /// Capture on this interface ended for good (the interface was deleted, or the socket
    /// failed); the thread has ended.
    Gone {
        /// Its name.
        interface: String,
        /// Why.
        reason: String,
    },
}

/// Kernel counters summed over every socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames that passed the filter (including dropped ones).
    pub packets: u64,
    /// Frames lost because a ring was full.
    pub drops: u64,
}

/// Running capture threads and the channel they report on.
#[derive(Debug)]
pub struct Capture {
    names: Vec<String>,
    threads: Vec<JoinHandle<RxStats>>,
    events: Receiver<CaptureEvent>,
    stop: Arc<AtomicBool>,
}

impl Capture {
    /// Opens the sockets (in the calling thread's network namespace) and starts a thread for
    /// each. Fails before opening anything when a named interface does not exist, then with
    /// [`WatchError::PermissionDenied`] without CAP_NET_RAW.
    pub fn start(which: &Interfaces) -> Result<Capture, WatchError> {
        let known = tojimari_net::interfaces()
            .map_err(|source| WatchError::Capture { interface: "interface list".into(), source })?;
        let named = match which {
            Interfaces::All => None,
            Interfaces::Named(names) => {
                let mut targets: Vec<(String, u32)> = Vec::new();
                for name in names {
                    let iface = known
                        .iter()
                        .find(|i| &i.name == name)
                        .ok_or_else(|| WatchError::NoInterface { name: name.clone() })?;
                    if !targets.iter().any(|(n, _)| n == name) {
                        targets.push((name.clone(), iface.index));
                    }
                }
                Some(targets)
            }
        };
        if !tojimari_net::raw_allowed() {
            return Err(WatchError::PermissionDenied);
        }
        let sockets = match named {
            Some(targets) => open_each(&targets)?,
            // One socket on index 0 sees every interface, also ones created later. Where that
            // cannot be opened, one socket per interface present now.
            None => match open_one(ALL, 0) {
                Ok(socket) => vec![(ALL.to_owned(), 0, socket)],
                Err(WatchError::PermissionDenied) => return Err(WatchError::PermissionDenied),
                Err(_) => open_each(&known.iter().map(|i| (i.name.clone(), i.index)).collect::<Vec<_>>())?,
            },
        };
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let names = sockets.iter().map(|(n, _, _)| n.clone()).collect();
        for (name, index, socket) in sockets {
            let worker = Worker { name, index, socket, tx: tx.clone(), stop: Arc::clone(&stop) };
            let handle = thread::Builder::new()
                .name(format!("capture:{}", worker.name))
                .spawn(move || worker.run())
                .map_err(|e| WatchError::Capture {
                    interface: "capture thread".into(),
                    source: NetError::Io { context: "spawn capture thread", source: e },
                })?;
            threads.push(handle);
        }
        Ok(Capture { names, threads, events, stop })
    }

    /// What is being captured: interface names, or `all interfaces`.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The channel the capture threads report on. It disconnects once every thread ended.
    pub fn events(&self) -> &Receiver<CaptureEvent> {
        &self.events
    }

    /// Stops the threads, waits for them and returns the summed kernel counters. Events still
    /// queued are handed to `rest` (so no packet read is lost to the detector).
    pub fn stop(self, rest: &mut dyn FnMut(CaptureEvent)) -> CaptureStats {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = CaptureStats::default();
        for handle in self.threads {
            if let Ok(stats) = handle.join() {
                total.packets += stats.packets;
                total.drops += stats.drops;
            }
        }
        while let Ok(event) = self.events.try_recv() {
            rest(event);
        }
        total
    }
}

/// The name shown for the socket on interface index 0.
const ALL: &str = "all interfaces";

/// Opens a socket on each `(name, index)`.
fn open_each(targets: &[(String, u32)]) -> Result<Vec<(String, u32, PacketSocket)>, WatchError> {
    targets.iter().map(|(name, index)| Ok((name.clone(), *index, open_one(name, *index)?))).collect()
}

/// Opens the capture socket on `index` and makes it see outgoing frames too.
fn open_one(name: &str, index: u32) -> Result<PacketSocket, WatchError> {
    let socket = PacketSocket::open(index, &Filter::ip_transport(SNAPLEN), RING).map_err(|source| match source {
        NetError::PermissionDenied => WatchError::PermissionDenied,
        NetError::NoInterface { .. } => WatchError::NoInterface { name: name.to_owned() },
        source => WatchError::Capture { interface: name.to_owned(), source },
    })?;
    socket.see_outgoing().map_err(|source| WatchError::Capture { interface: name.to_owned(), source })?;
    Ok(socket)
}

/// The current wall-clock time.
pub fn now() -> Timestamp {
    SystemTime::now().duration_since(UNIX_EPOCH).map(Timestamp::from_duration).unwrap_or(Timestamp::EPOCH)
}

/// One capture thread.
struct Worker {
    name: String,
    index: u32,
    socket: PacketSocket,
    tx: Sender<CaptureEvent>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(mut self) -> RxStats {
        let mut twins = LoopbackTwins::default();
        let mut down = false;
        let mut checked = Instant::now();
        let (mut counted, mut reported_drops) = (Instant::now(), 0);
        while !self.stop.load(Ordering::Relaxed) {
            if counted.elapsed() >= DROP_REPORT {
                counted = Instant::now();
                if let Ok(stats) = self.socket.stats()
                    && stats.drops > reported_drops
                {
                    let dropped = stats.drops - reported_drops;
                    reported_drops = stats.drops;
                    let _ = self.tx.send(CaptureEvent::Drops { interface: self.name.clone(), dropped });
                }
            }
            // A socket on an interface that went down hears nothing more, not even of its
            // deletion: look for the interface now and then while it is down.
            if down && checked.elapsed() >= RECHECK {
                checked = Instant::now();
                if !self.still_exists() {
                    let reason = "interface deleted".to_owned();
                    let _ = self.tx.send(CaptureEvent::Gone { interface: self.name.clone(), reason });
                    break;
                }
            }
            let mut batch = Vec::new();
            let result = self.socket.recv(POLL, &mut |frame| {
                if twins.is_twin(frame) {
                    return;
                }
                if let Some(pkt) = summarize(frame, LinkType::Ethernet, now()) {
                    batch.push(pkt);
                }
            });
            match result {
                Ok(n) => {
                    if down && n > 0 {
                        down = false;
                        let _ = self.tx.send(CaptureEvent::Up { interface: self.name.clone() });
                    }
                    if !batch.is_empty() && self.tx.send(CaptureEvent::Packets(batch)).is_err() {
                        break;
                    }
                }
                Err(error) => {
                    if self.index != 0 && !self.still_exists() {
                        let reason = format!("interface deleted ({error})");
                        let _ = self.tx.send(CaptureEvent::Gone { interface: self.name.clone(), reason });
                        break;
                    }
                    if error.is_interface_down() {
                        if !down {
                            down = true;
                            checked = Instant::now();
                            let _ = self.tx.send(CaptureEvent::Down { interface: self.name.clone() });
                        }
                        thread::sleep(POLL);
                    } else {
                        let _ = self
                            .tx
                            .send(CaptureEvent::Gone { interface: self.name.clone(), reason: error.to_string() });
                        break;
                    }
                }
            }
        }
        self.socket.stats().unwrap_or_default()
    }

    fn still_exists(&self) -> bool {
        tojimari_net::interfaces()
            .map(|all| all.iter().any(|i: &Interface| i.index == self.index && i.name == self.name))
            .unwrap_or(true)
    }
}
