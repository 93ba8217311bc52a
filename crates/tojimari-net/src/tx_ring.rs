//! The TPACKET_V2 transmit ring: a memory map shared with the kernel, cut into fixed-size frame slots. We
//! write a frame into the next slot whose status is `TP_STATUS_AVAILABLE` and mark it
//! `TP_STATUS_SEND_REQUEST`; one `send(fd, NULL, 0)` then makes the kernel send every requested slot and
//! hand each back (`TP_STATUS_AVAILABLE`) once its buffer is free. No copy through a syscall per frame,
//! no allocation: the frame is built in place.
//!
//! A frame slot starts with `struct tpacket2_hdr` (32 bytes: status, len, snaplen, mac, net, sec, nsec,
//! vlan); without PACKET_TX_HAS_OFF the kernel reads the frame from offset `TPACKET2_HDRLEN -
//! sizeof(struct sockaddr_ll)` = 32.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::NetError;
use crate::ring_map::RingMap;
use crate::sys;

/// `enum tpacket_versions`: TPACKET_V2.
const TPACKET_V2: libc::c_int = 1;
const PACKET_TX_RING: libc::c_int = 13;
const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1;
const TP_STATUS_WRONG_FORMAT: u32 = 4;
/// Offsets in `struct tpacket2_hdr`.
const HDR_LEN_FIELD: usize = 4;
/// Where the frame starts in its slot.
const DATA_OFFSET: usize = 32;
/// The default slot size (see [`TxRingConfig::frame_size`]).
const DEFAULT_FRAME_SIZE: usize = 1024;
/// `sizeof(struct virtio_net_hdr)`: with PACKET_VNET_HDR, each frame is preceded by one.
const VNET_HDR_LEN: usize = 10;
/// The largest frame a default slot holds, and so the largest frame any [`crate::FrameSender`] takes.
pub(crate) const MAX_FRAME: usize = DEFAULT_FRAME_SIZE - DATA_OFFSET - VNET_HDR_LEN;

/// `struct tpacket_req`.
#[repr(C)]
#[derive(Clone, Copy)]
struct TpacketReq {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
}

/// Sizes of a transmit ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRingConfig {
    /// Bytes per frame slot, header included: a multiple of 16. Default 1024 (frames up to 992 bytes: every
    /// probe tojimari sends, UDP payloads included).
    pub frame_size: usize,
    /// Bytes per block: a power of two, at least the page size, a multiple of `frame_size`. Default 64 KiB.
    pub block_size: usize,
    /// Number of blocks. Default 8 (512 slots, 512 KiB: the kernel zeroes the ring when it is set up, so a
    /// larger one costs start-up time; 512 slots are several batches ahead of the kernel).
    pub block_count: usize,
}

impl Default for TxRingConfig {
    fn default() -> Self {
        TxRingConfig { frame_size: DEFAULT_FRAME_SIZE, block_size: 1 << 16, block_count: 8 }
    }
}

impl TxRingConfig {
    /// The largest frame a slot holds (with room for a virtio-net header).
    pub fn max_frame(&self) -> usize {
        self.frame_size.saturating_sub(DATA_OFFSET + VNET_HDR_LEN)
    }
}

/// The mapped transmit ring and the index of the next slot to fill.
#[derive(Debug)]
pub(crate) struct TxRing {
    map: RingMap,
    config: TxRingConfig,
    frames_per_block: usize,
    frame_count: usize,
    next: usize,
    /// Whether each frame is preceded by a virtio-net header (PACKET_VNET_HDR).
    vnet: bool,
}

impl TxRing {
    /// Switches `fd` to TPACKET_V2, requests the ring and maps it. The kernel refuses (EINVAL, ENOMEM,
    /// EPERM) when the sizes do not fit its rules or memory is short; callers fall back to `sendmmsg`.
    ///
    /// `vnet`: PACKET_VNET_HDR is on, so each frame gets a virtio-net header whose `hdr_len` is the whole
    /// frame. The kernel then copies the frame into the socket buffer instead of attaching the ring's page
    /// to it: for frames of a few dozen bytes a copy is cheaper than the page references, and a forwarding
    /// device (veth) would otherwise copy the page out again into a freshly allocated one.
    pub(crate) fn setup(fd: BorrowedFd<'_>, config: TxRingConfig, vnet: bool) -> Result<TxRing, NetError> {
        sys::set_option(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V2, "set TPACKET_V2")?;
        let frames_per_block = config.block_size.checked_div(config.frame_size).unwrap_or(0);
        let frame_count = frames_per_block * config.block_count;
        let invalid = |reason: String| NetError::Invalid { what: "transmit ring configuration", reason };
        let as_u32 = |v: usize| u32::try_from(v).map_err(|_| invalid(format!("{v} is too large")));
        let req = TpacketReq {
            block_size: as_u32(config.block_size)?,
            block_nr: as_u32(config.block_count)?,
            frame_size: as_u32(config.frame_size)?,
            frame_nr: as_u32(frame_count)?,
        };
        sys::set_option(&fd, libc::SOL_PACKET, PACKET_TX_RING, &req, "set up PACKET_TX_RING")?;
        let map = RingMap::new(fd, config.block_size * config.block_count, false, "mmap the transmit ring")?;
        Ok(TxRing { map, config, frames_per_block, frame_count, next: 0, vnet })
    }

