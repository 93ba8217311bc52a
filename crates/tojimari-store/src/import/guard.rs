//! A [`BufRead`] between the file and the XML parser that enforces the byte limits before the parser
//! buffers anything: the file's size and the longest stretch of one tag plus the text after it.
//!
//! The parser reads a whole tag (or text) into its buffer before it returns an event, so a limit checked
//! on events would come after the memory was spent. Here each chunk is scanned as it is read, with a
//! small lexer that knows where markup ends (quotes in tags, `-->`, `]]>`, `?>`, `]>` of a doctype); a
//! stretch resets only at a `<` that starts markup. On a limit the bytes before it are still handed
//! out, then every later read fails, and [`Guard::tripped`] says which limit and where.

use std::io::{self, BufRead, Read};

use super::Limits;

/// Which byte limit stopped the input, and at which offset.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tripped {
    TooLarge(u64),
    TokenTooLong(u64),
}

/// Where the lexer is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Lex {
    Text,
    /// Just after `<`.
    Open,
    /// In a start or end tag; the quote byte when inside an attribute value.
    Tag(Option<u8>),
    /// After `<!`: comment, CDATA, doctype, or not yet known.
    Bang,
    Comment,
    CData,
    /// A doctype or other declaration, with its `[` nesting.
    Decl(u32),
    Pi,
}

const CHUNK: usize = 8 * 1024;

pub(crate) struct Guard<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bytes taken from `inner` so far.
    taken: u64,
    /// 1 + newlines among the bytes the parser consumed.
    line: u64,
    run: usize,
    lex: Lex,
    /// The last two bytes, for the multi-byte terminators.
    prev: [u8; 2],
    /// What `<!` began with so far (`-`, `[`), to tell a comment from CDATA and a doctype.
    bang: Vec<u8>,
    limits: Limits,
    tripped: Option<Tripped>,
}

impl<R: BufRead> Guard<R> {
    pub(crate) fn new(inner: R, limits: Limits) -> Self {
        Guard {
            inner,
            buf: vec![0; CHUNK].into_boxed_slice(),
            pos: 0,
            len: 0,
            taken: 0,
            line: 1,
            run: 0,
            lex: Lex::Text,
            prev: [0; 2],
            bang: Vec::with_capacity(8),
            limits,
            tripped: None,
        }
    }

    pub(crate) fn tripped(&self) -> Option<Tripped> {
        self.tripped
    }

