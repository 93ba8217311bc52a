//! Parsing the kernel's socket tables, `/proc/net/{tcp,tcp6,udp,udp6}`, into [`SocketRecord`]s.
//!
//! Each table has a header line and then one line per socket:
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//!    0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   116        0 23456 1 ...
//! ```
//!
//! The address is the kernel's in-memory (network order) bytes printed as native-endian `u32` words with
//! `%08X`: one word for IPv4, four for IPv6. So `0100007F` is 127.0.0.1 on a little-endian machine; the bytes
//! come back with `u32::to_ne_bytes` of each word. The port is printed in host order (`%04X`), the state as the
//! kernel's `TCP_*` number (UDP reuses them: an unconnected UDP socket is `07`, `TCP_CLOSE`).
//!
//! Pure functions over text; reading the files is [`crate::system`]'s job.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tojimari_core::Protocol;

/// `TCP_LISTEN` in the `st` column.
pub const STATE_LISTEN: u8 = 0x0A;
/// `TCP_CLOSE` in the `st` column: how an unconnected (bound, "UNCONN") UDP socket shows.
pub const STATE_UNCONNECTED: u8 = 0x07;

/// Which address family a table holds (`tcp`/`udp` or `tcp6`/`udp6`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// One line of a socket table: the fields tojimari uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketRecord {
    pub proto: Protocol,
    /// Local (bound) address.
    pub addr: IpAddr,
    /// Local port, host order.
    pub port: u16,
    /// The kernel's `TCP_*` state number.
    pub state: u8,
    /// The user that created the socket (known even when its process is not visible).
    pub uid: u32,
    /// The socket inode, as `/proc/PID/fd/N -> socket:[INODE]` links name it.
    pub inode: u64,
}

impl SocketRecord {
    /// Whether this socket waits for the network: a listening TCP socket, or a bound, unconnected UDP socket
    /// with a port. These are the sockets `ss -ltun` lists.
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Protocol::Tcp => self.state == STATE_LISTEN,
            Protocol::Udp => self.state == STATE_UNCONNECTED && self.port != 0,
            // /proc/net lists no SCTP or raw-protocol sockets here.
            Protocol::Sctp | Protocol::Ip => false,
        }
    }
}

/// Why one table line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line ended before the named column.
    #[error("missing column `{0}`")]
    Missing(&'static str),
    /// A column is not the hexadecimal (or decimal) number it should be.
    #[error("column `{column}` is not valid: {value:?}")]
    Invalid { column: &'static str, value: String },
}

/// Parses a whole table. The first line (the header) is skipped, as are blank lines; the error carries the
/// 1-based line number of the first bad line.
pub fn parse_table(text: &str, proto: Protocol, family: Family) -> Result<Vec<SocketRecord>, (usize, LineError)> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| parse_line(line, proto, family).map_err(|error| (index + 1, error)))
        .collect()
}

/// Parses one socket line (not the header).
pub fn parse_line(line: &str, proto: Protocol, family: Family) -> Result<SocketRecord, LineError> {
    let mut columns = line.split_whitespace();
    let mut next = |name: &'static str| columns.next().ok_or(LineError::Missing(name));
    let _slot = next("sl")?;
    let local = next("local_address")?;
    let _remote = next("rem_address")?;
    let state = next("st")?;
    let _queues = next("tx_queue:rx_queue")?;
    let _timer = next("tr:tm->when")?;
    let _retransmits = next("retrnsmt")?;
    let uid = next("uid")?;
    let _timeout = next("timeout")?;
    let inode = next("inode")?;

    let (addr, port) = parse_endpoint(local, family)?;
    Ok(SocketRecord {
        proto,
        addr,
        port,
        state: u8::from_str_radix(state, 16).map_err(|_| invalid("st", state))?,
        uid: uid.parse().map_err(|_| invalid("uid", uid))?,
        inode: inode.parse().map_err(|_| invalid("inode", inode))?,
    })
}

