//! `--pcap FILE` and `--log FILE`: recorded traffic fed through the same detector and outputs
//! as live capture, file after file in the order given, with the times the files carry.
//!
//! pcap/pcapng reading is [`tojimari_detect::pcap`]; each file ends with a tick past its last
//! packet, so probes that were never answered count. A truncated or corrupt file stops with
//! an error naming it, after the alerts found before the damage were reported.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;

use tojimari_detect::firewall_log::{self, LogError, LogOptions, LogStats};
use tojimari_detect::pcap::{self, ReplayStats};
use tojimari_detect::{Alert, Detector, Timestamp};

use crate::capture;
use crate::error::WatchError;

/// Counts over every replayed file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayTotals {
    /// Packet records (or log lines) read.
    pub records: u64,
    /// Records that were skipped (not IP, too short, not a firewall log line).
    pub skipped: u64,
}

/// Replays the capture at `path` into `detector`, handing alerts to `sink` as they come.
pub fn replay_pcap(
    path: &Path,
    detector: &mut Detector,
    totals: &mut ReplayTotals,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), WatchError> {
    let file = File::open(path).map_err(|source| pcap::PcapError::Open { path: path.to_owned(), source })?;
    let mut stats = ReplayStats::default();
    let result = pcap::replay(BufReader::new(file), path, detector, &mut stats, sink);
    totals.records += stats.packets;
    totals.skipped += stats.skipped;
    result.map_err(WatchError::from)
}

/// Replays the firewall log at `path` ([`firewall_log`]: iptables/nftables LOG lines from
/// syslog, the journal or dmesg). Zone-less times are read as UTC in the current year, and
/// dmesg's seconds since boot from this machine's boot time. A file without a single
/// firewall line is reported on `notes`, since the user most likely gave the wrong file.
pub fn replay_log(
    path: &Path,
    detector: &mut Detector,
    totals: &mut ReplayTotals,
    sink: &mut dyn FnMut(Alert),
    notes: &mut dyn Write,
) -> Result<(), WatchError> {
    let now = capture::now();
    let options =
        LogOptions { year: now.to_civil().0, utc_offset: 0, boot_time: boot_time().unwrap_or(Timestamp::EPOCH) };
    let file = File::open(path).map_err(|source| LogError { path: path.to_owned(), line: 0, source })?;
    let mut stats = LogStats::default();
    let result = firewall_log::replay_log(BufReader::new(file), path, &options, detector, &mut stats, sink);
    totals.records += stats.lines;
    totals.skipped += stats.malformed + stats.unknown + stats.outbound;
    if result.is_ok() && stats.inbound == 0 {
        let _ = writeln!(
            notes,
            "warning: {}: no inbound firewall LOG lines among {} lines ({} in unknown formats, {} malformed, {} outbound)",
            path.display(),
            stats.lines,
            stats.unknown,
            stats.malformed,
            stats.outbound
        );
    }
    result.map_err(WatchError::from)
}

/// This machine's boot time, from `btime` in `/proc/stat`.
fn boot_time() -> Option<Timestamp> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let secs = stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()?;
    Some(Timestamp::from_secs(secs))
}
