//! Internet-scale manners, end to end (docs/manners.md): an `--excludefile` is honoured by every command that
//! takes targets (`scan`, `scan -sL`, `check`): the excluded addresses are never probed, which the target's
//! own firewall counters show, and never reported; reserved ranges a target merely contains are left out
//! with one note, and a reserved target named explicitly is kept with a warning.

use std::collections::BTreeSet;
use std::process::Output;

use tojimari_testbed::{Netns, Scratch, testbed_or_skip};

/// The AnyIP network target 0 answers for.
const NET: &str = "198.19.5.0/24";

/// Counts, in the target, the packets to the excluded addresses and to the others (input hook, before any
/// socket sees them).
const COUNTERS: &str = "table ip tjm5count {\n chain input { type filter hook input priority -50;\n  \
                        ip daddr { 198.19.5.0/26, 198.19.5.200 } counter\n  \
                        ip daddr 198.19.5.0/24 ip daddr != { 198.19.5.0/26, 198.19.5.200 } counter\n }\n}\n";

/// (packets to excluded addresses, packets to the others) since the last call: the counters are reset.
fn counters(ns: &Netns) -> (u64, u64) {
    let out = ns.run(&["nft", "list", "table", "ip", "tjm5count"]).expect("nft lists the table");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let counts: Vec<u64> = text
        .split("counter packets ")
        .skip(1)
        .map(|rest| rest.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count"))
        .collect();
    ns.run(&["nft", "reset", "counters", "table", "ip", "tjm5count"]).expect("nft resets the counters");
    assert_eq!(counts.len(), 2, "{text}");
    (counts[0], counts[1])
}

fn excluded(addr: &str) -> bool {
    let last: u8 = addr.rsplit('.').next().and_then(|o| o.parse().ok()).expect("an IPv4 address");
    addr.starts_with("198.19.5.") && (last < 64 || last == 200)
}

/// The addresses of the `Host:` lines of grepable output.
fn hosts(out: &Output) -> BTreeSet<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Host: "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn run(ns: &Netns, args: &[&str]) -> Output {
    let out = ns.command(env!("CARGO_BIN_EXE_tojimari")).env_remove("TOJIMARI_DB").args(args).output().expect("runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn excluded_addresses_are_never_probed_by_any_command() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, NET).unwrap();
    let target = bed.target(0);
    let _listeners = target.listen_tcp(&[22, 80]).unwrap();
    target.firewall(COUNTERS).unwrap();
    target.unlimit_icmp().unwrap();
    let dir = Scratch::new("tjm5-manners");
    let file = dir.path("exclude.txt");
    std::fs::write(&file, "# the first quarter, and one more\n198.19.5.0/26\n198.19.5.200 # a host\n").unwrap();
    let scanner = bed.scanner();
    let expected: BTreeSet<String> = (0..=255).map(|i| format!("198.19.5.{i}")).filter(|a| !excluded(a)).collect();
    counters(&target.ns);

    // A list scan: exactly the same hosts, and nothing sent to them.
    let out = run(scanner, &["scan", "-sL", "--no-store", "-n", "--excludefile", &file, "-oG", "-", NET]);
    assert_eq!(hosts(&out), expected);
    // Nothing sent at all (first: a connect scan's closing packets may still come in after it exits).
    assert_eq!(counters(&target.ns), (0, 0));

    // A SYN scan, and a connect scan.
    for technique in ["-sS", "-sT"] {
        let out = run(
            scanner,
            &["scan", technique, "--no-store", "-n", "-Pn", "-p", "22,80,81", "--excludefile", &file, "-oG", "-", NET],
        );
        let found = hosts(&out);
        assert_eq!(found, expected, "{technique}");
        let (to_excluded, to_others) = counters(&target.ns);
        assert_eq!(to_excluded, 0, "{technique}: packets reached excluded addresses");
        assert!(to_others >= 3 * expected.len() as u64, "{technique}: {to_others} packets");
    }

    // `tojimari check`, which had no exclusion options before.
    let out = run(scanner, &["check", "quick", "--no-store", "--excludefile", &file, "198.19.5.0/25"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let (to_excluded, to_others) = counters(&target.ns);
    assert_eq!(to_excluded, 0, "{text}");
    assert!(to_others > 0);
    assert!(text.contains("198.19.5.64") && !text.contains("198.19.5.63 "), "{text}");
}

#[test]
fn reserved_ranges_are_left_out_unless_named() {
    // A list scan sends nothing: no bed is needed, and no packet leaves.
    let bin = env!("CARGO_BIN_EXE_tojimari");
    let list = |targets: &[&str]| {
        let out = std::process::Command::new(bin)
            .env_remove("TOJIMARI_DB")
            .args(["scan", "-sL", "-n", "--no-store", "-oG", "-"])
            .args(targets)
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (hosts(&out), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // 224.0.0.0/3 is multicast and the reserved /4 together: inside neither, so both are left out.
    let (found, stderr) = list(&["223.255.255.254/31", "224.0.0.0/3", "239.255.255.255"]);
    assert_eq!(found, ["223.255.255.254", "223.255.255.255", "239.255.255.255"].map(String::from).into());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(
        lines[1],
        "note: left out 2 reserved ranges the targets contain (536870912 addresses): 224.0.0.0/4 (multicast, RFC \
         5771), 240.0.0.0/4 (reserved and limited broadcast, RFC 1112 and RFC 919); a target inside one names it \
         and is scanned (docs/manners.md)"
    );
    assert_eq!(
        lines[0],
        "warning: target 239.255.255.255 is in 224.0.0.0/4 (multicast, RFC 5771): scanned because it was named"
    );
    // The limited broadcast, named, and loopback, named (no warning for loopback).
    let (found, stderr) = list(&["255.255.255.255", "127.0.0.1"]);
    assert_eq!(found, ["255.255.255.255", "127.0.0.1"].map(String::from).into());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("warning: target 255.255.255.255 is in 240.0.0.0/4"), "{stderr}");
    // An ordinary range says nothing.
    let (found, stderr) = list(&["198.18.0.0/30"]);
    assert_eq!((found.len(), stderr.as_str()), (4, ""));
}

#[test]
fn a_shards_list_leaves_out_excluded_and_reserved_addresses() {
    // -sL --shard lists a shard's probes (nothing is sent): the shards together are the hosts left after
    // --excludefile and the reserved ranges, each once.
    let dir = Scratch::new("tjm5-manners-shards");
    let file = dir.path("exclude.txt");
    std::fs::write(&file, "223.255.255.0/26\n223.255.255.200\n").unwrap();
    let mut listed = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tojimari"))
            .env_remove("TOJIMARI_DB")
            .args(["scan", "-sL", "-sS", "-n", "--no-store", "-p", "80,443", "--seed", "5", "--shard", shard])
            .args(["--excludefile", &file, "223.255.255.0/24", "224.0.0.0/3"])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches("note: left out 2 reserved ranges").count(), 1, "{stderr}");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut words = line.split_whitespace();
            if let (Some(addr), Some(ports)) = (words.next(), words.next())
                && addr.parse::<std::net::IpAddr>().is_ok()
            {
                for port in ports.trim_start_matches("T:").split(',') {
                    listed.push(format!("{addr}:{port}"));
                }
            }
        }
    }
    listed.sort();
    let mut expected: Vec<String> = (64..=255u8)
        .filter(|h| *h != 200)
        .flat_map(|h| ["80", "443"].map(|p| format!("223.255.255.{h}:{p}")))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
}
