//! This host's own addresses, so the detector counts only probes *to* them and never reports
//! the host's own outgoing connections.
//!
//! Read over rtnetlink ([`tojimari_net::interfaces`]) in the calling thread's network
//! namespace; if netlink fails, from `/proc/net/if_inet6` (IPv6) and `/proc/net/fib_trie`
//! (IPv4 `/32 host LOCAL` entries). Read once at start: addresses added later are not
//! watched until `watch` restarts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tojimari_scandetect::{LocalAddrs, LocalNet};

use crate::error::WatchError;

/// Every address of every interface of this namespace, IPv4 and IPv6, loopback included.
pub fn host_addrs() -> Result<Vec<IpAddr>, WatchError> {
    match tojimari_net::interfaces() {
        Ok(interfaces) => Ok(dedup(interfaces.into_iter().flat_map(|i| i.addrs).collect())),
        Err(netlink) => {
            let v6 = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
            let v4 = std::fs::read_to_string("/proc/net/fib_trie")
                .map_err(|e| WatchError::LocalAddrs(format!("netlink: {netlink}; /proc/net/fib_trie: {e}")))?;
            let mut all: Vec<IpAddr> = parse_fib_trie(&v4).into_iter().map(IpAddr::V4).collect();
            all.extend(parse_if_inet6(&v6).into_iter().map(IpAddr::V6));
            Ok(dedup(all))
        }
    }
}

/// The detector's view of "this host": its addresses plus `extra` networks (a subnet the host
/// routes or mirrors, or an AnyIP range), as host routes.
pub fn local_addrs(extra: &[LocalNet]) -> Result<(Vec<IpAddr>, LocalAddrs), WatchError> {
    let addrs = host_addrs()?;
    let mut nets: Vec<LocalNet> = addrs.iter().copied().map(LocalNet::host).collect();
    nets.extend_from_slice(extra);
    Ok((addrs, LocalAddrs::Nets(nets)))
}

fn dedup(mut addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut seen = Vec::with_capacity(addrs.len());
    addrs.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    addrs
}

/// Addresses from `/proc/net/if_inet6`: one line per address, the address as 32 hex digits
/// first. Lines that do not parse are skipped.
pub fn parse_if_inet6(text: &str) -> Vec<Ipv6Addr> {
    text.lines()
        .filter_map(|line| {
            let hex = line.split_whitespace().next()?;
            if hex.len() != 32 {
                return None;
            }
            u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
        })
        .collect()
}

/// The host's IPv4 addresses from `/proc/net/fib_trie`: each `|-- A.B.C.D` leaf followed by a
/// `/32 host LOCAL` line is one. Unparsable lines are skipped.
pub fn parse_fib_trie(text: &str) -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut leaf: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            leaf = addr.trim().parse().ok();
        } else if line.starts_with("/32 host LOCAL")
            && let Some(addr) = leaf
            && !out.contains(&addr)
        {
            out.push(addr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_inet6_lines() {
        let text = "00000000000000000000000000000001 01 80 10 80       lo\n\
                    20010db8001800000000000000000002 02 40 00 80     eth0\n\
                    garbage\n";
        assert_eq!(parse_if_inet6(text), vec![Ipv6Addr::LOCALHOST, "2001:db8:18::2".parse::<Ipv6Addr>().unwrap()]);
    }

    #[test]
    fn fib_trie_local_hosts() {
        let text = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 198.18.0.0\n        /24 link UNICAST\n\
                    Local:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.0\n        /8 host LOCAL\n\
                    |-- 127.0.0.1\n        /32 host LOCAL\n     |-- 198.18.0.2\n        /32 host LOCAL\n\
                    |-- 198.18.0.255\n        /32 link BROADCAST\n     |-- 198.18.0.2\n        /32 host LOCAL\n";
        assert_eq!(parse_fib_trie(text), vec![Ipv4Addr::LOCALHOST, Ipv4Addr::new(198, 18, 0, 2)]);
    }

    #[test]
    fn dedup_keeps_first_order() {
        let a: IpAddr = "198.18.0.2".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        assert_eq!(dedup(vec![a, b, a]), vec![a, b]);
    }
}
