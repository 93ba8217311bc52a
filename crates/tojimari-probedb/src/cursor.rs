//! A cursor over one database line: whitespace-separated words and delimited fields (`q|...|`, `m=...=`,
//! `p/.../`), the two shapes every directive is made of.
//!
//! A delimited field ends at the next occurrence of its delimiter; there is no escape for it, so a field that
//! needs the character picks another delimiter (`m%a|b%`), as in nmap's format.

/// Reads a line left to right. Positions are byte offsets; every cut is at an ASCII character, so slicing the
/// `&str` never splits a UTF-8 sequence.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Cursor { rest: line }
    }

    pub(crate) fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.trim().is_empty()
    }

    /// What is left of the line, trimmed.
    pub(crate) fn rest(&self) -> &'a str {
        self.rest.trim()
    }

    /// The next whitespace-separated word, if any.
    pub(crate) fn word(&mut self) -> Option<&'a str> {
        self.skip_space();
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.find(char::is_whitespace).unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(word)
    }

    /// Consumes `prefix` if the line continues with it (after whitespace).
    pub(crate) fn eat(&mut self, prefix: &str) -> bool {
        self.skip_space();
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// A field opened by the next character (the delimiter) and closed by its next occurrence; the cursor must
    /// stand right on the delimiter. Returns the text between the delimiters.
    pub(crate) fn delimited(&mut self) -> Result<&'a str, String> {
        let mut chars = self.rest.chars();
        let delim = match chars.next() {
            Some(c) if !c.is_whitespace() && !c.is_alphanumeric() && c != '\\' => c,
            Some(c) => return Err(format!("'{c}' cannot delimit a field")),
            None => return Err("missing delimited field".to_string()),
        };
        let body = chars.as_str();
        match body.find(delim) {
            Some(end) => {
                self.rest = &body[end + delim.len_utf8()..];
                Ok(&body[..end])
            }
            None => Err(format!("unterminated field: no closing '{delim}'")),
        }
    }

    /// The next non-blank character, consumed.
    pub(crate) fn char(&mut self) -> Option<char> {
        self.skip_space();
        let c = self.rest.chars().next()?;
        self.rest = &self.rest[c.len_utf8()..];
        Some(c)
    }

    /// Letters glued to the end of a field (`m|...|si`), possibly none.
    pub(crate) fn flags(&mut self) -> &'a str {
        let end = self.rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(self.rest.len());
        let (flags, rest) = self.rest.split_at(end);
        self.rest = rest;
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_fields() {
        let mut c = Cursor::new("match ssh m=^SSH-=si p/Open SSH/ rest");
        assert_eq!(c.word(), Some("match"));
        assert_eq!(c.word(), Some("ssh"));
        assert!(c.eat("m"));
        assert_eq!(c.delimited(), Ok("^SSH-"));
        assert_eq!(c.flags(), "si");
        assert!(c.eat("p"));
        assert_eq!(c.delimited(), Ok("Open SSH"));
        assert_eq!(c.rest(), "rest");
    }

    #[test]
    fn unterminated_and_bad_delimiters() {
        assert!(Cursor::new("|abc").delimited().unwrap_err().contains("unterminated"));
        assert!(Cursor::new("abc").delimited().unwrap_err().contains("cannot delimit"));
        assert!(Cursor::new("").delimited().is_err());
    }
}
