//! The phase policy against simulated services on a fake clock: the simulation plays `tcp::run_phase`'s
//! part (each probe answered after the service's delay, matched as `exchange::converse` would), so every
//! decision is checked without a socket.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tojimari_probedb::{ProbeDb, ProbeId, Transport};

use super::*;
use crate::exchange::{Ending, Reply};
use crate::options::IdentifyOptions;

fn db() -> &'static ProbeDb {
    static DB: OnceLock<ProbeDb> = OnceLock::new();
    DB.get_or_init(|| {
        let text = "Probe TCP NULL q||\ntotalwaitms 5000\n\
            match ssh m|^SSH-2\\.0-OpenSSH_(\\S+)\\r\\n| p/OpenSSH/ v/$1/\n\
            softmatch ftp m|^220 |\n\
            Probe TCP GetRequest q|GET / HTTP/1.0\\r\\n\\r\\n|\nrarity 1\nports 80,8080\nsslports 443\n\
            match http m|^HTTP/1\\.[01] \\d\\d\\d [^\\r\\n]*\\r\\nServer: Tiny| p/Tiny httpd/\n\
            softmatch http m|^HTTP/1\\.[01] \\d\\d\\d|\n\
            Probe TCP Help q|HELP\\r\\n|\nrarity 3\n\
            match helpd m|^\\+HELPFUL\\r\\n| p/Helpd/\n\
            match ftp m|^220 Tiny FTP\\r\\n214 | p/Tiny FTP/\n\
            Probe TCP TLSSessionReq q|\\x16\\x03\\0\\0S|\nrarity 1\nports 443\n\
            Probe TCP Rare q|RARE\\r\\n|\nrarity 8\n\
            match rare m|^RARE-OK| p/Rare/\n";
        ProbeDb::parse(text, "unit").unwrap()
    })
}

fn id(name: &str) -> ProbeId {
    db().find(Transport::Tcp, name).unwrap()
}

fn name_of(probe: ProbeId) -> &'static str {
    &db().probe(probe).name
}

/// What a simulated service does with one probe: the bytes it sends, how the exchange ends, and when.
struct Answer {
    bytes: &'static [u8],
    ending: Ending,
    after: Duration,
}

/// Silence: nothing until the probe's wait runs out.
fn silence(probe: ProbeId, opts: &IdentifyOptions) -> Answer {
    Answer { bytes: b"", ending: Ending::TimedOut, after: opts.probe_wait(db().probe(probe).wait) }
}

fn says(bytes: &'static [u8]) -> Answer {
    Answer { bytes, ending: Ending::Closed, after: Duration::from_millis(5) }
}

/// What a phase did.
struct Run {
    phase: Phase,
    /// Probes started, in order.
    started: Vec<&'static str>,
    /// Most probes running at once.
    peak: usize,
    elapsed: Duration,
}

/// Plays the adapter: starts the probes the policy asks for, delivers each outcome when the service's
/// answer is done, and expires the phase when the policy's deadline comes first.
fn drive(opts: &IdentifyOptions, port: u16, tls: bool, pace: Pace, service: &dyn Fn(ProbeId) -> Outcome2) -> Run {
    let start = Instant::now();
    let mut now = start;
    let mut policy = PhasePolicy::new(opts, port, tls, pace, start + opts.port_time_cap);
    let mut running: Vec<(Instant, ProbeId, Outcome2)> = Vec::new();
    let mut started = Vec::new();
    let mut peak = 0;
    for _ in 0..10_000 {
        match policy.next() {
            Step::Probe(probe) => {
                started.push(name_of(probe));
                let answer = service(probe);
                let done = now + answer.after();
                running.push((done, probe, answer));
                peak = peak.max(running.len());
            }
            Step::Await { until } => {
                let Some(first) = (0..running.len()).min_by_key(|&i| running[i].0) else {
                    panic!("awaiting with nothing running")
                };
                if running[first].0 > until {
                    now = until;
                    policy.expired();
                    continue;
                }
                let (done, probe, answer) = running.remove(first);
                now = done;
                policy.outcome(now, answer.outcome(probe));
            }
            Step::Done => {
                return Run { phase: policy.finish(), started, peak, elapsed: now - start };
            }
        }
    }
    panic!("the phase never ended")
}

/// A probe's fate in the simulation.
enum Outcome2 {
    Talk(Answer),
    Refused,
    /// The connect failed otherwise (out of descriptors, unreachable, a failed handshake).
    Failed,
}

impl Outcome2 {
    fn after(&self) -> Duration {
        match self {
            Outcome2::Talk(a) => a.after,
            Outcome2::Refused | Outcome2::Failed => Duration::from_millis(1),
        }
    }

