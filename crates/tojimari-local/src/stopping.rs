//! `tojimari local --port N --stop`, the I/O edge: show the holders, ask, carry out the [`StopPlan`] (signals
//! through nix, `systemctl` as a child process, polling `/proc` against a bounded deadline), then read the
//! socket tables again and say whether the port is closed.
//!
//! Output: the holders, then one line per step, then `Port N/tcp is closed now.` on the `out` given; the
//! question (`Stop nginx (pid 1234)? [y/N] `) goes to the caller's [`Prompt`], errors and notes are
//! [`Notice`]s. The outcome: [`Outcome::Done`] when the port is closed afterwards (or nobody held it),
//! [`Outcome::NotStopped`] when it could not be stopped (a refusal, the answer no, a failed step, the port
//! still open).
//!
//! The question is asked only on a terminal (the CLI's prompt says [`Answer::NotATerminal`] otherwise, and at
//! its end [`Answer::EndOfInput`]): then nothing is stopped (`--yes` answers for scripts). After an answered
//! question the holders are read again, and nothing is
//! done if they changed while the user was reading. A process is only signalled while its pid still has the
//! start time the inventory saw, so a pid the kernel handed to a newcomer in between is left alone.

use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, geteuid};
use tojimari_core::Protocol;

use crate::command::Outcome;
use crate::error::LocalError;
use crate::holder::{Holding, capitalize, who_holds, write_holders};
use crate::inventory::Privilege;
use crate::notice::Notice;
use crate::stop::{Pinned, StopAction, StopPlan, disable_command, plan_stop};
use crate::system::{LocalOptions, listening_sockets};
use crate::termination::{Ending, Next, Sig, Termination};

/// The grace period between SIGTERM and SIGKILL when `--grace` is not given.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// How long after the last holder ended the port is looked at again: long enough for a supervisor that
/// restarts its child at once (a shell loop, `Restart=always` with a short delay) to have done so.
pub const SETTLE: Duration = Duration::from_millis(500);
/// The longest answer line read; the rest of a longer line is left unread.
const MAX_ANSWER: u64 = 1024;

/// Whether to ask before stopping.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Confirmation {
    /// Ask on the terminal (the default).
    #[default]
    Ask,
    /// `--yes`: do not ask.
    Assumed,
}

/// The options of `--stop`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopOptions {
    pub confirmation: Confirmation,
    /// Between SIGTERM and SIGKILL (`--grace`).
    pub grace: Duration,
}

impl Default for StopOptions {
    fn default() -> Self {
        StopOptions { confirmation: Confirmation::Ask, grace: DEFAULT_GRACE }
    }
}

/// The answer to the confirmation question.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `y` or `yes`, any case.
    Yes,
    /// Anything else.
    No,
    /// Standard input is not a terminal: nobody to ask.
    NotATerminal,
    /// Standard input ended before an answer.
    EndOfInput,
}

/// Asks the confirmation question (the CLI asks on the terminal).
pub trait Prompt {
    /// Shows `question` and returns the answer.
    fn ask(&mut self, question: &str) -> io::Result<Answer>;
}

/// The same answer to every question, asking nothing (tests and embedding programs).
#[derive(Copy, Clone, Debug)]
pub struct FixedAnswer(pub Answer);

impl Prompt for FixedAnswer {
    fn ask(&mut self, _: &str) -> io::Result<Answer> {
        Ok(self.0)
    }
}

/// One answer line: `y`/`yes` (any case, surrounding blanks ignored) is yes, an empty input is its end,
/// anything else no.
pub fn read_answer(input: &mut dyn BufRead) -> io::Result<Answer> {
    let mut line = String::new();
    if input.take(MAX_ANSWER).read_line(&mut line)? == 0 {
        return Ok(Answer::EndOfInput);
    }
    Ok(match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        _ => Answer::No,
    })
}

