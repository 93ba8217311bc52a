//! `tojimari history [TARGET]`: the recorded scans, newest first (number, start, profile, status, hosts up,
//! open ports, targets); with a target (an address, or a CIDR block or octet range for every recorded host
//! in it), per host and port what each scan that recorded the host saw, with first seen, last seen and last
//! changed from the current state. Times are UTC.
//!
//! Exit status: 0 shown; 1 the store could not be read, or it has no record of the target; 2 bad usage.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use tojimari_core::civil::CivilDateTime;
use tojimari_store::{HostHistory, PortObs, PortSeen, ScanSummary, Store, target_matcher};

use crate::exit::Exit;
use crate::messages;
use crate::plan::UsageError;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari history\n  tojimari history 198.18.0.2\n  \
                  tojimari history 198.18.0.0/24 --db postgres://scanner@db.example/tojimari")]
pub struct HistoryArgs {
    /// A host (address), or a block (CIDR, octet range): the timeline of each recorded host in it.
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    #[command(flatten)]
    pub store: crate::store_plan::StoreOptions,
}

pub fn run(args: &HistoryArgs) -> ExitCode {
    let matcher = match args.target.as_deref().map(|t| (t, target_matcher(t))) {
        Some((t, None)) => {
            return crate::usage(&UsageError::new(
                format!("\"{t}\" is not an address or a block of addresses"),
                "for example: tojimari history 198.18.0.2, tojimari history 198.18.0.0/24",
            ));
        }
        Some((t, Some(m))) => Some((t, m)),
        None => None,
    };
    let store = match crate::store_plan::open_existing(&args.store) {
        Ok(store) => store,
        Err((message, hint)) => {
            messages::error(messages::with_hint(message, hint));
            return Exit::Failure.into();
        }
    };
    let mut out = Vec::new();
    let shown = match matcher {
        None => list_scans(&store, &mut out),
        Some((text, m)) => host_timelines(&store, text, &m, &mut out),
    };
    match shown {
        Ok(()) => crate::data(|w| w.write_all(&out)),
        Err((message, hint)) => {
            messages::error(messages::with_hint(message, hint));
            Exit::Failure.into()
        }
    }
}

type Failure = (String, String);

fn store_failure(e: tojimari_store::StoreError) -> Failure {
    (e.to_string(), "check --db (or TOJIMARI_DB) names a tojimari result store".into())
}

/// `2026-12-06 14:02:11` (UTC) for Unix milliseconds.
pub fn when(ms: i64) -> String {
    let t = CivilDateTime::from_unix(ms.div_euclid(1000));
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.date.year, t.date.month, t.date.day, t.hour, t.minute, t.second)
}

fn list_scans(store: &Store, out: &mut Vec<u8>) -> Result<(), Failure> {
    let scans = store.scan_summaries().map_err(store_failure)?;
    if scans.is_empty() {
        messages::note(format!("the result store {} has no scans yet", store.name()));
        return Ok(());
    }
    let _ = writeln!(out, "Scans in {} (newest first, times UTC):", store.name());
    let _ = writeln!(
        out,
        "{:>5}  {:<19}  {:<12}  {:<11}  {:>8}  {:>10}  TARGETS",
        "SCAN", "STARTED", "PROFILE", "STATUS", "HOSTS UP", "OPEN PORTS"
    );
    for ScanSummary { scan, hosts_up, open_ports } in &scans {
        let _ = writeln!(
            out,
            "{:>5}  {:<19}  {:<12}  {:<11}  {:>8}  {:>10}  {}",
            scan.no,
            when(scan.started_ms),
            scan.profile,
            scan.status.as_str(),
            hosts_up,
            open_ports,
            scan.targets
        );
    }
    Ok(())
}

fn host_timelines(
    store: &Store,
    text: &str,
    matcher: &tojimari_core::target::Exclusions,
    out: &mut Vec<u8>,
) -> Result<(), Failure> {
    let scans = store.scan_infos().map_err(store_failure)?;
    let addrs = store.known_hosts(matcher).map_err(store_failure)?;
    let mut any = false;
    for addr in &addrs {
        if let Some(h) = store.host_history(addr, &scans).map_err(store_failure)? {
            write_host(&h, out);
            any = true;
        }
    }
    if !any {
        return Err((
            format!("the result store {} has no record of {text}", store.name()),
            "tojimari history lists the scans and their targets".into(),
        ));
    }
    Ok(())
}

/// `open  ssh OpenSSH 9.2p1` for an observation.
pub fn port_words(p: &PortObs) -> String {
    let mut words = vec![p.state.clone()];
    let service = match (&p.service, &p.tunnel) {
        (Some(s), Some(t)) => Some(format!("{t}/{s}")),
        (Some(s), None) => Some(s.clone()),
        _ => None,
    };
    words.extend(service);
    words.extend(p.product.clone());
    words.extend(p.version.clone());
    words.join(" ")
}

fn write_host(h: &HostHistory, out: &mut Vec<u8>) {
    let up = h.scans.iter().filter(|(_, state)| state == "up").count();
    let _ = writeln!(out, "\n{}: recorded by {} scan(s), up in {up}", h.addr, h.scans.len());
    if h.ports.is_empty() {
        let _ = writeln!(out, "No ports observed on their own (every scanned port folded as closed or filtered).");
        return;
    }
    for p in &h.ports {
        let _ = write!(out, "{}/{}", p.port, p.proto);
        match &p.current {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "  now {}{}; first seen {}, last seen {}, last changed {}",
                    c.state,
                    c.service.as_deref().map(|s| format!(" {s}")).unwrap_or_default(),
                    when(c.first_seen_ms),
                    when(c.last_seen_ms),
                    when(c.last_changed_ms)
                );
            }
            None => {
                let _ = writeln!(out);
            }
        }
        for (scan, seen) in &p.seen {
            let what = match seen {
                PortSeen::Observed(obs) => port_words(obs),
                PortSeen::Folded(state) => format!("{state} (folded)"),
                PortSeen::HostDown => "host down".into(),
                PortSeen::NotScanned => "not scanned".into(),
            };
            let _ = writeln!(out, "  scan {:<5} {}  {what}", scan.no, when(scan.started_ms));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(when(1_765_000_000_999), "2025-12-06 05:46:40");
        assert_eq!(when(-1), "1969-12-31 23:59:59");
    }

    #[test]
    fn a_port_reads_as_state_service_product_version() {
        let mut p = PortObs { state: "open".into(), service: Some("http".into()), ..PortObs::default() };
        assert_eq!(port_words(&p), "open http");
        p.tunnel = Some("ssl".into());
        p.product = Some("nginx".into());
        p.version = Some("1.24.0".into());
        assert_eq!(port_words(&p), "open ssl/http nginx 1.24.0");
    }
}
