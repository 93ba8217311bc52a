//! Which part of the probe space ([`tojimari_core::sweep`]) a run sends, and the state of a group that lets
//! a later run (a resumed scan, a fleet worker taking a chunk over) carry on where this one stopped.
//!
//! A [`GroupState`] is what one group has learnt: who is up (and why), and every answer so far, one word per
//! (host in group x port) per technique. Given back as [`Sweep::prior`], the group's up hosts are not pinged
//! again, answered probes are not sent again, and their answers are reported as if received in this run.
//! Probes that were sent without an answer are sent again: they were pending retries.

use std::fmt;

use tojimari_core::Reason;
use tojimari_core::sweep::{MAX_GROUP_HOSTS, MAX_GROUP_PROBES, Selection};

/// What a raw run sends: the selected probes, from group `start_group` on, the first of them resumed from
/// `prior` when it is that group's state.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    pub selection: Selection,
    pub start_group: u64,
    pub prior: Option<GroupState>,
    /// Hosts per group, when smaller than the engine's own choice ([`tojimari_core::sweep::Space::with_group_hosts`]):
    /// a fleet's chunks are whole groups.
    pub group_hosts: Option<u64>,
}

impl Sweep {
    /// Whether this run sends every probe from the start, with nothing to resume (the plain path).
    pub fn is_plain(&self) -> bool {
        self.selection.is_everything() && self.start_group == 0 && self.prior.is_none() && self.group_hosts.is_none()
    }
}

/// One group's state. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupState {
    /// The group's index in the scan.
    pub group: u64,
    /// The group's number of hosts.
    pub hosts: u32,
    /// Whether host discovery had finished: then `verdicts` holds every host of the group this run wanted.
    pub discovered: bool,
    /// (host in group, up, reason).
    pub verdicts: Vec<(u32, bool, Reason)>,
    /// Per technique, one word per (host in group x port), host-major; 0 = no answer. The words are the
    /// engine's own encoding of (state, reason, ttl).
    pub answers: Vec<Vec<u16>>,
}

/// Why bytes are not a [`GroupState`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(String);

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for StateError {}

const MAGIC: &[u8; 4] = b"TJGS";
const VERSION: u8 = 1;

impl GroupState {
    pub fn group(&self) -> u64 {
        self.group
    }

    /// Answers recorded (non-zero words).
    pub fn answered(&self) -> u64 {
        self.answers.iter().map(|w| w.iter().filter(|&&x| x != 0).count() as u64).sum()
    }

