//! All the ports of one host at once: ports run in parallel (at most `max_host_ports`), and every port's
//! connections share the host's `max_host_connections` budget.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tojimari_core::ServiceInfo;
use tojimari_probedb::Transport;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::options::IdentifyOptions;

/// How often an interrupt flag is looked at.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// Detects the services on `ports` of `ip`, all in parallel within the options' limits. The result has one
/// entry per port, in the order given.
pub async fn identify_host(
    ip: IpAddr,
    ports: &[(Transport, u16)],
    opts: &IdentifyOptions,
) -> Vec<(Transport, u16, ServiceInfo)> {
    let found = identify_until(ip, ports, opts, None).await;
    ports.iter().zip(found).filter_map(|(&(transport, port), info)| Some((transport, port, info?))).collect()
}

/// Like [`identify_host`], but stops soon after `interrupt` is set; ports not finished by then are `None`.
/// The result is parallel to `ports`.
pub(crate) async fn identify_until(
    ip: IpAddr,
    ports: &[(Transport, u16)],
    opts: &IdentifyOptions,
    interrupt: Option<&AtomicBool>,
) -> Vec<Option<ServiceInfo>> {
    let mut found = vec![None; ports.len()];
    let permits = Arc::new(Semaphore::new(opts.max_host_connections));
    let mut queue = ports.iter().copied().enumerate();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < opts.max_host_ports {
            let Some((index, (transport, port))) = queue.next() else { break };
            let (opts, permits) = (opts.clone(), Arc::clone(&permits));
            tasks.spawn(async move {
                let info = crate::identify_with(SocketAddr::new(ip, port), transport, &opts, &permits).await;
                (index, info)
            });
        }
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok((index, info))) => found[index] = Some(info),
                // A detection task that panicked leaves its port without a service; the others go on.
                Some(Err(_)) => {}
            },
            () = interrupted(interrupt) => break,
        }
    }
    found
}

/// Resolves once `flag` is set; never when there is none.
pub(crate) async fn interrupted(flag: Option<&AtomicBool>) {
    let Some(flag) = flag else { return std::future::pending().await };
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(INTERRUPT_POLL).await;
    }
}
