//! nmap's "normal" output: what the terminal shows, and `-oN` files.
//!
//! # Format
//!
//! Lines end with `\n`. Times are UTC. The terminal and file variants ([`NormalDestination`]) differ
//! only in their first and last lines.
//!
//! Header, terminal: `Starting tojimari {version} at {YYYY-MM-DD HH:MM} UTC`. Header, file:
//! `# tojimari {version} scan initiated {ctime} as: {args}`, where `{ctime}` is `Sun Nov 22 01:40:00 2026`.
//!
//! Each host that is up, written when it is finished:
//!
//! ```text
//! tojimari scan report for localhost (127.0.0.1)
//! Host is up, received localhost-response (0.00055s latency).
//! Not shown: 71 closed tcp ports (conn-refused), 20 filtered tcp ports (no-response)
//! PORT    STATE SERVICE REASON
//! 22/tcp  open  ssh     syn-ack
//! 631/tcp open  ipp     syn-ack
//!
//! ```
//!
//! - The report line names the host `{name} ({addr})` (the name typed by the user, else the PTR name)
//!   or `{addr}`. When both a typed name and a different PTR name exist, `rDNS record for {addr}: {ptr}`
//!   follows the "Host is up" line.
//! - `, received {reason}[ ttl N]` appears with `--reason` or `-vv`; ` ({latency}s latency)` when the
//!   host's smoothed RTT is known, with two significant digits. `-vv` adds
//!   `Scanned at {YYYY-MM-DD HH:MM:SS} UTC for {N}s`.
//! - A host cut short by an interrupt gets `Warning: scan of this host was interrupted; {n} of {total}
//!   ports have results.`; one cut by `--host-timeout` gets `Skipping host {label} due to host timeout`
//!   and no port section (as nmap).
//! - Ports are folded as nmap does (see the crate's `collapse` rule): `Not shown: ` lists each folded
//!   (state, protocol, reason) group as `{n} {state} {proto} port[s] ({reason})`, largest state first.
//!   With nothing folded an empty line stands in its place. With everything folded the table is
//!   replaced by `All {n} scanned ports on {label} are in ignored states.` above the "Not shown" line.
//! - The table has columns PORT (`{port}/{proto}`), STATE, SERVICE (`unknown` when no name is known)
//!   and, with `--reason`/`-vv`, REASON. Each column is as wide as its widest cell, columns are
//!   separated by one space and the last one is not padded. An empty line ends the host.
//! - After `-O` (or with a passive guess), the host's OS lines follow the table as nmap prints them
//!   (Device type, Running, OS CPE, OS details or Aggressive OS guesses, Uptime guess, Network
//!   Distance, TCP Sequence Prediction, IP ID Sequence Generation; see the crate's `os` module for the
//!   exact rules), then `Service Info` (with `-sV`), then the findings.
//! - `-sn` runs print only the first two lines per host. With `--open`, only ports in states that may
//!   be open (`open`, `open|filtered`, `unfiltered`) are listed, and hosts without one are skipped.
//! - Down hosts are printed only with `-v`: `tojimari scan report for {label} [host down]`
//!   (`[host down, received {reason}]` with reasons shown).
//!
//! Footer: when the only target was down, `Note: Host seems down. If it is really up, but blocking
//! our ping probes, try -Pn`; when there was no target, `WARNING: No targets were specified, so 0 hosts
//! scanned.`; when the run failed or was interrupted, its message. Then, terminal:
//! `tojimari done: 1 IP address (1 host up) scanned in 0.05 seconds`; file:
//! `# tojimari done at {ctime} -- 1 IP address (1 host up) scanned in 0.05 seconds`.
//!
//! Control characters in names, service names, arguments and messages are spelled `\xNN`, so that
//! text from the network cannot drive the terminal.
//!
//! The writer is flushed after the header, after each host and after the footer.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use tojimari_core::report::{HostReport, PortResult, RunExit, RunInfo, RunSummary};
use tojimari_core::{HostState, HostnameKind, Sink};

use crate::collapse::PortLayout;
use crate::context::RunContext;
use crate::datetime::UtcTime;
use crate::escape::printable;
use crate::service::{ServiceNames, service_of, table_name};
use crate::wording::{host_label, latency, reason_text, scanned_phrase, show_reason};

/// Where normal output goes: the two differ only in header and footer, as in nmap.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NormalDestination {
    /// The terminal (stdout): `Starting ...` / `tojimari done: ...`.
    Terminal,
    /// An `-oN` file: `# ... scan initiated ...` / `# tojimari done at ...`.
    File,
}

