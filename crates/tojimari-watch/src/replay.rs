//! `--pcap FILE` and `--log FILE`: recorded traffic fed through the same detector and outputs
//! as live capture, file after file in the order given, with the times the files carry. A file
//! named `-` is standard input (`journalctl -k | tojimari watch --log -`).
//!
//! pcap/pcapng reading is [`tojimari_scandetect::pcap`]; each file ends with a tick past its last
//! packet, so probes that were never answered count. A truncated or corrupt file stops with
//! an error naming it, after the alerts found before the damage were reported. Both readers
//! hold one record (or line) at a time, within stated limits, so memory stays bounded whatever
//! is fed.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use tojimari_scandetect::firewall_log::{self, LogError, LogOptions, LogStats};
use tojimari_scandetect::pcap::{self, ReplayStats};
use tojimari_scandetect::{Alert, Detector, Timestamp};

use crate::capture;
use crate::error::WatchError;
use crate::notice::Notice;

/// Counts over every replayed file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayTotals {
    /// Packet records (or log lines) read.
    pub records: u64,
    /// Records that were skipped (not IP, too short, not a firewall log line).
    pub skipped: u64,
}

/// Whether `path` names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `path` opened for reading; `-` is standard input.
fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if is_stdin(path) {
        return Ok(Box::new(BufReader::new(io::stdin())));
    }
    File::open(path).map(|file| Box::new(BufReader::new(file)) as Box<dyn BufRead>)
}

/// How a path is named in messages: `-` reads as `<stdin>`.
fn display_name(path: &Path) -> &Path {
    if is_stdin(path) { Path::new("<stdin>") } else { path }
}

/// Replays the capture at `path` (`-`: standard input) into `detector`, handing alerts to `sink` as they come.
pub fn replay_pcap(
    path: &Path,
    detector: &mut Detector,
    totals: &mut ReplayTotals,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), WatchError> {
    let name = display_name(path);
    let reader = open(path).map_err(|source| pcap::PcapError::Open { path: name.to_owned(), source })?;
    let mut stats = ReplayStats::default();
    let result = pcap::replay(reader, name, detector, &mut stats, sink);
    totals.records += stats.packets;
    totals.skipped += stats.skipped;
    result.map_err(WatchError::from)
}

/// Replays the firewall log at `path` (`-`: standard input; [`firewall_log`]: iptables/nftables
/// LOG lines from syslog, the journal or dmesg). Zone-less times are read as UTC in the current
/// year, and dmesg's seconds since boot from this machine's boot time, never after now. A file
/// without a single firewall line is reported to `report`, since the user most likely gave the
/// wrong file; so are stamps that could not be placed in time.
pub fn replay_log(
    path: &Path,
    detector: &mut Detector,
    totals: &mut ReplayTotals,
    sink: &mut dyn FnMut(Alert),
    report: &mut dyn FnMut(Notice),
) -> Result<(), WatchError> {
    let now = capture::now();
    let options = LogOptions { year: now.to_civil().0, utc_offset: 0, boot_time: boot_time(now), now };
    let name = display_name(path);
    let reader = open(path).map_err(|source| LogError::Open { path: name.to_owned(), source })?;
    let mut stats = LogStats::default();
    let result = firewall_log::replay_log(reader, name, &options, detector, &mut stats, sink);
    totals.records += stats.lines;
    totals.skipped += stats.malformed + stats.unknown + stats.outbound + stats.unplaced;
    if stats.unplaced > 0 {
        report(Notice::UnplacedLogLines {
            file: name.to_owned(),
            skipped: stats.unplaced,
            boot_time_known: options.boot_time.is_some(),
        });
    }
    if result.is_ok() && stats.inbound == 0 {
        report(Notice::NoFirewallLines {
            file: name.to_owned(),
            lines: stats.lines,
            unknown: stats.unknown,
            malformed: stats.malformed,
            outbound: stats.outbound,
        });
    }
    result.map_err(WatchError::from)
}

/// This machine's boot time: `btime` in `/proc/stat`, else `now` less `/proc/uptime`.
fn boot_time(now: Timestamp) -> Option<Timestamp> {
    let from_stat = std::fs::read_to_string("/proc/stat").ok().and_then(|text| boot_time_from_stat(&text));
    from_stat.or_else(|| boot_time_from_uptime(&std::fs::read_to_string("/proc/uptime").ok()?, now))
}

/// `btime SECONDS` of `/proc/stat`.
fn boot_time_from_stat(stat: &str) -> Option<Timestamp> {
    let secs = stat.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse().ok()?;
    Some(Timestamp::from_secs(secs))
}

/// `now` less the first figure of `/proc/uptime` (`SECONDS.FRACTION IDLE`).
fn boot_time_from_uptime(uptime: &str, now: Timestamp) -> Option<Timestamp> {
    let secs: f64 = uptime.split_ascii_whitespace().next()?.parse().ok()?;
    if !(0.0..1e10).contains(&secs) {
        return None;
    }
    let up = Duration::from_secs_f64(secs);
    now.as_micros().checked_sub(u64::try_from(up.as_micros()).ok()?).map(Timestamp::from_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_time_from_proc_stat_and_uptime() {
        let stat = "cpu  1 2 3\nintr 5\nbtime 1732269600\nprocesses 9\n";
        assert_eq!(boot_time_from_stat(stat), Some(Timestamp::from_secs(1_732_269_600)));
        assert_eq!(boot_time_from_stat("cpu 1 2 3\n"), None);
        let now = Timestamp::from_secs(1_732_273_200);
        assert_eq!(
            boot_time_from_uptime("3600.50 7000.00\n", now),
            Some(Timestamp::from_micros(1_732_269_599_500_000))
        );
        assert_eq!(boot_time_from_uptime("nonsense", now), None);
        assert_eq!(boot_time_from_uptime("-5 1", now), None);
    }

    #[test]
    fn dash_is_standard_input() {
        assert!(is_stdin(Path::new("-")));
        assert!(!is_stdin(Path::new("./-")));
        assert_eq!(display_name(Path::new("-")), Path::new("<stdin>"));
    }
}
