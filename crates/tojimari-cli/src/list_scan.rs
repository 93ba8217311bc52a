//! `-sL`, the list scan: the dry run of a scan. Every target that would be scanned is reported, in the
//! order it would be taken and with exclusions applied, as a host whose state is `unknown` (reason
//! `user-set`), as nmap does; nothing is sent to any target and no engine starts.
//!
//! Reverse DNS (unless `-n`) runs for a chunk of targets at a time on a few threads, so a large range
//! neither waits for each name in turn nor holds more than one chunk in memory: the target stream is
//! lazy, and each host goes to the sinks as soon as its chunk is named.

use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tojimari_core::report::{HostReport, HostState, Hostname, HostnameKind, RunExit, RunInfo, RunSummary, ScanInfo};
use tojimari_core::sink::Tee;
use tojimari_core::{Protocol, Reason, ScanType, Sink};
use tojimari_engine::{Control, ScanTarget};

use crate::exit::Exit;
use crate::plan::ScanPlan;
use crate::resolve::Targets;

/// Targets named at once (bounded memory; also the batch of reverse lookups running together).
const CHUNK: usize = 256;
/// Reverse lookups running at once.
const LOOKUP_THREADS: usize = 32;

/// Lists the targets of `plan` to `tee`. Ctrl-C stops the listing; what was listed stays valid.
pub fn run(plan: &ScanPlan, targets: &Targets, mut tee: Tee, args: String, control: Arc<Control>) -> ExitCode {
    let run_info = RunInfo {
        args,
        start: SystemTime::now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        scans: vec![ScanInfo { scan_type: ScanType::List, proto: Protocol::Tcp, ports: Default::default() }],
        display: plan.display,
    };
    let started = Instant::now();
    if let Err(e) = tee.run_start(&run_info) {
        crate::messages::error(format_args!("writing results failed: {e}"));
        return ExitCode::from(Exit::Failure);
    }
    let mut listed = 0u64;
    let mut stream = targets.iter();
    let mut result = Ok(());
    loop {
        if control.is_cancelled() {
            result = Err("Interrupted by user (Ctrl-C)".to_string());
            break;
        }
        let chunk: Vec<ScanTarget> = stream.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let names = if plan.reverse_dns { reverse_names(&chunk) } else { vec![None; chunk.len()] };
        let now = SystemTime::now();
        for (target, ptr) in chunk.into_iter().zip(names) {
            let report = listed_host(target, ptr, now);
            if let Err(e) = tee.host_done(&report) {
                result = Err(format!("writing results failed: {e}"));
                break;
            }
            listed += 1;
        }
        if result.is_err() {
            break;
        }
    }
    let (exit, code) = match result {
        Ok(()) => (RunExit::Success, ExitCode::SUCCESS),
        Err(message) => {
            if !message.starts_with("Interrupted") {
                crate::messages::error(&message);
            }
            (RunExit::Error(message), ExitCode::from(Exit::Failure))
        }
    };
    let summary = RunSummary {
        end: SystemTime::now(),
        elapsed: started.elapsed(),
        hosts_up: 0,
        // nmap's XML counts the listed hosts as down (none was found up).
        hosts_down: listed,
        hosts_total: listed,
        exit,
    };
    if let Err(e) = tee.run_end(&summary) {
        crate::messages::error(format_args!("writing results failed: {e}"));
        return ExitCode::from(Exit::Failure);
    }
    code
}

/// One listed target: its names (typed, then PTR when it differs), state unknown.
fn listed_host(target: ScanTarget, ptr: Option<String>, now: SystemTime) -> HostReport {
    let mut hostnames = target.hostnames;
    if let Some(name) = ptr
        && !hostnames.iter().any(|h| h.name.eq_ignore_ascii_case(&name))
    {
        hostnames.push(Hostname { name, kind: HostnameKind::Ptr });
    }
    HostReport {
        addr: target.addr,
        hostnames,
        state: HostState::Unknown,
        state_reason: Reason::UserSet,
        state_reason_ttl: 0,
        ports: Vec::new(),
        start: now,
        end: now,
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// PTR names of a chunk, in its order, looked up on up to [`LOOKUP_THREADS`] threads.
fn reverse_names(chunk: &[ScanTarget]) -> Vec<Option<String>> {
    let addrs: Vec<IpAddr> = chunk.iter().map(|t| t.addr).collect();
    let threads = LOOKUP_THREADS.min(addrs.len()).max(1);
    let mut names = vec![None; addrs.len()];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let addrs = &addrs;
                s.spawn(move || {
                    addrs
                        .iter()
                        .enumerate()
                        .skip(k)
                        .step_by(threads)
                        .map(|(i, a)| (i, tojimari_net::reverse_lookup(*a)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, name) in h.join().unwrap_or_default() {
                names[i] = name;
            }
        }
    });
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ptr_name_equal_to_the_typed_one_is_not_repeated() {
        let t = ScanTarget {
            addr: "127.0.0.1".parse().unwrap(),
            hostnames: vec![Hostname { name: "localhost".into(), kind: HostnameKind::User }],
        };
        let h = listed_host(t.clone(), Some("LOCALHOST".into()), SystemTime::UNIX_EPOCH);
        assert_eq!(h.hostnames.len(), 1);
        assert_eq!(h.state, HostState::Unknown);
        assert_eq!(h.state_reason, Reason::UserSet);
        let h = listed_host(t, Some("lo.example".into()), SystemTime::UNIX_EPOCH);
        assert_eq!(h.hostnames[1].kind, HostnameKind::Ptr);
    }
}
