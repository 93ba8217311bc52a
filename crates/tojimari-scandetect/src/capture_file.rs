//! The pcap and pcapng file formats, read record by record from any [`Read`] (a file, standard input), in
//! bounded memory whatever the file says.
//!
//! - Classic pcap: the magic says the byte order and the timestamp unit (`a1b2c3d4`: microseconds,
//!   `a1b23c4d`: nanoseconds). Records may be shorter than the packet on the wire (`tcpdump -s 128`).
//! - pcapng: sections (each with its own byte order), interfaces (link type and timestamp resolution,
//!   `if_tsresol`: 10^-n or 2^-n seconds, microseconds when absent), enhanced and simple packet blocks;
//!   other blocks are skipped.
//!
//! Limits: a packet record holds at most [`MAX_PACKET`] bytes (256 KiB, the largest snap length tcpdump
//! writes), a pcapng block at most [`MAX_BLOCK`] bytes; a length field past these is an error naming the
//! packet, and nothing is ever allocated from a length field before it was checked. So one reader holds at
//! most one block in memory.

use std::io::{self, Read};

use crate::time::Timestamp;

/// The most bytes one packet record may hold.
pub const MAX_PACKET: usize = 256 * 1024;
/// The most bytes one pcapng block may hold: a packet plus room for its options.
pub const MAX_BLOCK: usize = MAX_PACKET + 64 * 1024;

/// One captured frame.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The link-type number (LINKTYPE_*) of the frame's interface.
    pub linktype: u32,
    /// When it was captured; a pcapng simple packet block carries no time and gets `None`.
    pub ts: Option<Timestamp>,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Why a capture could not be read further.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The first bytes are not a pcap or pcapng header.
    #[error("{0}")]
    Header(String),
    /// Packet `index` (0-based count of the packets before it) could not be read.
    #[error("{reason}")]
    Packet {
        /// Packets read before the damage.
        index: u64,
        /// What was wrong.
        reason: String,
    },
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Little,
    Big,
}

impl Order {
    fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self {
            Order::Little => u16::from_le_bytes(a),
            Order::Big => u16::from_be_bytes(a),
        }
    }

    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            Order::Little => u32::from_le_bytes(a),
            Order::Big => u32::from_be_bytes(a),
        }
    }
}

/// Timestamp units per second of a pcapng interface, from its `if_tsresol` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resolution(u128);

impl Resolution {
    const MICROS: Resolution = Resolution(1_000_000);

    /// `if_tsresol`: the high bit clear means 10^-n seconds, set means 2^-n.
    fn from_tsresol(value: u8) -> Option<Resolution> {
        let n = u32::from(value & 0x7f);
        let units = if value & 0x80 == 0 { 10u128.checked_pow(n)? } else { 1u128.checked_shl(n)? };
        Some(Resolution(units))
    }

    fn to_timestamp(self, ticks: u64) -> Option<Timestamp> {
        let micros = u128::from(ticks) * 1_000_000 / self.0;
        u64::try_from(micros).ok().map(Timestamp::from_micros)
    }
}

#[derive(Debug)]
enum Format {
    Pcap { order: Order, nanos: bool, linktype: u32 },
    PcapNg { order: Order, interfaces: Vec<(u32, Resolution)> },
}

/// Reads a pcap or pcapng capture record by record.
#[derive(Debug)]
pub struct CaptureReader<R> {
    reader: R,
    format: Format,
    buf: Vec<u8>,
    /// Packets returned so far.
    packets: u64,
}

const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

