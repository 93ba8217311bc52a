//! What a persona is: a plain value of behaviours (no code), read by the protocol handlers.
//!
//! A [`Persona`] says who the stack claims to be ([`Truth`], what OS detection is compared with) and
//! how it answers: TTL, DF, IP ID and ISN policies, the timestamp clock, the SYN/ACK's window and option
//! layout, the ECN answer, the rule for each odd TCP packet, how ICMP errors quote, and how echoes are
//! answered. The catalogue of named personas is in [`super::catalog`].

use std::time::Duration;

/// The ground truth of a persona: what a correct OS guess names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    /// The persona's name in the bed, e.g. `windows-10`.
    pub name: &'static str,
    /// OS family as nmap's `osfamily` would say it, e.g. `Windows`, `Linux`, `IOS`.
    pub family: &'static str,
    /// Generation (`osgen`), e.g. `10`, `2.6.X`; empty when there is none.
    pub generation: &'static str,
    /// Vendor, e.g. `Microsoft`.
    pub vendor: &'static str,
    /// Device type as nmap's `type`, e.g. `general purpose`, `router`, `printer`, `specialized`.
    pub device_type: &'static str,
    /// A CPE name (2.2 URI form) for the OS or device, e.g. `cpe:/o:microsoft:windows_10`.
    pub cpe: &'static str,
}

/// How an IP ID is chosen for one kind of answer. All kinds of one persona draw from shared counters, so
/// `Incremental` for TCP and ICMP means one global sequence (the idle-scan zombie's behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpIdPolicy {
    /// Always zero.
    Zero,
    /// The global counter, +1 per packet.
    Incremental,
    /// The global counter, +2 per packet.
    IncrementalBy2,
    /// The global counter, +1 per packet, written byte-swapped (an observer sees steps of 256).
    ByteSwapped,
    /// One counter per destination address, +1 per packet.
    PerDestination,
    /// A fresh random value per packet.
    Random,
    /// Always this value.
    Constant(u16),
}

/// IP ID policies per answer kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpIdPolicies {
    /// SYN/ACKs and other answers from an open port (UDP echoes too).
    pub tcp: IpIdPolicy,
    /// Resets for closed ports (and resets from open ports).
    pub rst: IpIdPolicy,
    /// Echo replies and ICMP errors.
    pub icmp: IpIdPolicy,
}

impl IpIdPolicies {
    /// The same policy for every kind.
    pub const fn all(policy: IpIdPolicy) -> IpIdPolicies {
        IpIdPolicies { tcp: policy, rst: policy, icmp: policy }
    }
}

/// How initial sequence numbers are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsnPolicy {
    /// Uniformly random per connection.
    Random,
    /// A random base plus `per_second` for each second since the stack started.
    TimeBased {
        /// Increase per second.
        per_second: u32,
    },
    /// Always this value.
    Constant(u32),
    /// +64000 per connection (old BSD style).
    Steps64K,
    /// +`step` per connection.
    Incremental {
        /// The increase per connection.
        step: u32,
    },
}

/// The TCP timestamp clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampClock {
    /// Never sends the timestamp option.
    None,
    /// Sends the option with a zero value.
    Zero,
    /// Ticks at `hz` and read `uptime` (seconds * hz) when the responder started: the uptime an observer
    /// computes is `uptime` plus the responder's running time.
    Uptime {
        /// Ticks per second.
        hz: u32,
        /// The uptime the stack claims at start.
        uptime: Duration,
    },
    /// Ticks at `hz` from a random offset per connection (four-tuple), so no uptime can be read.
    PerConnection {
        /// Ticks per second.
        hz: u32,
    },
}

/// One item of a TCP option layout, in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOpt {
    /// Maximum segment size with this value.
    Mss(u16),
    /// No-operation (padding).
    Nop,
    /// End of option list.
    Eol,
    /// Window scale with this shift (left out, with the NOPs just before it, when the SYN did not offer
    /// window scaling).
    WindowScale(u8),
    /// SACK-permitted (left out when the SYN did not offer it).
    SackPermitted,
    /// Timestamps from the persona's clock, echoing the SYN's value (left out when the SYN had none or
    /// the clock is [`TimestampClock::None`]).
    Timestamps,
}

/// The SYN/ACK to a SYN on an open port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynAckRule {
    /// The window.
    pub window: u16,
    /// The options, in order, as when the SYN offered everything.
    pub options: Vec<TcpOpt>,
}

