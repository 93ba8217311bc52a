//! What the detector reports: [`Alert`] records (an incident's start, its updates and its
//! end, told apart by [`AlertKind`]), the [`ObservedScan`] and the guessed [`Tool`], with the JSON
//! Lines object and the one readable line that outputs print.
//!
//! # Incidents
//! Every scan the detector recognises is one *incident* with a number of its own
//! ([`Alert::incident`], unique within one detector's life). It is reported once when it
//! starts being a scan ([`AlertKind::Start`]), then at most once per
//! [`crate::DetectorConfig::update_interval`] while it grows ([`AlertKind::Update`]), and closed
//! by one [`AlertKind::End`] record with the true totals when it goes quiet, when the detector
//! is finished (end of a replay, `--for`, Ctrl-C) or, rarely, when its source is evicted.
//!
//! # JSON Lines
//! A start or update record (`"type":"alert"`):
//!
//! ```json
//! {"type":"alert","incident":3,"src":"198.18.0.1","dst":"198.18.0.2","dsts":["198.18.0.2"],
//!  "dst_count":1,"dsts_truncated":false,"scan_type":"syn","ports":[1,2,3],"port_count":3,
//!  "port_count_exact":true,"port_range":[1,3],"ports_truncated":false,
//!  "first_seen":"2024-11-22T10:00:01.000000Z","last_seen":"2024-11-22T10:00:02.000000Z",
//!  "probes":12,"tool":"nmap","tool_confidence":1.0,"os":"Linux 5.X","os_accuracy":70,
//!  "confidence":0.9,"trigger":"threshold",
//!  "pace":"normal","update":0}
//! ```
//! The closing record (`"type":"scan-end"`) has the same fields except `update`, plus
//! `updates` (how many update records came before it), `reason` (`quiet`, `finish`,
//! `evicted`) and `duration_s` (last minus first probe, in seconds):
//!
//! ```json
//! {"type":"scan-end","incident":3,"reason":"quiet","src":"198.18.0.1",...,"probes":200,
//!  "port_count":200,"port_range":[1,200],"ports":[1,2,...,128],"ports_truncated":true,...}
//! ```
//! - `ports` lists the lowest ports, at most [`crate::DetectorConfig::max_ports_per_scan`];
//!   `ports_truncated` is true when there are more (`port_count` says how many). `dsts`
//!   likewise holds at most [`Alert::MAX_DSTS`] addresses, with `dsts_truncated`.
//! - `port_count` and `port_range` are exact: each incident keeps a bitmap of every port
//!   (8 KiB, only once it passes 256 ports). `port_count_exact` is false only when the
//!   detector's budget of bitmaps ([`crate::DetectorConfig::max_port_maps`]) was spent; the
//!   count is then an upper bound. `dst_count` is exact up to [`Alert::MAX_DSTS`] addresses and
//!   estimated beyond.
//! - `probes` counts every probe of the incident, retransmissions included.
//! - `os` is the scanning source's likely operating system, guessed passively from its first SYN
//!   (TTL, window, TCP options, DF; see [`crate::os_guess`]) with `os_accuracy` in percent; `null`
//!   and 0 when the source sent no SYN or nothing matched. A crafted SYN (nmap -sS, masscan, zmap)
//!   shows the tool's choices rather than the system's, so the guess is most telling for connect scans.
//! - `dst` is the first address probed; `tool` is `null` when unknown; `port_range` is `null`
//!   when there are no ports; times are RFC 3339 UTC.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Value, json};
use tojimari_core::ScanType;

use crate::os_guess::OsGuess;
use crate::time::Timestamp;

/// The kind of scan observed, named by what the probes look like on the wire: a port scan of one of the
/// scan types (the scanner's own vocabulary, [`ScanType`]), or a sweep across addresses.
///
/// Only the port scan types told apart on the wire occur: `Syn` (a crafted SYN: nmap -sS, masscan, zmap),
/// `Connect` (full handshakes from the operating system's own stack: nmap -sT, `connect()` loops), `Fin`,
/// `Null`, `Xmas`, `Ack` (a bare ACK outside any connection: nmap -sA and -sW look alike, so both are `Ack`),
/// `Maimon` (FIN+ACK) and `Udp`. `Window`, `Custom`, `PingOnly` and `List` are never reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservedScan {
    /// Probes of one scan type to many ports.
    Ports(ScanType),
    /// ICMP echo/timestamp/address-mask requests to many addresses (ping sweeps).
    IcmpSweep,
    /// The same port(s) probed across many addresses (zmap, masscan over a range).
    HostSweep,
}

