//! Transport protocols a port belongs to.

use std::fmt;

/// The transport protocol of a port. Ports are numbered separately per protocol: 53/tcp and 53/udp are
/// different doors.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// The lower-case name nmap uses everywhere (`tcp`, `udp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// Parses nmap's lower-case name, the inverse of [`Protocol::as_str`].
impl std::str::FromStr for Protocol {
    type Err = crate::state::UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Protocol::Tcp, Protocol::Udp]
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
