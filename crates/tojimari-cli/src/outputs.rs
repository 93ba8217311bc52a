//! Where results go: the output options (`-oN -oX -oG -oJ -oA`), checked, opened and written.
//!
//! Contracts:
//! - Checking ([`destinations`]): two formats never share one file, whichever way it is spelled (`-oN f -oX f`,
//!   `-oA base` with `-oN base.nmap`, `f` and `./f`, a symbolic or hard link to the same file), and no file
//!   is the standard output that already carries a format (`-oX /dev/stdout`). Only `/dev/null` may take
//!   several formats. Each case is a usage error naming the file and both options.
//! - Opening ([`Outputs::open`]) happens before the scan starts, so a bad path stops the run before any
//!   packet (or DNS query) is sent. Existing files are truncated only once every output has opened, and when
//!   one cannot be opened, the files this run created are removed again: a failed `-oA` leaves no siblings.
//! - Writing: a write error names its file ([`WriteError`]: `cannot write FILE: REASON`). A closed standard
//!   output pipe is not an error: the scan goes on and the files are still written.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tojimari_output::Format;

use crate::args::ScanArgs;
use crate::plan::UsageError;

/// Where one output format goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Stdout,
    File(String),
}

/// One format asked for, and the option that asked (`-oX`, or `-oA BASE` for its four files).
struct Wanted {
    format: Format,
    dest: Dest,
    option: String,
}

/// The output options, checked: each format with its destination, in the order given.
pub fn destinations(args: &ScanArgs) -> Result<Vec<(Format, Dest)>, UsageError> {
    destinations_of(&OutputOptions {
        normal: args.output_normal.as_deref(),
        xml: args.output_xml.as_deref(),
        grepable: args.output_grepable.as_deref(),
        json: args.output_json.as_deref(),
        all: args.output_all.as_deref(),
    })
}

/// The output options of any command that writes a scan's files (`scan`, `export`), as typed.
#[derive(Debug, Default, Clone, Copy)]
pub struct OutputOptions<'a> {
    pub normal: Option<&'a str>,
    pub xml: Option<&'a str>,
    pub grepable: Option<&'a str>,
    pub json: Option<&'a str>,
    pub all: Option<&'a str>,
}

/// [`destinations`] of any command's output options.
pub fn destinations_of(options: &OutputOptions<'_>) -> Result<Vec<(Format, Dest)>, UsageError> {
    let mut wanted = Vec::new();
    for (value, format, option) in [
        (options.normal, Format::Normal, "-oN"),
        (options.xml, Format::Xml, "-oX"),
        (options.grepable, Format::Grepable, "-oG"),
        (options.json, Format::JsonLines, "-oJ"),
    ] {
        let Some(name) = value else { continue };
        if name.is_empty() {
            return Err(UsageError::new(
                format!("{option} was given an empty file name"),
                "give a file name, or - for standard output",
            ));
        }
        let dest = if name == "-" { Dest::Stdout } else { Dest::File(name.to_string()) };
        wanted.push(Wanted { format, dest, option: option.to_string() });
    }
    if let Some(base) = options.all {
        if base.is_empty() || base == "-" {
            return Err(UsageError::new("-oA needs a base file name, not standard output", "for example -oA results"));
        }
        for (format, ext) in
            [(Format::Normal, "nmap"), (Format::Xml, "xml"), (Format::Grepable, "gnmap"), (Format::JsonLines, "jsonl")]
        {
            wanted.push(Wanted { format, dest: Dest::File(format!("{base}.{ext}")), option: "-oA".to_string() });
        }
    }
    check_distinct(&wanted, stdout_id().as_ref())?;
    Ok(wanted.into_iter().map(|w| (w.format, w.dest)).collect())
}

