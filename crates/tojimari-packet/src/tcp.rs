//! TCP control flags (RFC 9293 section 3.1, RFC 3168 for ECE/CWR), as bits of the flags byte: the wire
//! layer's definitions, re-exported where the scanner's users have always found them.

pub use tojimari_wire::tcp::flags::*;
