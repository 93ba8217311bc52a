//! tojimari's own account of its raw sender, read from the `note:` lines it prints on stderr with `-v`:
//!
//! ```text
//! note: raw sender: tx-ring (...) on N thread(s)
//! note: raw sender: sendmmsg (...) on N thread(s)
//! note: raw engine: P probes, F frames sent (X.XX per probe), R replies, D lost in the receive ring
//! ```
//!
//! Older binaries (a `--baseline`) print neither line; every figure is then absent and shown as `-`. A run
//! with several raw phases (e.g. `-sS -sU`) prints several engine lines: their counts are added up. Also the
//! frames-per-probe arithmetic of the benchmark table. Pure functions, no I/O.

/// The raw sender tojimari chose at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sender {
    /// PACKET_TX_RING frames filled in place.
    Ring,
    /// sendmmsg(2) batches (the fallback where the ring is refused).
    Mmsg,
}

impl Sender {
    /// The short name in the table.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Sender::Ring => "ring",
            Sender::Mmsg => "mmsg",
        }
    }
}

/// The figures of one run's `-v` notes; `None` where the line was not printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EngineNotes {
    /// Each sender reported, in order, without repeats.
    pub(crate) senders: Vec<Sender>,
    /// Sending threads of the last sender line.
    pub(crate) threads: Option<u32>,
    pub(crate) probes: Option<u64>,
    pub(crate) frames: Option<u64>,
    pub(crate) replies: Option<u64>,
    /// Replies lost in the receive ring (the kernel's drop count).
    pub(crate) ring_drops: Option<u64>,
}

impl EngineNotes {
    /// `ring`, `mmsg`, `ring+mmsg` when phases differed, `-` when no sender line was printed.
    pub(crate) fn sender_label(&self) -> String {
        if self.senders.is_empty() {
            return "-".into();
        }
        self.senders.iter().map(|s| s.short()).collect::<Vec<_>>().join("+")
    }

    /// The ring drops for the table, `-` when unknown.
    pub(crate) fn ring_drops_label(&self) -> String {
        self.ring_drops.map_or_else(|| "-".into(), |d| d.to_string())
    }
}

const SENDER_PREFIX: &str = "note: raw sender: ";
const ENGINE_PREFIX: &str = "note: raw engine: ";

/// Reads every sender and engine note in `stderr`; other lines are ignored.
pub(crate) fn parse_engine_notes(stderr: &str) -> EngineNotes {
    let mut notes = EngineNotes::default();
    for line in stderr.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix(SENDER_PREFIX) {
            let sender = match rest.split_whitespace().next() {
                Some("tx-ring") => Some(Sender::Ring),
                Some("sendmmsg") => Some(Sender::Mmsg),
                _ => None,
            };
            if let Some(s) = sender
                && !notes.senders.contains(&s)
            {
                notes.senders.push(s);
            }
            notes.threads = threads_of(rest).or(notes.threads);
        } else if let Some(rest) = line.strip_prefix(ENGINE_PREFIX) {
            for (count, word) in counted_words(rest) {
                let slot = match word {
                    "probes" => &mut notes.probes,
                    "frames" => &mut notes.frames,
                    "replies" => &mut notes.replies,
                    "lost" => &mut notes.ring_drops,
                    _ => continue,
                };
                *slot = Some(slot.unwrap_or(0).saturating_add(count));
            }
        }
    }
    notes
}

/// `... on 2 thread(s)` -> 2 (the number after the last " on ").
fn threads_of(rest: &str) -> Option<u32> {
    let (_, tail) = rest.rsplit_once(" on ")?;
    tail.split_whitespace().next()?.parse().ok()
}

/// Each number in `text` with the word that follows it: `12 probes, 24 frames sent` -> (12, "probes"),
/// (24, "frames"). Digit-group separators (`1,048,560`, `1_048_560`) are accepted; a number in parentheses
/// (`(1.00 per probe)`) is not an integer and is skipped.
fn counted_words(text: &str) -> Vec<(u64, &str)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .windows(2)
        .filter_map(|pair| {
            let digits: String = pair[0].chars().filter(|c| *c != ',' && *c != '_').collect();
            let count = digits.parse::<u64>().ok()?;
            let word = pair[1].trim_end_matches(|c: char| !c.is_ascii_alphabetic());
            Some((count, word))
        })
        .collect()
}

