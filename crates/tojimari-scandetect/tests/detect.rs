//! Integration tests: replays of real captures made on the test bed (see
//! `tests/captures/README.md`), pcap error handling, and firewall logs.

// Test helpers show what the detector said, to read when a test fails.
#![allow(clippy::print_stderr)]

#[path = "detect/make_captures.rs"]
mod make_captures;

use std::path::{Path, PathBuf};

use tojimari_core::ScanType;
use tojimari_scandetect::pcap::{PcapError, replay_file};
use tojimari_scandetect::{Alert, AlertKind, Detector, DetectorConfig, LocalAddrs, ObservedScan, Tool};

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures").join(name)
}

fn replay(name: &str, local: LocalAddrs) -> Vec<Alert> {
    let mut detector = Detector::new(DetectorConfig { local, ..Default::default() });
    let replay = replay_file(&capture(name), &mut detector);
    assert!(replay.error.is_none(), "{name}: {:?}", replay.error);
    assert!(replay.stats.packets > 20, "{name}: {:?}", replay.stats);
    for a in &replay.alerts {
        eprintln!("{name}: {}", a.line());
    }
    replay.alerts
}

fn target() -> LocalAddrs {
    LocalAddrs::Nets(vec!["198.18.0.2".parse().unwrap()])
}

/// The first alert must name `scan_type` (and `tool`) within `max_probes` probes; no other
/// scan type may be reported. Checked with the target's address known and with inference.
fn expect(name: &str, scan_type: ObservedScan, tool: Option<Tool>, max_probes: u32) {
    for local in [target(), LocalAddrs::Infer] {
        let alerts = replay(name, local.clone());
        let first = alerts.first().unwrap_or_else(|| panic!("{name}: no alert ({local:?})"));
        assert_eq!(first.scan_type, scan_type, "{name}: {alerts:#?}");
        assert_eq!(first.src.to_string(), "198.18.0.1");
        assert_eq!(first.tool, tool, "{name}");
        assert!(first.probes <= max_probes, "{name}: detected after {} probes", first.probes);
        assert!(alerts.iter().all(|a| a.scan_type == scan_type), "{name}: {alerts:#?}");
        assert_eq!(alerts.iter().filter(|a| a.kind == AlertKind::Start).count(), 1, "{name}");
    }
}

