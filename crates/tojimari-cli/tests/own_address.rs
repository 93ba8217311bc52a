//! The scanner's own addresses as targets (issue 9): `-sn` on a range holding the scanner's address left it
//! out, and raw TCP probes of an own address other than 127/8 got no answer. nmap, run on the same
//! namespace, is the oracle: an own address is up with reason `localhost-response` (user-set under -Pn),
//! and every technique finds the same port states there as on any host. Needs root; without it each test
//! says SKIPPED loudly.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::process::Command;

use support::*;
use tojimari_testbed::{Listeners, Netns, SCANNER_V4, SCANNER_V6, TestBed, Transport, testbed_or_skip};

/// host -> (state, reason), from nmap's XML (hosts it reports at all).
fn nmap_hosts(ns: &Netns, args: &[&str]) -> BTreeMap<String, (String, String)> {
    let out = ns.command("nmap").args(args).args(["-oX", "-", "-n"]).output().expect("nmap is installed");
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8_lossy(&out.stdout);
    xml.split("<host")
        .skip(1)
        .filter(|c| c.starts_with('>') || c.starts_with(' '))
        .map(|chunk| {
            let status = &chunk[chunk.find("<status ").expect("status")..];
            let addr = &chunk[chunk.find("<address ").expect("address")..];
            (attr(addr, "addr"), (attr(status, "state"), attr(status, "reason")))
        })
        .collect()
}

fn attr(s: &str, name: &str) -> String {
    let key = format!(" {name}=\"");
    let start = s.find(&key).unwrap_or_else(|| panic!("no {name} in {s}")) + key.len();
    s[start..start + s[start..].find('"').unwrap()].to_string()
}

/// host -> (state, reason) of the hosts our run reports up (what normal output lists).
fn our_hosts(lines: &[serde_json::Value]) -> BTreeMap<String, (String, String)> {
    host_lines(lines)
        .iter()
        .filter(|h| h["state"] == "up")
        .map(|h| {
            let text = |k: &str| h[k].as_str().unwrap().to_string();
            (text("addr"), (text("state"), text("reason")))
        })
        .collect()
}

/// `-sn` over ranges that hold the scanner's own address (first, in the middle, IPv4 and IPv6): the same
/// hosts up, for the same reasons, as nmap. The target list with the own address first is the case where
/// its route could be taken for its neighbours'.
#[test]
fn ping_scan_of_a_range_holding_the_scanner_reports_it_up() {
    let bed = testbed_or_skip!(1);
    let ranges: [&[&str]; 4] = [
        &["198.18.0.0/29"],
        &["198.18.0.1", "198.18.0.2", "198.18.0.3"],
        &["-6", "2001:db8:18::/125"],
        &["-6", "2001:db8:18::1", "2001:db8:18::2"],
    ];
    for targets in ranges {
        let mut args = vec!["-sn"];
        args.extend_from_slice(targets);
        let oracle: BTreeMap<_, _> =
            nmap_hosts(bed.scanner(), &args).into_iter().filter(|(_, v)| v.0 == "up").collect();
        let own = if targets.contains(&"-6") { SCANNER_V6.to_string() } else { SCANNER_V4.to_string() };
        assert_eq!(oracle.get(&own), Some(&("up".to_string(), "localhost-response".to_string())), "nmap {oracle:?}");
        let ours_args: Vec<&str> = args.iter().copied().filter(|a| *a != "-6").chain(["-n"]).collect();
        let (_, lines, _) = scan(bed.scanner(), &ours_args);
        assert_eq!(our_hosts(&lines), oracle, "-sn {targets:?}");

        // The unprivileged engine (TCP connect discovery) knows its own address without a ping too.
        let (_, lines, _) = scan_unprivileged(bed.scanner(), &ours_args);
        let hosts = our_hosts(&lines);
        assert_eq!(hosts.keys().collect::<Vec<_>>(), oracle.keys().collect::<Vec<_>>(), "unprivileged {targets:?}");
        assert_eq!(hosts[&own].1, "localhost-response", "unprivileged {targets:?}");
    }
}

/// Normal, XML, grepable and JSON output say what nmap says of the scanner's own address under -sn.
#[test]
fn own_address_in_every_output_format() {
    let bed = testbed_or_skip!(1);
    let own = SCANNER_V4.to_string();
    let scratch = Scratch::new("own-formats");
    let run = |mut cmd: Command, tag: &str| {
        let (n, x, g) = (
            scratch.path(&format!("{tag}.nmap")),
            scratch.path(&format!("{tag}.xml")),
            scratch.path(&format!("{tag}.gnmap")),
        );
        let out =
            cmd.args(["-sn", "-n", "--reason", "-oN", &n, "-oX", &x, "-oG", &g, "198.18.0.0/30"]).output().unwrap();
        assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
        let read = |p: &str| std::fs::read_to_string(p).unwrap();
        (read(&n), read(&x), read(&g))
    };
    let (nn, nx, ng) = run(bed.scanner().command("nmap"), "nmap");
    let (tn, tx, tg) = run(tojimari_in(bed.scanner()), "ours");

    let report = format!("scan report for {own}\nHost is up, received localhost-response.\n");
    assert!(nn.contains(&format!("Nmap {report}")), "nmap normal output: {nn}");
    assert!(tn.contains(&format!("tojimari {report}")), "our normal output: {tn}");

    let status = format!(
        "<status state=\"up\" reason=\"localhost-response\" reason_ttl=\"0\"/>\n<address addr=\"{own}\" addrtype=\"ipv4\"/>"
    );
    assert!(nx.contains(&status), "nmap XML: {nx}");
    assert!(tx.contains(&status), "our XML: {tx}");

    let line = format!("Host: {own} ()\tStatus: Up\n");
    assert!(ng.contains(&line), "nmap grepable: {ng}");
    assert!(tg.contains(&line), "our grepable: {tg}");

    let (_, lines, _) = scan(bed.scanner(), &["-sn", "-n", &own]);
    let host = host_lines(&lines)[0].clone();
    assert_eq!(
        (host["state"].as_str(), host["reason"].as_str(), host["reason_ttl"].as_u64()),
        (Some("up"), Some("localhost-response"), Some(0))
    );
}

