//! Real Debian daemons in a test-bed target (tojimari-testbed's launchers), detected from the scanner
//! namespace with the builtin database: names, products, versions and tunnels against the launcher's ground
//! truth, TLS details, and exposure findings from the checks.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tojimari_core::ServiceInfo;
use tojimari_service::{IdentifyOptions, Transport, identify_host};
use tojimari_testbed::daemons::{self, Daemon, Posture, Tunnel as TruthTunnel};

/// Daemons whose product the builtin database names (checked in full).
const NAMED: [Daemon; 9] = [
    Daemon::OpenSsh,
    Daemon::Redis,
    Daemon::Nginx,
    Daemon::Vsftpd,
    Daemon::Exim,
    Daemon::Dovecot,
    Daemon::Snmpd,
    Daemon::Postgresql,
    Daemon::Telnetd,
];

fn transport(t: tojimari_testbed::Transport) -> Transport {
    match t {
        tojimari_testbed::Transport::Tcp => Transport::Tcp,
        tojimari_testbed::Transport::Udp => Transport::Udp,
    }
}

fn has_finding(info: &ServiceInfo, id: &str) -> bool {
    info.findings.iter().any(|f| f.id == id)
}

fn detail<'a>(info: &'a ServiceInfo, id: &str) -> Option<&'a str> {
    info.details.iter().find(|d| d.id == id).map(|d| d.output.as_str())
}

#[test]
fn real_daemons_are_named_on_the_test_bed() {
    let bed = tojimari_testbed::testbed_or_skip!(1);
    let target = bed.target(0);
    let mut running = Vec::new();
    for daemon in NAMED.into_iter().chain([Daemon::OpensslTls]) {
        if !daemons::available(daemon) {
            assert!(!tojimari_testbed::in_ci(), "{daemon:?} is not installed");
            eprintln!("SKIPPED: {daemon:?} is not installed");
            continue;
        }
        running.push(daemons::start(target, daemon, Posture::Exposed).expect("daemon starts"));
    }
    let truth: Vec<(Daemon, daemons::Service)> =
        running.iter().flat_map(|r| r.services().iter().map(|s| (r.daemon(), s.clone()))).collect();
    let ports: Vec<(Transport, u16)> = truth.iter().map(|(_, s)| (transport(s.transport), s.port)).collect();
    let ip = IpAddr::V4(target.v4);
    let (found, elapsed) = bed
        .scanner()
        .run_in(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let start = Instant::now();
            let found = runtime.block_on(identify_host(ip, &ports, &IdentifyOptions::default().checks(true).tls(true)));
            (found, start.elapsed())
        })
        .unwrap();
    assert_eq!(found.len(), truth.len());
    for ((daemon, expected), (_, port, info)) in truth.iter().zip(&found) {
        assert_eq!(*port, expected.port);
        assert_eq!(info.name, expected.name, "port {port}: {info:?}");
        assert_eq!(info.tunnel.is_some(), expected.tunnel == TruthTunnel::Tls, "port {port}: {info:?}");
        if expected.tunnel == TruthTunnel::Tls {
            assert!(detail(info, "ssl-cert").is_some(), "port {port}: {info:?}");
            assert!(detail(info, "tls-versions").is_some(), "port {port}: {info:?}");
        }
        if NAMED.contains(daemon) {
            let product = info.product.as_deref().unwrap_or("").to_ascii_lowercase();
            assert!(product.contains(&expected.product.to_ascii_lowercase()), "port {port}: {info:?}");
            if let Some(version) = &expected.version {
                assert_eq!(info.version.as_ref(), Some(version), "port {port}: {info:?}");
            }
        }
    }
    let on = |port: u16| found.iter().find(|(_, p, _)| *p == port).map(|(_, _, info)| info);
    if let Some(redis) = on(6379) {
        assert!(has_finding(redis, "redis-noauth"), "{redis:?}");
    }
    if let Some(ftp) = on(21) {
        assert!(has_finding(ftp, "ftp-anonymous"), "{ftp:?}");
    }
    if let Some(tls) = on(4433) {
        assert!(has_finding(tls, "tls-expired"), "{tls:?}");
        assert!(detail(tls, "tls-versions").is_some_and(|v| v.contains("TLSv1.0")), "{tls:?}");
    }
    // All ports at once: the slowest (a one-connection-at-a-time TLS server) bounds the host.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}
