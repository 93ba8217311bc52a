//! nmap's grepable output (`-oG`): one line per host and fact, fields split by tabs.
//!
//! # Format
//!
//! (`\t` stands for a tab.)
//!
//! ```text
//! # tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -sT -oG - 127.0.0.1
//! Host: 127.0.0.1 (localhost)\tStatus: Up
//! Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///, 631/open/tcp//ipp///\tIgnored State: closed (98)
//! # tojimari done at Sun Nov 22 01:37:11 2026 -- 1 IP address (1 host up) scanned in 0.06 seconds
//! ```
//!
//! - Header: `# tojimari {version} scan initiated {ctime} as: {args}`; with `-v` it is followed by
//!   `# Ports scanned: TCP({n};{ranges}) UDP({n};{ranges}) SCTP(0;) PROTOCOLS(0;)`.
//! - Every host line starts `Host: {addr} ({name})`, with empty parentheses when there is no name,
//!   then a tab and one field.
//! - An up host gets `Status: Up`, then (unless `-sn`) `Ports: ` with the listed ports joined by
//!   `, `. Each port is `{port}/{state}/{proto}/{owner}/{service}/{rpc}/{version}/`, where only
//!   state, protocol and service are filled (service empty when unknown). Reasons never appear.
//!   Which ports are listed follows the normal output (`--open`, `-v` and the 25-port folding).
//!   When exactly one state is folded, `\tIgnored State: {state} ({count})` ends the line; with two
//!   or more folded states nmap writes no such field, and neither does tojimari.
//! - After `-O`, the Ports line goes on with nmap's OS fields: `\tOS: {name}` when the matches are
//!   stated rather than guessed (several names joined by ` or `), `\tSeq Index: {n}` and
//!   `\tIP ID Seq: {class}` when measured. A passive guess (without `-O`) has no grepable field.
//! - A host cut by `--host-timeout` gets a second line `Status: Timeout` instead of `Ports:`.
//!   A host cut short by an interrupt gets `# Host {addr}: scan interrupted, results incomplete`
//!   after its `Ports:` line (grepable readers skip `#` lines).
//! - Down hosts appear only with `-v`, as `Status: Down`. With `--open`, hosts without a listed port
//!   are left out.
//! - Footer: on error, its message as `# ` lines; then
//!   `# tojimari done at {ctime} -- {n} IP address{es} ({m} host{s} up) scanned in {s.ss} seconds`.
//!
//! Control characters in names and arguments are spelled `\xNN` so that each record stays one line,
//! and `/` or `,` inside a service name become `|` and `;` so that the port list stays splittable.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use tojimari_core::report::{HostReport, PortResult, RunExit, RunInfo, RunSummary};
use tojimari_core::{HostState, Protocol, Sink};

use crate::collapse::PortLayout;
use crate::context::RunContext;
use crate::datetime::UtcTime;
use crate::escape::printable;
use crate::service::{ServiceNames, service_of, table_name};
use crate::wording::{display_name, scanned_phrase};

/// Writes nmap's grepable output. See the [module documentation](self) for the format.
pub struct GrepableSink {
    out: Box<dyn Write + Send>,
    names: ServiceNames,
    run: RunContext,
}

impl std::fmt::Debug for GrepableSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrepableSink").finish_non_exhaustive()
    }
}

impl GrepableSink {
    pub fn new(out: Box<dyn Write + Send>) -> GrepableSink {
        GrepableSink { out, names: table_name, run: RunContext::default() }
    }

