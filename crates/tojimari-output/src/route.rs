//! A host's traceroute in each format: nmap's TRACEROUTE section (normal output), the `<trace>` element
//! (XML, in the xml module) and tojimari's `trace` line (JSON Lines).
//!
//! Normal output, as nmap writes it:
//! ```text
//! TRACEROUTE (using port 23/tcp)
//! HOP RTT     ADDRESS
//! -   Hop 1 is the same as for 198.18.1.2
//! 2   ... 3
//! 4   0.03 ms 198.18.3.254
//! 5   0.10 ms router.example (198.18.4.2)
//! ```
//! A run of TTLs without an answer is one row (`2   ...` or `2   ... 3`); hops copied from another host's
//! trace are one row too. A host on the local link, which is not probed, has no "(using ...)".

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;
use tojimari_core::route::{HopAnswer, Trace, TraceProbe, TraceRow};

/// The "using ..." words of the heading, and XML's `port`/`proto` attributes.
pub(crate) fn probe_words(probe: &TraceProbe) -> (Option<u16>, String) {
    match *probe {
        TraceProbe::Port { proto, port } => (Some(port), proto.as_str().to_owned()),
        TraceProbe::Proto { number } => {
            (None, tojimari_core::ip_protocols::name(number).unwrap_or("unknown").to_owned())
        }
    }
}

fn address(answer: &HopAnswer) -> String {
    match &answer.name {
        Some(name) => format!("{} ({})", crate::escape::printable(name), answer.addr),
        None => answer.addr.to_string(),
    }
}

/// The TRACEROUTE section of normal output, ending with a newline.
pub(crate) fn normal_section(trace: &Trace) -> String {
    let rows: Vec<(String, String, String)> = trace
        .rows()
        .into_iter()
        .map(|row| match row {
            TraceRow::SameAs { hops: 1, host } => {
                ("-".into(), format!("Hop 1 is the same as for {host}"), String::new())
            }
            TraceRow::SameAs { hops, host } => {
                ("-".into(), format!("Hops 1-{hops} are the same as for {host}"), String::new())
            }
            TraceRow::Silent { first, last } if first == last => (first.to_string(), "...".into(), String::new()),
            TraceRow::Silent { first, last } => (first.to_string(), format!("... {last}"), String::new()),
            TraceRow::Answered { ttl, answer } => (ttl.to_string(), format!("{} ms", answer.rtt_ms()), address(answer)),
        })
        .collect();
    let mut s = String::from("TRACEROUTE");
    if let Some(probe) = &trace.probe {
        let _ = write!(s, " (using {})", probe.words());
    }
    s.push('\n');
    // Columns as wide as their widest cell (the copied-hops text spans the rest of its row) plus a space.
    let hop_w = rows.iter().map(|r| r.0.len()).chain([3]).max().unwrap_or(3) + 1;
    let rtt_w = rows.iter().filter(|r| r.0 != "-").map(|r| r.1.len()).chain([3]).max().unwrap_or(3) + 1;
    let _ = writeln!(s, "{:<hop_w$}{:<rtt_w$}ADDRESS", "HOP", "RTT");
    for (hop, rtt, addr) in rows {
        let line = if hop == "-" || addr.is_empty() {
            format!("{hop:<hop_w$}{rtt}")
        } else {
            format!("{hop:<hop_w$}{rtt:<rtt_w$}{addr}")
        };
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// JSON Lines' `trace` line.
#[derive(Serialize)]
pub(crate) struct TraceLine<'a> {
    addr: IpAddr,
    /// `{"proto":"tcp","port":23}` or `{"proto":"icmp"}`; absent for a host on the local link.
    #[serde(skip_serializing_if = "Option::is_none")]
    probe: Option<ProbeLine>,
    hops: Vec<HopLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    same_as: Option<SameAsLine>,
}

#[derive(Serialize)]
struct ProbeLine {
    proto: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Serialize)]
struct HopLine<'a> {
    ttl: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    addr: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct SameAsLine {
    hops: u8,
    addr: IpAddr,
}

impl<'a> TraceLine<'a> {
    pub(crate) fn new(addr: IpAddr, trace: &'a Trace) -> TraceLine<'a> {
        TraceLine {
            addr,
            probe: trace.probe.as_ref().map(|p| {
                let (port, proto) = probe_words(p);
                ProbeLine { proto, port }
            }),
            hops: trace
                .hops
                .iter()
                .map(|h| HopLine {
                    ttl: h.ttl,
                    addr: h.addr(),
                    rtt_ms: h.answer.as_ref().map(|a| (a.rtt.as_secs_f64() * 1_000_000.0).round() / 1000.0),
                    name: h.answer.as_ref().and_then(|a| a.name.as_deref()),
                })
                .collect(),
            same_as: trace.same_as.map(|(hops, addr)| SameAsLine { hops, addr }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tojimari_core::Protocol;
    use tojimari_core::route::TraceHop;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sections_read_as_nmaps() {
        let us = Duration::from_micros;
        let trace = Trace {
            probe: Some(TraceProbe::Port { proto: Protocol::Tcp, port: 23 }),
            hops: vec![
                TraceHop::answered(1, ip("198.18.0.199"), us(40)),
                TraceHop::silent(2),
                TraceHop::silent(3),
                TraceHop::answered(4, ip("198.18.3.254"), us(30)),
                TraceHop::answered(5, ip("198.18.4.2"), us(101)),
            ],
            same_as: Some((1, ip("198.18.1.2"))),
        };
        assert_eq!(
            normal_section(&trace),
            "TRACEROUTE (using port 23/tcp)\nHOP RTT     ADDRESS\n-   Hop 1 is the same as for 198.18.1.2\n2   ... 3\n\
             4   0.03 ms 198.18.3.254\n5   0.10 ms 198.18.4.2\n"
        );
        let echo = Trace {
            probe: Some(TraceProbe::Proto { number: 1 }),
            hops: vec![TraceHop::answered(1, ip("198.18.0.199"), us(10)), TraceHop::silent(2)],
            same_as: None,
        };
        assert_eq!(
            normal_section(&echo),
            "TRACEROUTE (using proto 1/icmp)\nHOP RTT     ADDRESS\n1   0.01 ms 198.18.0.199\n2   ...\n"
        );
        let adjacent =
            Trace { probe: None, hops: vec![TraceHop::answered(1, ip("198.18.0.2"), us(1234))], same_as: None };
        assert_eq!(normal_section(&adjacent), "TRACEROUTE\nHOP RTT     ADDRESS\n1   1.23 ms 198.18.0.2\n");
    }
}
