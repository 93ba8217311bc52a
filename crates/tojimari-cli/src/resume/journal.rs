//! The results journal beside a checkpoint (`FILE.hosts`): the finished hosts, so that a resumed scan can
//! write its outputs whole. It is tojimari's JSON Lines (`-oJ`, written by
//! [`tojimari_output::JsonLinesSink`]) without the summary line, read back by the store's JSON Lines importer
//! ([`tojimari_store::import::jsonl::Reader`]): the one serialization of a host report both ways.
//!
//! Hosts are kept in memory until the first checkpoint (a scan that ends sooner writes nothing), then
//! appended to the file as they finish. Every byte goes through a SHA-256 whose value at a group boundary
//! the checkpoint keeps, with the length: a resumed scan cuts the journal back to that length (the hosts
//! of a group not finished are scanned again) and refuses it when those bytes differ.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ring::digest::{Context, SHA256};
use tojimari_core::report::HostReport;
use tojimari_store::import::Limits;
use tojimari_store::import::jsonl::Reader;
use tojimari_store::import::nmap_xml::Record;

use crate::resume::checkpoint::hex;

/// What the journal's reader needs after the kept bytes to see a whole file (never written to disk).
const CLOSING_LINE: &[u8] =
    b"\n{\"type\":\"summary\",\"end\":0.0,\"elapsed\":0.0,\"hosts_up\":0,\"hosts_down\":0,\"hosts_total\":0,\"exit\":\"success\"}\n";

enum Out {
    Memory(Vec<u8>),
    File(File),
}

/// The journal being written: in memory until [`JournalFile::sync`] first puts it on disk.
pub struct JournalFile {
    path: PathBuf,
    out: Out,
    bytes: u64,
    hash: Context,
}

impl JournalFile {
    /// A new scan's journal, to be written at `path` once it is synced.
    pub fn fresh(path: PathBuf) -> JournalFile {
        JournalFile { path, out: Out::Memory(Vec::new()), bytes: 0, hash: Context::new(&SHA256) }
    }

    /// A resumed scan's journal: the file at `path` cut back to `keep` bytes (of digest state `hash`; created
    /// when `keep` is 0 and it is missing).
    pub fn continuing(path: PathBuf, keep: u64, hash: Context) -> io::Result<JournalFile> {
        let mut file = lock(&path)?;
        file.set_len(keep)?;
        file.seek(SeekFrom::End(0))?;
        file.sync_all()?;
        Ok(JournalFile { path, out: Out::File(file), bytes: keep, hash })
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Puts the journal on disk (the first time: creates the file with what was kept in memory) and syncs it.
    pub fn sync(&mut self) -> io::Result<()> {
        if let Out::Memory(kept) = &self.out {
            let mut file = lock(&self.path)?;
            file.set_len(0)?;
            file.write_all(kept)?;
            self.out = Out::File(file);
            crate::resume::file::sync_directory(&self.path)?;
        }
        match &self.out {
            Out::File(file) => file.sync_data(),
            Out::Memory(_) => Ok(()),
        }
    }

    /// Its length and the SHA-256 of its bytes so far, in hex.
    pub fn mark(&self) -> (u64, String) {
        (self.bytes, hex(self.hash.clone().finish().as_ref()))
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.out {
            Out::Memory(kept) => kept.extend_from_slice(data),
            Out::File(file) => file.write_all(data)?,
        }
        self.hash.update(data);
        self.bytes += data.len() as u64;
        Ok(())
    }
}

/// Opens the journal at `path` for writing (created when missing, not emptied) with an exclusive lock, held
/// while the run keeps it open: two scans never share a checkpoint (the default path is the same for every
/// scan started in one directory). A journal locked by another process is an error of kind `WouldBlock`.
pub fn lock(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "another tojimari scan is using this checkpoint (give this one its own --checkpoint FILE)",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// A writer into a shared [`JournalFile`] (what the JSON Lines sink writes to).
#[derive(Clone)]
pub struct Shared(pub Arc<Mutex<JournalFile>>);

impl Write for Shared {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut journal = self.0.lock().map_err(|_| io::Error::other("the journal's lock was poisoned"))?;
        journal.append(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The journal's first `bytes` bytes, read back.
pub struct Kept {
    /// Its digest state (for the bytes appended next).
    pub hash: Context,
    pub sha256: String,
}

/// Digests the first `bytes` bytes of the journal at `path`; an error if it is shorter.
pub fn digest_prefix(path: &Path, bytes: u64) -> io::Result<Kept> {
    let mut hash = Context::new(&SHA256);
    if bytes == 0 {
        let sha256 = hex(hash.clone().finish().as_ref());
        return Ok(Kept { hash, sha256 });
    }
    let mut file = File::open(path)?.take(bytes);
    let mut buf = vec![0; 1 << 16];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        read += n as u64;
    }
    if read < bytes {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{read} of {bytes} bytes")));
    }
    let sha256 = hex(hash.clone().finish().as_ref());
    Ok(Kept { hash, sha256 })
}

/// Reads the hosts of the journal's first `bytes` bytes, in order, handing each to `visit`; returns how many.
/// A journal that is not what tojimari wrote is an error saying where.
pub fn read_hosts(path: &Path, bytes: u64, visit: &mut dyn FnMut(HostReport) -> io::Result<()>) -> io::Result<u64> {
    if bytes == 0 {
        return Ok(0);
    }
    let kept = BufReader::new(File::open(path)?.take(bytes));
    let mut hosts = 0;
    for record in Reader::new(kept.chain(CLOSING_LINE), Limits::default()) {
        match record.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))? {
            Record::Host(host) => {
                hosts += 1;
                visit(*host)?;
            }
            Record::Run { .. } | Record::RunEnd { .. } => {}
        }
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::time::{Duration, UNIX_EPOCH};
    use tojimari_core::report::{HostState, HostTimes, PortResult, RunInfo};
    use tojimari_core::{PortState, Protocol, Reason, Sink};
    use tojimari_output::JsonLinesSink;

    fn host(last: u8, open: u16) -> HostReport {
        let addr: IpAddr = format!("198.19.0.{last}").parse().unwrap();
        let mut ports: Vec<PortResult> =
            (1..=40).map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset)).collect();
        ports[usize::from(open) - 1] = PortResult::new(Protocol::Tcp, open, PortState::Open, Reason::SynAck);
        HostReport {
            addr,
            hostnames: vec![],
            state: HostState::Up,
            state_reason: Reason::UserSet,
            state_reason_ttl: 0,
            ports,
            start: UNIX_EPOCH + Duration::from_secs(1_795_311_431),
            end: UNIX_EPOCH + Duration::from_secs(1_795_311_432),
            // The timing comes back whole (XML's <times> of a replayed host are the first run's).
            times: Some(HostTimes {
                srtt: Duration::from_micros(1875),
                rttvar: Duration::from_micros(743),
                timeout: Duration::from_millis(100),
            }),
            complete: true,
            timed_out: false,
            os: None,
            trace: None,
        }
    }

