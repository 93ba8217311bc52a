//! masscan's list output (`-oL`): a `#masscan` line, one `STATE PROTO PORT ADDR UNIXTIME` line per
//! port (`open tcp 80 198.18.0.2 1796562004`), `banner ...` lines, and `# end`.
//!
//! Each port line becomes a host of one port (state `open` or `closed` with reason unknown: the list
//! does not say), grouped with the file's other lines of the same address as the XML reader does;
//! banner lines and comments are skipped. The records are hosts only: the list has no header beyond `#masscan` and
//! no summary.

use std::io::BufRead;
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use tojimari_core::report::{HostReport, HostState, PortResult};
use tojimari_core::{PortState, Protocol, Reason};

use super::Merged;
use crate::import::nmap_xml::Record;
use crate::import::{ImportError, Limits, Position};

const FORMAT: &str = "masscan list";

/// Reads masscan `-oL` one record at a time (the line format is in the module documentation of `list.rs`).
pub struct ListReader<R: BufRead> {
    inner: Merged<Lines<R>>,
}

impl<R: BufRead> std::fmt::Debug for ListReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListReader").finish_non_exhaustive()
    }
}

impl<R: BufRead> ListReader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        let lines = Lines { lines: crate::import::lines::Lines::new(input, limits), started: false, done: false };
        ListReader { inner: Merged::new(lines, limits) }
    }
}

impl<R: BufRead> Iterator for ListReader<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

/// One record per port line, before merging.
struct Lines<R> {
    lines: crate::import::lines::Lines<R>,
    started: bool,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    fn step(&mut self) -> Result<Option<Record>, ImportError> {
        while let Some((text, at)) = self.lines.next_text(FORMAT)? {
            let text = text.trim();
            if text.is_empty() || text.starts_with('#') || text.starts_with("banner ") {
                if !self.started && text.starts_with("#masscan") {
                    self.started = true;
                }
                continue;
            }
            if !self.started {
                return Err(ImportError::NotFormat {
                    at,
                    format: FORMAT,
                    what: "a masscan list starts with #masscan".into(),
                });
            }
            return parse_line(text, at).map(|host| Some(Record::Host(Box::new(host))));
        }
        Ok(None)
    }
}

fn parse_line(text: &str, at: Position) -> Result<HostReport, ImportError> {
    let bad = |what: &str| ImportError::NotFormat { at, format: FORMAT, what: format!("{what} in the line {text:?}") };
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [state, proto, port, addr, time, ..] = fields[..] else { return Err(bad("too few fields")) };
    let state: PortState = state.parse().map_err(|_| bad("an unknown state"))?;
    let proto: Protocol = proto.parse().map_err(|_| bad("an unknown protocol"))?;
    let port: u16 = port.parse().map_err(|_| bad("a bad port"))?;
    let addr: IpAddr = addr.parse().map_err(|_| bad("a bad address"))?;
    let time = UNIX_EPOCH + Duration::from_secs(time.parse().map_err(|_| bad("a bad time"))?);
    Ok(HostReport {
        addr,
        hostnames: Vec::new(),
        state: HostState::Unknown,
        state_reason: Reason::Unknown,
        state_reason_ttl: 0,
        ports: vec![PortResult::new(proto, port, state, Reason::Unknown)],
        start: time,
        end: time,
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    })
}

impl<R: BufRead> super::Positioned for Lines<R> {
    fn position(&self) -> Position {
        self.lines.position()
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.step();
        match result {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "#masscan\nopen tcp 80 198.18.0.2 1796562004\nbanner tcp 80 198.18.0.2 1796562004 http HTTP/1.0 200 OK\n\
                        open tcp 22 198.18.0.2 1796562005\nopen udp 53 198.18.0.3 1796562006\n# end\n";

    fn read(text: &str) -> Vec<Result<Record, ImportError>> {
        ListReader::new(text.as_bytes(), Limits::default()).collect()
    }

    #[test]
    fn port_lines_become_merged_hosts() {
        let records: Vec<Record> = read(LIST).into_iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 2);
        let Record::Host(first) = &records[0] else { panic!() };
        assert_eq!(first.addr.to_string(), "198.18.0.2");
        assert_eq!(first.state, HostState::Up);
        let ports: Vec<_> = first.ports.iter().map(|p| (p.proto, p.port, p.state)).collect();
        assert_eq!(ports, [(Protocol::Tcp, 22, PortState::Open), (Protocol::Tcp, 80, PortState::Open)]);
        assert_eq!(first.end.duration_since(first.start).unwrap(), Duration::from_secs(1));
        let Record::Host(second) = &records[1] else { panic!() };
        assert_eq!((second.ports[0].proto, second.ports[0].port), (Protocol::Udp, 53));
    }

    #[test]
    fn bad_lines_say_where() {
        let items = read("#masscan\nopen tcp 80 198.18.0.2 1\nopen tcp 99999 198.18.0.2 1\n");
        let Some(Err(ImportError::NotFormat { at, .. })) = items.last() else { panic!("{items:?}") };
        assert_eq!(at.line, 3);
        assert!(matches!(read("Nmap scan report\n").last(), Some(Err(ImportError::NotFormat { .. }))));
        let long = format!("#masscan\n{}\n", "x".repeat(2 << 20));
        assert!(matches!(read(&long).last(), Some(Err(ImportError::TokenTooLong { .. }))));
        assert!(read("").is_empty());
    }
}
