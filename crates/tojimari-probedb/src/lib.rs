//! tojimari's service probe database: the text format, its parser, and matching responses to services.
//! No I/O: the prober (tojimari-service) sends the probes and hands the answers back here.
//!
//! - [`ProbeDb::builtin`] is the database shipped in `data/service-probes.txt` (parsed once).
//! - [`ProbeDb::parse`] reads a database text; errors name the file and line (`FILE:LINE: message`).
//! - [`ProbeDb::select`] orders the probes to send to a port; [`ProbeDb::match_response`] names a service.
//!
//! # Format
//!
//! A line-oriented text, close to nmap's `nmap-service-probes` syntax (the data itself is our own). Blank lines
//! and lines starting with `#` are ignored. A `Probe` line starts a probe; the lines after it, up to the next
//! `Probe`, belong to it:
//!
//! ```text
//! Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
//! rarity 1
//! ports 80,8000-8090
//! sslports 443
//! totalwaitms 5000
//! tcpwrappedms 3000
//! fallback OtherProbe,Another
//! match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: nginx/([\d.]+)\r\n|s p/nginx/ v/$1/ cpe:/a:f5:nginx:$1/
//! softmatch http m|^HTTP/1\.[01] \d\d\d |
//! ```
//!
//! - `Probe TCP|UDP NAME q|PAYLOAD|`: the payload may use `\\ \0 \a \b \f \n \r \t \v \xNN`; any other escape
//!   is an error. An empty TCP payload (the `NULL` probe) means "connect and wait for a banner".
//! - `rarity N` (1..9, default 5): sent when `N <= intensity`. `ports`/`sslports`: single ports and ranges
//!   where the probe is sent whatever its rarity (`sslports` inside TLS). `totalwaitms` (default 5000) and
//!   `tcpwrappedms` in milliseconds. `fallback A,B`: probes of the same transport whose match lines are also
//!   tried on this probe's answer.
//! - `match SERVICE m|REGEX|FLAGS FIELDS...` and `softmatch SERVICE m|REGEX|FLAGS`. Any non-alphanumeric
//!   character can delimit a field (`m|..|`, `m=..=`, `p/../`, `i|..|`); a field ends at the next occurrence of
//!   its delimiter, with no escape for it. Flags: `s` (dot matches newline), `i` (ASCII case-insensitive).
//!   Fields: `p/product/ v/version/ i/extrainfo/ h/hostname/ o/ostype/ d/devicetype/ cpe:/part:vendor:product/`
//!   (repeatable). Templates in fields substitute `$1`..`$9` (non-printable bytes as `\xNN`), `$P(n)`
//!   (printable bytes only) and `$SUBST(n,"from","to")`.
//! - Patterns are [`regex::bytes`] patterns with Unicode off (`(?-u)`), not PCRE: we write our own patterns, so
//!   we need no look-around or back-references, and the crate matches in time linear in the input, so a hostile
//!   banner cannot make a pattern backtrack. `\0` means `\x00`; `$` matches only at the very end.
//!
//! # Limits
//!
//! A database holds at most [`limits::MAX_PROBES`] probes and [`limits::MAX_MATCHES`] match lines, whose
//! patterns together compile to at most [`limits::MAX_PATTERN_MEMORY`]; one pattern compiles to at most
//! 256 KiB and grows a matching cache of at most 64 KiB. Past any of these,
//! [`ProbeDb::parse`] fails naming the line. (The caller bounds the text itself: `--versiondb` reads at most
//! 8 MiB.)
//!
//! # Matching
//!
//! Only the first [`MAX_RESPONSE`] bytes of an answer are matched, which bounds the time a hostile server can
//! make us spend. A probe's own lines are tried first, then its fallbacks', then (TCP) the NULL probe's; the
//! first hard match wins, else the first soft match.

mod cursor;
pub mod limits {
    //! The bounds of a probe database (see the crate documentation).
    pub use crate::parse::{MAX_MATCHES, MAX_PATTERN_MEMORY, MAX_PROBES};
}
mod escape;
mod parse;
mod rule;
mod service_info;
mod template;

use std::sync::OnceLock;
use std::time::Duration;

use rule::Rule;
pub use service_info::{CONF_HARD, CONF_SOFT, MAX_FIELD};

/// Answers are matched on their first this many bytes only.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// The text of the shipped database.
pub const BUILTIN_TEXT: &str = include_str!("../data/service-probes.txt");

/// TCP or UDP.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
}

/// Index of a probe in [`ProbeDb::probes`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeId(pub usize);

/// One probe: bytes to send and what to expect back.
#[derive(Clone, Debug)]
pub struct Probe {
    pub name: String,
    pub transport: Transport,
    /// Bytes to send; empty for the NULL probe (just wait for a banner).
    pub payload: Vec<u8>,
    /// 1 (sent almost always) ..= 9 (sent only with high `--version-intensity`).
    pub rarity: u8,
    /// Ports where this probe is likely to get an answer (plain).
    pub ports: Vec<(u16, u16)>,
    /// Ports where this probe is likely to get an answer inside TLS.
    pub sslports: Vec<(u16, u16)>,
    /// How long to wait for an answer in total.
    pub wait: Duration,
    /// If the server closes within this time without sending anything, the port is "tcpwrapped".
    pub tcpwrapped: Option<Duration>,
    /// Probes whose match lines are also tried on this probe's response, in order.
    pub fallback: Vec<String>,
}

