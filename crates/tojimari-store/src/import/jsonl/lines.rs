//! The lines of tojimari's JSON Lines (`tojimari_output::jsonl` documents them), as serde reads them, and
//! each turned into core's values. Keys a line does not need are ignored, keys a newer tojimari adds too.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport, PortUsed, SequenceClass, TcpSequence, Uptime};
use tojimari_core::report::{Detail, Finding, PortResult, ServiceInfo, ServiceMethod, Severity, Tunnel};

use crate::import::{ImportError, Position};

/// One line, by its `type`; a type this reader does not know is [`Line::Other`] and skipped.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(super) enum Line {
    Run(RunLine),
    Port(Box<PortLine>),
    Finding(FindingLine),
    Os(Box<OsLine>),
    Trace(Box<TraceLine>),
    Host(HostLine),
    Summary(SummaryLine),
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
pub(super) struct RunLine {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub args: String,
    pub start: f64,
    #[serde(default)]
    pub scans: Vec<ScanLine>,
}

#[derive(Deserialize)]
pub(super) struct ScanLine {
    #[serde(rename = "type")]
    pub scan_type: String,
    pub proto: String,
}

#[derive(Deserialize)]
pub(super) struct PortLine {
    pub addr: IpAddr,
    pub proto: String,
    pub port: u16,
    pub state: String,
    pub reason: String,
    #[serde(default)]
    pub reason_ttl: u8,
    pub service: Option<String>,
    method: Option<String>,
    #[serde(default)]
    conf: u8,
    product: Option<String>,
    version: Option<String>,
    extrainfo: Option<String>,
    hostname: Option<String>,
    ostype: Option<String>,
    devicetype: Option<String>,
    tunnel: Option<String>,
    #[serde(default)]
    cpe: Vec<String>,
    #[serde(default)]
    details: Vec<DetailLine>,
}

#[derive(Deserialize)]
struct DetailLine {
    id: String,
    output: String,
}

#[derive(Deserialize)]
pub(super) struct FindingLine {
    pub addr: IpAddr,
    pub proto: String,
    pub port: u16,
    pub id: String,
    pub severity: String,
    pub evidence: String,
    #[serde(default)]
    pub advice: String,
}

