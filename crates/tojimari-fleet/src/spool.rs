//! The worker's spool: a chunk's results written to a file under the worker's state directory before they
//! are committed, and removed once committed. While PostgreSQL is away the results wait there; a worker
//! that is restarted commits what its spool holds before it takes new work. Nothing scanned is lost.
//!
//! One file per chunk, `spool/{scan}-{chunk}.json`, written whole to a temporary name, synced, then
//! renamed: a file is there complete or not at all. Files are read up to [`MAX_BYTES`].

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tojimari_core::HostReport;

/// A spooled file longer than this is refused.
pub const MAX_BYTES: u64 = 1 << 30;

/// A chunk's results waiting for their commit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spooled {
    pub scan_id: i64,
    pub chunk: u64,
    pub probes: u64,
    pub hosts: Vec<HostReport>,
}

/// The spool directory.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool under `state_dir`, created if missing.
    pub fn open(state_dir: &Path) -> io::Result<Spool> {
        let dir = state_dir.join("spool");
        fs::create_dir_all(&dir)?;
        Ok(Spool { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, scan_id: i64, chunk: u64) -> PathBuf {
        self.dir.join(format!("{scan_id}-{chunk}.json"))
    }

    /// Writes `spooled` (replacing an older file of the same chunk).
    pub fn put(&self, spooled: &Spooled) -> io::Result<PathBuf> {
        let path = self.path(spooled.scan_id, spooled.chunk);
        let tmp = path.with_extension("tmp");
        {
            let mut file = fs::File::create(&tmp)?;
            serde_json::to_writer(io::BufWriter::new(&mut file), spooled)?;
            file.flush()?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Removes the file of a committed chunk (missing is fine).
    pub fn remove(&self, scan_id: i64, chunk: u64) -> io::Result<()> {
        match fs::remove_file(self.path(scan_id, chunk)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The spooled chunks, oldest name first. A file that cannot be read is returned as an error with its
    /// path (and left in place for a person to look at).
    pub fn pending(&self) -> io::Result<Vec<Result<Spooled, (PathBuf, String)>>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        Ok(paths.into_iter().map(|p| read(&p).map_err(|e| (p, e))).collect())
    }
}

fn read(path: &Path) -> Result<Spooled, String> {
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > MAX_BYTES {
        return Err(format!("{len} bytes, more than {MAX_BYTES}"));
    }
    serde_json::from_reader(io::BufReader::new(io::Read::take(file, MAX_BYTES))).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spooled_chunks_come_back_until_removed() {
        let dir = std::env::temp_dir().join(format!("tjf-spool-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let spool = Spool::open(&dir).unwrap();
        assert!(spool.pending().unwrap().is_empty());
        spool.put(&Spooled { scan_id: 5, chunk: 2, probes: 10, hosts: vec![] }).unwrap();
        spool.put(&Spooled { scan_id: 5, chunk: 1, probes: 20, hosts: vec![] }).unwrap();
        let pending: Vec<(i64, u64, u64)> =
            spool.pending().unwrap().into_iter().map(|s| s.map(|s| (s.scan_id, s.chunk, s.probes)).unwrap()).collect();
        assert_eq!(pending, [(5, 1, 20), (5, 2, 10)]);
        fs::write(spool.dir().join("9-9.json"), "{not json").unwrap();
        assert!(spool.pending().unwrap().iter().any(Result::is_err));
        spool.remove(5, 1).unwrap();
        spool.remove(5, 1).unwrap();
        fs::remove_file(spool.dir().join("9-9.json")).unwrap();
        assert_eq!(spool.pending().unwrap().len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }
}
