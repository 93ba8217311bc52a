//! The file-descriptor budget of a connect scan.
//!
//! Every probe in flight is one socket, so the soft `RLIMIT_NOFILE` caps parallelism. We raise the soft
//! limit to the hard one at start (as any server would), then leave headroom for output files, the resolver
//! and the standard streams.

/// Descriptors kept free for everything that is not a probe.
const RESERVED: u64 = 64;

/// What the descriptor limit allows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit after raising it.
    pub soft_limit: u64,
    /// Probes that may be in flight at once.
    pub max_sockets: usize,
}

/// Raises the soft descriptor limit to the hard limit (never fails the scan: if raising is refused the
/// current limit is used) and returns the budget.
pub fn raise_and_budget() -> FdBudget {
    let (mut soft, hard) = tojimari_net::nofile_limit();
    if soft < hard && tojimari_net::set_nofile_soft(hard).is_ok() {
        soft = hard;
    }
    FdBudget { soft_limit: soft, max_sockets: budget_for(soft) }
}

/// Sockets usable for probes under a soft limit of `soft` descriptors.
pub fn budget_for(soft: u64) -> usize {
    // At least a few probes even under an absurdly small limit; EMFILE back-off copes with the rest.
    soft.saturating_sub(RESERVED).clamp(4, 1 << 20) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_headroom() {
        assert_eq!(budget_for(1024), 960);
        assert_eq!(budget_for(10), 4);
        assert!(raise_and_budget().max_sockets >= 4);
    }
}
