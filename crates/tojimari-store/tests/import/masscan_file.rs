//! A real masscan 1.3.2 `-oX` file (`tests/data/masscan-1.3.2.xml`, made as its comment says).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, UNIX_EPOCH};

use tojimari_core::report::HostState;
use tojimari_core::{PortState, Reason};
use tojimari_store::import::Limits;
use tojimari_store::import::masscan::Reader;
use tojimari_store::import::nmap_xml::Record;

const FILE: &[u8] = include_bytes!("../data/masscan-1.3.2.xml");

#[test]
fn masscan_hosts_of_one_address_merge() {
    let records: Vec<Record> = Reader::new(FILE, Limits::default()).collect::<Result<_, _>>().expect("reads");
    assert_eq!(records.len(), 3, "run, one merged host, run end: {records:#?}");
    assert!(
        matches!(&records[0], Record::Run { scanner, scaninfo, .. } if scanner == "masscan" && scaninfo[0].scan_type == "syn")
    );
    let Record::Host(host) = &records[1] else { panic!("{:?}", records[1]) };
    assert_eq!(host.addr, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)));
    assert_eq!((host.state, host.state_reason, host.state_reason_ttl), (HostState::Up, Reason::SynAck, 64));
    assert_eq!(host.start, UNIX_EPOCH + Duration::from_secs(1_796_562_004));
    assert_eq!(host.end, UNIX_EPOCH + Duration::from_secs(1_796_562_005));
    let ports: Vec<_> = host.ports.iter().map(|p| (p.port, p.state)).collect();
    assert_eq!(ports, [(22, PortState::Open), (80, PortState::Open)]);
    assert!(matches!(records[2], Record::RunEnd { hosts_up: 2, elapsed: Some(e), .. } if e == Duration::from_secs(5)));
}

#[test]
fn masscan_reader_passes_errors_through() {
    let cut = &FILE[..FILE.len() - 30];
    let last = Reader::new(cut, Limits::default()).last().expect("something");
    assert!(last.is_err());
}
