//! `store-import`: `tojimari import` of a large nmap XML file (issue 13's target: at least 200,000 port rows
//! per second into SQLite, memory flat; PostgreSQL's rate reported too).
//!
//! The file is generated in nmap 7.93's layout (`<host>` with `<status>`, `<address>`, `<hostnames>`,
//! `<ports>` of `<port>` with `<state>` and `<service>`, `<times>`), 10,000 hosts of 100 listed ports each:
//! 1,000,000 `<port>` entries. Each host has 50 open ports with a service, 25 closed and 25 filtered, so no
//! state is folded (nmap and the store fold a state of more than 25 ports) and every entry becomes one
//! port row. The release binary imports it into a fresh SQLite file and into a fresh database of a
//! `PgServer`; the bench prints rows per second, elapsed time and the child's peak resident size, and the
//! same for a file ten times smaller, to show that memory does not grow with the file. Where the time goes:
//! the same file read by the reader alone, in this process (parse-only time), beside the import's total.
//! Files go to a directory of their own under the temporary directory (`TMPDIR`), removed at the end.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tojimari_store::import::Limits;
use tojimari_store::import::nmap_xml::{Reader, Record};
use tojimari_testbed::PgServer;

use crate::{tojimari_binary, watch_peak_rss};

const PORTS_PER_HOST: u32 = 100;

/// Removes the directory at the end.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the nmap 7.93-style file of `hosts` hosts to `path`, one host at a time.
fn generate(path: &Path, hosts: u32) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<?xml-stylesheet href=\"file:///usr/bin/../share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n\
         <!-- Nmap 7.93 scan initiated Sun Dec  6 14:00:00 2026 as: nmap -sS -sV -p 1-100 -oX - 198.18.0.0/18 -->\n\
         <nmaprun scanner=\"nmap\" args=\"nmap -sS -sV -p 1-100 -oX - 198.18.0.0/18\" start=\"1796565600\" startstr=\"Sun Dec  6 14:00:00 2026\" version=\"7.93\" xmloutputversion=\"1.05\">\n\
         <scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"100\" services=\"1-100\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n"
    )?;
    for i in 0..hosts {
        let (a, b) = (i / 250, i % 250 + 1);
        write!(
            out,
            "<host starttime=\"1796565601\" endtime=\"1796565660\"><status state=\"up\" reason=\"arp-response\" reason_ttl=\"0\"/>\n\
             <address addr=\"198.18.{a}.{b}\" addrtype=\"ipv4\"/>\n<address addr=\"02:00:00:00:{:02X}:{:02X}\" addrtype=\"mac\"/>\n\
             <hostnames>\n</hostnames>\n<ports>",
            a, b
        )?;
        for port in 1..=PORTS_PER_HOST {
            match port % 4 {
                0 => writeln!(
                    out,
                    "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"closed\" reason=\"reset\" reason_ttl=\"64\"/><service name=\"unknown\" method=\"table\" conf=\"3\"/></port>"
                )?,
                1 => writeln!(
                    out,
                    "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"filtered\" reason=\"no-response\" reason_ttl=\"0\"/><service name=\"unknown\" method=\"table\" conf=\"3\"/></port>"
                )?,
                _ => writeln!(
                    out,
                    "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/><service name=\"http\" product=\"nginx\" version=\"1.22.1\" method=\"probed\" conf=\"10\"><cpe>cpe:/a:igor_sysoev:nginx:1.22.1</cpe></service></port>"
                )?,
            }
        }
        out.write_all(b"</ports>\n<times srtt=\"112\" rttvar=\"54\" to=\"100000\"/>\n</host>\n")?;
    }
    writeln!(
        out,
        "<runstats><finished time=\"1796565700\" timestr=\"Sun Dec  6 14:01:40 2026\" summary=\"Nmap done; {hosts} IP addresses ({hosts} hosts up) scanned in 100.00 seconds\" elapsed=\"100.00\" exit=\"success\"/><hosts up=\"{hosts}\" down=\"0\" total=\"{hosts}\"/>\n</runstats>\n</nmaprun>"
    )?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The file read by the reader alone: (ports, time).
fn parse_only(path: &Path) -> Result<(u64, Duration), String> {
    let started = Instant::now();
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut ports = 0u64;
    for record in Reader::new(BufReader::with_capacity(64 * 1024, file), Limits::default()) {
        if let Record::Host(host) = record.map_err(|e| e.to_string())? {
            ports += host.ports.len() as u64;
        }
    }
    Ok((ports, started.elapsed()))
}

/// One `tojimari import`: (ports it reported, wall time, peak RSS in KiB).
fn import(db: &str, path: &Path) -> Result<(u64, Duration, i64), String> {
    let started = Instant::now();
    let child = Command::new(tojimari_binary())
        .args(["import", "--db", db])
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tojimari: {e}"))?;
    let finished = Arc::new(AtomicBool::new(false));
    let rss = watch_peak_rss(child.id(), finished.clone());
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    finished.store(true, Ordering::Relaxed);
    let peak = rss.join().unwrap_or(0);
    if !out.status.success() {
        return Err(format!("tojimari import failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    // `imported N hosts (M ports) as scan K`
    let line = String::from_utf8_lossy(&out.stdout);
    let ports = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix('('))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unexpected output: {line}"))?;
    Ok((ports, wall, peak))
}

fn row(what: &str, ports: u64, wall: Duration, peak_kb: Option<i64>) {
    let rate = ports as f64 / wall.as_secs_f64().max(1e-9);
    let rss = peak_kb.map_or("-".to_string(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0));
    println!("{what:<28} {ports:>9} {:>9.2} s {rate:>12.0} {rss:>12}", wall.as_secs_f64());
}

pub(crate) fn store_import(runs: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("tojimari-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let scratch = Scratch(dir);
    let big = scratch.0.join("nmap-1m.xml");
    let small = scratch.0.join("nmap-100k.xml");
    let big_bytes = generate(&big, 10_000).map_err(|e| format!("cannot write {}: {e}", big.display()))?;
    let small_bytes = generate(&small, 1_000).map_err(|e| format!("cannot write {}: {e}", small.display()))?;
    println!(
        "store-import: nmap 7.93-style XML, 10,000 hosts x {PORTS_PER_HOST} listed ports (50 open with a service, 25 closed, \
         25 filtered): {:.0} MiB; the small file 1,000 hosts, {:.1} MiB",
        big_bytes as f64 / (1 << 20) as f64,
        small_bytes as f64 / (1 << 20) as f64
    );
    let pg = PgServer::start().map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
    println!("{:<28} {:>9} {:>11} {:>12} {:>12}", "run", "ports", "elapsed", "ports/s", "peak RSS");
    for run in 0..runs {
        let (ports, wall) = parse_only(&big)?;
        row("parse only (in process)", ports, wall, None);
        for (name, path) in [("1M", &big), ("100k", &small)] {
            let db = scratch.0.join(format!("store-{name}-{run}.db"));
            let (ports, wall, peak) = import(&db.to_string_lossy(), path)?;
            row(&format!("sqlite, {name} ports"), ports, wall, Some(peak));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
        for (name, path, db) in [("1M", &big, "big"), ("100k", &small, "small")] {
            let url = pg
                .create_database(&format!("bench_import_{db}_{run}"))
                .map_err(|e| format!("cannot create a database: {e}"))?;
            let (ports, wall, peak) = import(&url, path)?;
            row(&format!("postgres, {name} ports"), ports, wall, Some(peak));
        }
    }
    Ok(())
}
