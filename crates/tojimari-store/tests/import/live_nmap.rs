//! nmap itself, run in a test bed against a target with listeners: its XML reads back to the states the
//! target really has. With `TOJIMARI_SAVE_NMAP_XML=path` the file is also saved (that is how
//! `tests/data/nmap-sS-sV-O.xml` was made).

use std::net::IpAddr;
use std::process::Command;

use tojimari_core::{PortState, Protocol, Reason};
use tojimari_store::import::Limits;
use tojimari_store::import::nmap_xml::{Reader, Record};
use tojimari_testbed::testbed_or_skip;

#[test]
fn nmap_syn_version_os_scan_of_a_test_bed_target_reads_back() {
    if Command::new("nmap").arg("--version").output().is_err() {
        eprintln!("note: nmap is not installed; skipped");
        return;
    }
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _listeners = target.listen_tcp(&[22, 80]).expect("listeners");
    let addr = target.v4.to_string();
    let out = bed
        .scanner()
        .command("nmap")
        .args(["-n", "-sS", "-sV", "-O", "--reason", "-p", "22,80,81", "-oX", "-", &addr])
        .output()
        .expect("nmap runs");
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));
    if let Ok(path) = std::env::var("TOJIMARI_SAVE_NMAP_XML") {
        std::fs::write(path, &out.stdout).expect("save");
    }

    let records: Vec<Record> =
        Reader::new(&out.stdout[..], Limits::default()).collect::<Result<_, _>>().expect("nmap's XML reads");
    assert!(matches!(&records[0], Record::Run { scanner, .. } if scanner == "nmap"));
    assert!(matches!(records.last(), Some(Record::RunEnd { hosts_up: 1, .. })));
    let hosts: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Host(h) => Some(h),
            _ => None,
        })
        .collect();
    assert_eq!(hosts.len(), 1);
    let host = hosts[0];
    assert_eq!(host.addr, IpAddr::V4(target.v4));
    let states: Vec<_> = host.ports.iter().map(|p| (p.proto, p.port, p.state, p.reason)).collect();
    assert_eq!(
        states,
        [
            (Protocol::Tcp, 22, PortState::Open, Reason::SynAck),
            (Protocol::Tcp, 80, PortState::Open, Reason::SynAck),
            (Protocol::Tcp, 81, PortState::Closed, Reason::Reset),
        ]
    );
    assert!(host.os.is_some(), "-O leaves an <os> element (at least the ports used)");
}
