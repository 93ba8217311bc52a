//! The next hop's MAC address: read from the neighbour table (`RTM_GETNEIGH`), and if it is
//! missing, make the kernel resolve it (ARP or NDP) by sending one empty UDP datagram to the
//! next hop's discard port, then poll the table.

use std::net::{IpAddr, SocketAddr, SocketAddrV6, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::NetError;
use crate::netlink::{self, Kind, Netlink};
use crate::route::Route;

const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// `sizeof(struct ndmsg)`: family, pad, pad, ifindex, state, flags, type.
const NDMSG_LEN: usize = 12;
/// Neighbour states whose link-layer address may be used (the kernel re-checks STALE ones
/// itself when it next sends).
const NUD_USABLE: u16 = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
// Neighbour states (linux/neighbour.h); INCOMPLETE (0x01) and FAILED (0x20) are unusable.
const NUD_REACHABLE: u16 = 0x02;
const NUD_STALE: u16 = 0x04;
const NUD_DELAY: u16 = 0x08;
const NUD_PROBE: u16 = 0x10;
const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;
/// The discard port: whatever answers (nothing, or an ICMP port unreachable) is harmless.
const DISCARD_PORT: u16 = 9;
/// How often to nudge the kernel again while waiting (it gives up on a neighbour after a few
/// unanswered solicitations and marks it FAILED).
const RETRIGGER: Duration = Duration::from_millis(500);
/// The longest pause between two looks at the neighbour table...
const POLL: Duration = Duration::from_millis(5);
/// ...and the first: half the time since the solicitation, between the two.
const FIRST_POLL: Duration = Duration::from_micros(200);

/// The MAC to put in frames for `next_hop` on `route`'s interface (normally
/// [`Route::next_hop`]). Loopback routes need none and get `[0; 6]`.
///
/// Reads the neighbour table first; if the entry is absent or not usable, sends an empty UDP
/// datagram to `next_hop`:9 from a socket bound to the interface (which makes the kernel send
/// an ARP request or neighbour solicitation) and polls the table until `timeout`.
pub fn next_hop_mac(route: &Route, next_hop: IpAddr, timeout: Duration) -> Result<[u8; 6], NetError> {
    if route.loopback {
        return Ok([0; 6]);
    }
    let deadline = Instant::now() + timeout;
    let mut nl = Netlink::open()?;
    let mut last_trigger: Option<Instant> = None;
    loop {
        if let Some(mac) = lookup(&mut nl, route.ifindex, next_hop)? {
            return Ok(mac);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(NetError::NeighborUnresolved { ip: next_hop });
        }
        if last_trigger.is_none_or(|t| now.duration_since(t) >= RETRIGGER) {
            trigger(route, next_hop);
            last_trigger = Some(now);
        }
        // An answer on a LAN takes well under a millisecond: look again soon, then less often.
        let since = last_trigger.map_or(Duration::ZERO, |t| now.duration_since(t));
        let pause = (since / 2).clamp(FIRST_POLL, POLL);
        thread::sleep(pause.min(deadline - now));
    }
}

/// The usable MAC of `ip` on interface `ifindex`, if the neighbour table has one.
fn lookup(nl: &mut Netlink, ifindex: u32, ip: IpAddr) -> Result<Option<[u8; 6]>, NetError> {
    let (family, _) = netlink::family_and_bytes(ip);
    let mut req = [0u8; NDMSG_LEN];
    req[0] = family;
    let answers = nl
        .request(netlink::RTM_GETNEIGH, Kind::Dump, &req)
        .map_err(|e| netlink::io_error("netlink RTM_GETNEIGH dump", e))?;
    Ok(answers
        .iter()
        .filter(|m| m.kind == netlink::RTM_NEWNEIGH)
        .filter_map(|m| parse_neighbor(&m.body))
        .find(|n| n.ifindex == ifindex && n.ip == ip && n.state & NUD_USABLE != 0)
        .and_then(|n| n.mac))
}

struct Neighbor {
    ifindex: u32,
    state: u16,
    ip: IpAddr,
    mac: Option<[u8; 6]>,
}

fn parse_neighbor(body: &[u8]) -> Option<Neighbor> {
    let header = body.get(..NDMSG_LEN)?;
    let family = header[0];
    let ifindex = u32::from_ne_bytes(header[4..8].try_into().ok()?);
    let state = u16::from_ne_bytes(header[8..10].try_into().ok()?);
    let (mut ip, mut mac) = (None, None);
    for (kind, payload) in netlink::attrs(&body[NDMSG_LEN..]) {
        match kind {
            NDA_DST => ip = netlink::attr_ip(family, payload),
            NDA_LLADDR => mac = <[u8; 6]>::try_from(payload).ok(),
            _ => {}
        }
    }
    Some(Neighbor { ifindex, state, ip: ip?, mac })
}

/// Sends one empty UDP datagram to `next_hop`:9 through the route's interface, so the kernel
/// resolves the neighbour. Best effort: every failure here (a FAILED neighbour answers the
/// send with EHOSTUNREACH, for one) just means "poll and try again".
fn trigger(route: &Route, next_hop: IpAddr) {
    let addr = match next_hop {
        IpAddr::V6(v6) if v6.is_unicast_link_local() => {
            SocketAddr::V6(SocketAddrV6::new(v6, DISCARD_PORT, 0, route.ifindex))
        }
        ip => SocketAddr::new(ip, DISCARD_PORT),
    };
    let domain = socket2::Domain::for_address(addr);
    let Ok(socket) = socket2::Socket::new(domain, socket2::Type::DGRAM, None) else {
        return;
    };
    // SO_BINDTODEVICE keeps the datagram on the route's interface even when another route
    // would win; unprivileged processes may be refused on older kernels, which is fine.
    let _ = socket.bind_device(Some(route.ifname.as_bytes()));
    let socket: UdpSocket = socket.into();
    let _ = socket.send_to(&[], addr);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_reachable_neighbor() {
        let mut body = vec![libc::AF_INET as u8, 0, 0, 0];
        body.extend_from_slice(&7u32.to_ne_bytes());
        body.extend_from_slice(&NUD_REACHABLE.to_ne_bytes());
        body.extend_from_slice(&[0, 1]);
        netlink::push_attr(&mut body, NDA_DST, &[198, 18, 0, 2]);
        netlink::push_attr(&mut body, NDA_LLADDR, &[2, 0, 0, 0, 0, 9]);
        let n = parse_neighbor(&body).unwrap();
        assert_eq!((n.ifindex, n.ip, n.mac), (7, IpAddr::from([198, 18, 0, 2]), Some([2, 0, 0, 0, 0, 9])));
        assert_ne!(n.state & NUD_USABLE, 0);
        assert_eq!((0x01 | 0x20) & NUD_USABLE, 0, "INCOMPLETE and FAILED");
    }

    #[test]
    fn loopback_routes_need_no_mac() {
        let route = crate::route_to(IpAddr::from([127, 0, 0, 1])).unwrap();
        assert_eq!(next_hop_mac(&route, route.next_hop(), Duration::ZERO).unwrap(), [0; 6]);
    }
}
