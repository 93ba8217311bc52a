//! What to scan: nmap's target specification syntax, exclusions, and lazy iteration over addresses.
//!
//! A target is one of
//! - an IPv4 or IPv6 address: `198.18.0.1`, `2001:db8::1`, `[2001:db8::1]`;
//! - a CIDR block, network and broadcast addresses included: `198.18.0.0/24`, `2001:db8::/120`. An address
//!   inside the block means the whole block (`198.18.0.77/24` is `198.18.0.0/24`);
//! - an IPv4 octet range, each octet a comma list of `N`, `N-M`, `-M`, `N-` or `*`: `198.18.0,2.1-20`;
//! - a host name, optionally with a prefix (`scanme.example/24`), which the CLI resolves and then turns into
//!   an address or block with [`TargetSpec::with_resolved`].
//!
//! Nothing here does I/O: the CLI resolves names and reads `-iL` files, and hands over strings.
//! Nothing is materialised either: [`TargetSpec::addrs`] and [`TargetIter`] compute one address at a time,
//! so an IPv6 `/64` is as cheap to hold as one address.

mod addrs;
mod error;
mod exclude;
mod iter;
mod octets;
mod parse;
mod reserved;

use std::fmt;
use std::net::IpAddr;

pub use addrs::TargetAddrs;
pub use error::TargetError;
pub use exclude::Exclusions;
pub use iter::TargetIter;
pub use octets::OctetRange;
pub use parse::{parse_exclude_list, parse_target, tokens_from_list, tokens_of_line};
pub use reserved::{RESERVED, ReservedBlock, ReservedOverlap, WhenNamed};

/// One parsed target. See the module docs for the syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetSpec {
    /// A single address.
    Addr(IpAddr),
    /// A CIDR block, stored truncated to its network address; all its addresses are targets.
    Network(ipnet::IpNet),
    /// An IPv4 octet range with more than one address.
    Octets(OctetRange),
    /// A host name the caller must resolve, with the prefix written after it, if any. The prefix is at most
    /// 128; whether it fits the resolved address's family is checked by [`TargetSpec::with_resolved`].
    Hostname { name: String, prefix: Option<u8> },
}

impl TargetSpec {
    /// Number of addresses (a host name counts 1 before resolution). `::/0` has 2^128 addresses, one more
    /// than a `u128` holds, and reports `u128::MAX`.
    pub fn len(&self) -> u128 {
        match self {
            TargetSpec::Addr(_) | TargetSpec::Hostname { .. } => 1,
            TargetSpec::Network(net) => {
                let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
                1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
            }
            TargetSpec::Octets(range) => range.len().into(),
        }
    }

    /// Always false: every spec names at least one address (or one name).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Lazy iterator over the addresses, in ascending order. A host name yields nothing: resolve it first,
    /// then use [`TargetSpec::with_resolved`].
    pub fn addrs(&self) -> TargetAddrs {
        match self {
            TargetSpec::Addr(addr) => TargetAddrs::block(*addr, *addr),
            TargetSpec::Network(net) => TargetAddrs::block(net.network(), net.broadcast()),
            TargetSpec::Octets(range) => TargetAddrs::octets(range.clone()),
            TargetSpec::Hostname { .. } => TargetAddrs::empty(),
        }
    }

    /// The `index`-th address of [`TargetSpec::addrs`], computed directly (for shuffled scan orders).
    pub fn get(&self, index: u128) -> Option<IpAddr> {
        self.addrs().peek_at(index)
    }

    /// For a host name resolved to `addr`: `Addr(addr)`, or `Network(addr/prefix)` if a prefix was given.
    ///
    /// Errors with [`TargetError::PrefixTooLong`] if the prefix does not fit `addr`'s family (`name/64`
    /// resolved to IPv4), and with [`TargetError::NotAHostname`] if this spec is not a host name.
    pub fn with_resolved(&self, addr: IpAddr) -> Result<TargetSpec, TargetError> {
        let TargetSpec::Hostname { prefix, .. } = self else {
            return Err(TargetError::NotAHostname { target: self.to_string() });
        };
        let Some(len) = *prefix else {
            return Ok(TargetSpec::Addr(addr));
        };
        let (family, max) = parse::family_limit(addr);
        parse::block(addr, len)
            .map(TargetSpec::Network)
            .ok_or_else(|| parse::too_long(&self.to_string(), &len.to_string(), family, max))
    }
}

