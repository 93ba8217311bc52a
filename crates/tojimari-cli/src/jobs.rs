//! `tojimari jobs --db postgres://...`: fleet scans' progress, per chunk and per worker, as plain text (one
//! summary line per scan, then its chunks, then the workers), or as JSON (`-oJ FILE`, `-` for standard
//! output: one object with `scans` and `workers`).

use std::process::ExitCode;

use clap::Args;
use serde_json::json;
use tojimari_store::{ChunkRow, ChunkState, FleetScanRow, WorkerRow};

use crate::store_plan::StoreOptions;
use crate::{EXIT_FAILURE, messages};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari jobs --db postgres://scanner@db.example/tojimari\n  \
                  tojimari jobs --db postgres://scanner@db.example/tojimari 12 -oJ -")]
pub struct JobsArgs {
    /// Only this scan (its number; default: every fleet scan).
    #[arg(value_name = "SCAN")]
    pub scan: Option<i64>,
    #[command(flatten)]
    pub store: StoreOptions,
    /// JSON to FILE (- for standard output) instead of the text [-oJ].
    #[arg(long = "output-json", value_name = "FILE")]
    pub output_json: Option<String>,
}

/// One fleet scan with its chunks.
pub struct ScanProgress {
    pub scan: FleetScanRow,
    pub chunks: Vec<ChunkRow>,
}

