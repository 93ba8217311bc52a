//! What one group of a raw run sends: the probes its selection picks ([`tojimari_core::sweep`]), in the
//! scan's order, and what a previous run already learnt about it ([`GroupState`]).
//!
//! Probes are numbered here as (host in group x port) per technique, the numbering of the probe space; the
//! passes number them (up host x port), so the picks are translated once discovery has said who is up.

use std::collections::HashMap;
use std::net::IpAddr;

use tojimari_core::Reason;
use tojimari_core::sweep::Space;

use super::RawScan;
use super::pass::PortPass;
use crate::connect::ScanTarget;
use crate::sweep::GroupState;

#[derive(Debug)]
pub(super) struct GroupPlan {
    /// Per technique: its number of ports.
    pub ports: Vec<usize>,
    /// The previous run's state of this group, when this run resumes it.
    pub prior: Option<GroupState>,
    /// Per host in group: whether a probe of it is picked (`None`: every probe is).
    pub wanted: Option<Vec<bool>>,
    /// Per technique: the picked (host in group x port) indices, in the scan's order (`None`: all).
    picks: Option<Vec<Vec<u32>>>,
    /// Host address -> host in group (the first, should a target be listed twice).
    index: HashMap<IpAddr, u32>,
    /// The prior run's discovery verdicts.
    verdicts: HashMap<u32, (bool, Reason)>,
    hosts: usize,
}

impl GroupPlan {
    pub fn new(cfg: &RawScan, g: u64, space: &Space, targets: &[ScanTarget]) -> GroupPlan {
        let n = targets.len();
        let ports: Vec<usize> = cfg.scans.iter().map(|(_, p)| p.len()).collect();
        let prior = cfg.sweep.prior.as_ref().filter(|p| p.group == g && p.hosts as usize == n).cloned();
        let selection = &cfg.sweep.selection;
        let picks = (!selection.is_everything()).then(|| space.picks(selection, g, n as u64));
        let wanted = picks.as_ref().map(|picks| {
            let mut wanted = vec![false; n];
            for (list, &count) in picks.iter().zip(&ports) {
                for &r in list {
                    wanted[r as usize / count] = true;
                }
            }
            wanted
        });
        let mut index = HashMap::with_capacity(n);
        for (i, t) in targets.iter().enumerate() {
            index.entry(t.addr).or_insert(i as u32);
        }
        let verdicts = prior
            .as_ref()
            .filter(|p| p.discovered)
            .map(|p| p.verdicts.iter().map(|&(h, up, reason)| (h, (up, reason))).collect())
            .unwrap_or_default();
        GroupPlan { ports, prior, wanted, picks, index, verdicts, hosts: n }
    }

    /// The group's number of hosts.
    pub fn hosts(&self) -> usize {
        self.hosts
    }

    /// The host in group of `addr` (one of the group's targets).
    pub fn host(&self, addr: IpAddr) -> u32 {
        self.index.get(&addr).copied().unwrap_or(0)
    }

    /// Whether the previous run found `addr` up, and why; `None` when it had not decided.
    pub fn verdict(&self, addr: IpAddr) -> Option<(bool, Reason)> {
        self.verdicts.get(self.index.get(&addr)?).copied()
    }

    /// Technique `t`'s picks as pass indices (`up_of`: host in group -> up host, `u32::MAX` when down), in
    /// the scan's order; `None` when every probe is picked.
    pub fn picks_of(&self, t: usize, up_of: &[u32]) -> Option<Vec<u32>> {
        let list = self.picks.as_ref()?.get(t)?;
        let ports = self.ports[t] as u32;
        Some(
            list.iter()
                .filter_map(|&r| {
                    let u = *up_of.get((r / ports) as usize)?;
                    (u != u32::MAX).then(|| u * ports + r % ports)
                })
                .collect(),
        )
    }

    /// Gives technique `t`'s pass the answers the previous run received (`up_hosts`: up host -> host in
    /// group).
    pub fn preset(&self, t: usize, pass: &PortPass, up_hosts: &[u32]) {
        let Some(words) = self.prior.as_ref().and_then(|p| p.answers.get(t)) else { return };
        let ports = self.ports[t];
        if words.len() != self.hosts * ports {
            return;
        }
        for (u, &h) in up_hosts.iter().enumerate() {
            for p in 0..ports {
                let w = words[h as usize * ports + p];
                if w != 0 {
                    pass.preset(u * ports + p, w);
                }
            }
        }
    }
}
