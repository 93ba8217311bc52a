//! A port's answer in plain words, as `tojimari check` and the web pages tell it to people who do not read
//! nmap's states: OPEN (a program answers), CLOSED (the host answered that nothing listens, or a firewall
//! rejected the probe: either way the machine is visible), STEALTH (no answer at all).

use crate::report::PortResult;
use crate::state::{PortState, Reason};

/// A port's answer in plain words.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// A program answers on this port.
    Open,
    /// The host answered that nothing listens (or a firewall rejected the probe): it is visible.
    Closed,
    /// No answer at all.
    Stealth,
}

impl Verdict {
    /// The word, as the reports print it in every language: `OPEN`, `CLOSED`, `STEALTH`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Open => "OPEN",
            Verdict::Closed => "CLOSED",
            Verdict::Stealth => "STEALTH",
        }
    }

    /// The verdict for one scan's result (`None`: the scan has no answer for the port). UDP ports that
    /// stayed silent may still be open: nothing in the packets can tell, so they are STEALTH as the plain
    /// words define it (no answer at all).
    pub fn of(port: Option<&PortResult>) -> Verdict {
        let Some(port) = port else { return Verdict::Stealth };
        Verdict::of_state(port.state, Some(port.reason))
    }

    /// The verdict of a port in `state`, for `reason` when it is known: a filtered port whose filter
    /// answered (admin-prohibited, say) is CLOSED, not STEALTH; without the reason, filtered is STEALTH.
    pub fn of_state(state: PortState, reason: Option<Reason>) -> Verdict {
        match state {
            PortState::Open => Verdict::Open,
            PortState::Closed | PortState::Unfiltered | PortState::ClosedFiltered => Verdict::Closed,
            PortState::Filtered | PortState::OpenFiltered => match reason {
                Some(reason) if answered(reason) => Verdict::Closed,
                _ => Verdict::Stealth,
            },
        }
    }
}

/// Whether a filtered port's reason is an answer (an ICMP error) rather than silence.
fn answered(reason: Reason) -> bool {
    !matches!(reason, Reason::NoResponse | Reason::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;

    #[test]
    fn states_in_plain_words() {
        let port = |state, reason| PortResult::new(Protocol::Tcp, 80, state, reason);
        assert_eq!(Verdict::of(Some(&port(PortState::Open, Reason::SynAck))), Verdict::Open);
        assert_eq!(Verdict::of(Some(&port(PortState::Closed, Reason::Reset))), Verdict::Closed);
        assert_eq!(Verdict::of(Some(&port(PortState::Filtered, Reason::AdminProhibited))), Verdict::Closed);
        assert_eq!(Verdict::of(Some(&port(PortState::Filtered, Reason::NoResponse))), Verdict::Stealth);
        assert_eq!(Verdict::of(Some(&port(PortState::OpenFiltered, Reason::NoResponse))), Verdict::Stealth);
        assert_eq!(Verdict::of(None), Verdict::Stealth);
        assert_eq!(
            [Verdict::Open, Verdict::Closed, Verdict::Stealth].map(Verdict::word),
            ["OPEN", "CLOSED", "STEALTH"]
        );
    }
}
