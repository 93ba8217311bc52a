//! The scanner's own addresses: loopback and every address assigned to an interface of this network
//! namespace.
//!
//! A target that is one of them needs no discovery probe: as nmap does, it is up with the reason
//! `localhost-response` (unless `-Pn` made every host up by the user's word). Probes to it go through the
//! loopback device, never out of an interface, so whatever the routing cache of a neighbouring address
//! says does not apply to it.

use std::collections::HashSet;
use std::net::IpAddr;

/// The set of this host's own addresses, read once per run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnAddrs {
    addrs: HashSet<IpAddr>,
}

impl OwnAddrs {
    /// The addresses of every interface of this network namespace. If they cannot be read (netlink
    /// refused), only loopback is known as own: discovery then probes the others as it would any host.
    pub fn of_this_host() -> OwnAddrs {
        let addrs = tojimari_net::interfaces().map(|ifs| ifs.into_iter().flat_map(|i| i.addrs).collect::<Vec<_>>());
        OwnAddrs::from_addrs(addrs.unwrap_or_default())
    }

    /// A set holding `addrs` (and, always, loopback).
    pub fn from_addrs(addrs: impl IntoIterator<Item = IpAddr>) -> OwnAddrs {
        OwnAddrs { addrs: addrs.into_iter().map(|a| a.to_canonical()).collect() }
    }

    /// Whether `addr` is this host: in 127/8, `::1`, or assigned to one of its interfaces.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        addr.is_loopback() || self.addrs.contains(&addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_always_own() {
        let own = OwnAddrs::default();
        assert!(own.contains("127.0.0.1".parse().unwrap()));
        assert!(own.contains("127.3.2.1".parse().unwrap()));
        assert!(own.contains("::1".parse().unwrap()));
        assert!(own.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!own.contains("198.18.0.1".parse().unwrap()));
    }

    #[test]
    fn interface_addresses_are_own_and_their_neighbours_are_not() {
        let own = OwnAddrs::from_addrs(["198.18.0.1".parse().unwrap(), "2001:db8:18::1".parse().unwrap()]);
        assert!(own.contains("198.18.0.1".parse().unwrap()));
        assert!(own.contains("::ffff:198.18.0.1".parse().unwrap()));
        assert!(own.contains("2001:db8:18::1".parse().unwrap()));
        assert!(!own.contains("198.18.0.2".parse().unwrap()));
        assert!(!own.contains("2001:db8:18::2".parse().unwrap()));
    }

    #[test]
    fn this_host_knows_its_loopback() {
        // Reading interfaces needs no privilege; whatever they are, loopback is own.
        assert!(OwnAddrs::of_this_host().contains("127.0.0.1".parse().unwrap()));
    }
}
