//! Listeners: TCP ports that accept and close, UDP ports that echo, opened inside a target
//! namespace by one thread and kept open until the [`Listeners`] value is dropped.
//!
//! The thread `setns`-es into the namespace, binds every socket there (TCP with a backlog of
//! 4096 so a fast scan is not refused by a full accept queue), then waits on a `mio::Poll`:
//! TCP connections are accepted and closed at once, UDP datagrams are sent straight back.
//! Drop wakes the poll through a `mio::Waker` and joins the thread, which closes the sockets.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Socket, Type};

use crate::bed::Target;
use crate::error::{Error, Result};
use crate::netns::Netns;

/// Accept-queue length for TCP listeners (the kernel caps it at `net.core.somaxconn`).
pub const BACKLOG: i32 = 4096;

const WAKE: Token = Token(usize::MAX);

/// Which transport a [`Listeners`] set serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Accept each connection and close it.
    Tcp,
    /// Send each datagram back to its sender.
    Udp,
}

/// Open ports in a namespace; dropping the value closes them.
#[derive(Debug)]
pub struct Listeners {
    transport: Transport,
    addrs: Vec<SocketAddr>,
    handled: Arc<AtomicU64>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
}

impl Listeners {
    /// Opens TCP listeners on `addrs` inside `ns`. Port 0 picks a free port; see
    /// [`addrs`](Listeners::addrs) for the bound addresses. An IPv6 wildcard is bound
    /// `IPV6_V6ONLY`, so `0.0.0.0:p` and `[::]:p` can both be open.
    pub fn open(ns: &Netns, transport: Transport, addrs: &[SocketAddr]) -> Result<Listeners> {
        let handled = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let wanted = addrs.to_vec();
        let counter = Arc::clone(&handled);
        let thread = ns.spawn_in(move || {
            let setup = Server::bind(transport, &wanted);
            match setup {
                Ok((server, waker, bound)) => {
                    if ready_tx.send(Ok((waker, bound))).is_ok() {
                        server.serve(&counter);
                    }
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        })?;
        match ready_rx.recv() {
            Ok(Ok((waker, addrs))) => Ok(Listeners { transport, addrs, handled, waker, thread: Some(thread) }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::io("listener thread", io::Error::other("ended before binding")))
            }
        }
    }

    /// The transport served.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The addresses actually bound, in the order asked for.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// How many TCP connections were accepted, or UDP datagrams echoed, so far: ground truth
    /// for "did the probe reach the host".
    ///
    /// A client's `connect` returns once the kernel has completed the handshake, before this
    /// thread accepts; use [`wait_handled`](Listeners::wait_handled) to count reliably.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Waits until at least `count` have been [`handled`](Listeners::handled), or `timeout`
    /// passes; returns the count then.
    pub fn wait_handled(&self, count: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            let handled = self.handled();
            if handled >= count || Instant::now() >= deadline {
                return handled;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        // If waking fails the thread is left running detached rather than hanging Drop.
        if let Some(thread) = self.thread.take()
            && self.waker.wake().is_ok()
        {
            let _ = thread.join();
        }
    }
}

/// `0.0.0.0:p` and `[::]:p` for every port.
pub(crate) fn wildcard(ports: &[u16]) -> Vec<SocketAddr> {
    ports
        .iter()
        .flat_map(|&port| {
            [SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))]
        })
        .collect()
}

impl Target {
    /// Opens TCP listeners on every port, on the IPv4 and IPv6 wildcard addresses (so AnyIP
    /// routes work too), accepting and closing each connection until dropped.
    pub fn listen_tcp(&self, ports: &[u16]) -> Result<Listeners> {
        Listeners::open(&self.ns, Transport::Tcp, &wildcard(ports))
    }

    /// Opens UDP sockets on every port, IPv4 and IPv6 wildcard, echoing each datagram.
    pub fn listen_udp(&self, ports: &[u16]) -> Result<Listeners> {
        Listeners::open(&self.ns, Transport::Udp, &wildcard(ports))
    }
}

enum Endpoint {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

/// The sockets and poll owned by the listener thread.
struct Server {
    poll: Poll,
    sockets: Vec<Endpoint>,
}

impl Server {
    fn bind(transport: Transport, addrs: &[SocketAddr]) -> Result<(Server, Arc<Waker>, Vec<SocketAddr>)> {
        let poll = Poll::new().map_err(|e| Error::io("create poll", e))?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(|e| Error::io("create waker", e))?);
        let mut sockets = Vec::with_capacity(addrs.len());
        let mut bound = Vec::with_capacity(addrs.len());
        for (i, &addr) in addrs.iter().enumerate() {
            let what = |e| Error::io(format!("{transport:?} listen on {addr}"), e);
            let socket = open_socket(transport, addr).map_err(what)?;
            bound.push(socket.local_addr().map_err(what)?.as_socket().unwrap_or(addr));
            let mut socket = match transport {
                Transport::Tcp => Endpoint::Tcp(TcpListener::from_std(socket.into())),
                Transport::Udp => Endpoint::Udp(UdpSocket::from_std(socket.into())),
            };
            let registry = poll.registry();
            match &mut socket {
                Endpoint::Tcp(l) => registry.register(l, Token(i), Interest::READABLE),
                Endpoint::Udp(s) => registry.register(s, Token(i), Interest::READABLE),
            }
            .map_err(what)?;
            sockets.push(socket);
        }
        Ok((Server { poll, sockets }, waker, bound))
    }

    /// Serves until the waker fires (or polling fails).
    fn serve(mut self, handled: &AtomicU64) {
        let mut events = Events::with_capacity(256);
        let mut buf = vec![0u8; 65536];
        loop {
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            for event in &events {
                if event.token() == WAKE {
                    return;
                }
                match self.sockets.get(event.token().0) {
                    // Edge-triggered: drain until WouldBlock. Accepted streams close on drop.
                    Some(Endpoint::Tcp(listener)) => {
                        while let Ok((_stream, _peer)) = listener.accept() {
                            handled.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(Endpoint::Udp(socket)) => {
                        while let Ok((len, peer)) = socket.recv_from(&mut buf) {
                            // Count first, so a client that got its echo sees the count.
                            handled.fetch_add(1, Ordering::Relaxed);
                            let _ = socket.send_to(&buf[..len], peer);
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

fn open_socket(transport: Transport, addr: SocketAddr) -> io::Result<Socket> {
    let kind = match transport {
        Transport::Tcp => Type::STREAM,
        Transport::Udp => Type::DGRAM,
    };
    let socket = Socket::new(Domain::for_address(addr), kind, None)?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    if transport == Transport::Tcp {
        socket.listen(BACKLOG)?;
    }
    socket.set_nonblocking(true)?;
    Ok(socket)
}
