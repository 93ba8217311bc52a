//! `tojimari diff [A [B]]`: what changed from scan A (the baseline) to scan B, with ndiff's meaning.
//!
//! - A and B are scan numbers, `latest` or `latest~N`. Without them: the last two complete scans with the same
//!   scope (profile, targets and ports asked). With A alone: A and the newest complete scan after it with
//!   its scope. A scan that did not complete is never the baseline.
//! - Output on standard output: text like ndiff's (`-` lines from A, `+` lines from B; the default, or
//!   `--text`), `--xml` (ndiff's `nmapdiff` document shape) or `--jsonl` (one object per line). `-oN FILE`,
//!   `-oX FILE` and `-oJ FILE` also write text, XML or JSON Lines to a file (`-` is standard output).
//! - Exit status as ndiff's: 0 no differences, 1 differences, 2 an error (bad usage, an unknown scan, no two
//!   scans to compare, a store that cannot be read, an output that cannot be written), always with one
//!   `error:` line and a hint.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tojimari_store::{ScanDiff, diff_scans, select_pair};

use crate::messages;

#[derive(Debug, Args)]
#[command(after_help = "Exit status (as ndiff's): 0 no differences, 1 differences, 2 error.\nExamples:\n  \
                  tojimari diff\n  tojimari diff 3 5\n  tojimari diff latest~1 latest --xml\n  \
                  tojimari diff --jsonl -oX changes.xml")]
pub struct DiffArgs {
    /// The baseline scan: a number, latest or latest~N (default: the older of the last two complete scans
    /// with the same scope).
    #[arg(value_name = "A")]
    pub a: Option<String>,
    /// The scan to compare with A (default: the newest complete scan after A with its scope).
    #[arg(value_name = "B")]
    pub b: Option<String>,
    /// Text like ndiff's on standard output (the default).
    #[arg(long, conflicts_with_all = ["xml", "jsonl"])]
    pub text: bool,
    /// XML (ndiff's nmapdiff document) on standard output.
    #[arg(long, conflicts_with = "jsonl")]
    pub xml: bool,
    /// JSON Lines on standard output: a header with the totals, then one object per host, port and finding.
    #[arg(long)]
    pub jsonl: bool,
    /// Also write the text to FILE [-oN].
    #[arg(long = "output-normal", value_name = "FILE")]
    pub output_normal: Option<PathBuf>,
    /// Also write XML to FILE [-oX].
    #[arg(long = "output-xml", value_name = "FILE")]
    pub output_xml: Option<PathBuf>,
    /// Also write JSON Lines to FILE [-oJ].
    #[arg(long = "output-json", value_name = "FILE")]
    pub output_json: Option<PathBuf>,
    #[command(flatten)]
    pub store: crate::store_plan::StoreOptions,
}

/// ndiff's exit statuses.
const SAME: u8 = 0;
const DIFFERENT: u8 = 1;
const TROUBLE: u8 = 2;

fn fail(message: impl std::fmt::Display, hint: impl std::fmt::Display) -> ExitCode {
    messages::error(messages::with_hint(message, hint));
    ExitCode::from(TROUBLE)
}

pub fn run(args: &DiffArgs) -> ExitCode {
    let store = match crate::store_plan::open_existing(&args.store) {
        Ok(store) => store,
        Err((message, hint)) => return fail(message, hint),
    };
    let store_hint = "check --db (or TOJIMARI_DB) names a tojimari result store";
    let scans = match store.scan_infos() {
        Ok(scans) => scans,
        Err(e) => return fail(e, store_hint),
    };
    let (a, b) = match select_pair(&scans, args.a.as_deref(), args.b.as_deref()) {
        Ok(pair) => pair,
        Err(e) => return fail(&e, e.hint()),
    };
    if b.status != tojimari_store::ScanStatus::Complete {
        messages::note(format!(
            "scan {} is {}: ports it did not reach are shown as not scanned",
            b.no,
            b.status.as_str()
        ));
    }
    let snapshots = store.snapshot(a).and_then(|sa| Ok((sa, store.snapshot(b)?)));
    let (sa, sb) = match snapshots {
        Ok(pair) => pair,
        Err(e) => return fail(e, store_hint),
    };
    let diff = diff_scans(&sa, &sb);
    if let Err(e) = write_all(args, &diff) {
        return fail(e, "check that the output file's directory exists and is writable");
    }
    ExitCode::from(if diff.is_empty() { SAME } else { DIFFERENT })
}

/// Which format a writer takes.
#[derive(Copy, Clone)]
enum Format {
    Text,
    Xml,
    Jsonl,
}

fn render(format: Format, diff: &ScanDiff) -> String {
    match format {
        Format::Text => crate::diff_text::text(diff),
        Format::Xml => crate::diff_xml::xml(diff),
        Format::Jsonl => crate::diff_jsonl::jsonl(diff),
    }
}

/// Standard output in the chosen format, then the files asked for. A closed stdout pipe is not an error.
fn write_all(args: &DiffArgs, diff: &ScanDiff) -> Result<(), String> {
    use std::io::Write;
    let stdout_format = if args.xml {
        Format::Xml
    } else if args.jsonl {
        Format::Jsonl
    } else {
        Format::Text
    };
    let files =
        [(Format::Text, &args.output_normal), (Format::Xml, &args.output_xml), (Format::Jsonl, &args.output_json)];
    for (format, path) in files {
        let Some(path) = path else { continue };
        let body = render(format, diff);
        if path.as_os_str() == "-" {
            continue;
        }
        std::fs::write(path, body).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    // `-oX -` and the like put that format on standard output instead.
    let stdout_format =
        files.iter().find(|(_, p)| p.as_ref().is_some_and(|p| p.as_os_str() == "-")).map_or(stdout_format, |(f, _)| *f);
    match std::io::stdout().lock().write_all(render(stdout_format, diff).as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("cannot write to standard output: {e}")),
        _ => Ok(()),
    }
}
