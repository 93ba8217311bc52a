//! `--shard I/N` against real hosts: the shards of one scan probe disjoint parts of it, and together give
//! exactly what the whole scan gives, which is the ground truth the test sets up; `-sL --shard` lists
//! exactly what each shard then probes. Needs root; without it each test says SKIPPED loudly.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use support::*;
use tojimari_testbed::{TestBed, testbed_or_skip};

const PORTS: &str = "20-25,80,443,8000-8005";

/// 198.19.0.0/24 on target 0 (AnyIP), listeners on 22, 80 and 443; port 80 answers with a reset on
/// .64-.127 and 443 is dropped on .128-.255. Returns the ground truth of (address, port) -> state.
fn sweep_target(bed: &TestBed) -> (tojimari_testbed::Listeners, BTreeMap<(String, u16), String>) {
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let t = bed.target(0);
    let listeners = t.listen_tcp(&[22, 80, 443]).unwrap();
    t.firewall(
        "table inet tojimari_shard_test\nflush table inet tojimari_shard_test\n\
         table inet tojimari_shard_test { chain input { type filter hook input priority 0;\n\
         ip daddr 198.19.0.64/26 tcp dport 80 reject with tcp reset\n\
         ip daddr 198.19.0.128/25 tcp dport 443 drop\n}\n}\n",
    )
    .unwrap();
    let mut truth = BTreeMap::new();
    for h in 0..=255u16 {
        for port in expand_ranges(PORTS) {
            let state = match port {
                22 => "open",
                80 if (64..128).contains(&h) => "closed",
                80 => "open",
                443 if h >= 128 => "filtered",
                443 => "open",
                _ => "closed",
            };
            truth.insert((format!("198.19.0.{h}"), port), state.to_string());
        }
    }
    (listeners, truth)
}

fn states(map: &PortMap) -> BTreeMap<(String, u16), String> {
    map.iter().map(|(k, (state, _))| (k.clone(), state.clone())).collect()
}

/// `-sL --shard`'s listing: the (address, port) pairs it names.
fn listed(bed: &TestBed, args: &[&str]) -> BTreeSet<(String, u16)> {
    let out = tojimari_in(bed.scanner()).arg("-sL").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut pairs = BTreeSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.starts_with('#')) {
        let (addr, spec) = line.split_once(' ').unwrap();
        for part in spec.trim_start_matches("T:").split(',') {
            pairs.insert((addr.to_string(), part.parse::<u16>().unwrap()));
        }
    }
    pairs
}

#[test]
fn shards_are_disjoint_and_together_the_whole_scan() {
    let bed = testbed_or_skip!(1);
    let (_l, truth) = sweep_target(&bed);
    let base = ["-sS", "-Pn", "-n", "--max-retries", "3", "-p", PORTS, "198.19.0.0/24"];
    let (whole, _, _) = scan(bed.scanner(), &[&base[..], &["--seed", "11"]].concat());
    assert_eq!(states(&whole), truth, "the unsharded scan is the ground truth");

    let mut union: BTreeMap<(String, u16), String> = BTreeMap::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let args = [&base[..], &["--seed", "11", "--shard", &shard]].concat();
        let (part, lines, _) = scan(bed.scanner(), &args);
        let part = states(&part);
        // A third of the probes, give or take the rounding of the positions.
        assert!((1180..=1210).contains(&part.len()), "shard {shard}: {} probes", part.len());
        for (key, state) in &part {
            assert!(union.insert(key.clone(), state.clone()).is_none(), "{key:?} probed by two shards");
        }
        // Every reported host has a probe in this shard, and each host is reported once.
        let hosts: Vec<&str> = host_lines(&lines).iter().map(|h| h["addr"].as_str().unwrap()).collect();
        let distinct: BTreeSet<&str> = hosts.iter().copied().collect();
        assert_eq!(hosts.len(), distinct.len(), "shard {shard}: a host reported twice");
        let with_ports: BTreeSet<&str> = part.keys().map(|(a, _)| a.as_str()).collect();
        assert_eq!(distinct, with_ports, "shard {shard}: hosts without a probe of this shard were reported");
        // -sL --shard lists exactly what the shard probed.
        let list = listed(&bed, &["-sS", "-p", PORTS, "--seed", "11", "--shard", &shard, "198.19.0.0/24"]);
        assert_eq!(list, part.keys().cloned().collect::<BTreeSet<_>>(), "shard {shard}: -sL --shard");
    }
    assert_eq!(union, truth, "the shards together are the whole scan");
}

/// With host discovery and ports in order (`-r`), the shards still partition the scan; a shard without
/// --seed chooses one, says which, and records it in its command line.
#[test]
fn shards_with_discovery_and_a_chosen_seed() {
    let bed = testbed_or_skip!(1);
    let (_l, truth) = sweep_target(&bed);
    let targets = "198.19.0.0/26";
    let truth: BTreeMap<_, _> =
        truth.into_iter().filter(|((a, _), _)| a.rsplit('.').next().unwrap().parse::<u8>().unwrap() < 64).collect();
    let mut union = BTreeMap::new();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let (part, _, _) = scan(bed.scanner(), &["-sS", "-n", "-r", "-p", PORTS, "--shard", &shard, targets]);
        for (key, state) in states(&part) {
            assert!(union.insert(key.clone(), state).is_none(), "{key:?} probed by both shards");
        }
    }
    assert_eq!(union, truth);

    let (_, lines, out) = scan(bed.scanner(), &["-sS", "-Pn", "-n", "-p", "22", "--shard", "1/2", "198.19.0.0/30"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let seed = stderr
        .split("this run chose --seed ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no chosen seed told: {stderr}"));
    let args = lines.iter().find_map(|l| l["args"].as_str()).expect("a run line with the command line");
    assert!(args.ends_with(&format!("--seed {seed}")), "{args}");
}

#[test]
fn bad_shards_are_refused() {
    let bed = testbed_or_skip!(1);
    for (args, want) in [
        (vec!["--shard", "4/3"], "between 1 and 3"),
        (vec!["--shard", "1/0"], "at least 1"),
        (vec!["--shard", "a/b"], "not a whole number"),
        (vec!["--shard", "1/2", "-sn"], "-sn sends none"),
        (vec!["--shard", "1/2", "-sT"], "not sharded"),
        (vec!["--shard", "1/2", "-sL", "-oX", "-"], "-oX"),
    ] {
        let out = tojimari_in(bed.scanner()).args(&args).arg("198.18.0.2").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(want) && stderr.lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
}
