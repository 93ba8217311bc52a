//! tojimari's service probe database: the text format, its parser, and matching responses to services.
//! No I/O.
//!
//! CONTRACT (signatures fixed; the prober in tojimari-service codes against them; bodies to be written):
//! - [`ProbeDb::builtin`] is the database shipped in `data/service-probes.txt` (parsed once).
//! - [`ProbeDb::parse`] reads a database text; errors name the file and line.
//! - [`ProbeDb::select`] orders the probes to send to a port; [`ProbeDb::match_response`] names a service.

use std::time::Duration;

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
}

impl ProbeDb {
    /// The database shipped with tojimari (`data/service-probes.txt`), parsed on first use.
    pub fn builtin() -> &'static ProbeDb {
        unimplemented!()
    }

    /// Parses a database; `file` names it in errors.
    pub fn parse(_text: &str, _file: &str) -> Result<ProbeDb, DbError> {
        unimplemented!()
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
    /// (in `sslports` when `tls`, else `ports`) whatever their rarity, then the others with
    /// `rarity <= intensity` by rarity. `soft_service` (after a soft match) keeps only probes having a match
    /// line for that service.
    pub fn select(
        &self,
        _transport: Transport,
        _port: u16,
        _intensity: u8,
        _tls: bool,
        _soft_service: Option<&str>,
    ) -> Vec<ProbeId> {
        unimplemented!()
    }

    /// Matches a response to `probe`: its own match lines first, then those of its fallbacks, then (TCP)
    /// the NULL probe's. Hard matches win over soft ones; the first hard match in file order wins.
    pub fn match_response(&self, _probe: ProbeId, _response: &[u8]) -> Option<Match> {
        unimplemented!()
    }
}
