//! TCP segments (RFC 9293 section 3.1) and the options a probe or a stack's fingerprint uses: MSS (kind 2),
//! window scale (3, RFC 7323), SACK permitted (4, RFC 2018) and timestamps (8, RFC 7323).

use crate::bytes::{read16, read32, write16, write32};
use crate::{Error, Result, checksum, ip_protocol};
use std::net::IpAddr;

/// Control flags (RFC 9293 section 3.1, RFC 3168 for ECE/CWR), as bits of the flags byte.
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN-Echo.
    pub const ECE: u8 = 0x40;
    /// Congestion Window Reduced.
    pub const CWR: u8 = 0x80;
}

/// Header length without options.
pub const HEADER_LEN: usize = 20;

/// Option kinds.
pub mod option_kind {
    /// End of option list.
    pub const END: u8 = 0;
    /// No-operation (padding).
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale.
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted.
    pub const SACK_PERMITTED: u8 = 4;
    /// Timestamps.
    pub const TIMESTAMPS: u8 = 8;
}

/// A view over a TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Wraps `buffer`, checking that the header, options included, is present and its data offset valid.
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let p = TcpPacket { buffer };
        if p.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if p.buffer.as_ref().len() < p.header_len() {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        read32(self.buffer.as_ref(), 4)
    }

    /// Acknowledgment number.
    pub fn ack_number(&self) -> u32 {
        read32(self.buffer.as_ref(), 8)
    }

    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[12] >> 4) * 4
    }

    /// The flags byte ([`flags`]).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[13]
    }

    /// Window.
    pub fn window_len(&self) -> u16 {
        read16(self.buffer.as_ref(), 14)
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        read16(self.buffer.as_ref(), 16)
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        read16(self.buffer.as_ref(), 18)
    }

    /// Whether the checksum over the pseudo-header and the whole buffer is right.
    #[inline]
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        let b = self.buffer.as_ref();
        checksum::verify(checksum::pseudo_header(src, dst, ip_protocol::TCP, b.len() as u32), b)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> TcpPacket<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The options block.
    pub fn options(&self) -> &'a [u8] {
        &self.bytes()[HEADER_LEN..self.header_len()]
    }

    /// The options, in wire order.
    pub fn option_iter(&self) -> TcpOptions<'a> {
        TcpOptions::new(self.options())
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 0, value);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, value: u32) {
        write32(self.buffer.as_mut(), 4, value);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, value: u32) {
        write32(self.buffer.as_mut(), 8, value);
    }

    /// Sets the header length in bytes (a multiple of 4); the reserved bits are cleared.
    pub fn set_header_len(&mut self, len: usize) {
        self.buffer.as_mut()[12] = ((len / 4) as u8) << 4;
    }

    /// Sets the flags byte.
    pub fn set_flags(&mut self, value: u8) {
        self.buffer.as_mut()[13] = value;
    }

    /// Sets the window.
    pub fn set_window_len(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 14, value);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 16, value);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 18, value);
    }

    /// The options block, mutably (the header length must be set).
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }

    /// Computes the checksum over the pseudo-header and the whole buffer (the segment) and writes it.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        self.set_checksum(0);
        let c = checksum::upper_layer(src, dst, ip_protocol::TCP, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// One TCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// No-operation.
    NoOperation,
    /// Maximum segment size.
    MaxSegmentSize(u16),
    /// Window scale shift.
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// Timestamps: value and echo reply.
    Timestamps(u32, u32),
    /// Any other kind, or a known kind with an unexpected length.
    Unknown {
        /// The kind.
        kind: u8,
        /// The value bytes (after kind and length).
        data: &'a [u8],
    },
    /// An option whose length byte is missing, below 2 or past the block; the walk ends after it.
    Malformed {
        /// The kind.
        kind: u8,
    },
}

impl TcpOption<'_> {
    /// The option's kind byte.
    #[inline]
    pub fn kind(&self) -> u8 {
        match *self {
            TcpOption::NoOperation => option_kind::NOP,
            TcpOption::MaxSegmentSize(_) => option_kind::MSS,
            TcpOption::WindowScale(_) => option_kind::WINDOW_SCALE,
            TcpOption::SackPermitted => option_kind::SACK_PERMITTED,
            TcpOption::Timestamps(..) => option_kind::TIMESTAMPS,
            TcpOption::Unknown { kind, .. } | TcpOption::Malformed { kind } => kind,
        }
    }
}

