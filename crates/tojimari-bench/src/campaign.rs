//! Scenario `campaign`: the correctness campaign. Every scan technique, run again and again with different
//! seeds against ground truth the scenario builds itself on a test-bed target, with and without random loss,
//! graded port by port: a port reported open that is not open (false open) or an open port not reported open
//! (missed open) fails the campaign, and every other wrong state is counted and listed by name.
//!
//! Ground truth, new ports for every seed (one setup per port, for TCP and UDP alike):
//! - open: a TCP listener (accepts) and a UDP listener (echoes);
//! - closed: nothing listens, no rule;
//! - dropped: nft drops every TCP and UDP packet to the port;
//! - prohibited: nft answers TCP and UDP with ICMP(v6) administratively prohibited;
//! - reset: listeners, but nft answers every TCP packet with a RST (`reject with tcp reset`);
//! - syn-dropped: listeners behind a stateless nft rule that drops pure SYNs only.
//!
//! The expected state of each setup for each technique on a Linux target is [`Scan::expected`] (nmap's
//! documented meaning of each technique; the same table is checked by grading one nmap run per technique and
//! family, which is also run once with loss as a reference).
//! The target's ICMP rate limits are lifted, so closed UDP ports answer every probe.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tojimari_core::PortState;
use tojimari_testbed::{Target, TestBed, firewall, random_ports};

/// How the target treats one port, for TCP and UDP alike (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Setup {
    Open,
    Closed,
    Dropped,
    Prohibited,
    Reset,
    SynDropped,
}

impl Setup {
    /// Every setup with how many ports of a run get it (48 in all).
    const PLAN: [(Setup, usize); 6] = [
        (Setup::Open, 10),
        (Setup::Closed, 10),
        (Setup::Dropped, 8),
        (Setup::Prohibited, 8),
        (Setup::Reset, 6),
        (Setup::SynDropped, 6),
    ];

    fn describe(self) -> &'static str {
        match self {
            Setup::Open => "open (TCP listener, UDP echo)",
            Setup::Closed => "closed (nothing, no rule)",
            Setup::Dropped => "dropped (nft drop, TCP and UDP)",
            Setup::Prohibited => "prohibited (nft reject with icmpx admin-prohibited)",
            Setup::Reset => "reset (listeners; nft reject with tcp reset)",
            Setup::SynDropped => "syn-dropped (listeners; nft drops pure SYNs)",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Setup::Open => "open",
            Setup::Closed => "closed",
            Setup::Dropped => "dropped",
            Setup::Prohibited => "prohibited",
            Setup::Reset => "reset",
            Setup::SynDropped => "syn-dropped",
        }
    }

    fn has_listeners(self) -> bool {
        matches!(self, Setup::Open | Setup::Reset | Setup::SynDropped)
    }
}

/// One scan technique of the campaign, by its nmap flag.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Scan {
    Syn,
    Connect,
    Fin,
    Null,
    Xmas,
    Maimon,
    Ack,
    Window,
    Udp,
}

impl Scan {
    const ALL: [Scan; 9] =
        [Scan::Syn, Scan::Connect, Scan::Fin, Scan::Null, Scan::Xmas, Scan::Maimon, Scan::Ack, Scan::Window, Scan::Udp];

