//! Which targets the page may scan: the allow-list `serve` is started with, enforced on the
//! server before any check runs.
//!
//! The list is written like nmap targets without host names: addresses, CIDR blocks and IPv4
//! octet ranges (the one target syntax of [`tojimari_core::target`]), separated by commas or
//! spaces, plus the keyword `local`: this machine's addresses, the networks its interfaces are
//! directly connected to, and always loopback (127.0.0.0/8 and ::1). The default is `local`
//! ([`DEFAULT_ALLOW`]). Host names are refused in the list: what a name means can change after
//! start.
//!
//! An IPv4-mapped IPv6 address (`::ffff:198.18.0.1`) is judged as the IPv4 address it stands
//! for, so the mapped form cannot slip past an IPv4 list.
//!
//! - [`AllowList::parse`] builds a list from text and an explicit interface list (pure);
//!   [`AllowList::from_system`] reads this machine's interfaces for `local`.
//! - [`AllowList::contains`] / [`AllowList::check_all`] judge addresses;
//!   [`AllowList::admit`] judges what a user typed in the target field (see [`targets`]).

pub mod targets;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tojimari_core::target::{TargetError, TargetSpec, parse_target};
use tojimari_net::Interface;

pub use targets::{
    CheckedTargets, DEFAULT_MAX_ADDRESSES, Refusal, ResolveFailure, expand_for_check, expand_for_check_with,
};

/// The allow-list when none is given: this machine and its directly connected networks.
pub const DEFAULT_ALLOW: &str = "local";

/// IPv4 loopback, 127.0.0.0/8 (checked at compile time).
const LOOPBACK_V4: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8);

/// IPv6 loopback, ::1.
const LOOPBACK_V6: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128);

/// The keyword for this machine's addresses and directly connected networks.
pub const LOCAL: &str = "local";

/// Why an allow-list given at start is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AllowListError {
    /// The list has no entries.
    #[error("the allow-list is empty; give addresses, CIDR blocks or `local`")]
    Empty,
    /// An entry is not an address, block or range.
    #[error("in the allow-list: {0}")]
    Invalid(#[from] TargetError),
    /// An entry is a host name.
    #[error("in the allow-list: {name:?} is a host name; give addresses or CIDR blocks (what a name means can change)")]
    Hostname {
        /// The name as given.
        name: String,
    },
    /// `local` was given and this machine's interfaces could not be read.
    #[error("cannot list this machine's interfaces for `local`: {0}")]
    Interfaces(String),
}

/// The targets the page may scan. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<TargetSpec>,
    local: bool,
}

impl AllowList {
    /// Parses `text` (entries separated by commas or whitespace), expanding `local` from
    /// `interfaces`. Pure: the interface list is passed in.
    pub fn parse(text: &str, interfaces: &[Interface]) -> Result<AllowList, AllowListError> {
        let mut entries = Vec::new();
        let mut local = false;
        for item in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
            if item.eq_ignore_ascii_case(LOCAL) {
                local = true;
                continue;
            }
            match parse_target(item)? {
                TargetSpec::Hostname { name, .. } => return Err(AllowListError::Hostname { name }),
                spec => entries.push(spec),
            }
        }
        if local {
            entries.extend(local_networks(interfaces).into_iter().map(TargetSpec::Network));
        }
        if entries.is_empty() {
            return Err(AllowListError::Empty);
        }
        Ok(AllowList { entries: simplify(entries), local })
    }

    /// Parses `text`, expanding `local` from this machine's interfaces (netlink), read only
    /// when `local` is in the list.
    pub fn from_system(text: &str) -> Result<AllowList, AllowListError> {
        let wants_local = text.split(|c: char| c == ',' || c.is_whitespace()).any(|t| t.eq_ignore_ascii_case(LOCAL));
        let interfaces = if wants_local {
            tojimari_net::interfaces().map_err(|e| AllowListError::Interfaces(e.to_string()))?
        } else {
            Vec::new()
        };
        AllowList::parse(text, &interfaces)
    }

    /// The list's entries (with `local` expanded), in a canonical order: addresses and blocks
    /// merged where they touch, then the octet ranges.
    pub fn entries(&self) -> &[TargetSpec] {
        &self.entries
    }

    /// Whether `local` was part of the list.
    pub fn has_local(&self) -> bool {
        self.local
    }

    /// Whether `addr` may be scanned.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.entries.iter().any(|entry| entry_contains(entry, addr))
    }

    /// `Ok` if every address may be scanned, else the first that may not.
    pub fn check_all(&self, addrs: &[IpAddr]) -> Result<(), Refusal> {
        match addrs.iter().find(|addr| !self.contains(**addr)) {
            Some(addr) => Err(Refusal::Outside { addr: *addr, target: addr.to_string() }),
            None => Ok(()),
        }
    }
}

