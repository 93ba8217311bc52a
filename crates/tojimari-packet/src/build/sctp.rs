//! SCTP probe frames (RFC 9260): an INIT (`-sY`) or a COOKIE ECHO (`-sZ`), each carrying the validation
//! cookie where the answer must give it back.
//!
//! - INIT: the common header's verification tag is 0 (section 8.5.1), and the cookie is the INIT's
//!   initiate tag. An INIT ACK is sent with that tag (section 5.1); an ABORT answering the INIT carries it
//!   too, with the T bit clear (section 8.4, rule 3).
//! - COOKIE ECHO: no association exists, so the packet is "out of the blue" (section 8.4). A closed port's
//!   stack answers an ABORT reflecting our verification tag with the T bit set (rule 8); a listener checks
//!   the cookie's signature, finds it forged, and discards the packet silently (section 5.1.5). The
//!   cookie rides in the verification tag.
//!
//! The checksum is CRC32c, or with nmap's `--adler32` RFC 2960's Adler-32 ([`SctpChecksum`]), which only
//! stacks older than RFC 3309 accept.

use super::{L2, emit_l3};
use std::net::IpAddr;
use tojimari_wire::{ChunkRepr, SctpChecksum, SctpPacket, SctpRepr, ip_protocol};

/// What an SCTP probe carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SctpChunk {
    /// An INIT whose initiate tag is the cookie.
    Init,
    /// A COOKIE ECHO whose packet's verification tag is the cookie.
    CookieEcho,
}

/// One SCTP probe.
#[derive(Clone, Copy, Debug)]
pub struct SctpProbe {
    /// Our address.
    pub src: IpAddr,
    /// The target's address (same family as `src`).
    pub dst: IpAddr,
    /// Our port.
    pub sport: u16,
    /// The target's port.
    pub dport: u16,
    /// INIT or COOKIE ECHO.
    pub chunk: SctpChunk,
    /// The validation cookie (see the module).
    pub cookie: u32,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (ignored for IPv6).
    pub ip_id: u16,
    /// The checksum it carries.
    pub checksum: SctpChecksum,
}

/// The receive window an INIT advertises, and its stream counts (a plain stack's defaults).
const A_RWND: u32 = 0x0001_0000;
const STREAMS: u16 = 10;
/// The State Cookie a COOKIE ECHO probe carries: 8 bytes no stack signed.
const FORGED_COOKIE: [u8; 8] = *b"tojimari";

impl SctpProbe {
    /// The probe's verification tag and chunk.
    fn parts(&self) -> (u32, ChunkRepr<'static>) {
        match self.chunk {
            SctpChunk::Init => (
                0,
                ChunkRepr::Init {
                    ack: false,
                    initiate_tag: self.cookie,
                    a_rwnd: A_RWND,
                    outbound_streams: STREAMS,
                    inbound_streams: STREAMS,
                    // Any TSN will do; derived from the cookie so probes differ.
                    initial_tsn: self.cookie.rotate_left(13) ^ 0x5ca1_ab1e,
                    cookie: &[],
                },
            ),
            SctpChunk::CookieEcho => (self.cookie, ChunkRepr::CookieEcho { cookie: &FORGED_COOKIE }),
        }
    }
}

/// Writes Ethernet + IPv4/IPv6 + SCTP into `buf` and returns the frame length, or 0 if the families
/// differ or `buf` is too short.
pub fn build_sctp(buf: &mut [u8], l2: &L2, p: &SctpProbe) -> usize {
    let (verification_tag, chunk) = p.parts();
    let chunks = [chunk];
    let len = SctpRepr::buffer_len(&chunks);
    let Some(start) = emit_l3(buf, l2, p.src, p.dst, ip_protocol::SCTP, p.ttl, p.ip_id, len) else {
        return 0;
    };
    let repr = SctpRepr { src_port: p.sport, dst_port: p.dport, verification_tag };
    let mut packet = SctpPacket::new_unchecked(&mut buf[start..start + len]);
    if repr.emit(&mut packet, &chunks).is_err() {
        return 0;
    }
    if p.checksum != SctpChecksum::Crc32c {
        packet.fill_checksum_as(p.checksum);
    }
    start + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::MAX_FRAME;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use tojimari_wire::sctp::chunk;

    const L: L2 = L2 { src_mac: [0; 6], dst_mac: [0; 6] };

    fn probe(src: IpAddr, dst: IpAddr, which: SctpChunk) -> SctpProbe {
        SctpProbe {
            src,
            dst,
            sport: 61000,
            dport: 80,
            chunk: which,
            cookie: 0xfeed_f00d,
            ttl: 64,
            ip_id: 7,
            checksum: SctpChecksum::Crc32c,
        }
    }

    #[test]
    fn init_carries_the_cookie_as_initiate_tag() {
        for (src, dst) in [
            (IpAddr::from(Ipv4Addr::new(198, 18, 0, 1)), IpAddr::from(Ipv4Addr::new(198, 18, 0, 2))),
            (Ipv6Addr::LOCALHOST.into(), "2001:db8::2".parse::<Ipv6Addr>().unwrap().into()),
        ] {
            let mut buf = [0u8; MAX_FRAME];
            let n = build_sctp(&mut buf, &L, &probe(src, dst, SctpChunk::Init));
            let l4 = if src.is_ipv4() { 34 } else { 54 };
            assert_eq!(n, l4 + 12 + 20);
            assert_eq!(buf[l4 - if src.is_ipv4() { 11 } else { 34 }], ip_protocol::SCTP);
            let p = SctpPacket::new_checked(&buf[l4..n]).unwrap();
            assert!(p.verify_checksum());
            assert_eq!((p.src_port(), p.dst_port(), p.verification_tag()), (61000, 80, 0));
            let c = p.first_chunk().unwrap();
            assert_eq!((c.kind, c.initiate_tag()), (chunk::INIT, Some(0xfeed_f00d)));
        }
    }

    #[test]
    fn cookie_echo_carries_the_cookie_as_verification_tag() {
        let mut buf = [0u8; MAX_FRAME];
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into());
        let n = build_sctp(&mut buf, &L, &probe(s, d, SctpChunk::CookieEcho));
        let p = SctpPacket::new_checked(&buf[34..n]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.verification_tag(), 0xfeed_f00d);
        let c = p.first_chunk().unwrap();
        assert_eq!((c.kind, c.value), (chunk::COOKIE_ECHO, &FORGED_COOKIE[..]));
    }

    #[test]
    fn adler32_when_asked() {
        let mut buf = [0u8; MAX_FRAME];
        let (s, d) = (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into());
        let p = SctpProbe { checksum: SctpChecksum::Adler32, ..probe(s, d, SctpChunk::Init) };
        let n = build_sctp(&mut buf, &L, &p);
        let packet = SctpPacket::new_checked(&buf[34..n]).unwrap();
        assert!(packet.verify_checksum_as(SctpChecksum::Adler32));
        assert!(!packet.verify_checksum());
    }

    #[test]
    fn mixed_families_or_short_buffers_yield_zero() {
        let mut buf = [0u8; MAX_FRAME];
        let p = probe(Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into(), SctpChunk::Init);
        assert_eq!(build_sctp(&mut buf, &L, &p), 0);
        let p = probe(Ipv4Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into(), SctpChunk::Init);
        assert_eq!(build_sctp(&mut buf[..60], &L, &p), 0);
        assert_eq!(build_sctp(&mut buf[..66], &L, &p), 66);
    }
}
