//! tojimari's own streaming format (`-oJ`): JSON Lines.
//!
//! # Format
//!
//! UTF-8, one JSON object per line, each line ended by `\n` and flushed as soon as it is written.
//! Every object has a `"type"` key, written first: `run`, `port`, `finding`, `os`, `trace`, `host` or `summary`. Times are Unix
//! seconds as JSON numbers with a fraction (kept to the microsecond); addresses are strings in their
//! usual text form; states and reasons use nmap's names (`open|filtered`, `conn-refused`).
//! Unlike the nmap formats, JSON Lines ignores `--open`, `--reason` and `-v`: it always carries
//! reasons and always follows the rule below, so that one reader handles every run.
//!
//! ## Lines, in the order they come
//!
//! `run`, once, first:
//! ```json
//! {"type":"run","version":"0.1.0","args":"tojimari -sT 127.0.0.1","start":1795311431.0,"scans":[{"type":"connect","proto":"tcp","ports":1000}]}
//! ```
//! `scans` has one entry per scan of the run (`type` as XML `scaninfo type`, `ports` the number of
//! ports); it is empty for a host-discovery-only run, and a list scan (`-sL`) has one entry of type `list`
//! with 0 ports (its hosts have state `unknown`).
//!
//! `port`, any number, hosts interleaved:
//! ```json
//! {"type":"port","addr":"127.0.0.1","proto":"tcp","port":22,"state":"open","reason":"syn-ack","reason_ttl":0,"service":"ssh"}
//! ```
//! `service` is the detected name, else the services-table name, else `null`. `reason_ttl` is 0 when
//! unknown (connect scans). After version detection (`-sV`) the line also has `method` (`probed` or
//! `table`) and `conf` (0-10), and, when found, `product`, `version`, `extrainfo`, `hostname`, `ostype`,
//! `devicetype`, `tunnel` (`ssl`), `cpe` (array) and `details` (array of `{"id","output"}`, such as
//! `ssl-cert`):
//! ```json
//! {"type":"port","addr":"198.18.0.2","proto":"tcp","port":22,"state":"open","reason":"syn-ack","reason_ttl":64,"service":"ssh","method":"probed","conf":10,"product":"OpenSSH","version":"9.2p1 Debian 2+deb12u3","extrainfo":"protocol 2.0","ostype":"Linux","cpe":["cpe:/a:openbsd:openssh:9.2p1"]}
//! ```
//!
//! `finding`, right after the `port` line of the port it is about, one per exposure finding:
//! ```json
//! {"type":"finding","addr":"198.18.0.2","proto":"tcp","port":21,"id":"ftp-anonymous","severity":"high","evidence":"anonymous login accepted (230 Login successful.)","advice":"Set anonymous_enable=NO unless the server is meant to be public."}
//! ```
//!
//! `os`, once per host that has an OS report (after `-O`, or a passive guess from the scan's own SYN/ACKs),
//! right before its `host` line:
//! ```json
//! {"type":"os","addr":"198.18.0.2","method":"active","matches":[{"name":"Linux 5.0 - 6.8","accuracy":100,"line":12,"classes":[{"type":"general purpose","vendor":"Linux","family":"Linux","generation":"5.X","accuracy":100,"cpe":["cpe:/o:linux:linux_kernel:5"]}]}],"guessed":false,"ports_used":[{"state":"open","proto":"tcp","port":22},{"state":"closed","proto":"tcp","port":1}],"distance":1,"uptime_s":44237,"last_boot":1796511675.0,"tcp_sequence":{"index":262,"difficulty":"Good luck!","values":[2100946365,451229186]},"ip_id_sequence":{"class":"All zeros","values":[0,0]},"ts_sequence":{"class":"1000HZ","values":[44237000,44237100]},"notes":[]}
//! ```
//! - `method` is `active` (`-O`) or `passive` (a guess from the SYN/ACKs the scan had, which has only
//!   `matches` and maybe `distance`).
//! - `matches` are best first (empty when nothing came close); `guessed` is true when none was close
//!   enough to be stated (nmap's "Aggressive OS guesses"). In a class, `type` (device type) and
//!   `generation` are left out when unknown.
//! - `distance` (hops), `uptime_s` with `last_boot` (Unix seconds), `tcp_sequence`, `ip_id_sequence`,
//!   `ts_sequence` (values as numbers, in probe order) and `fingerprint` (the facts in the database's
//!   notation, for a new entry) are left out when not measured; `notes` says why tests were fewer
//!   or the answer weaker, one sentence each.
//!
//! `trace`, once per host that was traced (`--traceroute`, `-A`), right before its `host` line (after its
//! `os` line):
//! ```json
//! {"type":"trace","addr":"198.18.3.2","probe":{"proto":"tcp","port":23},"hops":[{"ttl":1,"addr":"198.18.0.199","rtt_ms":0.041},{"ttl":2},{"ttl":3,"addr":"198.18.2.254","rtt_ms":0.038},{"ttl":4,"addr":"198.18.3.2","rtt_ms":0.03}]}
//! ```
//! - `probe` is the probe sent with growing TTLs (`{"proto":"icmp"}` for the echo request), absent for a
//!   host on the local link (one hop, not probed).
//! - `hops` has one entry per TTL known, from 1; a TTL that stayed silent has no `addr` (nmap's `...`);
//!   `name` is the hop's reverse DNS name when one was found.
//! - `same_as` (`{"hops":N,"addr":...}`) says hops 1 to N were copied from that host's trace.
//!
//! `host`, once per host, after all of that host's `port` lines:
//! ```json
//! {"type":"host","addr":"127.0.0.1","hostnames":[{"name":"localhost","type":"PTR"}],"state":"up","reason":"localhost-response","reason_ttl":0,"start":1795311431.0,"end":1795311431.25,"latency_ms":0.55,"rttvar_ms":0.508,"timeout_ms":100.0,"ports":{"open":2,"closed":98},"collapsed":[{"state":"closed","proto":"tcp","reason":"conn-refused","count":98,"ports":"1-21,23-79,81-100"}],"complete":true,"timed_out":false}
//! ```
//! - `hostnames[].type` is `user` (typed as the target) or `PTR` (reverse DNS).
//! - `state` is `up` or `down` (`unknown` for the targets of a list scan, `-sL`); down hosts are always
//!   written (with `"ports":{}`).
//! - `latency_ms` (smoothed round-trip time), `rttvar_ms` (its variation) and `timeout_ms` (the probe timeout
//!   they gave; XML's `<times>` holds the three) are left out when nothing was measured.
//! - `ports` counts the host's ports per state, states with no port left out.
//! - `collapsed` lists the ports that got no `port` line, grouped by (state, protocol, reason), with
//!   `ports` in nmap's compact range form; largest state first, then largest group.
//! - `complete` is false when an interrupt or `--host-timeout` (then `timed_out` is true) cut the
//!   host short; its counts and lines then cover only the ports that had an answer.
//!
//! `summary`, once, last (also after an interrupt):
//! ```json
//! {"type":"summary","end":1795311432.5,"elapsed":1.25,"hosts_up":1,"hosts_down":0,"hosts_total":1,"exit":"success"}
//! ```
//! `exit` is `success` or `error`; with `error`, an `error` key carries the message.
//!
//! ## Which ports get a `port` line
//!
//! Every port of a host is either in exactly one `port` line or counted in exactly one `collapsed`
//! group of its `host` line:
//! 1. Ports found `open`, `open|filtered` or `unfiltered` are written the moment the engine reports
//!    them (streamed), and always get a line.
//! 2. When the host is done, each other port gets a line if at most 25 of the host's ports (all
//!    protocols together) share its state, as nmap lists them by default; ports of a larger state are
//!    collapsed. Lines written here come before the `host` line, in (protocol, port) order.
//! 3. A port in a rule-1 state that the engine did not stream is written at that point too.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::net::IpAddr;

