//! `--log FILE`: iptables/nftables `LOG` lines turned into [`PacketSummary`]s and fed to a
//! [`Detector`] as blocked packets ([`Detector::observe_blocked`]).
//!
//! A logged packet is one the firewall dropped or rejected, so it is evidence of a closed or
//! filtered port: a failed contact, with no answer to wait for. Only inbound lines count
//! (`IN=` set and `OUT=` empty, or both set for forwarded traffic); outbound lines are counted
//! and skipped.
//!
//! Accepted line shapes (the kernel part, `... SRC=... DST=... PROTO=...`, is the same for
//! iptables `-j LOG` and nftables `log`):
//! - syslog / `journalctl -o short`: `Nov 22 10:00:01 host kernel: [1234.567] PREFIX IN=...`;
//!   the year is [`LogOptions::year`] (the year before if that would put the line more than a
//!   day after [`LogOptions::now`]: a December line read in January) and the time is taken as
//!   UTC plus [`LogOptions::utc_offset`] (syslog carries no zone).
//! - ISO 8601 / `journalctl -o short-iso` / rsyslog: `2024-11-22T10:00:01+0100 host kernel: ...`,
//!   with optional fraction and `Z`, `+hh:mm` or `+hhmm`.
//! - `dmesg`: `[ 1234.567890] PREFIX IN=...`: seconds since boot, placed at
//!   [`LogOptions::boot_time`] plus that offset. Never in the future: a stamp that would land
//!   after [`LogOptions::now`] comes from an earlier boot, and such a line, like any stamped line
//!   when the boot time is unknown, is counted as [`LogStats::unplaced`] and skipped.
//! - `dmesg -T`: `[Sun Nov 22 10:00:01 2024] PREFIX IN=...`.
//!
//! Any other line is counted ([`LogStats::unknown`], or [`LogStats::malformed`] when it looks
//! like a firewall line but lacks addresses or a time) and skipped; only an I/O error or a line
//! longer than [`LOG_LIMITS`] allows (64 KiB: kernel lines are far shorter) stops the file. Lines
//! are read one at a time, so a log of any length, or standard input, is read in bounded memory.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tojimari_core::civil::MONTH_ABBREVIATIONS;
use tojimari_core::input::{InputError, Limits, LineReader, Nul};

use crate::alert::Alert;
use crate::detector::Detector;
use crate::summary::{IcmpQuery, PacketSummary, TcpFlags, TcpOptions, TcpSummary, Transport};
use crate::time::Timestamp;

/// A log line: at most 64 KiB (kernel lines are a few hundred bytes), NUL bytes kept (syslog
/// files hold runs of them after a crash), no limit on the number of lines (they are streamed).
pub const LOG_LIMITS: Limits = Limits { max_line: 64 * 1024, max_bytes: None, max_lines: None, nul: Nul::Allow };

/// How far past [`LogOptions::now`] a dmesg stamp may land and still be taken as now: the boot
/// time is known to the second only.
const BOOT_TIME_SLACK: Duration = Duration::from_secs(2);

/// How to read times that lack a year, a zone or an origin. The caller reads the clock and the
/// boot time; parsing stays pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// The year of syslog-style times (`Nov 22 10:00:01`).
    pub year: i64,
    /// Seconds to subtract from zone-less wall-clock times to get UTC (e.g. 3600 for a log
    /// written at UTC+1).
    pub utc_offset: i64,
    /// This machine's boot time, for dmesg's seconds-since-boot; `None` if unknown (such lines are
    /// then [`LogStats::unplaced`]).
    pub boot_time: Option<Timestamp>,
    /// The time the log is read: no line is placed after it.
    pub now: Timestamp,
}

impl Default for LogOptions {
    /// A log read at the very start of 2025, on a machine whose boot time is unknown.
    fn default() -> LogOptions {
        LogOptions { year: 2024, utc_offset: 0, boot_time: None, now: Timestamp::from_secs(1_735_689_600) }
    }
}

