//! Transport protocols a port belongs to.

use std::fmt;

/// The transport protocol of a port. Ports are numbered separately per protocol: 53/tcp and 53/udp are
/// different doors.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
    /// SCTP (RFC 9260): `-sY`, `-sZ`.
    Sctp,
    /// IP protocol numbers (0-255) as "ports": `-sO`.
    Ip,
}

impl Protocol {
    /// Every protocol, in nmap's order.
    pub const ALL: [Protocol; 4] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp, Protocol::Ip];

    /// The lower-case name nmap uses everywhere (`tcp`, `udp`, `sctp`, `ip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            Protocol::Ip => "ip",
        }
    }

    /// Whether its "ports" are IP protocol numbers (`-sO`), printed without a `/proto` suffix.
    pub fn is_ip(self) -> bool {
        self == Protocol::Ip
    }
}

/// Parses nmap's lower-case name, the inverse of [`Protocol::as_str`].
impl std::str::FromStr for Protocol {
    type Err = crate::state::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|proto| proto.as_str() == s)
            .ok_or_else(|| crate::state::UnknownName(s.to_string()))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
