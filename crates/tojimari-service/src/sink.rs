//! [`IdentifySink`]: version detection as a [`Sink`] stage between a port scan and the printers.
//!
//! The scan engine calls the sink as usual. `port_found` is swallowed; each `host_done` hands the host to a
//! worker thread running a small tokio runtime, which probes the host's open ports (TCP and UDP `open`, and
//! UDP `open|filtered` as nmap does), fills [`PortResult::service`], and then forwards the host to the inner
//! sink: one `port_found` per port followed by `host_done`. Several hosts are probed at once; the inner sink
//! is only ever called from the worker's forwarding loop, one host's calls together, in the order hosts
//! finish detection. Hosts with nothing to probe (down, no open port) are forwarded as they arrive.
//!
//! Errors from the inner sink are returned by the next `host_done` (or by `run_end`). When the interrupt
//! flag is set, detection in progress stops within a fraction of a second and hosts are forwarded with what
//! was found so far; hosts arriving later are forwarded without detection.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread::JoinHandle;

use tojimari_core::{HostReport, PortResult, PortState, Protocol, RunInfo, RunSummary, ServiceInfo, Sink};
use tojimari_probedb::Transport;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::host::identify_until;
use crate::options::IdentifyOptions;

type Reply = std_mpsc::SyncSender<io::Result<()>>;

enum Command {
    Start(RunInfo, Reply),
    Host(HostReport),
    Group(u64),
    Drain(Reply),
    End(RunSummary, Reply),
}

/// A [`Sink`] that runs version detection on each finished host before passing it to `inner`.
pub struct IdentifySink {
    commands: Option<mpsc::UnboundedSender<Command>>,
    worker: Option<JoinHandle<()>>,
    /// The first error the inner sink returned from a forwarded host, not yet reported.
    error: Arc<Mutex<Option<io::Error>>>,
}

impl std::fmt::Debug for IdentifySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentifySink").field("running", &self.worker.is_some()).finish()
    }
}

