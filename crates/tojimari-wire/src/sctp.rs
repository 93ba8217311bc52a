//! SCTP packets (RFC 9260): the 12-byte common header (ports, verification tag, CRC32c checksum), then
//! chunks of type, flags, length and value, each padded to four bytes.
//!
//! [`SctpPacket`] is the view (with [`SctpPacket::chunks`] walking the chunks, never past the buffer);
//! [`SctpRepr`] the common header and [`ChunkRepr`] the chunks a scanner and a test target exchange: INIT,
//! INIT ACK, ABORT, COOKIE ECHO and COOKIE ACK. The checksum is CRC32c ([`crate::crc32c`]) over the whole
//! packet with the checksum field zeroed, stored least significant byte first (RFC 9260 appendix A), and
//! covers no pseudo-header. RFC 2960's Adler-32 ([`crate::adler32`], most significant byte first) is
//! [`SctpChecksum::Adler32`]: what nmap's `--adler32` sends, for stacks older than RFC 3309.

use crate::bytes::{read16, read32, write16, write32};
use crate::crc32c::step;
use crate::{Error, Result};

/// Which checksum an SCTP packet carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SctpChecksum {
    /// CRC32c (RFC 3309, RFC 9260): what every current stack checks.
    #[default]
    Crc32c,
    /// Adler-32 (RFC 2960 before RFC 3309): stacks that check CRC32c drop such packets.
    Adler32,
}

/// Common header length.
pub const HEADER_LEN: usize = 12;
/// Chunk header length (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;
/// The fixed part of an INIT or INIT ACK chunk's value: initiate tag, a_rwnd, streams out and in, TSN.
pub const INIT_FIXED_LEN: usize = 16;

/// Chunk types (RFC 9260 section 3.2).
pub mod chunk {
    /// Payload data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// The T bit of ABORT and SHUTDOWN COMPLETE: the verification tag is the sender's own (reflected), not
/// the receiver's.
pub const FLAG_T: u8 = 0x01;

/// The State Cookie parameter of an INIT ACK (RFC 9260 section 3.3.3.1).
pub const PARAM_STATE_COOKIE: u16 = 7;

/// A view over an SCTP packet.
#[derive(Debug, Clone, Copy)]
pub struct SctpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

/// One chunk, as [`SctpPacket::chunks`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Chunk type ([`chunk`]).
    pub kind: u8,
    /// Chunk flags.
    pub flags: u8,
    /// The value: after the chunk header, up to its length (padding excluded).
    pub value: &'a [u8],
}

impl Chunk<'_> {
    /// The initiate tag of an INIT or INIT ACK (the first four bytes of the value), if present.
    pub fn initiate_tag(&self) -> Option<u32> {
        let is_init = matches!(self.kind, chunk::INIT | chunk::INIT_ACK);
        (is_init && self.value.len() >= 4).then(|| read32(self.value, 0))
    }
}

