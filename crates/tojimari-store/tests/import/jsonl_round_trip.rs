//! tojimari's own `-oJ` (tojimari-output's `JsonLinesSink`) read back gives the reports that were
//! written: ports streamed with hosts interleaved, the collapsed groups expanded, findings, the OS line.
//! Only what the format does not carry differs: the round-trip variance and timeout of `times`.

use std::time::Duration;

use tojimari_core::Sink;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{DisplayOptions, RunExit, RunInfo, RunSummary, ScanInfo, ScanType};
use tojimari_core::{PortState, Protocol};
use tojimari_output::jsonl::JsonLinesSink;
use tojimari_store::import::jsonl::Reader;
use tojimari_store::import::nmap_xml::Record;
use tojimari_store::import::{Format, ImportError, Limits};

use super::round_trip::{Shared, at, hosts};

fn written() -> (RunInfo, RunSummary, Vec<u8>) {
    let out = Shared::default();
    let mut sink = JsonLinesSink::new(Box::new(out.clone()));
    let run = RunInfo {
        args: "tojimari scan -sS -O -p 1-100,443 198.18.0.2 2001:db8::18:0:0:3 198.18.0.9".into(),
        start: at(1_795_311_431),
        version: "0.1.0".into(),
        scans: vec![ScanInfo {
            scan_type: ScanType::Syn,
            proto: Protocol::Tcp,
            ports: PortSet::from_ports((1..=100).chain([443])),
        }],
        display: DisplayOptions::default(),
    };
    sink.run_start(&run).unwrap();
    let hosts = hosts();
    // Open ports stream as found, the hosts' interleaved.
    for host in &hosts {
        for port in host.ports.iter().filter(|p| p.state == PortState::Open) {
            sink.port_found(host.addr, port).unwrap();
        }
    }
    for host in &hosts {
        sink.host_done(host).unwrap();
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
    (run, summary, bytes)
}

#[test]
fn tojimari_json_lines_read_back_to_the_reports_written() {
    let (run, summary, bytes) = written();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\"collapsed\":[{\"state\":\"closed\""), "closed ports were collapsed:\n{text}");
    assert_eq!(Format::detect(&bytes), Some(Format::Jsonl));

    let records: Vec<Record> = Reader::new(&bytes[..], Limits::default()).collect::<Result<_, _>>().expect("reads");
    assert_eq!(records.len(), 5, "{records:#?}");
    let Record::Run { scanner, args, start, version, scaninfo, .. } = &records[0] else { panic!() };
    assert_eq!((scanner.as_str(), args, *start, version), ("tojimari", &run.args, Some(run.start), &run.version));
    assert_eq!((scaninfo[0].scan_type.as_str(), scaninfo[0].protocol.as_str()), ("syn", "tcp"));
    // Every field comes back, the timing too (the round trip, its variation and the probe timeout).
    for (record, expected) in records[1..4].iter().zip(hosts()) {
        let Record::Host(read) = record else { panic!("a host: {record:?}") };
        assert_eq!(format!("{read:#?}"), format!("{expected:#?}"));
    }
    let Record::RunEnd { end, elapsed, exit, hosts_up, hosts_down, hosts_total } = &records[4] else { panic!() };
    assert_eq!((*end, *elapsed, exit), (Some(summary.end), Some(summary.elapsed), &summary.exit));
    assert_eq!((*hosts_up, *hosts_down, *hosts_total), (2, 1, 3));
}

fn last_error(bytes: &[u8], limits: Limits) -> ImportError {
    let items: Vec<_> = Reader::new(bytes, limits).collect();
    match items.into_iter().last() {
        Some(Err(e)) => e,
        other => panic!("no error at the end: {other:?}"),
    }
}

#[test]
fn broken_json_lines_say_where() {
    let (_, _, bytes) = written();
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Cut short: no summary line.
    let cut = lines[..lines.len() - 1].join("\n");
    assert!(matches!(last_error(cut.as_bytes(), Limits::default()), ImportError::Ended { .. }));
    // Cut inside a line.
    let cut = &text[..text.len() - 20];
    let e = last_error(cut.as_bytes(), Limits::default());
    assert!(matches!(&e, ImportError::Json { at, .. } if at.line == lines.len() as u64), "{e:?}");
    // A line that is not JSON, in the middle.
    let mut broken = lines.clone();
    broken[2] = "{\"type\":\"port\",";
    let e = last_error(broken.join("\n").as_bytes(), Limits::default());
    assert!(matches!(&e, ImportError::Json { at, .. } if at.line == 3), "{e:?}");
    // A state no tojimari writes.
    let bad = text.replacen("\"state\":\"open\"", "\"state\":\"ajar\"", 1);
    assert!(matches!(last_error(bad.as_bytes(), Limits::default()), ImportError::BadValue { .. }));
    // A collapsed count that is not its list.
    let bad = text.replacen("\"count\":98", "\"count\":97", 1);
    assert!(matches!(last_error(bad.as_bytes(), Limits::default()), ImportError::BadValue { .. }));
    // Not tojimari's lines.
    assert!(matches!(
        last_error(b"{\"type\":\"port\"}\n", Limits::default()),
        ImportError::NotFormat { .. } | ImportError::Json { .. }
    ));
    assert!(matches!(last_error(b"", Limits::default()), ImportError::Ended { .. }));
    // Limits: a long line, too many held ports, a huge collapsed range.
    let small = Limits { max_token: 100, ..Limits::default() };
    assert!(matches!(last_error(text.as_bytes(), small), ImportError::TokenTooLong { .. }));
    let few = Limits { max_pending_ports: 1, ..Limits::default() };
    assert!(matches!(last_error(text.as_bytes(), few), ImportError::TooManyPorts { limit: 1, .. }));
    let huge = text.replacen("\"count\":98", "\"count\":65535", 1).replacen(
        "\"ports\":\"1-21,23-79,81-100\"",
        "\"ports\":\"1-65535,1-65535,1-65535,1-65535,1-65535\"",
        1,
    );
    let few = Limits { max_ports_per_host: 1000, ..Limits::default() };
    assert!(matches!(last_error(huge.as_bytes(), few), ImportError::TooManyPorts { limit: 1000, .. }));
}
