//! One connect probe: opening the socket, and turning what the kernel says into a port state.
//!
//! A connect to one of this host's own addresses can meet itself: when the destination port lies in the
//! ephemeral range, the kernel may pick that very port as the source port, the SYN arrives at the sending
//! socket, and TCP's simultaneous open connects the socket to itself. That is no open port (nothing was
//! listening: a port that is bound is never handed out as a source port), so such a socket is reported as
//! [`Launch::SelfConnected`] / [`Answer::SelfConnected`] and the caller probes again while it still holds
//! the self-connected socket ([`is_self_connection`]): the kernel then cannot pick the same source port (that connection exists),
//! so the second probe gets the port's true answer.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol as SockProto, SockAddr, Socket, Type};
use tojimari_core::state::is_self_connection;
use tojimari_core::{PortState, Reason};

use tojimari_net::{ErrOrigin, enable_recverr, icmp_error};

/// What happened when a probe was launched.
#[derive(Debug)]
pub enum Launch {
    /// The connect is under way; wait for the socket to become writable.
    Pending(Socket),
    /// The kernel answered at once (common on loopback and veth, where the reply is processed
    /// before `connect` returns).
    Done(PortState, Reason),
    /// The socket connected to itself (see the module docs): no answer yet. Probe again while
    /// holding this socket.
    SelfConnected(Socket),
    /// This machine is out of a resource (descriptors, local ports, buffers): back off and retry
    /// the same probe later. Not an answer from the target.
    Exhausted,
}

/// What a socket that was reported ready says.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The port's state, and why.
    Port(PortState, Reason),
    /// The socket connected to itself (see the module docs): no answer; probe again while holding
    /// this socket.
    SelfConnected,
}

/// Opens a non-blocking socket (bound to `device` if given) and starts a connect to `addr:port`.
pub fn launch(addr: IpAddr, port: u16, device: Option<&str>) -> Launch {
    let domain = if addr.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let socket = match Socket::new(domain, Type::STREAM.nonblocking().cloexec(), Some(SockProto::TCP)) {
        Ok(s) => s,
        Err(_) => return Launch::Exhausted,
    };
    // Best effort: without these we lose detail (ICMP codes) or leave TIME_WAIT behind, not results.
    let _ = enable_recverr(&socket, addr.is_ipv6());
    // Closing an established probe connection with linger 0 sends RST: no TIME_WAIT, no lingering
    // half-open connections on the target.
    let _ = socket.set_linger(Some(std::time::Duration::ZERO));
    if let Some(dev) = device
        && let Err(e) = socket.bind_device(Some(dev.as_bytes()))
    {
        // The interface was checked when the plan was made; if it vanished since, say so per probe.
        return Launch::Done(
            PortState::Filtered,
            if e.raw_os_error() == Some(libc::ENODEV) { Reason::NetUnreach } else { Reason::HostUnreach },
        );
    }
    let target = SockAddr::from(SocketAddr::new(addr, port));
    match socket.connect(&target) {
        Ok(()) if is_self_connected(&socket) => Launch::SelfConnected(socket),
        Ok(()) => Launch::Done(PortState::Open, Reason::SynAck),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Launch::Pending(socket),
        Err(e) if is_local_exhaustion(&e) => Launch::Exhausted,
        Err(e) => {
            let (state, reason) = classify_error(&socket, &e);
            Launch::Done(state, reason)
        }
    }
}

/// The state of a pending probe whose socket was reported ready, or `None` if it has no answer yet.
///
/// Readiness is not an answer by itself: an ICMP error that arrives while `connect` still holds the
/// socket lock is queued as a *soft* error (the kernel counts it in `TcpExtLockDroppedIcmps`), which
/// wakes epoll with EPOLLERR while SO_ERROR stays 0 and the socket is still in SYN_SENT. So: a hard
/// error decides; else a queued ICMP error decides; else only a socket that really has a peer is open,
/// unless that peer is the socket itself.
pub fn finish(socket: &Socket) -> Option<Answer> {
    match socket.take_error() {
        Ok(Some(e)) | Err(e) => {
            let (state, reason) = classify_error(socket, &e);
            Some(Answer::Port(state, reason))
        }
        Ok(None) => {
            if let Some(origin) = icmp_error(socket) {
                let (state, reason) = classify(0, Some(origin));
                return Some(Answer::Port(state, reason));
            }
            let peer = socket.peer_addr().ok()?;
            if socket.local_addr().is_ok_and(|local| is_self(&local, &peer)) {
                return Some(Answer::SelfConnected);
            }
            Some(Answer::Port(PortState::Open, Reason::SynAck))
        }
    }
}

/// Whether a connected socket's peer is the socket itself (getsockname == getpeername).
fn is_self_connected(socket: &Socket) -> bool {
    match (socket.local_addr(), socket.peer_addr()) {
        (Ok(local), Ok(peer)) => is_self(&local, &peer),
        _ => false,
    }
}

/// [`is_self_connection`] over socket addresses.
fn is_self(local: &SockAddr, peer: &SockAddr) -> bool {
    match (local.as_socket(), peer.as_socket()) {
        (Some(l), Some(p)) => is_self_connection(l, p),
        _ => false,
    }
}

fn is_local_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL | libc::EAGAIN)
    )
}

