//! Turning target specs into the lazy stream of hosts the engine scans.
//!
//! Host names are resolved through the system resolver (getaddrinfo), once, before the scan; a name that
//! does not resolve is reported and skipped, and the other targets are still scanned. Address blocks are
//! never materialised: each spec yields its addresses one at a time, with exclusions skipped.

use std::net::{IpAddr, ToSocketAddrs};

use tojimari_core::report::{Hostname, HostnameKind};
use tojimari_core::target::{Exclusions, TargetIter, TargetSpec};
use tojimari_engine::ScanTarget;

/// A target spec with the name the user typed, when it was a host name.
#[derive(Debug, Clone)]
struct Resolved {
    spec: TargetSpec,
    name: Option<(String, IpAddr)>,
}

/// Targets ready to scan.
#[derive(Debug, Clone)]
pub struct Targets {
    specs: Vec<Resolved>,
    exclusions: Exclusions,
}

/// Resolves a host name to one address, preferring IPv4; with `prefer_ipv6` (-6) only an IPv6 address will
/// do, as nmap's -6 scans IPv6 only.
pub fn resolve_name(name: &str, prefer_ipv6: bool) -> Result<IpAddr, String> {
    let addrs: Vec<IpAddr> = (name, 0u16).to_socket_addrs().map_err(|e| e.to_string())?.map(|sa| sa.ip()).collect();
    if prefer_ipv6 {
        return addrs.into_iter().find(IpAddr::is_ipv6).ok_or_else(|| "no IPv6 address (-6 scans IPv6)".to_string());
    }
    addrs
        .iter()
        .find(|a| a.is_ipv6() == prefer_ipv6)
        .or(addrs.first())
        .copied()
        .ok_or_else(|| "no addresses".to_string())
}

impl Targets {
    /// Resolves the host names among `specs` and `exclude_names`; `warn` hears about each failure.
    pub fn resolve(
        specs: &[TargetSpec],
        mut exclusions: Exclusions,
        exclude_names: &[TargetSpec],
        prefer_ipv6: bool,
        warn: &mut dyn FnMut(String),
    ) -> Targets {
        for spec in exclude_names {
            if let TargetSpec::Hostname { name, .. } = spec {
                match resolve_name(name, prefer_ipv6).and_then(|a| spec.with_resolved(a).map_err(|e| e.to_string())) {
                    Ok(resolved) => {
                        if let Err(e) = exclusions.add(&resolved) {
                            warn(format!("cannot exclude \"{name}\": {e}"));
                        }
                    }
                    Err(e) => warn(format!("Failed to resolve \"{name}\" (in --exclude): {e}")),
                }
            }
        }
        let mut out = Vec::new();
        for spec in specs {
            match spec {
                TargetSpec::Hostname { name, .. } => match resolve_name(name, prefer_ipv6) {
                    Ok(addr) => match spec.with_resolved(addr) {
                        Ok(resolved) => out.push(Resolved { spec: resolved, name: Some((name.clone(), addr)) }),
                        Err(e) => warn(format!("Skipping \"{name}\": {e}")),
                    },
                    Err(e) => warn(format!("Failed to resolve \"{name}\": {e}")),
                },
                other => out.push(Resolved { spec: other.clone(), name: None }),
            }
        }
        Targets { specs: out, exclusions }
    }

    /// Number of addresses before exclusions (for progress; exact when nothing is excluded).
    pub fn len_hint(&self) -> u128 {
        self.specs.iter().map(|r| r.spec.len()).sum()
    }

    /// The target specs, host names replaced by the addresses they resolved to.
    pub fn specs(&self) -> Vec<TargetSpec> {
        self.specs.iter().map(|r| r.spec.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// The hosts, lazily, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = ScanTarget> + '_ {
        self.specs.iter().flat_map(move |r| {
            TargetIter::new(vec![r.spec.clone()], self.exclusions.clone()).map(move |addr| {
                let hostnames = match &r.name {
                    Some((name, resolved)) if *resolved == addr => {
                        vec![Hostname { name: name.clone(), kind: HostnameKind::User }]
                    }
                    _ => Vec::new(),
                };
                ScanTarget { addr, hostnames }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_core::target::parse_target;

    #[test]
    fn localhost_resolves_and_keeps_its_name() {
        // /etc/hosts answers "localhost" without any network. (A name that does not resolve is tested
        // end to end inside the test bed, where no DNS query can leave.)
        let specs = vec![parse_target("localhost").unwrap(), parse_target("198.18.0.0/30").unwrap()];
        let mut warnings = Vec::new();
        let targets = Targets::resolve(&specs, Exclusions::new(), &[], false, &mut |w| warnings.push(w));
        assert!(warnings.is_empty(), "{warnings:?}");
        let hosts: Vec<_> = targets.iter().collect();
        assert_eq!(hosts.len(), 5);
        assert!(hosts[0].addr.is_loopback());
        assert_eq!(hosts[0].hostnames[0].name, "localhost");
        assert!(hosts[1].hostnames.is_empty());
    }

    #[test]
    fn exclusions_apply() {
        let specs = vec![parse_target("198.18.0.0/29").unwrap()];
        let mut excl = Exclusions::new();
        excl.add(&parse_target("198.18.0.2-5").unwrap()).unwrap();
        let targets = Targets::resolve(&specs, excl, &[], false, &mut |_| {});
        let hosts: Vec<String> = targets.iter().map(|t| t.addr.to_string()).collect();
        assert_eq!(hosts, ["198.18.0.0", "198.18.0.1", "198.18.0.6", "198.18.0.7"]);
    }
}
