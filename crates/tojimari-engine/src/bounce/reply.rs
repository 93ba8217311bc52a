//! FTP replies off the control connection (RFC 959 section 4.2), read from bytes as they come.
//!
//! A reply is a three-digit code and text. A multi-line reply opens with `123-` and ends at the first line
//! that starts with the same code and a space (`123 `); the lines between may say anything. Every input is
//! bounded: a line longer than [`MAX_LINE`] bytes, or a reply of more than [`MAX_LINES`] lines, is an error,
//! as is a first line that does not start with three digits. A server that sends such things is not an FTP
//! server one can trust with a scan.

/// The longest line accepted, in bytes (CRLF excluded).
pub const MAX_LINE: usize = 2048;
/// The most lines one (multi-line) reply may have.
pub const MAX_LINES: usize = 256;

/// One complete reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code (100..=599 for a well-formed one; anything three digits is kept).
    pub code: u16,
    /// The text of the last line after the code and separator (a multi-line reply's first line is in
    /// `first`).
    pub text: String,
    /// The first line, whole (for messages).
    pub first: String,
}

impl Reply {
    /// The code's first digit: 1 preliminary, 2 completion, 3 intermediate, 4 transient and 5 permanent
    /// failure.
    pub fn class(&self) -> u16 {
        self.code / 100
    }
}

/// Why the bytes are no FTP reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("a reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("a multi-line reply longer than {MAX_LINES} lines")]
    TooManyLines,
    #[error("a line that is no FTP reply: {0:?}")]
    Malformed(String),
}

/// Assembles replies from the bytes read; keeps what is left of an unfinished line.
#[derive(Debug, Default)]
pub struct ReplyReader {
    line: Vec<u8>,
    /// The code and first line of a multi-line reply in progress, and its line count.
    open: Option<(u16, String, usize)>,
}

impl ReplyReader {
    pub fn new() -> ReplyReader {
        ReplyReader::default()
    }

    /// Reads `bytes`, returning the replies they complete. After an error the reader must not be used again
    /// (the connection is no longer in step).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Reply>, ReplyError> {
        let mut replies = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                if let Some(reply) = self.line_done(text)? {
                    replies.push(reply);
                }
            } else {
                if self.line.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong);
                }
                self.line.push(b);
            }
        }
        Ok(replies)
    }

    /// Whether part of a reply has been read and not finished.
    pub fn partial(&self) -> bool {
        !self.line.is_empty() || self.open.is_some()
    }

    fn line_done(&mut self, line: String) -> Result<Option<Reply>, ReplyError> {
        let head = code_of(&line);
        if let Some((code, first, count)) = &mut self.open {
            *count += 1;
            if *count > MAX_LINES {
                return Err(ReplyError::TooManyLines);
            }
            if head == Some(*code) && line.as_bytes().get(3) == Some(&b' ') {
                let reply = Reply { code: *code, text: line[4..].to_string(), first: std::mem::take(first) };
                self.open = None;
                return Ok(Some(reply));
            }
            return Ok(None);
        }
        let Some(code) = head else {
            return Err(ReplyError::Malformed(clip(&line)));
        };
        match line.as_bytes().get(3) {
            Some(b'-') => {
                self.open = Some((code, line, 1));
                Ok(None)
            }
            Some(b' ') | None => {
                let text = line.get(4..).unwrap_or("").to_string();
                Ok(Some(Reply { code, text, first: line }))
            }
            Some(_) => Err(ReplyError::Malformed(clip(&line))),
        }
    }
}

/// The three-digit code a line starts with.
fn code_of(line: &str) -> Option<u16> {
    let digits = line.as_bytes().get(..3)?;
    if digits.iter().all(u8::is_ascii_digit) { line[..3].parse().ok() } else { None }
}

/// A line cut to 80 characters, for messages.
fn clip(line: &str) -> String {
    line.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: &[Reply]) -> Vec<u16> {
        r.iter().map(|r| r.code).collect()
    }

    #[test]
    fn single_lines_in_pieces() {
        let mut reader = ReplyReader::new();
        assert!(reader.push(b"220 (vsFTPd 3.0.3)\r\n331 Plea").unwrap().len() == 1);
        assert!(reader.partial());
        let replies = reader.push(b"se specify the password.\r\n").unwrap();
        assert_eq!(codes(&replies), [331]);
        assert_eq!(replies[0].text, "Please specify the password.");
        assert!(!reader.partial());
    }

    #[test]
    fn multi_line_reply_ends_at_its_code_and_a_space() {
        let mut reader = ReplyReader::new();
        let replies =
            reader.push(b"230-Welcome\r\n 230 indented\r\n123 other code\r\n230-still\r\n230 End\r\n").unwrap();
        // Only the same code followed by a space ends it (RFC 959 4.2).
        assert_eq!(codes(&replies), [230]);
        assert_eq!((replies[0].first.as_str(), replies[0].text.as_str()), ("230-Welcome", "End"));
        assert!(reader.push(b"211-Features:\r\n EPRT\r\n211-still\r\n211 End\r\n").unwrap()[0].text == "End");
    }

    #[test]
    fn bare_lf_and_code_only_lines() {
        let mut reader = ReplyReader::new();
        let replies = reader.push(b"200\n425 Failed to establish connection.\n").unwrap();
        assert_eq!(codes(&replies), [200, 425]);
        assert_eq!(replies[0].class(), 2);
    }

    #[test]
    fn bounded_and_malformed() {
        let mut reader = ReplyReader::new();
        assert_eq!(reader.push(&vec![b'2'; MAX_LINE + 10]), Err(ReplyError::LineTooLong));
        assert!(matches!(ReplyReader::new().push(b"hello\r\n"), Err(ReplyError::Malformed(_))));
        assert!(matches!(ReplyReader::new().push(b"2000 x\r\n"), Err(ReplyError::Malformed(_))));
        let mut reader = ReplyReader::new();
        let mut long = b"220-a\r\n".to_vec();
        for _ in 0..MAX_LINES {
            long.extend_from_slice(b"more\r\n");
        }
        assert_eq!(reader.push(&long), Err(ReplyError::TooManyLines));
    }
}
