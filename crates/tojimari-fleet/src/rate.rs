//! Sharing a global `--max-rate` among the live workers (pure): each takes an equal share, recomputed when
//! it takes a chunk, so a worker that joins or dies changes the others' shares at their next chunk.

/// A worker's share of `max_rate` packets per second when `live` workers (counting itself) are alive:
/// `None` when the scan has no limit; at least 1 packet per second.
pub fn share(max_rate: Option<u64>, live: u64) -> Option<u64> {
    max_rate.map(|rate| (rate / live.max(1)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_at_most_the_limit() {
        for (rate, live) in [(1000, 3), (10, 4), (1, 2), (99_999, 7)] {
            let each = share(Some(rate), live).unwrap();
            assert!(each * live <= rate.max(live), "{rate}/{live}");
            assert!(each >= 1);
        }
        assert_eq!(share(Some(1000), 0), Some(1000), "itself at least");
        assert_eq!(share(None, 3), None);
    }
}