/// `--port N --stop`. `Err` when an inventory cannot be taken or `out` cannot be written.
pub(crate) fn stop_port(
    port: u16,
    proto: Option<Protocol>,
    opts: &LocalOptions,
    stop: &StopOptions,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> Result<Outcome, LocalError> {
    let own_uid = geteuid().as_raw();
    let inventory = listening_sockets(opts)?;
    let holding = who_holds(&inventory, port, proto);
    write_holders(&holding, out)?;
    let plan = plan_stop(&holding, own_uid);
    let actions = match &plan {
        StopPlan::Nobody => {
            writeln!(out, "Nothing to stop.")?;
            return Ok(Outcome::Done);
        }
        StopPlan::Refused(refusals) => {
            for refusal in refusals {
                report(Notice::Refused { what: holding.what(), refusal: refusal.clone() });
            }
            return Ok(Outcome::NotStopped);
        }
        StopPlan::Act(actions) => actions,
    };
    out.flush()?;
    if stop.confirmation == Confirmation::Ask {
        let question = plan.question().unwrap_or_default();
        let declined = match prompt.ask(&question)? {
            Answer::Yes => None,
            Answer::No => Some(Notice::Declined),
            Answer::NotATerminal => Some(Notice::NotATerminal),
            Answer::EndOfInput => Some(Notice::NoAnswer),
        };
        if let Some(notice) = declined {
            report(notice);
            return Ok(Outcome::NotStopped);
        }
        // The user may have taken minutes: act only on what they saw.
        let again = listening_sockets(opts)?;
        if plan_stop(&who_holds(&again, port, proto), own_uid) != plan {
            report(Notice::HoldersChanged { what: holding.what() });
            return Ok(Outcome::NotStopped);
        }
    }

    let mut failed = false;
    let mut signalled = Vec::new();
    for action in actions {
        match action {
            StopAction::Unit { unit, argv, .. } => failed |= !stop_unit(&unit.name, argv, out, report)?,
            StopAction::Signal { name, root, followers } => signalled.push(Tree {
                name,
                termination: Termination::new(*root, followers.clone(), stop.grace),
                done: false,
            }),
        }
    }
    failed |= !terminate(&mut signalled, &opts.proc_root, stop.grace, holding.privilege, out, report)?;

    thread::sleep(SETTLE);
    let after = listening_sockets(opts)?;
    let still = who_holds(&after, port, proto);
    if still.is_empty() {
        writeln!(out, "{} is closed now.", capitalize(&holding.what()))?;
        return Ok(Outcome::Done);
    }
    report(still_open(&still, &plan.processes(), &opts.proc_root, failed));
    Ok(Outcome::NotStopped)
}

/// Runs `systemctl stop UNIT`; whether it succeeded.
fn stop_unit(unit: &str, argv: &[String], out: &mut dyn Write, report: &mut dyn FnMut(Notice)) -> io::Result<bool> {
    let command = argv.join(" ");
    writeln!(out, "Stopping {unit}: {command}")?;
    out.flush()?;
    let Some((program, args)) = argv.split_first() else { return Ok(false) };
    // systemctl waits for the stop job; systemd bounds that by the unit's own stop timeout.
    match Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).output() {
        Ok(output) if output.status.success() => {
            report(Notice::KeepOff { command: disable_command(argv) });
            Ok(true)
        }
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr.lines().find(|line| !line.trim().is_empty()).unwrap_or("no message").trim();
            report(Notice::UnitFailed { command, status: output.status.to_string(), reason: reason.to_owned() });
            Ok(false)
        }
        Err(error) => {
            report(Notice::CannotRun { program: program.clone(), error: error.to_string() });
            Ok(false)
        }
    }
}

/// A process tree being ended.
struct Tree<'a> {
    name: &'a str,
    termination: Termination,
    done: bool,
}

