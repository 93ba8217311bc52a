//! The checkpoint file's format: what a paused scan needs to continue, and the checks that refuse a file
//! that is not one (pure: bytes in, values or a refusal out).
//!
//! # Format
//!
//! Two lines of UTF-8, the engine's state, and a checksum line:
//! ```text
//! tojimari-checkpoint 1
//! {"tojimari":"0.1.0","argv":["tojimari","scan","-sS","198.19.0.0/20"],...,"group_state":1234}
//! <1234 bytes: the engine's GroupState>
//! sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! ```
//! 1. The magic word and the format version ([`FORMAT`]), then `\n`.
//! 2. The [`Checkpoint`] as one JSON object, then `\n`; `group_state` is the length of the engine's state
//!    that follows (absent: none).
//! 3. That many bytes, as the engine's `GroupState::to_bytes` made them, then `\n`.
//! 4. `sha256 ` and the SHA-256 of everything before this line, in hex, then `\n`.
//!
//! A file is refused ([`Refusal`]) when it is not this format, of another format version, cut short (no third
//! line, or no final newline), edited (the checksum differs), larger than [`MAX_BYTES`], or written by another
//! tojimari version (the probe order and the journal's lines are only promised within one version).

use std::fmt;

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

/// The checkpoint format this tojimari writes and reads.
pub const FORMAT: u32 = 1;

/// The magic word that starts every checkpoint.
const MAGIC: &str = "tojimari-checkpoint";

/// A checkpoint is never larger: the engine's state of one group stays under 16 Mi answers.
pub const MAX_BYTES: u64 = 256 << 20;

/// What a paused scan needs to continue. See the [module documentation](self) for the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The tojimari version that wrote it.
    pub tojimari: String,
    /// The scan's arguments as first given (after `tojimari scan`): the resumed scan is planned from them.
    pub argv: Vec<String>,
    /// The seed the scan's random order was drawn from (stored also when it was chosen, not given); `None`
    /// for `-r`.
    pub seed: Option<u64>,
    /// The digest of what decides the probe space ([`crate::resume::space`]), in hex.
    pub space: String,
    /// When the scan first started (Unix milliseconds): the outputs' header keeps it.
    pub started_ms: i64,
    /// Time spent scanning in earlier runs, up to this checkpoint (milliseconds).
    pub elapsed_ms: u64,
    /// The output files, as `-oX PATH` (for the reader: the arguments decide them).
    pub outputs: Vec<String>,
    /// The scan in the result store that the resumed run continues, once it was begun.
    pub store: Option<StoreScan>,
    /// Groups finished: the resumed run starts at this group.
    pub groups_done: u64,
    /// The journal of the finished groups' hosts.
    pub journal: JournalMark,
    /// The engine's state of group `groups_done` when the checkpoint was taken (`GroupState` bytes), kept
    /// after the JSON line: the line has its length.
    #[serde(skip)]
    pub group_state: Option<Vec<u8>>,
}

/// The JSON line: the checkpoint, and the length of the state after it.
#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    checkpoint: Checkpoint,
    #[serde(skip_serializing_if = "Option::is_none", rename = "group_state")]
    state_len: Option<u64>,
}

/// The result store's scan a checkpoint continues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreScan {
    /// The store, as the scan named it (a path or a URL without its password).
    pub db: String,
    /// The scan's number in the store.
    pub scan: i64,
}

/// How much of the journal the finished groups fill: its length, its hosts, and the digest of those bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalMark {
    pub bytes: u64,
    pub hosts: u64,
    pub hosts_up: u64,
    pub hosts_down: u64,
    /// SHA-256 of the journal's first `bytes` bytes, in hex.
    pub sha256: String,
}

