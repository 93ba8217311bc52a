//! Routed hops: networks one, two (or more) routers away from the scanner, for tests of hop distance.
//!
//! [`TestBed::add_routed_hops`] adds, for each hop `k` (1-based):
//!
//! | piece | namespace | addresses |
//! |---|---|---|
//! | bridge `br{k}` | the bed's switch | - |
//! | router `k` | `{prefix}-r{k}`, forwarding on | `eth0` upstream: 198.18.0.199 and 2001:db8:18::c7 for `k` = 1, else 198.18.(k-1).254 and 2001:db8:18:(k-1)::fe; `eth1` downstream: 198.18.k.1/24, 2001:db8:18:k::1/64 |
//! | Linux host `k` | `{prefix}-h{k}` | `eth0` 198.18.k.2/24, 2001:db8:18:k::2/64 |
//!
//! Every network is inside 198.18.0.0/15 and 2001:db8::/32. The scanner gets a route to each hop network
//! via router 1; routers and hosts get routes to the other hop networks through their neighbours, never
//! a default route, and the root namespace is never touched. A persona can sit on any hop network
//! ([`TestBed::add_persona_behind`], addresses 198.18.k.200-198.18.k.253 and 2001:db8:18:k::c8-::fd),
//! so its answers reach the scanner with its TTL (hop limit) less `k`.
//!
//! Dropping the [`RoutedHops`] removes its namespaces, bridges and the scanner's routes.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

use crate::bed::{Target, TestBed, delete_namespaces};
use crate::error::{Error, Result};
use crate::netns::Netns;
use crate::persona::{Attachment, Persona, PersonaHost};

/// Router 1's address on the bed's own network (below the personas' 198.18.0.200-253).
pub const ROUTER1_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 199);
/// Router 1's IPv6 address on the bed's own network (2001:db8:18::c7, below the personas').
pub const ROUTER1_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 0xc7);
/// The most hops a bed routes.
pub const MAX_HOPS: usize = 8;

/// The network of hop `k` (1-based): 198.18.k.0/24.
pub fn hop_network(k: usize) -> Ipv4Net {
    let k = u8::try_from(k).unwrap_or(u8::MAX);
    Ipv4Net::new(Ipv4Addr::new(198, 18, k, 0), 24).expect("a /24")
}

/// Router `k`'s upstream address (on hop `k - 1`'s network, or the bed's for `k` = 1).
pub fn router_upstream(k: usize) -> Ipv4Addr {
    if k <= 1 { ROUTER1_V4 } else { Ipv4Addr::new(198, 18, octet(k - 1), 254) }
}

/// Router `k`'s downstream address, the gateway of hop `k`'s network: 198.18.k.1.
pub fn router_downstream(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, octet(k), 1)
}

/// Linux host `k`'s address: 198.18.k.2.
pub fn hop_host_v4(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, octet(k), 2)
}

/// The IPv6 network of hop `k`: 2001:db8:18:k::/64.
pub fn hop_network_v6(k: usize) -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0x18, u16::from(octet(k)), 0, 0, 0, 0), 64).expect("a /64")
}

/// Router `k`'s upstream IPv6 address.
pub fn router_upstream_v6(k: usize) -> Ipv6Addr {
    if k <= 1 { ROUTER1_V6 } else { Ipv6Addr::new(0x2001, 0xdb8, 0x18, u16::from(octet(k - 1)), 0, 0, 0, 0xfe) }
}

/// Router `k`'s downstream IPv6 address: 2001:db8:18:k::1.
pub fn router_downstream_v6(k: usize) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x18, u16::from(octet(k)), 0, 0, 0, 1)
}

/// Linux host `k`'s IPv6 address: 2001:db8:18:k::2.
pub fn hop_host_v6(k: usize) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x18, u16::from(octet(k)), 0, 0, 0, 2)
}

fn octet(k: usize) -> u8 {
    u8::try_from(k).unwrap_or(u8::MAX)
}

/// The routers and Linux hosts of [`TestBed::add_routed_hops`]; see the module documentation.
#[derive(Debug)]
pub struct RoutedHops {
    switch: String,
    scanner: String,
    routers: Vec<Netns>,
    hosts: Vec<Target>,
}

impl RoutedHops {
    /// How many hops there are.
    pub fn hops(&self) -> usize {
        self.routers.len()
    }

    /// Router `k` (1-based).
    ///
    /// # Panics
    /// If `k` is 0 or beyond [`hops`](RoutedHops::hops).
    pub fn router(&self, k: usize) -> &Netns {
        &self.routers[k - 1]
    }

    /// The hop distance, as nmap counts it, of anything on hop `k`'s network: `k + 1`.
    pub fn distance(k: usize) -> u8 {
        u8::try_from(k + 1).unwrap_or(u8::MAX)
    }

