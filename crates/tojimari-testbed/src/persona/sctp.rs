//! SCTP as a persona answers it (RFC 9260), enough for `-sY`, `-sZ` and `-sO` to meet a real stack's
//! behaviour where the kernel here has no SCTP:
//!
//! - a packet whose CRC32c is wrong is dropped (section 6.8): so is an Adler-32 one (nmap's `--adler32`),
//!   as on every stack since RFC 3309. [`SctpHandler::rfc2960`] is an older stack instead, that checks
//!   and sends Adler-32 (RFC 2960 section 6.8) and drops CRC32c packets;
//! - INIT (verification tag 0) to a listening port: INIT ACK with the INIT's initiate tag as verification
//!   tag, our own initiate tag and a State Cookie we sign (section 5.1); to any other port: ABORT carrying
//!   the initiate tag, T bit clear (section 8.4, rule 3);
//! - COOKIE ECHO to a listening port: a cookie we signed earns a COOKIE ACK, any other is discarded
//!   silently (section 5.1.5); to any other port: ABORT reflecting the packet's tag, T bit set (rule 8);
//! - ABORT, SHUTDOWN COMPLETE: nothing (rules 2, 6); any other out-of-the-blue packet: ABORT, T bit set.
//!
//! [`SctpHandler::new`] takes the listening ports; everything else is closed.

use std::time::Duration;

use tojimari_wire::sctp::chunk;
use tojimari_wire::{ChunkRepr, SctpChecksum, SctpPacket, SctpRepr, ip_protocol};

use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};

/// The persona's SCTP: see the module documentation.
#[derive(Debug, Clone)]
pub struct SctpHandler {
    open: Vec<u16>,
    /// The secret our State Cookies are signed with.
    secret: u64,
    /// The checksum packets must carry to be read, and ours carry.
    checksum: SctpChecksum,
}

impl SctpHandler {
    /// SCTP listening on `open` (every other port closed).
    pub fn new(open: &[u16]) -> SctpHandler {
        SctpHandler { open: open.to_vec(), secret: 0x5c7f_a11e_d00d_f00d, checksum: SctpChecksum::Crc32c }
    }

    /// An RFC 2960 stack (before RFC 3309) listening on `open`: it checks and sends Adler-32 checksums, and
    /// drops CRC32c packets as bad.
    pub fn rfc2960(open: &[u16]) -> SctpHandler {
        SctpHandler { checksum: SctpChecksum::Adler32, ..SctpHandler::new(open) }
    }

    /// Our State Cookie for an association with the peer's tag `peer_tag` on `port`: 8 bytes of tag and
    /// port, then 8 bytes of signature.
    fn cookie(&self, peer_tag: u32, port: u16) -> [u8; 16] {
        let mut c = [0u8; 16];
        c[..4].copy_from_slice(&peer_tag.to_be_bytes());
        c[4..6].copy_from_slice(&port.to_be_bytes());
        let signature = self.sign(&c[..8]);
        c[8..].copy_from_slice(&signature.to_be_bytes());
        c
    }

    fn sign(&self, data: &[u8]) -> u64 {
        data.iter().fold(self.secret, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(7))
    }

    fn signed_by_us(&self, cookie: &[u8], port: u16) -> bool {
        cookie.len() == 16 && cookie[4..6] == port.to_be_bytes() && cookie[8..] == self.sign(&cookie[..8]).to_be_bytes()
    }
}

impl IpHandler for SctpHandler {
    fn protocols(&self) -> &[u8] {
        &[ip_protocol::SCTP]
    }

