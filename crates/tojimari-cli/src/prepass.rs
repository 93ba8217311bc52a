//! nmap-style options that clap cannot parse as they are typed.
//!
//! nmap users type `-oX out.xml`, `-iL hosts.txt`, `-sT`, `-Pn`, `-sn`: two letters after one dash.
//! Before clap sees the arguments, each such option is rewritten to its long form (`--output-xml`,
//! `--input-list`, `--idle-scan`, `--connect`, ...). Combined scan types are split as nmap reads them (`-sSV` is `-sS -sV`,
//! `-sSUV` is `-sS -sU -sV`), `-A` and `-d`/`-dd`/`-d3` get long names, the old spellings `-sP`, `-P0` and
//! `-PN` are read as `-sn` and `-Pn`, and the nmap options tojimari accepts without effect
//! ([`crate::nmap_options`], status "always so") are dropped. Nothing else changes, and nothing after `--`
//! is touched.

use crate::nmap_options::{self, SCAN_LETTERS, Status};

/// Two-letter options that take a value, and their long names. The value may be attached (`-oXout.xml`).
const WITH_VALUE: &[(&str, &str)] = &[
    ("-oN", "--output-normal"),
    ("-oX", "--output-xml"),
    ("-oG", "--output-grepable"),
    ("-oJ", "--output-json"),
    ("-oA", "--output-all"),
    ("-iL", "--input-list"),
    ("-sI", "--idle-scan"),
];

/// Flags and their long names (the `-s` scan types are in [`SCAN_LETTERS`]).
const FLAGS: &[(&str, &str)] =
    &[("-Pn", "--no-ping"), ("-P0", "--no-ping"), ("-PN", "--no-ping"), ("-A", "--aggressive")];

/// Rewrites nmap's two-letter options to long options clap knows.
pub fn rewrite(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut passthrough = false;
    for arg in args {
        if passthrough {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        if let Some((_, long)) = FLAGS.iter().find(|(short, _)| *short == arg) {
            out.push((*long).to_string());
            continue;
        }
        if let Some(longs) = scan_types(&arg) {
            out.extend(longs.into_iter().map(str::to_string));
            continue;
        }
        if let Some(level) = debug_level(&arg) {
            out.extend(std::iter::repeat_n("--debug".to_string(), level));
            continue;
        }
        if nmap_options::find(&arg).is_some_and(|o| matches!(o.status, Status::AlwaysSo(_))) {
            continue;
        }
        if let Some((short, long)) = WITH_VALUE.iter().find(|(short, _)| arg.starts_with(short)) {
            let rest = &arg[short.len()..];
            out.push((*long).to_string());
            if !rest.is_empty() {
                out.push(rest.to_string());
            }
            continue;
        }
        // Host discovery probes of the raw engine (-PS22, -PE, ...): the validator reads the letters.
        if arg.len() >= 3 && arg.starts_with("-P") {
            out.push(format!("--ping-probe={}", &arg[2..]));
            continue;
        }
        out.push(arg);
    }
    out
}

/// `tojimari scan`'s options whose value is the next argument, as they may be typed: the long and short
/// names clap knows, and the two-letter nmap forms above.
pub fn scan_value_options() -> Vec<String> {
    use clap::CommandFactory;
    let mut out: Vec<String> = WITH_VALUE.iter().map(|(short, _)| (*short).to_string()).collect();
    if let Some(scan) = crate::args::Cli::command().find_subcommand("scan") {
        for arg in scan.get_arguments().filter(|a| !a.is_positional() && a.get_action().takes_values()) {
            out.extend(arg.get_long().map(|l| format!("--{l}")));
            out.extend(arg.get_short().map(|c| format!("-{c}")));
        }
    }
    out
}

/// `-sSV` -> `--syn --service-version`, when every letter after `-s` is a scan type tojimari knows.
fn scan_types(arg: &str) -> Option<Vec<&'static str>> {
    let letters = arg.strip_prefix("-s").filter(|l| !l.is_empty())?;
    letters.chars().map(|c| SCAN_LETTERS.iter().find(|(l, _)| *l == c).map(|(_, long)| *long)).collect()
}

/// `-d` -> 1, `-dd` -> 2, `-d3` -> 3 (nmap's debug levels).
fn debug_level(arg: &str) -> Option<usize> {
    let rest = arg.strip_prefix("-d")?;
    if rest.is_empty() {
        return Some(1);
    }
    if rest.chars().all(|c| c == 'd') {
        return Some(rest.len() + 1);
    }
    rest.parse::<usize>().ok().map(|n| n.min(9))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(args: &[&str]) -> Vec<String> {
        rewrite(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn two_letter_options_become_long() {
        assert_eq!(
            rw(&["scan", "-sT", "-Pn", "-oX", "a.xml", "-oNb.txt", "-iL", "-", "-p-", "127.0.0.1"]),
            [
                "scan",
                "--connect",
                "--no-ping",
                "--output-xml",
                "a.xml",
                "--output-normal",
                "b.txt",
                "--input-list",
                "-",
                "-p-",
                "127.0.0.1"
            ]
        );
    }

    #[test]
    fn nothing_after_double_dash_changes() {
        assert_eq!(rw(&["scan", "--", "-sT"]), ["scan", "--", "-sT"]);
    }

    #[test]
    fn raw_discovery_options_get_a_name() {
        assert_eq!(rw(&["-PS22"]), ["--ping-probe=S22"]);
        assert_eq!(rw(&["-P0", "-PN", "-Pn"]), ["--no-ping", "--no-ping", "--no-ping"]);
    }

    #[test]
    fn value_options_come_from_the_definitions() {
        let own = scan_value_options();
        for name in ["-p", "--top-ports", "--seed", "-e", "-T", "--exclude", "-oN", "-iL", "--output-xml"] {
            assert!(own.iter().any(|o| o == name), "{name} missing from {own:?}");
        }
        assert!(!own.iter().any(|o| o == "-n" || o == "--open"), "{own:?}");
    }

    #[test]
    fn combined_scan_types_are_split() {
        assert_eq!(rw(&["-sSV"]), ["--syn", "--service-version"]);
        assert_eq!(rw(&["-sSUV"]), ["--syn", "--udp", "--service-version"]);
        assert_eq!(rw(&["-sCV"]), ["--checks", "--service-version"]);
        assert_eq!(rw(&["-sL", "-sP"]), ["--list", "--ping-only"]);
        // An unknown letter is left for the nmap option check to name.
        assert_eq!(rw(&["-sSQ"]), ["-sSQ"]);
    }

    #[test]
    fn debug_levels_and_ignored_options() {
        assert_eq!(rw(&["-d"]), ["--debug"]);
        assert_eq!(rw(&["-ddd"]), ["--debug", "--debug", "--debug"]);
        assert_eq!(rw(&["-d2", "-A"]), ["--debug", "--debug", "--aggressive"]);
        assert_eq!(rw(&["--system-dns", "--noninteractive", "-n"]), ["-n"]);
    }
}
