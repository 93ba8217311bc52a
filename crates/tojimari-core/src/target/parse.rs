//! Target text to [`TargetSpec`]: nmap's target syntax, `--exclude` lists and `-iL` / `--excludefile` texts.
//!
//! Which syntax a token is in is decided by its characters, in this order:
//! 1. `[...]` is a bracketed IPv6 address, optionally followed by `/prefix`;
//! 2. anything with a `:` is an IPv6 address (a `%zone` is refused);
//! 3. text made only of digits, `.`, `,`, `-` and `*` is IPv4 octet syntax, so `1.2.3` and `999.1.1.1`
//!    are errors rather than host names;
//! 4. everything else must be a syntactically valid host name.
//!
//! A `/prefix` may follow an address or a host name, never an octet range.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;

use super::octets::{OctetRange, Parsed};
use super::{TargetError, TargetSpec};

const MAX_HOSTNAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Parses one target: an address, a CIDR block, an IPv4 octet range or a host name (see the module docs).
pub fn parse_target(s: &str) -> Result<TargetSpec, TargetError> {
    let target = s.trim();
    if target.is_empty() {
        return Err(TargetError::Empty);
    }
    let owned = || target.to_owned();

    if let Some(rest) = target.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or_else(|| TargetError::Brackets { target: owned() })?;
        let prefix = match after {
            "" => None,
            _ => Some(after.strip_prefix('/').ok_or_else(|| TargetError::Brackets { target: owned() })?),
        };
        if !inside.contains(':') {
            return Err(TargetError::Brackets { target: owned() });
        }
        return ipv6(target, inside, prefix);
    }

    let (host, prefix) = match target.split_once('/') {
        Some((host, prefix)) => (host, Some(prefix)),
        None => (target, None),
    };
    if host.contains(':') {
        return ipv6(target, host, prefix);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b".,-*".contains(&b)) {
        return match (OctetRange::parse(target, host)?, prefix) {
            (Parsed::Single(addr), None) => Ok(TargetSpec::Addr(addr.into())),
            (Parsed::Single(addr), Some(prefix)) => network(target, addr.into(), prefix),
            (Parsed::Range(range), None) => Ok(TargetSpec::Octets(range)),
            (Parsed::Range(_), Some(_)) => Err(TargetError::PrefixOnRange { target: owned() }),
        };
    }
    check_hostname(target, host)?;
    let prefix = prefix.map(|p| prefix_len(target, p, "a host name", 128)).transpose()?;
    Ok(TargetSpec::Hostname { name: host.to_owned(), prefix })
}

/// Splits an `--exclude` list on commas and whitespace and parses each piece.
///
/// As in nmap, a comma here always separates targets, so `198.18.0.1,5` is two targets (and `5` is an
/// error); write `198.18.0.1,198.18.0.5` or `198.18.0.1-5` instead. Empty pieces are skipped, so an empty
/// list gives no specs. Host names come back unresolved.
pub fn parse_exclude_list(s: &str) -> Result<Vec<TargetSpec>, TargetError> {
    s.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()).map(parse_target).collect()
}

/// The target tokens of an `-iL` or `--excludefile` text: separated by any whitespace, with `#` starting a
/// comment that runs to the end of the line.
pub fn tokens_from_list(text: &str) -> Vec<String> {
    text.lines().flat_map(tokens_of_line).map(str::to_owned).collect()
}

/// The target tokens of one line of an `-iL` or `--excludefile` text (see [`tokens_from_list`]), for
/// readers that go line by line.
pub fn tokens_of_line(line: &str) -> impl Iterator<Item = &str> {
    line.split('#').next().unwrap_or_default().split_whitespace()
}

