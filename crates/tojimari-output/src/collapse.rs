//! Which ports a report lists one by one, and which it folds into "Not shown" / `extraports`.
//!
//! nmap's rule, as observed in nmap 7.93's output:
//! - `open` ports are always listed.
//! - A state is *ignored* (folded) when more than `25 × (verbose + 1)` ports of the host are in it,
//!   counting every protocol together (so 25 closed tcp ports plus 35 closed udp ports fold as 60).
//! - With `--open`, every state except `open`, `open|filtered` and `unfiltered` is ignored, whatever
//!   its count; those two may still fold by count.
//! - With `-vvv` or more, `open|filtered` is never folded.
//!
//! JSON Lines uses the same rule at verbosity 0 without `--open`, except that it never folds the
//! states `--open` keeps ([`CollapseRule::json_lines`]).
//!
//! Folded states are listed by count, largest first; within a state, ports are grouped by
//! (reason, protocol), again largest group first. "Not shown", XML `extraports`/`extrareasons` and
//! the grepable "Ignored State" are all written from one [`PortLayout`].

use tojimari_core::report::{DisplayOptions, PortResult};
use tojimari_core::{PortState, Protocol, Reason};

/// nmap shows at most this many ports of one state before folding them (times `verbose + 1`).
pub(crate) const MAX_PER_STATE: usize = 25;

/// The states `--open` keeps: those where the port may accept traffic. (nmap keeps `unfiltered` too,
/// which [`PortState::maybe_open`] does not.)
pub(crate) fn kept_by_open(state: PortState) -> bool {
    matches!(state, PortState::Open | PortState::OpenFiltered | PortState::Unfiltered)
}

/// Whether every output format folds a state with `count` ports on a host, at `-v` level `verbose`, whatever
/// `--open` says: JSON Lines never folds open, open|filtered or unfiltered, and the nmap formats fold a state only above
/// their threshold. What every format folds can be kept as counts and ranges (the result store's
/// `port_folds`) and printed again identically.
pub fn folded_by_every_output(state: PortState, count: usize, verbose: u8) -> bool {
    !kept_by_open(state) && count > MAX_PER_STATE * (usize::from(verbose) + 1)
}

/// When a state is folded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CollapseRule {
    /// Fold a state with more ports than this.
    pub max_per_state: usize,
    /// `--open`: fold every state not [`kept_by_open`].
    pub open_only: bool,
    /// Never fold `open|filtered` (nmap at `-vvv`).
    pub keep_open_filtered: bool,
    /// Never fold a state [`kept_by_open`] (JSON Lines).
    pub keep_reachable: bool,
}

impl CollapseRule {
    /// nmap's rule for the given `-v`/`--open` options.
    pub fn for_display(display: &DisplayOptions) -> CollapseRule {
        CollapseRule {
            max_per_state: MAX_PER_STATE * (usize::from(display.verbose) + 1),
            open_only: display.open_only,
            keep_open_filtered: display.verbose > 2,
            keep_reachable: false,
        }
    }

    /// nmap's rule at verbosity 0 without `--open`.
    #[cfg(test)]
    pub fn plain() -> CollapseRule {
        CollapseRule::for_display(&DisplayOptions::default())
    }

    /// JSON Lines' rule, whatever the display options: fold only states other than those `--open`
    /// keeps, and only past 25 ports.
    pub fn json_lines() -> CollapseRule {
        CollapseRule { max_per_state: MAX_PER_STATE, open_only: false, keep_open_filtered: true, keep_reachable: true }
    }

    fn folds(&self, state: PortState, count: usize) -> bool {
        if count == 0 || state == PortState::Open {
            return false;
        }
        if state == PortState::OpenFiltered && self.keep_open_filtered {
            return false;
        }
        if self.keep_reachable && kept_by_open(state) {
            return false;
        }
        if self.open_only && !kept_by_open(state) {
            return true;
        }
        count > self.max_per_state
    }
}

/// Ports of one folded state that share a reason and a protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoldedReason {
    pub reason: Reason,
    pub proto: Protocol,
    /// Sorted, as the host report lists them.
    pub ports: Vec<u16>,
}