impl<T: AsRef<[u8]>> SctpPacket<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> SctpPacket<T> {
        SctpPacket { buffer }
    }

    /// Wraps `buffer`, checking that the common header is present.
    pub fn new_checked(buffer: T) -> Result<SctpPacket<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(SctpPacket { buffer })
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Verification tag.
    pub fn verification_tag(&self) -> u32 {
        read32(self.buffer.as_ref(), 4)
    }

    /// The checksum field, as the CRC value it holds (read least significant byte first).
    pub fn checksum(&self) -> u32 {
        let b = self.buffer.as_ref();
        u32::from_le_bytes([b[8], b[9], b[10], b[11]])
    }

    /// Whether the CRC32c over the whole buffer, checksum field zeroed, equals the field.
    pub fn verify_checksum(&self) -> bool {
        self.checksum() == compute_checksum(self.buffer.as_ref())
    }

    /// Whether the field holds the checksum of `kind` over the whole buffer, checksum field zeroed.
    pub fn verify_checksum_as(&self, kind: SctpChecksum) -> bool {
        match kind {
            SctpChecksum::Crc32c => self.verify_checksum(),
            SctpChecksum::Adler32 => {
                let b = self.buffer.as_ref();
                u32::from_be_bytes([b[8], b[9], b[10], b[11]]) == adler32_zeroed(b)
            }
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> SctpPacket<&'a T> {
    /// The chunks, in order. The walk stops at the first chunk whose header or stated length runs past
    /// the buffer, or whose length is shorter than a chunk header (RFC 9260 forbids it).
    pub fn chunks(&self) -> impl Iterator<Item = Chunk<'a>> + use<'a, T> {
        let b: &'a [u8] = self.buffer.as_ref();
        let mut at = HEADER_LEN;
        std::iter::from_fn(move || {
            let header = b.get(at..at + CHUNK_HEADER_LEN)?;
            let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
            if len < CHUNK_HEADER_LEN {
                return None;
            }
            let value = b.get(at + CHUNK_HEADER_LEN..at + len)?;
            let chunk = Chunk { kind: header[0], flags: header[1], value };
            at += len.next_multiple_of(4);
            Some(chunk)
        })
    }

    /// The first chunk, if a whole one is there.
    pub fn first_chunk(&self) -> Option<Chunk<'a>> {
        self.chunks().next()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> SctpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 0, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the verification tag.
    pub fn set_verification_tag(&mut self, value: u32) {
        write32(self.buffer.as_mut(), 4, value);
    }

    /// Computes the CRC32c over the whole buffer and writes it into the checksum field.
    pub fn fill_checksum(&mut self) {
        let c = compute_checksum(self.buffer.as_ref());
        self.buffer.as_mut()[8..12].copy_from_slice(&c.to_le_bytes());
    }

    /// Computes the checksum of `kind` over the whole buffer and writes it into the checksum field.
    pub fn fill_checksum_as(&mut self, kind: SctpChecksum) {
        match kind {
            SctpChecksum::Crc32c => self.fill_checksum(),
            SctpChecksum::Adler32 => {
                let c = adler32_zeroed(self.buffer.as_ref());
                self.buffer.as_mut()[8..12].copy_from_slice(&c.to_be_bytes());
            }
        }
    }
}

/// The Adler-32 of `packet` with its checksum field taken as zero.
fn adler32_zeroed(packet: &[u8]) -> u32 {
    let zeroed = [0u8; 4];
    crate::adler32::adler32_of(packet[..8].iter().chain(&zeroed).chain(&packet[HEADER_LEN..]).copied())
}

/// The CRC32c of `packet` with its checksum field (bytes 8..12) taken as zero.
fn compute_checksum(packet: &[u8]) -> u32 {
    let mut zeroed = [0u8; HEADER_LEN];
    zeroed[..8].copy_from_slice(&packet[..8]);
    // CRC32c over the header with a zero checksum, then the rest, in one pass.
    let crc = zeroed.iter().chain(&packet[HEADER_LEN..]).fold(!0u32, |crc, &b| step(crc, b));
    !crc
}

/// An SCTP common header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SctpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
}

/// A chunk to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkRepr<'a> {
    /// INIT (or INIT ACK with `cookie`): the sender's tag, receive window, stream counts and first TSN.
    Init {
        /// INIT ACK (with a State Cookie parameter holding `cookie`) rather than INIT.
        ack: bool,
        /// The tag the peer must put in every packet to the sender.
        initiate_tag: u32,
        /// Advertised receiver window credit.
        a_rwnd: u32,
        /// Outbound streams.
        outbound_streams: u16,
        /// Maximum inbound streams.
        inbound_streams: u16,
        /// Initial TSN.
        initial_tsn: u32,
        /// The State Cookie (INIT ACK only; ignored for INIT).
        cookie: &'a [u8],
    },
    /// ABORT without error causes; `t` sets the T bit.
    Abort {
        /// The T bit: the tag is the receiver's own, reflected.
        t: bool,
    },
    /// COOKIE ECHO with this cookie.
    CookieEcho {
        /// The State Cookie being echoed.
        cookie: &'a [u8],
    },
    /// COOKIE ACK.
    CookieAck,
}

