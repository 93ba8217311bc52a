//! Chunk planning (pure): a scan's probe space, positions `0..total`, cut into consecutive ranges of
//! `chunk_size` positions (the last one shorter), and the default size.
//!
//! The trade-off (docs/fleet.md has the measurements): every chunk costs a claim, a few checkpoints and one
//! commit in PostgreSQL, and a worker that dies loses at most one chunk's work since its last checkpoint; a
//! small chunk spreads the work evenly over workers that start late, a large one keeps the queue's share
//! of the time low.

use std::ops::Range;

/// Chunks of at most this many positions by default: about a second of sending at 100,000 probes per
/// second for one worker, a few hundred chunks for a /16 x 1000 ports.
pub const DEFAULT_CHUNK: u64 = 1 << 18;

/// The smallest chunk accepted: below this the queue's round trips dominate.
pub const MIN_CHUNK: u64 = 256;

/// The most chunks one scan may have (a chunk row and a job each).
pub const MAX_CHUNKS: u64 = 1 << 20;

/// Why a chunk plan is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("a chunk of {size} probes is too small (at least {MIN_CHUNK})")]
    TooSmall { size: u64 },
    #[error("{total} probes in chunks of {size} make {chunks} chunks, more than {MAX_CHUNKS}")]
    TooMany { total: u64, size: u64, chunks: u64 },
    #[error("the scan has no probes")]
    Empty,
}

/// The chunk size for a scan of `total` positions when none was asked: [`DEFAULT_CHUNK`], or fewer so that
/// there are at least `workers_hint` x 4 chunks (a late worker still finds work), but never below
/// [`MIN_CHUNK`].
pub fn default_size(total: u64, workers_hint: u64) -> u64 {
    let spread = total / workers_hint.max(1).saturating_mul(4).max(1);
    DEFAULT_CHUNK.min(spread).max(MIN_CHUNK)
}

/// The chunks of `0..total`, in order.
pub fn plan(total: u64, size: u64) -> Result<Vec<Range<u64>>, PlanError> {
    if size < MIN_CHUNK {
        return Err(PlanError::TooSmall { size });
    }
    if total == 0 {
        return Err(PlanError::Empty);
    }
    let chunks = total.div_ceil(size);
    if chunks > MAX_CHUNKS {
        return Err(PlanError::TooMany { total, size, chunks });
    }
    Ok((0..chunks).map(|i| i * size..((i + 1) * size).min(total)).collect())
}

/// Hosts per chunk for chunks of about `size` positions when each host has `per_host` probes: a chunk
/// holds whole hosts (at least one), so that no host's results are split over chunks.
pub fn hosts_per_chunk(size: u64, per_host: u64) -> u64 {
    (size / per_host.max(1)).max(1)
}

/// The chunks of a scan of `hosts` hosts of `per_host` probes each, `group_hosts` hosts per chunk: the
/// positions of each group of the probe space, in order.
pub fn by_hosts(hosts: u64, per_host: u64, group_hosts: u64) -> Result<Vec<Range<u64>>, PlanError> {
    let total = hosts.saturating_mul(per_host);
    if total == 0 {
        return Err(PlanError::Empty);
    }
    let group = group_hosts.max(1);
    let chunks = hosts.div_ceil(group);
    if chunks > MAX_CHUNKS {
        return Err(PlanError::TooMany { total, size: group * per_host, chunks });
    }
    Ok((0..chunks).map(|g| g * group * per_host..((g + 1) * group).min(hosts) * per_host).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_whole_hosts_cover_the_space_once() {
        assert_eq!(hosts_per_chunk(1000, 20), 50);
        assert_eq!(hosts_per_chunk(10, 20), 1);
        let c = by_hosts(105, 20, 50).unwrap();
        assert_eq!(c, [0..1000, 1000..2000, 2000..2100]);
        assert_eq!(by_hosts(0, 20, 50), Err(PlanError::Empty));
    }

    #[test]
    fn chunks_cover_the_space_once_in_order() {
        for (total, size) in [(1, 256), (256, 256), (257, 256), (1_000_003, 4096), (65536 * 3, 65536)] {
            let chunks = plan(total, size).unwrap();
            assert_eq!(chunks.first().unwrap().start, 0);
            assert_eq!(chunks.last().unwrap().end, total);
            assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
            assert!(chunks.iter().all(|c| !c.is_empty() && c.end - c.start <= size));
            assert_eq!(chunks.len() as u64, total.div_ceil(size));
        }
    }

    #[test]
    fn bad_plans_are_refused() {
        assert_eq!(plan(10, 1), Err(PlanError::TooSmall { size: 1 }));
        assert_eq!(plan(0, 4096), Err(PlanError::Empty));
        assert!(matches!(plan(u64::MAX, 256), Err(PlanError::TooMany { .. })));
    }

    #[test]
    fn default_size_leaves_work_for_late_workers() {
        assert_eq!(default_size(1 << 30, 3), DEFAULT_CHUNK);
        assert_eq!(default_size(65536 * 4, 3), 65536 * 4 / 12);
        assert_eq!(default_size(100, 3), MIN_CHUNK);
    }
}
