//! Route lookup: how the kernel would reach a destination (`ip route get DST`), with the
//! outgoing interface's name, MAC and MTU, so frames can be built for AF_PACKET.

use std::net::IpAddr;

use crate::error::NetError;
use crate::interface;
use crate::netlink::{self, Kind, Netlink};

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
const RT_TABLE_MAIN: u32 = 254;
const RTA_PREFSRC: u16 = 7;
const RTA_METRICS: u16 = 8;
const RTA_VIA: u16 = 18;
const RTAX_MTU: u16 = 2;
const RTN_LOCAL: u8 = 2;
/// `sizeof(struct rtmsg)`: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
const RTMSG_LEN: usize = 12;

/// How to reach one destination, from the kernel's routing table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination looked up.
    pub dst: IpAddr,
    /// The outgoing interface's index.
    pub ifindex: u32,
    /// The outgoing interface's name.
    pub ifname: String,
    /// The source address the kernel would use.
    pub src: IpAddr,
    /// The next-hop router, or `None` when `dst` is on-link (or local).
    pub gateway: Option<IpAddr>,
    /// The outgoing interface's MAC (all zero on loopback).
    pub src_mac: [u8; 6],
    /// Whether `dst` is this host (own address, 127/8, ::1, an AnyIP `local` route): frames
    /// then go out on the loopback interface with zero MACs.
    pub loopback: bool,
    /// The path MTU: the route's `mtu` metric if set, else the interface's MTU.
    pub mtu: u32,
}

impl Route {
    /// The address whose MAC goes into frames: the gateway, or `dst` itself when on-link.
    pub fn next_hop(&self) -> IpAddr {
        self.gateway.unwrap_or(self.dst)
    }
}

/// Looks up the route to `dst` (netlink `RTM_GETROUTE`, as `ip route get DST`), then the
/// interface it leaves by.
///
/// Errors: [`NetError::NoRoute`] when the kernel has no usable route (ENETUNREACH,
/// EHOSTUNREACH, and the EACCES/EINVAL of `prohibit`/`blackhole` routes).
pub fn route_to(dst: IpAddr) -> Result<Route, NetError> {
    let mut nl = Netlink::open()?;
    let (family, bytes) = netlink::family_and_bytes(dst);
    let mut req = vec![0u8; RTMSG_LEN];
    req[0] = family;
    req[1] = u8::try_from(bytes.len() * 8).expect("32 or 128");
    netlink::push_attr(&mut req, RTA_DST, &bytes);
    let answers = match nl.request(netlink::RTM_GETROUTE, Kind::One, &req) {
        Ok(answers) => answers,
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENETUNREACH | libc::EHOSTUNREACH | libc::EACCES | libc::EINVAL | libc::ESRCH)
            ) =>
        {
            return Err(NetError::NoRoute { dst });
        }
        Err(e) => return Err(netlink::io_error("netlink RTM_GETROUTE", e)),
    };
    let answer = answers
        .iter()
        .find(|m| m.kind == netlink::RTM_NEWROUTE)
        .ok_or(NetError::Netlink { what: "RTM_GETROUTE answered without a route" })?;
    let parsed = parse_route(&answer.body).ok_or(NetError::Netlink { what: "short RTM_NEWROUTE" })?;
    match parsed.kind {
        libc::RTN_UNICAST | RTN_LOCAL => {}
        _ => return Err(NetError::NoRoute { dst }), // unreachable, prohibit, blackhole, throw, ...
    }
    let local = parsed.kind == RTN_LOCAL;
    let oif = parsed.oif.ok_or(NetError::NoRoute { dst })?;
    let mut link = interface::link_by_index(&mut nl, oif)?;
    if local && !link.loopback {
        // A local route bound to another device (e.g. in a VRF): our own frames reach us
        // only through the loopback device.
        link = interface::dump_links(&mut nl)?
            .into_iter()
            .find(|l| l.loopback)
            .ok_or(NetError::NoInterface { name: "lo".into() })?;
    }
    let src = match parsed.prefsrc {
        Some(src) => src,
        None if local => dst,
        None => {
            first_of_family(interface::addrs_of(&mut nl, link.index)?, dst).ok_or(NetError::NoSourceAddress { dst })?
        }
    };
    Ok(Route {
        dst,
        ifindex: link.index,
        ifname: link.name.clone(),
        src,
        gateway: if local { None } else { parsed.gateway },
        src_mac: link.mac,
        loopback: local || link.loopback,
        mtu: parsed.mtu.filter(|&m| m > 0).unwrap_or(link.mtu),
    })
}

/// One entry of the main routing table (`ip route show` / `ip -6 route show`), for `--iflist`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    /// Destination network address (`0.0.0.0` / `::` for a default route).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub prefix_len: u8,
    /// Outgoing interface index, if the route names one.
    pub ifindex: Option<u32>,
    /// Next-hop router, if any.
    pub gateway: Option<IpAddr>,
    /// The route's metric (priority).
    pub metric: u32,
}

/// The unicast routes of the main table, IPv4 then IPv6, in the kernel's order.
pub fn routes() -> Result<Vec<RouteEntry>, NetError> {
    let mut nl = Netlink::open()?;
    let mut out = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        let mut req = vec![0u8; RTMSG_LEN];
        req[0] = family;
        let answers = nl
            .request(netlink::RTM_GETROUTE, Kind::Dump, &req)
            .map_err(|e| netlink::io_error("netlink RTM_GETROUTE dump", e))?;
        out.extend(answers.iter().filter(|m| m.kind == netlink::RTM_NEWROUTE).filter_map(|m| route_entry(&m.body)));
    }
    Ok(out)
}

