//! Scan techniques (nmap's `-sS -sF -sN -sX -sA -sW -sM --scanflags -sU`): the flags each probe carries, where
//! the validation cookie goes, and how a reply must echo it.
//!
//! Cookie placement follows RFC 9293's reset generation (section 3.10.7.1): a segment without ACK is answered
//! by `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`, a segment with ACK by `<SEQ=SEG.ACK><CTL=RST>`. So probes
//! without ACK carry the cookie in `seq` and the answer acknowledges it (plus one for each of SYN and FIN, which
//! occupy sequence space), and probes with ACK carry it in `ack` and the answer's `seq` is the cookie itself.

use crate::tcp::{ACK, FIN, PSH, RST, SYN, URG};

/// A scan technique (nmap -sS -sF -sN -sX -sA -sW -sM --scanflags -sU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Technique {
    /// `-sS`: SYN ("half-open") scan.
    Syn,
    /// `-sF`: FIN only.
    Fin,
    /// `-sN`: no flags.
    Null,
    /// `-sX`: FIN, PSH and URG.
    Xmas,
    /// `-sA`: ACK only; tells filtered from unfiltered.
    Ack,
    /// `-sW`: ACK probe, open/closed told from the RST's window.
    Window,
    /// `-sM`: FIN|ACK (Uriel Maimon's BSD trick).
    Maimon,
    /// `--scanflags`: these exact flags.
    Custom(u8),
    /// `-sU`: UDP.
    Udp,
}

/// The seq we put in ACK-bearing probes: derived from the cookie so probes look varied, never checked on replies.
const ACK_PROBE_SEQ_MASK: u32 = 0x5bd1_e995;

impl Technique {
    /// The TCP flags of this technique's probes (0 for UDP).
    pub fn tcp_flags(self) -> u8 {
        match self {
            Technique::Syn => SYN,
            Technique::Fin => FIN,
            Technique::Null | Technique::Udp => 0,
            Technique::Xmas => FIN | PSH | URG,
            Technique::Ack | Technique::Window => ACK,
            Technique::Maimon => FIN | ACK,
            Technique::Custom(f) => f,
        }
    }

    /// Whether SYN probes' semantics apply: `-sS`, or `--scanflags` including SYN.
    pub(crate) fn is_syn_like(self) -> bool {
        matches!(self, Technique::Syn) || matches!(self, Technique::Custom(f) if f & SYN != 0)
    }

    /// Where the cookie goes and how the reply echoes it: probes WITHOUT the ACK flag carry it in `seq`, and a
    /// RST/SYN-ACK answer acknowledges seq + (1 if SYN or FIN set in the probe); probes WITH ACK carry it in `ack`,
    /// and the RST answer's `seq` equals it (RFC 793 reset generation). UDP probes have neither; `(cookie, 0)`.
    pub fn probe_seq_ack(self, cookie: u32) -> (u32, u32) {
        if self.tcp_flags() & ACK != 0 { (cookie.rotate_left(16) ^ ACK_PROBE_SEQ_MASK, cookie) } else { (cookie, 0) }
    }

    /// Whether a TCP reply (its seq, ack, flags) answers a probe of this technique carrying `cookie`.
    ///
    /// Probes without ACK: the reply must carry ACK and acknowledge `cookie + SEG.LEN`, where SYN and FIN each
    /// count one. A probe with both SYN and FIN is answered by a RST acking +2 or by a SYN-ACK acking +1 (stacks
    /// ignore the FIN on a SYN), so both are accepted. Probes with ACK: the reply's `seq` must equal `cookie`.
    /// UDP probes are never answered over TCP.
    pub fn reply_matches(self, cookie: u32, reply_seq: u32, reply_ack: u32, reply_flags: u8) -> bool {
        if self.is_udp() {
            return false;
        }
        let flags = self.tcp_flags();
        if flags & ACK != 0 {
            return reply_seq == cookie;
        }
        if reply_flags & ACK == 0 {
            return false;
        }
        let syn = u32::from(flags & SYN != 0);
        let fin = u32::from(flags & FIN != 0);
        reply_ack == cookie.wrapping_add(syn + fin)
            || (syn == 1 && fin == 1 && reply_flags & RST == 0 && reply_ack == cookie.wrapping_add(1))
    }

