//! A minimal rtnetlink client: one request, its answers, and attribute parsing. Enough for
//! `RTM_GETROUTE`, `RTM_GETLINK`, `RTM_GETADDR` and `RTM_GETNEIGH`, without a crate.
//!
//! Messages are `nlmsghdr` + a fixed family header + `rtattr`s, all native-endian and
//! 4-byte aligned (see netlink(7), rtnetlink(7)).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use crate::error::NetError;
use crate::sys;

pub(crate) const RTM_NEWLINK: u16 = 16;
pub(crate) const RTM_GETLINK: u16 = 18;
pub(crate) const RTM_NEWADDR: u16 = 20;
pub(crate) const RTM_GETADDR: u16 = 22;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_GETROUTE: u16 = 26;
pub(crate) const RTM_NEWNEIGH: u16 = 28;
pub(crate) const RTM_GETNEIGH: u16 = 30;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const HEADER_LEN: usize = 16;
const RECV_BUFFER: usize = 1 << 16;
/// The kernel answers at once; this only stops a wedged socket from hanging the caller.
const RECV_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a request asks for one object or a dump of all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    One,
    Dump,
}

/// One answer: its message type and the bytes after the `nlmsghdr`.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) kind: u16,
    pub(crate) body: Vec<u8>,
}

/// An `AF_NETLINK`/`NETLINK_ROUTE` socket.
#[derive(Debug)]
pub(crate) struct Netlink {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    pub(crate) fn open() -> Result<Netlink, NetError> {
        let fd = sys::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE, "open netlink socket")?;
        let timeout = libc::timeval { tv_sec: RECV_TIMEOUT.as_secs() as libc::time_t, tv_usec: 0 };
        sys::set_option(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout, "set netlink receive timeout")?;
        Ok(Netlink { fd, seq: 0, buf: vec![0; RECV_BUFFER] })
    }

    /// Sends `msg_type` with `payload` (family header + attributes) and returns the answers.
    /// A netlink error answer becomes the matching `io::Error` (e.g. ENETUNREACH).
    pub(crate) fn request(&mut self, msg_type: u16, kind: Kind, payload: &[u8]) -> io::Result<Vec<Message>> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let flags = match kind {
            Kind::One => NLM_F_REQUEST,
            Kind::Dump => NLM_F_REQUEST | NLM_F_DUMP,
        };
        let len = HEADER_LEN + payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&u32::try_from(len).map_err(io::Error::other)?.to_ne_bytes());
        msg.extend_from_slice(&msg_type.to_ne_bytes());
        msg.extend_from_slice(&flags.to_ne_bytes());
        msg.extend_from_slice(&seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(payload);
        self.send(&msg)?;

        let mut answers = Vec::new();
        loop {
            let n = self.recv()?;
            let mut rest = &self.buf[..n];
            while rest.len() >= HEADER_LEN {
                let msg_len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
                if msg_len < HEADER_LEN || msg_len > rest.len() {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "netlink message length out of range"));
                }
                let msg_type = u16::from_ne_bytes(rest[4..6].try_into().expect("2 bytes"));
                let msg_seq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
                let body = &rest[HEADER_LEN..msg_len];
                rest = &rest[align(msg_len).min(rest.len())..];
                if msg_seq != seq {
                    continue; // a late answer to an earlier request
                }
                match msg_type {
                    NLMSG_NOOP => {}
                    NLMSG_DONE => {
                        let code = body.get(0..4).map_or(0, |b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
                        return if code < 0 { Err(io::Error::from_raw_os_error(-code)) } else { Ok(answers) };
                    }
                    NLMSG_ERROR => {
                        let code = body
                            .get(0..4)
                            .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
                            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "short netlink error"))?;
                        if code < 0 {
                            return Err(io::Error::from_raw_os_error(-code));
                        }
                        return Ok(answers); // an acknowledgement
                    }
                    _ => {
                        answers.push(Message { kind: msg_type, body: body.to_vec() });
                        if kind == Kind::One {
                            return Ok(answers);
                        }
                    }
                }
            }
        }
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        let mut addr: libc::sockaddr_nl = zeroed_sockaddr_nl();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: `msg` and `addr` are live for the call; the lengths passed are theirs.
            let rc = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    0,
                    std::ptr::from_ref(&addr).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if rc >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    fn recv(&mut self) -> io::Result<usize> {
        loop {
            // SAFETY: `buf` is writable for its whole length; MSG_TRUNC only changes the
            // return value (the real datagram length), never how much is written.
            let rc = unsafe {
                libc::recv(self.fd.as_raw_fd(), self.buf.as_mut_ptr().cast(), self.buf.len(), libc::MSG_TRUNC)
            };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let n = rc as usize;
            if n > self.buf.len() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "netlink datagram larger than the buffer"));
            }
            return Ok(n);
        }
    }
}

