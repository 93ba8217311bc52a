//! nmap's `-p` port-list syntax (also used by `--exclude-ports`), parsed into a [`PortSpec`].
//!
//! ```text
//! list     = element *( "," element )
//! element  = [ prefix ] item
//! prefix   = "T:" | "U:" | "S:" | "P:" ; switches the protocol (TCP, UDP, SCTP, IP protocol numbers) for
//!                                      ; this and every later item
//! item     = N | N "-" M | "-" M | N "-" | "-" | name
//! name     = a service name from the services table, ASCII case-insensitive; "*" and "?" are wildcards
//! ```
//!
//! Items before any prefix apply to TCP, UDP and SCTP (nmap's rule: to every protocol scanned); IP protocol
//! numbers (`-sO`) are only set by `P:` here (the CLI reads a whole `-p` as protocols for `-sO`, with
//! [`parse_protocol_list`](super::parse_protocol_list)), and are at most 255. An open range starts at 1 (`-100`, `-`) and ends at 65535
//! (`1024-`); port 0 is only included when written (`0`, `0-10`). A name selects every port the table names so
//! (override or IANA name) of the protocol in force, or of both protocols before any prefix. Whitespace around
//! elements is ignored.

use thiserror::Error;

use super::{PortSet, PortSpec};
use crate::protocol::Protocol;
use crate::services;

/// Why a port list was rejected. Every message is one line that quotes the offending text; [`hint`] gives a
/// short suggestion to print after it.
///
/// [`hint`]: PortSpecError::hint
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PortSpecError {
    /// The list is empty or blank.
    #[error("the port list is empty")]
    EmptyList,
    /// An element is empty: two commas in a row, a leading or trailing comma, or a prefix with nothing after it.
    #[error("element {position} of port list \"{list}\" is empty")]
    EmptyElement {
        /// The whole list as given.
        list: String,
        /// 1-based position of the empty element.
        position: usize,
    },
    /// A port number above 65535.
    #[error("port {value} is out of range (0-65535)")]
    OutOfRange {
        /// The digits as written.
        value: String,
    },
    /// A range whose first port is above its last.
    #[error("port range \"{element}\" is reversed: {start} is greater than {end}")]
    ReversedRange { element: String, start: u16, end: u16 },
    /// Neither a port, a range, nor anything that could be a service name (`22x`, `1-2-3`, an unknown `a-b`).
    #[error("malformed port element \"{element}\": not a port, a port range or a known service name")]
    Malformed { element: String },
    /// A service name or wildcard pattern that names no port of the protocol in force.
    #[error("no {}service name matches \"{name}\"", protocol_word(.proto))]
    UnknownService {
        /// The name or pattern as written.
        name: String,
        /// The protocol in force (`None` before any `T:`/`U:` prefix: both).
        proto: Option<Protocol>,
    },
    /// An IP protocol number above 255 (after `P:`, or in `-sO`'s protocol list).
    #[error("protocol {value} is out of range (0-255)")]
    ProtocolOutOfRange {
        /// The digits as written.
        value: String,
    },
    /// A prefix other than `T:`, `U:` or `S:`.
    #[error("unknown protocol prefix \"{prefix}:\" in \"{element}\"")]
    UnknownProtocol { prefix: String, element: String },
}

impl PortSpecError {
    /// A short suggestion for the user, without the `hint: ` label.
    pub fn hint(&self) -> &'static str {
        match self {
            PortSpecError::EmptyList => "give ports like -p 22,80,443, a range like -p 1-1024, or -p- for all ports",
            PortSpecError::EmptyElement { .. } => "separate elements with single commas and no comma at either end",
            PortSpecError::OutOfRange { .. } => "ports are numbers from 0 to 65535",
            PortSpecError::ReversedRange { .. } => "write ranges low to high, e.g. 5-10",
            PortSpecError::Malformed { .. } => "use N, N-M, -M, N-, - or a service name like http, separated by commas",
            PortSpecError::UnknownService { .. } => {
                "service names come from the IANA registry (e.g. ssh, domain, http); * and ? are wildcards"
            }
            PortSpecError::ProtocolOutOfRange { .. } => {
                "IP protocol numbers are 0 to 255 (e.g. -sO -p 1,6,17 or -p 0-255), or IANA names like icmp, gre"
            }
            PortSpecError::UnknownProtocol { .. } => {
                "use T: for TCP, U: for UDP, S: for SCTP or P: for IP protocols, e.g. U:53,T:22"
            }
        }
    }
}