    /// The Linux host on hop `k`'s network (1-based), `k` routers from the scanner.
    ///
    /// # Panics
    /// If `k` is 0 or beyond [`hops`](RoutedHops::hops).
    pub fn host(&self, k: usize) -> &Target {
        &self.hosts[k - 1]
    }
}

impl Drop for RoutedHops {
    fn drop(&mut self) {
        let names: Vec<String> =
            self.routers.iter().chain(self.hosts.iter().map(|h| &h.ns)).map(|ns| ns.name().to_owned()).collect();
        let _ = delete_namespaces(&names);
        let switch = Netns::new(self.switch.clone());
        let scanner = Netns::new(self.scanner.clone());
        for k in 1..=self.routers.len() {
            if switch.exists() {
                let _ = switch.ip(&["link", "del", &format!("br{k}")]);
            }
            if scanner.exists() {
                let _ = scanner.ip(&["route", "del", &hop_network(k).to_string()]);
                let _ = scanner.ip(&["-6", "route", "del", &hop_network_v6(k).to_string()]);
            }
        }
    }
}

impl TestBed {
    /// Adds `hops` routed networks behind the scanner (1 ..= [`MAX_HOPS`]); see [`crate::routed`].
    pub fn add_routed_hops(&self, hops: usize) -> Result<RoutedHops> {
        if hops == 0 || hops > MAX_HOPS {
            return Err(Error::Invalid(format!("{hops} hops; a bed routes 1 to {MAX_HOPS}")));
        }
        if self.targets().iter().any(|t| t.v4 == ROUTER1_V4 || t.v6 == ROUTER1_V6) {
            return Err(Error::Invalid(format!("router 1's address {ROUTER1_V4} is a target's")));
        }
        let prefix = self.prefix().to_owned();
        let routers: Vec<Netns> = (1..=hops).map(|k| Netns::new(format!("{prefix}-r{k}"))).collect();
        let hosts: Vec<Target> = (1..=hops)
            .map(|k| Target { ns: Netns::new(format!("{prefix}-h{k}")), v4: hop_host_v4(k), v6: hop_host_v6(k) })
            .collect();
        // From here the value exists, so an error below removes what was made.
        let routed = RoutedHops {
            switch: self.switch().name().to_owned(),
            scanner: self.scanner().name().to_owned(),
            routers,
            hosts,
        };
        let script: String = routed
            .routers
            .iter()
            .chain(routed.hosts.iter().map(|h| &h.ns))
            .map(|ns| format!("netns add {}\n", ns.name()))
            .collect();
        let mut command = std::process::Command::new("ip");
        command.args(["-batch", "-"]);
        crate::netns::run_checked(&mut command, Some(&script))?;

        // Sysctls first: an interface takes its IPv6 settings from `default` when it appears.
        for k in 1..=hops {
            routed.router(k).sysctls(&[("net.ipv4.ip_forward", "1"), ("net.ipv6.conf.all.forwarding", "1")])?;
            for ns in [routed.router(k), &routed.host(k).ns] {
                ns.sysctls(&QUIET_V6)?;
            }
        }

        let mut switch = String::new();
        for k in 1..=hops {
            let router = routed.router(k).name();
            let host = routed.host(k).ns.name();
            let up_bridge = if k == 1 { "br0".to_owned() } else { format!("br{}", k - 1) };
            switch.push_str(&format!(
                "link add br{k} type bridge stp_state 0 forward_delay 0 mcast_snooping 0\n\
                 link set br{k} up\n\
                 link add r{k}u type veth peer name eth0 netns {router}\n\
                 link set r{k}u master {up_bridge} up\n\
                 link add r{k}d type veth peer name eth1 netns {router}\n\
                 link set r{k}d master br{k} up\n\
                 link add h{k} type veth peer name eth0 netns {host}\n\
                 link set h{k} master br{k} up\n"
            ));
        }
        self.switch().ip_batch(&switch)?;

        for k in 1..=hops {
            let router = routed.router(k);
            let host = &routed.host(k).ns;
            let mut script = format!(
                "link set lo up\n\
                 addr add {}/24 dev eth0\n\
                 addr add {}/64 dev eth0 nodad\n\
                 addr add {}/24 dev eth1\n\
                 addr add {}/64 dev eth1 nodad\n\
                 link set eth0 up\n\
                 link set eth1 up\n",
                router_upstream(k),
                router_upstream_v6(k),
                router_downstream(k),
                router_downstream_v6(k),
            );
            for j in 0..=hops {
                if j + 1 < k {
                    // Upstream networks beyond the one eth0 is on: via the previous router.
                    script.push_str(&routes(j, router_downstream(k - 1), router_downstream_v6(k - 1)));
                } else if j > k {
                    script.push_str(&routes(j, router_upstream(k + 1), router_upstream_v6(k + 1)));
                }
            }
            router.ip_batch(&script)?;

            let mut script = format!(
                "link set lo up\naddr add {}/24 dev eth0\naddr add {}/64 dev eth0 nodad\nlink set eth0 up\n",
                hop_host_v4(k),
                hop_host_v6(k)
            );
            for j in 0..=hops {
                if j < k {
                    script.push_str(&routes(j, router_downstream(k), router_downstream_v6(k)));
                } else if j > k {
                    script.push_str(&routes(j, router_upstream(k + 1), router_upstream_v6(k + 1)));
                }
            }
            host.ip_batch(&script)?;
        }

        let script: String = (1..=hops).map(|k| routes(k, ROUTER1_V4, ROUTER1_V6)).collect();
        self.scanner().ip_batch(&script)?;
        Ok(routed)
    }

