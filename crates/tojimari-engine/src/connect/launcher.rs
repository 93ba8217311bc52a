//! Where `connect(2)` calls run: inline on the event loop, or on a pool of worker threads.
//!
//! On a fast path (loopback, a veth test bed, a LAN) the whole exchange, our SYN and the target's RST or
//! SYN/ACK, is processed by the kernel inside our `connect` call, on our CPU. A connect scan is then bound
//! by system-call time on one core. The pool runs those calls on one thread per core while the event loop
//! keeps every piece of state (windows, retries, timers, results) to itself: workers only open sockets and
//! hand back what the kernel said.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::event::Open;
use super::probe::{self, Launch};

/// A connection to open, as the scheduler asked, with what the socket needs from the event loop.
#[derive(Debug)]
pub struct Request {
    pub open: Open,
    /// `-e`: the interface to bind the socket to.
    pub device: Option<Arc<str>>,
    /// The previous try's socket, which connected to itself: held until this probe's `connect` has
    /// picked its source port, so the kernel cannot pick the same one again (see [`probe`]).
    pub guard: Option<socket2::Socket>,
}

/// What the kernel said to a launch.
#[derive(Debug)]
pub struct Outcome {
    pub req: Request,
    /// When the connect began (the send time of the probe).
    pub started: Instant,
    /// How long the connect call took (the round trip, when the answer came within it).
    pub elapsed: Duration,
    pub launch: Launch,
}

/// Runs one launch on the calling thread.
pub fn launch_now(mut req: Request) -> Outcome {
    let started = Instant::now();
    let launch = probe::launch(req.open.addr, req.open.port, req.device.as_deref());
    let elapsed = started.elapsed();
    // The source port is chosen: the self-connected socket has done its job (closing it resets it).
    drop(req.guard.take());
    Outcome { req, started, elapsed, launch }
}

/// Worker threads that launch probes and wake the event loop when answers are waiting.
#[derive(Debug)]
pub struct Pool {
    requests: Option<Sender<Request>>,
    outcomes: Receiver<Outcome>,
    woken: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `workers` threads; `wake` is called (at most once per drain) when outcomes arrive.
    pub fn start(workers: usize, wake: Arc<dyn Fn() + Send + Sync>) -> std::io::Result<Pool> {
        let (req_tx, req_rx) = crossbeam_channel::unbounded::<Request>();
        let (out_tx, out_rx) = crossbeam_channel::unbounded::<Outcome>();
        let woken = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for i in 0..workers {
            let rx = req_rx.clone();
            let tx = out_tx.clone();
            let woken = woken.clone();
            let wake = wake.clone();
            handles.push(std::thread::Builder::new().name(format!("connect-{i}")).spawn(move || {
                for req in rx {
                    if tx.send(launch_now(req)).is_err() {
                        break;
                    }
                    // Wake the loop only if it has not been woken since it last drained.
                    if !woken.swap(true, Ordering::AcqRel) {
                        wake();
                    }
                }
            })?);
        }
        Ok(Pool { requests: Some(req_tx), outcomes: out_rx, woken, handles })
    }

    pub fn submit(&self, req: Request) {
        if let Some(tx) = &self.requests {
            // Workers outlive every submit (they stop only when `requests` is dropped).
            let _ = tx.send(req);
        }
    }

    /// Every outcome that is ready now.
    pub fn drain(&self) -> Vec<Outcome> {
        // Clear the flag before reading, so an outcome pushed after this read wakes the loop again.
        self.woken.store(false, Ordering::Release);
        self.outcomes.try_iter().collect()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the request channel ends the workers once the queue is empty.
        self.requests = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
