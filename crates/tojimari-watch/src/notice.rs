//! What `watch` tells the user while it runs, as values: the caller (the CLI) prints them in its one format
//! ([`tojimari_core::diagnostic::render`]). Alerts also go to JSON Lines and syslog ([`crate::output`]); a
//! [`Notice::Scan`] is only their readable line.

use std::fmt;
use std::path::PathBuf;

use tojimari_core::diagnostic::{Diagnostic, Level};

use crate::error::WatchError;

/// One message of a `watch` run.
#[derive(Debug)]
pub enum Notice {
    /// Capture runs (not said when quiet).
    Watching {
        /// What is captured: interface names, or `all interfaces`.
        interfaces: Vec<String>,
        /// The watched addresses and networks.
        targets: Vec<String>,
    },
    /// A scan's readable line ([`tojimari_scandetect::Alert::line`]): its start or an update (`ended` false),
    /// or its closing record. Not said when quiet.
    Scan { line: String, ended: bool },
    /// `--syslog`, but `/dev/log` could not be reached: alerts are not sent to syslog.
    SyslogUnreachable { path: String, error: std::io::Error },
    /// Sending to syslog failed; alerts are no longer sent there.
    SyslogFailed { error: std::io::Error },
    /// A captured interface went down.
    InterfaceDown { interface: String },
    /// A captured interface is up again.
    InterfaceUp { interface: String },
    /// The kernel dropped packets on an interface (the capture ring was full).
    KernelDrops { interface: String, dropped: u64 },
    /// An interface is no longer captured; the others are.
    InterfaceGone { interface: String, reason: String },
    /// A replayed file failed; the other files are replayed.
    FileFailed(WatchError),
    /// Firewall log lines with a dmesg uptime stamp that could not be placed in time were skipped.
    UnplacedLogLines {
        file: PathBuf,
        skipped: u64,
        /// Whether this machine's boot time is known (then the lines come from an earlier boot).
        boot_time_known: bool,
    },
    /// A `--log` file without a single inbound firewall line: most likely the wrong file.
    NoFirewallLines { file: PathBuf, lines: u64, unknown: u64, malformed: u64, outbound: u64 },
    /// The last message of a replay.
    ReplaySummary { records: u64, skipped: u64, scans: u64, alerts: u64, sources: usize, memory: usize },
    /// The last message of a live capture.
    LiveSummary { packets: u64, scans: u64, alerts: u64, sources: usize, kernel_drops: u64, memory: usize },
}

