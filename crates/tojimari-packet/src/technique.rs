//! What each scan type ([`ScanType`], the one vocabulary in tojimari-core) means on the wire: the flags its
//! probes carry, where the validation cookie goes, and how a reply must echo it ([`Probing`]).
//!
//! Cookie placement follows RFC 9293's reset generation (section 3.10.7.1): a segment without ACK is answered
//! by `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`, a segment with ACK by `<SEQ=SEG.ACK><CTL=RST>`. So probes
//! without ACK carry the cookie in `seq` and the answer acknowledges it (plus one for each of SYN and FIN, which
//! occupy sequence space), and probes with ACK carry it in `ack` and the answer's `seq` is the cookie itself.
//!
//! `-sT` is the operating system's SYN, so it is treated as `-sS` here; `-sn` and `-sL` send no port probes:
//! no flags, and no reply ever matches them.

use tojimari_core::ScanType;

use crate::tcp::{ACK, FIN, PSH, RST, SYN, URG};

/// The packet side of a scan type: what its probes carry and which replies answer them.
pub trait Probing: Copy {
    /// The TCP flags of this technique's probes (0 for UDP, `-sn` and `-sL`).
    fn tcp_flags(self) -> u8;

    /// Where the cookie goes and how the reply echoes it: probes WITHOUT the ACK flag carry it in `seq`, and a
    /// RST/SYN-ACK answer acknowledges seq + (1 if SYN or FIN set in the probe); probes WITH ACK carry it in
    /// `ack`, and the RST answer's `seq` equals it (RFC 793 reset generation). UDP probes have neither;
    /// `(cookie, 0)`.
    fn probe_seq_ack(self, cookie: u32) -> (u32, u32);

    /// Whether a TCP reply (its seq, ack, flags) answers a probe of this technique carrying `cookie`.
    ///
    /// Probes without ACK: the reply must carry ACK and acknowledge `cookie + SEG.LEN`, where SYN and FIN each
    /// count one. A probe with both SYN and FIN is answered by a RST acking +2 or by a SYN-ACK acking +1 (stacks
    /// ignore the FIN on a SYN), so both are accepted. Probes with ACK: the reply's `seq` must equal `cookie`.
    /// UDP probes are never answered over TCP, and `-sn`/`-sL` send no port probe.
    fn reply_matches(self, cookie: u32, reply_seq: u32, reply_ack: u32, reply_flags: u8) -> bool;
}

/// Whether SYN probes' semantics apply: `-sS` (and `-sT`, whose packets are SYNs), or `--scanflags` with SYN.
pub(crate) fn is_syn_like(t: ScanType) -> bool {
    matches!(t, ScanType::Syn | ScanType::Connect) || matches!(t, ScanType::Custom(f) if f & SYN != 0)
}

/// The seq we put in ACK-bearing probes: derived from the cookie so probes look varied, never checked on replies.
const ACK_PROBE_SEQ_MASK: u32 = 0x5bd1_e995;

impl Probing for ScanType {
    fn tcp_flags(self) -> u8 {
        match self {
            // The bounce relay connects with a SYN (it sends no probe of ours).
            ScanType::Syn | ScanType::Connect | ScanType::Idle | ScanType::Bounce => SYN,
            ScanType::Fin => FIN,
            ScanType::Null | ScanType::Udp | ScanType::PingOnly | ScanType::List => 0,
            ScanType::IpProto | ScanType::SctpInit | ScanType::SctpCookieEcho => 0,
            ScanType::Xmas => FIN | PSH | URG,
            ScanType::Ack | ScanType::Window => ACK,
            ScanType::Maimon => FIN | ACK,
            ScanType::Custom(f) => f,
        }
    }

    fn probe_seq_ack(self, cookie: u32) -> (u32, u32) {
        if self.tcp_flags() & ACK != 0 { (cookie.rotate_left(16) ^ ACK_PROBE_SEQ_MASK, cookie) } else { (cookie, 0) }
    }

