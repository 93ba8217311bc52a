//! `-sV` end to end on more real Debian daemons (MariaDB, OpenLDAP, Samba, tinyproxy, Dante, chrony, xrdp,
//! oidentd) in a test-bed namespace, configured to deserve their exposure findings and configured safely,
//! scanned by the tojimari binary with `-sS -sU -sV`: names, products and versions compared with what the
//! daemons announce (tojimari-testbed's `Running::services`), findings with how each daemon was set up.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::daemons::{findings, has, port_lines};
use support::*;
use tojimari_testbed::daemons::{Daemon, Posture, Running, Service, Tunnel};
use tojimari_testbed::{Transport, testbed_or_skip};

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

fn proto(s: &Service) -> &'static str {
    match s.transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
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
    let Some(running) = support::daemons::start(target, &DAEMONS, Posture::Exposed) else { return };
    let spec = support::daemons::port_spec(&running, &[]);
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
    let Some(running) = support::daemons::start(target, &DAEMONS, Posture::Safe) else { return };
    // MariaDB and xrdp listen on the target's 127.0.0.1 only.
    let spec = support::daemons::port_spec(&running, &[3306, 3389]);
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
