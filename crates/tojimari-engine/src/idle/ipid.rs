//! The zombie's IP ID sequence: its class, read from the IDs of consecutive answers, and how many packets
//! the zombie sent between two IDs, counted in the counter's own steps.
//!
//! The classes, as nmap's book describes the sequences seen on the Internet (nmap's names in brackets):
//! - [`IpIdClass::Incremental`] ("Incremental"): one counter for every packet, +1 each. Usable.
//! - [`IpIdClass::By2`] ("Incrementing by 2"): one counter, +2 per packet. Usable, read in steps of 2.
//! - [`IpIdClass::ByteSwapped`] ("Broken little-endian incremental"): one counter, +1 per packet, written
//!   in host byte order by a little-endian stack, so the wire shows steps of 256. Usable, read byte-swapped.
//! - [`IpIdClass::Random`] ("Randomized"), [`IpIdClass::Zero`], [`IpIdClass::Constant`]: the counter says
//!   nothing about the packets sent. Refused.
//!
//! A counter per destination looks incremental from here (each of our probes moves our own counter by one):
//! only the spoofed test of the machine ([`super::machine`]) tells it from a global one.

/// The largest step between two consecutive answers read as "the same counter, a few packets later":
/// more than any zombie sends between two probes a few milliseconds apart, and far less than random IDs
/// jump (the chance that five random steps all stay under it is about 3 in 10^8).
pub const MAX_STEP: u16 = 2048;

/// An IP ID sequence class (see the module documentation).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IpIdClass {
    /// One counter, +1 per packet.
    Incremental,
    /// One counter, +2 per packet.
    By2,
    /// One counter, +1 per packet, byte-swapped on the wire.
    ByteSwapped,
    /// No order.
    Random,
    /// Always zero.
    Zero,
    /// Always the same non-zero value.
    Constant,
}

impl IpIdClass {
    /// Whether an idle scan can read packet counts from it.
    pub fn usable(self) -> bool {
        matches!(self, IpIdClass::Incremental | IpIdClass::By2 | IpIdClass::ByteSwapped)
    }

    /// The class's name in nmap's words ("Incremental", "Incrementing by 2", ...).
    pub fn name(self) -> &'static str {
        match self {
            IpIdClass::Incremental => "Incremental",
            IpIdClass::By2 => "Incrementing by 2",
            IpIdClass::ByteSwapped => "Broken little-endian incremental",
            IpIdClass::Random => "Randomized",
            IpIdClass::Zero => "All zeros",
            IpIdClass::Constant => "Constant",
        }
    }

    /// How many packets the zombie sent from the one with ID `a` (excluded) to the one with ID `b`
    /// (included): 1 when `b` came right after `a`. `None` when the two cannot be of this class (a step
    /// that is not a whole number of the class's steps, or zero: the counter did not move although `b` is a
    /// new packet), and for unusable classes.
    pub fn sent_between(self, a: u16, b: u16) -> Option<u32> {
        let sent = match self {
            IpIdClass::Incremental => u32::from(b.wrapping_sub(a)),
            IpIdClass::By2 => {
                let d = b.wrapping_sub(a);
                if !d.is_multiple_of(2) {
                    return None;
                }
                u32::from(d / 2)
            }
            IpIdClass::ByteSwapped => u32::from(b.swap_bytes().wrapping_sub(a.swap_bytes())),
            IpIdClass::Random | IpIdClass::Zero | IpIdClass::Constant => return None,
        };
        (sent > 0).then_some(sent)
    }
}

/// The class of the IDs `ids` of consecutive answers (oldest first). Fewer than three IDs are too few to
/// tell an order: [`IpIdClass::Random`].
pub fn classify(ids: &[u16]) -> IpIdClass {
    if ids.len() < 3 {
        return IpIdClass::Random;
    }
    if ids.iter().all(|&id| id == 0) {
        return IpIdClass::Zero;
    }
    if ids.iter().all(|&id| id == ids[0]) {
        return IpIdClass::Constant;
    }
    let wire: Vec<u16> = ids.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    let swapped: Vec<u16> = ids.windows(2).map(|w| w[1].swap_bytes().wrapping_sub(w[0].swap_bytes())).collect();
    // The largest step read each way (a zero step counts as no counter at all).
    let largest = |steps: &[u16]| steps.iter().map(|&d| if d == 0 { u32::MAX } else { u32::from(d) }).max();
    let (on_wire, byte_swapped) = (largest(&wire).unwrap_or(u32::MAX), largest(&swapped).unwrap_or(u32::MAX));
    // The reading with the smaller steps is the counter's: a +1 counter shows steps of 1 on the wire and of
    // 256 swapped, a byte-swapped one the other way round.
    if byte_swapped < on_wire && byte_swapped <= u32::from(MAX_STEP) {
        return IpIdClass::ByteSwapped;
    }
    if on_wire <= 2 * u32::from(MAX_STEP) && wire.iter().all(|&d| d.is_multiple_of(2)) {
        // All even: a +2 counter (a +1 counter's steps are all even only by chance).
        return IpIdClass::By2;
    }
    if on_wire <= u32::from(MAX_STEP) {
        return IpIdClass::Incremental;
    }
    IpIdClass::Random
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_of_sequences() {
        assert_eq!(classify(&[100, 101, 102, 103, 104]), IpIdClass::Incremental);
        assert_eq!(classify(&[65534, 65535, 0, 3, 4]), IpIdClass::Incremental, "wraps, with a chatty gap");
        assert_eq!(classify(&[100, 102, 104, 110, 112]), IpIdClass::By2);
        let swapped: Vec<u16> = [500u16, 501, 502, 504, 505].iter().map(|v| v.swap_bytes()).collect();
        assert_eq!(classify(&swapped), IpIdClass::ByteSwapped);
        assert_eq!(classify(&[0, 0, 0, 0]), IpIdClass::Zero);
        assert_eq!(classify(&[77, 77, 77, 77]), IpIdClass::Constant);
        assert_eq!(classify(&[4822, 61002, 13, 40999, 22222]), IpIdClass::Random);
        assert_eq!(classify(&[100, 100, 101, 102]), IpIdClass::Random, "a repeated ID is no counter");
        assert_eq!(classify(&[100, 101]), IpIdClass::Random, "too few to tell");
        assert!(IpIdClass::Incremental.usable() && IpIdClass::By2.usable() && IpIdClass::ByteSwapped.usable());
        assert!(!IpIdClass::Random.usable() && !IpIdClass::Zero.usable() && !IpIdClass::Constant.usable());
    }

    #[test]
    fn packets_sent_between_two_ids() {
        assert_eq!(IpIdClass::Incremental.sent_between(65535, 2), Some(3));
        assert_eq!(IpIdClass::Incremental.sent_between(9, 9), None, "a new answer moves the counter");
        assert_eq!(IpIdClass::By2.sent_between(10, 16), Some(3));
        assert_eq!(IpIdClass::By2.sent_between(10, 15), None);
        assert_eq!(IpIdClass::ByteSwapped.sent_between(0x00ff_u16.swap_bytes(), 0x0102_u16.swap_bytes()), Some(3));
        assert_eq!(IpIdClass::Random.sent_between(1, 2), None);
    }
}
