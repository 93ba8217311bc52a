//! TCP detection: probes on parallel connections, plain first and then inside TLS when the service speaks it.
//!
//! A phase runs the probes `ProbeDb::select` orders (the NULL probe, then those listing the port, then the
//! rest by rarity), each on its own connection, at most `max_port_connections` at once. So a banner service
//! is named one round trip after connecting, and an HTTP server gets its GET at the same moment. The first
//! hard match ends the phase and cancels the other probes; a soft match narrows the remaining probes to that
//! service. A TLS answer (a TLS record, or an `ssl` match) ends the plain phase and starts the TLS phase,
//! where every probe is sent inside its own handshake. On ports the database lists as TLS ports a handshake
//! races the plain phase from the start, and wins when it succeeds.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tojimari_core::{Detail, Protocol, ServiceInfo, ServiceMethod, Tunnel};
use tojimari_probedb::{CONF_SOFT, ProbeDb, ProbeId, Transport};
use tojimari_tls::TlsFacts;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use crate::dial::{DialError, Dialer};
use crate::exchange::{Ending, Reply, converse};
use crate::options::DetectOptions;
use crate::{http, tunnel, verdict};

/// When a probe has no `tcpwrapped` value: closing this soon without data counts as wrapped.
const DEFAULT_WRAPPED: Duration = Duration::from_secs(2);
/// A phase gives up after this many failed connects (or handshakes) without any success.
const MAX_DIAL_FAILURES: usize = 3;
/// After a soft match, the phase goes on for at most this many probe waits (one when serial).
const SOFT_MATCH_BUDGET_WAITS: u32 = 2;
/// Replies that all say "closed at once, no data" before a phase stops as tcpwrapped.
const WRAPPED_EVIDENCE: usize = 3;

/// How many probes of a port run at once.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
enum Pace {
    /// Up to `max_port_connections`.
    #[default]
    Parallel,
    /// One at a time: the server seems to serve one connection at a time (`openssl s_server`, simple
    /// single-threaded daemons), so parallel probes would only wait in its accept queue while the NULL
    /// probe holds it.
    Serial,
}

/// What TCP detection found: the service and, when it spoke TLS, the handshake facts.
#[derive(Debug)]
pub(crate) struct TcpFound {
    pub info: ServiceInfo,
    pub tls: Option<TlsFacts>,
}

/// One probe's fate.
enum Attempt {
    Talked(Box<(Reply, Option<TlsFacts>)>),
    Refused,
    Failed,
}

/// What one phase (plain or inside TLS) saw.
#[derive(Default)]
struct Phase {
    replies: Vec<Reply>,
    /// Index in `replies` of the hard match that ended the phase.
    hard: Option<usize>,
    /// Index in `replies` of the first soft match.
    soft: Option<usize>,
    /// A plaintext probe got a TLS answer.
    tls_seen: bool,
    /// Facts of the first handshake that succeeded (TLS phase).
    facts: Option<TlsFacts>,
    /// The pace the phase ended with (the TLS phase starts where the plain one ended).
    pace: Pace,
}

/// Detects the service on a TCP port.
pub(crate) async fn detect(addr: SocketAddr, opts: &DetectOptions, permits: &Arc<Semaphore>) -> TcpFound {
    let deadline = Instant::now() + opts.port_time_cap;
    let port = addr.port();
    let plain = run_phase(Dialer::Plain(addr), false, Pace::Parallel, opts, permits, deadline);
    let (phase, mut facts) = if tls_port(opts.db, port) {
        let trial = async {
            let _permit = permits.acquire().await.ok()?;
            tunnel::trial(addr, opts.connect_timeout).await
        };
        tokio::pin!(plain, trial);
        tokio::select! {
            facts = &mut trial => match facts {
                Some(facts) => (None, Some(facts)),
                None => (Some(plain.await), None),
            },
            // A TLS server may answer a plaintext GET with an HTTP error page (nginx does): when the
            // handshake also succeeds, the service is behind TLS.
            phase = &mut plain => (Some(phase), trial.await),
        }
    } else {
        (Some(plain.await), None)
    };

    let plain_saw_tls = phase.as_ref().is_some_and(|p| p.tls_seen);
    if facts.is_none() && !plain_saw_tls {
        let phase = phase.unwrap_or_default();
        let mut info = name(&phase, opts.db, Protocol::Tcp, port);
        if opts.banners
            && let Some(line) = banner(&phase, opts.db)
        {
            info.details.insert(0, Detail { id: "banner".into(), output: line });
        }
        return TcpFound { info, tls: None };
    }

    let pace = phase.as_ref().map_or(Pace::Parallel, |p| p.pace);
    let inner = run_phase(Dialer::Tls(addr), true, pace, opts, permits, deadline).await;
    facts = facts.or_else(|| inner.facts.clone());
    let Some(facts) = facts else {
        // TLS spoken, but no handshake we can complete (SSLv3 only, broken, or too slow): say what is known.
        let ssl = phase.as_ref().and_then(|p| p.decisive()).filter(|m| m.service == "ssl");
        let info = ssl.map_or_else(|| ServiceInfo::named("ssl", ServiceMethod::Probed, CONF_SOFT), ServiceInfo::from);
        return TcpFound { info, tls: tunnel::fallback(addr, opts.connect_timeout).await };
    };
    let mut info = name(&inner, opts.db, Protocol::Tcp, port);
    info.tunnel = Some(Tunnel::Ssl);
    TcpFound { info, tls: Some(facts) }
}