    fn answer(&mut self, stack: &mut Stack, d: &Datagram<'_>, _now: Duration) -> Vec<IpReply> {
        let Ok(packet) = SctpPacket::new_checked(d.payload) else {
            return Vec::new();
        };
        if !packet.verify_checksum_as(self.checksum) {
            return Vec::new();
        }
        let Some(first) = packet.first_chunk() else {
            return Vec::new();
        };
        let (sport, dport, vtag) = (packet.src_port(), packet.dst_port(), packet.verification_tag());
        let open = self.open.contains(&dport);
        let mut tsn = [0u8; 4];
        let (tag, chunk) = match (first.kind, ChunkRepr::parse(&first)) {
            (chunk::INIT, Ok(ChunkRepr::Init { initiate_tag, .. })) if vtag == 0 && initiate_tag != 0 => {
                if !open {
                    (initiate_tag, Answer::Abort { t: false })
                } else {
                    tsn.copy_from_slice(&stack.rng.next_u32().to_be_bytes());
                    (initiate_tag, Answer::InitAck { cookie: self.cookie(initiate_tag, dport) })
                }
            }
            (chunk::INIT, _) => return Vec::new(),
            (chunk::COOKIE_ECHO, Ok(ChunkRepr::CookieEcho { cookie })) if open => {
                if !self.signed_by_us(cookie, dport) {
                    return Vec::new();
                }
                (u32::from_be_bytes([cookie[0], cookie[1], cookie[2], cookie[3]]), Answer::CookieAck)
            }
            (chunk::ABORT | chunk::SHUTDOWN_COMPLETE, _) => return Vec::new(),
            _ => (vtag, Answer::Abort { t: true }),
        };
        let own_tag = stack.rng.next_u32() | 1;
        let repr = match &chunk {
            Answer::InitAck { cookie } => ChunkRepr::Init {
                ack: true,
                initiate_tag: own_tag,
                a_rwnd: 106_496,
                outbound_streams: 10,
                inbound_streams: 10,
                initial_tsn: u32::from_be_bytes(tsn),
                cookie,
            },
            Answer::Abort { t } => ChunkRepr::Abort { t: *t },
            Answer::CookieAck => ChunkRepr::CookieAck,
        };
        let chunks = [repr];
        let mut bytes = vec![0u8; SctpRepr::buffer_len(&chunks)];
        let header = SctpRepr { src_port: dport, dst_port: sport, verification_tag: tag };
        let mut out = SctpPacket::new_unchecked(&mut bytes[..]);
        if header.emit(&mut out, &chunks).is_err() {
            return Vec::new();
        }
        out.fill_checksum_as(self.checksum);
        let kind = if matches!(chunk, Answer::Abort { .. }) { ReplyKind::Rst } else { ReplyKind::Tcp };
        vec![IpReply {
            dst: d.src,
            protocol: ip_protocol::SCTP,
            payload: bytes,
            kind,
            df: stack.persona.df,
            ttl: None,
            tos: 0,
            ip_id: None,
        }]
    }
}

/// What the handler sends back.
enum Answer {
    InitAck { cookie: [u8; 16] },
    Abort { t: bool },
    CookieAck,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persona::{Responder, catalog};
    use std::net::{IpAddr, Ipv4Addr};
    use tojimari_packet::{L2, MAX_FRAME, SctpChunk, SctpProbe, build_sctp};

