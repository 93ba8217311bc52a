//! The XML read by third-party nmap-XML consumers: python-libnmap and nmap's own ndiff.
//!
//! Both are optional on a machine; when one is missing its test passes but says loudly that the
//! check did not run (`pip install python-libnmap`; ndiff ships with nmap).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::xml::all_cases;

fn skipped(what: &str, how: &str) {
    // Written to the stderr handle directly: libtest captures `eprintln!` of passing tests, and this
    // message must be seen.
    let bar = "*".repeat(78);
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\n*** SKIPPED: {what} is not available, the XML was NOT checked with it.\n\
         *** To run this check: {how}\n{bar}\n"
    );
}

fn write_cases(dir_name: &str) -> (PathBuf, Vec<(&'static str, PathBuf)>) {
    let dir = std::env::temp_dir().join(format!("{dir_name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = all_cases()
        .into_iter()
        .map(|(name, xml)| {
            let path = dir.join(format!("{name}.xml"));
            std::fs::write(&path, xml).unwrap();
            (name, path)
        })
        .collect();
    (dir, files)
}

/// The Python to run python-libnmap with: `$TOJIMARI_PYTHON` (scripts/test sets Debian's, which has
/// python3-libnmap) or `python3`.
fn python() -> String {
    std::env::var("TOJIMARI_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn has_libnmap() -> bool {
    Command::new(python()).args(["-c", "import libnmap.parser"]).output().is_ok_and(|o| o.status.success())
}

const LIBNMAP_SCRIPT: &str = r#"
import json, sys
from libnmap.parser import NmapParser
out = {}
for name, path in zip(sys.argv[1::2], sys.argv[2::2]):
    r = NmapParser.parse_fromfile(path)
    out[name] = {
        "version": r.version,
        "summary": r.summary,
        "elapsed": r.elapsed,
        "hosts_up": r.hosts_up,
        "hosts_total": r.hosts_total,
        "hosts": [
            {
                "address": h.address,
                "status": h.status,
                "hostnames": h.hostnames,
                "extraports": h.extraports_state,
                "ports": [[s.port, s.protocol, s.state, s.service, s.reason] for s in h.services],
                "os_matches": h.os_match_probabilities() and [
                    [m.name, m.accuracy, [[c.type, c.vendor, c.osfamily, c.osgen, c.accuracy, c.cpelist and [str(p) for p in c.cpelist]] for c in m.osclasses]]
                    for m in h.os_match_probabilities()
                ],
                "os_ports_used": [[p["state"], p["proto"], p["portid"]] for p in (h.os_ports_used() or [])],
                "distance": h.distance,
                "uptime": h.uptime,
                "scripts": [[s["id"], s["output"]] for s in h.scripts_results],
            }
            for h in r.hosts
        ],
    }
print(json.dumps(out))
"#;

#[test]
fn python_libnmap_reads_the_xml() {
    if !has_libnmap() {
        skipped("python3 with python-libnmap", "scripts/test installs python3-libnmap (or pip install python-libnmap)");
        return;
    }
    let (dir, files) = write_cases("tojimari-libnmap");
    let mut cmd = Command::new(python());
    cmd.args(["-c", LIBNMAP_SCRIPT]);
    for (name, path) in &files {
        cmd.arg(name).arg(path);
    }
    let output = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();

    let mixed = &parsed["mixed"];
    assert_eq!(mixed["version"], "0.1.0");
    assert_eq!(mixed["hosts_up"], 1);
    assert_eq!(mixed["hosts_total"], 1);
    assert_eq!(mixed["elapsed"], 1.0);
    assert!(mixed["summary"].as_str().unwrap().starts_with("tojimari done at "));
    let host = &mixed["hosts"][0];
    assert_eq!(host["address"], "127.0.0.1");
    assert_eq!(host["status"], "up");
    assert_eq!(host["hostnames"], serde_json::json!(["localhost"]));
    assert_eq!(
        host["ports"],
        serde_json::json!([
            [22, "tcp", "open", "ssh", "syn-ack"],
            [80, "tcp", "open", "http", "syn-ack"],
            [631, "tcp", "open", "ipp", "syn-ack"]
        ])
    );

    let multi = &parsed["multi"];
    let addrs: Vec<_> = multi["hosts"].as_array().unwrap().iter().map(|h| h["address"].clone()).collect();
    assert_eq!(addrs, ["127.0.0.1", "::1", "198.51.100.7"]);
    assert_eq!(multi["hosts"][2]["status"], "down");
    assert_eq!(multi["hosts_up"], 2);
    assert_eq!(multi["hosts_total"], 3);

    let hostile = &parsed["hostile"]["hosts"][0];
    assert_eq!(hostile["hostnames"], serde_json::json!(["evil\"<x>&\\x1b\\x00\n--"]));
    assert_eq!(hostile["ports"][0][3], "ssh\\x7f'v2'");

    let few = &parsed["few"]["hosts"][0]["ports"];
    assert_eq!(few[4], serde_json::json!([30, "tcp", "filtered", "", "host-unreach"]));

    // -O: the matches with their accuracy, classes and CPEs, as python-libnmap hands them out.
    let stated = &parsed["os-stated"]["hosts"][0];
    assert_eq!(
        stated["os_matches"],
        serde_json::json!([[
            "Linux 5.0 - 6.8",
            100,
            [
                ["general purpose", "Linux", "Linux", "5.X", 100, ["cpe:/o:linux:linux_kernel:5"]],
                ["general purpose", "Linux", "Linux", "6.X", 100, ["cpe:/o:linux:linux_kernel:6"]]
            ]
        ]])
    );
    assert_eq!(
        stated["os_ports_used"],
        serde_json::json!([["open", "tcp", "22"], ["closed", "tcp", "1"], ["closed", "udp", "36950"]])
    );
    assert_eq!(stated["distance"], 1);
    assert_eq!(stated["uptime"], 44237);
    let guessed: Vec<(String, i64)> = parsed["os-guessed"]["hosts"][0]["os_matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m[0].as_str().unwrap().to_string(), m[1].as_i64().unwrap()))
        .collect();
    assert_eq!(
        guessed,
        [
            ("Linux 5.0 - 6.8".to_string(), 96),
            ("Linux 4.4 - 4.19".to_string(), 92),
            ("MikroTik RouterOS 7".to_string(), 90)
        ]
    );
    // A passive guess is no <os>: libnmap sees no match, and the guess as a host script.
    let passive = &parsed["os-passive"]["hosts"][0];
    assert_eq!(passive["os_matches"], serde_json::json!([]));
    assert_eq!(
        passive["scripts"],
        serde_json::json!([["os-passive", "Linux 5.X (85%), FreeBSD 13.X (60%); 1 hop away"]])
    );

    for name in ["open", "interrupted", "timeout", "ping", "hostile", "os-none"] {
        assert!(parsed[name]["hosts"].is_array(), "{name}");
    }
}

fn ndiff() -> Option<&'static Path> {
    let path = Path::new("/usr/bin/ndiff");
    let works = Command::new(path).arg("--help").output().is_ok_and(|o| o.status.success());
    works.then_some(path)
}

#[test]
fn nmap_ndiff_compares_two_runs() {
    let Some(ndiff) = ndiff() else {
        skipped("nmap's ndiff", "apt-get install ndiff (or nmap, which ships it)");
        return;
    };
    let (dir, files) = write_cases("tojimari-ndiff");
    let path = |name: &str| files.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let output = Command::new(ndiff).arg(path("mixed")).arg(path("few")).output().unwrap();
    let xml_output = Command::new(ndiff).arg("--xml").arg(path("few")).arg(path("multi")).output().unwrap();
    let os_output = Command::new(ndiff).arg(path("os-stated")).arg(path("os-guessed")).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    // Exit status 1 means "differences found"; 2 would be an error reading the files.
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("localhost (127.0.0.1):"), "{text}");
    assert!(text.contains("-Not shown: 71 closed ports, 27 filtered ports"), "{text}");
    assert!(text.contains("+Not shown: 93 closed ports"), "{text}");
    assert!(text.contains("+1/tcp  filtered tcpmux"), "{text}");
    assert!(text.contains("+31/tcp filtered msg-auth"), "{text}");
    assert_eq!(xml_output.status.code(), Some(1), "{}", String::from_utf8_lossy(&xml_output.stderr));
    let xml = String::from_utf8(xml_output.stdout).unwrap();
    // ndiff reads the OS matches too: the stated run's one match, then the guessed run's further two.
    assert_eq!(os_output.status.code(), Some(1), "{}", String::from_utf8_lossy(&os_output.stderr));
    let os = String::from_utf8(os_output.stdout).unwrap();
    assert!(os.contains(" OS details:\n   Linux 5.0 - 6.8\n+  Linux 4.4 - 4.19\n+  MikroTik RouterOS 7\n"), "{os}");
    assert!(xml.contains("<address addr=\"::1\" addrtype=\"ipv6\"/>"), "{xml}");
}

#[test]
fn xmllint_validates_against_nmap_dtd() {
    let dtd = Path::new("/usr/share/nmap/nmap.dtd");
    let has_xmllint = Command::new("xmllint").arg("--version").output().is_ok_and(|o| o.status.success());
    if !has_xmllint || !dtd.exists() {
        skipped("xmllint with nmap's nmap.dtd", "apt-get install libxml2-utils nmap");
        return;
    }
    let (dir, files) = write_cases("tojimari-xmllint");
    for (name, path) in &files {
        // The DTD enumerates scanner as (nmap); everything else must validate as written.
        let xml = std::fs::read_to_string(path).unwrap();
        assert_eq!(xml.matches(r#"scanner="tojimari""#).count(), 1);
        std::fs::write(path, xml.replace(r#"scanner="tojimari""#, r#"scanner="nmap""#)).unwrap();
        let output = Command::new("xmllint").arg("--noout").arg("--dtdvalid").arg(dtd).arg(path).output().unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
