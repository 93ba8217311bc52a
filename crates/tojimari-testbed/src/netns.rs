//! One named network namespace (`/run/netns/NAME`) and the ways to act inside it: run a program
//! (`ip netns exec`), load an nft ruleset, set a sysctl, or run a closure on a thread that has
//! `setns(2)`-ed into it (so a test can open sockets there without a helper binary).
//!
//! A `Netns` does not own the namespace; the [`TestBed`](crate::TestBed) that created it deletes it.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use nix::sched::{CloneFlags, setns};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// Where `ip netns` keeps its bind-mounted namespace files.
pub(crate) const NETNS_DIR: &str = "/run/netns";

/// A named network namespace made by the test bed.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    pub(crate) fn new(name: String) -> Netns {
        Netns { name }
    }

    /// The namespace name, as `ip netns list` shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace file, `/run/netns/NAME`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(NETNS_DIR).join(&self.name)
    }

    /// A `Command` that runs `program` inside the namespace (`ip netns exec NAME program`).
    /// Add arguments and spawn it as usual; a process still in the namespace when the bed is
    /// dropped is killed.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `args[0]` with the remaining arguments inside the namespace and waits for it.
    /// A non-zero exit is an [`Error::Command`] that carries the program's stderr.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        let Some((program, rest)) = args.split_first() else {
            return Err(Error::Invalid("Netns::run needs a program".into()));
        };
        let mut command = self.command(program);
        command.args(rest);
        run_checked(&mut command, None)
    }

    /// Runs `ip -n NAME args...` (no `netns exec`, so a little quicker than [`Netns::run`]).
    pub fn ip(&self, args: &[&str]) -> Result<Output> {
        let mut command = Command::new("ip");
        command.args(["-n", &self.name]).args(args);
        run_checked(&mut command, None)
    }

    /// Runs the `ip` commands in `script` (one per line, without the leading `ip`) in one
    /// `ip -n NAME -batch -` process.
    pub fn ip_batch(&self, script: &str) -> Result<()> {
        let mut command = Command::new("ip");
        command.args(["-n", &self.name, "-batch", "-"]);
        run_checked(&mut command, Some(script)).map(drop)
    }

    /// Loads an nftables ruleset (`nft -f -` with `ruleset` on stdin) inside the namespace.
    /// See [`crate::firewall`] for ready-made rulesets.
    pub fn nft(&self, ruleset: &str) -> Result<()> {
        let mut command = self.command("nft");
        command.args(["-f", "-"]);
        run_checked(&mut command, Some(ruleset)).map(drop)
    }

    /// Sets one sysctl of this namespace, e.g. `sysctl("net.ipv4.ip_default_ttl", "33")`.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        self.sysctls(&[(key, value)])
    }

    /// Sets several sysctls of this namespace, in order, from one thread inside it.
    ///
    /// Why a thread and not `sysctl -w`: `/proc/sys/net` shows the network namespace of the
    /// *calling thread*, so writing it from a `setns`-ed thread is exact and needs no process.
    pub fn sysctls(&self, settings: &[(&str, &str)]) -> Result<()> {
        let settings: Vec<(PathBuf, String)> =
            settings.iter().map(|(key, value)| (sysctl_path(key), (*value).to_owned())).collect();
        self.run_in(move || {
            for (path, value) in settings {
                fs::write(&path, value.as_bytes())
                    .map_err(|e| Error::io(format!("write {value} to {}", path.display()), e))?;
            }
            Ok(())
        })?
    }

    /// Reads one sysctl of this namespace, trimmed.
    pub fn read_sysctl(&self, key: &str) -> Result<String> {
        let path = sysctl_path(key);
        self.run_in(move || {
            fs::read_to_string(&path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| Error::io(format!("read {}", path.display()), e))
        })?
    }

    /// Starts a thread that joins this namespace with `setns(2)` and then runs `f`. Sockets
    /// that `f` opens belong to the namespace. The error case means the thread could not
    /// join the namespace; `f` has not run then.
    pub fn spawn_in<F, R>(&self, f: F) -> Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let file = File::open(self.path()).map_err(|source| Error::Setns { namespace: self.name.clone(), source })?;
        let (entered_tx, entered_rx) = mpsc::sync_channel(1);
        let handle = thread::Builder::new()
            .name(format!("netns:{}", self.name))
            .spawn(move || {
                let entered = setns(&file, CloneFlags::CLONE_NEWNET);
                drop(file);
                let failed = entered.is_err();
                let _ = entered_tx.send(entered);
                if failed {
                    // Nothing to return and the caller already has the error: end the thread
                    // without running `f` (resume_unwind skips the panic hook, so no noise).
                    std::panic::resume_unwind(Box::new("setns failed"));
                }
                f()
            })
            .map_err(|e| Error::io(format!("spawn a thread for {}", self.name), e))?;
        match entered_rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(errno)) => Err(Error::Setns { namespace: self.name.clone(), source: errno.into() }),
            Err(_) => Err(Error::Setns {
                namespace: self.name.clone(),
                source: std::io::Error::other("thread ended before setns"),
            }),
        }
    }

    /// Runs `f` inside the namespace (on a [`spawn_in`](Netns::spawn_in) thread) and waits for
    /// its result. A panic in `f` is resumed in the caller, so assertions inside work as usual.
    pub fn run_in<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let handle = self.spawn_in(f)?;
        Ok(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    }

    /// Whether the namespace file still exists.
    pub fn exists(&self) -> bool {
        self.path().exists()
    }

    /// The processes (other than this one) whose network namespace is this one.
    pub fn pids(&self) -> Vec<u32> {
        pids_in(&self.path())
    }

    /// Sends SIGKILL to every process in the namespace (by pid, never this process).
    pub fn kill_processes(&self) {
        for pid in self.pids() {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// `net.ipv4.icmp_ratelimit` -> `/proc/sys/net/ipv4/icmp_ratelimit`.
fn sysctl_path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

/// Processes whose `/proc/PID/ns/net` is the namespace file `ns_path` (same device and inode).
pub(crate) fn pids_in(ns_path: &std::path::Path) -> Vec<u32> {
    let Ok(ns) = fs::metadata(ns_path) else {
        return Vec::new();
    };
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| m.dev() == ns.dev() && m.ino() == ns.ino())
        })
        .collect()
}

/// Runs `command` with piped stdio, feeding `stdin` if given; a non-zero exit is an error
/// carrying stderr.
pub(crate) fn run_checked(command: &mut Command, stdin: Option<&str>) -> Result<Output> {
    let line = describe(command);
    command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| Error::Spawn { command: line.clone(), source })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The helpers here (ip, nft) read all input before writing much, so this cannot
        // deadlock on a full stdout pipe.
        pipe.write_all(input.as_bytes()).map_err(|e| Error::io(format!("write stdin of `{line}`"), e))?;
    }
    let output = child.wait_with_output().map_err(|e| Error::io(format!("wait for `{line}`"), e))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Command {
            command: line,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
