//! What a sink keeps from [`Sink::run_start`](tojimari_core::Sink::run_start) for the rest of the run.

use tojimari_core::report::{DisplayOptions, RunInfo};
use tojimari_core::{Protocol, ScanType};

use crate::collapse::CollapseRule;

#[derive(Clone, Debug)]
pub(crate) struct RunContext {
    pub display: DisplayOptions,
    /// Whether any port was to be scanned (false for `-sn`): decides whether hosts get a port section.
    pub port_scan: bool,
    /// (protocol, port count, compact ranges) per scanned protocol, for the grepable "Ports scanned".
    pub scanned: Vec<(Protocol, usize, String)>,
    /// A list scan (`-sL`): targets named, nothing sent.
    pub list_scan: bool,
}

impl RunContext {
    pub fn new(run: &RunInfo) -> RunContext {
        let port_scans = run.scans.iter().filter(|s| s.scan_type.is_port_scan());
        RunContext {
            display: run.display,
            port_scan: port_scans.clone().next().is_some(),
            scanned: port_scans
                .map(|s| (s.proto, s.ports.len(), crate::collapse::compact_ranges(s.ports.as_slice())))
                .collect(),
            list_scan: run.scans.iter().any(|s| s.scan_type == ScanType::List),
        }
    }

    pub fn collapse_rule(&self) -> CollapseRule {
        CollapseRule::for_display(&self.display)
    }
}

impl Default for RunContext {
    /// Used only if a caller breaks the contract and reports hosts before `run_start`.
    fn default() -> Self {
        RunContext { display: DisplayOptions::default(), port_scan: true, scanned: Vec::new(), list_scan: false }
    }
}
