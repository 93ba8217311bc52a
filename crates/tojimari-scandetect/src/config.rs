//! The detector's settings: which addresses are "this host", thresholds, and the caps that
//! bound its memory. [`DetectorConfig::default`] is tuned for one host at normal speeds.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

/// An address prefix such as `198.18.0.0/24` or `2001:db8::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNet {
    addr: IpAddr,
    prefix: u8,
}

/// A prefix that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address or address/prefix: {text:?}")]
pub struct LocalNetError {
    /// The text given.
    pub text: String,
}

impl LocalNet {
    /// A single address (/32 or /128).
    pub fn host(addr: IpAddr) -> LocalNet {
        LocalNet { addr, prefix: if addr.is_ipv4() { 32 } else { 128 } }
    }

    /// `addr/prefix`, or `None` when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<LocalNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(LocalNet { addr, prefix })
    }

    /// Whether `ip` falls inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for LocalNet {
    type Err = LocalNetError;

    fn from_str(text: &str) -> Result<LocalNet, LocalNetError> {
        let error = || LocalNetError { text: text.to_owned() };
        match text.split_once('/') {
            None => text.parse().map(LocalNet::host).map_err(|_| error()),
            Some((addr, prefix)) => {
                let addr: IpAddr = addr.parse().map_err(|_| error())?;
                let prefix: u8 = prefix.parse().map_err(|_| error())?;
                LocalNet::new(addr, prefix).ok_or_else(error)
            }
        }
    }
}

impl fmt::Display for LocalNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which addresses the detector protects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LocalAddrs {
    /// Unknown: every address may be a watched host. Probes are recognised by their flags in
    /// either direction and answers by matching them to earlier probes. Right for replaying a
    /// capture of someone else's network; the host's own outgoing scans are reported too.
    #[default]
    Infer,
    /// The watched addresses/networks: only probes *to* them count, so this host's own
    /// outgoing connections and scans are never reported. List a whole subnet to see host
    /// sweeps across it (when the host routes or mirrors that subnet); a scanner inside the
    /// subnet is still reported for what it sends to the other watched addresses.
    Nets(Vec<LocalNet>),
}

impl LocalAddrs {
    /// Whether `ip` is watched (always true for [`LocalAddrs::Infer`]).
    pub fn is_watched(&self, ip: IpAddr) -> bool {
        match self {
            LocalAddrs::Infer => true,
            LocalAddrs::Nets(nets) => nets.iter().any(|n| n.contains(ip)),
        }
    }
}

/// The threshold random walk of Jung, Paxson, Berger and Balakrishnan ("Fast portscan
/// detection using sequential hypothesis testing", IEEE S&P 2004), over first contacts.
///
/// Each first contact from a source to a (address, port) either succeeds (SYN/ACK, a UDP or
/// ICMP answer) or fails (RST, ICMP unreachable, no answer). A benign source succeeds with
/// probability `benign_success`, a scanner with `scanner_success`; the walk adds
/// `ln(scanner_success / benign_success)` per success and
/// `ln((1 - scanner_success) / (1 - benign_success))` per failure and reports a scan when it
/// reaches `upper`. It never forgets with time, so probes minutes or hours apart add up just as
/// fast-arriving ones do; only successes (and eviction under memory pressure) pull it down.
/// It is floored at `floor` so that a long history of successes cannot hide a later scan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomWalk {
    /// P(success) for a benign source (Jung et al.: 0.8).
    pub benign_success: f32,
    /// P(success) for a scanner (Jung et al.: 0.2).
    pub scanner_success: f32,
    /// The log-likelihood ratio that declares a scan (ln 999: five straight failures).
    pub upper: f32,
    /// The lowest the walk can go (ln 1/999).
    pub floor: f32,
}

impl Default for RandomWalk {
    fn default() -> RandomWalk {
        RandomWalk { benign_success: 0.8, scanner_success: 0.2, upper: 999f32.ln(), floor: -(999f32.ln()) }
    }
}

impl RandomWalk {
    /// The step for a success (negative).
    pub fn success_step(&self) -> f32 {
        (self.scanner_success / self.benign_success).ln()
    }

