//! Hand-built runs shared by the format tests, modelled on scans of 127.0.0.1 that nmap 7.93 made on
//! this machine (the expected texts in the tests are those outputs with tojimari's wording).

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tojimari_core::portspec::PortSet;
use tojimari_core::report::{DisplayOptions, HostTimes, RunExit, ScanInfo, ServiceInfo, ServiceMethod};
use tojimari_core::{
    HostReport, HostState, Hostname, HostnameKind, PortResult, PortState, Protocol, Reason, RunInfo, RunSummary,
    ScanType, Sink,
};

/// Sun Nov 22 01:37:11 2026 UTC.
pub const T0: u64 = 1_795_311_431;

pub fn at(secs: u64, millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
}

/// A fixed services table, so that expectations do not depend on the shipped one.
pub fn names(proto: Protocol, port: u16) -> Option<&'static str> {
    match (proto, port) {
        (Protocol::Tcp, 1) => Some("tcpmux"),
        (Protocol::Tcp, 2 | 3) => Some("compressnet"),
        (Protocol::Tcp, 22) => Some("ssh"),
        (Protocol::Tcp, 25) => Some("smtp"),
        (Protocol::Tcp, 31) => Some("msg-auth"),
        (Protocol::Tcp, 80) => Some("http"),
        (Protocol::Tcp, 631) => Some("ipp"),
        (Protocol::Udp, 35) => Some("priv-print"),
        (Protocol::Udp, 37) => Some("time"),
        (Protocol::Udp, 38) => Some("rap"),
        (Protocol::Udp, 39) => Some("rlp"),
        (Protocol::Udp, 53) => Some("domain"),
        _ => None,
    }
}

/// A writer whose bytes and flushes the test can inspect while the sink still owns it.
#[derive(Clone, Default)]
pub struct Capture {
    inner: Arc<Mutex<(Vec<u8>, usize)>>,
}

impl Capture {
    pub fn writer(&self) -> Box<dyn Write + Send> {
        Box::new(self.clone())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.inner.lock().unwrap().0.clone()).unwrap()
    }

    pub fn flushes(&self) -> usize {
        self.inner.lock().unwrap().1
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.lock().unwrap().0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.lock().unwrap().1 += 1;
        Ok(())
    }
}

pub fn display(reason: bool, open_only: bool, verbose: u8) -> DisplayOptions {
    DisplayOptions { reason, open_only, verbose, versions: false, debug: 0 }
}

pub fn connect_scan(ports: impl IntoIterator<Item = u16>) -> ScanInfo {
    ScanInfo { scan_type: ScanType::Connect, proto: Protocol::Tcp, ports: PortSet::from_ports(ports) }
}

pub fn run_info(args: &str, scans: Vec<ScanInfo>, display: DisplayOptions) -> RunInfo {
    RunInfo { args: args.to_string(), start: at(T0, 0), version: "0.1.0".to_string(), scans, display }
}

pub fn summary(total: u64, up: u64, elapsed_ms: u64, exit: RunExit) -> RunSummary {
    RunSummary {
        end: at(T0, elapsed_ms),
        elapsed: Duration::from_millis(elapsed_ms),
        hosts_up: up,
        hosts_down: total - up,
        hosts_total: total,
        exit,
    }
}

pub fn tcp(port: u16, state: PortState, reason: Reason) -> PortResult {
    PortResult::new(Protocol::Tcp, port, state, reason)
}

pub fn udp(port: u16, state: PortState, reason: Reason) -> PortResult {
    PortResult::new(Protocol::Udp, port, state, reason)
}

pub fn open(port: u16) -> PortResult {
    tcp(port, PortState::Open, Reason::SynAck)
}

pub fn closed(port: u16) -> PortResult {
    tcp(port, PortState::Closed, Reason::ConnRefused)
}

pub fn filtered(port: u16, reason: Reason) -> PortResult {
    tcp(port, PortState::Filtered, reason)
}

pub fn with_service(mut port: PortResult, name: &str, method: ServiceMethod, conf: u8) -> PortResult {
    port.service = Some(Box::new(ServiceInfo::named(name, method, conf)));
    port
}