/// Ends every tree at once (one grace period for all); whether each ended.
fn terminate(
    trees: &mut [Tree<'_>],
    proc_root: &Path,
    grace: Duration,
    privilege: Privilege,
    out: &mut dyn Write,
    report: &mut dyn FnMut(Notice),
) -> io::Result<bool> {
    let mut all_ended = true;
    loop {
        let now = Instant::now();
        let mut wake: Option<Instant> = None;
        for tree in trees.iter_mut().filter(|tree| !tree.done) {
            let alive: Vec<Pinned> =
                tree.termination.processes().into_iter().filter(|pinned| is_alive(proc_root, *pinned)).collect();
            match tree.termination.next(now, &alive) {
                Next::Signal { signal, to } => {
                    wake = Some(now);
                    let pids = pid_list(&to);
                    match signal {
                        Sig::Term => writeln!(out, "Sending SIGTERM to {} ({pids}).", tree.name)?,
                        Sig::Kill => {
                            writeln!(out, "{} still running after {grace:?}: sending SIGKILL ({pids}).", tree.name)?
                        }
                    }
                    out.flush()?;
                    if let Err((pinned, errno)) = send(proc_root, &to, signal) {
                        report(Notice::CannotSignal {
                            pid: pinned.pid,
                            name: tree.name.to_owned(),
                            error: errno.desc().to_owned(),
                            privilege,
                        });
                        tree.done = true;
                        all_ended = false;
                    }
                }
                Next::WaitUntil(until) => wake = Some(wake.map_or(until, |wake| wake.min(until))),
                Next::Finished(Ending::Exited { killed }) if killed.is_empty() => {
                    writeln!(out, "{} ({}) exited.", tree.name, pid_list(&tree.termination.processes()))?;
                    tree.done = true;
                }
                Next::Finished(Ending::Exited { killed }) => {
                    writeln!(out, "{} ({}) ended by SIGKILL.", tree.name, pid_list(&killed))?;
                    tree.done = true;
                }
                Next::Finished(Ending::Stuck { alive }) => {
                    report(Notice::Stuck { name: tree.name.to_owned(), pids: pid_list(&alive) });
                    tree.done = true;
                    all_ended = false;
                }
            }
        }
        let Some(wake) = wake else { return Ok(all_ended) };
        let now = Instant::now();
        if wake > now {
            thread::sleep(wake - now);
        }
    }
}

/// Sends `signal` to each process still alive; the first that may not be signalled stops it.
fn send(proc_root: &Path, to: &[Pinned], signal: Sig) -> Result<(), (Pinned, Errno)> {
    let signal = match signal {
        Sig::Term => Signal::SIGTERM,
        Sig::Kill => Signal::SIGKILL,
    };
    for &pinned in to {
        // Looked at again right before the signal: the pid must still be the process the user was shown.
        if !is_alive(proc_root, pinned) {
            continue;
        }
        let Ok(raw) = i32::try_from(pinned.pid) else { continue };
        match kill(Pid::from_raw(raw), signal) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(errno) => return Err((pinned, errno)),
        }
    }
    Ok(())
}

/// Whether the pinned process is still running: its pid exists with the same start time and is not a zombie
/// (an exited process whose parent has not reaped it holds no sockets any more).
fn is_alive(proc_root: &Path, pinned: Pinned) -> bool {
    let Ok(process) = procfs::process::Process::new_with_root(proc_root.join(pinned.pid.to_string())) else {
        return false;
    };
    match process.stat() {
        Ok(stat) => stat.starttime == pinned.start_time && !matches!(stat.state, 'Z' | 'X' | 'x'),
        Err(_) => false,
    }
}

/// The port is open after the stop: who holds it now, and what that suggests.
fn still_open(still: &Holding<'_>, planned: &[Pinned], proc_root: &Path, failed: bool) -> Notice {
    let holders = still.processes();
    let mut names: Vec<String> = holders
        .iter()
        .map(|process| {
            let parent = fs::read_to_string(proc_root.join(process.ppid.to_string()).join("comm"))
                .map(|comm| format!(" {}", crate::process::sanitize(comm.trim())))
                .unwrap_or_default();
            format!("pid {} ({}, parent pid {}{parent})", process.pid, process.name, process.ppid)
        })
        .collect();
    if still.has_hidden_owner() {
        names.push("a socket with no visible owner".to_owned());
    }
    let newcomer = holders.iter().any(|process| !planned.contains(&Pinned::of(process)));
    let hint = if newcomer {
        "a process that was not holding it before does now: its parent or a supervisor (systemd, a container \
         runtime, a shell loop) restarted it; stop that instead"
    } else if failed {
        "see the errors above"
    } else if still.has_hidden_owner() {
        "its owner is not visible from here"
    } else {
        "the holders did not let go; run the command again to retry"
    };
    Notice::StillOpen { what: still.what(), holders: names.join(", "), hint }
}

