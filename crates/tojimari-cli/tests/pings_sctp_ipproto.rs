//! Host discovery by SCTP INIT ping (`-PY`) and IP protocol ping (`-PO`), and `--adler32`, against hosts one
//! router away (on the local link ARP finds hosts first, for nmap as for tojimari), every host's state and
//! reason compared with nmap's in the same namespace:
//!
//! - `-PY`: a persona speaking SCTP (INIT ACK on a listening port, ABORT on another), a persona without
//!   SCTP and the Linux host of the hop (the kernel here has no SCTP: protocol unreachable), a missing host;
//! - `-PO`: the Linux host (echo replies, protocol and port unreachables), then with nft dropping all it
//!   sends but one kind of answer, a persona, a missing host;
//! - IPv6, where nmap 7.93 ignores the parameter problem "unrecognized next header" that is IPv6's protocol
//!   unreachable (RFC 8200 section 4), and even the INIT ACK answering its `-PY`: tojimari counts both
//!   (reasons `param-problem`, `init-ack`), docs/discovery.md;
//! - `--adler32`: captured probes carry RFC 2960's Adler-32 (worked out here), which a current stack drops
//!   and an RFC 2960 persona answers;
//! - bad input: one `error:` line, exit status 2.
//!
//! Needs root; without it each test says SKIPPED loudly, and under CI=true fails.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use support::*;
use tojimari_testbed::persona::{PersonaHost, SctpHandler, catalog};
use tojimari_testbed::routed::RoutedHops;
use tojimari_testbed::{Netns, TestBed, testbed_or_skip};

/// host -> (state, reason)
type Hosts = BTreeMap<String, (String, String)>;

fn pair(state: &str, reason: &str) -> (String, String) {
    (state.to_string(), reason.to_string())
}

/// tojimari's verdict on each host: `-sn -n` with `args`.
fn ours(ns: &Netns, args: &[&str], hosts: &[String]) -> Hosts {
    let mut all = vec!["-sn", "-n"];
    all.extend_from_slice(args);
    all.extend(hosts.iter().map(String::as_str));
    let (_, lines, _) = scan(ns, &all);
    host_lines(&lines)
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap().to_string();
            (s("addr"), (s("state"), s("reason")))
        })
        .collect()
}

/// nmap's verdict on each host, from its XML (`-v` lists the down hosts too).
fn nmaps(ns: &Netns, args: &[&str], hosts: &[String]) -> Hosts {
    let out = ns
        .command("nmap")
        .args(["-sn", "-n", "-v", "-oX", "-"])
        .args(args)
        .args(hosts)
        .output()
        .expect("nmap is installed");
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8_lossy(&out.stdout).to_string();
    let attr = |s: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        let start = s.find(&key).unwrap_or_else(|| panic!("no {name} in {s}")) + key.len();
        s[start..start + s[start..].find('"').unwrap()].to_string()
    };
    let mut found = Hosts::new();
    for chunk in xml.split("<host").skip(1).filter(|c| c.starts_with('>') || c.starts_with(' ')) {
        let status = &chunk[chunk.find("<status").unwrap()..];
        let addr = attr(&chunk[chunk.find("<address").unwrap()..], "addr");
        found.insert(addr, (attr(status, "state"), attr(status, "reason")));
    }
    for h in hosts {
        found.entry(h.clone()).or_insert_with(|| pair("down", "no-response"));
    }
    found
}

/// Runs both and checks that tojimari finds `want` and that nmap agrees, except on the hosts of `nmap_differs`
/// (host -> what nmap says instead).
fn check(ns: &Netns, args: &[&str], want: &[(&str, (&str, &str))], nmap_differs: &[(&str, (&str, &str))]) {
    let hosts: Vec<String> = want.iter().map(|(h, _)| h.to_string()).collect();
    let want: Hosts = want.iter().map(|(h, (s, r))| (h.to_string(), pair(s, r))).collect();
    let mine = ours(ns, args, &hosts);
    assert_eq!(mine, want, "tojimari -sn {args:?}");
    let mut nmap_want = want.clone();
    for (h, (s, r)) in nmap_differs {
        nmap_want.insert(h.to_string(), pair(s, r));
    }
    let theirs = nmaps(ns, args, &hosts);
    assert_eq!(theirs, nmap_want, "nmap -sn {args:?}");
}

/// A routed bed: the Linux host of hop 1 (198.18.1.2), a persona speaking SCTP on port 80 (198.18.1.200), one
/// without SCTP (198.18.1.201) and an RFC 2960 persona, SCTP with Adler-32 on port 80 (198.18.1.202).
struct Routed {
    hops: RoutedHops,
    personas: Vec<PersonaHost>,
}