/// Writes nmap's normal output. See the [module documentation](self) for the format.
pub struct NormalSink {
    out: Box<dyn Write + Send>,
    destination: NormalDestination,
    names: ServiceNames,
    run: RunContext,
}

impl std::fmt::Debug for NormalSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NormalSink").field("destination", &self.destination).finish_non_exhaustive()
    }
}

impl NormalSink {
    pub fn new(out: Box<dyn Write + Send>, destination: NormalDestination) -> NormalSink {
        NormalSink { out, destination, names: table_name, run: RunContext::default() }
    }

    /// Uses `names` instead of the shipped services table (for tests).
    pub fn with_service_names(mut self, names: ServiceNames) -> NormalSink {
        self.names = names;
        self
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    fn host_text(&self, host: &HostReport) -> String {
        let mut s = String::new();
        let display = &self.run.display;
        let label = host_label(host);
        let reasons = show_reason(display);

        if host.state == HostState::Unknown {
            // A list scan: the target and its names, nothing else is known.
            let _ = writeln!(s, "tojimari scan report for {label}");
            return s;
        }
        if host.state == HostState::Down {
            if display.verbose > 0 && !display.open_only {
                let received = if reasons {
                    format!(", received {}", reason_text(host.state_reason, host.state_reason_ttl))
                } else {
                    String::new()
                };
                let _ = writeln!(s, "tojimari scan report for {label} [host down{received}]");
            }
            return s;
        }

        let layout = PortLayout::new(&host.ports, self.run.collapse_rule());
        if display.open_only && self.run.port_scan && !host.timed_out && layout.shown.is_empty() {
            return s;
        }

        let _ = writeln!(s, "tojimari scan report for {label}");
        s.push_str("Host is up");
        if reasons {
            let _ = write!(s, ", received {}", reason_text(host.state_reason, host.state_reason_ttl));
        }
        if let Some(times) = host.times {
            let _ = write!(s, " ({}s latency)", latency(times.srtt));
        }
        s.push_str(".\n");
        if let Some(ptr) = distinct_ptr(host) {
            let _ = writeln!(s, "rDNS record for {}: {}", host.addr, printable(ptr));
        }
        if display.verbose >= 2 && self.run.port_scan {
            let secs = host.end.duration_since(host.start).unwrap_or_default().as_secs();
            let _ = writeln!(s, "Scanned at {} for {secs}s", UtcTime::from_system_time(host.start).to_second());
        }
        if host.timed_out {
            let _ = writeln!(s, "Skipping host {label} due to host timeout");
            return s;
        }
        if !host.complete {
            let expected: usize = self.run.scanned.iter().map(|(_, n, _)| n).sum();
            let _ = writeln!(
                s,
                "Warning: scan of this host was interrupted; {} of {expected} ports have results.",
                host.ports.len()
            );
        }
        if !self.run.port_scan {
            if let Some(trace) = &host.trace {
                s.push('\n');
                s.push_str(&crate::route::normal_section(trace));
                s.push('\n');
            }
            return s;
        }
        if host.ports.is_empty() {
            if let Some(os) = &host.os {
                s.push_str(&crate::os::normal_section(os, display.verbose));
            }
            if let Some(trace) = &host.trace {
                s.push('\n');
                s.push_str(&crate::route::normal_section(trace));
            }
            s.push('\n');
            return s;
        }

        let not_shown = not_shown_line(&layout);
        if layout.shown.is_empty() {
            let _ = writeln!(s, "All {} scanned ports on {label} are in ignored states.", layout.total);
            let _ = writeln!(s, "{}", not_shown.unwrap_or_default());
        } else {
            match not_shown {
                Some(line) => {
                    let _ = writeln!(s, "{line}");
                }
                None => s.push('\n'),
            }
            self.port_table(&mut s, &layout.shown, reasons);
        }
        // nmap's order after the table: the OS lines, then "Service Info", then (tojimari's) findings.
        if let Some(os) = &host.os {
            s.push_str(&crate::os::normal_section(os, display.verbose));
        }
        if display.versions {
            service_info_line(&mut s, &layout.shown);
        }
        findings_section(&mut s, &layout.shown);
        // nmap's TRACEROUTE comes last, after a blank line.
        if let Some(trace) = &host.trace {
            s.push('\n');
            s.push_str(&crate::route::normal_section(trace));
        }
        s.push('\n');
        s
    }

    fn port_table(&self, s: &mut String, ports: &[&PortResult], reasons: bool) {
        let versions = self.run.display.versions;
        // `-sO`'s "ports" are protocol numbers: nmap heads them PROTOCOL and writes them bare.
        let protocols = !ports.is_empty() && ports.iter().all(|p| p.proto.is_ip());
        let first = if protocols { "PROTOCOL" } else { "PORT" };
        let mut header = vec![first.to_string(), "STATE".to_string(), "SERVICE".to_string()];
        if reasons {
            header.push("REASON".to_string());
        }
        if versions {
            header.push("VERSION".to_string());
        }
        let mut rows = Table::new(header);
        for port in ports {
            let service = service_of(port, self.names);
            let name = service.map_or_else(|| "unknown".to_string(), |v| v.shown_name('/'));
            let number =
                if port.proto.is_ip() { port.port.to_string() } else { format!("{}/{}", port.port, port.proto) };
            let mut row = vec![number, port.state.as_str().to_string(), printable(&name)];
            if reasons {
                row.push(reason_text(port.reason, port.reason_ttl));
            }
            if versions {
                row.push(printable(&service.map(|v| v.version_line()).unwrap_or_default()));
            }
            rows.push_row(row);
            if let Some(info) = &port.service {
                for detail in &info.details {
                    rows.push_text(script_lines(&detail.id, &detail.output));
                }
            }
        }
        rows.write(s);
    }
}

/// A table whose rows may be interleaved with free text (script output under a port): columns are as
/// wide as the widest row cell, text lines are not part of the width.
struct Table {
    items: Vec<TableItem>,
}

enum TableItem {
    Row(Vec<String>),
    Text(String),
}

impl Table {
    fn new(header: Vec<String>) -> Table {
        Table { items: vec![TableItem::Row(header)] }
    }

