//! Grepable output against the lines nmap 7.93 wrote for the same scans.

use tojimari_core::report::{DisplayOptions, RunExit, ScanInfo};
use tojimari_core::{HostReport, PortState, Protocol, Reason, RunSummary};
use tojimari_output::GrepableSink;

use crate::fixtures::*;

fn render(
    args: &str,
    scans: Vec<ScanInfo>,
    display: DisplayOptions,
    hosts: &[HostReport],
    summary: &RunSummary,
) -> String {
    let capture = Capture::default();
    let mut sink = GrepableSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info(args, scans, display), hosts, summary);
    capture.text()
}

#[test]
fn one_ignored_state() {
    let (scans, host) = three_open();
    let out = render(
        "tojimari -sT -p 1-100,631 -oG - 127.0.0.1",
        scans,
        display(true, false, 0),
        &[host],
        &summary(1, 1, 60, RunExit::Success),
    );
    assert_eq!(
        out,
        "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -sT -p 1-100,631 -oG - 127.0.0.1
Host: 127.0.0.1 (localhost)\tStatus: Up
Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///, 631/open/tcp//ipp///\tIgnored State: closed (98)
# tojimari done at Sun Nov 22 01:37:11 2026 -- 1 IP address (1 host up) scanned in 0.06 seconds
"
    );
}

#[test]
fn two_ignored_states_give_no_ignored_field() {
    let (scans, host) = mixed_filtered();
    let out = render("t", scans, display(true, false, 0), &[host], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains(
        "Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///, 631/open/tcp//ipp///\n"
    ));
}

#[test]
fn listed_filtered_ports_and_unknown_service() {
    let (scans, mut host) = few_filtered();
    host.ports.push(open(41000));
    let out = render("t", scans, display(false, false, 0), &[host], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains(
        "Host: 127.0.0.1 (localhost)\tPorts: 1/filtered/tcp//tcpmux///, 2/filtered/tcp//compressnet///, 3/filtered/tcp//compressnet///, 22/open/tcp//ssh///, 30/filtered/tcp/////, 31/filtered/tcp//msg-auth///, 80/open/tcp//http///, 631/open/tcp//ipp///, 41000/open/tcp/////\tIgnored State: closed (93)\n"
    ), "{out}");
}

#[test]
fn open_only() {
    let (scans, host) = few_filtered();
    let hidden = up_host("127.0.0.2", (1..=21).map(closed).collect());
    let out = render("t", scans, display(false, true, 0), &[host, hidden], &summary(2, 2, 60, RunExit::Success));
    assert_eq!(
        out,
        "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: t
Host: 127.0.0.1 (localhost)\tStatus: Up
Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///, 631/open/tcp//ipp///
# tojimari done at Sun Nov 22 01:37:11 2026 -- 2 IP addresses (2 hosts up) scanned in 0.06 seconds
"
    );
}

#[test]
fn open_only_keeps_unfiltered() {
    // nmap -sA -p 1-10 --open: "Ports: 4/unfiltered/tcp//unknown///, ...	Ignored State: filtered (3)".
    let scans = vec![connect_scan(1..=10)];
    let ports = (1..=10)
        .map(|p| if p <= 3 { filtered(p, Reason::NoResponse) } else { tcp(p, PortState::Unfiltered, Reason::Reset) })
        .collect();
    let out = render("t", scans, display(false, true, 0), &[localhost(ports)], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains("\tPorts: 4/unfiltered/tcp/////, 5/unfiltered/tcp/////, "), "{out}");
    assert!(out.contains("10/unfiltered/tcp/////\tIgnored State: filtered (3)\n"), "{out}");
}

#[test]
fn everything_folded() {
    let scans = vec![connect_scan(200..=399)];
    let one_state = localhost((200..=399).map(|p| filtered(p, Reason::NoResponse)).collect());
    let out = render("t", scans.clone(), display(false, false, 0), &[one_state], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains("Host: 127.0.0.1 (localhost)\tPorts: \tIgnored State: filtered (200)\n"));

    let two_states =
        localhost((200..=399).map(|p| if p < 240 { closed(p) } else { filtered(p, Reason::NoResponse) }).collect());
    let out = render("t", scans, display(false, false, 0), &[two_states], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains("Host: 127.0.0.1 (localhost)\tPorts: \n"));
}

