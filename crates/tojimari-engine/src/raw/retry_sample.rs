//! Which silent probes a retry pass sends again: retries where they can pay.
//!
//! A host that answered anything at all (a SYN/ACK, a reset, an ICMP error about one of its ports) is
//! retried in full: its silence is partial, so loss on the path is the likely cause and every silent
//! port gets its retries, as before. A host that has answered nothing is, on a sweep, almost always an
//! empty address or a host that drops everything; retrying all its ports would double the frames of a
//! sweep for nothing. Such a host is retried on a *sample* of its ports first, a different window of
//! them in each retry pass. If the sample (or anything else) answers, the host is heard from then on and
//! the next pass retries it in full. Loss on the path still shows up: a live host behind a lossy link
//! answers some of its sample.
//!
//! The sample of a host is `size` consecutive port indices (wrapping) starting at an offset that depends
//! on the host and on the retry pass, so neighbouring hosts sample different ports and two retries of
//! the same host sample different ones.

/// The sample is this share of a host's ports...
const SHARE: usize = 16;
/// ...but at least this many (all of them if there are fewer)...
const MIN_SIZE: usize = 4;
/// ...and at most this many.
const MAX_SIZE: usize = 256;

/// The retry sampling of one pass (one technique over one host group).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RetrySample {
    ports: usize,
    size: usize,
}

impl RetrySample {
    /// The rule for hosts with `ports` ports each.
    pub fn new(ports: usize) -> Self {
        RetrySample { ports, size: (ports / SHARE).clamp(MIN_SIZE, MAX_SIZE).min(ports) }
    }

    /// Whether pass `pass` (0 = the first send) sends the probe of port index `port` of host `host`, still
    /// unanswered, when the host has (`heard`) or has not answered anything yet.
    pub fn wanted(&self, pass: u32, host: usize, port: usize, heard: bool) -> bool {
        if pass == 0 || heard || self.size >= self.ports {
            return true;
        }
        let start = (host.wrapping_mul(0x9e37) + (pass as usize - 1) * self.size) % self.ports;
        (port + self.ports - start) % self.ports < self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(s: &RetrySample, pass: u32, host: usize) -> Vec<usize> {
        (0..s.ports).filter(|&p| s.wanted(pass, host, p, false)).collect()
    }

    #[test]
    fn the_first_pass_and_heard_hosts_send_everything() {
        let s = RetrySample::new(100);
        for p in 0..100 {
            assert!(s.wanted(0, 3, p, false));
            assert!(s.wanted(1, 3, p, true));
            assert!(s.wanted(2, 3, p, true));
        }
    }

    #[test]
    fn a_silent_host_retries_a_sample_of_its_size() {
        for (ports, size) in [(1, 1), (3, 3), (4, 4), (10, 4), (100, 6), (1000, 62), (65535, 256)] {
            let s = RetrySample::new(ports);
            assert_eq!(s.size, size, "{ports} ports");
            for host in [0, 1, 77, 65535] {
                for pass in 1..4 {
                    assert_eq!(sampled(&s, pass, host).len(), size, "{ports} ports, host {host}, pass {pass}");
                }
            }
        }
    }

    #[test]
    fn retries_and_neighbours_sample_different_ports() {
        let s = RetrySample::new(100);
        let first = sampled(&s, 1, 5);
        let second = sampled(&s, 2, 5);
        assert!(first.iter().all(|p| !second.contains(p)), "{first:?} and {second:?} overlap");
        assert_ne!(sampled(&s, 1, 6), first);
        // Over enough retries every port of a silent host is sampled once.
        let all: std::collections::BTreeSet<usize> = (1..=17).flat_map(|pass| sampled(&s, pass, 5)).collect();
        assert_eq!(all.len(), 100);
    }
}
