//! The `tojimari local` command, minus argument parsing: the CLI fills a [`LocalArgs`] and calls [`run`].
//!
//! Output: the table (or the `--port` answer) on stdout; with `-oJ FILE` JSON Lines go to FILE as well, with
//! `-oJ -` they replace the table on stdout. What could not be seen is a `note:` on stderr. `--stop` is
//! [`crate::stopping`]. Exit codes: 0 done; 1 a runtime failure (the inventory could not be taken, the output
//! could not be written), `--port N` and nobody holds N, or `--stop` did not leave the port closed. Bad usage
//! (2) is the CLI's to report. A closed stdout pipe is not an error.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use tojimari_core::Protocol;

use crate::holder::{who_holds, write_holding};
use crate::inventory::Inventory;
use crate::jsonl::write_jsonl;
use crate::stopping::{Prompt, StopOptions, TerminalPrompt, stop_port};
use crate::system::{LocalOptions, Protocols, listening_sockets};
use crate::table::write_table;

/// The exit code of a runtime failure.
pub const EXIT_FAILURE: i32 = 1;

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

/// Runs the command on this machine, asking `--stop`'s question on the terminal. Returns the exit code.
pub fn run(args: LocalArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let opts = LocalOptions { protocols: args.protocols, ..LocalOptions::default() };
    run_with(&args, &opts, &mut TerminalPrompt, stdout, stderr)
}

/// [`run`] with explicit options (which `/proc`, which protocols; `args.protocols` is ignored in favour of
/// `opts.protocols`) and who answers `--stop`'s question.
pub fn run_with(
    args: &LocalArgs,
    opts: &LocalOptions,
    prompt: &mut dyn Prompt,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let result = match (args.port, &args.stop) {
        (Some(port), Some(stop)) => {
            stop_port(port, proto_filter(opts.protocols), opts, stop, prompt, stdout, stderr).map_err(Failure::Io)
        }
        _ => match listening_sockets(opts) {
            Ok(inventory) => write_outputs(args, opts.protocols, inventory, stdout, stderr),
            Err(error) => {
                let _ = writeln!(stderr, "error: {error}");
                return EXIT_FAILURE;
            }
        },
    };
    match result {
        Ok(code) => code,
        Err(Failure::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(Failure::Io(error)) => {
            let _ = writeln!(stderr, "error: cannot write output: {error}");
            EXIT_FAILURE
        }
        Err(Failure::JsonFile(path, error)) => {
            let _ = writeln!(stderr, "error: cannot write {}: {error}", path.display());
            EXIT_FAILURE
        }
    }
}

fn proto_filter(protocols: Protocols) -> Option<Protocol> {
    match protocols {
        Protocols::Both => None,
        Protocols::Tcp => Some(Protocol::Tcp),
        Protocols::Udp => Some(Protocol::Udp),
    }
}

enum Failure {
    Io(io::Error),
    JsonFile(PathBuf, io::Error),
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Self {
        Failure::Io(error)
    }
}

fn write_outputs(
    args: &LocalArgs,
    protocols: Protocols,
    mut inventory: Inventory,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<i32, Failure> {
    let mut code = 0;
    let note;
    if let Some(port) = args.port {
        let holding = who_holds(&inventory, port, proto_filter(protocols));
        if holding.is_empty() {
            code = EXIT_FAILURE;
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
            let failed = |error| Failure::JsonFile(path.clone(), error);
            let mut file = BufWriter::new(File::create(path).map_err(failed)?);
            write_jsonl(&inventory, &mut file).map_err(failed)?;
            file.flush().map_err(failed)?;
        }
    }
    stdout.flush()?;
    if let Some(note) = note {
        writeln!(stderr, "note: {note}")?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing_proc() -> LocalOptions {
        LocalOptions {
            net_dir: PathBuf::from("/nonexistent/tojimari/net"),
            proc_root: PathBuf::from("/nonexistent/tojimari"),
            ..LocalOptions::default()
        }
    }

    #[test]
    fn unreadable_tables_are_a_runtime_failure_with_a_message() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(&LocalArgs::default(), &missing_proc(), &mut TerminalPrompt, &mut out, &mut err);
        assert_eq!(code, EXIT_FAILURE, "2 is for bad usage only");
        assert!(out.is_empty());
        let message = String::from_utf8(err).unwrap();
        assert!(message.starts_with("error: cannot read /nonexistent/tojimari/net/tcp: "), "{message}");
    }

    #[test]
    fn stop_without_an_inventory_stops_nothing_and_fails() {
        let args = LocalArgs { port: Some(80), stop: Some(StopOptions::default()), ..LocalArgs::default() };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut prompt = crate::stopping::FixedAnswer(crate::stopping::Answer::Yes);
        assert_eq!(run_with(&args, &missing_proc(), &mut prompt, &mut out, &mut err), EXIT_FAILURE);
        assert!(out.is_empty());
        let message = String::from_utf8(err).unwrap();
        assert!(message.starts_with("error: cannot read /nonexistent/tojimari/net/tcp: "), "{message}");
    }

    #[test]
    fn this_machine_inventory_runs() {
        // Whatever listens here, the command must finish with a table and exit 0.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(LocalArgs::default(), &mut out, &mut err);
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
        let table = String::from_utf8(out).unwrap();
        assert!(table.starts_with("PROTO") || table.starts_with("No listening sockets."), "{table}");
    }

    #[test]
    fn json_to_stdout_ends_with_summary() {
        let args = LocalArgs { json: Some(JsonOutput::Stdout), ..LocalArgs::default() };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run(args, &mut out, &mut err), 0);
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
        let mut err = Vec::new();
        assert_eq!(run(LocalArgs::default(), &mut Closed, &mut err), 0);
        assert!(err.is_empty());
    }
}
