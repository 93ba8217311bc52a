//! One `<host>` element read into a [`HostReport`], after its start tag.

use std::io::BufRead;
use std::net::IpAddr;
use std::time::UNIX_EPOCH;

use tojimari_core::os::{OsClass, OsMatch, OsReport, PortUsed, SequenceClass, TcpSequence, Uptime};
use tojimari_core::report::{
    Detail, Finding, HostReport, HostState, HostTimes, Hostname, HostnameKind, PortResult, ServiceInfo, ServiceMethod,
    Severity, Tunnel,
};
use tojimari_core::{PortState, Protocol, Reason};

use super::events::{Event, Events};
use super::host_reason;
use super::values::{Element, parse_ctime};
use crate::import::ImportError;
use crate::import::ranges::for_each_port;

/// Where the text of a `<cpe>` goes.
#[derive(Copy, Clone, PartialEq, Eq)]
enum CpeOwner {
    Service,
    OsClass,
}

/// Reads the host whose start tag was `start`, through its end tag.
pub(crate) fn read<R: BufRead>(events: &mut Events<R>, start: &Element) -> Result<HostReport, ImportError> {
    let limits = events.limits();
    let begin = start.at.offset;
    let mut host = HostReport {
        addr: IpAddr::from([0, 0, 0, 0]),
        hostnames: Vec::new(),
        state: HostState::Unknown,
        state_reason: Reason::Unknown,
        state_reason_ttl: 0,
        ports: Vec::new(),
        start: start.unix_time("starttime")?.unwrap_or(UNIX_EPOCH),
        end: start.unix_time("endtime")?.unwrap_or(UNIX_EPOCH),
        times: None,
        complete: start.get("comment").is_none_or(|c| !c.starts_with("incomplete")),
        timed_out: start.get("timedout") == Some("true"),
        os: None,
        trace: None,
    };
    let mut has_addr = false;
    let mut os: Option<OsReport> = None;
    let mut trace: Option<tojimari_core::route::Trace> = None;
    let mut port: Option<PortResult> = None;
    // The open port's start, and whether its `<state>` came.
    let mut port_start: Option<(Element, bool)> = None;
    let mut extra_state: Option<PortState> = None;
    let mut cpe: Option<(CpeOwner, String)> = None;
    let mut stack: Vec<String> = Vec::new();

    loop {
        let event = events.next()?;
        let at = events.position();
        if at.offset.saturating_sub(begin) > limits.max_host_bytes {
            return Err(ImportError::HostTooLarge { at, limit: limits.max_host_bytes });
        }
        match event {
            Event::Start(e) => {
                let parent = stack.last().map_or("host", String::as_str);
                match (parent, e.name.as_str()) {
                    ("host", "status") => {
                        host.state = match e.require("state")? {
                            "up" => HostState::Up,
                            "down" => HostState::Down,
                            "unknown" | "skipped" => HostState::Unknown,
                            other => return Err(e.bad("state", other, "not up, down or unknown")),
                        };
                        host.state_reason = host_reason(reason(&e)?);
                        host.state_reason_ttl = e.parse("reason_ttl")?.unwrap_or(0);
                    }
                    ("host", "address") if matches!(e.get("addrtype"), Some("ipv4" | "ipv6") | None) => {
                        let text = e.require("addr")?;
                        host.addr = text.parse().map_err(|_| e.bad("addr", text, "not an IP address"))?;
                        has_addr = true;
                    }
                    ("hostnames", "hostname") => {
                        let kind = match e.get("type") {
                            Some("user") => HostnameKind::User,
                            _ => HostnameKind::Ptr,
                        };
                        host.hostnames.push(Hostname { name: e.require("name")?.to_string(), kind });
                    }
                    ("ports", "extraports") => {
                        extra_state = Some(e.parse_required("state")?);
                    }
                    ("extraports", "extrareasons") => {
                        if let (Some(state), Some(list), Ok(Some(proto))) =
                            (extra_state, e.get("ports"), e.parse::<Protocol>("proto"))
                        {
                            let why = reason(&e)?;
                            let ports = &mut host.ports;
                            let fits = for_each_port(list, |p| {
                                ports.push(PortResult::new(proto, p, state, why));
                                ports.len() <= limits.max_ports_per_host
                            });
                            match fits {
                                None => return Err(e.bad("ports", list, "not a port list")),
                                Some(false) => {
                                    return Err(ImportError::TooManyPorts { at, limit: limits.max_ports_per_host });
                                }
                                Some(true) => {}
                            }
                        }
                    }
                    ("ports", "port") => {
                        let proto = e.require("protocol")?;
                        let number = e.parse_required::<u16>("portid")?;
                        match proto.parse::<Protocol>() {
                            Ok(proto) => {
                                port = Some(PortResult::new(proto, number, PortState::Closed, Reason::Unknown))
                            }
                            Err(_) => port = None, // sctp, ip: not kept
                        }
                        port_start = Some((e.clone(), false));
                    }
                    ("port", "state") => {
                        if let Some((_, seen)) = port_start.as_mut() {
                            *seen = true;
                        }
                        if let Some(p) = port.as_mut() {
                            p.state = e.parse_required("state")?;
                            p.reason = reason(&e)?;
                            p.reason_ttl = e.parse("reason_ttl")?.unwrap_or(0);
                        }
                    }
                    ("port", "service") => {
                        if let Some(p) = port.as_mut() {
                            let details = p.service.take().map(|s| (s.details, s.findings)).unwrap_or_default();
                            let mut info = service(&e)?;
                            (info.details, info.findings) = details;
                            p.service = Some(Box::new(info));
                        }
                    }
                    ("service", "cpe") => cpe = Some((CpeOwner::Service, String::new())),
                    ("port", "script") => {
                        if let Some(p) = port.as_mut() {
                            let info = p.service.get_or_insert_with(Box::default);
                            let id = e.require("id")?.to_string();
                            let output = e.owned("output").unwrap_or_default();
                            match finding(&id, &output) {
                                Some(f) => info.findings.push(f),
                                None => info.details.push(Detail { id, output }),
                            }
                        }
                    }
                    ("os", "portused") => {
                        os.get_or_insert_with(OsReport::default).ports_used.push(PortUsed {
                            state: e.parse_required("state")?,
                            proto: e.parse_required("proto")?,
                            port: e.parse_required("portid")?,
                        });
                    }
                    ("os", "osmatch") => {
                        os.get_or_insert_with(OsReport::default).matches.push(OsMatch {
                            name: e.owned("name").unwrap_or_default(),
                            accuracy: e.parse("accuracy")?.unwrap_or(0),
                            line: e.parse("line")?.unwrap_or(0),
                            classes: Vec::new(),
                        });
                    }
                    ("osmatch", "osclass") => {
                        if let Some(m) = os.as_mut().and_then(|os| os.matches.last_mut()) {
                            m.classes.push(OsClass {
                                device_type: e.owned("type").unwrap_or_default(),
                                vendor: e.owned("vendor").unwrap_or_default(),
                                family: e.owned("osfamily").unwrap_or_default(),
                                generation: e.owned("osgen"),
                                accuracy: e.parse("accuracy")?.unwrap_or(0),
                                cpe: Vec::new(),
                            });
                        }
                    }
                    ("osclass", "cpe") => cpe = Some((CpeOwner::OsClass, String::new())),
                    ("os", "osfingerprint") => {
                        os.get_or_insert_with(OsReport::default).fingerprint = e.owned("fingerprint");
                    }
                    ("host", "uptime") => {
                        let seconds: u64 = e.parse_required("seconds")?;
                        let last_boot = e
                            .get("lastboot")
                            .and_then(parse_ctime)
                            .or_else(|| host.end.checked_sub(std::time::Duration::from_secs(seconds)))
                            .unwrap_or(UNIX_EPOCH);
                        os.get_or_insert_with(OsReport::default).uptime = Some(Uptime { seconds, last_boot });
                    }
                    ("host", "distance") => {
                        os.get_or_insert_with(OsReport::default).distance = e.parse("value")?;
                    }
                    ("host", "tcpsequence") => {
                        os.get_or_insert_with(OsReport::default).tcp_sequence = Some(TcpSequence {
                            index: e.parse("index")?.unwrap_or(0),
                            difficulty: e.owned("difficulty").unwrap_or_default(),
                            values: e.hex_list("values")?,
                        });
                    }
                    ("host", "ipidsequence") => {
                        os.get_or_insert_with(OsReport::default).ip_id_sequence = Some(sequence(&e)?);
                    }
                    ("host", "tcptssequence") => {
                        os.get_or_insert_with(OsReport::default).tcp_ts_sequence = Some(sequence(&e)?);
                    }
                    ("host", "trace") => {
                        use tojimari_core::route::{Trace, TraceProbe};
                        let proto = e.get("proto").unwrap_or_default();
                        let probe = match e.parse::<u16>("port")? {
                            Some(port) => proto.parse::<Protocol>().ok().map(|proto| TraceProbe::Port { proto, port }),
                            None => tojimari_core::ip_protocols::numbers_named(|n| n.eq_ignore_ascii_case(proto))
                                .first()
                                .map(|&number| TraceProbe::Proto { number }),
                        };
                        trace = Some(Trace { probe, hops: Vec::new(), same_as: None });
                    }
                    ("trace", "hop") => {
                        // One hop per TTL at most: a file cannot grow a trace beyond 255 entries.
                        if let Some(t) = trace.as_mut().filter(|t| t.hops.len() < 255) {
                            let ttl: u8 = e.parse_required("ttl")?;
                            let addr: Option<std::net::IpAddr> = e.parse("ipaddr")?;
                            let rtt = e.parse::<f64>("rtt")?.filter(|ms| ms.is_finite() && *ms >= 0.0).unwrap_or(0.0);
                            let mut hop = tojimari_core::route::TraceHop::silent(ttl);
                            if let Some(addr) = addr {
                                hop = tojimari_core::route::TraceHop::answered(
                                    ttl,
                                    addr,
                                    std::time::Duration::from_micros((rtt.min(3.6e6) * 1000.0).round() as u64),
                                );
                                if let Some(a) = hop.answer.as_mut() {
                                    a.name = e.owned("host");
                                }
                            }
                            t.hops.push(hop);
                        }
                    }
                    ("host", "times") => {
                        host.times = Some(HostTimes {
                            srtt: e.micros("srtt")?,
                            rttvar: e.micros("rttvar")?,
                            timeout: e.micros("to")?,
                        });
                    }
                    _ => {}
                }
                stack.push(e.name);
            }
            Event::Text(text) => {
                if let Some((_, buf)) = cpe.as_mut() {
                    if buf.len() + text.len() > limits.max_token {
                        return Err(ImportError::TokenTooLong { at, limit: limits.max_token });
                    }
                    buf.push_str(&text);
                }
            }
            Event::End(name) => {
                if stack.pop().is_none() {
                    break;
                }
                match name.as_str() {
                    "port" => {
                        if let Some((start, false)) = port_start.take() {
                            return Err(ImportError::Missing {
                                at: start.at,
                                element: "port".into(),
                                attribute: "state".into(),
                            });
                        }
                        if let Some(p) = port.take() {
                            host.ports.push(p);
                            if host.ports.len() > limits.max_ports_per_host {
                                return Err(ImportError::TooManyPorts { at, limit: limits.max_ports_per_host });
                            }
                        }
                    }
                    "extraports" => extra_state = None,
                    "cpe" => match cpe.take() {
                        Some((CpeOwner::Service, text)) => {
                            if let Some(info) = port.as_mut().and_then(|p| p.service.as_mut()) {
                                info.cpe.push(text.trim().to_string());
                            }
                        }
                        Some((CpeOwner::OsClass, text)) => {
                            if let Some(class) =
                                os.as_mut().and_then(|os| os.matches.last_mut()).and_then(|m| m.classes.last_mut())
                            {
                                class.cpe.push(text.trim().to_string());
                            }
                        }
                        None => {}
                    },
                    _ => {}
                }
            }
            Event::Eof => return Err(ImportError::Truncated { at, inside: stack.pop().unwrap_or("host".into()) }),
        }
    }
    if !has_addr {
        return Err(ImportError::Missing { at: start.at, element: "host".into(), attribute: "address".into() });
    }
    host.ports.sort_by_key(|p| (p.proto, p.port));
    host.os = os.map(Box::new);
    host.trace = trace.map(|mut t| {
        t.hops.sort_by_key(|h| h.ttl);
        t.hops.dedup_by_key(|h| h.ttl);
        Box::new(t)
    });
    Ok(host)
}

