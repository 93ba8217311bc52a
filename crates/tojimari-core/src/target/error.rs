//! Why a target could not be parsed or used, with a one-line message and a short hint for the CLI.

/// The one hint shared by every "this is not a target" error.
const TARGET_FORMS: &str = "targets look like 198.18.0.1, 198.18.0.0/24, 198.18.0.1-20, 2001:db8::/120 or a host name";

/// A target that could not be parsed, or a spec used where it does not fit.
///
/// Every message is one line and names the offending text; [`TargetError::hint`] gives the CLI a short
/// `hint:` line to print after it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The target text was empty or only whitespace.
    #[error("empty target")]
    Empty,

    /// An IPv4 octet (or one end of an octet range) above 255.
    #[error("invalid target {target:?}: octet {octet} is out of range (0-255)")]
    OctetOutOfRange {
        /// The whole target as given.
        target: String,
        /// The octet's text, e.g. `999`.
        octet: String,
    },

    /// An IPv4 octet range whose start is above its end, e.g. `20-1`.
    #[error("invalid target {target:?}: octet range {range} runs backwards (start above end)")]
    ReversedRange {
        /// The whole target as given.
        target: String,
        /// The range's text, e.g. `20-1`.
        range: String,
    },

    /// Text made of digits, dots, commas, hyphens and `*` that is not a valid IPv4 address or octet range,
    /// e.g. `1.2.3`. Such text is never taken for a host name.
    #[error("invalid target {target:?}: invalid IPv4 address ({reason})")]
    InvalidIpv4 {
        /// The whole target as given.
        target: String,
        /// What is wrong, e.g. `expected 4 octets, found 3`.
        reason: String,
    },

    /// Text with a `:` that is not a valid IPv6 address.
    #[error("invalid target {target:?}: invalid IPv6 address")]
    InvalidIpv6 {
        /// The whole target as given.
        target: String,
    },

    /// An IPv6 address with a zone id (`fe80::1%eth0`), which tojimari does not support.
    #[error("invalid target {target:?}: IPv6 zone ids (%{zone}) are not supported")]
    ZoneId {
        /// The whole target as given.
        target: String,
        /// The zone id, without the `%`.
        zone: String,
    },

    /// Square brackets that do not enclose exactly one IPv6 address (optionally followed by `/prefix`).
    #[error("invalid target {target:?}: brackets must enclose just an IPv6 address")]
    Brackets {
        /// The whole target as given.
        target: String,
    },

    /// A `/prefix` that is not a decimal number.
    #[error("invalid target {target:?}: prefix length {prefix:?} is not a number")]
    InvalidPrefix {
        /// The whole target as given.
        target: String,
        /// The text after the `/`.
        prefix: String,
    },

    /// A `/prefix` longer than the address family allows.
    #[error("invalid target {target:?}: prefix length {prefix} is too long for {family} (max {max})")]
    PrefixTooLong {
        /// The whole target as given.
        target: String,
        /// The text after the `/`.
        prefix: String,
        /// `IPv4`, `IPv6`, or `a host name` (before resolution only the IPv6 limit can be checked).
        family: &'static str,
        /// The longest prefix the family allows.
        max: u8,
    },

    /// An octet range followed by a `/prefix`, which has no meaning.
    #[error("invalid target {target:?}: an octet range cannot take a /prefix")]
    PrefixOnRange {
        /// The whole target as given.
        target: String,
    },

    /// Text that is neither an address nor a syntactically valid host name.
    #[error("invalid target {target:?}: not a valid host name ({reason})")]
    InvalidHostname {
        /// The whole target as given.
        target: String,
        /// What is wrong, e.g. `character '!' is not allowed`.
        reason: String,
    },

    /// A host name was used where addresses are needed (e.g. [`Exclusions::add`](super::Exclusions::add))
    /// before the caller resolved it.
    #[error("host name {name:?} must be resolved to an address before it can be used here")]
    Unresolved {
        /// The host name.
        name: String,
    },

    /// [`TargetSpec::with_resolved`](super::TargetSpec::with_resolved) was called on a spec that is not a
    /// host name.
    #[error("target {target:?} is not a host name, so there is nothing to resolve")]
    NotAHostname {
        /// The spec, as [`TargetSpec`](super::TargetSpec)'s `Display` writes it.
        target: String,
    },
}

impl TargetError {
    /// A short hint for the CLI's `hint:` line.
    pub fn hint(&self) -> &'static str {
        match self {
            TargetError::Empty
            | TargetError::OctetOutOfRange { .. }
            | TargetError::InvalidIpv4 { .. }
            | TargetError::InvalidIpv6 { .. }
            | TargetError::InvalidHostname { .. } => TARGET_FORMS,
            TargetError::ReversedRange { .. } => "write octet ranges low to high, e.g. 198.18.0.1-20",
            TargetError::ZoneId { .. } => "remove the %zone suffix from the IPv6 address",
            TargetError::Brackets { .. } => "brackets are for IPv6 only: [2001:db8::1] or [2001:db8::]/120",
            TargetError::InvalidPrefix { .. } | TargetError::PrefixTooLong { .. } => {
                "prefix lengths run 0-32 for IPv4 and 0-128 for IPv6, e.g. 198.18.0.0/24 or 2001:db8::/120"
            }
            TargetError::PrefixOnRange { .. } => {
                "use either an octet range (198.18.0-3.*) or a CIDR block (198.18.0.0/22), not both"
            }
            TargetError::Unresolved { .. } | TargetError::NotAHostname { .. } => {
                "resolve host names first, then use TargetSpec::with_resolved"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_text_and_fit_on_one_line() {
        let cases = [
            (
                TargetError::OctetOutOfRange { target: "999.1.1.1".into(), octet: "999".into() },
                r#"invalid target "999.1.1.1": octet 999 is out of range (0-255)"#,
            ),
            (
                TargetError::PrefixTooLong {
                    target: "198.18.0.0/33".into(),
                    prefix: "33".into(),
                    family: "IPv4",
                    max: 32,
                },
                r#"invalid target "198.18.0.0/33": prefix length 33 is too long for IPv4 (max 32)"#,
            ),
            (
                TargetError::InvalidIpv4 { target: "1.2.3".into(), reason: "expected 4 octets, found 3".into() },
                r#"invalid target "1.2.3": invalid IPv4 address (expected 4 octets, found 3)"#,
            ),
            (
                TargetError::ZoneId { target: "fe80::1%eth0".into(), zone: "eth0".into() },
                r#"invalid target "fe80::1%eth0": IPv6 zone ids (%eth0) are not supported"#,
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn control_characters_are_escaped_in_messages() {
        let err = TargetError::InvalidHostname { target: "a\nb".into(), reason: "x".into() };
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn every_hint_is_short_and_one_line() {
        let errs = [
            TargetError::Empty,
            TargetError::ReversedRange { target: String::new(), range: String::new() },
            TargetError::ZoneId { target: String::new(), zone: String::new() },
            TargetError::Brackets { target: String::new() },
            TargetError::InvalidPrefix { target: String::new(), prefix: String::new() },
            TargetError::PrefixOnRange { target: String::new() },
            TargetError::Unresolved { name: String::new() },
        ];
        for err in errs {
            assert!(!err.hint().is_empty() && err.hint().len() < 100 && !err.hint().contains('\n'));
        }
        assert!(TargetError::Empty.hint().contains("198.18.0.0/24"));
    }
}
