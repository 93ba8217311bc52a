//! Loopback frames seen twice. A packet socket that reads both directions sees every frame on
//! `lo` once as it is sent and once as it comes back in (libpcap hides the outgoing copy by
//! its `sll_pkttype`, which the receive ring does not hand us). Both copies are identical and
//! carry all-zero MACs, and they arrive close together, so the second of two identical
//! zero-MAC frames within the last few such frames is dropped.

use std::hash::{DefaultHasher, Hash, Hasher};

/// How many unmatched loopback frames are remembered.
const WINDOW: usize = 16;

/// Remembers the last few loopback frames that have not met their twin yet.
#[derive(Debug, Default)]
pub(crate) struct LoopbackTwins {
    /// Hashes of unmatched frames; 0 is an empty slot.
    recent: [u64; WINDOW],
    next: usize,
}

impl LoopbackTwins {
    /// Whether `frame` is the second copy of a loopback frame seen just before. A genuine
    /// retransmission comes after both copies of the original were seen, so it is kept.
    pub(crate) fn is_twin(&mut self, frame: &[u8]) -> bool {
        let Some(macs) = frame.get(..12) else { return false };
        if macs.iter().any(|&b| b != 0) {
            return false;
        }
        let mut hasher = DefaultHasher::new();
        frame.hash(&mut hasher);
        let hash = hasher.finish() | 1;
        if let Some(slot) = self.recent.iter_mut().find(|slot| **slot == hash) {
            *slot = 0;
            return true;
        }
        self.recent[self.next] = hash;
        self.next = (self.next + 1) % WINDOW;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo_frame(tag: u8) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12] = 0x08;
        f[40] = tag;
        f
    }

    #[test]
    fn second_copy_is_dropped_and_a_retransmission_kept() {
        let mut twins = LoopbackTwins::default();
        assert!(!twins.is_twin(&lo_frame(1)));
        assert!(!twins.is_twin(&lo_frame(2)), "an interleaved frame");
        assert!(twins.is_twin(&lo_frame(1)));
        assert!(twins.is_twin(&lo_frame(2)));
        // The same bytes again later: a retransmission, seen twice like any frame.
        assert!(!twins.is_twin(&lo_frame(1)));
        assert!(twins.is_twin(&lo_frame(1)));
    }

    #[test]
    fn ethernet_frames_are_never_twins() {
        let mut twins = LoopbackTwins::default();
        let mut f = lo_frame(1);
        f[0] = 0x02;
        assert!(!twins.is_twin(&f));
        assert!(!twins.is_twin(&f));
        assert!(!twins.is_twin(&[0u8; 4]), "short frames pass through");
    }
}
