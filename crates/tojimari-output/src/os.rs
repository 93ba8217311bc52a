//! What OS detection found, in the words and notations nmap's text formats use; shared by the normal and
//! grepable printers (XML and JSON Lines write the values themselves, with [`hex_list`] for XML).
//!
//! The normal-output section comes after a host's port table, in this order (each line only when its
//! value is known), as nmap 7.93 prints it for `-O -v`:
//!
//! ```text
//! Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port
//! Device type: general purpose|router
//! Running: Linux 5.X
//! OS CPE: cpe:/o:linux:linux_kernel:5
//! OS details: Linux 5.0 - 6.8
//! Uptime guess: 0.512 days (since Sat Dec  5 23:04:12 2026)
//! Network Distance: 1 hop
//! TCP Sequence Prediction: Difficulty=262 (Good luck!)
//! IP ID Sequence Generation: All zeros
//! ```
//!
//! - One `Warning: OSScan results may be unreliable because {note}` per note of the report.
//! - When the matches are guesses (`guessed`): `Running (JUST GUESSING): Linux 5.X|4.X (96%), ...`
//!   (each family with its best class accuracy), `Aggressive OS guesses: A (96%), B (92%), ...` (at most
//!   ten), then `No exact OS matches for host (test conditions non-ideal).` when the report has notes,
//!   else `No exact OS matches for host.` followed by `TCP/IP fingerprint:`, the fingerprint's lines and
//!   an empty line (so that the user can write a database entry for the host).
//! - Device type, Running and OS CPE summarise the classes of the matches; like nmap, they are left out
//!   when the classes scatter over more than two (vendor, family) pairs, where they would say little.
//!   A family is named `{vendor} {family}`, or just `{family}` when both are the same (`Linux`);
//!   generations of one family are joined by `|`, families by `, `.
//! - No match at all: `No OS matches for host`, then the fingerprint as above when the report has no notes.
//! - Uptime (in days with three decimals, and the boot time in `ctime` form, UTC), the sequence
//!   prediction and the IP ID class are printed only with `-v`, as nmap does; the distance always.
//!
//! A passive guess (made from the scan's own SYN/ACKs, without `-O`) is never printed as nmap's OS
//! lines: it gets one line of its own, `OS guess (passive, from the SYN/ACKs): Linux 5.X (85%)`.

use std::fmt::Write as _;

use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport};

use crate::datetime::UtcTime;
use crate::escape::printable;

/// How many matches "Aggressive OS guesses" lists, as nmap.
const MAX_GUESSES: usize = 10;
/// How many matches a passive guess line names.
const MAX_PASSIVE: usize = 3;
/// Above this many (vendor, family) pairs the class summary lines are left out.
const MAX_FAMILIES: usize = 2;

/// The OS section of a host in normal output (empty when the report is passive and has no match).
pub(crate) fn normal_section(report: &OsReport, verbose: u8) -> String {
    if report.method == OsMethod::Passive {
        return passive_summary(report).map(|s| format!("{PASSIVE_LABEL}: {s}\n")).unwrap_or_default();
    }
    let mut s = String::new();
    for note in &report.notes {
        let _ = writeln!(s, "Warning: OSScan results may be unreliable because {}", sentence_body(note));
    }
    if report.matches.is_empty() {
        s.push_str("No OS matches for host\n");
        if report.notes.is_empty() {
            fingerprint_lines(&mut s, report);
        }
    } else {
        if let Some(summary) = ClassSummary::of(&report.matches) {
            let _ = writeln!(s, "Device type: {}", printable(&summary.device_types.join("|")));
            let running = summary.running(report.guessed);
            if report.guessed {
                let _ = writeln!(s, "Running (JUST GUESSING): {}", printable(&running));
            } else {
                let _ = writeln!(s, "Running: {}", printable(&running));
            }
            if !summary.cpe.is_empty() {
                let _ = writeln!(s, "OS CPE: {}", printable(&summary.cpe.join(" ")));
            }
        }
        if report.guessed {
            let guesses: Vec<String> = report
                .matches
                .iter()
                .take(MAX_GUESSES)
                .map(|m| format!("{} ({}%)", printable(&m.name), m.accuracy.min(100)))
                .collect();
            let _ = writeln!(s, "Aggressive OS guesses: {}", guesses.join(", "));
            if report.notes.is_empty() {
                s.push_str("No exact OS matches for host.\n");
                fingerprint_lines(&mut s, report);
            } else {
                s.push_str("No exact OS matches for host (test conditions non-ideal).\n");
            }
        } else {
            let names: Vec<String> = report.matches.iter().map(|m| printable(&m.name)).collect();
            let _ = writeln!(s, "OS details: {}", names.join(", "));
        }
    }
    if verbose > 0
        && let Some(uptime) = report.uptime
    {
        let _ = writeln!(
            s,
            "Uptime guess: {} days (since {})",
            uptime_days(uptime.seconds),
            UtcTime::from_system_time(uptime.last_boot).ctime()
        );
    }
    if let Some(distance) = report.distance {
        let _ = writeln!(s, "Network Distance: {distance} hop{}", if distance == 1 { "" } else { "s" });
    }
    if verbose > 0 {
        if let Some(seq) = &report.tcp_sequence {
            let _ = writeln!(s, "TCP Sequence Prediction: Difficulty={} ({})", seq.index, printable(&seq.difficulty));
        }
        if let Some(ipid) = &report.ip_id_sequence {
            let _ = writeln!(s, "IP ID Sequence Generation: {}", printable(&ipid.class));
        }
    }
    s
}

