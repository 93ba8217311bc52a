//! Probe payload escapes: the `q|...|` field is text with C-like escapes for the bytes a line cannot hold.
//!
//! Accepted: `\\`, `\0`, `\a`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v` and `\xNN` (two hex digits). Anything else after
//! a backslash is an error rather than a guess, so a typo in a payload is caught when the database loads.

/// Turns the text of a `q|...|` field into the bytes to send.
pub(crate) fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&code) = bytes.get(i + 1) else {
            return Err("payload ends with a lone backslash".to_string());
        };
        let byte = match code {
            b'\\' => b'\\',
            b'0' => 0,
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'x' => {
                let hex = bytes.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                let value = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(value) = value else {
                    return Err("\\x must be followed by two hex digits".to_string());
                };
                out.push(value);
                i += 4;
                continue;
            }
            other => return Err(format!("unknown escape '\\{}' in payload", char::from(other).escape_default())),
        };
        out.push(byte);
        i += 2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r"GET / HTTP/1.0\r\n\r\n").unwrap(), b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(unescape(r"\x00\xff\\\0a").unwrap(), b"\x00\xff\\\x00a");
        assert_eq!(unescape("").unwrap(), b"");
    }

    #[test]
    fn bad_escapes() {
        assert!(unescape(r"\q").unwrap_err().contains("unknown escape"));
        assert!(unescape(r"\x4").is_err());
        assert!(unescape(r"\xzz").is_err());
        assert!(unescape("abc\\").is_err());
    }
}