fn ipv6(target: &str, host: &str, prefix: Option<&str>) -> Result<TargetSpec, TargetError> {
    if let Some((_, zone)) = host.split_once('%') {
        return Err(TargetError::ZoneId { target: target.to_owned(), zone: zone.to_owned() });
    }
    let addr: Ipv6Addr = host.parse().map_err(|_| TargetError::InvalidIpv6 { target: target.to_owned() })?;
    match prefix {
        None => Ok(TargetSpec::Addr(addr.into())),
        Some(prefix) => network(target, addr.into(), prefix),
    }
}

/// `addr/prefix` as the whole block that holds `addr` (nmap scans `198.18.0.77/24` as `198.18.0.0/24`).
fn network(target: &str, addr: IpAddr, prefix: &str) -> Result<TargetSpec, TargetError> {
    let (family, max) = family_limit(addr);
    let len = prefix_len(target, prefix, family, max)?;
    block(addr, len).map(TargetSpec::Network).ok_or_else(|| too_long(target, prefix, family, max))
}

/// The block of `len` bits holding `addr`; `None` if `len` is too long for the family.
pub(crate) fn block(addr: IpAddr, len: u8) -> Option<IpNet> {
    IpNet::new(addr, len).ok().map(|net| net.trunc())
}

pub(crate) fn family_limit(addr: IpAddr) -> (&'static str, u8) {
    match addr {
        IpAddr::V4(_) => ("IPv4", 32),
        IpAddr::V6(_) => ("IPv6", 128),
    }
}

pub(crate) fn too_long(target: &str, prefix: &str, family: &'static str, max: u8) -> TargetError {
    TargetError::PrefixTooLong { target: target.to_owned(), prefix: prefix.to_owned(), family, max }
}

fn prefix_len(target: &str, prefix: &str, family: &'static str, max: u8) -> Result<u8, TargetError> {
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError::InvalidPrefix { target: target.to_owned(), prefix: prefix.to_owned() });
    }
    // All digits, so a parse failure means too many of them.
    match prefix.parse::<u8>() {
        Ok(len) if len <= max => Ok(len),
        _ => Err(too_long(target, prefix, family, max)),
    }
}