impl fmt::Display for TargetSpec {
    /// The target in nmap syntax, in canonical form: parsing the output gives an equal spec.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Addr(addr) => write!(f, "{addr}"),
            TargetSpec::Network(net) => write!(f, "{net}"),
            TargetSpec::Octets(range) => write!(f, "{range}"),
            TargetSpec::Hostname { name, prefix: None } => f.write_str(name),
            TargetSpec::Hostname { name, prefix: Some(len) } => write!(f, "{name}/{len}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::{Duration, Instant};

    use super::*;

    fn spec(s: &str) -> TargetSpec {
        parse_target(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn strings(spec: &TargetSpec) -> Vec<String> {
        spec.addrs().map(|a| a.to_string()).collect()
    }

    #[test]
    fn len_of_each_form() {
        assert_eq!(spec("198.18.0.1").len(), 1);
        assert_eq!(spec("2001:db8::1").len(), 1);
        assert_eq!(spec("198.18.0.0/24").len(), 256);
        assert_eq!(spec("198.18.0.1/32").len(), 1);
        assert_eq!(spec("0.0.0.0/0").len(), 1 << 32);
        assert_eq!(spec("2001:db8::/120").len(), 256);
        assert_eq!(spec("2001:db8::/64").len(), 1 << 64);
        assert_eq!(spec("::/1").len(), 1 << 127);
        assert_eq!(spec("::/0").len(), u128::MAX);
        assert_eq!(spec("198.18.0,2.1-20").len(), 40);
        assert_eq!(spec("scanme.example/24").len(), 1);
        assert!(!spec("198.18.0.1").is_empty());
    }

    #[test]
    fn addresses_of_each_form() {
        assert_eq!(strings(&spec("198.18.0.1")), ["198.18.0.1"]);
        assert_eq!(strings(&spec("[2001:db8::1]")), ["2001:db8::1"]);
        assert_eq!(strings(&spec("198.18.0.5/30")), ["198.18.0.4", "198.18.0.5", "198.18.0.6", "198.18.0.7"]);
        assert_eq!(strings(&spec("2001:db8::/127")), ["2001:db8::", "2001:db8::1"]);
        assert_eq!(strings(&spec("198.18.1,0.7-8")), ["198.18.0.7", "198.18.0.8", "198.18.1.7", "198.18.1.8"]);
        assert!(strings(&spec("scanme.example")).is_empty());
        let block = spec("198.18.0.0/24");
        assert_eq!(block.addrs().count(), 256);
        assert_eq!(block.addrs().last(), Some(ip("198.18.0.255")));
    }

    #[test]
    fn huge_blocks_are_lazy() {
        let start = Instant::now();
        let eight = spec("10.0.0.0/8");
        assert_eq!(eight.len(), 1 << 24);
        let first: Vec<String> = eight.addrs().take(3).map(|a| a.to_string()).collect();
        assert_eq!(first, ["10.0.0.0", "10.0.0.1", "10.0.0.2"]);
        assert_eq!(eight.addrs().nth((1 << 24) - 1), Some(ip("10.255.255.255")));
        let octets = spec("10.*.*.*");
        assert_eq!(octets.len(), 1 << 24);
        assert_eq!(octets.addrs().nth(256), Some(ip("10.0.1.0")));
        let v6 = spec("2001:db8::/64");
        let first: Vec<IpAddr> = v6.addrs().take(2).collect();
        assert_eq!(first, [ip("2001:db8::"), ip("2001:db8::1")]);
        assert_eq!(v6.get((1 << 64) - 1), Some(ip("2001:db8::ffff:ffff:ffff:ffff")));
        assert_eq!(v6.get(1 << 64), None);
        let all = spec("::/0");
        assert_eq!(all.get(u128::MAX), Some(IpAddr::V6(Ipv6Addr::from(u128::MAX))));
        assert!(start.elapsed() < Duration::from_millis(500), "took {:?}", start.elapsed());
    }

    #[test]
    fn get_matches_iteration() {
        for s in ["198.18.0.9", "198.18.0.0/29", "198.18.0,2.1-3", "2001:db8::/125"] {
            let spec = spec(s);
            let walked: Vec<IpAddr> = spec.addrs().collect();
            let direct: Vec<IpAddr> = (0..spec.len()).map(|i| spec.get(i).unwrap()).collect();
            assert_eq!(walked, direct, "{s}");
            assert_eq!(spec.get(spec.len()), None, "{s}");
        }
        assert_eq!(spec("scanme.example").get(0), None);
    }

    #[test]
    fn with_resolved_turns_a_name_into_addresses() {
        let v4 = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 77));
        assert_eq!(spec("scanme.example").with_resolved(v4), Ok(TargetSpec::Addr(v4)));
        assert_eq!(spec("scanme.example/24").with_resolved(v4), Ok(spec("198.18.0.0/24")));
        assert_eq!(spec("scanme.example/120").with_resolved(ip("2001:db8::1234")), Ok(spec("2001:db8::1200/120")));
        assert_eq!(
            spec("scanme.example/64").with_resolved(v4),
            Err(TargetError::PrefixTooLong {
                target: "scanme.example/64".into(),
                prefix: "64".into(),
                family: "IPv4",
                max: 32
            })
        );
        assert_eq!(
            spec("198.18.0.1").with_resolved(v4),
            Err(TargetError::NotAHostname { target: "198.18.0.1".into() })
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "198.18.0.1",
            "2001:db8::1",
            "198.18.0.0/24",
            "2001:db8::/120",
            "198.18.0,2.1-20",
            "198.18.*.1",
            "scanme.example",
            "scanme.example/24",
        ] {
            assert_eq!(spec(s).to_string(), s);
            assert_eq!(spec(&spec(s).to_string()), spec(s));
        }
        assert_eq!(spec("198.18.0.77/24").to_string(), "198.18.0.0/24");
        assert_eq!(spec("[2001:db8::1]").to_string(), "2001:db8::1");
    }
}
