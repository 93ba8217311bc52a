//! Closing packet sockets without waiting for the kernel.
//!
//! The last close of an AF_PACKET socket waits for an RCU grace period (`synchronize_net`), two when it has
//! a ring: some 25 ms here, at the end of every raw scan, in which nothing happens but waiting. A
//! [`Handoff`] lets another process pay that wait: a forked child keeps a copy of the sockets' descriptors
//! (and nothing else: it closes every other descriptor at once, so pipes and files see their end when this
//! process ends), this process then drops its sockets, which is quick because it no longer holds the last
//! reference, and goes on. When the parent says it is done ([`Handoff::release`], or by ending), the child
//! closes its copies, waits out the grace periods, and exits.
//!
//! The child runs nothing but system calls (close_range, read, close, _exit), which are safe after a fork
//! in a threaded process. If the fork fails, nothing is handed off and the sockets close as usual.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::filter::Filter;
use crate::socket::attach_filter;

/// A child holding copies of some packet sockets until [`Handoff::release`] (see the module docs).
#[derive(Debug)]
pub struct Handoff {
    /// The write end of the pipe the child waits on: closing it lets the child go.
    go: OwnedFd,
    /// The child's process id.
    child: u32,
}

impl Handoff {
    /// Forks a child that keeps copies of `sockets` (raw descriptors of this process, still open, packet
    /// sockets) and closes every other descriptor. The sockets stop receiving first (a drop-all filter,
    /// which takes effect at once without a grace period), so the child's copies copy no frame into a
    /// ring while they wait. `None` when the fork or the pipe failed: then nothing else changes.
    pub fn start(sockets: &[RawFd]) -> Option<Handoff> {
        for fd in sockets {
            // A socket that refuses the filter still closes correctly; it may copy a few more frames.
            let _ = attach_filter(fd, &Filter::drop_all());
        }
        let mut keep: Vec<RawFd> = sockets.to_vec();
        let (wait, go) = pipe()?;
        keep.push(wait.as_raw_fd());
        keep.sort_unstable();
        keep.dedup();
        // The gaps between the descriptors to keep, computed before the fork (no allocation after it).
        let mut gaps: Vec<(u32, u32)> = Vec::with_capacity(keep.len() + 1);
        let mut next = 0u32;
        for &fd in &keep {
            let fd = u32::try_from(fd).ok()?;
            if fd > next {
                gaps.push((next, fd - 1));
            }
            next = fd + 1;
        }
        gaps.push((next, u32::MAX));
        let wait_fd = wait.as_raw_fd();
        // SAFETY: fork(2) takes no arguments. In the child, only async-signal-safe system calls follow
        // (close_range, read, close, _exit) on plain integers and a stack buffer; no lock, no allocation.
        match unsafe { libc::fork() } {
            0 => child(&gaps, wait_fd, sockets),
            pid if pid > 0 => {
                drop(wait);
                Some(Handoff { go, child: pid.unsigned_abs() })
            }
            _ => None,
        }
    }

    /// The child's process id (it is not reaped: a scan's process ends soon after, and init reaps it).
    pub fn child(&self) -> u32 {
        self.child
    }

    /// This process has dropped its own copies of the sockets: the child may close its copies and go.
    pub fn release(self) {
        drop(self.go);
    }
}

/// The child: closes everything but the sockets and the pipe, waits for the parent's word (end of file on
/// the pipe), closes the sockets and exits. Never returns.
fn child(gaps: &[(u32, u32)], wait: RawFd, sockets: &[RawFd]) -> ! {
    for &(first, last) in gaps {
        // SAFETY: close_range takes plain integers; closing descriptors this child does not use.
        unsafe { libc::close_range(first, last, 0) };
    }
    let mut byte = [0u8; 1];
    loop {
        // SAFETY: reads into a live one-byte stack buffer.
        let n = unsafe { libc::read(wait, byte.as_mut_ptr().cast(), 1) };
        if n == 0 || (n < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR)) {
            break;
        }
    }
    for &fd in sockets {
        // SAFETY: closes this child's copy of a descriptor it inherited.
        unsafe { libc::close(fd) };
    }
    // SAFETY: ends the child at once, running no destructor or exit handler of the parent's.
    unsafe { libc::_exit(0) }
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> Option<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the live two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return None;
    }
    // SAFETY: both descriptors were just created by pipe2 and are owned by nothing else.
    Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
