//! What a scan produces: per-port results, per-host reports, and the run's header and summary.
//!
//! These are plain values handed to every [`Sink`](crate::Sink). Printers derive everything they show
//! (the "Not shown" lines, XML `extraports`, grepable "Ignored State") from them; engines never format.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use crate::portspec::PortSet;
use crate::protocol::Protocol;
pub use crate::scan_type::ScanType;
use crate::state::{PortState, Reason};

/// How a service name was found.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ServiceMethod {
    /// Looked up in the services table by port number (confidence 3, as nmap reports it).
    #[default]
    Table,
    /// Identified by probing the service.
    Probed,
}

impl ServiceMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMethod::Table => "table",
            ServiceMethod::Probed => "probed",
        }
    }
}

/// What stands behind a port: the services-table name, or everything version detection (`-sV`) found.
///
/// The fields mirror nmap's XML `<service>` element, so printers can write them one for one.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    pub method: ServiceMethod,
    /// Confidence 0..=10 as in nmap's XML `conf` attribute.
    pub conf: u8,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    /// The host name the service announced (an SMTP banner's name, say).
    pub hostname: Option<String>,
    pub ostype: Option<String>,
    pub devicetype: Option<String>,
    /// `Some(Tunnel::Ssl)` when the service was found inside TLS (XML `tunnel="ssl"`).
    pub tunnel: Option<Tunnel>,
    /// CPE names (`cpe:/a:openbsd:openssh:9.2p1`).
    pub cpe: Vec<String>,
    /// Detail sections shown under the port, like nmap's script output (`ssl-cert`, `http-title`, ...).
    pub details: Vec<Detail>,
    /// Exposure findings on this port.
    pub findings: Vec<Finding>,
}

impl ServiceInfo {
    /// A name from the services table or a probe, with nothing else known.
    pub fn named(name: impl Into<String>, method: ServiceMethod, conf: u8) -> Self {
        ServiceInfo { name: name.into(), method, conf, ..ServiceInfo::default() }
    }

    /// nmap's VERSION column: product, version and `(extrainfo)`, space-separated.
    pub fn version_line(&self) -> String {
        let mut line = String::new();
        for part in [&self.product, &self.version].into_iter().flatten() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(part);
        }
        if let Some(extra) = &self.extrainfo {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push('(');
            line.push_str(extra);
            line.push(')');
        }
        line
    }
}

/// A transport the service was found inside.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tunnel {
    Ssl,
}

impl Tunnel {
    pub fn as_str(self) -> &'static str {
        match self {
            Tunnel::Ssl => "ssl",
        }
    }
}

/// A titled block of facts about a port, printed like an nmap script (`| ssl-cert: Subject: ...`) and
/// written to XML as `<script id output>`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Detail {
    /// Stable identifier (`ssl-cert`, `tls-versions`, `http-title`, `ftp-anon`...).
    pub id: String,
    /// One or more lines, without trailing newline.
    pub output: String,
}

/// How bad an exposure is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Every severity, the least severe first.
    pub const ALL: [Severity; 5] =
        [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The severity [`Severity::as_str`] names.
    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Where a severity as the store and outputs write it sorts, the most severe first (0); words that
    /// name no severity (an import's own) after all of them.
    pub fn rank_of(name: &str) -> u8 {
        Severity::parse(name).map_or(Severity::ALL.len() as u8, |s| (Severity::Critical as u8) - (s as u8))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// An exposure finding: a door that should probably be shut, with what showed it and what to do.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Stable id (`telnet-cleartext`, `ftp-anonymous`, `redis-noauth`, ...).
    pub id: String,
    pub severity: Severity,
    /// What the service said or did that shows it (one line).
    pub evidence: String,
    /// One line of advice.
    pub advice: String,
}

/// One port's answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortResult {
    pub proto: Protocol,
    pub port: u16,
    pub state: PortState,
    pub reason: Reason,
    /// TTL of the reply that decided the state; 0 where the OS hides it (connect scan).
    pub reason_ttl: u8,
    /// Filled by service detection; printers fall back to the services table when `None`.
    pub service: Option<Box<ServiceInfo>>,
}