    fn flag(self) -> &'static str {
        match self {
            Scan::Syn => "-sS",
            Scan::Connect => "-sT",
            Scan::Fin => "-sF",
            Scan::Null => "-sN",
            Scan::Xmas => "-sX",
            Scan::Maimon => "-sM",
            Scan::Ack => "-sA",
            Scan::Window => "-sW",
            Scan::Udp => "-sU",
        }
    }

    fn proto(self) -> &'static str {
        if self == Scan::Udp { "udp" } else { "tcp" }
    }

    /// The state nmap's documentation gives this technique's answer on a Linux target:
    /// - SYN, connect: SYN/ACK open, RST closed, silence or ICMP unreachable filtered.
    /// - FIN, NULL, Xmas: a listening Linux socket drops a segment without SYN, RST or ACK (RFC 793), so open
    ///   and silent ports are open|filtered; RST closed; ICMP unreachable filtered.
    /// - Maimon (FIN/ACK): Linux answers an ACK-bearing segment to a listening socket with a RST (only BSD
    ///   stacks drop it), so open ports are closed like closed ones; silence open|filtered.
    /// - ACK: any RST unfiltered; silence or ICMP filtered.
    /// - Window: Linux's RSTs carry window 0, so open and closed ports alike are closed; silence or ICMP
    ///   filtered.
    /// - UDP: an answer open, ICMP port unreachable closed, other ICMP unreachable filtered, silence
    ///   open|filtered. The TCP-only rules (reset, syn-dropped) leave UDP's listeners open.
    pub(crate) fn expected(self, setup: Setup) -> PortState {
        use PortState::{Closed, Filtered, Open, OpenFiltered, Unfiltered};
        use Setup as S;
        match self {
            Scan::Syn | Scan::Connect => match setup {
                S::Open => Open,
                S::Closed | S::Reset => Closed,
                S::Dropped | S::Prohibited | S::SynDropped => Filtered,
            },
            Scan::Fin | Scan::Null | Scan::Xmas => match setup {
                S::Open | S::SynDropped | S::Dropped => OpenFiltered,
                S::Closed | S::Reset => Closed,
                S::Prohibited => Filtered,
            },
            Scan::Maimon => match setup {
                S::Open | S::SynDropped | S::Closed | S::Reset => Closed,
                S::Dropped => OpenFiltered,
                S::Prohibited => Filtered,
            },
            Scan::Ack => match setup {
                S::Open | S::SynDropped | S::Closed | S::Reset => Unfiltered,
                S::Dropped | S::Prohibited => Filtered,
            },
            Scan::Window => match setup {
                S::Open | S::SynDropped | S::Closed | S::Reset => Closed,
                S::Dropped | S::Prohibited => Filtered,
            },
            Scan::Udp => match setup {
                S::Open | S::Reset | S::SynDropped => Open,
                S::Closed => Closed,
                S::Dropped => OpenFiltered,
                S::Prohibited => Filtered,
            },
        }
    }
}

/// One wrong port of one run: what the ground truth says and what the scanner reported (`None`: the port was
/// not in the output at all, or not among the ports scanned).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Miss {
    pub port: u16,
    pub expected: Option<PortState>,
    pub reported: Option<PortState>,
}

/// How a [`Miss`] counts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum MissKind {
    /// Reported open, but not open.
    FalseOpen,
    /// Open, but not reported open.
    MissedOpen,
    /// Any other wrong state (or a port missing from the output).
    Other,
}

impl Miss {
    pub(crate) fn kind(&self) -> MissKind {
        if self.reported == Some(PortState::Open) && self.expected != Some(PortState::Open) {
            MissKind::FalseOpen
        } else if self.expected == Some(PortState::Open) && self.reported != Some(PortState::Open) {
            MissKind::MissedOpen
        } else {
            MissKind::Other
        }
    }

    /// A name for the error, e.g. `false open|filtered (expected closed)` or `unreported (expected filtered)`.
    pub(crate) fn name(&self) -> String {
        match (self.expected, self.reported) {
            (Some(e), Some(r)) => format!("false {r} (expected {e})"),
            (Some(e), None) => format!("unreported (expected {e})"),
            (None, Some(r)) => format!("{r} on a port not scanned"),
            (None, None) => "nothing".to_string(),
        }
    }
}

/// Grades one run: every port whose reported state differs from the expected one, in port order.
pub(crate) fn grade(expected: &BTreeMap<u16, PortState>, reported: &BTreeMap<u16, PortState>) -> Vec<Miss> {
    let mut misses: Vec<Miss> = expected
        .iter()
        .filter(|(port, state)| reported.get(port) != Some(state))
        .map(|(&port, &e)| Miss { port, expected: Some(e), reported: reported.get(&port).copied() })
        .collect();
    misses.extend(reported.iter().filter(|(port, _)| !expected.contains_key(port)).map(|(&port, &r)| Miss {
        port,
        expected: None,
        reported: Some(r),
    }));
    misses.sort_by_key(|m| m.port);
    misses
}

fn state_named(s: &str) -> Option<PortState> {
    PortState::ALL.into_iter().find(|st| st.as_str() == s)
}

/// Ports in nmap's compact range form, `1-21,23,80-81`.
fn parse_ranges(text: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let bad = || format!("bad port range {part:?}");
        match part.split_once('-') {
            Some((a, b)) => ports.extend(a.parse::<u16>().map_err(|_| bad())?..=b.parse::<u16>().map_err(|_| bad())?),
            None => ports.push(part.parse().map_err(|_| bad())?),
        }
    }
    Ok(ports)
}