    fn reply_matches(self, cookie: u32, reply_seq: u32, reply_ack: u32, reply_flags: u8) -> bool {
        if !self.is_tcp() || self == ScanType::Bounce {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every raw technique: the fixed-flag TCP ones, a custom one, UDP.
    fn all() -> impl Iterator<Item = ScanType> {
        ScanType::RAW_TCP.into_iter().chain([ScanType::Custom(SYN | FIN), ScanType::Udp])
    }

    #[test]
    fn flags() {
        assert_eq!(ScanType::Syn.tcp_flags(), 0x02);
        assert_eq!(ScanType::Fin.tcp_flags(), 0x01);
        assert_eq!(ScanType::Null.tcp_flags(), 0);
        assert_eq!(ScanType::Xmas.tcp_flags(), 0x29);
        assert_eq!(ScanType::Ack.tcp_flags(), 0x10);
        assert_eq!(ScanType::Window.tcp_flags(), 0x10);
        assert_eq!(ScanType::Maimon.tcp_flags(), 0x11);
        assert_eq!(ScanType::Custom(0xc2).tcp_flags(), 0xc2);
        assert_eq!(ScanType::Udp.tcp_flags(), 0);
    }

    #[test]
    fn cookie_placement() {
        let c = 0x1234_5678;
        for t in [ScanType::Syn, ScanType::Fin, ScanType::Null, ScanType::Xmas, ScanType::Custom(SYN)] {
            assert_eq!(t.probe_seq_ack(c), (c, 0), "{t:?}");
        }
        for t in [ScanType::Ack, ScanType::Window, ScanType::Maimon, ScanType::Custom(SYN | ACK)] {
            assert_eq!(t.probe_seq_ack(c).1, c, "{t:?}");
        }
    }

    #[test]
    fn syn_probe_answers_ack_seq_plus_one() {
        let c = 1000;
        let t = ScanType::Syn;
        assert!(t.reply_matches(c, 777, c + 1, SYN | ACK));
        assert!(t.reply_matches(c, 0, c + 1, RST | ACK));
        assert!(!t.reply_matches(c, 0, c, RST | ACK));
        assert!(!t.reply_matches(c, 0, c + 2, RST | ACK));
        assert!(!t.reply_matches(c, 0, c + 1, RST), "RST without ACK cannot acknowledge");
    }

    #[test]
    fn fin_and_xmas_probe_answers_ack_seq_plus_one() {
        for t in [ScanType::Fin, ScanType::Xmas, ScanType::Custom(FIN | PSH)] {
            assert!(t.reply_matches(50, 0, 51, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 50, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 52, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn null_probe_answers_ack_seq_plus_zero() {
        for t in [ScanType::Null, ScanType::Custom(PSH), ScanType::Custom(0)] {
            assert!(t.reply_matches(50, 0, 50, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 51, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(50, 0, 49, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn syn_fin_probe_accepts_rst_plus_two_and_synack_plus_one() {
        let t = ScanType::Custom(SYN | FIN);
        assert!(t.reply_matches(9, 0, 11, RST | ACK));
        assert!(t.reply_matches(9, 5, 10, SYN | ACK));
        assert!(!t.reply_matches(9, 0, 10, RST | ACK));
        assert!(!t.reply_matches(9, 0, 9, RST | ACK));
    }

    #[test]
    fn ack_probes_echo_cookie_in_seq() {
        for t in [ScanType::Ack, ScanType::Window, ScanType::Maimon, ScanType::Custom(ACK | PSH)] {
            let c = u32::MAX;
            assert!(t.reply_matches(c, c, 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, c.wrapping_add(1), 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, c.wrapping_sub(1), 0, RST), "{t:?}");
            assert!(!t.reply_matches(c, 0, c, RST | ACK), "{t:?}");
        }
    }

    #[test]
    fn wraps_at_u32_max() {
        assert!(ScanType::Syn.reply_matches(u32::MAX, 0, 0, SYN | ACK));
    }

    #[test]
    fn udp_never_matches_tcp() {
        assert!(!ScanType::Udp.reply_matches(1, 1, 1, RST | ACK));
        assert!(!ScanType::Udp.reply_matches(0, 0, 0, RST | ACK));
    }

    #[test]
    fn connect_is_a_syn_and_ping_or_list_send_no_port_probe() {
        assert_eq!(ScanType::Connect.tcp_flags(), SYN);
        assert!(ScanType::Connect.reply_matches(7, 0, 8, SYN | ACK));
        for t in [ScanType::PingOnly, ScanType::List] {
            assert_eq!(t.tcp_flags(), 0, "{t:?}");
            assert!(!t.reply_matches(7, 7, 7, RST | ACK), "{t:?}");
            assert!(!t.reply_matches(0, 0, 0, RST | ACK), "{t:?}");
        }
        assert!(all().all(|t| t.is_port_scan()));
    }
}