/// Two formats to one destination, or a file that is standard output, are usage errors.
fn check_distinct(wanted: &[Wanted], stdout: Option<&FileId>) -> Result<(), UsageError> {
    let to_stdout: Vec<&Wanted> = wanted.iter().filter(|w| w.dest == Dest::Stdout).collect();
    if let [first, second, ..] = to_stdout[..] {
        return Err(UsageError::new(
            format!("{} - and {} - both write to standard output", first.option, second.option),
            "only one format can go to standard output; send the others to files",
        ));
    }
    let files: Vec<(&Wanted, &str, FileId)> = wanted
        .iter()
        .filter_map(|w| match &w.dest {
            Dest::File(path) => Some((w, path.as_str(), FileId::of(Path::new(path)))),
            Dest::Stdout => None,
        })
        .collect();
    for (i, (later, later_path, later_id)) in files.iter().enumerate() {
        if is_null_device(Path::new(later_path)) {
            continue;
        }
        if let Some((earlier, earlier_path, _)) = files[..i].iter().find(|(_, _, id)| id == later_id) {
            let message = if earlier_path == later_path {
                format!("{} and {} both write to {later_path}", earlier.option, later.option)
            } else {
                format!("{} {earlier_path} and {} {later_path} are the same file", earlier.option, later.option)
            };
            return Err(UsageError::new(
                message,
                "give each format its own file; -oA BASE writes all four, each to its own file",
            ));
        }
        if stdout == Some(later_id) {
            let taken = match to_stdout.first() {
                Some(w) => format!("{} -", w.option),
                None => "the normal output".to_string(),
            };
            let hint = match later.option.as_str() {
                "-oA" => "give -oA a base name of files that are not standard output".to_string(),
                option => format!("send {option} to a file, or use {option} - to put it on standard output alone"),
            };
            return Err(UsageError::new(
                format!("{} {later_path} is standard output, which {taken} already writes to", later.option),
                hint,
            ));
        }
    }
    Ok(())
}

/// A file's identity for "is this the same file" checks: its device and inode when it exists, else its
/// canonical directory joined with its name (the path as given when even the directory is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileId {
    Inode { dev: u64, ino: u64 },
    Path(PathBuf),
}

impl FileId {
    fn of(path: &Path) -> FileId {
        if let Ok(meta) = fs::metadata(path) {
            return FileId::Inode { dev: meta.dev(), ino: meta.ino() };
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        match (fs::canonicalize(dir), path.file_name()) {
            (Ok(dir), Some(name)) => FileId::Path(dir.join(name)),
            _ => FileId::Path(path.to_path_buf()),
        }
    }
}

/// `/dev/null` may take any number of formats: nothing is written anyway.
fn is_null_device(path: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null"))
}

/// The identity of this process's standard output, when it can be found.
fn stdout_id() -> Option<FileId> {
    let fd = io::stdout().as_fd().try_clone_to_owned().ok()?;
    let meta = File::from(fd).metadata().ok()?;
    Some(FileId::Inode { dev: meta.dev(), ino: meta.ino() })
}

/// One opened output.
pub struct Opened {
    pub format: Format,
    pub writer: Box<dyn Write + Send>,
    /// Standard output: normal output there is drawn for a terminal (and shares it with the progress line).
    pub stdout: bool,
}

/// Every output of a run, opened; the files this run created are remembered so that a run that fails
/// before it starts can remove them ([`Outputs::discard`]).
pub struct Outputs {
    pub opened: Vec<Opened>,
    created: Vec<PathBuf>,
}

impl Outputs {
    /// Opens every destination (normal output goes to standard output unless a format was sent there).
    /// Existing files are truncated only once all have opened; on any failure the files created here are
    /// removed and the error names the file.
    pub fn open(outputs: &[(Format, Dest)]) -> Result<Outputs, UsageError> {
        let mut all: Vec<(Format, Dest)> = outputs.to_vec();
        if !all.iter().any(|(_, d)| *d == Dest::Stdout) {
            all.insert(0, (Format::Normal, Dest::Stdout));
        }
        let mut files: Vec<(Format, String, File, bool)> = Vec::new();
        let mut created = Vec::new();
        for (format, dest) in &all {
            let Dest::File(path) = dest else { continue };
            match open_keeping_contents(Path::new(path)) {
                Ok((file, was_created)) => {
                    if was_created {
                        created.push(PathBuf::from(path));
                    }
                    files.push((*format, path.clone(), file, was_created));
                }
                Err(e) => {
                    remove_all(&mut created);
                    return Err(open_error(path, &e));
                }
            }
        }
        // Every file opened: now it is safe to empty the ones that already existed.
        for (_, path, file, was_created) in &files {
            let regular = file.metadata().is_ok_and(|m| m.is_file());
            if !was_created
                && regular
                && let Err(e) = file.set_len(0)
            {
                remove_all(&mut created);
                return Err(open_error(path, &e));
            }
        }
        let mut files = files.into_iter();
        let mut opened = Vec::new();
        for (format, dest) in all {
            let writer: Box<dyn Write + Send> = match dest {
                Dest::Stdout => Box::new(Named::new("standard output", Stdout::default())),
                Dest::File(_) => match files.next() {
                    Some((_, path, file, _)) => Box::new(Named::new(path, BufWriter::new(file))),
                    None => continue,
                },
            };
            opened.push(Opened { format, writer, stdout: dest == Dest::Stdout });
        }
        Ok(Outputs { opened, created })
    }

