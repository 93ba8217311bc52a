//! nmap's options that `tojimari scan` does not have (yet): the one table that names them.
//!
//! An nmap user types these out of habit. Each is recognised by name and answered with one line (exit
//! status 2) instead of clap's guess: `error: nmap's --proxies (relay connections through proxies) is not
//! supported by tojimari (hint: ...)`. Options that take a value consume it, so `--proxies 0 HOST` never reads `0` as
//! a target.
//! A few options are accepted and ignored because tojimari always behaves the way they ask
//! ([`Status::AlwaysSo`]).
//!
//! When a later issue implements an option, its entry leaves [`TABLE`] (and docs/nmap-options.md says
//! what it does now). The scan-type letters after `-s` are checked here too: `-sSV` is split by the
//! pre-pass, and a letter tojimari does not know is refused here.
//!
//! This file depends on nothing else of the crate: the usage tests include it to loop over [`TABLE`].

/// Why an argument was refused: the message and the hint of a one-line usage error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: String,
}

impl Refusal {
    fn new(message: impl Into<String>, hint: impl Into<String>) -> Refusal {
        Refusal { message: message.into(), hint: hint.into() }
    }
}

/// How an option takes its value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Takes {
    /// A flag (`-O`, `--badsum`).
    Nothing,
    /// A value in the next argument or after `=` (`--ttl 5`, `--ttl=5`); for a short option also attached
    /// (`-Da,b`, `-S198.18.0.9`, `-oSfile`).
    Value,
}

/// What tojimari does with the option.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Refused with one line; `issue` is the later issue that implements it, if one is planned.
    Refused { issue: Option<u32> },
    /// Accepted and ignored: tojimari always behaves as the option asks (the text says why).
    AlwaysSo(&'static str),
}

/// One nmap option tojimari has no switch of its own for.
#[derive(Copy, Clone, Debug)]
pub struct NmapOption {
    /// How nmap spells it (the first) and its other spellings.
    pub names: &'static [&'static str],
    pub takes: Takes,
    /// What it does in nmap, in a few words.
    pub what: &'static str,
    pub status: Status,
    /// What to do instead (for refused options).
    pub hint: &'static str,
}

const fn refused(
    names: &'static [&'static str],
    takes: Takes,
    what: &'static str,
    issue: Option<u32>,
    hint: &'static str,
) -> NmapOption {
    NmapOption { names, takes, what, status: Status::Refused { issue }, hint }
}

const fn always(names: &'static [&'static str], takes: Takes, what: &'static str, why: &'static str) -> NmapOption {
    NmapOption { names, takes, what, status: Status::AlwaysSo(why), hint: "" }
}

use Takes::{Nothing, Value};

const OS: Option<u32> = Some(12);
const SEE_DOCS: &str = "docs/nmap-options.md lists what tojimari does with each nmap option";

