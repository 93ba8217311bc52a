//! Port states and the reasons behind them, with nmap's names.
//!
//! A timeout, an RST or an ICMP unreachable is not an error: it is data. Every port result is a
//! [`PortState`] plus the [`Reason`] that decided it, exactly as `nmap --reason` shows them.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

/// The six port states nmap defines.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum PortState {
    /// An application accepts connections or packets on this port.
    Open,
    /// The port is reachable but nothing listens on it.
    Closed,
    /// Something (usually a firewall) prevents telling open from closed.
    Filtered,
    /// Reachable, but open and closed cannot be told apart (ACK scan).
    Unfiltered,
    /// Open or filtered: no answer where an open port would also stay silent.
    OpenFiltered,
    /// Closed or filtered (IP ID idle scan only).
    ClosedFiltered,
}

impl PortState {
    /// All states, in a stable order (used for counting and tables).
    pub const ALL: [PortState; 6] = [
        PortState::Open,
        PortState::Closed,
        PortState::Filtered,
        PortState::Unfiltered,
        PortState::OpenFiltered,
        PortState::ClosedFiltered,
    ];

    /// nmap's spelling: `open`, `closed`, `filtered`, `unfiltered`, `open|filtered`, `closed|filtered`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::Unfiltered => "unfiltered",
            PortState::OpenFiltered => "open|filtered",
            PortState::ClosedFiltered => "closed|filtered",
        }
    }

    /// Whether `--open` keeps ports in this state (nmap keeps every state that may be open).
    pub fn maybe_open(self) -> bool {
        matches!(self, PortState::Open | PortState::OpenFiltered)
    }

    /// A dense index into [`PortState::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A state or reason name that is not one of nmap's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName(pub String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

/// Parses nmap's spelling, the inverse of [`PortState::as_str`].
impl FromStr for PortState {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PortState::ALL.into_iter().find(|state| state.as_str() == s).ok_or_else(|| UnknownName(s.to_string()))
    }
}

impl fmt::Display for PortState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a port (or host) got its state, with nmap's `--reason` names.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Reason {
    /// A SYN/ACK came back (connect scan: the connection was established).
    SynAck,
    /// The connection was refused (a TCP RST to our SYN, seen through `connect(2)`).
    ConnRefused,
    /// A TCP RST came back (raw scans).
    Reset,
    /// Nothing came back after every retry.
    NoResponse,
    /// ICMP host unreachable, or the local stack found no way to the host.
    HostUnreach,
    /// ICMP network unreachable.
    NetUnreach,
    /// ICMP protocol unreachable.
    ProtoUnreach,
    /// ICMP port unreachable.
    PortUnreach,
    /// ICMP communication administratively prohibited (type 3 code 13).
    AdminProhibited,
    /// ICMP host administratively prohibited (type 3 code 10).
    HostProhibited,
    /// ICMP network administratively prohibited (type 3 code 9).
    NetProhibited,
    /// ICMP time exceeded in transit.
    TimeExceeded,
    /// An ICMP echo reply (host discovery).
    EchoReply,
    /// The user said the host is up (`-Pn`).
    UserSet,
    /// The target is this machine.
    LocalhostResponse,
    /// A UDP reply came back.
    UdpResponse,
    /// The host did not answer any discovery probe.
    NoHostResponse,
    /// The host answered an ARP request (host discovery on the local link).
    ArpResponse,
    /// The host answered an IPv6 neighbor solicitation (host discovery on the local link).
    NdResponse,
    /// The host answered an ICMP timestamp request.
    TimestampReply,
    /// The host answered an ICMP address mask request.
    MaskReply,
    /// The host name could not be resolved, or the host has no route.
    Unknown,
    /// Idle scan: the zombie's IP ID counter moved by the zombie's answers to the port's SYN/ACKs.
    IpIdChange,
    /// Idle scan: the zombie's IP ID counter did not move for this port.
    NoIpIdChange,
    /// An SCTP INIT-ACK came back (`-sY`).
    InitAck,
    /// An SCTP ABORT came back (`-sY`, `-sZ`).
    Abort,
    /// A packet of the probed protocol came back (`-sO`).
    ProtoResponse,
    /// An ICMPv6 parameter problem came back (`-sO -6`: code 1, an unrecognized next header, is IPv6's
    /// protocol unreachable).
    ParamProblem,
}

impl Reason {
    /// Every reason, in declaration order (so [`Reason::NoResponse`] comes before
    /// [`Reason::NoHostResponse`], which shares its name).
    pub const ALL: [Reason; 28] = [
        Reason::SynAck,
        Reason::ConnRefused,
        Reason::Reset,
        Reason::NoResponse,
        Reason::HostUnreach,
        Reason::NetUnreach,
        Reason::ProtoUnreach,
        Reason::PortUnreach,
        Reason::AdminProhibited,
        Reason::HostProhibited,
        Reason::NetProhibited,
        Reason::TimeExceeded,
        Reason::EchoReply,
        Reason::UserSet,
        Reason::LocalhostResponse,
        Reason::UdpResponse,
        Reason::NoHostResponse,
        Reason::ArpResponse,
        Reason::NdResponse,
        Reason::TimestampReply,
        Reason::MaskReply,
        Reason::Unknown,
        Reason::IpIdChange,
        Reason::NoIpIdChange,
        Reason::InitAck,
        Reason::Abort,
        Reason::ProtoResponse,
        Reason::ParamProblem,
    ];

