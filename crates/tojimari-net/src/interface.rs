//! Network interfaces from rtnetlink (`RTM_GETLINK` + `RTM_GETADDR`): what `-e/--interface`
//! names, and what a [`Route`](crate::Route) sends through.

use std::net::IpAddr;

use crate::error::NetError;
use crate::netlink::{self, Kind, Netlink};

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
/// `sizeof(struct ifinfomsg)`: family, pad, type, index, flags, change.
const IFINFOMSG_LEN: usize = 16;
/// `sizeof(struct ifaddrmsg)`: family, prefixlen, flags, scope, index.
const IFADDRMSG_LEN: usize = 8;

/// One network interface of this network namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The kernel's interface index (`ip link` shows it first).
    pub index: u32,
    /// Its name, e.g. `eth0`.
    pub name: String,
    /// Its hardware address; all zero for `lo` and for devices without one.
    pub mac: [u8; 6],
    /// Its MTU in bytes (IP packet size, without the Ethernet header).
    pub mtu: u32,
    /// Whether it is a loopback device (IFF_LOOPBACK).
    pub loopback: bool,
    /// Its addresses, IPv4 and IPv6, in the kernel's order.
    pub addrs: Vec<IpAddr>,
    /// The prefix length of each of `addrs`, in the same order (`/24` is 24).
    pub prefix_lens: Vec<u8>,
    /// Whether it is administratively up (IFF_UP).
    pub up: bool,
    /// Its link-layer type (ARPHRD_*: 1 Ethernet, 772 loopback, 65534 none, e.g. a tunnel).
    pub link_type: u16,
}

/// The interface called `name`, with its addresses.
pub fn interface_by_name(name: &str) -> Result<Interface, NetError> {
    interfaces()?.into_iter().find(|i| i.name == name).ok_or_else(|| NetError::NoInterface { name: name.to_owned() })
}

/// Every interface of this network namespace, with its addresses, in index order.
pub fn interfaces() -> Result<Vec<Interface>, NetError> {
    let mut nl = Netlink::open()?;
    let mut links = dump_links(&mut nl)?;
    let addrs = dump_addrs(&mut nl)?;
    for link in &mut links {
        let own = addrs.iter().filter(|a| a.0 == link.index);
        link.addrs = own.clone().map(|a| a.1).collect();
        link.prefix_lens = own.map(|a| a.2).collect();
    }
    links.sort_by_key(|l| l.index);
    Ok(links)
}

/// The interface with index `index`, without its addresses (`addrs` is empty).
pub(crate) fn link_by_index(nl: &mut Netlink, index: u32) -> Result<Interface, NetError> {
    let mut req = [0u8; IFINFOMSG_LEN];
    req[4..8].copy_from_slice(&index.to_ne_bytes());
    let answers = match nl.request(netlink::RTM_GETLINK, Kind::One, &req) {
        Ok(answers) => answers,
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {
            return Err(NetError::NoInterface { name: format!("#{index}") });
        }
        Err(e) => return Err(netlink::io_error("netlink RTM_GETLINK", e)),
    };
    answers
        .iter()
        .filter(|m| m.kind == netlink::RTM_NEWLINK)
        .find_map(|m| parse_link(&m.body))
        .ok_or(NetError::Netlink { what: "RTM_GETLINK answered without a link" })
}

pub(crate) fn dump_links(nl: &mut Netlink) -> Result<Vec<Interface>, NetError> {
    let answers = nl
        .request(netlink::RTM_GETLINK, Kind::Dump, &[0u8; IFINFOMSG_LEN])
        .map_err(|e| netlink::io_error("netlink RTM_GETLINK dump", e))?;
    Ok(answers.iter().filter(|m| m.kind == netlink::RTM_NEWLINK).filter_map(|m| parse_link(&m.body)).collect())
}

/// `(interface index, address, prefix length)` for every address of this namespace.
pub(crate) fn dump_addrs(nl: &mut Netlink) -> Result<Vec<(u32, IpAddr, u8)>, NetError> {
    let answers = nl
        .request(netlink::RTM_GETADDR, Kind::Dump, &[0u8; IFADDRMSG_LEN])
        .map_err(|e| netlink::io_error("netlink RTM_GETADDR dump", e))?;
    Ok(answers.iter().filter(|m| m.kind == netlink::RTM_NEWADDR).filter_map(|m| parse_addr(&m.body)).collect())
}

/// The addresses on interface `index`.
pub(crate) fn addrs_of(nl: &mut Netlink, index: u32) -> Result<Vec<IpAddr>, NetError> {
    Ok(dump_addrs(nl)?.into_iter().filter(|(i, _, _)| *i == index).map(|(_, ip, _)| ip).collect())
}

fn parse_link(body: &[u8]) -> Option<Interface> {
    let header = body.get(..IFINFOMSG_LEN)?;
    let link_type = u16::from_ne_bytes(header[2..4].try_into().ok()?);
    let index = u32::from_ne_bytes(header[4..8].try_into().ok()?);
    let flags = u32::from_ne_bytes(header[8..12].try_into().ok()?);
    let mut link = Interface {
        index,
        name: String::new(),
        mac: [0; 6],
        mtu: 0,
        loopback: flags & libc::IFF_LOOPBACK as u32 != 0,
        addrs: Vec::new(),
        prefix_lens: Vec::new(),
        up: flags & libc::IFF_UP as u32 != 0,
        link_type,
    };
    for (kind, payload) in netlink::attrs(&body[IFINFOMSG_LEN..]) {
        match kind {
            IFLA_IFNAME => {
                let name = payload.split(|&b| b == 0).next().unwrap_or_default();
                link.name = String::from_utf8_lossy(name).into_owned();
            }
            IFLA_ADDRESS if payload.len() == 6 => link.mac.copy_from_slice(payload),
            IFLA_MTU => link.mtu = netlink::attr_u32(payload)?,
            _ => {}
        }
    }
    Some(link)
}

fn parse_addr(body: &[u8]) -> Option<(u32, IpAddr, u8)> {
    let header = body.get(..IFADDRMSG_LEN)?;
    let family = header[0];
    let prefix_len = header[1];
    let index = u32::from_ne_bytes(header[4..8].try_into().ok()?);
    let (mut local, mut address) = (None, None);
    for (kind, payload) in netlink::attrs(&body[IFADDRMSG_LEN..]) {
        match kind {
            IFA_LOCAL => local = netlink::attr_ip(family, payload),
            IFA_ADDRESS => address = netlink::attr_ip(family, payload),
            _ => {}
        }
    }
    // On point-to-point links IFA_ADDRESS is the peer and IFA_LOCAL ours.
    Some((index, local.or(address)?, prefix_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_address() {
        // Unprivileged and harmless: reads the current namespace's interfaces.
        let all = interfaces().unwrap();
        let lo = all.iter().find(|i| i.loopback).expect("a loopback interface");
        assert_eq!(lo.mac, [0; 6]);
        assert!(lo.mtu > 0);
        assert!(lo.up);
        assert_eq!(lo.addrs.len(), lo.prefix_lens.len());
        assert_eq!(interface_by_name(&lo.name).unwrap().index, lo.index);
    }

    #[test]
    fn unknown_interface_is_no_interface() {
        assert!(matches!(interface_by_name("tjm-no-such-if0"), Err(NetError::NoInterface { .. })));
    }
}
