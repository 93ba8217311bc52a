//! UDP detection: each selected probe (the ones listing the port first) on its own socket, re-sent when
//! nothing comes back, at most `max_port_connections` at once. The first hard match wins; a soft match
//! narrows the rest to that service; silence leaves the services table's name. An ICMP port unreachable
//! (seen as a refused `recv`) ends detection: nothing listens.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tojimari_core::{Protocol, ServiceInfo};
use tojimari_probedb::{Match, ProbeId, Transport};
use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout, timeout_at};

use crate::options::IdentifyOptions;
use crate::verdict;

/// Shortest wait for one try.
const MIN_TRY: Duration = Duration::from_millis(200);

enum Answer {
    Matched(Box<Match>),
    /// Something came back that no match line knows.
    Unmatched,
    Silent,
    Unreachable,
}

/// Detects the service on a UDP port.
pub(crate) async fn identify(addr: SocketAddr, opts: &IdentifyOptions, permits: &Arc<Semaphore>) -> ServiceInfo {
    let db = opts.db;
    let port = addr.port();
    let deadline = Instant::now() + opts.port_time_cap;
    let usable = |id: &ProbeId| !db.probe(*id).payload.is_empty();
    let mut queue: VecDeque<ProbeId> =
        db.select(Transport::Udp, port, opts.intensity, false, None).into_iter().filter(usable).collect();
    let mut started = HashSet::new();
    let mut tasks = JoinSet::new();
    let mut soft: Option<Match> = None;
    loop {
        while tasks.len() < opts.max_port_connections {
            let Some(id) = queue.pop_front() else { break };
            if started.insert(id) {
                tasks.spawn(ask(addr, id, opts.clone(), Arc::clone(permits)));
            }
        }
        let Ok(Some(joined)) = timeout_at(deadline, tasks.join_next()).await else { break };
        match joined {
            Ok(Answer::Matched(m)) if !m.soft => return ServiceInfo::from(*m),
            Ok(Answer::Matched(m)) => {
                if soft.is_none() {
                    queue = db
                        .select(Transport::Udp, port, opts.intensity, false, Some(&m.service))
                        .into_iter()
                        .filter(|id| usable(id) && !started.contains(id))
                        .collect();
                    soft = Some(*m);
                }
            }
            Ok(Answer::Unreachable) => break,
            Ok(Answer::Unmatched | Answer::Silent) | Err(_) => {}
        }
    }
    soft.map_or_else(|| verdict::table(Protocol::Udp, port), ServiceInfo::from)
}

/// Sends one probe (with retries) and matches the first datagram that comes back.
async fn ask(addr: SocketAddr, probe: ProbeId, opts: IdentifyOptions, permits: Arc<Semaphore>) -> Answer {
    let Ok(_permit) = permits.acquire_owned().await else { return Answer::Silent };
    match exchange(addr, probe, &opts).await {
        Ok(Some(bytes)) => {
            opts.db.match_response(probe, &bytes).map_or(Answer::Unmatched, |m| Answer::Matched(Box::new(m)))
        }
        Ok(None) => Answer::Silent,
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Answer::Unreachable,
        Err(_) => Answer::Silent,
    }
}

async fn exchange(addr: SocketAddr, probe: ProbeId, opts: &IdentifyOptions) -> io::Result<Option<Vec<u8>>> {
    let local: SocketAddr =
        if addr.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(addr).await?;
    let payload = &opts.db.probe(probe).payload;
    let tries = u32::from(opts.udp_retries) + 1;
    let per_try = (opts.probe_wait(opts.db.probe(probe).wait) / tries).max(MIN_TRY);
    let mut buf = vec![0u8; opts.max_response_bytes.min(65_535)];
    for _ in 0..tries {
        socket.send(payload).await?;
        if let Ok(received) = timeout(per_try, socket.recv(&mut buf)).await {
            let n = received?;
            buf.truncate(n);
            return Ok(Some(buf));
        }
    }
    Ok(None)
}
