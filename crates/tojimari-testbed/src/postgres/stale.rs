//! Servers left behind by test processes that died without dropping them (killed, aborted):
//! stopped, and their directories removed, before the next server starts.
//!
//! A directory `/tmp/tjpg-{pid}-{n}` is stale when process `pid` is gone. Its postmaster is the
//! pid on the first line of `data/postmaster.pid`, and only if that process's command line
//! still names the data directory (a reused pid is left alone).

use std::fs;
use std::path::Path;
use std::time::Instant;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::SHUTDOWN;

/// Stops the servers and removes the directories (named `{prefix}{pid}-{n}` in the temporary
/// directory) of test processes that no longer exist. Best effort: errors are ignored.
pub(super) fn cleanup(prefix: &str) {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name.to_str().and_then(|n| owner_pid(n, prefix)) else { continue };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let dir = entry.path();
        let data = dir.join("data");
        if let Some(postmaster) = postmaster_pid(&data) {
            stop(postmaster);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// The test process id in a directory name `{prefix}{pid}-{n}`.
fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    let (pid, n) = name.strip_prefix(prefix)?.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// The running postmaster of the cluster in `data`, if its command line still names `data`.
fn postmaster_pid(data: &Path) -> Option<i32> {
    let lock = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let pid: i32 = lock.lines().next()?.trim().parse().ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let needle = data.to_str()?.as_bytes();
    cmdline.windows(needle.len()).any(|w| w == needle).then_some(pid)
}

/// SIGQUIT, then SIGKILL after [`SHUTDOWN`]. Not our child: poll `/proc` until it is gone.
fn stop(pid: i32) {
    let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
    let deadline = Instant::now() + SHUTDOWN;
    while Instant::now() < deadline {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn owner_pid_reads_only_our_directory_names() {
        assert_eq!(owner_pid("tjpg-4242-3", "tjpg-"), Some(4242));
        assert_eq!(owner_pid("tjpg-4242", "tjpg-"), None);
        assert_eq!(owner_pid("tjpg-x-3", "tjpg-"), None);
        assert_eq!(owner_pid("tjmd-4242-3-redis", "tjpg-"), None);
        assert_eq!(owner_pid("tjpg-4242-3-x", "tjpg-"), None);
    }
}
