//! `-sV` end to end on more real Debian daemons (MariaDB, OpenLDAP, Samba, tinyproxy, Dante, chrony, xrdp,
//! oidentd) in a test-bed namespace, configured to deserve their exposure findings and configured safely,
//! scanned by the tojimari binary with `-sS -sU -sV`: names, products and versions compared with what the
//! daemons announce (tojimari-testbed's `Running::services`), findings with how each daemon was set up.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::*;
use tojimari_testbed::daemons::{self, Daemon, Posture, Running, Service, Tunnel};
use tojimari_testbed::{Target, Transport, in_ci, testbed_or_skip};

/// The daemons these tests run (`tests/version.rs` runs the first fourteen).
const DAEMONS: [Daemon; 8] = [
    Daemon::Mariadb,
    Daemon::Slapd,
    Daemon::Smbd,
    Daemon::Tinyproxy,
    Daemon::Danted,
    Daemon::Chronyd,
    Daemon::Xrdp,
    Daemon::Oidentd,
];

fn start(target: &Target, posture: Posture) -> Option<Vec<Running>> {
    let mut running = Vec::new();
    for daemon in DAEMONS {
        if !daemons::available(daemon) {
            assert!(!in_ci(), "{daemon:?} is not installed: .ci/install-daemons.sh installs it");
            eprintln!("SKIPPED: {daemon:?} is not installed (run .ci/install-daemons.sh)");
            return None;
        }
        running.push(daemons::start(target, daemon, posture).unwrap_or_else(|e| panic!("{daemon:?}: {e}")));
    }
    Some(running)
}

fn proto(s: &Service) -> &'static str {
    match s.transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
}

/// `T:..,U:..` for every port the daemons serve, plus the ports of the Safe daemons that listen on 127.0.0.1
/// only (they must be found closed).
fn port_spec(running: &[Running], closed_tcp: &[u16]) -> String {
    let mut tcp: Vec<String> = closed_tcp.iter().map(u16::to_string).collect();
    let mut udp = Vec::new();
    for s in running.iter().flat_map(|r| r.services()) {
        match s.transport {
            Transport::Tcp => tcp.push(s.port.to_string()),
            Transport::Udp => udp.push(s.port.to_string()),
        }
    }
    format!("T:{},U:{}", tcp.join(","), udp.join(","))
}

/// (proto, port) -> the port line.
fn port_lines(lines: &[Value]) -> BTreeMap<(String, u16), Value> {
    lines
        .iter()
        .filter(|l| l["type"] == "port")
        .map(|l| ((l["proto"].as_str().unwrap().to_string(), l["port"].as_u64().unwrap() as u16), l.clone()))
        .collect()
}

/// Finding ids per (proto, port).
fn findings(lines: &[Value]) -> BTreeMap<(String, u16), Vec<String>> {
    let mut map: BTreeMap<(String, u16), Vec<String>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l["type"] == "finding") {
        let key = (l["proto"].as_str().unwrap().to_string(), l["port"].as_u64().unwrap() as u16);
        map.entry(key).or_default().push(l["id"].as_str().unwrap().to_string());
    }
    map
}

fn has(found: &BTreeMap<(String, u16), Vec<String>>, proto: &str, port: u16, id: &str) -> bool {
    found.get(&(proto.to_string(), port)).is_some_and(|ids| ids.iter().any(|i| i == id))
}

/// Every service the daemons offer is open, named as the ground truth says (by a probe, not the port table),
/// and where the daemon announces a version, reported with it and with the product.
fn check_services(running: &[Running], ports: &BTreeMap<(String, u16), Value>) {
    for s in running.iter().flat_map(|r| r.services()) {
        let key = (proto(s).to_string(), s.port);
        let line = ports.get(&key).unwrap_or_else(|| panic!("no line for {}/{}", s.port, proto(s)));
        eprintln!("{}/{}: {line}", s.port, proto(s));
        assert_eq!(line["state"], "open", "{line}");
        assert_eq!(line["service"], s.name, "{}/{}: {line}", s.port, proto(s));
        assert_eq!(line["method"], "probed", "{line}");
        assert_eq!(line["tunnel"] == "ssl", s.tunnel == Tunnel::Tls, "{line}");
        if let Some(version) = &s.version {
            let seen = line["version"].as_str().unwrap_or_default();
            assert!(seen.contains(version.as_str()), "{}/{}: want version {version}, got {line}", s.port, proto(s));
            let product = line["product"].as_str().unwrap_or_default();
            assert!(product.contains(s.product), "{}/{}: want product {}, got {line}", s.port, proto(s), s.product);
        }
    }
}

#[test]
fn more_exposed_daemons_are_named_versioned_and_judged() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let Some(running) = start(target, Posture::Exposed) else { return };
    let spec = port_spec(&running, &[]);
    let addr = target.v4.to_string();
    let (_, lines, out) = scan(bed.scanner(), &["-sS", "-sU", "-sV", "-Pn", "-n", "-p", &spec, &addr]);
    check_services(&running, &port_lines(&lines));
    let found = findings(&lines);
    eprintln!("findings: {found:?}");
    for (proto, port, id) in [("tcp", 445, "smbv1"), ("tcp", 3389, "rdp-exposed"), ("tcp", 3306, "database-exposed")] {
        assert!(has(&found, proto, port, id), "{id} on {port}/{proto} missing: {found:?}");
    }
    let normal = String::from_utf8_lossy(&out.stdout);
    assert!(normal.contains("Findings:") && normal.contains("smbv1"), "{normal}");
}

#[test]
fn more_safe_daemons_get_no_findings_they_do_not_deserve() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let Some(running) = start(target, Posture::Safe) else { return };
    // MariaDB and xrdp listen on the target's 127.0.0.1 only.
    let spec = port_spec(&running, &[3306, 3389]);
    let addr = target.v4.to_string();
    let (states, lines, _) = scan(bed.scanner(), &["-sS", "-sU", "-sV", "-Pn", "-n", "-p", &spec, &addr]);
    check_services(&running, &port_lines(&lines));
    for port in [3306, 3389] {
        let state = states.get(&(addr.clone(), port)).map(|(state, _)| state.as_str());
        assert_eq!(state, Some("closed"), "{port}/tcp must be closed");
    }
    let found = findings(&lines);
    eprintln!("findings: {found:?}");
    for (proto, port, id) in [("tcp", 445, "smbv1"), ("tcp", 3389, "rdp-exposed"), ("tcp", 3306, "database-exposed")] {
        assert!(!has(&found, proto, port, id), "{id} fired on the safe {port}/{proto}: {found:?}");
    }
}
