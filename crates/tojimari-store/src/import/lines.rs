//! Text lines read one at a time within [`Limits`]: a line longer than `max_token` or a file longer than
//! `max_bytes` is refused before it is buffered, and each line comes with where it starts. The line
//! formats (masscan's `-oL`, tojimari's JSON Lines) read through this.

use std::io::{BufRead, Read};

use crate::import::{ImportError, Limits, Position};

pub(crate) struct Lines<R> {
    input: R,
    limits: Limits,
    /// Bytes read so far.
    offset: u64,
    /// Lines read so far.
    line: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(input: R, limits: Limits) -> Self {
        Lines { input, limits, offset: 0, line: 0, buf: Vec::new() }
    }

    /// Where the next line starts (after the end: where the file ended).
    pub(crate) fn position(&self) -> Position {
        Position { offset: self.offset, line: self.line + 1 }
    }

    /// The next line without its line end, and where it starts; `None` at the end of the file.
    pub(crate) fn next_line(&mut self, format: &'static str) -> Result<Option<(&[u8], Position)>, ImportError> {
        let at = self.position();
        self.buf.clear();
        let cap = self.limits.max_token as u64 + 1;
        let n = (&mut self.input)
            .take(cap)
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| ImportError::Io { at, source })?;
        if n == 0 {
            return Ok(None);
        }
        if n as u64 >= cap && self.buf.last() != Some(&b'\n') {
            return Err(ImportError::TokenTooLong { at, limit: self.limits.max_token });
        }
        self.offset += n as u64;
        self.line += 1;
        if self.offset > self.limits.max_bytes {
            return Err(ImportError::TooLarge { at, limit: self.limits.max_bytes });
        }
        let mut line = &self.buf[..];
        while let [rest @ .., b'\n' | b'\r'] = line {
            line = rest;
        }
        if std::str::from_utf8(line).is_err() {
            return Err(ImportError::NotFormat { at, format, what: "the line is not UTF-8 text".into() });
        }
        Ok(Some((line, at)))
    }

    /// [`next_line`](Self::next_line) as text (it is checked UTF-8).
    pub(crate) fn next_text(&mut self, format: &'static str) -> Result<Option<(&str, Position)>, ImportError> {
        Ok(self.next_line(format)?.map(|(bytes, at)| (std::str::from_utf8(bytes).unwrap_or_default(), at)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_their_positions_within_the_limits() {
        let mut lines = Lines::new(&b"ab\r\ncd\n\nlast"[..], Limits::default());
        let mut got = Vec::new();
        while let Some((text, at)) = lines.next_text("x").unwrap() {
            got.push((text.to_string(), at.line, at.offset));
        }
        assert_eq!(got, [("ab".into(), 1, 0), ("cd".into(), 2, 4), (String::new(), 3, 7), ("last".into(), 4, 8)]);
        let small = Limits { max_token: 4, ..Limits::default() };
        let mut lines = Lines::new(&b"abc\nabcdefgh\n"[..], small);
        assert!(lines.next_line("x").unwrap().is_some());
        assert!(matches!(lines.next_line("x"), Err(ImportError::TokenTooLong { at, .. }) if at.line == 2));
        let tiny = Limits { max_bytes: 5, ..Limits::default() };
        let mut lines = Lines::new(&b"abc\nabc\n"[..], tiny);
        assert!(lines.next_line("x").unwrap().is_some());
        assert!(matches!(lines.next_line("x"), Err(ImportError::TooLarge { .. })));
        let mut lines = Lines::new(&b"\xff\xfe\n"[..], Limits::default());
        assert!(matches!(lines.next_line("x"), Err(ImportError::NotFormat { .. })));
    }
}