    /// The run will not happen after all: drop the writers and remove the files this run created.
    pub fn discard(self) {
        let Outputs { opened, mut created } = self;
        drop(opened);
        remove_all(&mut created);
    }
}

/// Opens `path` for writing without truncating it; says whether this call created it.
fn open_keeping_contents(path: &Path) -> io::Result<(File, bool)> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            OpenOptions::new().write(true).create(true).truncate(false).open(path).map(|f| (f, false))
        }
        Err(e) => Err(e),
    }
}

fn remove_all(created: &mut Vec<PathBuf>) {
    for path in created.drain(..) {
        let _ = fs::remove_file(path);
    }
}

/// `cannot write FILE: REASON`, with a hint for the usual reasons.
fn open_error(path: &str, e: &io::Error) -> UsageError {
    let hint = match e.kind() {
        io::ErrorKind::NotFound => "its directory does not exist: create it first, or choose another path",
        io::ErrorKind::PermissionDenied => "choose a directory you may write to",
        io::ErrorKind::IsADirectory => "that is a directory: give a file name",
        io::ErrorKind::ReadOnlyFilesystem => "that file system is read-only: choose another path",
        _ => "check the path",
    };
    UsageError::new(cannot_write(path, e), hint)
}

/// The one wording of an output that cannot be written.
fn cannot_write(file: &str, reason: &dyn fmt::Display) -> String {
    format!("cannot write {file}: {reason}")
}

/// A write to an output failed: `cannot write FILE: REASON`. Carried inside the [`io::Error`] the writer
/// returns, so that it reaches `main` through the sinks and the engine unchanged.
#[derive(Debug)]
pub struct WriteError {
    file: String,
    source: io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cannot_write(&self.file, &self.source))
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What to tell the user about a failed write: the file and the reason when an output writer failed,
/// otherwise the error as it is.
pub fn describe(e: &io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<WriteError>()) {
        Some(named) => named.to_string(),
        None => format!("writing results failed: {e}"),
    }
}

/// A writer whose errors name it.
struct Named<W> {
    name: String,
    inner: W,
}

impl<W> Named<W> {
    fn new(name: impl Into<String>, inner: W) -> Self {
        Named { name: name.into(), inner }
    }