    /// What the adapter would report: the reply matched as `converse` matches it.
    fn outcome(self, probe: ProbeId) -> Outcome {
        match self {
            Outcome2::Refused => Outcome::Refused,
            Outcome2::Failed => Outcome::Failed,
            Outcome2::Talk(a) => {
                let matched = db().match_response(probe, a.bytes);
                let ending = if matched.as_ref().is_some_and(|m| !m.soft) { Ending::Matched } else { a.ending };
                let reply = Reply { probe, bytes: a.bytes.to_vec(), matched, ending, elapsed: a.after };
                Outcome::Talked(Box::new((reply, None)))
            }
        }
    }
}

fn opts() -> IdentifyOptions {
    IdentifyOptions::with_db(db())
}

#[test]
fn a_banner_service_is_named_by_the_null_probe() {
    let opts = opts();
    let run = drive(&opts, 22, false, Pace::Parallel, &|p| {
        // The banner comes on every connection; the other probes' answers come later.
        let mut a = says(b"SSH-2.0-OpenSSH_9.6\r\n");
        if p != id("NULL") {
            a.after = Duration::from_millis(50);
        }
        Outcome2::Talk(a)
    });
    let m = run.phase.decisive().unwrap();
    assert_eq!((m.service.as_str(), m.version.as_deref()), ("ssh", Some("9.6")));
    assert_eq!(run.started[0], "NULL");
    // The hard match ended the phase at once: the banner's 5 ms, not the other probes' waits.
    assert_eq!(run.elapsed, Duration::from_millis(5));
    assert_eq!(run.phase.replies.len(), 1);
}

#[test]
fn a_service_that_needs_its_probe_is_named_by_it() {
    // Silent to everything but HELP.
    let opts = opts();
    let run = drive(&opts, 7000, false, Pace::Parallel, &|p| {
        Outcome2::Talk(if p == id("Help") { says(b"+HELPFUL\r\n") } else { silence(p, &opts) })
    });
    assert_eq!(run.phase.decisive().map(|m| m.service.as_str()), Some("helpd"));
    // Sent alongside the NULL probe, not after its wait.
    assert!(run.started.contains(&"Help"));
    assert!(run.elapsed < Duration::from_millis(100), "{:?}", run.elapsed);
}

#[test]
fn probes_listing_the_port_go_first_and_intensity_bounds_the_rest() {
    // A service that answers every probe with bytes no match line knows: every selected probe is tried.
    let unknown = |_| Outcome2::Talk(says(b"?"));
    let opts = opts().max_port_connections(1);
    // Port 80 is GetRequest's: right after the NULL probe. Rare (rarity 8) is above intensity 7.
    let run = drive(&opts, 80, false, Pace::Parallel, &unknown);
    assert_eq!(run.started, ["NULL", "GetRequest", "TLSSessionReq", "Help"]);
    assert_eq!(run.peak, 1);
    // --version-all sends it.
    let run = drive(&opts.clone().intensity(9), 80, false, Pace::Parallel, &unknown);
    assert_eq!(run.started, ["NULL", "GetRequest", "TLSSessionReq", "Help", "Rare"]);
    // --version-light: rarity 1 and 2 only, plus the probes listing the port.
    let run = drive(&opts.clone().intensity(2), 7000, false, Pace::Parallel, &unknown);
    assert_eq!(run.started, ["NULL", "GetRequest", "TLSSessionReq"]);
    let run = drive(&opts.clone().intensity(0), 443, false, Pace::Parallel, &unknown);
    assert_eq!(run.started, ["NULL", "TLSSessionReq"]);
}

#[test]
fn at_most_max_port_connections_run_at_once() {
    for limit in [1, 2, 6] {
        let opts = opts().max_port_connections(limit).intensity(9);
        let run = drive(&opts, 7000, false, Pace::Parallel, &|p| {
            Outcome2::Talk(Answer { bytes: b"?", ending: Ending::Closed, after: opts.probe_wait(db().probe(p).wait) })
        });
        assert_eq!(run.peak, limit.min(db().select(Transport::Tcp, 7000, 9, false, None).len()), "limit {limit}");
    }
}

