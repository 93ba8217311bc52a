//! masscan's XML output (`-oX`): nmap's format, with differences the [`nmap_xml`] reader is wrapped
//! for here.
//!
//! masscan writes one `<host>` per open port, with no `<status>` and only an `endtime`, and never a
//! closed port:
//!
//! ```text
//! <nmaprun scanner="masscan" start="1796562005" version="1.0-BETA" xmloutputversion="1.03">
//! <scaninfo type="syn" protocol="tcp" />
//! <host endtime="1796562004"><address addr="198.18.0.2" addrtype="ipv4"/><ports><port protocol="tcp"
//!   portid="22"><state state="open" reason="syn-ack" reason_ttl="64"/></port></ports></host>
//! <runstats><finished time="1796562010" timestr="2026-12-06 13:00:10" elapsed="5" />
//! <hosts up="2" down="0" total="2" /></runstats>
//! </nmaprun>
//! ```
//!
//! Here each host is marked up (masscan lists only what answered, and the host's reason is its first
//! port's) and its start is its end. masscan writes in random order, so one address's ports are scattered
//! through the file: the readers hold every host until the end of the file, grouped by address (at most
//! [`Limits::max_pending_ports`] ports in all), and then hand them out in address order, each address
//! once, before the [`Record::RunEnd`]. `<runstats hosts>` counts ports, as masscan writes it.
//! [`ListReader`] reads `-oL` (one `open tcp 80 198.18.0.2 1796562004` line per port) and [`JsonReader`]
//! `-oJ` (see its module) into the same records.
//!
//! [`nmap_xml`]: crate::import::nmap_xml

mod json;
mod list;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::BufRead;
use std::net::IpAddr;

use tojimari_core::report::{HostReport, HostState};

use crate::import::nmap_xml::{self, Record};
use crate::import::{ImportError, Limits, Position};

pub use self::json::JsonReader;
pub use self::list::ListReader;

/// Reads masscan XML one record at a time (see the [module documentation](self)).
pub struct Reader<R: BufRead> {
    inner: Merged<nmap_xml::Reader<R>>,
}

impl<R: BufRead> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        Reader { inner: Merged::new(nmap_xml::Reader::new(input, limits), limits) }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

/// Where a reader is in its file.
pub(crate) trait Positioned {
    fn position(&self) -> Position;
}

impl<R: BufRead> Positioned for nmap_xml::Reader<R> {
    fn position(&self) -> Position {
        self.position()
    }
}

/// Marks masscan's hosts up and groups the whole file's hosts by address.
struct Merged<I: Iterator<Item = Result<Record, ImportError>> + Positioned> {
    inner: I,
    max_pending: usize,
    max_ports: usize,
    /// Every host so far, by address, and how many ports they hold.
    hosts: BTreeMap<IpAddr, HostReport>,
    held: usize,
    /// The run end, handed out after the hosts.
    end: Option<Record>,
    /// The grouped hosts, once the input is over.
    out: Option<std::collections::btree_map::IntoValues<IpAddr, HostReport>>,
    done: bool,
}

impl<I: Iterator<Item = Result<Record, ImportError>> + Positioned> Merged<I> {
    fn new(inner: I, limits: Limits) -> Self {
        Merged {
            inner,
            max_pending: limits.max_pending_ports,
            max_ports: limits.max_ports_per_host,
            hosts: BTreeMap::new(),
            held: 0,
            end: None,
            out: None,
            done: false,
        }
    }

    /// Adds one host's ports to its address's; an error when a limit is passed.
    fn hold(&mut self, mut host: HostReport) -> Result<(), ImportError> {
        normalize(&mut host);
        let at = self.inner.position();
        self.held += host.ports.len();
        if self.held > self.max_pending {
            return Err(ImportError::TooManyPorts { at, limit: self.max_pending });
        }
        match self.hosts.entry(host.addr) {
            Entry::Vacant(slot) => {
                slot.insert(host);
            }
            Entry::Occupied(mut slot) => {
                let kept = slot.get_mut();
                kept.start = kept.start.min(host.start);
                kept.end = kept.end.max(host.end);
                for port in host.ports {
                    match kept.ports.iter_mut().find(|p| (p.proto, p.port) == (port.proto, port.port)) {
                        // A banner after the port's state: the service joins the port.
                        Some(same) => {
                            if same.service.is_none() {
                                same.service = port.service;
                            }
                            self.held -= 1;
                        }
                        None => kept.ports.push(port),
                    }
                }
                if kept.ports.len() > self.max_ports {
                    return Err(ImportError::TooManyPorts { at, limit: self.max_ports });
                }
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Option<Result<Record, ImportError>> {
        loop {
            if let Some(out) = self.out.as_mut() {
                return match out.next() {
                    Some(mut host) => {
                        host.ports.sort_by_key(|p| (p.proto, p.port));
                        Some(Ok(Record::Host(Box::new(host))))
                    }
                    None => {
                        self.done = true;
                        self.end.take().map(Ok)
                    }
                };
            }
            match self.inner.next() {
                None => self.out = Some(std::mem::take(&mut self.hosts).into_values()),
                Some(Ok(Record::Host(host))) => {
                    if let Err(e) = self.hold(*host) {
                        return Some(Err(e));
                    }
                }
                Some(Ok(end @ Record::RunEnd { .. })) => self.end = Some(end),
                Some(other) => return Some(other),
            }
        }
    }
}

fn normalize(host: &mut HostReport) {
    if host.state == HostState::Unknown {
        host.state = HostState::Up;
        if let Some(first) = host.ports.first() {
            host.state_reason = first.reason;
            host.state_reason_ttl = first.reason_ttl;
        }
    }
    if host.start == std::time::UNIX_EPOCH {
        host.start = host.end;
    }
}

impl<I: Iterator<Item = Result<Record, ImportError>> + Positioned> Iterator for Merged<I> {
    type Item = Result<Record, ImportError>;

    /// The next record; after an error, `None` for ever.
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if matches!(item, Some(Err(_)) | None) {
            self.done = true;
        }
        item
    }
}
