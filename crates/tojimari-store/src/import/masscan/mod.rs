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
//! port's), its start is its end, and consecutive `<host>`s of one address are merged into one
//! [`Record::Host`]; the same address further on comes as another record (masscan's order is random:
//! merging all would mean holding every host). `<runstats hosts>` counts ports, as masscan writes it.
//! [`ListReader`] reads `-oL` (one `open tcp 80 198.18.0.2 1796562004` line per port) into the same
//! records.
//!
//! [`nmap_xml`]: crate::import::nmap_xml

mod list;

use std::io::BufRead;
use std::iter::Peekable;

use tojimari_core::report::{HostReport, HostState};

use crate::import::nmap_xml::{self, Record};
use crate::import::{ImportError, Limits};

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
        Reader { inner: Merged::new(nmap_xml::Reader::new(input, limits), limits.max_ports_per_host) }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

/// Marks masscan's hosts up and merges consecutive hosts of one address.
struct Merged<I: Iterator<Item = Result<Record, ImportError>>> {
    inner: Peekable<I>,
    max_ports: usize,
}

impl<I: Iterator<Item = Result<Record, ImportError>>> Merged<I> {
    fn new(inner: I, max_ports: usize) -> Self {
        Merged { inner: inner.peekable(), max_ports }
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

impl<I: Iterator<Item = Result<Record, ImportError>>> Iterator for Merged<I> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut host = match self.inner.next()? {
            Ok(Record::Host(host)) => host,
            other => return Some(other),
        };
        normalize(&mut host);
        while let Some(Ok(Record::Host(next))) = self.inner.peek() {
            if next.addr != host.addr || host.ports.len() + next.ports.len() > self.max_ports {
                break;
            }
            let Some(Ok(Record::Host(next))) = self.inner.next() else { break };
            host.ports.extend(next.ports);
            host.start = host.start.min(if next.start == std::time::UNIX_EPOCH { next.end } else { next.start });
            host.end = host.end.max(next.end);
        }
        host.ports.sort_by_key(|p| (p.proto, p.port));
        host.ports.dedup_by_key(|p| (p.proto, p.port));
        Some(Ok(Record::Host(host)))
    }
}
