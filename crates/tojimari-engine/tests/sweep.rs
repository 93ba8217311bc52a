//! The raw engine's sweep contract against a real target in the test bed: a run cut short leaves a group
//! state ([`Control::snapshot`]) from which a second run finishes the group without sending again what was
//! answered, and the two runs' results together are exactly the ground truth; a selection sends only its
//! probes. The engine runs in this process, on a thread inside the scanner namespace.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tojimari_core::portspec::PortSet;
use tojimari_core::report::{HostReport, RunInfo, RunSummary};
use tojimari_core::sweep::{Selection, Shard};
use tojimari_core::timing::Timing;
use tojimari_core::{PortState, ScanType, Sink};
use tojimari_engine::raw::{RawDiscovery, RawScan};
use tojimari_engine::{Control, GroupState, PortOrder, ScanTarget, Sweep, Tracer};
use tojimari_net::SendPreference;
use tojimari_testbed::testbed_or_skip;

#[derive(Default)]
struct Collect {
    ports: BTreeMap<(IpAddr, u16), PortState>,
    hosts: Vec<IpAddr>,
    groups_done: Vec<u64>,
}

impl Sink for Collect {
    fn run_start(&mut self, _: &RunInfo) -> io::Result<()> {
        Ok(())
    }
    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.hosts.push(host.addr);
        for p in &host.ports {
            self.ports.insert((host.addr, p.port), p.state);
        }
        Ok(())
    }
    fn group_done(&mut self, group: u64) -> io::Result<()> {
        self.groups_done.push(group);
        Ok(())
    }
    fn run_end(&mut self, _: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

const PORTS: u16 = 1000;
const OPEN: [u16; 3] = [22, 80, 443];

fn raw(rate: f64, sweep: Sweep) -> RawScan {
    let timing = Timing { max_rate: Some(rate), max_retries: 3, ..Timing::default() };
    RawScan {
        scans: vec![(ScanType::Syn, PortSet::from_ports(1..=PORTS))],
        timing,
        order: PortOrder::Random { seed: 5 },
        discovery: RawDiscovery::Skip,
        reverse_dns: false,
        interface: None,
        icmp_limits: Default::default(),
        trace: Tracer::off(),
        send: SendPreference::Auto,
        os: None,
        sweep,
        evasion: Default::default(),
        traceroute: false,
    }
}

fn targets() -> Vec<ScanTarget> {
    (0..32u8).map(|i| ScanTarget { addr: IpAddr::from([198, 19, 0, i]), hostnames: Vec::new() }).collect()
}

/// Runs `scan` in the scanner namespace; `cut` cancels it after that long. Returns what it reported, the
/// snapshot left afterwards and the probes it sent.
fn run(bed: &tojimari_testbed::TestBed, scan: RawScan, cut: Option<Duration>) -> (Collect, Option<GroupState>, u64) {
    let control = Arc::new(Control::new());
    if let Some(after) = cut {
        let c = control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            c.cancel();
        });
    }
    let c = control.clone();
    let sink = bed
        .scanner()
        .run_in(move || {
            let mut sink = Collect::default();
            scan.run(&mut targets().into_iter(), &mut sink, &c).expect("the scan runs");
            sink
        })
        .unwrap();
    let sent = control.progress.sent.load(Ordering::Relaxed);
    (sink, control.snapshot(), sent)
}

#[test]
fn a_cut_group_resumes_from_its_snapshot_without_sending_the_answered_again() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let _l = bed.target(0).listen_tcp(&OPEN).unwrap();
    let total = 32 * u64::from(PORTS);

    // 32 000 probes at 8000/s: cut after about a second.
    let (first, snapshot, sent_first) = run(&bed, raw(8000.0, Sweep::default()), Some(Duration::from_millis(1200)));
    assert!(first.groups_done.is_empty(), "a cut group is not reported done");
    let state = snapshot.expect("a cut run leaves its group's state");
    let answered = state.answered();
    assert!(answered > 1000 && answered < total, "answered {answered} of {total} before the cut");
    assert!(sent_first < total, "the cut came before the first pass ended ({sent_first} sent)");
    let state = GroupState::from_bytes(&state.to_bytes()).unwrap();

    let (second, after, sent_second) = run(&bed, raw(50_000.0, Sweep { prior: Some(state), ..Sweep::default() }), None);
    eprintln!("cut after {sent_first} sent, {answered} answered; the resumed run sent {sent_second} of {total}");
    assert_eq!(second.groups_done, [0]);
    assert!(after.is_none(), "a finished group leaves no state");
    assert!(
        sent_second <= total - answered + total / 20,
        "the resumed run sent {sent_second}: it should not send the {answered} answered probes again"
    );
    assert_eq!(second.ports.len() as u64, total, "every probe reported by the resumed run");
    for ((addr, port), state) in &second.ports {
        let want = if OPEN.contains(port) { PortState::Open } else { PortState::Closed };
        assert_eq!(*state, want, "{addr}:{port}");
    }
}

#[test]
fn a_selection_sends_only_its_probes() {
    let bed = testbed_or_skip!(1);
    bed.add_anyip_v4(0, "198.19.0.0/16").unwrap();
    let _l = bed.target(0).listen_tcp(&OPEN).unwrap();
    let total = 32 * u64::from(PORTS);
    let mut union = BTreeMap::new();
    for range in [0..10_000u64, 10_000..25_000, 25_000..u64::MAX] {
        let selection = Selection { shard: Shard::WHOLE, range: range.clone() };
        let expected = range.end.min(total) - range.start;
        let (got, _, sent) = run(&bed, raw(50_000.0, Sweep { selection, ..Sweep::default() }), None);
        assert_eq!(got.ports.len() as u64, expected, "chunk {range:?}");
        assert!(sent >= expected && sent <= expected + expected / 10, "chunk {range:?} sent {sent}");
        for (k, v) in got.ports {
            assert!(union.insert(k, v).is_none(), "{k:?} in two chunks");
        }
    }
    assert_eq!(union.len() as u64, total);
    assert_eq!(union.values().filter(|s| **s == PortState::Open).count(), 32 * OPEN.len());
}
