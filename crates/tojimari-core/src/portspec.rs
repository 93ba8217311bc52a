//! STUB: being written by the ports helper. Public API below is the contract.

use crate::protocol::Protocol;

/// A sorted set of distinct ports of one protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ports: Vec<u16>,
}

impl PortSet {
    pub fn from_ports(ports: impl IntoIterator<Item = u16>) -> Self {
        let mut ports: Vec<u16> = ports.into_iter().collect();
        ports.sort_unstable();
        ports.dedup();
        PortSet { ports }
    }
    pub fn len(&self) -> usize {
        self.ports.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }
    pub fn get(&self, index: usize) -> Option<u16> {
        self.ports.get(index).copied()
    }
    pub fn as_slice(&self) -> &[u16] {
        &self.ports
    }
    pub fn contains(&self, port: u16) -> bool {
        self.ports.binary_search(&port).is_ok()
    }
    /// nmap's compact form, "1,3-4,22" (XML `scaninfo services`).
    pub fn to_ranges(&self) -> String {
        String::new()
    }
}

/// The ports of a run, per protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSpec {
    pub tcp: PortSet,
    pub udp: PortSet,
}

impl PortSpec {
    pub fn for_protocol(&self, proto: Protocol) -> &PortSet {
        match proto {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }
}
