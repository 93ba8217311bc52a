//! The raw engine's threads around `tojimari-net`: one receiver thread per interface feeding replies to
//! whichever pass is current, and batched sending.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tojimari_net::{Filter, FrameSender, Handoff, NetError, PacketSocket, RingConfig, SendMethod, SendPreference};
use tojimari_packet::{Reply, parse_frame};

use crate::trace::Tracer;

/// Something that takes validated replies: a port pass, a ping pass or the OS-detection pass.
pub trait ReplyHandler: Send + Sync {
    /// Returns true when the reply answered a probe for the first time.
    fn handle(&self, reply: &Reply, now: Instant) -> bool;

    /// Takes a received frame whole. Most handlers read only the classified [`Reply`]; those that read more
    /// of the packet (OS detection, the passive OS guess) look at the frame itself.
    fn handle_frame(&self, frame: &[u8], now: Instant) -> bool {
        parse_frame(frame).is_some_and(|reply| self.handle(&reply, now))
    }
}

/// The pass the receivers feed, swapped between passes.
#[derive(Default)]
pub struct Current {
    handler: Mutex<Option<Arc<dyn ReplyHandler>>>,
}

impl std::fmt::Debug for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Current")
    }
}

impl Current {
    pub fn set(&self, handler: Option<Arc<dyn ReplyHandler>>) {
        *self.handler.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = handler;
    }

    fn get(&self) -> Option<Arc<dyn ReplyHandler>> {
        self.handler.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Receive counters over all interfaces.
#[derive(Debug, Default)]
pub struct RxTotals {
    pub frames: AtomicU64,
    pub kernel_drops: AtomicU64,
}

/// How long the kernel keeps a receive block that is not full before handing it over: the latency of the
/// last answers of a pass.
pub const RX_RETIRE_MS: u32 = 4;

/// Sending threads (each with its own sender per interface): on a fast link the kernel does the target's
/// and our own receive work inside the send call, so one thread per core keeps both cores busy.
pub fn sender_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// One interface in use: a sender per sending thread (a transmit ring each, or `sendmmsg`) and a
/// receiver thread.
#[derive(Debug)]
pub struct Link {
    pub ifindex: u32,
    /// The interface's name, for messages.
    pub name: String,
    senders: Vec<Mutex<FrameSender>>,
    /// `--packet-trace`: hears every frame sent on and received from this link.
    trace: Tracer,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The receiver's socket (owned by its thread), for the hand-off at the end.
    rx_fd: std::os::fd::RawFd,
}

impl Link {
    pub fn open(
        ifindex: u32,
        name: &str,
        ours: &[std::net::IpAddr],
        current: Arc<Current>,
        totals: Arc<RxTotals>,
        trace: Tracer,
        preference: SendPreference,
    ) -> Result<Link, NetError> {
        // 4 MiB of ring: some 60 ms of replies at 600k per second (a frame and its header take about 112
        // bytes). The kernel zeroes the ring when it is set up, so more costs start-up time; blocks of
        // 256 KiB are cheaper to allocate than larger ones.
        let ring = RingConfig { block_size: 1 << 18, block_count: 16, frame_timeout_ms: RX_RETIRE_MS };
        // Setting up a ring and closing a packet socket each wait for an RCU grace period in the kernel
        // (synchronize_net, some 10-20 ms here): the sockets are opened side by side, so the waits overlap.
        let (socket, senders) = std::thread::scope(|s| {
            let filter = Filter::replies_to(ours);
            let rx = s.spawn(move || PacketSocket::open(ifindex, &filter, ring));
            let tx: Vec<_> =
                (0..sender_threads()).map(|_| s.spawn(move || FrameSender::open(ifindex, preference))).collect();
            let senders: Result<Vec<Mutex<FrameSender>>, NetError> =
                tx.into_iter().map(|h| joined(h.join()).map(Mutex::new)).collect();
            (joined(rx.join()), senders)
        });
        let (mut socket, senders) = (socket?, senders?);
        let rx_fd = std::os::fd::AsRawFd::as_raw_fd(&socket);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let rx_trace = trace.clone();
        let thread = std::thread::Builder::new()
            .name(format!("rx-{ifindex}"))
            .spawn(move || {
                let mut drops_seen = 0;
                while !flag.load(Ordering::Relaxed) {
                    // The pass is looked up once frames are in, not before blocking: a pass that starts
                    // while we wait must get its first replies.
                    let mut handler: Option<Option<Arc<dyn ReplyHandler>>> = None;
                    // A short wait: the engine joins this thread when the scan ends, and waits for it.
                    let got = socket.recv(Duration::from_millis(2), &mut |frame| {
                        if let Some(t) = rx_trace.get() {
                            t.received(frame, Instant::now());
                        }
                        let h = handler.get_or_insert_with(|| current.get());
                        if let Some(h) = h {
                            h.handle_frame(frame, Instant::now());
                        }
                    });
                    match got {
                        Ok(n) => {
                            totals.frames.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                    if let Ok(stats) = socket.stats() {
                        totals.kernel_drops.fetch_add(stats.drops - drops_seen, Ordering::Relaxed);
                        drops_seen = stats.drops;
                    }
                }
            })
            .map_err(|e| NetError::Io { context: "spawning the receiver thread", source: e })?;
        Ok(Link { ifindex, name: name.to_string(), senders, trace, stop, thread: Some(thread), rx_fd })
    }

    /// How this link's first sender sends (they were all opened alike).
    pub fn method(&self) -> Option<SendMethod> {
        self.senders.first().map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).method().clone())
    }
}

impl Drop for Link {
    /// Closes the senders and the receiver. The last close of a packet socket waits for the kernel's RCU
    /// grace periods: a child process takes copies of the sockets and pays that wait ([`Handoff`]), so
    /// this process's own closes are quick; without it, the closes at least run side by side.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let mut fds: Vec<std::os::fd::RawFd> = self
            .senders
            .iter()
            .map(|s| s.lock().unwrap_or_else(std::sync::PoisonError::into_inner).socket_fd())
            .collect();
        if self.thread.is_some() {
            fds.push(self.rx_fd);
        }
        let handoff = Handoff::start(&fds);
        let senders = std::mem::take(&mut self.senders);
        let receiver = self.thread.take();
        std::thread::scope(|s| {
            for sender in senders {
                s.spawn(move || drop(sender));
            }
            if let Some(t) = receiver {
                let _ = t.join();
            }
        });
        if let Some(h) = handoff {
            h.release();
        }
    }
}

/// A helper thread's result, a panic in it becoming an error.
fn joined<T>(result: std::thread::Result<Result<T, NetError>>) -> Result<T, NetError> {
    result.unwrap_or_else(|_| {
        Err(NetError::Io { context: "opening a socket", source: std::io::Error::other("thread panicked") })
    })
}

/// How long a sender may find its queue full before the send is given up as failed.
const STALL_LIMIT: Duration = Duration::from_secs(2);

/// A sender finding the interface's queue full, since when.
#[derive(Default)]
struct Stall(Option<Instant>);

impl Stall {
    /// Pauses for `pause` before the next try, or fails once the queue has been full for [`STALL_LIMIT`].
    fn pause(&mut self, pause: Duration) -> Result<(), NetError> {
        if self.0.get_or_insert_with(Instant::now).elapsed() > STALL_LIMIT {
            return Err(NetError::Io {
                context: "sending frames (the interface queue stayed full)",
                source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
            });
        }
        std::thread::sleep(pause);
        Ok(())
    }
}

/// One sending thread's outgoing frames: its own sender on each link (held for the whole pass), flushed
/// every `limit` frames.
pub struct Outbox<'a> {
    links: &'a [Link],
    senders: Vec<MutexGuard<'a, FrameSender>>,
    limit: usize,
    queued: usize,
    /// Frames handed to the kernel.
    pub frames: u64,
}

