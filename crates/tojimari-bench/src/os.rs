//! Scenario `os`: OS detection (`-O`) beside `nmap -O`, both over the same targets in one run each.
//!
//! The targets, each with its truth (family, generation, hops, uptime where its timestamp clock says it):
//! - 198.19.0.0/24 minus the addresses the personas would make 256 in all: one Linux namespace answering
//!   the whole range (AnyIP), port 22 and 80 open, the rest closed;
//! - every stack persona of the test bed (`tojimari_testbed::persona`) on the bridge;
//! - Linux namespaces with their sysctls changed (no timestamps, no SACK, no window scaling, TTL 128,
//!   ECN on, timestamps without random offsets so that uptime can be checked);
//! - a Linux host and a persona one and two routed hops away.
//!
//! Both tools scan `-p 22,80,81 -n` with `-O` and write XML; the XML gives each host's best `<osmatch>`, its
//! first `<osclass>`, `<distance>` and `<uptime>`. The table grades family (and generation, where the
//! truth has one), distance and uptime (within 10%) per target, then the time of the 256-host set.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// What one tool said of one host.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct OsSeen {
    pub name: String,
    pub accuracy: u32,
    pub family: String,
    /// The families of every class of the best match.
    pub families: Vec<String>,
    /// The generations of every class of the best match.
    pub generations: Vec<String>,
    pub distance: Option<u32>,
    pub uptime: Option<u64>,
}

/// The truth of one target.
#[derive(Clone, Debug)]
pub(crate) struct Truth {
    pub label: String,
    pub addr: String,
    pub family: String,
    /// Generations the facts allow naming (any of them is right); empty when the facts cannot tell.
    pub generations: Vec<String>,
    pub distance: u32,
    /// Seconds, where the timestamp clock gives it.
    pub uptime: Option<u64>,
}

/// Reads the hosts of an nmap-style XML file: address -> what the tool said.
pub(crate) fn parse_os_xml(xml: &str) -> BTreeMap<String, OsSeen> {
    let mut out = BTreeMap::new();
    for host in xml.split("<host ").skip(1) {
        let host = &host[..host.find("</host>").unwrap_or(host.len())];
        let Some(addr) = host.split("<address ").nth(1).and_then(|a| crate::attr(a, "addr")) else { continue };
        let mut seen = OsSeen::default();
        if let Some(m) = host.split("<osmatch ").nth(1) {
            seen.name = crate::attr(m, "name").unwrap_or_default().replace("&amp;", "&");
            seen.accuracy = crate::attr(m, "accuracy").and_then(|a| a.parse().ok()).unwrap_or(0);
            let m = &m[..m.find("</osmatch>").unwrap_or(m.len())];
            for c in m.split("<osclass ").skip(1) {
                let family = crate::attr(c, "osfamily").unwrap_or_default().to_string();
                if seen.family.is_empty() {
                    seen.family = family.clone();
                }
                seen.families.push(family);
                seen.generations.extend(crate::attr(c, "osgen").map(str::to_string));
            }
        }
        seen.distance = host.split("<distance ").nth(1).and_then(|d| crate::attr(d, "value")?.parse().ok());
        seen.uptime = host.split("<uptime ").nth(1).and_then(|d| crate::attr(d, "seconds")?.parse().ok());
        out.insert(addr.to_string(), seen);
    }
    out
}