/// `TCP/IP fingerprint:`, the fingerprint's lines and an empty line, when the report has one.
fn fingerprint_lines(s: &mut String, report: &OsReport) {
    if let Some(fingerprint) = report.fingerprint.as_deref().filter(|f| !f.trim().is_empty()) {
        s.push_str("TCP/IP fingerprint:\n");
        for line in fingerprint.lines() {
            let _ = writeln!(s, "{}", printable(line));
        }
        s.push('\n');
    }
}

/// The label of a passive guess in normal output.
pub(crate) const PASSIVE_LABEL: &str = "OS guess (passive, from the SYN/ACKs)";

/// `Linux 5.X (85%), FreeBSD 13.X (60%)`: a passive report's best matches, or `None` without one.
pub(crate) fn passive_summary(report: &OsReport) -> Option<String> {
    let names: Vec<String> = report
        .matches
        .iter()
        .take(MAX_PASSIVE)
        .map(|m| format!("{} ({}%)", printable(&m.name), m.accuracy.min(100)))
        .collect();
    if names.is_empty() {
        return None;
    }
    let mut s = names.join(", ");
    if let Some(distance) = report.distance {
        let _ = write!(s, "; {distance} hop{} away", if distance == 1 { "" } else { "s" });
    }
    Some(s)
}

/// nmap's grepable fields for an active report: `\tOS: {names}` when matches are stated (several joined
/// by ` or `), then `\tSeq Index: {index}` and `\tIP ID Seq: {class}` when known.
pub(crate) fn grepable_fields(report: &OsReport) -> String {
    let mut s = String::new();
    if report.method != OsMethod::Active {
        return s;
    }
    let field = |text: &str| printable(text).replace('\t', " ");
    if !report.guessed && !report.matches.is_empty() {
        let names: Vec<String> = report.matches.iter().map(|m| field(&m.name)).collect();
        let _ = write!(s, "\tOS: {}", names.join(" or "));
    }
    if let Some(seq) = &report.tcp_sequence {
        let _ = write!(s, "\tSeq Index: {}", seq.index);
    }
    if let Some(ipid) = &report.ip_id_sequence {
        let _ = write!(s, "\tIP ID Seq: {}", field(&ipid.class));
    }
    s
}

/// Values in nmap's XML notation: upper-case hexadecimal without prefix, joined by commas.
pub(crate) fn hex_list(values: &[u32]) -> String {
    values.iter().map(|v| format!("{v:X}")).collect::<Vec<_>>().join(",")
}

/// Seconds as days with three decimals (`0.512`).
pub(crate) fn uptime_days(seconds: u64) -> String {
    format!("{:.3}", seconds as f64 / 86_400.0)
}

