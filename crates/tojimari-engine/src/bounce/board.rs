//! The ports of one host still to ask about, shared by the control connections: which port goes next, what
//! each answered, and which are given up.
//!
//! A port handed back unanswered (its connection dropped or hung before the verdict) is asked again, at most
//! [`Board::new`]'s `attempts` times in all; after that it is *lost*: reported nowhere, so that no state is
//! ever invented. Once the relay refuses one port below 1024, it is taken to refuse them all (vsftpd never
//! connects to one): the other privileged ports get the same refusal without being asked, as nmap skips them.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::session::Verdict;

/// The first unprivileged port.
pub const UNPRIVILEGED: u16 = 1024;

/// One host's ports and answers.
#[derive(Debug)]
pub struct Board {
    pending: VecDeque<u16>,
    asked: HashMap<u16, u8>,
    attempts: u8,
    in_flight: usize,
    verdicts: BTreeMap<u16, Verdict>,
    lost: Vec<u16>,
    /// The reply with which the relay refused a privileged port, once it has.
    privileged_refused: Option<String>,
}

impl Board {
    /// `ports` in the order to ask them; each asked at most `attempts` times (1 or more).
    pub fn new(ports: impl IntoIterator<Item = u16>, attempts: u8) -> Board {
        Board {
            pending: ports.into_iter().collect(),
            asked: HashMap::new(),
            attempts: attempts.max(1),
            in_flight: 0,
            verdicts: BTreeMap::new(),
            lost: Vec::new(),
            privileged_refused: None,
        }
    }

    /// The next port to ask about, if any is left. Privileged ports after a privileged refusal are settled
    /// here, unasked.
    pub fn next_port(&mut self) -> Option<u16> {
        while let Some(port) = self.pending.pop_front() {
            if let (Some(reply), true) = (&self.privileged_refused, port < UNPRIVILEGED) {
                self.verdicts.insert(port, Verdict::Refused(reply.clone()));
                continue;
            }
            *self.asked.entry(port).or_default() += 1;
            self.in_flight += 1;
            return Some(port);
        }
        None
    }

    /// A port's verdict.
    pub fn answer(&mut self, port: u16, verdict: Verdict) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let (Verdict::Refused(reply), true) = (&verdict, port < UNPRIVILEGED) {
            self.privileged_refused.get_or_insert_with(|| reply.clone());
        }
        self.verdicts.insert(port, verdict);
    }

    /// A port came back unanswered: asked again later, or lost after its last attempt.
    pub fn unanswered(&mut self, port: u16) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.asked.get(&port).copied().unwrap_or(0) >= self.attempts {
            self.lost.push(port);
        } else {
            self.pending.push_back(port);
        }
    }

    /// Whether every port has its verdict or is lost.
    pub fn finished(&self) -> bool {
        self.pending.is_empty() && self.in_flight == 0
    }

    /// Ports waiting to be asked (not counting those in flight).
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }

    /// The verdicts, by port.
    pub fn verdicts(&self) -> &BTreeMap<u16, Verdict> {
        &self.verdicts
    }

    /// Ports given up (never answered), and ports never asked (the scan stopped first).
    pub fn unsettled(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.lost.iter().chain(self.pending.iter()).copied().collect();
        ports.sort_unstable();
        ports
    }

    /// The relay's refusal of privileged ports, if it refused one.
    pub fn privileged_refused(&self) -> Option<&str> {
        self.privileged_refused.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_privileged_refusal_settles_the_other_privileged_ports() {
        let mut b = Board::new([22, 2000, 80, 443, 3000], 2);
        assert_eq!(b.next_port(), Some(22));
        b.answer(22, Verdict::Refused("500 OOPS: Illegal port request".into()));
        assert_eq!(b.next_port(), Some(2000));
        b.answer(2000, Verdict::Open);
        assert_eq!(b.next_port(), Some(3000), "80 and 443 are settled unasked");
        b.answer(3000, Verdict::Closed);
        assert_eq!(b.next_port(), None);
        assert!(b.finished());
        assert_eq!(b.verdicts().len(), 5);
        assert!(matches!(b.verdicts()[&443], Verdict::Refused(_)));
        assert_eq!(b.privileged_refused(), Some("500 OOPS: Illegal port request"));
    }

    #[test]
    fn an_unprivileged_refusal_is_that_ports_alone() {
        let mut b = Board::new([2000, 2001], 1);
        b.next_port();
        b.answer(2000, Verdict::Refused("550 no".into()));
        assert_eq!(b.next_port(), Some(2001));
        assert!(b.privileged_refused().is_none());
    }

    #[test]
    fn unanswered_ports_are_asked_again_then_lost() {
        let mut b = Board::new([5000, 5001], 2);
        assert_eq!(b.next_port(), Some(5000));
        b.unanswered(5000);
        assert!(!b.finished());
        assert_eq!(b.next_port(), Some(5001));
        assert_eq!(b.next_port(), Some(5000));
        b.answer(5001, Verdict::Closed);
        b.unanswered(5000);
        assert_eq!(b.next_port(), None);
        assert!(b.finished());
        assert_eq!(b.unsettled(), [5000]);
        assert!(!b.verdicts().contains_key(&5000), "a lost port has no state");
    }
}
