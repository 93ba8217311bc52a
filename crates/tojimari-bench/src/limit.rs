//! The `limit` scenario: how far tojimari's sender is from what this machine can send at all.
//!
//! One bed, one target with every port closed (so each SYN is answered by a RST), reached at its own
//! address and at 16 AnyIP addresses (198.19.0.0/28). In each run, one after the other in the scanner
//! namespace:
//! 1. netsniff-ng's `trafgen` sends [`TRAFGEN_SYNS`] TCP SYNs (destination port counting up, random
//!    sequence numbers, IPv4 and TCP checksums computed by trafgen) to the target's address and MAC, from
//!    its PACKET_MMAP TX ring on both CPUs (`--cpus 2`). It is started with `--no-sock-mem` and
//!    `--notouch-irq`, so it changes no system-wide socket memory setting or IRQ affinity.
//! 2. tojimari sends about as many probes: `-sS -Pn --max-retries 0 -p1-65535` to the 16 AnyIP addresses
//!    (1,048,560 SYNs), with `-v` for its sender and ring drops. With `--baseline`, the older binary too.
//!
//! Each row: wall time of the process (start-up and tojimari's final wait included), frames the scanner's
//! eth0 sent and received (read 300 ms after the process ended, so late answers count), frames sent per
//! second, and tojimari's rate as a share of trafgen's in the same run (issue 11's target: at least 85%).
//! The two run one after the other, so a load spike from another process lands on one of them only: the
//! closing line compares the medians over all runs, the steadier figure with `--runs 3` or more.

use std::net::Ipv4Addr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tojimari_testbed::{Netns, TestBed};

use crate::engine_notes::{EngineNotes, parse_engine_notes};
use crate::scenarios::mac_of;
use crate::{baseline_binary, eth0_counter, tojimari_binary};

/// SYNs trafgen is asked to send.
pub(crate) const TRAFGEN_SYNS: u64 = 1_000_000;
/// The addresses tojimari scans, all ports each: 16 x 65535 = 1,048,560 probes.
const ANYIP: &str = "198.19.0.0/28";
/// The scanner namespace's address (the bed's fixed layout).
const SCANNER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// How long after a sender exits its answers may still come in.
const SETTLE: Duration = Duration::from_millis(300);

/// trafgen's packet configuration (its own config language, see trafgen(8)): one TCP SYN from `src` to
/// `dst` at the Ethernet address `dst_mac`, whose destination port counts 1..=65535 and source port
/// 40000..=60000 at run time, with a random sequence number; trafgen recomputes the IPv4 and TCP checksums
/// of every frame whose fields change at run time. Errors on a MAC that is not six hex pairs.
pub(crate) fn trafgen_config(dst_mac: &str, src: Ipv4Addr, dst: Ipv4Addr) -> Result<String, String> {
    let pairs: Vec<&str> = dst_mac.split(':').collect();
    if pairs.len() != 6 || pairs.iter().any(|p| p.len() != 2 || u8::from_str_radix(p, 16).is_err()) {
        return Err(format!("not an Ethernet address: {dst_mac:?}"));
    }
    Ok(format!(
        "# tojimari-bench limit: SYNs to closed ports, every one answered by a RST\n\
         {{\n  eth(da={dst_mac}),\n  ipv4(sa={src}, da={dst}, ttl=64, df),\n  \
         tcp(sp=dinc(40000, 60000), dp=dinc(1, 65535), seq=drnd(), syn, win=1024)\n}}\n"
    ))
}

/// Frames per second over `wall`; `None` for a zero time.
pub(crate) fn per_second(frames: u64, wall: Duration) -> Option<f64> {
    let secs = wall.as_secs_f64();
    (secs > 0.0).then(|| frames as f64 / secs)
}

