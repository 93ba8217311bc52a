//! The named personas, each written from public facts. The provenance of every fact is in the doc
//! comment of its function; the numbers in brackets are the sources of `docs/personas.md`, where the
//! same facts are tabled. A value marked *bed choice* has no public source we found: it is a plausible,
//! stable value the tests and the fingerprint database can rely on.
//!
//! Addresses by convention: personas take 198.18.0.200-198.18.0.253 (and 2001:db8:18::c8-::fd), the
//! top of the bed's /24, above router 1 of [`crate::routed`] (198.18.0.199).

use std::time::Duration;

use tojimari_wire::tcp::flags::{ACK, RST};

use super::model::{
    DfEcho, EchoRule, EcnRule, FlagChoice, IcmpErrorRule, IpIdPolicies, IpIdPolicy, IsnPolicy, OddRules, Persona,
    SynAckRule, TcpOpt, TcpRule, TimestampClock, Truth,
};

use TcpOpt::{Eol, Mss, Nop, SackPermitted, Timestamps, WindowScale};

/// Every persona of the catalogue, in a fixed order.
pub fn all() -> Vec<Persona> {
    vec![
        windows_10(),
        windows_server_2019(),
        macos(),
        freebsd_14(),
        openbsd_7(),
        linux_2_6(),
        cisco_ios(),
        lwip(),
        hp_jetdirect(),
    ]
}

/// The persona named `name` (its [`Truth::name`]).
pub fn by_name(name: &str) -> Option<Persona> {
    all().into_iter().find(|p| p.truth.name == name)
}

/// A reset with both RST and ACK whatever the probe had (Windows' and Cisco's answer to NULL, FIN and Xmas
/// probes on any port \[30\]).
const RESET_ACK: TcpRule = TcpRule { flags: FlagChoice::Fixed(RST | ACK), ..TcpRule::RESET };

/// Echo replies that keep the request's DF.
const ECHO_COPY_DF: EchoRule = EchoRule { df: DfEcho::Copy, ..EchoRule::PLAIN };

/// Windows 10/11.
///
/// - TTL 128: Microsoft's `DefaultTTL` documentation \[9\] and the TTL tables \[10\].
/// - SYN/ACK options MSS, NOP, window scale 8, NOP, NOP, SACK-permitted: the per-OS layouts in \[12\];
///   no timestamps (the timestamp bit of `Tcp1323Opts` \[11\] off, *bed choice* for 10/11).
/// - Window 64240: *bed choice*.
/// - NULL, FIN and Xmas probes to open ports earn a reset: nmap's port-scanning chapter \[30\] names Windows
///   among the stacks that reset them whatever the port.
/// - One incremental IP ID counter for everything, random ISNs \[4\], quoting up to 576 bytes: *bed choice*.
pub fn windows_10() -> Persona {
    Persona {
        truth: Truth {
            name: "windows-10",
            family: "Windows",
            generation: "10",
            vendor: "Microsoft",
            device_type: "general purpose",
            cpe: "cpe:/o:microsoft:windows_10",
        },
        ttl: 128,
        hop_limit: 128,
        df: true,
        ip_id: IpIdPolicies::all(IpIdPolicy::Incremental),
        isn: IsnPolicy::Random,
        timestamps: TimestampClock::None,
        syn_ack: SynAckRule { window: 64240, options: vec![Mss(1460), Nop, WindowScale(8), Nop, Nop, SackPermitted] },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules { no_flags_open: RESET_ACK, syn_fin_open: RESET_ACK, ..OddRules::RFC },
        icmp_error: IcmpErrorRule { df: true, ..IcmpErrorRule::RFC1812 },
        echo: ECHO_COPY_DF,
        protocol_unreachable: true,
        open_tcp: vec![135, 139, 445],
        open_udp: vec![],
    }
}

/// Windows Server 2019/2022.
///
/// - TTL 128 \[9\]\[10\]; window 65535, the `TcpWindowSize` default \[13\].
/// - Timestamps answered when offered: `Tcp1323Opts` = 3 \[11\]; the clock (10 Hz, 3 days of uptime at
///   start) is a *bed choice*; option order MSS, NOP, WS 8, SACK, TS is a *bed choice*.
/// - Resets to NULL/FIN/Xmas on open ports as \[30\] says of Windows.
pub fn windows_server_2019() -> Persona {
    Persona {
        truth: Truth {
            name: "windows-server-2019",
            family: "Windows",
            generation: "2019",
            vendor: "Microsoft",
            device_type: "general purpose",
            cpe: "cpe:/o:microsoft:windows_server_2019",
        },
        syn_ack: SynAckRule { window: 65535, options: vec![Mss(1460), Nop, WindowScale(8), SackPermitted, Timestamps] },
        timestamps: TimestampClock::Uptime { hz: 10, uptime: Duration::from_secs(3 * 86_400) },
        open_tcp: vec![80, 135, 139, 445, 3389],
        ..windows_10()
    }
}

