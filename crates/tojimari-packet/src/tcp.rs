//! TCP control flags (RFC 9293 section 3.1, RFC 3168 for ECE/CWR), as bits of the flags byte.

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
