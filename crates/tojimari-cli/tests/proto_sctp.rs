//! The IP protocol scan (`-sO`) and the SCTP INIT and COOKIE ECHO scans (`-sY`, `-sZ`) against targets that
//! really behave so, every state compared with nmap's run in the same namespace:
//!
//! - `-sO` of a Linux namespace (its kernel answers protocol unreachable for protocols it lacks), with nft
//!   dropping GRE and rejecting ESP and AH with ICMP administratively prohibited, over IPv4 and IPv6;
//! - `-sO` of a persona that speaks ICMP, TCP, UDP and SCTP only;
//! - `-sY` and `-sZ` of a persona speaking SCTP (the kernel here has none): INIT ACK or ABORT, and forged
//!   cookies dropped on listening ports;
//! - bad input: one `error:` line and exit status 2.
//!
//! Needs root; without it each test says SKIPPED loudly, and under CI=true fails.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;

use support::*;
use tojimari_testbed::persona::{SctpHandler, catalog, persona_v4, persona_v6};
use tojimari_testbed::{Netns, testbed_or_skip};

/// nmap's states for every port it scanned, the folded ones (`extraports`) included: port -> state.
fn nmap_all(ns: &Netns, args: &[&str], scanned: &[u16]) -> BTreeMap<u16, String> {
    let out = ns.command("nmap").args(args).args(["-oX", "-", "-n"]).output().expect("nmap is installed");
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8_lossy(&out.stdout).to_string();
    let value = |s: &str, name: &str| -> String {
        let key = format!("{name}=\"");
        let start = s.find(&key).unwrap_or_else(|| panic!("no {name} in {s}")) + key.len();
        s[start..start + s[start..].find('"').unwrap()].to_string()
    };
    let mut listed = BTreeMap::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        let port: u16 = value(chunk, "portid").parse().unwrap();
        listed.insert(port, value(&chunk[chunk.find("<state ").unwrap()..], "state"));
    }
    let folded: Vec<String> = xml.split("<extraports ").skip(1).map(|e| value(e, "state")).collect();
    assert!(folded.len() <= 1, "one folded state at most in these runs: {folded:?}");
    scanned
        .iter()
        .map(|&p| {
            let state = listed.get(&p).cloned().or_else(|| folded.first().cloned()).unwrap_or_default();
            (p, state)
        })
        .collect()
}

/// tojimari's states for `addr`: port -> state.
fn ours(ns: &Netns, args: &[&str], addr: &str) -> BTreeMap<u16, String> {
    let (map, _, _) = scan(ns, args);
    map.into_iter().filter(|((a, _), _)| a == addr).map(|((_, p), (state, _))| (p, state)).collect()
}

/// Every port where the two differ, as "port: ours vs nmap's".
fn differences(ours: &BTreeMap<u16, String>, nmap: &BTreeMap<u16, String>) -> Vec<String> {
    let ports: std::collections::BTreeSet<u16> = ours.keys().chain(nmap.keys()).copied().collect();
    ports
        .into_iter()
        .filter(|p| ours.get(p) != nmap.get(p))
        .map(|p| format!("{p}: {:?} vs nmap {:?}", ours.get(&p), nmap.get(&p)))
        .collect()
}

