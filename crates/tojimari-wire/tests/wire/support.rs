//! The corpus of real frames (`tests/corpus/frames.txt`, written by `capture_corpus.rs`), for the corpus and
//! property tests.

/// How a corpus frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II.
    Ethernet,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
}

/// One frame and tcpdump's reading of it.
#[allow(dead_code)] // each test binary reads the fields it needs
#[derive(Debug, Clone)]
pub struct Entry {
    pub link: Link,
    pub tcpdump: String,
    pub bytes: Vec<u8>,
}

/// Every frame of the corpus, in file order.
pub fn corpus() -> Vec<Entry> {
    let text = include_str!("../corpus/frames.txt");
    let mut entries = Vec::new();
    let mut comment = String::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("# ") {
            comment = c.to_owned();
            continue;
        }
        let (link, hex) = line.split_once(' ').expect("LINK HEX");
        let link = match link {
            "eth" => Link::Ethernet,
            "sll" => Link::Sll,
            "sll2" => Link::Sll2,
            other => panic!("unknown link {other}"),
        };
        let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        entries.push(Entry { link, tcpdump: std::mem::take(&mut comment), bytes });
    }
    entries
}
