//! ICMP probes for host discovery: echo request (RFC 792 type 8, or ICMPv6 type 128 per RFC 4443 section 4.1)
//! timestamp request (RFC 792 type 13, IPv4 only) and address mask request (RFC 950 type 17, IPv4 only).

use super::{L2, emit_l3};
use std::net::{IpAddr, Ipv4Addr};
use tojimari_wire::ip_protocol::{ICMP, ICMPV6};
use tojimari_wire::{Icmpv4Packet, Icmpv4Repr, Icmpv6Packet, Icmpv6Repr};

/// ICMP echo request (IPv4) or ICMPv6 echo request (IPv6), by family, without payload. Returns the frame
/// length, or 0 if the families differ or `buf` is too short.
pub fn build_echo(buf: &mut [u8], l2: &L2, src: IpAddr, dst: IpAddr, id: u16, seq: u16, ttl: u8) -> usize {
    match (src, dst) {
        (IpAddr::V4(_), _) => {
            let repr = Icmpv4Repr::Echo { reply: false, ident: id, seq_no: seq, data: &[] };
            emit_v4(buf, l2, src, dst, ttl, id, &repr)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let repr = Icmpv6Repr::Echo { reply: false, ident: id, seq_no: seq, data: &[] };
            let len = repr.buffer_len();
            let Some(start) = emit_l3(buf, l2, src, dst, ICMPV6, ttl, id, len) else {
                return 0;
            };
            // ICMPv6 covers a pseudo-header (RFC 4443 section 2.3); ICMPv4 covers the message only.
            repr.emit(s, d, &mut Icmpv6Packet::new_unchecked(&mut buf[start..start + len]));
            start + len
        }
        _ => 0,
    }
}

/// Writes an ICMPv4 message after the Ethernet and IPv4 headers; the frame length, or 0.
fn emit_v4(buf: &mut [u8], l2: &L2, src: IpAddr, dst: IpAddr, ttl: u8, id: u16, repr: &Icmpv4Repr) -> usize {
    let len = repr.buffer_len();
    let Some(start) = emit_l3(buf, l2, src, dst, ICMP, ttl, id, len) else {
        return 0;
    };
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[start..start + len]));
    start + len
}

/// ICMP timestamp request (IPv4 only). The originate timestamp is zero: this crate reads no clock, and the
/// reply is matched on id and seq.
pub fn build_timestamp(buf: &mut [u8], l2: &L2, src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16, ttl: u8) -> usize {
    let repr = Icmpv4Repr::Timestamp { reply: false, ident: id, seq_no: seq, times: [0; 3] };
    emit_v4(buf, l2, src.into(), dst.into(), ttl, id, &repr)
}

