//! `tojimari import FILE`: a result file (nmap XML, masscan XML/JSON/list, tojimari's JSON Lines) read by
//! `tojimari_store::import` and recorded as one scan, in one transaction: a file that fails part way
//! records nothing. One line on success (`imported 3 hosts (2003 ports) as scan 12`); on failure one
//! `error:` line naming the file and where in it, exit 2 for a bad file, 1 for a database failure.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::process::ExitCode;
use std::time::SystemTime;

use tojimari_store::import::convert::{self, Tally};
use tojimari_store::import::nmap_xml::Record;
use tojimari_store::import::{DETECT_BYTES, Format, ImportError, Limits};
use tojimari_store::{ImportFailure, Imported, ScanStart, Store, unix_ms};

use crate::args::ImportArgs;
use crate::exit::Exit;
use crate::messages;

/// The formats, as `--format` names them, for hints.
const FORMATS: &str = "nmap-xml, masscan-xml, masscan-json, masscan-list or jsonl";

pub fn run(args: &ImportArgs, argv: &[String]) -> ExitCode {
    let name =
        if args.file.as_os_str() == "-" { "standard input".to_string() } else { args.file.display().to_string() };
    let input: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        match File::open(&args.file) {
            Ok(file) => Box::new(file),
            Err(e) => {
                return fail(
                    Exit::Usage,
                    format!("cannot read {name}: {e}"),
                    "give the path of an nmap, masscan or tojimari result file, or - for standard input",
                );
            }
        }
    };
    let (head, rest) = match read_head(input) {
        Ok(parts) => parts,
        Err(e) => return fail(Exit::Usage, format!("cannot read {name}: {e}"), "check that the file can be read"),
    };
    let format = match &args.format {
        Some(forced) => match forced.parse::<Format>() {
            Ok(format) => format,
            Err(e) => return fail(Exit::Usage, e, format!("--format takes {FORMATS}")),
        },
        None => match Format::detect(&head) {
            Some(format) => format,
            None => {
                return fail(
                    Exit::Usage,
                    format!("cannot tell the format of {name} from its first bytes"),
                    format!(
                        "tojimari imports nmap's and masscan's -oX, masscan's -oJ and -oL and its own -oJ; \
                         --format names one ({FORMATS})"
                    ),
                );
            }
        },
    };
    let input = BufReader::with_capacity(64 * 1024, Cursor::new(head).chain(rest));
    let mut records = format.reader(input, Limits::default()).peekable();
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
