//! Waiting for a child process together with its resource usage (`wait4(2)`), which std does not offer:
//! the benchmarks report each tool's CPU time and peak memory, and tests check the scanner's own.
//! Signals and credentials come from `nix`, which wraps them safely; only this call needs `unsafe`.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// What a child used, read when it was reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildUsage {
    /// How it ended.
    pub status: ExitStatus,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident memory in KiB (`ru_maxrss`).
    pub max_rss_kb: i64,
}

impl ChildUsage {
    /// The exit code, or 128 plus the signal number for a child killed by a signal (as shells report it).
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }
}

/// Waits for the child `pid` (which must be this process's own, not yet reaped: after this call a
/// `std::process::Child` for it must not be waited for again) and returns its status and usage.
pub fn wait_with_usage(pid: u32) -> io::Result<ChildUsage> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut status = 0;
    // SAFETY: rusage is plain data, for which all-zero bytes are a valid value; wait4 overwrites it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals, valid for writing for the duration of the call.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if rc < 0 && err.kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return Err(err);
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32).saturating_mul(1000));
    Ok(ChildUsage {
        status: ExitStatus::from_raw(status),
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaps_a_child_and_reads_its_status() {
        let child = std::process::Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let usage = wait_with_usage(child.id()).unwrap();
        std::mem::forget(child);
        assert_eq!(usage.code(), 3);
        assert!(usage.max_rss_kb > 0);
    }

    #[test]
    fn a_killed_child_reports_128_plus_the_signal() {
        let child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL)
            .unwrap();
        let usage = wait_with_usage(child.id()).unwrap();
        std::mem::forget(child);
        assert_eq!(usage.code(), 128 + 9);
    }

    #[test]
    fn a_pid_that_is_not_our_child_is_an_error() {
        assert!(wait_with_usage(1).is_err());
    }
}