/// ICMP address mask request (RFC 950, IPv4 only): identifier, sequence number and a zero address mask, 12
/// bytes in all. The reply (type 18) is matched on id and seq.
pub fn build_address_mask(buf: &mut [u8], l2: &L2, src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16, ttl: u8) -> usize {
    let repr = Icmpv4Repr::AddressMask { reply: false, ident: id, seq_no: seq, mask: [0; 4] };
    emit_v4(buf, l2, src.into(), dst.into(), ttl, id, &repr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::{MAX_FRAME, check::assert_checksums};
    use crate::{Reply, parse_frame};
    use std::net::Ipv6Addr;

    const L: L2 = L2 { src_mac: [0; 6], dst_mac: [0; 6] };

    #[test]
    fn fixture_echo_v4() {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_echo(
            &mut buf,
            &L,
            Ipv4Addr::new(10, 0, 0, 1).into(),
            Ipv4Addr::new(10, 0, 0, 2).into(),
            0x0102,
            3,
            64,
        );
        // Type 8, code 0, checksum ~(0800 + 0102 + 0003) = ~0x0905 = 0xf6fa.
        assert_eq!(&buf[34..n], &[8, 0, 0xf6, 0xfa, 0x01, 0x02, 0x00, 0x03]);
        assert_checksums(&buf[..n]);
    }

    #[test]
    fn echo_round_trips_as_request_is_not_a_reply() {
        // We never parse our own requests as replies; turn the built request into a reply to check the layout.
        for (src, dst) in [
            (IpAddr::from(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::from(Ipv4Addr::new(192, 0, 2, 9))),
            ("2001:db8::1".parse::<Ipv6Addr>().unwrap().into(), "2001:db8::9".parse::<Ipv6Addr>().unwrap().into()),
        ] {
            let mut buf = [0u8; MAX_FRAME];
            let n = build_echo(&mut buf, &L, src, dst, 0xabcd, 42, 17);
            assert_checksums(&buf[..n]);
            assert_eq!(parse_frame(&buf[..n]), None);
            let icmp = if src.is_ipv4() { 34 } else { 54 };
            buf[icmp] = if src.is_ipv4() { 0 } else { 129 };
            assert_eq!(parse_frame(&buf[..n]), Some(Reply::EchoReply { src, dst, id: 0xabcd, seq: 42, ttl: 17 }));
        }
    }

    #[test]
    fn timestamp_round_trip() {
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 9));
        let mut buf = [0u8; MAX_FRAME];
        let n = build_timestamp(&mut buf, &L, src, dst, 7, 8, 64);
        assert_eq!(n, 14 + 20 + 20);
        assert_checksums(&buf[..n]);
        assert_eq!(buf[34], 13);
        buf[34] = 14;
        let (src, dst) = (src.into(), dst.into());
        assert_eq!(parse_frame(&buf[..n]), Some(Reply::TimestampReply { src, dst, id: 7, seq: 8, ttl: 64 }));
    }

    #[test]
    fn fixture_address_mask_request() {
        let mut buf = [0u8; MAX_FRAME];
        let n = build_address_mask(&mut buf, &L, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), 0x0102, 3, 64);
        assert_eq!(n, 14 + 20 + 12);
        // Type 17, code 0, checksum ~(1100 + 0102 + 0003) = ~0x1205 = 0xedfa, mask 0.
        assert_eq!(&buf[34..n], &[17, 0, 0xed, 0xfa, 0x01, 0x02, 0x00, 0x03, 0, 0, 0, 0]);
        assert_checksums(&buf[..n]);
        assert_eq!(buf[23], ICMP);
        assert_eq!(buf[22], 64);
    }

    #[test]
    fn address_mask_round_trip_request_is_not_a_reply() {
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 9));
        let mut buf = [0u8; MAX_FRAME];
        let n = build_address_mask(&mut buf, &L, src, dst, 0xbeef, 9, 33);
        assert_checksums(&buf[..n]);
        assert_eq!(parse_frame(&buf[..n]), None, "a request is not a reply");
        // Turn it into a reply carrying a /24 mask, with a fixed-up checksum.
        buf[34] = 18;
        buf[42..46].copy_from_slice(&[255, 255, 255, 0]);
        buf[36..38].fill(0);
        let c = tojimari_wire::checksum::finish(tojimari_wire::checksum::sum(&buf[34..n]));
        buf[36..38].copy_from_slice(&c.to_be_bytes());
        assert_checksums(&buf[..n]);
        let (src, dst) = (src.into(), dst.into());
        assert_eq!(parse_frame(&buf[..n]), Some(Reply::AddressMaskReply { src, dst, id: 0xbeef, seq: 9, ttl: 33 }));
    }

    #[test]
    fn mixed_families_yield_zero() {
        let mut buf = [0u8; MAX_FRAME];
        let v6: IpAddr = Ipv6Addr::LOCALHOST.into();
        assert_eq!(build_echo(&mut buf, &L, Ipv4Addr::LOCALHOST.into(), v6, 1, 1, 1), 0);
        assert_eq!(build_timestamp(&mut buf[..53], &L, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 1, 1), 0);
        assert_eq!(build_address_mask(&mut buf[..45], &L, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 1, 1), 0);
        assert_eq!(build_address_mask(&mut buf[..46], &L, Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1, 1, 1), 46);
    }
}
