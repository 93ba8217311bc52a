//! masscan's JSON output (`-oJ`): an array with one object per port found, and one per banner (with
//! `--banners`), written one object a line by masscan 1.3:
//!
//! ```text
//! [
//! {   "ip": "198.18.0.2",   "timestamp": "1796562004", "ports": [ {"port": 22, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 64} ] }
//! ,
//! {   "ip": "198.18.0.2",   "timestamp": "1796562005", "ports": [ {"port": 80, "proto": "tcp", "service": {"name": "http", "banner": "..."} } ] }
//! ]
//! ```
//!
//! Each object becomes a host of its ports (a banner's port is open, its service the banner's name with
//! the banner as a detail `banner`), grouped by address over the whole file as the other masscan readers
//! do. Objects without an `ip` (older masscans end with `{"finished": 1}`) are skipped. There is no
//! header and no summary.

use std::io::BufRead;
use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use serde::Deserialize;
use tojimari_core::report::{Detail, HostReport, HostState, PortResult, ServiceInfo, ServiceMethod};
use tojimari_core::{PortState, Protocol, Reason};

use super::{Merged, Positioned};
use crate::import::json_array::ArrayItems;
use crate::import::nmap_xml::Record;
use crate::import::{ImportError, Limits, Position};

const FORMAT: &str = "masscan JSON";

/// Reads masscan `-oJ` one record at a time (the format is described in this module's documentation).
pub struct JsonReader<R: BufRead> {
    inner: Merged<Objects<R>>,
}

impl<R: BufRead> std::fmt::Debug for JsonReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonReader").finish_non_exhaustive()
    }
}

impl<R: BufRead> JsonReader<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        let objects = Objects { items: ArrayItems::new(input, limits, FORMAT), done: false };
        JsonReader { inner: Merged::new(objects, limits) }
    }
}

impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

#[derive(Deserialize)]
struct Object {
    ip: Option<String>,
    /// A string of Unix seconds in masscan 1.3, a number in some older ones.
    timestamp: Option<serde_json::Value>,
    #[serde(default)]
    ports: Vec<PortObject>,
}

#[derive(Deserialize)]
struct PortObject {
    port: u16,
    proto: String,
    status: Option<String>,
    reason: Option<String>,
    ttl: Option<u8>,
    service: Option<Banner>,
}

#[derive(Deserialize)]
struct Banner {
    name: String,
    banner: Option<String>,
}

/// One host record per object, before grouping.
struct Objects<R> {
    items: ArrayItems<R>,
    done: bool,
}

impl<R: BufRead> Objects<R> {
    fn step(&mut self) -> Result<Option<Record>, ImportError> {
        while let Some((bytes, at)) = self.items.next_item()? {
            let object: Object = serde_json::from_slice(bytes).map_err(|e| ImportError::Json {
                at,
                format: FORMAT,
                message: e.to_string(),
            })?;
            if let Some(host) = host(object, at)? {
                return Ok(Some(Record::Host(Box::new(host))));
            }
        }
        Ok(None)
    }
}

