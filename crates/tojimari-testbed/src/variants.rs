//! Linux variants: a real target namespace whose per-namespace TCP/IP sysctls are changed, so a test can
//! check that OS detection still says Linux when one or two facts move.
//!
//! Each [`LinuxVariant`] is a set of `net.ipv4.*` sysctls; [`LinuxVariant::apply`] writes them in the
//! target's namespace only.

use crate::bed::Target;
use crate::error::Result;

/// A change to a Linux target's TCP/IP behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinuxVariant {
    /// The kernel's defaults (nothing changed).
    Stock,
    /// `net.ipv4.tcp_timestamps=0`: no timestamp option (so no uptime).
    NoTimestamps,
    /// `net.ipv4.tcp_sack=0`: no SACK-permitted option.
    NoSack,
    /// `net.ipv4.tcp_window_scaling=0`: no window scale option.
    NoWindowScaling,
    /// `net.ipv4.ip_default_ttl=N`, e.g. 128 to look like Windows at a glance.
    Ttl(u8),
    /// `net.ipv4.tcp_ecn=1`: ECN requested and accepted (the default 2 only accepts).
    EcnOn,
    /// `net.ipv4.tcp_ecn=0`: ECN neither requested nor accepted.
    EcnOff,
    /// No timestamps, no SACK, no window scaling and TTL 128 at once.
    Stripped,
}

impl LinuxVariant {
    /// The usual set for an OS-detection test: every single change, and all at once.
    pub fn all() -> Vec<LinuxVariant> {
        use LinuxVariant::*;
        vec![Stock, NoTimestamps, NoSack, NoWindowScaling, Ttl(128), EcnOn, EcnOff, Stripped]
    }

    /// A short name, e.g. `linux-no-timestamps`, `linux-ttl-128`.
    pub fn name(&self) -> String {
        match self {
            LinuxVariant::Stock => "linux".into(),
            LinuxVariant::NoTimestamps => "linux-no-timestamps".into(),
            LinuxVariant::NoSack => "linux-no-sack".into(),
            LinuxVariant::NoWindowScaling => "linux-no-window-scaling".into(),
            LinuxVariant::Ttl(ttl) => format!("linux-ttl-{ttl}"),
            LinuxVariant::EcnOn => "linux-ecn-on".into(),
            LinuxVariant::EcnOff => "linux-ecn-off".into(),
            LinuxVariant::Stripped => "linux-stripped".into(),
        }
    }

    /// The sysctls it sets, in order.
    pub fn sysctls(&self) -> Vec<(&'static str, String)> {
        match *self {
            LinuxVariant::Stock => Vec::new(),
            LinuxVariant::NoTimestamps => vec![("net.ipv4.tcp_timestamps", "0".into())],
            LinuxVariant::NoSack => vec![("net.ipv4.tcp_sack", "0".into())],
            LinuxVariant::NoWindowScaling => vec![("net.ipv4.tcp_window_scaling", "0".into())],
            LinuxVariant::Ttl(ttl) => vec![("net.ipv4.ip_default_ttl", ttl.max(1).to_string())],
            LinuxVariant::EcnOn => vec![("net.ipv4.tcp_ecn", "1".into())],
            LinuxVariant::EcnOff => vec![("net.ipv4.tcp_ecn", "0".into())],
            LinuxVariant::Stripped => [
                LinuxVariant::NoTimestamps,
                LinuxVariant::NoSack,
                LinuxVariant::NoWindowScaling,
                LinuxVariant::Ttl(128),
            ]
            .iter()
            .flat_map(LinuxVariant::sysctls)
            .collect(),
        }
    }

    /// Writes its sysctls in `target`'s namespace.
    pub fn apply(&self, target: &Target) -> Result<()> {
        let settings = self.sysctls();
        let borrowed: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if borrowed.is_empty() {
            return Ok(());
        }
        target.ns.sysctls(&borrowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sysctls() {
        assert_eq!(LinuxVariant::Ttl(128).sysctls(), vec![("net.ipv4.ip_default_ttl", "128".to_owned())]);
        assert_eq!(LinuxVariant::Stripped.sysctls().len(), 4);
        assert!(LinuxVariant::Stock.sysctls().is_empty());
        let names: Vec<String> = LinuxVariant::all().iter().map(LinuxVariant::name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }
}