#[test]
fn nmap_syn() {
    expect("nmap-sS.pcap", ObservedScan::Ports(ScanType::Syn), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_connect() {
    expect("nmap-sT.pcap", ObservedScan::Ports(ScanType::Connect), None, 10);
}

#[test]
fn nmap_fin() {
    expect("nmap-sF.pcap", ObservedScan::Ports(ScanType::Fin), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_null() {
    expect("nmap-sN.pcap", ObservedScan::Ports(ScanType::Null), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_xmas() {
    expect("nmap-sX.pcap", ObservedScan::Ports(ScanType::Xmas), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_ack() {
    expect("nmap-sA.pcap", ObservedScan::Ports(ScanType::Ack), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_window_looks_like_ack() {
    expect("nmap-sW.pcap", ObservedScan::Ports(ScanType::Ack), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_maimon() {
    expect("nmap-sM.pcap", ObservedScan::Ports(ScanType::Maimon), Some(Tool::Nmap), 10);
}

#[test]
fn nmap_udp() {
    expect("nmap-sU.pcap", ObservedScan::Ports(ScanType::Udp), None, 10);
}

#[test]
fn masscan_syn() {
    expect("masscan.pcap", ObservedScan::Ports(ScanType::Syn), Some(Tool::Masscan), 10);
}

#[test]
fn zmap_host_sweep() {
    let subnet = LocalAddrs::Nets(vec!["198.18.0.0/24".parse().unwrap()]);
    for local in [subnet, LocalAddrs::Infer] {
        let alerts = replay("zmap.pcap", local);
        let first = alerts.first().expect("zmap: no alert");
        assert_eq!(first.scan_type, ObservedScan::HostSweep, "{alerts:#?}");
        assert_eq!(first.tool, Some(Tool::Zmap));
        assert_eq!(first.ports, vec![80]);
        // Absent addresses never answer, so a failure is known only after the answer timeout
        // (3 s): zmap sent all 32 probes in 0.15 s, before the first could count.
        assert_eq!(first.probes, 32);
        assert!(first.dst_count >= 31);
        assert!(alerts.iter().all(|a| a.scan_type == ObservedScan::HostSweep), "{alerts:#?}");
    }
    // Watching only the one real host, zmap's single probe to it is no scan.
    assert!(replay("zmap.pcap", target()).is_empty());
}

#[test]
fn benign_capture_is_silent() {
    for local in [target(), LocalAddrs::Infer] {
        assert!(replay("benign.pcap", local).is_empty());
    }
}

#[test]
fn truncated_capture_reports_the_packet_and_keeps_earlier_alerts() {
    let bytes = std::fs::read(capture("nmap-sS.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("tjm-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 5]).unwrap();
    let mut detector = Detector::new(DetectorConfig::default());
    let replay = replay_file(&cut, &mut detector);
    let Some(PcapError::Packet { index, .. }) = &replay.error else { panic!("{:?}", replay.error) };
    assert_eq!(*index, replay.stats.packets);
    assert!(replay.error.as_ref().unwrap().to_string().contains("cut.pcap: packet"));
    assert_eq!(replay.alerts.first().map(|a| a.scan_type), Some(ObservedScan::Ports(ScanType::Syn)));

    let junk = dir.join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    let replay = replay_file(&junk, &mut Detector::new(DetectorConfig::default()));
    assert!(matches!(replay.error, Some(PcapError::Header { .. })), "{:?}", replay.error);
    let missing = replay_file(&dir.join("missing.pcap"), &mut Detector::new(DetectorConfig::default()));
    assert!(matches!(missing.error, Some(PcapError::Open { .. })));

    // Corrupt bytes anywhere after the header: an error or alerts, never a panic.
    let mut seed = 99u64;
    for round in 0..300 {
        let mut bad = bytes.clone();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = 24 + (seed as usize) % (bad.len() - 24);
            bad[at] = (seed >> 32) as u8;
        }
        let path = dir.join(format!("bad{round}.pcap"));
        std::fs::write(&path, &bad).unwrap();
        let _ = replay_file(&path, &mut Detector::new(DetectorConfig::default()));
        std::fs::remove_file(&path).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The nmap -sS fixture re-encoded as pcapng and as Linux cooked (SLL) pcap gives the same
/// first alert as the Ethernet pcap.
#[test]
fn pcapng_and_linux_cooked_replays() {
    use std::borrow::Cow;
    use std::time::Duration;

    use pcap_file::DataLink;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};

    let mut reader = PcapReader::new(std::fs::File::open(capture("nmap-sS.pcap")).unwrap()).unwrap();
    let mut frames: Vec<(Duration, Vec<u8>)> = Vec::new();
    while let Some(raw) = reader.next_raw_packet() {
        let raw = raw.unwrap();
        let ts = Duration::new(u64::from(raw.ts_sec), raw.ts_frac * 1000);
        frames.push((ts, raw.data.into_owned()));
    }

    let mut ng = PcapNgWriter::new(Vec::new()).unwrap();
    // pcap-file writes enhanced packet times in nanoseconds, so the interface must say so (if_tsresol 9);
    // without the option a reader takes them as microseconds, as the pcapng specification says.
    let mut idb = InterfaceDescriptionBlock::new(DataLink::ETHERNET, 128);
    idb.options.push(InterfaceDescriptionOption::IfTsResol(9));
    ng.write_pcapng_block(idb).unwrap();
    for (ts, data) in &frames {
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: *ts,
            original_len: data.len() as u32,
            data: Cow::Borrowed(data),
            options: vec![],
        };
        ng.write_pcapng_block(epb).unwrap();
    }
    let ng_bytes = ng.into_inner();

    let header = PcapHeader { datalink: DataLink::LINUX_SLL, snaplen: 65535, ..Default::default() };
    let mut sll = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (ts, data) in &frames {
        let mut cooked = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        cooked.extend_from_slice(&data[14..]);
        sll.write_packet(&PcapPacket::new(*ts, cooked.len() as u32, &cooked)).unwrap();
    }
    let sll_bytes = sll.into_writer();

    let dir = std::env::temp_dir().join(format!("tjm-detect-ng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in [("s.pcapng", ng_bytes), ("s-sll.pcap", sll_bytes)] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let replay = replay_file(&path, &mut Detector::new(DetectorConfig::default()));
        assert!(replay.error.is_none(), "{name}: {:?}", replay.error);
        assert_eq!(replay.stats.packets, frames.len() as u64, "{name}");
        let first = replay.alerts.first().unwrap_or_else(|| panic!("{name}: no alert"));
        assert_eq!(
            (first.scan_type, first.tool, first.probes),
            (ObservedScan::Ports(ScanType::Syn), Some(Tool::Nmap), 5),
            "{name}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
