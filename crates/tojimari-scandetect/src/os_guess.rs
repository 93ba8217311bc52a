//! The likely operating system of a scanning source, guessed passively from its first SYN.
//!
//! A SYN carries the sender's own choices: initial TTL, window, TCP options (order and values) and
//! the don't-fragment bit. The detector keeps those of each source's first pure SYN ([`SynFacts`],
//! a few bytes, no allocation) and, when it reports an incident, asks tojimari-osdetect's passive
//! matcher ([`tojimari_osdetect::passive::guess`]) what they point at ([`guess`]).
//!
//! The facts come from the [`PacketSummary`], not from the packet's bytes (the detector never
//! sees bytes, and a firewall log has none): they are the same facts
//! [`tojimari_osdetect::passive::read`] takes from the bytes, which a test checks. Caveats, said
//! where the guess is printed: a crafted SYN (nmap -sS, masscan, zmap) shows the tool's choices,
//! not the system's, so the guess is mostly for connect scans and scripts that use the system's
//! stack; firewall-log lines carry no TCP options, so their guesses are weaker.

use tojimari_osdetect::Db;
use tojimari_osdetect::passive::{self, Handshake};

use crate::summary::{PacketSummary, TcpFlags, TcpOptions, Transport};

/// What a source's SYN says about its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynFacts {
    /// IPv4 TTL or IPv6 hop limit, as received (the initial value minus the hops).
    pub ttl: u8,
    /// The advertised window.
    pub window: u16,
    /// IPv4 don't-fragment (false for IPv6).
    pub df: bool,
    /// The options' kinds in order, with the MSS and window scale values.
    pub options: TcpOptions,
}

impl SynFacts {
    /// The facts of `pkt` when it is a pure SYN (no ACK, RST or FIN), else `None`.
    pub fn of(pkt: &PacketSummary) -> Option<SynFacts> {
        let Transport::Tcp(tcp) = &pkt.transport else { return None };
        (tcp.flags.classic() == TcpFlags::SYN).then_some(SynFacts {
            ttl: pkt.ttl,
            window: tcp.window,
            df: pkt.df,
            options: tcp.options,
        })
    }

    /// The facts as tojimari-osdetect's passive matcher takes them.
    pub fn handshake(&self) -> Handshake {
        Handshake {
            ttl: self.ttl,
            window: self.window,
            df: self.df,
            options: self.options.kinds().to_vec(),
            mss: self.options.mss,
            wscale: self.options.wscale,
            syn_ack: false,
        }
    }
}

/// A passive guess: the best match's name and its accuracy in percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsGuess {
    /// The fingerprint database entry's name (`Linux 5.X`).
    pub name: String,
    /// Percent, 0..=100.
    pub accuracy: u8,
}

/// The best passive match for `facts` in the shipped database, if any.
pub fn guess(facts: &SynFacts) -> Option<OsGuess> {
    guess_in(Db::builtin(), facts)
}

/// As [`guess`], in `db`.
pub fn guess_in(db: &Db, facts: &SynFacts) -> Option<OsGuess> {
    let best = passive::guess(db, &facts.handshake()).into_iter().max_by_key(|m| m.accuracy)?;
    (!best.name.is_empty()).then(|| OsGuess { name: best.name, accuracy: best.accuracy.min(100) })
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::summary::summarize_ip;
    use crate::time::Timestamp;

    /// A SYN shaped as a Linux client's `connect()` sends it (the option order Linux uses, RFC 7323
    /// timestamps): 198.18.0.1 -> 198.18.0.2:22, TTL 64, DF, window 64240, MSS 1460, SACK-permitted,
    /// timestamps, NOP, window scale 7; checksums valid.
    const LINUX_SYN: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x92, 0x4e, 198, 18, 0, 1, 198, 18, 0, 2, //
        0xa4, 0x1e, 0x00, 0x16, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xb2, 0x02,
        0x00, 0x00, //
        0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03,
        0x03, 0x07,
    ];

    fn linux_syn() -> PacketSummary {
        summarize_ip(&LINUX_SYN, Timestamp::EPOCH).expect("a valid SYN")
    }

    #[test]
    fn facts_of_a_pure_syn_only() {
        let pkt = linux_syn();
        let facts = SynFacts::of(&pkt).expect("a SYN");
        assert_eq!((facts.ttl, facts.window, facts.df), (64, 64240, true));
        assert_eq!(facts.options.kinds(), [2, 4, 8, 1, 3]);
        let hs = facts.handshake();
        assert_eq!((hs.mss, hs.wscale, hs.syn_ack), (Some(1460), Some(7), false));
        assert_eq!(hs.options, [2, 4, 8, 1, 3]);

        let mut syn_ack = pkt;
        if let Transport::Tcp(tcp) = &mut syn_ack.transport {
            tcp.flags = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
        }
        assert_eq!(SynFacts::of(&syn_ack), None);
        let udp = PacketSummary { transport: Transport::Udp { sport: 1, dport: 2, payload_len: 0 }, ..pkt };
        assert_eq!(SynFacts::of(&udp), None);
        assert_eq!(pkt.src, IpAddr::from([198, 18, 0, 1]));
    }

    /// The facts taken from the summary are those osdetect's own reader takes from the bytes.
    /// Needs tojimari-osdetect's passive reader (issue 12 part 3): fails until it is filled in.
    #[test]
    fn summary_facts_equal_osdetects_reading_of_the_bytes() {
        let read = passive::read(&LINUX_SYN).expect("tojimari-osdetect reads a plain Linux SYN");
        assert_eq!(SynFacts::of(&linux_syn()).expect("a SYN").handshake(), read);
    }

    /// Needs tojimari-osdetect's passive matcher and database (issue 12 part 3): fails until they are
    /// filled in.
    #[test]
    fn a_linux_clients_syn_is_guessed_linux() {
        let guess = guess(&SynFacts::of(&linux_syn()).expect("a SYN")).expect("a guess for a plain Linux SYN");
        assert!(guess.name.contains("Linux"), "{guess:?}");
        assert!((1..=100).contains(&guess.accuracy), "{guess:?}");
    }
}