/// Every port's state for `proto` from tojimari's JSON Lines: its `port` lines and its hosts' `collapsed` groups.
pub(crate) fn states_from_jsonl(text: &str, proto: &str) -> Result<BTreeMap<u16, PortState>, String> {
    let mut out = BTreeMap::new();
    for v in text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        if v["type"] == "port" && v["proto"] == proto {
            let state = v["state"].as_str().and_then(state_named).ok_or_else(|| format!("bad port line {v}"))?;
            let port = v["port"].as_u64().and_then(|p| u16::try_from(p).ok()).ok_or_else(|| format!("bad line {v}"))?;
            out.insert(port, state);
        } else if v["type"] == "host" {
            for group in v["collapsed"].as_array().into_iter().flatten().filter(|g| g["proto"] == proto) {
                let state =
                    group["state"].as_str().and_then(state_named).ok_or_else(|| format!("bad group {group}"))?;
                for port in parse_ranges(group["ports"].as_str().unwrap_or_default())? {
                    out.insert(port, state);
                }
            }
        }
    }
    Ok(out)
}

/// Every port's state for `proto` from nmap's XML: its `port` elements and its `extraports` reasons' port lists.
pub(crate) fn states_from_nmap_xml(xml: &str, proto: &str) -> Result<BTreeMap<u16, PortState>, String> {
    let mut out = BTreeMap::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        if !chunk.starts_with(&format!("\"{proto}\"")) {
            continue;
        }
        let port = crate::attr(chunk, "portid").and_then(|p| p.parse().ok()).ok_or("port without portid")?;
        let state = chunk.split("<state ").nth(1).and_then(|s| crate::attr(s, "state")).and_then(state_named);
        out.insert(port, state.ok_or_else(|| format!("port {port} without a known state"))?);
    }
    for extra in xml.split("<extraports ").skip(1) {
        let state = crate::attr(extra, "state").and_then(state_named).ok_or("extraports without a known state")?;
        let body = extra.split("</extraports>").next().unwrap_or_default();
        for reason in body.split("<extrareasons ").skip(1) {
            if crate::attr(reason, "proto") == Some(proto) {
                for port in parse_ranges(crate::attr(reason, "ports").unwrap_or_default())? {
                    out.insert(port, state);
                }
            }
        }
    }
    Ok(out)
}

/// The ports of one run and their setups, chosen by `seed`: the same seed gives the same truth.
pub(crate) fn plan(seed: u64) -> BTreeMap<u16, Setup> {
    let total: usize = Setup::PLAN.iter().map(|(_, n)| n).sum();
    let mut ports = random_ports(total, 0xca3b_0000 ^ seed, &[]);
    // Interleave the setups over the port range: order the ports by a seeded hash before dealing them out.
    ports.sort_by_key(|&p| (u64::from(p) ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17);
    let setups = Setup::PLAN.iter().flat_map(|&(s, n)| std::iter::repeat_n(s, n));
    ports.into_iter().zip(setups).collect()
}

/// The loss ruleset: `percent`% of packets dropped at random on the target's input and output hooks
/// (each packet independently, so both directions), IPv6 neighbour discovery exempt. 0 loads empty chains.
fn loss_ruleset(percent: u8) -> String {
    let rule = if percent == 0 { String::new() } else { format!("numgen random mod 100 < {percent} drop\n") };
    let chain = |hook: &str| {
        format!(
            " chain {hook} {{ type filter hook {hook} priority -10; policy accept;\n  \
             icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} accept\n  {rule} }}\n"
        )
    };
    format!(
        "table inet campaign_loss\nflush table inet campaign_loss\ntable inet campaign_loss {{\n{}{}}}\n",
        chain("input"),
        chain("output")
    )
}

/// Loads the firewall presets that give `plan`'s ports their setups (each preset replaces its own table).
fn truth_ruleset(plan: &BTreeMap<u16, Setup>) -> String {
    let with = |s: Setup| plan.iter().filter(|(_, v)| **v == s).map(|(p, _)| *p).collect::<Vec<u16>>();
    [
        firewall::drop_tcp(&with(Setup::Dropped)),
        firewall::drop_udp(&with(Setup::Dropped)),
        firewall::reject_admin_prohibited(&with(Setup::Prohibited)),
        firewall::reject_tcp_reset(&with(Setup::Reset)),
        firewall::drop_pure_syn(&with(Setup::SynDropped)),
    ]
    .concat()
}

/// Which scanner ran.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Tool {
    Tojimari,
    Nmap,
}