impl<R: Read> CaptureReader<R> {
    /// Reads the file header and the first pcapng section header.
    pub fn new(mut reader: R) -> Result<CaptureReader<R>, FormatError> {
        let mut magic = [0u8; 4];
        if !read_full(&mut reader, &mut magic)? {
            return Err(FormatError::Header("empty file".into()));
        }
        let not_capture = || {
            let [a, b, c, d] = magic;
            FormatError::Header(format!(
                "it starts with {a:02x} {b:02x} {c:02x} {d:02x}, which is no capture magic number"
            ))
        };
        if u32::from_le_bytes(magic) == PCAPNG_SHB {
            let mut capture = CaptureReader {
                reader,
                format: Format::PcapNg { order: Order::Little, interfaces: Vec::new() },
                buf: Vec::new(),
                packets: 0,
            };
            capture.section_header().map_err(|e| match e {
                FormatError::Packet { reason, .. } => FormatError::Header(reason),
                other => other,
            })?;
            return Ok(capture);
        }
        let (order, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Order::Little, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Order::Big, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Order::Little, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Order::Big, true),
            _ => return Err(not_capture()),
        };
        let mut rest = [0u8; 20];
        if !read_full(&mut reader, &mut rest)? {
            return Err(FormatError::Header("pcap header cut short".into()));
        }
        // version (4), thiszone (4), sigfigs (4), snaplen (4), link type (4): the upper bits of the link
        // type field carry FCS details, the link type proper is the low 16.
        let linktype = order.u32(&rest[16..]) & 0xffff;
        Ok(CaptureReader { reader, format: Format::Pcap { order, nanos, linktype }, buf: Vec::new(), packets: 0 })
    }

    /// The next frame, or `None` at a clean end of file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, FormatError> {
        let frame = match self.format {
            Format::Pcap { order, nanos, linktype } => self.pcap_record(order, nanos, linktype)?,
            Format::PcapNg { .. } => self.pcapng_packet()?,
        };
        let Some((linktype, ts, len)) = frame else { return Ok(None) };
        self.packets += 1;
        Ok(Some(Frame { linktype, ts, data: &self.buf[..len] }))
    }

    fn corrupt(&self, reason: impl Into<String>) -> FormatError {
        FormatError::Packet { index: self.packets, reason: reason.into() }
    }

    /// Reads `len` bytes into the buffer; a short read is a cut-off capture.
    fn fill(&mut self, len: usize) -> Result<(), FormatError> {
        self.buf.resize(len, 0);
        let mut buf = std::mem::take(&mut self.buf);
        let complete = read_full(&mut self.reader, &mut buf);
        self.buf = buf;
        if complete? { Ok(()) } else { Err(self.corrupt("file cut short in the middle of a record")) }
    }

    fn pcap_record(
        &mut self,
        order: Order,
        nanos: bool,
        linktype: u32,
    ) -> Result<Option<(u32, Option<Timestamp>, usize)>, FormatError> {
        let mut header = [0u8; 16];
        match read_some(&mut self.reader, &mut header)? {
            0 => return Ok(None),
            16 => {}
            _ => return Err(self.corrupt("file cut short in a record header")),
        }
        let (secs, frac, incl_len) = (order.u32(&header), order.u32(&header[4..]), order.u32(&header[8..]));
        let micros = if nanos { frac / 1000 } else { frac };
        if micros >= 1_000_000 {
            return Err(self.corrupt(format!("timestamp fraction {frac} out of range")));
        }
        let len = usize::try_from(incl_len).unwrap_or(usize::MAX);
        if len > MAX_PACKET {
            return Err(self.corrupt(format!("record length {incl_len} is past the {MAX_PACKET}-byte limit")));
        }
        self.fill(len)?;
        let ts = Timestamp::from_micros(u64::from(secs) * 1_000_000 + u64::from(micros));
        Ok(Some((linktype, Some(ts), len)))
    }

    /// Reads one pcapng block after its type: checks the length and leaves the body in the buffer.
    fn block_body(&mut self, order: Order) -> Result<usize, FormatError> {
        let mut len = [0u8; 4];
        if !read_full(&mut self.reader, &mut len)? {
            return Err(self.corrupt("file cut short in a block header"));
        }
        let total = order.u32(&len);
        let total_len = usize::try_from(total).unwrap_or(usize::MAX);
        if total_len < 12 || !total_len.is_multiple_of(4) {
            return Err(self.corrupt(format!("block length {total} is not a valid pcapng block length")));
        }
        if total_len > MAX_BLOCK {
            return Err(self.corrupt(format!("block length {total} is past the {MAX_BLOCK}-byte limit")));
        }
        // Body and the trailing copy of the length.
        self.fill(total_len - 8)?;
        let body = total_len - 12;
        if order.u32(&self.buf[body..]) != total {
            return Err(self.corrupt("block lengths at its start and end differ"));
        }
        Ok(body)
    }

    /// A section header block, its type already read.
    fn section_header(&mut self) -> Result<(), FormatError> {
        let mut len = [0u8; 4];
        let mut magic = [0u8; 4];
        if !read_full(&mut self.reader, &mut len)? || !read_full(&mut self.reader, &mut magic)? {
            return Err(self.corrupt("file cut short in a section header"));
        }
        let order = match u32::from_le_bytes(magic) {
            BYTE_ORDER_MAGIC => Order::Little,
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => Order::Big,
            _ => return Err(self.corrupt("section header without the byte-order magic")),
        };
        let total = order.u32(&len);
        let total_len = usize::try_from(total).unwrap_or(usize::MAX);
        if !(28..=MAX_BLOCK).contains(&total_len) || !total_len.is_multiple_of(4) {
            return Err(self.corrupt(format!("section header length {total} is not valid (28 to {MAX_BLOCK} bytes)")));
        }
        self.fill(total_len - 12)?;
        if order.u32(&self.buf[total_len - 16..]) != total {
            return Err(self.corrupt("block lengths at its start and end differ"));
        }
        self.format = Format::PcapNg { order, interfaces: Vec::new() };
        Ok(())
    }

    fn pcapng_packet(&mut self) -> Result<Option<(u32, Option<Timestamp>, usize)>, FormatError> {
        loop {
            let Format::PcapNg { order, .. } = self.format else { return Ok(None) };
            let mut kind = [0u8; 4];
            match read_some(&mut self.reader, &mut kind)? {
                0 => return Ok(None),
                4 => {}
                _ => return Err(self.corrupt("file cut short in a block header")),
            }
            if u32::from_le_bytes(kind) == PCAPNG_SHB {
                self.section_header()?;
                continue;
            }
            let kind = order.u32(&kind);
            let body = self.block_body(order)?;
            match kind {
                // Interface description: link type, reserved, snap length, options.
                1 => {
                    if body < 8 {
                        return Err(self.corrupt("interface description block too short"));
                    }
                    let linktype = u32::from(order.u16(&self.buf));
                    let resolution = self.tsresol(order, 8, body)?;
                    if let Format::PcapNg { interfaces, .. } = &mut self.format {
                        interfaces.push((linktype, resolution));
                    }
                }
                // Enhanced packet: interface, timestamp (high, low), captured and original length, data.
                6 => {
                    if body < 20 {
                        return Err(self.corrupt("enhanced packet block too short"));
                    }
                    let interface = order.u32(&self.buf);
                    let ticks = (u64::from(order.u32(&self.buf[4..])) << 32) | u64::from(order.u32(&self.buf[8..]));
                    let captured = usize::try_from(order.u32(&self.buf[12..])).unwrap_or(usize::MAX);
                    if captured > MAX_PACKET {
                        return Err(
                            self.corrupt(format!("packet length {captured} is past the {MAX_PACKET}-byte limit"))
                        );
                    }
                    if captured > body - 20 {
                        return Err(self.corrupt(format!("packet length {captured} is past the end of its block")));
                    }
                    let (linktype, resolution) = self.interface(interface)?;
                    let ts = resolution
                        .to_timestamp(ticks)
                        .ok_or_else(|| self.corrupt(format!("timestamp {ticks} out of range")))?;
                    self.buf.copy_within(20..20 + captured, 0);
                    return Ok(Some((linktype, Some(ts), captured)));
                }
                // Simple packet: original length, data (as much as the block holds); no time.
                3 => {
                    if body < 4 {
                        return Err(self.corrupt("simple packet block too short"));
                    }
                    let original = usize::try_from(order.u32(&self.buf)).unwrap_or(usize::MAX);
                    let (linktype, _) = self.interface(0)?;
                    let captured = original.min(body - 4);
                    self.buf.copy_within(4..4 + captured, 0);
                    return Ok(Some((linktype, None, captured)));
                }
                _ => {}
            }
        }
    }

    fn interface(&self, id: u32) -> Result<(u32, Resolution), FormatError> {
        let Format::PcapNg { interfaces, .. } = &self.format else { return Err(self.corrupt("not pcapng")) };
        usize::try_from(id)
            .ok()
            .and_then(|i| interfaces.get(i).copied())
            .ok_or_else(|| self.corrupt(format!("packet of interface {id}, which was never described")))
    }

    /// The `if_tsresol` option (code 9) among the options in `buf[start..end]`; microseconds when absent.
    fn tsresol(&self, order: Order, start: usize, end: usize) -> Result<Resolution, FormatError> {
        let mut at = start;
        while at + 4 <= end {
            let code = order.u16(&self.buf[at..]);
            let len = usize::from(order.u16(&self.buf[at + 2..]));
            let value = at + 4;
            if code == 0 || value + len > end {
                break;
            }
            if code == 9 && len >= 1 {
                let raw = self.buf[value];
                return Resolution::from_tsresol(raw)
                    .ok_or_else(|| self.corrupt(format!("interface timestamp resolution {raw:#04x} out of range")));
            }
            at = value + len.div_ceil(4) * 4;
        }
        Ok(Resolution::MICROS)
    }
}

/// Fills `buf` completely: `false` at a clean end of file before the first byte, an error for a partial
/// fill is left to the caller by [`read_some`]; here a partial fill also gives `false`.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<bool> {
    Ok(read_some(reader, buf)? == buf.len())
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[path = "capture_file_tests.rs"]
mod tests;
