//! Fixture tests for [`super::summarize`]: hand-built frames, truncation, and a seeded fuzz
//! run over mutated frames of every link type.

use super::*;
use std::net::Ipv6Addr;

const SRC4: [u8; 4] = [198, 18, 0, 1];
const DST4: [u8; 4] = [198, 18, 0, 2];

fn ipv4(protocol: u8, l4: &[u8], id: u16) -> Vec<u8> {
    let total = u16::try_from(20 + l4.len()).unwrap();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&[0x40, 0, 64, protocol, 0, 0]);
    ip.extend_from_slice(&SRC4);
    ip.extend_from_slice(&DST4);
    ip.extend_from_slice(l4);
    ip
}

fn ipv6(next: u8, l4: &[u8]) -> Vec<u8> {
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(l4.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[next, 55]);
    ip.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 1).octets());
    ip.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0x18, 0, 0, 0, 0, 2).octets());
    ip.extend_from_slice(l4);
    ip
}

fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    t.extend_from_slice(&0x0506_0708u32.to_be_bytes());
    t.push(u8::try_from((20 + options.len()) / 4).unwrap() << 4);
    t.push(flags);
    t.extend_from_slice(&1024u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(options);
    t.extend_from_slice(payload);
    t
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn ethernet(ip: &[u8], ethertype: u16) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(ip);
    // Ethernet minimum-frame padding must not count as payload.
    while f.len() < 60 {
        f.push(0);
    }
    f
}

/// A Linux-style SYN: MSS, SACK permitted, timestamps, NOP, window scale 7.
const LINUX_SYN_OPTIONS: [u8; 20] = [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7];

#[test]
fn tcp_syn_over_ethernet() {
    let frame = ethernet(&ipv4(6, &tcp(40000, 22, 0x02, &LINUX_SYN_OPTIONS, &[]), 4242), 0x0800);
    let s = summarize(&frame, LinkType::Ethernet, Timestamp::from_secs(5)).unwrap();
    assert_eq!(s.src, IpAddr::from(SRC4));
    assert_eq!(s.dst, IpAddr::from(DST4));
    assert_eq!(s.ttl, 64);
    assert_eq!(s.ip_id, Some(4242));
    assert_eq!(s.ts, Timestamp::from_secs(5));
    let Transport::Tcp(t) = s.transport else { panic!("not tcp: {s:?}") };
    assert_eq!((t.sport, t.dport, t.flags, t.window), (40000, 22, TcpFlags(0x02), 1024));
    assert_eq!((t.seq, t.ack, t.payload_len), (0x0102_0304, 0x0506_0708, 0));
    assert_eq!(t.options.kinds(), &[2, 4, 8, 1, 3]);
    assert_eq!(t.options.mss, Some(1460));
    assert_eq!(t.options.wscale, Some(7));
    assert!(t.options.has(TcpOptions::TIMESTAMPS));
}

#[test]
fn vlan_tagged_udp_payload_length() {
    let ip = ipv4(17, &udp(5353, 53, b"hello"), 1);
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
    frame.extend_from_slice(&ip);
    let s = summarize(&frame, LinkType::Ethernet, Timestamp::EPOCH).unwrap();
    assert_eq!(s.transport, Transport::Udp { sport: 5353, dport: 53, payload_len: 5 });
}

#[test]
fn snaplen_cut_keeps_true_payload_length() {
    let payload = [0x41u8; 500];
    let frame = ethernet(&ipv4(6, &tcp(1, 80, 0x18, &[], &payload), 7), 0x0800);
    let cut = &frame[..128];
    let s = summarize(cut, LinkType::Ethernet, Timestamp::EPOCH).unwrap();
    let Transport::Tcp(t) = s.transport else { panic!("not tcp") };
    assert_eq!(t.payload_len, 500);
}

#[test]
fn ipv6_over_sll_and_raw() {
    let ip = ipv6(6, &tcp(1234, 443, 0x29, &[], &[]));
    let mut sll = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xdd];
    sll.extend_from_slice(&ip);
    for (frame, link) in [(&sll[..], LinkType::LinuxSll), (&ip[..], LinkType::RawIp)] {
        let s = summarize(frame, link, Timestamp::EPOCH).unwrap();
        assert_eq!(s.ttl, 55);
        assert_eq!(s.ip_id, None);
        let Transport::Tcp(t) = s.transport else { panic!("not tcp") };
        assert_eq!((t.dport, t.flags.classic()), (443, 0x29));
    }
    let mut lo = vec![2, 0, 0, 0];
    lo.extend_from_slice(&ipv4(17, &udp(1, 2, &[]), 0));
    assert!(matches!(summarize(&lo, LinkType::Loopback, Timestamp::EPOCH).unwrap().transport, Transport::Udp { .. }));
}