/// A note as the end of nmap's "because ..." sentence: no final full stop, first letter lower-case
/// unless it starts an acronym (`TCP`).
fn sentence_body(note: &str) -> String {
    let trimmed = note.trim().trim_end_matches('.');
    let mut chars = trimmed.chars();
    let text = match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(trimmed[first.len_utf8()..].chars()).collect()
        }
        _ => trimmed.to_string(),
    };
    printable(&text)
}

/// The device types, families and CPEs of a report's matches, each once, in the order first seen.
struct ClassSummary<'a> {
    device_types: Vec<&'a str>,
    /// (family label, generations, best accuracy).
    families: Vec<(String, Vec<&'a str>, u8)>,
    cpe: Vec<&'a str>,
}

impl<'a> ClassSummary<'a> {
    /// `None` when the matches have no class or their classes scatter over too many families.
    fn of(matches: &'a [OsMatch]) -> Option<ClassSummary<'a>> {
        let mut summary = ClassSummary { device_types: Vec::new(), families: Vec::new(), cpe: Vec::new() };
        for class in matches.iter().flat_map(|m| &m.classes) {
            summary.add(class);
        }
        (!summary.families.is_empty() && summary.families.len() <= MAX_FAMILIES).then_some(summary)
    }

    fn add(&mut self, class: &'a OsClass) {
        if !class.device_type.is_empty() && !self.device_types.contains(&class.device_type.as_str()) {
            self.device_types.push(&class.device_type);
        }
        let label = family_label(class);
        let accuracy = class.accuracy.min(100);
        let index = match self.families.iter().position(|(l, _, _)| *l == label) {
            Some(i) => i,
            None => {
                self.families.push((label, Vec::new(), 0));
                self.families.len() - 1
            }
        };
        let (_, generations, best) = &mut self.families[index];
        *best = (*best).max(accuracy);
        if let Some(generation) = class.generation.as_deref()
            && !generations.contains(&generation)
        {
            generations.push(generation);
        }
        for cpe in &class.cpe {
            if !self.cpe.contains(&cpe.as_str()) {
                self.cpe.push(cpe);
            }
        }
    }

    /// `Linux 5.X|4.X`, or with accuracies when guessing: `Linux 5.X|4.X (96%), Asus embedded (93%)`.
    fn running(&self, with_accuracy: bool) -> String {
        self.families
            .iter()
            .map(|(label, generations, best)| {
                let mut s = label.clone();
                if !generations.is_empty() {
                    let _ = write!(s, " {}", generations.join("|"));
                }
                if with_accuracy {
                    let _ = write!(s, " ({best}%)");
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `Linux` (vendor and family the same), `Microsoft Windows`, `Asus embedded`.
fn family_label(class: &OsClass) -> String {
    match (class.vendor.trim(), class.family.trim()) {
        (vendor, family) if vendor.eq_ignore_ascii_case(family) || vendor.is_empty() => family.to_string(),
        (vendor, "") => vendor.to_string(),
        (vendor, family) => format!("{vendor} {family}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_read_as_the_end_of_nmaps_sentence() {
        assert_eq!(sentence_body("No closed TCP port was found."), "no closed TCP port was found");
        assert_eq!(sentence_body("TCP timestamps were missing"), "TCP timestamps were missing");
        assert_eq!(sentence_body(""), "");
        assert_eq!(sentence_body("É"), "É");
    }

    #[test]
    fn hex_and_days_as_nmap_writes_them() {
        assert_eq!(hex_list(&[0x7D2A_E5BD, 0, 0x4E5_59FB]), "7D2AE5BD,0,4E559FB");
        assert_eq!(hex_list(&[]), "");
        assert_eq!(uptime_days(44_237), "0.512");
        assert_eq!(uptime_days(1), "0.000");
    }

    #[test]
    fn family_labels() {
        let class =
            |vendor: &str, family: &str| OsClass { vendor: vendor.into(), family: family.into(), ..OsClass::default() };
        assert_eq!(family_label(&class("Linux", "Linux")), "Linux");
        assert_eq!(family_label(&class("Microsoft", "Windows")), "Microsoft Windows");
        assert_eq!(family_label(&class("", "embedded")), "embedded");
        assert_eq!(family_label(&class("Asus", "")), "Asus");
    }
}