impl ObservedScan {
    /// Every kind the detector reports, in report order.
    pub const ALL: [ObservedScan; 10] = [
        ObservedScan::Ports(ScanType::Syn),
        ObservedScan::Ports(ScanType::Connect),
        ObservedScan::Ports(ScanType::Fin),
        ObservedScan::Ports(ScanType::Null),
        ObservedScan::Ports(ScanType::Xmas),
        ObservedScan::Ports(ScanType::Ack),
        ObservedScan::Ports(ScanType::Maimon),
        ObservedScan::Ports(ScanType::Udp),
        ObservedScan::IcmpSweep,
        ObservedScan::HostSweep,
    ];

    /// The stable name used in JSON and on the readable line: the scan type's nmap XML name (`syn`,
    /// `connect`, `ack`, ...), `icmp-sweep` or `host-sweep`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservedScan::Ports(t) => t.xml_name(),
            ObservedScan::IcmpSweep => "icmp-sweep",
            ObservedScan::HostSweep => "host-sweep",
        }
    }

    /// Whether no ordinary TCP stack ever sends these flags, so a handful is already telling.
    pub fn is_invalid_flags(self) -> bool {
        matches!(self, ObservedScan::Ports(ScanType::Fin | ScanType::Null | ScanType::Xmas))
    }
}

impl fmt::Display for ObservedScan {
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

/// Which record of an incident an [`Alert`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// The scan was just recognised (`probes` = probes it took).
    Start,
    /// The scan goes on and has reached new ports or addresses.
    Update,
    /// The scan is over (or no longer followed): the totals are final.
    End(EndReason),
}

/// Why an incident was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// No probe of this scan for the quiet time ([`crate::DetectorConfig::quiet_timeout`],
    /// longer for slow scans).
    Quiet,
    /// The detector was finished: end of a replay, of `--for`, Ctrl-C.
    Finish,
    /// Its source was evicted to make room for another (the source table was full).
    Evicted,
}

impl EndReason {
    /// The stable name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Quiet => "quiet",
            EndReason::Finish => "finish",
            EndReason::Evicted => "evicted",
        }
    }
}

/// One record of a scan incident from one source: its start, an update, or its end (see the
/// module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Start, update or end.
    pub kind: AlertKind,
    /// The incident's number, the same on all its records.
    pub incident: u64,
    /// The scanning address.
    pub src: IpAddr,
    /// Addresses probed, first-probed first, at most [`Alert::MAX_DSTS`].
    pub dsts: Vec<IpAddr>,
    /// How many distinct addresses were probed (may exceed `dsts.len()`).
    pub dst_count: u32,
    /// The kind of scan.
    pub scan_type: ObservedScan,
    /// The lowest distinct ports probed, sorted, at most
    /// [`crate::DetectorConfig::max_ports_per_scan`].
    pub ports: Vec<u16>,
    /// How many distinct ports were probed (may exceed `ports.len()`).
    pub port_count: u32,
    /// False when `port_count` is an upper bound (the detector's bitmap budget was spent).
    pub port_count_exact: bool,
    /// The lowest and highest port probed.
    pub port_range: Option<(u16, u16)>,
    /// The first probe of this incident.
    pub first_seen: Timestamp,
    /// The latest probe.
    pub last_seen: Timestamp,
    /// Probes of this incident up to this record (for the start: the number of probes it
    /// took to recognise the scan; for the end: all of them).
    pub probes: u32,
    /// The tool, when the packets carry its fingerprint.
    pub tool: Option<Tool>,
    /// Share of fingerprinted probes that matched `tool` (0 when no tool).
    pub tool_confidence: f32,
    /// The source's likely operating system, guessed passively from its first SYN (see
    /// [`crate::os_guess`]); `None` when it sent no SYN or nothing matched.
    pub os: Option<OsGuess>,
    /// How sure the detector is that this is a scan, 0..=1.
    pub confidence: f32,
    /// Which rule fired.
    pub trigger: Trigger,
    /// Normal or slow.
    pub pace: Pace,
    /// 0 for the start, then 1, 2, ... for updates; on the end record, how many updates came.
    pub update: u32,
}

impl Alert {
    /// How many destination addresses an alert lists.
    pub const MAX_DSTS: usize = 16;

    /// Whether `ports` holds fewer ports than were probed.
    pub fn ports_truncated(&self) -> bool {
        u32::try_from(self.ports.len()).is_ok_and(|n| n < self.port_count)
    }