#[derive(Deserialize)]
pub(super) struct OsLine {
    pub addr: IpAddr,
    method: String,
    #[serde(default)]
    matches: Vec<MatchLine>,
    #[serde(default)]
    guessed: bool,
    #[serde(default)]
    ports_used: Vec<PortUsedLine>,
    distance: Option<u8>,
    uptime_s: Option<u64>,
    last_boot: Option<f64>,
    tcp_sequence: Option<TcpSequenceLine>,
    ip_id_sequence: Option<SequenceLine>,
    ts_sequence: Option<SequenceLine>,
    #[serde(default)]
    notes: Vec<String>,
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct MatchLine {
    name: String,
    accuracy: u8,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    classes: Vec<ClassLine>,
}

#[derive(Deserialize)]
struct ClassLine {
    #[serde(rename = "type")]
    device_type: Option<String>,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    family: String,
    generation: Option<String>,
    #[serde(default)]
    accuracy: u8,
    #[serde(default)]
    cpe: Vec<String>,
}

#[derive(Deserialize)]
struct PortUsedLine {
    state: String,
    proto: String,
    port: u16,
}

#[derive(Deserialize)]
struct TcpSequenceLine {
    index: u32,
    difficulty: String,
    #[serde(default)]
    values: Vec<u32>,
}

#[derive(Deserialize)]
struct SequenceLine {
    class: String,
    #[serde(default)]
    values: Vec<u32>,
}

#[derive(Deserialize)]
pub(super) struct HostLine {
    pub addr: IpAddr,
    #[serde(default)]
    pub hostnames: Vec<NameLine>,
    pub state: String,
    pub reason: String,
    #[serde(default)]
    pub reason_ttl: u8,
    pub start: f64,
    pub end: f64,
    pub latency_ms: Option<f64>,
    /// The variation and the probe timeout (XML `<times>`); files written before December 2026 have neither
    /// (then 0).
    #[serde(default)]
    pub rttvar_ms: Option<f64>,
    #[serde(default)]
    pub timeout_ms: Option<f64>,
    #[serde(default)]
    pub collapsed: Vec<CollapsedLine>,
    #[serde(default = "yes")]
    pub complete: bool,
    #[serde(default)]
    pub timed_out: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
pub(super) struct NameLine {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
pub(super) struct CollapsedLine {
    pub state: String,
    pub proto: String,
    pub reason: String,
    pub count: usize,
    pub ports: String,
}

#[derive(Deserialize)]
pub(super) struct SummaryLine {
    pub end: f64,
    pub elapsed: f64,
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub hosts_total: u64,
    pub exit: String,
    pub error: Option<String>,
}

/// Reports a value a line cannot have.
pub(super) fn bad(at: Position, line: &str, key: &str, value: impl ToString, problem: &str) -> ImportError {
    ImportError::BadValue {
        at,
        element: format!("{line} line"),
        attribute: key.to_string(),
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

/// A name parsed with core's parser (states, reasons, protocols).
pub(super) fn parse<T: std::str::FromStr>(at: Position, line: &str, key: &str, value: &str) -> Result<T, ImportError> {
    value.parse().map_err(|_| bad(at, line, key, value, "not a name tojimari writes"))
}

/// Unix seconds with a fraction, kept to the microsecond as the writer keeps them.
pub(super) fn time(at: Position, line: &str, key: &str, secs: f64) -> Result<SystemTime, ImportError> {
    duration(at, line, key, secs).map(|d| UNIX_EPOCH + d)
}

/// Seconds with a fraction, kept to the microsecond.
pub(super) fn duration(at: Position, line: &str, key: &str, secs: f64) -> Result<Duration, ImportError> {
    // Ten thousand years: beyond that a value is not a time tojimari wrote.
    if !secs.is_finite() || !(0.0..=3.2e11).contains(&secs) {
        return Err(bad(at, line, key, secs, "not a time"));
    }
    Ok(Duration::from_micros((secs * 1e6).round() as u64))
}

impl PortLine {
    /// The port, with what version detection found when the line has it (`method` present); a port
    /// without has only the services-table name, which is not kept (the outputs look it up again).
    pub(super) fn port(self, at: Position) -> Result<PortResult, ImportError> {
        let mut port = PortResult::new(
            parse(at, "port", "proto", &self.proto)?,
            self.port,
            parse(at, "port", "state", &self.state)?,
            parse(at, "port", "reason", &self.reason)?,
        );
        port.reason_ttl = self.reason_ttl;
        if let Some(method) = self.method {
            let method = match method.as_str() {
                "probed" => ServiceMethod::Probed,
                "table" => ServiceMethod::Table,
                other => return Err(bad(at, "port", "method", other, "neither probed nor table")),
            };
            let tunnel = match self.tunnel.as_deref() {
                None => None,
                Some("ssl") => Some(Tunnel::Ssl),
                Some(other) => return Err(bad(at, "port", "tunnel", other, "not ssl")),
            };
            port.service = Some(Box::new(ServiceInfo {
                name: self.service.unwrap_or_default(),
                method,
                conf: self.conf,
                product: self.product,
                version: self.version,
                extrainfo: self.extrainfo,
                hostname: self.hostname,
                ostype: self.ostype,
                devicetype: self.devicetype,
                tunnel,
                cpe: self.cpe,
                details: self.details.into_iter().map(|d| Detail { id: d.id, output: d.output }).collect(),
                findings: Vec::new(),
            }));
        }
        Ok(port)
    }
}

impl FindingLine {
    pub(super) fn finding(self, at: Position) -> Result<Finding, ImportError> {
        let severity = Severity::parse(&self.severity)
            .ok_or_else(|| bad(at, "finding", "severity", &self.severity, "not a severity"))?;
        Ok(Finding { id: self.id, severity, evidence: self.evidence, advice: self.advice })
    }
}

impl OsLine {
    pub(super) fn report(self, at: Position) -> Result<OsReport, ImportError> {
        let method = match self.method.as_str() {
            "active" => OsMethod::Active,
            "passive" => OsMethod::Passive,
            other => return Err(bad(at, "os", "method", other, "neither active nor passive")),
        };
        let mut ports_used = Vec::with_capacity(self.ports_used.len());
        for p in self.ports_used {
            ports_used.push(PortUsed {
                state: parse(at, "os", "ports_used.state", &p.state)?,
                proto: parse(at, "os", "ports_used.proto", &p.proto)?,
                port: p.port,
            });
        }
        let uptime = match (self.uptime_s, self.last_boot) {
            (Some(seconds), Some(boot)) => Some(Uptime { seconds, last_boot: time(at, "os", "last_boot", boot)? }),
            (Some(seconds), None) => Some(Uptime { seconds, last_boot: UNIX_EPOCH }),
            _ => None,
        };
        Ok(OsReport {
            method,
            ports_used,
            matches: self
                .matches
                .into_iter()
                .map(|m| OsMatch {
                    name: m.name,
                    accuracy: m.accuracy,
                    line: m.line,
                    classes: m
                        .classes
                        .into_iter()
                        .map(|c| OsClass {
                            device_type: c.device_type.unwrap_or_default(),
                            vendor: c.vendor,
                            family: c.family,
                            generation: c.generation,
                            accuracy: c.accuracy,
                            cpe: c.cpe,
                        })
                        .collect(),
                })
                .collect(),
            guessed: self.guessed,
            notes: self.notes,
            distance: self.distance,
            uptime,
            tcp_sequence: self.tcp_sequence.map(|s| TcpSequence {
                index: s.index,
                difficulty: s.difficulty,
                values: s.values,
            }),
            ip_id_sequence: self.ip_id_sequence.map(|s| SequenceClass { class: s.class, values: s.values }),
            tcp_ts_sequence: self.ts_sequence.map(|s| SequenceClass { class: s.class, values: s.values }),
            fingerprint: self.fingerprint,
        })
    }
}

/// A `trace` line (`--traceroute`).
#[derive(Deserialize)]
pub(super) struct TraceLine {
    pub addr: IpAddr,
    #[serde(default)]
    pub probe: Option<TraceProbeLine>,
    pub hops: Vec<TraceHopLine>,
    #[serde(default)]
    pub same_as: Option<SameAsLine>,
}

#[derive(Deserialize)]
pub(super) struct TraceProbeLine {
    pub proto: String,
    #[serde(default)]
    pub port: Option<u16>,
}

#[derive(Deserialize)]
pub(super) struct TraceHopLine {
    pub ttl: u8,
    #[serde(default)]
    pub addr: Option<IpAddr>,
    #[serde(default)]
    pub rtt_ms: Option<f64>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct SameAsLine {
    pub hops: u8,
    pub addr: IpAddr,
}

impl TraceLine {
    /// The trace, or why the line is wrong.
    pub fn trace(self, at: Position) -> Result<tojimari_core::route::Trace, ImportError> {
        use tojimari_core::route::{Trace, TraceHop, TraceProbe};
        if self.hops.len() > 255 {
            return Err(bad(at, "trace", "hops", self.hops.len(), "more hops than TTLs"));
        }
        let probe = match self.probe {
            None => None,
            Some(p) => Some(match p.port {
                Some(port) => TraceProbe::Port { proto: parse(at, "trace", "probe.proto", &p.proto)?, port },
                None => {
                    let numbers = tojimari_core::ip_protocols::numbers_named(|n| n.eq_ignore_ascii_case(&p.proto));
                    let number = *numbers
                        .first()
                        .ok_or_else(|| bad(at, "trace", "probe.proto", &p.proto, "not an IP protocol"))?;
                    TraceProbe::Proto { number }
                }
            }),
        };
        let mut hops = Vec::with_capacity(self.hops.len());
        for h in self.hops {
            hops.push(match h.addr {
                Some(addr) => {
                    let ms = h.rtt_ms.unwrap_or(0.0);
                    if !(0.0..3.6e6).contains(&ms) {
                        return Err(bad(at, "trace", "hops.rtt_ms", ms, "not a round trip in milliseconds"));
                    }
                    // Written to the microsecond.
                    let rtt = Duration::from_micros((ms * 1000.0).round() as u64);
                    let mut hop = TraceHop::answered(h.ttl, addr, rtt);
                    if let Some(a) = hop.answer.as_mut() {
                        a.name = h.name;
                    }
                    hop
                }
                None => TraceHop::silent(h.ttl),
            });
        }
        Ok(Trace { probe, hops, same_as: self.same_as.map(|s| (s.hops, s.addr)) })
    }
}