#[test]
fn icmp_port_unreachable_quotes_the_probe() {
    let original = ipv4(17, &udp(33000, 161, b"x"), 9);
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&original[..28]);
    let frame = ipv4(1, &icmp, 0);
    let s = summarize(&frame, LinkType::RawIp, Timestamp::EPOCH).unwrap();
    let Transport::IcmpUnreachable { reason, code, quoted: Some(q) } = s.transport else { panic!("{s:?}") };
    assert_eq!((reason, code), (UnreachableReason::Port, 3));
    assert_eq!((q.src, q.dst, q.protocol, q.sport, q.dport), (IpAddr::from(SRC4), IpAddr::from(DST4), 17, 33000, 161));
}

#[test]
fn icmp_queries() {
    let frame = ipv4(1, &[13, 0, 0, 0, 0, 7, 0, 9, 0, 0, 0, 0], 0);
    let s = summarize(&frame, LinkType::RawIp, Timestamp::EPOCH).unwrap();
    assert_eq!(s.transport, Transport::IcmpRequest { query: IcmpQuery::Timestamp, id: 7, seq: 9 });
    let frame = ipv6(58, &[129, 0, 0, 0, 0, 1, 0, 2]);
    let s = summarize(&frame, LinkType::RawIp, Timestamp::EPOCH).unwrap();
    assert_eq!(s.transport, Transport::IcmpReply { query: IcmpQuery::Echo, id: 1, seq: 2 });
}

#[test]
fn fragments_and_unknown_protocols_are_other() {
    let mut frag = ipv4(6, &tcp(1, 2, 2, &[], &[]), 0);
    frag[6] = 0x00;
    frag[7] = 0x10;
    assert_eq!(
        summarize(&frag, LinkType::RawIp, Timestamp::EPOCH).unwrap().transport,
        Transport::Other { protocol: 6 }
    );
    let gre = ipv4(47, &[0; 8], 0);
    assert_eq!(
        summarize(&gre, LinkType::RawIp, Timestamp::EPOCH).unwrap().transport,
        Transport::Other { protocol: 47 }
    );
}

#[test]
fn truncations_never_panic_and_short_ip_is_none() {
    let frame = ethernet(&ipv4(6, &tcp(1, 2, 2, &LINUX_SYN_OPTIONS, &[]), 0), 0x0800);
    for cut in 0..frame.len() {
        let s = summarize(&frame[..cut], LinkType::Ethernet, Timestamp::EPOCH);
        if cut < 14 + 20 {
            assert!(s.is_none(), "cut {cut}");
        }
    }
    assert!(summarize(&[0x08, 0x00], LinkType::Ethernet, Timestamp::EPOCH).is_none());
    let arp = ethernet(&[0; 28], 0x0806);
    assert!(summarize(&arp, LinkType::Ethernet, Timestamp::EPOCH).is_none());
}

/// xorshift64*: a tiny seeded generator so the fuzz run is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn fuzz_mutated_frames_never_panic() {
    let mut unreachable = vec![3, 3, 0, 0, 0, 0, 0, 0];
    unreachable.extend_from_slice(&ipv4(6, &tcp(9, 10, 2, &[], &[]), 0)[..28]);
    let seeds: Vec<Vec<u8>> = vec![
        ethernet(&ipv4(6, &tcp(40000, 22, 0x02, &LINUX_SYN_OPTIONS, &[]), 1), 0x0800),
        ethernet(&ipv6(6, &tcp(1, 2, 0x12, &[2, 4, 5, 0xb4], b"abc")), 0x86dd),
        ethernet(&ipv4(17, &udp(53, 5353, b"dns"), 2), 0x0800),
        ethernet(&ipv4(1, &unreachable, 3), 0x0800),
        ethernet(&ipv6(0, &[58, 0, 1, 4, 0, 0, 0, 0, 128, 0, 0, 0, 0, 1, 0, 1]), 0x86dd),
        ethernet(&ipv6(44, &[6, 0, 0, 1, 0, 0, 0, 0]), 0x86dd),
    ];
    let links = [LinkType::Ethernet, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::Loopback];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut parsed = 0usize;
    for i in 0..200_000 {
        let mut frame = seeds[i % seeds.len()].clone();
        for _ in 0..=rng.below(6) {
            let at = rng.below(frame.len());
            frame[at] = rng.next() as u8;
        }
        if rng.below(3) == 0 {
            frame.truncate(rng.below(frame.len() + 1));
        }
        if rng.below(50) == 0 {
            frame = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        }
        let link = if rng.below(4) == 0 { links[rng.below(links.len())] } else { LinkType::Ethernet };
        let offset = if link == LinkType::Ethernet { 0 } else { rng.below(16).min(frame.len()) };
        if summarize(&frame[offset..], link, Timestamp::from_micros(i as u64)).is_some() {
            parsed += 1;
        }
    }
    // Most mutations keep a parsable frame: the test exercises the deep paths, not just early exits.
    assert!(parsed > 50_000, "only {parsed} frames parsed");
}
