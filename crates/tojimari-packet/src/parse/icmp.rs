//! ICMP (RFC 792, RFC 950) and ICMPv6 (RFC 4443, RFC 4861) messages: echo, timestamp and address mask
//! replies, neighbor advertisements, and errors quoting one of our probes.

use super::{Ip, ipv4, ipv6};
use crate::{Quoted, Reply};
use std::net::IpAddr;
use tojimari_wire::icmpv4::message as v4;
use tojimari_wire::icmpv6::message as v6;
use tojimari_wire::icmpv6::ndp_option;
use tojimari_wire::{Icmpv4Packet, Icmpv6Packet, QuotedTransport};

/// RFC 950: type, code, checksum, identifier, sequence number, 32-bit mask.
const ADDRESS_MASK_LEN: usize = 12;

pub(super) fn icmpv4(ip: &Ip<'_>) -> Option<Reply> {
    let m = Icmpv4Packet::new_checked(ip.payload).ok()?;
    let (kind, code) = (m.msg_type(), m.msg_code());
    let (src, dst, ttl, id, seq) = (ip.src, ip.dst, ip.ttl, m.ident(), m.seq_no());
    match kind {
        v4::ECHO_REPLY => Some(Reply::EchoReply { src, dst, id, seq, ttl }),
        v4::TIMESTAMP_REPLY => Some(Reply::TimestampReply { src, dst, id, seq, ttl }),
        v4::ADDRESS_MASK_REPLY if code == 0 && ip.payload.len() >= ADDRESS_MASK_LEN => {
            Some(Reply::AddressMaskReply { src, dst, id, seq, ttl })
        }
        v4::DST_UNREACHABLE | v4::TIME_EXCEEDED | v4::PARAM_PROBLEM => {
            let quoted = quoted(ipv4(m.data())?)?;
            Some(Reply::IcmpError { from: src, to: dst, ttl, v6: false, kind, code, quoted })
        }
        _ => None,
    }
}

pub(super) fn icmpv6(ip: &Ip<'_>) -> Option<Reply> {
    let m = Icmpv6Packet::new_checked(ip.payload).ok()?;
    let (kind, code) = (m.msg_type(), m.msg_code());
    let (src, dst, ttl) = (ip.src, ip.dst, ip.ttl);
    match kind {
        v6::ECHO_REPLY => Some(Reply::EchoReply { src, dst, id: m.ident(), seq: m.seq_no(), ttl }),
        v6::DST_UNREACHABLE | v6::TIME_EXCEEDED | v6::PARAM_PROBLEM => {
            let quoted = quoted(ipv6(m.data())?)?;
            Some(Reply::IcmpError { from: src, to: dst, ttl, v6: true, kind, code, quoted })
        }
        // RFC 4861 7.1.2: a hop limit other than 255 means it came from off-link; discard.
        v6::NEIGHBOR_ADVERT if code == 0 && ttl == 255 => neighbor_advert(src, &m),
        _ => None,
    }
}

/// The quoted probe: its addresses, protocol, and the first 4 (ports) or 8 (TCP sequence) transport bytes. A
/// quoted ICMP/ICMPv6 echo gives its identifier and sequence number (bytes 4..8) in place of ports.
fn quoted(inner: Ip<'_>) -> Option<Quoted> {
    let t = QuotedTransport::parse(inner.proto, inner.payload).ok()?;
    let (src, dst, proto) = (inner.src, inner.dst, inner.proto);
    Some(Quoted { src, dst, proto, sport: t.src_port, dport: t.dst_port, seq: t.tcp_seq })
}

/// RFC 4861 4.4: the target and its (last) target link-layer address option, if any.
fn neighbor_advert(src: IpAddr, m: &Icmpv6Packet<&[u8]>) -> Option<Reply> {
    let target = m.ndp_target()?;
    let options = m.ndp_options().filter(|o| o.kind == ndp_option::TARGET_LL_ADDR);
    Some(Reply::NeighborAdvert { src, target, mac: options.filter_map(|o| o.ll_addr()).last() })
}