    /// A compact, versioned encoding: runs of unanswered probes are counted, not stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.group.to_le_bytes());
        out.extend_from_slice(&self.hosts.to_le_bytes());
        out.push(u8::from(self.discovered));
        varint(&mut out, self.verdicts.len() as u64);
        for &(h, up, reason) in &self.verdicts {
            varint(&mut out, u64::from(h));
            out.push(u8::from(up));
            out.push(reason_index(reason));
        }
        varint(&mut out, self.answers.len() as u64);
        for words in &self.answers {
            varint(&mut out, words.len() as u64);
            let mut i = 0;
            while i < words.len() {
                let zeros = words[i..].iter().take_while(|&&w| w == 0).count();
                i += zeros;
                let some = words[i..].iter().take_while(|&&w| w != 0).count();
                varint(&mut out, zeros as u64);
                varint(&mut out, some as u64);
                for w in &words[i..i + some] {
                    out.extend_from_slice(&w.to_le_bytes());
                }
                i += some;
            }
        }
        out
    }

    /// Reads [`GroupState::to_bytes`]; anything malformed, truncated, oversized or of another version is an
    /// error naming what is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<GroupState, StateError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(StateError("not a tojimari group state".into()));
        }
        let version = r.byte()?;
        if version != VERSION {
            return Err(StateError(format!("group state version {version}, this tojimari reads {VERSION}")));
        }
        let group = u64::from_le_bytes(r.take(8)?.try_into().unwrap_or_default());
        let hosts = u32::from_le_bytes(r.take(4)?.try_into().unwrap_or_default());
        if u64::from(hosts) > MAX_GROUP_HOSTS {
            return Err(StateError(format!("group of {hosts} hosts, more than a group holds")));
        }
        let discovered = match r.byte()? {
            0 => false,
            1 => true,
            other => return Err(StateError(format!("bad discovery flag {other}"))),
        };
        let n = r.count(u64::from(hosts), "host verdicts")?;
        let mut verdicts = Vec::with_capacity(n);
        for _ in 0..n {
            let h = r.varint()?;
            if h >= u64::from(hosts) {
                return Err(StateError(format!("verdict for host {h} of a group of {hosts}")));
            }
            let up = r.byte()? != 0;
            let reason = *Reason::ALL
                .get(usize::from(r.byte()?))
                .ok_or_else(|| StateError("unknown host discovery reason".into()))?;
            verdicts.push((h as u32, up, reason));
        }
        let techniques = r.count(16, "techniques")?;
        let mut answers = Vec::with_capacity(techniques);
        let mut total = 0u64;
        for _ in 0..techniques {
            let len = r.count(MAX_GROUP_PROBES - total, "answer words")?;
            total += len as u64;
            let mut words = Vec::with_capacity(len);
            while words.len() < len {
                let zeros = r.count((len - words.len()) as u64, "a run of unanswered probes")?;
                words.resize(words.len() + zeros, 0);
                let some = r.count((len - words.len()) as u64, "a run of answers")?;
                for _ in 0..some {
                    let w = u16::from_le_bytes(r.take(2)?.try_into().unwrap_or_default());
                    if w == 0 {
                        return Err(StateError("an empty answer inside a run of answers".into()));
                    }
                    words.push(w);
                }
                if zeros == 0 && some == 0 {
                    return Err(StateError("an empty run".into()));
                }
            }
            answers.push(words);
        }
        if r.at != bytes.len() {
            return Err(StateError(format!("{} bytes after the group state", bytes.len() - r.at)));
        }
        Ok(GroupState { group, hosts, discovered, verdicts, answers })
    }
}

fn reason_index(r: Reason) -> u8 {
    Reason::ALL.iter().position(|x| *x == r).unwrap_or(0) as u8
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], StateError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| StateError("group state cut short".into()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, StateError> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, StateError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(StateError("a number too long".into()))
    }

    /// A count of at most `max` things.
    fn count(&mut self, max: u64, what: &str) -> Result<usize, StateError> {
        let n = self.varint()?;
        if n > max {
            return Err(StateError(format!("{n} {what}, at most {max} expected")));
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GroupState {
        GroupState {
            group: 3,
            hosts: 4,
            discovered: true,
            verdicts: vec![(0, true, Reason::UserSet), (2, false, Reason::NoHostResponse)],
            answers: vec![vec![0, 0, 0x4105, 7, 0, 0, 0, 0], vec![], vec![1, 0, 0, 0, 0, 0, 0, 9]],
        }
    }

    #[test]
    fn round_trips() {
        let s = sample();
        assert_eq!(GroupState::from_bytes(&s.to_bytes()), Ok(s.clone()));
        assert_eq!(s.answered(), 4);
        let empty = GroupState::default();
        assert_eq!(GroupState::from_bytes(&empty.to_bytes()), Ok(empty));
    }

    #[test]
    fn malformed_bytes_are_errors_not_panics() {
        let good = sample().to_bytes();
        for cut in 0..good.len() {
            assert!(GroupState::from_bytes(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(GroupState::from_bytes(&longer).is_err());
        let mut other = good.clone();
        other[4] = 9;
        assert!(GroupState::from_bytes(&other).unwrap_err().to_string().contains("version 9"));
        // Flipping any byte never panics.
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0xff;
            let _ = GroupState::from_bytes(&b);
        }
        // A huge claimed count is refused before anything is allocated.
        let mut huge = good[..18].to_vec();
        varint(&mut huge, u64::MAX / 2);
        assert!(GroupState::from_bytes(&huge).is_err());
    }
}
