//! Stack personas: a userspace TCP/IP responder that answers as another operating system would.
//!
//! - [`Persona`] ([`model`]) is the data: ground truth ([`Truth`]) and every behaviour knob (TTL, DF, IP ID
//!   and ISN policies, timestamp clock, option layout, window, ECN, odd-packet rules, ICMP quoting, echo).
//! - [`catalog`] holds the named personas, each with its public provenance (`docs/personas.md` tables them).
//! - [`Responder`] is the stack as a pure function: `answer(frame, now) -> frames`, with ARP, neighbour
//!   discovery, IPv4 and IPv6 done in the responder itself and each protocol answered by an [`IpHandler`]
//!   (TCP, UDP, ICMP built in; more can be added: [`SctpHandler`] for SCTP, or an idle-scan zombie's rules).
//! - [`PersonaHost`] runs a responder on a TAP device attached to the bed's bridge:
//!   [`TestBed::add_persona`](crate::TestBed::add_persona).

pub mod catalog;
mod counters;
mod host;
mod icmp;
mod icmp_error;
pub mod model;
mod options;
mod responder;
mod rng;
mod sctp;
mod stack;
mod tcp;
#[cfg(test)]
mod tests;
mod udp;

pub(crate) use host::Attachment;
pub use host::{Chatter, PERSONA_V4_FIRST, PERSONA_V4_LAST, PersonaHost, persona_mac, persona_v4, persona_v6};
pub use model::{
    AckChoice, DfEcho, EchoRule, EcnRule, FlagChoice, IcmpErrorRule, IpIdPolicies, IpIdPolicy, IsnPolicy, OddRules,
    Persona, QuotedField, RuleOptions, SeqChoice, SynAckRule, TcpOpt, TcpRule, TimestampClock, Truth,
};
pub use responder::Responder;
pub use sctp::SctpHandler;
pub use stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};
