//! TCP detection: probes on parallel connections, plain first and then inside TLS when the service speaks it.
//!
//! This is the I/O around [`crate::phase`], which decides which probes a phase sends and when it stops: here
//! each probe gets its connection (a task holding one of the host's permits), and the outcomes go back to the
//! policy. So a banner service is named one round trip after connecting, and an HTTP server gets its GET at
//! the same moment; the first hard match cancels the other probes. A TLS answer ends the plain phase and
//! starts the TLS phase, where every probe is sent inside its own handshake. On ports the database lists as
//! TLS ports a handshake races the plain phase from the start, and wins when it succeeds.

use std::net::SocketAddr;
use std::sync::Arc;

use tojimari_core::{Detail, Protocol, ServiceInfo, ServiceMethod, Tunnel};
use tojimari_probedb::{CONF_SOFT, ProbeDb, ProbeId, Transport};
use tojimari_tls::TlsFacts;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use crate::dial::{DialError, Dialer};
use crate::exchange::converse;
use crate::options::IdentifyOptions;
use crate::phase::{AfterPlain, Outcome, Pace, Phase, PhasePolicy, Step, after_plain, races_tls};
use crate::{http, tunnel, verdict};

/// What TCP detection found: the service and, when it spoke TLS, the handshake facts.
#[derive(Debug)]
pub(crate) struct TcpFound {
    pub info: ServiceInfo,
    pub tls: Option<TlsFacts>,
}

/// Detects the service on a TCP port.
pub(crate) async fn identify(addr: SocketAddr, opts: &IdentifyOptions, permits: &Arc<Semaphore>) -> TcpFound {
    let deadline = Instant::now() + opts.port_time_cap;
    let port = addr.port();
    let plain = run_phase(Dialer::Plain(addr), false, Pace::Parallel, opts, permits, deadline);
    let (phase, mut facts) = if races_tls(opts.db, port) {
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

    let pace = match after_plain(phase.as_ref(), facts.is_some()) {
        AfterPlain::Tunnel(pace) => pace,
        AfterPlain::Name => {
            let phase = phase.unwrap_or_default();
            let mut info = name(&phase, opts.db, Protocol::Tcp, port);
            if opts.banners
                && let Some(line) = banner(&phase, opts.db)
            {
                info.details.insert(0, Detail { id: "banner".into(), output: line });
            }
            return TcpFound { info, tls: None };
        }
    };
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

/// Runs the probes [`PhasePolicy`] asks for, each on its own connection, until it is done or `deadline`.
async fn run_phase(
    dialer: Dialer,
    tls: bool,
    pace: Pace,
    opts: &IdentifyOptions,
    permits: &Arc<Semaphore>,
    deadline: Instant,
) -> Phase {
    let port = match dialer {
        Dialer::Plain(addr) | Dialer::Tls(addr) => addr.port(),
    };
    let mut policy = PhasePolicy::new(opts, port, tls, pace, deadline.into_std());
    let mut tasks = JoinSet::new();
    loop {
        match policy.next() {
            Step::Probe(id) => {
                tasks.spawn(attempt(dialer, id, opts.clone(), Arc::clone(permits)));
            }
            Step::Await { until } => match timeout_at(Instant::from_std(until), tasks.join_next()).await {
                Ok(Some(Ok(outcome))) => policy.outcome(Instant::now().into_std(), outcome),
                Ok(Some(Err(_))) => policy.lost(),
                Ok(None) | Err(_) => policy.expired(),
            },
            Step::Done => break,
        }
    }
    tasks.abort_all();
    policy.finish()
}

/// Connects (inside TLS for a TLS dialer), sends one probe and reads its answer.
async fn attempt(dialer: Dialer, probe: ProbeId, opts: IdentifyOptions, permits: Arc<Semaphore>) -> Outcome {
    let Ok(_permit) = permits.acquire_owned().await else { return Outcome::Failed };
    let (mut conn, facts) = match dialer.dial(opts.connect_timeout).await {
        Ok(connected) => connected,
        Err(DialError::Refused) => return Outcome::Refused,
        Err(DialError::Unreachable | DialError::Tls) => return Outcome::Failed,
    };
    let wait = opts.probe_wait(opts.db.probe(probe).wait);
    let reply = converse(&mut conn, opts.db, probe, wait, opts.max_response_bytes).await;
    Outcome::Talked(Box::new((reply, facts)))
}