/// macOS (14).
///
/// - TTL 64 \[10\]; window 65535 and options MSS, NOP, WS 6, NOP, NOP, TS, SACK, EOL \[14\].
/// - Random IP IDs: xnu's `ip_id.c` \[15\]. Random ISNs \[4\].
/// - ECN: the SYN/ACK to an ECN-setup SYN carries ECE (RFC 3168 \[28\]).
/// - Timestamps at 1000 Hz with 9 days of uptime at start, silence to NULL/FIN/Xmas on open ports
///   (RFC 9293 \[27\]), DF clear on echo replies: *bed choice*.
pub fn macos() -> Persona {
    Persona {
        truth: Truth {
            name: "macos",
            family: "macOS",
            generation: "14",
            vendor: "Apple",
            device_type: "general purpose",
            cpe: "cpe:/o:apple:mac_os_x:14",
        },
        ttl: 64,
        hop_limit: 64,
        df: true,
        ip_id: IpIdPolicies::all(IpIdPolicy::Random),
        isn: IsnPolicy::Random,
        timestamps: TimestampClock::Uptime { hz: 1000, uptime: Duration::from_secs(9 * 86_400) },
        syn_ack: SynAckRule {
            window: 65535,
            options: vec![Mss(1460), Nop, WindowScale(6), Nop, Nop, Timestamps, SackPermitted, Eol],
        },
        ecn: EcnRule { respond: true, echo_ece: true, also_cwr: false, window: None, options: None },
        odd: OddRules { syn_fin_open: TcpRule::syn_ack(65535), ..OddRules::RFC },
        icmp_error: IcmpErrorRule::RFC1812,
        echo: EchoRule::PLAIN,
        protocol_unreachable: true,
        open_tcp: vec![22, 5900],
        open_udp: vec![],
    }
}

/// FreeBSD 14.
///
/// - TTL 64 \[10\]; options MSS, NOP, WS 6, SACK, TS \[14\]; window 65535 *bed choice*.
/// - IP ID zero on DF datagrams (`net.inet.ip.rfc6864` \[16\]\[17\]), so TCP answers carry zero; sequential
///   otherwise (`net.inet.ip.random_id` = 0 \[18\]), so echo replies and errors count up.
/// - Timestamps with a random offset per connection \[14\] at 1000 Hz (the rate is a *bed choice*).
/// - ECN accepted \[28\]; SYN+FIN answered with a SYN/ACK: *bed choice*.
pub fn freebsd_14() -> Persona {
    Persona {
        truth: Truth {
            name: "freebsd-14",
            family: "FreeBSD",
            generation: "14",
            vendor: "FreeBSD",
            device_type: "general purpose",
            cpe: "cpe:/o:freebsd:freebsd:14",
        },
        ip_id: IpIdPolicies { tcp: IpIdPolicy::Zero, rst: IpIdPolicy::Zero, icmp: IpIdPolicy::Incremental },
        timestamps: TimestampClock::PerConnection { hz: 1000 },
        syn_ack: SynAckRule { window: 65535, options: vec![Mss(1460), Nop, WindowScale(6), SackPermitted, Timestamps] },
        open_tcp: vec![22],
        ..macos()
    }
}

/// OpenBSD 7.
///
/// - TTL 64 \[10\]; window 16384 and options MSS, NOP, NOP, SACK, NOP, WS, NOP, NOP, TS as the example in
///   `pf.os(5)` \[19\] (shift 6 a *bed choice*).
/// - Random IP IDs for everything: the shuffled generator of OpenBSD's `ip_id.c` \[20\]; random ISNs \[4\].
/// - Timestamps with a random offset per connection at 100 Hz, ECN not echoed, quoting 8 bytes: *bed
///   choice*.
pub fn openbsd_7() -> Persona {
    Persona {
        truth: Truth {
            name: "openbsd-7",
            family: "OpenBSD",
            generation: "7",
            vendor: "OpenBSD",
            device_type: "general purpose",
            cpe: "cpe:/o:openbsd:openbsd:7",
        },
        timestamps: TimestampClock::PerConnection { hz: 100 },
        syn_ack: SynAckRule {
            window: 16384,
            options: vec![Mss(1460), Nop, Nop, SackPermitted, Nop, WindowScale(6), Nop, Nop, Timestamps],
        },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules { syn_fin_open: TcpRule::syn_ack(16384), ..OddRules::RFC },
        icmp_error: IcmpErrorRule::RFC792,
        open_tcp: vec![22],
        ..macos()
    }
}

