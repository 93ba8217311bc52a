//! The few system calls std and socket2 do not offer: descriptor limits, the socket error queue that
//! carries ICMP details, and reverse DNS through the system resolver.
//!
//! This is the engine's only `unsafe`; each block says why it is sound.

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};

use socket2::Socket;

/// (soft, hard) `RLIMIT_NOFILE`.
pub fn nofile_limit() -> (u64, u64) {
    let mut lim = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: getrlimit writes a full `rlimit` into the pointer on success; we read it only then.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, lim.as_mut_ptr()) };
    if rc != 0 {
        return (1024, 1024);
    }
    // SAFETY: rc == 0, so the kernel initialised the struct.
    let lim = unsafe { lim.assume_init() };
    (lim.rlim_cur, lim.rlim_max)
}

/// Sets the soft `RLIMIT_NOFILE`, keeping the hard limit.
pub fn set_nofile_soft(soft: u64) -> io::Result<()> {
    let (_, hard) = nofile_limit();
    let lim = libc::rlimit { rlim_cur: soft.min(hard), rlim_max: hard };
    // SAFETY: `lim` is a valid, initialised rlimit that outlives the call.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn setsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value is a live c_int and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Asks the kernel to queue the ICMP errors this socket receives (IP_RECVERR / IPV6_RECVERR), so that
/// [`icmp_error`] can tell "admin-prohibited" from "host-unreach" after a failed connect.
pub fn enable_recverr(socket: &Socket, v6: bool) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    if v6 {
        setsockopt_int(fd, libc::SOL_IPV6, libc::IPV6_RECVERR, 1)
    } else {
        setsockopt_int(fd, libc::SOL_IP, libc::IP_RECVERR, 1)
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

/// The PTR name of `addr` through the system resolver (getnameinfo with NI_NAMEREQD), blocking.
pub fn reverse_lookup(addr: IpAddr) -> Option<String> {
    let sa: socket2::SockAddr = std::net::SocketAddr::new(addr, 0).into();
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: `sa` is a valid sockaddr of the given length; `host` is writable for its full length;
    // no service buffer is requested (null, 0).
    let rc = unsafe {
        libc::getnameinfo(
            sa.as_ptr().cast(),
            sa.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    let name = name.to_string_lossy().into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_readable() {
        let (soft, hard) = nofile_limit();
        assert!(soft > 0 && soft <= hard);
    }

    #[test]
    fn loopback_has_a_name() {
        // /etc/hosts answers this without any network.
        assert!(reverse_lookup("127.0.0.1".parse().unwrap()).is_some());
    }
}
