//! How hard and how long version detection tries: intensity, timeouts, connection limits, read caps, and
//! which extras (TLS details, exposure checks) run.
//!
//! Timeouts are deliberately far below nmap's: a probe waits `min(Probe.wait, probe_wait_cap)`, probes run
//! in parallel, and a port never takes longer than `port_time_cap`. Services that answer do so within a few
//! round trips; waiting nmap's 5-6 s per silent probe in sequence is what makes `nmap -sV` slow.

use std::fmt;
use std::time::Duration;

use tojimari_probedb::ProbeDb;

/// Settings for [`identify_port`](crate::identify_port), [`identify_host`](crate::identify_host) and
/// [`IdentifySink`](crate::IdentifySink). Start from [`IdentifyOptions::new`] (or `default()`) and chain setters.
#[derive(Clone)]
pub struct IdentifyOptions {
    /// The probe database (`ProbeDb::builtin()`, or a `--versiondb` file leaked to `'static`).
    pub db: &'static ProbeDb,
    /// `--version-intensity`: probes of rarity above this are sent only when the port is listed for them.
    pub intensity: u8,
    /// Upper bound of any single probe's wait (the database's `wait` is used when shorter).
    pub probe_wait_cap: Duration,
    /// Timeout for a TCP connect and for a TLS handshake.
    pub connect_timeout: Duration,
    /// Total time one port may take, whatever is still pending.
    pub port_time_cap: Duration,
    /// Connections open at once to one host.
    pub max_host_connections: usize,
    /// Connections (probes in flight) open at once to one port.
    pub max_port_connections: usize,
    /// Ports of one host probed at once.
    pub max_host_ports: usize,
    /// Hosts an [`IdentifySink`](crate::IdentifySink) probes at once.
    pub max_parallel_hosts: usize,
    /// Bytes kept of one response; the rest is not read.
    pub max_response_bytes: usize,
    /// UDP: times a probe is re-sent when nothing comes back.
    pub udp_retries: u8,
    /// `--script ssl-*`-like TLS facts: when true, legacy versions are probed too (`tls-versions`).
    pub tls: bool,
    /// Run exposure checks (passive judgement and safe active checks) on each named service.
    pub checks: bool,
    /// Add a `banner` detail: the first line a service sent unasked (the NULL probe's answer).
    pub banners: bool,
}

impl fmt::Debug for IdentifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentifyOptions")
            .field("probes", &self.db.probes().len())
            .field("intensity", &self.intensity)
            .field("probe_wait_cap", &self.probe_wait_cap)
            .field("connect_timeout", &self.connect_timeout)
            .field("port_time_cap", &self.port_time_cap)
            .field("max_host_connections", &self.max_host_connections)
            .field("max_port_connections", &self.max_port_connections)
            .field("max_host_ports", &self.max_host_ports)
            .field("max_parallel_hosts", &self.max_parallel_hosts)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("udp_retries", &self.udp_retries)
            .field("tls", &self.tls)
            .field("checks", &self.checks)
            .field("banners", &self.banners)
            .finish()
    }
}

impl Default for IdentifyOptions {
    /// The builtin database with the defaults of [`IdentifyOptions::with_db`].
    fn default() -> Self {
        IdentifyOptions::with_db(ProbeDb::builtin())
    }
}

impl IdentifyOptions {
    /// nmap's default `--version-intensity`.
    pub const DEFAULT_INTENSITY: u8 = 7;
    /// `--version-light`.
    pub const LIGHT_INTENSITY: u8 = 2;
    /// `--version-all`.
    pub const ALL_INTENSITY: u8 = 9;

    /// Same as `default()`: the builtin database.
    pub fn new() -> Self {
        IdentifyOptions::default()
    }

    /// Defaults with another database: intensity 7, probes wait at most 2.5 s, connect 3 s, a port at most
    /// 12 s, 32 connections per host, 6 per port, 16 ports per host and 4 hosts at once, 64 KiB per response, 2 UDP
    /// retries, no legacy TLS probing, no checks.
    pub fn with_db(db: &'static ProbeDb) -> Self {
        IdentifyOptions {
            db,
            intensity: Self::DEFAULT_INTENSITY,
            probe_wait_cap: Duration::from_millis(2500),
            connect_timeout: Duration::from_secs(3),
            port_time_cap: Duration::from_secs(12),
            max_host_connections: 32,
            max_port_connections: 6,
            max_host_ports: 16,
            max_parallel_hosts: 4,
            max_response_bytes: 64 * 1024,
            udp_retries: 2,
            tls: false,
            checks: false,
            banners: false,
        }
    }

    pub fn db(mut self, db: &'static ProbeDb) -> Self {
        self.db = db;
        self
    }

    /// Clamped to 0..=9.
    pub fn intensity(mut self, intensity: u8) -> Self {
        self.intensity = intensity.min(9);
        self
    }

    pub fn probe_wait_cap(mut self, cap: Duration) -> Self {
        self.probe_wait_cap = cap;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn port_time_cap(mut self, cap: Duration) -> Self {
        self.port_time_cap = cap;
        self
    }

    /// At least 1.
    pub fn max_host_connections(mut self, n: usize) -> Self {
        self.max_host_connections = n.max(1);
        self
    }

    /// At least 1.
    pub fn max_port_connections(mut self, n: usize) -> Self {
        self.max_port_connections = n.max(1);
        self
    }

    /// At least 1.
    pub fn max_host_ports(mut self, n: usize) -> Self {
        self.max_host_ports = n.max(1);
        self
    }

    /// At least 1.
    pub fn max_parallel_hosts(mut self, n: usize) -> Self {
        self.max_parallel_hosts = n.max(1);
        self
    }

    /// At least 1 KiB.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n.max(1024);
        self
    }

    pub fn udp_retries(mut self, n: u8) -> Self {
        self.udp_retries = n;
        self
    }

    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    pub fn checks(mut self, on: bool) -> Self {
        self.checks = on;
        self
    }

    pub fn banners(mut self, on: bool) -> Self {
        self.banners = on;
        self
    }

    /// How long to wait for one probe's answer.
    pub(crate) fn probe_wait(&self, wait: Duration) -> Duration {
        wait.min(self.probe_wait_cap).max(Duration::from_millis(100))
    }
}
