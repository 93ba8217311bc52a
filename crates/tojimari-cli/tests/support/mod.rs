//! Shared by the test-bed tests: run tojimari (or nmap) in the bed's scanner namespace and read back
//! what it found.

#![allow(dead_code)]

pub mod daemons;
pub mod serve;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use tojimari_testbed::Netns;

/// (address, port) -> (state, reason)
pub type PortMap = BTreeMap<(String, u16), (String, String)>;

/// tojimari for a run that must end before it sends anything (a usage error): as root, in a network namespace
/// of its own whose only interface is a loopback that is down, so that if the option under test ever starts a
/// real scan, the test fails instead of sending probes through this machine's own routes.
pub fn isolated() -> Command {
    if !nix::unistd::geteuid().is_root() {
        return Command::new(env!("CARGO_BIN_EXE_tojimari"));
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--", env!("CARGO_BIN_EXE_tojimari")]);
    cmd
}

pub fn tojimari_in(ns: &Netns) -> Command {
    let mut cmd = ns.command(env!("CARGO_BIN_EXE_tojimari"));
    cmd.arg("scan");
    cmd
}

/// A raw scan cut short on purpose: the target answers on ports 1-3 (listeners) and drops 10-65535, and a
/// sequential SYN scan of all its ports at 10,000 probes per second (some 6 s) writes JSON Lines and XML.
/// The caller interrupts it somehow, waits for `child`, then [`CutScan::check_kept`].
pub struct CutScan {
    pub child: std::process::Child,
    pub addr: String,
    jsonl: String,
    xml: String,
    _scratch: Scratch,
    _listeners: tojimari_testbed::Listeners,
}

impl CutScan {
    /// Starts the scan in `bed` (one target), its stderr piped.
    pub fn start(bed: &tojimari_testbed::TestBed, name: &str) -> CutScan {
        let t = bed.target(0);
        let listeners = t.listen_tcp(&[1, 2, 3]).unwrap();
        t.firewall(
            "table inet slow {\n chain input { type filter hook input priority 0;\n  tcp dport 10-65535 drop\n }\n}\n",
        )
        .unwrap();
        let scratch = Scratch::new(name);
        let (jsonl, xml) = (scratch.path("out.jsonl"), scratch.path("out.xml"));
        // The checkpoint of the cut scan stays in the scratch directory, not in the tests' working directory.
        let checkpoint = scratch.path("cut.resume");
        let addr = t.v4.to_string();
        let child = tojimari_in(bed.scanner())
            .args(["-sS", "-p-", "-r", "-Pn", "-n", "--max-rate", "10000", "-oJ", &jsonl, "-oX", &xml, "--no-progress"])
            .args(["--checkpoint", &checkpoint])
            .arg(&addr)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        CutScan { child, addr, jsonl, xml, _scratch: scratch, _listeners: listeners }
    }

    /// What was found before the cut is written: ports 1-3 open in JSON Lines, whose summary and the
    /// well-formed XML file say the run ended in error.
    pub fn check_kept(&self) {
        let lines = parse_jsonl(&std::fs::read_to_string(&self.jsonl).unwrap());
        assert_eq!(lines.last().unwrap()["exit"], "error");
        let found = port_map(&lines);
        for p in [1u16, 2, 3] {
            assert_eq!(found[&(self.addr.clone(), p)].0, "open", "port {p} was found before the cut");
        }
        let xml = std::fs::read_to_string(&self.xml).unwrap();
        assert!(xml.trim_end().ends_with("</nmaprun>") && xml.contains("exit=\"error\""), "{xml}");
    }
}

pub use tojimari_testbed::Scratch;

/// Runs tojimari in `ns` with JSON Lines to a file, checks the exit status, and returns every port's
/// state and reason (from `port` lines and the `collapsed` groups of `host` lines) plus the JSON lines.
pub fn scan(ns: &Netns, args: &[&str]) -> (PortMap, Vec<serde_json::Value>, Output) {
    scan_with(tojimari_in(ns), args)
}

/// As [`scan`], but without CAP_NET_RAW (as an unprivileged user would run it): `setpriv` drops the
/// capability even for root, so the connect engine and its TCP connect discovery are used.
pub fn scan_unprivileged(ns: &Netns, args: &[&str]) -> (PortMap, Vec<serde_json::Value>, Output) {
    let mut cmd = ns.command("setpriv");
    cmd.args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", env!("CARGO_BIN_EXE_tojimari"), "scan"]);
    scan_with(cmd, args)
}

fn scan_with(mut cmd: Command, args: &[&str]) -> (PortMap, Vec<serde_json::Value>, Output) {
    let scratch = Scratch::new(&format!("scan{}", rand_suffix()));
    let jsonl = scratch.path("out.jsonl");
    let out = cmd.args(args).args(["-oJ", &jsonl, "--no-progress"]).output().expect("run tojimari");
    assert!(
        out.status.success(),
        "tojimari {args:?} failed: {:?}\nstderr: {}\nstdout: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(&jsonl).expect("json lines written");
    let lines = parse_jsonl(&text);
    (port_map(&lines), lines, out)
}

pub fn parse_jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}"))).collect()
}