    /// Starts `persona` on hop `k`'s network of `routed` (1-based), `k` routers from the scanner, at `v4`
    /// (inside 198.18.k.0/24, not the router's or the host's address; 198.18.k.200-253 by convention) and
    /// optionally `v6` (inside 2001:db8:18:k::/64; ::c8-::fd by convention).
    pub fn add_persona_behind(
        &self,
        routed: &RoutedHops,
        k: usize,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
    ) -> Result<PersonaHost> {
        self.add_persona_behind_with(routed, k, persona, v4, v6, Vec::new())
    }

    /// As [`add_persona_behind`](TestBed::add_persona_behind), with `handlers` answering their protocols in
    /// place of the built-in ones (SCTP, which the built-ins lack).
    pub fn add_persona_behind_with(
        &self,
        routed: &RoutedHops,
        k: usize,
        persona: Persona,
        v4: Ipv4Addr,
        v6: Option<Ipv6Addr>,
        handlers: Vec<Box<dyn crate::persona::IpHandler>>,
    ) -> Result<PersonaHost> {
        if k == 0 || k > routed.hops() {
            return Err(Error::Invalid(format!("hop {k}, but there are {} hops", routed.hops())));
        }
        let octet = v4.octets()[3];
        let taken = [router_downstream(k), hop_host_v4(k), router_upstream(k + 1)];
        if !hop_network(k).contains(&v4) || taken.contains(&v4) || octet == 0 || octet == 255 {
            return Err(Error::Invalid(format!("persona address {v4} is not a free address of {}", hop_network(k))));
        }
        if let Some(v6) = v6 {
            let taken = [router_downstream_v6(k), hop_host_v6(k), router_upstream_v6(k + 1)];
            if !hop_network_v6(k).contains(&v6) || taken.contains(&v6) {
                let net = hop_network_v6(k);
                return Err(Error::Invalid(format!("persona address {v6} is not a free address of {net}")));
            }
        }
        let distance = u8::try_from(k + 1).unwrap_or(u8::MAX);
        let bridge = format!("br{k}");
        let at = Attachment { switch: self.switch(), bridge: &bridge, distance, tap: format!("p{k}t{octet}") };
        PersonaHost::start(at, persona, v4, v6, handlers)
    }
}

/// Sysctls that keep a namespace's IPv6 quiet and its addresses usable at once (as the bed's own hosts).
const QUIET_V6: [(&str, &str); 4] = [
    ("net.ipv6.conf.all.accept_dad", "0"),
    ("net.ipv6.conf.default.accept_dad", "0"),
    ("net.ipv6.conf.all.router_solicitations", "0"),
    ("net.ipv6.conf.default.router_solicitations", "0"),
];

/// `ip` batch lines routing hop `j`'s networks (IPv4 and IPv6) via `v4` and `v6`.
fn routes(j: usize, v4: Ipv4Addr, v6: Ipv6Addr) -> String {
    format!("route add {} via {v4}\nroute add {} via {v6}\n", hop_network(j), hop_network_v6(j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_addresses_follow_the_plan() {
        assert_eq!(hop_network(2).to_string(), "198.18.2.0/24");
        assert_eq!((router_upstream(1), router_downstream(1)), (ROUTER1_V4, Ipv4Addr::new(198, 18, 1, 1)));
        assert_eq!(router_upstream(2), Ipv4Addr::new(198, 18, 1, 254));
        assert_eq!(hop_host_v4(2), Ipv4Addr::new(198, 18, 2, 2));
        let allowed: Ipv4Net = "198.18.0.0/15".parse().unwrap();
        assert!((1..=MAX_HOPS).all(|k| allowed.contains(&hop_network(k))));
        assert_eq!(hop_network_v6(2).to_string(), "2001:db8:18:2::/64");
        assert_eq!(router_upstream_v6(2).to_string(), "2001:db8:18:1::fe");
        assert_eq!(hop_network_v6(0).to_string(), "2001:db8:18::/64", "hop 0 is the bed's own network");
    }
}