/// nmap's options that tojimari refuses or ignores. One entry per option; everything else nmap has is a
/// tojimari option of the same name (or its long form), see docs/nmap-options.md.
pub const TABLE: &[NmapOption] = &[
    // Target specification.
    refused(&["-iR"], Value, "random targets", None, "tojimari scans only the targets you name"),
    refused(&["--resolve-all"], Nothing, "scan every address of a name", None, SEE_DOCS),
    refused(&["--unique"], Nothing, "scan each address once", None, SEE_DOCS),
    // Host discovery.
    refused(&["--disable-arp-ping"], Nothing, "no ARP/ND ping on the local link", None, SEE_DOCS),
    refused(&["--discovery-ignore-rst"], Nothing, "ignore RST replies in discovery", None, SEE_DOCS),
    refused(
        &["-R"],
        Nothing,
        "reverse DNS for every target, also down ones",
        None,
        "up hosts get reverse DNS unless -n",
    ),
    refused(
        &["--dns-servers"],
        Value,
        "custom DNS servers",
        None,
        "tojimari uses the system resolver (/etc/resolv.conf)",
    ),
    always(
        &["--system-dns"],
        Nothing,
        "use the system resolver",
        "tojimari always resolves names through the system resolver",
    ),
    // Scan techniques.
    refused(&["-sR"], Nothing, "RPC scan (now part of nmap's -sV)", None, "use -sV"),
    // Port specification.
    refused(&["--port-ratio"], Value, "ports more common than a ratio", None, "use --top-ports N"),
    // Service and version detection.
    refused(&["--version-trace"], Nothing, "trace version detection", None, "use -d or --packet-trace"),
    refused(&["--servicedb"], Value, "a custom services file", None, "tojimari's services table is built in"),
    refused(&["--datadir"], Value, "where nmap's data files are", None, "use --versiondb FILE for the probe database"),
    always(
        &["--allports"],
        Nothing,
        "version-probe ports nmap skips (9100-9107)",
        "tojimari's -sV probes every open port",
    ),
    // Scripts.
    refused(&["--script"], Value, "NSE scripts", None, "-sC runs tojimari's exposure checks (docs/findings.md)"),
    refused(&["--script-args"], Value, "NSE script arguments", None, "-sC runs tojimari's exposure checks"),
    refused(
        &["--script-args-file"],
        Value,
        "NSE script arguments from a file",
        None,
        "-sC runs tojimari's exposure checks",
    ),
    refused(&["--script-trace"], Nothing, "trace NSE scripts", None, "use --packet-trace"),
    refused(
        &["--script-updatedb"],
        Nothing,
        "update the NSE script database",
        None,
        "tojimari has no scripts to update",
    ),
    refused(&["--script-help"], Value, "NSE script help", None, "docs/findings.md describes tojimari's checks"),
    refused(&["--script-timeout"], Value, "NSE script time limit", None, "use --host-timeout"),
    // OS detection.
    // Timing and performance.
    refused(
        &["--min-hostgroup"],
        Value,
        "hosts scanned in parallel at least",
        None,
        "tojimari sizes host groups itself; use --min-rate",
    ),
    refused(
        &["--max-hostgroup"],
        Value,
        "hosts scanned in parallel at most",
        None,
        "use --max-rate or --max-parallelism",
    ),
    refused(&["--min-parallelism"], Value, "probes in flight at least", None, "use --min-rate"),
    refused(&["--max-scan-delay"], Value, "longest delay between probes", None, "use --scan-delay or --max-rate"),
    refused(&["--defeat-rst-ratelimit"], Nothing, "ignore RST rate limits", None, "use --max-retries 0 for speed"),
    refused(&["--nsock-engine"], Value, "nmap's I/O engine", None, "tojimari picks its own event loop"),
    // Firewall/IDS evasion and spoofing.
    refused(
        &["--proxies", "--proxy"],
        Value,
        "relay connections through proxies",
        None,
        "run tojimari on a host that can reach the target",
    ),
    // Output.
    refused(&["-oS"], Value, "script kiddie output", None, "use -oN, -oX, -oG or -oJ"),
    refused(&["-oM"], Value, "machine output (old name of -oG)", None, "use -oG"),
    refused(&["-oH"], Value, "hex output", None, "use -oN, -oX, -oG or -oJ"),
    refused(&["--append-output"], Nothing, "append to output files", None, "write to a new file and concatenate"),
    refused(
        &["--stylesheet"],
        Value,
        "XSL stylesheet in XML",
        None,
        "XML output has no stylesheet; transform it yourself",
    ),
    refused(
        &["--webxml"],
        Nothing,
        "nmap.org's XSL stylesheet in XML",
        None,
        "XML output has no stylesheet; transform it yourself",
    ),
    always(&["--no-stylesheet"], Nothing, "no XSL stylesheet in XML", "tojimari's XML never names a stylesheet"),
    refused(&["--log-errors"], Nothing, "errors to the normal output file", None, "errors go to stderr"),
    refused(
        &["--deprecated-xml-osclass"],
        Nothing,
        "old OS class XML",
        OS,
        "tojimari writes <osclass> inside <osmatch>, as nmap does today",
    ),
    // Miscellaneous.
    refused(
        &["--send-ip"],
        Nothing,
        "send raw IP packets, not Ethernet frames",
        None,
        "tojimari sends Ethernet frames",
    ),
    always(&["--send-eth"], Nothing, "send Ethernet frames", "the raw engine always sends Ethernet frames"),
    refused(
        &["--privileged"],
        Nothing,
        "assume raw-socket privilege",
        None,
        "run as root or with CAP_NET_RAW; tojimari checks the capability itself",
    ),
    always(&["--noninteractive"], Nothing, "no keys during the scan", "tojimari reads no keys during a scan"),
    always(&["--release-memory"], Nothing, "free memory before exiting", "nothing is left to free at exit"),
    refused(&["-V"], Nothing, "print the version", None, "use tojimari --version"),
];

/// The entry for `name` (one of its spellings).
pub fn find(name: &str) -> Option<&'static NmapOption> {
    TABLE.iter().find(|o| o.names.contains(&name))
}

/// The one-line refusal for a refused option, as typed (`-sO`, `--ttl`).
pub fn refusal(typed: &str, option: &NmapOption) -> Refusal {
    let planned = match option.status {
        Status::Refused { issue: Some(_) } => "is not supported by tojimari yet",
        _ => "is not supported by tojimari",
    };
    Refusal::new(format!("nmap's {typed} ({}) {planned}", option.what), option.hint)
}

/// Scan-type letters after `-s` and tojimari's long option for each.
pub const SCAN_LETTERS: &[(char, &str)] = &[
    ('S', "--syn"),
    ('T', "--connect"),
    ('U', "--udp"),
    ('F', "--fin"),
    ('N', "--null"),
    ('X', "--xmas"),
    ('A', "--ack"),
    ('W', "--window"),
    ('M', "--maimon"),
    ('Y', "--sctp-init"),
    ('Z', "--sctp-cookie-echo"),
    ('O', "--ip-protocol"),
    ('V', "--service-version"),
    ('C', "--checks"),
    ('L', "--list"),
    ('n', "--ping-only"),
    // -sP is nmap's old name of -sn.
    ('P', "--ping-only"),
];

