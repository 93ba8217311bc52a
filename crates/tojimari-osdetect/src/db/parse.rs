//! The database text into [`Db`]: line by line, every error naming its line (`os.db:12: message`).
//! Bounded: at most [`MAX_TEXT`] bytes, [`MAX_ENTRIES`] entries, [`MAX_FACTS`] fact lines per entry.

use super::keys;
use super::{Class, Db, DbError, Entry, Pattern, Rule};

/// The largest database text accepted.
pub const MAX_TEXT: usize = 4 << 20;
pub const MAX_ENTRIES: usize = 5000;
pub const MAX_FACTS: usize = 300;
const MAX_LINE: usize = 2000;

pub(crate) fn parse(file: &str, text: &str) -> Result<Db, DbError> {
    let err = |line: usize, message: String| DbError { file: file.to_string(), line: line as u32, message };
    if text.len() > MAX_TEXT {
        return Err(err(0, format!("the database is larger than {MAX_TEXT} bytes")));
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut current: Option<Entry> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(err(n, format!("line longer than {MAX_LINE} bytes")));
        }
        let (word, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(w, r)| (w, r.trim()));
        if word == "os" {
            if let Some(done) = current.take() {
                finish(&done).map_err(|m| err(done.line as usize, m))?;
                entries.push(done);
            }
            if rest.is_empty() {
                return Err(err(n, "`os` needs a name".into()));
            }
            if entries.len() >= MAX_ENTRIES {
                return Err(err(n, format!("more than {MAX_ENTRIES} entries")));
            }
            if entries.iter().any(|e| e.name == rest) {
                return Err(err(n, format!("a second entry named `{rest}`")));
            }
            current = Some(Entry {
                name: rest.to_string(),
                line: n as u32,
                classes: vec![],
                provenance: vec![],
                rules: vec![],
            });
            continue;
        }
        let Some(entry) = current.as_mut() else {
            return Err(err(n, "expected an `os NAME` line first".into()));
        };
        match word {
            "class" => entry.classes.push(class(rest).map_err(|m| err(n, m))?),
            "cpe" => {
                let Some(class) = entry.classes.last_mut() else {
                    return Err(err(n, "`cpe` before any `class` line".into()));
                };
                if !rest.starts_with("cpe:/") || rest.contains(char::is_whitespace) {
                    return Err(err(n, format!("`{rest}` is not a CPE name (cpe:/part:vendor:product...)")));
                }
                class.cpe.push(rest.to_string());
            }
            "provenance" => {
                if rest.is_empty() {
                    return Err(err(n, "empty provenance".into()));
                }
                entry.provenance.push(rest.to_string());
            }
            _ => {
                let rule = fact(line, n).map_err(|m| err(n, m))?;
                if entry.rules.iter().any(|r| r.key == rule.key) {
                    return Err(err(n, format!("`{}` given twice in this entry", rule.key)));
                }
                if entry.rules.len() >= MAX_FACTS {
                    return Err(err(n, format!("more than {MAX_FACTS} facts in one entry")));
                }
                entry.rules.push(rule);
            }
        }
    }
    if let Some(done) = current.take() {
        finish(&done).map_err(|m| err(done.line as usize, m))?;
        entries.push(done);
    }
    Ok(Db { entries })
}

/// An entry is complete: provenance, a class and at least one fact.
fn finish(e: &Entry) -> Result<(), String> {
    if e.provenance.is_empty() {
        return Err(format!(
            "entry `{}` has no `provenance` line (every entry must say where its facts come from)",
            e.name
        ));
    }
    if e.classes.is_empty() {
        return Err(format!("entry `{}` has no `class` line", e.name));
    }
    if e.rules.is_empty() {
        return Err(format!("entry `{}` has no facts", e.name));
    }
    Ok(())
}

/// `class DEVICE TYPE | VENDOR | FAMILY | GENERATION` (`-` for no generation).
fn class(rest: &str) -> Result<Class, String> {
    let f: Vec<&str> = rest.split('|').map(str::trim).collect();
    let [device, vendor, family, generation] = f.as_slice() else {
        return Err(format!(
            "`class` needs 4 fields separated by `|` (device type, vendor, family, generation), got {}",
            f.len()
        ));
    };
    if [device, vendor, family, generation].iter().any(|s| s.is_empty()) {
        return Err("empty field in `class` (use `-` for no generation)".into());
    }
    Ok(Class {
        device_type: device.to_string(),
        vendor: vendor.to_string(),
        family: family.to_string(),
        generation: (*generation != "-").then(|| generation.to_string()),
        cpe: vec![],
    })
}

