//! The TPACKET_V3 receive ring: a memory map shared with the kernel, cut into blocks that the
//! kernel fills with frames and hands over (`TP_STATUS_USER`), and that we hand back
//! (`TP_STATUS_KERNEL`) once read. A block is retired to us when full or after the retire
//! timeout, so a quiet link still delivers within `frame_timeout_ms`.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::NetError;
use crate::ring_map::RingMap;
use crate::sys;

/// `enum tpacket_versions`: TPACKET_V3.
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
/// Frame slots in a V3 ring are only a sizing hint for the kernel; frames are packed.
const FRAME_SIZE: usize = 2048;

// Offsets in `struct tpacket_block_desc` (version, offset_to_priv, then tpacket_hdr_v1).
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
// Offsets in `struct tpacket3_hdr`.
const PKT_NEXT_OFFSET: usize = 0;
const PKT_SNAPLEN: usize = 12;
const PKT_MAC: usize = 24;

/// Sizes of the TPACKET_V3 receive ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block: a power of two, at least the page size. Default 4 MiB.
    pub block_size: usize,
    /// Number of blocks. Default 16 (64 MiB in all, locked kernel memory).
    pub block_count: usize,
    /// How long the kernel waits before handing over a block that is not full, in ms.
    /// This bounds the receive latency on a quiet link. Default 10.
    pub frame_timeout_ms: u32,
}

impl Default for RingConfig {
    fn default() -> RingConfig {
        RingConfig { block_size: 1 << 22, block_count: 16, frame_timeout_ms: 10 }
    }
}

