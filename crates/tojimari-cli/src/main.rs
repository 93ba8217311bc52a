//! The `tojimari` binary: parses the command line, runs the job, owns the exit status.
//!
//! Exit status: the one table of [`exit::Exit`] (0 success, 1 runtime failure or an interrupted scan, 2 bad
//! usage, 130 a second Ctrl-C). Every message is one line on stderr, printed by [`messages`] (the libraries
//! return errors and notices as values, and print nothing); a closed stdout pipe is not an error.

// The binary is where user text is written (stdout for data, stderr through `messages`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod bounce_plan;
mod check;
mod completions;
mod diff_cmd;
mod diff_jsonl;
mod diff_text;
mod diff_xml;
mod evasion;
mod exit;
mod export;
mod fleet_plan;
mod fleet_scan;
mod history_cmd;
mod idle_notes;
mod idle_plan;
mod iflist;
mod import;
mod jobs;
mod list_scan;
mod lookup;
mod messages;
mod nmap_options;
mod os_plan;
mod outputs;
mod packet_trace;
mod plan;
mod prepass;
mod progress;
mod prompt;
mod record;
mod record_events;
mod resolve;
mod resume;
mod scan;
mod serve;
mod shard_list;
mod store_fallback;
mod store_plan;
mod technique;
mod worker;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::Exit;
use crate::plan::UsageError;

/// [`Exit::Failure`] as a number, for code that builds an `ExitCode` itself.
pub const EXIT_FAILURE: u8 = Exit::Failure.code();

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
        Err(e) => return clap_error(e, argv.get(1).map(String::as_str)),
    };
    match cli.command {
        Command::Scan(args) => scan::run(&args, &argv),
        Command::Check(args) => check::run(&args),
        Command::Local(args) => local(&args),
        Command::Watch(args) => watch(&args),
        Command::History(args) => history_cmd::run(&args),
        Command::Diff(args) => diff_cmd::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Import(args) => import::run(&args, &argv),
        Command::Serve(args) => serve::run(&args),
        Command::Worker(args) => worker::run(&args),
        Command::Jobs(args) => jobs::run(&args),
        Command::Completions(args) => data(|out| completions::write_completions(args.shell, out)),
        Command::Man => data(completions::write_man_page),
        Command::Ports(args) => {
            let mut stdout = std::io::stdout().lock();
            match lookup::run(&args.ports, &mut stdout) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => usage(&e),
            }
        }
    }
}