    /// nmap's XML `scaninfo` type: "syn", "fin", "null", "xmas", "ack", "window", "maimon", "custom", "udp".
    pub fn xml_name(self) -> &'static str {
        match self {
            Technique::Syn => "syn",
            Technique::Fin => "fin",
            Technique::Null => "null",
            Technique::Xmas => "xmas",
            Technique::Ack => "ack",
            Technique::Window => "window",
            Technique::Maimon => "maimon",
            Technique::Custom(_) => "custom",
            Technique::Udp => "udp",
        }
    }

    /// Display name in nmap's timing line, e.g. "SYN Stealth Scan".
    pub fn display_name(self) -> &'static str {
        match self {
            Technique::Syn => "SYN Stealth Scan",
            Technique::Fin => "FIN Scan",
            Technique::Null => "NULL Scan",
            Technique::Xmas => "XMAS Scan",
            Technique::Ack => "ACK Scan",
            Technique::Window => "Window Scan",
            Technique::Maimon => "Maimon Scan",
            Technique::Custom(_) => "Custom Scan",
            Technique::Udp => "UDP Scan",
        }
    }

    /// Whether this is the UDP scan.
    pub fn is_udp(self) -> bool {
        matches!(self, Technique::Udp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Technique; 9] = [
        Technique::Syn,
        Technique::Fin,
        Technique::Null,
        Technique::Xmas,
        Technique::Ack,
        Technique::Window,
        Technique::Maimon,
        Technique::Custom(SYN | FIN),
        Technique::Udp,
    ];

    #[test]
    fn flags() {
        assert_eq!(Technique::Syn.tcp_flags(), 0x02);
        assert_eq!(Technique::Fin.tcp_flags(), 0x01);
        assert_eq!(Technique::Null.tcp_flags(), 0);
        assert_eq!(Technique::Xmas.tcp_flags(), 0x29);
        assert_eq!(Technique::Ack.tcp_flags(), 0x10);
        assert_eq!(Technique::Window.tcp_flags(), 0x10);
        assert_eq!(Technique::Maimon.tcp_flags(), 0x11);
        assert_eq!(Technique::Custom(0xc2).tcp_flags(), 0xc2);
        assert_eq!(Technique::Udp.tcp_flags(), 0);
    }

    #[test]
    fn cookie_placement() {
        let c = 0x1234_5678;
        for t in [Technique::Syn, Technique::Fin, Technique::Null, Technique::Xmas, Technique::Custom(SYN)] {
            assert_eq!(t.probe_seq_ack(c), (c, 0), "{t:?}");
        }
        for t in [Technique::Ack, Technique::Window, Technique::Maimon, Technique::Custom(SYN | ACK)] {
            assert_eq!(t.probe_seq_ack(c).1, c, "{t:?}");
        }
    }

    #[test]
    fn syn_probe_answers_ack_seq_plus_one() {
        let c = 1000;
        let t = Technique::Syn;
        assert!(t.reply_matches(c, 777, c + 1, SYN | ACK));
        assert!(t.reply_matches(c, 0, c + 1, RST | ACK));
        assert!(!t.reply_matches(c, 0, c, RST | ACK));
        assert!(!t.reply_matches(c, 0, c + 2, RST | ACK));
        assert!(!t.reply_matches(c, 0, c + 1, RST), "RST without ACK cannot acknowledge");
    }

    #[test]
    fn fin_and_xmas_probe_answers_ack_seq_plus_one() {
        for t in [Technique::Fin, Technique::Xmas, Technique::Custom(FIN | PSH)] {
            assert!(t.reply_matches(50, 0, 51, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 50, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 52, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn null_probe_answers_ack_seq_plus_zero() {
        for t in [Technique::Null, Technique::Custom(PSH), Technique::Custom(0)] {
            assert!(t.reply_matches(50, 0, 50, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 51, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 49, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn syn_fin_probe_accepts_rst_plus_two_and_synack_plus_one() {
        let t = Technique::Custom(SYN | FIN);
        assert!(t.reply_matches(9, 0, 11, RST | ACK));
        assert!(t.reply_matches(9, 5, 10, SYN | ACK));
        assert!(!t.reply_matches(9, 0, 10, RST | ACK));
        assert!(!t.reply_matches(9, 0, 9, RST | ACK));
    }

    #[test]
    fn ack_probes_echo_cookie_in_seq() {
        for t in [Technique::Ack, Technique::Window, Technique::Maimon, Technique::Custom(ACK | PSH)] {
            let c = u32::MAX;
            assert!(t.reply_matches(c, c, 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, c.wrapping_add(1), 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, c.wrapping_sub(1), 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, 0, c, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn wraps_at_u32_max() {
        assert!(Technique::Syn.reply_matches(u32::MAX, 0, 0, SYN | ACK));
    }

    #[test]
    fn udp_never_matches_tcp() {
        assert!(!Technique::Udp.reply_matches(1, 1, 1, RST | ACK));
        assert!(!Technique::Udp.reply_matches(0, 0, 0, RST | ACK));
    }

    #[test]
    fn names() {
        let xml: Vec<_> = ALL.iter().map(|t| t.xml_name()).collect();
        assert_eq!(xml, ["syn", "fin", "null", "xmas", "ack", "window", "maimon", "custom", "udp"]);
        let disp: Vec<_> = ALL.iter().map(|t| t.display_name()).collect();
        assert_eq!(
            disp,
            [
                "SYN Stealth Scan",
                "FIN Scan",
                "NULL Scan",
                "XMAS Scan",
                "ACK Scan",
                "Window Scan",
                "Maimon Scan",
                "Custom Scan",
                "UDP Scan"
            ]
        );
        assert!(Technique::Udp.is_udp());
        assert!(ALL[..8].iter().all(|t| !t.is_udp()));
    }
}