/// One row of the result tables: a tool, a technique, an address family and a loss setting.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct RowKey {
    tool: Tool,
    scan: Scan,
    v6: bool,
    loss: u8,
}

#[derive(Default)]
struct Tally {
    runs: usize,
    failed_runs: usize,
    ports: usize,
    false_open: usize,
    missed_open: usize,
    other: usize,
    times: Vec<Duration>,
}

/// One wrong port, with the run it came from.
struct Detail {
    key: RowKey,
    seed: u64,
    miss: Miss,
}

/// How one run of a scanner ended.
struct Ran {
    wall: Duration,
    /// Why it failed (exit status, first error line), if it did.
    failure: Option<String>,
    stderr: String,
}

/// Runs `command` (its output goes to a file), stopping it after `limit`.
fn run_timed(mut command: Command, limit: Duration) -> Result<Ran, String> {
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            let wall = start.elapsed();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
            }
            let failure = (!status.success())
                .then(|| format!("{status}: {}", stderr.lines().find(|l| l.starts_with("error")).unwrap_or("")));
            return Ok(Ran { wall, failure, stderr });
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let failure = Some(format!("stopped after {} s", limit.as_secs()));
            return Ok(Ran { wall: start.elapsed(), failure, stderr: String::new() });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The campaign: `seeds` runs of every technique without loss and with 5% loss; nmap once per technique and