    /// The JSON Lines object (see the module docs for the fields).
    pub fn to_json(&self) -> Value {
        let dsts: Vec<String> = self.dsts.iter().map(ToString::to_string).collect();
        let mut object = json!({
            "type": if matches!(self.kind, AlertKind::End(_)) { "scan-end" } else { "alert" },
            "incident": self.incident,
            "src": self.src.to_string(),
            "dst": dsts.first(),
            "dsts_truncated": (dsts.len() as u64) < u64::from(self.dst_count),
            "dsts": dsts,
            "dst_count": self.dst_count,
            "scan_type": self.scan_type.as_str(),
            "ports": self.ports,
            "port_count": self.port_count,
            "port_count_exact": self.port_count_exact,
            "port_range": self.port_range.map(|(lo, hi)| [lo, hi]),
            "ports_truncated": self.ports_truncated(),
            "first_seen": self.first_seen.to_rfc3339(),
            "last_seen": self.last_seen.to_rfc3339(),
            "probes": self.probes,
            "tool": self.tool.map(Tool::as_str),
            "tool_confidence": round2(self.tool_confidence),
            "os": self.os.as_ref().map(|o| o.name.as_str()),
            "os_accuracy": self.os.as_ref().map_or(0, |o| o.accuracy),
            "confidence": round2(self.confidence),
            "trigger": self.trigger.as_str(),
            "pace": self.pace.as_str(),
        });
        if let Value::Object(map) = &mut object {
            match self.kind {
                AlertKind::End(reason) => {
                    map.insert("reason".into(), reason.as_str().into());
                    map.insert("updates".into(), self.update.into());
                    let secs = self.last_seen.since(self.first_seen).as_secs_f64();
                    map.insert("duration_s".into(), json!((secs * 1000.0).round() / 1000.0));
                }
                AlertKind::Start | AlertKind::Update => {
                    map.insert("update".into(), self.update.into());
                }
            }
        }
        object
    }

    /// One readable line, the same on stderr and in syslog, e.g.
    /// `2024-11-22T10:00:02.000000Z syn scan from 198.18.0.1 to 198.18.0.2: 12 probes, 10 ports (1-10), tool nmap (100%), os Linux 5.X (passive, 70%), confidence 0.90, incident 3`
    /// for a start, `... syn scan continues from ...` for an update, and for the end
    /// `2024-11-22T10:00:09.000000Z syn scan ended (quiet) from 198.18.0.1 to 198.18.0.2: 200 probes, 200 ports (1-200) in 7.0 s, tool nmap (100%), os unknown, incident 3`.
    /// The OS part is `os {name} (passive, {accuracy}%)`, or `os unknown` when there is no guess.
    /// A count that is an estimate reads `~523 ports`.
    pub fn line(&self) -> String {
        let to = match self.dsts.first() {
            Some(first) if self.dst_count > 1 => format!("{first} and {} more", self.dst_count - 1),
            Some(first) => first.to_string(),
            None => "?".to_owned(),
        };
        let range = match self.port_range {
            Some((lo, hi)) if lo != hi => format!(" ({lo}-{hi})"),
            Some((lo, _)) => format!(" ({lo})"),
            None => String::new(),
        };
        let tool = match self.tool {
            Some(tool) => format!(", tool {} ({:.0}%)", tool.as_str(), self.tool_confidence * 100.0),
            None => String::new(),
        };
        let tool = match &self.os {
            Some(os) => format!("{tool}, os {} (passive, {}%)", printable(&os.name), os.accuracy),
            None => format!("{tool}, os unknown"),
        };
        let about = if self.port_count_exact { "" } else { "~" };
        let pace = if self.pace == Pace::Slow { " slow" } else { "" };
        let (kind, tail) = match self.kind {
            AlertKind::Start => (String::new(), format!("{tool}, confidence {:.2}", self.confidence)),
            AlertKind::Update => (" continues".to_owned(), format!("{tool}, confidence {:.2}", self.confidence)),
            AlertKind::End(reason) => {
                let secs = self.last_seen.since(self.first_seen).as_secs_f64();
                (format!(" ended ({})", reason.as_str()), format!(" in {secs:.1} s{tool}"))
            }
        };
        format!(
            "{}{pace} {} scan{kind} from {} to {to}: {} probes, {about}{} ports{range}{tail}, incident {}",
            self.last_seen, self.scan_type, self.src, self.probes, self.port_count, self.incident
        )
    }
}