impl PortResult {
    pub fn new(proto: Protocol, port: u16, state: PortState, reason: Reason) -> Self {
        PortResult { proto, port, state, reason, reason_ttl: 0, service: None }
    }
}

/// Whether a host answered.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HostState {
    Up,
    Down,
    /// Not asked: a list scan (`-sL`) names targets without sending them anything.
    Unknown,
}

impl HostState {
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Up => "up",
            HostState::Down => "down",
            HostState::Unknown => "unknown",
        }
    }
}

/// Where a host name came from (XML `hostname type`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HostnameKind {
    /// The name the user typed as a target.
    User,
    /// Found by reverse DNS (a PTR record).
    Ptr,
}

impl HostnameKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HostnameKind::User => "user",
            HostnameKind::Ptr => "PTR",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hostname {
    pub name: String,
    pub kind: HostnameKind,
}

/// Round-trip timing measured for a host (XML `<times srtt rttvar to>`, in microseconds there).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostTimes {
    pub srtt: Duration,
    pub rttvar: Duration,
    pub timeout: Duration,
}

/// Everything found about one host. Handed to sinks when the host is finished (or when the scan is
/// interrupted, with `complete == false` and only the ports finished so far).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct HostReport {
    pub addr: IpAddr,
    pub hostnames: Vec<Hostname>,
    pub state: HostState,
    pub state_reason: Reason,
    pub state_reason_ttl: u8,
    /// Every port scanned on this host, sorted by (protocol, port). Empty for a down host or `-sn`.
    pub ports: Vec<PortResult>,
    pub start: SystemTime,
    pub end: SystemTime,
    /// Measured latency and timing; `None` when nothing answered.
    pub times: Option<HostTimes>,
    /// False when the scan stopped (Ctrl-C, `--host-timeout`) before every port had an answer.
    pub complete: bool,
    /// Set when `--host-timeout` cut this host short.
    pub timed_out: bool,
    /// What OS detection found (`-O`), or the passive guess from the scan's own answers (boxed: most hosts
    /// have none, and reports travel by value through the sinks).
    pub os: Option<Box<crate::os::OsReport>>,
    /// `--traceroute`: the hops to this host (boxed for the same reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Box<crate::route::Trace>>,
}

/// One protocol's share of a run: which ports it scans (XML `scaninfo`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ScanInfo {
    pub scan_type: ScanType,
    pub proto: Protocol,
    pub ports: PortSet,
}

/// Which ports a printer shows, mirroring nmap's `--open` and `--reason`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DisplayOptions {
    /// `--reason`: add a REASON column to normal output.
    pub reason: bool,
    /// `--open`: show only ports that are (or may be) open, and hosts that have one.
    pub open_only: bool,
    /// `-v` level.
    pub verbose: u8,
    /// `-sV` ran: normal output gets a VERSION column, as nmap's.
    pub versions: bool,
    /// `-d` level (XML `<debugging level>`).
    pub debug: u8,
}

/// Known before the first probe: handed to every sink once at the start.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    /// The command line as typed, for XML `args` and the normal/grepable headers.
    pub args: String,
    pub start: SystemTime,
    /// tojimari's version (XML `version`).
    pub version: String,
    /// Empty for `-sn`.
    pub scans: Vec<ScanInfo>,
    pub display: DisplayOptions,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RunExit {
    Success,
    /// Interrupted by the user (Ctrl-C) or stopped by an error; the message says which.
    Error(String),
}

/// Known at the end: handed to every sink once, also after an interrupt.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub end: SystemTime,
    pub elapsed: Duration,
    pub hosts_up: u64,
    pub hosts_down: u64,
    pub hosts_total: u64,
    pub exit: RunExit,
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn severities_read_back_and_sort_most_severe_first() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("urgent"), None);
        let ranks: Vec<u8> = ["critical", "high", "medium", "low", "info", "urgent"].map(Severity::rank_of).to_vec();
        assert_eq!(ranks, [0, 1, 2, 3, 4, 5]);
    }
}