/// Direction of a logged packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Arriving (`IN=` set, `OUT=` empty) or forwarded (both set).
    Inbound,
    /// Leaving this host (`IN=` empty).
    Outbound,
}

/// One parsed firewall line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// The packet, as far as the line tells (no TCP options or sequence numbers).
    pub packet: PacketSummary,
    /// The log prefix the rule set (`--log-prefix`), trimmed; may be empty.
    pub prefix: String,
    /// Inbound or outbound.
    pub direction: Direction,
}

/// What one line was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A firewall packet line.
    Record(LogRecord),
    /// It has `SRC=`/`DST=` but lacks something needed (time, addresses, protocol fields).
    Malformed,
    /// A firewall line with a dmesg uptime stamp that cannot be placed in time: the boot time
    /// is unknown, or the stamp would land after [`LogOptions::now`] (it comes from an earlier boot).
    Unplaced,
    /// Anything else.
    Unknown,
}

/// Counts from one log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Lines read.
    pub lines: u64,
    /// Inbound packet lines fed to the detector.
    pub inbound: u64,
    /// Outbound packet lines (skipped).
    pub outbound: u64,
    /// Firewall-looking lines that could not be read (skipped).
    pub malformed: u64,
    /// Lines in no known format (skipped).
    pub unknown: u64,
    /// Firewall lines with a dmesg uptime stamp that could not be placed in time (skipped).
    pub unplaced: u64,
}

/// A log file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be opened.
    #[error("{}: cannot read: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Reading stopped at a line: an I/O error, or a line past [`LOG_LIMITS`].
    #[error("{}:{}: {source} (hint: --log reads text lines of at most 64 KiB, such as `journalctl -k` or /var/log/kern.log)", path.display(), source.line())]
    Input {
        /// The file.
        path: PathBuf,
        /// What went wrong, with the 1-based line.
        source: InputError,
    },
}

/// What [`replay_log_file`] found.
#[derive(Debug)]
pub struct LogReplay {
    /// Alerts in the order raised.
    pub alerts: Vec<Alert>,
    /// Counts.
    pub stats: LogStats,
    /// An I/O error that stopped the file early.
    pub error: Option<LogError>,
}

/// Reads the log at `path` into `detector`.
pub fn replay_log_file(path: &Path, options: &LogOptions, detector: &mut Detector) -> LogReplay {
    let mut alerts = Vec::new();
    let mut stats = LogStats::default();
    let error = match File::open(path) {
        Ok(file) => {
            replay_log(BufReader::new(file), path, options, detector, &mut stats, &mut |a| alerts.push(a)).err()
        }
        Err(source) => Some(LogError::Open { path: path.to_owned(), source }),
    };
    LogReplay { alerts, stats, error }
}

/// Reads log lines from `reader` into `detector`, alerts to `sink` as raised; ends with a
/// tick past the last time seen. Invalid UTF-8 is read lossily; lines are bounded by
/// [`LOG_LIMITS`], so memory stays bounded whatever the input.
pub fn replay_log<R: BufRead>(
    reader: R,
    path: &Path,
    options: &LogOptions,
    detector: &mut Detector,
    stats: &mut LogStats,
    sink: &mut dyn FnMut(Alert),
) -> Result<(), LogError> {
    let mut lines = LineReader::new(reader, LOG_LIMITS);
    let mut last: Option<Timestamp> = None;
    let mut result = Ok(());
    loop {
        let bytes = match lines.next_line() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(source) => {
                // Alerts so far still get their closing tick below.
                result = Err(LogError::Input { path: path.to_owned(), source });
                break;
            }
        };
        stats.lines += 1;
        let line = String::from_utf8_lossy(bytes);
        match parse_line(&line, options) {
            Line::Record(record) if record.direction == Direction::Inbound => {
                stats.inbound += 1;
                last = Some(last.map_or(record.packet.ts, |t| t.max(record.packet.ts)));
                detector.observe_blocked(&record.packet).into_iter().for_each(&mut *sink);
            }
            Line::Record(_) => stats.outbound += 1,
            Line::Malformed => stats.malformed += 1,
            Line::Unknown => stats.unknown += 1,
            Line::Unplaced => stats.unplaced += 1,
        }
    }
    if let Some(last) = last {
        detector.tick(last.plus(detector.config().answer_timeout)).into_iter().for_each(sink);
    }
    result
}

