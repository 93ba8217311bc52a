//! nmap-style options that clap cannot parse as they are typed.
//!
//! nmap users type `-oX out.xml`, `-iL hosts.txt`, `-sT`, `-Pn`, `-sn`: two letters after one dash.
//! Before clap sees the arguments, each such option is rewritten to its long form (`--output-xml`,
//! `--input-list`, `--connect`, ...). Nothing else changes, and nothing after `--` is touched.

/// Two-letter options that take a value, and their long names. The value may be attached (`-oXout.xml`).
const WITH_VALUE: &[(&str, &str)] = &[
    ("-oN", "--output-normal"),
    ("-oX", "--output-xml"),
    ("-oG", "--output-grepable"),
    ("-oJ", "--output-json"),
    ("-oA", "--output-all"),
    ("-iL", "--input-list"),
];

/// Two-letter flags and their long names.
const FLAGS: &[(&str, &str)] = &[
    ("-sT", "--connect"),
    ("-sS", "--syn"),
    ("-sU", "--udp"),
    ("-sF", "--fin"),
    ("-sN", "--null"),
    ("-sX", "--xmas"),
    ("-sA", "--ack"),
    ("-sW", "--window"),
    ("-sM", "--maimon"),
    ("-sV", "--service-version"),
    ("-sn", "--ping-only"),
    ("-Pn", "--no-ping"),
];

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
        if let Some((short, long)) = WITH_VALUE.iter().find(|(short, _)| arg.starts_with(short)) {
            let rest = &arg[short.len()..];
            out.push((*long).to_string());
            if !rest.is_empty() {
                out.push(rest.to_string());
            }
            continue;
        }
        // Host discovery probes of the raw engine (-PS22, -PE, ...) are not available yet: give
        // them a long name that the validator rejects with a clear message instead of clap's guess.
        if arg.len() >= 3 && arg.starts_with("-P") && arg != "-Pn" {
            out.push(format!("--raw-discovery={}", &arg[2..]));
            continue;
        }
        out.push(arg);
    }
    out
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
        assert_eq!(rw(&["-PS22"]), ["--raw-discovery=S22"]);
    }
}
