//! The ports and services table: the latest state of every (host, protocol, port) the store tracks
//! (`current_ports`: ports once seen open, open|filtered or unfiltered, followed in every state after),
//! with the product (kept with the current state) and version and the findings of the scan that saw it last. Filters: port list, service,
//! product, finding id, state; a page at a time in the table's own order (host as first recorded, then
//! protocol and port: the primary key's order, so no page sorts the whole table), and a count that stops
//! at [`TABLE_COUNT_CAP`].

use std::collections::BTreeMap;

use crate::store::{Store, StoreError};

/// The count of matching rows stops here ("more than 10,000").
pub const TABLE_COUNT_CAP: i64 = 10_000;

/// At most this many ranges in a port filter.
const MAX_RANGES: usize = 64;

/// The states a port can be in, as the store writes them.
pub const PORT_STATES: [&str; 6] = ["open", "closed", "filtered", "unfiltered", "open|filtered", "closed|filtered"];

/// Which rows the table shows; `None` or empty: any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFilter {
    /// Inclusive port ranges.
    pub ports: Vec<(u16, u16)>,
    pub service: Option<String>,
    /// Matched without regard to case.
    pub product: Option<String>,
    /// A finding id (`telnet-cleartext`).
    pub finding: Option<String>,
    /// One of [`PORT_STATES`].
    pub state: Option<String>,
}

/// Why a filter's text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortFilterError {
    #[error("\"{0}\" is not a port list (ports and ranges 0-65535 separated by commas, like 22,80,8000-8100)")]
    Ports(String),
    #[error("a port list has at most {MAX_RANGES} parts")]
    TooManyRanges,
    #[error("\"{0}\" is not a port state (open, closed, filtered, unfiltered, open|filtered, closed|filtered)")]
    State(String),
    #[error("\"{0}\" is too long or has control characters")]
    Text(String),
}

/// `22,80,8000-8100`: the ranges, in the order given. Spaces around parts are allowed; nothing else.
pub fn parse_port_list(text: &str) -> Result<Vec<(u16, u16)>, PortFilterError> {
    let bad = || PortFilterError::Ports(text.to_string());
    let port = |s: &str| -> Result<u16, PortFilterError> {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u16>().map_err(|_| bad())
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (port(a)?, port(b)?),
            None => {
                let p = port(part)?;
                (p, p)
            }
        };
        if lo > hi {
            return Err(bad());
        }
        out.push((lo, hi));
        if out.len() > MAX_RANGES {
            return Err(PortFilterError::TooManyRanges);
        }
    }
    Ok(out)
}

/// A port state as written in a filter.
pub fn parse_port_state(text: &str) -> Result<String, PortFilterError> {
    let t = text.trim().to_ascii_lowercase();
    PORT_STATES.iter().find(|s| **s == t).map(|s| s.to_string()).ok_or_else(|| PortFilterError::State(text.into()))
}

/// A free-text filter value (service, product, finding): at most 200 characters, no control characters.
pub fn parse_filter_text(text: &str) -> Result<Option<String>, PortFilterError> {
    let t = text.trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(PortFilterError::Text(text.chars().take(40).collect()));
    }
    Ok((!t.is_empty()).then(|| t.to_string()))
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortTableRow {
    pub addr: String,
    pub proto: String,
    pub port: u16,
    pub state: String,
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub last_changed_ms: i64,
    /// The number of the scan that saw it last.
    pub last_scan_no: i64,
    /// (finding id, severity) that scan recorded on the port.
    pub findings: Vec<(String, String)>,
}

/// A page of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortTable {
    /// Matching rows, counted up to [`TABLE_COUNT_CAP`]; more than that when `more_than_cap`.
    pub total: i64,
    pub more_than_cap: bool,
    pub rows: Vec<PortTableRow>,
}

/// The WHERE clause and its values (bound from `$1`).
fn conditions(f: &PortFilter) -> (String, Vec<Value>) {
    let mut sql = vec!["1 = 1".to_string()];
    let mut values: Vec<Value> = Vec::new();
    let mark = |values: &mut Vec<Value>, v: Value| {
        values.push(v);
        format!("${}", values.len())
    };
    if !f.ports.is_empty() {
        let parts: Vec<String> = f
            .ports
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    format!("c.port = {}", mark(&mut values, Value::Int(i64::from(lo))))
                } else {
                    let a = mark(&mut values, Value::Int(i64::from(lo)));
                    let b = mark(&mut values, Value::Int(i64::from(hi)));
                    format!("c.port BETWEEN {a} AND {b}")
                }
            })
            .collect();
        sql.push(format!("({})", parts.join(" OR ")));
    }
    if let Some(s) = &f.service {
        sql.push(format!("c.service = {}", mark(&mut values, Value::Text(s.clone()))));
    }
    if let Some(s) = &f.state {
        sql.push(format!("c.state = {}", mark(&mut values, Value::Text(s.clone()))));
    }
    if let Some(p) = &f.product {
        sql.push(format!("LOWER(c.product) = {}", mark(&mut values, Value::Text(p.to_lowercase()))));
    }
    if let Some(id) = &f.finding {
        // The hosts with the finding first (`findings_finding` index), then the port's own row.
        let m = mark(&mut values, Value::Text(id.clone()));
        let n = mark(&mut values, Value::Text(id.clone()));
        sql.push(format!(
            "c.host_id IN (SELECT host_id FROM findings WHERE finding = {m}) \
             AND EXISTS (SELECT 1 FROM findings f WHERE f.scan_id = c.last_scan_id AND f.host_id = c.host_id \
             AND f.proto = c.proto AND f.port = c.port AND f.finding = {n})"
        ));
    }
    (sql.join(" AND "), values)
}

