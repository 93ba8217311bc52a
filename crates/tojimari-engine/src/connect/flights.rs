//! The probes in flight of a connect scan and their timeout timers, with no sockets.
//!
//! A flight is one try of one probe, from the moment the scheduler hands it out to be opened until its
//! answer, its timeout or its host's end. Each has a [`FlightId`]: a slot index, reused once the flight
//! is over (the event loop uses it as the socket's token), and a generation, so that a late event about
//! a finished flight can never be taken for the flight that reuses its slot.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::host::NextProbe;

/// One flight: a slot index and the generation that tells it from earlier users of the slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FlightId {
    index: usize,
    generation: u32,
}

impl FlightId {
    /// The slot index: dense and reused, fit for an event loop's token.
    pub fn index(self) -> usize {
        self.index
    }
}

/// What the scheduler remembers of a flight.
#[derive(Copy, Clone, Debug)]
pub struct Flight {
    /// The host's slot, and its run-unique id (the slot may be reused by a later host).
    pub host: usize,
    pub host_id: u64,
    pub probe: NextProbe,
    /// A discovery probe rather than a port probe.
    pub ping: bool,
    /// When its `connect` went out, once it is known to be under way; `None` while it is being opened.
    pub sent: Option<Instant>,
    /// Sent again after the try's first socket connected to itself.
    pub relaunched: bool,
}

/// Every flight of a run, and a timer heap of their deadlines.
#[derive(Debug, Default)]
pub struct Flights {
    slots: Vec<Option<(u32, Flight)>>,
    free: Vec<usize>,
    generation: u32,
    live: usize,
    timers: BinaryHeap<Reverse<(Instant, usize, u32)>>,
}

impl Flights {
    /// Flights not over yet (being opened or under way).
    pub fn len(&self) -> usize {
        self.live
    }

    /// Starts a flight.
    pub fn insert(&mut self, flight: Flight) -> FlightId {
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some((generation, flight));
        self.live += 1;
        FlightId { index, generation }
    }

    pub fn get_mut(&mut self, id: FlightId) -> Option<&mut Flight> {
        match self.slots.get_mut(id.index)? {
            Some((generation, flight)) if *generation == id.generation => Some(flight),
            _ => None,
        }
    }

    /// Ends a flight; `None` if it was already over.
    pub fn remove(&mut self, id: FlightId) -> Option<Flight> {
        self.get_mut(id)?;
        let (_, flight) = self.slots[id.index].take()?;
        self.free.push(id.index);
        self.live -= 1;
        Some(flight)
    }

    /// Sets the deadline of a flight that is under way.
    pub fn arm(&mut self, id: FlightId, deadline: Instant) {
        self.timers.push(Reverse((deadline, id.index, id.generation)));
    }

    /// The earliest deadline still set (possibly of a flight already over: waking for it is harmless).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((deadline, _, _))| *deadline)
    }

    /// A flight under way whose deadline is at or before `now`, taking its timer off; `None` when
    /// there is no more.
    pub fn pop_expired(&mut self, now: Instant) -> Option<FlightId> {
        while let Some(&Reverse((deadline, index, generation))) = self.timers.peek() {
            if deadline > now {
                return None;
            }
            self.timers.pop();
            let id = FlightId { index, generation };
            if self.get_mut(id).is_some_and(|f| f.sent.is_some()) {
                return Some(id);
            }
        }
        None
    }

    /// The flights of the host in slot `host` that are under way (not those still being opened).
    pub fn under_way_of(&self, host: usize) -> Vec<FlightId> {
        self.ids_where(|f| f.host == host && f.sent.is_some())
    }

    /// Every flight under way.
    pub fn all_under_way(&self) -> Vec<FlightId> {
        self.ids_where(|f| f.sent.is_some())
    }

    fn ids_where(&self, keep: impl Fn(&Flight) -> bool) -> Vec<FlightId> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(index, slot)| match slot {
                Some((generation, f)) if keep(f) => Some(FlightId { index, generation: *generation }),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn flight(host: usize) -> Flight {
        Flight {
            host,
            host_id: 1,
            probe: NextProbe { port: 80, try_no: 0 },
            ping: false,
            sent: None,
            relaunched: false,
        }
    }

    #[test]
    fn a_reused_slot_does_not_answer_to_the_old_id() {
        let mut flights = Flights::default();
        let a = flights.insert(flight(0));
        assert!(flights.remove(a).is_some());
        let b = flights.insert(flight(0));
        assert_eq!(a.index(), b.index());
        assert!(flights.get_mut(a).is_none());
        assert!(flights.remove(a).is_none());
        assert_eq!(flights.len(), 1);
        assert!(flights.remove(b).is_some());
        assert_eq!(flights.len(), 0);
    }

    #[test]
    fn timers_fire_in_order_and_skip_ended_flights() {
        let t0 = Instant::now();
        let mut flights = Flights::default();
        let a = flights.insert(flight(0));
        let b = flights.insert(flight(0));
        let c = flights.insert(flight(0));
        for (id, ms) in [(a, 30), (b, 10), (c, 20)] {
            flights.get_mut(id).unwrap().sent = Some(t0);
            flights.arm(id, t0 + Duration::from_millis(ms));
        }
        flights.remove(c);
        assert_eq!(flights.next_deadline(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(flights.pop_expired(t0 + Duration::from_millis(5)), None);
        assert_eq!(flights.pop_expired(t0 + Duration::from_millis(30)), Some(b));
        assert_eq!(flights.pop_expired(t0 + Duration::from_millis(30)), Some(a));
        assert_eq!(flights.pop_expired(t0 + Duration::from_millis(30)), None);
    }
}