/// Why a checkpoint file is refused: one line for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotCheckpoint,
    OtherFormat(String),
    Truncated,
    Edited,
    TooLarge,
    OtherVersion(String),
    Malformed(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotCheckpoint => write!(f, "is not a tojimari checkpoint"),
            Refusal::OtherFormat(v) => {
                write!(f, "is of checkpoint format {v}; this tojimari reads format {FORMAT}")
            }
            Refusal::Truncated => write!(f, "is cut short (truncated)"),
            Refusal::Edited => write!(f, "was changed after it was written (its checksum does not match)"),
            Refusal::TooLarge => write!(f, "is larger than a checkpoint can be ({} MiB)", MAX_BYTES >> 20),
            Refusal::OtherVersion(v) => {
                write!(f, "was written by tojimari {v}; this is tojimari {}", env!("CARGO_PKG_VERSION"))
            }
            Refusal::Malformed(why) => write!(f, "is not a valid checkpoint: {why}"),
        }
    }
}

impl Checkpoint {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let line = Line { checkpoint: self.clone(), state_len: self.group_state.as_ref().map(|b| b.len() as u64) };
        // Serializing plain strings and numbers cannot fail.
        let body = serde_json::to_string(&line).unwrap_or_default();
        let mut out = format!("{MAGIC} {FORMAT}\n{body}\n").into_bytes();
        if let Some(state) = &self.group_state {
            out.extend_from_slice(state);
            out.push(b'\n');
        }
        let sum = hex(digest(&SHA256, &out).as_ref());
        out.extend_from_slice(format!("sha256 {sum}\n").as_bytes());
        out
    }

    /// Reads a checkpoint's bytes, refusing anything this tojimari did not write (see the module docs).
    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, Refusal> {
        if bytes.len() as u64 > MAX_BYTES {
            return Err(Refusal::TooLarge);
        }
        let Some(first_end) = bytes.iter().position(|&b| b == b'\n') else {
            let magic = format!("{MAGIC} ");
            let cut = magic.as_bytes().starts_with(bytes) || bytes.starts_with(magic.as_bytes());
            return Err(if cut { Refusal::Truncated } else { Refusal::NotCheckpoint });
        };
        let Some(version) = std::str::from_utf8(&bytes[..first_end]).ok().and_then(|l| l.strip_prefix(MAGIC)) else {
            return Err(Refusal::NotCheckpoint);
        };
        let version = version.trim();
        if version != FORMAT.to_string() {
            return Err(Refusal::OtherFormat(version.chars().take(20).collect()));
        }
        // The checksum line is the last; everything before it is signed.
        let Some(without_end) = bytes.strip_suffix(b"\n") else { return Err(Refusal::Truncated) };
        let sum_start = without_end.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let (signed, sum_line) = bytes.split_at(sum_start);
        let sum_line = &sum_line[..sum_line.len() - 1];
        let sum = match sum_line.strip_prefix(b"sha256 ") {
            Some(sum) if sum.len() == 64 && sum_start > first_end => sum,
            Some(sum) if sum.len() < 64 => return Err(Refusal::Truncated),
            // A checksum line run into the line before it: a newline was edited away.
            _ if sum_line.len() > 71 && sum_line[sum_line.len() - 71..].starts_with(b"sha256 ") => {
                return Err(Refusal::Edited);
            }
            // A cut inside the JSON line or the state: what ends the file is not a checksum line.
            _ => return Err(Refusal::Truncated),
        };
        if sum != hex(digest(&SHA256, signed).as_ref()).as_bytes() {
            return Err(Refusal::Edited);
        }
        let rest = &signed[first_end + 1..];
        let body_end = rest.iter().position(|&b| b == b'\n').ok_or(Refusal::Truncated)?;
        let line: Line = serde_json::from_slice(&rest[..body_end]).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let state = &rest[body_end + 1..];
        let mut checkpoint = line.checkpoint;
        checkpoint.group_state = match line.state_len {
            None if state.is_empty() => None,
            Some(len) if state.len() as u64 == len + 1 && state.ends_with(b"\n") => {
                Some(state[..state.len() - 1].to_vec())
            }
            _ => return Err(Refusal::Malformed("the engine state's length is not what the checkpoint says".into())),
        };
        if checkpoint.tojimari != env!("CARGO_PKG_VERSION") {
            return Err(Refusal::OtherVersion(checkpoint.tojimari.chars().take(40).collect()));
        }
        Ok(checkpoint)
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            tojimari: env!("CARGO_PKG_VERSION").into(),
            argv: vec!["-sS".into(), "-p".into(), "1-100".into(), "198.19.0.0/20".into()],
            seed: Some(42),
            space: "ab".repeat(32),
            started_ms: 1_795_311_431_000,
            elapsed_ms: 5_000,
            outputs: vec!["-oX out.xml".into()],
            store: Some(StoreScan { db: "/tmp/x.db".into(), scan: 3 }),
            groups_done: 7,
            journal: JournalMark { bytes: 1234, hosts: 56, hosts_up: 50, hosts_down: 6, sha256: "cd".repeat(32) },
            group_state: Some(vec![1, 2, 3, b'\n', 255]),
        }
    }

    #[test]
    fn a_checkpoint_reads_back_as_written() {
        let c = sample();
        let bytes = c.encode();
        assert!(bytes.starts_with(b"tojimari-checkpoint 1\n{"));
        assert_eq!(Checkpoint::decode(&bytes), Ok(c.clone()));
        let none = Checkpoint { group_state: None, ..c };
        assert_eq!(Checkpoint::decode(&none.encode()), Ok(none));
    }

    #[test]
    fn every_cut_is_refused_as_truncated() {
        let bytes = sample().encode();
        for len in 1..bytes.len() {
            let got = Checkpoint::decode(&bytes[..len]);
            // A cut that happens to end in a newline and a checksum-looking line cannot occur: the
            // checksum is the last line, and a cut before it leaves none.
            assert_eq!(got, Err(Refusal::Truncated), "cut at {len}");
        }
        assert_eq!(Checkpoint::decode(b""), Err(Refusal::Truncated));
    }

    #[test]
    fn any_changed_byte_of_the_body_is_caught() {
        let bytes = sample().encode();
        let body = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let end = bytes.len() - 72;
        for i in body..end {
            let mut edited = bytes.clone();
            edited[i] ^= 0x01;
            assert_eq!(Checkpoint::decode(&edited), Err(Refusal::Edited), "byte {i}");
        }
        // groups_done 7 -> 9 with the old checksum.
        let text = String::from_utf8(Checkpoint { group_state: None, ..sample() }.encode())
            .unwrap()
            .replace("\"groups_done\":7", "\"groups_done\":9");
        assert_eq!(Checkpoint::decode(text.as_bytes()), Err(Refusal::Edited));
    }

    #[test]
    fn another_format_or_version_is_refused_by_name() {
        let text = String::from_utf8(Checkpoint { group_state: None, ..sample() }.encode()).unwrap();
        let other = text.replacen("tojimari-checkpoint 1", "tojimari-checkpoint 2", 1);
        assert_eq!(Checkpoint::decode(other.as_bytes()), Err(Refusal::OtherFormat("2".into())));
        let old = Checkpoint { tojimari: "0.0.1".into(), ..sample() };
        assert_eq!(Checkpoint::decode(&old.encode()), Err(Refusal::OtherVersion("0.0.1".into())));
        assert!(Refusal::OtherVersion("0.0.1".into()).to_string().contains("tojimari 0.0.1"));
        assert_eq!(Checkpoint::decode(b"<?xml version=\"1.0\"?>\n"), Err(Refusal::NotCheckpoint));
    }

    #[test]
    fn a_too_large_file_is_refused_before_it_is_read() {
        let big = vec![b'x'; MAX_BYTES as usize + 1];
        assert_eq!(Checkpoint::decode(&big), Err(Refusal::TooLarge));
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
