//! What OS detection found about one host, as values every printer reads: nmap's `<os>` element (port
//! used, matches with their classes, uptime, distance, sequence analyses) and the passive guess a scan
//! makes from the answers it already had.
//!
//! `tojimari-osdetect` fills these in; the engines attach them to a [`HostReport`](crate::HostReport);
//! `tojimari-output` prints them. Nothing here decides anything.

use std::time::SystemTime;

use crate::protocol::Protocol;
use crate::state::PortState;

/// How a guess was reached.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OsMethod {
    /// `-O`: probes sent for the purpose (nmap's `<os>`).
    #[default]
    Active,
    /// From the answers the scan already had (the SYN/ACKs' TTL, window, options and DF), without `-O`.
    Passive,
}

/// A port the active tests used (nmap's `<portused state proto portid>`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortUsed {
    pub state: PortState,
    pub proto: Protocol,
    pub port: u16,
}

/// One class an OS match belongs to (nmap's `<osclass>`): `general purpose`, `Linux`, `Linux`, `5.X`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OsClass {
    /// Device type: `general purpose`, `router`, `printer`, `WAP`, `specialized`, ...
    pub device_type: String,
    pub vendor: String,
    pub family: String,
    /// The generation (`10`, `5.X`, `12.X`), when the facts narrow it down.
    pub generation: Option<String>,
    /// Percent, 0..=100.
    pub accuracy: u8,
    /// CPE names (`cpe:/o:linux:linux_kernel:5`).
    pub cpe: Vec<String>,
}

/// One candidate operating system (nmap's `<osmatch name accuracy line>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OsMatch {
    /// The entry's name in the fingerprint database (`Linux 5.0 - 6.8`).
    pub name: String,
    /// Percent, 0..=100.
    pub accuracy: u8,
    /// The line of the database where the entry starts.
    pub line: u32,
    pub classes: Vec<OsClass>,
}

/// The uptime the TCP timestamp clock implies (nmap's `<uptime seconds lastboot>`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Uptime {
    pub seconds: u64,
    pub last_boot: SystemTime,
}

/// How predictable the initial sequence numbers are (nmap's `<tcpsequence index difficulty values>`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TcpSequence {
    /// nmap's sequence predictability index (0 = constant, up to a few hundred for random ISNs).
    pub index: u32,
    /// `Good luck!`, `Worthy challenge`, `Trivial joke`, ... in nmap's words.
    pub difficulty: String,
    /// The ISNs seen, in probe order.
    pub values: Vec<u32>,
}

/// A series of values and the class it falls in: IP IDs (`Incremental`, `All zeros`, `Randomized`,
/// `Broken little-endian incremental`, ...) or TCP timestamps (`1000HZ`, `zero timestamp`, ...).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SequenceClass {
    pub class: String,
    pub values: Vec<u32>,
}

/// What OS detection found about one host.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OsReport {
    pub method: OsMethod,
    /// The ports the tests used: an open TCP port, a closed TCP port, a closed UDP port (each when found).
    pub ports_used: Vec<PortUsed>,
    /// Best first. Empty when nothing came close enough.
    pub matches: Vec<OsMatch>,
    /// True when no match was close enough to be stated, and `matches` are guesses (nmap's "Aggressive
    /// OS guesses" / "No exact OS matches for host").
    pub guessed: bool,
    /// Why the tests were fewer or the answer weaker, one sentence each ("no closed TCP port was found,
    /// so 3 of 16 tests did not run"): printed as nmap prints its OS warnings.
    pub notes: Vec<String>,
    /// Hops to the host: 0 for this host, 1 on the local link.
    pub distance: Option<u8>,
    pub uptime: Option<Uptime>,
    pub tcp_sequence: Option<TcpSequence>,
    pub ip_id_sequence: Option<SequenceClass>,
    pub tcp_ts_sequence: Option<SequenceClass>,
    /// The facts measured, in the fingerprint database's own notation: shown when nothing matched
    /// exactly, so the user can add an entry (XML `<osfingerprint fingerprint>`).
    pub fingerprint: Option<String>,
}

impl OsReport {
    /// The best match, if any.
    pub fn best(&self) -> Option<&OsMatch> {
        self.matches.first()
    }
}
