//! Fixture tests for the parser: hand-assembled frames, ICMP errors quoting our probes, extension headers,
//! VLAN tags, and never-panic checks over every truncation and pseudo-random inputs.

use super::*;
use crate::build::{MAX_FRAME, check::assert_checksums};
use crate::tcp::{ACK, RST, SYN};
use crate::{L2, Quoted, TcpProbe, UdpProbe, build_arp_request, build_echo, build_neighbor_solicit, build_tcp};
use crate::{build_address_mask, build_timestamp, build_udp};
use std::net::Ipv6Addr;
use tojimari_wire::{Ipv4Packet, Ipv4Repr, Ipv6Packet, Ipv6Repr, checksum};

const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

fn a4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

fn a6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse().unwrap())
}

fn syn(src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let p = TcpProbe {
        src,
        dst,
        sport: 40000,
        dport: 22,
        seq: 0xcafe_f00d,
        ack: 0,
        flags: SYN,
        window: 1024,
        ttl: 64,
        ip_id: 5,
    };
    let mut buf = [0u8; MAX_FRAME];
    let n = build_tcp(&mut buf, &L, &p);
    buf[..n].to_vec()
}

fn udp(src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let p = UdpProbe { src, dst, sport: 40001, dport: 161, ttl: 64, ip_id: 6, payload: b"0123456789" };
    let mut buf = [0u8; MAX_FRAME];
    let n = build_udp(&mut buf, &L, &p);
    buf[..n].to_vec()
}

/// Wraps `quote` (an IP packet, possibly truncated) in an ICMP/ICMPv6 error from `from` to `to`, as a router
/// would send it, with correct checksums.
fn icmp_error(from: IpAddr, to: IpAddr, kind: u8, code: u8, quote: &[u8]) -> Vec<u8> {
    let mut msg = vec![kind, code, 0, 0, 0, 0, 0, 0];
    msg.extend_from_slice(quote);
    let v6 = from.is_ipv6();
    let extra = if v6 { checksum::pseudo_header(from, to, 58, msg.len() as u32) } else { 0 };
    let c = checksum::finish(extra + checksum::sum(&msg));
    msg[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![0u8; 14];
    match (from, to) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f[12..14].copy_from_slice(&[0x08, 0x00]);
            let mut h = [0u8; 20];
            let repr = Ipv4Repr {
                src_addr: s,
                dst_addr: d,
                protocol: 1,
                payload_len: msg.len(),
                ttl: 250,
                ident: 0,
                dscp_ecn: 0,
                dont_frag: false,
                more_frags: false,
                frag_offset: 0,
            };
            repr.emit(&mut Ipv4Packet::new_unchecked(&mut h[..])).unwrap();
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            f[12..14].copy_from_slice(&[0x86, 0xdd]);
            let mut h = [0u8; 40];
            let repr = Ipv6Repr {
                src_addr: s,
                dst_addr: d,
                next_header: 58,
                payload_len: msg.len(),
                hop_limit: 250,
                traffic_class: 0,
                flow_label: 0,
            };
            repr.emit(&mut Ipv6Packet::new_unchecked(&mut h[..])).unwrap();
            f.extend_from_slice(&h);
        }
        _ => unreachable!(),
    }
    f.extend_from_slice(&msg);
    f
}

#[test]
fn fixture_icmp_port_unreachable_v4() {
    // 10.0.0.2 tells 10.0.0.1 that UDP 40000 -> 53 was unreachable, quoting the whole 31-byte probe.
    #[rustfmt::skip]
    let frame: [u8; 76] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x66, 0xc0, 10, 0, 0, 2, 10, 0, 0, 1,
        0x03, 0x03, 0x11, 0x1c, 0, 0, 0, 0,
        0x45, 0x00, 0x00, 0x1f, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x66, 0xcb, 10, 0, 0, 1, 10, 0, 0, 2,
        0x9c, 0x40, 0x00, 0x35, 0x00, 0x0b, 0x8a, 0xfd, b'a', b'b', b'c',
        0, 0, 0, // Ethernet padding
    ];
    assert_checksums(&frame[..73]);
    let quoted = Quoted { src: a4("10.0.0.1"), dst: a4("10.0.0.2"), proto: 17, sport: 40000, dport: 53, seq: None };
    let want =
        Reply::IcmpError { from: a4("10.0.0.2"), to: a4("10.0.0.1"), ttl: 64, v6: false, kind: 3, code: 3, quoted };
    assert_eq!(parse_frame(&frame), Some(want));
    assert_eq!(parse_ip(&frame[14..]), Some(want));
}