/// One folded state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoldedState {
    pub state: PortState,
    pub count: usize,
    pub reasons: Vec<FoldedReason>,
}

/// A host's ports split into those listed and those folded.
#[derive(Clone, Debug)]
pub(crate) struct PortLayout<'a> {
    /// Listed ports, in report order (protocol, then port).
    pub shown: Vec<&'a PortResult>,
    /// Folded states, largest first.
    pub folded: Vec<FoldedState>,
    /// Every port of the host, shown or not.
    pub total: usize,
}

impl<'a> PortLayout<'a> {
    pub fn new(ports: &'a [PortResult], rule: CollapseRule) -> PortLayout<'a> {
        let counts = state_counts(ports);
        let folds = |s: PortState| rule.folds(s, counts[s.index()]);

        let mut folded: Vec<FoldedState> = PortState::ALL
            .iter()
            .filter(|&&s| folds(s))
            .map(|&state| FoldedState { state, count: counts[state.index()], reasons: Vec::new() })
            .collect();
        let mut shown = Vec::new();
        for port in ports {
            match folded.iter_mut().find(|f| f.state == port.state) {
                None => shown.push(port),
                Some(group) => {
                    match group.reasons.iter_mut().find(|r| r.reason == port.reason && r.proto == port.proto) {
                        Some(r) => r.ports.push(port.port),
                        None => group.reasons.push(FoldedReason {
                            reason: port.reason,
                            proto: port.proto,
                            ports: vec![port.port],
                        }),
                    }
                }
            }
        }
        // Stable sorts: ties keep state order, and reasons keep the order of their first port.
        folded.sort_by_key(|f| std::cmp::Reverse(f.count));
        for group in &mut folded {
            group.reasons.sort_by_key(|r| std::cmp::Reverse(r.ports.len()));
        }
        PortLayout { shown, folded, total: ports.len() }
    }
}

/// How many ports are in each state, indexed by [`PortState::index`].
pub(crate) fn state_counts(ports: &[PortResult]) -> [usize; PortState::ALL.len()] {
    let mut counts = [0; PortState::ALL.len()];
    for port in ports {
        counts[port.state.index()] += 1;
    }
    counts
}

/// nmap's compact port list: `1-21,23-79,81-100`. Expects sorted ports; repeats are merged.
pub fn compact_ranges(ports: &[u16]) -> String {
    let mut out = String::new();
    let mut iter = ports.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while let Some(&next) = iter.peek() {
            if next == end || Some(next) == end.checked_add(1) {
                end = next;
                iter.next();
            } else {
                break;
            }
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(proto: Protocol, n: u16, state: PortState, reason: Reason) -> PortResult {
        PortResult::new(proto, n, state, reason)
    }

    fn display(verbose: u8, open_only: bool) -> DisplayOptions {
        DisplayOptions { reason: false, open_only, verbose, versions: false, debug: 0 }
    }

    #[test]
    fn ranges_like_nmap() {
        assert_eq!(compact_ranges(&[]), "");
        assert_eq!(compact_ranges(&[7]), "7");
        let mut ports: Vec<u16> = (1..=100).filter(|p| ![22, 80].contains(p)).collect();
        assert_eq!(compact_ranges(&ports), "1-21,23-79,81-100");
        ports = vec![30, 31, 32, 33, 34, 35, 40, 65534, 65535];
        assert_eq!(compact_ranges(&ports), "30-35,40,65534-65535");
    }

    #[test]
    fn twenty_five_is_shown_twenty_six_is_folded() {
        let mut ports: Vec<_> =
            (1..=25).map(|n| port(Protocol::Tcp, n, PortState::Closed, Reason::ConnRefused)).collect();
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(0, false)));
        assert_eq!(layout.shown.len(), 25);
        assert!(layout.folded.is_empty());

        ports.push(port(Protocol::Tcp, 26, PortState::Closed, Reason::ConnRefused));
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(0, false)));
        assert!(layout.shown.is_empty());
        assert_eq!(layout.folded.len(), 1);
        assert_eq!(layout.folded[0].count, 26);
        assert_eq!(layout.total, 26);

        // -v raises the bar to 50.
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(1, false)));
        assert_eq!(layout.shown.len(), 26);
    }

    #[test]
    fn states_count_across_protocols_and_sort_by_size() {
        // As nmap -sT -sU -p T:1-40,U:1-40 showed: 25 closed tcp + 35 closed udp fold together.
        let mut ports = Vec::new();
        for n in 1..=25 {
            ports.push(port(Protocol::Tcp, n, PortState::Closed, Reason::ConnRefused));
        }
        ports.push(port(Protocol::Tcp, 30, PortState::Open, Reason::SynAck));
        for n in 1..=35 {
            ports.push(port(Protocol::Udp, n, PortState::Closed, Reason::PortUnreach));
        }
        let layout = PortLayout::new(&ports, CollapseRule::plain());
        assert_eq!(layout.shown.len(), 1);
        let closed = &layout.folded[0];
        assert_eq!((closed.state, closed.count), (PortState::Closed, 60));
        let order: Vec<_> = closed.reasons.iter().map(|r| (r.proto, r.ports.len())).collect();
        assert_eq!(order, [(Protocol::Udp, 35), (Protocol::Tcp, 25)]);
    }

    #[test]
    fn larger_folded_state_first_then_larger_reason() {
        // As nmap showed: "Not shown: 66 closed tcp ports (conn-refused), 30 filtered tcp ports
        // (host-unreach), 3 filtered tcp ports (no-response)".
        let mut ports = Vec::new();
        for n in 1..=3 {
            ports.push(port(Protocol::Tcp, n, PortState::Filtered, Reason::NoResponse));
        }
        for n in 4..=69 {
            ports.push(port(Protocol::Tcp, n, PortState::Closed, Reason::ConnRefused));
        }
        for n in 70..=99 {
            ports.push(port(Protocol::Tcp, n, PortState::Filtered, Reason::HostUnreach));
        }
        let layout = PortLayout::new(&ports, CollapseRule::plain());
        let summary: Vec<_> = layout
            .folded
            .iter()
            .flat_map(|f| f.reasons.iter().map(move |r| (f.state, r.reason, r.ports.len())))
            .collect();
        assert_eq!(
            summary,
            [
                (PortState::Closed, Reason::ConnRefused, 66),
                (PortState::Filtered, Reason::HostUnreach, 30),
                (PortState::Filtered, Reason::NoResponse, 3),
            ]
        );
    }

    #[test]
    fn open_only_folds_small_states_but_keeps_unfiltered() {
        let ports = vec![
            port(Protocol::Tcp, 1, PortState::Filtered, Reason::NoResponse),
            port(Protocol::Tcp, 2, PortState::Unfiltered, Reason::Reset),
            port(Protocol::Tcp, 3, PortState::Closed, Reason::Reset),
            port(Protocol::Tcp, 4, PortState::Open, Reason::SynAck),
            port(Protocol::Udp, 5, PortState::OpenFiltered, Reason::NoResponse),
        ];
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(0, true)));
        let shown: Vec<_> = layout.shown.iter().map(|p| p.port).collect();
        assert_eq!(shown, [2, 4, 5]);
        let folded: Vec<_> = layout.folded.iter().map(|f| f.state).collect();
        assert_eq!(folded, [PortState::Closed, PortState::Filtered]);
    }

    #[test]
    fn very_verbose_never_folds_open_filtered() {
        let ports: Vec<_> =
            (1..=200).map(|n| port(Protocol::Udp, n, PortState::OpenFiltered, Reason::NoResponse)).collect();
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(1, false)));
        assert!(layout.shown.is_empty());
        let layout = PortLayout::new(&ports, CollapseRule::for_display(&display(3, false)));
        assert_eq!(layout.shown.len(), 200);
        let layout = PortLayout::new(&ports, CollapseRule::json_lines());
        assert_eq!(layout.shown.len(), 200);
    }
}