impl RingConfig {
    fn validate(&self) -> Result<(), NetError> {
        let invalid = |reason: String| Err(NetError::Invalid { what: "ring configuration", reason });
        let page = page_size();
        if !self.block_size.is_power_of_two() || self.block_size < page {
            return invalid(format!("block_size {} is not a power of two >= the page size {page}", self.block_size));
        }
        if self.block_count == 0 {
            return invalid("block_count is 0".into());
        }
        if self.block_size.checked_mul(self.block_count).is_none_or(|total| u32::try_from(total).is_err()) {
            return invalid(format!("{} x {} bytes is too large", self.block_count, self.block_size));
        }
        Ok(())
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf takes no pointers.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// The mapped ring and the index of the next block to read.
#[derive(Debug)]
pub(crate) struct Ring {
    map: RingMap,
    block_size: usize,
    block_count: usize,
    next: usize,
}

impl Ring {
    /// Switches `fd` to TPACKET_V3, requests the ring and maps it.
    pub(crate) fn setup(fd: BorrowedFd<'_>, config: RingConfig) -> Result<Ring, NetError> {
        config.validate()?;
        sys::set_option(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V3, "set TPACKET_V3")?;
        let frames_per_block = config.block_size / FRAME_SIZE;
        let req = libc::tpacket_req3 {
            tp_block_size: config.block_size as u32,
            tp_block_nr: config.block_count as u32,
            tp_frame_size: FRAME_SIZE as u32,
            tp_frame_nr: (frames_per_block * config.block_count) as u32,
            tp_retire_blk_tov: config.frame_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        sys::set_option(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req, "set up PACKET_RX_RING")?;
        let len = config.block_size * config.block_count;
        let map = RingMap::new(fd, len, true, "mmap the receive ring")?;
        Ok(Ring { map, block_size: config.block_size, block_count: config.block_count, next: 0 })
    }

    fn status(&self, block: usize) -> &AtomicU32 {
        // SAFETY: `block < block_count`, so the block descriptor lies inside the mapping; the
        // status word is 4-byte aligned (blocks are page-aligned) and lives as long as `self`.
        // The kernel writes it concurrently, hence an atomic.
        unsafe { AtomicU32::from_ptr(self.map.base().add(block * self.block_size + BLOCK_STATUS).cast()) }
    }

    /// Whether the next block has been handed to us.
    pub(crate) fn ready(&self) -> bool {
        self.status(self.next).load(Ordering::Acquire) & TP_STATUS_USER != 0
    }

    /// Calls `f` for each frame in the next block if it is ours, then returns the block to
    /// the kernel and moves on. Returns the number of frames, or `None` if the block is not
    /// ready.
    pub(crate) fn read_block(&mut self, f: &mut dyn FnMut(&[u8])) -> Option<usize> {
        if !self.ready() {
            return None;
        }
        let block = self.next;
        let len = self.block_size;
        // SAFETY: `block < block_count`, so the block starts inside the mapping.
        let start = unsafe { self.map.base().add(block * len) };
        // Hand the block back when done, even if `f` panics, so the ring never stalls.
        let release = Release { ring: self, block };
        // SAFETY: the block is user-owned (TP_STATUS_USER seen with Acquire ordering), so the
        // kernel does not write it until `release` stores TP_STATUS_KERNEL, after the last use
        // of `bytes`; it is `len` bytes inside the mapping.
        let bytes = unsafe { std::slice::from_raw_parts(start, len) };
        let count = walk_block(bytes, f);
        drop(release);
        Some(count)
    }

    /// The number of blocks in the ring.
    pub(crate) fn block_count(&self) -> usize {
        self.block_count
    }
}

/// Returns block `block` to the kernel and advances `next` when dropped.
struct Release<'a> {
    ring: &'a mut Ring,
    block: usize,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.ring.status(self.block).store(TP_STATUS_KERNEL, Ordering::Release);
        self.ring.next = (self.block + 1) % self.ring.block_count;
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Calls `f` for every frame of one retired block; returns how many. Offsets come from the
/// kernel but are bounds-checked anyway, so a bad block ends the walk instead of reading
/// outside it.
fn walk_block(block: &[u8], f: &mut dyn FnMut(&[u8])) -> usize {
    let (Some(count), Some(mut offset)) = (read_u32(block, BLOCK_NUM_PKTS), read_u32(block, BLOCK_FIRST_PKT)) else {
        return 0;
    };
    let mut seen = 0;
    for _ in 0..count {
        let at = offset as usize;
        let (Some(next), Some(snaplen), Some(mac)) = (
            read_u32(block, at + PKT_NEXT_OFFSET),
            read_u32(block, at + PKT_SNAPLEN),
            block.get(at + PKT_MAC..at + PKT_MAC + 2).map(|b| u16::from_ne_bytes([b[0], b[1]])),
        ) else {
            break;
        };
        let start = at + usize::from(mac);
        let Some(frame) = block.get(start..start + snaplen as usize) else {
            break;
        };
        f(frame);
        seen += 1;
        if next == 0 {
            break;
        }
        offset += next;
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_a_hand_built_block() {
        let mut block = vec![0u8; 4096];
        block[BLOCK_NUM_PKTS..BLOCK_NUM_PKTS + 4].copy_from_slice(&2u32.to_ne_bytes());
        block[BLOCK_FIRST_PKT..BLOCK_FIRST_PKT + 4].copy_from_slice(&48u32.to_ne_bytes());
        for (at, next, payload) in [(48usize, 128u32, &b"first"[..]), (176, 0, &b"second!"[..])] {
            block[at..at + 4].copy_from_slice(&next.to_ne_bytes());
            block[at + PKT_SNAPLEN..at + PKT_SNAPLEN + 4].copy_from_slice(&(payload.len() as u32).to_ne_bytes());
            block[at + PKT_MAC..at + PKT_MAC + 2].copy_from_slice(&66u16.to_ne_bytes());
            block[at + 66..at + 66 + payload.len()].copy_from_slice(payload);
        }
        let mut frames = Vec::new();
        assert_eq!(walk_block(&block, &mut |f| frames.push(f.to_vec())), 2);
        assert_eq!(frames, vec![b"first".to_vec(), b"second!".to_vec()]);
    }

    #[test]
    fn a_corrupt_block_ends_the_walk() {
        let mut block = vec![0u8; 256];
        block[BLOCK_NUM_PKTS..BLOCK_NUM_PKTS + 4].copy_from_slice(&5u32.to_ne_bytes());
        block[BLOCK_FIRST_PKT..BLOCK_FIRST_PKT + 4].copy_from_slice(&250u32.to_ne_bytes());
        assert_eq!(walk_block(&block, &mut |_| panic!("no frame fits")), 0);
    }

    #[test]
    fn config_is_checked() {
        assert!(RingConfig::default().validate().is_ok());
        assert!(RingConfig { block_size: 3000, ..RingConfig::default() }.validate().is_err());
        assert!(RingConfig { block_count: 0, ..RingConfig::default() }.validate().is_err());
    }
}
