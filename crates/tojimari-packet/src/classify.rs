//! nmap's port-state semantics: what a TCP reply, an ICMP error, or silence means for each technique.
//!
//! These follow nmap's documented behaviour ("Port Scanning Techniques" in the nmap book / man page):
//! SYN scan: SYN/ACK open, RST closed, no answer or ICMP unreachable filtered. FIN/NULL/Xmas/Maimon: RST closed,
//! no answer open|filtered, ICMP unreachable filtered. ACK: RST unfiltered. Window: RST with a non-zero window
//! open, zero window closed. UDP: any UDP answer open (decided by the engine from [`crate::Reply::Udp`]), ICMP
//! port unreachable closed, other unreachables filtered, silence open|filtered.

use crate::tcp::{ACK, RST, SYN};
use crate::technique::is_syn_like;
use tojimari_core::{PortState, Reason, ScanType};

/// The state and reason a TCP reply with these flags (and window) gives, or `None` if it says nothing.
///
/// SYN (and `--scanflags` with SYN): SYN|ACK -> open; RST -> closed; a bare SYN (simultaneous open) -> open.
/// FIN/NULL/Xmas/Maimon/Custom-without-SYN: RST -> closed. ACK: RST -> unfiltered. Window: RST with window > 0
/// -> open, window 0 -> closed. Anything else (and UDP) -> `None`.
pub fn tcp_reply(t: ScanType, flags: u8, window: u16) -> Option<(PortState, Reason)> {
    let rst = flags & RST != 0;
    match t {
        ScanType::Udp => None,
        _ if is_syn_like(t) => {
            if flags & (SYN | ACK) == SYN | ACK {
                Some((PortState::Open, Reason::SynAck))
            } else if rst {
                Some((PortState::Closed, Reason::Reset))
            } else if flags & SYN != 0 {
                Some((PortState::Open, Reason::SynAck))
            } else {
                None
            }
        }
        ScanType::Ack if rst => Some((PortState::Unfiltered, Reason::Reset)),
        ScanType::Window if rst => Some((if window > 0 { PortState::Open } else { PortState::Closed }, Reason::Reset)),
        ScanType::Fin | ScanType::Null | ScanType::Xmas | ScanType::Maimon | ScanType::Custom(_) if rst => {
            Some((PortState::Closed, Reason::Reset))
        }
        _ => None,
    }
}

/// The state and reason an SCTP answer's first chunk gives, or `None` if it says nothing.
///
/// `-sY` (INIT): INIT ACK -> open (init-ack); ABORT -> closed (abort). `-sZ` (COOKIE ECHO): ABORT -> closed
/// (abort); a COOKIE ACK (a stack that took our forged cookie) -> open. Anything else, and other techniques,
/// -> `None`. The caller has checked the verification tag (see `crate::build::SctpProbe`).
pub fn sctp_reply(t: ScanType, chunk: u8) -> Option<(PortState, Reason)> {
    use tojimari_wire::sctp::chunk::{ABORT, COOKIE_ACK, INIT_ACK};
    match (t, chunk) {
        (ScanType::SctpInit, INIT_ACK) => Some((PortState::Open, Reason::InitAck)),
        (ScanType::SctpInit | ScanType::SctpCookieEcho, ABORT) => Some((PortState::Closed, Reason::Abort)),
        (ScanType::SctpCookieEcho, COOKIE_ACK) => Some((PortState::Open, Reason::ProtoResponse)),
        _ => None,
    }
}

/// ICMPv4 destination unreachable and time exceeded types; ICMPv6 equivalents.
const V4_UNREACH: u8 = 3;
const V4_TIME_EXCEEDED: u8 = 11;
const V6_UNREACH: u8 = 1;
const V6_TIME_EXCEEDED: u8 = 3;

/// The state and reason an ICMP error about one of our probes gives, or `None`.
///
/// TCP techniques: v4 type 3 codes 1, 2, 3, 9, 10, 13 and v6 type 1 codes 0, 1, 3, 4, 5, 6 -> filtered.
/// UDP: v4 type 3 code 3 / v6 type 1 code 4 -> closed (port-unreach); v4 type 3 codes 1, 2, 9, 10, 13 and v6
/// type 1 codes 0, 1, 3, 5, 6 -> filtered. Time exceeded (v4 11 / v6 3) -> filtered (time-exceeded).
pub fn icmp_error(t: ScanType, v6: bool, kind: u8, code: u8) -> Option<(PortState, Reason)> {
    let port_unreach = if v6 { code == 4 } else { code == 3 };
    let reason = if v6 { Reason::from_icmpv6_unreach_code(code) } else { Reason::from_icmp_unreach_code(code) };
    match (v6, kind) {
        (false, V4_TIME_EXCEEDED) | (true, V6_TIME_EXCEEDED) => Some((PortState::Filtered, Reason::TimeExceeded)),
        (false, V4_UNREACH) if matches!(code, 1 | 2 | 3 | 9 | 10 | 13) => {
            Some((if t.is_udp() && port_unreach { PortState::Closed } else { PortState::Filtered }, reason))
        }
        (true, V6_UNREACH) if matches!(code, 0 | 1 | 3 | 4 | 5 | 6) => {
            Some((if t.is_udp() && port_unreach { PortState::Closed } else { PortState::Filtered }, reason))
        }
        _ => None,
    }
}

