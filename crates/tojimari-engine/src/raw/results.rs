//! The answers of one pass over a (host x port) index space, written by the receiver thread and read by
//! the sender between passes: one 16-bit atomic word per probe, zero while unanswered (a /16 x 100 ports
//! takes 13 MB).
//!
//! A word packs the state (3 bits, stored plus one so that no answer is 0), the reason (5 bits) and the
//! reply's TTL (8 bits). The first answer wins (compare-and-swap), so a
//! duplicate or late reply never changes a result, and the sender's "which probes are still unanswered"
//! scan needs no lock.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use tojimari_core::{PortState, Reason};

/// Reasons are stored as their index in core's one list of them.
const REASONS: [Reason; Reason::ALL.len()] = Reason::ALL;

fn reason_index(r: Reason) -> u32 {
    REASONS.iter().position(|x| *x == r).unwrap_or(REASONS.len() - 1) as u32
}

/// An answer as stored: state, reason and TTL.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub state: PortState,
    pub reason: Reason,
    pub ttl: u8,
}

impl Answer {
    pub fn encode(self) -> u16 {
        ((self.state.index() as u16 + 1) << 13) | ((reason_index(self.reason) as u16) << 8) | u16::from(self.ttl)
    }

    pub fn decode(word: u16) -> Option<Answer> {
        if word == UNSELECTED {
            return None;
        }
        let state = usize::from(word >> 13).checked_sub(1)?;
        let state = PortState::ALL[state % PortState::ALL.len()];
        let reason = REASONS[usize::from((word >> 8) & 0x1f) % REASONS.len()];
        Some(Answer { state, reason, ttl: (word & 0xff) as u8 })
    }
}

// The packing's room: states stored plus one in 3 bits, reasons in 5.
const _: () = assert!(PortState::ALL.len() < 8 && REASONS.len() <= 32);

/// The word of a probe this run does not send (another shard's, another chunk's): never an answer's
/// encoding (that would need state 7), never recorded over, and counted as settled by the retries.
const UNSELECTED: u16 = 0xffff;

/// One word per probe index.
#[derive(Debug)]
pub struct Results {
    words: Vec<AtomicU16>,
    answered: AtomicU64,
}

impl Results {
    pub fn new(n: usize) -> Self {
        Results { words: (0..n).map(|_| AtomicU16::new(0)).collect(), answered: AtomicU64::new(0) }
    }

    /// `n` probes of which none is sent until [`Results::select`]ed.
    pub fn unselected(n: usize) -> Self {
        Results { words: (0..n).map(|_| AtomicU16::new(UNSELECTED)).collect(), answered: AtomicU64::new(0) }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Makes `index` a probe of this run; false if it already was.
    pub fn select(&self, index: usize) -> bool {
        self.words
            .get(index)
            .is_some_and(|w| w.compare_exchange(UNSELECTED, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok())
    }

    pub fn is_selected(&self, index: usize) -> bool {
        self.words.get(index).is_some_and(|w| w.load(Ordering::Relaxed) != UNSELECTED)
    }

    /// The stored word of an answered probe (see [`Answer::encode`]).
    pub fn word(&self, index: usize) -> Option<u16> {
        let w = self.words.get(index)?.load(Ordering::Acquire);
        (w != 0 && w != UNSELECTED).then_some(w)
    }

    /// Records the first answer for `index`; later ones are ignored. True if this one was the first.
    pub fn record(&self, index: usize, answer: Answer) -> bool {
        let Some(word) = self.words.get(index) else { return false };
        let first = word.compare_exchange(0, answer.encode(), Ordering::AcqRel, Ordering::Relaxed).is_ok();
        if first {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }
        first
    }

    pub fn get(&self, index: usize) -> Option<Answer> {
        self.words.get(index).and_then(|w| Answer::decode(w.load(Ordering::Acquire)))
    }

    /// Answered, or not a probe of this run: nothing left to send.
    pub fn is_answered(&self, index: usize) -> bool {
        self.words.get(index).is_some_and(|w| w.load(Ordering::Relaxed) != 0)
    }

    /// Answers recorded so far.
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unselected_probes_are_never_answers() {
        let r = Results::unselected(3);
        let a = Answer { state: PortState::Open, reason: Reason::SynAck, ttl: 64 };
        assert!(r.is_answered(0) && !r.is_selected(0) && r.get(0).is_none());
        assert!(!r.record(0, a), "a reply to a probe of another shard is not recorded");
        assert!(r.select(1) && !r.select(1));
        assert!(!r.is_answered(1) && r.is_selected(1));
        assert!(r.record(1, a));
        assert_eq!((r.get(1), r.word(1), r.answered()), (Some(a), Some(a.encode()), 1));
        assert_eq!(r.word(0), None);
    }

    #[test]
    fn first_answer_wins_and_round_trips() {
        let r = Results::new(4);
        assert!(!r.is_answered(1));
        let a = Answer { state: PortState::Open, reason: Reason::SynAck, ttl: 64 };
        assert!(r.record(1, a));
        assert!(!r.record(1, Answer { state: PortState::Closed, reason: Reason::Reset, ttl: 1 }));
        assert_eq!(r.get(1), Some(a));
        assert_eq!(r.get(0), None);
        assert_eq!(r.answered(), 1);
        assert!(!r.record(99, a));
        for s in PortState::ALL {
            for reason in REASONS {
                let x = Answer { state: s, reason, ttl: 255 };
                assert_eq!(Answer::decode(x.encode()), Some(x));
            }
        }
    }
}
