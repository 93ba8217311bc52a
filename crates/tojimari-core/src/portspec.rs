//! Which ports a run visits, per protocol: [`PortSet`], [`PortSpec`], and nmap's `-p` syntax
//! ([`parse_port_list`]).

mod parse;
mod protocols;

pub use parse::{PortSpecError, parse_port_list};
pub use protocols::parse_protocol_list;

use crate::protocol::Protocol;
use crate::services;

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

    /// nmap's compact form, "1,3-4,22" (XML `scaninfo services`): runs of consecutive ports become `first-last`,
    /// single ports stay as they are, in ascending order. The empty set gives "".
    pub fn to_ranges(&self) -> String {
        let mut out = String::new();
        let mut index = 0;
        while let Some(&first) = self.ports.get(index) {
            let mut last = first;
            index += 1;
            while self.ports.get(index).is_some_and(|&next| Some(next) == last.checked_add(1)) {
                last = self.ports[index];
                index += 1;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&first.to_string());
            if last != first {
                out.push('-');
                out.push_str(&last.to_string());
            }
        }
        out
    }

    /// The ports of `self` that are not in `other`.
    fn difference(&self, other: &PortSet) -> PortSet {
        PortSet { ports: self.ports.iter().copied().filter(|&port| !other.contains(port)).collect() }
    }
}

/// The ports of a run, per protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSpec {
    pub tcp: PortSet,
    pub udp: PortSet,
    /// SCTP ports (`-sY`, `-sZ`; `S:` in `-p`).
    pub sctp: PortSet,
    /// IP protocol numbers, 0-255 (`-sO`; `P:` in `-p`).
    pub ip: PortSet,
}

impl PortSpec {
    pub fn for_protocol(&self, proto: Protocol) -> &PortSet {
        match proto {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
            Protocol::Sctp => &self.sctp,
            Protocol::Ip => &self.ip,
        }
    }

    /// The first `n` ports of each protocol's `--top-ports` ranking (fewer if the ranking is shorter; see
    /// [`services`] for how the rankings were made).
    pub fn top(n: usize) -> PortSpec {
        PortSpec {
            tcp: PortSet::from_ports(services::top_ports(Protocol::Tcp, n).iter().copied()),
            udp: PortSet::from_ports(services::top_ports(Protocol::Udp, n).iter().copied()),
            sctp: PortSet::from_ports(services::top_ports(Protocol::Sctp, n).iter().copied()),
            // IP protocols have no ranking: `-sO` scans all 256 unless told otherwise.
            ip: PortSet::default(),
        }
    }

    /// `self` without any port of `exclude`, protocol by protocol (for `--exclude-ports`).
    pub fn without(&self, exclude: &PortSpec) -> PortSpec {
        PortSpec {
            tcp: self.tcp.difference(&exclude.tcp),
            udp: self.udp.difference(&exclude.udp),
            sctp: self.sctp.difference(&exclude.sctp),
            ip: self.ip.difference(&exclude.ip),
        }
    }

    /// Whether no protocol has a port.
    pub fn is_empty(&self) -> bool {
        self.tcp.is_empty() && self.udp.is_empty() && self.sctp.is_empty() && self.ip.is_empty()
    }
}

/// Written as runs of consecutive ports, `[[first, last], ...]`: a `-p-` set is one pair, not 65535 numbers.
impl serde::Serialize for PortSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for &port in &self.ports {
            match runs.last_mut() {
                Some((_, last)) if u32::from(*last) + 1 == u32::from(port) => *last = port,
                _ => runs.push((port, port)),
            }
        }
        serde::Serialize::serialize(&runs, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for PortSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let runs: Vec<(u16, u16)> = serde::Deserialize::deserialize(deserializer)?;
        if runs.iter().any(|&(first, last)| first > last) {
            return Err(serde::de::Error::custom("a port run ends before it starts"));
        }
        Ok(PortSet::from_ports(runs.into_iter().flat_map(|(first, last)| first..=last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_ports_sorts_and_dedups() {
        let set = PortSet::from_ports([80, 22, 80, 443]);
        assert_eq!(set.as_slice(), [22, 80, 443]);
        assert_eq!((set.len(), set.get(1), set.get(3)), (3, Some(80), None));
        assert!(set.contains(443) && !set.contains(444));
    }

    #[test]
    fn to_ranges_compacts_runs() {
        assert_eq!(PortSet::default().to_ranges(), "");
        assert_eq!(PortSet::from_ports([22]).to_ranges(), "22");
        assert_eq!(PortSet::from_ports([1, 3, 4, 22, 80, 81]).to_ranges(), "1,3-4,22,80-81");
        assert_eq!(PortSet::from_ports([0, 1, 2, 65534, 65535]).to_ranges(), "0-2,65534-65535");
        assert_eq!(PortSet::from_ports(1..=u16::MAX).to_ranges(), "1-65535");
    }

    #[test]
    fn without_removes_per_protocol() {
        let spec =
            PortSpec { tcp: PortSet::from_ports(1..=100), udp: PortSet::from_ports([53, 123]), ..PortSpec::default() };
        let exclude = PortSpec {
            tcp: PortSet::from_ports([22, 80, 1000]),
            udp: PortSet::from_ports([22]),
            ..PortSpec::default()
        };
        let left = spec.without(&exclude);
        assert_eq!(left.tcp.len(), 98);
        assert!(!left.tcp.contains(22) && !left.tcp.contains(80) && left.tcp.contains(21));
        assert_eq!(left.udp.as_slice(), [53, 123]);
        assert!(spec.without(&spec).is_empty());
        assert_eq!(spec.without(&PortSpec::default()), spec);
    }

    #[test]
    fn top_takes_each_protocols_ranking() {
        let top = PortSpec::top(10);
        assert_eq!((top.tcp.len(), top.udp.len()), (10, 10));
        assert!(top.tcp.contains(80) && top.tcp.contains(443) && top.udp.contains(53));
        assert!(PortSpec::top(0).is_empty());
        let all = PortSpec::top(usize::MAX);
        assert_eq!(all.tcp.len(), services::ranked_len(Protocol::Tcp));
        assert_eq!(all.udp.len(), services::ranked_len(Protocol::Udp));
    }

    #[test]
    fn is_empty_needs_both_protocols_empty() {
        assert!(PortSpec::default().is_empty());
        let udp_only = PortSpec { udp: PortSet::from_ports([53]), ..PortSpec::default() };
        assert!(!udp_only.is_empty());
        assert_eq!(udp_only.for_protocol(Protocol::Udp).as_slice(), [53]);
        assert!(udp_only.for_protocol(Protocol::Tcp).is_empty());
    }
}
