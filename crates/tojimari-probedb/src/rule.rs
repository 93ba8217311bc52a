//! One `match`/`softmatch` line, compiled: the service name, the pattern and the version-field templates.
//!
//! Patterns use the `regex` crate in bytes mode with Unicode off (`(?-u)`), not PCRE. We write our own
//! patterns, so we do not need look-around or back-references, and the crate's matching runs in time linear in
//! the input: a hostile server cannot make a pattern backtrack for minutes with a crafted banner. The other
//! differences from PCRE that matter here: `$` matches only at the very end (not before a final newline) and
//! `\0` is translated to `\x00` when the pattern is read.

use regex::bytes::{Regex, RegexBuilder};

use crate::Match;
use crate::cursor::Cursor;
use crate::template::Template;

/// Bound on the compiled size of one pattern, so a database line cannot make the program huge
/// (`a{1000}{1000}` is refused at load time instead of taking gigabytes).
pub(crate) const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// Bound on the matching cache each pattern grows while matching (the regex crate's lazy DFA; its
/// default is 2 MiB per pattern, which thousands of patterns would multiply).
pub(crate) const PATTERN_CACHE_LIMIT: usize = 64 * 1024;

/// A compiled match line.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) service: String,
    pub(crate) soft: bool,
    regex: Regex,
    product: Option<Template>,
    version: Option<Template>,
    extrainfo: Option<Template>,
    hostname: Option<Template>,
    ostype: Option<Template>,
    devicetype: Option<Template>,
    cpe: Vec<Template>,
    line: usize,
    /// What the compiled pattern holds in memory, in bytes (the regex engine's own count), so the
    /// database can bound the total.
    pub(crate) weight: usize,
}

impl Rule {
    /// Reads the part of a line after `match`/`softmatch`: `SERVICE m|regex|flags [templates...]`.
    pub(crate) fn parse(rest: &str, soft: bool, line: usize) -> Result<Rule, String> {
        let mut cursor = Cursor::new(rest);
        let service = cursor.word().ok_or("missing service name")?;
        if !service.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b)) {
            return Err(format!("bad service name '{service}'"));
        }
        if !cursor.eat("m") {
            return Err("expected m|pattern| after the service name".to_string());
        }
        let pattern = cursor.delimited()?;
        let flags = cursor.flags();
        let regex = compile(pattern, flags)?;
        let weight = weigh(pattern, flags)?;
        let groups = regex.captures_len() - 1;

        let mut rule = Rule {
            service: service.to_string(),
            soft,
            regex,
            product: None,
            version: None,
            extrainfo: None,
            hostname: None,
            ostype: None,
            devicetype: None,
            cpe: Vec::new(),
            line,
            weight,
        };
        loop {
            cursor.skip_space();
            if cursor.is_empty() {
                break;
            }
            if soft {
                return Err(format!("softmatch takes no version fields (found '{}')", cursor.rest()));
            }
            if cursor.eat("cpe:") {
                let text = cursor.delimited()?;
                // nmap's optional "a" flag after a cpe field is accepted and has no effect.
                let flags = cursor.flags();
                if !flags.is_empty() && flags != "a" {
                    return Err(format!("unknown cpe flag '{flags}'"));
                }
                rule.cpe.push(Template::parse(&format!("cpe:/{text}"), groups)?);
                continue;
            }
            let Some(field) = cursor.char() else { break };
            let slot = match field {
                'p' => &mut rule.product,
                'v' => &mut rule.version,
                'i' => &mut rule.extrainfo,
                'h' => &mut rule.hostname,
                'o' => &mut rule.ostype,
                'd' => &mut rule.devicetype,
                other => return Err(format!("unknown version field '{other}'")),
            };
            let text = cursor.delimited()?;
            if slot.is_some() {
                return Err(format!("version field '{field}' given twice"));
            }
            *slot = Some(Template::parse(text, groups)?);
            let glued = cursor.flags();
            if !glued.is_empty() {
                return Err(format!("unexpected '{glued}' after version field '{field}'"));
            }
        }
        Ok(rule)
    }

    /// The match this line makes of `response`, if its pattern matches.
    pub(crate) fn apply(&self, response: &[u8]) -> Option<Match> {
        let caps = self.regex.captures(response)?;
        let fill = |t: &Option<Template>| t.as_ref().and_then(|t| t.fill(&caps));
        Some(Match {
            service: self.service.clone(),
            soft: self.soft,
            product: fill(&self.product),
            version: fill(&self.version),
            extrainfo: fill(&self.extrainfo),
            hostname: fill(&self.hostname),
            ostype: fill(&self.ostype),
            devicetype: fill(&self.devicetype),
            // A version group that did not match leaves "cpe:/a:vendor:product:", which names the product.
            cpe: self.cpe.iter().filter_map(|t| t.fill(&caps)).map(|c| c.trim_end_matches(':').to_string()).collect(),
            line: self.line,
        })
    }
}