    const PERSONA: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 210);
    const SCANNER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xd2];

    fn responder() -> Responder {
        Responder::new(catalog::linux_2_6(), MAC, PERSONA, None, 1).with_handler(Box::new(SctpHandler::new(&[80])))
    }

    /// Sends our probe and reads the answer's (verification tag, first chunk type, flags), if any.
    fn ask(r: &mut Responder, which: SctpChunk, port: u16, cookie: u32) -> Option<(u32, u8, u8, Vec<u8>)> {
        ask_with(r, which, port, cookie, SctpChecksum::Crc32c)
    }

    /// As [`ask`], the probe and the answer carrying `checksum`.
    fn ask_with(
        r: &mut Responder,
        which: SctpChunk,
        port: u16,
        cookie: u32,
        checksum: SctpChecksum,
    ) -> Option<(u32, u8, u8, Vec<u8>)> {
        let l2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: MAC };
        let probe = SctpProbe {
            src: IpAddr::V4(SCANNER),
            dst: IpAddr::V4(PERSONA),
            sport: 61000,
            dport: port,
            chunk: which,
            cookie,
            ttl: 64,
            ip_id: 1,
            checksum,
        };
        let mut buf = [0u8; MAX_FRAME];
        let n = build_sctp(&mut buf, &l2, &probe);
        let out = r.answer(&buf[..n], Duration::from_secs(1));
        let frame = out.first()?;
        let p = SctpPacket::new_checked(&frame[34..]).ok()?;
        assert!(p.verify_checksum_as(checksum));
        assert_eq!((p.src_port(), p.dst_port()), (port, 61000));
        let c = p.first_chunk()?;
        Some((p.verification_tag(), c.kind, c.flags, c.value.to_vec()))
    }

    #[test]
    fn init_earns_init_ack_on_open_ports_and_abort_on_closed_ones() {
        let mut r = responder();
        let (tag, kind, _, value) = ask(&mut r, SctpChunk::Init, 80, 0xabcd).unwrap();
        assert_eq!((tag, kind), (0xabcd, chunk::INIT_ACK));
        assert!(value.len() >= 16 + 4 + 16, "an INIT ACK with its State Cookie");
        assert_eq!(ask(&mut r, SctpChunk::Init, 81, 0xabcd).map(|a| (a.0, a.1, a.2)), Some((0xabcd, chunk::ABORT, 0)));
    }

    #[test]
    fn adler32_is_dropped_by_a_current_stack_and_spoken_by_an_rfc2960_one() {
        let mut r = responder();
        assert_eq!(ask_with(&mut r, SctpChunk::Init, 80, 0xabcd, SctpChecksum::Adler32), None);
        let mut old = Responder::new(catalog::linux_2_6(), MAC, PERSONA, None, 1)
            .with_handler(Box::new(SctpHandler::rfc2960(&[80])));
        assert_eq!(ask(&mut old, SctpChunk::Init, 80, 0xabcd), None, "CRC32c is a bad checksum to it");
        let answer = ask_with(&mut old, SctpChunk::Init, 81, 0xabcd, SctpChecksum::Adler32);
        assert_eq!(answer.map(|a| (a.0, a.1)), Some((0xabcd, chunk::ABORT)));
    }

    #[test]
    fn a_forged_cookie_is_dropped_on_open_ports_and_aborted_on_closed_ones() {
        let mut r = responder();
        assert_eq!(ask(&mut r, SctpChunk::CookieEcho, 80, 77), None);
        let abort = ask(&mut r, SctpChunk::CookieEcho, 81, 77).map(|a| (a.0, a.1, a.2));
        assert_eq!(abort, Some((77, chunk::ABORT, tojimari_wire::sctp::FLAG_T)));
        // Our own cookie is taken.
        let h = SctpHandler::new(&[80]);
        assert!(h.signed_by_us(&h.cookie(5, 80), 80));
        assert!(!h.signed_by_us(&h.cookie(5, 80), 81));
        assert!(!h.signed_by_us(b"tojimari", 80));
    }

    #[test]
    fn bad_checksums_and_garbage_get_nothing() {
        let mut h = SctpHandler::new(&[80]);
        let mut r = responder();
        assert!(ask(&mut r, SctpChunk::Init, 80, 0).is_none(), "an INIT with initiate tag 0 is discarded");
        let persona = catalog::linux_2_6();
        let mut stack = super::super::Stack {
            persona,
            mac: MAC,
            v4: PERSONA,
            v6: None,
            ip_ids: super::super::counters::IpIds::new(1),
            isns: super::super::counters::Isns::new(1),
            rng: super::super::rng::Rng::new(1),
        };
        for len in 0..40 {
            let payload = vec![0x5au8; len];
            let d = Datagram {
                src: IpAddr::V4(SCANNER),
                dst: IpAddr::V4(PERSONA),
                protocol: 132,
                payload: &payload,
                packet: &payload,
                tos: 0,
                df: false,
            };
            assert!(h.answer(&mut stack, &d, Duration::ZERO).is_empty(), "{len} bytes of garbage");
        }
    }
}