const SCTP_SPEAKER: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 200);
const NO_SCTP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 201);
const OLD_SCTP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 202);
/// Nobody there: the router's ARP for it fails.
const MISSING: &str = "198.18.1.250";

fn v6_of(v4: Ipv4Addr) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0x18, 1, 0, 0, 0, u16::from(v4.octets()[3]))
}

fn routed(bed: &TestBed) -> Routed {
    let hops = bed.add_routed_hops(1).unwrap();
    hops.host(1).unlimit_icmp().unwrap();
    let persona = |v4: Ipv4Addr, sctp: Option<SctpHandler>| {
        let handlers: Vec<Box<dyn tojimari_testbed::persona::IpHandler>> =
            sctp.into_iter().map(|h| Box::new(h) as Box<dyn tojimari_testbed::persona::IpHandler>).collect();
        bed.add_persona_behind_with(&hops, 1, catalog::linux_2_6(), v4, Some(v6_of(v4)), handlers).unwrap()
    };
    let personas = vec![
        persona(SCTP_SPEAKER, Some(SctpHandler::new(&[80]))),
        persona(NO_SCTP, None),
        persona(OLD_SCTP, Some(SctpHandler::rfc2960(&[80]))),
    ];
    Routed { hops, personas }
}

#[test]
fn sctp_ping_finds_hosts_as_nmap_does() {
    let bed = testbed_or_skip!(0);
    let r = routed(&bed);
    let linux = r.hops.host(1).v4.to_string();
    let (speaker, no_sctp) = (SCTP_SPEAKER.to_string(), NO_SCTP.to_string());
    let up = |reason| ("up", reason);
    let ns = bed.scanner();
    // -PY alone is port 80: INIT ACK from the listener; the others say they lack SCTP.
    let want = [
        (speaker.as_str(), up("init-ack")),
        (no_sctp.as_str(), up("proto-unreach")),
        (linux.as_str(), up("proto-unreach")),
        (MISSING, ("down", "no-response")),
    ];
    check(ns, &["-PY"], &want, &[]);
    // A closed SCTP port: ABORT, which is an answer all the same.
    check(ns, &["-PY81"], &[(speaker.as_str(), up("abort"))], &[]);
    // Several ports and a range: the first answer decides (INIT ACK from 80 or ABORT from another).
    let mine = ours(ns, &["-PY81,80,82-83"], std::slice::from_ref(&speaker));
    assert!(matches!(mine[&speaker].1.as_str(), "init-ack" | "abort"), "{mine:?}");
    assert_eq!(mine[&speaker].0, "up");

    // IPv6: the SCTP speaker as over IPv4; the persona without SCTP sends no parameter problem (personas do
    // not model them), so it is down. Linux answers a parameter problem (unrecognized next header) for the
    // SCTP it lacks, IPv6's protocol unreachable, which nmap 7.93 does not count: it calls the host down.
    // nmap 7.93 calls the SCTP speaker down too: its --packet-trace shows the INIT ACK received (the same
    // that -6 -sY reads as open), and the ping ignores it. tojimari is right on both (docs/discovery.md).
    let six = |v4: Ipv4Addr| v6_of(v4).to_string();
    let (speaker6, no_sctp6) = (six(SCTP_SPEAKER), six(NO_SCTP));
    let linux6 = r.hops.host(1).v6.to_string();
    let want = [
        (speaker6.as_str(), up("init-ack")),
        (no_sctp6.as_str(), ("down", "no-response")),
        (linux6.as_str(), up("param-problem")),
        ("2001:db8:18:1::fa", ("down", "no-response")),
    ];
    let nmap_down = ("down", "no-response");
    check(ns, &["-6", "-PY"], &want, &[(speaker6.as_str(), nmap_down), (linux6.as_str(), nmap_down)]);
    drop(r.personas);
}

/// nft in the Linux host: everything it sends is dropped but what `keep` accepts (IPv4 only: neighbour
/// discovery goes on).
fn only_answers(host: &tojimari_testbed::Target, keep: &str) {
    let rules = format!(
        "flush ruleset\ntable ip tjpy_only {{\n chain output {{\n  type filter hook output priority 0; policy drop;\n  {keep} accept\n }}\n}}\n"
    );
    host.firewall(&rules).unwrap();
}