/// The `reason` attribute; a name core does not know is [`Reason::Unknown`].
fn reason(e: &Element) -> Result<Reason, ImportError> {
    Ok(e.get("reason").and_then(|r| r.parse().ok()).unwrap_or(Reason::Unknown))
}

fn sequence(e: &Element) -> Result<SequenceClass, ImportError> {
    Ok(SequenceClass { class: e.owned("class").unwrap_or_default(), values: e.hex_list("values")? })
}

fn service(e: &Element) -> Result<ServiceInfo, ImportError> {
    let method = match e.get("method") {
        Some("probed") => ServiceMethod::Probed,
        _ => ServiceMethod::Table,
    };
    let tunnel = match e.get("tunnel") {
        Some("ssl") => Some(Tunnel::Ssl),
        _ => None,
    };
    Ok(ServiceInfo {
        name: e.owned("name").unwrap_or_default(),
        method,
        conf: e.parse("conf")?.unwrap_or(0),
        product: e.owned("product"),
        version: e.owned("version"),
        extrainfo: e.owned("extrainfo"),
        hostname: e.owned("hostname"),
        ostype: e.owned("ostype"),
        devicetype: e.owned("devicetype"),
        tunnel,
        ..ServiceInfo::default()
    })
}

/// tojimari's finding script: `id [severity]: evidence -- advice`, its id the script's.
fn finding(id: &str, output: &str) -> Option<Finding> {
    let rest = output.strip_prefix(id)?.strip_prefix(" [")?;
    let (severity, rest) = rest.split_once("]: ")?;
    let severity = Severity::parse(severity)?;
    let (evidence, advice) = rest.rsplit_once(" -- ")?;
    Some(Finding { id: id.to_string(), severity, evidence: evidence.to_string(), advice: advice.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_told_from_details() {
        let f = finding("telnet-cleartext", "telnet-cleartext [high]: banner seen -- turn it off").unwrap();
        assert_eq!(f.severity, Severity::High);
        assert_eq!((f.evidence.as_str(), f.advice.as_str()), ("banner seen", "turn it off"));
        assert!(finding("http-title", "Welcome").is_none());
        assert!(finding("x", "x [dire]: a -- b").is_none());
    }
}
