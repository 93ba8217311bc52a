//! `diff`'s text, shaped like ndiff's: a line that was in A only starts with `-`, one in B only with `+`, a
//! changed line is a `-` line then a `+` line, and a line the same in both (a host's name above its changes)
//! starts with a space.
//!
//! ```text
//! -Scan 1: scan 198.18.0.0/24 -p 1-1000, 2026-12-06 10:00:00 UTC, complete
//! +Scan 2: scan 198.18.0.0/24 -p 1-1000, 2026-12-06 11:00:00 UTC, complete
//!
//!  198.18.0.2:
//! -80/tcp        closed
//! +80/tcp        open      http
//! -501-1000/tcp  closed    (500 ports, folded)
//! +501-1000/tcp  not scanned
//! +|_ 80/tcp http-dir-listing (medium): Index of /
//! ```
//!
//! A last line sums the differences up; with none it says so.

use std::fmt::Write;

use tojimari_store::{
    FindingDiff, HostChange, HostDiff, PortChange, PortDiff, PortObs, ScanDiff, ScanInfo, count_ports,
    format_port_ranges,
};

use crate::history_cmd::{port_words, when};

fn scan_line(sign: char, s: &ScanInfo) -> String {
    let ports = if s.ports.is_empty() { String::new() } else { format!(" -p {}", s.ports) };
    format!(
        "{sign}Scan {}: {} {}{ports}, {} UTC, {}\n",
        s.no,
        s.profile,
        s.targets,
        when(s.started_ms),
        s.status.as_str()
    )
}

pub fn text(diff: &ScanDiff) -> String {
    let mut out = scan_line('-', &diff.a) + &scan_line('+', &diff.b);
    for h in &diff.hosts {
        out.push('\n');
        host(&mut out, h, diff.b.no);
    }
    out.push('\n');
    out.push_str(&summary(diff));
    out.push('\n');
    out
}

fn host(out: &mut String, h: &HostDiff, b_no: i64) {
    let names = |v: &Option<tojimari_store::HostView>| {
        v.as_ref().filter(|v| !v.hostnames.is_empty()).map(|v| format!(" ({})", v.hostnames)).unwrap_or_default()
    };
    match h.change {
        HostChange::Up if h.a.is_none() => {
            let _ = writeln!(out, "+{}{}:", h.addr, names(&h.b));
            let _ = writeln!(out, "+Host is up.");
        }
        HostChange::Up => {
            let _ = writeln!(out, " {}{}:", h.addr, names(&h.b));
            let _ = writeln!(out, "-Host is {}.\n+Host is up.", h.a.as_ref().map_or("down", |a| a.state.as_str()));
        }
        HostChange::Down => {
            let _ = writeln!(out, " {}{}:", h.addr, names(&h.a));
            let why = if h.b.is_none() { " (no answer recorded)" } else { "" };
            let _ = writeln!(out, "-Host is up.\n+Host is down{why}.");
        }
        HostChange::NotScanned => {
            let _ = writeln!(out, " {}{}:", h.addr, names(&h.a));
            let _ = writeln!(out, "-Host is up.\n+Host not scanned (outside scan {b_no}'s targets).");
        }
        HostChange::Changed => {
            let _ = writeln!(out, " {}{}:", h.addr, names(&h.b));
        }
    }
    if let (true, Some(a), Some(b)) = (h.hostnames_changed, &h.a, &h.b) {
        let _ = writeln!(out, "-Host names: {}\n+Host names: {}", or_none(&a.hostnames), or_none(&b.hostnames));
    }
    if let (true, Some(a), Some(b)) = (h.os_changed, &h.a, &h.b) {
        let os = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let _ = writeln!(out, "-OS: {}\n+OS: {}", os(&a.os), os(&b.os));
    }
    for p in &h.ports {
        port(out, p);
    }
    for f in &h.findings {
        finding(out, f);
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "none" } else { s }
}

fn port_line(sign: char, p: &PortDiff, obs: Option<&PortObs>) -> String {
    let id = format!("{}/{}", format_port_ranges(&p.ports), p.proto);
    let what = match obs {
        Some(o) => port_words(o),
        None => "not scanned".into(),
    };
    let folded =
        if p.single().is_none() { format!("  ({} ports, folded)", count_ports(&p.ports)) } else { String::new() };
    let folded = if obs.is_some() { folded } else { String::new() };
    format!("{sign}{id:<13} {what}{folded}\n")
}

fn port(out: &mut String, p: &PortDiff) {
    match p.state {
        Some(PortChange::HostDown) => out.push_str(&port_line('-', p, p.a.as_ref())),
        Some(PortChange::Opened) if p.a.is_none() && p.b.is_some() => {
            out.push_str(&port_line('+', p, p.b.as_ref()));
        }
        Some(_) => {
            out.push_str(&port_line('-', p, p.a.as_ref()));
            out.push_str(&port_line('+', p, p.b.as_ref()));
        }
        None => {
            if p.service_changed {
                out.push_str(&port_line('-', p, p.a.as_ref()));
                out.push_str(&port_line('+', p, p.b.as_ref()));
            } else {
                out.push_str(&port_line(' ', p, p.b.as_ref()));
            }
            if p.cert_changed {
                let cert = |o: &Option<PortObs>| {
                    o.as_ref().and_then(|o| o.cert_sha256.clone()).unwrap_or_else(|| "none".into())
                };
                let _ =
                    writeln!(out, "-|  certificate SHA-256: {}\n+|  certificate SHA-256: {}", cert(&p.a), cert(&p.b));
            }
        }
    }
}

fn finding(out: &mut String, f: &FindingDiff) {
    let line = |sign: char, o: &tojimari_store::FindingObs| {
        format!("{sign}|_ {}/{} {} ({}): {}\n", f.port, f.proto, f.id, o.severity, o.evidence)
    };
    if let Some(a) = &f.a {
        out.push_str(&line('-', a));
    }
    if let Some(b) = &f.b {
        out.push_str(&line('+', b));
    }
}

/// One line of totals.
pub fn summary(diff: &ScanDiff) -> String {
    let c = diff.counts();
    let parts: Vec<String> = [
        (c.hosts_up, "host(s) up"),
        (c.hosts_down, "host(s) down"),
        (c.hosts_not_scanned, "host(s) not scanned"),
        (c.opened, "port(s) opened"),
        (c.closed, "port(s) closed"),
        (c.state_changed, "port(s) changed state"),
        (c.not_scanned, "port(s) not scanned"),
        (c.newly_scanned, "port(s) newly scanned"),
        (c.service_changed, "service(s) changed"),
        (c.cert_changed, "certificate(s) changed"),
        (c.findings_new, "finding(s) new"),
        (c.findings_resolved, "finding(s) resolved"),
        (c.findings_changed, "finding(s) changed"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        format!("No differences between scan {} and scan {}.", diff.a.no, diff.b.no)
    } else {
        format!("Differences from scan {} to scan {}: {}.", diff.a.no, diff.b.no, parts.join(", "))
    }
}