pub fn port_map(lines: &[serde_json::Value]) -> PortMap {
    let mut map = PortMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in lines {
        match line["type"].as_str() {
            Some("port") => {
                let key = (line["addr"].as_str().unwrap().to_string(), line["port"].as_u64().unwrap() as u16);
                let value = (line["state"].as_str().unwrap().to_string(), line["reason"].as_str().unwrap().to_string());
                let proto = line["proto"].as_str().unwrap().to_string();
                assert!(seen.insert((key.clone(), proto)), "port {key:?} reported twice");
                // Keyed without the protocol: a run with both TCP and UDP keeps the last (tests of
                // such runs read the port lines themselves).
                map.insert(key, value);
            }
            Some("host") => {
                let addr = line["addr"].as_str().unwrap();
                for group in line["collapsed"].as_array().into_iter().flatten() {
                    for port in expand_ranges(group["ports"].as_str().unwrap()) {
                        let value = (
                            group["state"].as_str().unwrap().to_string(),
                            group["reason"].as_str().unwrap().to_string(),
                        );
                        assert!(map.insert((addr.to_string(), port), value).is_none(), "port {port} reported twice");
                    }
                }
            }
            _ => {}
        }
    }
    map
}

/// "1-3,22" -> [1, 2, 3, 22]
pub fn expand_ranges(s: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<u16>().unwrap()..=b.parse::<u16>().unwrap()),
            None => out.push(part.parse().unwrap()),
        }
    }
    out
}

pub fn host_lines(lines: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    lines.iter().filter(|l| l["type"] == "host").collect()
}

/// nmap's answer on the same namespace: port -> (state, reason), from its XML.
pub fn nmap_states(ns: &Netns, args: &[&str]) -> BTreeMap<u16, (String, String)> {
    let out = ns
        .command("nmap")
        .args(args)
        .args(["-oX", "-", "-n"])
        .output()
        .expect("nmap is installed (apt-get install nmap)");
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut map = BTreeMap::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        let port: u16 = attr(chunk, "portid").parse().unwrap();
        let state_el = &chunk[chunk.find("<state ").unwrap()..];
        map.insert(port, (attr(state_el, "state"), attr(state_el, "reason")));
    }
    map
}

fn attr(s: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let start = s.find(&key).unwrap_or_else(|| panic!("no {name} in {s}")) + key.len();
    s[start..start + s[start..].find('"').unwrap()].to_string()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A Python with python-libnmap, if there is one: `$TOJIMARI_PYTHON` (set by .ci/run) or python3.
pub fn python_with_libnmap() -> Option<String> {
    let candidates = [std::env::var("TOJIMARI_PYTHON").ok(), Some("python3".to_string())];
    candidates
        .into_iter()
        .flatten()
        .find(|py| Command::new(py).args(["-c", "import libnmap"]).output().is_ok_and(|o| o.status.success()))
}
