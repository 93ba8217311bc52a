//! A scan recorded and read back prints the same files: the four output formats written live, and again
//! from the store (what `tojimari export` does), compare byte for byte, on SQLite and on a real PostgreSQL.
//! The hosts have what the formats print: folded closed ports (more than 25, and more than 50 at `-v`),
//! minority states listed one by one, services with details and findings, host names, times, an OS report.

use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tojimari_core::os::{OsClass, OsMatch, OsMethod, OsReport};
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{
    Detail, DisplayOptions, Finding, HostReport, HostState, HostTimes, Hostname, HostnameKind, RunExit, RunInfo,
    RunSummary, ScanInfo, Severity,
};
use tojimari_core::sink::Sink;
use tojimari_core::{PortResult, PortState, Protocol, Reason, ScanType, ServiceInfo, ServiceMethod};
use tojimari_output::{GrepableSink, JsonLinesSink, NormalDestination, NormalSink, XmlSink};
use tojimari_store::{ReadFailure, ScanRef, ScanStart, Store, StoreSink};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sinks() -> (Vec<Box<dyn Sink>>, Vec<Buf>) {
    let bufs: Vec<Buf> = (0..4).map(|_| Buf::default()).collect();
    let sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(NormalSink::new(Box::new(bufs[0].clone()), NormalDestination::File)),
        Box::new(XmlSink::new(Box::new(bufs[1].clone()))),
        Box::new(GrepableSink::new(Box::new(bufs[2].clone()))),
        Box::new(JsonLinesSink::new(Box::new(bufs[3].clone()))),
    ];
    (sinks, bufs)
}

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

fn run(verbose: u8) -> RunInfo {
    RunInfo {
        args: "tojimari scan -sS -sV -O -p 1-120,U:53 198.18.0.0/29".into(),
        start: at(1_796_000_000_000),
        version: "0.1.0".into(),
        scans: vec![
            ScanInfo { scan_type: ScanType::Syn, proto: Protocol::Tcp, ports: PortSet::from_ports(1..=120) },
            ScanInfo { scan_type: ScanType::Udp, proto: Protocol::Udp, ports: PortSet::from_ports([53]) },
        ],
        display: DisplayOptions { reason: true, verbose, versions: true, ..DisplayOptions::default() },
    }
}

fn host(i: u8) -> HostReport {
    let mut ports: Vec<PortResult> =
        (1..=120).map(|p| PortResult::new(Protocol::Tcp, p, PortState::Closed, Reason::Reset)).collect();
    for p in &mut ports {
        p.reason_ttl = 64;
    }
    // 30 filtered: listed at -v (at most 50), folded at -v0 (more than 25).
    for p in ports.iter_mut().skip(60).take(30) {
        p.state = PortState::Filtered;
        p.reason = Reason::AdminProhibited;
        p.reason_ttl = 63;
    }
    ports[21].state = PortState::Open;
    ports[21].reason = Reason::SynAck;
    let mut ssh = ServiceInfo::named("ssh", ServiceMethod::Probed, 10);
    ssh.product = Some("OpenSSH".into());
    ssh.version = Some(format!("9.{i}p1"));
    ssh.extrainfo = Some("protocol 2.0".into());
    ssh.cpe.push("cpe:/a:openbsd:openssh:9.2p1".into());
    ports[21].service = Some(Box::new(ssh));
    ports[22].state = PortState::Open;
    ports[22].reason = Reason::SynAck;
    let mut telnet = ServiceInfo::named("telnet", ServiceMethod::Probed, 10);
    telnet.details.push(Detail { id: "banner".into(), output: "login:\nline two".into() });
    telnet.findings.push(Finding {
        id: "telnet-cleartext".into(),
        severity: Severity::High,
        evidence: "a login prompt in clear text".into(),
        advice: "Use SSH.".into(),
    });
    ports[22].service = Some(Box::new(telnet));
    ports.push(PortResult::new(Protocol::Udp, 53, PortState::OpenFiltered, Reason::NoResponse));
    let t = 1_796_000_000_000 + u64::from(i) * 10;
    HostReport {
        addr: IpAddr::from([198, 18, 0, i]),
        hostnames: vec![Hostname { name: format!("h{i}.test"), kind: HostnameKind::Ptr }],
        state: HostState::Up,
        state_reason: Reason::EchoReply,
        state_reason_ttl: 63,
        ports,
        start: at(t),
        end: at(t + 1234),
        times: Some(HostTimes {
            srtt: Duration::from_micros(311),
            rttvar: Duration::from_micros(57),
            timeout: Duration::from_micros(100_000),
        }),
        complete: true,
        timed_out: false,
        os: Some(Box::new(OsReport {
            method: OsMethod::Active,
            matches: vec![OsMatch {
                name: "Linux 5.0 - 6.8".into(),
                accuracy: 98,
                line: 3,
                classes: vec![OsClass {
                    device_type: "general purpose".into(),
                    vendor: "Linux".into(),
                    family: "Linux".into(),
                    generation: Some("5.X".into()),
                    accuracy: 98,
                    cpe: vec!["cpe:/o:linux:linux_kernel:5".into()],
                }],
            }],
            distance: Some(1),
            ..OsReport::default()
        })),
        trace: Some(Box::new(tojimari_core::route::Trace {
            probe: Some(tojimari_core::route::TraceProbe::Port { proto: Protocol::Tcp, port: 23 }),
            hops: vec![
                tojimari_core::route::TraceHop::answered(
                    1,
                    IpAddr::from([198, 18, 0, 199]),
                    Duration::from_micros(410),
                ),
                tojimari_core::route::TraceHop::silent(2),
                tojimari_core::route::TraceHop::answered(3, IpAddr::from([198, 18, 0, i]), Duration::from_micros(1230)),
            ],
            same_as: (i > 1).then_some((1, IpAddr::from([198, 18, 0, 1]))),
        })),
    }
}

