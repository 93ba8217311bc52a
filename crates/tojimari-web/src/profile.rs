//! What the New check page offers and the command line each choice runs: the ready-made checks of
//! `tojimari check`, a full scan, or the user's own options in nmap syntax. Pure: the page's form in, an
//! argument vector out, or why not.

use std::fmt;

/// A check the page can start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    /// One of `tojimari check`'s kinds (quick, stealth, trojan, tcp, udp, prescan).
    Check(&'static str),
    /// Every TCP port with service versions: `scan -p- -sV`.
    Full,
    /// The user's own options in nmap syntax.
    Custom(Vec<String>),
}

/// The ready-made checks, as `tojimari check` names them.
pub const CHECKS: &[&str] = &["quick", "stealth", "trojan", "tcp", "udp", "prescan"];

/// Options a page may not pass: they read or write files on the server, name another store, skip the
/// allow-list, or aim packets or connections at a third party the allow-list does not cover (the idle scan's
/// zombie, the FTP bounce's relay: docs/web-security.md). Matched as the option's name, alone or with its value
/// attached.
const REFUSED: &[&str] = &[
    "-sI",
    "--idle-scan",
    "-b",
    "--ftp-bounce",
    "-iL",
    "-iR",
    "--excludefile",
    "-oN",
    "-oX",
    "-oG",
    "-oJ",
    "-oA",
    "-oS",
    "--output-normal",
    "--output-xml",
    "--output-grepable",
    "--output-json",
    "--output-all",
    "--append-output",
    "--resume",
    "--checkpoint",
    "--stylesheet",
    "--db",
    "--no-store",
    "--allowed-targets",
    "--datadir",
    "--servicedb",
    "--versiondb",
    "--script",
    "--script-args-file",
];

/// Options that aim packets or connections at hosts other than the targets, or say they come from another
/// address: decoys (`-D`), a spoofed source (`-S`), an FTP bounce server (`-b`), an idle-scan zombie (`-sI`).
/// The allow-list covers targets only, so the page refuses them (docs/web-security.md). Matched with a value
/// attached too (`-D198.18.0.7`).
const THIRD_PARTY: &[&str] = &["-D", "-S", "-b"];

/// The refused option `name` is, if it is one: a file or store option, or a third-party one.
fn refused(name: &str) -> Option<String> {
    if let Some(r) = REFUSED.iter().find(|r| name == **r || (r.len() == 3 && name.starts_with(**r))) {
        return Some((*r).to_string());
    }
    if let Some(r) = THIRD_PARTY.iter().find(|r| name.starts_with(**r)) {
        return Some((*r).to_string());
    }
    // -sI, alone or among other scan letters (-sSI).
    let letters = name.strip_prefix("-s").filter(|_| !name.starts_with("--"));
    letters.filter(|l| l.chars().take_while(char::is_ascii_alphabetic).any(|c| c == 'I')).map(|_| "-sI".to_string())
}

/// Why the form cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormError {
    UnknownProfile(String),
    NoTarget,
    Unquoted,
    Refused(String),
    TooLong,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::UnknownProfile(p) => write!(f, "unknown check {p:?}"),
            FormError::NoTarget => write!(f, "no target given"),
            FormError::Unquoted => write!(f, "the options have an unclosed quote"),
            FormError::Refused(o) => write!(f, "option {o} is not allowed from the page"),
            FormError::TooLong => write!(f, "the options are too long"),
        }
    }
}

impl Profile {
    /// The profile a form names: one of [`CHECKS`], `full`, or `custom` with `options`.
    pub fn from_form(name: &str, options: &str) -> Result<Profile, FormError> {
        if let Some(check) = CHECKS.iter().find(|c| **c == name) {
            return Ok(Profile::Check(check));
        }
        match name {
            "full" => Ok(Profile::Full),
            "custom" => Ok(Profile::Custom(split_options(options)?)),
            other => Err(FormError::UnknownProfile(other.chars().take(40).collect())),
        }
    }

    /// The profile's name as the page shows it.
    pub fn name(&self) -> &str {
        match self {
            Profile::Check(c) => c,
            Profile::Full => "full",
            Profile::Custom(_) => "custom",
        }
    }

    /// The arguments of the tojimari child process for `targets`, every target outside `allow` refused by the
    /// child itself (`--allowed-targets`) after it resolved names and ranges, so the list holds whatever
    /// the options say; progress every second on stderr.
    pub fn argv(&self, targets: &[String], allow: &str) -> Result<Vec<String>, FormError> {
        if targets.is_empty() {
            return Err(FormError::NoTarget);
        }
        let mut argv: Vec<String> = match self {
            Profile::Check(kind) => vec!["check".into(), (*kind).into()],
            Profile::Full => vec!["scan".into(), "-p-".into(), "-sV".into()],
            Profile::Custom(options) => {
                let mut v = vec!["scan".to_string()];
                v.extend(options.iter().cloned());
                v
            }
        };
        argv.extend(["--stats-every".into(), "1s".into(), "--allowed-targets".into(), allow.into(), "--".into()]);
        argv.extend(targets.iter().cloned());
        Ok(argv)
    }
}