/// Compiles a pattern in bytes mode with Unicode off; flags `s` (dot matches newline) and `i` (ASCII case).
fn compile(pattern: &str, flags: &str) -> Result<Regex, String> {
    let mut builder = RegexBuilder::new(&translate(pattern));
    builder.unicode(false).size_limit(PATTERN_SIZE_LIMIT).dfa_size_limit(PATTERN_CACHE_LIMIT);
    for flag in flags.chars() {
        match flag {
            's' => builder.dot_matches_new_line(true),
            'i' => builder.case_insensitive(true),
            other => return Err(format!("unknown pattern flag '{other}'")),
        };
    }
    builder.build().map_err(|e| format!("bad pattern: {}", one_line(&e.to_string())))
}

/// The memory a pattern compiled by [`compile`] holds: the regex crate does not tell, so the same pattern
/// is built once more, with the same settings, by the engine that crate wraps, which does.
fn weigh(pattern: &str, flags: &str) -> Result<usize, String> {
    use regex_automata::util::syntax;
    use regex_automata::{MatchKind, meta};
    let syntax = syntax::Config::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(flags.contains('s'))
        .case_insensitive(flags.contains('i'));
    let config = meta::Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .utf8_empty(false)
        .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
        .hybrid_cache_capacity(PATTERN_CACHE_LIMIT);
    meta::Builder::new()
        .configure(config)
        .syntax(syntax)
        .build(&translate(pattern))
        .map(|regex| regex.memory_usage())
        .map_err(|e| format!("bad pattern: {}", one_line(&e.to_string())))
}

/// `\0` (not followed by a digit) becomes `\x00`, which the regex crate does not spell as `\0`.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') if !chars.peek().is_some_and(char::is_ascii_digit) => out.push_str("\\x00"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_line() {
        let rule = Rule::parse(
            r"ssh m|^SSH-([\d.]+)-OpenSSH_(\S+)\r\n| p/OpenSSH/ v/$2/ i/protocol $1/ cpe:/a:openbsd:openssh:$2/",
            false,
            7,
        )
        .unwrap();
        let m = rule.apply(b"SSH-2.0-OpenSSH_9.2p1\r\n").unwrap();
        assert_eq!(m.service, "ssh");
        assert_eq!(m.product.as_deref(), Some("OpenSSH"));
        assert_eq!(m.version.as_deref(), Some("9.2p1"));
        assert_eq!(m.extrainfo.as_deref(), Some("protocol 2.0"));
        assert_eq!(m.cpe, vec!["cpe:/a:openbsd:openssh:9.2p1".to_string()]);
        assert_eq!(m.line, 7);
        assert!(rule.apply(b"SSH-2.0-dropbear\r\n").is_none());
    }

    #[test]
    fn flags_nul_and_bytes() {
        let rule = Rule::parse(r"x m=^a.b\0\xff=si", false, 1).unwrap();
        assert!(rule.apply(b"A\nB\x00\xff").is_some());
        assert!(Rule::parse(r"x m=^a.b=", false, 1).unwrap().apply(b"a\nb").is_none());
    }

    #[test]
    fn cpe_without_version_drops_the_colon() {
        let rule = Rule::parse(r"http m|nginx(?:/([\d.]+))?| cpe:/a:f5:nginx:$1/", false, 1).unwrap();
        assert_eq!(rule.apply(b"nginx").unwrap().cpe, vec!["cpe:/a:f5:nginx".to_string()]);
    }

    #[test]
    fn errors() {
        assert!(Rule::parse(r"x m|(|", false, 1).unwrap_err().contains("bad pattern"));
        assert!(Rule::parse(r"x m|a|q", false, 1).unwrap_err().contains("flag"));
        assert!(Rule::parse(r"x m|a| z/b/", false, 1).unwrap_err().contains("unknown version field"));
        assert!(Rule::parse(r"x m|a| p/b/ p/c/", false, 1).unwrap_err().contains("twice"));
        assert!(Rule::parse(r"x m|a| p/b", false, 1).unwrap_err().contains("unterminated"));
        assert!(Rule::parse(r"x m|a| p/$1/", false, 1).unwrap_err().contains("group 1"));
        assert!(Rule::parse(r"x m|a| p/b/", true, 1).unwrap_err().contains("softmatch"));
        assert!(Rule::parse(r"x |a|", false, 1).is_err());
        assert!(Rule::parse(r"x m|a(?=b)|", false, 1).unwrap_err().contains("bad pattern"));
    }
}