/// The state after every try went unanswered: Syn/Ack/Window/Custom-with-SYN/SCTP INIT -> filtered;
/// Fin/Null/Xmas/Maimon/other Custom/Udp/SCTP COOKIE ECHO/IP protocol -> open|filtered. The reason is always no-response.
pub fn silence(t: ScanType) -> (PortState, Reason) {
    let state = match t {
        ScanType::Ack | ScanType::Window | ScanType::SctpInit => PortState::Filtered,
        _ if is_syn_like(t) => PortState::Filtered,
        _ => PortState::OpenFiltered,
    };
    (state, Reason::NoResponse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::{FIN, PSH, URG};
    use PortState::*;

    const ALL_FLAGS: std::ops::RangeInclusive<u8> = 0..=255;

    #[test]
    fn syn_scan() {
        for t in [ScanType::Syn, ScanType::Custom(SYN), ScanType::Custom(SYN | FIN), ScanType::Custom(SYN | ACK)] {
            assert_eq!(tcp_reply(t, SYN | ACK, 0), Some((Open, Reason::SynAck)), "{t:?}");
            assert_eq!(tcp_reply(t, SYN | ACK | PSH, 100), Some((Open, Reason::SynAck)), "{t:?}");
            assert_eq!(tcp_reply(t, RST | ACK, 0), Some((Closed, Reason::Reset)), "{t:?}");
            assert_eq!(tcp_reply(t, RST, 0), Some((Closed, Reason::Reset)), "{t:?}");
            assert_eq!(tcp_reply(t, SYN, 0), Some((Open, Reason::SynAck)), "simultaneous open, {t:?}");
            assert_eq!(tcp_reply(t, ACK, 0), None, "{t:?}");
            assert_eq!(tcp_reply(t, FIN | ACK, 0), None, "{t:?}");
            assert_eq!(tcp_reply(t, 0, 0), None, "{t:?}");
        }
    }

    #[test]
    fn inverse_scans() {
        for t in [
            ScanType::Fin,
            ScanType::Null,
            ScanType::Xmas,
            ScanType::Maimon,
            ScanType::Custom(FIN | PSH | URG),
            ScanType::Custom(0),
            ScanType::Custom(ACK | PSH),
        ] {
            for f in ALL_FLAGS {
                let want = if f & RST != 0 { Some((Closed, Reason::Reset)) } else { None };
                assert_eq!(tcp_reply(t, f, 512), want, "{t:?} flags {f:#04x}");
            }
        }
    }

    #[test]
    fn ack_scan() {
        for f in ALL_FLAGS {
            let want = if f & RST != 0 { Some((Unfiltered, Reason::Reset)) } else { None };
            assert_eq!(tcp_reply(ScanType::Ack, f, 0), want, "flags {f:#04x}");
            assert_eq!(tcp_reply(ScanType::Ack, f, 1000), want, "flags {f:#04x}");
        }
    }

    #[test]
    fn window_scan() {
        assert_eq!(tcp_reply(ScanType::Window, RST, 1), Some((Open, Reason::Reset)));
        assert_eq!(tcp_reply(ScanType::Window, RST, 65535), Some((Open, Reason::Reset)));
        assert_eq!(tcp_reply(ScanType::Window, RST, 0), Some((Closed, Reason::Reset)));
        assert_eq!(tcp_reply(ScanType::Window, RST | ACK, 0), Some((Closed, Reason::Reset)));
        assert_eq!(tcp_reply(ScanType::Window, SYN | ACK, 100), None);
        assert_eq!(tcp_reply(ScanType::Window, ACK, 100), None);
    }

    #[test]
    fn udp_ignores_tcp() {
        for f in ALL_FLAGS {
            assert_eq!(tcp_reply(ScanType::Udp, f, 1), None);
        }
    }

    /// Every raw TCP technique, with a custom one.
    fn tcp_techniques() -> impl Iterator<Item = ScanType> {
        ScanType::RAW_TCP.into_iter().chain([ScanType::Custom(PSH)])
    }

    #[test]
    fn icmp_v4_table() {
        for code in 0..=255u8 {
            let tcp_want =
                matches!(code, 1 | 2 | 3 | 9 | 10 | 13).then(|| (Filtered, Reason::from_icmp_unreach_code(code)));
            for t in tcp_techniques() {
                assert_eq!(icmp_error(t, false, 3, code), tcp_want, "{t:?} code {code}");
            }
            let udp_want = match code {
                3 => Some((Closed, Reason::PortUnreach)),
                1 | 2 | 9 | 10 | 13 => Some((Filtered, Reason::from_icmp_unreach_code(code))),
                _ => None,
            };
            assert_eq!(icmp_error(ScanType::Udp, false, 3, code), udp_want, "udp code {code}");
        }
        assert_eq!(icmp_error(ScanType::Syn, false, 3, 13), Some((Filtered, Reason::AdminProhibited)));
        assert_eq!(icmp_error(ScanType::Syn, false, 3, 3), Some((Filtered, Reason::PortUnreach)));
        assert_eq!(icmp_error(ScanType::Udp, false, 3, 2), Some((Filtered, Reason::ProtoUnreach)));
        assert_eq!(icmp_error(ScanType::Udp, false, 3, 9), Some((Filtered, Reason::NetProhibited)));
        assert_eq!(icmp_error(ScanType::Udp, false, 3, 10), Some((Filtered, Reason::HostProhibited)));
        assert_eq!(icmp_error(ScanType::Udp, false, 3, 1), Some((Filtered, Reason::HostUnreach)));
    }

    #[test]
    fn icmp_v6_table() {
        for code in 0..=255u8 {
            let tcp_want =
                matches!(code, 0 | 1 | 3 | 4 | 5 | 6).then(|| (Filtered, Reason::from_icmpv6_unreach_code(code)));
            for t in tcp_techniques() {
                assert_eq!(icmp_error(t, true, 1, code), tcp_want, "{t:?} code {code}");
            }
            let udp_want = match code {
                4 => Some((Closed, Reason::PortUnreach)),
                0 | 1 | 3 | 5 | 6 => Some((Filtered, Reason::from_icmpv6_unreach_code(code))),
                _ => None,
            };
            assert_eq!(icmp_error(ScanType::Udp, true, 1, code), udp_want, "udp code {code}");
        }
        assert_eq!(icmp_error(ScanType::Udp, true, 1, 1), Some((Filtered, Reason::AdminProhibited)));
        assert_eq!(icmp_error(ScanType::Udp, true, 1, 0), Some((Filtered, Reason::NetUnreach)));
    }

    #[test]
    fn time_exceeded_and_other_types() {
        for t in tcp_techniques().chain([ScanType::Udp]) {
            for code in [0, 1] {
                assert_eq!(icmp_error(t, false, 11, code), Some((Filtered, Reason::TimeExceeded)));
                assert_eq!(icmp_error(t, true, 3, code), Some((Filtered, Reason::TimeExceeded)));
            }
            // v4 type 1 / v6 type 11 are not errors in the other family; param problem and others say nothing.
            assert_eq!(icmp_error(t, false, 1, 3), None);
            assert_eq!(icmp_error(t, true, 11, 0), None);
            assert_eq!(icmp_error(t, false, 12, 0), None);
            assert_eq!(icmp_error(t, true, 4, 0), None);
            assert_eq!(icmp_error(t, true, 2, 0), None);
            assert_eq!(icmp_error(t, false, 5, 1), None);
        }
    }

    #[test]
    fn sctp_table() {
        use tojimari_wire::sctp::chunk::*;
        for c in 0..=255u8 {
            let init = match c {
                INIT_ACK => Some((Open, Reason::InitAck)),
                ABORT => Some((Closed, Reason::Abort)),
                _ => None,
            };
            assert_eq!(sctp_reply(ScanType::SctpInit, c), init, "chunk {c}");
            let echo = match c {
                ABORT => Some((Closed, Reason::Abort)),
                COOKIE_ACK => Some((Open, Reason::ProtoResponse)),
                _ => None,
            };
            assert_eq!(sctp_reply(ScanType::SctpCookieEcho, c), echo, "chunk {c}");
            assert_eq!(sctp_reply(ScanType::Syn, c), None);
            assert_eq!(sctp_reply(ScanType::Udp, c), None);
        }
        // ICMP errors read as for TCP: every unreachable filters.
        for t in [ScanType::SctpInit, ScanType::SctpCookieEcho] {
            assert_eq!(icmp_error(t, false, 3, 3), Some((Filtered, Reason::PortUnreach)));
            assert_eq!(icmp_error(t, false, 3, 13), Some((Filtered, Reason::AdminProhibited)));
            assert_eq!(icmp_error(t, true, 1, 4), Some((Filtered, Reason::PortUnreach)));
            assert_eq!(icmp_error(t, false, 3, 0), None);
        }
    }

    #[test]
    fn silence_table() {
        let filtered = (Filtered, Reason::NoResponse);
        let open_filtered = (OpenFiltered, Reason::NoResponse);
        assert_eq!(silence(ScanType::Syn), filtered);
        assert_eq!(silence(ScanType::Ack), filtered);
        assert_eq!(silence(ScanType::Window), filtered);
        assert_eq!(silence(ScanType::Custom(SYN | URG)), filtered);
        assert_eq!(silence(ScanType::Fin), open_filtered);
        assert_eq!(silence(ScanType::Null), open_filtered);
        assert_eq!(silence(ScanType::Xmas), open_filtered);
        assert_eq!(silence(ScanType::Maimon), open_filtered);
        assert_eq!(silence(ScanType::Custom(FIN)), open_filtered);
        assert_eq!(silence(ScanType::Custom(ACK)), open_filtered);
        assert_eq!(silence(ScanType::Udp), open_filtered);
        assert_eq!(silence(ScanType::SctpInit), filtered);
        assert_eq!(silence(ScanType::SctpCookieEcho), open_filtered);
        assert_eq!(silence(ScanType::IpProto), open_filtered);
    }
}
