//! Which silent probes a retry pass sends again: retries where they can pay.
//!
//! A host that answered anything at all (a SYN/ACK, a reset, an ICMP error about one of its ports) is
//! retried in full: its silence is partial, so loss on the path is the likely cause and every silent
//! port gets its retries, as before. A host that has answered nothing is, on a sweep, almost always an
//! empty address or a host that drops everything; retrying all its ports would double the frames of a
//! sweep for nothing. Such a host is retried on a *sample* of its ports, in the first retry pass only. If
//! the sample (or anything else) answers, the host is heard from then on and the next passes retry it in
//! full, with as many retries as any answering host gets. If it stays silent, it is not retried again:
//! its ports keep their silence state. Loss on the path still shows up: a live host behind a lossy link
//! answers some of its sample, and anything of it that answers late makes it heard as well.
//!
//! The sample of a host is `size` consecutive port indices (wrapping) starting at an offset that depends
//! on the host, so neighbouring hosts sample different ports.

/// The sample is this share of a host's ports...
const SHARE: usize = 32;
/// ...but at least this many (all of them if there are fewer)...
const MIN_SIZE: usize = 3;
/// ...and at most this many.
const MAX_SIZE: usize = 128;

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
        match pass {
            0 => true,
            _ if heard => true,
            1 => {
                let start = host.wrapping_mul(0x9e37) % self.ports;
                (port + self.ports - start) % self.ports < self.size
            }
            _ => false,
        }
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
    fn a_silent_host_retries_a_sample_of_its_size_once() {
        for (ports, size) in [(1, 1), (3, 3), (4, 3), (10, 3), (100, 3), (1000, 31), (65535, 128)] {
            let s = RetrySample::new(ports);
            assert_eq!(s.size, size, "{ports} ports");
            for host in [0, 1, 77, 65535] {
                assert_eq!(sampled(&s, 1, host).len(), size, "{ports} ports, host {host}");
                for pass in 2..5 {
                    assert!(sampled(&s, pass, host).is_empty(), "{ports} ports, host {host}, pass {pass}");
                }
            }
        }
    }

    #[test]
    fn neighbours_sample_different_ports() {
        let s = RetrySample::new(100);
        let samples: std::collections::BTreeSet<Vec<usize>> = (0..8).map(|h| sampled(&s, 1, h)).collect();
        assert_eq!(samples.len(), 8, "{samples:?}");
    }
}
