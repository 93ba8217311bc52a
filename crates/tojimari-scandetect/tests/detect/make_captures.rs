//! Regenerates the capture fixtures in `tests/captures/` on a 1-target test bed.
//!
//! Ignored by default (it takes three minutes and needs root, nmap, masscan, zmap, socat, tcpdump):
//! `cargo test -p tojimari-scandetect --test detect make_captures -- --ignored --nocapture`.
//! Every scanner runs in the bed's scanner namespace (198.18.0.1) against the target
//! (198.18.0.2); tcpdump runs in the target namespace on `eth0` with snaplen 128.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use tojimari_testbed::{Netns, TestBed};

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

/// Runs `script` (sh -c) in the scanner namespace while tcpdump records on the target.
fn capture(bed: &TestBed, name: &str, script: &str) {
    let file = captures_dir().join(format!("{name}.pcap"));
    let target: &Netns = &bed.target(0).ns;
    let mut dump = target.command("tcpdump");
    dump.args(["-i", "eth0", "-s", "128", "-U", "-n", "-w"]).arg(&file).arg("ip");
    let mut child = dump.spawn().expect("tcpdump");
    sleep(Duration::from_millis(1500));
    let out = bed.scanner().command("sh").args(["-c", script]).output().expect("scanner command");
    eprintln!("== {name}: {script}\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    sleep(Duration::from_millis(1500));
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let _ = child.wait();
}

fn mac_of(ns: &Netns) -> String {
    let out = ns.ip(&["-o", "link", "show", "eth0"]).expect("ip link");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let after = text.split("link/ether ").nth(1).expect("mac");
    after.split_whitespace().next().expect("mac").to_owned()
}

#[test]
#[ignore = "regenerates fixtures; needs root, nmap, masscan, zmap, tcpdump"]
fn make_captures() {
    let bed = TestBed::new(1).expect("test bed");
    let target = bed.target(0);
    target.unlimit_icmp().expect("unlimit icmp");
    let _tcp = target.listen_tcp(&[22, 80]).expect("tcp listeners");
    let _udp = target.listen_udp(&[53]).expect("udp listeners");
    let mac = mac_of(&target.ns);
    let t = target.v4;
    let only = std::env::var("ONLY").unwrap_or_default();
    let mut scans: Vec<(String, String)> = Vec::new();
    for flag in ["sS", "sT", "sF", "sN", "sX", "sA", "sW", "sM"] {
        scans.push((format!("nmap-{flag}"), format!("nmap -n -Pn -{flag} -T4 -p 1-200 {t}")));
    }
    scans.push(("nmap-sU".into(), format!("nmap -n -Pn -sU -T4 -p 1-60 {t}")));
    scans.push((
        "masscan".into(),
        // masscan 1.3.2 did not exit after `--wait` here (veth, no pcap timeout), hence the kill.
        format!("timeout -s KILL 20 masscan {t} -p1-200 --rate 1000 --wait 1 -e eth0 --router-mac {mac} --adapter-ip 198.18.0.1"),
    ));
    scans.push((
        "zmap".into(),
        format!(
            "echo > /tmp/tjm-zmap-blocklist; zmap -p 80 198.18.0.0/27 -i eth0 -G {mac} -S 198.18.0.1 -r 200 \
             -b /tmp/tjm-zmap-blocklist -c 1 -o /dev/null"
        ),
    ));
    scans.push((
        "benign".into(),
        format!(
            "for i in $(seq 60); do socat -u OPEN:/dev/null TCP:{t}:80; done; \
             for i in $(seq 20); do socat -u OPEN:/dev/null TCP:{t}:22; done; \
             for i in $(seq 12); do socat -u OPEN:/dev/null TCP:{t}:8080 2>/dev/null; done; \
             for i in $(seq 10); do echo query | socat -t 0.2 - UDP:{t}:53; done"
        ),
    ));
    for (name, script) in scans {
        if only.is_empty() || only.split(',').any(|o| o == name) {
            capture(&bed, &name, &script);
        }
    }
}
