//! The store's fallback: when the result store cannot take a scan (locked, read-only, full, corrupt, from a
//! newer tojimari), the hosts it did not record are written as the scan's JSON Lines (the `-oJ` format, with
//! its header and summary) to `store-fallback-<time>.jsonl`, so that no result is lost.
//!
//! The file goes beside the database; where that directory cannot take it (read-only, full), the next
//! place in the list is tried ([`places`]: the default data directory, then the temporary directory), what
//! was written so far is carried over, and the report says where it went and why. Every host is written
//! through at once (the file is the last copy of it), so a disk that fills up is noticed at the host that
//! did not fit.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tojimari_core::civil;
use tojimari_core::report::{HostReport, RunInfo, RunSummary};
use tojimari_core::sink::Sink;
use tojimari_output::Format;

/// The places to try for a store at `location`: beside a SQLite file, then the default data directory
/// (`data_dir`), then the temporary directory.
pub fn places(location: &str, data_dir: Option<PathBuf>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let is_url = location.contains("://") && !location.starts_with("sqlite:");
    if !is_url {
        let path = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")).unwrap_or(location);
        let dir = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        dirs.push(dir.to_path_buf());
    }
    dirs.extend(data_dir);
    dirs.push(std::env::temp_dir());
    dirs.dedup();
    dirs
}

/// `20261206T141525Z`: a file name's UTC time.
pub fn stamp(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let date = civil::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", date.year, date.month, date.day, s / 3600, s / 60 % 60, s % 60)
}

/// What became of the fallback, for the closing messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FallbackReport {
    /// The file written, if one was.
    pub path: Option<PathBuf>,
    /// Hosts written to it.
    pub hosts: u64,
    /// Places that could not take it, with why (`DIR: REASON`).
    pub skipped: Vec<String>,
    /// Set when no place could take it: the hosts not recorded are lost.
    pub failed: bool,
}

/// The fallback file of one scan, shared between the scan's thread and the store's writer thread.
#[derive(Clone)]
pub struct Fallback(Arc<Mutex<FallbackFile>>);

struct FallbackFile {
    dirs: std::vec::IntoIter<PathBuf>,
    name: String,
    run: RunInfo,
    started: bool,
    /// The JSON Lines sink, writing into `pending`.
    sink: Box<dyn Sink + Send>,
    pending: Arc<Mutex<Vec<u8>>>,
    file: Option<(PathBuf, File)>,
    report: FallbackReport,
}

/// A writer into a shared buffer.
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Fallback {
    /// A fallback for the run `run`, tried in `dirs` in order; nothing is written until it is used.
    pub fn new(dirs: Vec<PathBuf>, run: RunInfo, now: SystemTime) -> Fallback {
        let pending = Arc::new(Mutex::new(Vec::new()));
        let sink = tojimari_output::sink(Format::JsonLines, Box::new(Pending(Arc::clone(&pending))), false);
        Fallback(Arc::new(Mutex::new(FallbackFile {
            dirs: dirs.into_iter(),
            name: format!("store-fallback-{}", stamp(now)),
            run,
            started: false,
            sink,
            pending,
            file: None,
            report: FallbackReport::default(),
        })))
    }

    fn with<T>(&self, f: impl FnOnce(&mut FallbackFile) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Writes hosts the store did not record.
    pub fn hosts(&self, hosts: &[HostReport]) {
        self.with(|f| {
            f.start();
            for host in hosts {
                let _ = f.sink.host_done(host);
                if f.push() {
                    f.report.hosts += 1;
                }
            }
        });
    }

    /// Ends the file with the run's summary (creating it, header first, if nothing was written yet).
    pub fn finish(&self, summary: &RunSummary) {
        self.with(|f| {
            f.start();
            let _ = f.sink.run_end(summary);
            f.push();
        });
    }

    pub fn report(&self) -> FallbackReport {
        self.with(|f| f.report.clone())
    }
}

impl FallbackFile {
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let _ = self.sink.run_start(&self.run);
            self.push();
        }
    }

    /// Writes what the sink produced to the file, moving on to the next place when this one fails.
    /// Returns whether it was written.
    fn push(&mut self) -> bool {
        let bytes = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        loop {
            if self.file.is_none() && !self.open_next() {
                self.report.failed = true;
                return false;
            }
            let Some((path, file)) = &mut self.file else { continue };
            match file.write_all(&bytes) {
                Ok(()) => return true,
                Err(e) => {
                    let path = path.clone();
                    self.move_on(&path, &e);
                }
            }
        }
    }

    /// Opens the file in the next place that takes it, with what an earlier place had of it.
    fn open_next(&mut self) -> bool {
        let carried = match &self.file {
            Some(_) => return true,
            None => self.report.path.take().map(|old| {
                // Whole lines only: a line cut by the failure is written again.
                let mut bytes = std::fs::read(&old).unwrap_or_default();
                bytes.truncate(bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
                let _ = std::fs::remove_file(&old);
                bytes
            }),
        };
        for dir in self.dirs.by_ref() {
            match create(&dir, &self.name).and_then(|(path, mut file)| {
                file.write_all(carried.as_deref().unwrap_or_default())?;
                Ok((path, file))
            }) {
                Ok((path, file)) => {
                    self.report.path = Some(path.clone());
                    self.file = Some((path, file));
                    return true;
                }
                Err(e) => self.report.skipped.push(format!("{}: {}", dir.display(), reason(&e))),
            }
        }
        false
    }

    fn move_on(&mut self, path: &Path, e: &io::Error) {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.report.skipped.push(format!("{}: {}", dir.display(), reason(e)));
        self.file = None;
    }
}

/// `NAME.jsonl` in `dir`, created new (`NAME-2.jsonl` ... when taken).
fn create(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    std::fs::create_dir_all(dir)?;
    let mut last = io::Error::other("no free file name");
    for n in 1..100 {
        let path = if n == 1 { dir.join(format!("{name}.jsonl")) } else { dir.join(format!("{name}-{n}.jsonl")) };
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// An I/O error as a short phrase, without Rust's "(os error N)".
fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_start_beside_the_database() {
        let tmp = std::env::temp_dir();
        let data = Some(PathBuf::from("/data/tojimari"));
        assert_eq!(
            places("/srv/tj/store.db", data.clone()),
            [PathBuf::from("/srv/tj"), "/data/tojimari".into(), tmp.clone()]
        );
        assert_eq!(places("sqlite:/srv/s.db", None), [PathBuf::from("/srv"), tmp.clone()]);
        assert_eq!(places("store.db", None), [PathBuf::from("."), tmp.clone()]);
        // PostgreSQL: no file to stand beside.
        assert_eq!(places("postgres://me@db/tj", data), [PathBuf::from("/data/tojimari"), tmp]);
    }

    #[test]
    fn stamps_are_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_796_567_725);
        assert_eq!(stamp(t), "20261206T143525Z");
        assert_eq!(stamp(SystemTime::UNIX_EPOCH), "19700101T000000Z");
    }
}
