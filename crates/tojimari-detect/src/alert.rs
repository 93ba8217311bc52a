//! What the detector reports: [`Alert`], its [`ScanType`] and the guessed [`Tool`], with the
//! JSON Lines object and the one readable line that outputs print.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Value, json};

use crate::time::Timestamp;

/// The kind of scan, named by what the probes look like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanType {
    /// Half-open SYN scan from a crafted packet (nmap -sS, masscan, zmap).
    Syn,
    /// Full handshakes from the operating system's own stack (nmap -sT, `connect()` loops).
    Connect,
    /// Bare FIN (nmap -sF).
    Fin,
    /// No flags at all (nmap -sN).
    Null,
    /// FIN+PSH+URG (nmap -sX).
    Xmas,
    /// Bare ACK outside any connection (nmap -sA and -sW look alike).
    Ack,
    /// FIN+ACK outside any connection (nmap -sM).
    Maimon,
    /// UDP datagrams to many ports (nmap -sU).
    Udp,
    /// ICMP echo/timestamp/address-mask requests to many addresses (ping sweeps).
    IcmpSweep,
    /// The same port(s) probed across many addresses (zmap, masscan over a range).
    HostSweep,
}

impl ScanType {
    /// Every scan type, in report order.
    pub const ALL: [ScanType; 10] = [
        ScanType::Syn,
        ScanType::Connect,
        ScanType::Fin,
        ScanType::Null,
        ScanType::Xmas,
        ScanType::Ack,
        ScanType::Maimon,
        ScanType::Udp,
        ScanType::IcmpSweep,
        ScanType::HostSweep,
    ];

    /// The stable name used in JSON and on the readable line.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Syn => "syn",
            ScanType::Connect => "connect",
            ScanType::Fin => "fin",
            ScanType::Null => "null",
            ScanType::Xmas => "xmas",
            ScanType::Ack => "ack",
            ScanType::Maimon => "maimon",
            ScanType::Udp => "udp",
            ScanType::IcmpSweep => "icmp-sweep",
            ScanType::HostSweep => "host-sweep",
        }
    }

    /// Whether no ordinary TCP stack ever sends these flags, so a handful is already telling.
    pub fn is_invalid_flags(self) -> bool {
        matches!(self, ScanType::Fin | ScanType::Null | ScanType::Xmas)
    }
}

