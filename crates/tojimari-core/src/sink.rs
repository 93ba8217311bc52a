//! The one way results leave an engine.
//!
//! Engines never print: they call a [`Sink`]. Each output format (normal, XML, grepable, JSON Lines) is one
//! implementation, and a run can feed many at once ([`Tee`]). Calls come in this order: `run_start` once,
//! then for each host any number of `port_found` followed by one `host_done` (and `group_done` after each
//! group of hosts), then `run_end` once (also after
//! an interrupt, so that every file is closed validly). Hosts may interleave their `port_found` calls.
//! `drain` comes once between the last `host_done` and `run_end`.

use std::io;
use std::net::IpAddr;

use crate::report::{HostReport, PortResult, RunInfo, RunSummary};

pub trait Sink {
    /// The run begins: write headers.
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()>;

    /// A port got its final state. Streaming formats write it at once; others may ignore it and wait
    /// for [`Sink::host_done`], which carries the same result again.
    fn port_found(&mut self, _addr: IpAddr, _port: &PortResult) -> io::Result<()> {
        Ok(())
    }

    /// A host is finished (or cut short: see [`HostReport::complete`]).
    fn host_done(&mut self, host: &HostReport) -> io::Result<()>;

    /// Every host of group `group` (see [`crate::sweep`]) has gone through [`Sink::host_done`]: a resumable
    /// run may count the group as finished. Not called for a group cut short by an interrupt.
    fn group_done(&mut self, _group: u64) -> io::Result<()> {
        Ok(())
    }

    /// The engine is done: finish work still in flight for hosts already reported (version detection), so
    /// that the run's summary, made next, covers it. Most sinks have nothing in flight.
    fn drain(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// The run ends: write footers and flush.
    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()>;
}

/// Feeds every event to several sinks, in order. An error in one sink does not starve the others:
/// all are called, and the first error is returned.
#[derive(Default)]
pub struct Tee {
    sinks: Vec<Box<dyn Sink + Send>>,
}

impl std::fmt::Debug for Tee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tee").field("sinks", &self.sinks.len()).finish()
    }
}

impl Tee {
    pub fn new() -> Self {
        Tee::default()
    }

    pub fn push(&mut self, sink: Box<dyn Sink + Send>) {
        self.sinks.push(sink);
    }

    fn each(&mut self, mut f: impl FnMut(&mut dyn Sink) -> io::Result<()>) -> io::Result<()> {
        let mut first = Ok(());
        for sink in &mut self.sinks {
            if let Err(e) = f(sink.as_mut())
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}

impl Sink for Tee {
    fn run_start(&mut self, run: &RunInfo) -> io::Result<()> {
        self.each(|s| s.run_start(run))
    }
    fn port_found(&mut self, addr: IpAddr, port: &PortResult) -> io::Result<()> {
        self.each(|s| s.port_found(addr, port))
    }
    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.each(|s| s.host_done(host))
    }
    fn group_done(&mut self, group: u64) -> io::Result<()> {
        self.each(|s| s.group_done(group))
    }
    fn drain(&mut self) -> io::Result<()> {
        self.each(|s| s.drain())
    }
    fn run_end(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.each(|s| s.run_end(summary))
    }
}
