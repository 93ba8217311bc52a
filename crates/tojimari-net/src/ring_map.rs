//! The memory map of a packet socket's ring (receive or transmit), shared with the kernel: mapped once
//! after the ring is requested, unmapped when dropped. The rings' own modules read and write it.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use crate::error::NetError;

/// A shared mapping of `len` bytes of a packet socket's ring.
#[derive(Debug)]
pub(crate) struct RingMap {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: a plain memory mapping owned by this value, tied to no thread. The rings that hold it hand out
// access to its bytes only through `&mut self` (one thread at a time) or atomics.
unsafe impl Send for RingMap {}
// SAFETY: `&RingMap` gives only the base address; reading through it is the rings' business (atomics).
unsafe impl Sync for RingMap {}

impl RingMap {
    /// Maps the ring just requested on `fd`, `len` bytes (`populate`: fault every page in now).
    /// `what` names the ring in errors.
    pub(crate) fn new(fd: BorrowedFd<'_>, len: usize, populate: bool, what: &'static str) -> Result<RingMap, NetError> {
        let flags = libc::MAP_SHARED | if populate { libc::MAP_POPULATE } else { 0 };
        // SAFETY: a fresh shared mapping of the socket's ring, of the size requested; the kernel checks the
        // size and offset. The result is checked below.
        let map = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, fd.as_raw_fd(), 0)
        };
        if map == libc::MAP_FAILED {
            return Err(NetError::last_os(what));
        }
        let base =
            NonNull::new(map.cast::<u8>()).ok_or(NetError::Invalid { what, reason: "mmap returned null".into() })?;
        Ok(RingMap { base, len })
    }

    /// The first byte of the mapping.
    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }
}

impl Drop for RingMap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; the rings let no slice into it outlive the call
        // that made it, and `&mut self` here means none is live.
        unsafe {
            libc::munmap(self.base.as_ptr().cast(), self.len);
        }
    }
}
