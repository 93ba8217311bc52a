//! The ICMP details behind a failed connect: with IP_RECVERR / IPV6_RECVERR set, the kernel queues the ICMP
//! error a socket received, and the connect engine reads it to tell "admin-prohibited" from "host-unreach"
//! (nmap's reasons), which the bare errno cannot.

use std::mem::size_of;
use std::os::fd::AsRawFd;

use socket2::Socket;

use crate::error::NetError;
use crate::sys::set_option;

/// Asks the kernel to queue the ICMP errors this socket receives (IP_RECVERR / IPV6_RECVERR), so that
/// [`icmp_error`] can tell "admin-prohibited" from "host-unreach" after a failed connect.
pub fn enable_recverr(socket: &Socket, v6: bool) -> Result<(), NetError> {
    let on: libc::c_int = 1;
    if v6 {
        set_option(socket, libc::SOL_IPV6, libc::IPV6_RECVERR, &on, "IPV6_RECVERR")
    } else {
        set_option(socket, libc::SOL_IP, libc::IP_RECVERR, &on, "IP_RECVERR")
    }
}

/// Where a queued socket error came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrOrigin {
    /// An ICMPv4 message with this (type, code).
    Icmp { kind: u8, code: u8 },
    /// An ICMPv6 message with this (type, code).
    Icmp6 { kind: u8, code: u8 },
    /// The local stack (for example no neighbour answered ARP).
    Local,
}

/// Reads one entry of the socket's error queue, if there is one.
pub fn icmp_error(socket: &Socket) -> Option<ErrOrigin> {
    let fd = socket.as_raw_fd();
    let mut data = [0u8; 64];
    // Room for the sock_extended_err control message plus its offender address.
    let mut control = [0u64; 32];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
    // SAFETY: msghdr is plain data; all-zero is a valid empty header that we fill below.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 32]>() as _;
    // SAFETY: every pointer in `msg` points into buffers that live until after the call, with their
    // true lengths; MSG_DONTWAIT keeps the call from blocking.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    // SAFETY: `msg` was filled by a successful recvmsg; CMSG_FIRSTHDR/NXTHDR only walk within
    // msg_controllen bytes of our control buffer.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: non-null cmsg pointers from CMSG_FIRSTHDR/NXTHDR point at a complete header.
        let hdr = unsafe { &*cmsg };
        let is_err = (hdr.cmsg_level == libc::SOL_IP && hdr.cmsg_type == libc::IP_RECVERR)
            || (hdr.cmsg_level == libc::SOL_IPV6 && hdr.cmsg_type == libc::IPV6_RECVERR);
        if is_err && hdr.cmsg_len as usize >= size_of::<libc::cmsghdr>() + size_of::<libc::sock_extended_err>() {
            // SAFETY: the kernel put a sock_extended_err at CMSG_DATA (length checked just above);
            // read_unaligned copes with any alignment.
            let ee: libc::sock_extended_err = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast()) };
            return Some(match ee.ee_origin {
                libc::SO_EE_ORIGIN_ICMP => ErrOrigin::Icmp { kind: ee.ee_type, code: ee.ee_code },
                libc::SO_EE_ORIGIN_ICMP6 => ErrOrigin::Icmp6 { kind: ee.ee_type, code: ee.ee_code },
                _ => ErrOrigin::Local,
            });
        }
        // SAFETY: as above; NXTHDR returns null at the end of the buffer.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    None
}