#[test]
fn fixture_tcp_rst_ack_v4() {
    // A RST|ACK from 10.0.0.2:80 to 10.0.0.1:40000 acknowledging 0x01020305 (checksums not checked on receive).
    #[rustfmt::skip]
    let frame: [u8; 60] = [
        2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 2, 10, 0, 0, 1,
        0x00, 0x50, 0x9c, 0x40, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x05, 0x50, 0x14, 0x00, 0x00, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0,
    ];
    let want = Reply::Tcp {
        src: a4("10.0.0.2"),
        dst: a4("10.0.0.1"),
        sport: 80,
        dport: 40000,
        seq: 0,
        ack: 0x0102_0305,
        flags: RST | ACK,
        window: 0,
        ttl: 64,
    };
    assert_eq!(parse_frame(&frame), Some(want));
}

#[test]
fn icmp_errors_quote_tcp_probes_v4_and_v6() {
    for (us, them, router) in [
        (a4("192.0.2.1"), a4("198.51.100.7"), a4("203.0.113.1")),
        (a6("2001:db8::1"), a6("2001:db8:1::7"), a6("2001:db8:ffff::1")),
    ] {
        let probe = syn(us, them);
        let ip = &probe[14..];
        let hdr = if us.is_ipv4() { 20 } else { 40 };
        let (kind, code) = if us.is_ipv4() { (3, 13) } else { (1, 1) };
        let want_quoted = Quoted { src: us, dst: them, proto: 6, sport: 40000, dport: 22, seq: Some(0xcafe_f00d) };
        // Whole probe quoted (Linux, RFC 1812), and only the 8 bytes RFC 792 promises.
        for quote_len in [ip.len(), hdr + 8] {
            let f = icmp_error(router, us, kind, code, &ip[..quote_len]);
            assert_checksums(&f);
            let want =
                Reply::IcmpError { from: router, to: us, ttl: 250, v6: us.is_ipv6(), kind, code, quoted: want_quoted };
            assert_eq!(parse_frame(&f), Some(want), "quote of {quote_len}");
        }
        // Four bytes: ports but no sequence number.
        let f = icmp_error(router, us, kind, code, &ip[..hdr + 4]);
        let Some(Reply::IcmpError { quoted, .. }) = parse_frame(&f) else { panic!("short quote") };
        assert_eq!(quoted, Quoted { seq: None, ..want_quoted });
        // Fewer than four: useless.
        assert_eq!(parse_frame(&icmp_error(router, us, kind, code, &ip[..hdr + 3])), None);
        // Time exceeded (v4 11, v6 3) from a router on the path.
        let te = if us.is_ipv4() { 11 } else { 3 };
        let f = icmp_error(router, us, te, 0, ip);
        assert!(
            matches!(parse_frame(&f), Some(Reply::IcmpError { kind, quoted, .. }) if kind == te && quoted == want_quoted)
        );
        // Parameter problem (v4 12, v6 4).
        let pp = if us.is_ipv4() { 12 } else { 4 };
        assert!(matches!(parse_frame(&icmp_error(router, us, pp, 0, ip)), Some(Reply::IcmpError { .. })));
        // Other types (redirect / packet too big) are not errors we act on.
        let other = if us.is_ipv4() { 5 } else { 2 };
        assert_eq!(parse_frame(&icmp_error(router, us, other, 0, ip)), None);
    }
}

#[test]
fn icmp_errors_quote_udp_probes_v4_and_v6() {
    for (us, them) in [(a4("192.0.2.1"), a4("198.51.100.7")), (a6("2001:db8::1"), a6("2001:db8:1::7"))] {
        let probe = udp(us, them);
        let (kind, code) = if us.is_ipv4() { (3, 3) } else { (1, 4) };
        let f = icmp_error(them, us, kind, code, &probe[14..]);
        let quoted = Quoted { src: us, dst: them, proto: 17, sport: 40001, dport: 161, seq: None };
        let want = Reply::IcmpError { from: them, to: us, ttl: 250, v6: us.is_ipv6(), kind, code, quoted };
        assert_eq!(parse_frame(&f), Some(want));
    }
}

#[test]
fn icmp_error_quoting_an_echo_request_gives_id_and_seq() {
    let (us, them) = (a4("192.0.2.1"), a4("198.51.100.7"));
    let mut buf = [0u8; MAX_FRAME];
    let n = build_echo(&mut buf, &L, us, them, 0x1111, 0x2222, 1);
    let f = icmp_error(a4("192.0.2.254"), us, 11, 0, &buf[14..n]);
    let Some(Reply::IcmpError { quoted, .. }) = parse_frame(&f) else { panic!("no error parsed") };
    assert_eq!(quoted, Quoted { src: us, dst: them, proto: 1, sport: 0x1111, dport: 0x2222, seq: None });
}