impl fmt::Display for AllowList {
    /// The entries in canonical target syntax, separated by `, `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

/// What `local` means for `interfaces`: loopback (127.0.0.0/8, ::1) always, every address of
/// every interface, and the network of each address on an interface that is up.
pub fn local_networks(interfaces: &[Interface]) -> Vec<IpNet> {
    let mut nets = vec![IpNet::V4(LOOPBACK_V4), IpNet::V6(LOOPBACK_V6)];
    for interface in interfaces {
        for (addr, len) in interface.addrs.iter().zip(&interface.prefix_lens) {
            let addr = addr.to_canonical();
            nets.push(IpNet::from(addr));
            if interface.up
                && let Ok(net) = IpNet::new(addr, *len)
            {
                nets.push(net.trunc());
            }
        }
    }
    IpNet::aggregate(&nets)
}

/// Addresses and blocks merged (`IpNet::aggregate`), octet ranges after them as given.
fn simplify(entries: Vec<TargetSpec>) -> Vec<TargetSpec> {
    let mut nets = Vec::new();
    let mut ranges = Vec::new();
    for entry in entries {
        match entry {
            TargetSpec::Addr(addr) => nets.push(IpNet::from(addr.to_canonical())),
            TargetSpec::Network(net) => nets.push(net),
            other => {
                if !ranges.contains(&other) {
                    ranges.push(other);
                }
            }
        }
    }
    let merged = IpNet::aggregate(&nets).into_iter().map(|net| match net {
        IpNet::V4(v4) if v4.prefix_len() == 32 => TargetSpec::Addr(IpAddr::V4(v4.addr())),
        IpNet::V6(v6) if v6.prefix_len() == 128 => TargetSpec::Addr(IpAddr::V6(v6.addr())),
        net => TargetSpec::Network(net),
    });
    merged.chain(ranges).collect()
}

/// Whether one allow-list entry holds `addr` (already canonical).
fn entry_contains(entry: &TargetSpec, addr: IpAddr) -> bool {
    match (entry, addr) {
        (TargetSpec::Addr(allowed), _) => *allowed == addr,
        (TargetSpec::Network(net), _) => net.contains(&addr),
        (TargetSpec::Octets(range), IpAddr::V4(v4)) => range.contains(v4),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn interface(name: &str, up: bool, loopback: bool, addrs: &[(&str, u8)]) -> Interface {
        Interface {
            index: 1,
            name: name.to_owned(),
            mac: [0; 6],
            mtu: 1500,
            loopback,
            addrs: addrs.iter().map(|(a, _)| ip(a)).collect(),
            prefix_lens: addrs.iter().map(|(_, l)| *l).collect(),
            up,
            link_type: 1,
        }
    }

    fn machine() -> Vec<Interface> {
        vec![
            interface("lo", true, true, &[("127.0.0.1", 8), ("::1", 128)]),
            interface("eth0", true, false, &[("198.18.0.1", 24), ("2001:db8:18::1", 64), ("fe80::1", 64)]),
            interface("eth1", false, false, &[("198.18.7.1", 24)]),
        ]
    }

    #[test]
    fn local_is_loopback_own_addresses_and_connected_networks() {
        let list = AllowList::parse("local", &machine()).unwrap();
        assert!(list.has_local());
        for inside in [
            "127.0.0.1",
            "127.255.0.9",
            "::1",
            "198.18.0.1",
            "198.18.0.200",
            "2001:db8:18::77",
            "fe80::9",
            "198.18.7.1",
        ] {
            assert!(list.contains(ip(inside)), "{inside} should be local");
        }
        // eth1 is down: its own address is this machine, its network is not connected.
        for outside in ["198.18.7.2", "198.18.1.1", "2001:db8:19::1", "8.8.8.8", "10.0.0.1", "0.0.0.0", "::", "::2"] {
            assert!(!list.contains(ip(outside)), "{outside} should not be local");
        }
        assert_eq!(list.to_string(), "127.0.0.0/8, 198.18.0.0/24, 198.18.7.1, ::1, 2001:db8:18::/64, fe80::/64");
    }

    #[test]
    fn loopback_is_always_local() {
        let list = AllowList::parse("local", &[]).unwrap();
        assert!(list.contains(ip("127.0.0.1")));
        assert!(list.contains(ip("::1")));
        assert!(!list.contains(ip("198.18.0.1")));
        assert_eq!(list.to_string(), "127.0.0.0/8, ::1");
    }

    #[test]
    fn addresses_blocks_and_ranges_in_any_separators() {
        let list = AllowList::parse(" 198.18.0.0/24,2001:db8::5 198.19.0.1-20,\t[2001:db8:1::]/120 ,", &[]).unwrap();
        assert!(!list.has_local());
        for inside in ["198.18.0.0", "198.18.0.255", "2001:db8::5", "198.19.0.1", "198.19.0.20", "2001:db8:1::ff"] {
            assert!(list.contains(ip(inside)), "{inside}");
        }
        for outside in ["198.18.1.0", "2001:db8::6", "198.19.0.21", "198.19.1.1", "2001:db8:1::100", "127.0.0.1"] {
            assert!(!list.contains(ip(outside)), "{outside}");
        }
        // An address inside a block means the block, as for targets.
        let list = AllowList::parse("198.18.0.77/30", &[]).unwrap();
        assert_eq!(list.to_string(), "198.18.0.76/30");
    }

    #[test]
    fn entries_are_merged() {
        let list = AllowList::parse("198.18.0.0/25 198.18.0.128/25 198.18.0.5 local", &[]).unwrap();
        assert_eq!(list.to_string(), "127.0.0.0/8, 198.18.0.0/24, ::1");
    }

    #[test]
    fn mapped_ipv4_is_judged_as_ipv4() {
        let list = AllowList::parse("198.18.0.0/24", &[]).unwrap();
        assert!(list.contains(ip("::ffff:198.18.0.9")));
        assert!(!list.contains(ip("::ffff:10.0.0.1")));
        let list = AllowList::parse("::ffff:198.18.0.9", &[]).unwrap();
        assert!(list.contains(ip("198.18.0.9")));
    }

    #[test]
    fn bad_lists_are_refused() {
        assert_eq!(AllowList::parse("", &machine()), Err(AllowListError::Empty));
        assert_eq!(AllowList::parse(" , ", &machine()), Err(AllowListError::Empty));
        assert_eq!(
            AllowList::parse("198.18.0.0/24 scanme.example", &[]),
            Err(AllowListError::Hostname { name: "scanme.example".to_owned() })
        );
        for bad in ["198.18.0.0/33", "1.2.3", "999.1.1.1", "2001:db8::zz", "198.18.0.1-2/24"] {
            assert!(matches!(AllowList::parse(bad, &[]), Err(AllowListError::Invalid(_))), "{bad} accepted");
        }
        assert!(AllowList::parse("0.0.0.0/0", &[]).unwrap().contains(ip("203.0.113.1")), "a wide list is allowed");
    }

    #[test]
    fn check_all_names_the_first_address_outside() {
        let list = AllowList::parse("198.18.0.0/24", &[]).unwrap();
        assert_eq!(list.check_all(&[]), Ok(()));
        assert_eq!(list.check_all(&[ip("198.18.0.1"), ip("198.18.0.2")]), Ok(()));
        let refused = list.check_all(&[ip("198.18.0.1"), ip("198.18.1.1"), ip("10.0.0.1")]);
        assert_eq!(refused, Err(Refusal::Outside { addr: ip("198.18.1.1"), target: "198.18.1.1".to_owned() }));
    }

    #[test]
    fn the_real_local_holds_loopback_and_this_machines_addresses() {
        let list = AllowList::from_system(DEFAULT_ALLOW).unwrap();
        assert!(list.contains(ip("127.0.0.1")));
        assert!(list.contains(ip("::1")));
        for interface in tojimari_net::interfaces().unwrap() {
            for addr in &interface.addrs {
                assert!(list.contains(*addr), "{addr} of {} is not local", interface.name);
            }
        }
        // Without `local` no interface is read and the list is exactly what was given.
        assert_eq!(AllowList::from_system("198.18.0.0/24").unwrap().to_string(), "198.18.0.0/24");
    }
}
