//! `tojimari export SCAN -oX/-oJ/-oN/-oG/-oA`: a recorded scan written again through the same output sinks
//! the scan used, from its recorded header, hosts (in their order) and summary; for a scan of tojimari the
//! files equal what the scan wrote. A scan without a recorded header (an import of masscan's list output) or
//! summary (its process died) gets one made from its row.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use tojimari_core::report::{RunExit, RunInfo, RunSummary};
use tojimari_core::sink::{Sink, Tee};
use tojimari_core::{HostReport, HostState};
use tojimari_store::{ReadFailure, ScanRef, StoredScan};

use crate::args::ExportArgs;
use crate::exit::Exit;
use crate::messages;
use crate::outputs::{OutputOptions, Outputs, destinations_of};
use crate::plan::UsageError;

/// Which scan `text` names: a scan number, or `latest`.
pub fn parse_scan_ref(text: &str) -> Result<ScanRef, UsageError> {
    if text == "latest" {
        return Ok(ScanRef::Latest);
    }
    match text.parse::<i64>() {
        Ok(no) if no > 0 => Ok(ScanRef::No(no)),
        _ => Err(UsageError::new(
            format!("{text:?} is not a scan: give its number or latest"),
            "tojimari history lists the recorded scans with their numbers",
        )),
    }
}

pub fn run(args: &ExportArgs) -> ExitCode {
    let which = match parse_scan_ref(&args.scan) {
        Ok(w) => w,
        Err(e) => return crate::usage(&e),
    };
    let options = OutputOptions {
        normal: args.output_normal.as_deref(),
        xml: args.output_xml.as_deref(),
        grepable: args.output_grepable.as_deref(),
        json: args.output_json.as_deref(),
        all: args.output_all.as_deref(),
    };
    let wanted = match destinations_of(&options) {
        Ok(w) => w,
        Err(e) => return crate::usage(&e),
    };
    let store = match crate::store_plan::open_existing(&args.store) {
        Ok(store) => store,
        Err((message, hint)) => {
            messages::error(messages::with_hint(message, hint));
            return Exit::Failure.into();
        }
    };
    let scan = match store.find_scan(which) {
        Ok(Some(scan)) => scan,
        Ok(None) => {
            let e = UsageError::new(
                format!("the result store {} has no scan {}", store.name(), args.scan),
                "tojimari history lists the recorded scans with their numbers",
            );
            return crate::usage(&e);
        }
        Err(e) => {
            messages::error(e);
            return Exit::Failure.into();
        }
    };
    // Outputs open only once the scan is known: a wrong number creates no empty files.
    let outputs = match Outputs::open(&wanted) {
        Ok(outputs) => outputs,
        Err(e) => return crate::usage(&e),
    };
    let mut tee = Tee::new();
    for output in outputs.opened {
        tee.push(tojimari_output::sink(output.format, output.writer, output.stdout));
    }
    let (run, mut summary) = (header(&scan), scan.summary.clone());
    let mut counted = Counted::default();
    let written = tee.run_start(&run).map_err(|e| e.to_string()).and_then(|()| {
        store
            .for_each_host(scan.id, |host| {
                counted.add(&host);
                tee.host_done(&host)
            })
            .map_err(|e| match e {
                ReadFailure::Store(e) => e.to_string(),
                ReadFailure::Output(e) => e.to_string(),
            })
    });
    let summary = summary.take().unwrap_or_else(|| counted.summary(&scan, &run));
    let ended = tee.run_end(&summary).map_err(|e| e.to_string());
    match written.and(ended) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            messages::error(e);
            Exit::Failure.into()
        }
    }
}

/// The scan's recorded header, or one made from its row.
fn header(scan: &StoredScan) -> RunInfo {
    scan.run.clone().unwrap_or_else(|| RunInfo {
        args: scan.argv.clone(),
        start: at(scan.row.started_ms),
        version: env!("CARGO_PKG_VERSION").to_string(),
        scans: Vec::new(),
        display: Default::default(),
    })
}

fn at(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Hosts counted while exported, for a summary the store does not have.
#[derive(Default)]
struct Counted {
    up: u64,
    down: u64,
    last_end: Option<SystemTime>,
}

impl Counted {
    fn add(&mut self, host: &HostReport) {
        match host.state {
            HostState::Up => self.up += 1,
            _ => self.down += 1,
        }
        self.last_end = self.last_end.max(Some(host.end));
    }

    fn summary(&self, scan: &StoredScan, run: &RunInfo) -> RunSummary {
        let end = scan.row.ended_ms.map(at).or(self.last_end).unwrap_or(run.start);
        RunSummary {
            end,
            elapsed: end.duration_since(run.start).unwrap_or_default(),
            hosts_up: self.up,
            hosts_down: self.down,
            hosts_total: self.up + self.down,
            exit: match scan.row.status {
                tojimari_store::ScanStatus::Complete => RunExit::Success,
                _ => RunExit::Error("the scan was interrupted".into()),
            },
        }
    }
}

/// The store `--db` names (else `TOJIMARI_DB`, else the default): an error is said here (exit status 1).
pub fn open_store(db: Option<&str>) -> Result<tojimari_store::Store, ExitCode> {
    let options = crate::store_plan::StoreOptions { db: db.map(str::to_string) };
    crate::store_plan::open_store(&options).map_err(|e| {
        messages::error(e);
        ExitCode::from(Exit::Failure.code())
    })
}
