//! Scenario `version`: service and version detection (`-sV`) on one test-bed host running every real
//! Debian daemon the bed can start (configured to deserve its exposure findings), plus three ports that
//! must get no false name: one answers random bytes, one accepts and stays silent, one closes at once.
//!
//! tojimari and nmap each scan exactly the daemons' ports with `-sS -sU -sV`; the table grades every port
//! against the ground truth the daemons announce (name, product, version), side by side, with times.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::daemons::{self, Posture, Tunnel};
use tojimari_testbed::{TestBed, Transport};

/// What one tool said about one port.
#[derive(Clone, Debug, Default)]
struct Seen {
    name: String,
    tunnel: bool,
    product: String,
    version: String,
}

/// (proto, port) -> what was seen.
type Answers = BTreeMap<(String, u16), Seen>;

/// Ports of the no-false-name servers: random bytes, silent, closes at once.
const JUNK: [(u16, &str); 3] = [(7001, "random bytes"), (7002, "silent"), (7003, "closes at once")];

pub fn version(runs: usize, peer_timeout: u64) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    let running = daemons::start_all(target, Posture::Exposed).map_err(|e| format!("daemons: {e}"))?;
    let junk = start_junk(&target.ns).map_err(|e| format!("junk servers: {e}"))?;
    let mut truth = Vec::new();
    for r in &running {
        truth.extend(r.services());
    }
    truth.sort_by_key(|s| (s.transport == Transport::Udp, s.port));
    let tcp: Vec<String> = truth
        .iter()
        .filter(|s| s.transport == Transport::Tcp)
        .map(|s| s.port.to_string())
        .chain(JUNK.iter().map(|(p, _)| p.to_string()))
        .collect();
    let udp: Vec<String> = truth.iter().filter(|s| s.transport == Transport::Udp).map(|s| s.port.to_string()).collect();
    let spec = format!("T:{},U:{}", tcp.join(","), udp.join(","));
    let addr = target.v4.to_string();
    println!(
        "== version: {} daemons, {} TCP + {} UDP ports with a service, {} junk ports, -sS -sU -sV, {runs} run(s) ==",
        running.len(),
        tcp.len() - JUNK.len(),
        udp.len(),
        JUNK.len()
    );
    let scratch = std::env::temp_dir().join(format!("tojimari-bench-version-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let jsonl = scratch.join("out.jsonl").to_string_lossy().into_owned();
    let xml = scratch.join("nmap.xml").to_string_lossy().into_owned();
    let tojimari = crate::tojimari_binary();
    let mut ours = (Vec::new(), Answers::new(), Vec::new());
    let mut theirs = (Vec::new(), Answers::new());
    // The older binary of --baseline, run after ours in each round: (times, answers).
    let mut before = (Vec::new(), Answers::new());
    for _ in 0..runs {
        let start = Instant::now();
        let out = bed
            .scanner()
            .command(&tojimari)
            .args(["scan", "-sS", "-sU", "-sV", "-Pn", "-n", "--no-progress", "-p", &spec, "-oJ", &jsonl, &addr])
            .args(crate::no_store(&tojimari, &["scan"]))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        ours.0.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("tojimari failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let text = std::fs::read_to_string(&jsonl).unwrap_or_default();
        ours.1 = parse_jsonl(&text);
        ours.2 = findings(&text);

        if let Some(old) = crate::BASELINE.get() {
            let start = Instant::now();
            let out = bed
                .scanner()
                .command(old)
                .args(["scan", "-sS", "-sU", "-sV", "-Pn", "-n", "--no-progress", "-p", &spec, "-oJ", &jsonl, &addr])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| e.to_string())?;
            before.0.push(start.elapsed());
            if !out.status.success() {
                return Err(format!("tojimari [before] failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            before.1 = parse_jsonl(&std::fs::read_to_string(&jsonl).unwrap_or_default());
        }

        let start = Instant::now();
        let mut nmap = bed.scanner().command("nmap");
        nmap.args(["-sS", "-sU", "-sV", "-Pn", "-n", "-p", &spec, "-oX", &xml, &addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match run_with_timeout(nmap, Duration::from_secs(peer_timeout)) {
            Ok(true) => {
                theirs.0.push(start.elapsed());
                theirs.1 = parse_nmap(&std::fs::read_to_string(&xml).unwrap_or_default());
            }
            Ok(false) => println!("nmap: stopped after {peer_timeout} s, not done"),
            Err(e) => println!("nmap: {e}"),
        }
    }
    drop(junk);

    println!(
        "{:<10} {:<11} {:<22} | {:<34} | {:<34}",
        "PORT", "TRUTH", "TRUTH PRODUCT/VERSION", "TOJIMARI", "NMAP -sV"
    );
    let mut score = [[0usize; 2]; 2]; // [tool][name ok, version ok]
    let mut versions_announced = 0;
    for s in &truth {
        let proto = if s.transport == Transport::Udp { "udp" } else { "tcp" };
        let key = (proto.to_string(), s.port);
        let tls = s.tunnel == Tunnel::Tls;
        let want_version = s.version.clone().unwrap_or_default();
        if !want_version.is_empty() {
            versions_announced += 1;
        }
        let mut cells = Vec::new();
        for (i, answers) in [&ours.1, &theirs.1].into_iter().enumerate() {
            let seen = answers.get(&key).cloned().unwrap_or_default();
            let name_ok = seen.name == s.name && seen.tunnel == tls;
            let version_ok = !want_version.is_empty() && seen.version.contains(&want_version);
            score[i][0] += usize::from(name_ok);
            score[i][1] += usize::from(version_ok);
            let mark = match (name_ok, want_version.is_empty() || version_ok) {
                (true, true) => "ok",
                (true, false) => "NO VERSION",
                _ => "WRONG",
            };
            cells.push(format!(
                "{}{} {} {} [{mark}]",
                if seen.tunnel { "ssl/" } else { "" },
                seen.name,
                seen.product,
                seen.version
            ));
        }
        println!(
            "{:<10} {:<11} {:<22} | {:<34} | {:<34}",
            format!("{}/{proto}", s.port),
            format!("{}{}", if tls { "ssl/" } else { "" }, s.name),
            format!("{} {}", s.product, want_version),
            cells[0],
            cells[1]
        );
    }
    for (port, what) in JUNK {
        let key = ("tcp".to_string(), port);
        let show =
            |a: &Answers| a.get(&key).map(|s| format!("{} {} {}", s.name, s.product, s.version)).unwrap_or_default();
        println!(
            "{:<10} {:<11} {:<22} | {:<34} | {:<34}",
            format!("{port}/tcp"),
            "(junk)",
            what,
            show(&ours.1),
            show(&theirs.1)
        );
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied()
    };
    if crate::BASELINE.get().is_some() {
        let names = truth
            .iter()
            .filter(|s| {
                let proto = if s.transport == Transport::Udp { "udp" } else { "tcp" };
                let seen = before.1.get(&(proto.to_string(), s.port)).cloned().unwrap_or_default();
                seen.name == s.name && seen.tunnel == (s.tunnel == Tunnel::Tls)
            })
            .count();
        match median(&mut before.0) {
            Some(t) => println!(
                "tojimari [before] (--baseline): names right {names}/{}, time (median of {runs}) {:.2} s",
                truth.len(),
                t.as_secs_f64()
            ),
            None => println!("tojimari [before] (--baseline): no run"),
        }
    }
    let ours_t = median(&mut ours.0);
    let theirs_t = median(&mut theirs.0);
    println!(
        "names right: tojimari {}/{n}, nmap {}/{n}; announced versions reported: tojimari {}/{versions_announced}, nmap {}/{versions_announced}",
        score[0][0],
        score[1][0],
        score[0][1],
        score[1][1],
        n = truth.len()
    );
    match (ours_t, theirs_t) {
        (Some(a), Some(b)) => println!(
            "time (median of {runs}): tojimari {:.2} s, nmap {:.2} s, ratio {:.3}x",
            a.as_secs_f64(),
            b.as_secs_f64(),
            a.as_secs_f64() / b.as_secs_f64()
        ),
        (Some(a), None) => println!("time: tojimari {:.2} s, nmap not done", a.as_secs_f64()),
        _ => {}
    }
    println!("findings (tojimari):");
    for f in &ours.2 {
        println!("  {f}");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    drop(running);
    Ok(())
}

/// The three no-false-name servers, as socat children in the target namespace (killed on drop).
struct Junk(Vec<Child>);

impl Drop for Junk {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_junk(ns: &tojimari_testbed::Netns) -> Result<Junk, String> {
    let mut children = Vec::new();
    let programs = ["SYSTEM:head -c 2048 /dev/urandom", "SYSTEM:sleep 60", "SYSTEM:true"];
    for ((port, _), program) in JUNK.iter().zip(programs) {
        let child = ns
            .command("socat")
            .args([format!("TCP-LISTEN:{port},fork,reuseaddr"), program.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        children.push(child);
    }
    std::thread::sleep(Duration::from_millis(300));
    Ok(Junk(children))
}

/// Runs `cmd`, killing it after `limit`; true when it finished.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> Result<bool, String> {
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let until = Instant::now() + limit;
    loop {
        if let Some(_status) = child.try_wait().map_err(|e| e.to_string())? {
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

fn parse_jsonl(text: &str) -> Answers {
    let mut answers = Answers::new();
    for v in text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        if v["type"] != "port" {
            continue;
        }
        let (Some(proto), Some(port)) = (v["proto"].as_str(), v["port"].as_u64()) else { continue };
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        answers.insert(
            (proto.to_string(), port as u16),
            Seen { name: s("service"), tunnel: v["tunnel"] == "ssl", product: s("product"), version: s("version") },
        );
    }
    answers
}

fn findings(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "finding")
        .map(|v| {
            format!(
                "{}/{} {} [{}]: {}",
                v["port"],
                v["proto"].as_str().unwrap_or(""),
                v["id"].as_str().unwrap_or(""),
                v["severity"].as_str().unwrap_or(""),
                v["evidence"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Reads nmap's XML `<port protocol portid>` elements and their `<service>` attributes.
fn parse_nmap(xml: &str) -> Answers {
    let mut answers = Answers::new();
    for chunk in xml.split("<port ").skip(1) {
        let chunk = &chunk[..chunk.find("</port>").unwrap_or(chunk.len())];
        let (Some(proto), Some(port)) = (crate::attr(chunk, "protocol"), crate::attr(chunk, "portid")) else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else { continue };
        let Some(service) = chunk.find("<service ").map(|i| &chunk[i..]) else { continue };
        let service = &service[..service.find('>').unwrap_or(service.len())];
        let a = |k: &str| crate::attr(service, k).unwrap_or_default().replace("&amp;", "&");
        answers.insert(
            (proto.to_string(), port),
            Seen { name: a("name"), tunnel: a("tunnel") == "ssl", product: a("product"), version: a("version") },
        );
    }
    answers
}
