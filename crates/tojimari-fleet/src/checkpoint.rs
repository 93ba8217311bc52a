//! A chunk's checkpoint (pure): how far a worker got, saved in the chunk's row now and then, so that a
//! worker taking the chunk over resumes instead of starting again.
//!
//! It holds the engine's state of the group being scanned (`GroupState` bytes: the hosts found up, every
//! answer so far; given back as the sweep's `prior`, none of that is probed again) and the reports of the
//! hosts of the chunk's groups already finished (they are not scanned again: the sweep starts at `group`).
//! Stored as JSON text (the same column type on SQLite and PostgreSQL), the state in hex.

use serde::{Deserialize, Serialize};
use tojimari_core::HostReport;

/// The checkpoint format this tojimari writes and reads.
pub const VERSION: u32 = 1;

/// A checkpoint longer than this is refused when read (a chunk's reports and one group's answers fit
/// well within it).
pub const MAX_BYTES: usize = 512 << 20;

/// How far a chunk got.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The group to start at: the one `state` belongs to, or the first not finished.
    pub group: u64,
    /// The engine's state of group `group` (`GroupState::to_bytes`), when it had begun.
    #[serde(with = "hex_bytes")]
    pub state: Option<Vec<u8>>,
    /// The reports of the hosts of the groups before `group` (within the chunk).
    pub hosts: Vec<HostReport>,
    /// Probes of the chunk sent so far (for progress).
    pub probes: u64,
}

/// Why a saved checkpoint cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint is {len} bytes, more than {MAX_BYTES}")]
    TooLong { len: usize },
    #[error("the checkpoint has format {found}, this tojimari reads {VERSION}")]
    Version { found: u32 },
    #[error("the checkpoint is damaged: {0}")]
    Damaged(String),
}

impl Checkpoint {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a checkpoint saved by [`Checkpoint::to_text`].
    pub fn from_text(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_BYTES {
            return Err(CheckpointError::TooLong { len: text.len() });
        }
        let cp: Checkpoint = serde_json::from_str(text).map_err(|e| CheckpointError::Damaged(e.to_string()))?;
        if cp.version != VERSION {
            return Err(CheckpointError::Version { found: cp.version });
        }
        Ok(cp)
    }
}

/// `Option<Vec<u8>>` as a hex string or null.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            None => s.serialize_none(),
            Some(b) => s.serialize_str(&b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        let Some(text) = text else { return Ok(None) };
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd number of hex digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| serde::de::Error::custom("not hex"))
            })
            .collect::<Result<Vec<u8>, D::Error>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let cp =
            Checkpoint { version: VERSION, group: 3, state: Some(vec![0, 1, 0xab, 0xff]), hosts: vec![], probes: 9 };
        let text = cp.to_text();
        assert!(text.contains("\"0001abff\""), "{text}");
        let back = Checkpoint::from_text(&text).unwrap();
        assert_eq!((back.group, back.state, back.probes), (3, Some(vec![0, 1, 0xab, 0xff]), 9));
        assert!(matches!(
            Checkpoint::from_text(&text.replace("0001abff", "0001abf")),
            Err(CheckpointError::Damaged(_))
        ));
        assert!(matches!(Checkpoint::from_text(&text.replace("0001abff", "zz")), Err(CheckpointError::Damaged(_))));
        assert!(matches!(Checkpoint::from_text("{"), Err(CheckpointError::Damaged(_))));
        let other = text.replace("\"version\":1", "\"version\":7");
        assert_eq!(Checkpoint::from_text(&other).unwrap_err(), CheckpointError::Version { found: 7 });
        let none = Checkpoint { version: VERSION, ..Checkpoint::default() };
        assert_eq!(Checkpoint::from_text(&none.to_text()).unwrap().state, None);
    }
}
