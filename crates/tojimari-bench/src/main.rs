//! `cargo run --release -p tojimari-bench -- [SCENARIO...] [--runs N]`
//!
//! Builds the test bed (network namespaces, as root), sets up each scenario's ground truth, runs
//! tojimari and every installed peer (nmap, rustscan; masscan where the scenario is a SYN scan) inside
//! the scanner namespace, one after the other on the same bed, and prints one row per tool: wall time,
//! packets per second (counted by the scanner interface, so every tool is measured the same way),
//! recall and precision against the ports the bed really opened, CPU time and peak memory.
//! Peers that are not installed are listed as such, not skipped silently.
//!
//! Scenarios:
//! - `connect-all` (default): one host, all 65535 TCP ports, 300 open, TCP connect scan.

use std::collections::BTreeSet;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use tojimari_testbed::{Netns, TestBed, random_ports};

/// One tool's run of a scenario.
struct Row {
    tool: String,
    wall: Duration,
    packets: u64,
    found: BTreeSet<u16>,
    cpu: Duration,
    max_rss_kb: i64,
    note: String,
}

/// What a tool is told to do and how its output is read.
struct ToolRun {
    name: &'static str,
    program: String,
    args: Vec<String>,
    parse: fn(&str) -> BTreeSet<u16>,
}

