//! A real tojimari `-oJ` file (`tests/data/tojimari-0.1.0-sS-O.jsonl`: `tojimari scan -sS -O -p 1-200` of a
//! test-bed target with listeners on 22 and 80, saved by tojimari-cli's import test with
//! `TOJIMARI_SAVE_JSONL`), read back: the collapsed closed ports expanded, the OS line attached.

use tojimari_core::{PortState, Reason};
use tojimari_store::import::nmap_xml::Record;
use tojimari_store::import::{Format, Limits};

const FILE: &[u8] = include_bytes!("../data/tojimari-0.1.0-sS-O.jsonl");

#[test]
fn a_real_json_lines_file_reads_back() {
    assert_eq!(Format::detect(FILE), Some(Format::Jsonl));
    let records: Vec<Record> = Format::Jsonl.reader(FILE, Limits::default()).collect::<Result<_, _>>().expect("reads");
    assert_eq!(records.len(), 3, "{records:#?}");
    assert!(
        matches!(&records[0], Record::Run { scanner, scaninfo, .. } if scanner == "tojimari" && scaninfo[0].scan_type == "syn")
    );
    let Record::Host(host) = &records[1] else { panic!() };
    assert_eq!(host.ports.len(), 200);
    let open: Vec<u16> = host.ports.iter().filter(|p| p.state == PortState::Open).map(|p| p.port).collect();
    assert_eq!(open, [22, 80]);
    assert!(host.ports.iter().filter(|p| p.state == PortState::Closed).all(|p| p.reason == Reason::Reset));
    let os = host.os.as_ref().expect("the os line");
    assert!(os.best().is_some_and(|m| m.name.starts_with("Linux")), "{os:?}");
    assert!(matches!(records[2], Record::RunEnd { hosts_up: 1, .. }));
}