fn pid_list(pinned: &[Pinned]) -> String {
    let pids: Vec<String> = pinned.iter().map(|pinned| pinned.pid.to_string()).collect();
    let word = if pids.len() == 1 { "pid" } else { "pids" };
    format!("{word} {}", pids.join(", "))
}

#[cfg(test)]
mod tests {
    use tojimari_core::diagnostic::render;

    use super::*;

    #[test]
    fn answers() {
        let answer = |text: &str| read_answer(&mut text.as_bytes()).unwrap();
        assert_eq!(answer("y\n"), Answer::Yes);
        assert_eq!(answer("  YES \n"), Answer::Yes);
        assert_eq!(answer("Y"), Answer::Yes);
        assert_eq!(answer("n\n"), Answer::No);
        assert_eq!(answer("\n"), Answer::No, "enter alone takes the default, no");
        assert_eq!(answer("yes please\n"), Answer::No);
        assert_eq!(answer(""), Answer::EndOfInput);
        let long = format!("{}y\n", " ".repeat(5000));
        assert_eq!(answer(&long), Answer::No, "a line past the limit is not read to its end");
    }

    #[test]
    fn own_process_is_alive_and_a_wrong_start_time_is_not() {
        let root = Path::new("/proc");
        let me = procfs::process::Process::myself().unwrap().stat().unwrap();
        let pid = u32::try_from(me.pid).unwrap();
        assert!(is_alive(root, Pinned { pid, start_time: me.starttime }));
        assert!(!is_alive(root, Pinned { pid, start_time: me.starttime + 1 }), "a reused pid is another process");
        assert!(!is_alive(root, Pinned { pid: u32::MAX, start_time: 0 }));
    }

    #[test]
    fn a_zombie_is_not_alive_and_is_not_signalled() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        let start_time = procfs::process::Process::new(i32::try_from(pid).unwrap()).unwrap().stat().unwrap().starttime;
        // Not reaped yet: once it has exited it is a zombie, which holds no sockets.
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_alive(Path::new("/proc"), Pinned { pid, start_time }) {
            assert!(Instant::now() < deadline, "true did not exit");
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(send(Path::new("/proc"), &[Pinned { pid, start_time }], Sig::Kill), Ok(()));
        child.wait().unwrap();
    }

    /// The real systemctl with a unit that does not exist: without systemd as pid 1 (this test machine) it says
    /// the system was not booted with systemd, with systemd that the unit is not loaded; either way the step
    /// fails with systemctl's own words, and no `disable` note is given. Nothing else is faked.
    #[test]
    fn a_failed_systemctl_is_an_error_with_its_reason() {
        let argv: Vec<String> =
            ["systemctl", "stop", "tojimari-test-no-such-unit.service"].into_iter().map(String::from).collect();
        let (mut out, mut notices) = (Vec::new(), Vec::new());
        assert!(!stop_unit("tojimari-test-no-such-unit.service", &argv, &mut out, &mut |n| notices.push(n)).unwrap());
        let out = String::from_utf8(out).unwrap();
        let err: String = notices.iter().map(|n| format!("{}\n", render(n))).collect();
        assert_eq!(
            out,
            "Stopping tojimari-test-no-such-unit.service: systemctl stop tojimari-test-no-such-unit.service\n"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: `systemctl stop tojimari-test-no-such-unit.service` failed (")
                || err.starts_with("error: cannot run systemctl: "),
            "{err}"
        );
        assert!(!err.contains("disable"), "{err}");

        let missing: Vec<String> =
            ["/nonexistent/systemctl", "stop", "x.service"].into_iter().map(String::from).collect();
        let mut notices = Vec::new();
        assert!(!stop_unit("x.service", &missing, &mut Vec::new(), &mut |n| notices.push(n)).unwrap());
        let err: String = notices.iter().map(|n| format!("{}\n", render(n))).collect();
        assert!(err.starts_with("error: cannot run /nonexistent/systemctl: "), "{err}");
    }

    #[test]
    fn pid_lists() {
        let pin = |pid| Pinned { pid, start_time: 0 };
        assert_eq!(pid_list(&[pin(7)]), "pid 7");
        assert_eq!(pid_list(&[pin(7), pin(9)]), "pids 7, 9");
    }
}
