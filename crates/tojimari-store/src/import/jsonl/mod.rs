//! tojimari's own JSON Lines (`-oJ`, the format documented in `tojimari_output::jsonl`) read back as a
//! stream of [`Record`]s, the same records as nmap's XML gives:
//!
//! ```text
//! run line                      -> Record::Run (scanner "tojimari"; the scans' types and protocols,
//!                                  not their port lists, which the line does not carry)
//! port, finding, os lines       -> held for their host (hosts interleave)
//! host line                     -> Record::Host: the held ports, the `collapsed` groups expanded back
//!                                  into ports, the OS report, names, times, latency
//! summary line                  -> Record::RunEnd
//! ```
//!
//! A port line without `method` has only the services-table name, which is not kept (core's ports carry
//! only what version detection found). Lines of a type this reader does not know are skipped.
//!
//! Memory: the longest line (`max_token`) and the ports held for hosts whose `host` line has not come
//! yet (`max_pending_ports` in all). A file without its `summary` line (a scan killed, a file cut short)
//! is refused at its end, as is a line that is not JSON, with the line it is on.

mod lines;

use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;
use std::time::Duration;

use tojimari_core::os::OsReport;
use tojimari_core::report::{HostReport, HostState, HostTimes, Hostname, HostnameKind, PortResult, RunExit};
use tojimari_core::{PortState, Protocol, Reason};

use self::lines::{HostLine, Line, bad, duration, parse, time};
use crate::import::lines::Lines;
use crate::import::nmap_xml::{Record, ScanInfoRecord, host_reason};
use crate::import::ranges::for_each_port;
use crate::import::{ImportError, Limits, Position};

const FORMAT: &str = "tojimari JSON Lines";

/// What came for a host before its `host` line.
#[derive(Default)]
struct Pending {
    ports: Vec<PortResult>,
    os: Option<OsReport>,
    trace: Option<tojimari_core::route::Trace>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the run line.
    Start,
    Body,
    /// After the summary line.
    Ended,
    Done,
}

/// Reads tojimari's JSON Lines one record at a time. See the [module documentation](self).
pub struct Reader<R: BufRead> {
    lines: Lines<R>,
    limits: Limits,
    phase: Phase,
    pending: HashMap<IpAddr, Pending>,
    held: usize,
}

