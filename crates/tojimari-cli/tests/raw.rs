//! The raw-packet engine against real hosts in the test bed: every technique's states and reasons checked
//! against the ground truth the test sets up and against nmap's answer on the same namespace (the oracle
//! for port-state semantics). Needs root; without it each test says SKIPPED loudly, and under CI=true fails.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::{BTreeMap, BTreeSet};

use support::*;
use tojimari_testbed::{TestBed, firewall, random_ports, testbed_or_skip};

const OPEN: [u16; 3] = [22, 80, 8080];
const CLOSED: [u16; 2] = [23, 25];
const DROPPED: [u16; 2] = [81, 82];
const PROHIBITED: [u16; 2] = [83, 84];
const RESET: [u16; 2] = [85, 86];
/// Dropped only when the packet is a pure SYN (a stateless firewall): 87 has a listener, 88 none.
const SYN_ONLY: [u16; 2] = [87, 88];

fn firewalled_host(bed: &TestBed) -> tojimari_testbed::Listeners {
    let t = bed.target(0);
    let listeners = t.listen_tcp(&[&OPEN[..], &[85, 87]].concat()).unwrap();
    t.unlimit_icmp().unwrap();
    t.firewall(&firewall::drop_tcp(&DROPPED)).unwrap();
    t.firewall(&firewall::reject_admin_prohibited(&PROHIBITED)).unwrap();
    t.firewall(&firewall::reject_tcp_reset(&RESET)).unwrap();
    t.firewall(&firewall::drop_pure_syn(&SYN_ONLY)).unwrap();
    listeners
}

fn all_ports() -> String {
    [&OPEN[..], &CLOSED, &DROPPED, &PROHIBITED, &RESET, &SYN_ONLY]
        .concat()
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Our states and reasons for `addr`, by port.
fn ours(bed: &TestBed, technique: &str, addr: &str, ports: &str) -> BTreeMap<u16, (String, String)> {
    let (map, _, _) = scan(bed.scanner(), &[technique, "-Pn", "-n", "--max-retries", "2", "-p", ports, addr]);
    map.into_iter().map(|((_, p), v)| (p, v)).collect()
}

fn nmap(bed: &TestBed, technique: &str, addr: &str, ports: &str, v6: bool) -> BTreeMap<u16, (String, String)> {
    let mut args = vec![technique, "-Pn", "--max-retries", "2", "-p", ports];
    if v6 {
        args.push("-6");
    }
    args.push(addr);
    nmap_states(bed.scanner(), &args)
}

fn syn_states(v6: bool) {
    let bed = testbed_or_skip!(1);
    let _l = firewalled_host(&bed);
    let t = bed.target(0);
    let addr = if v6 { t.v6.to_string() } else { t.v4.to_string() };
    let got = ours(&bed, "-sS", &addr, &all_ports());
    let want = |p: u16| -> (&str, &str) {
        if OPEN.contains(&p) {
            ("open", "syn-ack")
        } else if CLOSED.contains(&p) || RESET.contains(&p) {
            ("closed", "reset")
        } else if PROHIBITED.contains(&p) {
            ("filtered", "admin-prohibited")
        } else {
            ("filtered", "no-response")
        }
    };
    for (p, (state, reason)) in &got {
        assert_eq!((state.as_str(), reason.as_str()), want(*p), "port {p}: {got:?}");
    }
    assert_eq!(got.len(), all_ports().split(',').count());
    let oracle = nmap(&bed, "-sS", &addr, &all_ports(), v6);
    assert_eq!(got, oracle, "tojimari -sS and nmap -sS disagree on {addr}");
}

#[test]
fn syn_scan_states_and_reasons_match_nmap_ipv4() {
    syn_states(false);
}

#[test]
fn syn_scan_states_and_reasons_match_nmap_ipv6() {
    syn_states(true);
}

/// FIN, NULL, Xmas, ACK, Window and Maimon on a firewalled host, IPv4 and IPv6: the same state for every
/// port as nmap.
#[test]
fn stealth_techniques_match_nmap() {
    let bed = testbed_or_skip!(1);
    let _l = firewalled_host(&bed);
    let t = bed.target(0);
    for (technique, addr, v6) in ["-sF", "-sN", "-sX", "-sA", "-sW", "-sM"]
        .iter()
        .flat_map(|tech| [(*tech, t.v4.to_string(), false), (*tech, t.v6.to_string(), true)])
    {
        let got = ours(&bed, technique, &addr, &all_ports());
        let oracle = nmap(&bed, technique, &addr, &all_ports(), v6);
        let states =
            |m: &BTreeMap<u16, (String, String)>| m.iter().map(|(p, (s, _))| (*p, s.clone())).collect::<Vec<_>>();
        assert_eq!(states(&got), states(&oracle), "{technique}: ours {got:?}\nnmap {oracle:?}");
    }
}

/// UDP: echo listeners are open, closed ports answer ICMP port unreachable, dropped ports stay
/// open|filtered; nmap agrees.
#[test]
fn udp_scan_matches_nmap_ipv4() {
    udp_scan(false);
}

#[test]
fn udp_scan_matches_nmap_ipv6() {
    udp_scan(true);
}

fn udp_scan(v6: bool) {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let _l = t.listen_udp(&[53, 1234, 40000]).unwrap();
    t.unlimit_icmp().unwrap();
    t.firewall(&firewall::drop_udp(&[5000, 5001])).unwrap();
    let ports = "53,1234,40000,7,9,5000,5001";
    let addr = if v6 { t.v6.to_string() } else { t.v4.to_string() };
    let got = ours(&bed, "-sU", &addr, ports);
    let want: BTreeMap<u16, (String, String)> = [
        (53, ("open", "udp-response")),
        (1234, ("open", "udp-response")),
        (40000, ("open", "udp-response")),
        (7, ("closed", "port-unreach")),
        (9, ("closed", "port-unreach")),
        (5000, ("open|filtered", "no-response")),
        (5001, ("open|filtered", "no-response")),
    ]
    .into_iter()
    .map(|(p, (s, r))| (p, (s.to_string(), r.to_string())))
    .collect();
    assert_eq!(got, want);
    let oracle = nmap(&bed, "-sU", &addr, ports, v6);
    let states = |m: &BTreeMap<u16, (String, String)>| m.iter().map(|(p, (s, _))| (*p, s.clone())).collect::<Vec<_>>();
    assert_eq!(states(&got), states(&oracle), "nmap: {oracle:?}");
}

/// 300 random open ports among 65535 with a SYN scan: exact; and again under 5% random loss (nft numgen).
#[test]
fn syn_scan_finds_every_open_port_also_under_loss() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let open: BTreeSet<u16> = random_ports(300, 0x5eed, &[]).into_iter().collect();
    let _l = t.listen_tcp(&open.iter().copied().collect::<Vec<_>>()).unwrap();
    let addr = t.v4.to_string();
    for loss in [0u8, 5] {
        t.firewall(&firewall::random_loss(loss)).unwrap();
        let (ports, _, out) = scan(bed.scanner(), &["-sS", "-p-", "-T4", "-Pn", "-n", "-v", &addr]);
        let found: BTreeSet<u16> = ports.iter().filter(|(_, (s, _))| s == "open").map(|((_, p), _)| *p).collect();
        assert_eq!(found, open, "loss {loss}%");
        assert_eq!(ports.len(), 65535);
        // Random loss is not congestion: the rate must not have been cut.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("rate was halved"), "loss {loss}%: {stderr}");
    }
}