#[test]
fn protocol_ping_finds_hosts_as_nmap_does() {
    let bed = testbed_or_skip!(0);
    let r = routed(&bed);
    let host = r.hops.host(1);
    let linux = host.v4.to_string();
    let speaker = SCTP_SPEAKER.to_string();
    let ns = bed.scanner();
    let up = |reason| ("up", reason);
    let down = ("down", "no-response");
    // One protocol at a time: an answer in it is proto-response (nmap's name, an echo reply's too); an
    // ICMP error from the host itself names its code. Linux does not answer a unicast IGMP query.
    for (list, linux_says, persona_says) in [
        ("-PO1", up("proto-response"), up("proto-response")),
        ("-PO2", down, up("proto-unreach")),
        ("-PO4", up("proto-unreach"), up("proto-unreach")),
        ("-PO6", up("proto-response"), up("proto-response")),
        ("-PO17", up("port-unreach"), up("port-unreach")),
        ("-PO132", up("proto-unreach"), up("proto-response")),
        ("-PO200", up("proto-unreach"), up("proto-unreach")),
    ] {
        let want = [(linux.as_str(), linux_says), (speaker.as_str(), persona_says), (MISSING, down)];
        check(ns, &[list], &want, &[]);
    }
    // The defaults: up either way (the echo reply and IP-in-IP's unreachable race).
    let mine = ours(ns, &["-PO"], &[linux.clone(), MISSING.to_string()]);
    assert_eq!(mine[&linux].0, "up", "{mine:?}");
    assert!(matches!(mine[&linux].1.as_str(), "proto-response" | "proto-unreach"), "{mine:?}");
    assert_eq!(mine[MISSING], pair("down", "no-response"));

    // Only echo replies leave the host: -PO finds it by ICMP alone, IP-in-IP and TCP find nothing.
    only_answers(host, "icmp type echo-reply");
    check(ns, &["-PO"], &[(linux.as_str(), up("proto-response"))], &[]);
    check(ns, &["-PO4,6"], &[(linux.as_str(), down)], &[]);
    // Only protocol unreachables: IP-in-IP finds it, ICMP and UDP do not.
    only_answers(host, "icmp type destination-unreachable icmp code prot-unreachable");
    check(ns, &["-PO"], &[(linux.as_str(), up("proto-unreach"))], &[]);
    check(ns, &["-PO1,17"], &[(linux.as_str(), down)], &[]);
    host.firewall("flush ruleset").unwrap();

    // IPv6: ICMPv6 and TCP answer in their protocol; a protocol Linux lacks earns a parameter problem,
    // which nmap 7.93 does not count (see the module).
    let linux6 = host.v6.to_string();
    check(ns, &["-6", "-PO58,6"], &[(linux6.as_str(), up("proto-response"))], &[]);
    check(ns, &["-6", "-PO"], &[(linux6.as_str(), up("param-problem"))], &[(linux6.as_str(), down)]);
    drop(r.personas);
}

/// The SCTP packets of a pcap file: (IP TTL or hop limit, source address, SCTP bytes).
fn sctp_packets(path: &Path) -> Vec<(u8, IpAddr, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let incl = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &data[at + 16..at + 16 + incl];
        at += 16 + incl;
        let ip = &frame[14..];
        match ip[0] >> 4 {
            4 if ip[9] == 132 => {
                let ihl = usize::from(ip[0] & 15) * 4;
                let src = IpAddr::from(<[u8; 4]>::try_from(&ip[12..16]).unwrap());
                out.push((ip[8], src, ip[ihl..].to_vec()));
            }
            6 if ip[6] == 132 => {
                let src = IpAddr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap());
                out.push((ip[7], src, ip[40..].to_vec()));
            }
            _ => {}
        }
    }
    out
}

