//! Property tests of [`super::summarize`] on stable Rust: random bytes under every link type and
//! byte-mutated real frames from tojimari-wire's corpus never panic; a TCP summary rebuilt into a
//! frame (through tojimari-wire's representations) summarises back to the same facts; the corpus
//! frames summarise as tcpdump read them.

use super::*;
use proptest::prelude::*;
use tojimari_wire::{EthernetRepr, Ipv4Repr, Ipv6Repr, TcpRepr};

#[path = "../../tojimari-wire/tests/wire/support.rs"]
mod support;

use support::{Link, corpus};

const LINKS: [LinkType; 5] =
    [LinkType::Ethernet, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::Loopback];

fn link_type(link: Link) -> LinkType {
    match link {
        Link::Ethernet => LinkType::Ethernet,
        Link::Sll => LinkType::LinuxSll,
        Link::Sll2 => LinkType::LinuxSll2,
    }
}

/// An Ethernet frame carrying `s`'s TCP facts (no payload), built with tojimari-wire's representations.
fn rebuild_tcp(s: &PacketSummary, t: &TcpSummary) -> Vec<u8> {
    let tcp = TcpRepr {
        src_port: t.sport,
        dst_port: t.dport,
        seq_number: t.seq,
        ack_number: t.ack,
        flags: t.flags.0,
        window_len: t.window,
        max_seg_size: t.options.mss,
        window_scale: t.options.wscale,
        ..TcpRepr::default()
    };
    let ip_len = if s.src.is_ipv4() { 20 } else { 40 };
    let mut frame = vec![0u8; 14 + ip_len + tcp.buffer_len()];
    let ethertype = match (s.src, s.dst) {
        (IpAddr::V4(src_addr), IpAddr::V4(dst_addr)) => {
            let ip = Ipv4Repr {
                src_addr,
                dst_addr,
                protocol: 6,
                payload_len: tcp.buffer_len(),
                ttl: s.ttl,
                ident: s.ip_id.unwrap_or(0),
                dscp_ecn: 0,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
            };
            ip.emit(&mut Ipv4Packet::new_unchecked(&mut frame[14..34])).unwrap();
            EtherType::IPV4
        }
        (IpAddr::V6(src_addr), IpAddr::V6(dst_addr)) => {
            let ip = Ipv6Repr {
                src_addr,
                dst_addr,
                next_header: 6,
                payload_len: tcp.buffer_len(),
                hop_limit: s.ttl,
                traffic_class: 0,
                flow_label: 0,
            };
            ip.emit(&mut Ipv6Packet::new_unchecked(&mut frame[14..54])).unwrap();
            EtherType::IPV6
        }
        _ => unreachable!("one IP header gives one family"),
    };
    tcp.emit(&mut TcpPacket::new_unchecked(&mut frame[14 + ip_len..]));
    EthernetRepr { src_addr: [2, 0, 0, 0, 0, 1], dst_addr: [2, 0, 0, 0, 0, 2], ethertype }
        .emit(&mut EthernetFrame::new_unchecked(&mut frame[..14]));
    frame
}

fn summarize_any(frame: &[u8], link: LinkType) {
    let Some(s) = summarize(frame, link, Timestamp::EPOCH) else { return };
    assert_eq!(s.src.is_ipv4(), s.dst.is_ipv4());
    assert_eq!(s.ip_id.is_some(), s.src.is_ipv4());
    if let Transport::Tcp(t) = s.transport {
        assert!(t.options.kinds().len() <= TcpOptions::MAX_KINDS);
        let again = summarize(&rebuild_tcp(&s, &t), LinkType::Ethernet, Timestamp::EPOCH).unwrap();
        let Transport::Tcp(u) = again.transport else { panic!("rebuilt {s:?} as {again:?}") };
        assert_eq!((again.src, again.dst, again.ttl, again.ip_id), (s.src, s.dst, s.ttl, s.ip_id));
        assert_eq!(
            (u.sport, u.dport, u.flags, u.window, u.seq, u.ack),
            (t.sport, t.dport, t.flags, t.window, t.seq, t.ack)
        );
        assert_eq!((u.options.mss, u.options.wscale, u.payload_len), (t.options.mss, t.options.wscale, 0));
    }
}

/// A corpus frame with up to 8 bytes overwritten and possibly cut short.
fn mutated_frame() -> impl Strategy<Value = (LinkType, Vec<u8>)> {
    let frames: Vec<(LinkType, Vec<u8>)> = corpus().into_iter().map(|e| (link_type(e.link), e.bytes)).collect();
    let n = frames.len();
    (
        0..n,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<Option<prop::sample::Index>>(),
    )
        .prop_map(move |(i, edits, cut)| {
            let (link, mut bytes) = frames[i].clone();
            for (at, value) in edits {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            (link, bytes)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..160)) {
        for link in LINKS {
            summarize_any(&bytes, link);
        }
    }

    #[test]
    fn mutated_real_frames_never_panic_and_rebuild((link, bytes) in mutated_frame()) {
        summarize_any(&bytes, link);
        summarize_any(&bytes, LinkType::RawIp);
    }
}

#[test]
fn corpus_frames_summarise_as_tcpdump_reads_them() {
    let mut ip = 0;
    for entry in corpus() {
        let says =
            |what: String| assert!(entry.tcpdump.contains(&what), "tcpdump: {:?}, summary: {what:?}", entry.tcpdump);
        let Some(s) = summarize(&entry.bytes, link_type(entry.link), Timestamp::EPOCH) else {
            assert!(entry.tcpdump.contains("ARP"), "not summarised: {}", entry.tcpdump);
            continue;
        };
        ip += 1;
        let ep = |a: IpAddr, p: u16| format!("{a}.{p}");
        match s.transport {
            Transport::Tcp(t) => {
                says(format!("{} > {}: Flags", ep(s.src, t.sport), ep(s.dst, t.dport)));
                says(format!("win {}", t.window));
                if let Some(mss) = t.options.mss {
                    says(format!("mss {mss}"));
                }
                if let Some(shift) = t.options.wscale {
                    says(format!("wscale {shift}"));
                }
            }
            Transport::Udp { sport, dport, payload_len } => {
                says(format!("{} > {}: UDP, length {payload_len}", ep(s.src, sport), ep(s.dst, dport)));
            }
            Transport::IcmpRequest { query: IcmpQuery::Echo, id, seq } => {
                says(format!("echo request, id {id}, seq {seq}"))
            }
            Transport::IcmpReply { query: IcmpQuery::Echo, id, seq } => says(format!("echo reply, id {id}, seq {seq}")),
            Transport::IcmpUnreachable { reason: UnreachableReason::Port, quoted: Some(q), .. } => {
                says(format!("{} udp port {}", q.dst, q.dport));
            }
            // Neighbor discovery and multicast listener reports are ICMPv6 the detector does not sort.
            Transport::Other { protocol: 58 } => {
                let ndp = ["neighbor", "multicast listener"];
                assert!(ndp.iter().any(|n| entry.tcpdump.contains(n)), "{}", entry.tcpdump);
            }
            other => panic!("unexpected {other:?} for {}", entry.tcpdump),
        }
        says(format!(": {}", s.src));
    }
    assert!(ip >= 30, "only {ip} corpus frames summarised");
}
