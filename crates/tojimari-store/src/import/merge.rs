//! Shard files merged into one scan: which files belong together ([`ShardSet`]) and the union of their hosts
//! ([`Merger`]).
//!
//! A scan split with `--shard I/N --seed S` (by a Kubernetes Indexed Job, GNU parallel, ssh) leaves one result
//! file per shard; each file's command line (nmap XML's `args`, the JSON Lines run record) says its shard and
//! seed. The files make one scan when they agree on everything that decides what is probed: the same seed,
//! the same `N`, the same options and targets once `--shard` and the options that only say where results go
//! or how a machine sends ([`PER_MACHINE`]) are set aside, and no shard twice. Shards not given are reported
//! as missing ([`ShardSet::missing`]); the rest still merge.
//!
//! The union: a host in several files is one host, up when any file says up, with every port any file has
//! (a port in two files, which disjoint shards never give, keeps the first file's answer). Memory is the
//! merged hosts, bounded by the number of ports held ([`Merger::new`]).

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tojimari_core::report::{HostReport, HostState, RunExit, RunSummary};
use tojimari_core::sweep::Shard;

/// Options that differ from machine to machine without changing what is probed: where results go (`-o*`),
/// how much is said (`-v`, `-d`, progress), the local interface and source address, and the store a shard
/// records in. Set aside before the shards' command lines are compared. The `bool` says whether the
/// option takes the next word as its value.
pub const PER_MACHINE: &[(&str, bool)] = &[
    ("-oN", true),
    ("-oX", true),
    ("-oG", true),
    ("-oJ", true),
    ("-oA", true),
    ("--output-normal", true),
    ("--output-xml", true),
    ("--output-grepable", true),
    ("--output-json", true),
    ("--output-all", true),
    ("-e", true),
    ("-S", true),
    ("--db", true),
    ("--record", false),
    ("--stats-every", true),
    ("--no-progress", false),
    ("-v", false),
    ("-vv", false),
    ("-d", false),
];

/// What one file's command line says about its shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardFile {
    /// The file's name, for messages.
    pub name: String,
    pub shard: Shard,
    /// `--seed`'s value, `None` when the command line has none.
    pub seed: Option<u64>,
    /// The command line without its program name, `--shard` and the [`PER_MACHINE`] options: what must be
    /// the same in every shard of one scan.
    pub scan: Vec<String>,
    /// The command line without `--shard` (and its per-machine options): the unsharded scan's, as the merged
    /// scan records it.
    pub whole: String,
}

/// Why files cannot be merged into one scan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("{file} is not a shard of a scan: its command line has no --shard")]
    NotAShard { file: String },
    #[error("{file}: {what}")]
    BadShard { file: String, what: String },
    #[error("{file} does not say its seed: shards without --seed may each have drawn their own order")]
    NoSeed { file: String },
    #[error("{file} has seed {seed} but {other} has seed {other_seed}: they are shards of different scans")]
    SeedDiffers { file: String, seed: String, other: String, other_seed: String },
    #[error("{file} is shard {shard} but {other} is shard {other_shard}: shards of one scan share N")]
    CountDiffers { file: String, shard: Shard, other: String, other_shard: Shard },
    #[error("{file} and {other} are both shard {shard}")]
    SameShard { file: String, other: String, shard: Shard },
    #[error("{file} and {other} differ in more than their shard: `{words}` against `{other_words}`")]
    OptionsDiffer { file: String, other: String, words: String, other_words: String },
    #[error("the merged scan would hold more than {limit} ports")]
    TooLarge { limit: usize },
}

impl MergeError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            MergeError::NotAShard { .. } => {
                "several files are merged only when they are the shards of one scan; import each alone"
            }
            MergeError::BadShard { .. } => "the file's command line is damaged",
            MergeError::NoSeed { .. } => "run every shard with the same --seed S (or -r)",
            MergeError::SeedDiffers { .. } | MergeError::CountDiffers { .. } | MergeError::OptionsDiffer { .. } => {
                "give the files of one sharded scan: the same command line but for --shard I/N and the outputs"
            }
            MergeError::SameShard { .. } => "give each shard's file once",
            MergeError::TooLarge { .. } => "import the shards one by one, as separate scans",
        }
    }
}

