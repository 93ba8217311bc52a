//! The timeline of ending a process tree: SIGTERM, a grace period, SIGKILL, a bounded wait. Pure: the caller
//! passes the time and which processes are still alive, and carries out what [`Termination::next`] says.
//!
//! 1. SIGTERM the root. A well-behaved daemon ends its forked workers itself.
//! 2. If the root is gone but some of its children still hold on (orphaned workers), SIGTERM them too, once.
//! 3. When the grace period since the first SIGTERM is over, SIGKILL whatever is left.
//! 4. Whatever is still alive [`KILL_WAIT`] after SIGKILL (stuck in the kernel) is reported, not waited for.

use std::time::{Duration, Instant};

use crate::stop::Pinned;

/// How often the caller should look again while waiting.
pub const POLL: Duration = Duration::from_millis(50);
/// How long processes get to disappear after SIGKILL before they are reported as stuck.
pub const KILL_WAIT: Duration = Duration::from_secs(2);

/// Which signal to send.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sig {
    Term,
    Kill,
}

/// What the caller does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Send `signal` to each of `to` (each alive when last looked at).
    Signal { signal: Sig, to: Vec<Pinned> },
    /// Look again at `until` (no later).
    WaitUntil(Instant),
    /// Done.
    Finished(Ending),
}

/// How it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Everything exited; `killed` are the processes that needed SIGKILL (empty: SIGTERM was enough).
    Exited { killed: Vec<Pinned> },
    /// These were still alive [`KILL_WAIT`] after SIGKILL.
    Stuck { alive: Vec<Pinned> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Terminating { since: Instant, orphans_signalled: bool },
    Killing { since: Instant, killed: Vec<Pinned> },
    Done,
}

/// One process tree being ended.
#[derive(Clone, Debug)]
pub struct Termination {
    root: Pinned,
    followers: Vec<Pinned>,
    grace: Duration,
    phase: Phase,
}

impl Termination {
    pub fn new(root: Pinned, followers: Vec<Pinned>, grace: Duration) -> Termination {
        Termination { root, followers, grace, phase: Phase::NotStarted }
    }

    /// Every process to watch: the root, then the followers. The caller reports which are alive.
    pub fn processes(&self) -> Vec<Pinned> {
        std::iter::once(self.root).chain(self.followers.iter().copied()).collect()
    }