/// The first line the service sent unasked, printable, at most 200 characters: the NULL probe's answer, or,
/// when a faster probe's answer ended the phase first, that answer's first line if the NULL probe's own match
/// lines recognise it (a greeting comes before any reply to what was sent).
fn banner(phase: &Phase, db: &ProbeDb) -> Option<String> {
    let first_line = |bytes: &[u8]| -> Vec<u8> {
        let end = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| i + 1);
        bytes[..end].to_vec()
    };
    let null = phase.replies.iter().find(|r| db.probe(r.probe).payload.is_empty() && !r.bytes.is_empty());
    let line = match null {
        Some(reply) => first_line(&reply.bytes),
        None => {
            let decisive = phase.hard.or(phase.soft).map(|i| &phase.replies[i])?;
            let line = first_line(&decisive.bytes);
            let null_id = db.find(Transport::Tcp, "NULL")?;
            db.match_response(null_id, &line)?;
            line
        }
    };
    let text: String = line
        .iter()
        .filter(|&&b| b != b'\r' && b != b'\n')
        .take(200)
        .map(|&b| if (0x20..0x7f).contains(&b) { char::from(b) } else { '.' })
        .collect();
    (!text.trim().is_empty()).then_some(text)
}

/// Whether some probe lists `port` among its TLS ports.
fn tls_port(db: &ProbeDb, port: u16) -> bool {
    db.probes()
        .iter()
        .any(|p| p.transport == Transport::Tcp && p.sslports.iter().any(|&(lo, hi)| (lo..=hi).contains(&port)))
}

impl Phase {
    fn decisive(&self) -> Option<&tojimari_probedb::Match> {
        self.hard.or(self.soft).and_then(|i| self.replies[i].matched.as_ref())
    }

    /// The server accepted and hung up at once, saying nothing, on the NULL probe and every other probe.
    fn wrapped(&self, db: &ProbeDb) -> bool {
        let quick_empty_close = |r: &Reply| {
            let limit = db.probe(r.probe).tcpwrapped.unwrap_or(DEFAULT_WRAPPED);
            r.bytes.is_empty() && r.ending.hung_up() && r.elapsed <= limit
        };
        let null_wrapped = self.replies.iter().any(|r| db.probe(r.probe).payload.is_empty() && quick_empty_close(r));
        null_wrapped && self.replies.iter().all(|r| r.bytes.is_empty())
    }

    fn wrapped_evidence(&self, db: &ProbeDb) -> bool {
        self.replies.len() >= WRAPPED_EVIDENCE && self.wrapped(db)
    }
}

/// Names the service from a finished phase, and adds what an HTTP answer says.
fn name(phase: &Phase, db: &ProbeDb, proto: Protocol, port: u16) -> ServiceInfo {
    let Some(m) = phase.decisive() else {
        return if phase.wrapped(db) { verdict::tcpwrapped() } else { verdict::table(proto, port) };
    };
    let mut info = ServiceInfo::from(m);
    if http::is_http_service(&info.name) {
        let decisive = phase.hard.or(phase.soft).map(|i| &phase.replies[i]);
        let page = decisive
            .filter(|r| http::is_response(&r.bytes))
            .or_else(|| phase.replies.iter().find(|r| http::is_response(&r.bytes)));
        if let Some(page) = page {
            if info.product.is_none() {
                info.product = http::server_header(&page.bytes);
            }
            if let Some(title) = http::title(&page.bytes) {
                info.details.push(Detail { id: "http-title".into(), output: title });
            }
        }
    }
    info
}