impl ChunkRepr<'_> {
    /// The chunk's length field (header and value, no padding).
    pub fn chunk_len(&self) -> usize {
        CHUNK_HEADER_LEN
            + match self {
                ChunkRepr::Init { ack: true, cookie, .. } => INIT_FIXED_LEN + 4 + cookie.len(),
                ChunkRepr::Init { ack: false, .. } => INIT_FIXED_LEN,
                ChunkRepr::Abort { .. } | ChunkRepr::CookieAck => 0,
                ChunkRepr::CookieEcho { cookie } => cookie.len(),
            }
    }

    /// The bytes it takes, padded to a multiple of four.
    pub fn buffer_len(&self) -> usize {
        self.chunk_len().next_multiple_of(4)
    }

    /// Parses a chunk this type represents; `Unrecognized` for other types, `Truncated` for an INIT or
    /// INIT ACK shorter than its fixed part.
    pub fn parse<'c>(c: &Chunk<'c>) -> Result<ChunkRepr<'c>> {
        match c.kind {
            chunk::INIT | chunk::INIT_ACK => {
                if c.value.len() < INIT_FIXED_LEN {
                    return Err(Error::Truncated);
                }
                let v = c.value;
                let ack = c.kind == chunk::INIT_ACK;
                let cookie =
                    if ack { find_param(&v[INIT_FIXED_LEN..], PARAM_STATE_COOKIE).unwrap_or(&[]) } else { &[] };
                Ok(ChunkRepr::Init {
                    ack,
                    initiate_tag: read32(v, 0),
                    a_rwnd: read32(v, 4),
                    outbound_streams: read16(v, 8),
                    inbound_streams: read16(v, 10),
                    initial_tsn: read32(v, 12),
                    cookie,
                })
            }
            chunk::ABORT => Ok(ChunkRepr::Abort { t: c.flags & FLAG_T != 0 }),
            chunk::COOKIE_ECHO => Ok(ChunkRepr::CookieEcho { cookie: c.value }),
            chunk::COOKIE_ACK => Ok(ChunkRepr::CookieAck),
            _ => Err(Error::Unrecognized),
        }
    }

    /// Writes the chunk (header, value, zero padding) at the start of `out`, which holds
    /// [`ChunkRepr::buffer_len`] bytes at least.
    fn emit(&self, out: &mut [u8]) {
        let len = self.chunk_len();
        out[..self.buffer_len()].fill(0);
        let (kind, flags) = match self {
            ChunkRepr::Init { ack: false, .. } => (chunk::INIT, 0),
            ChunkRepr::Init { ack: true, .. } => (chunk::INIT_ACK, 0),
            ChunkRepr::Abort { t } => (chunk::ABORT, if *t { FLAG_T } else { 0 }),
            ChunkRepr::CookieEcho { .. } => (chunk::COOKIE_ECHO, 0),
            ChunkRepr::CookieAck => (chunk::COOKIE_ACK, 0),
        };
        out[0] = kind;
        out[1] = flags;
        write16(out, 2, len as u16);
        let v = &mut out[CHUNK_HEADER_LEN..len];
        match self {
            ChunkRepr::Init { ack, initiate_tag, a_rwnd, outbound_streams, inbound_streams, initial_tsn, cookie } => {
                write32(v, 0, *initiate_tag);
                write32(v, 4, *a_rwnd);
                write16(v, 8, *outbound_streams);
                write16(v, 10, *inbound_streams);
                write32(v, 12, *initial_tsn);
                if *ack {
                    write16(v, 16, PARAM_STATE_COOKIE);
                    write16(v, 18, (4 + cookie.len()) as u16);
                    v[20..20 + cookie.len()].copy_from_slice(cookie);
                }
            }
            ChunkRepr::CookieEcho { cookie } => v.copy_from_slice(cookie),
            ChunkRepr::Abort { .. } | ChunkRepr::CookieAck => {}
        }
    }
}

/// The value of the first parameter of type `kind` in a run of TLV parameters (each padded to four bytes).
fn find_param(mut params: &[u8], kind: u16) -> Option<&[u8]> {
    while params.len() >= 4 {
        let (t, len) = (read16(params, 0), usize::from(read16(params, 2)));
        if len < 4 || len > params.len() {
            return None;
        }
        if t == kind {
            return Some(&params[4..len]);
        }
        params = params.get(len.next_multiple_of(4)..)?;
    }
    None
}