/// One tool's run over `addrs`: its time and what it said per host.
pub(crate) fn run_os(
    ns: &tojimari_testbed::Netns,
    program: &str,
    args: &[&str],
    addrs: &[String],
    xml: &str,
    timeout: Duration,
) -> Result<(Duration, BTreeMap<String, OsSeen>), String> {
    let _ = std::fs::remove_file(xml);
    let start = Instant::now();
    let mut child = ns
        .command(program)
        .args(args)
        .args(crate::no_store(program, args))
        .args(["-oX", xml])
        .args(addrs)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let wall = start.elapsed();
            if !status.success() {
                let mut err = String::new();
                if let Some(mut s) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut s, &mut err);
                }
                return Err(format!("{program} failed ({status}): {}", err.trim()));
            }
            let text = std::fs::read_to_string(xml).map_err(|e| format!("{xml}: {e}"))?;
            return Ok((wall, parse_os_xml(&text)));
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{program}: stopped after {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a class of `seen`'s best match names the truth's family.
pub(crate) fn family_right(truth: &Truth, seen: &OsSeen) -> bool {
    let fam = |s: &str| s.to_ascii_lowercase().replace(' ', "");
    seen.families.iter().any(|f| !f.is_empty() && fam(f) == fam(&truth.family))
}

/// Whether the best match names a generation the truth allows: the same, or the truth's major version as
/// `N.X` (`14` is `14.X`, `2.1` is `2.X`). `None` where the truth has no generation or the database names
/// none for the family (the facts do not allow one).
pub(crate) fn generation_right(truth: &Truth, seen: &OsSeen) -> Option<bool> {
    if truth.generations.is_empty() {
        return None;
    }
    let named: Vec<&String> = seen.generations.iter().filter(|g| !g.is_empty() && *g != "-").collect();
    if family_right(truth, seen) && named.is_empty() {
        return None;
    }
    let allowed = |g: &String| {
        let major = g.split('.').next().unwrap_or(g);
        [g.clone(), format!("{major}.X")]
    };
    Some(
        family_right(truth, seen)
            && truth
                .generations
                .iter()
                .flat_map(allowed)
                .any(|want| named.iter().any(|g| g.eq_ignore_ascii_case(&want))),
    )
}

/// Uptime within 10% of the truth, where the truth has one.
pub(crate) fn uptime_right(truth: &Truth, seen: &OsSeen) -> Option<bool> {
    let want = truth.uptime? as f64;
    Some(seen.uptime.is_some_and(|got| (got as f64 - want).abs() <= want * 0.10 + 1.0))
}

/// One cell of the table: the tool's best match, accuracy, and marks for family / generation / distance /
/// uptime.
pub(crate) fn cell(truth: &Truth, seen: Option<&OsSeen>) -> String {
    let Some(seen) = seen else { return "(no host)".into() };
    if seen.name.is_empty() {
        return format!("(no match) d={}", seen.distance.map_or("-".into(), |d| d.to_string()));
    }
    let mark = |b: Option<bool>| match b {
        Some(true) => "ok",
        Some(false) => "NO",
        None => "-",
    };
    format!(
        "{} ({}%) fam:{} gen:{} d={}:{} up:{}",
        seen.name,
        seen.accuracy,
        mark(Some(family_right(truth, seen))),
        mark(generation_right(truth, seen)),
        seen.distance.map_or("-".into(), |d| d.to_string()),
        mark(Some(seen.distance == Some(truth.distance))),
        mark(uptime_right(truth, seen)),
    )
}

/// The Linux variants: (label, sysctls). `tcp_timestamps=2` keeps timestamps without the random per-flow
/// offset, so the clock gives the uptime.
pub(crate) const VARIANTS: [(&str, &[(&str, &str)]); 6] = [
    ("linux ts=0", &[("net.ipv4.tcp_timestamps", "0")]),
    ("linux sack=0", &[("net.ipv4.tcp_sack", "0")]),
    ("linux wscale=0", &[("net.ipv4.tcp_window_scaling", "0")]),
    ("linux ttl=128", &[("net.ipv4.ip_default_ttl", "128")]),
    ("linux ecn=1 ttl=255", &[("net.ipv4.tcp_ecn", "1"), ("net.ipv4.ip_default_ttl", "255")]),
    ("linux ts=2 (uptime)", &[("net.ipv4.tcp_timestamps", "2")]),
];

/// This machine's uptime in seconds (every namespace shares the kernel's clock).
fn host_uptime() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    text.split_whitespace().next()?.parse::<f64>().ok().map(|s| s as u64)
}

/// The generations the running kernel's version allows (`6.12.3` -> `6.X`).
fn kernel_generation() -> Vec<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    release.split('.').next().map(|major| vec![format!("{major}.X")]).unwrap_or_default()
}

