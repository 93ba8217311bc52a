//! The group a raw run is scanning, published through [`crate::Control`] so that another thread (a resumable
//! run's checkpoint writer, a fleet worker's heartbeat) can take its [`GroupState`] at any moment.

use std::sync::{Arc, Mutex};

use tojimari_core::Reason;

use super::pass::PortPass;
use crate::control::Live;
use crate::sweep::GroupState;

#[derive(Debug)]
pub(super) struct LiveGroup {
    group: u64,
    hosts: u32,
    /// Per technique (the scan's order): its number of ports.
    ports: Vec<usize>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    discovered: bool,
    verdicts: Vec<(u32, bool, Reason)>,
    /// The passes' host index -> host in group.
    up: Vec<u32>,
    passes: Vec<Option<Arc<PortPass>>>,
    prior: Option<GroupState>,
}

impl LiveGroup {
    pub fn new(group: u64, hosts: u32, ports: Vec<usize>, prior: Option<GroupState>) -> Self {
        let passes = vec![None; ports.len()];
        LiveGroup { group, hosts, ports, state: Mutex::new(State { passes, prior, ..State::default() }) }
    }

    /// Discovery is over: who is up or down, and the passes' hosts (in group numbering).
    pub fn discovered(&self, verdicts: Vec<(u32, bool, Reason)>, up: Vec<u32>) {
        if let Ok(mut s) = self.state.lock() {
            s.discovered = true;
            s.verdicts = verdicts;
            s.up = up;
        }
    }

    /// Technique `technique`'s pass has started.
    pub fn pass(&self, technique: usize, pass: Arc<PortPass>) {
        if let Ok(mut s) = self.state.lock()
            && let Some(slot) = s.passes.get_mut(technique)
        {
            *slot = Some(pass);
        }
    }
}

impl Live for LiveGroup {
    fn snapshot(&self) -> GroupState {
        let Ok(s) = self.state.lock() else { return GroupState { group: self.group, ..GroupState::default() } };
        let (discovered, verdicts) = match (&s.prior, s.discovered) {
            (_, true) => (true, s.verdicts.clone()),
            (Some(p), false) if p.discovered && p.group == self.group => (true, p.verdicts.clone()),
            _ => (false, Vec::new()),
        };
        let hosts = self.hosts as usize;
        let answers = self
            .ports
            .iter()
            .enumerate()
            .map(|(t, &ports)| {
                let len = hosts * ports;
                let mut words = s
                    .prior
                    .as_ref()
                    .filter(|p| p.group == self.group)
                    .and_then(|p| p.answers.get(t))
                    .filter(|w| w.len() == len)
                    .cloned()
                    .unwrap_or_else(|| vec![0; len]);
                if let Some(pass) = &s.passes[t] {
                    for (u, &h) in s.up.iter().enumerate() {
                        for p in 0..ports {
                            if let Some(w) = pass.results.word(u * ports + p) {
                                words[h as usize * ports + p] = w;
                            }
                        }
                    }
                }
                words
            })
            .collect();
        GroupState { group: self.group, hosts: self.hosts, discovered, verdicts, answers }
    }
}