/// Frames queued before a flush, at full speed.
pub const BATCH: usize = 64;

impl<'a> Outbox<'a> {
    /// Sending thread `worker`'s outbox, flushed every [`BATCH`] frames.
    pub fn new(links: &'a [Link], worker: usize) -> Self {
        let senders = links
            .iter()
            .map(|l| l.senders[worker % l.senders.len()].lock().unwrap_or_else(std::sync::PoisonError::into_inner))
            .collect();
        Outbox { links, senders, limit: BATCH, queued: 0, frames: 0 }
    }

    /// As [`Outbox::new`], flushed after about a millisecond's worth of frames at `rate` per second (1 to
    /// [`BATCH`]): at low rates a full batch would leave as a burst that a strict policer on the path drops.
    pub fn for_rate(links: &'a [Link], worker: usize, rate: f64) -> Self {
        let mut o = Outbox::new(links, worker);
        o.limit = ((rate / 1000.0) as usize).clamp(1, BATCH);
        o
    }

    pub fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// Lets `fill` write a frame for link `link` in place and queues it (a `fill` returning 0 queues
    /// nothing). Waits, flushing, while that sender is full. Returns whether a frame was queued.
    pub fn push(&mut self, link: u16, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> Result<bool, NetError> {
        let li = usize::from(link);
        let trace = self.links.get(li).and_then(|l| l.trace.get());
        let Some(sender) = self.senders.get_mut(li) else { return Ok(false) };
        let mut len = 0;
        let mut write = |buf: &mut [u8]| {
            len = fill(buf);
            if len > 0
                && let Some(t) = &trace
            {
                t.sent(&buf[..len], Instant::now());
            }
            len
        };
        let mut stall = Stall::default();
        while !sender.push(&mut write) {
            sender.flush()?;
            if !sender.ready() {
                stall.pause(Duration::from_micros(50))?;
            }
        }
        if len == 0 {
            return Ok(false);
        }
        self.queued += 1;
        if self.queued >= self.limit {
            self.flush()?;
        }
        Ok(true)
    }

    /// Hands every queued frame to the kernel, retrying what a full queue left after a short pause.
    pub fn flush(&mut self) -> Result<(), NetError> {
        for sender in &mut self.senders {
            let mut stall = Stall::default();
            while sender.pending() > 0 {
                let n = sender.flush()?;
                self.frames += n as u64;
                if n == 0 {
                    stall.pause(Duration::from_micros(200))?;
                }
            }
        }
        self.queued = 0;
        Ok(())
    }
}