/// The answer to a SYN with ECE and CWR (an ECN-setup SYN, RFC 3168) on an open port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcnRule {
    /// Whether it is answered at all.
    pub respond: bool,
    /// Whether the SYN/ACK sets ECE (ECN accepted).
    pub echo_ece: bool,
    /// Whether the SYN/ACK also sets CWR (a non-conforming echo some stacks show).
    pub also_cwr: bool,
    /// A window other than the SYN/ACK's, if any.
    pub window: Option<u16>,
    /// An option layout other than the SYN/ACK's, if any.
    pub options: Option<&'static [TcpOpt]>,
}

/// How the sequence number of an odd-packet answer is chosen (relative to the probe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqChoice {
    /// Zero.
    Zero,
    /// The probe's acknowledgment number.
    TheirAck,
    /// The probe's acknowledgment number + 1.
    TheirAckPlus1,
    /// A fresh ISN (for SYN/ACK answers).
    Isn,
    /// As RFC 9293 3.10.7.1 for a reset: their ack if the probe had ACK, else zero.
    Rfc,
}

/// How the acknowledgment number of an odd-packet answer is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckChoice {
    /// Zero.
    Zero,
    /// The probe's sequence number.
    TheirSeq,
    /// The probe's sequence number + 1.
    TheirSeqPlus1,
    /// As RFC 9293: the probe's sequence number plus its length (SYN and FIN count one).
    Rfc,
}

/// Which flags an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagChoice {
    /// As RFC 9293 for a reset: RST alone if the probe had ACK, else RST+ACK.
    RfcReset,
    /// These flags exactly ([`tojimari_wire::tcp::flags`]).
    Fixed(u8),
}

/// Which options an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOptions {
    /// None.
    None,
    /// The SYN/ACK's layout ([`SynAckRule::options`]).
    SynAck,
    /// This layout (same rules: what the probe did not offer is left out).
    Layout(&'static [TcpOpt]),
}

/// The answer to one kind of odd TCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRule {
    /// Whether it is answered at all.
    pub respond: bool,
    /// Flags of the answer.
    pub flags: FlagChoice,
    /// Its sequence number.
    pub seq: SeqChoice,
    /// Its acknowledgment number.
    pub ack: AckChoice,
    /// Its window.
    pub window: u16,
    /// Its options.
    pub options: RuleOptions,
    /// DF, if other than the persona's.
    pub df: Option<bool>,
}

impl TcpRule {
    /// No answer.
    pub const SILENT: TcpRule = TcpRule {
        respond: false,
        flags: FlagChoice::RfcReset,
        seq: SeqChoice::Rfc,
        ack: AckChoice::Rfc,
        window: 0,
        options: RuleOptions::None,
        df: None,
    };

    /// A reset as RFC 9293 has it, window 0.
    pub const RESET: TcpRule = TcpRule { respond: true, ..TcpRule::SILENT };

    /// A reset as RFC 9293 has it, with this window.
    pub const fn reset_with_window(window: u16) -> TcpRule {
        TcpRule { window, ..TcpRule::RESET }
    }

    /// A SYN/ACK with a fresh ISN, ack = their seq + 1, the persona's options, and `window`.
    pub const fn syn_ack(window: u16) -> TcpRule {
        TcpRule {
            respond: true,
            flags: FlagChoice::Fixed(tojimari_wire::tcp::flags::SYN | tojimari_wire::tcp::flags::ACK),
            seq: SeqChoice::Isn,
            ack: AckChoice::TheirSeqPlus1,
            window,
            options: RuleOptions::SynAck,
            df: None,
        }
    }
}

/// The rules for the odd packets, named after what they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OddRules {
    /// No SYN, ACK or RST (NULL, FIN, Xmas) to an open port.
    pub no_flags_open: TcpRule,
    /// SYN with FIN (SYN+FIN+URG+PSH) to an open port.
    pub syn_fin_open: TcpRule,
    /// A segment with ACK (and no SYN, or SYN+ACK) to an open port, outside a connection.
    pub ack_open: TcpRule,
    /// A SYN to a closed port.
    pub syn_closed: TcpRule,
    /// A segment with ACK to a closed port.
    pub ack_closed: TcpRule,
    /// No SYN, ACK or RST (FIN+PSH+URG, NULL, FIN) to a closed port.
    pub no_flags_closed: TcpRule,
}

impl OddRules {
    /// What RFC 9293 says: silence for no-flag segments to an open port, resets everywhere else.
    pub const RFC: OddRules = OddRules {
        no_flags_open: TcpRule::SILENT,
        syn_fin_open: TcpRule::RESET,
        ack_open: TcpRule::RESET,
        syn_closed: TcpRule::RESET,
        ack_closed: TcpRule::RESET,
        no_flags_closed: TcpRule::RESET,
    };
}

/// How a field of the quoted IP header comes back in an ICMP error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotedField {
    /// As it was received.
    Keep,
    /// Zeroed.
    Zero,
    /// Byte-swapped.
    Swapped,
}

