//! What to write and what to skip, decided from plain values with the time passed in: when a checkpoint is
//! due ([`Schedule`]), what the finished groups amount to ([`Ledger`]), whether a checkpoint may continue
//! this scan and from where ([`resume_point`]), what the store must drop and be given again
//! ([`StoreRepair`]), and the summary of the whole scan ([`whole_summary`]). The file I/O around it is thin.

use std::time::{Duration, Instant};

use tojimari_core::report::{HostState, RunSummary};

use crate::resume::checkpoint::{Checkpoint, JournalMark};

/// The interval between checkpoints unless `--checkpoint-every` says otherwise.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5);

/// Why a checkpoint is being considered.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Moment {
    /// The clock ticked.
    Tick,
    /// A group of hosts finished.
    GroupDone,
    /// Ctrl-C or SIGTERM: the scan stops.
    Interrupted,
}

/// When checkpoints are written: none while the scan is younger than the interval (a short scan leaves no
/// file behind, and one killed that early loses little); after that at every group boundary and at least
/// once per interval; always on an interrupt.
#[derive(Clone, Debug)]
pub struct Schedule {
    every: Duration,
    started: Instant,
    last: Option<Instant>,
}

impl Schedule {
    pub fn new(every: Duration, started: Instant) -> Schedule {
        Schedule { every, started, last: None }
    }

    /// Whether to write a checkpoint at `now`.
    pub fn due(&self, moment: Moment, now: Instant) -> bool {
        let since_start = now.saturating_duration_since(self.started) >= self.every;
        match moment {
            Moment::Interrupted => true,
            Moment::GroupDone => since_start || self.last.is_some(),
            Moment::Tick => match self.last {
                Some(last) => now.saturating_duration_since(last) >= self.every,
                None => since_start,
            },
        }
    }

    /// A checkpoint was written at `now`.
    pub fn written(&mut self, now: Instant) {
        self.last = Some(now);
    }

    /// Whether any checkpoint was written (so there is a file to remove, or to name).
    pub fn ever_written(&self) -> bool {
        self.last.is_some()
    }
}

/// The finished groups and the journal's hosts: what a checkpoint counts as done.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub groups_done: u64,
    pub journal: JournalMark,
    /// Hosts written to the journal since the last boundary: (up, down).
    open: (u64, u64, u64),
    /// Once the scan is cancelled, boundaries are no longer counted: a group cut short is not finished.
    frozen: bool,
}

impl Ledger {
    /// A ledger that continues from `groups_done` and `journal`.
    pub fn from_mark(groups_done: u64, journal: JournalMark) -> Ledger {
        Ledger { groups_done, journal, open: (0, 0, 0), frozen: false }
    }

    /// A host went into the journal.
    pub fn host(&mut self, state: HostState) {
        self.open.0 += 1;
        match state {
            HostState::Up => self.open.1 += 1,
            HostState::Down => self.open.2 += 1,
            HostState::Unknown => {}
        }
    }

    /// Group `group` finished with the journal `bytes` long, of digest `sha256`. Returns whether it counts
    /// (the next group in order, and the scan not cancelled).
    pub fn group_done(&mut self, group: u64, bytes: u64, sha256: String) -> bool {
        if self.frozen || group < self.groups_done {
            return false;
        }
        self.groups_done = group + 1;
        let (hosts, up, down) = std::mem::take(&mut self.open);
        self.journal = JournalMark {
            bytes,
            hosts: self.journal.hosts + hosts,
            hosts_up: self.journal.hosts_up + up,
            hosts_down: self.journal.hosts_down + down,
            sha256,
        };
        true
    }

    /// The scan was cancelled: later boundaries do not count.
    pub fn freeze(&mut self) {
        self.frozen = true;
    }
}

/// Where a checkpoint lets the scan continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumePoint {
    /// The first group to scan.
    pub start_group: u64,
    /// The engine's state of that group, when the checkpoint had it.
    pub prior: Option<Vec<u8>>,
    /// The journal's part to keep (and replay).
    pub journal: JournalMark,
}

/// Why a checkpoint cannot continue this scan (after it was read as a valid checkpoint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The targets, excludes, ports, techniques, seed or shard differ from the checkpoint's.
    Space,
    /// The journal has fewer bytes than the checkpoint counts (`have`, `want`).
    JournalShort { have: u64, want: u64 },
    /// The journal's hosts or digest differ from the checkpoint's.
    JournalChanged(String),
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Space => f.write_str(
                "the scan's targets, ports or techniques are no longer what the checkpoint was written for \
                 (an -iL or --excludefile file changed, or a host name resolves elsewhere)",
            ),
            Mismatch::JournalShort { have, want } => {
                write!(f, "its results journal is shorter than the checkpoint says ({have} of {want} bytes)")
            }
            Mismatch::JournalChanged(why) => write!(f, "its results journal was changed: {why}"),
        }
    }
}

/// Whether `checkpoint` may continue a scan whose probe space digests to `space`, with a journal of
/// `journal_bytes` bytes on disk; from where.
pub fn resume_point(checkpoint: &Checkpoint, space: &str, journal_bytes: u64) -> Result<ResumePoint, Mismatch> {
    if checkpoint.space != space {
        return Err(Mismatch::Space);
    }
    if journal_bytes < checkpoint.journal.bytes {
        return Err(Mismatch::JournalShort { have: journal_bytes, want: checkpoint.journal.bytes });
    }
    Ok(ResumePoint {
        start_group: checkpoint.groups_done,
        prior: checkpoint.group_state.clone(),
        journal: checkpoint.journal.clone(),
    })
}

