//! ICMP for IPv4 (RFC 792, RFC 950): echo, timestamp and address-mask queries, and the errors that quote
//! the start of the datagram that caused them (destination unreachable, time exceeded, parameter problem).
//!
//! Every message starts with type, code, checksum and four type-specific bytes (identifier and sequence
//! number for queries); [`Icmpv4Packet::data`] is what follows, the quoted datagram for errors.

use crate::bytes::{read16, read32, write16, write32};
use crate::{Error, Result, checksum};

/// Header length: type, code, checksum and the four "rest of header" bytes.
pub const HEADER_LEN: usize = 8;

/// ICMP message types (IANA).
pub mod message {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DST_UNREACHABLE: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP_REQUEST: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
    /// Address mask request (RFC 950).
    pub const ADDRESS_MASK_REQUEST: u8 = 17;
    /// Address mask reply (RFC 950).
    pub const ADDRESS_MASK_REPLY: u8 = 18;
}

/// Destination-unreachable codes tojimari tells apart.
pub mod unreachable {
    /// Port unreachable.
    pub const PORT: u8 = 3;
    /// Network administratively prohibited.
    pub const NET_PROHIBITED: u8 = 9;
    /// Host administratively prohibited.
    pub const HOST_PROHIBITED: u8 = 10;
    /// Communication administratively prohibited (RFC 1812).
    pub const COMM_PROHIBITED: u8 = 13;
}