/// How an ICMP error (port or protocol unreachable) is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpErrorRule {
    /// Whether errors are sent at all (a silent stack makes closed UDP ports look open|filtered).
    pub respond: bool,
    /// How many bytes of the offending datagram's payload are quoted after its IP header; `None` = as
    /// much as fits in `max_total`.
    pub quote_data: Option<usize>,
    /// The largest error datagram (IP header included), e.g. 576 (RFC 1812).
    pub max_total: usize,
    /// The quoted IP total length.
    pub quoted_len: QuotedField,
    /// The quoted IP ID.
    pub quoted_id: QuotedField,
    /// The quoted IP checksum ([`QuotedField::Keep`] keeps the received one even if other fields were
    /// mangled; `Zero` zeroes it).
    pub quoted_ip_checksum: QuotedField,
    /// The quoted UDP checksum (only `Keep` and `Zero` differ).
    pub quoted_udp_checksum: QuotedField,
    /// The "unused" word after the ICMP checksum (zero per RFC 792).
    pub unused: u32,
    /// DF of the error.
    pub df: bool,
    /// TTL of the error, if other than the persona's.
    pub ttl: Option<u8>,
    /// TOS of the error.
    pub tos: u8,
}

impl IcmpErrorRule {
    /// RFC 792's minimum: the IP header and 8 bytes, faithful, DF clear.
    pub const RFC792: IcmpErrorRule = IcmpErrorRule {
        respond: true,
        quote_data: Some(8),
        max_total: 576,
        quoted_len: QuotedField::Keep,
        quoted_id: QuotedField::Keep,
        quoted_ip_checksum: QuotedField::Keep,
        quoted_udp_checksum: QuotedField::Keep,
        unused: 0,
        df: false,
        ttl: None,
        tos: 0,
    };

    /// As much as fits in 576 bytes (RFC 1812 4.3.2.3), faithful, DF clear.
    pub const RFC1812: IcmpErrorRule = IcmpErrorRule { quote_data: None, ..IcmpErrorRule::RFC792 };
}

/// DF of an echo reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DfEcho {
    /// As in the request.
    Copy,
    /// Always set.
    Set,
    /// Always clear.
    Clear,
}

/// How echo requests are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoRule {
    /// Whether they are answered.
    pub respond: bool,
    /// DF of the reply.
    pub df: DfEcho,
    /// Whether the reply keeps the request's code (RFC 792 says code 0).
    pub copy_code: bool,
    /// Whether the reply keeps the request's TOS (otherwise zero).
    pub copy_tos: bool,
    /// TTL of the reply, if other than the persona's.
    pub ttl: Option<u8>,
}

impl EchoRule {
    /// Reply with code 0, TOS 0, DF clear.
    pub const PLAIN: EchoRule =
        EchoRule { respond: true, df: DfEcho::Clear, copy_code: false, copy_tos: false, ttl: None };
}

/// A stack persona: who it claims to be and how it answers. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// The ground truth.
    pub truth: Truth,
    /// Initial IPv4 TTL of its TCP answers.
    pub ttl: u8,
    /// IPv6 hop limit.
    pub hop_limit: u8,
    /// DF on TCP answers.
    pub df: bool,
    /// IP ID policies.
    pub ip_id: IpIdPolicies,
    /// ISN policy.
    pub isn: IsnPolicy,
    /// Timestamp clock.
    pub timestamps: TimestampClock,
    /// The SYN/ACK.
    pub syn_ack: SynAckRule,
    /// The answer to an ECN-setup SYN.
    pub ecn: EcnRule,
    /// The odd packets.
    pub odd: OddRules,
    /// ICMP errors (closed UDP port, unknown protocol).
    pub icmp_error: IcmpErrorRule,
    /// Echo replies.
    pub echo: EchoRule,
    /// Whether an unknown IP protocol earns a protocol unreachable.
    pub protocol_unreachable: bool,
    /// Open TCP ports (everything else is closed).
    pub open_tcp: Vec<u16>,
    /// Open UDP ports: datagrams are echoed.
    pub open_udp: Vec<u16>,
}

impl Persona {
    /// Whether `port` is an open TCP port.
    pub fn tcp_open(&self, port: u16) -> bool {
        self.open_tcp.contains(&port)
    }

    /// Whether `port` is an open UDP port.
    pub fn udp_open(&self, port: u16) -> bool {
        self.open_udp.contains(&port)
    }

    /// The uptime an observer should compute from the timestamps after the responder has run for
    /// `running`, when the clock allows one.
    pub fn expected_uptime(&self, running: Duration) -> Option<Duration> {
        match self.timestamps {
            TimestampClock::Uptime { uptime, .. } => Some(uptime + running),
            _ => None,
        }
    }
}