fn down(i: u8) -> HostReport {
    let mut h = host(i);
    h.state = HostState::Down;
    h.state_reason = Reason::NoHostResponse;
    h.ports.clear();
    h.times = None;
    h.os = None;
    h.hostnames.clear();
    h
}

fn the_files_come_back_the_same(db: &str) {
    for verbose in [0, 1] {
        let store = Store::open(db).unwrap();
        let scan = store.begin_scan(&ScanStart { profile: "scan".into(), ..ScanStart::default() }).unwrap();
        let (mut live, bufs) = sinks();
        live.push(Box::new(StoreSink::new(store, scan).unwrap()));
        let info = run(verbose);
        let hosts = [host(1), down(2), host(3)];
        let summary = RunSummary {
            end: at(1_796_000_003_210),
            elapsed: Duration::from_millis(3210),
            hosts_up: 2,
            hosts_down: 1,
            hosts_total: 3,
            exit: RunExit::Success,
        };
        for s in &mut live {
            s.run_start(&info).unwrap();
        }
        for h in &hosts {
            for s in &mut live {
                s.host_done(h).unwrap();
            }
        }
        for s in &mut live {
            s.run_end(&summary).unwrap();
        }
        drop(live);

        let store = Store::open(db).unwrap();
        let stored = store.find_scan(ScanRef::No(scan.no)).unwrap().unwrap();
        let (mut again, rebuilt) = sinks();
        let info = stored.run.clone().unwrap();
        for s in &mut again {
            s.run_start(&info).unwrap();
        }
        store
            .for_each_host(stored.id, |h| again.iter_mut().try_for_each(|s| s.host_done(&h)))
            .map_err(|e| match e {
                ReadFailure::Store(e) => e.to_string(),
                ReadFailure::Output(e) => e.to_string(),
            })
            .unwrap();
        let summary = stored.summary.clone().unwrap();
        for s in &mut again {
            s.run_end(&summary).unwrap();
        }
        drop(again);
        for (name, (a, b)) in ["normal", "xml", "grepable", "jsonl"].iter().zip(bufs.iter().zip(&rebuilt)) {
            let (a, b) = (a.0.lock().unwrap().clone(), b.0.lock().unwrap().clone());
            assert!(a.len() > 200, "{name} wrote little");
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b), "{name} at -v{verbose}");
        }
    }
}

#[test]
fn sqlite_files_come_back_the_same() {
    let dir = std::env::temp_dir().join(format!("tojimari-roundtrip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    the_files_come_back_the_same(&dir.join("store.db").to_string_lossy());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_files_come_back_the_same() {
    let server = tojimari_testbed::pg_or_skip!();
    the_files_come_back_the_same(&server.create_database("roundtrip").unwrap());
}
