//! Scanning tools recognised from facts visible in each probe.
//!
//! Every rule below was checked against captures made on the test bed
//! (`tests/captures/`, see its README) with the Debian builds of the tools:
//!
//! - **masscan** (1.3.2): SYNs carry no TCP options, window 1024, TTL 255, one fixed source
//!   port, and an IPv4 identification derived from the probe itself: the low 16 bits of
//!   `destination address XOR destination port XOR sequence number`. All 200 SYNs of the
//!   fixture satisfy that relation; a random IP ID does so once in 65 536.
//! - **zmap** (2.1.1): IPv4 identification always 54321, window 65535, TTL 255, no TCP options,
//!   a fresh source port per target. (Newer zmap releases add an MSS option, so the options
//!   may be absent or MSS-only.)
//! - **nmap** (7.93) raw scans: window 1024 (nmap also uses 2048/3072/4096), a TTL chosen at
//!   random between 37 and 59, a random IP ID, one source port per scan (retries use that
//!   port plus 2). SYN probes carry exactly one option, MSS 1460; FIN/NULL/Xmas/ACK/Window/
//!   Maimon probes carry none. nmap -sT goes through the kernel and looks like any Linux client
//!   (MSS, SACK, timestamps, window scale; window 64240), so it gets no tool.
//!
//! Rules are tried most specific first: masscan's IP ID relation, then zmap's constant ID,
//! then nmap's window/option shape (which masscan's stealth-less SYNs do not have: no MSS).

use std::net::IpAddr;

use crate::alert::Tool;
use crate::summary::{PacketSummary, TcpOptions, TcpSummary, Transport};

/// zmap's constant IPv4 identification.
pub const ZMAP_IP_ID: u16 = 54321;

/// The tool whose fingerprint this TCP probe matches, if any.
pub fn tool_of(pkt: &PacketSummary) -> Option<Tool> {
    let Transport::Tcp(tcp) = &pkt.transport else { return None };
    if is_masscan(pkt, tcp) {
        return Some(Tool::Masscan);
    }
    if pkt.ip_id == Some(ZMAP_IP_ID) && tcp.window == 65535 && only_mss_or_none(&tcp.options) {
        return Some(Tool::Zmap);
    }
    if is_nmap(tcp) {
        return Some(Tool::Nmap);
    }
    None
}

/// masscan: the IP ID is `(dst ^ dport ^ seq) & 0xffff`, with no options.
fn is_masscan(pkt: &PacketSummary, tcp: &TcpSummary) -> bool {
    let (IpAddr::V4(dst), Some(ip_id)) = (pkt.dst, pkt.ip_id) else { return false };
    let expected = (u32::from(dst) ^ u32::from(tcp.dport) ^ tcp.seq) & 0xffff;
    tcp.options.is_empty() && u32::from(ip_id) == expected
}

fn only_mss_or_none(options: &TcpOptions) -> bool {
    options.is_empty() || options.kinds() == [TcpOptions::MSS]
}

/// nmap raw probes: a window of 1024..=4096 in 1024 steps; SYNs with MSS 1460 only, other
/// probes without options.
fn is_nmap(tcp: &TcpSummary) -> bool {
    let window_ok = matches!(tcp.window, 1024 | 2048 | 3072 | 4096);
    let is_syn = tcp.flags.classic() == crate::summary::TcpFlags::SYN;
    let options_ok = if is_syn {
        tcp.options.kinds() == [TcpOptions::MSS] && tcp.options.mss == Some(1460)
    } else {
        tcp.options.is_empty()
    };
    window_ok && options_ok && tcp.payload_len == 0
}

/// Whether a SYN looks like it came from an operating system's `connect()` (timestamps,
/// SACK-permitted or window scaling offered, and a window above 4096) rather than from a
/// packet crafter.
pub fn is_stack_syn(tcp: &TcpSummary) -> bool {
    let rich = tcp.options.has(TcpOptions::TIMESTAMPS)
        || tcp.options.has(TcpOptions::SACK_PERMITTED)
        || tcp.options.has(TcpOptions::WSCALE);
    rich && tcp.window > 4096
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::TcpFlags;
    use crate::time::Timestamp;

    fn syn(dst: [u8; 4], ip_id: u16, window: u16, seq: u32, options: TcpOptions) -> PacketSummary {
        PacketSummary {
            ts: Timestamp::EPOCH,
            src: IpAddr::from([198, 18, 0, 1]),
            dst: IpAddr::from(dst),
            ttl: 255,
            ip_id: Some(ip_id),
            df: false,
            transport: Transport::Tcp(TcpSummary {
                sport: 41493,
                dport: 137,
                flags: TcpFlags(TcpFlags::SYN),
                window,
                seq,
                ack: 0,
                options,
                payload_len: 0,
            }),
        }
    }

    #[test]
    fn masscan_ip_id_relation_from_the_fixture() {
        // First SYN of tests/captures/masscan.pcap: id 54190, 198.18.0.2:137, seq 1888473893.
        let p = syn([198, 18, 0, 2], 54190, 1024, 1_888_473_893, TcpOptions::default());
        assert_eq!(tool_of(&p), Some(Tool::Masscan));
        let p = syn([198, 18, 0, 2], 54191, 1024, 1_888_473_893, TcpOptions::default());
        assert_eq!(tool_of(&p), None);
    }

    #[test]
    fn zmap_constant_id() {
        let p = syn([198, 18, 0, 30], ZMAP_IP_ID, 65535, 665_023_142, TcpOptions::default());
        assert_eq!(tool_of(&p), Some(Tool::Zmap));
    }
}
