//! Reserved, multicast and broadcast ranges: left out of a scan that merely contains them, scanned when named.
//!
//! A sweep of `0.0.0.0/0` should not send to multicast groups, the limited broadcast address or the
//! "this network" block; a user who types `224.0.0.1` or `239.0.0.0/8` means it. So each target spec is
//! checked against [`RESERVED`]: a block the spec contains without lying inside it is taken out of that spec
//! ([`ReservedOverlap::removed`]); a spec that lies entirely inside a block names it
//! ([`ReservedOverlap::named`]) and is scanned, with a warning when the block says so ([`WhenNamed`]).
//!
//! The blocks are facts from IANA's registries (docs/manners.md lists them with their sources): the IPv4 and
//! IPv6 Special-Purpose Address Registries (RFC 6890) and the IPv4/IPv6 Multicast Address Space Registries.
//! Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) and the benchmarking and documentation ranges
//! (198.18.0.0/15, 2001:db8::/32) are ordinary targets and not listed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::TargetSpec;

/// What naming a reserved block explicitly does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenNamed {
    /// Scanned, with a warning: packets to it rarely mean what a scan means (multicast, broadcast).
    Warn,
    /// Scanned as any other target (loopback, IPv4-mapped): naming it is ordinary.
    Allow,
}

/// One reserved block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReservedBlock {
    /// The block, as its network address and prefix length.
    pub net: IpNet,
    /// Its name in IANA's registry, as messages show it.
    pub name: &'static str,
    /// What naming it does.
    pub when_named: WhenNamed,
}

impl fmt::Display for ReservedBlock {
    /// `224.0.0.0/4 (multicast)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.net, self.name)
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len))
}

const fn v6(addr: u128, len: u8) -> IpNet {
    IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::from_bits(addr), len))
}

/// The blocks a scan leaves out unless named, in address order per family. Disjoint.
pub const RESERVED: &[ReservedBlock] = &[
    ReservedBlock { net: v4(0, 0, 0, 0, 8), name: "\"this network\", RFC 791", when_named: WhenNamed::Warn },
    ReservedBlock { net: v4(127, 0, 0, 0, 8), name: "loopback, RFC 1122", when_named: WhenNamed::Allow },
    ReservedBlock { net: v4(224, 0, 0, 0, 4), name: "multicast, RFC 5771", when_named: WhenNamed::Warn },
    ReservedBlock {
        net: v4(240, 0, 0, 0, 4),
        name: "reserved and limited broadcast, RFC 1112 and RFC 919",
        when_named: WhenNamed::Warn,
    },
    ReservedBlock { net: v6(0, 128), name: "unspecified address, RFC 4291", when_named: WhenNamed::Warn },
    ReservedBlock { net: v6(1, 128), name: "loopback, RFC 4291", when_named: WhenNamed::Allow },
    ReservedBlock { net: v6(0xffff_0000_0000, 96), name: "IPv4-mapped, RFC 4291", when_named: WhenNamed::Allow },
    ReservedBlock { net: v6(0xff << 120, 8), name: "multicast, RFC 4291", when_named: WhenNamed::Warn },
];

/// How one target spec meets the reserved blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReservedOverlap {
    /// The block the spec lies entirely inside: it named the block, and is scanned.
    pub named: Option<ReservedBlock>,
    /// The blocks the spec reaches into without lying inside them, with how many of the spec's addresses each
    /// holds: to be left out of the scan.
    pub removed: Vec<(ReservedBlock, u128)>,
}

impl ReservedOverlap {
    /// Checks `spec` (resolved: a host name meets nothing) against [`RESERVED`].
    pub fn of(spec: &TargetSpec) -> ReservedOverlap {
        let mut out = ReservedOverlap::default();
        let total = spec.len();
        for block in RESERVED {
            let inside = overlap(spec, &block.net);
            if inside == 0 {
                continue;
            }
            if inside == total {
                out.named = Some(*block);
            } else {
                out.removed.push((*block, inside));
            }
        }
        out
    }
}

