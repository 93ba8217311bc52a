//! tojimari's own `-oX` (tojimari-output's `XmlSink`) read back gives the reports that were written.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport, PortUsed, SequenceClass, TcpSequence, Uptime};
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{
    Detail, DisplayOptions, Finding, HostReport, HostState, HostTimes, Hostname, HostnameKind, PortResult, RunExit,
    RunInfo, RunSummary, ScanInfo, ScanType, ServiceInfo, ServiceMethod, Severity, Tunnel,
};
use tojimari_core::{PortState, Protocol, Reason, Sink};
use tojimari_output::xml::XmlSink;
use tojimari_store::import::Limits;
use tojimari_store::import::nmap_xml::{Reader, Record};

#[derive(Clone, Default)]
pub(crate) struct Shared(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub(crate) fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn ssh() -> ServiceInfo {
    ServiceInfo {
        name: "ssh".into(),
        method: ServiceMethod::Probed,
        conf: 10,
        product: Some("OpenSSH".into()),
        version: Some("9.2p1 Debian 2".into()),
        extrainfo: Some("protocol 2.0 & \"quotes\" <here>".into()),
        hostname: None,
        ostype: Some("Linux".into()),
        devicetype: None,
        tunnel: Some(Tunnel::Ssl),
        cpe: vec!["cpe:/a:openbsd:openssh:9.2p1".into(), "cpe:/o:linux:linux_kernel".into()],
        details: vec![Detail { id: "ssh-hostkey".into(), output: "line one\n\tline two".into() }],
        findings: vec![Finding {
            id: "ssh-weak".into(),
            severity: Severity::Medium,
            evidence: "offers diffie-hellman-group1-sha1".into(),
            advice: "disable it".into(),
        }],
    }
}

fn os() -> OsReport {
    OsReport {
        method: OsMethod::Active,
        ports_used: vec![
            PortUsed { state: PortState::Open, proto: Protocol::Tcp, port: 22 },
            PortUsed { state: PortState::Closed, proto: Protocol::Tcp, port: 1 },
        ],
        matches: vec![OsMatch {
            name: "Linux 5.0 - 6.8".into(),
            accuracy: 98,
            line: 4242,
            classes: vec![OsClass {
                device_type: "general purpose".into(),
                vendor: "Linux".into(),
                family: "Linux".into(),
                generation: Some("5.X".into()),
                accuracy: 98,
                cpe: vec!["cpe:/o:linux:linux_kernel:5".into()],
            }],
        }],
        guessed: false,
        notes: Vec::new(),
        distance: Some(1),
        uptime: Some(Uptime { seconds: 86_400, last_boot: at(1_795_225_031) }),
        tcp_sequence: Some(TcpSequence { index: 260, difficulty: "Good luck!".into(), values: vec![0xDEADBEEF, 7] }),
        ip_id_sequence: Some(SequenceClass { class: "All zeros".into(), values: vec![0, 0] }),
        tcp_ts_sequence: Some(SequenceClass { class: "1000HZ".into(), values: vec![0x10, 0x20] }),
        fingerprint: Some("OS:SCAN(V=1%D=1)\nOS:T1(R=Y)".into()),
    }
}

/// Two routers, a silent TTL, then the host (XML keeps RTTs in hundredths of a millisecond).
fn trace() -> tojimari_core::route::Trace {
    use tojimari_core::route::{Trace, TraceHop, TraceProbe};
    let mut first = TraceHop::answered(1, IpAddr::from([198, 18, 0, 199]), Duration::from_micros(410));
    if let Some(a) = first.answer.as_mut() {
        a.name = Some("r1.example".into());
    }
    Trace {
        probe: Some(TraceProbe::Port { proto: Protocol::Tcp, port: 23 }),
        hops: vec![
            first,
            TraceHop::silent(2),
            TraceHop::answered(3, IpAddr::from([198, 18, 2, 254]), Duration::from_micros(380)),
            TraceHop::answered(4, IpAddr::from([198, 18, 0, 2]), Duration::from_micros(1_230)),
        ],
        same_as: None,
    }
}

pub(crate) fn hosts() -> Vec<HostReport> {
    let mut ports: Vec<PortResult> = (1..=100u16)
        .filter(|p| ![22, 80].contains(p))
        .map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset))
        .collect();
    let mut open = PortResult::new(Protocol::Tcp, 22, PortState::Open, Reason::SynAck);
    open.reason_ttl = 64;
    open.service = Some(Box::new(ssh()));
    ports.push(open);
    let mut filtered = PortResult::new(Protocol::Tcp, 80, PortState::Filtered, Reason::AdminProhibited);
    filtered.reason_ttl = 63;
    filtered.service = Some(Box::new(ServiceInfo::named("http", ServiceMethod::Table, 3)));
    ports.push(filtered);
    ports.sort_by_key(|p| (p.proto, p.port));
    let first = HostReport {
        addr: IpAddr::from([198, 18, 0, 2]),
        hostnames: vec![
            Hostname { name: "target.example".into(), kind: HostnameKind::User },
            Hostname { name: "t2.example".into(), kind: HostnameKind::Ptr },
        ],
        state: HostState::Up,
        state_reason: Reason::ArpResponse,
        state_reason_ttl: 0,
        ports,
        start: at(1_795_311_431),
        end: at(1_795_311_440),
        times: Some(HostTimes {
            srtt: Duration::from_micros(550),
            rttvar: Duration::from_micros(508),
            timeout: Duration::from_micros(100_000),
        }),
        complete: true,
        timed_out: false,
        os: Some(Box::new(os())),
        trace: Some(Box::new(trace())),
    };
    let mut ipv6_port = PortResult::new(Protocol::Tcp, 443, PortState::Open, Reason::SynAck);
    ipv6_port.service = Some(Box::new(ServiceInfo::named("https", ServiceMethod::Table, 3)));
    let second = HostReport {
        addr: "2001:db8::18:0:0:3".parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::NdResponse,
        state_reason_ttl: 255,
        ports: vec![ipv6_port],
        start: at(1_795_311_431),
        end: at(1_795_311_441),
        times: None,
        complete: false,
        timed_out: false,
        os: None,
        trace: None,
    };
    let down = HostReport {
        addr: IpAddr::from([198, 18, 0, 9]),
        hostnames: Vec::new(),
        state: HostState::Down,
        state_reason: Reason::NoHostResponse,
        state_reason_ttl: 0,
        ports: Vec::new(),
        start: UNIX_EPOCH,
        end: UNIX_EPOCH,
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    };
    vec![first, second, down]
}

