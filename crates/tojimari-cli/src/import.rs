//! `tojimari import FILE...`: a result file (nmap XML, masscan XML/JSON/list, tojimari's JSON Lines) read by
//! `tojimari_store::import` and recorded as one scan, in one transaction: a file that fails part way
//! records nothing. One line on success (`imported 3 hosts (2003 ports) as scan 12`); on failure one
//! `error:` line naming the file and where in it, exit 2 for a bad file, 1 for a database failure.
//!
//! Several files are the shards of one scan (`--shard I/N --seed S` in each command line): checked to belong
//! together by `tojimari_store::import::merge` (a disagreement is refused, exit 2; missing shards are a
//! warning), united host by host, and recorded as one scan under the unsharded command line.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use tojimari_store::import::convert::{self, Tally};
use tojimari_store::import::merge::{Merger, ShardFile, ShardSet};
use tojimari_store::import::nmap_xml::Record;
use tojimari_store::import::{DETECT_BYTES, Format, ImportError, Limits};
use tojimari_store::{ImportFailure, Imported, ScanStart, Store, unix_ms};

use crate::args::ImportArgs;
use crate::exit::Exit;
use crate::messages;

/// The formats, as `--format` names them, for hints.
const FORMATS: &str = "nmap-xml, masscan-xml, masscan-json, masscan-list or jsonl";

/// The most ports a merge of shard files holds (all in memory: the union needs every host at once).
const MAX_MERGED_PORTS: usize = 1 << 25;

/// One file's records, as its format reads them.
type Records = std::iter::Peekable<Box<dyn Iterator<Item = Result<Record, ImportError>>>>;

pub fn run(args: &ImportArgs, argv: &[String]) -> ExitCode {
    match args.files.as_slice() {
        [one] => import_one(args, one, argv),
        many if many.iter().any(|f| f.as_os_str() == "-") => fail(
            Exit::Usage,
            "- (standard input) cannot be one of several files",
            "give the shards' files by name, or - alone",
        ),
        many => import_shards(args, many),
    }
}

/// Opens `path` (- for standard input) and tells its format: the file's name for messages, its format and
/// its records. Failures are said and returned as the exit status.
fn open(path: &Path, forced: Option<&str>) -> Result<(String, Format, Records), ExitCode> {
    let stdin = path.as_os_str() == "-";
    let name = if stdin { "standard input".to_string() } else { path.display().to_string() };
    let input: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin())
    } else {
        match File::open(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                return Err(fail(
                    Exit::Usage,
                    format!("cannot read {name}: {e}"),
                    "give the path of an nmap, masscan or tojimari result file, or - for standard input",
                ));
            }
        }
    };
    let (head, rest) = match read_head(input) {
        Ok(parts) => parts,
        Err(e) => return Err(fail(Exit::Usage, format!("cannot read {name}: {e}"), "check that the file can be read")),
    };
    let format = match forced {
        Some(forced) => match forced.parse::<Format>() {
            Ok(format) => format,
            Err(e) => return Err(fail(Exit::Usage, e, format!("--format takes {FORMATS}"))),
        },
        None => match Format::detect(&head) {
            Some(format) => format,
            None => {
                return Err(fail(
                    Exit::Usage,
                    format!("cannot tell the format of {name} from its first bytes"),
                    format!(
                        "tojimari imports nmap's and masscan's -oX, masscan's -oJ and -oL and its own -oJ; \
                         --format names one ({FORMATS})"
                    ),
                ));
            }
        },
    };
    let input = BufReader::with_capacity(64 * 1024, Cursor::new(head).chain(rest));
    Ok((name, format, format.reader(input, Limits::default()).peekable()))
}

