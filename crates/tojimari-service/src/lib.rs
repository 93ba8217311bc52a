//! Service and version detection (-sV): probes open ports in parallel with the probe database, inside TLS
//! where needed.
//!
//! The entry points, from small to large:
//! - [`detect_port`] names the service on one port ([`ServiceInfo`]);
//! - [`detect_host`] does all the ports of one host at once;
//! - [`DetectSink`] is a [`Sink`](tojimari_core::Sink) stage that probes each host a scan finishes and passes
//!   it on with services filled.
//!
//! The matching itself is `tojimari-probedb`'s (no I/O); TLS facts are `tojimari-tls`'s; exposure findings are
//! `tojimari-exposure`'s. This crate is the I/O that ties them together: connections, timing and limits
//! ([`DetectOptions`]). Nothing a server sends can make it panic, hold more than `max_response_bytes` per
//! probe, or take longer than `port_time_cap` per port (plus the TLS version probes and checks when asked).
//!
//! nmap's options map onto [`DetectOptions`]: `-sV` wraps the output sink in a [`DetectSink`];
//! `--version-intensity N` is [`DetectOptions::intensity`]; `--version-light` and `--version-all` are
//! intensities [`DetectOptions::LIGHT_INTENSITY`] and [`DetectOptions::ALL_INTENSITY`]; `--versiondb FILE` is
//! `ProbeDb::parse` of the file, leaked to `'static`, given to [`DetectOptions::db`].

mod dial;
mod exchange;
mod exposure;
mod host;
mod http;
mod options;
mod phase;
mod sink;
mod tcp;
mod tunnel;
mod udp;
mod verdict;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tojimari_core::{Protocol, ServiceInfo, Tunnel};
use tokio::sync::Semaphore;

pub use host::detect_host;
pub use options::DetectOptions;
pub use sink::DetectSink;
pub use tojimari_probedb::Transport;

/// Detects the service on one port (TCP or UDP), within `opts`' limits; then, as asked, adds TLS details
/// and exposure findings. Never fails: what could not be found leaves the services table's name
/// (method `table`, confidence 3).
pub async fn detect_port(addr: SocketAddr, transport: Transport, opts: &DetectOptions) -> ServiceInfo {
    let permits = Arc::new(Semaphore::new(opts.max_host_connections));
    detect_with(addr, transport, opts, &permits).await
}

/// Converts a core protocol to the probe database's transport.
pub fn transport_of(proto: Protocol) -> Transport {
    match proto {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    }
}

/// [`detect_port`] sharing a host's connection budget.
pub(crate) async fn detect_with(
    addr: SocketAddr,
    transport: Transport,
    opts: &DetectOptions,
    permits: &Arc<Semaphore>,
) -> ServiceInfo {
    let (proto, mut info, facts) = match transport {
        Transport::Tcp => {
            let found = tcp::detect(addr, opts, permits).await;
            (Protocol::Tcp, found.info, found.tls)
        }
        Transport::Udp => (Protocol::Udp, udp::detect(addr, opts, permits).await, None),
    };
    let now = SystemTime::now();
    if let Some(facts) = &facts {
        info.details.push(tunnel::cert_detail(facts, now));
    }
    let speaks_tls = facts.is_some() || info.tunnel == Some(Tunnel::Ssl) || info.name == "ssl";
    let legacy = if opts.tls && speaks_tls { Some(tunnel::legacy(addr, opts.connect_timeout).await) } else { None };
    if let Some(legacy) = &legacy {
        info.details.push(tunnel::versions_detail(facts.as_ref(), legacy));
    }
    if opts.checks {
        exposure::check(addr, proto, &mut info, facts.as_ref(), legacy.as_ref(), now, opts).await;
    }
    info
}
