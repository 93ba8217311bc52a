//! A started daemon: its ground truth (services, versions, exposures) and its process, which
//! dropping the value stops.
//!
//! Stopping: note the daemon's descendants (by parent pid, from `/proc`; some of them leave
//! the process group with `setsid`), send the daemon's stop signal to its process group, give
//! it [`GRACE`] to exit, then SIGKILL the group and every noted descendant, reap the leader,
//! wait (up to [`GRACE`]) until none of them still runs (a killed child closes its copy of the
//! listening socket only as it exits, so a port could answer for a moment after the kill) and
//! remove the directory.

use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::launch::Launch;
use super::workdir::WorkDir;
use super::{Daemon, Exposure, Posture, Service};
use crate::listeners::Transport;

/// How long a daemon gets to exit after its stop signal.
const GRACE: Duration = Duration::from_secs(3);

/// A daemon running in a target namespace; dropping it stops it and removes its directory.
#[derive(Debug)]
pub struct Running {
    daemon: Daemon,
    posture: Posture,
    child: Child,
    stop: Signal,
    services: Vec<Service>,
    exposures: Vec<Exposure>,
    credential: Option<String>,
    ca: Option<String>,
    addrs: Vec<IpAddr>,
    package_version: Option<String>,
    version: Option<String>,
    // Last: removed after the processes are gone (Drop::drop runs before field drops).
    dir: WorkDir,
}

impl Running {
    pub(super) fn new(
        daemon: Daemon,
        posture: Posture,
        child: Child,
        dir: WorkDir,
        launch: Launch,
        package_version: Option<String>,
        version: Option<String>,
    ) -> Running {
        Running {
            daemon,
            posture,
            child,
            stop: launch.stop,
            services: launch.services,
            exposures: launch.exposures,
            credential: launch.credential,
            ca: launch.ca,
            addrs: launch.addrs,
            package_version,
            version,
            dir,
        }
    }

    /// Which daemon this is.
    pub fn daemon(&self) -> Daemon {
        self.daemon
    }

    /// The posture it was configured with.
    pub fn posture(&self) -> Posture {
        self.posture
    }

    /// The pid of the daemon's main process (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every port a scanner on the bed can reach, with what it should report there.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The reachable ports, in [`services`](Running::services) order.
    pub fn ports(&self) -> Vec<(Transport, u16)> {
        self.services.iter().map(|s| (s.transport, s.port)).collect()
    }

    /// The version the daemon announces to a client without credentials (`9.2p1`, `1.22.1`,
    /// `4.96`, ...), `None` where it announces none (see the table in [`super`]).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The installed Debian package's version, e.g. `1:9.2p1-2+deb12u10`.
    pub fn package_version(&self) -> Option<&str> {
        self.package_version.as_deref()
    }

    /// The findings a scanner should report for this daemon in this posture.
    pub fn exposures(&self) -> &[Exposure] {
        &self.exposures
    }

    /// The secret a Safe configuration requires, where a client can use one: the Redis
    /// password or the SNMP read community.
    pub fn credential(&self) -> Option<&str> {
        self.credential.as_deref()
    }

    /// The CA certificate (PEM) that signed the daemon's TLS certificate, in Safe posture.
    pub fn ca_certificate(&self) -> Option<&Path> {
        self.ca.as_deref().map(Path::new)
    }

    /// The target addresses the daemon listens on (IPv4, and IPv6 where it is configured).
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }

    /// The daemon's directory: configuration, keys, logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last `lines` lines of each of the daemon's log files.
    pub fn log_tail(&self, lines: usize) -> String {
        self.dir.log_tail(lines)
    }

    /// The main process's exit status, if it has exited.
    pub(super) fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn stop(&mut self) {
        let leader = self.child.id();
        let Ok(raw) = i32::try_from(leader) else { return };
        let descendants = descendants(leader);
        if self.exit_status().is_none() {
            let _ = killpg(Pid::from_raw(raw), self.stop);
            let deadline = Instant::now() + GRACE;
            while self.exit_status().is_none() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
        for &pid in &descendants {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            let mut alive = descendants_still_running(&descendants);
            alive.extend(group_members_running(leader));
            if alive.is_empty() {
                break;
            }
            for pid in alive {
                if let Ok(pid) = i32::try_from(pid) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Those of `pids` that still run: present in `/proc` and not a zombie (a zombie has closed its
/// files).
fn descendants_still_running(pids: &[u32]) -> Vec<u32> {
    pids.iter().copied().filter(|&pid| stat_fields(pid).is_some_and(|(state, _)| state != "Z")).collect()
}

/// The running (not zombie) processes whose process group is `group`.
fn group_members_running(group: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat_fields(pid).is_some_and(|(state, pgrp)| state != "Z" && pgrp == group))
        .collect()
}

/// The state letter and process group of `pid`, from the fields after `(comm)` in `/proc/PID/stat`.
fn stat_fields(pid: u32) -> Option<(String, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    let mut fields = after_comm.split_whitespace();
    let state = fields.next()?.to_owned();
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pids descended from `root` (not `root` itself), from each process's parent in
/// `/proc/PID/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, parent_of(pid)?)))
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// The parent pid: the 2nd field after the `(comm)` field of `/proc/PID/stat`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_parent_is_read_from_proc() {
        let me = std::process::id();
        let parent = parent_of(me).expect("this process has a parent");
        assert!(descendants(parent).contains(&me));
    }
}