    /// The next step, given the time and which of [`processes`](Termination::processes) are alive now.
    pub fn next(&mut self, now: Instant, alive: &[Pinned]) -> Next {
        let alive: Vec<Pinned> = self.processes().into_iter().filter(|pinned| alive.contains(pinned)).collect();
        match &mut self.phase {
            Phase::NotStarted => {
                if alive.is_empty() {
                    self.phase = Phase::Done;
                    return Next::Finished(Ending::Exited { killed: Vec::new() });
                }
                // The root alone: a daemon ends its own workers (and would restart one killed behind its back).
                // With the root already gone, its orphans get the SIGTERM now.
                let root_alive = alive.contains(&self.root);
                self.phase = Phase::Terminating { since: now, orphans_signalled: !root_alive };
                let to = if root_alive { vec![self.root] } else { alive };
                Next::Signal { signal: Sig::Term, to }
            }
            Phase::Terminating { since, orphans_signalled } => {
                if alive.is_empty() {
                    self.phase = Phase::Done;
                    return Next::Finished(Ending::Exited { killed: Vec::new() });
                }
                let deadline = *since + self.grace;
                if now >= deadline {
                    self.phase = Phase::Killing { since: now, killed: alive.clone() };
                    return Next::Signal { signal: Sig::Kill, to: alive };
                }
                if !alive.contains(&self.root) && !*orphans_signalled {
                    *orphans_signalled = true;
                    return Next::Signal { signal: Sig::Term, to: alive };
                }
                Next::WaitUntil((now + POLL).min(deadline))
            }
            Phase::Killing { since, killed } => {
                if alive.is_empty() {
                    let killed = std::mem::take(killed);
                    self.phase = Phase::Done;
                    return Next::Finished(Ending::Exited { killed });
                }
                let deadline = *since + KILL_WAIT;
                if now >= deadline {
                    self.phase = Phase::Done;
                    return Next::Finished(Ending::Stuck { alive });
                }
                Next::WaitUntil((now + POLL).min(deadline))
            }
            Phase::Done => Next::Finished(Ending::Exited { killed: Vec::new() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    fn pin(pid: u32) -> Pinned {
        Pinned { pid, start_time: 1000 + u64::from(pid) }
    }

    fn nginx() -> Termination {
        Termination::new(pin(100), vec![pin(101), pin(102)], GRACE)
    }

    #[test]
    fn sigterm_is_enough() {
        let t0 = Instant::now();
        let mut t = nginx();
        let all = t.processes();
        assert_eq!(t.next(t0, &all), Next::Signal { signal: Sig::Term, to: vec![pin(100)] });
        assert_eq!(t.next(t0, &all), Next::WaitUntil(t0 + POLL));
        // The master ends its workers, then itself.
        assert_eq!(t.next(t0 + POLL, &[pin(100)]), Next::WaitUntil(t0 + 2 * POLL));
        assert_eq!(t.next(t0 + 2 * POLL, &[]), Next::Finished(Ending::Exited { killed: vec![] }));
    }

    #[test]
    fn a_process_ignoring_sigterm_gets_sigkill_after_the_grace_period() {
        let t0 = Instant::now();
        let mut t = Termination::new(pin(300), vec![], GRACE);
        let alive = [pin(300)];
        assert_eq!(t.next(t0, &alive), Next::Signal { signal: Sig::Term, to: vec![pin(300)] });
        // Waits are capped at the deadline, never past it.
        assert_eq!(t.next(t0 + GRACE - Duration::from_millis(10), &alive), Next::WaitUntil(t0 + GRACE));
        assert_eq!(t.next(t0 + GRACE, &alive), Next::Signal { signal: Sig::Kill, to: vec![pin(300)] });
        assert_eq!(t.next(t0 + GRACE, &alive), Next::WaitUntil(t0 + GRACE + POLL));
        assert_eq!(t.next(t0 + GRACE + POLL, &[]), Next::Finished(Ending::Exited { killed: vec![pin(300)] }));
    }

    #[test]
    fn orphaned_workers_get_their_own_sigterm_once() {
        let t0 = Instant::now();
        let mut t = nginx();
        assert_eq!(t.next(t0, &t.processes()), Next::Signal { signal: Sig::Term, to: vec![pin(100)] });
        let orphans = [pin(101), pin(102)];
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(t.next(t1, &orphans), Next::Signal { signal: Sig::Term, to: orphans.to_vec() });
        assert_eq!(t.next(t1, &orphans), Next::WaitUntil(t1 + POLL));
        assert_eq!(t.next(t0 + GRACE, &[pin(102)]), Next::Signal { signal: Sig::Kill, to: vec![pin(102)] });
        assert_eq!(t.next(t0 + GRACE + POLL, &[]), Next::Finished(Ending::Exited { killed: vec![pin(102)] }));
    }

    #[test]
    fn a_process_stuck_after_sigkill_is_reported_not_waited_for() {
        let t0 = Instant::now();
        let mut t = Termination::new(pin(7), vec![], Duration::ZERO);
        let alive = [pin(7)];
        assert_eq!(t.next(t0, &alive), Next::Signal { signal: Sig::Term, to: vec![pin(7)] });
        assert_eq!(t.next(t0, &alive), Next::Signal { signal: Sig::Kill, to: vec![pin(7)] });
        assert_eq!(t.next(t0 + KILL_WAIT, &alive), Next::Finished(Ending::Stuck { alive: vec![pin(7)] }));
    }

    #[test]
    fn a_reused_pid_is_not_the_same_process() {
        let t0 = Instant::now();
        let mut t = Termination::new(pin(300), vec![], GRACE);
        // pid 300 again, but started later: the one we meant has exited, nothing is signalled.
        let newcomer = Pinned { pid: 300, start_time: 999_999 };
        assert_eq!(t.next(t0, &[newcomer]), Next::Finished(Ending::Exited { killed: vec![] }));
    }

    #[test]
    fn gone_before_the_first_signal() {
        let t0 = Instant::now();
        let mut t = nginx();
        assert_eq!(t.next(t0, &[]), Next::Finished(Ending::Exited { killed: vec![] }));
        // The root already gone, a worker left: the worker gets the SIGTERM.
        let mut t = nginx();
        assert_eq!(t.next(t0, &[pin(101)]), Next::Signal { signal: Sig::Term, to: vec![pin(101)] });
        assert_eq!(t.next(t0, &[pin(101)]), Next::WaitUntil(t0 + POLL), "one SIGTERM, not two");
    }
}