    fn push_row(&mut self, row: Vec<String>) {
        self.items.push(TableItem::Row(row));
    }

    fn push_text(&mut self, text: String) {
        self.items.push(TableItem::Text(text));
    }

    fn write(&self, s: &mut String) {
        let rows: Vec<&Vec<String>> =
            self.items.iter().filter_map(|i| if let TableItem::Row(r) = i { Some(r) } else { None }).collect();
        let columns = rows.first().map_or(0, |r| r.len());
        let widths: Vec<usize> =
            (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        for item in &self.items {
            match item {
                TableItem::Row(row) => {
                    let line = row
                        .iter()
                        .enumerate()
                        .map(
                            |(c, cell)| {
                                if c + 1 == columns { cell.clone() } else { format!("{cell:<w$}", w = widths[c]) }
                            },
                        )
                        .collect::<Vec<_>>()
                        .join(" ");
                    s.push_str(line.trim_end());
                    s.push('\n');
                }
                TableItem::Text(text) => s.push_str(text),
            }
        }
    }
}

/// nmap's script output under a port: `|_id: line` for one line; `| id: first`, `| more`, `|_last` for more.
fn script_lines(id: &str, output: &str) -> String {
    let lines: Vec<String> = output.lines().map(printable).collect();
    let mut out = String::new();
    match lines.as_slice() {
        [] => {
            let _ = writeln!(out, "|_{}:", printable(id));
        }
        [only] => {
            let _ = writeln!(out, "|_{}: {only}", printable(id));
        }
        [first, middle @ .., last] => {
            let _ = writeln!(out, "| {}: {first}", printable(id));
            for line in middle {
                let _ = writeln!(out, "|   {line}");
            }
            let _ = writeln!(out, "|_  {last}");
        }
    }
    out
}

/// `Service Info: Host: mail.example; OS: Linux; CPE: cpe:/o:linux:linux_kernel`, from every detected port.
fn service_info_line(s: &mut String, ports: &[&PortResult]) {
    let mut hosts: Vec<&str> = Vec::new();
    let mut oses: Vec<&str> = Vec::new();
    let mut devices: Vec<&str> = Vec::new();
    let mut cpes: Vec<&str> = Vec::new();
    for info in ports.iter().filter_map(|p| p.service.as_deref()) {
        add_distinct(&mut hosts, info.hostname.as_deref());
        add_distinct(&mut oses, info.ostype.as_deref());
        add_distinct(&mut devices, info.devicetype.as_deref());
        for cpe in info.cpe.iter().filter(|c| c.starts_with("cpe:/o:") || c.starts_with("cpe:/h:")) {
            if !cpes.contains(&cpe.as_str()) {
                cpes.push(cpe);
            }
        }
    }
    let parts: Vec<String> = [("Host", &hosts), ("OS", &oses), ("Device", &devices), ("CPE", &cpes)]
        .into_iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(label, list)| {
            format!("{label}{}: {}", if list.len() > 1 && label != "CPE" { "s" } else { "" }, list.join(", "))
        })
        .collect();
    if !parts.is_empty() {
        let _ = writeln!(s, "Service Info: {}", printable(&parts.join("; ")));
    }
}

fn add_distinct<'a>(list: &mut Vec<&'a str>, value: Option<&'a str>) {
    if let Some(v) = value
        && !list.contains(&v)
    {
        list.push(v);
    }
}