fn protocol_word(proto: &Option<Protocol>) -> &'static str {
    match proto {
        None => "",
        Some(Protocol::Tcp) => "tcp ",
        Some(Protocol::Udp) => "udp ",
        Some(Protocol::Sctp) => "sctp ",
        Some(Protocol::Ip) => "ip protocol ",
    }
}

/// Parses nmap's `-p` syntax (see the module documentation): e.g. `22`, `1-1024`, `-`, `http*`,
/// `U:53,111,137,T:21-25,80`.
pub fn parse_port_list(spec: &str) -> Result<PortSpec, PortSpecError> {
    if spec.trim().is_empty() {
        return Err(PortSpecError::EmptyList);
    }
    let mut ports = PortBits::default();
    let mut scope = Scope::Both;
    for (index, raw) in spec.split(',').enumerate() {
        let element = raw.trim();
        let item = match element.split_once(':') {
            Some((prefix, item)) => {
                scope = Scope::from_prefix(prefix, element)?;
                item.trim()
            }
            None => element,
        };
        if item.is_empty() {
            return Err(PortSpecError::EmptyElement { list: spec.to_owned(), position: index + 1 });
        }
        parse_item(item, scope, &mut ports)?;
    }
    Ok(ports.into_spec())
}

/// The protocols an item applies to: `Both` is every port protocol (TCP, UDP and SCTP), as before any prefix.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    Both,
    Only(Protocol),
}

impl Scope {
    fn from_prefix(prefix: &str, element: &str) -> Result<Scope, PortSpecError> {
        match prefix.trim() {
            "T" | "t" => Ok(Scope::Only(Protocol::Tcp)),
            "U" | "u" => Ok(Scope::Only(Protocol::Udp)),
            "S" | "s" => Ok(Scope::Only(Protocol::Sctp)),
            "P" | "p" => Ok(Scope::Only(Protocol::Ip)),
            other => Err(PortSpecError::UnknownProtocol { prefix: other.to_owned(), element: element.to_owned() }),
        }
    }

    fn includes(self, proto: Protocol) -> bool {
        match self {
            Scope::Both => proto != Protocol::Ip,
            Scope::Only(only) => only == proto,
        }
    }

    fn protocol(self) -> Option<Protocol> {
        match self {
            Scope::Both => None,
            Scope::Only(proto) => Some(proto),
        }
    }
}

fn parse_item(item: &str, scope: Scope, ports: &mut PortBits) -> Result<(), PortSpecError> {
    if scope == Scope::Only(Protocol::Ip) {
        let (start, end) = super::protocols::parse_protocol_item(item)?;
        ports.insert_range(scope, u16::from(start), u16::from(end));
        return Ok(());
    }
    if item.bytes().all(|byte| byte.is_ascii_digit() || byte == b'-') {
        let (start, end) = parse_range(item)?;
        ports.insert_range(scope, start, end);
        return Ok(());
    }
    let mut found = false;
    for (proto, port) in services::ports_where(|name| name_matches(item, name)) {
        if scope.includes(proto) {
            ports.insert(proto, port);
            found = true;
        }
    }
    if found {
        Ok(())
    } else if looks_like_name(item) {
        Err(PortSpecError::UnknownService { name: item.to_owned(), proto: scope.protocol() })
    } else {
        Err(PortSpecError::Malformed { element: item.to_owned() })
    }
}

/// `N`, `N-M`, `-M`, `N-` or `-`, given text of digits and dashes only.
fn parse_range(item: &str) -> Result<(u16, u16), PortSpecError> {
    let Some((first, last)) = item.split_once('-') else {
        let port = parse_port(item)?;
        return Ok((port, port));
    };
    if last.contains('-') {
        return Err(PortSpecError::Malformed { element: item.to_owned() });
    }
    // Open ranges start at 1: port 0 is only scanned when asked for by number.
    let start = if first.is_empty() { 1 } else { parse_port(first)? };
    let end = if last.is_empty() { u16::MAX } else { parse_port(last)? };
    if start > end {
        return Err(PortSpecError::ReversedRange { element: item.to_owned(), start, end });
    }
    Ok((start, end))
}

/// A port from a non-empty run of ASCII digits; the only way to fail is a value above 65535.
fn parse_port(digits: &str) -> Result<u16, PortSpecError> {
    digits.parse().map_err(|_| PortSpecError::OutOfRange { value: digits.to_owned() })
}