/// A rate limiter on the path (nft limit on SYNs): losses grow with the rate, so the controller backs off,
/// and the scan is still exact.
#[test]
fn rate_limiter_is_seen_as_congestion() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let _l = t.listen_tcp(&[22, 8080]).unwrap();
    t.firewall("table inet limiter {\n chain input { type filter hook input priority 0;\n  tcp flags & (syn | ack) == syn limit rate over 20000/second drop\n }\n}\n").unwrap();
    let (ports, _, out) = scan(bed.scanner(), &["-sS", "-p-", "-Pn", "-n", "-v", &t.v4.to_string()]);
    assert_eq!(ports.len(), 65535);
    let open: Vec<u16> = ports.iter().filter(|(_, (s, _))| s == "open").map(|((_, p), _)| *p).collect();
    assert_eq!(open, [22, 8080], "22: {:?}", ports.get(&(t.v4.to_string(), 22)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let filtered: Vec<u16> = ports.iter().filter(|(_, (s, _))| s == "filtered").map(|((_, p), _)| *p).collect();
    assert!(filtered.is_empty(), "every port answered in the end, not {filtered:?}: {stderr}");
    assert!(stderr.contains("rate was halved"), "{stderr}");
}

/// Ctrl-C during a raw scan: exit 1, what was found is kept, files are closed validly.
#[test]
fn interrupted_raw_scan_keeps_results() {
    let bed = testbed_or_skip!(1);
    let mut scan = CutScan::start(&bed, "raw-interrupt");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = nix::unistd::Pid::from_raw(scan.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    assert_eq!(scan.child.wait().unwrap().code(), Some(1));
    scan.check_kept();
}

/// Raw discovery: an on-link host answers ARP, a missing one is down, a routed host (AnyIP behind the
/// target) answers the ping probes.
#[test]
fn raw_host_discovery() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let (_, lines, out) =
        scan(bed.scanner(), &["-sn", "-n", "198.18.0.2", "198.18.0.9", "198.19.0.7", "2001:db8:18::2"]);
    let hosts: BTreeMap<String, (String, String)> = host_lines(&lines)
        .iter()
        .map(|h| {
            (
                h["addr"].as_str().unwrap().to_string(),
                (h["state"].as_str().unwrap().to_string(), h["reason"].as_str().unwrap().to_string()),
            )
        })
        .collect();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(hosts["198.18.0.2"], ("up".into(), "arp-response".into()), "{stdout}");
    assert_eq!(hosts["2001:db8:18::2"], ("up".into(), "nd-response".into()), "{stdout}");
    assert_eq!(hosts["198.18.0.9"].0, "down", "{stdout}");
    assert_eq!(hosts["198.19.0.7"].0, "up", "{stdout}");

    // Named probes: echo answers; Linux does not answer address-mask requests, so -PM alone finds nothing.
    let (_, lines, _) = scan(bed.scanner(), &["-sn", "-n", "-PE", "198.19.0.8"]);
    assert_eq!(
        (host_lines(&lines)[0]["state"].as_str(), host_lines(&lines)[0]["reason"].as_str()),
        (Some("up"), Some("echo-reply"))
    );
    let (_, lines, _) = scan(bed.scanner(), &["-sn", "-n", "-PS22", "198.19.0.9"]);
    assert_eq!(host_lines(&lines)[0]["reason"], "reset");
    let (_, lines, _) = scan(bed.scanner(), &["-sn", "-n", "-PM", "198.19.0.10"]);
    assert_eq!(host_lines(&lines)[0]["state"], "down");
}

/// -sS -sU in one run: one host report with both protocols.
#[test]
fn combined_tcp_and_udp_scan() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let _tcp = t.listen_tcp(&[22]).unwrap();
    let _udp = t.listen_udp(&[53]).unwrap();
    let (_, lines, _) = scan(bed.scanner(), &["-sS", "-sU", "-Pn", "-n", "-p", "T:22,23,U:53", &t.v4.to_string()]);
    let ports: Vec<(String, u64, String)> = lines
        .iter()
        .filter(|l| l["type"] == "port")
        .map(|l| {
            (
                l["proto"].as_str().unwrap().to_string(),
                l["port"].as_u64().unwrap(),
                l["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(ports.contains(&("tcp".into(), 22, "open".into())), "{ports:?}");
    assert!(ports.contains(&("tcp".into(), 23, "closed".into())), "{ports:?}");
    assert!(ports.contains(&("udp".into(), 53, "open".into())), "{ports:?}");
    assert_eq!(host_lines(&lines).len(), 1);
}

/// UDP under Linux's default ICMP rate limit (about one port-unreachable per second): open ports are found
/// at once, silent ones are reported honestly as open|filtered with a note; --udp-full-split waits at the
/// measured ICMP rate until every closed port has said so.
#[test]
fn udp_under_icmp_rate_limit() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let _l = t.listen_udp(&[5, 11]).unwrap();
    let addr = t.v4.to_string();
    let (ports, _, out) = scan(bed.scanner(), &["-sU", "-Pn", "-n", "-p", "1-16", &addr]);
    let state = |m: &PortMap, p: u16| m[&(addr.clone(), p)].0.clone();
    assert_eq!(state(&ports, 5), "open");
    assert_eq!(state(&ports, 11), "open");
    assert!(ports.values().all(|(s, r)| s != "closed" || r == "port-unreach"), "closed only with an ICMP answer");
    let silent = ports.values().filter(|(s, _)| s == "open|filtered").count();
    if silent > 0 {
        assert!(String::from_utf8_lossy(&out.stderr).contains("--udp-full-split"), "the note explains the rest");
    }
    let (ports, _, _) = scan(bed.scanner(), &["-sU", "-Pn", "-n", "-p", "1-16", "--udp-full-split", &addr]);
    for p in 1..=16u16 {
        let want = if p == 5 || p == 11 { "open" } else { "closed" };
        assert_eq!(state(&ports, p), want, "port {p}");
    }
}

/// A target with no route is reported on its own and the others are still scanned; an unknown
/// interface is a usage error.
#[test]
fn unroutable_target_and_unknown_interface() {
    let bed = testbed_or_skip!(1);
    let t = bed.target(0);
    let _l = t.listen_tcp(&[22]).unwrap();
    // 198.19.255.1 and 2001:db8:99::1 are test-range addresses with no route in the scanner namespace.
    let (ports, lines, out) =
        scan(bed.scanner(), &["-sS", "-Pn", "-n", "-p", "22", "198.19.255.1", "2001:db8:99::1", &t.v4.to_string()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no route to 198.19.255.1") && stderr.contains("no route to 2001:db8:99::1"), "{stderr}");
    assert_eq!(ports[&(t.v4.to_string(), 22)].0, "open");
    assert_eq!(host_lines(&lines).len(), 3);
    let out = tojimari_in(bed.scanner()).args(["-sS", "-e", "nosuch0", &t.v4.to_string()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch0"));
}