/// Runs the probes for one phase until a hard match, the end of the list, or `deadline`.
///
/// While every answer so far is silence (no byte, no close), each silent probe is queued again and the
/// phase goes [`Pace::Serial`]: a server that serves one connection at a time never saw those probes.
async fn run_phase(
    dialer: Dialer,
    tls: bool,
    pace: Pace,
    opts: &DetectOptions,
    permits: &Arc<Semaphore>,
    deadline: Instant,
) -> Phase {
    let db = opts.db;
    let port = match dialer {
        Dialer::Plain(addr) | Dialer::Tls(addr) => addr.port(),
    };
    let mut queue: VecDeque<ProbeId> = db.select(Transport::Tcp, port, opts.intensity, tls, None).into();
    if pace == Pace::Serial || tls {
        // One at a time, a silent NULL probe would cost a whole wait before anything else is tried; the
        // plain phase already waited for a banner. Inside TLS the NULL probe goes last as well: a service
        // that greets first (IMAPS, SMTPS) greets every probe's connection, and the NULL probe's matches are
        // tried on every answer; a server that serves one TLS connection at a time (`openssl s_server`)
        // would otherwise sit on the silent NULL connection while the others queue.
        let (null, mut rest): (VecDeque<ProbeId>, VecDeque<ProbeId>) =
            queue.into_iter().partition(|&id| db.probe(id).payload.is_empty());
        rest.extend(null);
        queue = rest;
    }
    let mut deadline = deadline;
    let mut started = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut phase = Phase { pace, ..Phase::default() };
    // Probes sent while the pace was parallel: the ones a serial server may not have seen.
    let mut in_parallel = HashSet::new();
    let mut dial_failures = 0;
    let mut tls_naming: Option<Vec<ProbeId>> = None;
    loop {
        let limit = if phase.pace == Pace::Serial { 1 } else { opts.max_port_connections };
        while tasks.len() < limit {
            let Some(id) = queue.pop_front() else { break };
            if started.insert(id) {
                if phase.pace == Pace::Parallel {
                    in_parallel.insert(id);
                }
                tasks.spawn(attempt(dialer, id, opts.clone(), Arc::clone(permits)));
            }
        }
        let Ok(Some(joined)) = timeout_at(deadline, tasks.join_next()).await else { break };
        let Ok(outcome) = joined else { continue };
        let (reply, facts) = match outcome {
            Attempt::Refused => break,
            Attempt::Failed => {
                dial_failures += 1;
                if dial_failures >= MAX_DIAL_FAILURES && phase.replies.is_empty() {
                    break;
                }
                continue;
            }
            Attempt::Talked(talked) => *talked,
        };
        if phase.facts.is_none() {
            phase.facts = facts;
        }
        let silent = |r: &Reply| r.bytes.is_empty() && r.ending == Ending::TimedOut;
        // Only silence so far (a probe the server hung up on without a byte, as a TLS server does to
        // plaintext, says nothing either): the server may be serving one connection at a time.
        if silent(&reply)
            && phase.replies.iter().all(|r| r.bytes.is_empty())
            && !db.probe(reply.probe).payload.is_empty()
            && in_parallel.remove(&reply.probe)
        {
            phase.pace = Pace::Serial;
            started.remove(&reply.probe);
            queue.push_front(reply.probe);
            // One at a time, each silent probe costs a whole wait: try first the probes that can name TLS.
            // A TLS server is the usual reason for silence to plaintext (it waits for a ClientHello), and
            // single-connection servers are mostly TLS test servers (`openssl s_server`).
            let tls_probes = tls_naming.get_or_insert_with(|| db.select(Transport::Tcp, port, 9, false, Some("ssl")));
            let (first, rest): (VecDeque<ProbeId>, VecDeque<ProbeId>) =
                queue.drain(..).partition(|id| tls_probes.contains(id));
            queue = first;
            queue.extend(rest);
        }
        let is_ssl = reply.matched.as_ref().is_some_and(|m| m.service == "ssl");
        if !tls && (is_ssl || tojimari_tls::looks_like_tls(&reply.bytes)) {
            phase.tls_seen = true;
            if is_ssl {
                phase.hard = Some(phase.replies.len());
            }
            phase.replies.push(reply);
            break;
        }
        let index = phase.replies.len();
        match &reply.matched {
            Some(m) if !m.soft => {
                phase.hard = Some(index);
                phase.replies.push(reply);
                break;
            }
            Some(m) if phase.soft.is_none() => {
                phase.soft = Some(index);
                // The service is known; give the narrowed probes a bounded time to name the product.
                let waits = if phase.pace == Pace::Serial { 1 } else { SOFT_MATCH_BUDGET_WAITS };
                deadline = deadline.min(Instant::now() + waits * opts.probe_wait_cap);
                queue = db
                    .select(Transport::Tcp, port, opts.intensity, tls, Some(&m.service))
                    .into_iter()
                    .filter(|id| !started.contains(id))
                    .collect();
            }
            _ => {}
        }
        phase.replies.push(reply);
        if phase.wrapped_evidence(db) {
            break;
        }
    }
    tasks.abort_all();
    phase
}

/// Connects (inside TLS for a TLS dialer), sends one probe and reads its answer.
async fn attempt(dialer: Dialer, probe: ProbeId, opts: DetectOptions, permits: Arc<Semaphore>) -> Attempt {
    let Ok(_permit) = permits.acquire_owned().await else { return Attempt::Failed };
    let (mut conn, facts) = match dialer.dial(opts.connect_timeout).await {
        Ok(connected) => connected,
        Err(DialError::Refused) => return Attempt::Refused,
        Err(DialError::Unreachable | DialError::Tls) => return Attempt::Failed,
    };
    let wait = opts.probe_wait(opts.db.probe(probe).wait);
    let reply = converse(&mut conn, opts.db, probe, wait, opts.max_response_bytes).await;
    Attempt::Talked(Box::new((reply, facts)))
}
