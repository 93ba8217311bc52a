//! The raw engine's threads around `tojimari-net`: one receiver thread per interface feeding replies to
//! whichever pass is current, and batched sending.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tojimari_net::{Filter, NetError, PacketSender, PacketSocket, RingConfig};
use tojimari_packet::{MAX_FRAME, Reply, parse_frame};

use crate::trace::Tracer;

/// Something that takes validated replies: a port pass or a ping pass.
pub trait ReplyHandler: Send + Sync {
    /// Returns true when the reply answered a probe for the first time.
    fn handle(&self, reply: &Reply, now: Instant) -> bool;
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

/// Sending threads (each with its own socket per interface): on a fast link the kernel does the target's
/// and our own receive work inside the send call, so one thread per core keeps both cores busy.
pub fn sender_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// One interface in use: senders (one per sending thread) and a receiver thread.
#[derive(Debug)]
pub struct Link {
    pub ifindex: u32,
    senders: Vec<PacketSender>,
    /// `--packet-trace`: hears every frame sent on and received from this link.
    trace: Tracer,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Link {
    pub fn open(
        ifindex: u32,
        ours: &[std::net::IpAddr],
        current: Arc<Current>,
        totals: Arc<RxTotals>,
        trace: Tracer,
    ) -> Result<Link, NetError> {
        // 8 MiB of ring: about 200 ms of replies at 300k per second; allocating more costs start-up time.
        let ring = RingConfig { block_size: 1 << 20, block_count: 8, ..RingConfig::default() };
        let mut socket = PacketSocket::open(ifindex, &Filter::replies_to(ours), ring)?;
        let mut senders = vec![socket.try_clone_sender()?];
        for _ in 1..sender_threads() {
            senders.push(PacketSender::open(ifindex)?);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let rx_trace = trace.clone();
        let thread = std::thread::Builder::new()
            .name(format!("rx-{ifindex}"))
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // The pass is looked up once frames are in, not before blocking: a pass that starts
                    // while we wait must get its first replies.
                    let mut handler: Option<Option<Arc<dyn ReplyHandler>>> = None;
                    let got = socket.recv(Duration::from_millis(5), &mut |frame| {
                        if let Some(t) = rx_trace.get() {
                            t.received(frame, Instant::now());
                        }
                        let h = handler.get_or_insert_with(|| current.get());
                        if let (Some(h), Some(reply)) = (h, parse_frame(frame)) {
                            h.handle(&reply, Instant::now());
                        }
                    });
                    match got {
                        Ok(n) => {
                            totals.frames.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                    if let Ok(stats) = socket.stats() {
                        totals.kernel_drops.fetch_add(stats.drops, Ordering::Relaxed);
                    }
                }
            })
            .map_err(|e| NetError::Io { context: "spawning the receiver thread", source: e })?;
        Ok(Link { ifindex, senders, trace, stop, thread: Some(thread) })
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Frames waiting to be sent, per link, flushed in batches with one `sendmmsg` each.
#[derive(Debug)]
pub struct Batch {
    bufs: Vec<Vec<u8>>,
    lens: Vec<usize>,
    link: Vec<u16>,
    used: usize,
    limit: usize,
}

/// Frames per `sendmmsg`.
pub const BATCH: usize = 64;

impl Batch {
    pub fn new() -> Self {
        Batch {
            bufs: (0..BATCH).map(|_| vec![0u8; MAX_FRAME]).collect(),
            lens: vec![0; BATCH],
            link: vec![0; BATCH],
            used: 0,
            limit: BATCH,
        }
    }

    /// A batch of about a millisecond's worth of probes at `rate` per second (1 to [`BATCH`]): at low rates
    /// a full batch would leave as a burst that a strict policer on the path drops.
    pub fn for_rate(rate: f64) -> Self {
        let mut b = Batch::new();
        b.limit = ((rate / 1000.0) as usize).clamp(1, BATCH);
        b
    }

    pub fn is_full(&self) -> bool {
        self.used >= self.limit
    }

    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The next free buffer; commit it with [`Batch::push`].
    pub fn slot(&mut self) -> &mut [u8] {
        &mut self.bufs[self.used]
    }

    pub fn push(&mut self, link: u16, len: usize) {
        self.lens[self.used] = len;
        self.link[self.used] = link;
        self.used += 1;
    }

    /// Sends everything, link by link, retrying what the kernel could not take (ENOBUFS) after a short
    /// pause. Returns frames sent.
    pub fn flush(&mut self, links: &[Link], worker: usize) -> Result<usize, NetError> {
        let mut sent = 0;
        for (li, link) in links.iter().enumerate() {
            let frames: Vec<&[u8]> = (0..self.used)
                .filter(|&i| usize::from(self.link[i]) == li)
                .map(|i| &self.bufs[i][..self.lens[i]])
                .collect();
            let mut done = 0;
            let mut stalls = 0;
            while done < frames.len() {
                let n = link.senders[worker % link.senders.len()].send_batch(&frames[done..])?;
                done += n;
                if n == 0 {
                    stalls += 1;
                    if stalls > 1000 {
                        return Err(NetError::Io {
                            context: "sending frames (the interface queue stayed full)",
                            source: std::io::Error::from(std::io::ErrorKind::WouldBlock),
                        });
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            if let Some(t) = link.trace.get() {
                let now = Instant::now();
                frames.iter().for_each(|f| t.sent(f, now));
            }
            sent += done;
        }
        self.used = 0;
        Ok(sent)
    }
}
