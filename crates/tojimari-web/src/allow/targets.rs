//! What a user typed in the page's target field, made checkable: parsed with the one target
//! syntax ([`tojimari_core::target`]: addresses, CIDR blocks, IPv4 octet ranges, host names,
//! separated by whitespace), host names resolved by the server through a closure it passes in,
//! the total size bounded, and then every address judged by the [`AllowList`].
//!
//! Host names are replaced by the address the server resolved ([`TargetSpec::with_resolved`]),
//! and the scanner is given those addresses ([`CheckedTargets::args`]), never the names: a
//! name resolved twice may answer differently the second time (DNS rebinding), and then the
//! scan would reach an address nobody checked.

use std::net::IpAddr;

use tojimari_core::target::{TargetError, TargetSpec, parse_target, tokens_from_list};

use super::{AllowList, entry_contains};

/// The most addresses one check from the page may cover unless configured otherwise: a /16.
pub const DEFAULT_MAX_ADDRESSES: u128 = 65_536;

/// Why targets from the page are not scanned. Each names what was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// The field held no target.
    #[error("no target given")]
    Empty,
    /// A target is not in nmap's target syntax.
    #[error("{0}")]
    Invalid(#[from] TargetError),
    /// The targets cover more addresses than one check may.
    #[error("the targets cover {count} addresses; at most {max} may be checked at once")]
    TooMany {
        /// How many addresses the targets cover (saturating at `u128::MAX`).
        count: u128,
        /// The configured limit.
        max: u128,
    },
    /// A host name, where no resolver was given.
    #[error("host name {name:?} must be resolved before it can be checked against the allowed targets")]
    Unresolved {
        /// The name.
        name: String,
    },
    /// A host name could not be resolved.
    #[error("cannot resolve {name:?}: {reason}")]
    Resolve {
        /// The name.
        name: String,
        /// What the resolver said.
        reason: String,
    },
    /// An address is outside the allow-list.
    #[error("{addr} (in {target}) is not among the targets this server may scan")]
    Outside {
        /// The first address found outside.
        addr: IpAddr,
        /// The target it belongs to, in canonical syntax (a host name shows as the address it
        /// resolved to).
        target: String,
    },
}

/// Targets that passed the checks, ready for the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedTargets {
    specs: Vec<TargetSpec>,
    count: u128,
}

impl CheckedTargets {
    /// The targets, host names replaced by their checked addresses.
    pub fn specs(&self) -> &[TargetSpec] {
        &self.specs
    }

    /// How many addresses they cover.
    pub fn count(&self) -> u128 {
        self.count
    }

    /// The targets as scanner arguments, in canonical syntax (no host names).
    pub fn args(&self) -> Vec<String> {
        self.specs.iter().map(ToString::to_string).collect()
    }
}

/// Parses `targets` and bounds their size, refusing host names (use
/// [`expand_for_check_with`] to resolve them).
pub fn expand_for_check(targets: &str, max_addresses: u128) -> Result<Vec<TargetSpec>, Refusal> {
    expand_for_check_with(targets, max_addresses, |name| Err(Refusal::Unresolved { name: name.to_owned() }))
}

/// Parses `targets`, resolves each host name with `resolve` (one address per name, as the
/// command line scans), and refuses more than `max_addresses` addresses in all.
///
/// `resolve` returns the address, or `Err(reason)`. The size is checked once before resolving
/// (a name counts one address, so a huge list costs no lookups) and again after (`name/16`
/// grows).
pub fn expand_for_check_with<R, E>(
    targets: &str,
    max_addresses: u128,
    mut resolve: R,
) -> Result<Vec<TargetSpec>, Refusal>
where
    R: FnMut(&str) -> Result<IpAddr, E>,
    E: Into<ResolveFailure>,
{
    let tokens = tokens_from_list(targets);
    if tokens.is_empty() {
        return Err(Refusal::Empty);
    }
    let mut specs = tokens.iter().map(|token| parse_target(token)).collect::<Result<Vec<_>, _>>()?;
    bound(&specs, max_addresses)?;
    for spec in &mut specs {
        if let TargetSpec::Hostname { name, .. } = spec {
            let name = name.clone();
            let addr = resolve(&name).map_err(|e| e.into().into_refusal(&name))?;
            *spec = spec.with_resolved(addr)?;
        }
    }
    bound(&specs, max_addresses)?;
    Ok(specs)
}