/// Letters, digits, `-` and `_` in dot-separated labels of 1-63 characters, 253 in all; one trailing dot
/// (a fully qualified name) is allowed. The last label may not be all digits: no top-level domain is, and
/// resolvers would read `host.1` as an address.
fn check_hostname(target: &str, name: &str) -> Result<(), TargetError> {
    let invalid = |reason: String| TargetError::InvalidHostname { target: target.to_owned(), reason };
    if let Some(c) = name.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        let extra = if c.is_ascii() { "" } else { "; write internationalised names in their xn-- form" };
        return Err(invalid(format!("character {c:?} is not allowed{extra}")));
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > MAX_HOSTNAME_LEN {
        return Err(invalid(format!("longer than {MAX_HOSTNAME_LEN} characters")));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(invalid("empty label".to_owned()));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(invalid(format!("label longer than {MAX_LABEL_LEN} characters")));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid(format!("label {label:?} starts or ends with a hyphen")));
        }
    }
    if name.rsplit('.').next().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid("the last label is all digits".to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ok(s: &str) -> TargetSpec {
        parse_target(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn net(s: &str) -> TargetSpec {
        TargetSpec::Network(s.parse().unwrap())
    }

    fn addr(s: &str) -> TargetSpec {
        TargetSpec::Addr(s.parse().unwrap())
    }

    fn host(name: &str, prefix: Option<u8>) -> TargetSpec {
        TargetSpec::Hostname { name: name.into(), prefix }
    }

    #[test]
    fn addresses() {
        assert_eq!(ok("198.18.0.1"), addr("198.18.0.1"));
        assert_eq!(ok("  198.18.0.1\n"), addr("198.18.0.1"));
        assert_eq!(ok("0.0.0.0"), TargetSpec::Addr(Ipv4Addr::UNSPECIFIED.into()));
        assert_eq!(ok("2001:db8::1"), addr("2001:db8::1"));
        assert_eq!(ok("2001:DB8::1"), addr("2001:db8::1"));
        assert_eq!(ok("[2001:db8::1]"), addr("2001:db8::1"));
        assert_eq!(ok("::"), addr("::"));
        assert_eq!(ok("::ffff:198.18.0.1"), addr("::ffff:198.18.0.1"));
    }

    #[test]
    fn cidr_blocks() {
        assert_eq!(ok("198.18.0.0/24"), net("198.18.0.0/24"));
        assert_eq!(ok("198.18.0.77/24"), net("198.18.0.0/24"));
        assert_eq!(ok("198.18.0.1/32"), net("198.18.0.1/32"));
        assert_eq!(ok("198.18.0.1/0"), net("0.0.0.0/0"));
        assert_eq!(ok("2001:db8::/120"), net("2001:db8::/120"));
        assert_eq!(ok("2001:db8::1234/120"), net("2001:db8::1200/120"));
        assert_eq!(ok("[2001:db8::]/64"), net("2001:db8::/64"));
        assert_eq!(ok("2001:db8::/128"), net("2001:db8::/128"));
        assert_eq!(ok("198.18.0.0/024"), net("198.18.0.0/24"));
    }

    #[test]
    fn octet_ranges() {
        for s in ["198.18.0,2.1-20", "198.18.0-3.1", "198.18.0.1-20", "198.18.*.1", "198.18.0.-5", "198.18.0.250-"] {
            assert!(matches!(ok(s), TargetSpec::Octets(_)), "{s}");
        }
        assert_eq!(ok("198.18.0,2.1-20").to_string(), "198.18.0,2.1-20");
        // A target's comma belongs to the octet (unlike in --exclude).
        assert_eq!(ok("198.18.0.1,5").len(), 2);
        assert_eq!(ok("198.18.0.1-1"), addr("198.18.0.1"));
    }

    #[test]
    fn host_names() {
        assert_eq!(ok("scanme.example"), host("scanme.example", None));
        assert_eq!(ok("localhost"), host("localhost", None));
        assert_eq!(ok("Mail-1.Example.ORG."), host("Mail-1.Example.ORG.", None));
        assert_eq!(ok("_ldap._tcp.example.com"), host("_ldap._tcp.example.com", None));
        assert_eq!(ok("3com.example/24"), host("3com.example", Some(24)));
        assert_eq!(ok("example.com/120"), host("example.com", Some(120)));
        assert_eq!(ok("1-2-3.example"), host("1-2-3.example", None));
        let longest = format!("{}.{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61));
        assert_eq!(longest.len(), 253);
        assert!(matches!(ok(&longest), TargetSpec::Hostname { .. }));
        assert!(matches!(ok(&format!("{longest}.")), TargetSpec::Hostname { .. }));
    }

    fn err(s: &str) -> TargetError {
        match parse_target(s) {
            Ok(spec) => panic!("{s:?} parsed to {spec:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn numeric_text_is_never_a_host_name() {
        for s in ["1.2.3", "10", "1.2.3.4.5", "198.18..1", "-", "1.2.3.4-5-6", "198.18.0.1,"] {
            assert!(matches!(err(s), TargetError::InvalidIpv4 { .. }), "{s}: {}", err(s));
        }
        assert_eq!(
            err("1.2.3").to_string(),
            r#"invalid target "1.2.3": invalid IPv4 address (expected 4 octets, found 3)"#
        );
        assert_eq!(err("999.1.1.1").to_string(), r#"invalid target "999.1.1.1": octet 999 is out of range (0-255)"#);
        assert_eq!(err("1.1.1.20-1"), TargetError::ReversedRange { target: "1.1.1.20-1".into(), range: "20-1".into() });
    }

    #[test]
    fn prefix_errors() {
        assert_eq!(
            err("198.18.0.0/33").to_string(),
            r#"invalid target "198.18.0.0/33": prefix length 33 is too long for IPv4 (max 32)"#
        );
        assert_eq!(
            err("2001:db8::/129"),
            TargetError::PrefixTooLong {
                target: "2001:db8::/129".into(),
                prefix: "129".into(),
                family: "IPv6",
                max: 128
            }
        );
        assert!(matches!(err("198.18.0.0/99999999999"), TargetError::PrefixTooLong { .. }));
        assert!(matches!(err("example.com/129"), TargetError::PrefixTooLong { family: "a host name", .. }));
        for s in ["198.18.0.0/", "198.18.0.0/-1", "198.18.0.0/x", "198.18.0.0/24/1", "2001:db8::/ 64", "example.com/"] {
            assert!(matches!(err(s), TargetError::InvalidPrefix { .. }), "{s}: {}", err(s));
        }
        assert_eq!(err("198.18.0-3.0/24"), TargetError::PrefixOnRange { target: "198.18.0-3.0/24".into() });
    }

    #[test]
    fn ipv6_errors() {
        assert_eq!(err("2001:db8::g"), TargetError::InvalidIpv6 { target: "2001:db8::g".into() });
        assert!(matches!(err("2001:db8:::1"), TargetError::InvalidIpv6 { .. }));
        assert!(matches!(err("198.18.0.1:80"), TargetError::InvalidIpv6 { .. }));
        assert_eq!(err("fe80::1%eth0"), TargetError::ZoneId { target: "fe80::1%eth0".into(), zone: "eth0".into() });
        assert!(matches!(err("[fe80::1%2]"), TargetError::ZoneId { .. }));
        for s in ["[198.18.0.1]", "[2001:db8::1", "[2001:db8::1]x", "[2001:db8::1]:80", "[]"] {
            assert!(matches!(err(s), TargetError::Brackets { .. }), "{s}: {}", err(s));
        }
    }

    #[test]
    fn host_name_errors() {
        let too_long = format!("{}.example", "a".repeat(250));
        let long_label = format!("{}.example", "a".repeat(64));
        for s in [
            "exa mple.com",
            "bad!name",
            "bücher.example",
            "*.example",
            "a..b",
            ".example",
            "-start.example",
            "end-.example",
            "host.1",
            "0x7f.1",
            &too_long,
            &long_label,
        ] {
            assert!(matches!(err(s), TargetError::InvalidHostname { .. }), "{s}: {}", err(s));
        }
        assert!(err("bücher.example").to_string().contains("xn--"));
        assert_eq!(err(""), TargetError::Empty);
        assert_eq!(err("  "), TargetError::Empty);
    }

    #[test]
    fn exclude_lists_split_on_commas_and_whitespace() {
        let specs = parse_exclude_list("198.18.0.1,198.18.0.5-9, 2001:db8::/120\tscanme.example  ,,").unwrap();
        assert_eq!(
            specs,
            [addr("198.18.0.1"), ok("198.18.0.5-9"), net("2001:db8::/120"), host("scanme.example", None)]
        );
        assert_eq!(parse_exclude_list(""), Ok(vec![]));
        assert_eq!(
            parse_exclude_list("198.18.0.1,5"),
            Err(TargetError::InvalidIpv4 { target: "5".into(), reason: "expected 4 octets, found 1".into() })
        );
    }

    #[test]
    fn list_tokens_skip_comments_and_blank_lines() {
        let text = "# targets for the lab\n198.18.0.1 198.18.0.2\t198.18.1.0/24\n\n  scanme.example # the web box\r\n#198.18.9.9\n2001:db8::1#no space\n";
        assert_eq!(
            tokens_from_list(text),
            ["198.18.0.1", "198.18.0.2", "198.18.1.0/24", "scanme.example", "2001:db8::1"]
        );
        assert!(tokens_from_list("").is_empty());
        assert!(tokens_from_list("# only a comment").is_empty());
    }
}
