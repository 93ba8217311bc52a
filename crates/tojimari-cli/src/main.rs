//! The `tojimari` binary: parses the command line, runs the job, owns the exit status.
//!
//! Exit status: 0 success, 1 runtime failure (or an interrupted scan), 2 bad usage. Errors are one line on
//! stderr with a hint; a closed stdout pipe is not an error.

mod args;
mod check;
mod iflist;
mod list_scan;
mod lookup;
mod nmap_options;
mod packet_trace;
mod plan;
mod prepass;
mod progress;
mod resolve;
mod scan;
mod technique;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::plan::UsageError;

/// Exit status for bad usage (as nmap and most Unix tools).
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a runtime failure or an interrupted scan.
pub const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    // nmap options tojimari lacks are answered by name, before clap could guess at them.
    if argv.get(1).is_some_and(|c| c == "scan")
        && let Err(refused) = nmap_options::check(&argv[2..], &prepass::scan_value_options())
    {
        return usage(&UsageError::new(refused.message, refused.hint));
    }
    let rewritten = prepass::rewrite(argv.iter().cloned());
    let cli = match Cli::try_parse_from(&rewritten) {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match cli.command {
        Command::Scan(args) => scan::run(&args, &argv),
        Command::Check(args) => check::run(&args),
        Command::Local(args) => local(&args),
        Command::Watch(args) => watch(&args),
        Command::Ports(args) => {
            let mut stdout = std::io::stdout().lock();
            match lookup::run(&args.ports, &mut stdout) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => usage(&e),
            }
        }
    }
}

/// `tojimari local`: the flags checked here, the work done by tojimari-local.
fn local(args: &args::LocalCliArgs) -> ExitCode {
    use tojimari_local::{JsonOutput, LocalArgs, Protocols};
    let port = match &args.port {
        Some(text) => match text.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return usage(&UsageError::new(
                    format!("--port must be a port number from 1 to 65535, not \"{text}\""),
                    "for example: tojimari local --port 5432",
                ));
            }
        },
        None => None,
    };
    let json =
        args.output_json.as_deref().map(|f| if f == "-" { JsonOutput::Stdout } else { JsonOutput::File(f.into()) });
    let protocols = match (args.tcp, args.udp) {
        (true, _) => Protocols::Tcp,
        (_, true) => Protocols::Udp,
        _ => Protocols::Both,
    };
    let code = tojimari_local::run(
        LocalArgs { port, json, protocols },
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(EXIT_FAILURE))
}

/// `tojimari watch`: flags checked here, the work done by tojimari-watch.
fn watch(args: &args::WatchCliArgs) -> ExitCode {
    let duration = match args.duration.as_deref().map(|t| plan::parse_time(t, "--for")).transpose() {
        Ok(d) => d,
        Err(e) => return usage(&e),
    };
    for name in &args.interfaces {
        if tojimari_net::interface_by_name(name).is_err() {
            return usage(&UsageError::new(
                format!("unknown network interface \"{name}\" (-i)"),
                "`ip link` lists this machine's interfaces; leave out -i to watch every one",
            ));
        }
    }
    for (path, what) in args.pcap.iter().map(|p| (p, "--pcap")).chain(args.log.iter().map(|p| (p, "--log"))) {
        if let Err(e) = std::fs::File::open(path) {
            return usage(&UsageError::new(
                format!("cannot read {what} {}: {e}", path.display()),
                "give a readable capture (pcap, pcapng) or firewall log file",
            ));
        }
    }
    let mut nets = Vec::new();
    for text in &args.net {
        match text.parse::<tojimari_detect::LocalNet>() {
            Ok(net) => nets.push(net),
            Err(e) => {
                return usage(&UsageError::new(
                    format!("--net {text}: {e}"),
                    "give a network like 198.18.0.0/24 or 2001:db8::/64",
                ));
            }
        }
    }
    let watch_args = tojimari_watch::WatchArgs {
        interfaces: args.interfaces.clone(),
        pcap: args.pcap.clone(),
        log: args.log.clone(),
        json: args.output_json.clone(),
        syslog: args.syslog,
        duration,
        quiet: args.quiet,
        nets,
    };
    let code = tojimari_watch::run(watch_args, &mut std::io::stdout().lock(), &mut std::io::stderr().lock());
    ExitCode::from(u8::try_from(code).unwrap_or(EXIT_FAILURE))
}

/// Prints a usage error as one line and returns exit status 2.
pub fn usage(e: &UsageError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(e.code)
}

/// clap's errors, squeezed into one line with a hint; `--help` and `--version` print normally.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let rendered = e.render().to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("invalid usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            // "the following required arguments were not provided:" names them on the next line.
            let first = match (first.ends_with(':'), lines.next()) {
                (true, Some(next)) => format!("{first} {next}"),
                _ => first.to_string(),
            };
            let hint = rendered
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("tip: ").map(str::to_string))
                .or_else(|| rendered.lines().find_map(|l| l.strip_prefix("Usage: ").map(|u| format!("usage: {u}"))))
                .unwrap_or_else(|| "see 'tojimari scan --help'".to_string());
            eprintln!("error: {first} (hint: {hint})");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