#[test]
fn a_silent_port_stops_within_the_port_budget() {
    let opts = opts().port_time_cap(Duration::from_secs(3)).intensity(9);
    let run = drive(&opts, 7000, false, Pace::Parallel, &|p| Outcome2::Talk(silence(p, &opts)));
    assert!(run.elapsed <= Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(run.phase.decisive().is_none() && !run.phase.tls_seen);
    // Silence to probes sent in parallel made the phase serial: a one-connection server may hold the NULL
    // probe's connection while the others wait.
    assert_eq!(run.phase.pace, Pace::Serial);
    // Each silent parallel probe was tried again, one at a time (within the budget).
    assert!(run.started.len() > db().select(Transport::Tcp, 7000, 9, false, None).len(), "{:?}", run.started);
}

#[test]
fn a_port_that_closes_at_once_is_tcpwrapped_after_three_answers() {
    let opts = opts().intensity(9);
    let run = drive(&opts, 7000, false, Pace::Parallel, &|_| {
        Outcome2::Talk(Answer { bytes: b"", ending: Ending::Closed, after: Duration::from_millis(2) })
    });
    assert_eq!(run.phase.replies.len(), 3);
    assert!(run.phase.wrapped(db()));
    assert!(run.elapsed < Duration::from_millis(10), "{:?}", run.elapsed);
}

#[test]
fn a_refused_connection_ends_the_phase() {
    let opts = opts();
    let run = drive(&opts, 7000, false, Pace::Parallel, &|_| Outcome2::Refused);
    assert!(run.phase.replies.is_empty());
    assert_eq!(run.elapsed, Duration::from_millis(1));
}

#[test]
fn connects_that_keep_failing_end_the_phase_after_three_without_a_name() {
    // Out of descriptors (or unreachable): every connect fails at once. One connection at a time, so the
    // phase is seen giving up after the third failure while a fourth and fifth probe were still to go.
    let opts = opts().max_port_connections(1).intensity(9);
    let probes = db().select(Transport::Tcp, 7000, 9, false, None).len();
    assert!(probes > 3);
    let run = drive(&opts, 7000, false, Pace::Parallel, &|_| Outcome2::Failed);
    assert!(run.phase.replies.is_empty());
    assert!(run.phase.decisive().is_none());
    assert_eq!(run.started.len(), 3, "{:?}", run.started);
    assert_eq!(run.elapsed, Duration::from_millis(3));
}

#[test]
fn a_failed_connect_among_answers_does_not_cost_the_name() {
    // The first connections fail (descriptors ran out for a moment); the service's own probe still gets
    // through and names it.
    let opts = opts();
    let run = drive(&opts, 7000, false, Pace::Parallel, &|p| {
        if p == id("Help") {
            Outcome2::Talk(says(b"+HELPFUL\r\n"))
        } else if p == id("NULL") || p == id("GetRequest") {
            Outcome2::Failed
        } else {
            Outcome2::Talk(silence(p, &opts))
        }
    });
    assert_eq!(run.phase.decisive().map(|m| m.service.as_str()), Some("helpd"));
}

#[test]
fn a_tls_answer_ends_the_plain_phase_and_leads_to_the_tunnel() {
    let opts = opts();
    // A TLS server: silent to plaintext, a TLS alert record to the TLS probe.
    let run = drive(&opts, 443, false, Pace::Parallel, &|p| {
        Outcome2::Talk(if p == id("TLSSessionReq") { says(b"\x15\x03\x03\x00\x02\x02\x46") } else { silence(p, &opts) })
    });
    assert!(run.phase.tls_seen);
    assert_eq!(after_plain(Some(&run.phase), false), AfterPlain::Tunnel(run.phase.pace));
    // Without TLS anywhere, the plain phase names the service; a handshake that won the race alone
    // leads to the tunnel too.
    assert_eq!(after_plain(Some(&Phase::default()), false), AfterPlain::Name);
    assert_eq!(after_plain(None, true), AfterPlain::Tunnel(Pace::Parallel));
    assert!(races_tls(db(), 443) && !races_tls(db(), 80));
    // Inside the tunnel the NULL probe goes last, and the HTTP server answers the GET.
    let inner = drive(&opts, 443, true, Pace::Parallel, &|p| {
        Outcome2::Talk(if p == id("GetRequest") {
            says(b"HTTP/1.1 200 OK\r\nServer: Tiny\r\n\r\n")
        } else {
            silence(p, &opts)
        })
    });
    assert_eq!(inner.started[0], "GetRequest");
    assert_eq!(inner.phase.decisive().map(|m| m.product.as_deref()), Some(Some("Tiny httpd")));
    assert!(!inner.phase.tls_seen);
}

#[test]
fn a_soft_match_narrows_the_probes_and_bounds_the_time() {
    // An FTP server: "220 " on every connection is a soft match; only HELP (which has an ftp match line)
    // can name the product, and it does.
    let opts = opts().max_port_connections(1).intensity(9);
    let run = drive(&opts, 21, false, Pace::Parallel, &|p| {
        Outcome2::Talk(if p == id("Help") { says(b"220 Tiny FTP\r\n214 ok\r\n") } else { says(b"220 hello\r\n") })
    });
    assert_eq!(run.started, ["NULL", "Help"]);
    assert_eq!(run.phase.decisive().and_then(|m| m.product.as_deref()), Some("Tiny FTP"));
    // A soft match and then silence: over within two probe waits of the soft match, not the port's budget.
    let run = drive(&opts, 21, false, Pace::Parallel, &|p| {
        Outcome2::Talk(if p == id("NULL") { says(b"220 hello\r\n") } else { silence(p, &opts) })
    });
    assert!(run.phase.decisive().is_some_and(|m| m.soft && m.service == "ftp"));
    assert!(run.elapsed <= Duration::from_millis(5) + 2 * opts.probe_wait_cap, "{:?}", run.elapsed);
}
