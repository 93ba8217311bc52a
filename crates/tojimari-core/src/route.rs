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

impl TraceProbe {
    /// The probe in nmap's words after "using": `port 23/tcp`, `proto 1/icmp`.
    pub fn words(&self) -> String {
        match *self {
            TraceProbe::Port { proto, port } => format!("port {port}/{}", proto.as_str()),
            TraceProbe::Proto { number } => {
                format!("proto {number}/{}", crate::ip_protocols::name(number).unwrap_or("unknown"))
            }
        }
    }
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

impl HopAnswer {
    /// The round trip as nmap writes it: milliseconds with two decimals (`0.03`).
    pub fn rtt_ms(&self) -> String {
        format!("{:.2}", self.rtt.as_secs_f64() * 1000.0)
    }
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

    /// The trace as nmap lists it, row by row: the copied hops first as one row, then each hop that
    /// answered, and each run of consecutive silent TTLs as one row.
    pub fn rows(&self) -> Vec<TraceRow<'_>> {
        let copied = self.same_as.map_or(0, |(n, _)| n);
        let mut rows: Vec<TraceRow<'_>> =
            self.same_as.map(|(hops, host)| TraceRow::SameAs { hops, host }).into_iter().collect();
        let mut run: Option<(u8, u8)> = None;
        for hop in self.hops.iter().filter(|h| h.ttl > copied) {
            match (&hop.answer, run) {
                (None, Some((first, last))) if hop.ttl == last.saturating_add(1) => run = Some((first, hop.ttl)),
                (None, _) => {
                    if let Some((first, last)) = run.replace((hop.ttl, hop.ttl)) {
                        rows.push(TraceRow::Silent { first, last });
                    }
                }
                (Some(answer), _) => {
                    if let Some((first, last)) = run.take() {
                        rows.push(TraceRow::Silent { first, last });
                    }
                    rows.push(TraceRow::Answered { ttl: hop.ttl, answer });
                }
            }
        }
        if let Some((first, last)) = run {
            rows.push(TraceRow::Silent { first, last });
        }
        rows
    }
}

/// One row of a trace as nmap lists it (normal output's TRACEROUTE section, the web page).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TraceRow<'a> {
    /// Hops 1 to `hops` are those of `host`'s trace (nmap: "Hops 1-3 are the same as for HOST").
    SameAs { hops: u8, host: IpAddr },
    /// TTLs `first` to `last` were sent and nothing answered (nmap: `...`, or `... 5` for a run).
    Silent { first: u8, last: u8 },
    /// The hop at `ttl` answered.
    Answered { ttl: u8, answer: &'a HopAnswer },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rows_fold_copied_hops_and_runs_of_silence() {
        let hop = |ttl: u8, addr: Option<&str>| match addr {
            Some(a) => TraceHop::answered(ttl, ip(a), Duration::from_millis(1)),
            None => TraceHop::silent(ttl),
        };
        let trace = Trace {
            probe: None,
            hops: vec![
                hop(1, Some("198.18.0.254")),
                hop(2, None),
                hop(3, None),
                hop(4, Some("198.18.3.254")),
                hop(5, None),
                hop(7, None),
                hop(8, Some("198.18.9.2")),
            ],
            same_as: Some((1, ip("198.18.9.9"))),
        };
        let rows = trace.rows();
        let shape: Vec<String> = rows
            .iter()
            .map(|r| match r {
                TraceRow::SameAs { hops, host } => format!("same {hops} {host}"),
                TraceRow::Silent { first, last } => format!("silent {first}-{last}"),
                TraceRow::Answered { ttl, answer } => format!("{ttl} {}", answer.addr),
            })
            .collect();
        // Hop 1 is copied; 2-3 one run; 5 and 7 are not consecutive (6 was not probed): two rows.
        assert_eq!(
            shape,
            ["same 1 198.18.9.9", "silent 2-3", "4 198.18.3.254", "silent 5-5", "silent 7-7", "8 198.18.9.2"]
        );
        assert!(Trace { probe: None, hops: vec![], same_as: None }.rows().is_empty());
    }
}