const OPEN_TCP: u16 = 8080;
const CLOSED: u16 = 1;
const OPEN_UDP: u16 = 5353;

/// TCP and UDP listeners (the UDP one echoes) on the scanner's own wildcard addresses.
fn listen_on_scanner(bed: &TestBed) -> (Listeners, Listeners) {
    let wildcard =
        |port: u16| [SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)), SocketAddr::from((Ipv6Addr::UNSPECIFIED, port))];
    let tcp = Listeners::open(bed.scanner(), Transport::Tcp, &wildcard(OPEN_TCP)).unwrap();
    let udp = Listeners::open(bed.scanner(), Transport::Udp, &wildcard(OPEN_UDP)).unwrap();
    (tcp, udp)
}

/// (host reason, port -> (state, reason)) of our run and of nmap's, for one technique and address.
type Seen = (String, BTreeMap<u16, (String, String)>);

fn ours(ns: &Netns, technique: &str, pn: bool, addr: &str, ports: &str) -> Seen {
    let mut args = vec![technique, "-n", "--max-retries", "1", "-p", ports, addr];
    if pn {
        args.push("-Pn");
    }
    let (map, lines, _) = scan(ns, &args);
    let reason = host_lines(&lines)[0]["reason"].as_str().unwrap().to_string();
    (reason, map.into_iter().map(|((_, p), v)| (p, v)).collect())
}

fn nmap(ns: &Netns, technique: &str, pn: bool, addr: &str, ports: &str) -> Seen {
    let mut args = vec![technique, "--max-retries", "1", "-p", ports];
    if pn {
        args.push("-Pn");
    }
    if addr.contains(':') {
        args.push("-6");
    }
    args.push(addr);
    let hosts = nmap_hosts(ns, &args);
    (hosts[addr].1.clone(), nmap_states(ns, &args))
}

/// Every technique against the scanner's own addresses (its test-bed address, IPv4 and IPv6, and
/// loopback), with and without -Pn: the host's reason and every port's state and reason are nmap's.
/// Before the fix, raw TCP probes of 198.18.0.1 got no answer (closed ports came out filtered or
/// open|filtered) and the connect scan called the host up for a refused ping.
#[test]
fn every_technique_on_the_own_address_matches_nmap() {
    let bed = testbed_or_skip!(1);
    let _listeners = listen_on_scanner(&bed);
    let tcp_ports = format!("{CLOSED},{OPEN_TCP}");
    let udp_ports = format!("{CLOSED},{OPEN_UDP}");
    let v4 = SCANNER_V4.to_string();
    let v6 = SCANNER_V6.to_string();
    let mut mismatches = Vec::new();
    for addr in [v4.as_str(), "127.0.0.1", v6.as_str(), "::1"] {
        for technique in ["-sS", "-sT", "-sF", "-sN", "-sX", "-sA", "-sW", "-sM", "-sU"] {
            let ports = if technique == "-sU" { &udp_ports } else { &tcp_ports };
            for pn in [false, true] {
                let got = ours(bed.scanner(), technique, pn, addr, ports);
                let want = nmap(bed.scanner(), technique, pn, addr, ports);
                assert_eq!(want.0, if pn { "user-set" } else { "localhost-response" }, "nmap {technique} {addr}");
                if got != want {
                    mismatches.push(format!("{technique} {addr} -Pn={pn}: ours {got:?}, nmap {want:?}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{} disagreements with nmap:\n{}", mismatches.len(), mismatches.join("\n"));
}

/// A raw UDP probe of an own address comes back to our receiver on loopback; probes whose source port was
/// the probed port (or two ports probed from each other) passed for replies, and those ports came out
/// open, about two per scan of the ports our UDP source ports come from. Nothing listens here: every port
/// must be closed (ICMP port unreachable, which loopback does not rate-limit).
#[test]
fn udp_scan_of_an_own_address_sees_no_phantom_reply() {
    let bed = testbed_or_skip!(0);
    let (lo, hi) = (60990u16, 65535u16);
    let ports = format!("{lo}-{hi}");
    let v4 = SCANNER_V4.to_string();
    let v6 = SCANNER_V6.to_string();
    for run in 0..2 {
        for addr in [v4.as_str(), "127.0.0.1", v6.as_str(), "::1"] {
            let (map, _, _) = scan(bed.scanner(), &["-sU", "-n", "-Pn", "-p", &ports, addr]);
            let open: Vec<_> = map.iter().filter(|(_, (s, _))| s != "closed").collect();
            assert!(open.is_empty(), "run {run} on {addr}: not closed: {open:?}");
            assert_eq!(map.len(), usize::from(hi - lo) + 1, "run {run} on {addr}");
        }
    }
}
