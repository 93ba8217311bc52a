//! ICMP (RFC 792, RFC 950) and ICMPv6 (RFC 4443, RFC 4861) messages: echo, timestamp and address mask
//! replies, neighbor advertisements, and errors quoting one of our probes.

use super::{Ip, array, be16, be32, ipv4, ipv6};
use crate::build::ndp::{NEIGHBOR_ADVERT, OPT_TARGET_LL};
use crate::build::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP};
use crate::{Quoted, Reply};
use std::net::{IpAddr, Ipv6Addr};

/// ICMPv4 types we read.
const ECHO_REPLY: u8 = 0;
const DEST_UNREACH: u8 = 3;
const TIME_EXCEEDED: u8 = 11;
const PARAM_PROBLEM: u8 = 12;
const TIMESTAMP_REPLY: u8 = 14;
const ADDRESS_MASK_REPLY: u8 = 18;
/// RFC 950: type, code, checksum, identifier, sequence number, 32-bit mask.
const ADDRESS_MASK_LEN: usize = 12;

/// ICMPv6 types we read.
const V6_DEST_UNREACH: u8 = 1;
const V6_TIME_EXCEEDED: u8 = 3;
const V6_PARAM_PROBLEM: u8 = 4;
const V6_ECHO_REPLY: u8 = 129;

pub(super) fn icmpv4(ip: &Ip<'_>) -> Option<Reply> {
    let m = ip.payload;
    let (kind, code) = (*m.first()?, *m.get(1)?);
    match kind {
        ECHO_REPLY | TIMESTAMP_REPLY => {
            let (id, seq) = (be16(m, 4)?, be16(m, 6)?);
            let (src, dst, ttl) = (ip.src, ip.dst, ip.ttl);
            Some(if kind == ECHO_REPLY {
                Reply::EchoReply { src, dst, id, seq, ttl }
            } else {
                Reply::TimestampReply { src, dst, id, seq, ttl }
            })
        }
        ADDRESS_MASK_REPLY if code == 0 && m.len() >= ADDRESS_MASK_LEN => {
            Some(Reply::AddressMaskReply { src: ip.src, dst: ip.dst, id: be16(m, 4)?, seq: be16(m, 6)?, ttl: ip.ttl })
        }
        DEST_UNREACH | TIME_EXCEEDED | PARAM_PROBLEM => {
            let quoted = quoted(ipv4(m.get(8..)?)?)?;
            Some(Reply::IcmpError { from: ip.src, to: ip.dst, ttl: ip.ttl, v6: false, kind, code, quoted })
        }
        _ => None,
    }
}

pub(super) fn icmpv6(ip: &Ip<'_>) -> Option<Reply> {
    let m = ip.payload;
    let (kind, code) = (*m.first()?, *m.get(1)?);
    match kind {
        V6_ECHO_REPLY => {
            Some(Reply::EchoReply { src: ip.src, dst: ip.dst, id: be16(m, 4)?, seq: be16(m, 6)?, ttl: ip.ttl })
        }
        V6_DEST_UNREACH | V6_TIME_EXCEEDED | V6_PARAM_PROBLEM => {
            let quoted = quoted(ipv6(m.get(8..)?)?)?;
            Some(Reply::IcmpError { from: ip.src, to: ip.dst, ttl: ip.ttl, v6: true, kind, code, quoted })
        }
        // RFC 4861 7.1.2: a hop limit other than 255 means it came from off-link; discard.
        NEIGHBOR_ADVERT if code == 0 && ip.ttl == 255 => neighbor_advert(ip.src, m),
        _ => None,
    }
}

/// The quoted probe: its addresses, protocol, and the first 4 (ports) or 8 (TCP sequence) transport bytes. A
/// quoted ICMP/ICMPv6 echo gives its identifier and sequence number (bytes 4..8) in place of ports.
fn quoted(inner: Ip<'_>) -> Option<Quoted> {
    let t = inner.payload;
    let ports_at = if matches!(inner.proto, PROTO_ICMP | PROTO_ICMPV6) { 4 } else { 0 };
    let seq = if inner.proto == PROTO_TCP { be32(t, 4) } else { None };
    let (sport, dport) = (be16(t, ports_at)?, be16(t, ports_at + 2)?);
    Some(Quoted { src: inner.src, dst: inner.dst, proto: inner.proto, sport, dport, seq })
}

/// RFC 4861 4.4: 4 bytes of type/code/checksum, 4 of flags/reserved, the 16-byte target, then options (type,
/// length in 8-byte units, value). A zero-length option is malformed: stop there.
fn neighbor_advert(src: IpAddr, m: &[u8]) -> Option<Reply> {
    let target = Ipv6Addr::from(array::<16>(m, 8)?);
    let mut opts = m.get(24..)?;
    let mut mac = None;
    while let (Some(&kind), Some(&units)) = (opts.first(), opts.get(1)) {
        let len = usize::from(units) * 8;
        if len == 0 {
            break;
        }
        if kind == OPT_TARGET_LL {
            mac = array::<6>(opts, 2);
        }
        let Some(rest) = opts.get(len..) else { break };
        opts = rest;
    }
    Some(Reply::NeighborAdvert { src, target, mac })
}