/// `0100007F:18EB` -> (127.0.0.1, 6379) on a little-endian machine.
fn parse_endpoint(text: &str, family: Family) -> Result<(IpAddr, u16), LineError> {
    let (addr, port) = text.split_once(':').ok_or_else(|| invalid("local_address", text))?;
    let port = u16::from_str_radix(port, 16).map_err(|_| invalid("local_address", text))?;
    let addr = match family {
        Family::V4 => {
            let [word] = words::<1>(addr).ok_or_else(|| invalid("local_address", text))?;
            IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
        }
        Family::V6 => {
            let words = words::<4>(addr).ok_or_else(|| invalid("local_address", text))?;
            let mut bytes = [0u8; 16];
            for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    };
    Ok((addr, port))
}

/// Exactly `N` words of 8 hex digits each.
fn words<const N: usize>(hex: &str) -> Option<[u32; N]> {
    if hex.len() != 8 * N || !hex.is_ascii() {
        return None;
    }
    let mut words = [0u32; N];
    for (i, word) in words.iter_mut().enumerate() {
        *word = u32::from_str_radix(&hex[8 * i..8 * (i + 1)], 16).ok()?;
    }
    Some(words)
}

fn invalid(column: &'static str, value: &str) -> LineError {
    LineError::Invalid { column, value: value.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    /// Lines as a little-endian x86_64 kernel prints them.
    #[cfg(target_endian = "little")]
    mod little_endian {
        use super::*;

        #[test]
        fn ipv4_loopback_listen() {
            let line = "   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   116        0 23456 1 0000000000000000 100 0 0 10 0";
            let record = parse_line(line, Protocol::Tcp, Family::V4).unwrap();
            assert_eq!(record.addr, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
            assert_eq!(record.port, 6379);
            assert_eq!(record.state, STATE_LISTEN);
            assert_eq!(record.uid, 116);
            assert_eq!(record.inode, 23456);
            assert!(record.is_listening());
        }

        #[test]
        fn ipv4_byte_order_is_not_reversed_twice() {
            // 198.18.0.2 is c6.12.00.02 in network order; the kernel prints the native u32 0x020012C6.
            let line =
                "   1: 020012C6:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1";
            let record = parse_line(line, Protocol::Tcp, Family::V4).unwrap();
            assert_eq!(record.addr, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)));
            assert_eq!(record.port, 5432);
        }

        #[test]
        fn ipv6_words_are_host_order() {
            // 2001:db8:18::2 : bytes 20 01 0d b8 | 00 18 00 00 | 00.. | 00 00 00 02, each word printed native.
            let line = "   0: B80D0120000018000000000002000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1";
            let record = parse_line(line, Protocol::Tcp, Family::V6).unwrap();
            assert_eq!(record.addr, "2001:db8:18::2".parse::<IpAddr>().unwrap());
            assert_eq!(record.port, 80);
            assert_eq!(record.inode, 4242);
        }

        #[test]
        fn ipv6_loopback_and_mapped() {
            let loopback = "0: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1";
            let record = parse_line(loopback, Protocol::Tcp, Family::V6).unwrap();
            assert_eq!(record.addr, "::1".parse::<IpAddr>().unwrap());
            assert_eq!(record.port, 631);
            let mapped = "0: 0000000000000000FFFF00000100007F:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 2 2";
            let record = parse_line(mapped, Protocol::Udp, Family::V6).unwrap();
            assert_eq!(record.addr, "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
        }
    }

    #[test]
    fn any_addresses_read_the_same_in_both_byte_orders() {
        let text = format!(
            "{HEADER}\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1\n"
        );
        let records = parse_table(&text, Protocol::Tcp, Family::V4).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].addr, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(records[0].port, 22);
    }

    #[test]
    fn udp_states() {
        let bound = "0: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 5 2 0000 0";
        let connected = "1: 00000000:A000 01020304:0035 01 00000000:00000000 00:00000000 00000000 0 0 6 2 0000 0";
        let unbound = "2: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 7 2 0000 0";
        assert!(parse_line(bound, Protocol::Udp, Family::V4).unwrap().is_listening());
        assert!(!parse_line(connected, Protocol::Udp, Family::V4).unwrap().is_listening());
        assert!(!parse_line(unbound, Protocol::Udp, Family::V4).unwrap().is_listening());
        // An established TCP connection is not listening.
        let established = "3: 0100007F:0016 0100007F:A000 01 00000000:00000000 00:00000000 00000000 0 0 8 1";
        assert!(!parse_line(established, Protocol::Tcp, Family::V4).unwrap().is_listening());
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        assert_eq!(parse_line("0: 00000000:0016", Protocol::Tcp, Family::V4), Err(LineError::Missing("rem_address")));
        let short_addr = "0: 0000:0016 00000000:0000 0A 0:0 0:0 0 0 0 1";
        assert!(matches!(
            parse_line(short_addr, Protocol::Tcp, Family::V4),
            Err(LineError::Invalid { column: "local_address", .. })
        ));
        // A v4 address in a v6 table, non-hex digits, a multi-byte character where hex should be.
        let v4_in_v6 = "0: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 1";
        assert!(parse_line(v4_in_v6, Protocol::Tcp, Family::V6).is_err());
        let not_hex = "0: 0000000G:0016 00000000:0000 0A 0:0 0:0 0 0 0 1";
        assert!(parse_line(not_hex, Protocol::Tcp, Family::V4).is_err());
        let unicode = "0: 000000é0:0016 00000000:0000 0A 0:0 0:0 0 0 0 1";
        assert!(parse_line(unicode, Protocol::Tcp, Family::V4).is_err());
        let bad_inode = "0: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 x";
        assert_eq!(
            parse_line(bad_inode, Protocol::Tcp, Family::V4),
            Err(LineError::Invalid { column: "inode", value: "x".into() })
        );
        let text = format!("{HEADER}\n0: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 1\n0: garbage\n");
        assert_eq!(parse_table(&text, Protocol::Tcp, Family::V4).unwrap_err().0, 3);
    }
}
