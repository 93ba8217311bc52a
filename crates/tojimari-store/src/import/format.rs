//! Which format a file is in: told from its first bytes, or named by the user (`--format`), and the reader
//! for each behind one iterator of [`Record`]s.

use std::fmt;
use std::io::BufRead;
use std::str::FromStr;

use crate::import::nmap_xml::{self, Record};
use crate::import::{ImportError, Limits, jsonl, masscan};

/// The formats `tojimari import` reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// nmap's `-oX` (and tojimari's own, which writes the same format).
    NmapXml,
    /// masscan's `-oX`.
    MasscanXml,
    /// masscan's `-oJ`: a JSON array of one object per port or banner.
    MasscanJson,
    /// masscan's `-oL`.
    MasscanList,
    /// tojimari's `-oJ`: JSON Lines.
    Jsonl,
}

/// How many bytes [`Format::detect`] wants to see (fewer when the file is shorter).
pub const DETECT_BYTES: usize = 4096;

impl Format {
    pub const ALL: [Format; 5] =
        [Format::NmapXml, Format::MasscanXml, Format::MasscanJson, Format::MasscanList, Format::Jsonl];

    /// The name `--format` takes and the store records as the scan's source.
    pub fn name(self) -> &'static str {
        match self {
            Format::NmapXml => "nmap-xml",
            Format::MasscanXml => "masscan-xml",
            Format::MasscanJson => "masscan-json",
            Format::MasscanList => "masscan-list",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format of a file that begins with `head` (its first [`DETECT_BYTES`] bytes), or `None`:
    /// - `<` (after a byte order mark and white space): XML, masscan's when its first bytes name masscan
    ///   (`<!-- masscan ... -->`, `scanner="masscan"`), else nmap's;
    /// - `[`: masscan's JSON;
    /// - `{`: JSON Lines when the object begins with a `"type"` key (as every tojimari line does), else
    ///   masscan's JSON (older masscans leave out the brackets);
    /// - `#masscan`: masscan's list.
    pub fn detect(head: &[u8]) -> Option<Format> {
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
        let head = &head[start..];
        let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        match head[0] {
            b'<' if contains(b"masscan") => Some(Format::MasscanXml),
            b'<' => Some(Format::NmapXml),
            b'[' => Some(Format::MasscanJson),
            b'{' => {
                let rest = &head[1..];
                let key = rest.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &rest[i..]);
                Some(if key.starts_with(b"\"type\"") { Format::Jsonl } else { Format::MasscanJson })
            }
            b'#' if head.starts_with(b"#masscan") => Some(Format::MasscanList),
            _ => None,
        }
    }

    /// The reader of this format over `input`.
    pub fn reader<'a, R: BufRead + 'a>(
        self,
        input: R,
        limits: Limits,
    ) -> Box<dyn Iterator<Item = Result<Record, ImportError>> + 'a> {
        match self {
            Format::NmapXml => Box::new(nmap_xml::Reader::new(input, limits)),
            Format::MasscanXml => Box::new(masscan::Reader::new(input, limits)),
            Format::MasscanJson => Box::new(masscan::JsonReader::new(input, limits)),
            Format::MasscanList => Box::new(masscan::ListReader::new(input, limits)),
            Format::Jsonl => Box::new(jsonl::Reader::new(input, limits)),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name `--format` does not know.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format \"{0}\"")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_by_the_first_bytes() {
        let cases: [(&[u8], Option<Format>); 10] = [
            (b"<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\"", Some(Format::NmapXml)),
            (b"\xef\xbb\xbf  <?xml version=\"1.0\"?>\n<!-- masscan v1.0 scan -->", Some(Format::MasscanXml)),
            (b"[\n{   \"ip\": \"198.18.0.2\"", Some(Format::MasscanJson)),
            (b"{   \"ip\": \"198.18.0.2\"", Some(Format::MasscanJson)),
            (b"{\"type\":\"run\",\"version\":\"0.1.0\"", Some(Format::Jsonl)),
            (b"#masscan\nopen tcp 80 198.18.0.2 1\n", Some(Format::MasscanList)),
            (b"# Nmap 7.93 scan initiated", None),
            (b"Starting Nmap", None),
            (b"   \n", None),
            (b"", None),
        ];
        for (head, format) in cases {
            assert_eq!(Format::detect(head), format, "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.name().parse(), Ok(format));
        }
        assert_eq!("xml".parse::<Format>(), Err(UnknownFormat("xml".into())));
    }
}
