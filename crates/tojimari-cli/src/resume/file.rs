//! The checkpoint's file I/O: written atomically (a temporary file in the same directory, fsynced, renamed
//! over the old one, the directory fsynced), so a crash at any moment leaves the old checkpoint or the new
//! one whole; read with a bound; removed with its journal when the scan completes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The journal beside checkpoint `path`: `PATH.hosts`.
pub fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".hosts");
    PathBuf::from(name)
}

/// The directory `path` is in (`.` for a bare name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically (see the module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp{}", std::process::id()));
    let temp = directory(path).join(temp_name);
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_directory(path)
}

/// Makes a rename or a creation in `path`'s directory durable.
pub fn sync_directory(path: &Path) -> io::Result<()> {
    File::open(directory(path))?.sync_all()
}

/// Reads at most `max` bytes of `path`; a longer file is an error of kind `FileTooLarge`.
pub fn read_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("larger than {} MiB", max >> 20)));
    }
    Ok(bytes)
}

/// Removes the checkpoint and its journal (a missing one is fine).
pub fn remove(path: &Path) -> io::Result<()> {
    for file in [path.to_path_buf(), journal_path(path)] {
        match fs::remove_file(&file) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("tjr-file-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scan.resume");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("scan.resume")]);
        assert_eq!(read_bounded(&path, 6).unwrap(), b"second");
        assert_eq!(read_bounded(&path, 5).unwrap_err().kind(), io::ErrorKind::FileTooLarge);
        fs::write(journal_path(&path), "x").unwrap();
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir(&dir).unwrap();
        assert_eq!(journal_path(Path::new("./t.resume")), PathBuf::from("./t.resume.hosts"));
    }
}
