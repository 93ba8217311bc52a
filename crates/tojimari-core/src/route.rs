//! A host's traceroute (`--traceroute`): the hops between the scanner and the host, as nmap reports them in
//! its TRACEROUTE section and XML `<trace>` element.

use std::net::IpAddr;
use std::time::Duration;

use crate::Protocol;

/// The probe a trace sent again with growing TTLs: one that drew an answer from the host during the scan.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum TraceProbe {
    /// A TCP SYN or UDP datagram to this port (nmap: "using port 23/tcp").
    Port { proto: Protocol, port: u16 },
    /// A packet of this IP protocol (nmap: "using proto 1/icmp"): the ICMP (ICMPv6) echo request.
    Proto { number: u8 },
}

/// Who answered at one TTL.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HopAnswer {
    /// The router that said time exceeded, or the host itself at the last hop.
    pub addr: IpAddr,
    /// From sending the probe to its answer.
    pub rtt: Duration,
    /// Its reverse DNS name, when looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One hop: a TTL, and who answered there (`None`: nothing came back, nmap's `...`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TraceHop {
    pub ttl: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<HopAnswer>,
}

impl TraceHop {
    pub fn silent(ttl: u8) -> TraceHop {
        TraceHop { ttl, answer: None }
    }

    pub fn answered(ttl: u8, addr: IpAddr, rtt: Duration) -> TraceHop {
        TraceHop { ttl, answer: Some(HopAnswer { addr, rtt, name: None }) }
    }

    pub fn addr(&self) -> Option<IpAddr> {
        self.answer.as_ref().map(|a| a.addr)
    }
}

/// A host's trace: the probe used and the hops, the host last when it answered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Trace {
    /// `None` for a host on the local link: it is one hop away and nothing was sent (nmap prints no
    /// "using" either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<TraceProbe>,
    /// By TTL, from 1; a TTL without an entry was not probed (hops copied from another trace are entries).
    pub hops: Vec<TraceHop>,
    /// Hops 1..=N were not probed but copied from the trace of this other host, which goes through the same
    /// first routers: (N, that host). nmap prints "Hops 1-N are the same as for HOST".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<(u8, IpAddr)>,
}

impl Trace {
    /// Whether the host itself answered (the last hop is the host).
    pub fn reached(&self, host: IpAddr) -> bool {
        self.hops.last().and_then(TraceHop::addr) == Some(host)
    }
}