use serde::Serialize;
use serde::ser::SerializeMap;
use tojimari_core::report::{HostReport, PortResult, RunExit, RunInfo, RunSummary};
use tojimari_core::{PortState, Protocol, Sink};

use crate::collapse::{CollapseRule, PortLayout, compact_ranges, kept_by_open, state_counts};
use crate::datetime::{micros_as_secs, unix_secs_f64};
use crate::os_json::OsLine;
use crate::service::{ServiceNames, service_of, table_name};

/// Writes JSON Lines. See the [module documentation](self) for the format.
pub struct JsonLinesSink {
    out: Box<dyn Write + Send>,
    names: ServiceNames,
    /// Ports already written per host, so `host_done` does not repeat them.
    streamed: HashMap<IpAddr, HashSet<(Protocol, u16)>>,
}

impl std::fmt::Debug for JsonLinesSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesSink").field("hosts_in_progress", &self.streamed.len()).finish()
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Line<'a> {
    Run(RunLine<'a>),
    Port(PortLine<'a>),
    Host(HostLine<'a>),
    Summary(SummaryLine<'a>),
    Finding(FindingLine<'a>),
    Os(OsLine<'a>),
    Trace(crate::route::TraceLine<'a>),
}

#[derive(Serialize)]
struct FindingLine<'a> {
    addr: IpAddr,
    proto: &'static str,
    port: u16,
    id: &'a str,
    severity: &'static str,
    evidence: &'a str,
    advice: &'a str,
}

/// What version detection found, flattened into a port line (keys left out when unknown).
#[derive(Serialize)]
struct VersionFields<'a> {
    method: &'static str,
    conf: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extrainfo: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ostype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    devicetype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel: Option<&'static str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    cpe: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<DetailLine<'a>>,
}

#[derive(Serialize)]
struct DetailLine<'a> {
    id: &'a str,
    output: &'a str,
}

#[derive(Serialize)]
struct RunLine<'a> {
    version: &'a str,
    args: &'a str,
    start: f64,
    scans: Vec<ScanLine>,
}

#[derive(Serialize)]
struct ScanLine {
    #[serde(rename = "type")]
    scan_type: &'static str,
    proto: &'static str,
    ports: usize,
}

#[derive(Serialize)]
struct PortLine<'a> {
    addr: IpAddr,
    proto: &'static str,
    port: u16,
    state: &'static str,
    reason: &'static str,
    reason_ttl: u8,
    service: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    detected: Option<VersionFields<'a>>,
}

/// A duration in milliseconds, to the microsecond.
fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

#[derive(Serialize)]
struct HostLine<'a> {
    addr: IpAddr,
    hostnames: Vec<NameLine<'a>>,
    state: &'static str,
    reason: &'static str,
    reason_ttl: u8,
    start: f64,
    end: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rttvar_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_ms: Option<f64>,
    ports: StateCounts,
    collapsed: Vec<CollapsedLine>,
    complete: bool,
    timed_out: bool,
}

