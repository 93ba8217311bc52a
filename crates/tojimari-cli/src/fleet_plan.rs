//! `tojimari scan ... --db postgres://... --workers`: the scan is not run here but planned for a fleet
//! (docs/fleet.md). Its probe space (targets as resolved here, ports, techniques, the seed, chosen and
//! printed when not given) is cut into chunks; the scan, its options and its chunks are recorded in the
//! store, and one job per chunk is queued for `tojimari worker`s.

use std::process::ExitCode;
use std::time::SystemTime;

use tojimari_core::report::RunInfo;
use tojimari_core::sweep::Space;
use tojimari_fleet::ScanOptions;
use tojimari_fleet::chunks;
use tojimari_store::{FleetScan, Store};

use crate::args::ScanArgs;
use crate::messages;
use crate::plan::{ScanPlan, UsageError};
use crate::resolve::Targets;
use crate::{EXIT_FAILURE, usage};

/// Options of `scan` that belong to the fleet's planning, not to the scan the workers repeat (`--db` also
/// because its URL may hold a password). Each takes a value unless listed in [`FLAGS`].
const DROPPED: [&str; 3] = ["--workers", "--chunk-size", "--db"];
const FLAGS: [&str; 1] = ["--workers"];

/// The scan's own arguments (after `scan`), without the fleet's options.
pub fn scan_args(argv: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut args = argv.iter().skip(2);
    while let Some(arg) = args.next() {
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if DROPPED.contains(&name) {
            if !FLAGS.contains(&name) && !arg.contains('=') {
                args.next();
            }
            continue;
        }
        out.push(arg.clone());
    }
    out
}

/// What a fleet scan can be: raw-engine port scans only (no -sV, -O, -sn, -sL, connect scans).
fn check(plan: &ScanPlan) -> Result<(), UsageError> {
    let hint = "a fleet runs raw port scans (-sS, -sU, ...): run version or OS detection on the results";
    if plan.list_only || plan.ping_only {
        return Err(UsageError::new("--workers scans ports; -sL and -sn are not split into chunks", hint));
    }
    if !plan.techniques.needs_raw() || plan.techniques.tcp.is_some_and(|t| !t.is_raw()) {
        return Err(UsageError::new("--workers needs a raw scan (root): a connect scan is not split", hint));
    }
    if plan.shard.is_some() {
        return Err(UsageError::new(
            "--workers and --shard both divide the scan; a fleet takes the whole of it",
            "give one of them",
        ));
    }
    if plan.version.is_some() || plan.os.is_some() {
        return Err(UsageError::new("--workers does not run -sV or -O", hint));
    }
    Ok(())
}

/// The probe space of a plan, as the raw engine numbers it.
pub fn space_of(plan: &ScanPlan) -> Space {
    crate::scan::space_of(&crate::scan::raw_scans(plan), plan)
}

/// Plans and queues the fleet scan; the exit status.
pub fn run(args: &ScanArgs, argv: &[String], plan: &ScanPlan, targets: &Targets) -> ExitCode {
    if let Err(e) = check(plan) {
        return usage(&e);
    }
    let location = match crate::store_plan::record_location(&args.record) {
        Some(Ok(l)) if l.starts_with("postgres://") || l.starts_with("postgresql://") => l,
        _ => {
            return usage(&UsageError::new(
                "--workers needs the store in PostgreSQL, where the workers find the chunks",
                "give --db postgres://USER@HOST/DATABASE (or TOJIMARI_DB)",
            ));
        }
    };
    let space = space_of(plan);
    let hosts = targets.iter().count() as u64;
    let positions = space.total(hosts);
    let size = args.chunk_size.unwrap_or_else(|| chunks::default_size(positions, 3));
    // Chunks of whole hosts: the probe space's groups are cut to about a chunk each, so that no host's
    // results are split over chunks (a chunk's commit then only adds hosts, never merges them).
    let group_hosts = Space::with_group_hosts(
        &crate::scan::raw_scans(plan).iter().map(|(_, p)| p.len() as u64).collect::<Vec<_>>(),
        space.seed(),
        chunks::hosts_per_chunk(size, space.per_host()),
    )
    .group_hosts();
    let ranges =
        match chunks::plan(positions, size).and_then(|_| chunks::by_hosts(hosts, space.per_host(), group_hosts)) {
            Ok(r) => r,
            Err(e) => {
                let hint = format!("give a --chunk-size of at least {}", chunks::MIN_CHUNK);
                return usage(&UsageError::new(format!("--chunk-size: {e}"), hint));
            }
        };
    let mut kept = scan_args(argv);
    if let Some(seed) = space.seed()
        && !kept.iter().any(|a| a == "--seed" || a.starts_with("--seed="))
    {
        kept.push(format!("--seed={seed}"));
    }
    let options = ScanOptions {
        version: tojimari_fleet::options::VERSION,
        tojimari: env!("CARGO_PKG_VERSION").to_string(),
        args: kept.clone(),
        targets: targets.specs().iter().map(ToString::to_string).collect(),
        seed: space.seed(),
        hosts,
        positions,
        group_hosts: Some(group_hosts),
        probe_space: Some(crate::resume::space::digest(plan, targets, space.seed())),
    };
    let store = match Store::open(&location) {
        Ok(s) => s,
        Err(e) => {
            messages::error(messages::with_hint(e, "check that PostgreSQL runs and --db names it"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut shown = vec!["tojimari".to_string(), "scan".to_string()];
    shown.extend(kept);
    let joined = crate::scan::shell_join(&shown);
    let start = crate::record::scan_start(joined.clone(), "fleet", args.targets.join(" "), &plan.ports);
    let fleet = FleetScan { options: options.to_text(), positions, chunk_size: size, max_rate: max_rate(plan) };
    let run = RunInfo {
        args: joined,
        start: SystemTime::now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        scans: crate::scan::scan_infos(plan),
        display: plan.display,
    };
    let recorded = store.begin_scan(&start).and_then(|scan| {
        store.set_run_info(scan, &run)?;
        store.create_fleet(scan, &fleet, &ranges, start.started_ms)?;
        Ok(scan)
    });
    let scan = match recorded {
        Ok(scan) => scan,
        Err(e) => {
            messages::error(e);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if let Err(e) = tojimari_fleet::queue::enqueue(&location, scan.id, ranges.len() as u64) {
        messages::error(messages::with_hint(e, "the scan is recorded; run this command again to queue a new one"));
        return ExitCode::from(EXIT_FAILURE);
    }
    let seed = space.seed().map_or("in order (-r)".to_string(), |s| format!("seed {s}"));
    messages::note(format!(
        "scan {}: {positions} probes ({hosts} hosts x {} ports, {seed}) in {} chunks of at most {size}, queued in {}; \
         start workers with `tojimari worker --db URL`, follow them with `tojimari jobs --db URL`",
        scan.no,
        space.per_host(),
        ranges.len(),
        store.name()
    ));
    ExitCode::SUCCESS
}

/// The scan's `--max-rate`, whole packets per second, shared by the workers.
fn max_rate(plan: &ScanPlan) -> Option<u64> {
    plan.timing.max_rate.map(|r| r.max(1.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_options_are_dropped() {
        let argv: Vec<String> = [
            "tojimari",
            "scan",
            "-sS",
            "--db",
            "postgres://u:secret@h/d",
            "--workers",
            "--chunk-size",
            "4096",
            "-p",
            "22",
            "--db=postgres://x",
            "198.19.0.0/16",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(scan_args(&argv), ["-sS", "-p", "22", "198.19.0.0/16"]);
    }
}
