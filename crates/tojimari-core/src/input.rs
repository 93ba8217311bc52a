//! Bounded reading of the text files a user hands us (`-iL`, `--excludefile`, `--versiondb`,
//! `watch --log`): one definition of "a line", with a cap on line length, total size and line count,
//! so that whatever is fed (`/dev/zero`, a 100 MB line, endless short lines) memory stays bounded and
//! the reader stops with an error naming the line at fault.
//!
//! This module opens nothing: it reads from any [`BufRead`] the caller opened (a file, standard input,
//! a byte slice in a test). Each input states its own [`Limits`]; the callers document them in the
//! README's "Input limits" section and in `--help`.

use std::fmt;
use std::io::{self, BufRead};

/// What one kind of input may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line accepted, in bytes, without its line ending.
    pub max_line: usize,
    /// Largest input accepted, in bytes; `None` for inputs that are streamed (memory stays bounded by
    /// `max_line` whatever the size).
    pub max_bytes: Option<u64>,
    /// Most lines accepted; `None` for no limit.
    pub max_lines: Option<u64>,
    /// Whether a NUL byte ends the input as "not a text file".
    pub nul: Nul,
}

/// What a NUL byte in a line means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nul {
    /// The input is not text: stop with [`InputError::Binary`]. For inputs we parse as a whole.
    Refuse,
    /// Keep the line (syslog files hold runs of NULs after a crash); the parser skips what it cannot read.
    Allow,
}