fn route_entry(body: &[u8]) -> Option<RouteEntry> {
    let header = body.get(..RTMSG_LEN)?;
    let (family, prefix_len, kind) = (header[0], header[1], header[7]);
    let mut table = u32::from(header[4]);
    let mut entry = RouteEntry {
        dst: if family == libc::AF_INET6 as u8 { IpAddr::from([0u16; 8]) } else { IpAddr::from([0u8; 4]) },
        prefix_len,
        ifindex: None,
        gateway: None,
        metric: 0,
    };
    for (k, payload) in netlink::attrs(&body[RTMSG_LEN..]) {
        match k {
            RTA_DST => entry.dst = netlink::attr_ip(family, payload)?,
            RTA_OIF => entry.ifindex = netlink::attr_u32(payload),
            RTA_GATEWAY => entry.gateway = netlink::attr_ip(family, payload),
            RTA_PRIORITY => entry.metric = netlink::attr_u32(payload).unwrap_or(0),
            RTA_TABLE => table = netlink::attr_u32(payload).unwrap_or(table),
            _ => {}
        }
    }
    (table == RT_TABLE_MAIN && kind == libc::RTN_UNICAST).then_some(entry)
}

fn first_of_family(addrs: Vec<IpAddr>, like: IpAddr) -> Option<IpAddr> {
    addrs.into_iter().find(|a| a.is_ipv4() == like.is_ipv4())
}

#[derive(Debug, Default)]
struct Parsed {
    kind: u8,
    oif: Option<u32>,
    gateway: Option<IpAddr>,
    prefsrc: Option<IpAddr>,
    mtu: Option<u32>,
}

fn parse_route(body: &[u8]) -> Option<Parsed> {
    let header = body.get(..RTMSG_LEN)?;
    let family = header[0];
    let mut parsed = Parsed { kind: header[7], ..Parsed::default() };
    for (kind, payload) in netlink::attrs(&body[RTMSG_LEN..]) {
        match kind {
            RTA_OIF => parsed.oif = netlink::attr_u32(payload),
            RTA_GATEWAY => parsed.gateway = netlink::attr_ip(family, payload),
            RTA_PREFSRC => parsed.prefsrc = netlink::attr_ip(family, payload),
            // struct rtvia: a u16 family, then the address (an IPv4 route via an IPv6 router).
            RTA_VIA if payload.len() >= 2 => {
                let via_family = u16::from_ne_bytes([payload[0], payload[1]]);
                parsed.gateway = u8::try_from(via_family).ok().and_then(|f| netlink::attr_ip(f, &payload[2..]));
            }
            RTA_METRICS => {
                parsed.mtu =
                    netlink::attrs(payload).find(|(k, _)| *k == RTAX_MTU).and_then(|(_, p)| netlink::attr_u32(p));
            }
            _ => {}
        }
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn loopback_v4_is_local_via_lo() {
        // Route lookups send nothing; 127.0.0.1 is always local.
        let route = route_to(IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap();
        assert!(route.loopback);
        assert_eq!(route.src, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(route.gateway, None);
        assert_eq!(route.src_mac, [0; 6]);
        assert_eq!(route.next_hop(), route.dst);
    }

    #[test]
    fn loopback_v6_is_local_when_ipv6_is_up() {
        match route_to(IpAddr::V6(Ipv6Addr::LOCALHOST)) {
            Ok(route) => assert!(route.loopback),
            Err(NetError::NoRoute { .. }) => eprintln!("IPv6 disabled here; skipped"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_main_table_is_listed() {
        // Reading the table sends nothing; every namespace with a loopback has some IPv6 or IPv4 route
        // or none at all, so only the shape is checked.
        for r in routes().unwrap() {
            assert!(r.prefix_len <= if r.dst.is_ipv4() { 32 } else { 128 }, "{r:?}");
        }
        let mut body = vec![libc::AF_INET as u8, 24, 0, 0, 254, 0, 0, libc::RTN_UNICAST, 0, 0, 0, 0];
        netlink::push_attr(&mut body, RTA_DST, &[198, 18, 0, 0]);
        netlink::push_attr(&mut body, RTA_OIF, &2u32.to_ne_bytes());
        netlink::push_attr(&mut body, RTA_PRIORITY, &100u32.to_ne_bytes());
        let e = route_entry(&body).unwrap();
        assert_eq!((e.dst, e.prefix_len, e.ifindex, e.metric), (IpAddr::from([198, 18, 0, 0]), 24, Some(2), 100));
        body[4] = 255; // the local table
        assert_eq!(route_entry(&body), None);
    }

    #[test]
    fn parses_a_route_with_gateway_and_mtu_metric() {
        let mut body = vec![libc::AF_INET as u8, 32, 0, 0, 254, 0, 0, libc::RTN_UNICAST, 0, 0, 0, 0];
        netlink::push_attr(&mut body, RTA_OIF, &3u32.to_ne_bytes());
        netlink::push_attr(&mut body, RTA_GATEWAY, &[198, 18, 0, 9]);
        netlink::push_attr(&mut body, RTA_PREFSRC, &[198, 18, 0, 1]);
        let mut metrics = Vec::new();
        netlink::push_attr(&mut metrics, RTAX_MTU, &1400u32.to_ne_bytes());
        netlink::push_attr(&mut body, RTA_METRICS, &metrics);
        let parsed = parse_route(&body).unwrap();
        assert_eq!(parsed.oif, Some(3));
        assert_eq!(parsed.gateway, Some(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9))));
        assert_eq!(parsed.prefsrc, Some(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1))));
        assert_eq!(parsed.mtu, Some(1400));
        assert!(parse_route(&body[..5]).is_none());
    }
}
