//! Normal output, terminal and `-oN` file, against the text nmap 7.93 printed for the same scans.

use std::time::Duration;

use tojimari_core::report::{RunExit, ScanInfo, ServiceMethod};
use tojimari_core::{HostReport, Hostname, HostnameKind, PortState, Reason, RunSummary, ScanType, Sink};
use tojimari_output::{NormalDestination, NormalSink};

use crate::fixtures::*;

fn render(
    destination: NormalDestination,
    args: &str,
    scans: Vec<ScanInfo>,
    display: tojimari_core::report::DisplayOptions,
    hosts: &[HostReport],
    summary: &RunSummary,
) -> String {
    let capture = Capture::default();
    let mut sink = NormalSink::new(capture.writer(), destination).with_service_names(names);
    feed(&mut sink, &run_info(args, scans, display), hosts, summary);
    capture.text()
}

fn terminal(
    scans: Vec<ScanInfo>,
    display: tojimari_core::report::DisplayOptions,
    hosts: &[HostReport],
    summary: &RunSummary,
) -> String {
    render(NormalDestination::Terminal, "tojimari", scans, display, hosts, summary)
}

#[test]
fn terminal_three_open_ports() {
    let (scans, host) = three_open();
    let out = terminal(scans, display(false, false, 0), &[host], &summary(1, 1, 60, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up (0.00055s latency).
Not shown: 98 closed tcp ports (conn-refused)
PORT    STATE SERVICE
22/tcp  open  ssh
80/tcp  open  http
631/tcp open  ipp

tojimari done: 1 IP address (1 host up) scanned in 0.06 seconds
"
    );
}

#[test]
fn file_with_reasons_and_several_folded_groups() {
    let (scans, host) = mixed_filtered();
    let out = render(
        NormalDestination::File,
        "tojimari -sT -p 1-100,631 --reason -oN n.txt 127.0.0.1",
        scans,
        display(true, false, 0),
        &[host],
        &summary(1, 1, 1260, RunExit::Success),
    );
    assert_eq!(
        out,
        "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari -sT -p 1-100,631 --reason -oN n.txt 127.0.0.1
tojimari scan report for localhost (127.0.0.1)
Host is up, received localhost-response (0.00055s latency).
Not shown: 71 closed tcp ports (conn-refused), 20 filtered tcp ports (no-response), 7 filtered tcp ports (host-unreach)
PORT    STATE SERVICE REASON
22/tcp  open  ssh     syn-ack
80/tcp  open  http    syn-ack
631/tcp open  ipp     syn-ack

# tojimari done at Sun Nov 22 01:37:12 2026 -- 1 IP address (1 host up) scanned in 1.26 seconds
"
    );
}

#[test]
fn few_filtered_ports_are_listed_and_columns_widen() {
    let (scans, host) = few_filtered();
    let out = terminal(scans, display(false, false, 0), &[host], &summary(1, 1, 1240, RunExit::Success));
    let expected = "Not shown: 93 closed tcp ports (conn-refused)
PORT    STATE    SERVICE
1/tcp   filtered tcpmux
2/tcp   filtered compressnet
3/tcp   filtered compressnet
22/tcp  open     ssh
30/tcp  filtered unknown
31/tcp  filtered msg-auth
80/tcp  open     http
631/tcp open     ipp

";
    assert!(out.contains(expected), "{out}");
}

#[test]
fn open_only_hides_other_states_and_hosts_without_open_ports() {
    let (scans, host) = few_filtered();
    let mut no_open = up_host("127.0.0.2", (1..=21).map(closed).collect());
    no_open.times = None;
    let out = terminal(scans, display(false, true, 0), &[host, no_open], &summary(2, 2, 1240, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up (0.00055s latency).
Not shown: 93 closed tcp ports (conn-refused), 3 filtered tcp ports (no-response), 2 filtered tcp ports (host-unreach)
PORT    STATE SERVICE
22/tcp  open  ssh
80/tcp  open  http
631/tcp open  ipp

tojimari done: 2 IP addresses (2 hosts up) scanned in 1.24 seconds
"
    );
}

#[test]
fn every_port_folded() {
    let scans = vec![connect_scan((100..=140).chain(200..=399))];
    let ports = (100..=140).map(closed).chain((200..=399).map(|p| filtered(p, Reason::NoResponse)));
    let host = localhost(ports.collect());
    let out = terminal(scans, display(true, false, 0), &[host], &summary(1, 1, 1850, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up, received localhost-response (0.00055s latency).
All 241 scanned ports on localhost (127.0.0.1) are in ignored states.
Not shown: 200 filtered tcp ports (no-response), 41 closed tcp ports (conn-refused)

tojimari done: 1 IP address (1 host up) scanned in 1.85 seconds
"
    );
}

#[test]
fn nothing_folded_leaves_an_empty_line_and_ttls_show() {
    let scans = vec![connect_scan(1..=10)];
    let ports = (1..=10).map(|p| {
        if p <= 3 {
            filtered(p, Reason::NoResponse)
        } else {
            let mut port = tcp(p, PortState::Unfiltered, Reason::Reset);
            port.reason_ttl = 64;
            port
        }
    });
    let mut host = localhost(ports.collect());
    host.times = Some(tojimari_core::report::HostTimes { srtt: Duration::from_micros(25), ..Default::default() });
    let out = terminal(scans, display(true, false, 0), &[host], &summary(1, 1, 1270, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up, received localhost-response (0.000025s latency).

PORT   STATE      SERVICE     REASON
1/tcp  filtered   tcpmux      no-response
2/tcp  filtered   compressnet no-response
3/tcp  filtered   compressnet no-response
4/tcp  unfiltered unknown     reset ttl 64
5/tcp  unfiltered unknown     reset ttl 64
6/tcp  unfiltered unknown     reset ttl 64
7/tcp  unfiltered unknown     reset ttl 64
8/tcp  unfiltered unknown     reset ttl 64
9/tcp  unfiltered unknown     reset ttl 64
10/tcp unfiltered unknown     reset ttl 64

tojimari done: 1 IP address (1 host up) scanned in 1.27 seconds
"
    );
}

/// nmap -sT -sU -p T:1-40,41000,U:1-40 --reason, with tcp 1-3 and udp 35-39 dropped; here on ::1.
#[test]
fn ipv6_with_tcp_and_udp() {
    let scans = vec![
        connect_scan((1..=40).chain([41000])),
        ScanInfo {
            scan_type: ScanType::Connect,
            proto: tojimari_core::Protocol::Udp,
            ports: tojimari_core::portspec::PortSet::from_ports(1..=40),
        },
    ];
    let mut ports: Vec<_> = (1..=40)
        .chain([41000])
        .map(|p| match p {
            1..=3 => filtered(p, Reason::NoResponse),
            22 | 41000 => open(p),
            _ => closed(p),
        })
        .collect();
    ports.extend((1..=40).map(|p| match p {
        35..=39 => udp(p, PortState::OpenFiltered, Reason::NoResponse),
        _ => udp(p, PortState::Closed, Reason::PortUnreach),
    }));
    let mut host = up_host("::1", ports);
    host.times = Some(tojimari_core::report::HostTimes { srtt: Duration::from_micros(140), ..Default::default() });
    let out = terminal(scans, display(true, false, 0), &[host], &summary(1, 1, 2490, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for ::1
Host is up, received localhost-response (0.00014s latency).
Not shown: 36 closed tcp ports (conn-refused), 35 closed udp ports (port-unreach)
PORT      STATE         SERVICE     REASON
1/tcp     filtered      tcpmux      no-response
2/tcp     filtered      compressnet no-response
3/tcp     filtered      compressnet no-response
22/tcp    open          ssh         syn-ack
41000/tcp open          unknown     syn-ack
35/udp    open|filtered priv-print  no-response
36/udp    open|filtered unknown     no-response
37/udp    open|filtered time        no-response
38/udp    open|filtered rap         no-response
39/udp    open|filtered rlp         no-response

tojimari done: 1 IP address (1 host up) scanned in 2.49 seconds
"
    );
}

#[test]
fn down_host_is_silent_unless_verbose() {
    let scans = vec![connect_scan(1..=1000)];
    let hosts = [down_host("198.51.100.7")];
    let sum = summary(1, 0, 3040, RunExit::Success);
    let quiet = terminal(scans.clone(), display(false, false, 0), &hosts, &sum);
    assert_eq!(
        quiet,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn
tojimari done: 1 IP address (0 hosts up) scanned in 3.04 seconds
"
    );
    let verbose = terminal(scans.clone(), display(false, false, 1), &hosts, &sum);
    assert!(verbose.contains("\ntojimari scan report for 198.51.100.7 [host down]\nNote: Host seems down."));
    let very = terminal(scans.clone(), display(false, false, 2), &hosts, &sum);
    assert!(very.contains("\ntojimari scan report for 198.51.100.7 [host down, received no-response]\n"));

    // nmap gives the hint only when the one and only target was down.
    let two = [down_host("198.51.100.7"), down_host("198.51.100.8")];
    let out = terminal(scans, display(false, false, 0), &two, &summary(2, 0, 2030, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari done: 2 IP addresses (0 hosts up) scanned in 2.03 seconds
"
    );
}

#[test]
fn interrupted_host_and_run() {
    let scans = vec![connect_scan((1..=100).chain([631]))];
    let mut host = localhost((1..=40).map(|p| if p == 22 { open(p) } else { closed(p) }).collect());
    host.complete = false;
    let out = render(
        NormalDestination::File,
        "tojimari 127.0.0.1",
        scans,
        display(false, false, 0),
        &[host],
        &summary(1, 1, 700, interrupted()),
    );
    assert_eq!(
        out,
        "# tojimari 0.1.0 scan initiated Sun Nov 22 01:37:11 2026 as: tojimari 127.0.0.1
tojimari scan report for localhost (127.0.0.1)
Host is up (0.00055s latency).
Warning: scan of this host was interrupted; 40 of 101 ports have results.
Not shown: 39 closed tcp ports (conn-refused)
PORT   STATE SERVICE
22/tcp open  ssh

Scan interrupted by user (SIGINT)
# tojimari done at Sun Nov 22 01:37:11 2026 -- 1 IP address (1 host up) scanned in 0.70 seconds
"
    );
}

#[test]
fn host_timeout_skips_the_port_table() {
    let (scans, mut host) = three_open();
    host.timed_out = true;
    host.complete = false;
    host.times = Some(tojimari_core::report::HostTimes { srtt: Duration::from_micros(92), ..Default::default() });
    let out = terminal(scans, display(false, false, 0), &[host], &summary(1, 1, 2030, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up (0.000092s latency).
Skipping host localhost (127.0.0.1) due to host timeout
tojimari done: 1 IP address (1 host up) scanned in 2.03 seconds
"
    );
}

#[test]
fn ping_only_run() {
    let mut host = localhost(Vec::new());
    host.times = None;
    let out = terminal(Vec::new(), display(true, false, 0), &[host], &summary(1, 1, 0, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for localhost (127.0.0.1)
Host is up, received localhost-response.
tojimari done: 1 IP address (1 host up) scanned in 0.00 seconds
"
    );
}

#[test]
fn typed_name_with_different_ptr_and_very_verbose() {
    let scans = vec![connect_scan(1..=30)];
    let mut host = up_host("192.0.2.10", (1..=30).map(|p| if p == 22 { open(p) } else { closed(p) }).collect());
    host.state_reason = Reason::SynAck;
    host.state_reason_ttl = 53;
    host.end = at(T0, 5_400);
    host.hostnames = vec![
        Hostname { name: "scanme.example".into(), kind: HostnameKind::User },
        Hostname { name: "web1.example.net".into(), kind: HostnameKind::Ptr },
    ];
    let out = terminal(scans, display(false, false, 2), &[host], &summary(1, 1, 5500, RunExit::Success));
    let expected_head = "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for scanme.example (192.0.2.10)
Host is up, received syn-ack ttl 53 (0.00055s latency).
rDNS record for 192.0.2.10: web1.example.net
Scanned at 2026-11-22 01:37:11 UTC for 5s

PORT   STATE  SERVICE     REASON
1/tcp  closed tcpmux      conn-refused
";
    // -vv shows up to 75 ports per state, and implies reasons.
    assert!(out.starts_with(expected_head), "{out}");
    assert!(out.contains("\n22/tcp open   ssh         syn-ack\n"), "{out}");
    assert!(out.contains("\n30/tcp closed unknown     conn-refused\n\n"), "{out}");
}

#[test]
fn detected_service_wins_over_the_table() {
    let scans = vec![connect_scan([22, 8080])];
    let ports = vec![
        with_service(open(22), "telnet", ServiceMethod::Probed, 10),
        with_service(open(8080), "http-proxy", ServiceMethod::Table, 3),
    ];
    let out = terminal(scans, display(false, false, 0), &[localhost(ports)], &summary(1, 1, 10, RunExit::Success));
    assert!(out.contains("PORT     STATE SERVICE\n22/tcp   open  telnet\n8080/tcp open  http-proxy\n"), "{out}");
}

#[test]
fn hosts_are_flushed_one_by_one_and_separated_by_empty_lines() {
    let (scans, host) = three_open();
    let mut second = host.clone();
    second.addr = "127.0.0.2".parse().unwrap();
    second.hostnames.clear();
    let capture = Capture::default();
    let mut sink = NormalSink::new(capture.writer(), NormalDestination::Terminal).with_service_names(names);
    sink.run_start(&run_info("tojimari", scans, display(false, false, 0))).unwrap();
    let after_header = capture.flushes();
    assert!(after_header >= 1);
    sink.host_done(&host).unwrap();
    assert!(capture.text().ends_with("631/tcp open  ipp\n\n"));
    assert!(capture.flushes() > after_header);
    sink.host_done(&second).unwrap();
    assert!(capture.text().contains("631/tcp open  ipp\n\ntojimari scan report for 127.0.0.2\n"));
}

#[test]
fn no_targets_warning() {
    let out = terminal(Vec::new(), display(false, false, 0), &[], &summary(0, 0, 30, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
WARNING: No targets were specified, so 0 hosts scanned.
tojimari done: 0 IP addresses (0 hosts up) scanned in 0.03 seconds
"
    );
}

#[test]
fn unknown_names_fall_back_to_the_shipped_table() {
    // Without `with_service_names` the sink asks tojimari_core::services.
    let capture = Capture::default();
    let mut sink = NormalSink::new(capture.writer(), NormalDestination::Terminal);
    let (scans, host) = three_open();
    feed(&mut sink, &run_info("t", scans, display(false, false, 0)), &[host], &summary(1, 1, 1, RunExit::Success));
    let expected = tojimari_output::service::table_name(tojimari_core::Protocol::Tcp, 22).unwrap_or("unknown");
    assert!(capture.text().contains(&format!("\n22/tcp  open  {expected}")), "{}", capture.text());
}

#[test]
fn names_from_the_network_cannot_drive_the_terminal() {
    let scans = vec![connect_scan([22])];
    let mut host = up_host("192.0.2.10", vec![with_service(open(22), "ssh\u{1b}[2J", ServiceMethod::Probed, 10)]);
    host.hostnames = vec![
        Hostname { name: "typed".into(), kind: HostnameKind::User },
        Hostname { name: "ptr\u{1b}]0;owned\u{7}".into(), kind: HostnameKind::Ptr },
    ];
    let out =
        terminal(scans, display(false, false, 0), &[host], &summary(1, 1, 10, RunExit::Error("a\nb\u{1b}".into())));
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(out.contains("rDNS record for 192.0.2.10: ptr\\x1b]0;owned\\x07\n"), "{out}");
    assert!(out.contains("22/tcp open  ssh\\x1b[2J\n"), "{out}");
    assert!(out.contains("\na\nb\\x1b\ntojimari done: "), "{out}");
}

#[test]
fn version_column_details_service_info_and_findings() {
    let (scans, host) = versioned();
    let out = terminal(scans, versions_display(), &[host], &summary(1, 1, 60, RunExit::Success));
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC
tojimari scan report for 198.18.0.2
Host is up (0.00055s latency).

PORT     STATE SERVICE  VERSION
21/tcp   open  ftp      vsftpd 3.0.3
|_ftp-anon: Anonymous FTP login allowed (FTP code 230)
22/tcp   open  ssh      OpenSSH 9.2p1 Debian 2+deb12u3 (protocol 2.0)
443/tcp  open  ssl/http nginx 1.22.1
| ssl-cert: Subject: CN=bed.test
|   Issuer: CN=bed.test
|_  Not valid after:  2026-12-22T00:00:00Z
9999/tcp open  unknown
Service Info: OSs: Unix, Linux; CPE: cpe:/o:linux:linux_kernel
Findings:
  HIGH     21/tcp ftp-anonymous: anonymous login accepted (230 Login successful.)
           advice: Set anonymous_enable=NO unless the server is meant to be public.
  MEDIUM   443/tcp tls-self-signed: certificate CN=bed.test is signed by itself
           advice: Use a certificate from a CA your clients trust.

tojimari done: 1 IP address (1 host up) scanned in 0.06 seconds
"
    );
}

/// nmap -sL -n 198.18.0.1: the target's line, and no "host seems down" note (nothing was asked).
#[test]
fn list_scan_names_the_target_only() {
    let mut host = listed_host("198.18.0.1");
    host.hostnames.push(Hostname { name: "gw.example".into(), kind: HostnameKind::Ptr });
    let out = render(
        NormalDestination::Terminal,
        "tojimari -sL 198.18.0.1",
        list_scan(),
        display(false, false, 0),
        &[host],
        &RunSummary { hosts_up: 0, hosts_down: 1, ..summary(1, 0, 0, RunExit::Success) },
    );
    assert_eq!(
        out,
        "Starting tojimari 0.1.0 at 2026-11-22 01:37 UTC\n\
         tojimari scan report for gw.example (198.18.0.1)\n\
         tojimari done: 1 IP address (0 hosts up) scanned in 0.00 seconds\n"
    );
}
