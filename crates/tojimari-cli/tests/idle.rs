//! The idle scan (`-sI`) in the test bed: zombies are stack personas of every IP ID class (a global counter
//! by 1 or by 2, byte-swapped: usable; random, per destination, zero: refused; a chatty one that sends
//! packets of its own), the target a Linux namespace with listeners, closed ports and nft-dropped ports.
//! The truth is what the test set up; the oracles are a direct SYN scan of the target and nmap -sI run in
//! the same namespace. Needs root; without it each test says SKIPPED loudly, and under CI=true fails.

// A test binary: it may say on stderr what it skipped.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use support::*;
use tojimari_testbed::persona::{Chatter, IpIdPolicy, PersonaHost, catalog, persona_v4};
use tojimari_testbed::{TestBed, firewall, testbed_or_skip};

const OPEN: [u16; 3] = [22, 80, 8080];
const CLOSED: [u16; 4] = [21, 23, 25, 443];
const DROPPED: [u16; 3] = [81, 3306, 9999];

fn ports() -> String {
    [&OPEN[..], &CLOSED, &DROPPED].concat().iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

/// The target: listeners on [`OPEN`], [`DROPPED`] dropped by nft, the rest closed.
fn target(bed: &TestBed) -> tojimari_testbed::Listeners {
    let t = bed.target(0);
    let listeners = t.listen_tcp(&OPEN).unwrap();
    t.firewall(&firewall::drop_tcp(&DROPPED)).unwrap();
    listeners
}

fn zombie(bed: &TestBed, policy: IpIdPolicy, chatter: Option<Chatter>) -> PersonaHost {
    let v4 = persona_v4(0).unwrap();
    bed.add_persona_chatty(catalog::idle_zombie_with(policy), v4, None, Vec::new(), chatter).unwrap()
}

/// port -> (state, reason)
type States = BTreeMap<u16, (String, String)>;

/// A run of tojimari in the scanner namespace: (states, JSON lines, XML, output).
fn run(bed: &TestBed, args: &[&str]) -> (States, Vec<serde_json::Value>, String, Output) {
    let scratch = Scratch::new(&unique("tji-idle"));
    let (jsonl, xml) = (scratch.path("out.jsonl"), scratch.path("out.xml"));
    let out = tojimari_in(bed.scanner())
        .args(args)
        .args(["-n", "-oJ", &jsonl, "-oX", &xml, "--no-progress"])
        .output()
        .expect("run tojimari");
    let lines = parse_jsonl(&std::fs::read_to_string(&jsonl).unwrap_or_default());
    let map = port_map(&lines).into_iter().map(|((_, p), v)| (p, v)).collect();
    (map, lines, std::fs::read_to_string(&xml).unwrap_or_default(), out)
}

/// A scratch directory name of its own for each call (the tests of this file run side by side).
fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{what}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn states(map: &BTreeMap<u16, (String, String)>) -> BTreeMap<u16, String> {
    map.iter().map(|(p, (s, _))| (*p, s.clone())).collect()
}

/// What a direct SYN scan's states become through a zombie: closed and filtered cannot be told apart.
fn as_idle(map: &BTreeMap<u16, (String, String)>) -> BTreeMap<u16, String> {
    map.iter().map(|(p, (s, _))| (*p, if s == "open" { s.clone() } else { "closed|filtered".to_string() })).collect()
}

#[test]
fn each_usable_zombie_class_gives_the_syn_scans_states_and_nmaps_answer() {
    let bed = testbed_or_skip!(1);
    let _l = target(&bed);
    let addr = bed.target(0).v4.to_string();
    let (direct, _, _, out) = run(&bed, &["-sS", "-Pn", "-p", &ports(), &addr]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (policy, class) in [
        (IpIdPolicy::Incremental, "Incremental"),
        (IpIdPolicy::IncrementalBy2, "Incrementing by 2"),
        (IpIdPolicy::ByteSwapped, "Broken little-endian incremental"),
    ] {
        let z = zombie(&bed, policy, None);
        let zombie_addr = z.v4().to_string();
        let (ours, lines, xml, out) = run(&bed, &["-sI", &zombie_addr, "-Pn", "-p", &ports(), &addr]);
        assert!(out.status.success(), "{policy:?}: {}", stderr(&out));
        assert!(
            stderr(&out)
                .contains(&format!("note: Idle scan using zombie {zombie_addr} ({zombie_addr}:80); Class: {class}")),
            "{policy:?}: {}",
            stderr(&out)
        );
        assert_eq!(states(&ours), as_idle(&direct), "{policy:?}: the direct SYN scan's states");
        for p in OPEN {
            assert_eq!(ours[&p], ("open".to_string(), "ipid-change".to_string()), "{policy:?} port {p}");
        }
        assert!(xml.contains(r#"<scaninfo type="idle" protocol="tcp""#), "{xml}");
        assert!(lines.iter().any(|l| l["type"] == "host"));
        let oracle = nmap_states(bed.scanner(), &["-sI", &zombie_addr, "-Pn", "-p", &ports(), &addr]);
        assert_eq!(ours, oracle, "{policy:?}: tojimari -sI and nmap -sI disagree");
        drop(z);
    }
}

#[test]
fn unusable_zombies_are_refused_with_no_port_states() {
    let bed = testbed_or_skip!(1);
    let _l = target(&bed);
    let addr = bed.target(0).v4.to_string();
    for (policy, why) in [
        (IpIdPolicy::Random, "Randomized"),
        (IpIdPolicy::Zero, "All zeros"),
        (IpIdPolicy::PerDestination, "counter per destination"),
    ] {
        let z = zombie(&bed, policy, None);
        let zombie_addr = z.v4().to_string();
        let (ours, _, xml, out) = run(&bed, &["-sI", &zombie_addr, "-Pn", "-p", &ports(), &addr]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{policy:?}: {err}");
        assert!(err.contains(&format!("error: cannot use {zombie_addr} as an idle-scan zombie")), "{policy:?}: {err}");
        assert!(err.contains(why), "{policy:?}: {err}");
        assert!(ours.is_empty(), "{policy:?}: no port state: {ours:?}");
        assert!(!xml.contains("<port "), "{xml}");
        drop(z);
    }
}

#[test]
fn a_chatty_zombie_never_invents_an_open_port() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let addr = t.v4.to_string();
    let z = zombie(&bed, IpIdPolicy::Incremental, Some(Chatter { per_second: 200.0, seed: 7 }));
    let zombie_addr = z.v4().to_string();
    // No listener at all, then two.
    // Without -Pn: the target is not pinged either, and the run says it takes the target as up.
    let (ours, _, _, out) = run(&bed, &["-sI", &zombie_addr, "-v", "-p", "1-300", &addr]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("note: the idle scan sends the targets nothing"), "{}", stderr(&out));
    assert_eq!(ours.len(), 300);
    let opens: Vec<u16> = ours.iter().filter(|(_, (s, _))| s == "open").map(|(p, _)| *p).collect();
    assert_eq!(opens, Vec::<u16>::new(), "nothing listens: {}", stderr(&out));
    let _l = t.listen_tcp(&[7, 150]).unwrap();
    let (ours, _, _, out) = run(&bed, &["-sI", &zombie_addr, "-Pn", "-v", "-p", "1-300", &addr]);
    assert!(out.status.success(), "{}", stderr(&out));
    let opens: Vec<u16> = ours.iter().filter(|(_, (s, _))| s == "open").map(|(p, _)| *p).collect();
    assert_eq!(opens, [7, 150], "{}", stderr(&out));
    assert!(stderr(&out).contains("packets per second of its own"), "{}", stderr(&out));
}

/// Starts an idle scan of every port (some 2 s at least), lets it run for 0.8 s, then `change`s the zombie; the scan must end
/// in error, and keep only results that are true.
fn zombie_changes_mid_scan(change: impl FnOnce(&TestBed, PersonaHost) -> Option<PersonaHost>) {
    let bed = testbed_or_skip!(1);
    let _l = target(&bed);
    let addr = bed.target(0).v4.to_string();
    let z = zombie(&bed, IpIdPolicy::Incremental, None);
    let zombie_addr = z.v4().to_string();
    let scratch = Scratch::new(&unique("tji-idle-cut"));
    let jsonl = scratch.path("out.jsonl");
    let child = tojimari_in(bed.scanner())
        .args(["-sI", &zombie_addr, "-Pn", "-n", "-p-", "-oJ", &jsonl, "--no-progress", &addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let _replacement = change(&bed, z);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&format!("error: the zombie {zombie_addr} became unusable")), "{err}");
    let lines = parse_jsonl(&std::fs::read_to_string(&jsonl).unwrap_or_default());
    let kept = port_map(&lines);
    assert!(kept.len() < 65535, "results only where trustworthy");
    for ((_, port), (state, _)) in &kept {
        let truth = if OPEN.contains(port) { "open" } else { "closed|filtered" };
        assert_eq!(state, truth, "port {port}: {err}");
    }
}

#[test]
fn a_zombie_that_stops_mid_scan_is_reported_and_only_checked_ports_kept() {
    zombie_changes_mid_scan(|_, z| {
        drop(z);
        None
    });
}

#[test]
fn a_zombie_whose_ip_ids_turn_random_mid_scan_is_reported() {
    zombie_changes_mid_scan(|bed, z| {
        let v4 = z.v4();
        drop(z);
        Some(bed.add_persona(catalog::idle_zombie_with(IpIdPolicy::Random), v4, None).unwrap())
    });
}

#[test]
fn bad_zombies_and_combinations_are_usage_errors() {
    let bed = testbed_or_skip!(1);
    let addr = bed.target(0).v4.to_string();
    for (args, says) in [
        (vec!["-sI", "2001:db8::1"], "is an IPv6 address"),
        (vec!["-sI", "198.18.0.200:http"], "is not a port number"),
        (vec!["-sI", "198.18.0.200", "-sU"], "-sI cannot be combined with -sU"),
        (vec!["-sI", "198.18.0.200", "-sS"], "contradict each other"),
        (vec!["-sI", "198.18.0.200", "-O"], "-sI cannot be combined with -O"),
        (
            vec!["-sI", "198.18.0.200", "--checkpoint", "/tmp/tji-never.resume"],
            "-sI cannot be combined with --checkpoint",
        ),
    ] {
        let out = tojimari_in(bed.scanner()).args(&args).args(["-p", "80", &addr]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(says), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: a hint follows: {err}");
    }
    // An IPv6 target: the engine says why, before sending anything.
    let v6 = bed.target(0).v6.to_string();
    let out = tojimari_in(bed.scanner()).args(["-sI", "198.18.0.200", "-Pn", "-p", "80", &v6]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is an IPv6 target"), "{}", stderr(&out));
}
