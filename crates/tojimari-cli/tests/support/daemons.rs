//! Shared by the `-sV` tests: start real daemons in a target, the port list they serve, and what a run's JSON
//! Lines said about each port.

use std::collections::BTreeMap;

use serde_json::Value;
use tojimari_testbed::daemons::{self, Daemon, Posture, Running};
use tojimari_testbed::{Target, Transport, in_ci};

/// Starts `list` in `target` with `posture`; `None` (skipped loudly, or failed in CI) when one is missing.
pub fn start(target: &Target, list: &[Daemon], posture: Posture) -> Option<Vec<Running>> {
    let mut running = Vec::new();
    for &daemon in list {
        if !daemons::available(daemon) {
            assert!(!in_ci(), "{daemon:?} is not installed: scripts/test installs it");
            eprintln!("SKIPPED: {daemon:?} is not installed (run scripts/test)");
            return None;
        }
        running.push(daemons::start(target, daemon, posture).unwrap_or_else(|e| panic!("{daemon:?}: {e}")));
    }
    Some(running)
}

/// `T:..,U:..` for every port the daemons serve, plus `closed_tcp` (ports that must be found closed).
pub fn port_spec(running: &[Running], closed_tcp: &[u16]) -> String {
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
pub fn port_lines(lines: &[Value]) -> BTreeMap<(String, u16), Value> {
    lines
        .iter()
        .filter(|l| l["type"] == "port")
        .map(|l| ((l["proto"].as_str().unwrap().to_string(), l["port"].as_u64().unwrap() as u16), l.clone()))
        .collect()
}

/// Finding ids per (proto, port).
pub type Findings = BTreeMap<(String, u16), Vec<String>>;

pub fn findings(lines: &[Value]) -> Findings {
    let mut map = Findings::new();
    for l in lines.iter().filter(|l| l["type"] == "finding") {
        let key = (l["proto"].as_str().unwrap().to_string(), l["port"].as_u64().unwrap() as u16);
        map.entry(key).or_default().push(l["id"].as_str().unwrap().to_string());
    }
    map
}

pub fn has(found: &Findings, proto: &str, port: u16, id: &str) -> bool {
    found.get(&(proto.to_string(), port)).is_some_and(|ids| ids.iter().any(|i| i == id))
}