impl ShardFile {
    /// Reads the shard from a file's command line (`args`); `name` is the file's, for messages.
    pub fn parse(name: &str, args: &str) -> Result<ShardFile, MergeError> {
        let words = split_words(args);
        let mut shard = None;
        let mut seed = None;
        let mut scan = Vec::new();
        let mut whole = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = &words[i];
            let (option, inline) = match word.split_once('=') {
                Some((o, v)) if o.starts_with("--") => (o, Some(v.to_string())),
                _ => (word.as_str(), None),
            };
            let takes_value =
                matches!(option, "--shard" | "--seed") || PER_MACHINE.iter().any(|(o, value)| *o == option && *value);
            let value = if takes_value && inline.is_none() {
                i += 1;
                words.get(i).cloned()
            } else {
                inline
            };
            i += 1;
            let bad = |what: String| MergeError::BadShard { file: name.into(), what };
            match option {
                "--shard" => {
                    let text = value.ok_or_else(|| bad("--shard has no value".into()))?;
                    shard = Some(Shard::parse(&text).map_err(bad)?);
                    continue;
                }
                "--seed" => {
                    let text = value.clone().ok_or_else(|| bad("--seed has no value".into()))?;
                    seed = Some(text.parse::<u64>().map_err(|_| bad(format!("--seed {text:?} is not a number")))?);
                }
                _ if PER_MACHINE.iter().any(|(o, _)| *o == option) => continue,
                _ => {}
            }
            // Kept: in the comparison (but for the program name) and in the whole scan's command line.
            let kept: Vec<String> = match (option, value) {
                (o, Some(v)) if word.contains('=') => vec![format!("{o}={v}")],
                (o, Some(v)) => vec![o.to_string(), v],
                (o, None) => vec![o.to_string()],
            };
            if whole.is_empty() {
                whole.extend(kept);
            } else {
                scan.extend(kept.iter().cloned());
                whole.extend(kept);
            }
        }
        let shard = shard.ok_or_else(|| MergeError::NotAShard { file: name.into() })?;
        if seed.is_none() && !scan.iter().any(|w| w == "-r") {
            return Err(MergeError::NoSeed { file: name.into() });
        }
        Ok(ShardFile { name: name.into(), shard, seed, scan, whole: join_words(&whole) })
    }
}

/// The shards of one scan, checked to belong together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSet {
    /// `N`.
    pub count: u64,
    pub seed: Option<u64>,
    /// The unsharded scan's command line.
    pub whole: String,
    /// The shards given, in the files' order.
    pub shards: Vec<Shard>,
}

impl ShardSet {
    /// Checks that `files` are distinct shards of one scan. The first disagreement found is the error.
    pub fn check(files: &[ShardFile]) -> Result<ShardSet, MergeError> {
        let Some(first) = files.first() else {
            return Ok(ShardSet { count: 1, seed: None, whole: String::new(), shards: Vec::new() });
        };
        let mut seen: BTreeMap<u64, &ShardFile> = BTreeMap::new();
        for file in files {
            if file.seed != first.seed {
                let show = |s: Option<u64>| s.map_or_else(|| "none".to_string(), |s| s.to_string());
                return Err(MergeError::SeedDiffers {
                    file: file.name.clone(),
                    seed: show(file.seed),
                    other: first.name.clone(),
                    other_seed: show(first.seed),
                });
            }
            if file.shard.count != first.shard.count {
                return Err(MergeError::CountDiffers {
                    file: file.name.clone(),
                    shard: file.shard,
                    other: first.name.clone(),
                    other_shard: first.shard,
                });
            }
            if file.scan != first.scan {
                return Err(MergeError::OptionsDiffer {
                    file: file.name.clone(),
                    other: first.name.clone(),
                    words: join_words(&file.scan),
                    other_words: join_words(&first.scan),
                });
            }
            if let Some(other) = seen.insert(file.shard.index, file) {
                return Err(MergeError::SameShard {
                    file: file.name.clone(),
                    other: other.name.clone(),
                    shard: file.shard,
                });
            }
        }
        Ok(ShardSet {
            count: first.shard.count,
            seed: first.seed,
            whole: first.whole.clone(),
            shards: files.iter().map(|f| f.shard).collect(),
        })
    }