    fn named(&self, e: io::Error) -> io::Error {
        if e.get_ref().is_some_and(|inner| inner.is::<WriteError>()) {
            return e;
        }
        io::Error::new(e.kind(), WriteError { file: self.name.clone(), source: e })
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.inner.write(data).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}

/// Standard output that treats a closed pipe as "nobody is reading any more": the scan goes on and the
/// other outputs are still written, as `tojimari scan ... | head` expects.
#[derive(Default)]
struct Stdout {
    closed: bool,
    buf: Vec<u8>,
}

impl Write for Stdout {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if !self.closed {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed || self.buf.is_empty() {
            self.buf.clear();
            return Ok(());
        }
        let mut drawn = crate::progress::terminal();
        crate::progress::clear_line(&mut drawn);
        let mut out = io::stdout().lock();
        let res = out.write_all(&self.buf).and_then(|()| out.flush());
        self.buf.clear();
        match res {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("tojimari-outputs-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self, name: &str) -> String {
            self.0.join(name).to_string_lossy().into_owned()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn want(option: &str, format: Format, path: &str) -> Wanted {
        Wanted { format, dest: Dest::File(path.to_string()), option: option.to_string() }
    }

    #[test]
    fn two_formats_to_one_file_name_both_options() {
        let dir = Scratch::new("same");
        let f = dir.path("out.txt");
        let e = check_distinct(&[want("-oN", Format::Normal, &f), want("-oX", Format::Xml, &f)], None).unwrap_err();
        assert_eq!(e.message, format!("-oN and -oX both write to {f}"));
        assert_eq!(e.code, 2);
    }

    #[test]
    fn another_spelling_of_the_same_file_is_caught() {
        let dir = Scratch::new("spelling");
        fs::create_dir(dir.0.join("sub")).unwrap();
        let plain = dir.path("out.txt");
        let roundabout = dir.path("sub/../out.txt");
        // Neither exists yet: the canonical directory decides.
        let e =
            check_distinct(&[want("-oN", Format::Normal, &plain), want("-oG", Format::Grepable, &roundabout)], None)
                .unwrap_err();
        assert!(e.message.contains(&plain) && e.message.contains(&roundabout), "{}", e.message);
        // A hard link to an existing file.
        fs::write(&plain, "").unwrap();
        let link = dir.path("link.txt");
        fs::hard_link(&plain, &link).unwrap();
        assert!(check_distinct(&[want("-oN", Format::Normal, &plain), want("-oX", Format::Xml, &link)], None).is_err());
        // Two different files are fine.
        let other = dir.path("other.txt");
        assert!(check_distinct(&[want("-oN", Format::Normal, &plain), want("-oX", Format::Xml, &other)], None).is_ok());
    }

    #[test]
    fn dev_null_may_take_every_format() {
        let w = [want("-oN", Format::Normal, "/dev/null"), want("-oX", Format::Xml, "/dev/null")];
        assert!(check_distinct(&w, None).is_ok());
    }

    #[test]
    fn a_file_that_is_standard_output_is_refused() {
        let dir = Scratch::new("stdout");
        let f = dir.path("captured.txt");
        fs::write(&f, "").unwrap();
        let id = FileId::of(Path::new(&f));
        let e = check_distinct(&[want("-oX", Format::Xml, &f)], Some(&id)).unwrap_err();
        assert!(e.message.contains("standard output") && e.message.contains("-oX"), "{}", e.message);
    }

    #[test]
    fn a_failed_open_removes_the_files_it_created_and_keeps_existing_ones() {
        let dir = Scratch::new("cleanup");
        let kept = dir.path("kept.nmap");
        fs::write(&kept, "earlier results\n").unwrap();
        fs::create_dir(dir.0.join("base.xml")).unwrap();
        let outputs = [
            (Format::Normal, Dest::File(kept.clone())),
            (Format::Grepable, Dest::File(dir.path("base.gnmap"))),
            (Format::Xml, Dest::File(dir.path("base.xml"))),
            (Format::JsonLines, Dest::File(dir.path("base.jsonl"))),
        ];
        let e = Outputs::open(&outputs).err().expect("a directory cannot be opened as a file");
        assert!(e.message.starts_with(&format!("cannot write {}", dir.path("base.xml"))), "{}", e.message);
        assert!(!Path::new(&dir.path("base.gnmap")).exists(), "the created sibling was left behind");
        assert!(!Path::new(&dir.path("base.jsonl")).exists());
        assert_eq!(fs::read_to_string(&kept).unwrap(), "earlier results\n", "an existing file was truncated");
    }

    #[test]
    fn opening_truncates_existing_files_once_all_opened() {
        let dir = Scratch::new("truncate");
        let old = dir.path("old.txt");
        fs::write(&old, "earlier results\n").unwrap();
        let outputs = Outputs::open(&[(Format::Normal, Dest::File(old.clone()))]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outputs.opened.len(), 2, "normal output to standard output is added");
        assert_eq!(fs::read_to_string(&old).unwrap(), "");
        outputs.discard();
        assert!(Path::new(&old).exists(), "discard removes only files this run created");
    }

    #[test]
    fn write_errors_name_the_file() {
        let mut w = Named::new("/dev/full", File::options().write(true).open("/dev/full").unwrap());
        let e = w.write_all(b"x").and_then(|()| w.flush()).unwrap_err();
        assert!(describe(&e).starts_with("cannot write /dev/full: "), "{}", describe(&e));
        assert_eq!(describe(&io::Error::other("boom")), "writing results failed: boom");
    }
}
