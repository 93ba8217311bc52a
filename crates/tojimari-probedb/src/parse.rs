//! Reads a database text into probes and their compiled match lines. The format is specified in the crate
//! documentation (and docs/probe-db.md); every error names the file and the line.

use std::collections::HashSet;
use std::time::Duration;

use crate::cursor::Cursor;
use crate::escape::unescape;
use crate::rule::Rule;
use crate::{DbError, Probe, ProbeId, Transport};

/// How long a probe waits for an answer when it has no `totalwaitms` line.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_millis(5000);
/// Rarity of a probe without a `rarity` line.
pub(crate) const DEFAULT_RARITY: u8 = 5;
/// Upper bound for `totalwaitms`/`tcpwrappedms`: a probe waiting longer than this is a typo.
const MAX_WAIT_MS: u64 = 300_000;
/// The most probes a database may hold (the built-in one has a few dozen).
pub const MAX_PROBES: usize = 1_000;
/// The most `match` and `softmatch` lines a database may hold, all probes together. Each compiles to a
/// regex that stays in memory for the whole run (some tens of KiB each), so this bounds the database's
/// memory (the built-in one has a few hundred).
pub const MAX_MATCHES: usize = 10_000;
/// The most memory all compiled patterns together may hold, as the regex engine counts it (the built-in
/// database's take well under 1 MiB). A few hostile patterns, each within its own limit, cannot add up to
/// gigabytes.
pub const MAX_PATTERN_MEMORY: usize = 64 << 20;

/// The database as read: probes, each probe's match lines, and each probe's resolved fallbacks.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) probes: Vec<Probe>,
    pub(crate) rules: Vec<Vec<Rule>>,
    pub(crate) fallbacks: Vec<Vec<ProbeId>>,
}

/// Directives a probe may carry at most once.
#[derive(Default)]
struct Seen {
    directives: HashSet<&'static str>,
    /// Line of the `fallback` directive, to name it when a fallback does not resolve.
    fallback_line: usize,
}

pub(crate) fn parse(text: &str, file: &str) -> Result<Parsed, DbError> {
    let mut parsed = Parsed { probes: Vec::new(), rules: Vec::new(), fallbacks: Vec::new() };
    let mut seen: Vec<Seen> = Vec::new();
    let mut names = HashSet::new();
    let mut matches = 0usize;
    let mut weight = 0usize;

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let err = |message: String| DbError { file: file.to_string(), line, message };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut cursor = Cursor::new(trimmed);
        let directive = cursor.word().unwrap_or_default();
        if directive == "Probe" {
            if parsed.probes.len() == MAX_PROBES {
                return Err(err(format!("more than {MAX_PROBES} probes (the limit of a probe database)")));
            }
            let probe = parse_probe(&mut cursor).map_err(err)?;
            if !names.insert((probe.transport, probe.name.clone())) {
                return Err(err(format!("duplicate probe {:?} {}", probe.transport, probe.name)));
            }
            parsed.probes.push(probe);
            parsed.rules.push(Vec::new());
            seen.push(Seen::default());
            continue;
        }
        let (Some(probe), Some(rules), Some(seen)) =
            (parsed.probes.last_mut(), parsed.rules.last_mut(), seen.last_mut())
        else {
            return Err(err(match directive {
                "match" | "softmatch" | "rarity" | "ports" | "sslports" | "totalwaitms" | "tcpwrappedms"
                | "fallback" => format!("'{directive}' before any Probe line"),
                other => format!("unknown directive '{other}'"),
            }));
        };
        let value = cursor.rest();
        match directive {
            "match" | "softmatch" => {
                matches += 1;
                if matches > MAX_MATCHES {
                    return Err(err(format!("more than {MAX_MATCHES} match lines (the limit of a probe database)")));
                }
                let rule = Rule::parse(value, directive == "softmatch", line).map_err(err)?;
                weight += rule.weight;
                if weight > MAX_PATTERN_MEMORY {
                    return Err(err(format!(
                        "the patterns so far compile to more than {} MiB (the limit of a probe database)",
                        MAX_PATTERN_MEMORY >> 20
                    )));
                }
                rules.push(rule);
            }
            "rarity" | "ports" | "sslports" | "totalwaitms" | "tcpwrappedms" | "fallback" => {
                let key = directive_key(directive);
                if !seen.directives.insert(key) {
                    return Err(err(format!("'{directive}' given twice for probe {}", probe.name)));
                }
                apply_directive(probe, directive, value).map_err(err)?;
                if directive == "fallback" {
                    seen.fallback_line = line;
                }
            }
            other => return Err(err(format!("unknown directive '{other}'"))),
        }
    }

    for (probe, seen) in parsed.probes.iter().zip(&seen) {
        let mut ids = Vec::new();
        for name in &probe.fallback {
            let id = parsed.probes.iter().position(|p| p.transport == probe.transport && &p.name == name);
            match id {
                Some(id) if parsed.probes[id].name != probe.name => ids.push(ProbeId(id)),
                Some(_) => {
                    return Err(DbError {
                        file: file.to_string(),
                        line: seen.fallback_line,
                        message: format!("probe {} falls back to itself", probe.name),
                    });
                }
                None => {
                    return Err(DbError {
                        file: file.to_string(),
                        line: seen.fallback_line,
                        message: format!("fallback to unknown {:?} probe '{name}'", probe.transport),
                    });
                }
            }
        }
        parsed.fallbacks.push(ids);
    }
    Ok(parsed)
}

