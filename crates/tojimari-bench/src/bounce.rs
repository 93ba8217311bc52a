//! Scenario `bounce`: the FTP bounce scan (`-b`) of 1024 ports through a real vsftpd, beside nmap -b.
//!
//! Target 1 accepts TCP only from target 0, where vsftpd runs with `port_promiscuous=YES`; the scanner cannot
//! reach target 1 at all. The ports are 1024-2047: vsftpd never connects below 1024 (it ends the session with
//! "500 OOPS: Illegal port request"), which would leave nothing to compare there, so the range starts at the
//! first port it serves. Of them, 24 are open (listeners), 4 dropped by the target's firewall (vsftpd answers
//! 425 after its `connect_timeout`, 10 s here, or tojimari gives up after 5 s), the rest closed. Each tool's
//! states are graded port by port against that ground truth, with wall times.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::bounce_ftp::{BounceFtp, Relay};
use tojimari_testbed::{TestBed, random_ports};

const FIRST: u16 = 1024;
const LAST: u16 = 2047;

/// port -> state.
type States = BTreeMap<u16, String>;

pub fn bounce(runs: usize, peer_timeout: u64) -> Result<(), String> {
    let bed = TestBed::new(2).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let (ftp, target) = (bed.target(0), bed.target(1));
    let outside: Vec<u16> = (1..FIRST).chain(LAST + 1..=u16::MAX).collect();
    let picked = random_ports(28, 16, &outside);
    let (open, dropped) = picked.split_at(24);
    let _listeners = target.listen_tcp(open).map_err(|e| e.to_string())?;
    let list = |ports: &[u16]| ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    target
        .firewall(&format!(
            "table inet tjb_bounce {{\n chain input {{ type filter hook input priority 0; policy accept;\n  \
             tcp dport {{ {} }} drop\n  meta l4proto tcp ip saddr != {} drop\n }}\n}}\n",
            list(dropped),
            ftp.v4
        ))
        .map_err(|e| e.to_string())?;
    let _server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Promiscuous, 0).map_err(|e| e.to_string())?;
    let truth: States = (FIRST..=LAST)
        .map(|p| {
            let state = if open.contains(&p) {
                "open"
            } else if dropped.contains(&p) {
                "filtered"
            } else {
                "closed"
            };
            (p, state.to_string())
        })
        .collect();
    println!(
        "== bounce: ports {FIRST}-{LAST} through vsftpd (port_promiscuous), {} open, {} dropped, the rest closed, \
         {runs} run(s) ==",
        open.len(),
        dropped.len()
    );

    let scratch = std::env::temp_dir().join(format!("tojimari-bench-bounce-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let jsonl = scratch.join("out.jsonl").to_string_lossy().into_owned();
    let xml = scratch.join("nmap.xml").to_string_lossy().into_owned();
    let (relay, addr, ports) = (ftp.v4.to_string(), target.v4.to_string(), format!("{FIRST}-{LAST}"));
    let tojimari = crate::tojimari_binary();
    let mut rows: Vec<(String, Vec<Duration>, States)> = Vec::new();
    let mut ours = (Vec::new(), States::new());
    let mut theirs = (Vec::new(), States::new());
    for _ in 0..runs {
        let args = ["scan", "-b", &relay, "-Pn", "-n", "--no-progress", "-p", &ports, "-oJ", &jsonl, &addr];
        let start = Instant::now();
        let out = bed
            .scanner()
            .command(&tojimari)
            .args(args)
            .args(crate::no_store(&tojimari, &args))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        ours.0.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("tojimari -b failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        ours.1 = tojimari_states(&std::fs::read_to_string(&jsonl).unwrap_or_default());

        let start = Instant::now();
        let mut nmap = bed.scanner().command("nmap");
        nmap.args(["-b", &relay, "-Pn", "-n", "-p", &ports, "-oX", &xml, &addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match run_with_timeout(nmap, Duration::from_secs(peer_timeout)) {
            Ok(true) => {
                theirs.0.push(start.elapsed());
                theirs.1 = nmap_states(&std::fs::read_to_string(&xml).unwrap_or_default(), FIRST..=LAST);
            }
            Ok(false) => println!("nmap -b: stopped after {peer_timeout} s (--peer-timeout), not done"),
            Err(e) => println!("nmap: {e}"),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    rows.push(("tojimari -b".into(), ours.0, ours.1));
    rows.push(("nmap -b".into(), theirs.0, theirs.1));

    println!(
        "{:<12} {:>10} {:>8} {:>8} {:>10} {:>8}  differences from the truth",
        "TOOL", "TIME", "OPEN", "CLOSED", "FILTERED", "EXACT"
    );
    for (tool, times, states) in &rows {
        if times.is_empty() {
            println!("{tool:<12} {:>10}", "-");
            continue;
        }
        let median = median(times);
        let count = |s: &str| states.values().filter(|v| *v == s).count();
        let wrong: Vec<String> = truth
            .iter()
            .filter(|(p, want)| states.get(p) != Some(want))
            .map(|(p, want)| format!("{p} {} (truth {want})", states.get(p).map_or("missing", String::as_str)))
            .collect();
        println!(
            "{tool:<12} {:>9.1}s {:>8} {:>8} {:>10} {:>8}  {}",
            median.as_secs_f64(),
            count("open"),
            count("closed"),
            count("filtered"),
            if wrong.is_empty() { "yes" } else { "no" },
            shorten(&wrong)
        );
    }
    Ok(())
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn shorten(wrong: &[String]) -> String {
    match wrong.len() {
        0 => String::new(),
        n if n <= 6 => wrong.join(", "),
        n => format!("{}, ... ({n} ports)", wrong[..6].join(", ")),
    }
}

/// Every port's state from tojimari's JSON Lines (`port` lines and the `collapsed` groups of `host` lines).
fn tojimari_states(text: &str) -> States {
    let mut states = States::new();
    for v in text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        match v["type"].as_str() {
            Some("port") => {
                if let (Some(port), Some(state)) = (v["port"].as_u64(), v["state"].as_str()) {
                    states.insert(port as u16, state.to_string());
                }
            }
            Some("host") => {
                for group in v["collapsed"].as_array().into_iter().flatten() {
                    let state = group["state"].as_str().unwrap_or_default();
                    for port in expand(group["ports"].as_str().unwrap_or_default()) {
                        states.insert(port, state.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    states
}

/// nmap's XML: the listed ports, and the rest of `range` in the state of its one `<extraports>`.
fn nmap_states(xml: &str, range: std::ops::RangeInclusive<u16>) -> States {
    let mut states = States::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        let port = crate::attr(chunk, "portid").and_then(|p| p.parse().ok());
        let state = chunk.find("<state ").and_then(|at| crate::attr(&chunk[at..], "state"));
        if let (Some(port), Some(state)) = (port, state) {
            states.insert(port, state.to_string());
        }
    }
    let extra: Vec<&str> = xml.split("<extraports ").skip(1).filter_map(|c| crate::attr(c, "state")).collect();
    if let [state] = extra.as_slice() {
        for port in range {
            states.entry(port).or_insert_with(|| state.to_string());
        }
    }
    states
}

/// "1-3,22" -> [1, 2, 3, 22]
fn expand(s: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<u16>().ok()),
        }
    }
    out
}

fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<bool, String> {
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let until = Instant::now() + limit;
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(true);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nmap_extraports_fill_the_range() {
        let xml = r#"<ports><extraports state="closed" count="2"></extraports>
<port protocol="tcp" portid="3"><state state="open" reason="x"/></port></ports>"#;
        let states = nmap_states(xml, 1..=3);
        assert_eq!(states.values().map(String::as_str).collect::<Vec<_>>(), ["closed", "closed", "open"]);
    }

    #[test]
    fn tojimari_collapsed_groups_expand() {
        let text = "{\"type\":\"port\",\"port\":5,\"state\":\"open\"}\n\
                    {\"type\":\"host\",\"collapsed\":[{\"state\":\"closed\",\"ports\":\"1-2,4\"}]}\n";
        let states = tojimari_states(text);
        assert_eq!(states.len(), 4);
        assert_eq!(states[&4], "closed");
    }
}
