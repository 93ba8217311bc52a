//! Where alerts go. Each alert is written, as soon as it is raised, to:
//! - the JSON Lines destination (`-oJ FILE`, or `-oJ -` for stdout): one
//!   [`Alert::to_json`] object per line, flushed per alert so `tail -f` sees it at once;
//! - stderr: [`Alert::line`], unless quiet;
//! - syslog ([`crate::syslog`]), when asked.
//!
//! A closed stdout (`-oJ - | head -1`) is not an error: [`Delivery::StdoutClosed`] tells the
//! loop to stop quietly.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tojimari_detect::Alert;

use crate::capture;
use crate::error::WatchError;
use crate::syslog::Syslog;

/// Whether the readable line goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readable {
    /// One line per alert on stderr.
    Stderr,
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

/// The open outputs.
#[derive(Debug)]
pub struct Outputs {
    json: Option<Json>,
    readable: Readable,
    syslog: Option<Syslog>,
    alerts: u64,
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
        Ok(Outputs { json, readable, syslog, alerts: 0 })
    }

    /// Alerts written so far.
    pub fn alerts(&self) -> u64 {
        self.alerts
    }

    /// Writes one alert everywhere. A syslog failure is reported once on stderr and syslog is
    /// then left off; a JSON file that cannot be written is an error.
    pub fn emit(
        &mut self,
        alert: &Alert,
        stdout: &mut dyn Write,
        stderr: &mut dyn Write,
    ) -> Result<Delivery, WatchError> {
        self.alerts += 1;
        let line = alert.line();
        if self.readable == Readable::Stderr {
            let _ = writeln!(stderr, "{line}");
        }
        if let Some(syslog) = &self.syslog
            && let Err(e) = syslog.send(&line, capture::now())
        {
            let _ = writeln!(stderr, "warning: syslog: {e}; alerts are no longer sent to syslog");
            self.syslog = None;
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
