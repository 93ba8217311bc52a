//! Where alerts go. Each record (a scan's start, an update, its closing record) is written, as
//! soon as it is raised, to:
//! - the JSON Lines destination (`-oJ FILE`, or `-oJ -` for stdout): one
//!   [`Alert::to_json`] object per line (`"type":"alert"` or `"type":"scan-end"`, see
//!   [`tojimari_scandetect::alert`]), flushed per record so `tail -f` sees it at once;
//! - the caller's notices: [`Alert::line`] as a [`Notice::Scan`] (a warning for a start or an
//!   update, a note for the closing record), unless quiet;
//! - syslog ([`crate::syslog`]), when asked: the same line, one datagram.
//!
//! A closed stdout (`-oJ - | head -1`) is not an error: [`Delivery::StdoutClosed`] tells the
//! loop to stop quietly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tojimari_scandetect::{Alert, AlertKind};

use crate::capture;
use crate::error::WatchError;
use crate::notice::Notice;
use crate::syslog::{self, Syslog};

/// Whether each alert is also told as a [`Notice::Scan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readable {
    /// One notice per alert.
    Notices,
    /// None (`--quiet`).
    Off,
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Written everywhere it should go.
    Delivered,
    /// stdout is closed (the reader went away); stop watching.
    StdoutClosed,
}

#[derive(Debug)]
enum Json {
    Stdout,
    File { path: PathBuf, writer: BufWriter<File> },
}

/// Called with every alert record as it is written (the CLI records them in the result store).
pub type AlertHook = Box<dyn FnMut(&Alert) + Send>;

/// The open outputs.
pub struct Outputs {
    json: Option<Json>,
    readable: Readable,
    syslog: Option<Syslog>,
    hook: Option<AlertHook>,
    records: u64,
    scans: u64,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("json", &self.json)
            .field("readable", &self.readable)
            .field("syslog", &self.syslog)
            .field("hook", &self.hook.is_some())
            .field("records", &self.records)
            .finish()
    }
}

impl Outputs {
    /// Opens the outputs: `json` is a file to create (truncating it) or `-` for stdout;
    /// `syslog` is an already connected client, if any.
    pub fn open(json: Option<&Path>, readable: Readable, syslog: Option<Syslog>) -> Result<Outputs, WatchError> {
        let json = match json {
            None => None,
            Some(path) if path == Path::new("-") => Some(Json::Stdout),
            Some(path) => {
                let file = File::create(path).map_err(|source| WatchError::Output { path: path.to_owned(), source })?;
                Some(Json::File { path: path.to_owned(), writer: BufWriter::new(file) })
            }
        };
        Ok(Outputs { json, readable, syslog, hook: None, records: 0, scans: 0 })
    }

    /// Also hands every alert record to `hook`.
    pub fn with_hook(mut self, hook: Option<AlertHook>) -> Outputs {
        self.hook = hook;
        self
    }

    /// Records written so far (starts, updates, ends).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Scans (incidents) reported so far: start records.
    pub fn scans(&self) -> u64 {
        self.scans
    }

    /// Writes one record everywhere. A syslog failure is reported once as a notice and syslog is
    /// then left off; a JSON file that cannot be written is an error.
    pub fn emit(
        &mut self,
        alert: &Alert,
        stdout: &mut dyn Write,
        report: &mut dyn FnMut(Notice),
    ) -> Result<Delivery, WatchError> {
        self.records += 1;
        let (ended, priority) = match alert.kind {
            AlertKind::Start | AlertKind::Update => (false, syslog::PRIORITY),
            AlertKind::End(_) => (true, syslog::PRIORITY_END),
        };
        self.scans += u64::from(alert.kind == AlertKind::Start);
        let line = alert.line();
        if self.readable == Readable::Notices {
            report(Notice::Scan { line: line.clone(), ended });
        }
        if let Some(syslog) = &self.syslog
            && let Err(error) = syslog.send(priority, &line, capture::now())
        {
            report(Notice::SyslogFailed { error });
            self.syslog = None;
        }
        if let Some(hook) = &mut self.hook {
            hook(alert);
        }
        let object = alert.to_json().to_string();
        match &mut self.json {
            None => {}
            Some(Json::Stdout) => {
                if let Err(e) = writeln!(stdout, "{object}").and_then(|()| stdout.flush()) {
                    if e.kind() == io::ErrorKind::BrokenPipe {
                        return Ok(Delivery::StdoutClosed);
                    }
                    return Err(WatchError::Output { path: PathBuf::from("stdout"), source: e });
                }
            }
            Some(Json::File { path, writer }) => {
                writeln!(writer, "{object}")
                    .and_then(|()| writer.flush())
                    .map_err(|source| WatchError::Output { path: path.clone(), source })?;
            }
        }
        Ok(Delivery::Delivered)
    }
}
