//! `diff --jsonl`: one JSON object per line.
//!
//! - First `{"type":"diff","a":SCAN,"b":SCAN,"differences":N,"counts":{...}}`, where SCAN is
//!   `{"no","profile","targets","ports","start_ms","end_ms","status"}` and `counts` the totals (hosts up,
//!   down, not scanned, changed; ports opened, closed, state changed, not scanned, newly scanned; services
//!   and certificates changed; findings new, resolved, changed; folded ranges count every port).
//! - Per host with a difference `{"type":"host","addr","change":"up|down|not-scanned|changed","a","b",
//!   "hostnames_changed","os_changed"}`, `a`/`b` being `{"state","reason","hostnames","os"}` or null.
//! - Per port `{"type":"port","addr","proto","port" (one port) or "ports" (ranges like "1-21,23"),"count",
//!   "change":"opened|closed|state|not-scanned|newly-scanned|host-down" or null,"service_changed",
//!   "cert_changed","a","b"}`, `a`/`b` being `{"state","reason","service","product","version","tunnel",
//!   "cert_sha256"}` or null (not scanned, or the host was not up there).
//! - Per finding `{"type":"finding","addr","proto","port","id","change":"new|resolved|changed","a","b"}`,
//!   `a`/`b` being `{"severity","evidence"}` or null.

use serde_json::{Value, json};
use tojimari_store::{FindingObs, HostView, PortObs, ScanDiff, ScanInfo, count_ports, format_port_ranges};

fn scan(s: &ScanInfo) -> Value {
    json!({
        "no": s.no, "profile": s.profile, "targets": s.targets, "ports": s.ports,
        "start_ms": s.started_ms, "end_ms": s.ended_ms, "status": s.status.as_str(),
    })
}

fn host_view(v: &Option<HostView>) -> Value {
    v.as_ref()
        .map_or(Value::Null, |v| json!({"state": v.state, "reason": v.reason, "hostnames": v.hostnames, "os": v.os}))
}

fn port_obs(p: &Option<PortObs>) -> Value {
    p.as_ref().map_or(Value::Null, |p| {
        json!({
            "state": p.state, "reason": p.reason, "service": p.service, "product": p.product,
            "version": p.version, "tunnel": p.tunnel, "cert_sha256": p.cert_sha256,
        })
    })
}

fn finding_obs(f: &Option<FindingObs>) -> Value {
    f.as_ref().map_or(Value::Null, |f| json!({"severity": f.severity, "evidence": f.evidence}))
}

pub fn jsonl(diff: &ScanDiff) -> String {
    let c = diff.counts();
    let mut lines = vec![json!({
        "type": "diff", "a": scan(&diff.a), "b": scan(&diff.b), "differences": diff.hosts.len(),
        "counts": {
            "hosts_up": c.hosts_up, "hosts_down": c.hosts_down, "hosts_not_scanned": c.hosts_not_scanned,
            "hosts_changed": c.hosts_changed, "opened": c.opened, "closed": c.closed,
            "state_changed": c.state_changed, "not_scanned": c.not_scanned, "newly_scanned": c.newly_scanned,
            "service_changed": c.service_changed, "cert_changed": c.cert_changed,
            "findings_new": c.findings_new, "findings_resolved": c.findings_resolved,
            "findings_changed": c.findings_changed,
        },
    })];
    for h in &diff.hosts {
        lines.push(json!({
            "type": "host", "addr": h.addr, "change": h.change.as_str(), "a": host_view(&h.a), "b": host_view(&h.b),
            "hostnames_changed": h.hostnames_changed, "os_changed": h.os_changed,
        }));
        for p in &h.ports {
            let mut v = json!({
                "type": "port", "addr": h.addr, "proto": p.proto.as_str(), "count": count_ports(&p.ports),
                "change": p.state.map(|s| s.as_str()), "service_changed": p.service_changed,
                "cert_changed": p.cert_changed, "a": port_obs(&p.a), "b": port_obs(&p.b),
            });
            match p.single() {
                Some(port) => v["port"] = json!(port),
                None => v["ports"] = json!(format_port_ranges(&p.ports)),
            }
            lines.push(v);
        }
        for f in &h.findings {
            lines.push(json!({
                "type": "finding", "addr": h.addr, "proto": f.proto.as_str(), "port": f.port, "id": f.id,
                "change": f.change.as_str(), "a": finding_obs(&f.a), "b": finding_obs(&f.b),
            }));
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}