/// The lock-up judgement for a host: each finding with its port, severity, evidence and advice, worst first.
fn findings_section(s: &mut String, ports: &[&PortResult]) {
    let mut findings: Vec<(&PortResult, &tojimari_core::Finding)> = ports
        .iter()
        .filter_map(|p| p.service.as_deref().map(|info| (*p, info)))
        .flat_map(|(p, info)| info.findings.iter().map(move |f| (p, f)))
        .collect();
    if findings.is_empty() {
        return;
    }
    findings.sort_by(|a, b| b.1.severity.cmp(&a.1.severity).then((a.0.proto, a.0.port).cmp(&(b.0.proto, b.0.port))));
    let _ = writeln!(s, "Findings:");
    for (port, finding) in findings {
        let _ = writeln!(
            s,
            "  {:<8} {}/{} {}: {}",
            finding.severity.as_str().to_uppercase(),
            port.port,
            port.proto,
            printable(&finding.id),
            printable(&finding.evidence)
        );
        let _ = writeln!(s, "           advice: {}", printable(&finding.advice));
    }
}

/// The PTR name, when the report line shows a different, user-typed name.
fn distinct_ptr(host: &HostReport) -> Option<&str> {
    let user = host.hostnames.iter().find(|h| h.kind == HostnameKind::User)?;
    let ptr = host.hostnames.iter().find(|h| h.kind == HostnameKind::Ptr)?;
    (!user.name.eq_ignore_ascii_case(&ptr.name)).then_some(ptr.name.as_str())
}

/// `Not shown: 998 closed tcp ports (conn-refused), 2 filtered tcp ports (no-response)`.
fn not_shown_line(layout: &PortLayout<'_>) -> Option<String> {
    let parts: Vec<String> = layout
        .folded
        .iter()
        .flat_map(|group| {
            group.reasons.iter().map(move |r| {
                let n = r.ports.len();
                let plural = if n == 1 { "" } else { "s" };
                if r.proto.is_ip() {
                    // nmap's words for folded IP protocols.
                    format!("{n} {} n/a protocol{plural} ({})", group.state, r.reason)
                } else {
                    format!("{n} {} {} port{plural} ({})", group.state, r.proto, r.reason)
                }
            })
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Not shown: {}", parts.join(", ")))
}

impl Sink for NormalSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.run = RunContext::new(run);
        let start = UtcTime::from_system_time(run.start);
        let header = match self.destination {
            NormalDestination::Terminal => {
                format!("Starting tojimari {} at {}\n", printable(&run.version), start.to_minute())
            }
            NormalDestination::File => {
                format!(
                    "# tojimari {} scan initiated {} as: {}\n",
                    printable(&run.version),
                    start.ctime(),
                    printable(&run.args)
                )
            }
        };
        self.emit(&header)
    }

    fn port_found(&mut self, _addr: IpAddr, _port: &PortResult) -> io::Result<()> {
        // Normal output is per host: the port comes again in `host_done`.
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        let text = self.host_text(host);
        if text.is_empty() { Ok(()) } else { self.emit(&text) }
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let mut s = String::new();
        match &summary.exit {
            RunExit::Success => {
                if summary.hosts_total == 1 && summary.hosts_up == 0 && !self.run.list_scan {
                    s.push_str(
                        "Note: Host seems down. If it is really up, but blocking our ping probes, \
                         try -Pn\n",
                    );
                } else if summary.hosts_total == 0 {
                    s.push_str("WARNING: No targets were specified, so 0 hosts scanned.\n");
                }
            }
            RunExit::Error(message) => {
                for line in message.lines() {
                    let _ = writeln!(s, "{}", printable(line));
                }
            }
        }
        let phrase = scanned_phrase(summary);
        match self.destination {
            NormalDestination::Terminal => {
                let _ = writeln!(s, "tojimari done: {phrase}");
            }
            NormalDestination::File => {
                let end = UtcTime::from_system_time(summary.end).ctime();
                let _ = writeln!(s, "# tojimari done at {end} -- {phrase}");
            }
        }
        self.emit(&s)
    }
}
