//! Service and version detection (-sV): probes open ports in parallel with the probe database, inside TLS
//! where needed.
//!
//! The entry points, from small to large:
//! - [`identify_port`] names the service on one port ([`ServiceInfo`]);
//! - [`identify_host`] does all the ports of one host at once;
//! - [`IdentifySink`] is a [`Sink`](tojimari_core::Sink) stage that probes each host a scan finishes and passes
//!   it on with services filled.
//!
//! Which probe goes next on a TCP port, how many run at once and when a phase stops is decided by a pure
//! state machine (`phase.rs`, tested with a fake clock); `tcp.rs` is its tokio adapter.
//! The matching itself is `tojimari-probedb`'s (no I/O); TLS facts are `tojimari-tls`'s; exposure findings are
//! `tojimari-exposure`'s. This crate is the I/O that ties them together: connections, timing and limits
//! ([`IdentifyOptions`]). Nothing a server sends can make it panic, hold more than `max_response_bytes` per
//! probe, or take longer than `port_time_cap` per port (plus the TLS version probes and checks when asked).
//!
//! nmap's options map onto [`IdentifyOptions`]: `-sV` wraps the output sink in an [`IdentifySink`];
//! `--version-intensity N` is [`IdentifyOptions::intensity`]; `--version-light` and `--version-all` are
//! intensities [`IdentifyOptions::LIGHT_INTENSITY`] and [`IdentifyOptions::ALL_INTENSITY`]; `--versiondb FILE` is
//! `ProbeDb::parse` of the file, leaked to `'static`, given to [`IdentifyOptions::db`].

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

pub use host::identify_host;
pub use options::IdentifyOptions;
pub use sink::IdentifySink;
pub use tojimari_probedb::Transport;

/// Detects the service on one port (TCP or UDP), within `opts`' limits; then, as asked, adds TLS details
/// and exposure findings. Never fails: what could not be found leaves the services table's name
/// (method `table`, confidence 3).
pub async fn identify_port(addr: SocketAddr, transport: Transport, opts: &IdentifyOptions) -> ServiceInfo {
    let permits = Arc::new(Semaphore::new(opts.max_host_connections));
    identify_with(addr, transport, opts, &permits).await
}

/// Converts a core protocol to the probe database's transport: `None` for SCTP and IP protocols, which
/// version detection does not probe.
pub fn transport_of(proto: Protocol) -> Option<Transport> {
    match proto {
        Protocol::Tcp => Some(Transport::Tcp),
        Protocol::Udp => Some(Transport::Udp),
        Protocol::Sctp | Protocol::Ip => None,
    }
}

/// [`identify_port`] sharing a host's connection budget.
pub(crate) async fn identify_with(
    addr: SocketAddr,
    transport: Transport,
    opts: &IdentifyOptions,
    permits: &Arc<Semaphore>,
) -> ServiceInfo {
    let (proto, mut info, facts) = match transport {
        Transport::Tcp => {
            let found = tcp::identify(addr, opts, permits).await;
            (Protocol::Tcp, found.info, found.tls)
        }
        Transport::Udp => (Protocol::Udp, udp::identify(addr, opts, permits).await, None),
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