impl<R: BufRead> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("phase", &self.phase).finish_non_exhaustive()
    }
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        Reader { lines: Lines::new(input, limits), limits, phase: Phase::Start, pending: HashMap::new(), held: 0 }
    }

    fn step(&mut self) -> Result<Option<Record>, ImportError> {
        loop {
            let Some((bytes, at)) = self.lines.next_line(FORMAT)? else {
                return match self.phase {
                    Phase::Ended => Ok(None),
                    Phase::Start => Err(ImportError::Ended { at: self.lines.position(), what: "no run line".into() }),
                    _ => Err(ImportError::Ended {
                        at: self.lines.position(),
                        what: "no summary line (the scan was killed, or the file is cut short)".into(),
                    }),
                };
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line: Line = serde_json::from_slice(bytes).map_err(|e| ImportError::Json {
                at,
                format: FORMAT,
                message: e.to_string(),
            })?;
            match (self.phase, line) {
                (Phase::Start, Line::Run(run)) => {
                    self.phase = Phase::Body;
                    return Ok(Some(Record::Run {
                        scanner: "tojimari".into(),
                        args: run.args,
                        start: Some(time(at, "run", "start", run.start)?),
                        version: run.version,
                        scaninfo: run
                            .scans
                            .into_iter()
                            .map(|s| ScanInfoRecord {
                                scan_type: s.scan_type,
                                protocol: s.proto,
                                services: String::new(),
                            })
                            .collect(),
                        verbose: 0,
                        debug: 0,
                    }));
                }
                (Phase::Start, _) => {
                    return Err(ImportError::NotFormat {
                        at,
                        format: FORMAT,
                        what: "the first line is not a run line".into(),
                    });
                }
                (Phase::Ended, _) => {
                    return Err(ImportError::NotFormat {
                        at,
                        format: FORMAT,
                        what: "a line after the summary line".into(),
                    });
                }
                (_, Line::Run(_)) => {
                    return Err(ImportError::NotFormat { at, format: FORMAT, what: "a second run line".into() });
                }
                (_, Line::Port(line)) => {
                    let addr = line.addr;
                    let port = line.port(at)?;
                    self.hold(at)?;
                    self.pending.entry(addr).or_default().ports.push(port);
                }
                (_, Line::Finding(line)) => {
                    let key = (parse::<Protocol>(at, "finding", "proto", &line.proto)?, line.port);
                    let port = self
                        .pending
                        .get_mut(&line.addr)
                        .and_then(|p| p.ports.iter_mut().rev().find(|p| (p.proto, p.port) == key))
                        .ok_or_else(|| bad(at, "finding", "port", key.1, "no port line of this host came before"))?;
                    let finding = line.finding(at)?;
                    port.service.get_or_insert_with(Box::default).findings.push(finding);
                }
                (_, Line::Os(line)) => {
                    let addr = line.addr;
                    let os = line.report(at)?;
                    self.pending.entry(addr).or_default().os = Some(os);
                }
                (_, Line::Trace(line)) => {
                    let addr = line.addr;
                    let trace = line.trace(at)?;
                    self.pending.entry(addr).or_default().trace = Some(trace);
                }
                (_, Line::Host(line)) => return self.host(line, at).map(|h| Some(Record::Host(Box::new(h)))),
                (_, Line::Summary(line)) => {
                    self.phase = Phase::Ended;
                    if let Some(addr) = self.pending.keys().next() {
                        return Err(ImportError::NotFormat {
                            at,
                            format: FORMAT,
                            what: format!("{addr} has port lines but no host line"),
                        });
                    }
                    let exit = match line.exit.as_str() {
                        "success" => RunExit::Success,
                        "error" => RunExit::Error(line.error.unwrap_or_default()),
                        other => return Err(bad(at, "summary", "exit", other, "neither success nor error")),
                    };
                    return Ok(Some(Record::RunEnd {
                        end: Some(time(at, "summary", "end", line.end)?),
                        elapsed: Some(duration(at, "summary", "elapsed", line.elapsed)?),
                        exit,
                        hosts_up: line.hosts_up,
                        hosts_down: line.hosts_down,
                        hosts_total: line.hosts_total,
                    }));
                }
                (_, Line::Other) => {}
            }
        }
    }

    /// Counts one more held port; an error past the limit.
    fn hold(&mut self, at: Position) -> Result<(), ImportError> {
        self.held += 1;
        if self.held > self.limits.max_pending_ports {
            return Err(ImportError::TooManyPorts { at, limit: self.limits.max_pending_ports });
        }
        Ok(())
    }

    /// The host of a `host` line, with what was held for it.
    fn host(&mut self, line: HostLine, at: Position) -> Result<HostReport, ImportError> {
        let Pending { mut ports, os, trace } = self.pending.remove(&line.addr).unwrap_or_default();
        self.held = self.held.saturating_sub(ports.len());
        let max = self.limits.max_ports_per_host;
        if ports.len() > max {
            return Err(ImportError::TooManyPorts { at, limit: max });
        }
        for group in &line.collapsed {
            let state: PortState = parse(at, "host", "collapsed.state", &group.state)?;
            let proto: Protocol = parse(at, "host", "collapsed.proto", &group.proto)?;
            let reason: Reason = parse(at, "host", "collapsed.reason", &group.reason)?;
            let before = ports.len();
            let fits = for_each_port(&group.ports, |p| {
                ports.push(PortResult::new(proto, p, state, reason));
                ports.len() <= max
            });
            match fits {
                None => return Err(bad(at, "host", "collapsed.ports", &group.ports, "not a port list")),
                Some(false) => return Err(ImportError::TooManyPorts { at, limit: max }),
                Some(true) => {}
            }
            if ports.len() - before != group.count {
                return Err(bad(at, "host", "collapsed.count", group.count, "not the number of ports listed"));
            }
        }
        ports.sort_by_key(|p| (p.proto, p.port));
        let before = ports.len();
        ports.dedup_by_key(|p| (p.proto, p.port));
        if ports.len() != before {
            return Err(bad(at, "host", "collapsed.ports", "", "a port both has a port line and is collapsed"));
        }
        let state = match line.state.as_str() {
            "up" => HostState::Up,
            "down" => HostState::Down,
            "unknown" => HostState::Unknown,
            other => return Err(bad(at, "host", "state", other, "not up, down or unknown")),
        };
        let hostnames = line
            .hostnames
            .into_iter()
            .map(|n| Hostname {
                name: n.name,
                kind: if n.kind == "user" { HostnameKind::User } else { HostnameKind::Ptr },
            })
            .collect();
        let optional =
            |key: &str, ms: Option<f64>| ms.map_or(Ok(Duration::ZERO), |ms| duration(at, "host", key, ms / 1000.0));
        let times = match line.latency_ms {
            Some(ms) => Some(HostTimes {
                srtt: duration(at, "host", "latency_ms", ms / 1000.0)?,
                rttvar: optional("rttvar_ms", line.rttvar_ms)?,
                timeout: optional("timeout_ms", line.timeout_ms)?,
            }),
            None => None,
        };
        Ok(HostReport {
            addr: line.addr,
            hostnames,
            state,
            state_reason: host_reason(parse(at, "host", "reason", &line.reason)?),
            state_reason_ttl: line.reason_ttl,
            ports,
            start: time(at, "host", "start", line.start)?,
            end: time(at, "host", "end", line.end)?,
            times,
            complete: line.complete,
            timed_out: line.timed_out,
            os: os.map(Box::new),
            trace: trace.map(Box::new),
        })
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, ImportError>;

    /// The next record; after an error, `None` for ever.
    fn next(&mut self) -> Option<Self::Item> {
        if self.phase == Phase::Done {
            return None;
        }
        match self.step() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.phase = Phase::Done;
                None
            }
            Err(e) => {
                self.phase = Phase::Done;
                Some(Err(e))
            }
        }
    }
}