fn zeroed_sockaddr_nl() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers, for which all-zero bytes are a valid value.
    unsafe { std::mem::zeroed() }
}

/// Rounds up to netlink's 4-byte alignment (NLMSG_ALIGN, RTA_ALIGN).
pub(crate) const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Appends one `rtattr` (length, type, payload, padding) to `buf`.
pub(crate) fn push_attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = u16::try_from(4 + payload.len()).expect("attribute fits u16");
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(align(buf.len()), 0);
}

/// The `(type, payload)` pairs of a run of `rtattr`s; stops at the first malformed one.
/// The type has the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits masked off.
pub(crate) fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let payload = &buf[4..len];
        buf = &buf[align(len).min(buf.len())..];
        Some((kind, payload))
    })
}

/// A native-endian u32 attribute payload.
pub(crate) fn attr_u32(payload: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(payload.get(..4)?.try_into().ok()?))
}

/// An address attribute payload of `family` (4 or 16 bytes).
pub(crate) fn attr_ip(family: u8, payload: &[u8]) -> Option<std::net::IpAddr> {
    match (i32::from(family), payload.len()) {
        (libc::AF_INET, 4) => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(payload).ok()?)),
        (libc::AF_INET6, 16) => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(payload).ok()?)),
        _ => None,
    }
}

/// The address family byte and the bytes of `ip`.
pub(crate) fn family_and_bytes(ip: std::net::IpAddr) -> (u8, Vec<u8>) {
    match ip {
        std::net::IpAddr::V4(v4) => (libc::AF_INET as u8, v4.octets().to_vec()),
        std::net::IpAddr::V6(v6) => (libc::AF_INET6 as u8, v6.octets().to_vec()),
    }
}

/// Maps a netlink request failure to a [`NetError::Io`] (never PermissionDenied: rtnetlink
/// reads need no privilege, so EACCES there means something else).
pub(crate) fn io_error(context: &'static str, source: io::Error) -> NetError {
    NetError::Io { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip() {
        let mut buf = Vec::new();
        push_attr(&mut buf, 1, &[1, 2, 3]);
        push_attr(&mut buf, 4, &7u32.to_ne_bytes());
        assert_eq!(buf.len(), 8 + 8);
        let parsed: Vec<(u16, Vec<u8>)> = attrs(&buf).map(|(k, p)| (k, p.to_vec())).collect();
        assert_eq!(parsed, vec![(1, vec![1, 2, 3]), (4, 7u32.to_ne_bytes().to_vec())]);
        assert_eq!(attr_u32(&parsed[1].1), Some(7));
    }

    #[test]
    fn truncated_attributes_stop_cleanly() {
        let mut buf = Vec::new();
        push_attr(&mut buf, 1, &[0; 8]);
        assert_eq!(attrs(&buf[..7]).count(), 0);
        assert_eq!(attrs(&[]).count(), 0);
    }

    #[test]
    fn dumps_links_without_privilege() {
        let mut nl = Netlink::open().unwrap();
        let links = nl.request(RTM_GETLINK, Kind::Dump, &[0u8; 16]).unwrap();
        assert!(links.iter().all(|m| m.kind == RTM_NEWLINK));
        assert!(!links.is_empty(), "every namespace has lo");
    }
}