/// Why a bounded input stopped. [`InputError::line`] is the 1-based line at fault; the message names
/// the limit (the caller adds the file name: `FILE:LINE: message`).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A line is longer than [`Limits::max_line`].
    #[error("line longer than {}", Size(*.limit as u64))]
    LineTooLong {
        /// The line.
        line: u64,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The input is larger than [`Limits::max_bytes`].
    #[error("input larger than {}", Size(*.limit))]
    TooLarge {
        /// The line being read when the limit was passed.
        line: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The input has more lines than [`Limits::max_lines`].
    #[error("more than {limit} lines")]
    TooManyLines {
        /// The first line past the limit.
        line: u64,
        /// The limit.
        limit: u64,
    },
    /// A NUL byte in a text input.
    #[error("NUL byte: this is not a text file")]
    Binary {
        /// The line.
        line: u64,
    },
    /// Reading failed.
    #[error("{source}")]
    Io {
        /// The line being read.
        line: u64,
        /// The I/O error.
        source: io::Error,
    },
}

impl InputError {
    /// The 1-based line at fault.
    pub fn line(&self) -> u64 {
        match self {
            InputError::LineTooLong { line, .. }
            | InputError::TooLarge { line, .. }
            | InputError::TooManyLines { line, .. }
            | InputError::Binary { line }
            | InputError::Io { line, .. } => *line,
        }
    }
}

/// A byte count as people read it: `8 MiB`, `64 KiB`, `100 bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        match self.0 {
            n if n >= KIB * KIB && n.is_multiple_of(KIB * KIB) => write!(f, "{} MiB", n / (KIB * KIB)),
            n if n >= KIB && n.is_multiple_of(KIB) => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// Lines from a [`BufRead`], within [`Limits`].
#[derive(Debug)]
pub struct LineReader<R> {
    reader: R,
    limits: Limits,
    buf: Vec<u8>,
    line: u64,
    bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `reader` within `limits`.
    pub fn new(reader: R, limits: Limits) -> LineReader<R> {
        LineReader { reader, limits, buf: Vec::new(), line: 0, bytes: 0 }
    }

    /// The number of the last line returned (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The next line without its line ending (`\n` or `\r\n`; the last line may lack one), or `None` at
    /// the end. Never holds more than `max_line` + 2 bytes, whatever the input.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, InputError> {
        self.buf.clear();
        let line = self.line + 1;
        let limits = self.limits;
        // A line ending takes up to two bytes beyond the content.
        let most = limits.max_line.saturating_add(2);
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(InputError::Io { line, source }),
            };
            if available.is_empty() {
                break;
            }
            let (take, ended) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            let room = most - self.buf.len();
            let copy = take.min(room);
            if limits.nul == Nul::Refuse && available[..copy].contains(&0) {
                return Err(InputError::Binary { line });
            }
            self.buf.extend_from_slice(&available[..copy]);
            self.reader.consume(copy);
            self.bytes += copy as u64;
            if let Some(limit) = limits.max_bytes
                && self.bytes > limit
            {
                return Err(InputError::TooLarge { line, limit });
            }
            if copy < take {
                return Err(InputError::LineTooLong { line, limit: limits.max_line });
            }
            if ended {
                break;
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        if let Some(limit) = limits.max_lines
            && line > limit
        {
            return Err(InputError::TooManyLines { line, limit });
        }
        self.line = line;
        let mut content = self.buf.as_slice();
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > limits.max_line {
            return Err(InputError::LineTooLong { line, limit: limits.max_line });
        }
        Ok(Some(content))
    }

    /// The next line as UTF-8 text; a line that is not is an [`InputError::Io`] of kind `InvalidData`.
    pub fn next_text(&mut self) -> Result<Option<&str>, InputError> {
        let line = self.line + 1;
        match self.next_line()? {
            None => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes).map(Some).map_err(|_| InputError::Io {
                line,
                source: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
            }),
        }
    }

    /// Reads everything left into one string (lines joined by `\n`), within the limits.
    pub fn read_all_text(&mut self) -> Result<String, InputError> {
        let mut text = String::new();
        while let Some(line) = self.next_text()? {
            text.push_str(line);
            text.push('\n');
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { max_line: 8, max_bytes: Some(64), max_lines: Some(5), nul: Nul::Refuse };

    fn lines(input: &[u8], limits: Limits) -> Result<Vec<String>, InputError> {
        let mut reader = LineReader::new(input, limits);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line()? {
            out.push(String::from_utf8_lossy(line).into_owned());
        }
        Ok(out)
    }

    #[test]
    fn lines_lose_their_endings_and_the_last_may_lack_one() {
        assert_eq!(lines(b"a\nbb\r\n\nccc", SMALL).unwrap(), ["a", "bb", "", "ccc"]);
        assert_eq!(lines(b"", SMALL).unwrap(), Vec::<String>::new());
        assert_eq!(lines(b"12345678\r\n", SMALL).unwrap(), ["12345678"]);
    }

    #[test]
    fn a_long_line_is_refused_with_its_number() {
        let err = lines(b"ok\n123456789\n", SMALL).unwrap_err();
        assert!(matches!(err, InputError::LineTooLong { line: 2, limit: 8 }), "{err:?}");
        assert_eq!(err.to_string(), "line longer than 8 bytes");
    }

    #[test]
    fn an_endless_line_stops_after_the_limit() {
        // A reader that never ends: the cap, not the input, decides when reading stops.
        let limits = Limits { max_line: 64 * 1024, max_bytes: None, max_lines: None, nul: Nul::Allow };
        let mut reader = LineReader::new(io::BufReader::new(io::repeat(b'x')), limits);
        let err = reader.next_line().unwrap_err();
        assert!(matches!(err, InputError::LineTooLong { line: 1, .. }), "{err:?}");
        assert!(reader.buf.capacity() < 200 * 1024);
    }

    #[test]
    fn nul_bytes_mean_binary_unless_allowed() {
        let err = lines(b"abc\n\0\0\0", SMALL).unwrap_err();
        assert!(matches!(err, InputError::Binary { line: 2 }), "{err:?}");
        let allow = Limits { nul: Nul::Allow, ..SMALL };
        assert_eq!(lines(b"a\0b\n", allow).unwrap(), ["a\0b"]);
    }

    #[test]
    fn size_and_line_caps() {
        let err = lines(b"1\n2\n3\n4\n5\n6\n", SMALL).unwrap_err();
        assert!(matches!(err, InputError::TooManyLines { line: 6, limit: 5 }), "{err:?}");
        let limits = Limits { max_lines: None, ..SMALL };
        let err = lines(&b"1234567\n".repeat(9), limits).unwrap_err();
        assert!(matches!(err, InputError::TooLarge { line: 9, limit: 64 }), "{err:?}");
        assert_eq!(err.to_string(), "input larger than 64 bytes");
    }

    #[test]
    fn text_lines_must_be_utf8() {
        let mut reader = LineReader::new(&b"fine\n\xff\n"[..], SMALL);
        assert_eq!(reader.next_text().unwrap(), Some("fine"));
        let err = reader.next_text().unwrap_err();
        assert_eq!((err.line(), err.to_string()), (2, "not UTF-8 text".to_string()));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(Size(8 << 20).to_string(), "8 MiB");
        assert_eq!(Size(64 << 10).to_string(), "64 KiB");
        assert_eq!(Size(100).to_string(), "100 bytes");
    }
}