pub fn run(args: &JobsArgs) -> ExitCode {
    let store = match crate::store_plan::open_existing(&args.store) {
        Ok(s) => s,
        Err((message, hint)) => {
            messages::error(messages::with_hint(message, hint));
            return ExitCode::from(crate::exit::Exit::Usage.code());
        }
    };
    let read = || -> Result<(Vec<ScanProgress>, Vec<WorkerRow>), tojimari_store::StoreError> {
        let mut scans = Vec::new();
        for scan in store.fleet_scans()? {
            if args.scan.is_some_and(|no| no != scan.scan.no) {
                continue;
            }
            let chunks = store.fleet_chunks(scan.scan.id)?;
            scans.push(ScanProgress { scan, chunks });
        }
        Ok((scans, store.fleet_workers()?))
    };
    let (scans, workers) = match read() {
        Ok(r) => r,
        Err(e) => {
            messages::error(e);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if let Some(no) = args.scan
        && scans.is_empty()
    {
        messages::error(messages::with_hint(
            format!("no fleet scan {no} in {}", store.name()),
            "tojimari jobs without a number lists them",
        ));
        return ExitCode::from(crate::exit::Exit::Usage.code());
    }
    let now = tojimari_store::unix_ms(std::time::SystemTime::now());
    match &args.output_json {
        Some(path) => {
            let text = format!("{}\n", to_json(&scans, &workers, now));
            if path == "-" {
                crate::data(|out| out.write_all(text.as_bytes()))
            } else if let Err(e) = std::fs::write(path, text) {
                messages::error(format!("cannot write {path}: {e}"));
                ExitCode::from(EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            }
        }
        None => crate::data(|out| out.write_all(render(&scans, &workers, now).as_bytes())),
    }
}

/// Milliseconds as a short age: `850ms`, `12s`, `3m`, `2h`.
fn age(ms: i64) -> String {
    match ms.max(0) {
        ms if ms < 1000 => format!("{ms}ms"),
        ms if ms < 120_000 => format!("{}s", ms / 1000),
        ms if ms < 7_200_000 => format!("{}m", ms / 60_000),
        ms => format!("{}h", ms / 3_600_000),
    }
}

fn state_word(scan: &ScanProgress) -> &'static str {
    if scan.chunks.iter().all(|c| c.state == ChunkState::Done) {
        "complete"
    } else if scan.chunks.iter().any(|c| c.state != ChunkState::Pending) {
        "running"
    } else {
        "queued"
    }
}

/// The text report (pure: `now_ms` is passed in).
pub fn render(scans: &[ScanProgress], workers: &[WorkerRow], now_ms: i64) -> String {
    let mut out = String::new();
    if scans.is_empty() {
        out.push_str("No fleet scans.\n");
    }
    for s in scans {
        let done = s.chunks.iter().filter(|c| c.state == ChunkState::Done).count();
        let probes: u64 = s.chunks.iter().map(|c| c.probes_done.min(c.range.end - c.range.start)).sum();
        let up: u64 = s.chunks.iter().map(|c| c.hosts_up).sum();
        let open: u64 = s.chunks.iter().map(|c| c.open_ports).sum();
        let total = s.scan.fleet.positions.max(1);
        out.push_str(&format!(
            "Fleet scan {} ({}): {done}/{} chunks done, {probes}/{} probes ({:.1}%), {up} host reports up, {open} open ports\n",
            s.scan.scan.no,
            state_word(s),
            s.chunks.len(),
            s.scan.fleet.positions,
            probes as f64 * 100.0 / total as f64,
        ));
        out.push_str(&format!(
            "{:<7}{:<9}{:<22}{:<8}{:<6}{:<9}{}\n",
            "CHUNK", "STATE", "PROBES", "CLAIMS", "DONE", "AGE", "WORKER"
        ));
        for c in &s.chunks {
            let len = c.range.end - c.range.start;
            let when = match c.state {
                ChunkState::Done => c.done_ms,
                ChunkState::Running => c.checkpoint_ms.or(c.started_ms),
                ChunkState::Pending => None,
            };
            out.push_str(&format!(
                "{:<7}{:<9}{:<22}{:<8}{:<6}{:<9}{}\n",
                c.chunk,
                c.state.as_str(),
                format!("{}/{len}", c.probes_done.min(len)),
                c.claims,
                c.completions,
                when.map_or("-".to_string(), |t| age(now_ms - t)),
                c.worker.as_deref().unwrap_or("-"),
            ));
        }
        out.push('\n');
    }
    if !workers.is_empty() {
        out.push_str(&format!(
            "{:<40}{:<11}{:<14}{:<8}{:<12}{}\n",
            "WORKER", "LAST SEEN", "ON", "CHUNKS", "PROBES", "RATE"
        ));
        for w in workers {
            let on = match (w.scan_id.and_then(|id| scans.iter().find(|s| s.scan.scan.id == id)), w.chunk) {
                (Some(s), Some(c)) => format!("{}/{c}", s.scan.scan.no),
                (None, Some(c)) => format!("?/{c}"),
                _ => "idle".to_string(),
            };
            out.push_str(&format!(
                "{:<40}{:<11}{:<14}{:<8}{:<12}{}\n",
                w.id,
                format!("{} ago", age(now_ms - w.last_seen_ms)),
                on,
                w.chunks_done,
                w.probes,
                w.rate.map_or("-".to_string(), |r| format!("{r}/s")),
            ));
        }
    }
    out
}

/// The JSON report (pure).
pub fn to_json(scans: &[ScanProgress], workers: &[WorkerRow], now_ms: i64) -> serde_json::Value {
    json!({
        "now_ms": now_ms,
        "scans": scans.iter().map(|s| json!({
            "scan": s.scan.scan.no,
            "state": state_word(s),
            "positions": s.scan.fleet.positions,
            "chunk_size": s.scan.fleet.chunk_size,
            "max_rate": s.scan.fleet.max_rate,
            "chunks": s.chunks.iter().map(|c| json!({
                "chunk": c.chunk,
                "first": c.range.start,
                "past": c.range.end,
                "state": c.state.as_str(),
                "worker": c.worker,
                "claims": c.claims,
                "completions": c.completions,
                "probes_done": c.probes_done,
                "hosts_up": c.hosts_up,
                "open_ports": c.open_ports,
                "checkpoint_ms": c.checkpoint_ms,
                "started_ms": c.started_ms,
                "done_ms": c.done_ms,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "workers": workers.iter().map(|w| json!({
            "id": w.id,
            "host": w.host,
            "pid": w.pid,
            "started_ms": w.started_ms,
            "last_seen_ms": w.last_seen_ms,
            "scan_id": w.scan_id,
            "chunk": w.chunk,
            "chunks_done": w.chunks_done,
            "probes": w.probes,
            "rate": w.rate,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_store::{FleetScan, ScanId};

    fn chunk(n: u64, state: ChunkState, probes: u64) -> ChunkRow {
        ChunkRow {
            chunk: n,
            range: n * 100..(n + 1) * 100,
            state,
            worker: (state != ChunkState::Pending).then(|| format!("w{n}")),
            claims: u64::from(state != ChunkState::Pending),
            completions: u64::from(state == ChunkState::Done),
            probes_done: probes,
            hosts_up: 2,
            open_ports: 3,
            checkpoint_ms: None,
            started_ms: Some(1_000),
            done_ms: (state == ChunkState::Done).then_some(2_000),
        }
    }

    #[test]
    fn chunks_and_workers_are_listed() {
        let scans = vec![ScanProgress {
            scan: FleetScanRow {
                scan: ScanId { id: 9, no: 4 },
                fleet: FleetScan { options: String::new(), positions: 300, chunk_size: 100, max_rate: Some(900) },
                chunks: 3,
                created_ms: 0,
            },
            chunks: vec![
                chunk(0, ChunkState::Done, 100),
                chunk(1, ChunkState::Running, 40),
                chunk(2, ChunkState::Pending, 0),
            ],
        }];
        let workers = vec![WorkerRow {
            id: "w1".into(),
            host: "h".into(),
            pid: 1,
            started_ms: 0,
            last_seen_ms: 9_000,
            scan_id: Some(9),
            chunk: Some(1),
            chunks_done: 1,
            probes: 140,
            rate: Some(450),
        }];
        let text = render(&scans, &workers, 12_000);
        assert!(text.starts_with("Fleet scan 4 (running): 1/3 chunks done, 140/300 probes (46.7%)"), "{text}");
        assert!(text.contains("1      running  40/100"), "{text}");
        assert!(text.contains("0      done     100/100               1       1     10s"), "{text}");
        assert!(text.contains("3s ago"), "{text}");
        assert!(text.contains("4/1"), "{text}");
        assert!(text.contains("450/s"), "{text}");
        let j = to_json(&scans, &workers, 12_000);
        assert_eq!(j["scans"][0]["chunks"][1]["state"], "running");
        assert_eq!(j["workers"][0]["rate"], 450);
        assert_eq!(render(&[], &[], 0), "No fleet scans.\n");
    }
}