/// Parses one line.
pub fn parse_line(line: &str, options: &LogOptions) -> Line {
    let line = line.trim_end_matches(['\n', '\r']);
    let Some(src_at) = line.find(" SRC=") else { return Line::Unknown };
    if !line.contains(" DST=") {
        return Line::Unknown;
    }
    match parse_record(line, src_at, options) {
        Ok(Some(record)) => Line::Record(record),
        Ok(None) => Line::Malformed,
        Err(Unplaced) => Line::Unplaced,
    }
}

/// A dmesg uptime stamp that cannot be placed in time.
struct Unplaced;

fn parse_record(line: &str, src_at: usize, options: &LogOptions) -> Result<Option<LogRecord>, Unplaced> {
    let Some((ts, rest)) = timestamp(line, options)? else { return Ok(None) };
    Ok(record(line, src_at, ts, rest))
}

fn record(line: &str, src_at: usize, ts: Timestamp, rest: &str) -> Option<LogRecord> {
    // The kernel part starts at the first `IN=`; the prefix is what precedes it after
    // `kernel: [uptime]` (or the dmesg stamp).
    let in_at = line.find("IN=").filter(|&i| i < src_at)?;
    let head = line.get(line.len() - rest.len()..in_at).unwrap_or("");
    let prefix = strip_kernel_tag(head).trim().to_owned();
    let fields = line.get(in_at..)?;
    let mut tokens = fields.split_ascii_whitespace();
    let get = |key: &str| -> Option<&str> { fields.split_ascii_whitespace().find_map(|t| t.strip_prefix(key)) };
    let iface_in = get("IN=").unwrap_or("");
    let iface_out = get("OUT=").unwrap_or("");
    let direction = if iface_in.is_empty() && !iface_out.is_empty() { Direction::Outbound } else { Direction::Inbound };
    let src: IpAddr = get("SRC=")?.parse().ok()?;
    let dst: IpAddr = get("DST=")?.parse().ok()?;
    let ttl: u8 = get("TTL=").or_else(|| get("HOPLIMIT=")).and_then(|v| v.parse().ok()).unwrap_or(0);
    let ip_id = if src.is_ipv4() { get("ID=").and_then(|v| v.parse().ok()) } else { None };
    let proto = get("PROTO=")?;
    let port =
        |key: &str| -> Option<u16> { fields.split_ascii_whitespace().find_map(|t| t.strip_prefix(key))?.parse().ok() };
    let transport = match proto {
        "TCP" => {
            let mut flags = 0u8;
            // Flags are the bare keywords after the TCP fields.
            let after = tokens.by_ref().skip_while(|t| !t.starts_with("PROTO="));
            for token in after {
                flags |= match token {
                    "FIN" => TcpFlags::FIN,
                    "SYN" => TcpFlags::SYN,
                    "RST" => TcpFlags::RST,
                    "PSH" => TcpFlags::PSH,
                    "ACK" => TcpFlags::ACK,
                    "URG" => TcpFlags::URG,
                    "ECE" => TcpFlags::ECE,
                    "CWR" => TcpFlags::CWR,
                    _ => 0,
                };
            }
            Transport::Tcp(TcpSummary {
                sport: port("SPT=")?,
                dport: port("DPT=")?,
                flags: TcpFlags(flags),
                window: port("WINDOW=").unwrap_or(0),
                seq: 0,
                ack: 0,
                options: TcpOptions::default(),
                payload_len: 0,
            })
        }
        "UDP" | "UDPLITE" => Transport::Udp { sport: port("SPT=")?, dport: port("DPT=")?, payload_len: 0 },
        "ICMP" | "ICMPv6" => {
            let kind: u8 = get("TYPE=")?.parse().ok()?;
            // The second ID= (after TYPE=) is the ICMP identifier.
            let icmp = fields.get(fields.find("TYPE=")?..)?;
            let field = |key: &str| -> u16 {
                icmp.split_ascii_whitespace()
                    .find_map(|t| t.strip_prefix(key))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let query = match (proto, kind) {
                ("ICMP", 8) | ("ICMPv6", 128) => Some(IcmpQuery::Echo),
                ("ICMP", 13) => Some(IcmpQuery::Timestamp),
                ("ICMP", 17) => Some(IcmpQuery::AddressMask),
                _ => None,
            };
            match query {
                Some(query) => Transport::IcmpRequest { query, id: field("ID="), seq: field("SEQ=") },
                None => Transport::Other { protocol: if proto == "ICMP" { 1 } else { 58 } },
            }
        }
        other => Transport::Other { protocol: other.parse().unwrap_or(0) },
    };
    // The IP flags are bare keywords before PROTO= (`CE`, `DF`, `MF`).
    let df = fields.split_ascii_whitespace().take_while(|t| !t.starts_with("PROTO=")).any(|t| t == "DF");
    let packet = PacketSummary { ts, src, dst, ttl, ip_id, df, transport };
    Some(LogRecord { packet, prefix, direction })
}

/// Drops `host kernel:` and a `[uptime]` stamp from the text before `IN=`.
fn strip_kernel_tag(head: &str) -> &str {
    let head = match head.find("kernel:") {
        Some(at) => &head[at + "kernel:".len()..],
        None => head,
    };
    let trimmed = head.trim_start();
    if trimmed.starts_with('[')
        && let Some(end) = trimmed.find(']')
    {
        return &trimmed[end + 1..];
    }
    trimmed
}

/// The line's time and the text after it; `Ok(None)` if it has none that can be read.
fn timestamp<'a>(line: &'a str, options: &LogOptions) -> Result<Option<(Timestamp, &'a str)>, Unplaced> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix('[')
        && let Some(end) = rest.find(']')
        && let Some(uptime) = uptime(rest[..end].trim())
    {
        return Ok(Some((since_boot(uptime, options)?, &rest[end + 1..])));
    }
    Ok(wall_clock(line, options))
}

/// dmesg's `SECONDS.MICROS` since boot (digits and one dot only).
fn uptime(stamp: &str) -> Option<Duration> {
    let (secs, frac) = stamp.split_once('.').unwrap_or((stamp, ""));
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    Some(Duration::from_secs(secs) + Duration::from_micros(digits.parse().ok()?))
}

/// Boot time plus `uptime`, never after `now` (the boot time is known to the second, so a stamp
/// just past `now` is taken as `now`).
fn since_boot(uptime: Duration, options: &LogOptions) -> Result<Timestamp, Unplaced> {
    let boot = options.boot_time.ok_or(Unplaced)?;
    let ts = boot.plus(uptime);
    if ts > options.now.plus(BOOT_TIME_SLACK) {
        return Err(Unplaced);
    }
    Ok(ts.min(options.now))
}

/// The wall-clock forms: `dmesg -T`, ISO 8601, syslog.
fn wall_clock<'a>(line: &'a str, options: &LogOptions) -> Option<(Timestamp, &'a str)> {
    if let Some(rest) = line.strip_prefix('[') {
        let end = rest.find(']')?;
        let inner = rest[..end].trim();
        let after = &rest[end + 1..];
        // dmesg -T: "Sun Nov 22 10:00:01 2024"
        let parts: Vec<&str> = inner.split_ascii_whitespace().collect();
        if let [_, month, day, time, year] = parts[..] {
            let ts = civil(year.parse().ok()?, month, day, time, options.utc_offset)?;
            return Some((ts, after));
        }
        return None;
    }
    if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let (stamp, rest) = line.split_once(' ')?;
        return Some((iso8601(stamp)?, rest));
    }
    // Syslog: "Nov 22 10:00:01 host ..." (day may be space-padded).
    let mut parts = line.splitn(4, ' ').filter(|p| !p.is_empty());
    let month = parts.next()?;
    let mut rest = line.get(month.len()..)?.trim_start();
    let day = rest.split(' ').next()?;
    rest = rest.get(day.len()..)?.trim_start();
    let time = rest.split(' ').next()?;
    rest = rest.get(time.len()..)?;
    let ts = civil(options.year, month, day, time, options.utc_offset)?;
    // No year in the line: one more than a day ahead of the reading is last year's.
    if ts > options.now.plus(Duration::from_secs(86_400)) {
        return Some((civil(options.year - 1, month, day, time, options.utc_offset)?, rest));
    }
    Some((ts, rest))
}