#[test]
fn mismatched_families_inside_icmp_are_rejected() {
    let probe = syn(a6("2001:db8::1"), a6("2001:db8::2"));
    assert_eq!(parse_frame(&icmp_error(a4("10.0.0.1"), a4("10.0.0.2"), 3, 1, &probe[14..])), None);
    let probe = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    assert_eq!(parse_frame(&icmp_error(a6("::1"), a6("::2"), 1, 0, &probe[14..])), None);
}

#[test]
fn vlan_tags_are_skipped() {
    let plain = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    let want = parse_frame(&plain);
    assert!(want.is_some());
    let mut one = plain[..12].to_vec();
    one.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
    one.extend_from_slice(&plain[12..]);
    assert_eq!(parse_frame(&one), want);
    let mut two = plain[..12].to_vec();
    two.extend_from_slice(&[0x88, 0xa8, 0x00, 0x07, 0x81, 0x00, 0x00, 0x05]);
    two.extend_from_slice(&plain[12..]);
    assert_eq!(parse_frame(&two), want);
    let mut three = plain[..12].to_vec();
    three.extend_from_slice(&[0x88, 0xa8, 0, 7, 0x81, 0x00, 0, 5, 0x81, 0x00, 0, 9]);
    three.extend_from_slice(&plain[12..]);
    assert_eq!(parse_frame(&three), None, "more than two tags is not something we unwrap");
}

#[test]
fn unknown_ethertype_and_version_are_ignored() {
    let mut f = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    f[12..14].copy_from_slice(&[0x88, 0xcc]);
    assert_eq!(parse_frame(&f), None);
    let mut f = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    f[14] = 0x55;
    assert_eq!(parse_frame(&f), None);
    assert_eq!(parse_ip(&[]), None);
}