#[test]
fn tojimari_xml_reads_back_to_the_reports_written() {
    let out = Shared::default();
    let mut sink = XmlSink::new(Box::new(out.clone()));
    let run = RunInfo {
        args: "tojimari -sS -O --reason -p 1-100,443 198.18.0.2 2001:db8::18:0:0:3 198.18.0.9".into(),
        start: at(1_795_311_431),
        version: "0.1.0".into(),
        scans: vec![ScanInfo {
            scan_type: ScanType::Syn,
            proto: Protocol::Tcp,
            ports: PortSet::from_ports((1..=100).chain([443])),
        }],
        display: DisplayOptions { verbose: 1, reason: true, ..DisplayOptions::default() },
    };
    sink.run_start(&run).unwrap();
    for host in hosts() {
        sink.host_done(&host).unwrap();
    }
    let summary = RunSummary {
        end: at(1_795_311_441),
        elapsed: Duration::from_millis(10_250),
        hosts_up: 2,
        hosts_down: 1,
        hosts_total: 3,
        exit: RunExit::Error("interrupted".into()),
    };
    sink.run_end(&summary).unwrap();
    let bytes = out.0.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("<extraports state=\"closed\" count=\"98\">"), "closed ports were folded:\n{text}");

    let records: Vec<Record> = Reader::new(&bytes[..], Limits::default()).collect::<Result<_, _>>().expect("reads");
    assert_eq!(records.len(), 5);
    let Record::Run { scanner, args, start, version, scaninfo, verbose, .. } = &records[0] else { panic!() };
    assert_eq!((scanner.as_str(), args, *start, version), ("tojimari", &run.args, Some(run.start), &run.version));
    assert_eq!((scaninfo[0].scan_type.as_str(), scaninfo[0].services.as_str(), *verbose), ("syn", "1-100,443", 1));
    for (record, written) in records[1..4].iter().zip(hosts()) {
        let Record::Host(read) = record else { panic!("a host: {record:?}") };
        // XML writes only the TTLs that answered, as nmap's does.
        let mut written = written;
        if let Some(t) = written.trace.as_mut() {
            t.hops.retain(|h| h.answer.is_some());
        }
        // HostReport has no PartialEq: its Debug form shows every field.
        assert_eq!(format!("{read:#?}"), format!("{written:#?}"));
    }
    let Record::RunEnd { end, elapsed, exit, hosts_up, hosts_down, hosts_total } = &records[4] else { panic!() };
    assert_eq!((*end, *elapsed, exit), (Some(summary.end), Some(Duration::from_millis(10_250)), &summary.exit));
    assert_eq!((*hosts_up, *hosts_down, *hosts_total), (2, 1, 3));
}
