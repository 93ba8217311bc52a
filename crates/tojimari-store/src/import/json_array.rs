//! The elements of a top-level JSON array of objects, one at a time and within [`Limits`], each handed
//! out as its bytes to deserialize on its own: a file of a million objects costs the memory of one.
//!
//! A small lexer finds where each object ends (strings and their escapes, nesting). The brackets may be
//! missing (objects one after another, as older masscans write), and a comma after the last object is
//! tolerated. An object longer than `max_token`, nesting deeper than `max_depth`, a file longer than
//! `max_bytes`, an array left open and anything but objects are refused with where it happened.

use std::io::BufRead;

use crate::import::{ImportError, Limits, Position};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    /// Before the `[` (or the first object).
    Start,
    /// Between elements.
    Between,
    /// Inside an object: its nesting, whether in a string, whether after a backslash there.
    Object { depth: usize, string: bool, escape: bool },
    /// After the `]`.
    After,
}

pub(crate) struct ArrayItems<R> {
    input: R,
    limits: Limits,
    format: &'static str,
    offset: u64,
    line: u64,
    state: State,
    bracketed: bool,
    /// The object being read, and where it began.
    buf: Vec<u8>,
    began: Position,
}

impl<R: BufRead> ArrayItems<R> {
    pub(crate) fn new(input: R, limits: Limits, format: &'static str) -> Self {
        ArrayItems {
            input,
            limits,
            format,
            offset: 0,
            line: 1,
            state: State::Start,
            bracketed: false,
            buf: Vec::new(),
            began: Position { offset: 0, line: 1 },
        }
    }

    pub(crate) fn position(&self) -> Position {
        Position { offset: self.offset, line: self.line }
    }

    /// The next object's bytes and where it began; `None` after the last.
    pub(crate) fn next_item(&mut self) -> Result<Option<(&[u8], Position)>, ImportError> {
        self.buf.clear();
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(ImportError::Io { at: self.position(), source }),
            };
            if chunk.is_empty() {
                return match self.state {
                    State::Between if self.bracketed => {
                        Err(ImportError::Ended { at: self.position(), what: "the JSON array is not closed".into() })
                    }
                    State::Object { .. } => Err(ImportError::Ended {
                        at: self.position(),
                        what: format!("inside the object that begins at {}", self.began),
                    }),
                    _ => Ok(None),
                };
            }
            let mut used = 0;
            let mut complete = false;
            let mut failure = None;
            for &b in chunk {
                let at = Position { offset: self.offset + used as u64, line: self.line };
                used += 1;
                if b == b'\n' {
                    self.line += 1;
                }
                match step(&mut self.state, &mut self.bracketed, b) {
                    Step::Skip => {}
                    Step::Begin => {
                        self.began = at;
                        self.buf.push(b);
                    }
                    Step::Keep => self.buf.push(b),
                    Step::End => {
                        self.buf.push(b);
                        complete = true;
                    }
                    Step::Bad(what) => {
                        failure = Some(ImportError::Json { at, format: self.format, message: what.into() });
                    }
                }
                if failure.is_none() && self.buf.len() > self.limits.max_token {
                    failure = Some(ImportError::TokenTooLong { at: self.began, limit: self.limits.max_token });
                }
                if failure.is_none()
                    && let State::Object { depth, .. } = self.state
                    && depth > self.limits.max_depth
                {
                    failure = Some(ImportError::TooDeep { at, limit: self.limits.max_depth });
                }
                if failure.is_none() && self.offset + used as u64 > self.limits.max_bytes {
                    failure = Some(ImportError::TooLarge { at, limit: self.limits.max_bytes });
                }
                if complete || failure.is_some() {
                    break;
                }
            }
            self.input.consume(used);
            self.offset += used as u64;
            if let Some(e) = failure {
                return Err(e);
            }
            if complete {
                return Ok(Some((&self.buf, self.began)));
            }
        }
    }
}