#[test]
fn verbose_header_ipv6_and_down_hosts() {
    let scans = vec![
        connect_scan((1..=100).chain([631])),
        ScanInfo {
            scan_type: tojimari_core::ScanType::Connect,
            proto: Protocol::Udp,
            ports: tojimari_core::portspec::PortSet::from_ports([53, 161, 162]),
        },
    ];
    let v6 = up_host("::1", vec![open(22), udp(53, PortState::Open, Reason::UdpResponse)]);
    let hosts = [v6, down_host("198.51.100.7")];
    let out = render("t -v", scans, display(false, false, 1), &hosts, &summary(2, 1, 60, RunExit::Success));
    assert_eq!(
        out,
        "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: t -v
# Ports scanned: TCP(101;1-100,631) UDP(3;53,161-162) SCTP(0;) PROTOCOLS(0;)
Host: ::1 ()\tStatus: Up
Host: ::1 ()\tPorts: 22/open/tcp//ssh///, 53/open/udp//domain///
Host: 198.51.100.7 ()\tStatus: Down
# tojimari done at Sun Nov 22 01:37:11 2026 -- 2 IP addresses (1 host up) scanned in 0.06 seconds
"
    );
    let quiet = render(
        "t",
        Vec::new(),
        display(false, false, 0),
        &[down_host("198.51.100.7")],
        &summary(1, 0, 60, RunExit::Success),
    );
    assert!(!quiet.contains("Host:"));
}

#[test]
fn timeout_interrupt_and_ping_only() {
    let (scans, host) = three_open();
    let mut timed = host.clone();
    timed.timed_out = true;
    let out = render("t", scans.clone(), display(false, false, 0), &[timed], &summary(1, 1, 60, RunExit::Success));
    assert!(out.contains(
        "Host: 127.0.0.1 (localhost)\tStatus: Up\nHost: 127.0.0.1 (localhost)\tStatus: Timeout\n# tojimari done"
    ));

    let mut cut = host.clone();
    cut.complete = false;
    cut.ports.truncate(30);
    let out = render("t", scans, display(false, false, 0), &[cut], &summary(1, 1, 60, interrupted()));
    assert!(out.ends_with(
        "Host: 127.0.0.1 (localhost)\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (29)
# Host 127.0.0.1: scan interrupted, results incomplete
# Scan interrupted by user (SIGINT)
# tojimari done at Sun Nov 22 01:37:11 2026 -- 1 IP address (1 host up) scanned in 0.06 seconds
"
    ));

    let out = render("t -sn", Vec::new(), display(false, false, 0), &[host], &summary(1, 1, 0, RunExit::Success));
    assert!(out.contains("Host: 127.0.0.1 (localhost)\tStatus: Up\n# tojimari done"));
}

#[test]
fn separators_inside_fields_are_neutralised() {
    let (scans, mut host) = three_open();
    host.hostnames[0].name = "a\tb".into();
    host.ports[21] = with_service(open(22), "x/y,z", tojimari_core::report::ServiceMethod::Probed, 10);
    let out = render("t\n", scans, display(false, false, 0), &[host], &summary(1, 1, 0, RunExit::Success));
    assert!(out.starts_with("# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: t\\x0a\n"));
    assert!(out.contains("Host: 127.0.0.1 (a\\x09b)\tPorts: 22/open/tcp//x|y;z///, "), "{out}");
    assert_eq!(out.lines().count(), 4);
}

#[test]
fn version_fields_and_tunnel() {
    let (scans, host) = versioned();
    let out = render("t -sV", scans, versions_display(), &[host], &summary(1, 1, 60, RunExit::Success));
    let ports = out.lines().find(|l| l.contains("Ports:")).unwrap();
    assert!(
        ports.ends_with(
            "Ports: 21/open/tcp//ftp//vsftpd 3.0.3/, 22/open/tcp//ssh//OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)/, \
         443/open/tcp//ssl|http//nginx 1.22.1/, 9999/open/tcp/////"
        ),
        "{ports}"
    );
}

/// nmap -sL -n -oG - 198.18.0.0/31: one "Status: Unknown" line per target.
#[test]
fn list_scan_status_unknown() {
    let hosts = [listed_host("198.18.0.0"), listed_host("198.18.0.1")];
    let out = render("t", list_scan(), display(false, false, 0), &hosts, &summary(2, 0, 0, RunExit::Success));
    let body: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(body, ["Host: 198.18.0.0 ()\tStatus: Unknown", "Host: 198.18.0.1 ()\tStatus: Unknown"]);
}
