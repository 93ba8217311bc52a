//! nmap's XML output (`-oX`, nmap 7.x and tojimari's own writer) read as a stream of [`Record`]s.
//!
//! ```text
//! Record::Run     <nmaprun> with its <scaninfo>, <verbose>, <debugging>
//! Record::Host    each <host>, as a HostReport (one in memory at a time)
//! Record::RunEnd  <runstats>
//! ```
//!
//! What is read, and how:
//! - Port and host states and reasons through core's parsers of nmap's names; a reason core does not
//!   know (nmap has a few more, `tcp-response`, `proto-response`...) becomes [`Reason::Unknown`]; a
//!   host's `no-response` is [`Reason::NoHostResponse`].
//! - `<extraports>` are expanded back into ports from their `<extrareasons ports>` lists (nmap 7.9x
//!   and tojimari write them; older files have only counts, and those ports stay unknown).
//! - Ports of protocols other than TCP and UDP (`sctp`, `ip`) are skipped.
//! - `<script>` under a port becomes a [`Detail`] of its service, or a [`Finding`] when its output is
//!   tojimari's `id [severity]: evidence -- advice`.
//! - `<os>` and the host's `<uptime>`, `<distance>`, `<tcpsequence>`, `<ipidsequence>`,
//!   `<tcptssequence>` become an active [`OsReport`](tojimari_core::os::OsReport); `lastboot` is read
//!   as UTC (nmap writes local time).
//! - Elements it does not know (`<taskbegin>`, `<hosthint>`, `<prescript>`, `<trace>`...) are skipped.
//!
//! No entity is ever expanded: a doctype with an internal subset and any entity reference other than
//! XML's five and character references are refused.
//!
//! [`Detail`]: tojimari_core::report::Detail
//! [`Finding`]: tojimari_core::report::Finding

mod events;
mod host;
mod values;

use std::io::BufRead;
use std::time::{Duration, SystemTime};

use tojimari_core::Reason;
use tojimari_core::report::{HostReport, RunExit};

use self::events::{Event, Events};
use self::values::Element;
use crate::import::{ImportError, Limits, Position};

/// One `<scaninfo>`, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanInfoRecord {
    /// nmap's scan type name (`syn`, `connect`, `udp`, ...).
    pub scan_type: String,
    /// `tcp`, `udp`, `sctp`, `ip`.
    pub protocol: String,
    /// The compact port list (`1-1024,8080`).
    pub services: String,
}

/// One piece of the file, in file order.
#[derive(Clone, Debug)]
pub enum Record {
    /// The run's header: always the first record.
    Run {
        /// `nmap` or `tojimari`.
        scanner: String,
        args: String,
        start: Option<SystemTime>,
        version: String,
        scaninfo: Vec<ScanInfoRecord>,
        verbose: u8,
        debug: u8,
    },
    /// One host.
    Host(Box<HostReport>),
    /// The run's summary (`<runstats>`): the last record of a complete file.
    RunEnd {
        end: Option<SystemTime>,
        elapsed: Option<Duration>,
        exit: RunExit,
        hosts_up: u64,
        hosts_down: u64,
        hosts_total: u64,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Before `<nmaprun>`.
    Prolog,
    /// Inside `<nmaprun>`, before the first host.
    Header,
    Body,
    /// After `</nmaprun>`.
    Trailer,
    Done,
}

/// Reads nmap XML one record at a time. See the [module documentation](self).
pub struct Reader<R: BufRead> {
    events: Events<R>,
    phase: Phase,
    run: Option<Record>,
    /// An event read while the header was still open, to handle after the header is handed out.
    replay: Option<Event>,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        Reader { events: Events::new(input, limits), phase: Phase::Prolog, run: None, replay: None }
    }

    /// Where the reader is in the file.
    pub fn position(&self) -> Position {
        self.events.position()
    }

    fn next_event(&mut self) -> Result<Event, ImportError> {
        match self.replay.take() {
            Some(event) => Ok(event),
            None => self.events.next(),
        }
    }

