//! The FTP bounce scan (`-b`) through a real vsftpd, against a target that accepts TCP only from the FTP
//! server: the scanner cannot reach the target itself, so every answer came through the bounce. Compared with
//! nmap -b run in the same namespace. Plus the faults: a vsftpd that refuses bounces, a session limit, an FTP
//! server that drops the control connection, one that hangs, one that lies, and bad `-b` arguments.
//!
//! The misbehaving servers are a small scripted FTP server on a bed address ([`FakeFtp`]): a peer that
//! misbehaves on purpose, which no real daemon does on demand; where it answers, it really connects to the
//! target, so its answers are true ones.

// Test output: what each tool said and took goes to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{Scratch, parse_jsonl, port_map, tojimari_in};
use tojimari_testbed::bounce_ftp::{BounceFtp, Relay};
use tojimari_testbed::{Netns, Target, TestBed};

/// Ports of the target and what they are.
const OPEN: &[u16] = &[1500, 2000, 4444, 8080];
const CLOSED: &[u16] = &[1501, 3000, 9999];
const DROPPED: &[u16] = &[5000, 5001];
/// Privileged ports: one open, one closed; vsftpd will not connect to either.
const PRIVILEGED: &[u16] = &[22, 80];

fn all_ports() -> Vec<u16> {
    let mut ports: Vec<u16> = [OPEN, CLOSED, DROPPED, PRIVILEGED].concat();
    ports.sort_unstable();
    ports
}

/// What an honest relay finds on port `p` of the target: what vsftpd will not bounce to (below 1024) and the
/// dropped ports are filtered.
fn through_relay(p: u16) -> &'static str {
    if OPEN.contains(&p) {
        "open"
    } else if CLOSED.contains(&p) {
        "closed"
    } else {
        "filtered"
    }
}