fn main() -> ExitCode {
    let mut scenarios = Vec::new();
    let mut runs = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "-h" | "--help" => {
                println!("usage: tojimari-bench [connect-all] [--runs N]   (as root; builds its own test bed)");
                return ExitCode::SUCCESS;
            }
            s => scenarios.push(s.to_string()),
        }
    }
    if scenarios.is_empty() {
        scenarios.push("connect-all".into());
    }
    for s in &scenarios {
        let result = match s.as_str() {
            "connect-all" => connect_all(runs),
            other => Err(format!("unknown scenario {other:?} (known: connect-all)")),
        };
        if let Err(e) = result {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn tojimari_binary() -> String {
    // The release binary next to this one (cargo builds both with `cargo build --release`).
    let me = std::env::current_exe().expect("own path");
    let bin = me.with_file_name("tojimari");
    if !bin.exists() {
        eprintln!("note: {} missing: run `cargo build --release` first", bin.display());
    }
    bin.to_string_lossy().into_owned()
}

fn connect_all(runs: usize) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    let open: BTreeSet<u16> = random_ports(300, 0xbe7c4, &[]).into_iter().collect();
    let _listeners = target.listen_tcp(&open.iter().copied().collect::<Vec<_>>()).map_err(|e| e.to_string())?;
    let addr = target.v4.to_string();
    let jsonl = std::env::temp_dir().join(format!("tojimari-bench-{}.jsonl", std::process::id()));
    let jsonl = jsonl.to_string_lossy().into_owned();
    let tools = vec![
        ToolRun {
            name: "tojimari -sT",
            program: tojimari_binary(),
            args: vec!["scan", "-sT", "-p-", "-Pn", "-n", "--no-progress", "-oJ", &jsonl, &addr]
                .into_iter()
                .map(String::from)
                .collect(),
            parse: parse_tojimari_jsonl,
        },
        ToolRun {
            name: "nmap -sT -T4",
            program: "nmap".into(),
            args: ["-sT", "-T4", "-p-", "-Pn", "-n", "-oX", "-", &addr].into_iter().map(String::from).collect(),
            parse: parse_nmap_xml,
        },
        ToolRun {
            name: "rustscan",
            program: "rustscan".into(),
            args: ["-a", &addr, "-r", "1-65535", "-g", "--ulimit", "5000"].into_iter().map(String::from).collect(),
            parse: parse_rustscan,
        },
    ];
    println!(
        "scenario connect-all: one host, all 65535 TCP ports, {} open, connect scan ({runs} run(s) each)",
        open.len()
    );
    println!(
        "{:<16} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9}  note",
        "tool", "time s", "pkts/s", "recall", "precision", "cpu s", "rss MB"
    );
    for tool in &tools {
        for _ in 0..runs {
            let row = match run_tool(bed.scanner(), tool, &jsonl) {
                Ok(row) => row,
                Err(e) => {
                    println!("{:<16} {e}", tool.name);
                    break;
                }
            };
            print_row(&row, &open);
        }
    }
    let _ = std::fs::remove_file(&jsonl);
    Ok(())
}

fn print_row(row: &Row, truth: &BTreeSet<u16>) {
    let hits = row.found.intersection(truth).count() as f64;
    let recall = if truth.is_empty() { 1.0 } else { hits / truth.len() as f64 };
    let precision = if row.found.is_empty() { 1.0 } else { hits / row.found.len() as f64 };
    let secs = row.wall.as_secs_f64();
    println!(
        "{:<16} {:>9.3} {:>10.0} {:>8.1}% {:>8.1}% {:>9.2} {:>9.1}  {}",
        row.tool,
        secs,
        row.packets as f64 / secs,
        recall * 100.0,
        precision * 100.0,
        row.cpu.as_secs_f64(),
        row.max_rss_kb as f64 / 1024.0,
        row.note
    );
}

/// Packets the scanner namespace sent (its interface's counter), so every tool is measured alike.
fn tx_packets(ns: &Netns) -> u64 {
    ns.command("cat")
        .arg("/sys/class/net/eth0/statistics/tx_packets")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

fn run_tool(ns: &Netns, tool: &ToolRun, jsonl: &str) -> Result<Row, String> {
    if Command::new("sh")
        .args(["-c", &format!("command -v {}", tool.program)])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
        && !std::path::Path::new(&tool.program).exists()
    {
        return Err(format!("not installed ({})", tool.program));
    }
    let before = tx_packets(ns);
    let start = Instant::now();
    let child = ns
        .command(&tool.program)
        .args(&tool.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let pid = child.id() as libc::pid_t;
    // Read the output on threads so a chatty tool cannot block on a full pipe while we wait.
    let mut child = child;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let (status, usage) = wait_with_rusage(pid)?;
    let wall = start.elapsed();
    std::mem::forget(child); // already reaped by wait4
    let packets = tx_packets(ns).saturating_sub(before);
    let out = out_thread.join().unwrap_or_default();
    let err = err_thread.join().unwrap_or_default();
    let text = if tool.name.starts_with("tojimari") { std::fs::read_to_string(jsonl).unwrap_or_default() } else { out };
    let note = if status == 0 { String::new() } else { format!("exit {status}: {}", err.lines().next().unwrap_or("")) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Row {
        tool: tool.name.to_string(),
        wall,
        packets,
        found: (tool.parse)(&text),
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kb: usage.ru_maxrss,
        note,
    })
}

/// Waits for `pid` and returns its exit status with its resource usage (CPU time, peak memory).
fn wait_with_rusage(pid: libc::pid_t) -> Result<(i32, libc::rusage), String> {
    let mut status = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value that wait4 overwrites.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; both pointers are valid for the duration of the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    Ok((code, usage))
}

fn parse_tojimari_jsonl(text: &str) -> BTreeSet<u16> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "port" && v["state"] == "open")
        .filter_map(|v| v["port"].as_u64().map(|p| p as u16))
        .collect()
}

fn parse_nmap_xml(xml: &str) -> BTreeSet<u16> {
    xml.split("<port protocol=")
        .skip(1)
        .filter(|chunk| chunk.contains("state=\"open\""))
        .filter_map(|chunk| {
            let start = chunk.find("portid=\"")? + 8;
            chunk[start..start + chunk[start..].find('"')?].parse().ok()
        })
        .collect()
}

/// rustscan -g prints `198.18.0.2 -> [22,80,443]`.
fn parse_rustscan(text: &str) -> BTreeSet<u16> {
    text.lines()
        .filter_map(|l| l.split_once("-> ["))
        .flat_map(|(_, rest)| {
            rest.trim_end_matches(']').split(',').filter_map(|p| p.trim().parse().ok()).collect::<Vec<u16>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_read_each_tool() {
        assert_eq!(parse_rustscan("198.18.0.2 -> [22,80]\n"), BTreeSet::from([22, 80]));
        let xml = r#"<port protocol="tcp" portid="22"><state state="open"/></port><port protocol="tcp" portid="23"><state state="closed"/></port>"#;
        assert_eq!(parse_nmap_xml(xml), BTreeSet::from([22]));
        let jsonl = "{\"type\":\"port\",\"port\":22,\"state\":\"open\"}\n{\"type\":\"port\",\"port\":23,\"state\":\"closed\"}\n";
        assert_eq!(parse_tojimari_jsonl(jsonl), BTreeSet::from([22]));
    }
}