/// Whether an item that named nothing still reads as a service name (so the error says "unknown service"
/// rather than "malformed"): a letter or wildcard first, then only characters IANA names use, and no dash
/// (an unknown `a-b` is more likely a broken range).
fn looks_like_name(item: &str) -> bool {
    let starts_well = item.starts_with(|c: char| c.is_ascii_alphabetic() || c == '*' || c == '?');
    starts_well && item.chars().all(|c| c.is_ascii_alphanumeric() || "._+/*?".contains(c))
}

/// Whether service or protocol `name` is what `pattern` asks for: equal (ASCII case-insensitive), or a
/// match of its `*`/`?` wildcards.
pub(super) fn glob(pattern: &str, name: &str) -> bool {
    name_matches(pattern, name)
}

fn name_matches(pattern: &str, name: &str) -> bool {
    if pattern.contains(['*', '?']) {
        glob_matches(pattern.as_bytes(), name.as_bytes())
    } else {
        pattern.eq_ignore_ascii_case(name)
    }
}

/// Shell-style matching, ASCII case-insensitive: `*` matches any run of bytes, `?` exactly one.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was, and how much text it has swallowed so far: on a mismatch it takes one more byte.
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&byte) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(&wanted) if wanted == b'?' || wanted.eq_ignore_ascii_case(&byte) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, swallowed)) => {
                    p = star + 1;
                    t = swallowed + 1;
                    backtrack = Some((star, swallowed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&byte| byte == b'*')
}

/// One bit per port and protocol, so that `-` (65535 ports, twice) and overlapping items cost no sorting.
#[derive(Debug)]
struct PortBits {
    tcp: Vec<u64>,
    udp: Vec<u64>,
    sctp: Vec<u64>,
    ip: Vec<u64>,
}

const WORDS: usize = (u16::MAX as usize + 1) / 64;

impl Default for PortBits {
    fn default() -> Self {
        PortBits { tcp: vec![0; WORDS], udp: vec![0; WORDS], sctp: vec![0; WORDS], ip: vec![0; 4] }
    }
}

impl PortBits {
    fn insert(&mut self, proto: Protocol, port: u16) {
        let words = match proto {
            Protocol::Tcp => &mut self.tcp,
            Protocol::Udp => &mut self.udp,
            Protocol::Sctp => &mut self.sctp,
            Protocol::Ip => &mut self.ip,
        };
        if let Some(word) = words.get_mut(usize::from(port / 64)) {
            *word |= 1 << (port % 64);
        }
    }

    fn insert_range(&mut self, scope: Scope, start: u16, end: u16) {
        for proto in Protocol::ALL {
            if scope.includes(proto) {
                for port in start..=end {
                    self.insert(proto, port);
                }
            }
        }
    }

    fn into_spec(self) -> PortSpec {
        PortSpec { tcp: to_set(&self.tcp), udp: to_set(&self.udp), sctp: to_set(&self.sctp), ip: to_set(&self.ip) }
    }
}

fn to_set(words: &[u64]) -> PortSet {
    let len = words.iter().map(|word| word.count_ones() as usize).sum();
    let mut ports = Vec::with_capacity(len);
    for (base, &word) in (0..=u16::MAX).step_by(64).zip(words) {
        let mut rest = word;
        while rest != 0 {
            // trailing_zeros of a non-zero u64 is below 64, so the sum stays within the word's 64 ports.
            ports.push(base + rest.trailing_zeros() as u16);
            rest &= rest - 1;
        }
    }
    PortSet { ports }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Protocol::Udp;

    fn parse(spec: &str) -> PortSpec {
        parse_port_list(spec).unwrap_or_else(|error| panic!("{spec:?}: {error}"))
    }

    fn both(spec: &str) -> Vec<u16> {
        let parsed = parse(spec);
        assert_eq!(parsed.tcp, parsed.udp, "{spec:?} should apply to both protocols");
        parsed.tcp.as_slice().to_vec()
    }

    fn error(spec: &str) -> PortSpecError {
        parse_port_list(spec).expect_err(spec)
    }

    #[test]
    fn single_ports_and_lists() {
        assert_eq!(both("22"), [22]);
        assert_eq!(both("80,22,443"), [22, 80, 443]);
        assert_eq!(both("22,22,20-25"), [20, 21, 22, 23, 24, 25]);
        assert_eq!(both(" 22 , 80 "), [22, 80]);
        assert_eq!(both("65535"), [65535]);
        assert_eq!(both("00022"), [22]);
    }

    #[test]
    fn ranges() {
        assert_eq!(both("20-23"), [20, 21, 22, 23]);
        assert_eq!(both("5-5"), [5]);
        assert_eq!(both("-3"), [1, 2, 3]);
        assert_eq!(both("65533-"), [65533, 65534, 65535]);
        assert_eq!(parse("1-1024").tcp.to_ranges(), "1-1024");
    }

    #[test]
    fn port_zero_only_when_written() {
        assert_eq!(both("0"), [0]);
        assert_eq!(both("0-3"), [0, 1, 2, 3]);
        assert!(!parse("-10").tcp.contains(0));
        assert!(!parse("-").tcp.contains(0));
        assert!(parse("0-").udp.contains(0));
        assert_eq!(parse("0-").udp.len(), 65536);
    }

    #[test]
    fn dash_alone_is_every_port_but_zero() {
        let all = parse("-");
        for set in [&all.tcp, &all.udp] {
            assert_eq!(set.len(), 65535);
            assert_eq!(set.to_ranges(), "1-65535");
        }
    }

    #[test]
    fn protocol_prefixes_switch_for_what_follows() {
        let spec = parse("U:53,111,137,T:21-25,80");
        assert_eq!(spec.udp.as_slice(), [53, 111, 137]);
        assert_eq!(spec.tcp.as_slice(), [21, 22, 23, 24, 25, 80]);
        let spec = parse("22,U:53");
        assert_eq!((spec.tcp.as_slice(), spec.udp.as_slice()), (&[22][..], &[22, 53][..]));
        let spec = parse("t:1,u:2");
        assert_eq!((spec.tcp.as_slice(), spec.udp.as_slice()), (&[1][..], &[2][..]));
        assert_eq!(parse("T:-").tcp.len(), 65535);
        assert!(parse("T:-").udp.is_empty());
    }

    #[test]
    fn service_names_select_ports_of_the_protocol_in_force() {
        let ssh = parse("ssh");
        assert!(ssh.tcp.contains(22) && ssh.udp.contains(22));
        let http = parse("T:http");
        assert!(http.tcp.contains(80) && http.udp.is_empty());
        let dns = parse("U:domain");
        assert_eq!((dns.udp.as_slice(), dns.tcp.len()), (&[53][..], 0));
        assert_eq!(parse("SSH"), ssh);
        assert!(parse("msrpc").tcp.contains(135));
        assert!(parse("epmap").tcp.contains(135));
        assert!(parse("ms-wbt-server").tcp.contains(3389));
        // Names with a number first are still names.
        assert!(parse("3com-tsmux").tcp.contains(106));
        let mixed = parse("ssh,8000-8001,U:snmp");
        assert_eq!(mixed.tcp.as_slice(), [22, 8000, 8001]);
        assert!(mixed.udp.contains(22) && mixed.udp.contains(161) && mixed.udp.contains(8000));
        assert!(!mixed.tcp.contains(161));
    }

    #[test]
    fn wildcards_in_service_names() {
        let http = parse("T:http*");
        for port in [80, 443, 8008, 8080, 8443] {
            assert!(http.tcp.contains(port), "{port}");
        }
        assert!(!http.tcp.contains(22));
        assert!(parse("T:ss?").tcp.contains(22));
        assert!(parse("T:*wbt*").tcp.contains(3389));
        assert!(parse("T:HTTP?").tcp.contains(443));
    }

    #[test]
    fn glob_matching() {
        assert!(glob_matches(b"*", b""));
        assert!(glob_matches(b"a*b*c", b"aXXbYYc"));
        assert!(glob_matches(b"a*c", b"abcbc"));
        assert!(!glob_matches(b"a*c", b"abcb"));
        assert!(glob_matches(b"?s?", b"SSH"));
        assert!(!glob_matches(b"?", b""));
        assert!(!glob_matches(b"ab", b"a"));
    }

    #[test]
    fn out_of_range_ports() {
        let e = error("70000");
        assert_eq!(e, PortSpecError::OutOfRange { value: "70000".into() });
        assert_eq!(e.to_string(), "port 70000 is out of range (0-65535)");
        assert_eq!(error("1-65536"), PortSpecError::OutOfRange { value: "65536".into() });
        assert_eq!(error("99999999999999999999-"), PortSpecError::OutOfRange { value: "99999999999999999999".into() });
    }

    #[test]
    fn reversed_ranges() {
        let e = error("22,10-5");
        assert_eq!(e, PortSpecError::ReversedRange { element: "10-5".into(), start: 10, end: 5 });
        assert_eq!(e.to_string(), "port range \"10-5\" is reversed: 10 is greater than 5");
        assert_eq!(error("-0"), PortSpecError::ReversedRange { element: "-0".into(), start: 1, end: 0 });
    }

    #[test]
    fn empty_lists_and_elements() {
        assert_eq!(error(""), PortSpecError::EmptyList);
        assert_eq!(error("  "), PortSpecError::EmptyList);
        assert_eq!(error("").to_string(), "the port list is empty");
        let e = error("22,,80");
        assert_eq!(e, PortSpecError::EmptyElement { list: "22,,80".into(), position: 2 });
        assert_eq!(e.to_string(), "element 2 of port list \"22,,80\" is empty");
        assert_eq!(error("22,"), PortSpecError::EmptyElement { list: "22,".into(), position: 2 });
        assert_eq!(error(",22"), PortSpecError::EmptyElement { list: ",22".into(), position: 1 });
        assert_eq!(error("53,T:"), PortSpecError::EmptyElement { list: "53,T:".into(), position: 2 });
    }

    #[test]
    fn malformed_elements() {
        for (spec, element) in [("22x", "22x"), ("a-b", "a-b"), ("1-2-3", "1-2-3"), ("--", "--"), ("80,[1-9]", "[1-9]")]
        {
            let e = error(spec);
            assert_eq!(e, PortSpecError::Malformed { element: element.into() }, "{spec}");
        }
        assert_eq!(
            error("22x").to_string(),
            "malformed port element \"22x\": not a port, a port range or a known service name"
        );
    }

    #[test]
    fn unknown_service_names() {
        let e = error("nosuchsvc");
        assert_eq!(e, PortSpecError::UnknownService { name: "nosuchsvc".into(), proto: None });
        assert_eq!(e.to_string(), "no service name matches \"nosuchsvc\"");
        assert_eq!(error("zzz*"), PortSpecError::UnknownService { name: "zzz*".into(), proto: None });
        // kibana is a TCP name only.
        let e = error("U:kibana");
        assert_eq!(e, PortSpecError::UnknownService { name: "kibana".into(), proto: Some(Udp) });
        assert_eq!(e.to_string(), "no udp service name matches \"kibana\"");
        assert_eq!(error("T:nosuchsvc").to_string(), "no tcp service name matches \"nosuchsvc\"");
    }

    #[test]
    fn sctp_and_ip_protocol_prefixes() {
        let spec = parse("22,T:80,S:80,132,P:1,6-7");
        assert_eq!(spec.tcp.as_slice(), [22, 80]);
        assert_eq!(spec.udp.as_slice(), [22]);
        assert_eq!(spec.sctp.as_slice(), [22, 80, 132]);
        assert_eq!(spec.ip.as_slice(), [1, 6, 7]);
        assert_eq!(parse("P:-").ip.len(), 256);
        assert_eq!(error("P:256"), PortSpecError::ProtocolOutOfRange { value: "256".into() });
        assert_eq!(parse("P:icmp,gre").ip.as_slice(), [1, 47]);
    }

    #[test]
    fn protocol_prefixes_other_than_t_u_s_and_p() {
        let e = error("X:80");
        assert_eq!(e, PortSpecError::UnknownProtocol { prefix: "X".into(), element: "X:80".into() });
        assert_eq!(e.to_string(), "unknown protocol prefix \"X:\" in \"X:80\"");
        assert_eq!(error(":80"), PortSpecError::UnknownProtocol { prefix: "".into(), element: ":80".into() });
    }

    #[test]
    fn every_error_has_a_one_line_hint() {
        let errors = [
            error(""),
            error("1,,2"),
            error("70000"),
            error("10-5"),
            error("22x"),
            error("nosuchsvc"),
            error("P:1000"),
            error("X:1"),
        ];
        for e in errors {
            let (message, hint) = (e.to_string(), e.hint());
            assert!(!message.contains('\n') && !hint.is_empty() && !hint.contains('\n'), "{e:?}");
            assert!(!hint.starts_with("hint"), "{e:?}");
        }
    }

    #[test]
    fn exclusions_use_the_same_syntax() {
        let spec = parse("1-1024").without(&parse("T:22,80,U:53"));
        assert_eq!(spec.tcp.len(), 1022);
        assert!(!spec.tcp.contains(22) && !spec.tcp.contains(80) && spec.tcp.contains(53));
        assert_eq!(spec.udp.len(), 1023);
        assert!(spec.udp.contains(22) && spec.udp.contains(80) && !spec.udp.contains(53));
    }
}