fn civil(year: i64, month: &str, day: &str, time: &str, utc_offset: i64) -> Option<Timestamp> {
    let month = u32::try_from(MONTH_ABBREVIATIONS.iter().position(|m| *m == month)? + 1).ok()?;
    let day: u32 = day.parse().ok()?;
    let (hms, micros) = clock(time)?;
    let local = Timestamp::from_civil(year, month, day, hms, micros)?;
    shift(local, -utc_offset)
}

/// `HH:MM:SS(.frac)?`
fn clock(time: &str) -> Option<((u32, u32, u32), u32)> {
    let (whole, frac) = match time.split_once('.') {
        Some((w, f)) => (w, f),
        None => (time, ""),
    };
    let mut it = whole.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let s = it.next()?.parse().ok()?;
    if it.next().is_some() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    Some(((h, m, s), digits.parse().ok()?))
}

fn shift(ts: Timestamp, secs: i64) -> Option<Timestamp> {
    let micros = i128::from(ts.as_micros()) + i128::from(secs) * 1_000_000;
    u64::try_from(micros).ok().map(Timestamp::from_micros)
}

/// `YYYY-MM-DDTHH:MM:SS(.frac)?(Z|±HH:MM|±HHMM)?` (no zone: UTC).
fn iso8601(stamp: &str) -> Option<Timestamp> {
    let (date, time) = stamp.split_once(['T', ' '])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    let (clock_part, offset) = match time.find(['Z', '+', '-']) {
        Some(at) => (&time[..at], &time[at..]),
        None => (time, ""),
    };
    let (hms, micros) = clock(clock_part)?;
    let local = Timestamp::from_civil(year, month, day, hms, micros)?;
    let offset_secs = match offset {
        "" | "Z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let digits: String = offset[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    shift(local, -offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSLOG: &str = "Nov 22 10:00:01 gw kernel: [1234.567890] DROP-IN: IN=eth0 OUT= \
        MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=198.18.0.2 LEN=44 TOS=0x00 \
        PREC=0x00 TTL=52 ID=54321 PROTO=TCP SPT=40000 DPT=80 WINDOW=65535 RES=0x00 SYN URGP=0";

    #[test]
    fn syslog_tcp_line() {
        let Line::Record(r) = parse_line(SYSLOG, &LogOptions::default()) else { panic!() };
        assert_eq!(r.prefix, "DROP-IN:");
        assert_eq!(r.direction, Direction::Inbound);
        assert_eq!(r.packet.ts.to_rfc3339(), "2024-11-22T10:00:01.000000Z");
        assert_eq!(r.packet.src.to_string(), "203.0.113.9");
        assert_eq!((r.packet.ttl, r.packet.ip_id), (52, Some(54321)));
        let Transport::Tcp(t) = r.packet.transport else { panic!() };
        assert_eq!((t.sport, t.dport, t.window, t.flags), (40000, 80, 65535, TcpFlags(TcpFlags::SYN)));
        assert!(!r.packet.df);
    }

    #[test]
    fn dont_fragment_keyword() {
        let with_df = SYSLOG.replace("ID=54321 PROTO=TCP", "ID=54321 DF PROTO=TCP");
        let Line::Record(r) = parse_line(&with_df, &LogOptions::default()) else { panic!() };
        assert!(r.packet.df);
        // A "DF" after PROTO= is not the IP flag.
        let late = SYSLOG.replace("RES=0x00 SYN", "RES=0x00 DF SYN");
        let Line::Record(r) = parse_line(&late, &LogOptions::default()) else { panic!() };
        assert!(!r.packet.df);
    }

    #[test]
    fn iso_dmesg_and_dmesg_t_times() {
        let body = "IN=eth0 OUT= SRC=2001:db8::9 DST=2001:db8::2 LEN=60 TC=0 HOPLIMIT=57 FLOWLBL=0 \
                    PROTO=TCP SPT=1 DPT=22 WINDOW=1024 RES=0x00 FIN PSH URG URGP=0";
        let iso = format!("2024-11-22T10:00:01.5+0100 gw kernel: nft-drop {body}");
        let Line::Record(r) = parse_line(&iso, &LogOptions::default()) else { panic!() };
        assert_eq!(r.packet.ts.to_rfc3339(), "2024-11-22T09:00:01.500000Z");
        assert_eq!(r.prefix, "nft-drop");
        assert_eq!(r.packet.ip_id, None);
        let Transport::Tcp(t) = r.packet.transport else { panic!() };
        assert_eq!(t.flags.0, TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG);

        let options = LogOptions { boot_time: Some(Timestamp::from_secs(1_700_000_000)), ..Default::default() };
        let Line::Record(r) = parse_line(&format!("[ 12.250000] x {body}"), &options) else { panic!() };
        assert_eq!(r.packet.ts, Timestamp::from_micros(1_700_000_012_250_000));
        let Line::Record(r) = parse_line(&format!("[Fri Nov 22 10:00:01 2024] {body}"), &options) else { panic!() };
        assert_eq!(r.packet.ts.to_rfc3339(), "2024-11-22T10:00:01.000000Z");
    }

    const BODY: &str = "IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.2 LEN=44 TTL=52 ID=1 PROTO=TCP SPT=40000 \
                        DPT=80 WINDOW=1024 RES=0x00 SYN URGP=0";

    /// A machine booted at 2024-11-22T10:00:00Z, read an hour later.
    fn booted() -> LogOptions {
        let boot = Timestamp::from_secs(1_732_269_600);
        LogOptions { boot_time: Some(boot), now: boot.plus(Duration::from_secs(3600)), ..Default::default() }
    }

    fn time_of(line: &str, options: &LogOptions) -> Option<String> {
        match parse_line(line, options) {
            Line::Record(r) => Some(r.packet.ts.to_rfc3339()),
            _ => None,
        }
    }

    #[test]
    fn dmesg_uptime_is_boot_time_plus_offset() {
        let options = booted();
        assert_eq!(time_of(&format!("[  125.000250] DROP {BODY}"), &options).unwrap(), "2024-11-22T10:02:05.000250Z");
        assert_eq!(time_of(&format!("[0.5] DROP {BODY}"), &options).unwrap(), "2024-11-22T10:00:00.500000Z");
        // Within the boot time's one-second grain of now: now, not later.
        assert_eq!(time_of(&format!("[3601.2] DROP {BODY}"), &options).unwrap(), "2024-11-22T11:00:00.000000Z");
    }

    #[test]
    fn dmesg_uptime_is_never_placed_in_the_future() {
        // An uptime past the current one is from an earlier boot: not placed at all.
        let options = booted();
        assert_eq!(parse_line(&format!("[7200.000000] DROP {BODY}"), &options), Line::Unplaced);
        // Without a boot time, no uptime stamp is placed (never at 1970).
        let unknown = LogOptions { boot_time: None, ..booted() };
        assert_eq!(parse_line(&format!("[12.0] DROP {BODY}"), &unknown), Line::Unplaced);
        // Syslog lines carry their own time; their dmesg stamp does not matter.
        assert_eq!(
            time_of(&format!("Nov 22 10:30:00 gw kernel: [99999.0] DROP {BODY}"), &unknown).unwrap(),
            "2024-11-22T10:30:00.000000Z"
        );
        let text = format!("[10.0] DROP {BODY}\n[9999.0] DROP {BODY}\n");
        let mut detector = Detector::new(crate::DetectorConfig::default());
        let mut stats = LogStats::default();
        replay_log(text.as_bytes(), Path::new("d.log"), &options, &mut detector, &mut stats, &mut |_| {}).unwrap();
        assert_eq!((stats.inbound, stats.unplaced), (1, 1));
    }

    #[test]
    fn syslog_lines_from_december_read_in_january_are_last_year() {
        let january = LogOptions { year: 2025, now: Timestamp::from_secs(1_735_732_800), ..Default::default() };
        assert_eq!(
            time_of(&format!("Dec 31 23:59:00 gw kernel: DROP {BODY}"), &january).unwrap(),
            "2024-12-31T23:59:00.000000Z"
        );
        assert_eq!(
            time_of(&format!("Jan  1 08:00:00 gw kernel: DROP {BODY}"), &january).unwrap(),
            "2025-01-01T08:00:00.000000Z"
        );
    }

    #[test]
    fn endless_and_overlong_lines_stop_with_the_line_number() {
        let mut detector = Detector::new(crate::DetectorConfig::default());
        let mut stats = LogStats::default();
        let zeros = std::io::BufReader::new(std::io::repeat(0));
        let err =
            replay_log(zeros, Path::new("/dev/zero"), &booted(), &mut detector, &mut stats, &mut |_| {}).unwrap_err();
        assert!(err.to_string().starts_with("/dev/zero:1: line longer than 64 KiB (hint: "), "{err}");
        let mut text = format!("Nov 22 10:30:00 gw kernel: DROP {BODY}\n");
        text.push_str(&"x".repeat(70_000));
        let mut stats = LogStats::default();
        let err = replay_log(text.as_bytes(), Path::new("k.log"), &booted(), &mut detector, &mut stats, &mut |_| {})
            .unwrap_err();
        assert!(err.to_string().starts_with("k.log:2: line longer than 64 KiB"), "{err}");
        assert_eq!(stats.inbound, 1);
    }

    #[test]
    fn udp_icmp_outbound_and_junk() {
        let udp = "Nov  2 03:04:05 h kernel: IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.2 LEN=28 TTL=40 ID=1 \
                   PROTO=UDP SPT=5000 DPT=161 LEN=8";
        let Line::Record(r) = parse_line(udp, &LogOptions::default()) else { panic!() };
        assert_eq!(r.packet.transport, Transport::Udp { sport: 5000, dport: 161, payload_len: 0 });
        assert_eq!(r.packet.ts.to_rfc3339(), "2024-11-02T03:04:05.000000Z");
        let icmp = "Nov 22 10:00:01 h kernel: IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.7 LEN=28 TTL=40 ID=77 \
                    PROTO=ICMP TYPE=8 CODE=0 ID=4242 SEQ=3";
        let Line::Record(r) = parse_line(icmp, &LogOptions::default()) else { panic!() };
        assert_eq!(r.packet.ip_id, Some(77));
        assert_eq!(r.packet.transport, Transport::IcmpRequest { query: IcmpQuery::Echo, id: 4242, seq: 3 });
        let out = "Nov 22 10:00:01 h kernel: IN= OUT=eth0 SRC=198.18.0.2 DST=203.0.113.9 PROTO=UDP SPT=1 DPT=2";
        assert!(matches!(
            parse_line(out, &LogOptions::default()),
            Line::Record(LogRecord { direction: Direction::Outbound, .. })
        ));
        assert_eq!(parse_line("Nov 22 10:00:01 h sshd[1]: Accepted publickey", &LogOptions::default()), Line::Unknown);
        assert_eq!(parse_line("garbage SRC=1.2.3.4 DST=5.6.7.8", &LogOptions::default()), Line::Malformed);
        assert_eq!(
            parse_line("Nov 22 10:00:01 h kernel: IN=eth0 OUT= SRC=x DST=y PROTO=TCP", &LogOptions::default()),
            Line::Malformed
        );
        assert_eq!(
            parse_line(
                "Foo 99 99:99:99 h kernel: IN=eth0 OUT= SRC=1.2.3.4 DST=1.2.3.5 PROTO=UDP SPT=1 DPT=2",
                &LogOptions::default()
            ),
            Line::Malformed
        );
    }

    #[test]
    fn a_logged_scan_is_detected_and_junk_is_counted() {
        let mut text = String::from("not a log line\n\u{fffd}\u{0}binary\n");
        for port in 1..=30 {
            text.push_str(&format!(
                "Nov 22 10:00:{:02} gw kernel: [99.0] DROP IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.2 LEN=44 \
                 TTL=52 ID={} PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 RES=0x00 SYN URGP=0\n",
                port,
                port * 7
            ));
        }
        text.push_str("Nov 22 10:00:59 gw kernel: [99.0] DROP IN=eth0 OUT= SRC=203.0.113.9 DST=198.18.0.2 PROTO=TCP\n");
        let mut detector = Detector::new(crate::DetectorConfig::default());
        let (mut stats, mut alerts) = (LogStats::default(), Vec::new());
        replay_log(text.as_bytes(), Path::new("t.log"), &LogOptions::default(), &mut detector, &mut stats, &mut |a| {
            alerts.push(a)
        })
        .unwrap();
        assert_eq!(stats, LogStats { lines: 33, inbound: 30, outbound: 0, malformed: 1, unknown: 2, unplaced: 0 });
        let first = &alerts[0];
        assert_eq!(first.scan_type, crate::ObservedScan::Ports(tojimari_core::ScanType::Syn));
        assert_eq!(first.probes, 5);
        assert_eq!(first.first_seen.to_rfc3339(), "2024-11-22T10:00:01.000000Z");
    }

    #[test]
    fn fuzzed_lines_never_panic() {
        let seeds = [SYSLOG.to_owned(), format!("[ 12.5] p {}", &SYSLOG[SYSLOG.find("IN=").unwrap()..])];
        let alphabet: Vec<char> = "0123456789 :.[]=+-TZ\u{e9}\u{1f600}SYNACKFINSRCDSTPROTO=ICMPTYPE".chars().collect();
        let mut seed = 0x1234_5678u64;
        for i in 0..20_000 {
            let mut chars: Vec<char> = seeds[i % 2].chars().collect();
            for _ in 0..1 + i % 5 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % chars.len();
                match seed >> 60 {
                    0..=5 => chars[at] = alphabet[(seed >> 20) as usize % alphabet.len()],
                    6..=9 => {
                        chars.remove(at);
                    }
                    10..=12 => chars.truncate(at),
                    _ => chars.insert(at, alphabet[(seed >> 20) as usize % alphabet.len()]),
                }
                if chars.is_empty() {
                    chars.push('x');
                }
            }
            let line: String = chars.into_iter().collect();
            let _ = parse_line(&line, &LogOptions::default());
        }
    }
}