/// Frames on the wire per probe the scenario asks for; `None` when it asks for none.
pub(crate) fn frames_per_probe(frames: u64, probes: u64) -> Option<f64> {
    (probes > 0).then(|| frames as f64 / probes as f64)
}

/// Probes a scenario asks for: every port of every host (a TCP or UDP port list, no discovery).
pub(crate) fn probes_asked(hosts: u64, ports: u64) -> u64 {
    hosts.saturating_mul(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RING_RUN: &str = "warning: something else\n\
        note: raw sender: tx-ring (TPACKET_V2, 256 frames x 2048 B, qdisc bypass) on 2 thread(s)\n\
        note: raw engine: 65535 probes, 65837 frames sent (1.00 per probe), 65535 replies, 3 lost in the receive ring\n";

    #[test]
    fn reads_the_ring_sender_and_engine_counts() {
        let n = parse_engine_notes(RING_RUN);
        assert_eq!(n.senders, vec![Sender::Ring]);
        assert_eq!(n.sender_label(), "ring");
        assert_eq!(n.threads, Some(2));
        assert_eq!(n.probes, Some(65535));
        assert_eq!(n.frames, Some(65837));
        assert_eq!(n.replies, Some(65535));
        assert_eq!(n.ring_drops, Some(3));
        assert_eq!(n.ring_drops_label(), "3");
    }

    #[test]
    fn reads_the_sendmmsg_fallback() {
        let n = parse_engine_notes("note: raw sender: sendmmsg (ring refused: EPERM) on 1 thread(s)\n");
        assert_eq!(n.sender_label(), "mmsg");
        assert_eq!(n.threads, Some(1));
        assert_eq!(n.ring_drops, None);
    }

    #[test]
    fn an_older_binary_prints_no_notes() {
        let n = parse_engine_notes("note: 1 host up\nStarting tojimari\n");
        assert_eq!(n, EngineNotes::default());
        assert_eq!(n.sender_label(), "-");
        assert_eq!(n.ring_drops_label(), "-");
    }

    #[test]
    fn several_phases_add_up() {
        let text = "note: raw sender: tx-ring (x) on 2 thread(s)\n\
            note: raw engine: 10 probes, 12 frames sent (1.20 per probe), 9 replies, 0 lost in the receive ring\n\
            note: raw sender: sendmmsg (y) on 1 thread(s)\n\
            note: raw engine: 1,000 probes, 2_000 frames sent (2.00 per probe), 5 replies, 7 lost in the receive ring\n";
        let n = parse_engine_notes(text);
        assert_eq!(n.sender_label(), "ring+mmsg");
        assert_eq!(n.threads, Some(1));
        assert_eq!((n.probes, n.frames, n.replies, n.ring_drops), (Some(1010), Some(2012), Some(14), Some(7)));
    }

    #[test]
    fn an_unknown_sender_or_garbage_is_ignored() {
        let n = parse_engine_notes("note: raw sender: carrier-pigeon on many thread(s)\nnote: raw engine: lots\n");
        assert_eq!(n, EngineNotes::default());
    }

    #[test]
    fn frames_per_probe_divides_frames_by_asked_probes() {
        // syn-all: one host, 65535 ports, every silent probe retried once.
        assert_eq!(frames_per_probe(131_070, probes_asked(1, 65535)), Some(2.0));
        // sweep16: 65536 hosts x 100 ports.
        assert_eq!(probes_asked(65536, 100), 6_553_600);
        let f = frames_per_probe(12_900_000, probes_asked(65536, 100)).unwrap_or(0.0);
        assert!((f - 1.9684).abs() < 1e-4, "{f}");
        assert_eq!(frames_per_probe(10, 0), None);
    }
}