fn port_list() -> String {
    all_ports().iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

/// The target: listeners on the open ports (and 22), TCP accepted only from `relays`, `DROPPED` dropped.
fn target_accepting_only(target: &Target, relays: &[Ipv4Addr]) -> tojimari_testbed::Listeners {
    let listening: Vec<u16> = OPEN.iter().copied().chain([22]).collect();
    let listeners = target.listen_tcp(&listening).unwrap();
    let set = relays.iter().map(Ipv4Addr::to_string).collect::<Vec<_>>().join(", ");
    let dropped = DROPPED.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    target
        .firewall(&format!(
            "table inet tjb_bounce {{\n chain input {{ type filter hook input priority 0; policy accept;\n  \
             tcp dport {{ {dropped} }} drop\n  meta l4proto tcp ip saddr != {{ {set} }} drop\n }}\n}}\n"
        ))
        .unwrap();
    listeners
}

/// Runs tojimari in `ns` with JSON Lines and XML written; returns the port map, the XML and the output.
fn bounce_scan(ns: &Netns, args: &[&str]) -> (BTreeMap<u16, (String, String)>, String, Output, Duration) {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let scratch = Scratch::new(&format!("tjb-bounce-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let (jsonl, xml) = (scratch.path("out.jsonl"), scratch.path("out.xml"));
    let started = Instant::now();
    let out =
        tojimari_in(ns).args(args).args(["-oJ", &jsonl, "-oX", &xml, "--no-progress", "--no-store"]).output().unwrap();
    let took = started.elapsed();
    let lines = std::fs::read_to_string(&jsonl).map(|t| parse_jsonl(&t)).unwrap_or_default();
    let map = port_map(&lines).into_iter().map(|((_, port), v)| (port, v)).collect();
    (map, std::fs::read_to_string(&xml).unwrap_or_default(), out, took)
}

/// Runs `cmd` to its end, or kills it after `limit` (`None` then).
fn output_within(mut cmd: std::process::Command, limit: Duration) -> Option<Output> {
    use std::process::Stdio;
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => Some(out.unwrap()),
        Err(_) => {
            // `ip netns exec` execs the program: this pid is the program's own.
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
            None
        }
    }
}

/// nmap's port states (from its XML), or `None` when it did not finish within `limit`.
fn nmap_within(ns: &Netns, args: &[&str], limit: Duration) -> Option<BTreeMap<u16, (String, String)>> {
    let mut cmd = ns.command("nmap");
    cmd.args(args).args(["-oX", "-", "-n"]);
    let out = output_within(cmd, limit)?;
    let xml = String::from_utf8_lossy(&out.stdout);
    if !xml.contains("<port protocol=") {
        eprintln!("nmap {args:?} reported no port; it said:\n{}\n{xml}", String::from_utf8_lossy(&out.stderr));
    }
    let mut map = BTreeMap::new();
    for chunk in xml.split("<port protocol=").skip(1) {
        let attr = |s: &str, name: &str| {
            let key = format!("{name}=\"");
            let start = s.find(&key).unwrap() + key.len();
            s[start..start + s[start..].find('"').unwrap()].to_string()
        };
        let state = &chunk[chunk.find("<state ").unwrap()..];
        map.insert(attr(chunk, "portid").parse().unwrap(), (attr(state, "state"), attr(state, "reason")));
    }
    Some(map)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The scanner cannot reach the target itself (the point of the bounce).
fn assert_unreachable_directly(bed: &TestBed, addr: Ipv4Addr) {
    let to = SocketAddr::from((addr, OPEN[0]));
    let direct = bed.scanner().run_in(move || TcpStream::connect_timeout(&to, Duration::from_millis(500))).unwrap();
    assert!(direct.is_err(), "the scanner reached {to} directly: the bed is wrong");
}

#[test]
fn bounce_through_vsftpd_finds_the_ground_truth_and_agrees_with_nmap() {
    let bed = tojimari_testbed::testbed_or_skip!(2);
    let (ftp, target) = (bed.target(0), bed.target(1));
    let _listeners = target_accepting_only(target, &[ftp.v4]);
    let _server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Promiscuous, 0).unwrap();
    assert_unreachable_directly(&bed, target.v4);

    let relay = ftp.v4.to_string();
    let addr = target.v4.to_string();
    let ports = port_list();
    let (found, xml, out, took) = bounce_scan(bed.scanner(), &["-b", &relay, "-Pn", "-n", "-p", &ports, &addr]);
    assert!(out.status.success(), "{}", stderr(&out));
    eprintln!("tojimari -b: {took:?}\n{}", stderr(&out));
    for &p in OPEN {
        assert_eq!(found.get(&p), Some(&("open".to_string(), "syn-ack".to_string())), "port {p}: {found:?}");
    }
    for &p in CLOSED {
        assert_eq!(found[&p], ("closed".to_string(), "conn-refused".to_string()), "port {p}");
    }
    for &p in DROPPED {
        assert_eq!(found[&p], ("filtered".to_string(), "no-response".to_string()), "port {p}");
    }
    // vsftpd never connects below 1024: told, and reported filtered, never open or closed.
    for &p in PRIVILEGED {
        assert_eq!(found[&p], ("filtered".to_string(), "unknown-response".to_string()), "port {p}");
    }
    assert_eq!(found.len(), all_ports().len());
    assert!(stderr(&out).contains("will not connect to ports below 1024"), "{}", stderr(&out));
    assert!(xml.contains("<scaninfo type=\"bounce\" protocol=\"tcp\""), "{xml}");

    // nmap -b from the same namespace, on the unprivileged ports: vsftpd ends the session when asked to
    // connect below 1024, and nmap, which goes on reading that session, then mixes up the next ports' replies
    // (seen here: open ports reported filtered, a privileged one "unknown"), so privileged ports would make
    // the comparison a lottery (docs/bounce.md).
    let unprivileged: Vec<u16> = all_ports().into_iter().filter(|&p| p >= 1024).collect();
    let list = unprivileged.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let started = Instant::now();
    // nmap -b has been seen to hang on this bed now and then (once in about five runs): then the comparison
    // is left out, loudly; tojimari's own answers are checked above either way.
    // Under load nmap -b has also been seen to end after a few seconds with no port at all (what it said then
    // is printed by nmap_within): it is asked again, twice at most.
    let mut nmap = BTreeMap::new();
    for attempt in 1..=3 {
        let args = ["-b", &relay, "-Pn", "-p", &list, &addr];
        let Some(map) = nmap_within(bed.scanner(), &args, Duration::from_secs(150)) else {
            eprintln!("warning: nmap -b did not finish in 150 s: no comparison this run");
            return;
        };
        if !map.is_empty() {
            nmap = map;
            break;
        }
        eprintln!("warning: nmap -b reported no port (attempt {attempt} of 3)");
    }
    if nmap.is_empty() {
        eprintln!("warning: nmap -b reported no port in three runs: no comparison this run");
        return;
    }
    eprintln!("nmap -b: {:?}\n{nmap:?}", started.elapsed());
    // Every port the same, or one of the two differences docs/bounce.md explains: an open port is "filtered"
    // to nmap when vsftpd's 226 after the 150 is slow to come (nmap waits for it only briefly; seen in some
    // runs), and a dropped port is "closed" to nmap, which takes vsftpd's 425 after its own connect timed out
    // for a refusal.
    for &p in &unprivileged {
        let theirs = nmap.get(&p).map_or("missing", |v| v.0.as_str());
        let ours = found[&p].0.as_str();
        let explained = (OPEN.contains(&p) && theirs == "filtered") || (DROPPED.contains(&p) && theirs == "closed");
        assert!(theirs == ours || explained, "port {p}: nmap says {theirs}, tojimari {ours}");
    }
    assert!(CLOSED.iter().all(|p| nmap[p].0 == "closed"), "{nmap:?}");
}

#[test]
fn without_pn_the_usual_discovery_runs_first() {
    // The scanner and the target share the bed's link: ARP finds the target up, as nmap's discovery does,
    // although its TCP ports answer only the relay.
    let bed = tojimari_testbed::testbed_or_skip!(2);
    let (ftp, target) = (bed.target(0), bed.target(1));
    let _listeners = target_accepting_only(target, &[ftp.v4]);
    let _server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Promiscuous, 0).unwrap();
    let (found, xml, out, _) =
        bounce_scan(bed.scanner(), &["-b", &ftp.v4.to_string(), "-n", "-p", "1500,1501", &target.v4.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(xml.contains("<status state=\"up\" reason=\"arp-response\""), "{xml}");
    assert_eq!(found[&1500].0, "open");
    assert_eq!(found[&1501].0, "closed");
}

#[test]
fn a_server_with_a_session_limit_is_used_within_it() {
    let bed = tojimari_testbed::testbed_or_skip!(2);
    let (ftp, target) = (bed.target(0), bed.target(1));
    let _listeners = target_accepting_only(target, &[ftp.v4]);
    let _server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Promiscuous, 2).unwrap();
    // Enough ports that every connection is up before the scan ends.
    let ports = "1024-3000";
    let (found, _, out, _) = bounce_scan(
        bed.scanner(),
        &["-b", &format!("anonymous@{}:21", ftp.v4), "-Pn", "-n", "-p", ports, &target.v4.to_string()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("turned away") && stderr(&out).contains("421"), "{}", stderr(&out));
    let open: Vec<u16> = found.iter().filter(|(_, v)| v.0 == "open").map(|(p, _)| *p).collect();
    assert_eq!(open, [1500, 2000]);
    assert_eq!(found.len(), 1977);
    assert!(found.iter().all(|(p, v)| OPEN.contains(p) || v.0 == "closed"), "{found:?}");
}

#[test]
fn a_server_that_refuses_bounces_is_reported_at_once() {
    let bed = tojimari_testbed::testbed_or_skip!(2);
    let (ftp, target) = (bed.target(0), bed.target(1));
    let _listeners = target_accepting_only(target, &[ftp.v4]);
    let _server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Strict, 0).unwrap();
    let (found, _, out, took) = bounce_scan(
        bed.scanner(),
        &["-b", &ftp.v4.to_string(), "-Pn", "-n", "-p", &port_list(), &target.v4.to_string()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: the FTP server") && err.contains("refuses to connect to third parties"), "{err}");
    assert!(err.contains("500 Illegal PORT command."), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
    assert!(found.is_empty(), "no port state from a server that bounces nothing: {found:?}");
    assert!(took < Duration::from_secs(5), "told at once, not after the ports: {took:?}");
}

/// How the scripted FTP server misbehaves.
#[derive(Copy, Clone, Debug)]
enum Fault {
    /// Relays honestly, but closes the control connection on every `n`th LIST of a connection, before
    /// answering it.
    DropEvery(u32),
    /// Logs in, then never answers PORT.
    Hang,
    /// Logs in and accepts PORT, then answers LIST with a reply no LIST has (331).
    Lie,
    /// Logs in, then answers PORT with a line longer than any reply line.
    Flood,
    /// Relays honestly for two LISTs in all, then never answers PORT again.
    HangAfterTwo,
    /// Relays honestly above 1024; refuses a lower port as vsftpd does, whose session then dies, but with
    /// the refusal and the death in one segment (`500 OOPS: Illegal port request` and `500 OOPS: child
    /// died`), then closes the connection.
    RefuseAndDieAtOnce,
}

/// LISTs the `HangAfterTwo` server has answered (one test uses it).
static ANSWERED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A scripted FTP server on `addr`:21 in `ns`; stops when dropped.
struct FakeFtp {
    stop: Arc<AtomicBool>,
}

impl FakeFtp {
    fn start(ns: &Netns, addr: Ipv4Addr, fault: Fault) -> FakeFtp {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        ns.spawn_in(move || {
            let listener = TcpListener::bind((addr, 21)).unwrap();
            listener.set_nonblocking(true).unwrap();
            ready_tx.send(()).unwrap();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let flag = flag.clone();
                        std::thread::spawn(move || serve(stream, fault, &flag));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        })
        .unwrap();
        ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        FakeFtp { stop }
    }
}

impl Drop for FakeFtp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One control connection of the scripted server.
fn serve(stream: TcpStream, fault: Fault, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let _ = out.write_all(b"220 scripted FTP server\r\n");
    let mut data: Option<SocketAddr> = None;
    let mut lists = 0u32;
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(_) => continue,
        }
        let command = line.trim_end().to_string();
        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        let reply: String = match (verb.as_str(), fault) {
            ("USER", _) => "331 Password please.".into(),
            ("PASS", _) => "230 Logged in.".into(),
            ("QUIT", _) => {
                let _ = out.write_all(b"221 Bye.\r\n");
                return;
            }
            ("PORT", Fault::Hang) if data.is_some() => continue,
            ("PORT", Fault::Flood) if data.is_some() => "2".repeat(10_000),
            ("PORT", Fault::HangAfterTwo) if ANSWERED.load(Ordering::Relaxed) >= 2 => continue,
            ("PORT", _) => {
                let n: Vec<u16> = command[5..].split(',').filter_map(|x| x.trim().parse().ok()).collect();
                if let (Fault::RefuseAndDieAtOnce, 6) = (fault, n.len())
                    && n[4] * 256 + n[5] < 1024
                {
                    let _ = out.write_all(b"500 OOPS: Illegal port request\r\n500 OOPS: child died\r\n");
                    return;
                }
                if n.len() != 6 {
                    "501 Syntax error.".into()
                } else {
                    let ip = Ipv4Addr::new(n[0] as u8, n[1] as u8, n[2] as u8, n[3] as u8);
                    data = Some(SocketAddr::from((ip, n[4] * 256 + n[5])));
                    "200 PORT ok.".into()
                }
            }
            ("LIST", Fault::Lie) => "331 Password please.".into(),
            ("LIST", _) => {
                lists += 1;
                if let Fault::DropEvery(n) = fault
                    && lists.is_multiple_of(n)
                {
                    return;
                }
                if let Fault::HangAfterTwo = fault {
                    ANSWERED.fetch_add(1, Ordering::Relaxed);
                }
                let Some(to) = data.take() else {
                    let _ = out.write_all(b"503 PORT first.\r\n");
                    continue;
                };
                // 3 s: longer than a refusal takes, so a silent port's late 425 reads as filtered.
                match TcpStream::connect_timeout(&to, Duration::from_secs(3)) {
                    Ok(_) => "150 Opening data connection.\r\n226 Transfer complete.".into(),
                    Err(_) => "425 Can't open data connection.".into(),
                }
            }
            _ => "502 Not implemented.".into(),
        };
        if out.write_all(format!("{reply}\r\n").as_bytes()).is_err() {
            return;
        }
    }
}

/// A bed with the target (t0, accepting TCP only from t1) and the scripted server on t1.
fn fault_bed(fault: Fault) -> Option<(TestBed, FakeFtp)> {
    let bed = tojimari_testbed::bed_or_skip(2)?;
    let fake = FakeFtp::start(&bed.target(1).ns, bed.target(1).v4, fault);
    Some((bed, fake))
}

#[test]
fn a_server_that_drops_the_control_connection_loses_nothing() {
    let Some((bed, _fake)) = fault_bed(Fault::DropEvery(3)) else { return };
    let (target, relay) = (bed.target(0), bed.target(1).v4);
    let _listeners = target_accepting_only(target, &[relay]);
    let ports: Vec<u16> = all_ports().into_iter().filter(|&p| p >= 1024).collect();
    let list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let (found, _, out, _) =
        bounce_scan(bed.scanner(), &["-b", &relay.to_string(), "-Pn", "-n", "-p", &list, &target.v4.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for p in ports {
        assert_eq!(found.get(&p).map(|v| v.0.as_str()), Some(through_relay(p)), "port {p}: {found:?}");
    }
}

#[test]
fn a_refusal_and_the_sessions_end_in_one_segment_lose_nothing() {
    // The idle session must not take the next port between the refusal and the end it already holds: that
    // port would be asked nowhere and the scan would wait for it for ever (seen with vsftpd under load).
    let Some((bed, _fake)) = fault_bed(Fault::RefuseAndDieAtOnce) else { return };
    let (target, relay) = (bed.target(0), bed.target(1).v4);
    let _listeners = target_accepting_only(target, &[relay]);
    let mut ports = all_ports();
    ports.extend([21, 23, 25, 53, 110, 143, 443, 445]);
    ports.sort_unstable();
    let list = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let mut cmd = tojimari_in(bed.scanner());
    cmd.args(["-b", &relay.to_string(), "-Pn", "-n", "-p", &list, &target.v4.to_string(), "--no-store"]);
    let Some(out) = output_within(cmd, Duration::from_secs(120)) else {
        panic!("the bounce scan did not finish within 120 s");
    };
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for p in ports {
        let line = text.lines().find(|l| l.starts_with(&format!("{p}/tcp "))).unwrap_or_else(|| panic!("{p}: {text}"));
        assert_eq!(line.split_whitespace().nth(1), Some(through_relay(p)), "port {p}: {text}");
    }
}

/// A server that never gives a trustworthy answer: a one-line error, and not one port reported.
fn untrustworthy(fault: Fault, says: &str) {
    let Some((bed, _fake)) = fault_bed(fault) else { return };
    let (target, relay) = (bed.target(0), bed.target(1).v4);
    let _listeners = target_accepting_only(target, &[relay]);
    let (found, _, out, took) = bounce_scan(
        bed.scanner(),
        &["-b", &relay.to_string(), "-Pn", "-n", "-p", "1500,1501,2000", &target.v4.to_string()],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("error: the FTP bounce scan through") && err.contains(says), "{fault:?}: {err}");
    assert!(found.is_empty(), "{fault:?}: nothing trustworthy, nothing reported: {found:?}");
    assert!(took < Duration::from_secs(120), "{took:?}");
}

#[test]
fn a_server_that_stops_answering_mid_scan_keeps_what_it_answered() {
    let Some((bed, _fake)) = fault_bed(Fault::HangAfterTwo) else { return };
    let (target, relay) = (bed.target(0), bed.target(1).v4);
    let _listeners = target_accepting_only(target, &[relay]);
    let (found, xml, out, _) = bounce_scan(
        bed.scanner(),
        &[
            "-b",
            &relay.to_string(),
            "-Pn",
            "-n",
            "-r",
            "--max-parallelism",
            "1",
            "-p",
            "1500,1501,2000,3000",
            &target.v4.to_string(),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err} {found:?} {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains("did not answer PORT in time"), "{err}");
    assert!(err.contains("2 ports were answered and are reported, 2 got no trustworthy answer"), "{err}");
    // The two answered are right; the other two are not reported at all.
    assert_eq!(found.len(), 2, "{found:?}");
    for (port, (state, _)) in &found {
        let want = if OPEN.contains(port) { "open" } else { "closed" };
        assert_eq!(state, want, "port {port}");
    }
    assert!(xml.contains("exit=\"error\""), "{xml}");
}

#[test]
fn a_server_that_hangs_is_told_and_nothing_invented() {
    untrustworthy(Fault::Hang, "did not answer PORT in time");
}

#[test]
fn a_server_that_lies_is_told_and_nothing_invented() {
    untrustworthy(Fault::Lie, "331 Password please.");
}

#[test]
fn a_server_that_floods_is_told_and_nothing_invented() {
    untrustworthy(Fault::Flood, "longer than 2048 bytes");
}

#[test]
fn bad_bounce_arguments_are_usage_errors() {
    for (arg, says) in [
        ("bob@", "no FTP server given"),
        ("198.18.0.2:0", "the port after the server"),
        ("@198.18.0.2", "user name"),
        ("198.18.0.2:21x", "the port after the server"),
    ] {
        let out = support::isolated().args(["scan", "-b", arg, "-Pn", "198.18.0.3"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{arg}: {err}");
        assert_eq!(err.lines().count(), 1, "{arg}: one line: {err}");
        assert!(err.starts_with("error: -b ") && err.contains(says) && err.contains("hint:"), "{arg}: {err}");
    }
    let out = support::isolated().args(["scan", "-b", "198.18.0.2", "-sU", "198.18.0.3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-b (FTP bounce) cannot be combined with -sU"), "{}", stderr(&out));
    let out = support::isolated().args(["scan", "-b", "198.18.0.2", "-O", "198.18.0.3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error: OS detection (-O) probes the target from this host, and -b"),
        "{}",
        stderr(&out)
    );
}