pub fn os(runs: usize, peer_timeout: u64) -> Result<(), String> {
    use tojimari_testbed::persona::{PersonaHost, catalog};
    let bed = tojimari_testbed::TestBed::new(1 + VARIANTS.len())
        .map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    bed.add_anyip_v4(0, "198.19.0.0/24").map_err(|e| e.to_string())?;
    let mut listeners = Vec::new();
    let linux = |label: &str, addr: String, distance: u32, uptime: Option<u64>| Truth {
        label: label.into(),
        addr,
        family: "Linux".into(),
        generations: kernel_generation(),
        distance,
        uptime,
    };
    let persona_truth = |label: String, host: &PersonaHost| {
        let t = host.truth();
        Truth {
            label,
            addr: host.v4().to_string(),
            family: t.family.into(),
            generations: if t.generation.is_empty() { Vec::new() } else { vec![t.generation.to_string()] },
            distance: u32::from(host.distance()),
            uptime: host.expected_uptime().map(|d| d.as_secs()),
        }
    };
    // Personas on the bridge (they join the timed set) and behind one and two routed hops.
    let personas = bed.add_personas(catalog::all()).map_err(|e| format!("personas: {e}"))?;
    let hops = bed.add_routed_hops(2).map_err(|e| format!("routed hops: {e}"))?;
    let mut behind = Vec::new();
    for k in 1..=2usize {
        let host = hops.host(k);
        listeners.push(host.listen_tcp(&[22, 80]).map_err(|e| e.to_string())?);
        let addr = std::net::Ipv4Addr::new(198, 18, k as u8, 200);
        let persona = if k == 1 { catalog::windows_10() } else { catalog::freebsd_14() };
        behind.push(bed.add_persona_behind(&hops, k, persona, addr, None).map_err(|e| format!("persona behind: {e}"))?);
    }

    let mut set256: Vec<Truth> = Vec::new();
    let extra: Vec<Truth> = personas.iter().map(|p| persona_truth(p.truth().name.to_string(), p)).collect();
    let mut others: Vec<Truth> = Vec::new();
    listeners.push(bed.target(0).listen_tcp(&[22, 80]).map_err(|e| e.to_string())?);
    let anyip = 256 - extra.len();
    for i in 0..anyip {
        set256.push(linux("linux anyip", format!("198.19.0.{i}"), 1, None));
    }
    set256.extend(extra);
    for (i, (label, settings)) in VARIANTS.iter().enumerate() {
        let t = bed.target(1 + i);
        t.ns.sysctls(settings).map_err(|e| e.to_string())?;
        listeners.push(t.listen_tcp(&[22, 80]).map_err(|e| e.to_string())?);
        let uptime = settings.contains(&("net.ipv4.tcp_timestamps", "2")).then(host_uptime).flatten();
        others.push(linux(label, t.v4.to_string(), 1, uptime));
    }
    for k in 1..=2usize {
        let distance = u32::from(tojimari_testbed::RoutedHops::distance(k));
        others.push(linux(&format!("linux {k} hop(s) away"), hops.host(k).v4.to_string(), distance, None));
        let p = &behind[k - 1];
        others.push(persona_truth(format!("{} {k} hop(s) away", p.truth().name), p));
    }

    let scratch = std::env::temp_dir().join(format!("tojimari-bench-os-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let xml = |name: &str| scratch.join(name).to_string_lossy().into_owned();
    let ours = crate::tojimari_binary();
    let timeout = Duration::from_secs(peer_timeout);
    // Every persona has an open port among these; 81 is closed everywhere.
    let common = ["-O", "-p", "22,80,81,135,445", "-n"];
    println!(
        "\nscenario os: -O beside nmap -O; {} hosts in the timed set ({} Linux AnyIP addresses, {} personas), {} more \
         targets graded ({runs} run(s) each)",
        set256.len(),
        anyip,
        set256.len() - anyip,
        others.len()
    );

    // Grading: every target, one run each.
    let every: Vec<Truth> = set256
        .iter()
        .filter(|t| t.label != "linux anyip")
        .chain(&others)
        .cloned()
        .chain(set256.first().cloned())
        .collect();
    let addrs: Vec<String> = every.iter().map(|t| t.addr.clone()).collect();
    let mut t_args: Vec<&str> = vec!["scan", "--no-progress"];
    t_args.extend(common);
    let (_, t_seen) = run_os(bed.scanner(), &ours, &t_args, &addrs, &xml("t-grade.xml"), timeout)?;
    let n_seen = match run_os(bed.scanner(), "nmap", &common, &addrs, &xml("n-grade.xml"), timeout) {
        Ok((_, seen)) => seen,
        Err(e) => {
            println!("nmap: {e}");
            BTreeMap::new()
        }
    };
    println!("{:<26} {:<13} {:<16} | {:<66} | NMAP -O", "TARGET", "ADDRESS", "TRUTH", "TOJIMARI -O");
    let mut right = [0usize; 2];
    for t in &every {
        let truth = format!("{} {} d={}", t.family, t.generations.join("/"), t.distance);
        println!(
            "{:<26} {:<13} {:<16} | {:<66} | {}",
            t.label,
            t.addr,
            truth,
            cell(t, t_seen.get(&t.addr)),
            cell(t, n_seen.get(&t.addr))
        );
        for (k, seen) in [&t_seen, &n_seen].iter().enumerate() {
            if seen.get(&t.addr).is_some_and(|s| family_right(t, s)) {
                right[k] += 1;
            }
        }
    }
    println!("family right: tojimari {}/{}, nmap {}/{}", right[0], every.len(), right[1], every.len());

    // Timing: the 256-host set.
    let addrs: Vec<String> = set256.iter().map(|t| t.addr.clone()).collect();
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut found = [0usize; 2];
    for _ in 0..runs {
        let (wall, seen) = run_os(bed.scanner(), &ours, &t_args, &addrs, &xml("t-256.xml"), timeout)?;
        times[0].push(wall);
        found[0] = set256.iter().filter(|t| seen.get(&t.addr).is_some_and(|s| family_right(t, s))).count();
        match run_os(bed.scanner(), "nmap", &common, &addrs, &xml("n-256.xml"), timeout) {
            Ok((wall, seen)) => {
                times[1].push(wall);
                found[1] = set256.iter().filter(|t| seen.get(&t.addr).is_some_and(|s| family_right(t, s))).count();
            }
            Err(e) => println!("nmap: {e}"),
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied()
    };
    let (ours_t, nmap_t) = (median(&mut times[0]), median(&mut times[1]));
    println!("{:<12} {:>10} {:>16}", "TOOL", "TIME", "FAMILY RIGHT");
    for (name, t, f) in [("tojimari -O", ours_t, found[0]), ("nmap -O", nmap_t, found[1])] {
        let time = t.map_or("-".into(), |t| format!("{:.2}s", t.as_secs_f64()));
        println!("{name:<12} {time:>10} {:>12}/{}", f, set256.len());
    }
    if let (Some(a), Some(b)) = (ours_t, nmap_t) {
        println!("tojimari / nmap time: {:.3}x (target: at most 0.25x)", a.as_secs_f64() / b.as_secs_f64());
    }
    drop(listeners);
    drop(behind);
    drop(personas);
    drop(hops);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nmap_style_os_xml() {
        let xml = r#"<host starttime="1"><status state="up"/><address addr="198.18.0.2" addrtype="ipv4"/>
<os><portused state="open" proto="tcp" portid="22"/>
<osmatch name="Linux 5.0 - 6.2" accuracy="96" line="1"><osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="96"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass></osmatch></os>
<uptime seconds="3600" lastboot="x"/><distance value="1"/></host>
<host starttime="2"><address addr="198.18.0.3" addrtype="ipv4"/><distance value="2"/></host>"#;
        let seen = parse_os_xml(xml);
        let a = &seen["198.18.0.2"];
        assert_eq!(
            (a.name.as_str(), a.accuracy, a.family.as_str(), a.generations.join(",").as_str()),
            ("Linux 5.0 - 6.2", 96, "Linux", "5.X")
        );
        assert_eq!((a.distance, a.uptime), (Some(1), Some(3600)));
        let b = &seen["198.18.0.3"];
        assert!(b.name.is_empty() && b.distance == Some(2));
        let truth = Truth {
            label: "linux".into(),
            addr: "198.18.0.2".into(),
            family: "Linux".into(),
            generations: vec!["5.X".into(), "6.X".into()],
            distance: 1,
            uptime: Some(3500),
        };
        assert!(family_right(&truth, a));
        assert_eq!(generation_right(&truth, a), Some(true));
        assert_eq!(uptime_right(&truth, a), Some(true));
        assert!(!family_right(&truth, b));
    }
}