/// Linux 2.6 (an old kernel).
///
/// - TTL 64, DF, window 5840, options MSS, SACK, TS, NOP, WS 0: the Linux SYN in the SANS write-up \[21\]
///   (a SYN/ACK is laid out the same way).
/// - IP ID zero on its DF TCP answers, a counter per destination for ICMP, 1000 Hz timestamps with 40 days
///   of uptime, ECN off, TOS 0xc0 on ICMP errors: *bed choice*. Quotes up to 576 bytes (RFC 1122 \[7\]).
pub fn linux_2_6() -> Persona {
    Persona {
        truth: Truth {
            name: "linux-2.6",
            family: "Linux",
            generation: "2.6.X",
            vendor: "Linux",
            device_type: "general purpose",
            cpe: "cpe:/o:linux:linux_kernel:2.6",
        },
        ip_id: IpIdPolicies { tcp: IpIdPolicy::Zero, rst: IpIdPolicy::Zero, icmp: IpIdPolicy::PerDestination },
        timestamps: TimestampClock::Uptime { hz: 1000, uptime: Duration::from_secs(40 * 86_400) },
        syn_ack: SynAckRule { window: 5840, options: vec![Mss(1460), SackPermitted, Timestamps, Nop, WindowScale(0)] },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules { syn_fin_open: TcpRule::syn_ack(5840), ..OddRules::RFC },
        icmp_error: IcmpErrorRule { tos: 0xc0, ..IcmpErrorRule::RFC1812 },
        open_tcp: vec![22, 80],
        ..macos()
    }
}

/// Cisco IOS (15), a router.
///
/// - TTL 255 \[10\]\[22\]; no DF: *bed choice*.
/// - Only the MSS option: timestamps and SACK are off by default \[24\]; window 4128 a *bed choice* (the
///   12.x guides give 2144 \[23\]); MSS 536 for the off-net default.
/// - NULL, FIN and Xmas earn a reset on any port: \[30\] names many Cisco devices.
/// - One incremental IP ID counter, random ISNs \[4\], quoting 8 bytes (RFC 792 \[5\]): *bed choice*.
pub fn cisco_ios() -> Persona {
    Persona {
        truth: Truth {
            name: "cisco-ios",
            family: "IOS",
            generation: "15.X",
            vendor: "Cisco",
            device_type: "router",
            cpe: "cpe:/o:cisco:ios:15",
        },
        ttl: 255,
        hop_limit: 64,
        df: false,
        ip_id: IpIdPolicies::all(IpIdPolicy::Incremental),
        isn: IsnPolicy::Random,
        timestamps: TimestampClock::None,
        syn_ack: SynAckRule { window: 4128, options: vec![Mss(536)] },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules { no_flags_open: RESET_ACK, syn_fin_open: RESET_ACK, ..OddRules::RFC },
        icmp_error: IcmpErrorRule::RFC792,
        echo: EchoRule::PLAIN,
        protocol_unreachable: true,
        open_tcp: vec![22, 23],
        open_udp: vec![],
    }
}

/// An embedded device on lwIP 2.1 with the default options.
///
/// - TTL 255 (`TCP_TTL` = `IP_DEFAULT_TTL` \[25\], 255 in the lwIP library options \[26\]); no DF.
/// - Window 2144 = 4 x `TCP_MSS` and only the MSS option (536): window scaling, SACK and timestamps are
///   compiled out by default \[25\].
/// - One incremental IP ID counter; ISNs growing with time (250000/s); resets carrying the receive window;
///   NULL/FIN/Xmas and SYN+FIN answered with RST+ACK; echo replies keeping the request's code and DF;
///   quoting 8 bytes: *bed choice*.
pub fn lwip() -> Persona {
    Persona {
        truth: Truth {
            name: "lwip",
            family: "lwIP",
            generation: "2.1",
            vendor: "lwIP",
            device_type: "specialized",
            cpe: "cpe:/a:lwip_project:lwip:2.1",
        },
        ttl: 255,
        hop_limit: 255,
        df: false,
        ip_id: IpIdPolicies::all(IpIdPolicy::Incremental),
        isn: IsnPolicy::TimeBased { per_second: 250_000 },
        timestamps: TimestampClock::None,
        syn_ack: SynAckRule { window: 2144, options: vec![Mss(536)] },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules {
            no_flags_open: TcpRule { window: 2144, ..RESET_ACK },
            syn_fin_open: TcpRule { window: 2144, ..RESET_ACK },
            ack_open: TcpRule::reset_with_window(2144),
            syn_closed: TcpRule::reset_with_window(2144),
            ack_closed: TcpRule::reset_with_window(2144),
            no_flags_closed: TcpRule::reset_with_window(2144),
        },
        icmp_error: IcmpErrorRule::RFC792,
        echo: EchoRule { copy_code: true, ..ECHO_COPY_DF },
        protocol_unreachable: true,
        open_tcp: vec![80],
        open_udp: vec![],
    }
}