pub fn up_host(addr: &str, ports: Vec<PortResult>) -> HostReport {
    let mut ports = ports;
    ports.sort_by_key(|p| (p.proto, p.port));
    HostReport {
        addr: addr.parse::<IpAddr>().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::LocalhostResponse,
        state_reason_ttl: 0,
        ports,
        start: at(T0, 0),
        end: at(T0, 60),
        times: Some(HostTimes {
            srtt: Duration::from_micros(550),
            rttvar: Duration::from_micros(508),
            timeout: Duration::from_micros(100_000),
        }),
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

pub fn localhost(ports: Vec<PortResult>) -> HostReport {
    let mut host = up_host("127.0.0.1", ports);
    host.hostnames.push(Hostname { name: "localhost".to_string(), kind: HostnameKind::Ptr });
    host
}

pub fn down_host(addr: &str) -> HostReport {
    HostReport {
        addr: addr.parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Down,
        state_reason: Reason::NoHostResponse,
        state_reason_ttl: 0,
        ports: Vec::new(),
        start: at(T0, 0),
        end: at(T0, 3000),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// A target of a list scan (`-sL`): nothing was sent, so its state is unknown, reason user-set.
pub fn listed_host(addr: &str) -> HostReport {
    HostReport { state: HostState::Unknown, state_reason: Reason::UserSet, end: at(T0, 0), ..down_host(addr) }
}

/// The scan of a list scan's run.
pub fn list_scan() -> Vec<ScanInfo> {
    vec![ScanInfo { scan_type: ScanType::List, proto: Protocol::Tcp, ports: PortSet::default() }]
}

/// nmap -sT -p 1-100,631 127.0.0.1 with 22, 80 and 631 listening.
pub fn three_open() -> (Vec<ScanInfo>, HostReport) {
    let scans = vec![connect_scan((1..=100).chain([631]))];
    let ports = (1..=100).chain([631]).map(|p| if [22, 80, 631].contains(&p) { open(p) } else { closed(p) }).collect();
    (scans, localhost(ports))
}

/// As [`three_open`], with 1-20 dropped and 30-35,40 rejected (nmap's run "A").
pub fn mixed_filtered() -> (Vec<ScanInfo>, HostReport) {
    let scans = vec![connect_scan((1..=100).chain([631]))];
    let ports = (1..=100)
        .chain([631])
        .map(|p| match p {
            22 | 80 | 631 => open(p),
            1..=20 => filtered(p, Reason::NoResponse),
            30..=35 | 40 => filtered(p, Reason::HostUnreach),
            _ => closed(p),
        })
        .collect();
    (scans, localhost(ports))
}

/// As [`three_open`], with 1-3 dropped and 30-31 rejected: few enough filtered ports to list
/// (nmap's run "E").
pub fn few_filtered() -> (Vec<ScanInfo>, HostReport) {
    let scans = vec![connect_scan((1..=100).chain([631]))];
    let ports = (1..=100)
        .chain([631])
        .map(|p| match p {
            22 | 80 | 631 => open(p),
            1..=3 => filtered(p, Reason::NoResponse),
            30 | 31 => filtered(p, Reason::HostUnreach),
            _ => closed(p),
        })
        .collect();
    (scans, localhost(ports))
}

/// Feeds a whole run to a sink: every port through `port_found`, then `host_done` per host.
pub fn feed(sink: &mut dyn Sink, run: &RunInfo, hosts: &[HostReport], summary: &RunSummary) {
    sink.run_start(run).unwrap();
    for host in hosts {
        for port in &host.ports {
            sink.port_found(host.addr, port).unwrap();
        }
        sink.host_done(host).unwrap();
    }
    sink.run_end(summary).unwrap();
}

pub fn interrupted() -> RunExit {
    RunExit::Error("Scan interrupted by user (SIGINT)".to_string())
}

/// A `-sV` run on one host: SSH with a version and CPEs, HTTPS inside TLS with a certificate detail and a
/// finding, anonymous FTP (a finding), and a port detection could not name (table name kept).
pub fn versioned() -> (Vec<ScanInfo>, HostReport) {
    use tojimari_core::report::{Detail, Finding, Severity, Tunnel};
    let scans = vec![connect_scan([21, 22, 443, 9999])];
    let mut ftp = ServiceInfo::named("ftp", ServiceMethod::Probed, 10);
    ftp.product = Some("vsftpd".into());
    ftp.version = Some("3.0.3".into());
    ftp.ostype = Some("Unix".into());
    ftp.cpe = vec!["cpe:/a:vsftpd:vsftpd:3.0.3".into()];
    ftp.details.push(Detail { id: "ftp-anon".into(), output: "Anonymous FTP login allowed (FTP code 230)".into() });
    ftp.findings.push(Finding {
        id: "ftp-anonymous".into(),
        severity: Severity::High,
        evidence: "anonymous login accepted (230 Login successful.)".into(),
        advice: "Set anonymous_enable=NO unless the server is meant to be public.".into(),
    });
    let mut ssh = ServiceInfo::named("ssh", ServiceMethod::Probed, 10);
    ssh.product = Some("OpenSSH".into());
    ssh.version = Some("9.2p1 Debian 2+deb12u3".into());
    ssh.extrainfo = Some("protocol 2.0".into());
    ssh.ostype = Some("Linux".into());
    ssh.cpe = vec!["cpe:/a:openbsd:openssh:9.2p1".into(), "cpe:/o:linux:linux_kernel".into()];
    let mut https = ServiceInfo::named("http", ServiceMethod::Probed, 10);
    https.product = Some("nginx".into());
    https.version = Some("1.22.1".into());
    https.tunnel = Some(Tunnel::Ssl);
    https.details.push(Detail {
        id: "ssl-cert".into(),
        output: "Subject: CN=bed.test\nIssuer: CN=bed.test\nNot valid after:  2026-12-22T00:00:00Z".into(),
    });
    https.findings.push(Finding {
        id: "tls-self-signed".into(),
        severity: Severity::Medium,
        evidence: "certificate CN=bed.test is signed by itself".into(),
        advice: "Use a certificate from a CA your clients trust.".into(),
    });
    let mut ports = vec![open(21), open(22), open(443), open(9999)];
    ports[0].service = Some(Box::new(ftp));
    ports[1].service = Some(Box::new(ssh));
    ports[2].service = Some(Box::new(https));
    (scans, up_host("198.18.0.2", ports))
}

pub fn versions_display() -> DisplayOptions {
    DisplayOptions { versions: true, ..DisplayOptions::default() }
}

/// The ports of nmap's `-O -v -p 1-100` runs against a test-bed target (198.18.0.2, a Linux namespace
/// listening on 22 and 80): a SYN scan, 98 closed ports answered by resets.
pub fn os_scanned_host(os: tojimari_core::os::OsReport) -> (Vec<ScanInfo>, HostReport) {
    let scans = vec![ScanInfo { scan_type: ScanType::Syn, proto: Protocol::Tcp, ports: PortSet::from_ports(1..=100) }];
    let ports = (1..=100)
        .map(|p| {
            let mut port = if [22, 80].contains(&p) { open(p) } else { tcp(p, PortState::Closed, Reason::Reset) };
            port.reason_ttl = 64;
            port
        })
        .collect();
    let mut host = up_host("198.18.0.2", ports);
    host.state_reason = Reason::ArpResponse;
    host.os = Some(Box::new(os));
    (scans, host)
}

pub fn os_class(
    device_type: &str,
    vendor: &str,
    family: &str,
    generation: Option<&str>,
    accuracy: u8,
    cpe: &[&str],
) -> tojimari_core::os::OsClass {
    tojimari_core::os::OsClass {
        device_type: device_type.into(),
        vendor: vendor.into(),
        family: family.into(),
        generation: generation.map(Into::into),
        accuracy,
        cpe: cpe.iter().map(|c| c.to_string()).collect(),
    }
}

pub fn os_match(
    name: &str,
    accuracy: u8,
    line: u32,
    classes: Vec<tojimari_core::os::OsClass>,
) -> tojimari_core::os::OsMatch {
    tojimari_core::os::OsMatch { name: name.into(), accuracy, line, classes }
}

/// `-O` found one entry close enough to state (the sequence values are those of nmap's run, the
/// uptime 44237 s before the end of the tests).
pub fn os_stated() -> tojimari_core::os::OsReport {
    use tojimari_core::os::*;
    OsReport {
        method: OsMethod::Active,
        ports_used: vec![
            PortUsed { state: PortState::Open, proto: Protocol::Tcp, port: 22 },
            PortUsed { state: PortState::Closed, proto: Protocol::Tcp, port: 1 },
            PortUsed { state: PortState::Closed, proto: Protocol::Udp, port: 36950 },
        ],
        matches: vec![os_match(
            "Linux 5.0 - 6.8",
            100,
            12,
            vec![
                os_class("general purpose", "Linux", "Linux", Some("5.X"), 100, &["cpe:/o:linux:linux_kernel:5"]),
                os_class("general purpose", "Linux", "Linux", Some("6.X"), 100, &["cpe:/o:linux:linux_kernel:6"]),
            ],
        )],
        guessed: false,
        notes: Vec::new(),
        distance: Some(1),
        uptime: Some(Uptime { seconds: 44_237, last_boot: at(T0 - 44_237, 0) }),
        tcp_sequence: Some(TcpSequence {
            index: 260,
            difficulty: "Good luck!".into(),
            values: vec![0x7D2A_E5BD, 0x1AE5_3602, 0x71DE_FA16, 0x2B88_D085, 0x3BD7_F66A, 0xA6D9_C0B7],
        }),
        ip_id_sequence: Some(SequenceClass { class: "All zeros".into(), values: vec![0; 6] }),
        tcp_ts_sequence: Some(SequenceClass {
            class: "1000HZ".into(),
            values: vec![0x02A2_FD48, 0x02A2_FDAC, 0x02A2_FE10, 0x02A2_FE74, 0x02A2_FED8, 0x02A2_FF3C],
        }),
        fingerprint: None,
    }
}

/// `-O --osscan-guess` with no closed TCP port: near matches only, one note, a router among them.
pub fn os_guessed() -> tojimari_core::os::OsReport {
    use tojimari_core::os::*;
    OsReport {
        ports_used: vec![
            PortUsed { state: PortState::Open, proto: Protocol::Tcp, port: 22 },
            PortUsed { state: PortState::Closed, proto: Protocol::Udp, port: 34025 },
        ],
        matches: vec![
            os_match(
                "Linux 5.0 - 6.8",
                96,
                12,
                vec![os_class("general purpose", "Linux", "Linux", Some("5.X"), 96, &["cpe:/o:linux:linux_kernel:5"])],
            ),
            os_match(
                "Linux 4.4 - 4.19",
                92,
                30,
                vec![os_class("general purpose", "Linux", "Linux", Some("4.X"), 92, &["cpe:/o:linux:linux_kernel:4"])],
            ),
            os_match(
                "MikroTik RouterOS 7",
                90,
                77,
                vec![
                    os_class("router", "MikroTik", "RouterOS", Some("7.X"), 90, &["cpe:/o:mikrotik:routeros:7"]),
                    os_class("router", "Linux", "Linux", Some("5.X"), 90, &["cpe:/o:linux:linux_kernel:5.6"]),
                ],
            ),
        ],
        guessed: true,
        notes: vec!["we could not find at least 1 open and 1 closed port".into()],
        distance: Some(1),
        uptime: None,
        tcp_sequence: Some(TcpSequence {
            index: 263,
            difficulty: "Good luck!".into(),
            values: vec![0xC88E_FDDE, 0x24BA_EB62],
        }),
        ip_id_sequence: Some(SequenceClass { class: "All zeros".into(), values: vec![0, 0] }),
        tcp_ts_sequence: None,
        ..OsReport::default()
    }
}

/// `-O` where nothing came close: no match, the facts given as a fingerprint (two lines), 2 hops away.
pub fn os_none() -> tojimari_core::os::OsReport {
    use tojimari_core::os::*;
    OsReport {
        ports_used: vec![
            PortUsed { state: PortState::Open, proto: Protocol::Tcp, port: 22 },
            PortUsed { state: PortState::Closed, proto: Protocol::Tcp, port: 1 },
        ],
        distance: Some(2),
        fingerprint: Some("ttl=64 df=y win=65160\nopts=M,S,T,N,W7".into()),
        ip_id_sequence: Some(SequenceClass { class: "Incremental".into(), values: vec![0x3E6F, 0x3E70, 0x3E71] }),
        ..OsReport::default()
    }
}

/// The cheap guess a plain scan makes from its SYN/ACKs (no `-O`).
pub fn os_passive() -> tojimari_core::os::OsReport {
    use tojimari_core::os::*;
    OsReport {
        method: OsMethod::Passive,
        matches: vec![
            os_match("Linux 5.X", 85, 3, vec![os_class("general purpose", "Linux", "Linux", Some("5.X"), 85, &[])]),
            os_match(
                "FreeBSD 13.X",
                60,
                9,
                vec![os_class("general purpose", "FreeBSD", "FreeBSD", Some("13.X"), 60, &[])],
            ),
        ],
        distance: Some(1),
        ..OsReport::default()
    }
}