#[derive(Serialize)]
struct NameLine<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct CollapsedLine {
    state: &'static str,
    proto: &'static str,
    reason: &'static str,
    count: usize,
    ports: String,
}

/// Port counts per state, written as an object in [`PortState::ALL`] order without zeros.
struct StateCounts([usize; PortState::ALL.len()]);

impl Serialize for StateCounts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let present = PortState::ALL.iter().filter(|s| self.0[s.index()] > 0);
        let mut map = serializer.serialize_map(Some(present.clone().count()))?;
        for state in present {
            map.serialize_entry(state.as_str(), &self.0[state.index()])?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    end: f64,
    elapsed: f64,
    hosts_up: u64,
    hosts_down: u64,
    hosts_total: u64,
    exit: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl JsonLinesSink {
    pub fn new(out: Box<dyn Write + Send>) -> JsonLinesSink {
        JsonLinesSink { out, names: table_name, streamed: HashMap::new() }
    }

    /// Uses `names` instead of the shipped services table (for tests).
    pub fn with_service_names(mut self, names: ServiceNames) -> JsonLinesSink {
        self.names = names;
        self
    }

    fn write_line(&mut self, line: &Line<'_>) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.out.write_all(&bytes)?;
        self.out.flush()
    }

    fn port_line<'a>(&self, addr: IpAddr, port: &'a PortResult) -> Line<'a> {
        Line::Port(PortLine {
            addr,
            proto: port.proto.as_str(),
            port: port.port,
            state: port.state.as_str(),
            reason: port.reason.as_str(),
            reason_ttl: port.reason_ttl,
            service: service_of(port, self.names).map(|s| s.name),
            detected: port.service.as_deref().map(|info| VersionFields {
                method: info.method.as_str(),
                conf: info.conf,
                product: info.product.as_deref(),
                version: info.version.as_deref(),
                extrainfo: info.extrainfo.as_deref(),
                hostname: info.hostname.as_deref(),
                ostype: info.ostype.as_deref(),
                devicetype: info.devicetype.as_deref(),
                tunnel: info.tunnel.map(|t| t.as_str()),
                cpe: &info.cpe,
                details: info.details.iter().map(|d| DetailLine { id: &d.id, output: &d.output }).collect(),
            }),
        })
    }

    /// The port line, then one `finding` line per exposure finding on it.
    fn write_port(&mut self, addr: IpAddr, port: &PortResult) -> io::Result<()> {
        let line = self.port_line(addr, port);
        self.write_line(&line)?;
        for finding in port.service.iter().flat_map(|info| &info.findings) {
            self.write_line(&Line::Finding(FindingLine {
                addr,
                proto: port.proto.as_str(),
                port: port.port,
                id: &finding.id,
                severity: finding.severity.as_str(),
                evidence: &finding.evidence,
                advice: &finding.advice,
            }))?;
        }
        Ok(())
    }
}

