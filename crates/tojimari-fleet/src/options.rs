//! What every worker of a fleet scan must agree on, recorded with the scan (JSON in `fleet_scans.options`):
//! the scan's own options as given, the targets as resolved once by `tojimari scan --workers`, the seed of
//! the probe order, and the size of the probe space. A worker rebuilds the scan from these alone, never from
//! its own command line, and refuses a scan whose probe space it computes differently (another version).

use serde::{Deserialize, Serialize};

/// The options format this tojimari writes and reads.
pub const VERSION: u32 = 1;

/// A fleet scan's options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOptions {
    pub version: u32,
    /// The tojimari that planned the scan (`CARGO_PKG_VERSION`).
    pub tojimari: String,
    /// The scan's arguments after `scan`, without the fleet's own (`--db`, `--workers`, `--chunk-size`) and
    /// without output files: the workers only record into the store.
    pub args: Vec<String>,
    /// The targets, host names replaced by the addresses they resolved to when the scan was planned.
    pub targets: Vec<String>,
    /// The probe order's seed (`None`: in order, `-r`).
    pub seed: Option<u64>,
    /// Hosts after exclusions, and positions of the probe space.
    pub hosts: u64,
    pub positions: u64,
    /// Hosts per group of the probe space (`tojimari_core::sweep::Space::with_group_hosts`): each chunk is
    /// one group, so no host is in two chunks.
    #[serde(default)]
    pub group_hosts: Option<u64>,
    /// The digest of the probe space (targets after excludes, ports, techniques, seed), as the planner
    /// computed it: a worker whose `--excludefile` or `-iL` reads otherwise gets another and refuses the scan.
    #[serde(default)]
    pub probe_space: Option<String>,
}

/// Why recorded options cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("the scan's options are damaged: {0}")]
    Damaged(String),
    #[error("the scan was planned by tojimari {planned} (options format {format}); this worker is {this}")]
    Version { planned: String, format: u32, this: String },
}

impl ScanOptions {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads options recorded by [`ScanOptions::to_text`]; `this` is the reading tojimari's version, which
    /// must be the planner's.
    pub fn from_text(text: &str, this: &str) -> Result<ScanOptions, OptionsError> {
        if text.len() > 64 << 20 {
            return Err(OptionsError::Damaged(format!("{} bytes", text.len())));
        }
        let options: ScanOptions = serde_json::from_str(text).map_err(|e| OptionsError::Damaged(e.to_string()))?;
        if options.version != VERSION || options.tojimari != this {
            return Err(OptionsError::Version {
                planned: options.tojimari,
                format: options.version,
                this: this.to_string(),
            });
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_versions_must_match() {
        let o = ScanOptions {
            version: VERSION,
            tojimari: "0.1.0".into(),
            args: vec!["-sS".into(), "-p".into(), "22,80".into()],
            targets: vec!["198.19.0.0/16".into()],
            seed: Some(7),
            hosts: 65536,
            positions: 131072,
            group_hosts: Some(1000),
            probe_space: Some("ab12".into()),
        };
        assert_eq!(ScanOptions::from_text(&o.to_text(), "0.1.0").unwrap(), o);
        assert!(matches!(ScanOptions::from_text(&o.to_text(), "0.2.0"), Err(OptionsError::Version { .. })));
        assert!(matches!(ScanOptions::from_text("[]", "0.1.0"), Err(OptionsError::Damaged(_))));
    }
}