/// Splits options as a shell would (spaces, single and double quotes), refusing options that read or write files on the server (`-iL`, `-o*`, `--resume`, ...).
pub fn split_options(options: &str) -> Result<Vec<String>, FormError> {
    if options.len() > 2000 {
        return Err(FormError::TooLong);
    }
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in options.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    if quote.is_some() {
        return Err(FormError::Unquoted);
    }
    words.extend(word);
    for w in &words {
        if w == "--" {
            return Err(FormError::Refused("--".into()));
        }
        let name = w.split_once('=').map_or(w.as_str(), |(n, _)| n);
        if let Some(r) = refused(name) {
            return Err(FormError::Refused(r));
        }
    }
    Ok(words)
}

/// The page's target field as words (spaces or commas between them).
pub fn split_targets(field: &str) -> Vec<String> {
    field.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_made_checks_run_tojimari_check() {
        let p = Profile::from_form("quick", "ignored").unwrap();
        let argv = p.argv(&["198.18.0.2".into()], "local").unwrap();
        assert_eq!(argv, ["check", "quick", "--stats-every", "1s", "--allowed-targets", "local", "--", "198.18.0.2"]);
        assert_eq!(
            Profile::from_form("full", "").unwrap().argv(&["h".into()], "x").unwrap()[..3],
            ["scan", "-p-", "-sV"]
        );
        assert_eq!(Profile::from_form("rm -rf", ""), Err(FormError::UnknownProfile("rm -rf".into())));
        assert_eq!(p.argv(&[], "local"), Err(FormError::NoTarget));
    }

    #[test]
    fn the_ftp_bounce_is_refused_in_every_spelling() {
        // -b makes the scanner's FTP server connect wherever the page says: a host outside the allow-list.
        for bad in ["-b 198.18.0.2", "-sT -b198.18.0.2", "-banonymous@198.18.0.2:21", "--ftp-bounce=198.18.0.2"] {
            let refused = Profile::from_form("custom", bad).unwrap_err();
            assert!(
                matches!(&refused, FormError::Refused(o) if o == "-b" || o == "--ftp-bounce"),
                "{bad}: {refused:?}"
            );
        }
        assert!(Profile::from_form("custom", "-sS -p 21").is_ok());
    }

    #[test]
    fn custom_options_split_like_a_shell_and_refuse_files() {
        let p = Profile::from_form("custom", r#"-sS -p 22,80 --max-rate "1000""#).unwrap();
        assert_eq!(
            p,
            Profile::Custom(vec!["-sS".into(), "-p".into(), "22,80".into(), "--max-rate".into(), "1000".into()])
        );
        for bad in ["-iL /etc/passwd", "-oX=/tmp/x", "-oN/tmp/x", "--db postgres://x", "-sS -- 10.0.0.1", "--resume=f"]
        {
            assert!(matches!(Profile::from_form("custom", bad), Err(FormError::Refused(_))), "{bad}");
        }
        for (bad, named) in [
            ("-sS -D 198.18.0.7,ME", "-D"),
            ("-D198.18.0.7", "-D"),
            ("-S 198.18.0.9 -e eth0", "-S"),
            ("-b anonymous@198.18.0.5", "-b"),
            ("-sI 198.18.0.6", "-sI"),
            ("-sSI 198.18.0.6", "-sI"),
        ] {
            assert_eq!(Profile::from_form("custom", bad), Err(FormError::Refused(named.into())), "{bad}");
        }
        // Shaping that stays between the scanner and its targets is allowed.
        assert!(Profile::from_form("custom", "-sS -f --ttl 9 -g 53 --data-length 10 --badsum").is_ok());
        for bad in ["-sI 198.18.0.200", "-sI198.18.0.200:80", "--idle-scan 198.18.0.200", "--idle-scan=198.18.0.200"] {
            assert_eq!(
                Profile::from_form("custom", bad),
                Err(FormError::Refused(bad[..bad.find(['=', ' ', '1']).unwrap()].into())),
                "{bad}"
            );
        }
        assert_eq!(split_options("-p '22"), Err(FormError::Unquoted));
        assert_eq!(split_options(&"x".repeat(3000)), Err(FormError::TooLong));
        assert_eq!(split_targets(" 198.18.0.2, 198.18.0.3\n"), ["198.18.0.2", "198.18.0.3"]);
    }
}
