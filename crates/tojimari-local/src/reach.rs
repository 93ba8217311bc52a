//! Who can reach a bound address: the network, only the local link, or only this machine.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How far a socket bound to an address can be reached from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reach {
    /// Loopback (127.0.0.0/8, `::1`): only programs on this machine.
    Local,
    /// A link-local address (169.254.0.0/16, fe80::/10): hosts on the same link.
    LinkLocal,
    /// A wildcard (`0.0.0.0`, `::`: every interface) or any other address: the network.
    Network,
}

impl Reach {
    /// Classifies a bound address. An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) counts as its IPv4 form.
    pub fn of(addr: IpAddr) -> Reach {
        match addr {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(addr: Ipv4Addr) -> Reach {
        if addr.is_loopback() {
            Reach::Local
        } else if addr.is_link_local() {
            Reach::LinkLocal
        } else {
            Reach::Network
        }
    }

    fn of_v6(addr: Ipv6Addr) -> Reach {
        if addr.is_loopback() {
            Reach::Local
        } else if addr.is_unicast_link_local() {
            Reach::LinkLocal
        } else {
            Reach::Network
        }
    }

    /// Whether another machine can connect (the network or the local link).
    pub fn is_remote(self) -> bool {
        self != Reach::Local
    }

    /// `network`, `link-local` or `local`: the REACH column and the JSON `reach` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Local => "local",
            Reach::LinkLocal => "link-local",
            Reach::Network => "network",
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short phrase for what binding `addr` means, for evidence lines: `all IPv4 addresses`, `all IPv6
/// addresses`, or the address itself.
pub fn describe_bind(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) if v4.is_unspecified() => "0.0.0.0 (every IPv4 address)".to_owned(),
        IpAddr::V6(v6) if v6.is_unspecified() => ":: (every IPv6 address)".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(text: &str) -> Reach {
        Reach::of(text.parse().unwrap())
    }

    #[test]
    fn classification() {
        assert_eq!(reach("0.0.0.0"), Reach::Network);
        assert_eq!(reach("::"), Reach::Network);
        assert_eq!(reach("198.18.0.2"), Reach::Network);
        assert_eq!(reach("2001:db8:18::2"), Reach::Network);
        assert_eq!(reach("127.0.0.1"), Reach::Local);
        assert_eq!(reach("127.0.0.53"), Reach::Local);
        assert_eq!(reach("127.255.255.254"), Reach::Local);
        assert_eq!(reach("::1"), Reach::Local);
        assert_eq!(reach("::ffff:127.0.0.1"), Reach::Local);
        assert_eq!(reach("::ffff:198.18.0.2"), Reach::Network);
        assert_eq!(reach("169.254.1.1"), Reach::LinkLocal);
        assert_eq!(reach("fe80::1"), Reach::LinkLocal);
        assert_eq!(reach("febf::1"), Reach::LinkLocal);
        assert_eq!(reach("fec0::1"), Reach::Network);
        assert_eq!(reach("128.0.0.1"), Reach::Network);
    }

    #[test]
    fn remote_means_not_loopback() {
        assert!(Reach::Network.is_remote());
        assert!(Reach::LinkLocal.is_remote());
        assert!(!Reach::Local.is_remote());
        assert_eq!(Reach::LinkLocal.to_string(), "link-local");
    }

    #[test]
    fn bind_descriptions() {
        assert_eq!(describe_bind("0.0.0.0".parse().unwrap()), "0.0.0.0 (every IPv4 address)");
        assert_eq!(describe_bind("::".parse().unwrap()), ":: (every IPv6 address)");
        assert_eq!(describe_bind("198.18.0.2".parse().unwrap()), "198.18.0.2");
    }
}
