//! `--pcap FILE` replay: reads a pcap or pcapng capture and feeds every frame to a
//! [`Detector`], in file order, with the capture timestamps.
//!
//! Link types: Ethernet, Linux cooked v1/v2 (`tcpdump -i any`), raw IP and BSD loopback (see
//! [`LinkType::from_linktype`]). A truncated or corrupt file stops the replay with a
//! [`PcapError`] naming the file and the index of the packet that could not be read; alerts
//! found before it are kept (they went to the sink already, and [`replay_file`] returns them
//! next to the error). Frames that are not IP, or too short, are counted and skipped.
//!
//! Packet records are read raw and checked here, because pcap-file 2.0's checked reader
//! rejects every packet longer than the snap length (its `orig_len > snaplen` test), which
//! is exactly what `tcpdump -s 128` writes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, TsResolution};

use crate::alert::Alert;
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
    #[error("{path}: not a pcap or pcapng file: {source}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        source: pcap_file::PcapError,
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
    #[error("{path}: packet {index}: truncated or corrupt capture: {reason}")]
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
/// probes count. `stats` is filled in also when an error stops the replay.
pub fn replay<R: BufRead>(
    mut reader: R,
    path: &Path,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), PcapError> {
    let magic = reader.fill_buf().map_err(|source| PcapError::Open { path: path.to_owned(), source })?;
    let pcapng = magic.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]);
    let result = if pcapng {
        replay_pcapng(reader, path, detector, stats, sink)
    } else {
        replay_pcap(reader, path, detector, stats, sink)
    };
    // Flush: probes still waiting for an answer at the end of the file count as unanswered.
    if let Some(last) = stats.last {
        let end = last.plus(detector.config().answer_timeout).plus(Duration::from_secs(1));
        detector.tick(end).into_iter().for_each(&mut *sink);
    }
    result
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

fn link_of(datalink: DataLink, path: &Path) -> Result<LinkType, PcapError> {
    let number = u32::from(datalink);
    LinkType::from_linktype(number).ok_or(PcapError::LinkType { path: path.to_owned(), linktype: number })
}

fn replay_pcap<R: Read>(
    reader: R,
    path: &Path,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), PcapError> {
    let mut pcap = PcapReader::new(reader).map_err(|source| PcapError::Header { path: path.to_owned(), source })?;
    let header = pcap.header();
    let link = link_of(header.datalink, path)?;
    let nanos = header.ts_resolution == TsResolution::NanoSecond;
    let mut index = 0u64;
    while let Some(record) = pcap.next_raw_packet() {
        let corrupt = |reason: String| PcapError::Packet { path: path.to_owned(), index, reason };
        let raw = record.map_err(|e| corrupt(e.to_string()))?;
        let frac = u64::from(raw.ts_frac);
        let micros = if nanos { frac / 1000 } else { frac };
        if micros >= 1_000_000 {
            return Err(corrupt(format!("timestamp fraction {frac} out of range")));
        }
        if usize::try_from(raw.incl_len).ok() != Some(raw.data.len()) {
            return Err(corrupt(format!("record length {} but {} bytes", raw.incl_len, raw.data.len())));
        }
        let ts = Timestamp::from_micros(u64::from(raw.ts_sec) * 1_000_000 + micros);
        feed(&raw.data, link, ts, detector, stats, sink);
        index += 1;
    }
    Ok(())
}

fn replay_pcapng<R: Read>(
    reader: R,
    path: &Path,
    detector: &mut Detector,
    stats: &mut ReplayStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), PcapError> {
    let mut ng = PcapNgReader::new(reader).map_err(|source| PcapError::Header { path: path.to_owned(), source })?;
    let mut index = 0u64;
    // Link types of the interfaces of the current section, in order (the block borrows the
    // reader, so the reader's own list cannot be consulted while holding it).
    let mut interfaces: Vec<DataLink> = Vec::new();
    while let Some(block) = ng.next_block() {
        let corrupt = |reason: String| PcapError::Packet { path: path.to_owned(), index, reason };
        let block = block.map_err(|e| corrupt(e.to_string()))?;
        let (data, ts, linktype) = match &block {
            Block::SectionHeader(_) => {
                interfaces.clear();
                continue;
            }
            Block::InterfaceDescription(idb) => {
                interfaces.push(idb.linktype);
                continue;
            }
            Block::EnhancedPacket(epb) => {
                let Some(linktype) = usize::try_from(epb.interface_id).ok().and_then(|i| interfaces.get(i)) else {
                    return Err(corrupt(format!("no interface {}", epb.interface_id)));
                };
                (epb.data.as_ref(), Timestamp::from_duration(epb.timestamp), *linktype)
            }
            Block::SimplePacket(spb) => {
                let Some(linktype) = interfaces.first() else {
                    return Err(corrupt("simple packet before any interface".into()));
                };
                (spb.data.as_ref(), stats.last.unwrap_or_default(), *linktype)
            }
            _ => continue,
        };
        let link = link_of(linktype, path)?;
        feed(data, link, ts, detector, stats, sink);
        index += 1;
    }
    Ok(())
}