    /// The shards of `1..=N` no file gave, in order.
    pub fn missing(&self) -> Vec<Shard> {
        (1..=self.count)
            .filter(|i| !self.shards.iter().any(|s| s.index == *i))
            .map(|index| Shard { index, count: self.count })
            .collect()
    }
}

/// The union of the shards' hosts and summaries.
#[derive(Debug)]
pub struct Merger {
    hosts: BTreeMap<IpAddr, HostReport>,
    ports: usize,
    max_ports: usize,
    start: Option<SystemTime>,
    end: Option<SystemTime>,
    exit: Option<RunExit>,
    repeated_ports: u64,
}

impl Merger {
    /// A merger that refuses to hold more than `max_ports` ports (over all hosts; a host without ports
    /// counts one).
    pub fn new(max_ports: usize) -> Merger {
        Merger { hosts: BTreeMap::new(), ports: 0, max_ports, start: None, end: None, exit: None, repeated_ports: 0 }
    }

    /// Adds one file's report of a host.
    pub fn add_host(&mut self, host: HostReport) -> Result<(), MergeError> {
        let weight = host.ports.len().max(1);
        if self.ports.saturating_add(weight) > self.max_ports {
            return Err(MergeError::TooLarge { limit: self.max_ports });
        }
        self.ports += weight;
        match self.hosts.entry(host.addr) {
            Entry::Vacant(slot) => {
                slot.insert(host);
            }
            Entry::Occupied(mut slot) => self.repeated_ports += union(slot.get_mut(), host),
        }
        Ok(())
    }

    /// Adds one file's run: when it started, and its summary when the file has one (`None`: cut short).
    pub fn add_run(&mut self, start: Option<SystemTime>, summary: Option<&RunSummary>) {
        if let Some(start) = start.filter(|t| *t > UNIX_EPOCH) {
            self.start = Some(self.start.map_or(start, |s| s.min(start)));
        }
        let exit = match summary {
            Some(summary) => {
                self.end = Some(self.end.map_or(summary.end, |e| e.max(summary.end)));
                summary.exit.clone()
            }
            None => RunExit::Error("a shard's file was cut short".into()),
        };
        // The merged run succeeded when every shard did; else it says the first shard's failure.
        if !matches!(self.exit, Some(ref e) if *e != RunExit::Success) {
            self.exit = Some(exit);
        }
    }

    /// Ports two files both had (disjoint shards give none): the first file's answer was kept.
    pub fn repeated_ports(&self) -> u64 {
        self.repeated_ports
    }

    /// The earliest start of any shard.
    pub fn start(&self) -> Option<SystemTime> {
        self.start
    }

    /// The merged hosts in address order, and the merged run's summary.
    pub fn finish(self) -> (Vec<HostReport>, RunSummary) {
        let hosts: Vec<HostReport> = self.hosts.into_values().collect();
        let up = hosts.iter().filter(|h| h.state != HostState::Down).count() as u64;
        let down = hosts.len() as u64 - up;
        let end = self.end.or(hosts.iter().map(|h| h.end).max()).unwrap_or(UNIX_EPOCH);
        let start = self.start.unwrap_or(end);
        let summary = RunSummary {
            end,
            elapsed: end.duration_since(start).unwrap_or(Duration::ZERO),
            hosts_up: up,
            hosts_down: down,
            hosts_total: up + down,
            exit: self.exit.unwrap_or(RunExit::Success),
        };
        (hosts, summary)
    }
}

/// Folds `other` (the same address) into `host`; returns how many of `other`'s ports `host` already had.
fn union(host: &mut HostReport, other: HostReport) -> u64 {
    if host.state == HostState::Down && other.state != HostState::Down {
        host.state = other.state;
        host.state_reason = other.state_reason;
        host.state_reason_ttl = other.state_reason_ttl;
    }
    for name in other.hostnames {
        if !host.hostnames.contains(&name) {
            host.hostnames.push(name);
        }
    }
    let mut repeated = 0;
    let mut ports = std::mem::take(&mut host.ports);
    for port in other.ports {
        if ports.iter().any(|p| p.proto == port.proto && p.port == port.port) {
            repeated += 1;
        } else {
            ports.push(port);
        }
    }
    ports.sort_by_key(|p| (p.proto, p.port));
    host.ports = ports;
    host.start = host.start.min(other.start);
    host.end = host.end.max(other.end);
    host.times = host.times.take().or(other.times);
    host.complete &= other.complete;
    host.timed_out |= other.timed_out;
    host.os = host.os.take().or(other.os);
    host.trace = host.trace.take().or(other.trace);
    repeated
}

