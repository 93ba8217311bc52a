//! The `tojimari local` command, minus argument parsing: the CLI fills a [`LocalArgs`] and calls [`run`].
//!
//! Output: the table (or the `--port` answer) on the `stdout` given; with `-oJ FILE` JSON Lines go to FILE as
//! well, with `-oJ -` they replace the table on stdout. What could not be seen is a [`Notice::Visibility`].
//! `--stop` is [`crate::stopping`]. Nothing is printed here and no exit status chosen: the run returns an
//! [`Outcome`] (or a [`LocalError`] when the inventory could not be taken or the output written), and its
//! notices go to the `report` callback. A closed stdout pipe is not an error.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use tojimari_core::Protocol;

use crate::error::LocalError;
use crate::holder::{who_holds, write_holding};
use crate::inventory::Inventory;
use crate::jsonl::write_jsonl;
use crate::notice::Notice;
use crate::stopping::{Prompt, StopOptions, stop_port};
use crate::system::{LocalOptions, Protocols, listening_sockets};
use crate::table::write_table;

/// Where `-oJ` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonOutput {
    /// `-oJ -`
    Stdout,
    /// `-oJ FILE`
    File(PathBuf),
}

/// The options of `tojimari local [--port N [--stop [--yes] [--grace T]]] [-oJ FILE|-] [--tcp|--udp]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalArgs {
    /// `--port N`: answer who holds N and how to stop it, instead of the whole table.
    pub port: Option<u16>,
    /// `--stop` (with `--port`): stop the holders. `json` is not written then (the CLI refuses the pair).
    pub stop: Option<StopOptions>,
    /// `-oJ`
    pub json: Option<JsonOutput>,
    /// `--tcp` / `--udp`
    pub protocols: Protocols,
}

/// How a run that did not fail ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Listed (also when stdout was closed early), or `--stop` left the port closed.
    Done,
    /// `--port N` and nobody holds N.
    NotHeld,
    /// `--stop` did not leave the port closed: refused, declined, a failed step, the port still open (each
    /// told as a [`Notice`]).
    NotStopped,
}

/// Runs the command on this machine; `prompt` answers `--stop`'s question.
pub fn run(
    args: LocalArgs,
    prompt: &mut dyn Prompt,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, LocalError> {
    let opts = LocalOptions { protocols: args.protocols, ..LocalOptions::default() };
    run_with(&args, &opts, prompt, stdout, report)
}

/// [`run`] with explicit options (which `/proc`, which protocols; `args.protocols` is ignored in favour of
/// `opts.protocols`).
pub fn run_with(
    args: &LocalArgs,
    opts: &LocalOptions,
    prompt: &mut dyn Prompt,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, LocalError> {
    let result = match (args.port, &args.stop) {
        (Some(port), Some(stop)) => stop_port(port, proto_filter(opts.protocols), opts, stop, prompt, stdout, report),
        _ => write_outputs(args, opts.protocols, listening_sockets(opts)?, stdout, report),
    };
    match result {
        Err(LocalError::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => Ok(Outcome::Done),
        result => result,
    }
}

fn proto_filter(protocols: Protocols) -> Option<Protocol> {
    match protocols {
        Protocols::Both => None,
        Protocols::Tcp => Some(Protocol::Tcp),
        Protocols::Udp => Some(Protocol::Udp),
    }
}

fn write_outputs(
    args: &LocalArgs,
    protocols: Protocols,
    mut inventory: Inventory,
    stdout: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, LocalError> {
    let mut outcome = Outcome::Done;
    let note;
    if let Some(port) = args.port {
        let holding = who_holds(&inventory, port, proto_filter(protocols));
        if holding.is_empty() {
            outcome = Outcome::NotHeld;
        }
        if args.json != Some(JsonOutput::Stdout) {
            write_holding(&holding, stdout)?;
        }
        note = holding.visibility_note();
        // The JSON of a --port run holds only that port's sockets.
        inventory.sockets.retain(|socket| socket.port == port);
    } else {
        if args.json != Some(JsonOutput::Stdout) {
            write_table(&inventory, stdout)?;
        }
        note = inventory.visibility_note();
    }
    match &args.json {
        None => {}
        Some(JsonOutput::Stdout) => write_jsonl(&inventory, stdout)?,
        Some(JsonOutput::File(path)) => {
            let failed = |source| LocalError::JsonFile { path: path.clone(), source };
            let mut file = BufWriter::new(File::create(path).map_err(failed)?);
            write_jsonl(&inventory, &mut file).map_err(failed)?;
            file.flush().map_err(failed)?;
        }
    }
    stdout.flush()?;
    if let Some(note) = note {
        report(Notice::Visibility(note));
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use tojimari_core::diagnostic::render;

    use super::*;
    use crate::stopping::{Answer, FixedAnswer};

    fn missing_proc() -> LocalOptions {
        LocalOptions {
            net_dir: PathBuf::from("/nonexistent/tojimari/net"),
            proc_root: PathBuf::from("/nonexistent/tojimari"),
            ..LocalOptions::default()
        }
    }

    /// Nobody to ask: a run that asks would be told no.
    fn nobody() -> FixedAnswer {
        FixedAnswer(Answer::No)
    }

    #[test]
    fn unreadable_tables_are_a_runtime_failure_with_a_message() {
        let (mut out, mut notices) = (Vec::new(), Vec::new());
        let result =
            run_with(&LocalArgs::default(), &missing_proc(), &mut nobody(), &mut out, &mut |n| notices.push(n));
        let error = result.expect_err("2 is for bad usage only: this is a runtime failure");
        assert!(out.is_empty() && notices.is_empty());
        let message = render(&error);
        assert!(message.starts_with("error: cannot read /nonexistent/tojimari/net/tcp: "), "{message}");
    }

    #[test]
    fn stop_without_an_inventory_stops_nothing_and_fails() {
        let args = LocalArgs { port: Some(80), stop: Some(StopOptions::default()), ..LocalArgs::default() };
        let (mut out, mut notices) = (Vec::new(), Vec::new());
        let mut prompt = FixedAnswer(Answer::Yes);
        let result = run_with(&args, &missing_proc(), &mut prompt, &mut out, &mut |n| notices.push(n));
        let error = result.expect_err("a runtime failure");
        assert!(out.is_empty() && notices.is_empty());
        let message = render(&error);
        assert!(message.starts_with("error: cannot read /nonexistent/tojimari/net/tcp: "), "{message}");
    }

    #[test]
    fn this_machine_inventory_runs() {
        // Whatever listens here, the command must finish with a table.
        let (mut out, mut notices) = (Vec::new(), Vec::new());
        let result = run(LocalArgs::default(), &mut nobody(), &mut out, &mut |n| notices.push(n));
        assert_eq!(result.unwrap(), Outcome::Done, "{notices:?}");
        let table = String::from_utf8(out).unwrap();
        assert!(table.starts_with("PROTO") || table.starts_with("No listening sockets."), "{table}");
    }

    #[test]
    fn json_to_stdout_ends_with_summary() {
        let args = LocalArgs { json: Some(JsonOutput::Stdout), ..LocalArgs::default() };
        let mut out = Vec::new();
        assert_eq!(run(args, &mut nobody(), &mut out, &mut |_| {}).unwrap(), Outcome::Done);
        let text = String::from_utf8(out).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["type"], "summary");
    }

    #[test]
    fn closed_pipe_is_not_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut notices = Vec::new();
        assert_eq!(
            run(LocalArgs::default(), &mut nobody(), &mut Closed, &mut |n| notices.push(n)).unwrap(),
            Outcome::Done
        );
        assert!(notices.is_empty());
    }
}