impl Sink for JsonLinesSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        let line = Line::Run(RunLine {
            version: &run.version,
            args: &run.args,
            start: unix_secs_f64(run.start),
            scans: run
                .scans
                .iter()
                .map(|s| ScanLine { scan_type: s.scan_type.xml_name(), proto: s.proto.as_str(), ports: s.ports.len() })
                .collect(),
        });
        self.write_line(&line)
    }

    fn port_found(&mut self, addr: IpAddr, port: &PortResult) -> io::Result<()> {
        if !kept_by_open(port.state) {
            return Ok(());
        }
        let first_time = self.streamed.entry(addr).or_default().insert((port.proto, port.port));
        if !first_time {
            return Ok(());
        }
        self.write_port(addr, port)
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        let streamed = self.streamed.remove(&host.addr).unwrap_or_default();
        let layout = PortLayout::new(&host.ports, CollapseRule::json_lines());
        for port in layout.shown.iter().filter(|p| !streamed.contains(&(p.proto, p.port))) {
            self.write_port(host.addr, port)?;
        }
        let collapsed = layout
            .folded
            .iter()
            .flat_map(|group| {
                group.reasons.iter().map(move |r| CollapsedLine {
                    state: group.state.as_str(),
                    proto: r.proto.as_str(),
                    reason: r.reason.as_str(),
                    count: r.ports.len(),
                    ports: compact_ranges(&r.ports),
                })
            })
            .collect();
        if let Some(os) = &host.os {
            self.write_line(&Line::Os(OsLine::new(host.addr, os)))?;
        }
        if let Some(trace) = &host.trace {
            self.write_line(&Line::Trace(crate::route::TraceLine::new(host.addr, trace)))?;
        }
        let line = Line::Host(HostLine {
            addr: host.addr,
            hostnames: host.hostnames.iter().map(|h| NameLine { name: &h.name, kind: h.kind.as_str() }).collect(),
            state: host.state.as_str(),
            reason: host.state_reason.as_str(),
            reason_ttl: host.state_reason_ttl,
            start: unix_secs_f64(host.start),
            end: unix_secs_f64(host.end),
            latency_ms: host.times.map(|t| millis(t.srtt)),
            rttvar_ms: host.times.map(|t| millis(t.rttvar)),
            timeout_ms: host.times.map(|t| millis(t.timeout)),
            ports: StateCounts(state_counts(&host.ports)),
            collapsed,
            complete: host.complete && !host.timed_out,
            timed_out: host.timed_out,
        });
        self.write_line(&line)
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let (exit, error) = match &summary.exit {
            RunExit::Success => ("success", None),
            RunExit::Error(message) => ("error", Some(message.as_str())),
        };
        let line = Line::Summary(SummaryLine {
            end: unix_secs_f64(summary.end),
            elapsed: micros_as_secs(summary.elapsed),
            hosts_up: summary.hosts_up,
            hosts_down: summary.hosts_down,
            hosts_total: summary.hosts_total,
            exit,
            error,
        });
        self.write_line(&line)
    }
}