impl IdentifySink {
    /// Starts the worker thread. `interrupt` is the run's Ctrl-C flag. Fails only when the thread or its
    /// runtime cannot be created.
    pub fn new(inner: Box<dyn Sink + Send>, opts: IdentifyOptions, interrupt: Arc<AtomicBool>) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tojimari-scandetect")
            .enable_all()
            .build()?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let error = Arc::new(Mutex::new(None));
        let worker_error = Arc::clone(&error);
        let worker = std::thread::Builder::new().name("tojimari-scandetect-forward".into()).spawn(move || {
            runtime.block_on(Worker { inner, opts, interrupt, error: worker_error }.serve(receiver));
        })?;
        Ok(IdentifySink { commands: Some(commands), worker: Some(worker), error })
    }

    fn send(&self, command: Command) -> io::Result<()> {
        let sent = self.commands.as_ref().is_some_and(|c| c.send(command).is_ok());
        if sent { Ok(()) } else { Err(io::Error::other("version detection worker stopped")) }
    }

    /// Sends a command that the worker answers, and waits for the answer.
    fn call(&self, make: impl FnOnce(Reply) -> Command) -> io::Result<()> {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.send(make(reply))?;
        answer.recv().unwrap_or_else(|_| Err(io::Error::other("version detection worker stopped")))
    }

    fn take_error(&self) -> io::Result<()> {
        match self.error.lock().map(|mut e| e.take()) {
            Ok(Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    fn join(&mut self) {
        self.commands = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Sink for IdentifySink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.call(|reply| Command::Start(run.clone(), reply))
    }

    /// Swallowed: the port is forwarded with its service once its host is probed.
    fn port_found(&mut self, _addr: IpAddr, _port: &PortResult) -> io::Result<()> {
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.take_error()?;
        self.send(Command::Host(host.clone()))
    }

    /// Forwarded once every host sent before it has been probed and forwarded.
    fn group_done(&mut self, group: u64) -> io::Result<()> {
        self.take_error()?;
        self.send(Command::Group(group))
    }

    /// Waits for every host still being probed and forwards them.
    fn drain(&mut self) -> io::Result<()> {
        let drained = self.call(Command::Drain);
        self.take_error().and(drained)
    }

    /// Waits for every host still being probed, forwards them, then ends the inner sink.
    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let ended = self.call(|reply| Command::End(summary.clone(), reply));
        self.join();
        self.take_error().and(ended)
    }
}

impl Drop for IdentifySink {
    /// Without `run_end`, hosts still pending are probed and forwarded before the worker ends.
    fn drop(&mut self) {
        self.join();
    }
}

/// The worker side: owns the inner sink.
struct Worker {
    inner: Box<dyn Sink + Send>,
    opts: IdentifyOptions,
    interrupt: Arc<AtomicBool>,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl Worker {
    async fn serve(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let slots = Arc::new(Semaphore::new(self.opts.max_parallel_hosts));
        let mut running = JoinSet::new();
        let mut pending: HashMap<tokio::task::Id, HostReport> = HashMap::new();
        let mut open = true;
        loop {
            // Commands first: forwarding a host with nothing to probe must not wait behind finished ones.
            tokio::select! {
                biased;
                command = commands.recv(), if open => match command {
                    None => open = false,
                    Some(Command::Start(run, reply)) => {
                        let _ = reply.send(self.inner.run_start(&run));
                    }
                    Some(Command::Host(host)) => {
                        let targets = targets(&host);
                        if targets.is_empty() || self.interrupt.load(Ordering::Relaxed) {
                            self.forward(&host);
                        } else {
                            let job = probe(host.addr, targets, self.opts.clone(), Arc::clone(&self.interrupt), Arc::clone(&slots));
                            pending.insert(running.spawn(job).id(), host);
                        }
                    }
                    Some(Command::Group(group)) => {
                        while let Some(joined) = running.join_next_with_id().await {
                            self.finish(joined, &mut pending);
                        }
                        if let Err(e) = self.inner.group_done(group)
                            && let Ok(mut slot) = self.error.lock()
                        {
                            slot.get_or_insert(e);
                        }
                    }
                    Some(Command::Drain(reply)) => {
                        while let Some(joined) = running.join_next_with_id().await {
                            self.finish(joined, &mut pending);
                        }
                        let _ = reply.send(self.inner.drain());
                    }
                    Some(Command::End(summary, reply)) => {
                        while let Some(joined) = running.join_next_with_id().await {
                            self.finish(joined, &mut pending);
                        }
                        let _ = reply.send(self.inner.run_end(&summary));
                        return;
                    }
                },
                Some(joined) = running.join_next_with_id() => self.finish(joined, &mut pending),
                else => return,
            }
        }
    }

    /// Fills a probed host's services and forwards it (also when its task failed: then without services).
    fn finish(
        &mut self,
        joined: Result<(tokio::task::Id, Vec<(usize, ServiceInfo)>), tokio::task::JoinError>,
        pending: &mut HashMap<tokio::task::Id, HostReport>,
    ) {
        let (id, found) = match joined {
            Ok((id, found)) => (id, found),
            Err(e) => (e.id(), Vec::new()),
        };
        let Some(mut host) = pending.remove(&id) else { return };
        for (index, info) in found {
            if let Some(port) = host.ports.get_mut(index) {
                port.service = Some(Box::new(info));
            }
        }
        self.forward(&host);
    }

    /// One host's calls to the inner sink, together. The first error is kept for the caller.
    fn forward(&mut self, host: &HostReport) {
        let mut result = Ok(());
        for port in &host.ports {
            result = result.and_then(|()| self.inner.port_found(host.addr, port));
        }
        let result = result.and(self.inner.host_done(host));
        if let Err(e) = result
            && let Ok(mut slot) = self.error.lock()
        {
            slot.get_or_insert(e);
        }
    }
}

/// Indexes into `host.ports` of the ports to probe, with their transport.
fn targets(host: &HostReport) -> Vec<(usize, Transport, u16)> {
    host.ports
        .iter()
        .enumerate()
        .filter_map(|(index, port)| {
            let transport = match (port.proto, port.state) {
                (Protocol::Tcp, PortState::Open) => Transport::Tcp,
                (Protocol::Udp, PortState::Open | PortState::OpenFiltered) => Transport::Udp,
                _ => return None,
            };
            Some((index, transport, port.port))
        })
        .collect()
}

/// Probes one host's ports once a host slot is free; returns (index into ports, service) pairs.
async fn probe(
    ip: IpAddr,
    targets: Vec<(usize, Transport, u16)>,
    opts: IdentifyOptions,
    interrupt: Arc<AtomicBool>,
    slots: Arc<Semaphore>,
) -> Vec<(usize, ServiceInfo)> {
    let Ok(_slot) = slots.acquire_owned().await else { return Vec::new() };
    if interrupt.load(Ordering::Relaxed) {
        return Vec::new();
    }
    let ports: Vec<(Transport, u16)> = targets.iter().map(|&(_, transport, port)| (transport, port)).collect();
    let found = identify_until(ip, &ports, &opts, Some(&interrupt)).await;
    targets.iter().zip(found).filter_map(|(&(index, _, _), info)| Some((index, info?))).collect()
}