    #[test]
    fn hosts_written_by_the_json_lines_sink_read_back_equal_from_a_cut_journal() {
        let dir = std::env::temp_dir().join(format!("tjr-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scan.resume.hosts");
        let journal = Arc::new(Mutex::new(JournalFile::fresh(path.clone())));
        let mut sink = JsonLinesSink::new(Box::new(Shared(journal.clone())));
        let run = RunInfo {
            args: "tojimari scan".into(),
            start: UNIX_EPOCH,
            version: "x".into(),
            scans: vec![],
            display: Default::default(),
        };
        sink.run_start(&run).unwrap();
        sink.host_done(&host(1, 22)).unwrap();
        sink.host_done(&host(2, 7)).unwrap();
        assert!(!path.exists(), "kept in memory until synced");
        journal.lock().unwrap().sync().unwrap();
        let (bytes, sha) = journal.lock().unwrap().mark();
        sink.host_done(&host(3, 9)).unwrap();
        let mut seen = Vec::new();
        let mut keep = |h: HostReport| {
            seen.push(h);
            Ok(())
        };
        assert_eq!(read_hosts(&path, bytes, &mut keep).unwrap(), 2);
        // Compared as the store would keep them (HostReport has no PartialEq).
        let json = |h: &HostReport| serde_json::to_string(h).unwrap();
        assert_eq!(seen.iter().map(json).collect::<Vec<_>>(), [json(&host(1, 22)), json(&host(2, 7))]);
        let kept = digest_prefix(&path, bytes).unwrap();
        assert_eq!(kept.sha256, sha);
        assert!(digest_prefix(&path, std::fs::metadata(&path).unwrap().len() + 1).is_err());

        // Held by this journal: another cannot take it.
        assert_eq!(lock(&path).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // Continued: cut back to the mark, appended, read whole.
        drop(sink);
        drop(journal);
        let journal = Arc::new(Mutex::new(JournalFile::continuing(path.clone(), bytes, kept.hash).unwrap()));
        let mut sink = JsonLinesSink::new(Box::new(Shared(journal.clone())));
        sink.host_done(&host(4, 1)).unwrap();
        let (bytes, sha) = journal.lock().unwrap().mark();
        assert_eq!(digest_prefix(&path, bytes).unwrap().sha256, sha);
        let mut seen = Vec::new();
        let mut keep = |h: HostReport| {
            seen.push(h.addr.to_string());
            Ok(())
        };
        assert_eq!(read_hosts(&path, bytes, &mut keep).unwrap(), 3);
        assert_eq!(seen, ["198.19.0.1", "198.19.0.2", "198.19.0.4"]);

        // A journal edited is an error, not a panic.
        std::fs::write(&path, b"{\"type\":\"run\"}\n{not json\n").unwrap();
        assert!(read_hosts(&path, 20, &mut |_| Ok(())).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
