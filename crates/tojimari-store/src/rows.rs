//! A host report as the store's rows, and back: pure logic, no database.
//!
//! - Ports in a state every output folds ([`folded_by_every_output`]: nmap's `extraports`) become one
//!   [`FoldRow`] per (protocol, state, reason) with compact ranges; the others one [`PortRow`] each.
//! - What the outputs print beyond the queried columns (reason TTLs, host name kinds, times, the OS report,
//!   the whole service) is kept as JSON of core's own types, so a scan read back ([`rebuild_host`]) prints
//!   the same files again.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tojimari_core::os::OsReport;
use tojimari_core::report::{
    Detail, Finding, HostReport, HostState, HostTimes, Hostname, PortResult, ServiceInfo, ServiceMethod, Tunnel,
};
use tojimari_core::{PortState, Protocol, Reason};
use tojimari_output::{compact_ranges, folded_by_every_output};

use crate::import::ranges::for_each_port;

/// One `host_obs` row (without scan and host ids).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HostRow {
    pub state: &'static str,
    pub reason: &'static str,
    pub hostnames: String,
    pub os_name: Option<String>,
    pub os_accuracy: Option<i64>,
    pub distance: Option<i64>,
    pub detail: String,
}

/// One `port_obs` row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PortRow {
    pub proto: &'static str,
    pub port: i64,
    pub state: &'static str,
    pub reason: &'static str,
    pub reason_ttl: i64,
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub tunnel: Option<&'static str>,
    pub cert: Option<String>,
    pub detail: Option<String>,
}

/// One `port_folds` row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FoldRow {
    pub proto: &'static str,
    pub state: &'static str,
    pub reason: &'static str,
    pub count: i64,
    pub ports: String,
}

/// One `findings` row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FindingRow {
    pub proto: &'static str,
    pub port: i64,
    pub id: String,
    pub severity: &'static str,
    pub evidence: String,
}

/// Every row of one host.
#[derive(Clone, Debug)]
pub(crate) struct HostRows {
    pub addr: String,
    pub host: HostRow,
    pub ports: Vec<PortRow>,
    pub folds: Vec<FoldRow>,
    pub findings: Vec<FindingRow>,
    /// When the host was observed (its end time), for the current state.
    pub seen_ms: i64,
}

