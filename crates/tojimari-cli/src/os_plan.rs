//! `-O` and its options (`--osscan-limit`, `--osscan-guess`, `--max-os-tries`, `--osdb`), checked into the
//! raw engine's [`OsScan`], and `--traceroute`. `-A` turns both on where they can run (raw sockets, the raw
//! engine) and says so where they cannot.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use tojimari_core::input::{Limits, LineReader, Nul};
use tojimari_engine::raw::OsScan;
use tojimari_osdetect::Db;

use crate::args::ScanArgs;
use crate::plan::UsageError;
use crate::technique::Techniques;

/// `--osdb`: at most 4 MiB, lines of at most 4 KiB.
const OSDB: Limits = Limits { max_line: 4 * 1024, max_bytes: Some(4 << 20), max_lines: None, nul: Nul::Refuse };
/// `--max-os-tries` when not given: one retry of what stayed silent.
const DEFAULT_TRIES: u8 = 2;

/// The OS-detection plan; `None` without `-O` (or `-A`), or where `-A` cannot have it (`notice` says why).
pub fn os_plan(
    args: &ScanArgs,
    techniques: &Techniques,
    ping_only: bool,
    raw_allowed: bool,
    notice: &mut dyn FnMut(String),
) -> Result<Option<OsScan>, UsageError> {
    let options = [
        (args.osscan_limit, "--osscan-limit"),
        (args.osscan_guess, "--osscan-guess"),
        (args.max_os_tries.is_some(), "--max-os-tries"),
        (args.osdb.is_some(), "--osdb"),
    ];
    if !(args.os_detect || args.aggressive) {
        return match options.iter().find(|(on, _)| *on) {
            Some((_, name)) => Err(UsageError::new(format!("{name} applies to OS detection"), "add -O")),
            None => Ok(None),
        };
    }
    let name = if args.os_detect { "-O" } else { "-A" };
    if ping_only {
        return Err(UsageError::new(
            format!("{name} and -sn contradict each other"),
            "OS detection needs the ports a port scan finds; drop -sn",
        ));
    }
    let raw_tcp = techniques.tcp.is_some_and(|t| t.is_raw());
    if !raw_allowed || !raw_tcp {
        let why = if !raw_allowed {
            crate::messages::needs_raw("OS detection (-O)")
        } else if techniques.tcp.is_none() {
            "OS detection (-O) needs a TCP port scan to find an open and a closed port".to_string()
        } else if techniques.tcp == Some(tojimari_core::ScanType::Bounce) {
            "OS detection (-O) probes the target from this host, and -b (FTP bounce) scans through the FTP server"
                .to_string()
        } else {
            "OS detection (-O) runs on the raw engine, and -sT scans with connect()".to_string()
        };
        if !args.os_detect {
            let why = if args.unprivileged { "--unprivileged rules out its raw packets".to_string() } else { why };
            notice(format!("-A left out OS detection: {why}"));
            return Ok(None);
        }
        return Err(if args.unprivileged {
            UsageError::new("OS detection (-O) sends raw packets, which --unprivileged rules out", "drop one of them")
        } else if !raw_allowed {
            UsageError::privilege(why, crate::messages::raw_hint("drop -O"))
        } else {
            UsageError::new(why, "use -sS (the default with raw sockets) with -O")
        });
    }
    let max_tries = match &args.max_os_tries {
        None => DEFAULT_TRIES,
        Some(text) => match text.parse::<u8>() {
            Ok(n @ 1..=50) => n,
            _ => {
                return Err(UsageError::new(
                    format!("--max-os-tries must be a number from 1 to 50, not \"{text}\""),
                    "1 sends each OS probe once; the default 2 sends again what stayed silent",
                ));
            }
        },
    };
    let db = match &args.osdb {
        None => Db::builtin(),
        Some(path) => &*Box::leak(Box::new(read_osdb(path)?)),
    };
    Ok(Some(OsScan { guess: args.osscan_guess, limit: args.osscan_limit, max_tries, db }))
}

/// `--osdb FILE`, read within [`OSDB`] and parsed; errors name the file and line.
fn read_osdb(path: &Path) -> Result<Db, UsageError> {
    const HINT: &str = "give a text file in the format of docs/os-db.md (at most 4 MiB), or drop --osdb to use \
                        the built-in database";
    let name = path.to_string_lossy();
    let file = File::open(path)
        .map_err(|e| UsageError::new(format!("cannot read the fingerprint database {}: {e}", path.display()), HINT))?;
    let text = LineReader::new(BufReader::new(file), OSDB)
        .read_all_text()
        .map_err(|e| UsageError::new(format!("{name}:{}: {e}", e.line()), HINT))?;
    Db::parse(&name, &text).map_err(|e| UsageError::new(e.to_string(), HINT))
}

/// Whether the raw engine traces the hops to each up host (`--traceroute`, or `-A` where it can). It sends
/// raw packets from this host to the targets: without raw sockets, and with a connect scan, it is left out
/// with a note (nmap warns and goes on too); the idle scan and the FTP bounce scan exist not to send the
/// targets anything from here, so asking for both is refused.
pub fn trace_plan(
    args: &ScanArgs,
    techniques: &Techniques,
    ping_only: bool,
    raw_allowed: bool,
    notice: &mut dyn FnMut(String),
) -> Result<bool, UsageError> {
    if !(args.traceroute || args.aggressive) {
        return Ok(false);
    }
    let name = if args.traceroute { "--traceroute" } else { "-A" };
    let third_party = if args.idle_scan.is_some() {
        Some("the idle scan (-sI)")
    } else if args.bounce.is_some() {
        Some("the FTP bounce scan (-b)")
    } else {
        None
    };
    if let Some(scan) = third_party {
        if args.traceroute {
            return Err(UsageError::new(
                format!("--traceroute sends the targets packets from this host, which {scan} exists to avoid"),
                "drop --traceroute, or scan the targets directly",
            ));
        }
        notice(format!("-A left out --traceroute: it would send the targets packets from this host, unlike {scan}"));
        return Ok(false);
    }
    let why = if !raw_allowed {
        if args.unprivileged {
            Some("--unprivileged rules out its raw packets".to_string())
        } else {
            Some(crate::messages::needs_raw("traceroute"))
        }
    } else if !(techniques.needs_raw() || ping_only) {
        Some("it runs on the raw engine, and -sT scans with connect()".to_string())
    } else {
        None
    };
    match why {
        Some(why) => {
            notice(format!("{name} left out the traceroute: {why}"));
            Ok(false)
        }
        None => Ok(true),
    }
}