    fn step(&mut self) -> Result<Option<Record>, ImportError> {
        loop {
            let event = self.next_event()?;
            match (self.phase, event) {
                (Phase::Prolog, Event::Start(e)) if e.name == "nmaprun" => {
                    self.run = Some(Record::Run {
                        scanner: e.owned("scanner").unwrap_or_default(),
                        args: e.owned("args").unwrap_or_default(),
                        start: e.unix_time("start")?,
                        version: e.owned("version").unwrap_or_default(),
                        scaninfo: Vec::new(),
                        verbose: 0,
                        debug: 0,
                    });
                    self.phase = Phase::Header;
                }
                (Phase::Prolog, Event::Start(e)) => {
                    return Err(ImportError::NotNmap {
                        at: e.at,
                        what: format!("the root element is <{}>, not <nmaprun>", e.name),
                    });
                }
                (Phase::Prolog, Event::Eof) => {
                    return Err(ImportError::NotNmap { at: self.events.position(), what: "no root element".into() });
                }
                (Phase::Header, Event::Start(e)) if matches!(e.name.as_str(), "scaninfo" | "verbose" | "debugging") => {
                    self.header_element(&e)?;
                    self.events.skip_to_end()?;
                }
                (Phase::Header, Event::Text(_)) => {}
                (Phase::Header, event) => {
                    self.replay = Some(event);
                    self.phase = Phase::Body;
                    if let Some(run) = self.run.take() {
                        return Ok(Some(run));
                    }
                }
                (Phase::Body, Event::Start(e)) if e.name == "host" => {
                    let host = host::read(&mut self.events, &e)?;
                    return Ok(Some(Record::Host(Box::new(host))));
                }
                (Phase::Body, Event::Start(e)) if e.name == "runstats" => return self.runstats().map(Some),
                (Phase::Body, Event::Start(_)) => self.events.skip_to_end()?,
                (Phase::Body, Event::End(_)) => self.phase = Phase::Trailer,
                (Phase::Trailer, Event::Eof) => {
                    self.phase = Phase::Done;
                    return Ok(None);
                }
                (Phase::Trailer, Event::Start(e)) => {
                    return Err(ImportError::Syntax {
                        at: e.at,
                        message: format!("<{}> after the end of the document", e.name),
                    });
                }
                (Phase::Done, _) => return Ok(None),
                (_, Event::Eof) => {
                    return Err(ImportError::Truncated { at: self.events.position(), inside: "nmaprun".into() });
                }
                (_, Event::Text(_) | Event::End(_)) => {}
            }
        }
    }

    fn header_element(&mut self, e: &Element) -> Result<(), ImportError> {
        let Some(Record::Run { scaninfo, verbose, debug, .. }) = &mut self.run else { return Ok(()) };
        match e.name.as_str() {
            "scaninfo" => scaninfo.push(ScanInfoRecord {
                scan_type: e.owned("type").unwrap_or_default(),
                protocol: e.owned("protocol").unwrap_or_default(),
                services: e.owned("services").unwrap_or_default(),
            }),
            "verbose" => *verbose = e.parse("level")?.unwrap_or(0),
            _ => *debug = e.parse("level")?.unwrap_or(0),
        }
        Ok(())
    }

    /// `<runstats><finished .../><hosts .../></runstats>`, after its start tag.
    fn runstats(&mut self) -> Result<Record, ImportError> {
        let (mut end, mut elapsed, mut exit) = (None, None, RunExit::Success);
        let (mut up, mut down, mut total) = (0, 0, 0);
        loop {
            match self.events.next()? {
                Event::Start(e) => {
                    match e.name.as_str() {
                        "finished" => {
                            end = e.unix_time("time")?;
                            elapsed = e.seconds("elapsed")?;
                            if e.get("exit") == Some("error") {
                                exit = RunExit::Error(e.owned("errormsg").unwrap_or_default());
                            }
                        }
                        "hosts" => {
                            up = e.parse("up")?.unwrap_or(0);
                            down = e.parse("down")?.unwrap_or(0);
                            total = e.parse("total")?.unwrap_or(up + down);
                        }
                        _ => {}
                    }
                    self.events.skip_to_end()?;
                }
                Event::End(_) => break,
                Event::Text(_) => {}
                Event::Eof => {
                    return Err(ImportError::Truncated { at: self.events.position(), inside: "runstats".into() });
                }
            }
        }
        Ok(Record::RunEnd { end, elapsed, exit, hosts_up: up, hosts_down: down, hosts_total: total })
    }
}

impl<R: BufRead> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("phase", &self.phase).finish_non_exhaustive()
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
            Ok(None) => None,
            Err(e) => {
                self.phase = Phase::Done;
                Some(Err(e))
            }
        }
    }
}

/// A host's `no-response` is the host reason, not the port one.
pub(crate) fn host_reason(reason: Reason) -> Reason {
    if reason == Reason::NoResponse { Reason::NoHostResponse } else { reason }
}
