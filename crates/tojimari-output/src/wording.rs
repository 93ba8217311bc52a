//! Phrases that nmap's text formats share: the run summary, host labels, reasons and latencies.

use std::time::Duration;

use tojimari_core::report::{DisplayOptions, HostReport, RunSummary};
use tojimari_core::{HostnameKind, Reason};

use crate::escape::printable;

/// `1 IP address (1 host up) scanned in 0.05 seconds`, `256 IP addresses (3 hosts up) ...`.
pub(crate) fn scanned_phrase(summary: &RunSummary) -> String {
    let total = summary.hosts_total;
    let up = summary.hosts_up;
    format!(
        "{total} IP address{} ({up} host{} up) scanned in {} seconds",
        if total == 1 { "" } else { "es" },
        if up == 1 { "" } else { "s" },
        seconds_2dp(summary.elapsed)
    )
}

/// Seconds with two decimals, as nmap's "scanned in" and XML `elapsed`.
pub(crate) fn seconds_2dp(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// A latency in seconds with two significant digits in plain notation, as nmap prints it:
/// `0.00055`, `0.000067`, `0.010`, `0.17`, `1.2`, `12`.
pub(crate) fn latency(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs <= 0.0 {
        return "0.00".to_string();
    }
    let mut decimals = (1 - secs.log10().floor() as i32).max(0) as usize;
    // Rounding can carry into a new digit (0.0995 -> 0.100): keep two significant digits.
    let rounded: f64 = format!("{secs:.decimals$}").parse().unwrap_or(secs);
    if rounded.log10().floor() > secs.log10().floor() && decimals > 0 {
        decimals -= 1;
    }
    format!("{secs:.decimals$}")
}

/// The name nmap prints for a host: the one the user typed, else the reverse-DNS one.
pub(crate) fn display_name(host: &HostReport) -> Option<&str> {
    let by_kind = |kind: HostnameKind| host.hostnames.iter().find(|h| h.kind == kind);
    by_kind(HostnameKind::User).or_else(|| by_kind(HostnameKind::Ptr)).map(|h| h.name.as_str())
}

/// `name (addr)` or `addr`, with control characters in the name spelled out (a PTR record is
/// whatever its owner wrote, and must not drive the terminal).
pub(crate) fn host_label(host: &HostReport) -> String {
    match display_name(host) {
        Some(name) => format!("{} ({})", printable(name), host.addr),
        None => host.addr.to_string(),
    }
}

/// `syn-ack`, or `reset ttl 64` when the reply's TTL is known.
pub(crate) fn reason_text(reason: Reason, ttl: u8) -> String {
    if ttl == 0 { reason.as_str().to_string() } else { format!("{reason} ttl {ttl}") }
}

/// Whether reasons are printed: `--reason`, or `-vv` and above (nmap implies it there).
pub(crate) fn show_reason(display: &DisplayOptions) -> bool {
    display.reason || display.verbose >= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_core::report::RunExit;

    fn summary(total: u64, up: u64, ms: u64) -> RunSummary {
        RunSummary {
            end: std::time::UNIX_EPOCH,
            elapsed: Duration::from_millis(ms),
            hosts_up: up,
            hosts_down: total - up,
            hosts_total: total,
            exit: RunExit::Success,
        }
    }

    #[test]
    fn plurals_like_nmap() {
        assert_eq!(scanned_phrase(&summary(1, 1, 50)), "1 IP address (1 host up) scanned in 0.05 seconds");
        assert_eq!(
            scanned_phrase(&summary(256, 3, 103_470)),
            "256 IP addresses (3 hosts up) scanned in 103.47 seconds"
        );
        assert_eq!(scanned_phrase(&summary(1, 0, 3040)), "1 IP address (0 hosts up) scanned in 3.04 seconds");
        assert_eq!(scanned_phrase(&summary(0, 0, 30)), "0 IP addresses (0 hosts up) scanned in 0.03 seconds");
    }

    #[test]
    fn latencies_as_nmap_printed_them() {
        let us = Duration::from_micros;
        assert_eq!(latency(us(550)), "0.00055");
        assert_eq!(latency(us(67)), "0.000067");
        assert_eq!(latency(us(92)), "0.000092");
        assert_eq!(latency(us(25)), "0.000025");
        assert_eq!(latency(us(10_000)), "0.010");
        assert_eq!(latency(us(170_000)), "0.17");
        assert_eq!(latency(us(1_234_000)), "1.2");
        assert_eq!(latency(us(12_500_000)), "12");
        assert_eq!(latency(us(99_960)), "0.10");
    }
}