    /// Uses `names` instead of the shipped services table (for tests).
    pub fn with_service_names(mut self, names: ServiceNames) -> GrepableSink {
        self.names = names;
        self
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    fn host_text(&self, host: &HostReport) -> String {
        let display = &self.run.display;
        let mut s = String::new();
        let prefix = format!("Host: {} ({})", host.addr, display_name(host).map(printable).unwrap_or_default());

        if host.state == HostState::Unknown {
            let _ = writeln!(s, "{prefix}\tStatus: Unknown");
            return s;
        }
        if host.state == HostState::Down {
            if display.verbose > 0 && !display.open_only {
                let _ = writeln!(s, "{prefix}\tStatus: Down");
            }
            return s;
        }
        let layout = PortLayout::new(&host.ports, self.run.collapse_rule());
        if display.open_only && self.run.port_scan && !host.timed_out && layout.shown.is_empty() {
            return s;
        }

        let _ = writeln!(s, "{prefix}\tStatus: Up");
        if host.timed_out {
            let _ = writeln!(s, "{prefix}\tStatus: Timeout");
            return s;
        }
        if !self.run.port_scan {
            return s;
        }
        let ports: Vec<String> = layout.shown.iter().map(|p| self.port_entry(p)).collect();
        // `-sO`: nmap's field is `Protocols:`, each entry `{number}/{state}/{name}/`.
        let label = if host.ports.first().is_some_and(|p| p.proto.is_ip()) { "Protocols" } else { "Ports" };
        let _ = write!(s, "{prefix}\t{label}: {}", ports.join(", "));
        if let [only] = layout.folded.as_slice() {
            let _ = write!(s, "\tIgnored State: {} ({})", only.state, only.count);
        }
        if let Some(os) = &host.os {
            s.push_str(&crate::os::grepable_fields(os));
        }
        s.push('\n');
        if !host.complete {
            let _ = writeln!(s, "# Host {}: scan interrupted, results incomplete", host.addr);
        }
        s
    }

    /// `22/open/tcp//ssh///`, or with `-sV` `22/open/tcp//ssh//OpenSSH 9.2p1 (protocol 2.0)/` (a service inside
    /// TLS is `ssl|http`; `/` in a field becomes `|` and `,` becomes `;`, as nmap writes them).
    fn port_entry(&self, port: &PortResult) -> String {
        let field = |text: &str| printable(text).replace('/', "|").replace(',', ";");
        let view = service_of(port, self.names);
        let service = view.map(|v| field(&v.shown_name('|'))).unwrap_or_default();
        let version = view.map(|v| field(&v.version_line())).unwrap_or_default();
        if port.proto.is_ip() {
            return format!("{}/{}/{service}/", port.port, port.state);
        }
        format!("{}/{}/{}//{service}//{version}/", port.port, port.state, port.proto)
    }
}

impl Sink for GrepableSink {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.run = RunContext::new(run);
        let mut s = format!(
            "# tojimari {} scan initiated {} as: {}\n",
            printable(&run.version),
            UtcTime::from_system_time(run.start).ctime(),
            printable(&run.args)
        );
        if run.display.verbose > 0 {
            let field = |proto: Protocol| {
                let (n, ranges) =
                    self.run.scanned.iter().find(|(p, _, _)| *p == proto).map_or((0, ""), |(_, n, r)| (*n, r.as_str()));
                format!("{n};{ranges}")
            };
            let _ = writeln!(
                s,
                "# Ports scanned: TCP({}) UDP({}) SCTP(0;) PROTOCOLS(0;)",
                field(Protocol::Tcp),
                field(Protocol::Udp)
            );
        }
        self.emit(&s)
    }

    fn port_found(&mut self, _addr: IpAddr, _port: &PortResult) -> io::Result<()> {
        // Grepable output is per host: the port comes again in `host_done`.
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        let text = self.host_text(host);
        if text.is_empty() { Ok(()) } else { self.emit(&text) }
    }

    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        let mut s = String::new();
        if let RunExit::Error(message) = &summary.exit {
            for line in message.lines() {
                let _ = writeln!(s, "# {}", printable(line));
            }
        }
        let _ = writeln!(
            s,
            "# tojimari done at {} -- {}",
            UtcTime::from_system_time(summary.end).ctime(),
            scanned_phrase(summary)
        );
        self.emit(&s)
    }
}