    /// The step for a failure (positive).
    pub fn failure_step(&self) -> f32 {
        ((1.0 - self.scanner_success) / (1.0 - self.benign_success)).ln()
    }
}

/// Settings for [`crate::Detector`].
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Which addresses are this host.
    pub local: LocalAddrs,
    /// Distinct ports that make a port scan: failed ports (RST, unreachable, no answer) for
    /// SYN, connect and UDP probes; probed ports for FIN/NULL/Xmas (which no normal stack
    /// sends); RST-answered ports for ACK and Maimon probes (which look like late packets of
    /// closed connections until the host answers them with RST).
    pub port_threshold: u32,
    /// Distinct addresses that make a host sweep (failed first contacts on one port) or an
    /// ICMP sweep (requests).
    pub sweep_threshold: u32,
    /// The long-memory random walk.
    pub walk: RandomWalk,
    /// How long to wait for an answer before a probe counts as unanswered.
    pub answer_timeout: Duration,
    /// Update records of an open incident come at most this often, and only when it reached
    /// new ports or addresses.
    pub update_interval: Duration,
    /// An incident with no probe for this long is over: its closing record is written and
    /// the next scan from the source is a new incident. Slow scans get longer: eight times
    /// their average gap between probes, up to [`DetectorConfig::idle_expiry`].
    pub quiet_timeout: Duration,
    /// Probes further apart than this on average make a scan `slow`.
    pub slow_gap: Duration,
    /// A source not seen for this long is forgotten.
    pub idle_expiry: Duration,
    /// The most sources tracked at once; beyond it the lowest-scoring of a random sample is
    /// evicted, so a flood of spoofed sources cannot grow memory.
    pub max_sources: usize,
    /// The most ports an alert lists (the lowest ones; `ports_truncated` says when there are
    /// more). Counts and ranges are exact regardless.
    pub max_ports_per_scan: usize,
    /// The most 8 KiB port bitmaps held at once (a scan needs one past 256 ports, for exact
    /// counts); beyond it counts become estimates and say so. 4096 bound them to 32 MiB.
    pub max_port_maps: usize,
    /// The most probes awaiting an answer per source; older ones count as unanswered.
    pub max_pending: usize,
    /// Seed of the eviction sampler, so replays are exact.
    pub seed: u64,
}

impl Default for DetectorConfig {
    fn default() -> DetectorConfig {
        DetectorConfig {
            local: LocalAddrs::Infer,
            port_threshold: 10,
            sweep_threshold: 10,
            walk: RandomWalk::default(),
            answer_timeout: Duration::from_secs(3),
            update_interval: Duration::from_secs(60),
            quiet_timeout: Duration::from_secs(60),
            slow_gap: Duration::from_secs(30),
            idle_expiry: Duration::from_secs(24 * 3600),
            max_sources: 32_768,
            max_ports_per_scan: 128,
            max_port_maps: 4096,
            max_pending: 32,
            seed: 0x7031_6d61_7269_0001,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_parse_and_contain() {
        let net: LocalNet = "198.18.0.0/24".parse().unwrap();
        assert!(net.contains("198.18.0.77".parse().unwrap()));
        assert!(!net.contains("198.18.1.1".parse().unwrap()));
        assert!(!net.contains("2001:db8::1".parse().unwrap()));
        let all: LocalNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("9.9.9.9".parse().unwrap()));
        let host: LocalNet = "2001:db8::2".parse().unwrap();
        assert!(host.contains("2001:db8::2".parse().unwrap()));
        assert!(!host.contains("2001:db8::3".parse().unwrap()));
        assert!("1.2.3.4/33".parse::<LocalNet>().is_err());
        assert!("nonsense".parse::<LocalNet>().is_err());
    }

    #[test]
    fn walk_needs_five_failures() {
        let w = RandomWalk::default();
        assert!(4.0 * w.failure_step() < w.upper);
        assert!(5.0 * w.failure_step() >= w.upper);
        assert!(w.success_step() < 0.0);
    }
}