/// Runs tojimari with `-oX`: nmap's DTD accepts the XML (scanner renamed: the DTD only knows "nmap"), and
/// python-libnmap reads every port with its protocol. Returns the XML.
fn check_xml(ns: &Netns, args: &[&str], proto: &str, ports: usize) -> String {
    let scratch = Scratch::new(&format!("proto-xml-{}-{proto}", std::process::id()));
    let path = scratch.path("out.xml");
    let out = tojimari_in(ns).args(args).args(["-oX", &path, "--no-progress", "-n"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, xml.replace(r#"scanner="tojimari""#, r#"scanner="nmap""#)).unwrap();
    let dtd = std::path::Path::new("/usr/share/nmap/nmap.dtd");
    if dtd.exists() && std::process::Command::new("xmllint").arg("--version").output().is_ok() {
        let v = std::process::Command::new("xmllint").arg("--noout").arg("--dtdvalid").arg(dtd).arg(&path).output();
        let v = v.unwrap();
        assert!(v.status.success(), "{}\n{xml}", String::from_utf8_lossy(&v.stderr));
    } else {
        assert!(!tojimari_testbed::in_ci(), "xmllint and nmap.dtd are installed in CI");
    }
    match python_with_libnmap() {
        Some(py) => {
            let script = "import sys\nfrom libnmap.parser import NmapParser\nr = NmapParser.parse_fromfile(sys.argv[1])\n\
                          print(sum(1 for h in r.hosts for s in h.services if s.protocol == sys.argv[2]))";
            let o = std::process::Command::new(py).args(["-c", script, &path, proto]).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let listed: usize = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
            assert_eq!(listed, ports, "libnmap's {proto} ports");
        }
        None => assert!(!tojimari_testbed::in_ci(), "python-libnmap is installed in CI"),
    }
    xml
}

const FIREWALL: &str = "table inet tjo_proto {
    chain input {
        type filter hook input priority 0;
        meta l4proto 47 drop
        meta l4proto 50 reject with icmpx type admin-prohibited
        meta l4proto 51 reject with icmpx type admin-prohibited
    }
}";

#[test]
fn ip_protocol_scan_of_linux_matches_nmap() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    target.unlimit_icmp().unwrap();
    target.firewall(FIREWALL).unwrap();
    let all: Vec<u16> = (0..=255).collect();
    for (addr, six) in [(target.v4.to_string(), false), (target.v6.to_string(), true)] {
        let mut args = vec!["-sO", "-Pn", "-p", "0-255", addr.as_str()];
        if six {
            args.insert(0, "-6");
        }
        let mine = ours(bed.scanner(), &args, &addr);
        assert_eq!(mine.len(), 256, "every protocol reported");
        // Ground truth: the kernel's own protocols answer, the firewall's drop and rejects show, and a
        // protocol Linux lacks is closed.
        let icmp = if six { 58 } else { 1 };
        // Over IPv6, nft's reject sends nothing for an empty ESP packet, and the kernel answers an empty AH
        // header itself before the firewall (nmap sees the same): only the IPv4 rejects are ground truth.
        let mut truth =
            vec![(icmp, "open"), (6, "open"), (17, "open"), (47, "open|filtered"), (200, "closed"), (255, "closed")];
        if !six {
            truth.extend([(50, "filtered"), (51, "filtered")]);
        }
        for (p, want) in truth {
            assert_eq!(mine.get(&p).map(String::as_str), Some(want), "{addr}: protocol {p}");
        }
        let theirs = nmap_all(bed.scanner(), &args, &all);
        let diff = differences(&mine, &theirs);
        assert!(diff.is_empty(), "{addr}: tojimari and nmap differ on {} protocols: {diff:#?}", diff.len());
        if !six {
            // The listed protocols (those not folded into extraports): 1, 2, 6, 17, 47, 50, 51, 136.
            let listed = mine.values().filter(|s| *s != "closed").count();
            let xml = check_xml(bed.scanner(), &args, "ip", listed);
            assert!(xml.contains(r#"<scaninfo type="ipproto" protocol="ip" numservices="256" services="0-255"/>"#));
        }
    }
}

/// `-sO` of a Linux namespace that keeps the kernel's default ICMP rate limits (one protocol unreachable a
/// second to us after a burst of 6): the quick answer (`--defeat-icmp-ratelimit`) misses most closed
/// protocols, which proves the limit in force; the plain scan waits it out, says so in a note, and gets
/// every state right.
#[test]
fn ip_protocol_scan_waits_out_linux_default_icmp_rate_limits() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let limit = target.ns.read_sysctl("net.ipv4.icmp_ratelimit").unwrap();
    assert_eq!(limit.trim(), "1000", "a new namespace has the kernel's default limit");
    let addr = target.v4.to_string();
    let list = "1-40";
    let truth = |p: u16| match p {
        1 | 6 | 17 => "open",
        2 => "open|filtered",
        _ => "closed",
    };
    let quick = ours(bed.scanner(), &["-sO", "-Pn", "--defeat-icmp-ratelimit", "-p", list, &addr], &addr);
    let missed = (1..=40u16).filter(|p| quick.get(p).map(String::as_str) != Some(truth(*p))).count();
    assert!(missed >= 20, "the limit is in force: the quick answer missed only {missed} protocols: {quick:?}");
    let started = std::time::Instant::now();
    let (map, _, out) = scan(bed.scanner(), &["-sO", "-Pn", "-p", list, &addr]);
    let took = started.elapsed();
    let mine: BTreeMap<u16, String> =
        map.into_iter().filter(|((a, _), _)| *a == addr).map(|((_, p), (state, _))| (p, state)).collect();
    for p in 1..=40u16 {
        assert_eq!(mine.get(&p).map(String::as_str), Some(truth(p)), "protocol {p}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: ") && stderr.contains("ICMP protocol-unreachable errors at about"),
        "the wait is explained: {stderr}"
    );
    // 35 closed, 6 at once: about 30 s at one a second.
    assert!(took < std::time::Duration::from_secs(50), "{took:?}");
}

#[test]
fn ip_protocol_scan_of_a_persona_matches_nmap() {
    let bed = testbed_or_skip!(0);
    let (v4, v6) = (persona_v4(3).unwrap(), persona_v6(3));
    let persona = bed.add_persona_with(catalog::linux_2_6(), v4, v6, vec![Box::new(SctpHandler::new(&[80]))]).unwrap();
    let addr = v4.to_string();
    let args = ["-sO", "-Pn", "-p", "0-255", addr.as_str()];
    let mine = ours(bed.scanner(), &args, &addr);
    for p in [1, 6, 17, 132] {
        assert_eq!(mine[&p], "open", "protocol {p}, which the persona speaks");
    }
    // The persona's ICMP handler takes ICMPv6's number over IPv4 too, and stays silent there.
    assert_eq!(mine[&58], "open|filtered");
    let closed = mine.values().filter(|s| *s == "closed").count();
    assert_eq!(closed, 251, "every other protocol is unreachable: {mine:?}");
    let theirs = nmap_all(bed.scanner(), &args, &(0..=255).collect::<Vec<_>>());
    let diff = differences(&mine, &theirs);
    assert!(diff.is_empty(), "tojimari and nmap differ: {diff:#?}");
    drop(persona);
}

#[test]
fn sctp_init_and_cookie_echo_scans_of_a_persona_match_nmap() {
    let bed = testbed_or_skip!(0);
    let open = [80u16, 2905, 3868, 5060];
    let (v4, v6) = (persona_v4(4).unwrap(), persona_v6(4));
    let persona = bed.add_persona_with(catalog::linux_2_6(), v4, v6, vec![Box::new(SctpHandler::new(&open))]).unwrap();
    let mut scanned: Vec<u16> = (1..=200).collect();
    scanned.extend(open);
    scanned.sort_unstable();
    scanned.dedup();
    let list = "S:1-200,2905,3868,5060";
    for (addr, six) in [(v4.to_string(), false), (v6.expect("persona v6").to_string(), true)] {
        for (technique, open_state, closed_state) in [("-sY", "open", "closed"), ("-sZ", "open|filtered", "closed")] {
            let mut args = vec![technique, "-Pn", "-p", list, addr.as_str()];
            if six {
                args.insert(0, "-6");
            }
            let mine = ours(bed.scanner(), &args, &addr);
            assert_eq!(mine.len(), scanned.len(), "{technique} {addr}: every port reported");
            for p in &scanned {
                let want = if open.contains(p) { open_state } else { closed_state };
                assert_eq!(mine[p], want, "{technique} {addr}: port {p}");
            }
            let theirs = nmap_all(bed.scanner(), &args, &scanned);
            let diff = differences(&mine, &theirs);
            assert!(diff.is_empty(), "{technique} {addr}: tojimari and nmap differ: {diff:#?}");
            if !six && technique == "-sY" {
                let xml = check_xml(bed.scanner(), &args, "sctp", open.len());
                assert!(xml.contains(r#"<scaninfo type="sctpinit" protocol="sctp""#), "{xml}");
            }
        }
    }
    // SCTP beside TCP in one run, as nmap allows: each protocol its ports.
    let addr = v4.to_string();
    let tcp22 = if persona.persona().tcp_open(22) { "\"open\"" } else { "\"closed\"" };
    let (_, lines, _) = scan(bed.scanner(), &["-sS", "-sY", "-Pn", "-p", "T:22,S:80,81", &addr]);
    let mut seen: Vec<(String, u64, String)> = lines
        .iter()
        .filter(|l| l["type"] == "port")
        .map(|l| (l["proto"].as_str().unwrap().to_string(), l["port"].as_u64().unwrap(), l["state"].to_string()))
        .collect();
    seen.sort();
    let want = [("sctp", 80, "\"open\""), ("sctp", 81, "\"closed\""), ("tcp", 22, tcp22)];
    let want: Vec<(String, u64, String)> = want.iter().map(|(a, b, c)| (a.to_string(), *b, c.to_string())).collect();
    assert_eq!(seen, want);
    drop(persona);
}

/// One `error:` line on stderr and exit status 2 (1 for a missing privilege, as for every raw technique:
/// the command is right, the process cannot run it).
fn refused(args: &[&str], unprivileged: bool, wants: &str) {
    let mut cmd = if unprivileged {
        // Without CAP_NET_RAW, and (as root) in a network namespace of its own, as support::isolated().
        let setpriv = ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"];
        let mut c = if nix::unistd::geteuid().is_root() {
            let mut c = std::process::Command::new("unshare");
            c.args(["--net", "--"]).args(setpriv);
            c
        } else {
            let mut c = std::process::Command::new(setpriv[0]);
            c.args(&setpriv[1..]);
            c
        };
        c.arg(env!("CARGO_BIN_EXE_tojimari"));
        c
    } else {
        support::isolated()
    };
    // Each of these is refused while the command line is read; the namespace has no route to the address.
    let out = cmd.arg("scan").args(args).args(["-n", "--no-progress", "198.18.0.2"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(if unprivileged { 1 } else { 2 }), "{args:?}: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: ") && first.contains(wants), "{args:?}: {stderr}");
    assert!(
        stderr.lines().all(|l| l.starts_with("error:") || l.starts_with("hint:") || l.starts_with("  ")),
        "{stderr}"
    );
}

#[test]
fn bad_input_is_refused_with_one_line() {
    refused(&["-sO", "-p", "0-300"], false, "protocol 300 is out of range (0-255)");
    refused(&["-sO", "-p", "256"], false, "protocol 256 is out of range");
    refused(&["-sO", "-p", "nosuchproto"], false, "nosuchproto");
    refused(&["-sO", "-sS"], false, "-sO cannot be combined with -sS");
    refused(&["-sY", "-sZ"], false, "-sY and -sZ contradict each other");
    refused(&["-sO", "--top-ports", "10"], false, "do not apply to -sO");
    refused(&["-sY", "-sn"], false, "contradict");
    refused(&["-p", "X:80"], false, "unknown protocol prefix");
    if std::process::Command::new("setpriv").arg("--version").output().is_ok() {
        refused(&["-sY", "-p", "80"], true, "-sY");
        refused(&["-sO"], true, "-sO");
    }
}
