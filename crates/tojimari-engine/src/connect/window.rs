//! The connect scan's window: how many probes may be in flight, and the pause after this machine ran out
//! of descriptors or local ports.
//!
//! Loss on the path is not congestion here: a silent probe is retried, the window stays. What shrinks
//! it is the machine itself saying no (EMFILE, ENFILE, no local port, no room in the event loop): the
//! window drops below what was in flight, sending pauses briefly, and every answer grows it back by one
//! (additive increase) up to what the machine held when it said no.

use std::time::{Duration, Instant};

/// How long sending pauses after the machine ran out of a resource.
pub const BACKOFF: Duration = Duration::from_millis(10);

/// The window and the back-off pause.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Window {
    size: usize,
    /// What the window starts with and grows back to after a back-off.
    max: usize,
    backoff_until: Option<Instant>,
}

impl Window {
    /// A window of `size` probes (at least one).
    pub fn new(size: usize) -> Window {
        let size = size.max(1);
        Window { size, max: size, backoff_until: None }
    }

    /// Probes that may be in flight now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// What the window grows back to.
    #[cfg(test)]
    pub fn max(&self) -> usize {
        self.max
    }

    /// An answer came in: grow back by one after a back-off.
    pub fn on_answer(&mut self) {
        if self.size < self.max {
            self.size += 1;
        }
    }

    /// The machine ran out of descriptors or local ports with `inflight` probes out: that is what it
    /// holds, so the window never grows back beyond it; for now it drops to three quarters of it.
    pub fn on_exhausted(&mut self, inflight: usize, now: Instant) {
        self.max = self.max.min(inflight.max(1));
        self.shrink(inflight, now);
    }

    /// A socket could not be watched by the event loop: shrink and pause as for exhaustion, but the
    /// descriptor limit was not the cause, so the ceiling stays.
    pub fn on_unwatchable(&mut self, inflight: usize, now: Instant) {
        self.shrink(inflight, now);
    }

    fn shrink(&mut self, inflight: usize, now: Instant) {
        self.size = (inflight * 3 / 4).max(1);
        self.backoff_until = Some(now + BACKOFF);
    }

    /// The end of the current pause, if sending is paused.
    pub fn backoff_until(&self) -> Option<Instant> {
        self.backoff_until
    }

    /// Whether a pause began since the last [`Window::resume`].
    pub fn backing_off(&self) -> bool {
        self.backoff_until.is_some()
    }

    /// Ends the pause if it is over at `now`; false while it lasts.
    pub fn resume(&mut self, now: Instant) -> bool {
        if self.backoff_until.is_some_and(|t| now < t) {
            return false;
        }
        self.backoff_until = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_shrinks_pauses_and_caps_the_regrowth() {
        let t0 = Instant::now();
        let mut w = Window::new(100);
        w.on_exhausted(40, t0);
        assert_eq!((w.size(), w.max()), (30, 40));
        assert!(!w.resume(t0 + BACKOFF / 2));
        assert!(w.resume(t0 + BACKOFF));
        assert!(!w.backing_off());
        for _ in 0..20 {
            w.on_answer();
        }
        assert_eq!(w.size(), 40, "grows back to what the machine held, not beyond");
    }

    #[test]
    fn an_unwatchable_socket_keeps_the_ceiling() {
        let t0 = Instant::now();
        let mut w = Window::new(100);
        w.on_unwatchable(8, t0);
        assert_eq!((w.size(), w.max()), (6, 100));
        w.on_exhausted(0, t0);
        assert_eq!((w.size(), w.max()), (1, 1), "never below one");
    }
}