/// The journal as read back (`hosts` host records, digest `sha256` of its kept bytes) against its mark.
pub fn check_journal(mark: &JournalMark, hosts: u64, sha256: &str) -> Result<(), Mismatch> {
    if hosts != mark.hosts {
        return Err(Mismatch::JournalChanged(format!("{hosts} hosts where the checkpoint counts {}", mark.hosts)));
    }
    if sha256 != mark.sha256 {
        return Err(Mismatch::JournalChanged("its digest differs from the checkpoint's".into()));
    }
    Ok(())
}

/// What the result store needs so that the scan it holds is the journal's hosts, each once: the hosts it
/// recorded from `drop_from` on (in output order) were of a group not finished and go; the journal's hosts
/// from `replay_from` to `keep` were never recorded (the process died before its writer got to them).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StoreRepair {
    pub drop_from: u64,
    pub replay_from: u64,
    pub keep: u64,
}

impl StoreRepair {
    /// The store recorded `recorded` hosts of the scan; the journal keeps `keep`.
    pub fn new(recorded: u64, keep: u64) -> StoreRepair {
        StoreRepair { drop_from: keep, replay_from: recorded.min(keep), keep }
    }
}

/// The summary of the whole scan: this run's, with the journal's hosts and the earlier runs' time added.
pub fn whole_summary(mut summary: RunSummary, journal: &JournalMark, earlier: Duration) -> RunSummary {
    summary.hosts_up += journal.hosts_up;
    summary.hosts_down += journal.hosts_down;
    summary.hosts_total += journal.hosts;
    summary.elapsed += earlier;
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resume::checkpoint::StoreScan;

    #[test]
    fn no_checkpoint_in_the_first_interval_then_at_boundaries_and_on_the_clock() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut s = Schedule::new(Duration::from_secs(5), t0);
        assert!(!s.due(Moment::GroupDone, at(1_000)));
        assert!(!s.due(Moment::Tick, at(4_999)));
        assert!(s.due(Moment::Interrupted, at(10)), "an interrupt always writes");
        assert!(s.due(Moment::Tick, at(5_000)));
        assert!(s.due(Moment::GroupDone, at(5_000)));
        s.written(at(5_000));
        assert!(s.ever_written());
        assert!(s.due(Moment::GroupDone, at(5_001)), "every boundary once armed");
        assert!(!s.due(Moment::Tick, at(9_999)));
        assert!(s.due(Moment::Tick, at(10_000)));
    }

    #[test]
    fn boundaries_count_in_order_until_the_scan_is_cancelled() {
        let mut l = Ledger::default();
        l.host(HostState::Up);
        l.host(HostState::Down);
        assert!(l.group_done(0, 100, "a".into()));
        assert_eq!(
            (l.groups_done, l.journal.hosts, l.journal.hosts_up, l.journal.hosts_down, l.journal.bytes),
            (1, 2, 1, 1, 100)
        );
        assert!(!l.group_done(0, 150, "b".into()), "a group already counted");
        l.host(HostState::Up);
        l.freeze();
        assert!(!l.group_done(1, 200, "c".into()), "a boundary after the cancel is a group cut short");
        assert_eq!((l.groups_done, l.journal.hosts, l.journal.bytes), (1, 2, 100));
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            tojimari: env!("CARGO_PKG_VERSION").into(),
            argv: vec![],
            seed: Some(1),
            space: "s1".into(),
            started_ms: 0,
            elapsed_ms: 0,
            outputs: vec![],
            store: Some(StoreScan { db: "x".into(), scan: 1 }),
            groups_done: 4,
            journal: JournalMark { bytes: 500, hosts: 9, hosts_up: 8, hosts_down: 1, sha256: "d".into() },
            group_state: Some(vec![1, 2]),
        }
    }

    #[test]
    fn a_checkpoint_continues_only_its_own_probe_space_with_its_whole_journal() {
        let c = checkpoint();
        let p = resume_point(&c, "s1", 800).unwrap();
        assert_eq!((p.start_group, p.prior, p.journal.bytes), (4, Some(vec![1, 2]), 500));
        assert_eq!(resume_point(&c, "s2", 800), Err(Mismatch::Space));
        assert_eq!(resume_point(&c, "s1", 499), Err(Mismatch::JournalShort { have: 499, want: 500 }));
        assert!(check_journal(&c.journal, 9, "d").is_ok());
        assert!(check_journal(&c.journal, 8, "d").is_err());
        assert!(check_journal(&c.journal, 9, "e").is_err());
    }

    #[test]
    fn the_store_drops_what_the_journal_lacks_and_is_given_what_it_missed() {
        assert_eq!(StoreRepair::new(12, 9), StoreRepair { drop_from: 9, replay_from: 9, keep: 9 });
        assert_eq!(StoreRepair::new(5, 9), StoreRepair { drop_from: 9, replay_from: 5, keep: 9 });
        assert_eq!(StoreRepair::new(9, 9), StoreRepair { drop_from: 9, replay_from: 9, keep: 9 });
    }

    #[test]
    fn the_summary_covers_the_whole_scan() {
        let s = RunSummary {
            end: std::time::UNIX_EPOCH,
            elapsed: Duration::from_secs(3),
            hosts_up: 2,
            hosts_down: 1,
            hosts_total: 3,
            exit: tojimari_core::report::RunExit::Success,
        };
        let w = whole_summary(s, &checkpoint().journal, Duration::from_secs(4));
        assert_eq!((w.hosts_up, w.hosts_down, w.hosts_total, w.elapsed), (10, 2, 12, Duration::from_secs(7)));
    }
}
