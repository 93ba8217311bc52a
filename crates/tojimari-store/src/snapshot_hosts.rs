//! Some hosts of a scan loaded for a comparison, one row per host: its observation with its port rows,
//! folds and findings gathered by the database into JSON arrays (`json_group_array` on SQLite, `json_agg` on
//! PostgreSQL). A comparison of two big scans loads a few thousand hosts; reading their ports, folds and
//! findings as rows of their own costs several times as many round trips through the driver as this.

use std::collections::BTreeMap;

use serde_json::Value;
use tojimari_core::Protocol;

use crate::port_ranges::parse_port_ranges;
use crate::snapshot::{FindingObs, Fold, HostSnapshot, PortObs};
use crate::store::Backend;

/// The query for `n` host ids (`$2` on), the scan's id as `$1`.
fn sql(backend: Backend, n: usize) -> String {
    let (agg, arr, text) = match backend {
        Backend::Sqlite => ("json_group_array", "json_array", ""),
        Backend::Postgres => ("json_agg", "json_build_array", "::text"),
    };
    let marks: Vec<String> = (0..n).map(|i| format!("${}", i + 2)).collect();
    format!(
        "SELECT h.addr, o.state, o.reason, o.hostnames, o.os_name, \
         (SELECT {agg}({arr}(p.proto, p.port, p.state, p.reason, p.service, p.product, p.version, p.tunnel, \
           p.cert_sha256)){text} FROM port_obs p WHERE p.scan_id = o.scan_id AND p.host_id = o.host_id), \
         (SELECT {agg}({arr}(f.proto, f.state, f.reason, f.ports)){text} FROM port_folds f \
           WHERE f.scan_id = o.scan_id AND f.host_id = o.host_id), \
         (SELECT {agg}({arr}(g.proto, g.port, g.finding, g.severity, g.evidence)){text} FROM findings g \
           WHERE g.scan_id = o.scan_id AND g.host_id = o.host_id) \
         FROM host_obs o JOIN hosts h ON h.id = o.host_id WHERE o.scan_id = $1 AND o.host_id IN ({})",
        marks.join(", ")
    )
}

type Row = (String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

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

/// The hosts `ids` of scan `scan_id`, by address. Rows the reader cannot use are skipped, as `diff`'s own
/// loading does.
pub(crate) async fn load_hosts(
    pool: &sqlx::AnyPool,
    backend: Backend,
    scan_id: i64,
    ids: &[i64],
) -> Result<BTreeMap<String, HostSnapshot>, sqlx::Error> {
    let mut q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql(backend, ids.len()))).bind(scan_id);
    for id in ids {
        q = q.bind(*id);
    }
    let mut out = BTreeMap::new();
    for (addr, state, reason, hostnames, os, ports, folds, findings) in q.fetch_all(pool).await? {
        let mut host = HostSnapshot { state, reason, hostnames, os, ..HostSnapshot::default() };
        for p in arrays(ports.as_deref()) {
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
        for f in arrays(folds.as_deref()) {
            let col = |i: usize| f.get(i).and_then(text);
            let Some(proto) = col(0).and_then(|s| s.parse::<Protocol>().ok()) else { continue };
            host.folds.push(Fold {
                proto,
                state: col(1).unwrap_or_default(),
                reason: col(2).unwrap_or_default(),
                ranges: parse_port_ranges(&col(3).unwrap_or_default()),
            });
        }
        for g in arrays(findings.as_deref()) {
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
        out.insert(addr, host);
    }
    Ok(out)
}