/// Adler-32 (RFC 1950) of an SCTP packet with its checksum field zeroed, by the definition.
fn adler32_of(sctp: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for (i, &byte) in sctp.iter().enumerate() {
        let byte = if (8..12).contains(&i) { 0 } else { byte };
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[test]
fn adler32_goes_on_every_sctp_probe_and_only_old_stacks_answer_it() {
    let bed = testbed_or_skip!(0);
    let r = routed(&bed);
    let ns = bed.scanner();
    let (speaker, old) = (SCTP_SPEAKER.to_string(), OLD_SCTP.to_string());
    let down = ("down", "no-response");
    // A current stack drops Adler-32 packets as corrupt, an RFC 2960 one drops CRC32c ones; nmap agrees.
    check(ns, &["-PY"], &[(speaker.as_str(), ("up", "init-ack")), (old.as_str(), down)], &[]);
    check(ns, &["-PY", "--adler32"], &[(speaker.as_str(), down), (old.as_str(), ("up", "init-ack"))], &[]);

    // What went on the wire, as the router took it in: -sn's -PY pings shaped by --ttl and a decoy (as
    // nmap shapes pings), -sY probes and -sO's SCTP probe, all with Adler-32 stored most significant byte
    // first.
    let dir = tojimari_testbed::Scratch::new(&format!("tjpy-adler-{}", std::process::id()));
    let pcap = dir.path("sctp.pcap");
    let router = r.hops.router(1);
    let tcpdump = tojimari_testbed::Tcpdump::start(router, "eth0", Path::new(&pcap), 256, "sctp").expect("tcpdump");
    let decoy = Ipv4Addr::new(198, 18, 0, 77);
    let args = ["-sn", "-PY80", "--adler32", "--ttl", "33", "-D", "198.18.0.77,ME", "-n", &old];
    let (_, lines, _) = scan(ns, &args);
    let (ports, _, _) = scan(ns, &["-sY", "-Pn", "-p", "80,81", "--adler32", "-n", &old]);
    let (sctp_o, _, _) = scan(ns, &["-sO", "-p", "132", "-Pn", "-n", "--adler32", &old]);
    let seen = sctp_packets(&tcpdump.stop());
    let host = host_lines(&lines)[0];
    assert_eq!((host["state"].as_str(), host["reason"].as_str()), (Some("up"), Some("init-ack")));
    assert_eq!(ports[&(old.clone(), 80)], pair("open", "init-ack"));
    assert_eq!(ports[&(old.clone(), 81)], pair("closed", "abort"));
    assert_eq!(sctp_o[&(old.clone(), 132)].0, "open", "the RFC 2960 stack answered -sO's SCTP probe");
    let ours = tojimari_testbed::SCANNER_V4;
    let sent: Vec<&(u8, IpAddr, Vec<u8>)> =
        seen.iter().filter(|(_, src, s)| *src != IpAddr::V4(OLD_SCTP) && s.len() >= 12).collect();
    assert!(sent.len() >= 5, "pings, probes and -sO's probe: {seen:?}");
    for (_, src, s) in &sent {
        assert_eq!(u32::from_be_bytes(s[8..12].try_into().unwrap()), adler32_of(s), "from {src}: {s:02x?}");
    }
    let shaped: Vec<_> = sent.iter().filter(|(ttl, _, _)| *ttl == 33).collect();
    assert!(shaped.iter().any(|(_, src, _)| *src == IpAddr::V4(decoy)), "the decoy's copies: {sent:?}");
    assert!(shaped.iter().any(|(_, src, _)| *src == IpAddr::V4(ours)), "ours: {sent:?}");
    // Without --adler32 the same probes carry CRC32c: not an Adler-32.
    let tcpdump = tojimari_testbed::Tcpdump::start(router, "eth0", Path::new(&pcap), 256, "sctp").expect("tcpdump");
    let (ports, _, _) = scan(ns, &["-sY", "-Pn", "-p", "80", "-n", &speaker]);
    let seen = sctp_packets(&tcpdump.stop());
    assert_eq!(ports[&(speaker.clone(), 80)], pair("open", "init-ack"));
    let probe = seen.iter().find(|(_, src, _)| *src == IpAddr::V4(ours)).expect("the probe was captured");
    assert_ne!(u32::from_be_bytes(probe.2[8..12].try_into().unwrap()), adler32_of(&probe.2));

    // -sY with --adler32 against the current stack: every probe dropped, filtered as nmap says.
    let (ports, _, _) = scan(ns, &["-sY", "-Pn", "-p", "80,81", "-n", "--adler32", "--max-retries", "1", &speaker]);
    let theirs = nmap_states(ns, &["-sY", "-Pn", "-p", "80,81", "--adler32", "--max-retries", "1", &speaker]);
    for p in [80, 81] {
        assert_eq!(ports[&(speaker.clone(), p)].0, "filtered");
        assert_eq!(theirs[&p].0, "filtered", "nmap");
    }
    drop(r.personas);
}

/// One `error:` line naming the problem, a hint, exit status 2.
fn refused(args: &[&str], wants: &str) {
    let out = support::isolated().arg("scan").args(args).args(["-n", "--no-progress", "198.18.0.2"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("error: ") && lines[0].contains(wants), "{args:?}: {stderr}");
    assert!(lines.iter().skip(1).all(|l| l.starts_with("hint:") || l.starts_with("  ")), "{stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing scanned");
}

#[test]
fn bad_ping_lists_are_refused_with_one_line() {
    refused(&["-sn", "-PY70000"], "-PY70000: port 70000 is out of range (0-65535)");
    refused(&["-sn", "-PO256"], "-PO256: protocol 256 is out of range (0-255)");
    refused(&["-sn", "-POfoo"], "-POfoo: no ip protocol service name matches \"foo\"");
    refused(&["-sn", "-PY80,,81"], "-PY80,,81: element 2");
    refused(&["-sn", "-PYT:80"], "-PYT:80: -PY takes ports without a protocol prefix");
    refused(&["-sn", "-PO1-300"], "protocol 300 is out of range");
    // -sn's pings take --ttl and -D only.
    refused(&["-sn", "-PY", "--data-length", "5"], "--data-length shapes the raw engine's port probes");
}
