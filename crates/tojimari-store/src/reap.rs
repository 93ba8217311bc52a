//! Scans whose process died: a scan is written `running` when it begins, with its writer (host name, pid,
//! and a machine key). A process killed with SIGKILL, or a machine that lost power, never finishes its scan,
//! so whoever opens the store next marks such a scan `interrupted`, keeping the hosts it recorded.
//!
//! A `running` scan is found dead only when its writer is on this machine (same boot id, same pid namespace)
//! and its process is gone: no such pid, or a pid now held by a process that started at another time (pid
//! reuse). The writer's key is `BOOT_ID/PIDNS/START` ([`this_writer`]): the boot id of
//! `/proc/sys/kernel/random/boot_id`, the inode of `/proc/self/ns/pid` (containers share a kernel, and so its
//! boot id, but not their pids), and the process start time in clock ticks since boot (`/proc/PID/stat`,
//! field 22). A key with only a boot id (written by another tool) is judged by its pid alone. Scans from
//! other machines are never touched: only their own writer, or a person, can say they died.

use crate::store::{Store, StoreError};

/// Who writes a scan, for [`crate::ScanStart`]'s writer fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writer {
    pub host: String,
    pub pid: i64,
    /// `BOOT_ID/PIDNS/START` (see the module docs).
    pub boot: String,
}

/// This process as a scan's writer.
pub fn this_writer() -> Writer {
    let pid = std::process::id();
    let start = start_ticks(i64::from(pid)).map_or_else(String::new, |t| t.to_string());
    Writer {
        host: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_default(),
        pid: i64::from(pid),
        boot: format!("{}/{start}", machine().unwrap_or_default()),
    }
}

/// This machine's key, `BOOT_ID/PIDNS`; `None` when /proc does not say.
fn machine() -> Option<String> {
    let boot = read_trimmed("/proc/sys/kernel/random/boot_id")?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    // "pid:[4026531836]"
    let ns = ns.to_string_lossy();
    let inode = ns.trim_start_matches("pid:[").trim_end_matches(']');
    Some(format!("{boot}/{inode}"))
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// What is known of a process now.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Process {
    Gone,
    /// It exists; its start time when readable.
    Running(Option<u64>),
}

/// The start time of process `pid` in clock ticks since boot (`/proc/PID/stat` field 22).
fn start_ticks(pid: i64) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start(&stat)
}

/// Field 22 of a `/proc/PID/stat` line. The command name (field 2) is in parentheses and may hold spaces
/// and parentheses itself, so the fields are counted after the last `)`.
fn parse_start(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first, so field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Process `pid` on this machine now.
fn probe(pid: i64) -> Process {
    let Ok(raw) = i32::try_from(pid) else { return Process::Gone };
    if raw <= 0 {
        return Process::Gone;
    }
    if let Some(start) = start_ticks(pid) {
        return Process::Running(Some(start));
    }
    // /proc may hide other users' processes (hidepid): ask the kernel. EPERM means it exists.
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None) {
        Err(nix::errno::Errno::ESRCH) => Process::Gone,
        _ => Process::Running(None),
    }
}

/// Whether a `running` scan written by (`pid`, `recorded` key) died, seen from machine `here`
/// (`BOOT_ID/PIDNS`), `probe` telling what a pid is now.
pub(crate) fn died(recorded: &str, pid: i64, here: &str, probe: &dyn Fn(i64) -> Process) -> bool {
    let mut parts = recorded.splitn(3, '/');
    let (boot, ns, start) = (parts.next().unwrap_or(""), parts.next(), parts.next());
    let mut here_parts = here.splitn(2, '/');
    let (here_boot, here_ns) = (here_parts.next().unwrap_or(""), here_parts.next());
    if boot.is_empty() || boot != here_boot || pid <= 0 {
        return false;
    }
    if let (Some(ns), Some(here_ns)) = (ns, here_ns)
        && ns != here_ns
    {
        return false;
    }
    let recorded_start = start.and_then(|s| s.parse::<u64>().ok());
    match probe(pid) {
        Process::Gone => true,
        Process::Running(now) => matches!((recorded_start, now), (Some(then), Some(now)) if then != now),
    }
}