/// Writes data to stdout: a closed pipe is not an error, any other write failure is (exit 1).
fn data(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> ExitCode {
    match write(&mut std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            messages::error(format!("cannot write to standard output: {e}"));
            Exit::Failure.into()
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
    let stop = match local_stop(args, port) {
        Ok(stop) => stop,
        Err(e) => return usage(&e),
    };
    let json =
        args.output_json.as_deref().map(|f| if f == "-" { JsonOutput::Stdout } else { JsonOutput::File(f.into()) });
    let protocols = match (args.tcp, args.udp) {
        (true, _) => Protocols::Tcp,
        (_, true) => Protocols::Udp,
        _ => Protocols::Both,
    };
    let recorder = match (args.store, &stop) {
        (true, Some(_)) => {
            return usage(&UsageError::new(
                "--stop does not record a snapshot (--store)",
                "run tojimari local --store first to record the holders",
            ));
        }
        (true, None) => match export::open_store(args.db.as_deref()) {
            Ok(store) => Some(record_events::Recorder::start(store, tojimari_store::EventKind::LocalSocket)),
            Err(code) => return code,
        },
        (false, _) => None,
    };
    let result = tojimari_local::run(
        LocalArgs { port, stop, json, protocols },
        &mut prompt::TerminalPrompt,
        &mut std::io::stdout().lock(),
        &mut |notice| messages::report(&notice),
    );
    if let Some(recorder) = recorder {
        record_snapshot(&recorder, protocols, port);
        recorder.finish();
    }
    if let Err(error) = &result {
        messages::report(error);
    }
    exit::of_local(&result).into()
}

/// `--stop`, `--yes` and `--grace` checked together: `--stop`'s options when it is given.
/// `local --store`: the listening sockets now (of `port` only, when given), as `local -oJ` writes them.
fn record_snapshot(recorder: &record_events::Recorder, protocols: tojimari_local::Protocols, port: Option<u16>) {
    let Some(events) = recorder.sender() else { return };
    let opts = tojimari_local::LocalOptions { protocols, ..tojimari_local::LocalOptions::default() };
    match tojimari_local::listening_sockets(&opts) {
        Ok(inventory) => {
            for socket in inventory.sockets.iter().filter(|s| port.is_none_or(|p| s.port == p)) {
                let subject = format!("{}:{}/{}", socket.addr, socket.port, socket.proto.as_str());
                let body = tojimari_local::jsonl::socket_object(socket).to_string();
                let _ = events.send(record_events::event(subject, body));
            }
        }
        Err(e) => messages::warning(format!("cannot take the snapshot to record: {e}")),
    }
}

fn local_stop(args: &args::LocalCliArgs, port: Option<u16>) -> Result<Option<tojimari_local::StopOptions>, UsageError> {
    use tojimari_local::{Confirmation, StopOptions};
    const MAX_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);
    let example = "for example: tojimari local --port 8080 --stop";
    if !args.stop {
        let stray = [(args.yes, "--yes"), (args.grace.is_some(), "--grace")].into_iter().find(|(given, _)| *given);
        return match stray {
            Some((_, flag)) => Err(UsageError::new(format!("{flag} goes with --stop"), example)),
            None => Ok(None),
        };
    }
    if port.is_none() {
        return Err(UsageError::new("--stop needs --port: which port to free", example));
    }
    if args.output_json.is_some() {
        return Err(UsageError::new(
            "--stop does not write -oJ",
            "run tojimari local --port N -oJ FILE first to record the holders",
        ));
    }
    let grace = match &args.grace {
        Some(text) => plan::parse_time(text, "--grace")?,
        None => tojimari_local::stopping::DEFAULT_GRACE,
    };
    if grace > MAX_GRACE {
        return Err(UsageError::new(
            format!("--grace {} is longer than an hour", args.grace.as_deref().unwrap_or_default()),
            "a process that ignores SIGTERM for an hour will not heed it later; give 5s to 10m",
        ));
    }
    let confirmation = if args.yes { Confirmation::Assumed } else { Confirmation::Ask };
    Ok(Some(StopOptions { confirmation, grace }))
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
    let inputs = || args.pcap.iter().map(|p| (p, "--pcap")).chain(args.log.iter().map(|p| (p, "--log")));
    // `-` is standard input, which can be read once.
    if inputs().filter(|(path, _)| path.as_os_str() == "-").count() > 1 {
        return usage(&UsageError::new(
            "standard input (-) can be given to only one --pcap or --log",
            "save the other input to a file first",
        ));
    }
    for (path, what) in inputs().filter(|(path, _)| path.as_os_str() != "-") {
        if let Err(e) = std::fs::File::open(path) {
            return usage(&UsageError::new(
                format!("cannot read {what} {}: {e}", path.display()),
                "give a readable capture (pcap, pcapng) or firewall log file",
            ));
        }
    }
    let mut nets = Vec::new();
    for text in &args.net {
        match text.parse::<tojimari_scandetect::LocalNet>() {
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
    let stop = Arc::new(AtomicBool::new(false));
    let handlers = stop_on_signals(&stop);
    let recorder = if args.store {
        match export::open_store(args.db.as_deref()) {
            Ok(store) => Some(record_events::Recorder::start(store, tojimari_store::EventKind::WatchAlert)),
            Err(code) => return code,
        }
    } else {
        None
    };
    let mut report = |notice| messages::report(&notice);
    let result = match recorder.as_ref().and_then(record_events::Recorder::sender) {
        Some(events) => {
            let hook: tojimari_watch::AlertHook = Box::new(move |alert: &tojimari_scandetect::Alert| {
                let _ = events.send(record_events::event(alert.src.to_string(), alert.to_json().to_string()));
            });
            tojimari_watch::run_recording(watch_args, &stop, &mut std::io::stdout().lock(), &mut report, hook)
        }
        None => tojimari_watch::run_until(watch_args, &stop, &mut std::io::stdout().lock(), &mut report),
    };
    if let Some(recorder) = recorder {
        recorder.finish();
    }
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    if let Err(error) = &result {
        messages::report(error);
    }
    exit::of_watch(&result).into()
}

/// Ctrl-C and SIGTERM set `stop`; a second one exits at once with [`Exit::Interrupted`]. Returns the
/// handlers to unregister.
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Vec<signal_hook::SigId> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut ids = Vec::new();
    for signal in [SIGINT, SIGTERM] {
        // The conditional shutdown goes first: it exits only if the flag was already set.
        if let Ok(id) = signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(Exit::Interrupted.code()),
            Arc::clone(stop),
        ) {
            ids.push(id);
        }
        match signal_hook::flag::register(signal, Arc::clone(stop)) {
            Ok(id) => ids.push(id),
            Err(e) => messages::warning(format!("cannot catch signal {signal}: {e}")),
        }
    }
    ids
}

/// Prints a usage error as one line (`error: MESSAGE (hint: HINT)`) and returns its exit status: 2, or 1
/// for a request this process lacks the privilege for.
pub fn usage(e: &UsageError) -> ExitCode {
    messages::error(e);
    ExitCode::from(e.code)
}

/// clap's errors, squeezed into one line with a hint; `--help` and `--version` print normally. `subcommand`
/// is the first argument as typed.
fn clap_error(e: clap::Error, subcommand: Option<&str>) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                Exit::Usage.into()
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
            // clap's tip for an unknown option ("use '-- -p'") would make it a target, which a check
            // refuses too: say where scan options belong instead.
            if e.kind() == ErrorKind::UnknownArgument && subcommand == Some("check") {
                return usage(&UsageError::new(
                    first,
                    "a check takes CHECK, TARGET..., -e IFACE and --lang LANG only; nmap's scan options belong to `tojimari scan`",
                ));
            }
            let hint = rendered
                .lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix("tip: ").map(str::to_string))
                .or_else(|| rendered.lines().find_map(|l| l.strip_prefix("Usage: ").map(|u| format!("usage: {u}"))))
                .unwrap_or_else(|| "see 'tojimari --help'".to_string());
            usage(&UsageError::new(first, hint))
        }
    }
}