    fn slot_start(&self, slot: usize) -> *mut u8 {
        let block = slot / self.frames_per_block;
        let within = slot % self.frames_per_block;
        // SAFETY: `slot < frame_count`, so the slot lies inside the mapping (blocks hold whole slots).
        unsafe { self.map.base().add(block * self.config.block_size + within * self.config.frame_size) }
    }

    fn status(&self, slot: usize) -> &AtomicU32 {
        // SAFETY: the status word starts the slot, inside the mapping, 4-byte aligned (slots are
        // multiples of 16 bytes from a page-aligned base), and lives as long as `self`. The kernel writes
        // it concurrently, hence an atomic.
        unsafe { AtomicU32::from_ptr(self.slot_start(slot).cast()) }
    }

    /// Whether the next slot is free to fill. A slot the kernel rejected as malformed
    /// (TP_STATUS_WRONG_FORMAT, possible only with PACKET_LOSS off) is free too: that frame is lost.
    pub(crate) fn ready(&self) -> bool {
        let s = self.status(self.next).load(Ordering::Acquire);
        s == TP_STATUS_AVAILABLE || s == TP_STATUS_WRONG_FORMAT
    }

    /// Lets `fill` write a frame into the next slot (call only when [`TxRing::ready`]) and, if it
    /// returns a length above 0, requests its sending. Returns the length (0: nothing queued).
    pub(crate) fn fill(&mut self, fill: &mut dyn FnMut(&mut [u8]) -> usize) -> usize {
        if !self.ready() {
            return 0;
        }
        let start = self.slot_start(self.next);
        let max = self.config.max_frame();
        let at = DATA_OFFSET + if self.vnet { VNET_HDR_LEN } else { 0 };
        // SAFETY: the slot is ours (status AVAILABLE seen with Acquire ordering: the kernel no longer
        // reads it), `at + max` <= `frame_size` bytes lie inside it, and the slice ends before the status
        // is handed back below.
        let data = unsafe { std::slice::from_raw_parts_mut(start.add(at), max) };
        let len = fill(data).min(max);
        if len == 0 {
            return 0;
        }
        if self.vnet {
            // struct virtio_net_hdr: no offloads (flags, gso_type 0), hdr_len = the whole frame
            // (little-endian, as the kernel reads it for packet sockets), the rest 0.
            let mut hdr = [0u8; VNET_HDR_LEN];
            hdr[2..4].copy_from_slice(&(len as u16).to_le_bytes());
            // SAFETY: the header's bytes lie at the start of the slot's data, inside the slot, still ours.
            unsafe { std::ptr::copy_nonoverlapping(hdr.as_ptr(), start.add(DATA_OFFSET), VNET_HDR_LEN) };
        }
        let tp_len = (len + at - DATA_OFFSET) as u32;
        // SAFETY: `tp_len` lies in the slot's header, 4-byte aligned, and the slot is still ours.
        unsafe { start.add(HDR_LEN_FIELD).cast::<u32>().write(tp_len) };
        self.status(self.next).store(TP_STATUS_SEND_REQUEST, Ordering::Release);
        self.next = (self.next + 1) % self.frame_count;
        len
    }

    /// Whether the last frame filled still waits for the kernel to take it (a kick that met a full queue
    /// leaves the rest for the next one).
    pub(crate) fn unsent(&self) -> bool {
        let last = (self.next + self.frame_count - 1) % self.frame_count;
        self.status(last).load(Ordering::Acquire) == TP_STATUS_SEND_REQUEST
    }

    /// Slots in the ring.
    pub(crate) fn slots(&self) -> usize {
        self.frame_count
    }
}

/// `send(fd, NULL, 0, MSG_DONTWAIT)`: asks the kernel to send every slot marked for sending.
pub(crate) fn kick(fd: BorrowedFd<'_>) -> Result<(), NetError> {
    loop {
        // SAFETY: a null buffer of length 0 is what a TX ring's send takes; the kernel reads the ring.
        let rc = unsafe { libc::send(fd.as_raw_fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT) };
        if rc >= 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            // A full device queue: the slots stay requested and go with the next kick.
            Some(libc::EAGAIN | libc::ENOBUFS) => return Ok(()),
            _ => return Err(NetError::os("send on the transmit ring", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ring_holds_every_probe() {
        let c = TxRingConfig::default();
        // The largest probe: Ethernet, IPv6 and UDP headers and the largest UDP payload (under 300 bytes).
        assert!(c.max_frame() >= 14 + 40 + 8 + 300, "a slot must hold the largest probe frame");
        assert_eq!(c.block_size % c.frame_size, 0);
        assert_eq!(c.frame_size % 16, 0);
    }
}