/// A view over an ICMP message.
#[derive(Debug, Clone, Copy)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without checking it.
    pub fn new_unchecked(buffer: T) -> Icmpv4Packet<T> {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer`, checking that the 8-byte header is present.
    pub fn new_checked(buffer: T) -> Result<Icmpv4Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Icmpv4Packet { buffer })
    }

    /// Message type ([`message`]).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        read16(self.buffer.as_ref(), 2)
    }

    /// Identifier (queries).
    pub fn ident(&self) -> u16 {
        read16(self.buffer.as_ref(), 4)
    }

    /// Sequence number (queries).
    pub fn seq_no(&self) -> u16 {
        read16(self.buffer.as_ref(), 6)
    }

    /// Parameter-problem pointer.
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[4]
    }

    /// Whether the checksum over the whole buffer is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(0, self.buffer.as_ref())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Icmpv4Packet<&'a T> {
    /// The whole buffer, with the lifetime of the borrowed bytes.
    fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }

    /// The bytes after the 8-byte header: a query's body or an error's quoted datagram.
    pub fn data(&self) -> &'a [u8] {
        &self.bytes()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets the type.
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[0] = value;
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, value: u8) {
        self.buffer.as_mut()[1] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 2, value);
    }

    /// Sets the identifier.
    pub fn set_ident(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 4, value);
    }

    /// Sets the sequence number.
    pub fn set_seq_no(&mut self, value: u16) {
        write16(self.buffer.as_mut(), 6, value);
    }

    /// Sets the four "rest of header" bytes as one word (pointer and unused bytes of errors).
    pub fn set_rest_of_header(&mut self, value: u32) {
        write32(self.buffer.as_mut(), 4, value);
    }

    /// The bytes after the header, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }

    /// Computes the checksum over the whole buffer and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::sum(self.buffer.as_ref()));
        self.set_checksum(c);
    }
}

/// An ICMP message tojimari sends or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv4Repr<'a> {
    /// Echo request (type 8) or reply (type 0).
    Echo {
        /// Whether it is the reply.
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Timestamp request (13) or reply (14): originate, receive and transmit timestamps.
    Timestamp {
        /// Whether it is the reply.
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Originate, receive and transmit timestamps (ms since midnight UT).
        times: [u32; 3],
    },
    /// Address mask request (17) or reply (18).
    AddressMask {
        /// Whether it is the reply.
        reply: bool,
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// The subnet mask.
        mask: [u8; 4],
    },
    /// An error quoting a datagram: destination unreachable (3), time exceeded (11), parameter problem (12).
    Error {
        /// The type.
        msg_type: u8,
        /// The code.
        code: u8,
        /// The four "rest of header" bytes (the pointer of a parameter problem, a next-hop MTU).
        rest: u32,
        /// The quoted datagram (IP header and the first bytes of its payload).
        quoted: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Reads a checked message (the checksum is not verified). `Unrecognized` for other types; `Truncated`
    /// when a timestamp or address-mask message is shorter than its body; `Malformed` for a query whose code
    /// is not 0.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        use message::*;
        let b: &'a [u8] = packet.buffer.as_ref();
        let (ident, seq_no, data) = (packet.ident(), packet.seq_no(), &b[HEADER_LEN..]);
        let kind = packet.msg_type();
        // Queries have code 0 (RFC 792, RFC 950); anything else is not a query this layer can write back.
        let query = matches!(kind, ECHO_REQUEST | ECHO_REPLY | TIMESTAMP_REQUEST | TIMESTAMP_REPLY)
            || matches!(kind, ADDRESS_MASK_REQUEST | ADDRESS_MASK_REPLY);
        if query && packet.msg_code() != 0 {
            return Err(Error::Malformed);
        }
        Ok(match kind {
            ECHO_REQUEST | ECHO_REPLY => Icmpv4Repr::Echo { reply: kind == ECHO_REPLY, ident, seq_no, data },
            TIMESTAMP_REQUEST | TIMESTAMP_REPLY => {
                if data.len() < 12 {
                    return Err(Error::Truncated);
                }
                let times = [read32(data, 0), read32(data, 4), read32(data, 8)];
                Icmpv4Repr::Timestamp { reply: kind == TIMESTAMP_REPLY, ident, seq_no, times }
            }
            ADDRESS_MASK_REQUEST | ADDRESS_MASK_REPLY => {
                let mask = data.get(..4).ok_or(Error::Truncated)?;
                let mask = [mask[0], mask[1], mask[2], mask[3]];
                Icmpv4Repr::AddressMask { reply: kind == ADDRESS_MASK_REPLY, ident, seq_no, mask }
            }
            DST_UNREACHABLE | TIME_EXCEEDED | PARAM_PROBLEM => {
                Icmpv4Repr::Error { msg_type: kind, code: packet.msg_code(), rest: read32(b, 4), quoted: data }
            }
            _ => return Err(Error::Unrecognized),
        })
    }

    /// The message length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                Icmpv4Repr::Echo { data, .. } => data.len(),
                Icmpv4Repr::Timestamp { .. } => 12,
                Icmpv4Repr::AddressMask { .. } => 4,
                Icmpv4Repr::Error { quoted, .. } => quoted.len(),
            }
    }

    /// Writes the message, checksum included, into `packet` (exactly [`Icmpv4Repr::buffer_len`] bytes).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        use message::*;
        let pick = |reply: bool, request: u8, answer: u8| if reply { answer } else { request };
        packet.set_msg_code(0);
        match *self {
            Icmpv4Repr::Echo { reply, ident, seq_no, data } => {
                packet.set_msg_type(pick(reply, ECHO_REQUEST, ECHO_REPLY));
                packet.set_ident(ident);
                packet.set_seq_no(seq_no);
                packet.data_mut()[..data.len()].copy_from_slice(data);
            }
            Icmpv4Repr::Timestamp { reply, ident, seq_no, times } => {
                packet.set_msg_type(pick(reply, TIMESTAMP_REQUEST, TIMESTAMP_REPLY));
                packet.set_ident(ident);
                packet.set_seq_no(seq_no);
                for (i, t) in times.iter().enumerate() {
                    write32(packet.data_mut(), 4 * i, *t);
                }
            }
            Icmpv4Repr::AddressMask { reply, ident, seq_no, mask } => {
                packet.set_msg_type(pick(reply, ADDRESS_MASK_REQUEST, ADDRESS_MASK_REPLY));
                packet.set_ident(ident);
                packet.set_seq_no(seq_no);
                packet.data_mut()[..4].copy_from_slice(&mask);
            }
            Icmpv4Repr::Error { msg_type, code, rest, quoted } => {
                packet.set_msg_type(msg_type);
                packet.set_msg_code(code);
                packet.set_rest_of_header(rest);
                packet.data_mut()[..quoted.len()].copy_from_slice(quoted);
            }
        }
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Echo request, id 0x0102, seq 3: checksum ~(0800 + 0102 + 0003) = 0xf6fa.
    const ECHO: [u8; 8] = [8, 0, 0xf6, 0xfa, 0x01, 0x02, 0x00, 0x03];
    // Port unreachable quoting 4 bytes: checksum ~(0303 + 4500 + 001f) = 0xb7dd.
    const UNREACH: [u8; 12] = [3, 3, 0xb7, 0xdd, 0, 0, 0, 0, 0x45, 0, 0, 0x1f];

    #[test]
    fn deconstruct() {
        let p = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.checksum(), p.ident(), p.seq_no()), (8, 0, 0xf6fa, 0x0102, 3));
        assert!(p.data().is_empty() && p.verify_checksum());
        let p = Icmpv4Packet::new_checked(&UNREACH[..]).unwrap();
        assert_eq!((p.msg_type(), p.msg_code(), p.data()), (3, 3, &[0x45, 0, 0, 0x1f][..]));
        assert!(p.verify_checksum());
    }

    #[test]
    fn construct() {
        let mut buf = [0u8; 8];
        let mut p = Icmpv4Packet::new_unchecked(&mut buf[..]);
        p.set_msg_type(8);
        p.set_msg_code(0);
        p.set_ident(0x0102);
        p.set_seq_no(3);
        p.fill_checksum();
        assert_eq!(buf, ECHO);
    }

    #[test]
    fn truncated() {
        assert_eq!(Icmpv4Packet::new_checked(&ECHO[..7]).unwrap_err(), Error::Truncated);
        let mut ts = [0u8; 19];
        ts[0] = message::TIMESTAMP_REPLY;
        assert_eq!(Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&ts[..]).unwrap()), Err(Error::Truncated));
    }

    #[test]
    fn parse() {
        let p = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(Icmpv4Repr::parse(&p), Ok(Icmpv4Repr::Echo { reply: false, ident: 0x0102, seq_no: 3, data: &[] }));
        let p = Icmpv4Packet::new_checked(&UNREACH[..]).unwrap();
        let want = Icmpv4Repr::Error { msg_type: 3, code: 3, rest: 0, quoted: &[0x45, 0, 0, 0x1f] };
        assert_eq!(Icmpv4Repr::parse(&p), Ok(want));
        let redirect = [5u8, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&redirect[..]).unwrap()), Err(Error::Unrecognized));
    }

    #[test]
    fn emit() {
        let r = Icmpv4Repr::Echo { reply: false, ident: 0x0102, seq_no: 3, data: &[] };
        let mut buf = [0u8; 8];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, ECHO);
        let r = Icmpv4Repr::Error { msg_type: 3, code: 3, rest: 0, quoted: &[0x45, 0, 0, 0x1f] };
        let mut buf = [0u8; 12];
        assert_eq!(r.buffer_len(), 12);
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, UNREACH);
        // Address mask request, id 0x0102, seq 3: checksum ~(1100 + 0102 + 0003) = 0xedfa.
        let r = Icmpv4Repr::AddressMask { reply: false, ident: 0x0102, seq_no: 3, mask: [0; 4] };
        let mut buf = [0u8; 12];
        r.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        assert_eq!(buf, [17, 0, 0xed, 0xfa, 0x01, 0x02, 0x00, 0x03, 0, 0, 0, 0]);
        assert_eq!(Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&buf[..]).unwrap()), Ok(r));
    }
}