    /// nmap's spelling, as in `--reason` output and the XML `reason` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::ConnRefused => "conn-refused",
            Reason::Reset => "reset",
            Reason::NoResponse => "no-response",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::ProtoUnreach => "proto-unreach",
            Reason::PortUnreach => "port-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::HostProhibited => "host-prohibited",
            Reason::NetProhibited => "net-prohibited",
            Reason::TimeExceeded => "time-exceeded",
            Reason::EchoReply => "echo-reply",
            Reason::UserSet => "user-set",
            Reason::LocalhostResponse => "localhost-response",
            Reason::UdpResponse => "udp-response",
            Reason::NoHostResponse => "no-response",
            Reason::ArpResponse => "arp-response",
            Reason::NdResponse => "nd-response",
            Reason::TimestampReply => "timestamp-reply",
            Reason::MaskReply => "addressmask-reply",
            Reason::Unknown => "unknown-response",
            Reason::IpIdChange => "ipid-change",
            Reason::NoIpIdChange => "no-ipid-change",
            Reason::InitAck => "init-ack",
            Reason::Abort => "abort",
            Reason::ProtoResponse => "proto-response",
            Reason::ParamProblem => "param-problem",
        }
    }

    /// The reason an ICMP destination-unreachable with this code gives (RFC 792, RFC 1812).
    pub fn from_icmp_unreach_code(code: u8) -> Reason {
        match code {
            0 | 6 | 11 => Reason::NetUnreach,
            1 | 7 | 12 => Reason::HostUnreach,
            2 => Reason::ProtoUnreach,
            3 => Reason::PortUnreach,
            9 => Reason::NetProhibited,
            10 => Reason::HostProhibited,
            13 => Reason::AdminProhibited,
            _ => Reason::HostUnreach,
        }
    }

    /// The reason an ICMPv6 destination-unreachable with this code gives (RFC 4443).
    pub fn from_icmpv6_unreach_code(code: u8) -> Reason {
        match code {
            0 => Reason::NetUnreach,
            1 | 5 | 6 => Reason::AdminProhibited,
            3 => Reason::HostUnreach,
            4 => Reason::PortUnreach,
            _ => Reason::HostUnreach,
        }
    }
}

/// Parses nmap's spelling, the inverse of [`Reason::as_str`]; `no-response` gives the port reason
/// [`Reason::NoResponse`] (a host's status maps it to [`Reason::NoHostResponse`] itself).
impl FromStr for Reason {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL.into_iter().find(|reason| reason.as_str() == s).ok_or_else(|| UnknownName(s.to_string()))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a TCP connection's two ends are one endpoint: the socket connected to itself.
///
/// A connect to one of this host's own addresses can pick the destination port as its source port; the
/// SYN then arrives at the sending socket and TCP's simultaneous open connects it to itself. That says
/// nothing listens on the port (a bound port is never handed out as a source port), so such a connection
/// is never an open port, and whoever reads from it only reads back what it wrote.
pub fn is_self_connection(local: SocketAddr, peer: SocketAddr) -> bool {
    local.ip().to_canonical() == peer.ip().to_canonical() && local.port() == peer.port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_to_itself_has_one_endpoint_at_both_ends() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(is_self_connection(at("127.0.0.1:40000"), at("127.0.0.1:40000")));
        assert!(is_self_connection(at("[::ffff:198.18.0.1]:40000"), at("198.18.0.1:40000")));
        assert!(is_self_connection(at("[::1]:40000"), at("[::1]:40000")));
        assert!(!is_self_connection(at("127.0.0.1:40000"), at("127.0.0.1:40001")));
        assert!(!is_self_connection(at("127.0.0.1:40000"), at("127.0.0.2:40000")));
    }

    #[test]
    fn nmap_state_names() {
        let names: Vec<_> = PortState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["open", "closed", "filtered", "unfiltered", "open|filtered", "closed|filtered"]);
        for (i, s) in PortState::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }

    #[test]
    fn names_parse_back() {
        for state in PortState::ALL {
            assert_eq!(state.as_str().parse::<PortState>(), Ok(state));
        }
        for reason in Reason::ALL {
            let back = reason.as_str().parse::<Reason>().unwrap();
            assert_eq!(back.as_str(), reason.as_str());
        }
        assert_eq!("no-response".parse::<Reason>(), Ok(Reason::NoResponse));
        assert!("Open".parse::<PortState>().is_err());
        assert!("tcp-response".parse::<Reason>().is_err());
    }

    #[test]
    fn icmp_codes_map_to_nmap_reasons() {
        assert_eq!(Reason::from_icmp_unreach_code(13), Reason::AdminProhibited);
        assert_eq!(Reason::from_icmp_unreach_code(1), Reason::HostUnreach);
        assert_eq!(Reason::from_icmp_unreach_code(3), Reason::PortUnreach);
        assert_eq!(Reason::from_icmpv6_unreach_code(1), Reason::AdminProhibited);
        assert_eq!(Reason::from_icmpv6_unreach_code(4), Reason::PortUnreach);
    }
}
