//! Version-field templates (`p/OpenSSH/ v/$2/ i/protocol $1/`): text with substitutions of the match's capture
//! groups, parsed once when the database loads and filled per response.
//!
//! Substitutions:
//! - `$1`..`$9`: the group's bytes; printable ASCII is kept, any other byte is written as `\xNN`.
//! - `$P(n)`: the group's printable ASCII bytes only (others dropped), for text padded with NULs or controls.
//! - `$SUBST(n,"from","to")`: the group as `$n`, with every `from` replaced by `to` (e.g. `_` by `.`).
//!
//! A group that did not take part in the match is empty. The result is trimmed; an empty result means "no
//! value", so an optional group can fill a field or leave it out.

use regex::bytes::Captures;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Group(usize),
    Printable(usize),
    Subst { group: usize, from: String, to: String },
}

/// One parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; `groups` is the number of capture groups of the pattern (a reference past it is an error).
    pub(crate) fn parse(text: &str, groups: usize) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            literal.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let (part, consumed) = parse_substitution(after)?;
            let group = match &part {
                Part::Group(g) | Part::Printable(g) | Part::Subst { group: g, .. } => *g,
                Part::Text(_) => 0,
            };
            if group > groups {
                return Err(format!("template refers to group {group} but the pattern has {groups}"));
            }
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(part);
            rest = &after[consumed..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// Fills the template from a match; `None` when the result is empty.
    pub(crate) fn fill(&self, caps: &Captures<'_>) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Group(g) => push_escaped(&mut out, group_bytes(caps, *g)),
                Part::Printable(g) => {
                    out.extend(group_bytes(caps, *g).iter().filter(|b| is_printable(**b)).map(|b| char::from(*b)))
                }
                Part::Subst { group, from, to } => {
                    let mut value = String::new();
                    push_escaped(&mut value, group_bytes(caps, *group));
                    out.push_str(&value.replace(from.as_str(), to));
                }
            }
        }
        let trimmed = out.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }
}

fn group_bytes<'h>(caps: &Captures<'h>, group: usize) -> &'h [u8] {
    caps.get(group).map_or(&[], |m| m.as_bytes())
}

fn is_printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if is_printable(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}

/// Parses what follows a `$`; returns the part and how many bytes of `after` it used.
fn parse_substitution(after: &str) -> Result<(Part, usize), String> {
    if let Some(d) = after.chars().next().and_then(|c| c.to_digit(10))
        && d >= 1
    {
        return Ok((Part::Group(d as usize), 1));
    }
    if let Some(args) = after.strip_prefix("P(") {
        let end = args.find(')').ok_or("unterminated $P(")?;
        let group = parse_group(&args[..end])?;
        return Ok((Part::Printable(group), 2 + end + 1));
    }
    if let Some(args) = after.strip_prefix("SUBST(") {
        let (group_text, rest) = args.split_once(',').ok_or("$SUBST needs (n,\"from\",\"to\")")?;
        let group = parse_group(group_text)?;
        let (from, rest) = quoted(rest)?;
        let rest = rest.strip_prefix(',').ok_or("$SUBST needs (n,\"from\",\"to\")")?;
        let (to, rest) = quoted(rest)?;
        if !rest.starts_with(')') {
            return Err("unterminated $SUBST(".to_string());
        }
        if from.is_empty() {
            return Err("$SUBST cannot replace an empty string".to_string());
        }
        let consumed = after.len() - rest.len() + 1;
        return Ok((Part::Subst { group, from: from.to_string(), to: to.to_string() }, consumed));
    }
    Err(format!("bad substitution '${}'", after.chars().take(8).collect::<String>()))
}

fn parse_group(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(g @ 1..=9) => Ok(g),
        _ => Err(format!("bad group number '{text}' (1..9)")),
    }
}

/// A `"..."` string at the start of `text` (no escapes); returns it and the rest after the closing quote.
fn quoted(text: &str) -> Result<(&str, &str), String> {
    let inner = text.strip_prefix('"').ok_or("expected a quoted string in $SUBST")?;
    let end = inner.find('"').ok_or("unterminated string in $SUBST")?;
    Ok((&inner[..end], &inner[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::bytes::Regex;

    fn fill(template: &str, pattern: &str, input: &[u8]) -> Option<String> {
        let re = Regex::new(pattern).unwrap();
        let caps = re.captures(input).unwrap();
        Template::parse(template, re.captures_len() - 1).unwrap().fill(&caps)
    }

    #[test]
    fn groups_and_literals() {
        assert_eq!(fill("protocol $1.$2", r"(\d)\.(\d)", b"3.8"), Some("protocol 3.8".into()));
        assert_eq!(fill("$1", r"(?-u)a(.*)", b"a\x00b\xff"), Some(r"\x00b\xff".into()));
        assert_eq!(fill("$P(1)", r"(?-u)a(.*)", b"a\x00b\xffc"), Some("bc".into()));
        assert_eq!(fill(r#"$SUBST(1,"_",".")"#, r"v(\S+)", b"v1_2_3"), Some("1.2.3".into()));
        assert_eq!(fill("x $SUBST(1,\"a\",\"\") y", r"(\w+)", b"banana"), Some("x bnn y".into()));
    }

    #[test]
    fn empty_results_are_none() {
        assert_eq!(fill("$2", r"(a)(b)?", b"a"), None);
        assert_eq!(fill("  ", r"a", b"a"), None);
    }

    #[test]
    fn bad_templates() {
        assert!(Template::parse("$3", 2).unwrap_err().contains("group 3"));
        assert!(Template::parse("$x", 2).is_err());
        assert!(Template::parse("$0", 2).is_err());
        assert!(Template::parse("$P(1", 2).is_err());
        assert!(Template::parse("$P(12)", 20).is_err());
        assert!(Template::parse("$SUBST(1,\"a\")", 2).is_err());
        assert!(Template::parse("$SUBST(1,\"\",\"b\")", 2).is_err());
        assert!(Template::parse("$", 2).is_err());
    }
}