/// `KEY = PATTERN` with an optional `@WEIGHT` at the end.
fn fact(line: &str, n: usize) -> Result<Rule, String> {
    let Some((key, value)) = line.split_once('=') else {
        let word = line.split_whitespace().next().unwrap_or(line);
        return Err(format!("unknown line `{word}` (expected os, class, cpe, provenance or KEY = VALUES)"));
    };
    let key = key.trim();
    let info = keys::info(key).ok_or_else(|| format!("unknown fact key `{key}`"))?;
    let (value, weight) = match value.rsplit_once('@') {
        Some((v, w)) => {
            let w: u32 = w.trim().parse().map_err(|_| format!("bad weight `@{}`", w.trim()))?;
            if !(1..=100).contains(&w) {
                return Err(format!("weight {w} is outside 1..100"));
            }
            (v.trim(), w)
        }
        None => (value.trim(), info.weight),
    };
    if value.is_empty() {
        return Err(format!("`{key}` has no value"));
    }
    let pattern = Pattern::parse(value)?;
    keys::check(info.kind, &pattern).map_err(|m| format!("`{key}`: {m}"))?;
    Ok(Rule { key: key.to_string(), pattern, weight, line: n as u32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
# a comment
os Example 1
class general purpose | Example | ExampleOS | 1.X
cpe cpe:/o:example:exampleos:1
provenance RFC 9293 (nothing else)
ttl = 64
opts.s1 = MSTNW|MNWST @7
t5.flags = AR
passive.synack.win = 65535
";

    #[test]
    fn a_good_entry() {
        let db = parse("x.db", GOOD).unwrap();
        let e = &db.entries[0];
        assert_eq!(e.name, "Example 1");
        assert_eq!(e.line, 2);
        assert_eq!(e.classes[0].generation.as_deref(), Some("1.X"));
        assert_eq!(e.classes[0].cpe, vec!["cpe:/o:example:exampleos:1".to_string()]);
        assert_eq!(e.rules.len(), 4);
        assert_eq!(e.rules[1].weight, 7);
        assert_eq!(e.rules[0].weight, 6);
        assert_eq!(e.rules[1].line, 7);
    }

    fn error_of(text: &str) -> String {
        parse("x.db", text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            error_of(&GOOD.replace("provenance RFC 9293 (nothing else)\n", "")),
            "x.db:2: entry `Example 1` has no `provenance` line (every entry must say where its facts come from)"
        );
        assert_eq!(error_of(&GOOD.replace("ttl = 64", "tll = 64")), "x.db:6: unknown fact key `tll`");
        assert_eq!(error_of(&GOOD.replace("ttl = 64", "ttl = 70-60")), "x.db:6: range `70-60` runs backwards");
        assert!(error_of(&GOOD.replace("ttl = 64", "ttl = yes")).starts_with("x.db:6: `ttl`: `yes` is not"));
        assert_eq!(error_of(&GOOD.replace("@7", "@0")), "x.db:7: weight 0 is outside 1..100");
        assert_eq!(error_of(&GOOD.replace("t5.flags = AR", "ttl = 32")), "x.db:8: `ttl` given twice in this entry");
        assert!(error_of(&GOOD.replace("ttl = 64", "frobnicate")).starts_with("x.db:6: unknown line `frobnicate`"));
        assert_eq!(error_of("ttl = 64\n"), "x.db:1: expected an `os NAME` line first");
        assert!(error_of(&GOOD.replace("| 1.X", "")).starts_with("x.db:3: `class` needs 4 fields"));
        assert!(error_of(&GOOD.replace("cpe:/o:", "o:")).starts_with("x.db:4: `o:example"));
        assert!(error_of(&format!("{GOOD}os Example 1\n")).starts_with("x.db:10: a second entry"));
        assert!(
            error_of(&format!("{GOOD}os Bare\nprovenance x\nclass a | b | c | -\n"))
                .starts_with("x.db:10: entry `Bare` has no facts")
        );
        let huge = "#".repeat(MAX_TEXT + 1);
        assert!(error_of(&huge).starts_with("x.db:0: the database is larger"));
    }
}
