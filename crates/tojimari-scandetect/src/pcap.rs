//! `--pcap FILE` replay: reads a pcap or pcapng capture ([`crate::capture_file`]) and feeds every
//! frame to a [`Detector`], in file order, with the capture timestamps.
//!
//! Link types: Ethernet, Linux cooked v1/v2 (`tcpdump -i any`), raw IP and BSD loopback (see
//! [`LinkType::from_linktype`]). A truncated or corrupt file, or a record past the size limits
//! ([`MAX_PACKET`], [`crate::capture_file::MAX_BLOCK`]), stops the replay with a [`PcapError`]
//! naming the file and the index of the packet that could not be read; alerts found before it
//! are kept (they went to the sink already, and [`replay_file`] returns them next to the error).
//! Frames that are not IP, or too short, are counted and skipped.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alert::Alert;
pub use crate::capture_file::MAX_PACKET;
use crate::capture_file::{CaptureReader, FormatError};
use crate::detector::Detector;
use crate::summary::{LinkType, summarize};
use crate::time::Timestamp;

/// Why a capture could not be (fully) replayed.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// The file could not be opened or read at all.
    #[error("{path}: cannot read: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not start like a pcap or pcapng file.
    #[error(
        "{path}: not a pcap or pcapng file: {reason} (hint: give a capture written by tcpdump -w, dumpcap or Wireshark)"
    )]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with its first bytes.
        reason: String,
    },
    /// The capture's link type is not one the detector reads.
    #[error("{path}: unsupported link type {linktype} (Ethernet, Linux cooked, raw IP and loopback are supported)")]
    LinkType {
        /// The file.
        path: PathBuf,
        /// The link-type number.
        linktype: u32,
    },
    /// Packet `index` (0-based) could not be read: the file is truncated or corrupt there.
    #[error(
        "{path}: packet {index}: truncated or corrupt capture: {reason} (hint: packets of at most 256 KiB are read; \
         the alerts before this packet were reported)"
    )]
    Packet {
        /// The file.
        path: PathBuf,
        /// The index of the first unreadable packet record (or pcapng block).
        index: u64,
        /// What was wrong.
        reason: String,
    },
}

/// Counts from one replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Packet records read.
    pub packets: u64,
    /// Records that were not IP or too short to summarise.
    pub skipped: u64,
    /// Timestamp of the last packet (the replay ends with a `tick` past it).
    pub last: Option<Timestamp>,
}

/// What [`replay_file`] found: all alerts up to the end or up to the error.
#[derive(Debug)]
pub struct Replay {
    /// Alerts in the order raised.
    pub alerts: Vec<Alert>,
    /// Counts.
    pub stats: ReplayStats,
    /// Why the replay stopped early, if it did.
    pub error: Option<PcapError>,
}

/// Replays the capture at `path` into `detector`, collecting alerts.
pub fn replay_file(path: &Path, detector: &mut Detector) -> Replay {
    let mut alerts = Vec::new();
    let mut stats = ReplayStats::default();
    let error = File::open(path)
        .map_err(|source| PcapError::Open { path: path.to_owned(), source })
        .and_then(|file| replay(BufReader::new(file), path, detector, &mut stats, &mut |a| alerts.push(a)))
        .err();
    Replay { alerts, stats, error }
}

/// Replays a capture from `reader` (`path` only names it in errors), handing each alert to
/// `sink` as soon as it is raised. Ends with a tick past the last packet so that unanswered
/// probes count. `stats` is filled in also when an error stops the replay. Memory stays bounded
/// whatever the input: one record at a time, each within the size limits.
pub fn replay<R: Read>(
    reader: R,
    path: &Path,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), PcapError> {
    let result = replay_frames(reader, path, detector, stats, sink);
    // Flush: probes still waiting for an answer at the end of the file count as unanswered.
    if let Some(last) = stats.last {
        let end = last.plus(detector.config().answer_timeout).plus(Duration::from_secs(1));
        detector.tick(end).into_iter().for_each(&mut *sink);
    }
    result
}

fn replay_frames<R: Read>(
    reader: R,
    path: &Path,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), PcapError> {
    let error = |e: FormatError| match e {
        FormatError::Header(reason) => PcapError::Header { path: path.to_owned(), reason },
        FormatError::Packet { index, reason } => PcapError::Packet { path: path.to_owned(), index, reason },
        FormatError::Io(source) => PcapError::Open { path: path.to_owned(), source },
    };
    let mut capture = CaptureReader::new(reader).map_err(error)?;
    while let Some(frame) = capture.next_frame().map_err(error)? {
        let link = LinkType::from_linktype(frame.linktype)
            .ok_or(PcapError::LinkType { path: path.to_owned(), linktype: frame.linktype })?;
        // A pcapng simple packet block has no time of its own: it happened no earlier than the last.
        let ts = frame.ts.or(stats.last).unwrap_or_default();
        feed(frame.data, link, ts, detector, stats, sink);
    }
    Ok(())
}

fn feed(
    frame: &[u8],
    link: LinkType,
    ts: Timestamp,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) {
    stats.packets += 1;
    stats.last = Some(stats.last.map_or(ts, |last| last.max(ts)));
    match summarize(frame, link, ts) {
        Some(pkt) => detector.observe(&pkt).into_iter().for_each(sink),
        None => stats.skipped += 1,
    }
}