/// How many of `spec`'s addresses lie in `net`.
fn overlap(spec: &TargetSpec, net: &IpNet) -> u128 {
    match spec {
        TargetSpec::Addr(addr) => u128::from(net.contains(addr)),
        TargetSpec::Network(own) => {
            if net.contains(own) {
                spec.len()
            } else if own.contains(net) {
                TargetSpec::Network(*net).len()
            } else {
                0
            }
        }
        TargetSpec::Octets(range) => {
            let (IpAddr::V4(first), IpAddr::V4(last)) = (net.network(), net.broadcast()) else {
                return 0;
            };
            // A CIDR block is, octet by octet, one interval per octet and their product; so is an octet
            // range's intersection with it.
            let (first, last) = (first.octets(), last.octets());
            range
                .octets()
                .iter()
                .enumerate()
                .map(|(i, set)| {
                    set.iter()
                        .map(|&(lo, hi)| {
                            let (lo, hi) = (lo.max(first[i]), hi.min(last[i]));
                            if lo <= hi { u128::from(hi - lo) + 1 } else { 0 }
                        })
                        .sum::<u128>()
                })
                .product()
        }
        TargetSpec::Hostname { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_target;
    use super::*;

    fn check(s: &str) -> ReservedOverlap {
        ReservedOverlap::of(&parse_target(s).unwrap())
    }

    fn removed(s: &str) -> Vec<(String, u128)> {
        check(s).removed.iter().map(|(b, n)| (b.net.to_string(), *n)).collect()
    }

    #[test]
    fn the_blocks_are_what_iana_lists() {
        let nets: Vec<String> = RESERVED.iter().map(|b| b.net.to_string()).collect();
        assert_eq!(
            nets,
            [
                "0.0.0.0/8",
                "127.0.0.0/8",
                "224.0.0.0/4",
                "240.0.0.0/4",
                "::/128",
                "::1/128",
                "::ffff:0.0.0.0/96",
                "ff00::/8"
            ]
        );
        for (i, a) in RESERVED.iter().enumerate() {
            for b in &RESERVED[i + 1..] {
                assert!(!a.net.contains(&b.net) && !b.net.contains(&a.net), "{a} and {b} overlap");
            }
        }
    }

    #[test]
    fn the_whole_space_loses_every_block() {
        assert_eq!(
            removed("0.0.0.0/0"),
            [
                ("0.0.0.0/8".to_string(), 1 << 24),
                ("127.0.0.0/8".to_string(), 1 << 24),
                ("224.0.0.0/4".to_string(), 1 << 28),
                ("240.0.0.0/4".to_string(), 1 << 28)
            ]
        );
        assert_eq!(check("0.0.0.0/0").named, None);
        assert_eq!(
            removed("224.0.0.0/3"),
            [("224.0.0.0/4".to_string(), 1 << 28), ("240.0.0.0/4".to_string(), 1 << 28)]
        );
        let v6: Vec<String> = removed("::/0").into_iter().map(|(n, _)| n).collect();
        assert_eq!(v6, ["::/128", "::1/128", "::ffff:0.0.0.0/96", "ff00::/8"]);
        assert_eq!(removed("::/64")[2], ("::ffff:0.0.0.0/96".to_string(), 1 << 32));
    }

    #[test]
    fn a_spec_inside_a_block_names_it() {
        for (s, net) in [
            ("224.0.0.1", "224.0.0.0/4"),
            ("239.0.0.0/8", "224.0.0.0/4"),
            ("255.255.255.255", "240.0.0.0/4"),
            ("240.0.0.0/4", "240.0.0.0/4"),
            ("0.0.0.0", "0.0.0.0/8"),
            ("127.0.0.1", "127.0.0.0/8"),
            ("127.0.0.0/8", "127.0.0.0/8"),
            ("ff02::1", "ff00::/8"),
            ("::", "::/128"),
            ("::ffff:198.18.0.1", "::ffff:0.0.0.0/96"),
            ("224-239.0.0.1", "224.0.0.0/4"),
        ] {
            let c = check(s);
            assert_eq!(c.named.map(|b| b.net.to_string()).as_deref(), Some(net), "{s}");
            assert!(c.removed.is_empty(), "{s}");
        }
        assert_eq!(check("224.0.0.1").named.map(|b| b.when_named), Some(WhenNamed::Warn));
        assert_eq!(check("127.0.0.1").named.map(|b| b.when_named), Some(WhenNamed::Allow));
    }

    #[test]
    fn ordinary_targets_meet_nothing() {
        for s in ["198.18.0.0/15", "10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "fc00::/7", "198.18.0.1", "scanme"]
        {
            assert_eq!(check(s), ReservedOverlap::default(), "{s}");
        }
    }

    #[test]
    fn octet_ranges_count_what_they_hold_of_a_block() {
        // 223 and 224: half of the first octet in multicast; 2 x 1 x 1 x 3 addresses, 3 of them multicast.
        assert_eq!(removed("223-224.0.0.1-3"), [("224.0.0.0/4".to_string(), 3)]);
        assert_eq!(removed("126-128.*.*.1"), [("127.0.0.0/8".to_string(), 1 << 16)]);
        assert_eq!(removed("*.*.*.*"), removed("0.0.0.0/0"));
        assert!(removed("198.18.*.*").is_empty());
    }
}