#[derive(Clone, Debug)]
enum Value {
    Int(i64),
    Text(String),
}

/// The page's rows: the current state with the version from the observation it came from.
const FROM: &str = "FROM current_ports c \
     LEFT JOIN port_obs p ON p.scan_id = c.last_scan_id AND p.host_id = c.host_id AND p.proto = c.proto \
     AND p.port = c.port";

type RowSql =
    (String, String, i64, String, Option<String>, Option<String>, Option<String>, i64, i64, i64, i64, i64, i64);

macro_rules! bind_all {
    ($q:expr, $values:expr) => {{
        let mut q = $q;
        for v in $values {
            q = match v {
                Value::Int(n) => q.bind(*n),
                Value::Text(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}

impl Store {
    /// Rows `offset..offset + limit` of the ports table that `filter` lets through.
    pub fn port_table(&self, filter: &PortFilter, offset: i64, limit: i64) -> Result<PortTable, StoreError> {
        let (cond, values) = conditions(filter);
        let n = values.len();
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM current_ports c WHERE {cond} LIMIT {}) t",
            TABLE_COUNT_CAP + 1
        );
        let rows_sql = format!(
            "SELECT h.addr, c.proto, c.port, c.state, c.service, c.product, p.version, c.first_seen_ms, \
             c.last_seen_ms, c.last_changed_ms, s.no, c.host_id, c.last_scan_id {FROM} \
             JOIN hosts h ON h.id = c.host_id JOIN scans s ON s.id = c.last_scan_id \
             WHERE {cond} ORDER BY c.host_id, c.proto, c.port LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        type Finding = (i64, String, i64, String, String);
        let read: Result<(i64, Vec<RowSql>, Vec<Finding>), sqlx::Error> = self.block_on(async {
            let total: i64 =
                bind_all!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), &values).fetch_one(self.pool()).await?;
            let rows: Vec<RowSql> = bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(rows_sql)), &values)
                .bind(limit.max(0))
                .bind(offset.max(0))
                .fetch_all(self.pool())
                .await?;
            // The findings of the rows' (scan, host) pairs, each on the primary key's prefix.
            let mut findings = Vec::new();
            let pairs: std::collections::BTreeSet<(i64, i64)> = rows.iter().map(|r| (r.12, r.11)).collect();
            for (scan, host) in pairs {
                let found: Vec<(String, i64, String, String)> = sqlx::query_as(
                    "SELECT proto, port, finding, severity FROM findings WHERE scan_id = $1 AND host_id = $2",
                )
                .bind(scan)
                .bind(host)
                .fetch_all(self.pool())
                .await?;
                findings.extend(found.into_iter().map(|(proto, port, id, sev)| (host, proto, port, id, sev)));
            }
            Ok((total, rows, findings))
        });
        let (total, rows, findings) = read.map_err(|e| self.query_err("reading the ports table", e))?;
        let mut by_port: BTreeMap<(i64, String, i64), Vec<(String, String)>> = BTreeMap::new();
        for (host, proto, port, id, sev) in findings {
            by_port.entry((host, proto, port)).or_default().push((id, sev));
        }
        let rows = rows
            .into_iter()
            .filter_map(|r| {
                let (addr, proto, port, state, service, product, version, first, last, changed, no, host, _) = r;
                let findings = by_port.get(&(host, proto.clone(), port)).cloned().unwrap_or_default();
                Some(PortTableRow {
                    addr,
                    proto,
                    port: u16::try_from(port).ok()?,
                    state,
                    service,
                    product,
                    version,
                    first_seen_ms: first,
                    last_seen_ms: last,
                    last_changed_ms: changed,
                    last_scan_no: no,
                    findings,
                })
            })
            .collect();
        Ok(PortTable { total: total.min(TABLE_COUNT_CAP), more_than_cap: total > TABLE_COUNT_CAP, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lists_are_parsed_strictly() {
        assert_eq!(parse_port_list("22,80,8000-8100"), Ok(vec![(22, 22), (80, 80), (8000, 8100)]));
        assert_eq!(parse_port_list(" 443 "), Ok(vec![(443, 443)]));
        for bad in ["", "22,", "x", "70000", "100-50", "1-2-3", "-5", "22;80", "+22", "2 2"] {
            assert!(matches!(parse_port_list(bad), Err(PortFilterError::Ports(_))), "{bad}");
        }
        let many = (1..=65).map(|p| p.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(parse_port_list(&many), Err(PortFilterError::TooManyRanges));
    }

    #[test]
    fn states_and_texts() {
        assert_eq!(parse_port_state("Open|Filtered").as_deref(), Ok("open|filtered"));
        assert!(parse_port_state("stealthy").is_err());
        assert_eq!(parse_filter_text("  "), Ok(None));
        assert_eq!(parse_filter_text(" ssh "), Ok(Some("ssh".into())));
        assert!(parse_filter_text("a\u{7}b").is_err());
        assert!(parse_filter_text(&"x".repeat(201)).is_err());
    }

    #[test]
    fn conditions_bind_every_value_in_order() {
        let f = PortFilter {
            ports: vec![(22, 22), (8000, 8100)],
            service: Some("http".into()),
            product: Some("NGINX".into()),
            finding: Some("x".into()),
            state: Some("open".into()),
        };
        let (sql, values) = conditions(&f);
        assert_eq!(values.len(), 8);
        assert!(sql.contains("c.port = $1") && sql.contains("BETWEEN $2 AND $3") && sql.contains("f.finding = $8"));
        assert!(matches!(&values[5], Value::Text(s) if s == "nginx"));
    }
}