/// One file: recorded as it is, streamed into the store.
fn import_one(args: &ImportArgs, path: &Path, argv: &[String]) -> ExitCode {
    let (name, format, mut records) = match open(path, args.format.as_deref()) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    // The first record gives the scope and the start, before anything is written.
    let first = match records.peek() {
        Some(Ok(record)) => record,
        Some(Err(_)) => {
            let Some(Err(e)) = records.next() else { return Exit::Failure.into() };
            return bad_file(&name, format, &e);
        }
        None => {
            return fail(
                Exit::Usage,
                format!("{name} has no results to import ({format})"),
                "an empty scan is not recorded",
            );
        }
    };
    let scope = convert::scope(first);
    let file_args = match first {
        Record::Run { args, .. } if !args.is_empty() => Some(args.clone()),
        _ => None,
    };
    if let Some(Ok(shard)) = file_args.as_deref().map(|a| ShardFile::parse(&name, a)) {
        warn_missing(&ShardSet {
            count: shard.shard.count,
            seed: shard.seed,
            whole: shard.whole,
            shards: vec![shard.shard],
        });
    }
    let started = convert::started(first).filter(|t| *t > SystemTime::UNIX_EPOCH).unwrap_or_else(SystemTime::now);
    let writer = tojimari_store::this_writer();
    let start = ScanStart {
        argv: file_args.unwrap_or_else(|| argv.join(" ")),
        profile: "import".into(),
        targets: scope.targets,
        ports: scope.ports,
        started_ms: unix_ms(started),
        source: format.name().into(),
        writer_host: writer.host,
        writer_pid: writer.pid,
        writer_boot: writer.boot,
    };

    let location = match crate::store_plan::location(&args.store) {
        Ok(location) => location,
        Err(e) => return fail(Exit::Usage, e, "give one with --db PATH or TOJIMARI_DB"),
    };
    let store = match Store::open(&location) {
        Ok(store) => store,
        Err(e) => return fail(Exit::Failure, e, "check --db (or TOJIMARI_DB); nothing was imported"),
    };

    // masscan's JSON and list have no summary: the hosts' tally stands in, so the scan is complete.
    let tally = Cell::new(Tally::default());
    let ports = Cell::new(0u64);
    // The store keeps one observation per host and scan: a host the file lists again (nmap given one
    // target twice) is skipped, and said so.
    let seen = RefCell::new(HashSet::new());
    let repeated = Cell::new(0u64);
    let needs_summary = matches!(format, Format::MasscanJson | Format::MasscanList);
    let imported = records
        .map(|item| {
            item.map(|record| match record {
                Record::Host(host) if !seen.borrow_mut().insert(host.addr) => {
                    repeated.set(repeated.get() + 1);
                    None
                }
                Record::Host(host) => {
                    let mut t = tally.get();
                    t.add(&host);
                    tally.set(t);
                    ports.set(ports.get() + host.ports.len() as u64);
                    Some(Imported::Host(host))
                }
                run @ Record::Run { .. } => convert::run_info(&run).map(|r| Imported::Run(Box::new(r))),
                end @ Record::RunEnd { .. } => convert::summary(&end).map(|s| Imported::Summary(Box::new(s))),
            })
        })
        .chain(std::iter::once_with(|| Ok(needs_summary.then(|| Imported::Summary(Box::new(tally.get().summary()))))))
        .filter_map(Result::transpose);
    let result = store.import_scan(&start, imported);
    let hosts = tally.get().hosts_up + tally.get().hosts_down;
    let ports = ports.get();
    match result {
        Ok(scan) => {
            if repeated.get() > 0 {
                messages::warning(format!(
                    "skipped {} repeated host reports in {name}: the store keeps the first report of each host",
                    repeated.get()
                ));
            }
            println!("imported {hosts} hosts ({ports} ports) as scan {}", scan.no);
            ExitCode::SUCCESS
        }
        Err(ImportFailure::Input(e)) => bad_file(&name, format, &e),
        Err(ImportFailure::Store(e)) => fail(Exit::Failure, e, "nothing was imported"),
    }
}

/// Several files: the shards of one scan, checked, united and recorded as one scan.
fn import_shards(args: &ImportArgs, paths: &[std::path::PathBuf]) -> ExitCode {
    // Every file's header first: nothing is merged until the files are known to be shards of one scan.
    let mut opened = Vec::with_capacity(paths.len());
    let mut shards = Vec::with_capacity(paths.len());
    for path in paths {
        let (name, format, mut records) = match open(path, args.format.as_deref()) {
            Ok(opened) => opened,
            Err(code) => return code,
        };
        let args = match records.peek() {
            Some(Ok(Record::Run { args, .. })) => args.clone(),
            Some(Ok(_)) => String::new(),
            Some(Err(_)) => {
                let Some(Err(e)) = records.next() else { return Exit::Failure.into() };
                return bad_file(&name, format, &e);
            }
            None => {
                return fail(
                    Exit::Usage,
                    format!("{name} has no results to import ({format})"),
                    "give the shards' files",
                );
            }
        };
        match ShardFile::parse(&name, &args) {
            Ok(shard) => shards.push(shard),
            Err(e) => return fail(Exit::Usage, format!("cannot merge {name}: {e}"), e.hint()),
        }
        opened.push((name, format, records));
    }
    let set = match ShardSet::check(&shards) {
        Ok(set) => set,
        Err(e) => return fail(Exit::Usage, format!("cannot merge these files into one scan: {e}"), e.hint()),
    };
    warn_missing(&set);

    let mut merger = Merger::new(MAX_MERGED_PORTS);
    let mut header = None;
    for (name, format, records) in opened {
        let mut summary = None;
        let mut start = None;
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(e) => return bad_file(&name, format, &e),
            };
            match record {
                Record::Host(host) => {
                    if let Err(e) = merger.add_host(*host) {
                        return fail(Exit::Usage, format!("cannot merge {name}: {e}"), e.hint());
                    }
                }
                run @ Record::Run { .. } => {
                    start = convert::started(&run);
                    if header.is_none() {
                        header = Some(run);
                    }
                }
                end @ Record::RunEnd { .. } => summary = convert::summary(&end),
            }
        }
        merger.add_run(start, summary.as_ref());
    }
    if merger.repeated_ports() > 0 {
        messages::warning(format!(
            "{} ports were in more than one shard's file: the first file's answer is kept",
            merger.repeated_ports()
        ));
    }
    let started = merger.start().unwrap_or_else(SystemTime::now);
    let (hosts, summary) = merger.finish();
    // The merged scan is the unsharded scan: its command line without --shard.
    let header = match header {
        Some(Record::Run { scanner, start, version, scaninfo, verbose, debug, .. }) => {
            Record::Run { scanner, args: set.whole.clone(), start, version, scaninfo, verbose, debug }
        }
        _ => return Exit::Failure.into(),
    };
    let scope = convert::scope(&header);
    let writer = tojimari_store::this_writer();
    let start = ScanStart {
        argv: set.whole.clone(),
        profile: "import".into(),
        targets: scope.targets,
        ports: scope.ports,
        started_ms: unix_ms(started),
        source: "shards".into(),
        writer_host: writer.host,
        writer_pid: writer.pid,
        writer_boot: writer.boot,
    };
    let host_count = hosts.len();
    let ports: usize = hosts.iter().map(|h| h.ports.len()).sum();
    let location = match crate::store_plan::location(&args.store) {
        Ok(location) => location,
        Err(e) => return fail(Exit::Usage, e, "give one with --db PATH or TOJIMARI_DB"),
    };
    let store = match Store::open(&location) {
        Ok(store) => store,
        Err(e) => return fail(Exit::Failure, e, "check --db (or TOJIMARI_DB); nothing was imported"),
    };
    let imported = convert::run_info(&header)
        .map(|r| Imported::Run(Box::new(r)))
        .into_iter()
        .chain(hosts.into_iter().map(|h| Imported::Host(Box::new(h))))
        .chain(std::iter::once(Imported::Summary(Box::new(summary))))
        .map(Ok::<_, ImportError>);
    match store.import_scan(&start, imported) {
        Ok(scan) => {
            println!("imported {host_count} hosts ({ports} ports) from {set} as scan {}", scan.no);
            ExitCode::SUCCESS
        }
        Err(ImportFailure::Input(e)) => fail(Exit::Usage, e, "nothing was imported"),
        Err(ImportFailure::Store(e)) => fail(Exit::Failure, e, "nothing was imported"),
    }
}