/// What a resolver closure may fail with: a reason (any string), or a ready [`Refusal`].
#[derive(Debug)]
pub enum ResolveFailure {
    /// The lookup failed for this reason.
    Reason(String),
    /// Refuse with this.
    Refusal(Refusal),
}

impl ResolveFailure {
    fn into_refusal(self, name: &str) -> Refusal {
        match self {
            ResolveFailure::Reason(reason) => Refusal::Resolve { name: name.to_owned(), reason },
            ResolveFailure::Refusal(refusal) => refusal,
        }
    }
}

impl From<String> for ResolveFailure {
    fn from(reason: String) -> ResolveFailure {
        ResolveFailure::Reason(reason)
    }
}

impl From<&str> for ResolveFailure {
    fn from(reason: &str) -> ResolveFailure {
        ResolveFailure::Reason(reason.to_owned())
    }
}

impl From<Refusal> for ResolveFailure {
    fn from(refusal: Refusal) -> ResolveFailure {
        ResolveFailure::Refusal(refusal)
    }
}

/// `Err(TooMany)` if `specs` cover more than `max` addresses.
fn bound(specs: &[TargetSpec], max: u128) -> Result<u128, Refusal> {
    let count = specs.iter().fold(0u128, |sum, spec| sum.saturating_add(spec.len()));
    if count > max {
        return Err(Refusal::TooMany { count, max });
    }
    Ok(count)
}