const SCAN_LETTERS_HINT: &str = "scan types are -sS -sT -sU -sF -sN -sX -sA -sW -sM -sY -sZ -sO -sV -sC -sL -sn, \
                                 and may be combined (-sSV, -sSU)";

/// Looks at `tojimari scan`'s arguments as typed (before the pre-pass) and returns the first nmap option
/// that tojimari refuses, or an unknown scan-type letter. `value_options` are tojimari's own options whose
/// value is the next argument (a value may look like an option: `-p -`, `--seed -1`). Nothing after `--`
/// is looked at.
pub fn check(args: &[String], value_options: &[String]) -> Result<(), Refusal> {
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if arg == "--" {
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            continue;
        }
        // Values of tojimari's own options may look like options (-p -, --seed -1): skip them.
        if value_options.iter().any(|o| o == arg) {
            i += 1;
            continue;
        }
        if let Some(letters) = arg.strip_prefix("-s")
            && !letters.is_empty()
        {
            for c in letters.chars() {
                let typed = format!("-s{c}");
                if let Some(option) = find(&typed) {
                    return Err(refusal(&typed, option));
                }
                if !SCAN_LETTERS.iter().any(|(l, _)| *l == c) {
                    return Err(Refusal::new(format!("unknown scan type {typed} (in {arg})"), SCAN_LETTERS_HINT));
                }
            }
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if arg.starts_with("--") => (n, Some(v)),
            _ => (arg, None),
        };
        if let Some(option) = lookup(name) {
            if let Status::Refused { .. } = option.status {
                return Err(refusal(option_name(name), option));
            }
            if option.takes == Value && inline.is_none() && option.names.contains(&name) {
                i += 1;
            }
        }
    }
    Ok(())
}

/// The table entry an argument names: exactly, or with a value attached to a short name (`-Da,b`,
/// `-S198.18.0.9`, `-oSfile`, `-g53`); `-fff` is `-ff` (fragments, however many `f`).
fn lookup(arg: &str) -> Option<&'static NmapOption> {
    if let Some(option) = find(arg) {
        return Some(option);
    }
    if arg.len() > 3 && arg[1..].chars().all(|c| c == 'f') {
        return find("-ff");
    }
    if arg.starts_with("--") {
        return None;
    }
    TABLE.iter().find(|o| {
        o.takes != Nothing && o.names.iter().any(|n| !n.starts_with("--") && arg.starts_with(n) && arg.len() > n.len())
    })
}

/// The option's name without an attached value (`-Da,b` -> `-D`).
fn option_name(arg: &str) -> &str {
    lookup(arg).and_then(|o| o.names.iter().find(|n| arg.starts_with(*n)).copied()).unwrap_or(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_args(args: &[&str]) -> Result<(), Refusal> {
        let own = ["-p", "--seed", "-oN"].map(String::from);
        check(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &own)
    }

    #[test]
    fn every_spelling_is_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for o in TABLE {
            for n in o.names {
                assert!(seen.insert(*n), "{n} twice");
                assert!(n.starts_with('-'), "{n}");
            }
            if let Status::Refused { .. } = o.status {
                assert!(!o.hint.is_empty(), "{n:?} has no hint", n = o.names);
            }
        }
    }

    #[test]
    fn refusals_name_the_option_and_consume_values() {
        let e = check_args(&["--unique", "198.18.0.2"]).unwrap_err();
        assert_eq!(e.message, "nmap's --unique (scan each address once) is not supported by tojimari");
        let e = check_args(&["--proxies", "0", "198.18.0.2"]).unwrap_err();
        assert!(e.message.starts_with("nmap's --proxies (relay connections through proxies)"), "{}", e.message);
        let e = check_args(&["--proxies=0", "198.18.0.2"]).unwrap_err();
        assert!(e.message.starts_with("nmap's --proxies "), "{}", e.message);
        let e = check_args(&["-sSR", "198.18.0.2"]).unwrap_err();
        assert!(e.message.starts_with("nmap's -sR "), "{}", e.message);
        check_args(&["-sSYO", "198.18.0.2"]).unwrap();
        let e = check_args(&["-sQ", "198.18.0.2"]).unwrap_err();
        assert!(e.message.contains("unknown scan type -sQ"), "{}", e.message);
    }

    #[test]
    fn accepted_and_own_options_pass() {
        check_args(&["-sSV", "-sCV", "-sSUV", "-sL", "--system-dns", "-p", "-", "--seed", "-1", "198.18.0.2"]).unwrap();
        check_args(&["-PS22", "-PE", "-PY", "-PO1,2", "-Pn", "-oN", "-O", "198.18.0.2"]).unwrap();
        check_args(&["--", "-O"]).unwrap();
    }
}