/// An HP JetDirect network printer.
///
/// - Open TCP 9100 (raw printing), 515 (LPD), 631 (IPP) and 80, and SNMP on UDP 161: the services of the
///   Jetdirect administrator's guide \[29\].
/// - Everything else is a *bed choice* of an old embedded stack: TTL 64, no DF, window 8760, only MSS
///   1460, no timestamps, ISNs in steps of 64000, one incremental IP ID counter, quoting 8 bytes, NULL/FIN/
///   Xmas answered with RST+ACK.
pub fn hp_jetdirect() -> Persona {
    Persona {
        truth: Truth {
            name: "hp-jetdirect",
            family: "JetDirect",
            generation: "",
            vendor: "HP",
            device_type: "printer",
            cpe: "cpe:/h:hp:jetdirect",
        },
        ttl: 64,
        hop_limit: 64,
        df: false,
        ip_id: IpIdPolicies::all(IpIdPolicy::Incremental),
        isn: IsnPolicy::Steps64K,
        timestamps: TimestampClock::None,
        syn_ack: SynAckRule { window: 8760, options: vec![Mss(1460)] },
        ecn: EcnRule { respond: true, echo_ece: false, also_cwr: false, window: None, options: None },
        odd: OddRules { no_flags_open: RESET_ACK, syn_fin_open: RESET_ACK, ..OddRules::RFC },
        icmp_error: IcmpErrorRule::RFC792,
        echo: EchoRule::PLAIN,
        protocol_unreachable: true,
        open_tcp: vec![80, 515, 631, 9100],
        open_udp: vec![161],
    }
}

/// An idle-scan zombie: not an OS persona (it is not in [`all`]), a quiet host whose one IP ID counter
/// counts every packet it sends and which resets unsolicited SYN/ACKs (RFC 9293), as the idle scan needs.
/// Built on [`hp_jetdirect`] (printers are the classic zombies); no open TCP port.
pub fn idle_zombie() -> Persona {
    Persona {
        truth: Truth { name: "idle-zombie", ..hp_jetdirect().truth },
        ip_id: IpIdPolicies::all(IpIdPolicy::Incremental),
        open_tcp: vec![],
        open_udp: vec![],
        ..hp_jetdirect()
    }
}

/// [`idle_zombie`] with another IP ID policy for everything it sends: the zombies of the idle-scan tests
/// (one global counter by 1 or by 2, byte-swapped: usable; random, per destination, zero: refused).
pub fn idle_zombie_with(policy: IpIdPolicy) -> Persona {
    Persona { ip_id: IpIdPolicies::all(policy), ..idle_zombie() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let all = all();
        assert!(all.len() >= 9);
        for persona in &all {
            assert_eq!(by_name(persona.truth.name).as_ref(), Some(persona));
            assert!(!persona.truth.family.is_empty() && !persona.truth.vendor.is_empty());
            assert!(!persona.open_tcp.is_empty(), "{} needs an open port for OS detection", persona.truth.name);
        }
        let mut names: Vec<_> = all.iter().map(|p| p.truth.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(by_name("no-such").is_none());
    }

    #[test]
    fn personas_differ_where_the_sources_say() {
        assert_eq!((windows_10().ttl, linux_2_6().ttl, cisco_ios().ttl, lwip().ttl), (128, 64, 255, 255));
        assert_eq!(openbsd_7().syn_ack.window, 16384);
        assert_eq!(lwip().syn_ack.options, vec![Mss(536)]);
        assert_ne!(windows_10().syn_ack, windows_server_2019().syn_ack);
        assert_eq!(windows_server_2019().truth.family, windows_10().truth.family);
    }
}
