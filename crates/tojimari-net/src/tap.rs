//! A TAP device: a virtual Ethernet interface whose frames a userspace program reads and writes whole.
//!
//! [`TapDevice::open`] opens `/dev/net/tun` and asks for a TAP interface of the given name without the
//! packet-information prefix (`IFF_TAP | IFF_NO_PI`), so every read returns one Ethernet frame and every
//! write sends one. The interface appears in the network namespace of the *calling thread*; to put it in
//! a test-bed namespace, open it on a thread that has joined that namespace with `setns(2)`. It lives as
//! long as the descriptor: dropping the [`TapDevice`] removes the interface (it is not made persistent).
//!
//! The interface starts down and without addresses; bring it up (and attach it to a bridge) with `ip`.
//! Reading waits with `poll(2)` up to a timeout, so a thread that owns the device can also watch a stop
//! flag.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::error::NetError;

/// `TUNSETIFF`, `_IOW('T', 202, int)` in `linux/if_tun.h` (the generic ioctl encoding of x86 and Arm;
/// libc does not export it).
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// The clone device that makes TUN and TAP interfaces.
const CLONE_DEVICE: &[u8] = b"/dev/net/tun\0";

/// The largest frame a read returns here: an Ethernet header, a 1500-byte MTU payload and room for a VLAN
/// tag. Callers that raise the MTU pass a larger buffer.
pub const TAP_FRAME_MAX: usize = 1522;

/// An open TAP interface (see the module documentation).
#[derive(Debug)]
pub struct TapDevice {
    fd: OwnedFd,
    name: String,
}

impl TapDevice {
    /// Creates the TAP interface `name` (at most 15 bytes, no NUL) in the calling thread's network
    /// namespace and returns its descriptor. Needs CAP_NET_ADMIN ([`NetError::PermissionDenied`]
    /// otherwise); an existing interface of that name that is not a free TAP is an [`NetError::Io`]
    /// (EBUSY or EINVAL).
    pub fn open(name: &str) -> Result<TapDevice, NetError> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) || bytes.contains(&b'/') {
            return Err(NetError::Invalid {
                what: "TAP interface name",
                reason: format!("{name:?} must be 1 to {} bytes without NUL or '/'", libc::IFNAMSIZ - 1),
            });
        }
        // SAFETY: CLONE_DEVICE is a NUL-terminated path; open(2) only reads it; the result is checked.
        let raw = unsafe { libc::open(CLONE_DEVICE.as_ptr().cast(), libc::O_RDWR | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(NetError::last_os("open /dev/net/tun"));
        }
        // SAFETY: `raw` was just returned by open(2), is open, and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };

        // SAFETY: `ifreq` is plain data (arrays, integers, pointers in a union) for which all zeroes is a
        // valid value.
        let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
        for (slot, &byte) in request.ifr_name.iter_mut().zip(bytes) {
            *slot = byte as libc::c_char;
        }
        // IFF_TAP | IFF_NO_PI = 0x1002 fits a c_short.
        request.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `request` is, for the duration of
        // the call only.
        let rc = unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut request as *mut libc::ifreq) };
        if rc < 0 {
            return Err(NetError::last_os("TUNSETIFF (create the TAP interface)"));
        }
        let given: Vec<u8> = request.ifr_name.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        let name = String::from_utf8(given).unwrap_or_else(|_| name.to_owned());
        Ok(TapDevice { fd, name })
    }

    /// The interface name the kernel gave (the one asked for).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits up to `timeout` for a frame and reads it into `buf`: `Ok(Some(len))` for a frame,
    /// `Ok(None)` when none came in time (or a signal cut the wait short). A frame longer than `buf` is
    /// cut to `buf.len()`.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> Result<Option<usize>, NetError> {
        let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: `pfd` is one valid pollfd, read and written by the kernel during the call only.
        let ready = unsafe { libc::poll(&mut pfd, 1, millis) };
        if ready < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                return Ok(None);
            }
            return Err(NetError::os("poll the TAP device", error));
        }
        if ready == 0 || pfd.revents & libc::POLLIN == 0 {
            return Ok(None);
        }
        // SAFETY: `buf` is writable for `buf.len()` bytes; read(2) writes at most that many.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let error = io::Error::last_os_error();
            if matches!(error.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) {
                return Ok(None);
            }
            return Err(NetError::os("read the TAP device", error));
        }
        Ok(Some(n as usize))
    }

    /// Sends one whole Ethernet frame (header included, no FCS). The kernel refuses frames while the
    /// interface is down (EIO).
    pub fn send(&self, frame: &[u8]) -> Result<(), NetError> {
        // SAFETY: `frame` is readable for `frame.len()` bytes; write(2) only reads them.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
        if n < 0 {
            return Err(NetError::last_os("write the TAP device"));
        }
        if n as usize != frame.len() {
            return Err(NetError::Io {
                context: "write the TAP device",
                source: io::Error::other(format!("wrote {n} of {} bytes", frame.len())),
            });
        }
        Ok(())
    }
}

impl AsFd for TapDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