/// The words of a command line as tojimari writes it (single quotes around words with other characters).
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !quoted => {
                word.extend(chars.next());
                in_word = true;
            }
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

fn join_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:,=@%+[]".contains(c)) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for ShardSet {
    /// `shards 1/3, 3/3 of seed 42`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shards: Vec<String> = self.shards.iter().map(ToString::to_string).collect();
        write!(f, "shard{} {}", if shards.len() == 1 { "" } else { "s" }, shards.join(", "))?;
        match self.seed {
            Some(seed) => write!(f, " of seed {seed}"),
            None => f.write_str(" in order (-r)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tojimari_core::Protocol;
    use tojimari_core::report::PortResult;
    use tojimari_core::state::{PortState, Reason};

    use super::*;

    fn file(name: &str, args: &str) -> ShardFile {
        ShardFile::parse(name, args).unwrap()
    }

    const LINE: &str = "tojimari scan -sS -p 22,80 --shard 2/3 --seed 42 -oX /out/shard-2.xml 198.18.0.0/24";

    #[test]
    fn a_shard_files_command_line() {
        let f = file("b.xml", LINE);
        assert_eq!(f.shard, Shard { index: 2, count: 3 });
        assert_eq!(f.seed, Some(42));
        assert_eq!(f.scan, ["scan", "-sS", "-p", "22,80", "--seed", "42", "198.18.0.0/24"]);
        assert_eq!(f.whole, "tojimari scan -sS -p 22,80 --seed 42 198.18.0.0/24");
        let g = file(
            "c.xml",
            "/usr/bin/tojimari scan -sS -p 22,80 --shard=3/3 --seed=42 -v -e veth0 -oJ 'x y' 198.18.0.0/24",
        );
        assert_eq!(g.shard, Shard { index: 3, count: 3 });
        assert_eq!(g.scan, ["scan", "-sS", "-p", "22,80", "--seed=42", "198.18.0.0/24"]);
    }

    #[test]
    fn command_lines_that_are_not_shards() {
        let err = ShardFile::parse("a.xml", "nmap -p 22 198.18.0.1").unwrap_err();
        assert_eq!(err, MergeError::NotAShard { file: "a.xml".into() });
        assert!(matches!(
            ShardFile::parse("a.xml", "tojimari scan --shard 4/3 --seed 1 x"),
            Err(MergeError::BadShard { .. })
        ));
        assert!(matches!(
            ShardFile::parse("a.xml", "tojimari scan --shard 1/3 --seed x y"),
            Err(MergeError::BadShard { .. })
        ));
        assert!(matches!(ShardFile::parse("a.xml", "tojimari scan y --shard"), Err(MergeError::BadShard { .. })));
        assert_eq!(
            ShardFile::parse("a.xml", "tojimari scan --shard 1/3 y"),
            Err(MergeError::NoSeed { file: "a.xml".into() })
        );
        assert_eq!(file("a.xml", "tojimari scan -r --shard 1/3 y").seed, None);
    }

    fn shard(i: u64, n: u64, seed: u64) -> ShardFile {
        file(
            &format!("s{i}.xml"),
            &format!("tojimari scan -p 80 --shard {i}/{n} --seed {seed} -oX s{i}.xml 198.18.0.0/24"),
        )
    }

    #[test]
    fn shards_of_one_scan_agree() {
        let set = ShardSet::check(&[shard(3, 3, 7), shard(1, 3, 7)]).unwrap();
        assert_eq!(set.count, 3);
        assert_eq!(set.missing(), [Shard { index: 2, count: 3 }]);
        assert_eq!(set.whole, "tojimari scan -p 80 --seed 7 198.18.0.0/24");
        assert_eq!(set.to_string(), "shards 3/3, 1/3 of seed 7");
        assert!(ShardSet::check(&[shard(1, 2, 7), shard(2, 2, 7)]).unwrap().missing().is_empty());
    }

    #[test]
    fn shards_that_disagree_are_refused() {
        assert!(matches!(ShardSet::check(&[shard(1, 3, 7), shard(2, 3, 8)]), Err(MergeError::SeedDiffers { .. })));
        assert!(matches!(ShardSet::check(&[shard(1, 3, 7), shard(2, 4, 7)]), Err(MergeError::CountDiffers { .. })));
        let err = ShardSet::check(&[shard(1, 3, 7), shard(1, 3, 7)]).unwrap_err();
        assert_eq!(
            err,
            MergeError::SameShard {
                file: "s1.xml".into(),
                other: "s1.xml".into(),
                shard: Shard { index: 1, count: 3 }
            }
        );
        let other = file("o.xml", "tojimari scan -p 81 --shard 2/3 --seed 7 198.18.0.0/24");
        let err = ShardSet::check(&[shard(1, 3, 7), other]).unwrap_err();
        assert!(err.to_string().contains("`scan -p 81 --seed 7 198.18.0.0/24` against `scan -p 80"), "{err}");
    }

    fn host(last: u8, state: HostState, ports: &[u16]) -> HostReport {
        HostReport {
            addr: IpAddr::V4(Ipv4Addr::new(198, 18, 0, last)),
            hostnames: Vec::new(),
            state,
            state_reason: Reason::SynAck,
            state_reason_ttl: 64,
            ports: ports.iter().map(|p| PortResult::new(Protocol::Tcp, *p, PortState::Open, Reason::SynAck)).collect(),
            start: UNIX_EPOCH,
            end: UNIX_EPOCH,
            times: None,
            complete: true,
            timed_out: false,
            os: None,
            trace: None,
        }
    }

    #[test]
    fn hosts_are_united() {
        let mut m = Merger::new(100);
        m.add_host(host(2, HostState::Down, &[])).unwrap();
        m.add_host(host(1, HostState::Up, &[443, 22])).unwrap();
        m.add_host(host(1, HostState::Up, &[80, 22])).unwrap();
        m.add_host(host(2, HostState::Up, &[8080])).unwrap();
        m.add_host(host(3, HostState::Down, &[])).unwrap();
        assert_eq!(m.repeated_ports(), 1);
        let (hosts, summary) = m.finish();
        let got: Vec<(String, HostState, Vec<u16>)> =
            hosts.iter().map(|h| (h.addr.to_string(), h.state, h.ports.iter().map(|p| p.port).collect())).collect();
        assert_eq!(
            got,
            [
                ("198.18.0.1".into(), HostState::Up, vec![22, 80, 443]),
                ("198.18.0.2".into(), HostState::Up, vec![8080]),
                ("198.18.0.3".into(), HostState::Down, vec![])
            ]
        );
        assert_eq!((summary.hosts_up, summary.hosts_down, summary.hosts_total), (2, 1, 3));
    }

    #[test]
    fn the_merge_is_bounded() {
        let mut m = Merger::new(3);
        m.add_host(host(1, HostState::Up, &[1, 2])).unwrap();
        assert_eq!(m.add_host(host(2, HostState::Up, &[1, 2])), Err(MergeError::TooLarge { limit: 3 }));
    }

    #[test]
    fn the_run_is_from_the_first_start_to_the_last_end_and_fails_if_a_shard_did() {
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        let summary = |end: u64, exit: RunExit| RunSummary {
            end: t(end),
            elapsed: Duration::ZERO,
            hosts_up: 0,
            hosts_down: 0,
            hosts_total: 0,
            exit,
        };
        let mut m = Merger::new(10);
        m.add_run(Some(t(100)), Some(&summary(150, RunExit::Success)));
        m.add_run(Some(t(90)), Some(&summary(170, RunExit::Success)));
        assert_eq!(m.start(), Some(t(90)));
        let (_, s) = m.finish();
        assert_eq!((s.end, s.elapsed, s.exit), (t(170), Duration::from_secs(80), RunExit::Success));
        let mut m = Merger::new(10);
        m.add_run(Some(t(100)), Some(&summary(150, RunExit::Success)));
        m.add_run(Some(t(100)), None);
        m.add_run(Some(t(100)), Some(&summary(150, RunExit::Success)));
        assert_eq!(m.finish().1.exit, RunExit::Error("a shard's file was cut short".into()));
    }

    #[test]
    fn words_round_trip() {
        let words = ["tojimari", "-oX", "a b", "it's", ""].map(String::from);
        assert_eq!(split_words(&join_words(&words)), words);
    }
}