/// A `warning:` naming the shards of `set`'s scan no file gave.
fn warn_missing(set: &ShardSet) {
    let missing = set.missing();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        messages::warning(format!(
            "shard{} {} of this scan {} missing: the scan is recorded without {}",
            if list.len() == 1 { "" } else { "s" },
            list.join(", "),
            if list.len() == 1 { "is" } else { "are" },
            if list.len() == 1 { "its probes" } else { "their probes" },
        ));
    }
}

/// The first [`DETECT_BYTES`] of `input` (fewer when it is shorter), and the rest of it.
fn read_head(mut input: Box<dyn Read>) -> std::io::Result<(Vec<u8>, Box<dyn Read>)> {
    let mut head = Vec::with_capacity(DETECT_BYTES);
    (&mut input).take(DETECT_BYTES as u64).read_to_end(&mut head)?;
    Ok((head, input))
}

fn fail(exit: Exit, message: impl std::fmt::Display, hint: impl std::fmt::Display) -> ExitCode {
    messages::error(messages::with_hint(message, hint));
    exit.into()
}

/// A file that could not be read whole: nothing was recorded.
fn bad_file(name: &str, format: Format, e: &ImportError) -> ExitCode {
    fail(Exit::Usage, format!("cannot import {name} as {format}: {e}"), hint(format, e))
}

/// What to do about an [`ImportError`].
fn hint(format: Format, e: &ImportError) -> String {
    let nothing = "nothing was imported";
    match e {
        ImportError::Entity { .. } => {
            format!(
                "tojimari never expands XML entities, and nmap's files have none: the file was not written by nmap; {nothing}"
            )
        }
        ImportError::TooLarge { .. }
        | ImportError::TokenTooLong { .. }
        | ImportError::TooDeep { .. }
        | ImportError::HostTooLarge { .. }
        | ImportError::TooManyPorts { .. } => {
            format!("the file goes beyond anything a scan writes, so it is damaged or not a scan's; {nothing}")
        }
        ImportError::Truncated { .. } | ImportError::Ended { .. } => {
            format!("the file is cut short (was the scan still running, or killed?); {nothing}")
        }
        ImportError::Io { .. } => format!("check that the file can be read; {nothing}"),
        _ => format!("the file is damaged, or not {format} (--format takes {FORMATS}); {nothing}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_say_nothing_was_imported() {
        let at = tojimari_store::import::Position { offset: 10, line: 2 };
        let e = ImportError::Entity { at, what: "x".into() };
        assert!(hint(Format::NmapXml, &e).contains("entities"));
        let e = ImportError::Ended { at, what: "x".into() };
        assert!(hint(Format::Jsonl, &e).contains("cut short"));
        let e = ImportError::NotFormat { at, format: "x", what: "y".into() };
        assert!(hint(Format::MasscanList, &e).contains("not masscan-list"));
    }
}
