//! The differing hosts of two scans loaded for a comparison in one statement ([`load_pair`]): the statement
//! finds the hosts itself (their ids never travel to the client and back), and gives one row per host with
//! both scans' observations, each with its port rows, folds and findings gathered by the database into JSON
//! arrays (`json_group_array` on SQLite, `json_agg` on PostgreSQL): a comparison of two big scans loads a
//! few thousand hosts, and their ports as rows of their own would cost several times the round trips.

use std::collections::BTreeMap;

use serde_json::Value;
use tojimari_core::Protocol;

use crate::port_ranges::parse_port_ranges;
use crate::snapshot::{FindingObs, Fold, HostSnapshot, PortObs};
use crate::store::Backend;

/// A host's observation and its JSON arrays, as one side of a pair row: state, reason, host names, OS,
/// ports, folds, findings (all NULL when the scan did not record the host).
type Side =
    (Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

/// The three aggregates of the host observation aliased `o`.
fn aggregates(backend: Backend, o: &str) -> String {
    let (agg, arr, text) = match backend {
        Backend::Sqlite => ("json_group_array", "json_array", ""),
        Backend::Postgres => ("json_agg", "json_build_array", "::text"),
    };
    format!(
        "(SELECT {agg}({arr}(p.proto, p.port, p.state, p.reason, p.service, p.product, p.version, p.tunnel, \
           p.cert_sha256)){text} FROM port_obs p WHERE p.scan_id = {o}.scan_id AND p.host_id = {o}.host_id), \
         (SELECT {agg}({arr}(f.proto, f.state, f.reason, f.ports)){text} FROM port_folds f \
           WHERE f.scan_id = {o}.scan_id AND f.host_id = {o}.host_id), \
         (SELECT {agg}({arr}(g.proto, g.port, g.finding, g.severity, g.evidence)){text} FROM findings g \
           WHERE g.scan_id = {o}.scan_id AND g.host_id = {o}.host_id)"
    )
}

/// One host from its observation's columns and JSON arrays.
fn host_of(
    state: String,
    reason: String,
    hostnames: String,
    os: Option<String>,
    ports: Option<&str>,
    folds: Option<&str>,
    findings: Option<&str>,
) -> HostSnapshot {
    let mut host = HostSnapshot { state, reason, hostnames, os, ..HostSnapshot::default() };
    fill(&mut host, ports, folds, findings);
    host
}

/// The hosts of scans `a` and `b` (row ids) whose observations differ (`differing`: a statement selecting
/// `host_id`s, its parameters bound from `$1` as `binds` says), each scan's by address.
pub(crate) async fn load_pair(
    pool: &sqlx::AnyPool,
    backend: Backend,
    differing: &str,
    binds: &[i64],
    a: i64,
    b: i64,
) -> Result<(BTreeMap<String, HostSnapshot>, BTreeMap<String, HostSnapshot>), sqlx::Error> {
    let n = binds.len();
    let sql = format!(
        "SELECT h.addr, xa.state, xa.reason, xa.hostnames, xa.os_name, {}, xb.state, xb.reason, xb.hostnames, \
         xb.os_name, {} FROM ({differing}) d JOIN hosts h ON h.id = d.host_id \
         LEFT JOIN host_obs xa ON xa.scan_id = ${} AND xa.host_id = d.host_id \
         LEFT JOIN host_obs xb ON xb.scan_id = ${} AND xb.host_id = d.host_id",
        aggregates(backend, "xa"),
        aggregates(backend, "xb"),
        n + 1,
        n + 2
    );
    type PairRow = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut q = sqlx::query_as::<_, PairRow>(sqlx::AssertSqlSafe(sql));
    for v in binds {
        q = q.bind(*v);
    }
    let rows = q.bind(a).bind(b).fetch_all(pool).await?;
    let (mut sa, mut sb) = (BTreeMap::new(), BTreeMap::new());
    for r in rows {
        let sides: [(Side, &mut BTreeMap<String, HostSnapshot>); 2] =
            [((r.1, r.2, r.3, r.4, r.5, r.6, r.7), &mut sa), ((r.8, r.9, r.10, r.11, r.12, r.13, r.14), &mut sb)];
        for ((state, reason, hostnames, os, ports, folds, findings), out) in sides {
            let Some(state) = state else { continue };
            let host = host_of(
                state,
                reason.unwrap_or_default(),
                hostnames.unwrap_or_default(),
                os,
                ports.as_deref(),
                folds.as_deref(),
                findings.as_deref(),
            );
            out.insert(r.0.clone(), host);
        }
    }
    Ok((sa, sb))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The arrays of a JSON array of arrays (`[]` for none or for anything else).
fn arrays(json: Option<&str>) -> Vec<Vec<Value>> {
    let Some(json) = json else { return Vec::new() };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Array(rows)) => rows
            .into_iter()
            .filter_map(|r| match r {
                Value::Array(cols) => Some(cols),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds the ports, folds and findings of the JSON arrays to `host`. Entries the reader cannot use (an
/// unknown protocol, a port past 65535) are skipped, as `diff`'s own loading does.
fn fill(host: &mut HostSnapshot, ports: Option<&str>, folds: Option<&str>, findings: Option<&str>) {
    for p in arrays(ports) {
        let (Some(proto), Some(port)) = (
            p.first().and_then(Value::as_str).and_then(|s| s.parse::<Protocol>().ok()),
            p.get(1).and_then(Value::as_u64).and_then(|n| u16::try_from(n).ok()),
        ) else {
            continue;
        };
        let col = |i: usize| p.get(i).and_then(text);
        let obs = PortObs {
            state: col(2).unwrap_or_default(),
            reason: col(3).unwrap_or_default(),
            service: col(4),
            product: col(5),
            version: col(6),
            tunnel: col(7),
            cert_sha256: col(8),
        };
        host.ports.insert((proto, port), obs);
    }
    for f in arrays(folds) {
        let col = |i: usize| f.get(i).and_then(text);
        let Some(proto) = col(0).and_then(|s| s.parse::<Protocol>().ok()) else { continue };
        host.folds.push(Fold {
            proto,
            state: col(1).unwrap_or_default(),
            reason: col(2).unwrap_or_default(),
            ranges: parse_port_ranges(&col(3).unwrap_or_default()),
        });
    }
    for g in arrays(findings) {
        let col = |i: usize| g.get(i).and_then(text);
        let (Some(proto), Some(port), Some(id)) = (
            col(0).and_then(|s| s.parse::<Protocol>().ok()),
            g.get(1).and_then(Value::as_u64).and_then(|n| u16::try_from(n).ok()),
            col(2),
        ) else {
            continue;
        };
        host.findings.insert(
            (proto, port, id),
            FindingObs { severity: col(3).unwrap_or_default(), evidence: col(4).unwrap_or_default() },
        );
    }
}