    /// The line of the next byte the parser will see.
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Advances the lexer over the first `len` bytes of the buffer; the index of the first byte over the token
    /// limit, if any. Runs of bytes that leave the lexer where it is (text up to `<`, a tag up to `>` or a quote,
    /// a quoted value up to its quote) are skipped in one step: most of a file is such runs.
    fn scan(&mut self, len: usize) -> Option<usize> {
        let mut i = 0;
        while i < len {
            let rest = &self.buf[i..len];
            let same = match self.lex {
                Lex::Text => rest.iter().position(|&b| b == b'<'),
                Lex::Tag(None) => rest.iter().position(|&b| matches!(b, b'>' | b'"' | b'\'')),
                Lex::Tag(Some(q)) => rest.iter().position(|&b| b == q),
                _ => Some(0),
            }
            .unwrap_or(rest.len());
            if same > 0 {
                // Each of these bytes only lengthens the stretch.
                let room = self.limits.max_token.saturating_sub(self.run);
                if same > room {
                    return Some(i + room);
                }
                self.run += same;
                let end = i + same;
                self.prev =
                    if same >= 2 { [self.buf[end - 2], self.buf[end - 1]] } else { [self.prev[1], self.buf[end - 1]] };
                i = end;
                continue;
            }
            if !self.step(self.buf[i]) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// Advances the lexer over one byte; false when the stretch since the last `<` is too long.
    fn step(&mut self, b: u8) -> bool {
        self.lex = match self.lex {
            Lex::Text if b == b'<' => {
                self.run = 0;
                Lex::Open
            }
            Lex::Text => Lex::Text,
            Lex::Open => match b {
                b'!' => {
                    self.bang.clear();
                    Lex::Bang
                }
                b'?' => Lex::Pi,
                b'>' => Lex::Text,
                b'"' | b'\'' => Lex::Tag(Some(b)),
                _ => Lex::Tag(None),
            },
            Lex::Tag(None) => match b {
                b'>' => Lex::Text,
                b'"' | b'\'' => Lex::Tag(Some(b)),
                _ => Lex::Tag(None),
            },
            Lex::Tag(Some(q)) => Lex::Tag(if b == q { None } else { Some(q) }),
            Lex::Bang => {
                self.bang.push(b);
                if self.bang == b"--" {
                    Lex::Comment
                } else if self.bang == b"[CDATA[" {
                    Lex::CData
                } else if b"--".starts_with(&self.bang) || b"[CDATA[".starts_with(&self.bang) {
                    Lex::Bang
                } else if b == b'>' {
                    Lex::Text
                } else {
                    Lex::Decl(u32::from(b == b'['))
                }
            }
            Lex::Comment if b == b'>' && self.prev == *b"--" => Lex::Text,
            Lex::Comment => Lex::Comment,
            Lex::CData if b == b'>' && self.prev == *b"]]" => Lex::Text,
            Lex::CData => Lex::CData,
            Lex::Pi if b == b'>' && self.prev[1] == b'?' => Lex::Text,
            Lex::Pi => Lex::Pi,
            Lex::Decl(depth) => match b {
                b'[' => Lex::Decl(depth.saturating_add(1)),
                b']' => Lex::Decl(depth.saturating_sub(1)),
                b'>' if depth == 0 => Lex::Text,
                _ => Lex::Decl(depth),
            },
        };
        self.prev = [self.prev[1], b];
        self.run += 1;
        self.run <= self.limits.max_token
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.len {
            return Ok(&self.buf[self.pos..self.len]);
        }
        if self.tripped.is_some() {
            return Err(io::Error::other("import limit reached"));
        }
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let budget = self.limits.max_bytes.saturating_sub(self.taken);
        let mut keep = n.min(usize::try_from(budget).unwrap_or(usize::MAX));
        if keep < n {
            self.tripped = Some(Tripped::TooLarge(self.taken + keep as u64));
        }
        if let Some(i) = self.scan(keep) {
            keep = i;
            self.tripped = Some(Tripped::TokenTooLong(self.taken + i as u64));
        }
        self.taken += keep as u64;
        self.pos = 0;
        self.len = keep;
        if keep == 0 && self.tripped.is_some() {
            return Err(io::Error::other("import limit reached"));
        }
        Ok(&self.buf[..keep])
    }

    fn consume(&mut self, amt: usize) {
        let end = (self.pos + amt).min(self.len);
        self.line += self.buf[self.pos..end].iter().filter(|&&b| b == b'\n').count() as u64;
        self.pos = end;
    }
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(input: &[u8], limits: Limits) -> (Vec<u8>, Option<Tripped>) {
        let mut guard = Guard::new(input, limits);
        let mut out = Vec::new();
        let _ = guard.read_to_end(&mut out);
        (out, guard.tripped())
    }

    fn limits(max_bytes: u64, max_token: usize) -> Limits {
        Limits { max_bytes, max_token, ..Limits::default() }
    }

    proptest::proptest! {
        /// Skipping runs finds the same first byte over the limit, and leaves the lexer in the same place, as
        /// stepping byte by byte.
        #[test]
        fn skipping_runs_is_stepping_byte_by_byte(
            bytes in proptest::collection::vec(proptest::sample::select(b"<>\"'!-[]?a\n".to_vec()), 0..300),
            max_token in 1usize..40,
        ) {
            let mut fast = Guard::new(&b""[..], limits(1 << 20, max_token));
            let mut slow = Guard::new(&b""[..], limits(1 << 20, max_token));
            fast.buf = bytes.clone().into_boxed_slice();
            let by_scan = fast.scan(bytes.len());
            let by_step = (0..bytes.len()).find(|&i| !slow.step(bytes[i]));
            proptest::prop_assert_eq!(by_scan, by_step);
            if by_scan.is_none() {
                proptest::prop_assert_eq!((fast.lex, fast.run, fast.prev), (slow.lex, slow.run, slow.prev));
            }
        }
    }

    #[test]
    fn passes_what_fits() {
        let doc = b"<a b=\"x>y\"><!-- <<< --><![CDATA[ <x> ]]>text</a>";
        assert_eq!(drain(doc, limits(1000, 21)), (doc.to_vec(), None));
        assert!(drain(doc, limits(1000, 20)).1.is_some(), "the CDATA and the text after it are 21 bytes");
    }

    #[test]
    fn stops_at_the_file_limit() {
        let (out, tripped) = drain(b"<a>0123456789</a>", limits(5, 100));
        assert_eq!(out, b"<a>01");
        assert_eq!(tripped, Some(Tripped::TooLarge(5)));
    }

    #[test]
    fn a_long_attribute_trips_even_with_angle_brackets_inside_its_quotes() {
        let mut doc = b"<a b=\"".to_vec();
        doc.extend(std::iter::repeat_n(b"<>".as_slice(), 100).flatten());
        doc.extend(b"\"/>");
        let (out, tripped) = drain(&doc, limits(1 << 20, 50));
        assert_eq!(tripped, Some(Tripped::TokenTooLong(50)));
        assert_eq!(out.len(), 50);
    }

    #[test]
    fn a_comment_full_of_markup_is_one_stretch() {
        let mut doc = b"<!--".to_vec();
        doc.extend(std::iter::repeat_n(b'<', 100));
        doc.extend(b"-->");
        assert!(matches!(drain(&doc, limits(1 << 20, 50)).1, Some(Tripped::TokenTooLong(_))));
    }

    #[test]
    fn counts_lines_consumed() {
        let mut guard = Guard::new(&b"a\nb\nc"[..], Limits::default());
        let mut out = Vec::new();
        guard.read_to_end(&mut out).unwrap();
        assert_eq!(guard.line(), 3);
    }
}
