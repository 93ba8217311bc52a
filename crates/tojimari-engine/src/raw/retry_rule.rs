//! When the raw engine stops sending retry passes: a pure rule over what each pass recovered.
//!
//! nmap's rule, made per pass: retry while retries still recover answers. A silent retry alone is weak
//! evidence that the remaining probes are really unanswered: under loss, a port whose answer was lost in
//! the first pass is lost again in the first retry about as often as the loss rate (5% each way loses a
//! try about 10% of the time), and when no other port happens to be recovered in that retry, stopping
//! there reports an open port as filtered. So every scan gets [`MIN_RETRIES`] retries (within
//! `--max-retries`), and once a retry has recovered something (loss is real), it stops only after two
//! silent retries in a row. The correctness campaign (`tojimari-bench campaign`) measures what is left.

pub use tojimari_core::timing::MIN_RETRIES;

/// The state of the rule across one run of passes.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryRule {
    /// Retry passes in a row that recovered nothing.
    silent_in_a_row: u32,
    /// Whether any retry has recovered an answer.
    loss_seen: bool,
}

impl RetryRule {
    /// Called after each pass (pass 0 is the first send, `retries_done` = passes - 1) with the answers it
    /// recovered; says whether to stop.
    pub fn stop_after(&mut self, retries_done: u32, recovered: u64, all_answered: bool, max_retries: u32) -> bool {
        if retries_done >= 1 {
            if recovered == 0 {
                self.silent_in_a_row += 1;
            } else {
                self.silent_in_a_row = 0;
                self.loss_seen = true;
            }
        }
        if all_answered || retries_done >= max_retries {
            return true;
        }
        if retries_done < MIN_RETRIES {
            return false;
        }
        let silent_needed = if self.loss_seen { 2 } else { 1 };
        self.silent_in_a_row >= silent_needed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the rule over the recovered counts of passes 0, 1, 2...; returns how many passes were sent.
    fn passes(recovered: &[u64], max_retries: u32) -> usize {
        let mut rule = RetryRule::default();
        for (pass, &r) in recovered.iter().enumerate() {
            if rule.stop_after(pass as u32, r, false, max_retries) {
                return pass + 1;
            }
        }
        panic!("the rule never stopped over {recovered:?}");
    }

    #[test]
    fn a_silent_first_retry_is_not_the_end() {
        // The regression the campaign found: a port lost in pass 0 and again in pass 1, nothing else
        // recovered in pass 1; the scan used to stop there and call the port filtered.
        assert_eq!(passes(&[40, 0, 0], 6), 3);
        assert_eq!(passes(&[40, 0, 1, 0, 0], 6), 5);
    }

    #[test]
    fn once_loss_is_seen_two_silent_retries_in_a_row_end_it() {
        assert_eq!(passes(&[40, 3, 0, 0], 6), 4);
        assert_eq!(passes(&[40, 3, 0, 1, 0, 0], 6), 6);
    }

    #[test]
    fn max_retries_bounds_every_rule() {
        assert_eq!(passes(&[40, 0], 1), 2);
        assert_eq!(passes(&[40], 0), 1);
        assert_eq!(passes(&[40, 5, 5, 5], 3), 4);
    }

    #[test]
    fn everything_answered_ends_it_at_once() {
        let mut rule = RetryRule::default();
        assert!(rule.stop_after(0, 48, true, 6));
    }
}