/// Maps a connect error to nmap's state and reason, using the queued ICMP message where the kernel
/// kept one: `connect(2)` folds "admin prohibited", "host unreachable" and others into EHOSTUNREACH, and
/// an ICMP port unreachable into ECONNREFUSED, but the error queue still has the type and code.
pub fn classify_error(socket: &Socket, e: &io::Error) -> (PortState, Reason) {
    let errno = e.raw_os_error().unwrap_or(0);
    let queued = icmp_error(socket);
    classify(errno, queued)
}

/// The pure part of `classify_error`: an errno and the queued ICMP message, to a state and reason.
pub fn classify(errno: i32, queued: Option<ErrOrigin>) -> (PortState, Reason) {
    match queued {
        // A TCP port that is really closed answers with RST, never ICMP: an ICMP unreachable of any
        // code means something in the path filters the port (nmap -sS calls these filtered too).
        Some(ErrOrigin::Icmp { kind: 3, code }) => (PortState::Filtered, Reason::from_icmp_unreach_code(code)),
        Some(ErrOrigin::Icmp6 { kind: 1, code }) => (PortState::Filtered, Reason::from_icmpv6_unreach_code(code)),
        Some(ErrOrigin::Icmp { kind: 11, .. }) | Some(ErrOrigin::Icmp6 { kind: 3, .. }) => {
            (PortState::Filtered, Reason::TimeExceeded)
        }
        _ => match errno {
            libc::ECONNREFUSED => (PortState::Closed, Reason::ConnRefused),
            libc::ENETUNREACH | libc::ENETDOWN => (PortState::Filtered, Reason::NetUnreach),
            libc::EACCES | libc::EPERM => (PortState::Filtered, Reason::AdminProhibited),
            libc::ETIMEDOUT => (PortState::Filtered, Reason::NoResponse),
            libc::ENOPROTOOPT => (PortState::Filtered, Reason::ProtoUnreach),
            _ => (PortState::Filtered, Reason::HostUnreach),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_is_closed_unless_icmp_said_so() {
        assert_eq!(classify(libc::ECONNREFUSED, None), (PortState::Closed, Reason::ConnRefused));
        // iptables' default REJECT: ICMP port unreachable to a TCP SYN. A firewall, not a closed port.
        assert_eq!(
            classify(libc::ECONNREFUSED, Some(ErrOrigin::Icmp { kind: 3, code: 3 })),
            (PortState::Filtered, Reason::PortUnreach)
        );
    }

    #[test]
    fn host_unreach_is_refined_by_the_icmp_code() {
        assert_eq!(
            classify(libc::EHOSTUNREACH, Some(ErrOrigin::Icmp { kind: 3, code: 13 })),
            (PortState::Filtered, Reason::AdminProhibited)
        );
        assert_eq!(
            classify(libc::EACCES, Some(ErrOrigin::Icmp6 { kind: 1, code: 1 })),
            (PortState::Filtered, Reason::AdminProhibited)
        );
        assert_eq!(classify(libc::EHOSTUNREACH, Some(ErrOrigin::Local)), (PortState::Filtered, Reason::HostUnreach));
        assert_eq!(classify(libc::ENETUNREACH, None), (PortState::Filtered, Reason::NetUnreach));
    }

    #[test]
    fn loopback_closed_port_is_refused() {
        // Port 1 on loopback: nothing listens there on a test machine (and if something does, open is fine too).
        let (state, _) = match launch("127.0.0.1".parse().unwrap(), 1, None) {
            Launch::Done(s, r) => (s, r),
            Launch::Pending(sock) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                match finish(&sock).expect("loopback answers within 50 ms") {
                    Answer::Port(s, r) => (s, r),
                    Answer::SelfConnected => panic!("port 1 is no ephemeral port"),
                }
            }
            Launch::SelfConnected(_) => panic!("port 1 is no ephemeral port"),
            Launch::Exhausted => panic!("exhausted"),
        };
        assert!(matches!(state, PortState::Closed | PortState::Open));
    }

    /// A socket bound to a loopback port and connected to that same port meets itself (simultaneous
    /// open): `finish` must not call that open. While it is held, a fresh probe of the port gets the
    /// port's true answer (nothing listens: refused).
    #[test]
    fn a_socket_connected_to_itself_is_no_open_port() {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(SockProto::TCP)).unwrap();
        socket.bind(&SockAddr::from(SocketAddr::from(([127, 0, 0, 1], 0)))).unwrap();
        let local = socket.local_addr().unwrap();
        socket.connect(&local).expect("simultaneous open with itself");
        assert!(is_self_connected(&socket));
        assert_eq!(finish(&socket), Some(Answer::SelfConnected));

        let port = local.as_socket().unwrap().port();
        let answer = match launch("127.0.0.1".parse().unwrap(), port, None) {
            Launch::Done(s, r) => Answer::Port(s, r),
            Launch::Pending(sock) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                finish(&sock).expect("loopback answers within 50 ms")
            }
            Launch::SelfConnected(_) => panic!("the held socket keeps the port from being picked again"),
            Launch::Exhausted => panic!("exhausted"),
        };
        assert_eq!(answer, Answer::Port(PortState::Closed, Reason::ConnRefused));
    }
}