/// The options of a block in wire order, up to end-of-list or a malformed option.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Iterates over an options block.
    #[inline]
    pub fn new(block: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions { rest: block }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;

    #[inline]
    fn next(&mut self) -> Option<TcpOption<'a>> {
        let (&kind, after) = self.rest.split_first()?;
        match kind {
            option_kind::END => {
                self.rest = &[];
                return None;
            }
            option_kind::NOP => {
                self.rest = after;
                return Some(TcpOption::NoOperation);
            }
            _ => {}
        }
        let len = after.first().map(|&l| usize::from(l));
        let Some(len) = len.filter(|&l| l >= 2 && l <= self.rest.len()) else {
            self.rest = &[];
            return Some(TcpOption::Malformed { kind });
        };
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        Some(match (kind, data) {
            (option_kind::MSS, [a, b]) => TcpOption::MaxSegmentSize(u16::from_be_bytes([*a, *b])),
            (option_kind::WINDOW_SCALE, [s]) => TcpOption::WindowScale(*s),
            (option_kind::SACK_PERMITTED, []) => TcpOption::SackPermitted,
            (option_kind::TIMESTAMPS, [a, b, c, d, e, f, g, h]) => {
                TcpOption::Timestamps(u32::from_be_bytes([*a, *b, *c, *d]), u32::from_be_bytes([*e, *f, *g, *h]))
            }
            _ => TcpOption::Unknown { kind, data },
        })
    }
}

/// A TCP header with the options tojimari reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number (written as is, whether or not ACK is set).
    pub ack_number: u32,
    /// Flags ([`flags`]).
    pub flags: u8,
    /// Window.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// Timestamps option (value, echo reply).
    pub timestamps: Option<(u32, u32)>,
}

impl TcpRepr {
    /// Reads a checked segment's header and the known options (others are skipped; a malformed option ends
    /// the walk without failing the parse; the checksum is not verified).
    pub fn parse<T: AsRef<[u8]>>(packet: &TcpPacket<T>) -> Result<TcpRepr> {
        let mut repr = TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            flags: packet.flags(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            ..TcpRepr::default()
        };
        for option in TcpOptions::new(&packet.buffer.as_ref()[HEADER_LEN..packet.header_len()]) {
            match option {
                TcpOption::MaxSegmentSize(m) => repr.max_seg_size = Some(m),
                TcpOption::WindowScale(s) => repr.window_scale = Some(s),
                TcpOption::SackPermitted => repr.sack_permitted = true,
                TcpOption::Timestamps(v, e) => repr.timestamps = Some((v, e)),
                _ => {}
            }
        }
        Ok(repr)
    }

    fn options_len(&self) -> usize {
        let mss = if self.max_seg_size.is_some() { 4 } else { 0 };
        let sack_ts = match (self.sack_permitted, self.timestamps.is_some()) {
            (_, true) => 12,
            (true, false) => 4,
            (false, false) => 0,
        };
        let ws = if self.window_scale.is_some() { 4 } else { 0 };
        mss + sack_ts + ws
    }

    /// The header length, options included.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Writes the header into `packet` (at least [`TcpRepr::buffer_len`] bytes) with options laid out as
    /// Linux does (MSS; SACK-permitted and timestamps, NOP-padded; NOP and window scale). The checksum is
    /// left zero: fill it with [`TcpPacket::fill_checksum`] once the payload is in place.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut TcpPacket<T>) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        packet.set_header_len(self.buffer_len());
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_checksum(0);
        packet.set_urgent_at(self.urgent_at);
        let o = packet.options_mut();
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            o[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.max_seg_size {
            let [hi, lo] = mss.to_be_bytes();
            put(&[option_kind::MSS, 4, hi, lo]);
        }
        match (self.sack_permitted, self.timestamps) {
            (sack, Some((value, echo))) => {
                put(&if sack { [option_kind::SACK_PERMITTED, 2] } else { [option_kind::NOP, option_kind::NOP] });
                put(&[option_kind::TIMESTAMPS, 10]);
                put(&value.to_be_bytes());
                put(&echo.to_be_bytes());
            }
            (true, None) => put(&[option_kind::NOP, option_kind::NOP, option_kind::SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            put(&[option_kind::NOP, option_kind::WINDOW_SCALE, 3, shift]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    // 10.0.0.1:40000 -> 10.0.0.2:80, SYN, seq 0x01020304, window 1024, MSS 1460; checksum over the
    // pseudo-header computed by hand (RFC 1071).
    #[rustfmt::skip]
    const SYN: [u8; 24] = [
        0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0, 0x60, 0x02, 0x04, 0x00, 0xdf, 0x8d, 0x00, 0x00,
        0x02, 0x04, 0x05, 0xb4,
    ];
    // A Linux SYN-ACK's options: MSS, SACK permitted, timestamps, NOP, window scale 7.
    #[rustfmt::skip]
    const LINUX_OPTIONS: [u8; 20] = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7,
    ];

    fn addrs() -> (IpAddr, IpAddr) {
        (Ipv4Addr::new(10, 0, 0, 1).into(), Ipv4Addr::new(10, 0, 0, 2).into())
    }

    fn syn_repr() -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq_number: 0x0102_0304,
            flags: flags::SYN,
            window_len: 1024,
            max_seg_size: Some(1460),
            ..TcpRepr::default()
        }
    }

    #[test]
    fn deconstruct() {
        let p = TcpPacket::new_checked(&SYN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.seq_number(), p.ack_number()), (40000, 80, 0x0102_0304, 0));
        assert_eq!((p.header_len(), p.flags(), p.window_len(), p.checksum(), p.urgent_at()), (24, 2, 1024, 0xdf8d, 0));
        assert_eq!(p.option_iter().collect::<Vec<_>>(), [TcpOption::MaxSegmentSize(1460)]);
        assert!(p.payload().is_empty());
        let (s, d) = addrs();
        assert!(p.verify_checksum(s, d));
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 24];
        let mut p = TcpPacket::new_unchecked(&mut buf[..]);
        p.set_src_port(40000);
        p.set_dst_port(80);
        p.set_seq_number(0x0102_0304);
        p.set_ack_number(0);
        p.set_header_len(24);
        p.set_flags(flags::SYN);
        p.set_window_len(1024);
        p.set_urgent_at(0);
        p.options_mut().copy_from_slice(&[2, 4, 5, 0xb4]);
        let (s, d) = addrs();
        p.fill_checksum(s, d);
        assert_eq!(buf, SYN);
    }

