//! Alerts to syslog: one datagram per record to the local syslog socket (`/dev/log`), facility
//! `authpriv`, severity `warning` for a scan's start and updates ([`PRIORITY`]) and `notice`
//! for its closing record ([`PRIORITY_END`]), in the traditional BSD format that glibc's
//! `syslog(3)` writes and that rsyslog, syslog-ng, busybox syslogd and journald all read. The
//! message is the readable line stderr shows, without its `warning: `/`note: ` prefix:
//!
//! ```text
//! <84>Nov 22 10:00:02 tojimari[4242]: 2024-11-22T10:00:02.000000Z syn scan from ...
//! <85>Nov 22 10:01:09 tojimari[4242]: 2024-11-22T10:00:09.000000Z syn scan ended (quiet) from ...
//! ```
//!
//! The header time is UTC (this crate does not read time zones); the message itself carries
//! an RFC 3339 time. Only datagram sockets are supported (a stream-type `/dev/log` is rare).

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use tojimari_core::civil::MONTH_ABBREVIATIONS;
use tojimari_scandetect::Timestamp;

/// The standard syslog socket.
pub const DEV_LOG: &str = "/dev/log";

/// `LOG_AUTHPRIV | LOG_WARNING`: security messages, kept out of world-readable logs.
pub const PRIORITY: i32 = libc::LOG_AUTHPRIV | libc::LOG_WARNING;

/// `LOG_AUTHPRIV | LOG_NOTICE`: a scan's closing record.
pub const PRIORITY_END: i32 = libc::LOG_AUTHPRIV | libc::LOG_NOTICE;

/// A connected syslog client.
#[derive(Debug)]
pub struct Syslog {
    socket: UnixDatagram,
    ident: String,
    pid: u32,
}

impl Syslog {
    /// Connects to the syslog socket at `path` (normally [`DEV_LOG`]).
    pub fn connect(path: &Path, ident: &str) -> io::Result<Syslog> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        Ok(Syslog { socket, ident: ident.to_owned(), pid: std::process::id() })
    }

    /// Sends one message with `priority` ([`PRIORITY`], [`PRIORITY_END`]), stamped `now`.
    pub fn send(&self, priority: i32, message: &str, now: Timestamp) -> io::Result<()> {
        let record = format_record(priority, now, &self.ident, self.pid, message);
        self.socket.send(record.as_bytes()).map(drop)
    }
}

/// One record: `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE` (RFC 3164), control characters in
/// the message replaced by spaces so one alert is always one line.
pub fn format_record(priority: i32, now: Timestamp, ident: &str, pid: u32, message: &str) -> String {
    let (_, month, day, hour, minute, second, _) = now.to_civil();
    let month = MONTH_ABBREVIATIONS.get(month.saturating_sub(1) as usize).copied().unwrap_or("Jan");
    let clean: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("<{priority}>{month} {day:>2} {hour:02}:{minute:02}:{second:02} {ident}[{pid}]: {clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_record() {
        // 2023-11-14T22:13:20Z
        let t = Timestamp::from_secs(1_700_000_000);
        assert_eq!(
            format_record(PRIORITY, t, "tojimari", 42, "scan\nfrom x"),
            "<84>Nov 14 22:13:20 tojimari[42]: scan from x"
        );
        let t = Timestamp::from_secs(1_704_153_600); // 2024-01-02T00:00:00Z
        assert!(format_record(PRIORITY, t, "t", 1, "m").starts_with("<84>Jan  2 00:00:00 t[1]: "));
    }

    #[test]
    fn delivers_to_a_datagram_socket() {
        let dir = std::env::temp_dir().join(format!("tojimari-watch-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let client = Syslog::connect(&path, "tojimari").unwrap();
        client.send(PRIORITY, "hello", Timestamp::from_secs(1_700_000_000)).unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(got.starts_with("<84>Nov 14 22:13:20 tojimari["), "{got}");
        assert!(got.ends_with("]: hello"), "{got}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