/// `ours` as a percentage of `theirs`; `None` when either is unknown or `theirs` is zero.
pub(crate) fn share_percent(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    let (ours, theirs) = (ours?, theirs?);
    (theirs > 0.0).then(|| ours * 100.0 / theirs)
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// One sender's run.
struct Sent {
    tool: String,
    wall: Duration,
    tx: u64,
    rx: u64,
    engine: EngineNotes,
    note: String,
}

impl Sent {
    fn rate(&self) -> Option<f64> {
        per_second(self.tx, self.wall)
    }
}

/// Runs `program args` in `ns` to its end and reads the interface counters around it.
fn measure(ns: &Netns, tool: &str, program: &str, args: &[String]) -> Result<Sent, String> {
    let (tx0, rx0) = (eth0_counter(ns, "tx_packets"), eth0_counter(ns, "rx_packets"));
    let start = Instant::now();
    let out = ns
        .command(program)
        .args(args)
        .args(crate::no_store(program, args))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let wall = start.elapsed();
    std::thread::sleep(SETTLE);
    let (tx1, rx1) = (eth0_counter(ns, "tx_packets"), eth0_counter(ns, "rx_packets"));
    let err = String::from_utf8_lossy(&out.stderr);
    let note = if out.status.success() {
        String::new()
    } else {
        let first = err.lines().find(|l| l.starts_with("error:")).or_else(|| err.lines().next());
        format!("exit {}: {}", out.status.code().unwrap_or(-1), first.unwrap_or(""))
    };
    Ok(Sent {
        tool: tool.into(),
        wall,
        tx: tx1.saturating_sub(tx0),
        rx: rx1.saturating_sub(rx0),
        engine: parse_engine_notes(&err),
        note,
    })
}

/// Where trafgen is (root's PATH has /usr/sbin; a plain user's may not).
fn trafgen_program() -> Option<String> {
    let on_path = std::process::Command::new("sh")
        .args(["-c", "command -v trafgen"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    on_path.or_else(|| std::path::Path::new("/usr/sbin/trafgen").exists().then(|| "/usr/sbin/trafgen".to_string()))
}

fn print_sent(s: &Sent, reference: Option<f64>) {
    let rate = s.rate();
    let answered = if s.tx == 0 { 0.0 } else { s.rx as f64 * 100.0 / s.tx as f64 };
    let share = share_percent(rate, reference).map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
    println!(
        "{:<26} {:>8.3} {:>11} {:>10.0} {:>11} {:>8.1}% {:>6} {:>10} {:>10}  {}",
        s.tool,
        s.wall.as_secs_f64(),
        s.tx,
        rate.unwrap_or(0.0),
        s.rx,
        answered,
        s.engine.sender_label(),
        s.engine.ring_drops_label(),
        share,
        s.note
    );
}

/// The scenario (see the module docs).
pub fn limit(runs: usize) -> Result<(), String> {
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    bed.add_anyip_v4(0, ANYIP).map_err(|e| e.to_string())?;
    let target = bed.target(0);
    let scanner = bed.scanner();
    let config = trafgen_config(&mac_of(&target.ns)?, SCANNER, target.v4)?;
    let config_path = std::env::temp_dir().join(format!("tojimari-bench-{}-limit.trafgen", std::process::id()));
    std::fs::write(&config_path, config).map_err(|e| format!("write {}: {e}", config_path.display()))?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2).to_string();
    let trafgen_args: Vec<String> = [
        "--dev",
        "eth0",
        "--conf",
        &config_path.to_string_lossy(),
        "--cpus",
        &cpus,
        "--num",
        &TRAFGEN_SYNS.to_string(),
        "--no-sock-mem",
        "--notouch-irq",
        "--no-cpu-stats",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let tojimari_args: Vec<String> =
        ["scan", "-v", "-sS", "-Pn", "-n", "--max-retries", "0", "-p1-65535", "--no-progress", ANYIP]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let trafgen = trafgen_program();
    println!(
        "\nscenario limit: the machine's sending limit (trafgen, TX ring on {cpus} CPU(s), {TRAFGEN_SYNS} SYNs) beside \
         tojimari (-sS -Pn --max-retries 0, all ports of {ANYIP}); every port closed, so every SYN is answered \
         ({runs} run(s))"
    );
    println!(
        "{:<26} {:>8} {:>11} {:>10} {:>11} {:>9} {:>6} {:>10} {:>10}  note",
        "sender", "time s", "frames sent", "frames/s", "answered", "answered", "sender", "ring drops", "vs trafgen"
    );
    let mut tools: Vec<(String, String)> = vec![("tojimari -sS".into(), tojimari_binary())];
    if let Some(old) = baseline_binary() {
        tools.push(("tojimari -sS [before]".into(), old));
    }
    let mut trafgen_rates = Vec::new();
    let mut tool_rates: Vec<Vec<f64>> = vec![Vec::new(); tools.len()];
    for _ in 0..runs {
        let reference = match &trafgen {
            Some(program) => {
                let sent = measure(scanner, &format!("trafgen --cpus {cpus}"), program, &trafgen_args)?;
                print_sent(&sent, None);
                let rate = if sent.note.is_empty() { sent.rate() } else { None };
                trafgen_rates.extend(rate);
                rate
            }
            None => {
                println!("{:<26} not installed (apt-get install netsniff-ng)", "trafgen");
                None
            }
        };
        for ((name, program), rates) in tools.iter().zip(&mut tool_rates) {
            let sent = measure(scanner, name, program, &tojimari_args)?;
            print_sent(&sent, reference);
            if sent.note.is_empty() {
                rates.extend(sent.rate());
            }
        }
    }
    let reference = median(&trafgen_rates);
    let mut summary = format!("trafgen {:.0} frames/s", reference.unwrap_or(0.0));
    for ((name, _), rates) in tools.iter().zip(&tool_rates) {
        let rate = median(rates);
        let share = share_percent(rate, reference).map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
        summary.push_str(&format!("; {name} {:.0} frames/s = {share} of trafgen", rate.unwrap_or(0.0)));
    }
    println!("medians of {runs} run(s): {summary}");
    let _ = std::fs::remove_file(&config_path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trafgen_config_aims_at_the_target() {
        let cfg = trafgen_config("5e:f0:fd:b1:00:76", SCANNER, Ipv4Addr::new(198, 18, 0, 2)).unwrap_or_default();
        assert!(cfg.contains("eth(da=5e:f0:fd:b1:00:76)"), "{cfg}");
        assert!(cfg.contains("ipv4(sa=198.18.0.1, da=198.18.0.2,"), "{cfg}");
        assert!(cfg.contains("dp=dinc(1, 65535)") && cfg.contains(" syn,"), "{cfg}");
        // One packet: trafgen sends a config's packets round robin.
        assert_eq!(cfg.matches('{').count(), 1, "{cfg}");
    }

    #[test]
    fn trafgen_config_refuses_a_bad_mac() {
        for bad in ["", "5e:f0:fd:b1:00", "5e:f0:fd:b1:00:7g", "5e:f0:fd:b1:00:766", "5e-f0-fd-b1-00-76"] {
            assert!(trafgen_config(bad, SCANNER, Ipv4Addr::new(198, 18, 0, 2)).is_err(), "{bad}");
        }
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn share_is_ours_over_theirs() {
        let trafgen = per_second(1_000_000, Duration::from_secs(2));
        let ours = per_second(1_048_560, Duration::from_millis(2_400));
        assert_eq!(trafgen, Some(500_000.0));
        let share = share_percent(ours, trafgen).unwrap_or(0.0);
        assert!((share - 87.38).abs() < 0.01, "{share}");
        assert_eq!(per_second(5, Duration::ZERO), None);
        assert_eq!(share_percent(Some(1.0), Some(0.0)), None);
        assert_eq!(share_percent(None, Some(1.0)), None);
    }
}