fn host(object: Object, at: Position) -> Result<Option<HostReport>, ImportError> {
    let bad = |what: String| ImportError::NotFormat { at, format: FORMAT, what };
    let Some(ip) = object.ip else { return Ok(None) };
    let addr: IpAddr = ip.parse().map_err(|_| bad(format!("\"ip\": \"{ip}\" is not an IP address")))?;
    let seconds = match &object.timestamp {
        None => Some(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(_) => None,
    }
    .ok_or_else(|| bad("\"timestamp\" is not a number of seconds".into()))?;
    let time = UNIX_EPOCH + Duration::from_secs(seconds);
    let mut ports = Vec::with_capacity(object.ports.len());
    for p in object.ports {
        let proto: Protocol = match p.proto.parse() {
            Ok(proto) => proto,
            Err(_) => continue, // sctp, icmp: not kept
        };
        let state = match p.status.as_deref() {
            Some(s) => s.parse::<PortState>().map_err(|_| bad(format!("\"status\": \"{s}\" is not a port state")))?,
            None => PortState::Open,
        };
        let reason = p.reason.as_deref().and_then(|r| r.parse().ok()).unwrap_or(Reason::Unknown);
        let mut port = PortResult::new(proto, p.port, state, reason);
        port.reason_ttl = p.ttl.unwrap_or(0);
        if let Some(banner) = p.service {
            let mut info = ServiceInfo::named(banner.name, ServiceMethod::Probed, 10);
            if let Some(text) = banner.banner {
                info.details.push(Detail { id: "banner".into(), output: text });
            }
            port.service = Some(Box::new(info));
        }
        ports.push(port);
    }
    Ok(Some(HostReport {
        addr,
        hostnames: Vec::new(),
        state: HostState::Unknown,
        state_reason: Reason::Unknown,
        state_reason_ttl: 0,
        ports,
        start: time,
        end: time,
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }))
}

impl<R: BufRead> Positioned for Objects<R> {
    fn position(&self) -> Position {
        self.items.position()
    }
}

impl<R: BufRead> Iterator for Objects<R> {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
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

    const FILE: &str = "[\n\
        {   \"ip\": \"198.18.0.3\",   \"timestamp\": \"1796562006\", \"ports\": [ {\"port\": 80, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 64} ] }\n,\n\
        {   \"ip\": \"198.18.0.2\",   \"timestamp\": \"1796562004\", \"ports\": [ {\"port\": 22, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 63} ] }\n,\n\
        {   \"ip\": \"198.18.0.3\",   \"timestamp\": \"1796562007\", \"ports\": [ {\"port\": 80, \"proto\": \"tcp\", \"service\": {\"name\": \"http\", \"banner\": \"HTTP/1.0 200 OK\"} } ] }\n\
        ]\n";

    #[test]
    fn objects_become_hosts_grouped_by_address() {
        let records: Vec<Record> =
            JsonReader::new(FILE.as_bytes(), Limits::default()).collect::<Result<_, _>>().expect("reads");
        assert_eq!(records.len(), 2, "{records:#?}");
        let Record::Host(first) = &records[0] else { panic!() };
        assert_eq!(first.addr.to_string(), "198.18.0.2");
        assert_eq!((first.state, first.state_reason, first.state_reason_ttl), (HostState::Up, Reason::SynAck, 63));
        let Record::Host(second) = &records[1] else { panic!() };
        assert_eq!(second.ports.len(), 1, "the banner joins its port");
        let service = second.ports[0].service.as_ref().expect("the banner's service");
        assert_eq!((service.name.as_str(), service.details[0].output.as_str()), ("http", "HTTP/1.0 200 OK"));
        assert_eq!(second.end.duration_since(second.start).unwrap(), Duration::from_secs(1));
    }

    #[test]
    fn bad_objects_say_where() {
        let items: Vec<_> =
            JsonReader::new(&b"[\n{\"ip\": \"nope\", \"ports\": []}\n]"[..], Limits::default()).collect();
        assert!(matches!(items.last(), Some(Err(ImportError::NotFormat { at, .. })) if at.line == 2), "{items:?}");
        let items: Vec<_> = JsonReader::new(&b"[\n{\"ip\": 7}\n]"[..], Limits::default()).collect();
        assert!(matches!(items.last(), Some(Err(ImportError::Json { .. }))), "{items:?}");
        let cut = &FILE[..FILE.len() - 40];
        let items: Vec<_> = JsonReader::new(cut.as_bytes(), Limits::default()).collect();
        assert!(matches!(items.last(), Some(Err(ImportError::Ended { .. }))), "{items:?}");
        let few = Limits { max_pending_ports: 1, ..Limits::default() };
        let items: Vec<_> = JsonReader::new(FILE.as_bytes(), few).collect();
        assert!(matches!(items.last(), Some(Err(ImportError::TooManyPorts { limit: 1, .. }))), "{items:?}");
    }
}