/// What `host_obs.detail` keeps: the host's fields no column holds, times as Unix nanoseconds and round
/// trips as `[srtt, rttvar, timeout]` nanoseconds, empty parts left out (a /16 sweep writes 65,536 of these).
#[derive(Serialize, Deserialize)]
struct HostDetail {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hostnames: Vec<Hostname>,
    #[serde(default, skip_serializing_if = "is_zero")]
    ttl: u8,
    start: u128,
    end: u128,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<[u128; 3]>,
    complete: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    timed_out: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os: Option<Box<OsReport>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trace: Option<Box<tojimari_core::route::Trace>>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

fn nanos(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn at_nanos(n: u128) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
}

/// What `port_obs.detail` keeps of a service: what its columns (name, product, version, tunnel) do not, empty
/// parts left out (most ports have only a method and a confidence: some 30 bytes, not 200).
#[derive(Serialize, Deserialize)]
struct ServiceRest {
    method: ServiceMethod,
    conf: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extrainfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ostype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    devicetype: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    cpe: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    details: Vec<Detail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<Finding>,
}

/// Unix milliseconds of `t` (0 before 1970).
pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The rows of `host`, folding what every output folds at `-v` level `verbose`. `fallback_ms` is the
/// observation time when the report has none (an import without times).
pub(crate) fn host_rows(host: &HostReport, verbose: u8, fallback_ms: i64) -> HostRows {
    let mut per_state = [0usize; PortState::ALL.len()];
    for p in &host.ports {
        per_state[p.state.index()] += 1;
    }
    let folded = |state: PortState| folded_by_every_output(state, per_state[state.index()], verbose);
    let mut ports = Vec::new();
    let mut groups: BTreeMap<(Protocol, PortState, Reason), Vec<u16>> = BTreeMap::new();
    let mut findings = Vec::new();
    for p in &host.ports {
        if folded(p.state) && p.service.is_none() {
            groups.entry((p.proto, p.state, p.reason)).or_default().push(p.port);
            continue;
        }
        ports.push(port_row(p));
        for f in p.service.as_ref().map(|s| s.findings.as_slice()).unwrap_or_default() {
            findings.push(FindingRow {
                proto: p.proto.as_str(),
                port: i64::from(p.port),
                id: f.id.clone(),
                severity: f.severity.as_str(),
                evidence: f.evidence.clone(),
            });
        }
    }
    let folds = groups
        .into_iter()
        .map(|((proto, state, reason), list)| FoldRow {
            proto: proto.as_str(),
            state: state.as_str(),
            reason: reason.as_str(),
            count: list.len() as i64,
            ports: compact_ranges(&list),
        })
        .collect();
    let best = host.os.as_ref().and_then(|os| os.best());
    let detail = HostDetail {
        hostnames: host.hostnames.clone(),
        ttl: host.state_reason_ttl,
        start: nanos(host.start),
        end: nanos(host.end),
        times: host.times.map(|t| [t.srtt.as_nanos(), t.rttvar.as_nanos(), t.timeout.as_nanos()]),
        complete: host.complete,
        timed_out: host.timed_out,
        os: host.os.clone(),
        trace: host.trace.clone(),
    };
    let seen = unix_ms(host.end);
    HostRows {
        addr: host.addr.to_string(),
        host: HostRow {
            state: host.state.as_str(),
            reason: host.state_reason.as_str(),
            hostnames: host.hostnames.iter().map(|h| h.name.as_str()).collect::<Vec<_>>().join(" "),
            os_name: best.map(|m| m.name.clone()),
            os_accuracy: best.map(|m| i64::from(m.accuracy)),
            distance: host.os.as_ref().and_then(|os| os.distance).map(i64::from),
            detail: serde_json::to_string(&detail).unwrap_or_else(|_| "{}".into()),
        },
        ports,
        folds,
        findings,
        seen_ms: if seen > 0 { seen } else { fallback_ms },
    }
}

fn port_row(p: &PortResult) -> PortRow {
    let service = p.service.as_deref();
    PortRow {
        proto: p.proto.as_str(),
        port: i64::from(p.port),
        state: p.state.as_str(),
        reason: p.reason.as_str(),
        reason_ttl: i64::from(p.reason_ttl),
        service: service.map(|s| s.name.clone()),
        product: service.and_then(|s| s.product.clone()),
        version: service.and_then(|s| s.version.clone()),
        tunnel: service.and_then(|s| s.tunnel).map(|t| t.as_str()),
        cert: service.and_then(cert_fingerprint),
        detail: service.and_then(|s| {
            serde_json::to_string(&ServiceRest {
                method: s.method,
                conf: s.conf,
                extrainfo: s.extrainfo.clone(),
                hostname: s.hostname.clone(),
                ostype: s.ostype.clone(),
                devicetype: s.devicetype.clone(),
                cpe: s.cpe.clone(),
                details: s.details.clone(),
                findings: s.findings.clone(),
            })
            .ok()
        }),
    }
}

/// The certificate's fingerprint from the `ssl-cert` detail: its SHA-256 (as tojimari writes it), else
/// `sha1:` and the SHA-1 (all nmap's script gives), lower-case hex without spaces.
pub(crate) fn cert_fingerprint(service: &ServiceInfo) -> Option<String> {
    let cert = service.details.iter().find(|d| d.id == "ssl-cert")?;
    let hex_of = |label: &str| {
        cert.output.lines().find_map(|line| {
            let value = line.trim().strip_prefix(label)?;
            let hex: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
            (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
        })
    };
    hex_of("SHA-256:").or_else(|| hex_of("SHA-1:").map(|h| format!("sha1:{h}")))
}

/// A stored row that cannot be read back (a store written by something else, or damaged).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadRow(pub String);

/// A `port_obs` row as read back.
#[derive(Clone, Debug)]
pub(crate) struct StoredPort {
    pub proto: String,
    pub port: i64,
    pub state: String,
    pub reason: String,
    pub reason_ttl: i64,
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub tunnel: Option<String>,
    pub detail: Option<String>,
}

/// A `port_folds` row as read back.
#[derive(Clone, Debug)]
pub(crate) struct StoredFold {
    pub proto: String,
    pub state: String,
    pub reason: String,
    pub ports: String,
}

/// The host report the rows were made from: the inverse of [`host_rows`] for everything the outputs print
/// (folded ports come back with reason TTL 0, which no output shows for them).
pub(crate) fn rebuild_host(
    addr: &str,
    state: &str,
    reason: &str,
    detail: &str,
    ports: &[StoredPort],
    folds: &[StoredFold],
) -> Result<HostReport, BadRow> {
    let bad = |what: String| BadRow(format!("host {addr}: {what}"));
    let detail: HostDetail = serde_json::from_str(detail).map_err(|e| bad(format!("its detail: {e}")))?;
    let mut out: Vec<PortResult> = Vec::with_capacity(ports.len());
    for p in ports {
        let mut result = PortResult::new(
            p.proto.parse().map_err(|_| bad(format!("protocol {}", p.proto)))?,
            u16::try_from(p.port).map_err(|_| bad(format!("port {}", p.port)))?,
            p.state.parse().map_err(|_| bad(format!("state {}", p.state)))?,
            p.reason.parse().map_err(|_| bad(format!("reason {}", p.reason)))?,
        );
        result.reason_ttl = u8::try_from(p.reason_ttl).unwrap_or(0);
        result.service = match &p.detail {
            Some(json) => {
                let rest: ServiceRest = serde_json::from_str(json).map_err(|e| bad(format!("a service: {e}")))?;
                Some(Box::new(ServiceInfo {
                    name: p.service.clone().unwrap_or_default(),
                    method: rest.method,
                    conf: rest.conf,
                    product: p.product.clone(),
                    version: p.version.clone(),
                    extrainfo: rest.extrainfo,
                    hostname: rest.hostname,
                    ostype: rest.ostype,
                    devicetype: rest.devicetype,
                    tunnel: match p.tunnel.as_deref() {
                        Some("ssl") => Some(Tunnel::Ssl),
                        _ => None,
                    },
                    cpe: rest.cpe,
                    details: rest.details,
                    findings: rest.findings,
                }))
            }
            None => None,
        };
        out.push(result);
    }
    for f in folds {
        let proto: Protocol = f.proto.parse().map_err(|_| bad(format!("protocol {}", f.proto)))?;
        let state: PortState = f.state.parse().map_err(|_| bad(format!("state {}", f.state)))?;
        let reason: Reason = f.reason.parse().map_err(|_| bad(format!("reason {}", f.reason)))?;
        let listed = for_each_port(&f.ports, |port| {
            out.push(PortResult::new(proto, port, state, reason));
            out.len() <= 2 * 65536
        });
        if listed != Some(true) {
            return Err(bad(format!("folded ports {}", f.ports)));
        }
    }
    out.sort_by_key(|p| (p.proto, p.port));
    Ok(HostReport {
        addr: addr.parse().map_err(|_| bad("its address".into()))?,
        hostnames: detail.hostnames,
        state: match state {
            "up" => HostState::Up,
            "down" => HostState::Down,
            _ => HostState::Unknown,
        },
        state_reason: reason.parse().map_err(|_| bad(format!("reason {reason}")))?,
        state_reason_ttl: detail.ttl,
        ports: out,
        start: at_nanos(detail.start),
        end: at_nanos(detail.end),
        times: detail.times.map(|[srtt, rttvar, timeout]| {
            let d = |n: u128| Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX));
            HostTimes { srtt: d(srtt), rttvar: d(rttvar), timeout: d(timeout) }
        }),
        complete: detail.complete,
        timed_out: detail.timed_out,
        os: detail.os,
        trace: detail.trace,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tojimari_core::report::{HostnameKind, Severity};

    use super::*;

    fn host() -> HostReport {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_000_000_123);
        let mut ports: Vec<PortResult> =
            (1..=200).map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset)).collect();
        ports[21].state = PortState::Open;
        ports[21].reason = Reason::SynAck;
        ports[21].reason_ttl = 64;
        let mut service = ServiceInfo::named("https", ServiceMethod::Probed, 10);
        service.product = Some("nginx".into());
        service.tunnel = Some(Tunnel::Ssl);
        service.details.push(Detail {
            id: "ssl-cert".into(),
            output: format!("Subject: commonName=x\nSHA-256: {}", "AB".repeat(32)),
        });
        service.findings.push(Finding {
            id: "tls-self-signed".into(),
            severity: Severity::Medium,
            evidence: "self-signed".into(),
            advice: "get one signed".into(),
        });
        ports[21].service = Some(Box::new(service));
        ports[99].state = PortState::Filtered;
        ports[99].reason = Reason::NoResponse;
        ports.push(PortResult::new(Protocol::Udp, 53, PortState::OpenFiltered, Reason::NoResponse));
        HostReport {
            addr: "198.18.0.9".parse().unwrap(),
            hostnames: vec![Hostname { name: "nine.test".into(), kind: HostnameKind::User }],
            state: HostState::Up,
            state_reason: Reason::ArpResponse,
            state_reason_ttl: 0,
            ports,
            start: t0,
            end: t0 + Duration::from_millis(250),
            times: Some(HostTimes {
                srtt: Duration::from_micros(120),
                rttvar: Duration::from_micros(40),
                timeout: Duration::from_millis(100),
            }),
            complete: true,
            timed_out: false,
            os: None,
            trace: None,
        }
    }

    #[test]
    fn the_majority_state_is_folded_and_the_rest_kept_one_by_one() {
        let rows = host_rows(&host(), 0, 7);
        // 198 closed tcp ports fold into one range row; open, filtered and open|filtered stay rows.
        assert_eq!(rows.folds.len(), 1);
        assert_eq!((rows.folds[0].state, rows.folds[0].count), ("closed", 198));
        assert_eq!(rows.folds[0].ports, "1-21,23-99,101-200");
        let listed: Vec<(&str, i64)> = rows.ports.iter().map(|p| (p.state, p.port)).collect();
        assert_eq!(listed, [("open", 22), ("filtered", 100), ("open|filtered", 53)]);
        assert_eq!(rows.findings.len(), 1);
        assert_eq!(rows.ports[0].cert.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(rows.seen_ms, 1_796_000_000_373);
        // At -v the threshold doubles; 198 still folds, and nothing folds at -vvvvvvv.
        assert!(host_rows(&host(), 7, 0).folds.is_empty());
    }

    #[test]
    fn rows_read_back_give_the_same_report() {
        let original = host();
        let rows = host_rows(&original, 0, 0);
        let ports: Vec<StoredPort> = rows
            .ports
            .iter()
            .map(|p| StoredPort {
                proto: p.proto.into(),
                port: p.port,
                state: p.state.into(),
                reason: p.reason.into(),
                reason_ttl: p.reason_ttl,
                service: p.service.clone(),
                product: p.product.clone(),
                version: p.version.clone(),
                tunnel: p.tunnel.map(str::to_string),
                detail: p.detail.clone(),
            })
            .collect();
        let folds: Vec<StoredFold> = rows
            .folds
            .iter()
            .map(|f| StoredFold {
                proto: f.proto.into(),
                state: f.state.into(),
                reason: f.reason.into(),
                ports: f.ports.clone(),
            })
            .collect();
        let back =
            rebuild_host(&rows.addr, rows.host.state, rows.host.reason, &rows.host.detail, &ports, &folds).unwrap();
        assert_eq!(back.ports, original.ports);
        assert_eq!(back.hostnames, original.hostnames);
        assert_eq!((back.start, back.end, back.times), (original.start, original.end, original.times));
        assert_eq!((back.state, back.state_reason), (original.state, original.state_reason));
    }

    #[test]
    fn damaged_rows_are_refused_not_trusted() {
        let rows = host_rows(&host(), 0, 0);
        assert!(rebuild_host(&rows.addr, "up", "arp-response", "{not json", &[], &[]).is_err());
        let fold =
            StoredFold { proto: "tcp".into(), state: "closed".into(), reason: "reset".into(), ports: "9-1".into() };
        assert!(rebuild_host(&rows.addr, "up", "arp-response", &rows.host.detail, &[], &[fold]).is_err());
    }

    #[test]
    fn nmap_sha1_fingerprints_are_marked() {
        let mut s = ServiceInfo::named("https", ServiceMethod::Probed, 10);
        s.details.push(Detail { id: "ssl-cert".into(), output: "MD5:   aa\nSHA-1: 12AB 34cd".into() });
        assert_eq!(cert_fingerprint(&s).as_deref(), Some("sha1:12ab34cd"));
    }
}
