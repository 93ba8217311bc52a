//! Turning target specs into the lazy stream of hosts the engine scans.
//!
//! Host names are resolved through the system resolver (getaddrinfo), once, before the scan; a name that
//! does not resolve is reported and skipped, and the other targets are still scanned. Address blocks are
//! never materialised: each spec yields its addresses one at a time, with exclusions skipped.
//!
//! This is the one place targets become hosts: the scan, `-sL`, `check`, shards, resume and the fleet all
//! take their hosts from [`Targets::iter`], so `--exclude`/`--excludefile` and the reserved ranges (see
//! `tojimari_core::target::RESERVED` and docs/manners.md) apply to every path alike. A reserved block a spec
//! merely contains (`0.0.0.0/0` holds multicast) is taken out of that spec, with one `note:` for the run; a
//! spec inside a block names it and is scanned, with a `warning:` for multicast and the like.

use std::net::{IpAddr, ToSocketAddrs};

use tojimari_core::diagnostic::Level;
use tojimari_core::report::{Hostname, HostnameKind};
use tojimari_core::target::{Exclusions, ReservedBlock, ReservedOverlap, TargetIter, TargetSpec, WhenNamed};
use tojimari_engine::ScanTarget;

/// A target spec with the name the user typed, when it was a host name.
#[derive(Debug, Clone)]
struct Resolved {
    spec: TargetSpec,
    name: Option<(String, IpAddr)>,
    /// The reserved blocks this spec contains without naming them, left out of it.
    reserved: Exclusions,
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
    /// Resolves the host names among `specs` and `exclude_names`; `tell` hears a warning for each failure and
    /// for each reserved block named, and one note for the reserved blocks left out (see the module docs).
    pub fn resolve(
        specs: &[TargetSpec],
        mut exclusions: Exclusions,
        exclude_names: &[TargetSpec],
        prefer_ipv6: bool,
        tell: &mut dyn FnMut(Level, String),
    ) -> Targets {
        let mut warn = |message: String| tell(Level::Warning, message);
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
                        Ok(resolved) => out.push(Resolved {
                            spec: resolved,
                            name: Some((name.clone(), addr)),
                            reserved: Exclusions::new(),
                        }),
                        Err(e) => warn(format!("Skipping \"{name}\": {e}")),
                    },
                    Err(e) => warn(format!("Failed to resolve \"{name}\": {e}")),
                },
                other => out.push(Resolved { spec: other.clone(), name: None, reserved: Exclusions::new() }),
            }
        }
        let mut left_out = LeftOut::default();
        for resolved in &mut out {
            let overlap = ReservedOverlap::of(&resolved.spec);
            if let Some(block) = overlap.named.filter(|b| b.when_named == WhenNamed::Warn) {
                warn(format!("target {} is in {block}: scanned because it was named", resolved.spec));
            }
            for (block, count) in overlap.removed {
                // A CIDR block is always a valid spec to exclude.
                let _ = resolved.reserved.add(&TargetSpec::Network(block.net));
                left_out.add(block, count);
            }
        }
        if let Some(note) = left_out.note() {
            tell(Level::Note, note);
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
            let iter =
                TargetIter::new(vec![r.spec.clone()], self.exclusions.clone()).also_excluding(r.reserved.clone());
            iter.map(move |addr| {
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

/// The reserved blocks left out of a run, for its one note.
#[derive(Default)]
struct LeftOut {
    blocks: Vec<ReservedBlock>,
    addresses: u128,
}

impl LeftOut {
    fn add(&mut self, block: ReservedBlock, count: u128) {
        if !self.blocks.contains(&block) {
            self.blocks.push(block);
        }
        self.addresses = self.addresses.saturating_add(count);
    }

    /// `left out 2 reserved ranges the targets contain (N addresses): ...; name one to scan it`.
    fn note(&self) -> Option<String> {
        if self.blocks.is_empty() {
            return None;
        }
        let n = self.blocks.len();
        let list: Vec<String> = self.blocks.iter().map(ToString::to_string).collect();
        Some(format!(
            "left out {n} reserved range{} the targets contain ({} address{}): {}; a target inside one names it and \
             is scanned (docs/manners.md)",
            if n == 1 { "" } else { "s" },
            self.addresses,
            if self.addresses == 1 { "" } else { "es" },
            list.join(", "),
        ))
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
        let targets = Targets::resolve(&specs, Exclusions::new(), &[], false, &mut |_, w| warnings.push(w));
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
        let targets = Targets::resolve(&specs, excl, &[], false, &mut |_, _| {});
        let hosts: Vec<String> = targets.iter().map(|t| t.addr.to_string()).collect();
        assert_eq!(hosts, ["198.18.0.0", "198.18.0.1", "198.18.0.6", "198.18.0.7"]);
    }

    fn resolve(specs: &[&str], excluded: &[&str]) -> (Vec<String>, Vec<String>) {
        let specs: Vec<TargetSpec> = specs.iter().map(|s| parse_target(s).unwrap()).collect();
        let mut excl = Exclusions::new();
        for s in excluded {
            excl.add(&parse_target(s).unwrap()).unwrap();
        }
        let mut told = Vec::new();
        let targets = Targets::resolve(&specs, excl, &[], false, &mut |level, m| told.push(format!("{level}: {m}")));
        // The first hosts only: some of these targets are the whole address space.
        (targets.iter().take(1000).map(|t| t.addr.to_string()).collect(), told)
    }

    #[test]
    fn reserved_blocks_a_spec_contains_are_left_out_with_one_note() {
        let (hosts, told) = resolve(&["223.255.255.254/31", "224.0.0.0/3", "0.0.0.0/0"], &[]);
        assert_eq!(hosts[..2], ["223.255.255.254", "223.255.255.255"]);
        // Nothing of 224/3; 0.0.0.0/0 starts after 0/8.
        assert_eq!(hosts[2], "1.0.0.0");
        assert_eq!(told.len(), 1, "{told:?}");
        let note = &told[0];
        assert!(note.starts_with("note: left out 4 reserved ranges the targets contain ("), "{note}");
        let addresses = 2 * (1u128 << 28) + 2 * (1 << 24) + 2 * (1 << 28);
        assert!(note.contains(&format!("({addresses} addresses)")), "{note}");
        for block in ["0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"] {
            assert_eq!(note.matches(block).count(), 1, "{note}");
        }
    }

    #[test]
    fn the_limited_broadcast_and_multicast_are_never_walked_into() {
        let (hosts, told) = resolve(&["239-255.255.255.254-255"], &[]);
        // An octet range reaching into both multicast (239) and the reserved block (240-255), inside neither.
        assert!(hosts.is_empty(), "{hosts:?}");
        assert_eq!(told.len(), 1);
        let (hosts, _) = resolve(&["223.255.255.0/24", "239.255.255.255", "255.255.255.0/24"], &["255.255.255.0/25"]);
        assert_eq!(hosts.len(), 256 + 1 + 128);
        assert_eq!(hosts.last().map(String::as_str), Some("255.255.255.255"));
    }

    #[test]
    fn a_named_reserved_target_is_scanned_with_a_warning() {
        let (hosts, told) = resolve(&["224.0.0.1", "239.0.0.0/30", "ff02::1"], &[]);
        assert_eq!(hosts, ["224.0.0.1", "239.0.0.0", "239.0.0.1", "239.0.0.2", "239.0.0.3", "ff02::1"]);
        assert_eq!(told.len(), 3, "{told:?}");
        assert_eq!(
            told[0],
            "warning: target 224.0.0.1 is in 224.0.0.0/4 (multicast, RFC 5771): scanned because it was named"
        );
        assert!(told.iter().all(|t| t.starts_with("warning: ")));
    }

    #[test]
    fn loopback_and_ipv4_mapped_are_ordinary_when_named() {
        let (hosts, told) = resolve(&["127.0.0.1", "::1", "::ffff:198.18.0.1", "198.18.0.0/30", "2001:db8::/126"], &[]);
        assert_eq!(hosts.len(), 11);
        assert!(told.is_empty(), "{told:?}");
    }
}