impl Diagnostic for Notice {
    fn level(&self) -> Level {
        match self {
            Notice::Scan { ended: false, .. }
            | Notice::SyslogUnreachable { .. }
            | Notice::SyslogFailed { .. }
            | Notice::InterfaceDown { .. }
            | Notice::KernelDrops { .. }
            | Notice::InterfaceGone { .. }
            | Notice::UnplacedLogLines { .. }
            | Notice::NoFirewallLines { .. } => Level::Warning,
            Notice::FileFailed(_) => Level::Error,
            Notice::Watching { .. }
            | Notice::Scan { ended: true, .. }
            | Notice::InterfaceUp { .. }
            | Notice::ReplaySummary { .. }
            | Notice::LiveSummary { .. } => Level::Note,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Notice::UnplacedLogLines { .. } => Some("`dmesg -T` or `journalctl -k` give wall-clock times".into()),
            Notice::FileFailed(error) => error.hint(),
            _ => None,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Watching { interfaces, targets } => {
                write!(f, "watching {} for scans against {}; Ctrl-C to stop", interfaces.join(", "), targets.join(" "))
            }
            Notice::Scan { line, .. } => f.write_str(line),
            Notice::SyslogUnreachable { path, error } => {
                write!(f, "cannot reach syslog at {path}: {error}; not logging to syslog")
            }
            Notice::SyslogFailed { error } => write!(f, "syslog: {error}; alerts are no longer sent to syslog"),
            Notice::InterfaceDown { interface } => {
                write!(f, "{interface} is down; capture resumes when it comes back up")
            }
            Notice::InterfaceUp { interface } => write!(f, "{interface} is capturing again"),
            Notice::KernelDrops { interface, dropped } => {
                write!(f, "the kernel dropped {dropped} packets on {interface} (capture ring full: not keeping up)")
            }
            Notice::InterfaceGone { interface, reason } => {
                write!(f, "stopped watching {interface}: {reason}; still watching the others")
            }
            Notice::FileFailed(error) => write!(f, "{error}"),
            Notice::UnplacedLogLines { file, skipped, boot_time_known } => write!(
                f,
                "{}: skipped {skipped} firewall line(s) with a dmesg uptime stamp: {}",
                file.display(),
                if *boot_time_known {
                    "they come from an earlier boot (past this machine's uptime)"
                } else {
                    "this machine's boot time is unknown"
                }
            ),
            Notice::NoFirewallLines { file, lines, unknown, malformed, outbound } => write!(
                f,
                "{}: no inbound firewall LOG lines among {lines} lines ({unknown} in unknown formats, {malformed} \
                 malformed, {outbound} outbound)",
                file.display()
            ),
            Notice::ReplaySummary { records, skipped, scans, alerts, sources, memory } => write!(
                f,
                "{records} records replayed ({skipped} skipped), {} reported ({alerts} records), {sources} sources \
                 tracked, detector memory {} KiB",
                scan_count(*scans),
                memory.div_ceil(1024)
            ),
            Notice::LiveSummary { packets, scans, alerts, sources, kernel_drops, memory } => write!(
                f,
                "{packets} packets seen, {} reported ({alerts} records), {sources} sources tracked, {kernel_drops} \
                 kernel drops, detector memory {} KiB",
                scan_count(*scans),
                memory.div_ceil(1024)
            ),
        }
    }
}

/// "1 scan", "3 scans".
fn scan_count(n: u64) -> String {
    format!("{n} scan{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use tojimari_core::diagnostic::render;

    use super::*;

    #[test]
    fn summaries_are_notes_in_the_words_scripts_read() {
        let live =
            Notice::LiveSummary { packets: 48213, scans: 3, alerts: 7, sources: 2, kernel_drops: 0, memory: 9000 };
        assert_eq!(
            render(&live),
            "note: 48213 packets seen, 3 scans reported (7 records), 2 sources tracked, 0 kernel drops, detector \
             memory 9 KiB"
        );
        let replay = Notice::ReplaySummary { records: 10, skipped: 1, scans: 1, alerts: 2, sources: 1, memory: 0 };
        assert_eq!(
            render(&replay),
            "note: 10 records replayed (1 skipped), 1 scan reported (2 records), 1 sources tracked, detector memory 0 \
             KiB"
        );
    }

    #[test]
    fn a_scan_start_warns_and_its_end_is_a_note() {
        let start = Notice::Scan { line: "syn scan from 198.18.0.1".into(), ended: false };
        assert_eq!(render(&start), "warning: syn scan from 198.18.0.1");
        let end = Notice::Scan { line: "syn scan ended (finish) from 198.18.0.1".into(), ended: true };
        assert_eq!(render(&end), "note: syn scan ended (finish) from 198.18.0.1");
        let watching = Notice::Watching { interfaces: vec!["lo".into()], targets: vec!["127.0.0.1".into()] };
        assert_eq!(render(&watching), "note: watching lo for scans against 127.0.0.1; Ctrl-C to stop");
    }

    #[test]
    fn unplaced_lines_carry_a_hint() {
        let notice = Notice::UnplacedLogLines { file: "kern.log".into(), skipped: 2, boot_time_known: false };
        assert_eq!(
            render(&notice),
            "warning: kern.log: skipped 2 firewall line(s) with a dmesg uptime stamp: this machine's boot time is \
             unknown (hint: `dmesg -T` or `journalctl -k` give wall-clock times)"
        );
    }
}
