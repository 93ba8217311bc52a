//! Scenario `traceroute`: `--traceroute` through a chain of three routers, beside nmap --traceroute.
//!
//! Router 2 sends no time exceeded (nft), so hop 2 is silent on every trace. Host k sits k routers away
//! (198.18.k.2); host 3's namespace also holds 198.18.3.10-57, so 49 targets share one path and 51 hosts are
//! traced in all. Each tool scans ports 22 (open on hosts 2 and 3) and 23 (closed) with -sS and traces;
//! every host's trace, read from the XML, is graded against the chain's layout: right when the host is
//! reached and every hop shown is the router at that TTL (nmap leaves the hops it copied from another
//! host's trace out of its XML, so a hop not shown is not counted wrong), complete when every TTL that
//! answers is shown.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tojimari_testbed::TestBed;
use tojimari_testbed::routed::router_upstream;

/// host -> TTL -> hop address.
type Traces = BTreeMap<String, BTreeMap<u8, String>>;

fn traces(xml: &str) -> Traces {
    let mut out = Traces::new();
    for host in xml.split("</host>").filter_map(|h| h.rfind("<host>").or_else(|| h.rfind("<host ")).map(|at| &h[at..]))
    {
        let Some(addr) = host.find("<address ").and_then(|at| crate::attr(&host[at..], "addr")) else { continue };
        let Some(at) = host.find("<trace") else { continue };
        let hops = host[at..]
            .split("<hop ")
            .skip(1)
            .filter_map(|h| Some((crate::attr(h, "ttl")?.parse().ok()?, crate::attr(h, "ipaddr")?.to_string())))
            .collect();
        out.insert(addr.to_string(), hops);
    }
    out
}

pub fn traceroute(runs: usize, peer_timeout: u64) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let hops = bed.add_routed_hops(3).map_err(|e| e.to_string())?;
    hops.router(2)
        .nft(
            "table inet tjb_quiet {\n chain output { type filter hook output priority 0;\n  \
             icmp type time-exceeded drop\n }\n}\n",
        )
        .map_err(|e| e.to_string())?;
    let mut listeners = Vec::new();
    for k in [2, 3] {
        listeners.push(hops.host(k).listen_tcp(&[22]).map_err(|e| e.to_string())?);
    }
    for i in 10..58 {
        hops.host(3).ns.ip(&["addr", "add", &format!("198.18.3.{i}/32"), "dev", "eth0"]).map_err(|e| e.to_string())?;
    }
    // host -> its distance k (routers before it).
    let mut targets: Vec<(String, usize)> = (1..=3).map(|k| (hops.host(k).v4.to_string(), k)).collect();
    targets.extend((10..58).map(|i| (format!("198.18.3.{i}"), 3)));
    let truth = |k: usize, host: &str| -> BTreeMap<u8, String> {
        let mut t: BTreeMap<u8, String> =
            (1..=k).filter(|&r| r != 2).map(|r| (r as u8, router_upstream(r).to_string())).collect();
        t.insert(k as u8 + 1, host.to_string());
        t
    };
    println!(
        "== traceroute: {} hosts 2 to 4 hops away through 3 routers (router 2 silent), -sS -p 22,23, {runs} run(s) ==",
        targets.len()
    );
    let scratch = std::env::temp_dir().join(format!("tojimari-bench-trace-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let xml = scratch.join("out.xml").to_string_lossy().into_owned();
    let tojimari = crate::tojimari_binary();
    println!("{:<22} {:>8} {:>8} {:>8} {:>9}  notes", "TOOL", "TIME", "TRACED", "RIGHT", "COMPLETE");
    for (tool, program) in [("tojimari --traceroute", tojimari.as_str()), ("nmap --traceroute", "nmap")] {
        let mut times = Vec::new();
        let mut last = Traces::new();
        for _ in 0..runs {
            let mut args: Vec<String> = Vec::new();
            if program != "nmap" {
                args.extend(["scan", "--no-progress"].map(String::from));
            }
            args.extend(["-sS", "-p", "22,23", "-n", "--traceroute", "-oX", &xml].map(String::from));
            args.extend(targets.iter().map(|(t, _)| t.clone()));
            let mut cmd = bed.scanner().command(program);
            cmd.args(&args).args(crate::no_store(program, &args)).stdin(Stdio::null()).stdout(Stdio::null());
            cmd.stderr(Stdio::null());
            let start = Instant::now();
            let mut child = cmd.spawn().map_err(|e| format!("{program}: {e}"))?;
            let limit = Duration::from_secs(peer_timeout);
            let status = loop {
                if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                    break Some(status);
                }
                if start.elapsed() > limit {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            match status {
                Some(s) if s.success() => times.push(start.elapsed()),
                Some(s) => return Err(format!("{tool} failed: {s}")),
                None => println!("{tool}: stopped after {peer_timeout} s (--peer-timeout)"),
            }
            last = traces(&std::fs::read_to_string(&xml).unwrap_or_default());
        }
        if times.is_empty() {
            println!("{tool:<22} {:>8}", "-");
            continue;
        }
        times.sort();
        let median = times[times.len() / 2];
        let mut right = 0;
        let mut complete = 0;
        let mut wrong = Vec::new();
        let mut incomplete = Vec::new();
        for (host, k) in &targets {
            let want = truth(*k, host);
            let Some(got) = last.get(host) else {
                wrong.push(format!("{host}: no trace"));
                continue;
            };
            let shown_right = got.iter().all(|(ttl, addr)| want.get(ttl) == Some(addr));
            if shown_right && got.get(&(*k as u8 + 1)) == Some(host) {
                right += 1;
            } else {
                wrong.push(format!("{host}: {got:?}"));
            }
            if got == &want {
                complete += 1;
            } else if shown_right {
                incomplete.push(format!("{host} shows {:?}", got.keys().collect::<Vec<_>>()));
            }
        }
        let notes = match (wrong.len(), incomplete.len()) {
            (0, 0) => String::new(),
            (0, n) => format!("incomplete: {} ({n} hosts)", incomplete[..n.min(2)].join("; ")),
            (n, _) => format!("{} ({n} hosts)", wrong[..n.min(2)].join("; ")),
        };
        println!("{tool:<22} {:>7.2}s {:>8} {:>8} {:>9}  {notes}", median.as_secs_f64(), last.len(), right, complete);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    drop(listeners);
    Ok(())
}