    #[test]
    fn truncated() {
        assert_eq!(TcpPacket::new_checked(&SYN[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(TcpPacket::new_checked(&SYN[..23]).unwrap_err(), Error::Truncated);
        let mut bad = SYN;
        bad[12] = 0x40;
        assert_eq!(TcpPacket::new_checked(&bad[..]).unwrap_err(), Error::Malformed);
    }

    #[test]
    fn parse() {
        assert_eq!(TcpRepr::parse(&TcpPacket::new_checked(&SYN[..]).unwrap()), Ok(syn_repr()));
    }

    #[test]
    fn emit() {
        let r = syn_repr();
        assert_eq!(r.buffer_len(), 24);
        let mut buf = [0u8; 24];
        let mut p = TcpPacket::new_unchecked(&mut buf[..]);
        r.emit(&mut p);
        let (s, d) = addrs();
        p.fill_checksum(s, d);
        assert_eq!(buf, SYN);
    }

    #[test]
    fn linux_option_layout_round_trips() {
        let r = TcpRepr {
            max_seg_size: Some(1460),
            sack_permitted: true,
            timestamps: Some((1, 2)),
            window_scale: Some(7),
            ..TcpRepr::default()
        };
        let mut buf = [0u8; 40];
        r.emit(&mut TcpPacket::new_unchecked(&mut buf[..]));
        assert_eq!(&buf[20..40], &LINUX_OPTIONS);
        assert_eq!(TcpRepr::parse(&TcpPacket::new_checked(&buf[..]).unwrap()), Ok(r));
        for r in [TcpRepr { sack_permitted: false, ..r }, TcpRepr { timestamps: None, ..r }] {
            let mut buf = [0u8; 40];
            r.emit(&mut TcpPacket::new_unchecked(&mut buf[..r.buffer_len()]));
            assert_eq!(TcpRepr::parse(&TcpPacket::new_checked(&buf[..r.buffer_len()]).unwrap()), Ok(r));
        }
    }

    #[test]
    fn malformed_options_end_the_walk() {
        let block = [1, 2, 4, 5, 0xb4, 3, 1, 0, 9];
        let got: Vec<_> = TcpOptions::new(&block).collect();
        assert_eq!(got, [TcpOption::NoOperation, TcpOption::MaxSegmentSize(1460), TcpOption::Malformed { kind: 3 }]);
        let got: Vec<_> = TcpOptions::new(&[8, 40, 0]).collect();
        assert_eq!(got, [TcpOption::Malformed { kind: 8 }]);
        assert_eq!(TcpOptions::new(&[0, 2, 4, 5, 0xb4]).count(), 0);
        let got: Vec<_> = TcpOptions::new(&[2, 6, 0, 0, 0, 0]).collect();
        assert_eq!(got, [TcpOption::Unknown { kind: 2, data: &[0, 0, 0, 0] }]);
    }
}