/// loss setting, as a check of the expected-state rules and a reference under loss. Fails when tojimari reported any false open or missed any open port.
pub fn campaign(seeds: u64, peer_timeout: u64) -> Result<(), String> {
    const LOSS: u8 = 5;
    // nmap users' usual template; both scanners get it.
    const TIMING: &str = "-T4";
    let bed = TestBed::new(1).map_err(|e| format!("cannot build the test bed (needs root): {e}"))?;
    let target = bed.target(0);
    target.unlimit_icmp().map_err(|e| format!("icmp limits: {e}"))?;
    let scratch = std::env::temp_dir().join(format!("tojimari-bench-campaign-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let out_file = scratch.join("out").to_string_lossy().into_owned();
    let tojimari = crate::tojimari_binary();
    let has_nmap = Command::new("nmap").arg("--version").output().is_ok_and(|o| o.status.success());
    let limit = Duration::from_secs(peer_timeout);

    print_header(target, seeds, LOSS, has_nmap);
    let mut tallies: BTreeMap<RowKey, Tally> = BTreeMap::new();
    let mut details = Vec::new();
    let mut pass_logs = Vec::new();
    for loss in [0, LOSS] {
        target.firewall(&loss_ruleset(loss)).map_err(|e| format!("loss rules: {e}"))?;
        for seed in 1..=seeds {
            let plan = plan(seed);
            let listening: Vec<u16> = plan.iter().filter(|(_, s)| s.has_listeners()).map(|(p, _)| *p).collect();
            let _tcp = target.listen_tcp(&listening).map_err(|e| e.to_string())?;
            let _udp = target.listen_udp(&listening).map_err(|e| e.to_string())?;
            target.firewall(&truth_ruleset(&plan)).map_err(|e| format!("truth rules: {e}"))?;
            let list = plan.keys().map(u16::to_string).collect::<Vec<_>>().join(",");
            for v6 in [false, true] {
                let addr = if v6 { target.v6.to_string() } else { target.v4.to_string() };
                let mut tools = vec![Tool::Tojimari];
                if has_nmap && seed == 1 {
                    tools.push(Tool::Nmap);
                }
                for tool in tools {
                    for scan in Scan::ALL {
                        let key = RowKey { tool, scan, v6, loss };
                        let _ = std::fs::remove_file(&out_file);
                        let seed_text = seed.to_string();
                        let command = match tool {
                            Tool::Tojimari => {
                                let mut c = bed.scanner().command(&tojimari);
                                // -d: the raw engine's per-pass log (sent, recovered), kept for runs that go
                                // wrong.
                                c.args([
                                    "scan",
                                    "-d",
                                    scan.flag(),
                                    TIMING,
                                    "-n",
                                    "-Pn",
                                    "--no-progress",
                                    "--no-store",
                                    "--seed",
                                    &seed_text,
                                ]);
                                c.args(["-p", &list, "-oJ", &out_file, &addr]);
                                c
                            }
                            Tool::Nmap => {
                                let mut c = bed.scanner().command("nmap");
                                c.args([scan.flag(), TIMING, "-n", "-Pn", "-p", &list, "-oX", &out_file]);
                                c.args(v6.then_some("-6")).arg(&addr);
                                c
                            }
                        };
                        let ran = run_timed(command, limit)?;
                        let text = std::fs::read_to_string(&out_file).unwrap_or_default();
                        let reported = match tool {
                            Tool::Tojimari => states_from_jsonl(&text, scan.proto()),
                            Tool::Nmap => states_from_nmap_xml(&text, scan.proto()),
                        };
                        let reported = reported.unwrap_or_else(|e| {
                            println!("note: {} {} seed {seed}: unreadable output: {e}", tool_name(tool), scan.flag());
                            BTreeMap::new()
                        });
                        let expected: BTreeMap<u16, PortState> =
                            plan.iter().map(|(&p, &s)| (p, scan.expected(s))).collect();
                        let misses = grade(&expected, &reported);
                        let tally = tallies.entry(key).or_default();
                        tally.runs += 1;
                        tally.ports += expected.len();
                        tally.times.push(ran.wall);
                        if let Some(why) = &ran.failure {
                            tally.failed_runs += 1;
                            println!(
                                "note: {} {} {addr} seed {seed} loss {loss}%: {why}",
                                tool_name(tool),
                                scan.flag()
                            );
                        }
                        if !misses.is_empty() && tool == Tool::Tojimari {
                            let passes: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with("PASS ")).collect();
                            pass_logs.push((key, seed, passes.join("\n    ")));
                        }
                        for miss in misses {
                            match miss.kind() {
                                MissKind::FalseOpen => tally.false_open += 1,
                                MissKind::MissedOpen => tally.missed_open += 1,
                                MissKind::Other => tally.other += 1,
                            }
                            details.push(Detail { key, seed, miss });
                        }
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);

    print_tables(&tallies);
    print_details(&details, &plan_lookup(seeds));
    if !pass_logs.is_empty() {
        println!("\ntojimari's passes in the runs with a wrong state (-d; none for -sT)");
        for (key, seed, log) in pass_logs {
            let family = if key.v6 { "v6" } else { "v4" };
            println!("  {} {family} loss {}% seed {seed}:\n    {log}", key.scan.flag(), key.loss);
        }
    }
    let (false_open, missed_open, other, runs) = tallies
        .iter()
        .filter(|(k, _)| k.tool == Tool::Tojimari)
        .fold((0, 0, 0, 0), |a, (_, t)| (a.0 + t.false_open, a.1 + t.missed_open, a.2 + t.other, a.3 + t.runs));
    println!(
        "\ncampaign: tojimari, {runs} runs: {false_open} false open, {missed_open} missed open, {other} other wrong \
         state(s)"
    );
    if false_open + missed_open > 0 {
        return Err(format!("campaign failed: {false_open} false open(s), {missed_open} missed open(s)"));
    }
    Ok(())
}

fn tool_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Tojimari => "tojimari",
        Tool::Nmap => "nmap",
    }
}

/// Every seed's plan, to name the setup of a wrong port in the details.
fn plan_lookup(seeds: u64) -> BTreeMap<u64, BTreeMap<u16, Setup>> {
    (1..=seeds).map(|s| (s, plan(s))).collect()
}

fn print_header(target: &Target, seeds: u64, loss: u8, has_nmap: bool) {
    let total: usize = Setup::PLAN.iter().map(|(_, n)| n).sum();
    println!(
        "\nscenario campaign: every technique against the bed's ground truth, {seeds} seeds each, without and with loss"
    );
    println!("  target {} and {} (Linux, ICMP rate limits lifted)", target.v4, target.v6);
    println!("  {total} ports per run, drawn anew for every seed (seed N also gives tojimari --seed N):");
    for (setup, n) in Setup::PLAN {
        println!("    {n:>3} {}", setup.describe());
    }
    println!(
        "  loss: {loss}% random drop (nft numgen) on the target's input AND output hooks, so each way; IPv6 \
         neighbour discovery exempt"
    );
    println!("  tojimari scan TECHNIQUE -d -T4 -n -Pn --no-progress --seed N -p PORTS -oJ FILE ADDR");
    if has_nmap {
        println!(
            "  nmap TECHNIQUE -T4 -n -Pn -p PORTS once per technique, family and loss setting (seed 1): without loss \
             it checks the expected states below, with loss it is the reference"
        );
    } else {
        println!("  nmap: not installed, the expected-state rules are not checked against it");
    }
    let mut head = format!("\nexpected state on a Linux target\n{:<13}", "setup");
    for scan in Scan::ALL {
        let _ = write!(head, " {:<13}", scan.flag());
    }
    println!("{head}");
    for (setup, _) in Setup::PLAN {
        let mut line = format!("{:<13}", setup.name());
        for scan in Scan::ALL {
            let _ = write!(line, " {:<13}", scan.expected(setup).as_str());
        }
        println!("{line}");
    }
}

fn print_tables(tallies: &BTreeMap<RowKey, Tally>) {
    for tool in [Tool::Tojimari, Tool::Nmap] {
        let rows: Vec<_> = tallies.iter().filter(|(k, _)| k.tool == tool).collect();
        if rows.is_empty() {
            continue;
        }
        println!("\n{}", if tool == Tool::Tojimari { "tojimari" } else { "nmap (reference: seed 1)" });
        println!(
            "{:<10} {:<4} {:>5} {:>5} {:>6} {:>10} {:>11} {:>11} {:>9} {:>8}  note",
            "technique", "ip", "loss", "runs", "ports", "false open", "missed open", "other wrong", "median s", "max s"
        );
        for (k, t) in rows {
            let mut times = t.times.clone();
            times.sort();
            let median = match times.len() {
                0 => Duration::ZERO,
                n if n % 2 == 1 => times[n / 2],
                n => (times[n / 2 - 1] + times[n / 2]) / 2,
            };
            let max = times.last().copied().unwrap_or_default();
            let note = if t.failed_runs > 0 { format!("{} run(s) failed", t.failed_runs) } else { String::new() };
            println!(
                "{:<10} {:<4} {:>4}% {:>5} {:>6} {:>10} {:>11} {:>11} {:>9.3} {:>8.3}  {note}",
                k.scan.flag(),
                if k.v6 { "v6" } else { "v4" },
                k.loss,
                t.runs,
                t.ports,
                t.false_open,
                t.missed_open,
                t.other,
                median.as_secs_f64(),
                max.as_secs_f64(),
            );
        }
    }
}

fn print_details(details: &[Detail], plans: &BTreeMap<u64, BTreeMap<u16, Setup>>) {
    if details.is_empty() {
        println!("\nwrong states: none");
        return;
    }
    let mut by_name: BTreeMap<(Tool, Scan, String), usize> = BTreeMap::new();
    for d in details {
        *by_name.entry((d.key.tool, d.key.scan, d.miss.name())).or_default() += 1;
    }
    println!("\nwrong states by name");
    for ((tool, scan, name), n) in &by_name {
        println!("  {:<9} {:<4} {n:>4} x {name}", tool_name(*tool), scan.flag());
    }
    println!("\nwrong states, every one");
    for d in details {
        let setup = plans.get(&d.seed).and_then(|p| p.get(&d.miss.port)).map_or("?", |s| s.name());
        let kind = match d.miss.kind() {
            MissKind::FalseOpen => "FALSE OPEN",
            MissKind::MissedOpen => "MISSED OPEN",
            MissKind::Other => "wrong",
        };
        println!(
            "  {:<9} {:<4} {} loss {}% seed {:>2} port {:>5} ({setup}): {kind}: {}",
            tool_name(d.key.tool),
            d.key.scan.flag(),
            if d.key.v6 { "v6" } else { "v4" },
            d.key.loss,
            d.seed,
            d.miss.port,
            d.miss.name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PortState::{Closed, Filtered, Open, OpenFiltered, Unfiltered};

    #[test]
    fn grade_counts_false_and_missed_opens_apart_from_other_errors() {
        let expected = BTreeMap::from([(1, Open), (2, Closed), (3, Filtered), (4, Open), (5, Closed)]);
        let reported = BTreeMap::from([(1, Filtered), (2, Open), (3, Filtered), (5, OpenFiltered), (9, Closed)]);
        let misses = grade(&expected, &reported);
        let kinds: Vec<(u16, MissKind)> = misses.iter().map(|m| (m.port, m.kind())).collect();
        assert_eq!(
            kinds,
            [
                (1, MissKind::MissedOpen),
                (2, MissKind::FalseOpen),
                (4, MissKind::MissedOpen),
                (5, MissKind::Other),
                (9, MissKind::Other)
            ]
        );
        assert_eq!(misses[3].name(), "false open|filtered (expected closed)");
        assert_eq!(misses[2].name(), "unreported (expected open)");
        assert_eq!(misses[4].name(), "closed on a port not scanned");
        assert!(grade(&expected, &expected).is_empty());
    }

    #[test]
    fn expected_states_follow_each_technique_on_linux() {
        assert_eq!(Scan::Syn.expected(Setup::Open), Open);
        assert_eq!(Scan::Connect.expected(Setup::SynDropped), Filtered);
        assert_eq!(Scan::Syn.expected(Setup::Reset), Closed);
        assert_eq!(Scan::Fin.expected(Setup::Open), OpenFiltered);
        assert_eq!(Scan::Xmas.expected(Setup::Reset), Closed);
        assert_eq!(Scan::Null.expected(Setup::Prohibited), Filtered);
        assert_eq!(Scan::Maimon.expected(Setup::Open), Closed);
        assert_eq!(Scan::Maimon.expected(Setup::Dropped), OpenFiltered);
        assert_eq!(Scan::Ack.expected(Setup::SynDropped), Unfiltered);
        assert_eq!(Scan::Ack.expected(Setup::Dropped), Filtered);
        assert_eq!(Scan::Window.expected(Setup::Open), Closed);
        assert_eq!(Scan::Window.expected(Setup::Prohibited), Filtered);
        assert_eq!(Scan::Udp.expected(Setup::Reset), Open);
        assert_eq!(Scan::Udp.expected(Setup::Dropped), OpenFiltered);
        // Only the techniques that can see an open port expect one.
        for scan in Scan::ALL {
            let opens = Setup::PLAN.iter().filter(|(s, _)| scan.expected(*s) == Open).count();
            let can_see_open = matches!(scan, Scan::Syn | Scan::Connect | Scan::Udp);
            assert_eq!(opens > 0, can_see_open, "{scan:?}");
        }
    }

    #[test]
    fn plan_deals_every_setup_its_share_of_distinct_ports() {
        let p = plan(3);
        assert_eq!(p.len(), 48);
        for (setup, n) in Setup::PLAN {
            assert_eq!(p.values().filter(|s| **s == setup).count(), n, "{setup:?}");
        }
        assert_eq!(p, plan(3));
        assert_ne!(p.keys().collect::<Vec<_>>(), plan(4).keys().collect::<Vec<_>>());
    }

    #[test]
    fn reads_every_port_from_both_outputs() {
        let jsonl = concat!(
            "{\"type\":\"port\",\"addr\":\"198.18.0.2\",\"proto\":\"tcp\",\"port\":22,\"state\":\"open\"}\n",
            "{\"type\":\"port\",\"addr\":\"198.18.0.2\",\"proto\":\"udp\",\"port\":53,\"state\":\"open|filtered\"}\n",
            "{\"type\":\"host\",\"addr\":\"198.18.0.2\",\"collapsed\":[{\"state\":\"closed\",\"proto\":\"tcp\",",
            "\"reason\":\"reset\",\"count\":4,\"ports\":\"1-3,80\"}]}\n"
        );
        let tcp = states_from_jsonl(jsonl, "tcp").unwrap();
        assert_eq!(tcp, BTreeMap::from([(1, Closed), (2, Closed), (3, Closed), (22, Open), (80, Closed)]));
        assert_eq!(states_from_jsonl(jsonl, "udp").unwrap(), BTreeMap::from([(53, OpenFiltered)]));
        let xml = concat!(
            "<ports><extraports state=\"closed\" count=\"3\">\n",
            "<extrareasons reason=\"reset\" count=\"3\" proto=\"tcp\" ports=\"5-6,9\"/>\n</extraports>\n",
            "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\" reason=\"syn-ack\"/></port>\n",
            "<port protocol=\"tcp\" portid=\"23\"><state state=\"unfiltered\" reason=\"reset\"/></port></ports>"
        );
        assert_eq!(
            states_from_nmap_xml(xml, "tcp").unwrap(),
            BTreeMap::from([(5, Closed), (6, Closed), (9, Closed), (22, Open), (23, Unfiltered)])
        );
        assert!(states_from_nmap_xml(xml, "udp").unwrap().is_empty());
        assert!(parse_ranges("5-x").is_err());
    }
}
