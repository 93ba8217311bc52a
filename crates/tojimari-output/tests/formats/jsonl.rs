//! JSON Lines: exact lines for a small run, streaming as found, and the rule that every port is
//! either a `port` line or in a `collapsed` group, exactly once.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tojimari_core::report::{RunExit, ScanInfo};
use tojimari_core::{HostReport, PortState, Reason, RunSummary, Sink};
use tojimari_output::JsonLinesSink;

use crate::fixtures::*;

fn lines(text: &str) -> Vec<Value> {
    assert!(text.ends_with('\n'));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn render(scans: Vec<ScanInfo>, hosts: &[HostReport], summary: &RunSummary) -> String {
    let capture = Capture::default();
    let mut sink = JsonLinesSink::new(capture.writer()).with_service_names(names);
    feed(&mut sink, &run_info("tojimari -oJ - 127.0.0.1", scans, display(false, false, 0)), hosts, summary);
    capture.text()
}

#[test]
fn exact_lines_of_a_small_run() {
    let (scans, mut host) = three_open();
    host.start = at(T0, 0);
    host.end = at(T0, 250);
    let out = render(scans, &[host], &summary(1, 1, 1250, RunExit::Success));
    let expected = [
        r#"{"type":"run","version":"0.1.0","args":"tojimari -oJ - 127.0.0.1","start":1795311431.0,"scans":[{"type":"connect","proto":"tcp","ports":101}]}"#,
        r#"{"type":"port","addr":"127.0.0.1","proto":"tcp","port":22,"state":"open","reason":"syn-ack","reason_ttl":0,"service":"ssh"}"#,
        r#"{"type":"port","addr":"127.0.0.1","proto":"tcp","port":80,"state":"open","reason":"syn-ack","reason_ttl":0,"service":"http"}"#,
        r#"{"type":"port","addr":"127.0.0.1","proto":"tcp","port":631,"state":"open","reason":"syn-ack","reason_ttl":0,"service":"ipp"}"#,
        r#"{"type":"host","addr":"127.0.0.1","hostnames":[{"name":"localhost","type":"PTR"}],"state":"up","reason":"localhost-response","reason_ttl":0,"start":1795311431.0,"end":1795311431.25,"latency_ms":0.55,"rttvar_ms":0.508,"timeout_ms":100.0,"ports":{"open":3,"closed":98},"collapsed":[{"state":"closed","proto":"tcp","reason":"conn-refused","count":98,"ports":"1-21,23-79,81-100"}],"complete":true,"timed_out":false}"#,
        r#"{"type":"summary","end":1795311432.25,"elapsed":1.25,"hosts_up":1,"hosts_down":0,"hosts_total":1,"exit":"success"}"#,
    ];
    assert_eq!(out, expected.join("\n") + "\n");
}

#[test]
fn ports_stream_as_found_and_are_not_repeated() {
    let capture = Capture::default();
    let mut sink = JsonLinesSink::new(capture.writer()).with_service_names(names);
    let (scans, host) = few_filtered();
    sink.run_start(&run_info("t", scans, display(false, false, 0))).unwrap();
    let addr = host.addr;

    sink.port_found(addr, &closed(4)).unwrap();
    assert_eq!(capture.text().lines().count(), 1, "closed ports wait for host_done");
    let flushes = capture.flushes();
    sink.port_found(addr, &open(22)).unwrap();
    assert!(capture.flushes() > flushes, "each line is flushed");
    let got = lines(&capture.text());
    assert_eq!(got[1]["port"], 22);
    // The same port reported twice, and a port of another host in between, stay separate.
    sink.port_found(addr, &open(22)).unwrap();
    sink.port_found("192.0.2.1".parse().unwrap(), &open(22)).unwrap();
    sink.port_found(addr, &udp(53, PortState::OpenFiltered, Reason::NoResponse)).unwrap();
    assert_eq!(lines(&capture.text()).len(), 4);

    sink.host_done(&host).unwrap();
    let got = lines(&capture.text());
    let ports_of_host: Vec<u64> = got
        .iter()
        .filter(|l| l["type"] == "port" && l["addr"] == "127.0.0.1" && l["proto"] == "tcp")
        .map(|l| l["port"].as_u64().unwrap())
        .collect();
    // 22 streamed; 80 and 631 never streamed so written now; 5 filtered (<= 25) written now.
    assert_eq!(ports_of_host, [22, 1, 2, 3, 30, 31, 80, 631]);
    let host_line = got.last().unwrap();
    assert_eq!(host_line["type"], "host");
    assert_eq!(host_line["ports"], json!({"open": 3, "closed": 93, "filtered": 5}));
    assert_eq!(got.iter().filter(|l| l["port"] == 30).count(), 1);
    assert_eq!(got.iter().find(|l| l["port"] == 30).unwrap()["service"], Value::Null);
}

/// Each port of each host is in exactly one `port` line or one `collapsed` group.
fn check_accounting(hosts: &[HostReport], out: &str) {
    let got = lines(out);
    for host in hosts {
        let addr = host.addr.to_string();
        let mut seen: BTreeMap<(String, u64), usize> = BTreeMap::new();
        for line in got.iter().filter(|l| l["type"] == "port" && l["addr"] == addr.as_str()) {
            *seen.entry((line["proto"].as_str().unwrap().to_string(), line["port"].as_u64().unwrap())).or_default() +=
                1;
        }
        let host_line = got.iter().find(|l| l["type"] == "host" && l["addr"] == addr.as_str()).unwrap();
        let mut collapsed = 0;
        for group in host_line["collapsed"].as_array().unwrap() {
            collapsed += group["count"].as_u64().unwrap() as usize;
            for range in group["ports"].as_str().unwrap().split(',') {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                for p in a.parse::<u64>().unwrap()..=b.parse::<u64>().unwrap() {
                    *seen.entry((group["proto"].as_str().unwrap().to_string(), p)).or_default() += 1;
                }
            }
        }
        assert!(seen.values().all(|&n| n == 1), "{seen:?}");
        assert_eq!(seen.len(), host.ports.len());
        let counted: u64 = host_line["ports"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
        assert_eq!(counted as usize, host.ports.len());
        assert!(collapsed <= host.ports.len());
    }
}

#[test]
fn nothing_is_lost_and_big_sets_are_summarised() {
    let (scans, mixed) = mixed_filtered();
    let mut many_open_filtered =
        up_host("::1", (1..=300).map(|p| udp(p, PortState::OpenFiltered, Reason::NoResponse)).collect());
    many_open_filtered.ports.extend((1..=30).map(|p| tcp(p, PortState::Unfiltered, Reason::Reset)));
    let hosts = [mixed, many_open_filtered];
    let out = render(scans, &hosts, &summary(2, 2, 10, RunExit::Success));
    check_accounting(&hosts, &out);
    let got = lines(&out);
    // 27 filtered ports exceed 25: collapsed, in two reason groups, largest first.
    let host = got.iter().find(|l| l["type"] == "host" && l["addr"] == "127.0.0.1").unwrap();
    assert_eq!(
        host["collapsed"],
        json!([
            {"state": "closed", "proto": "tcp", "reason": "conn-refused", "count": 71, "ports": "21,23-29,36-39,41-79,81-100"},
            {"state": "filtered", "proto": "tcp", "reason": "no-response", "count": 20, "ports": "1-20"},
            {"state": "filtered", "proto": "tcp", "reason": "host-unreach", "count": 7, "ports": "30-35,40"},
        ])
    );
    // open|filtered and unfiltered are never collapsed, however many.
    let v6 = got.iter().filter(|l| l["type"] == "port" && l["addr"] == "::1").count();
    assert_eq!(v6, 330);
}

#[test]
fn down_host_interrupted_host_and_error_summary() {
    let (scans, host) = three_open();
    let mut cut = host.clone();
    cut.complete = false;
    cut.ports.truncate(30);
    let mut timed = host;
    timed.addr = "127.0.0.2".parse().unwrap();
    timed.timed_out = true;
    timed.complete = false;
    timed.times = None;
    let down = down_host("198.51.100.7");
    let hosts = [cut, timed, down];
    let out = render(scans, &hosts, &summary(3, 2, 700, interrupted()));
    check_accounting(&hosts, &out);
    let got = lines(&out);
    let host = |addr: &str| got.iter().find(|l| l["type"] == "host" && l["addr"] == addr).unwrap().clone();
    assert_eq!(host("127.0.0.1")["complete"], false);
    assert_eq!(host("127.0.0.1")["timed_out"], false);
    assert_eq!(host("127.0.0.1")["ports"], json!({"open": 1, "closed": 29}));
    assert_eq!(host("127.0.0.2")["timed_out"], true);
    assert_eq!(host("127.0.0.2")["complete"], false);
    assert!(host("127.0.0.2").get("latency_ms").is_none());
    let down = host("198.51.100.7");
    assert_eq!(down["state"], "down");
    assert_eq!(down["reason"], "no-response");
    assert_eq!(down["ports"], json!({}));
    assert_eq!(down["collapsed"], json!([]));
    assert_eq!(down["hostnames"], json!([]));
    assert_eq!(
        got.last().unwrap(),
        &json!({"type": "summary", "end": 1795311431.7, "elapsed": 0.7, "hosts_up": 2, "hosts_down": 1,
                "hosts_total": 3, "exit": "error", "error": "Scan interrupted by user (SIGINT)"})
    );
}

#[test]
fn ping_only_run_and_display_options_ignored() {
    let capture = Capture::default();
    let mut sink = JsonLinesSink::new(capture.writer()).with_service_names(names);
    let mut host = localhost(Vec::new());
    host.times = Some(tojimari_core::report::HostTimes { srtt: Duration::from_micros(1234), ..Default::default() });
    // --open and -v change nothing in JSON Lines.
    let run = run_info("t -sn --open -v", Vec::new(), display(true, true, 3));
    feed(&mut sink, &run, &[host], &summary(1, 1, 0, RunExit::Success));
    let got = lines(&capture.text());
    assert_eq!(got[0]["scans"], json!([]));
    assert_eq!(got[1]["type"], "host");
    assert_eq!(got[1]["latency_ms"], 1.234);
    assert_eq!(got.len(), 3);
}

#[test]
fn version_fields_and_finding_lines() {
    let (scans, host) = versioned();
    let out = render(scans, &[host], &summary(1, 1, 60, RunExit::Success));
    let lines = lines(&out);
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["run", "port", "finding", "port", "port", "finding", "port", "host", "summary"]);
    assert_eq!(
        lines[1],
        json!({"type":"port","addr":"198.18.0.2","proto":"tcp","port":21,"state":"open","reason":"syn-ack",
            "reason_ttl":0,"service":"ftp","method":"probed","conf":10,"product":"vsftpd","version":"3.0.3",
            "ostype":"Unix","cpe":["cpe:/a:vsftpd:vsftpd:3.0.3"],
            "details":[{"id":"ftp-anon","output":"Anonymous FTP login allowed (FTP code 230)"}]})
    );
    assert_eq!(
        lines[2],
        json!({"type":"finding","addr":"198.18.0.2","proto":"tcp","port":21,"id":"ftp-anonymous","severity":"high",
            "evidence":"anonymous login accepted (230 Login successful.)",
            "advice":"Set anonymous_enable=NO unless the server is meant to be public."})
    );
    assert_eq!(lines[4]["tunnel"], "ssl");
    assert_eq!(lines[5]["id"], "tls-self-signed");
    assert_eq!(lines[6]["service"], Value::Null);
    assert!(lines[6].get("method").is_none(), "a port detection did not touch has no version keys");
}