/// Marks `interrupted` every `running` scan of `store` whose writer died on this machine (not fleet scans,
/// whose workers finish them); returns how many.
pub(crate) fn interrupt_dead_writers(store: &Store) -> Result<u64, StoreError> {
    let Some(here) = machine() else { return Ok(0) };
    let (rt, pool) = (&store.rt, &store.pool);
    let running: Vec<(i64, i64, String)> = rt
        .block_on(
            // A fleet scan's planner exits at once; its workers finish it (schema 4's fleet_scans).
            sqlx::query_as(
                "SELECT id, writer_pid, writer_boot FROM scans WHERE status = $1 \
                 AND id NOT IN (SELECT scan_id FROM fleet_scans)",
            )
            .bind(crate::ScanStatus::Running.as_str())
            .fetch_all(pool),
        )
        .map_err(|e| store.query_err("looking for scans whose process died", e))?;
    let mut marked = 0;
    for (id, pid, boot) in running {
        if !died(&boot, pid, &here, &probe) {
            continue;
        }
        let done = rt.block_on(
            sqlx::query("UPDATE scans SET status = $1 WHERE id = $2 AND status = $3")
                .bind(crate::ScanStatus::Interrupted.as_str())
                .bind(id)
                .bind(crate::ScanStatus::Running.as_str())
                .execute(pool),
        );
        marked += done.map_err(|e| store.query_err("marking a dead scan interrupted", e))?.rows_affected();
    }
    Ok(marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: &str = "b00t/4026531836";

    #[test]
    fn only_dead_writers_of_this_machine() {
        let gone = |_| Process::Gone;
        let alive_at = |t| move |_| Process::Running(Some(t));
        // Same machine, process gone.
        assert!(died("b00t/4026531836/500", 42, HERE, &gone));
        // Same pid, another start time: reused by another process.
        assert!(died("b00t/4026531836/500", 42, HERE, &alive_at(900)));
        // Same process, alive.
        assert!(!died("b00t/4026531836/500", 42, HERE, &alive_at(500)));
        // Alive, start unknown either side: alive.
        assert!(!died("b00t/4026531836/", 42, HERE, &alive_at(500)));
        assert!(!died("b00t/4026531836/500", 42, HERE, &|_| Process::Running(None)));
        // Another boot, another pid namespace (a container on the same kernel), no key: never touched.
        assert!(!died("other/4026531836/500", 42, HERE, &gone));
        assert!(!died("b00t/4026532000/500", 42, HERE, &gone));
        assert!(!died("", 42, HERE, &gone));
        // A bare boot id (another writer): judged by the pid.
        assert!(died("b00t", 42, HERE, &gone));
        assert!(!died("b00t", 42, HERE, &alive_at(1)));
        // Nonsense pids.
        assert!(!died("b00t/4026531836/500", 0, HERE, &gone));
        assert!(!died("b00t/4026531836/500", -5, HERE, &gone));
    }

    #[test]
    fn start_time_after_a_name_with_parentheses() {
        let stat = "1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start(stat), Some(987_654));
        assert_eq!(parse_start("garbage"), None);
        assert_eq!(parse_start("1 (x) S 1"), None);
    }

    #[test]
    fn this_process_is_alive_and_its_key_is_complete() {
        let me = this_writer();
        assert_eq!(me.pid, i64::from(std::process::id()));
        let parts: Vec<&str> = me.boot.split('/').collect();
        assert_eq!(parts.len(), 3, "{}", me.boot);
        assert!(parts.iter().all(|p| !p.is_empty()), "{}", me.boot);
        let here = machine().unwrap();
        assert!(!died(&me.boot, me.pid, &here, &probe));
        // A pid that cannot exist (above pid_max's ceiling, 2^22) is gone.
        assert_eq!(probe((1 << 22) + 1), Process::Gone);
        assert!(died(&me.boot, (1 << 22) + 1, &here, &probe));
    }
}