impl SctpRepr {
    /// Reads a checked packet's common header.
    pub fn parse<T: AsRef<[u8]>>(packet: &SctpPacket<T>) -> SctpRepr {
        SctpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            verification_tag: packet.verification_tag(),
        }
    }

    /// The bytes of a packet holding `chunks`.
    pub fn buffer_len(chunks: &[ChunkRepr<'_>]) -> usize {
        HEADER_LEN + chunks.iter().map(ChunkRepr::buffer_len).sum::<usize>()
    }

    /// Writes the header and `chunks` into `packet` (exactly [`SctpRepr::buffer_len`] bytes) and fills the
    /// checksum. `Exhausted` when the buffer's length differs or a chunk is too long for its length field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut SctpPacket<T>,
        chunks: &[ChunkRepr<'_>],
    ) -> Result<()> {
        if packet.buffer.as_ref().len() != Self::buffer_len(chunks)
            || chunks.iter().any(|c| c.chunk_len() > usize::from(u16::MAX))
        {
            return Err(Error::Exhausted);
        }
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_verification_tag(self.verification_tag);
        let b = packet.buffer.as_mut();
        b[8..12].fill(0);
        let mut at = HEADER_LEN;
        for c in chunks {
            c.emit(&mut b[at..]);
            at += c.buffer_len();
        }
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An INIT from port 40000 to 80, tag 0, initiate tag 0x01020304, a_rwnd 0x10000, 10 streams each way,
    /// TSN 0x0a0b0c0d; its CRC32c worked out independently (the table-less bitwise CRC in `bitwise`).
    fn init_bytes() -> Vec<u8> {
        #[rustfmt::skip]
        let mut b = vec![
            0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0,
            1, 0, 0, 20, 1, 2, 3, 4, 0, 1, 0, 0, 0, 10, 0, 10, 0x0a, 0x0b, 0x0c, 0x0d,
        ];
        let crc = bitwise(&b);
        b[8..12].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// CRC32c bit by bit, independent of the table.
    fn bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn deconstruct_init() {
        let b = init_bytes();
        let p = SctpPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.verification_tag()), (40000, 80, 0));
        assert!(p.verify_checksum());
        let c = p.first_chunk().unwrap();
        assert_eq!((c.kind, c.flags, c.value.len(), c.initiate_tag()), (chunk::INIT, 0, 16, Some(0x0102_0304)));
        assert_eq!(
            ChunkRepr::parse(&c),
            Ok(ChunkRepr::Init {
                ack: false,
                initiate_tag: 0x0102_0304,
                a_rwnd: 0x10000,
                outbound_streams: 10,
                inbound_streams: 10,
                initial_tsn: 0x0a0b_0c0d,
                cookie: &[],
            })
        );
        assert!(!p.verify_checksum_as(SctpChecksum::Adler32));
        let mut bad = b.clone();
        bad[20] ^= 1;
        assert!(!SctpPacket::new_checked(&bad[..]).unwrap().verify_checksum());
    }

    #[test]
    fn emit_matches_the_fixture() {
        let chunks = [ChunkRepr::Init {
            ack: false,
            initiate_tag: 0x0102_0304,
            a_rwnd: 0x10000,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: 0x0a0b_0c0d,
            cookie: &[],
        }];
        let mut buf = vec![0u8; SctpRepr::buffer_len(&chunks)];
        let r = SctpRepr { src_port: 40000, dst_port: 80, verification_tag: 0 };
        r.emit(&mut SctpPacket::new_unchecked(&mut buf[..]), &chunks).unwrap();
        assert_eq!(buf, init_bytes());
        assert_eq!(r.emit(&mut SctpPacket::new_unchecked(&mut buf[..31]), &chunks), Err(Error::Exhausted));
    }

    #[test]
    fn round_trip_every_chunk_with_padding() {
        let cookie = [7u8; 5];
        let chunks = [
            ChunkRepr::Init {
                ack: true,
                initiate_tag: 9,
                a_rwnd: 1,
                outbound_streams: 2,
                inbound_streams: 3,
                initial_tsn: 4,
                cookie: &cookie,
            },
            ChunkRepr::Abort { t: true },
            ChunkRepr::CookieEcho { cookie: &cookie },
            ChunkRepr::CookieAck,
        ];
        let mut buf = vec![0xeeu8; SctpRepr::buffer_len(&chunks)];
        assert_eq!(buf.len(), 12 + 32 + 4 + 12 + 4);
        let r = SctpRepr { src_port: 1, dst_port: 2, verification_tag: 0xdead_beef };
        r.emit(&mut SctpPacket::new_unchecked(&mut buf[..]), &chunks).unwrap();
        let p = SctpPacket::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.checksum(), bitwise(&[&buf[..8], &[0; 4], &buf[12..]].concat()));
        assert_eq!(SctpRepr::parse(&p), r);
        let back: Vec<ChunkRepr> = p.chunks().map(|c| ChunkRepr::parse(&c).unwrap()).collect();
        assert_eq!(back, chunks);
        assert_eq!(p.chunks().nth(1).map(|c| c.flags), Some(FLAG_T));
    }

    /// RFC 2960's checksum: Adler-32 of the packet with a zero field, most significant byte first (the
    /// value worked out with Python's `zlib.adler32`), which a CRC32c check refuses and the reverse.
    #[test]
    fn adler32_checksum_is_stored_big_endian() {
        let mut b = init_bytes();
        let mut p = SctpPacket::new_unchecked(&mut b[..]);
        p.fill_checksum_as(SctpChecksum::Adler32);
        assert_eq!(&b[8..12], &[0x27, 0x55, 0x01, 0x8f]);
        let p = SctpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum_as(SctpChecksum::Adler32));
        assert!(!p.verify_checksum_as(SctpChecksum::Crc32c));
        let mut q = SctpPacket::new_unchecked(b.clone());
        q.fill_checksum_as(SctpChecksum::Crc32c);
        assert_eq!(
            q.checksum(),
            bitwise(&init_bytes()[..8].iter().chain(&[0; 4]).chain(&b[12..]).copied().collect::<Vec<_>>())
        );
    }

    #[test]
    fn truncated_and_malformed_chunks_end_the_walk() {
        let b = init_bytes();
        assert_eq!(SctpPacket::new_checked(&b[..11]).unwrap_err(), Error::Truncated);
        // Header only: no chunks. Half a chunk: none either.
        assert_eq!(SctpPacket::new_checked(&b[..12]).unwrap().chunks().count(), 0);
        assert_eq!(SctpPacket::new_checked(&b[..20]).unwrap().chunks().count(), 0);
        // A chunk length below 4 stops the walk instead of looping.
        let mut zero = b.clone();
        zero[14..16].copy_from_slice(&[0, 0]);
        assert_eq!(SctpPacket::new_checked(&zero[..]).unwrap().chunks().count(), 0);
        // A short INIT value is refused by the representation, not by the view.
        let mut short = b[..24].to_vec();
        short[14..16].copy_from_slice(&[0, 12]);
        let p = SctpPacket::new_checked(&short[..]).unwrap();
        let c = p.first_chunk().unwrap();
        assert_eq!(ChunkRepr::parse(&c), Err(Error::Truncated));
        assert_eq!(c.initiate_tag(), Some(0x0102_0304));
        let unknown = Chunk { kind: 200, flags: 0, value: &[] };
        assert_eq!(ChunkRepr::parse(&unknown), Err(Error::Unrecognized));
    }

    #[test]
    fn any_bytes_parse_without_panicking() {
        let mut state = 0x1234_5678u32;
        for len in 0..80 {
            for _ in 0..50 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        state as u8
                    })
                    .collect();
                if let Ok(p) = SctpPacket::new_checked(&bytes[..]) {
                    let _ = p.verify_checksum();
                    for c in p.chunks() {
                        let _ = ChunkRepr::parse(&c);
                        let _ = c.initiate_tag();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod capture {
    use super::*;

    /// nmap 7.93's `-sY` probe to port 80, as captured on the target's link: its checksum verifies, so
    /// the byte order of ours is what real stacks read.
    #[test]
    fn nmaps_init_verifies() {
        let hex = "c49f0050000000008e857616010000149460e7ff00008000000a0800e09dadc4";
        let b: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        let p = SctpPacket::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.first_chunk().and_then(|c| c.initiate_tag()), Some(0x9460_e7ff));
        let mut again = b.clone();
        SctpPacket::new_unchecked(&mut again[..]).fill_checksum();
        assert_eq!(again, b);
    }
}