/// Inserts IPv6 extension headers (each given as next-header-less bytes) between the fixed header and TCP.
fn with_ext_headers(frame: &[u8], exts: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = frame[..54].to_vec();
    let upper = frame[14 + 6];
    let mut chain = Vec::new();
    for (i, (_, body)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(upper, |e| e.0);
        let mut h = vec![next];
        h.extend_from_slice(body);
        chain.extend_from_slice(&h);
    }
    out[14 + 6] = exts[0].0;
    let plen = u16::from_be_bytes([out[18], out[19]]) + chain.len() as u16;
    out[18..20].copy_from_slice(&plen.to_be_bytes());
    out.extend_from_slice(&chain);
    out.extend_from_slice(&frame[54..]);
    out
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let plain = syn(a6("2001:db8::1"), a6("2001:db8::2"));
    let want = parse_frame(&plain);
    assert!(want.is_some());
    let hop_by_hop = (0u8, vec![0, 1, 4, 0, 0, 0, 0]); // hdr ext len 0, PadN of 4
    let dest_opts = (60u8, vec![1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // len 1: 16 bytes
    let routing = (43u8, vec![0, 0, 0, 0, 0, 0, 0]);
    let first_frag = (44u8, vec![0, 0x00, 0x01, 0, 0, 0, 42]); // offset 0, M=1
    let exts = [hop_by_hop.clone(), dest_opts, routing, first_frag];
    assert_eq!(parse_frame(&with_ext_headers(&plain, &exts)), want);
    let later_frag = (44u8, vec![0, 0x00, 0x08, 0, 0, 0, 42]); // offset 1 (8 bytes)
    assert_eq!(parse_frame(&with_ext_headers(&plain, &[hop_by_hop, later_frag])), None);
}

#[test]
fn ipv4_options_fragments_and_padding() {
    let plain = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    let want = parse_frame(&plain);
    // IHL 6: one word of options (four NOPs).
    let mut opt = plain[..34].to_vec();
    opt[14] = 0x46;
    let total = u16::from_be_bytes([opt[16], opt[17]]) + 4;
    opt[16..18].copy_from_slice(&total.to_be_bytes());
    opt.extend_from_slice(&[1, 1, 1, 1]);
    opt.extend_from_slice(&plain[34..]);
    assert_eq!(parse_frame(&opt), want);
    // Padding after the total length is ignored; a later fragment is not parsed.
    let mut padded = plain.clone();
    padded.extend_from_slice(&[0xee; 20]);
    assert_eq!(parse_frame(&padded), want);
    let mut frag = plain.clone();
    frag[20..22].copy_from_slice(&[0x00, 0x03]);
    assert_eq!(parse_frame(&frag), None);
    // More-fragments on the first fragment still parses.
    let mut first = plain.clone();
    first[20..22].copy_from_slice(&[0x20, 0x00]);
    assert_eq!(parse_frame(&first), want);
    // Total length shorter than the header: malformed.
    let mut bad = plain;
    bad[16..18].copy_from_slice(&[0, 19]);
    assert_eq!(parse_frame(&bad), None);
}

#[test]
fn tcp_data_offset_is_checked() {
    let mut f = syn(a4("10.0.0.1"), a4("10.0.0.2"));
    f[34 + 12] = 0x40; // 16 bytes: too short
    assert_eq!(parse_frame(&f), None);
    f[34 + 12] = 0xf0; // 60 bytes: more than we have
    assert_eq!(parse_frame(&f), None);
}

#[test]
fn arp_other_hardware_is_ignored() {
    let mut buf = [0u8; MAX_FRAME];
    let n = build_arp_request(&mut buf, [2; 6], "10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    buf[15] = 6; // IEEE 802 hardware type
    assert_eq!(parse_frame(&buf[..n]), None);
    buf[15] = 1;
    buf[21] = 3; // RARP request opcode
    assert_eq!(parse_frame(&buf[..n]), None);
}

#[test]
fn neighbor_advert_needs_hop_limit_255() {
    let (src, target): (Ipv6Addr, Ipv6Addr) = ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap());
    let mut buf = [0u8; MAX_FRAME];
    let n = build_neighbor_solicit(&mut buf, [2; 6], src, target);
    buf[54] = 136;
    assert!(matches!(parse_frame(&buf[..n]), Some(Reply::NeighborAdvert { .. })));
    buf[21] = 64;
    assert_eq!(parse_frame(&buf[..n]), None);
}

/// An address mask reply (RFC 950 type 18) from 10.0.0.2 to 10.0.0.1, id 0x1234, seq 5, mask 255.255.255.0,
/// assembled by hand.
fn address_mask_reply_v4() -> Vec<u8> {
    #[rustfmt::skip]
    let mut f = vec![
        2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x01, 0x00, 0x00, 10, 0, 0, 2, 10, 0, 0, 1,
        18, 0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x05, 255, 255, 255, 0,
    ];
    let c = checksum::finish(checksum::sum(&f[14..34]));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    let c = checksum::finish(checksum::sum(&f[34..]));
    f[36..38].copy_from_slice(&c.to_be_bytes());
    f
}

#[test]
fn fixture_address_mask_reply_v4() {
    let f = address_mask_reply_v4();
    assert_checksums(&f);
    let want = Reply::AddressMaskReply { src: a4("10.0.0.2"), dst: a4("10.0.0.1"), id: 0x1234, seq: 5, ttl: 63 };
    assert_eq!(parse_frame(&f), Some(want));
    assert_eq!(parse_ip(&f[14..]), Some(want));
    // Ethernet padding after the IP total length is ignored.
    let mut padded = f.clone();
    padded.extend_from_slice(&[0; 14]);
    assert_eq!(parse_frame(&padded), Some(want));
    // Fewer than 12 ICMP bytes (the mask cut short, IP total length to match): not a reply.
    let mut short = f[..44].to_vec();
    short[16..18].copy_from_slice(&[0x00, 0x1e]);
    assert_eq!(parse_frame(&short), None);
    // A nonzero code is not an RFC 950 reply.
    let mut coded = f.clone();
    coded[35] = 1;
    assert_eq!(parse_frame(&coded), None);
    // The request (type 17) is not a reply either.
    let mut req = f;
    req[34] = 17;
    assert_eq!(parse_frame(&req), None);
}

#[test]
fn address_mask_request_truncations_never_parse() {
    let mut buf = [0u8; MAX_FRAME];
    let n = build_address_mask(&mut buf, &L, "10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 1, 2, 3);
    assert_checksums(&buf[..n]);
    for len in 0..=n {
        assert_eq!(parse_frame(&buf[..len]), None);
        assert_eq!(parse_ip(buf.get(14..len).unwrap_or(&[])), None);
    }
}

/// Every frame our builders make, plus ICMP errors and extension-header variants: material for the
/// truncation and mutation tests.
fn corpus() -> Vec<Vec<u8>> {
    let (u4, t4, u6, t6) = (a4("10.0.0.1"), a4("10.0.0.2"), a6("2001:db8::1"), a6("2001:db8::2"));
    let mut out = vec![syn(u4, t4), syn(u6, t6), udp(u4, t4), udp(u6, t6)];
    let mut buf = [0u8; MAX_FRAME];
    for (s, d) in [(u4, t4), (u6, t6)] {
        let n = build_echo(&mut buf, &L, s, d, 1, 2, 3);
        buf[if s.is_ipv4() { 34 } else { 54 }] = if s.is_ipv4() { 0 } else { 129 };
        out.push(buf[..n].to_vec());
    }
    let n = build_timestamp(&mut buf, &L, "10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), 1, 2, 3);
    buf[34] = 14;
    out.push(buf[..n].to_vec());
    out.push(address_mask_reply_v4());
    let n = build_arp_request(&mut buf, [2; 6], "10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    out.push(buf[..n].to_vec());
    let n = build_neighbor_solicit(&mut buf, [2; 6], "fe80::1".parse().unwrap(), "fe80::2".parse().unwrap());
    buf[54] = 136;
    buf[78] = 2;
    out.push(buf[..n].to_vec());
    out.push(icmp_error(t4, u4, 3, 3, &udp(u4, t4)[14..]));
    out.push(icmp_error(t4, u4, 3, 13, &syn(u4, t4)[14..]));
    out.push(icmp_error(t6, u6, 1, 4, &udp(u6, t6)[14..]));
    out.push(icmp_error(t6, u6, 3, 0, &syn(u6, t6)[14..]));
    let hbh = (0u8, vec![0, 1, 4, 0, 0, 0, 0]);
    let frag = (44u8, vec![0, 0, 1, 0, 0, 0, 42]);
    out.push(with_ext_headers(&syn(u6, t6), &[hbh, frag]));
    out
}

#[test]
fn corpus_parses_whole() {
    for f in corpus() {
        assert!(parse_frame(&f).is_some(), "{f:02x?}");
    }
}

#[test]
fn every_truncation_is_safe() {
    for f in corpus() {
        for len in 0..=f.len() {
            let _ = parse_frame(&f[..len]);
            let _ = parse_ip(f.get(14..len).unwrap_or(&[]));
        }
        // Below the Ethernet + network + first transport bytes nothing can be produced.
        for len in 0..=14 {
            assert_eq!(parse_frame(&f[..len]), None);
        }
    }
}

/// xorshift64*: a tiny deterministic generator, so the fuzz-style tests need no extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_frames_never_panic() {
    let corpus = corpus();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..100_000 {
        let mut f = corpus[rng.below(corpus.len())].clone();
        for _ in 0..=rng.below(6) {
            let i = rng.below(f.len());
            f[i] = rng.next() as u8;
        }
        f.truncate(rng.below(f.len() + 1));
        let _ = parse_frame(&f);
        let _ = parse_ip(f.get(14..).unwrap_or(&[]));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for _ in 0..50_000 {
        let len = rng.below(200);
        let mut f: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Steer a share of inputs past the Ethernet and version checks.
        if len > 15 && rng.below(2) == 0 {
            let (et, ver) = [([0x08, 0x00], 0x45), ([0x86, 0xdd], 0x60), ([0x08, 0x06], 0x00)][rng.below(3)];
            f[12..14].copy_from_slice(&et);
            f[14] = ver;
        }
        let _ = parse_frame(&f);
        let _ = parse_ip(&f);
    }
}

/// A micro benchmark of the reply path's parser: `cargo test --release -p tojimari-packet bench_parse_frame
/// -- --ignored --nocapture` prints ns per frame over the corpus, and for each kind of frame.
#[test]
#[ignore]
fn bench_parse_frame() {
    let corpus = corpus();
    let rounds = 200_000;
    // Called through a pointer, as the engine calls it across crates (never inlined into its loop).
    let parse: fn(&[u8]) -> Option<Reply> = std::hint::black_box(parse_frame);
    let time = |frames: &[Vec<u8>]| {
        let start = std::time::Instant::now();
        let mut parsed = 0usize;
        for _ in 0..rounds {
            for f in frames {
                parsed += usize::from(std::hint::black_box(parse(std::hint::black_box(f))).is_some());
            }
        }
        assert_eq!(parsed, rounds * frames.len());
        start.elapsed().as_nanos() as f64 / (rounds * frames.len()) as f64
    };
    let each: Vec<String> = corpus.iter().map(|f| format!("{:.1}", time(std::slice::from_ref(f)))).collect();
    println!("note: parse_frame {:.1} ns/frame over {} frames; each: {}", time(&corpus), corpus.len(), each.join(" "));
}