/// `name` with control characters spelled `\xNN`: the name comes from a database file, and the line
/// goes to a terminal and to syslog.
fn printable(name: &str) -> String {
    name.chars().map(|c| if c.is_control() { format!("\\x{:02x}", u32::from(c)) } else { c.to_string() }).collect()
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Alert {
        Alert {
            kind: AlertKind::Start,
            incident: 3,
            src: "198.18.0.1".parse().unwrap(),
            dsts: vec!["198.18.0.2".parse().unwrap()],
            dst_count: 1,
            scan_type: ObservedScan::IcmpSweep,
            ports: vec![1, 2, 80],
            port_count: 3,
            port_count_exact: true,
            port_range: Some((1, 80)),
            first_seen: Timestamp::from_secs(1_700_000_000),
            last_seen: Timestamp::from_secs(1_700_000_002),
            probes: 12,
            tool: Some(Tool::Masscan),
            tool_confidence: 1.0,
            os: None,
            confidence: 0.876,
            trigger: Trigger::Threshold,
            pace: Pace::Normal,
            update: 0,
        }
    }

    #[test]
    fn observed_scan_names_are_the_stable_ones() {
        let names: Vec<_> = ObservedScan::ALL.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            names,
            ["syn", "connect", "fin", "null", "xmas", "ack", "maimon", "udp", "icmp-sweep", "host-sweep"]
        );
        let invalid: Vec<_> = ObservedScan::ALL.iter().filter(|t| t.is_invalid_flags()).map(|t| t.as_str()).collect();
        assert_eq!(invalid, ["fin", "null", "xmas"]);
    }

    #[test]
    fn json_has_the_documented_fields() {
        let v = sample().to_json();
        assert_eq!(v["type"], "alert");
        assert_eq!(v["incident"], 3);
        assert_eq!(v["src"], "198.18.0.1");
        assert_eq!(v["dst"], "198.18.0.2");
        assert_eq!(v["scan_type"], "icmp-sweep");
        assert_eq!(v["ports"], json!([1, 2, 80]));
        assert_eq!(v["port_range"], json!([1, 80]));
        assert_eq!(v["ports_truncated"], false);
        assert_eq!(v["port_count_exact"], true);
        assert_eq!(v["dsts_truncated"], false);
        assert_eq!(v["first_seen"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(v["last_seen"], "2023-11-14T22:13:22.000000Z");
        assert_eq!(v["tool"], "masscan");
        assert_eq!(v["confidence"], 0.88);
        assert_eq!(v["probes"], 12);
        assert_eq!(v["update"], 0);
        assert!(v.get("reason").is_none());
        let mut no_tool = sample();
        no_tool.tool = None;
        assert!(no_tool.to_json()["tool"].is_null());
        assert!(v["os"].is_null());
        assert_eq!(v["os_accuracy"], 0);
        let guessed = Alert { os: Some(OsGuess { name: "Linux 5.X".into(), accuracy: 70 }), ..sample() };
        assert_eq!(
            (guessed.to_json()["os"].clone(), guessed.to_json()["os_accuracy"].clone()),
            (json!("Linux 5.X"), json!(70))
        );
    }

    #[test]
    fn the_end_record_states_its_caps() {
        let end = Alert {
            kind: AlertKind::End(EndReason::Quiet),
            port_count: 200,
            port_range: Some((1, 200)),
            dst_count: 20,
            update: 2,
            ..sample()
        };
        let v = end.to_json();
        assert_eq!(v["type"], "scan-end");
        assert_eq!(v["reason"], "quiet");
        assert_eq!(v["updates"], 2);
        assert!(v.get("update").is_none(), "a scan-end record is not a start");
        assert_eq!(v["ports_truncated"], true);
        assert_eq!(v["dsts_truncated"], true);
        assert_eq!(v["duration_s"], 2.0);
        assert_eq!(
            end.line(),
            "2023-11-14T22:13:22.000000Z icmp-sweep scan ended (quiet) from 198.18.0.1 to 198.18.0.2 and 19 more: \
             12 probes, 200 ports (1-200) in 2.0 s, tool masscan (100%), os unknown, incident 3"
        );
    }

    #[test]
    fn readable_line() {
        assert_eq!(
            sample().line(),
            "2023-11-14T22:13:22.000000Z icmp-sweep scan from 198.18.0.1 to 198.18.0.2: 12 probes, 3 ports (1-80), \
             tool masscan (100%), os unknown, confidence 0.88, incident 3"
        );
        let guessed = Alert { os: Some(OsGuess { name: "Linux 5.X\u{1b}".into(), accuracy: 70 }), ..sample() };
        assert!(guessed.line().contains(", tool masscan (100%), os Linux 5.X\\x1b (passive, 70%), confidence 0.88,"));
        let estimate = Alert { kind: AlertKind::Update, port_count_exact: false, update: 1, ..sample() };
        assert!(estimate.line().contains(" scan continues from ") && estimate.line().contains("~3 ports"));
    }
}