enum Step {
    /// White space, a bracket or a comma between objects.
    Skip,
    /// The `{` of an object.
    Begin,
    Keep,
    /// The `}` that closes an object.
    End,
    Bad(&'static str),
}

fn step(state: &mut State, bracketed: &mut bool, b: u8) -> Step {
    match *state {
        State::Start | State::Between | State::After if b.is_ascii_whitespace() => Step::Skip,
        State::Start if b == b'[' => {
            *bracketed = true;
            *state = State::Between;
            Step::Skip
        }
        State::Start | State::Between if b == b'{' => {
            *state = State::Object { depth: 1, string: false, escape: false };
            Step::Begin
        }
        State::Start => Step::Bad("the file does not begin with [ or {"),
        State::Between if b == b',' => Step::Skip,
        State::Between if b == b']' && *bracketed => {
            *state = State::After;
            Step::Skip
        }
        State::Between => Step::Bad("expected an object"),
        State::After => Step::Bad("something follows the end of the array"),
        State::Object { depth, string: true, escape } => {
            let (string, escape) = match (escape, b) {
                (true, _) => (true, false),
                (false, b'\\') => (true, true),
                (false, b'"') => (false, false),
                _ => (true, false),
            };
            *state = State::Object { depth, string, escape };
            Step::Keep
        }
        State::Object { depth, string: false, .. } => match b {
            b'"' => {
                *state = State::Object { depth, string: true, escape: false };
                Step::Keep
            }
            b'{' | b'[' => {
                *state = State::Object { depth: depth + 1, string: false, escape: false };
                Step::Keep
            }
            b'}' | b']' if depth == 1 => {
                *state = State::Between;
                Step::End
            }
            b'}' | b']' => {
                *state = State::Object { depth: depth - 1, string: false, escape: false };
                Step::Keep
            }
            _ => Step::Keep,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str, limits: Limits) -> Result<Vec<(String, u64)>, ImportError> {
        let mut reader = ArrayItems::new(text.as_bytes(), limits, "test");
        let mut out = Vec::new();
        while let Some((bytes, at)) = reader.next_item()? {
            out.push((String::from_utf8_lossy(bytes).into_owned(), at.line));
        }
        Ok(out)
    }

    #[test]
    fn objects_of_an_array_with_or_without_brackets() {
        let text = "[\n{\"a\": \"}{\\\"\", \"b\": [1, {\"c\": 2}]}\n,\n{}\n,\n]\n";
        let got = items(text, Limits::default()).unwrap();
        assert_eq!(got, [("{\"a\": \"}{\\\"\", \"b\": [1, {\"c\": 2}]}".into(), 2), ("{}".into(), 4)]);
        assert_eq!(items("{\"a\":1}\n{\"a\":2}", Limits::default()).unwrap().len(), 2);
        assert_eq!(items("[]", Limits::default()).unwrap().len(), 0);
    }

    #[test]
    fn broken_and_hostile_arrays_are_refused() {
        let err = |text: &str, limits: Limits| items(text, limits).unwrap_err();
        let small = Limits { max_token: 64, max_depth: 4, ..Limits::default() };
        assert!(matches!(err("[{\"a\":1}", small), ImportError::Ended { .. }));
        assert!(matches!(err("[{\"a\":1},{\"b\":", small), ImportError::Ended { .. }));
        assert!(matches!(err("[1,2]", small), ImportError::Json { .. }));
        assert!(matches!(err("[{}] x", small), ImportError::Json { .. }));
        assert!(matches!(err("nope", small), ImportError::Json { .. }));
        let long = format!("[{{\"a\":\"{}\"}}]", "x".repeat(100));
        assert!(matches!(err(&long, small), ImportError::TokenTooLong { limit: 64, .. }));
        let deep = format!("[{}", "{\"a\":".repeat(10));
        assert!(matches!(err(&deep, small), ImportError::TooDeep { limit: 4, .. }));
        let tiny = Limits { max_bytes: 10, ..Limits::default() };
        assert!(matches!(err("[{}, {}, {}, {}, {}]", tiny), ImportError::TooLarge { .. }));
    }
}