impl fmt::Display for ScanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scanning tool recognised from the packets themselves (see [`crate::fingerprint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// nmap's raw-packet scans.
    Nmap,
    /// masscan.
    Masscan,
    /// zmap.
    Zmap,
}

impl Tool {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Nmap => "nmap",
            Tool::Masscan => "masscan",
            Tool::Zmap => "zmap",
        }
    }
}

/// Which rule raised the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Enough distinct ports (or addresses) with failed or invalid probes.
    Threshold,
    /// The threshold random walk over first contacts crossed its upper bound.
    RandomWalk,
}

impl Trigger {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Threshold => "threshold",
            Trigger::RandomWalk => "random-walk",
        }
    }
}

/// How fast the probes came: `Slow` when they averaged more than
/// [`crate::DetectorConfig::slow_gap`] apart (nmap -T1, a probe every few minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Probes arrive faster than the slow gap on average.
    Normal,
    /// Probes arrive slower than the slow gap on average.
    Slow,
}

impl Pace {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Pace::Normal => "normal",
            Pace::Slow => "slow",
        }
    }
}

/// One scan report for a (source, scan type): the first one when the scan is detected, then
/// updates as described in [`crate::Detector`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The scanning address.
    pub src: IpAddr,
    /// Addresses probed, first-probed first, at most [`Alert::MAX_DSTS`].
    pub dsts: Vec<IpAddr>,
    /// How many distinct addresses were probed (may exceed `dsts.len()`).
    pub dst_count: u32,
    /// The kind of scan.
    pub scan_type: ScanType,
    /// Distinct ports probed, sorted, at most [`crate::DetectorConfig::max_ports_per_scan`].
    pub ports: Vec<u16>,
    /// How many distinct ports were probed (may exceed `ports.len()`).
    pub port_count: u32,
    /// The first probe of this scan type from this source.
    pub first_seen: Timestamp,
    /// The latest probe.
    pub last_seen: Timestamp,
    /// Probes of this type seen from this source up to this alert (for the first alert: the
    /// number of probes it took to detect the scan).
    pub probes: u32,
    /// The tool, when the packets carry its fingerprint.
    pub tool: Option<Tool>,
    /// Share of fingerprinted probes that matched `tool` (0 when no tool).
    pub tool_confidence: f32,
    /// How sure the detector is that this is a scan, 0..=1.
    pub confidence: f32,
    /// Which rule fired.
    pub trigger: Trigger,
    /// Normal or slow.
    pub pace: Pace,
    /// 0 for the first alert of this (source, scan type), then 1, 2, ... for updates.
    pub update: u32,
}

impl Alert {
    /// How many destination addresses an alert lists.
    pub const MAX_DSTS: usize = 16;

    /// The JSON Lines object:
    ///
    /// ```json
    /// {"type":"alert","src":"198.18.0.1","dst":"198.18.0.2","dsts":["198.18.0.2"],"dst_count":1,
    ///  "scan_type":"syn","ports":[1,2,3],"port_count":3,"first_seen":"2024-11-22T10:00:01.000000Z",
    ///  "last_seen":"2024-11-22T10:00:02.000000Z","probes":12,"tool":"nmap","tool_confidence":1.0,
    ///  "confidence":0.9,"trigger":"threshold","pace":"normal","update":0}
    /// ```
    /// `dst` is the first address probed; `tool` is `null` when unknown; times are RFC 3339 UTC.
    pub fn to_json(&self) -> Value {
        let dsts: Vec<String> = self.dsts.iter().map(ToString::to_string).collect();
        json!({
            "type": "alert",
            "src": self.src.to_string(),
            "dst": dsts.first(),
            "dsts": dsts,
            "dst_count": self.dst_count,
            "scan_type": self.scan_type.as_str(),
            "ports": self.ports,
            "port_count": self.port_count,
            "first_seen": self.first_seen.to_rfc3339(),
            "last_seen": self.last_seen.to_rfc3339(),
            "probes": self.probes,
            "tool": self.tool.map(Tool::as_str),
            "tool_confidence": round2(self.tool_confidence),
            "confidence": round2(self.confidence),
            "trigger": self.trigger.as_str(),
            "pace": self.pace.as_str(),
            "update": self.update,
        })
    }

    /// One readable line, e.g.
    /// `2024-11-22T10:00:02.000000Z syn scan from 198.18.0.1 to 198.18.0.2: 12 probes, 10 ports (1-10), tool nmap (100%), confidence 0.90`.
    pub fn line(&self) -> String {
        let to = match self.dsts.first() {
            Some(first) if self.dst_count > 1 => format!("{first} and {} more", self.dst_count - 1),
            Some(first) => first.to_string(),
            None => "?".to_owned(),
        };
        let range = match (self.ports.first(), self.ports.last()) {
            (Some(lo), Some(hi)) if lo != hi => format!(" ({lo}-{hi})"),
            (Some(lo), _) => format!(" ({lo})"),
            _ => String::new(),
        };
        let tool = match self.tool {
            Some(tool) => format!(", tool {} ({:.0}%)", tool.as_str(), self.tool_confidence * 100.0),
            None => String::new(),
        };
        let kind = if self.update == 0 { "scan" } else { "scan continues" };
        let pace = if self.pace == Pace::Slow { " slow" } else { "" };
        format!(
            "{}{pace} {} {kind} from {} to {to}: {} probes, {} ports{range}{tool}, confidence {:.2}",
            self.last_seen, self.scan_type, self.src, self.probes, self.port_count, self.confidence
        )
    }
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Alert {
        Alert {
            src: "198.18.0.1".parse().unwrap(),
            dsts: vec!["198.18.0.2".parse().unwrap()],
            dst_count: 1,
            scan_type: ScanType::IcmpSweep,
            ports: vec![1, 2, 80],
            port_count: 3,
            first_seen: Timestamp::from_secs(1_700_000_000),
            last_seen: Timestamp::from_secs(1_700_000_002),
            probes: 12,
            tool: Some(Tool::Masscan),
            tool_confidence: 1.0,
            confidence: 0.876,
            trigger: Trigger::Threshold,
            pace: Pace::Normal,
            update: 0,
        }
    }

    #[test]
    fn json_has_the_documented_fields() {
        let v = sample().to_json();
        assert_eq!(v["type"], "alert");
        assert_eq!(v["src"], "198.18.0.1");
        assert_eq!(v["dst"], "198.18.0.2");
        assert_eq!(v["scan_type"], "icmp-sweep");
        assert_eq!(v["ports"], json!([1, 2, 80]));
        assert_eq!(v["first_seen"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(v["last_seen"], "2023-11-14T22:13:22.000000Z");
        assert_eq!(v["tool"], "masscan");
        assert_eq!(v["confidence"], 0.88);
        assert_eq!(v["probes"], 12);
        let mut no_tool = sample();
        no_tool.tool = None;
        assert!(no_tool.to_json()["tool"].is_null());
    }

    #[test]
    fn readable_line() {
        assert_eq!(
            sample().line(),
            "2023-11-14T22:13:22.000000Z icmp-sweep scan from 198.18.0.1 to 198.18.0.2: 12 probes, 3 ports (1-80), \
             tool masscan (100%), confidence 0.88"
        );
    }
}
