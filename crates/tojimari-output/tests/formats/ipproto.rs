//! `-sO`'s IP protocols in normal, grepable and XML output, against what nmap 7.93 wrote for `nmap -sO -Pn
//! -n --reason -p 0-60` of a Linux namespace (1 answered by echo, 6 by a RST, 17 by a port unreachable, 2 silent,
//! the other 57 protocol unreachable).

use tojimari_core::report::{RunExit, ScanInfo};
use tojimari_core::{HostReport, PortResult, PortState, Protocol, Reason, ScanType};
use tojimari_output::{GrepableSink, NormalDestination, NormalSink, XmlSink};

use crate::fixtures::*;

fn names(proto: Protocol, number: u16) -> Option<&'static str> {
    match (proto, number) {
        (Protocol::Ip, 1) => Some("icmp"),
        (Protocol::Ip, 2) => Some("igmp"),
        (Protocol::Ip, 6) => Some("tcp"),
        (Protocol::Ip, 17) => Some("udp"),
        _ => None,
    }
}

fn scan() -> (Vec<ScanInfo>, HostReport) {
    let ports: Vec<PortResult> = (0..=60u16)
        .map(|p| {
            let (state, reason) = match p {
                1 => (PortState::Open, Reason::EchoReply),
                2 => (PortState::OpenFiltered, Reason::NoResponse),
                6 => (PortState::Open, Reason::ProtoResponse),
                17 => (PortState::Open, Reason::PortUnreach),
                _ => (PortState::Closed, Reason::ProtoUnreach),
            };
            let mut r = PortResult::new(Protocol::Ip, p, state, reason);
            r.reason_ttl = if state == PortState::OpenFiltered { 0 } else { 64 };
            r
        })
        .collect();
    let info = ScanInfo {
        scan_type: ScanType::IpProto,
        proto: Protocol::Ip,
        ports: tojimari_core::portspec::PortSet::from_ports(0..=60),
    };
    (vec![info], up_host("198.18.7.2", ports))
}

#[test]
fn normal_output_has_a_protocol_column() {
    let (scans, host) = scan();
    let capture = Capture::default();
    let mut sink = NormalSink::new(capture.writer(), NormalDestination::File).with_service_names(names);
    feed(&mut sink, &run_info("t", scans, display(true, false, 0)), &[host], &summary(1, 1, 60, RunExit::Success));
    let out = capture.text();
    let want = "Not shown: 57 closed n/a protocols (proto-unreach)
PROTOCOL STATE         SERVICE REASON
1        open          icmp    echo-reply ttl 64
2        open|filtered igmp    no-response
6        open          tcp     proto-response ttl 64
17       open          udp     port-unreach ttl 64
";
    assert!(out.contains(want), "{out}");
}

#[test]
fn grepable_output_lists_protocols() {
    let (scans, host) = scan();
    let capture = Capture::default();
    let mut sink = GrepableSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info("t", scans, display(true, false, 0)), &[host], &summary(1, 1, 60, RunExit::Success));
    let out = capture.text();
    let want = "Host: 198.18.7.2 ()\tProtocols: 1/open/icmp/, 2/open|filtered/igmp/, 6/open/tcp/, 17/open/udp/\tIgnored State: closed (57)\n";
    assert!(out.contains(want), "{out}");
}

#[test]
fn xml_names_the_ip_protocol() {
    let (scans, host) = scan();
    let capture = Capture::default();
    let mut sink = XmlSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info("t", scans, display(true, false, 0)), &[host], &summary(1, 1, 60, RunExit::Success));
    let out = capture.text();
    assert!(out.contains(r#"<scaninfo type="ipproto" protocol="ip" numservices="61" services="0-60"/>"#), "{out}");
    assert!(out.contains(r#"<extraports state="closed" count="57">"#), "{out}");
    assert!(
        out.contains(r#"<port protocol="ip" portid="6"><state state="open" reason="proto-response" reason_ttl="64"/>"#),
        "{out}"
    );
}
