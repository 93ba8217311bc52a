//! Property tests of the reply classifier ([`parse_frame`], [`parse_ip`]) on stable Rust: random bytes and
//! byte-mutated real frames from tojimari-wire's corpus never panic, and a reply that is accepted round-trips
//! through the probe builders (a TCP, UDP or ARP reply rebuilt from its fields parses to the same reply).
//! The corpus frames themselves are classified as tcpdump read them.

use super::*;
use crate::{L2, MAX_FRAME, TcpProbe, UdpProbe, build_arp_request, build_tcp, build_udp};
use proptest::prelude::*;

#[path = "../../../tojimari-wire/tests/wire/support.rs"]
mod support;

use support::{Link, corpus};

/// Rebuilds an accepted TCP, UDP or ARP request reply with the builders and checks it parses back the same.
fn rebuilds(reply: &Reply) {
    let mut buf = [0u8; MAX_FRAME];
    let l2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };
    let n = match *reply {
        Reply::Tcp { src, dst, sport, dport, seq, ack, flags, window, ttl } => {
            let p = TcpProbe { src, dst, sport, dport, seq, ack, flags, window, ttl, ip_id: 7 };
            build_tcp(&mut buf, &l2, &p)
        }
        Reply::Udp { src, dst, sport, dport, ttl } => {
            build_udp(&mut buf, &l2, &UdpProbe { src, dst, sport, dport, ttl, ip_id: 7, payload: b"x" })
        }
        Reply::Arp { sender_ip, sender_mac, target_ip, is_reply: false } => {
            build_arp_request(&mut buf, sender_mac, sender_ip, target_ip)
        }
        _ => return,
    };
    assert!(n > 0, "the builders take every accepted {reply:?}");
    assert_eq!(parse_frame(&buf[..n]).as_ref(), Some(reply));
}

fn classify_any(frame: &[u8]) {
    if let Some(reply) = parse_frame(frame) {
        rebuilds(&reply);
    }
    for skip in [14, 18, 22] {
        if let Some(reply) = parse_ip(frame.get(skip..).unwrap_or(&[])) {
            rebuilds(&reply);
        }
    }
}

/// An Ethernet corpus frame with up to 8 bytes overwritten and possibly cut short.
fn mutated_frame() -> impl Strategy<Value = Vec<u8>> {
    let frames: Vec<Vec<u8>> = corpus().into_iter().filter(|e| e.link == Link::Ethernet).map(|e| e.bytes).collect();
    let n = frames.len();
    (
        0..n,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<Option<prop::sample::Index>>(),
    )
        .prop_map(move |(i, edits, cut)| {
            let mut bytes = frames[i].clone();
            for (at, value) in edits {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..160), steer in 0..4usize) {
        // Steer most inputs past the EtherType and version checks.
        if bytes.len() > 15 && steer < 3 {
            let (ethertype, first) = [([0x08, 0x00], 0x45), ([0x86, 0xdd], 0x60), ([0x08, 0x06], 0x00)][steer];
            bytes[12..14].copy_from_slice(&ethertype);
            bytes[14] = first;
        }
        classify_any(&bytes);
    }

    #[test]
    fn mutated_real_frames_never_panic_and_rebuild(bytes in mutated_frame()) {
        classify_any(&bytes);
    }
}

#[test]
fn corpus_frames_classify_as_tcpdump_reads_them() {
    let mut replies = 0;
    for entry in corpus().into_iter().filter(|e| e.link == Link::Ethernet) {
        let says =
            |what: String| assert!(entry.tcpdump.contains(&what), "tcpdump: {:?}, parser: {what:?}", entry.tcpdump);
        let ep = |a: IpAddr, p: u16| format!("{a}.{p}");
        match parse_frame(&entry.bytes) {
            Some(Reply::Tcp { src, dst, sport, dport, window, .. }) => {
                says(format!("{} > {}: Flags", ep(src, sport), ep(dst, dport)));
                says(format!("win {window}"));
            }
            Some(Reply::Udp { src, dst, sport, dport, .. }) => {
                says(format!("{} > {}: UDP", ep(src, sport), ep(dst, dport)))
            }
            Some(Reply::IcmpError { from, to, quoted, .. }) => {
                says(format!("{from} > {to}"));
                says(format!("{} udp port {}", quoted.dst, quoted.dport));
            }
            Some(Reply::EchoReply { id, seq, .. }) => says(format!("echo reply, id {id}, seq {seq}")),
            Some(Reply::Arp { sender_ip, target_ip, is_reply, .. }) => says(if is_reply {
                format!("Reply {sender_ip} is-at")
            } else {
                format!("Request who-has {target_ip} tell {sender_ip}")
            }),
            Some(Reply::NeighborAdvert { target, .. }) => says(format!("neighbor advertisement, tgt is {target}")),
            Some(other) => panic!("unexpected {other:?} for {}", entry.tcpdump),
            None => {
                // Requests and other traffic are not replies.
                let request = ["echo request", "neighbor solicitation", "multicast listener"];
                assert!(request.iter().any(|r| entry.tcpdump.contains(r)), "no reply from {}", entry.tcpdump);
                continue;
            }
        }
        replies += 1;
    }
    assert!(replies >= 25, "only {replies} corpus frames classified");
}

/// A micro benchmark of the reply path over the real frames: `cargo test --release -p tojimari-packet
/// bench_parse_frame_corpus -- --ignored --nocapture` prints ns per frame (parse_frame called through a
/// pointer, as the engine calls it across crates).
#[test]
#[ignore]
fn bench_parse_frame_corpus() {
    let frames: Vec<Vec<u8>> = corpus().into_iter().filter(|e| e.link == Link::Ethernet).map(|e| e.bytes).collect();
    let parse: fn(&[u8]) -> Option<Reply> = std::hint::black_box(parse_frame);
    let rounds = 100_000;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let mut parsed = 0usize;
        for _ in 0..rounds {
            for f in &frames {
                parsed += usize::from(std::hint::black_box(parse(std::hint::black_box(f))).is_some());
            }
        }
        assert!(parsed > 0);
        best = best.min(start.elapsed().as_nanos() as f64 / (rounds * frames.len()) as f64);
    }
    println!("note: parse_frame {best:.1} ns/frame (best of 5) over {} real frames", frames.len());
}