/// A service as a match line names it, with its templates filled from the response.
///
/// `ServiceInfo::from(&match)` turns it into the report's service (fields cleaned for printing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Match {
    pub service: String,
    /// A soft match names the service but not the product: keep probing with probes for that service.
    pub soft: bool,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    pub hostname: Option<String>,
    pub ostype: Option<String>,
    pub devicetype: Option<String>,
    pub cpe: Vec<String>,
    /// Line number in the database (for debugging and `-d` output).
    pub line: usize,
}

/// A database line that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DbError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The parsed probe database.
#[derive(Debug)]
pub struct ProbeDb {
    probes: Vec<Probe>,
    /// Match lines of each probe, in file order.
    rules: Vec<Vec<Rule>>,
    /// Resolved `fallback` probes of each probe.
    fallbacks: Vec<Vec<ProbeId>>,
    /// The TCP probe with an empty payload named NULL, if the database has one.
    null: Option<ProbeId>,
}

impl ProbeDb {
    /// The database shipped with tojimari (`data/service-probes.txt`), parsed on first use.
    pub fn builtin() -> &'static ProbeDb {
        static BUILTIN: OnceLock<ProbeDb> = OnceLock::new();
        // The shipped text is fixed at build time and a test parses it, so this cannot fail at run time.
        BUILTIN.get_or_init(|| {
            ProbeDb::parse(BUILTIN_TEXT, "service-probes.txt").expect("the builtin probe database parses (tested)")
        })
    }

    /// Parses a database; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ProbeDb, DbError> {
        let parsed = parse::parse(text, file)?;
        let null = parsed.probes.iter().position(|p| p.transport == Transport::Tcp && p.payload.is_empty());
        Ok(ProbeDb { probes: parsed.probes, rules: parsed.rules, fallbacks: parsed.fallbacks, null: null.map(ProbeId) })
    }

    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    pub fn probe(&self, id: ProbeId) -> &Probe {
        &self.probes[id.0]
    }

    pub fn find(&self, transport: Transport, name: &str) -> Option<ProbeId> {
        self.probes.iter().position(|p| p.transport == transport && p.name == name).map(ProbeId)
    }

    /// The probes to send to `port`, best first: for TCP the NULL probe first, then probes that list the port
    /// (in `sslports` when `tls`, else `ports`) whatever their rarity, in file order, then the others with
    /// `rarity <= intensity` by rarity (file order among equals). `soft_service` (after a soft match) keeps only
    /// probes having a hard match line for that service (their own or a fallback's) and drops the NULL probe,
    /// which has already been tried. UDP has no NULL probe.
    pub fn select(
        &self,
        transport: Transport,
        port: u16,
        intensity: u8,
        tls: bool,
        soft_service: Option<&str>,
    ) -> Vec<ProbeId> {
        let wanted = |id: ProbeId| {
            let probe = self.probe(id);
            probe.transport == transport
                && Some(id) != self.null
                && !probe.payload.is_empty()
                && soft_service.is_none_or(|service| self.names_service(id, service))
        };
        let lists_port = |id: ProbeId| {
            let probe = self.probe(id);
            let ranges = if tls { &probe.sslports } else { &probe.ports };
            ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&port))
        };

        let mut order = Vec::new();
        if transport == Transport::Tcp && soft_service.is_none() {
            order.extend(self.null);
        }
        let ids = (0..self.probes.len()).map(ProbeId).filter(|&id| wanted(id));
        let (listed, others): (Vec<_>, Vec<_>) = ids.partition(|&id| lists_port(id));
        order.extend(listed);
        let mut others: Vec<_> = others.into_iter().filter(|&id| self.probe(id).rarity <= intensity).collect();
        // A stable sort keeps file order among probes of equal rarity.
        others.sort_by_key(|&id| self.probe(id).rarity);
        order.extend(others);
        order
    }

    /// Matches a response to `probe`: its own match lines first, then those of its fallbacks, then (TCP)
    /// the NULL probe's. Hard matches win over soft ones; the first hard match in that order wins. Only the
    /// first [`MAX_RESPONSE`] bytes are looked at; an empty response matches nothing.
    pub fn match_response(&self, probe: ProbeId, response: &[u8]) -> Option<Match> {
        if response.is_empty() {
            return None;
        }
        let response = &response[..response.len().min(MAX_RESPONSE)];
        let mut soft = None;
        for rule in self.rules_for(probe) {
            if soft.is_some() && rule.soft {
                continue;
            }
            if let Some(m) = rule.apply(response) {
                if !m.soft {
                    return Some(m);
                }
                soft = Some(m);
            }
        }
        soft
    }

    /// The match lines tried on an answer to `probe`, in order.
    fn rules_for(&self, probe: ProbeId) -> impl Iterator<Item = &Rule> {
        let own = std::iter::once(probe);
        let fallbacks = self.fallbacks[probe.0].iter().copied();
        let null = self
            .null
            .filter(|&null| self.probe(probe).transport == Transport::Tcp && null != probe)
            .filter(|null| !self.fallbacks[probe.0].contains(null));
        own.chain(fallbacks).chain(null).flat_map(|id| self.rules[id.0].iter())
    }

    /// Whether a hard match line of `id` or of its fallbacks names `service`.
    fn names_service(&self, id: ProbeId, service: &str) -> bool {
        std::iter::once(id)
            .chain(self.fallbacks[id.0].iter().copied())
            .any(|id| self.rules[id.0].iter().any(|r| !r.soft && r.service == service))
    }
}