impl AllowList {
    /// `Ok` if every address of every spec may be scanned, else the first address outside.
    /// A host name (unresolved) is refused. Specs should be bounded first
    /// ([`expand_for_check`]): a block no single entry covers is walked address by address.
    pub fn check_targets(&self, specs: &[TargetSpec]) -> Result<(), Refusal> {
        for spec in specs {
            let target = spec.to_string();
            match spec {
                TargetSpec::Hostname { name, .. } => return Err(Refusal::Unresolved { name: name.clone() }),
                TargetSpec::Addr(addr) if !self.contains(*addr) => {
                    return Err(Refusal::Outside { addr: *addr, target });
                }
                TargetSpec::Addr(_) => {}
                TargetSpec::Network(net) if self.entries.iter().any(|e| covers(e, net)) => {}
                _ => {
                    if let Some(addr) = spec.addrs().find(|addr| !self.contains(*addr)) {
                        return Err(Refusal::Outside { addr, target });
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole path for the page's target field: parse, resolve names with `resolve`,
    /// bound the size by `max_addresses`, judge every address. The result's
    /// [`args`](CheckedTargets::args) are what the scanner gets.
    pub fn admit<R, E>(&self, targets: &str, max_addresses: u128, resolve: R) -> Result<CheckedTargets, Refusal>
    where
        R: FnMut(&str) -> Result<IpAddr, E>,
        E: Into<ResolveFailure>,
    {
        let specs = expand_for_check_with(targets, max_addresses, resolve)?;
        self.check_targets(&specs)?;
        let count = bound(&specs, max_addresses)?;
        Ok(CheckedTargets { specs, count })
    }
}

/// Whether allow-list entry `entry` holds all of block `net` (a quick answer for blocks inside
/// one entry; `false` means "walk the addresses", not "outside").
fn covers(entry: &TargetSpec, net: &ipnet::IpNet) -> bool {
    match entry {
        TargetSpec::Network(allowed) => allowed.contains(net),
        TargetSpec::Addr(_) | TargetSpec::Octets(_) | TargetSpec::Hostname { .. } => {
            net.prefix_len() == net.max_prefix_len() && entry_contains(entry, net.addr())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn list(text: &str) -> AllowList {
        AllowList::parse(text, &[]).unwrap()
    }

    /// A resolver over a fixed table, counting lookups.
    fn table<'a>(
        names: &'a HashMap<&str, IpAddr>,
        lookups: &'a mut u32,
    ) -> impl FnMut(&str) -> Result<IpAddr, String> + 'a {
        move |name| {
            *lookups += 1;
            names.get(name).copied().ok_or_else(|| "no such host".to_owned())
        }
    }

    #[test]
    fn each_target_form_is_parsed_with_the_core_syntax() {
        let specs =
            expand_for_check("198.18.0.1  198.18.0.0/30\n198.18.1.1-20 # a comment\n[2001:db8::1]", 1000).unwrap();
        let shown: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["198.18.0.1", "198.18.0.0/30", "198.18.1.1-20", "2001:db8::1"]);
        assert_eq!(expand_for_check("  \n # only a comment", 1000), Err(Refusal::Empty));
        assert!(matches!(expand_for_check("198.18.0.1 1.2.3", 1000), Err(Refusal::Invalid(_))));
        assert!(matches!(expand_for_check("198.18.0.300", 1000), Err(Refusal::Invalid(_))));
    }

    #[test]
    fn host_names_need_a_resolver() {
        assert_eq!(
            expand_for_check("198.18.0.1 scanme.example", 1000),
            Err(Refusal::Unresolved { name: "scanme.example".to_owned() })
        );
        let names = HashMap::from([("web.test", ip("198.18.0.2")), ("net.test", ip("198.18.0.77"))]);
        let mut lookups = 0;
        let specs = expand_for_check_with("web.test net.test/29", 1000, table(&names, &mut lookups)).unwrap();
        assert_eq!(specs, [TargetSpec::Addr(ip("198.18.0.2")), parse_target("198.18.0.72/29").unwrap()]);
        assert_eq!(lookups, 2);
        let mut lookups = 0;
        assert_eq!(
            expand_for_check_with("nowhere.test", 1000, table(&names, &mut lookups)),
            Err(Refusal::Resolve { name: "nowhere.test".to_owned(), reason: "no such host".to_owned() })
        );
    }

    #[test]
    fn size_is_bounded_before_and_after_resolving() {
        assert_eq!(expand_for_check("198.18.0.0/24", 256).map(|s| s.len()), Ok(1));
        assert_eq!(expand_for_check("198.18.0.0/24 198.18.1.1", 256), Err(Refusal::TooMany { count: 257, max: 256 }));
        assert_eq!(
            expand_for_check("2001:db8::/64", DEFAULT_MAX_ADDRESSES),
            Err(Refusal::TooMany { count: 1 << 64, max: DEFAULT_MAX_ADDRESSES })
        );
        assert_eq!(expand_for_check("::/0 ::/0", 10), Err(Refusal::TooMany { count: u128::MAX, max: 10 }));
        // Too many before resolving: no lookup at all.
        let names = HashMap::from([("web.test", ip("198.18.0.2"))]);
        let mut lookups = 0;
        let refused = expand_for_check_with("198.18.0.0/24 web.test", 256, table(&names, &mut lookups));
        assert_eq!(refused, Err(Refusal::TooMany { count: 257, max: 256 }));
        assert_eq!(lookups, 0);
        // A name with a prefix grows after resolving.
        let mut lookups = 0;
        let refused = expand_for_check_with("web.test/16", 256, table(&names, &mut lookups));
        assert_eq!(refused, Err(Refusal::TooMany { count: 65_536, max: 256 }));
    }

    #[test]
    fn admit_checks_every_address_and_names_the_first_outside() {
        let allow = list("198.18.0.0/24 2001:db8:18::/120");
        let no_names = |name: &str| Err::<IpAddr, _>(format!("no resolver for {name}"));
        let admitted = allow.admit("198.18.0.2 198.18.0.0/25 198.18.0.1-9 2001:db8:18::/124", 1000, no_names).unwrap();
        assert_eq!(admitted.count(), 1 + 128 + 9 + 16);
        assert_eq!(admitted.args(), ["198.18.0.2", "198.18.0.0/25", "198.18.0.1-9", "2001:db8:18::/124"]);
        assert_eq!(
            allow.admit("198.18.0.2 198.18.0,1.5", 1000, no_names),
            Err(Refusal::Outside { addr: ip("198.18.1.5"), target: "198.18.0-1.5".to_owned() })
        );
        assert_eq!(
            allow.admit("198.18.0.0/23", 1000, no_names),
            Err(Refusal::Outside { addr: ip("198.18.1.0"), target: "198.18.0.0/23".to_owned() })
        );
        assert_eq!(
            allow.admit("10.0.0.1", 1000, no_names),
            Err(Refusal::Outside { addr: ip("10.0.0.1"), target: "10.0.0.1".to_owned() })
        );
        assert_eq!(
            allow.admit("::ffff:10.0.0.1", 1000, no_names),
            Err(Refusal::Outside { addr: ip("::ffff:10.0.0.1"), target: "::ffff:10.0.0.1".to_owned() })
        );
    }

    #[test]
    fn names_are_scanned_as_the_checked_address() {
        let allow = list("198.18.0.0/24");
        let names = HashMap::from([("web.test", ip("198.18.0.2")), ("evil.test", ip("203.0.113.9"))]);
        let mut lookups = 0;
        let admitted = allow.admit("web.test", 10, table(&names, &mut lookups)).unwrap();
        assert_eq!(admitted.args(), ["198.18.0.2"], "the scanner gets the address, not the name");
        let mut lookups = 0;
        assert_eq!(
            allow.admit("evil.test", 10, table(&names, &mut lookups)),
            Err(Refusal::Outside { addr: ip("203.0.113.9"), target: "203.0.113.9".to_owned() })
        );
    }

    #[test]
    fn a_resolver_may_refuse_by_itself() {
        let allow = list("198.18.0.0/24");
        let refused = allow.admit("web.test", 10, |name: &str| {
            Err::<IpAddr, _>(Refusal::Unresolved { name: format!("{name} (lookups are off)") })
        });
        assert_eq!(refused, Err(Refusal::Unresolved { name: "web.test (lookups are off)".to_owned() }));
    }

    #[test]
    fn blocks_spanning_several_entries_are_walked_and_allowed() {
        let allow = list("198.18.0.0/25 198.18.0.128/26 198.18.0.192-255");
        let admitted = allow.admit("198.18.0.0/24", 1000, |_: &str| Err::<IpAddr, _>("none")).unwrap();
        assert_eq!(admitted.count(), 256);
        let refused =
            list("198.18.0.0/25 198.18.0.130-255").check_targets(&expand_for_check("198.18.0.0/24", 1000).unwrap());
        assert_eq!(refused, Err(Refusal::Outside { addr: ip("198.18.0.128"), target: "198.18.0.0/24".to_owned() }));
    }

    #[test]
    fn checking_the_largest_allowed_check_is_quick() {
        let allow = list("198.18.0.0/17 198.18.128-255.*");
        let started = Instant::now();
        let admitted = allow.admit("198.18.0.0/16", DEFAULT_MAX_ADDRESSES, |_: &str| Err::<IpAddr, _>("none")).unwrap();
        assert_eq!(admitted.count(), 65_536);
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn unresolved_specs_are_refused_by_check_targets() {
        let allow = list("198.18.0.0/24");
        let specs = [parse_target("web.test").unwrap()];
        assert_eq!(allow.check_targets(&specs), Err(Refusal::Unresolved { name: "web.test".to_owned() }));
    }
}
