//! `-sO`'s `-p`: IP protocol numbers 0-255 instead of ports (nmap reads the whole list so), as numbers,
//! ranges or IANA protocol names ([`crate::ip_protocols`]).
//!
//! `N`, `N-M`, `-M` (from 0), `N-` (to 255), `-` (all 256) and names such as `icmp` or `ipv6-*`, separated
//! by commas. Unlike ports, protocol 0 is part of open ranges: nmap scans 0-255 by default.

use super::parse::glob;
use super::{PortSet, PortSpecError};
use crate::ip_protocols;

/// Parses `-sO`'s protocol list into the set of protocol numbers.
pub fn parse_protocol_list(spec: &str) -> Result<PortSet, PortSpecError> {
    if spec.trim().is_empty() {
        return Err(PortSpecError::EmptyList);
    }
    let mut numbers = Vec::new();
    for (index, raw) in spec.split(',').enumerate() {
        let item = raw.trim();
        if item.is_empty() {
            return Err(PortSpecError::EmptyElement { list: spec.to_owned(), position: index + 1 });
        }
        let (start, end) = parse_protocol_item(item)?;
        numbers.extend((start..=end).map(u16::from));
    }
    Ok(PortSet::from_ports(numbers))
}

/// One element: a number, a range, or a name (every number it names, as a run of one each).
pub(super) fn parse_protocol_item(item: &str) -> Result<(u8, u8), PortSpecError> {
    if item.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        let number =
            |digits: &str| -> Result<u8, PortSpecError> {
                digits.parse::<u16>().ok().and_then(|n| u8::try_from(n).ok()).ok_or_else(|| {
                    PortSpecError::ProtocolOutOfRange { value: digits.trim_start_matches('0').to_owned() }
                })
            };
        let Some((first, last)) = item.split_once('-') else {
            let n = number(item)?;
            return Ok((n, n));
        };
        if last.contains('-') {
            return Err(PortSpecError::Malformed { element: item.to_owned() });
        }
        let start = if first.is_empty() { 0 } else { number(first)? };
        let end = if last.is_empty() { u8::MAX } else { number(last)? };
        if start > end {
            return Err(PortSpecError::ReversedRange {
                element: item.to_owned(),
                start: u16::from(start),
                end: u16::from(end),
            });
        }
        return Ok((start, end));
    }
    let found = ip_protocols::numbers_named(|name| glob(item, name));
    match found.as_slice() {
        [one] => Ok((*one, *one)),
        [] => Err(PortSpecError::UnknownService { name: item.to_owned(), proto: Some(crate::Protocol::Ip) }),
        // A pattern naming several protocols: a range only when they are consecutive; otherwise the caller
        // would need a list, which one (start, end) cannot say, so each is asked for by name.
        [first, .., last] if usize::from(*last - *first) + 1 == found.len() => Ok((*first, *last)),
        _ => Err(PortSpecError::Malformed { element: item.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ranges_and_names() {
        assert_eq!(parse_protocol_list("-").unwrap().len(), 256);
        assert_eq!(parse_protocol_list("0-255").unwrap().len(), 256);
        assert_eq!(parse_protocol_list("1,6,17").unwrap().as_slice(), [1, 6, 17]);
        assert_eq!(parse_protocol_list("-2").unwrap().as_slice(), [0, 1, 2]);
        assert_eq!(parse_protocol_list("254-").unwrap().as_slice(), [254, 255]);
        assert_eq!(parse_protocol_list("icmp, TCP ,gre").unwrap().as_slice(), [1, 6, 47]);
        assert_eq!(parse_protocol_list("ipv6-icmp").unwrap().as_slice(), [58]);
    }

    #[test]
    fn bad_lists() {
        assert_eq!(parse_protocol_list("256"), Err(PortSpecError::ProtocolOutOfRange { value: "256".into() }));
        assert_eq!(parse_protocol_list("1-300"), Err(PortSpecError::ProtocolOutOfRange { value: "300".into() }));
        assert_eq!(
            parse_protocol_list("99999999"),
            Err(PortSpecError::ProtocolOutOfRange { value: "99999999".into() })
        );
        assert!(matches!(parse_protocol_list("10-2"), Err(PortSpecError::ReversedRange { .. })));
        assert!(matches!(parse_protocol_list("nosuch"), Err(PortSpecError::UnknownService { .. })));
        assert_eq!(parse_protocol_list(" "), Err(PortSpecError::EmptyList));
        assert!(matches!(parse_protocol_list("1,,2"), Err(PortSpecError::EmptyElement { .. })));
        let e = parse_protocol_list("256").unwrap_err();
        assert_eq!(e.to_string(), "protocol 256 is out of range (0-255)");
        assert!(!e.hint().contains('\n'));
    }
}
