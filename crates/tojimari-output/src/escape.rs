//! Making arbitrary text safe for XML attributes, XML comments and line-based formats.
//!
//! Text that reaches a printer may come off the wire (banners, reverse-DNS names) and so hold any
//! character. XML 1.0 cannot carry most control characters at all, not even as `&#N;` references, so
//! those are first spelled as `\xNN` (or `\u{NNNN}` above U+00FF); then the XML specials are escaped.
//! Tab, newline and carriage return are legal but would be flattened to spaces by attribute-value
//! normalisation, so they become `&#9;`, `&#10;`, `&#13;` (as nmap writes `&#10;` in `errormsg`).
//! A backslash is left as it is: readers of these strings are people and nmap-compatible parsers,
//! not an unescaper.

use std::fmt::Write as _;

/// Whether XML 1.0 can carry `c` literally. Besides the illegal ones this excludes DEL and the C1
/// controls (U+007F..=U+009F), which XML 1.0 allows but discourages and which no banner means as text.
fn xml_safe(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

fn push_hex(out: &mut String, c: char) {
    let n = u32::from(c);
    if n <= 0xff {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:04x}}}");
    }
}

/// A value for `name="..."`: specials escaped, controls spelled out.
pub fn xml_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if xml_safe(c) => out.push(c),
            c => push_hex(&mut out, c),
        }
    }
    out
}

/// nmap writes each `--` of the command line as `-&#45;`, because the same text goes into an XML
/// comment, where `--` is forbidden. tojimari does the same in the `args` attribute and the comment.
pub(crate) fn break_double_hyphens(escaped: &str) -> String {
    escaped.replace("--", "-&#45;")
}

/// Text for `<!-- ... -->`: no `--`, no control characters (markup needs no escaping in a comment).
pub(crate) fn xml_comment(text: &str) -> String {
    break_double_hyphens(&printable(text))
}

/// `text` with every control character (including tab and newline) spelled as `\xNN`, for formats
/// where one record is one line and fields are split on tabs.
pub(crate) fn printable(text: &str) -> String {
    if !text.chars().any(|c| c.is_control()) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() { push_hex(&mut out, c) } else { out.push(c) }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_specials_and_controls() {
        assert_eq!(xml_attr(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml_attr("line1\nline2\tx\r"), "line1&#10;line2&#9;x&#13;");
        assert_eq!(xml_attr("SSH\u{0}\u{1b}[0m\u{7f}"), "SSH\\x00\\x1b[0m\\x7f");
        assert_eq!(xml_attr("caf\u{e9} \u{fffe}"), "caf\u{e9} \\u{fffe}");
        assert_eq!(xml_attr("\u{85}"), "\\x85");
        assert_eq!(xml_attr("back\\slash"), "back\\slash");
    }

    #[test]
    fn hyphens_like_nmap() {
        assert_eq!(break_double_hyphens(&xml_attr("nmap -sT --reason 127.0.0.1")), "nmap -sT -&#45;reason 127.0.0.1");
        assert_eq!(xml_comment("a --- b <c>"), "a -&#45;- b <c>");
        assert!(!xml_comment("----").contains("--"));
    }

    #[test]
    fn printable_keeps_lines_whole() {
        assert_eq!(printable("plain"), "plain");
        assert_eq!(printable("a\tb\nc"), "a\\x09b\\x0ac");
    }
}