fn directive_key(directive: &str) -> &'static str {
    match directive {
        "rarity" => "rarity",
        "ports" => "ports",
        "sslports" => "sslports",
        "totalwaitms" => "totalwaitms",
        "tcpwrappedms" => "tcpwrappedms",
        _ => "fallback",
    }
}

/// `Probe TCP|UDP NAME q|payload|`.
fn parse_probe(cursor: &mut Cursor<'_>) -> Result<Probe, String> {
    let transport = match cursor.word() {
        Some("TCP") => Transport::Tcp,
        Some("UDP") => Transport::Udp,
        Some(other) => return Err(format!("unknown transport '{other}' (TCP or UDP)")),
        None => return Err("Probe needs a transport, a name and q|payload|".to_string()),
    };
    let name = cursor.word().ok_or("Probe needs a name")?;
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(format!("bad probe name '{name}'"));
    }
    if !cursor.eat("q") {
        return Err("expected q|payload| after the probe name".to_string());
    }
    let payload = unescape(cursor.delimited()?)?;
    if !cursor.is_empty() {
        return Err(format!("unexpected '{}' after the payload", cursor.rest()));
    }
    if payload.is_empty() && transport == Transport::Udp {
        return Err("a UDP probe needs a payload".to_string());
    }
    Ok(Probe {
        name: name.to_string(),
        transport,
        payload,
        rarity: DEFAULT_RARITY,
        ports: Vec::new(),
        sslports: Vec::new(),
        wait: DEFAULT_WAIT,
        tcpwrapped: None,
        fallback: Vec::new(),
    })
}

fn apply_directive(probe: &mut Probe, directive: &str, value: &str) -> Result<(), String> {
    match directive {
        "rarity" => {
            probe.rarity = match value.parse::<u8>() {
                Ok(r @ 1..=9) => r,
                _ => return Err(format!("rarity must be 1..9, not '{value}'")),
            }
        }
        "ports" => probe.ports = parse_ports(value)?,
        "sslports" => probe.sslports = parse_ports(value)?,
        "totalwaitms" => probe.wait = parse_ms(value)?,
        "tcpwrappedms" => {
            if probe.transport == Transport::Udp {
                return Err("tcpwrappedms applies to TCP probes only".to_string());
            }
            probe.tcpwrapped = Some(parse_ms(value)?);
        }
        _ => {
            probe.fallback = value.split(',').map(|n| n.trim().to_string()).collect();
            if probe.fallback.iter().any(String::is_empty) {
                return Err(format!("bad fallback list '{value}'"));
            }
        }
    }
    Ok(())
}

/// `21,80-90`: single ports and inclusive ranges.
pub(crate) fn parse_ports(value: &str) -> Result<Vec<(u16, u16)>, String> {
    let bad = |item: &str| format!("bad port or port range '{item}'");
    let mut ranges = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let (lo, hi) = item.split_once('-').unwrap_or((item, item));
        let lo: u16 = lo.trim().parse().map_err(|_| bad(item))?;
        let hi: u16 = hi.trim().parse().map_err(|_| bad(item))?;
        if lo > hi {
            return Err(bad(item));
        }
        ranges.push((lo, hi));
    }
    Ok(ranges)
}

fn parse_ms(value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(ms @ 1..=MAX_WAIT_MS) => Ok(Duration::from_millis(ms)),
        _ => Err(format!("expected milliseconds in 1..={MAX_WAIT_MS}, not '{value}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_ports("21, 80-90,443").unwrap(), vec![(21, 21), (80, 90), (443, 443)]);
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("70000").is_err());
        assert!(parse_ports("80,").is_err());
        assert!(parse_ports("a-b").is_err());
    }

    #[test]
    fn probe_defaults_and_fallbacks() {
        let text = "Probe TCP A q|x|\nfallback B\nProbe TCP B q|y|\nrarity 2\ntotalwaitms 100\ntcpwrappedms 50\n";
        let parsed = parse(text, "t").unwrap();
        assert_eq!(parsed.probes[0].rarity, DEFAULT_RARITY);
        assert_eq!(parsed.probes[0].wait, DEFAULT_WAIT);
        assert_eq!(parsed.fallbacks[0], vec![ProbeId(1)]);
        assert_eq!(parsed.probes[1].wait, Duration::from_millis(100));
        assert_eq!(parsed.probes[1].tcpwrapped, Some(Duration::from_millis(50)));
    }
}
