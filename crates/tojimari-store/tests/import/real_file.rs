//! A real nmap 7.93 file (`tests/data/nmap-7.93-sS-sV-O.xml`, made as its first comment says) reads
//! to the values it holds.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, UNIX_EPOCH};

use tojimari_core::report::{HostState, RunExit, ServiceMethod};
use tojimari_core::{PortState, Protocol, Reason};
use tojimari_store::import::Limits;
use tojimari_store::import::nmap_xml::{Reader, Record, ScanInfoRecord};

const FILE: &[u8] = include_bytes!("../data/nmap-7.93-sS-sV-O.xml");

#[test]
fn nmap_7_93_syn_version_os_file() {
    let records: Vec<Record> = Reader::new(FILE, Limits::default()).collect::<Result<_, _>>().expect("reads");
    assert_eq!(records.len(), 3, "run, one host (the hosthint is skipped), run end");

    let Record::Run { scanner, args, start, version, scaninfo, verbose, debug } = &records[0] else {
        panic!("first the run: {:?}", records[0]);
    };
    assert_eq!(scanner, "nmap");
    assert_eq!(args, "nmap -n -sS -sV -O --reason -p 22,80,81 -oX - 198.18.0.2");
    assert_eq!(*start, Some(UNIX_EPOCH + Duration::from_secs(1_796_561_810)));
    assert_eq!(version, "7.93");
    assert_eq!(
        scaninfo,
        &[ScanInfoRecord { scan_type: "syn".into(), protocol: "tcp".into(), services: "22,80-81".into() }]
    );
    assert_eq!((*verbose, *debug), (0, 0));

    let Record::Host(host) = &records[1] else { panic!("then the host: {:?}", records[1]) };
    assert_eq!(host.addr, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)));
    assert_eq!((host.state, host.state_reason), (HostState::Up, Reason::ArpResponse));
    assert_eq!(host.end.duration_since(host.start).unwrap(), Duration::from_secs(12));
    assert!(host.complete && !host.timed_out && host.hostnames.is_empty());
    let ports: Vec<_> = host.ports.iter().map(|p| (p.proto, p.port, p.state, p.reason, p.reason_ttl)).collect();
    assert_eq!(
        ports,
        [
            (Protocol::Tcp, 22, PortState::Open, Reason::SynAck, 64),
            (Protocol::Tcp, 80, PortState::Open, Reason::SynAck, 64),
            (Protocol::Tcp, 81, PortState::Closed, Reason::Reset, 64),
        ]
    );
    let service = host.ports[0].service.as_ref().unwrap();
    assert_eq!((service.name.as_str(), service.method, service.conf), ("tcpwrapped", ServiceMethod::Probed, 8));
    let service = host.ports[2].service.as_ref().unwrap();
    assert_eq!((service.name.as_str(), service.method, service.conf), ("hosts2-ns", ServiceMethod::Table, 3));

    let os = host.os.as_ref().expect("os");
    assert_eq!(os.ports_used.len(), 3);
    assert_eq!((os.ports_used[2].proto, os.ports_used[2].port), (Protocol::Udp, 38965));
    assert_eq!(os.matches.len(), 10);
    assert_eq!(
        (os.matches[0].name.as_str(), os.matches[0].accuracy, os.matches[0].line),
        ("Linux 5.3 - 5.4", 96, 68140)
    );
    let axis = &os.matches[3].classes[1];
    assert_eq!((axis.device_type.as_str(), axis.vendor.as_str(), axis.generation.as_deref()), ("webcam", "AXIS", None));
    assert_eq!(axis.cpe, ["cpe:/h:axis:210a_network_camera", "cpe:/h:axis:211_network_camera"]);
    let fingerprint = os.fingerprint.as_deref().unwrap();
    assert!(fingerprint.starts_with("OS:SCAN(V=7.93%") && fingerprint.contains("M=46FF14%\nOS:TM="), "{fingerprint}");
    assert_eq!(os.distance, Some(1));
    let uptime = os.uptime.unwrap();
    assert_eq!(uptime.seconds, 3);
    assert_eq!(uptime.last_boot, UNIX_EPOCH + Duration::from_secs(1_796_561_819));
    let tcp = os.tcp_sequence.as_ref().unwrap();
    assert_eq!(
        (tcp.index, tcp.difficulty.as_str(), tcp.values[0], tcp.values.len()),
        (264, "Good luck!", 0xFBF35F9E, 6)
    );
    assert_eq!(os.ip_id_sequence.as_ref().unwrap().class, "All zeros");
    assert_eq!(os.tcp_ts_sequence.as_ref().unwrap().values[5], 0x2D557D11);
    let times = host.times.unwrap();
    assert_eq!(
        (times.srtt, times.rttvar, times.timeout),
        (Duration::from_micros(77), Duration::from_micros(2), Duration::from_millis(100))
    );

    let Record::RunEnd { end, elapsed, exit, hosts_up, hosts_down, hosts_total } = &records[2] else {
        panic!("last the run end: {:?}", records[2]);
    };
    assert_eq!(*end, Some(UNIX_EPOCH + Duration::from_secs(1_796_561_822)));
    assert_eq!(*elapsed, Some(Duration::from_millis(11_910)));
    assert_eq!(exit, &RunExit::Success);
    assert_eq!((*hosts_up, *hosts_down, *hosts_total), (1, 0, 1));
}

#[test]
fn every_prefix_of_the_real_file_is_either_complete_or_an_error() {
    for cut in (0..FILE.len()).step_by(7) {
        let results: Vec<_> = Reader::new(&FILE[..cut], Limits::default()).collect();
        let last = results.last().expect("at least one item");
        assert!(last.is_err(), "a file cut at {cut} must end in an error");
        assert!(results[..results.len() - 1].iter().all(Result::is_ok));
    }
}
