//! Readiness checks, run from a thread inside the target's namespace: a TCP connect, a TCP
//! banner that must contain a marker, or a UDP request that must get a reply. Also the few
//! protocol requests they send (DNS `version.bind`, an SNMP get, memcached's UDP `version`, an
//! NTP client request).

use std::io::Read;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use crate::netns::Netns;

/// One attempt's time limit.
const ATTEMPT: Duration = Duration::from_millis(700);

/// What "this port answers" means for one port.
#[derive(Debug, Clone)]
pub(super) enum Probe {
    /// A TCP connect succeeds.
    Connect(SocketAddr),
    /// The server's first bytes (it speaks first) contain the marker.
    Banner(SocketAddr, &'static str),
    /// A datagram with these bytes gets any reply.
    Udp(SocketAddr, Vec<u8>),
}

impl Probe {
    /// Tries once from inside `ns`; false on any failure (including entering `ns`).
    pub(super) fn check(&self, ns: &Netns) -> bool {
        let probe = self.clone();
        ns.run_in(move || probe.attempt()).unwrap_or(false)
    }

    fn attempt(&self) -> bool {
        match self {
            Probe::Connect(addr) => TcpStream::connect_timeout(addr, ATTEMPT).is_ok(),
            Probe::Banner(addr, marker) => banner(*addr).is_some_and(|b| b.contains(marker)),
            Probe::Udp(addr, request) => udp_reply(*addr, request),
        }
    }

    /// For error messages: `tcp 198.18.0.2:22 banner "SSH-2.0-"`.
    pub(super) fn describe(&self) -> String {
        match self {
            Probe::Connect(addr) => format!("tcp {addr} connect"),
            Probe::Banner(addr, marker) => format!("tcp {addr} banner {marker:?}"),
            Probe::Udp(addr, _) => format!("udp {addr} request"),
        }
    }
}

/// Reads what the server sends first, until a line ends or the attempt time is up.
fn banner(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, ATTEMPT).ok()?;
    let deadline = Instant::now() + ATTEMPT;
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < 4096 {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.ends_with(b"\n") {
            break;
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

fn udp_reply(addr: SocketAddr, request: &[u8]) -> bool {
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let Ok(socket) = UdpSocket::bind(local) else { return false };
    if socket.set_read_timeout(Some(ATTEMPT)).is_err() || socket.send_to(request, addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 2048];
    socket.recv_from(&mut buf).is_ok_and(|(n, _)| n > 0)
}

/// A DNS query for `version.bind` TXT in class CHAOS (RFC 1035 wire format).
pub(super) fn dns_version_bind() -> Vec<u8> {
    let mut query = vec![0x74, 0x6a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];
    for label in ["version", "bind"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0x00, 0x00, 0x10, 0x00, 0x03]);
    query
}

/// An SNMPv2c GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) with `community` (BER, RFC 3416).
/// `community` must be shorter than 100 bytes.
pub(super) fn snmp_get_sysdescr(community: &str) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, body.len() as u8];
        out.extend_from_slice(body);
        out
    }
    let oid = tlv(0x06, &[0x2b, 6, 1, 2, 1, 1, 1, 0]);
    let varbind = tlv(0x30, &[oid, vec![0x05, 0x00]].concat());
    let varbinds = tlv(0x30, &varbind);
    let pdu = tlv(0xa0, &[tlv(0x02, &[0x01]), tlv(0x02, &[0]), tlv(0x02, &[0]), varbinds].concat());
    tlv(0x30, &[tlv(0x02, &[0x01]), tlv(0x04, community.as_bytes()), pdu].concat())
}

/// An NTPv4 client request (RFC 5905 section 7.3): LI 0, VN 4, mode 3, the rest zero.
pub(super) fn ntp_client_request() -> Vec<u8> {
    let mut request = vec![0u8; 48];
    request[0] = 0x23;
    request
}

/// memcached's UDP frame header (request id 1, sequence 0, 1 datagram) and `version`.
pub(super) fn memcached_udp_version() -> Vec<u8> {
    let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
    request.extend_from_slice(b"version\r\n");
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_is_one_chaos_txt_question() {
        let q = dns_version_bind();
        assert_eq!(&q[4..6], &[0, 1]);
        assert_eq!(&q[12..20], b"\x07version");
        assert_eq!(&q[q.len() - 4..], &[0, 16, 0, 3]);
    }

    #[test]
    fn snmp_get_has_consistent_lengths() {
        let p = snmp_get_sysdescr("public");
        assert_eq!(p[0], 0x30);
        assert_eq!(p[1] as usize, p.len() - 2);
        assert_eq!(&p[2..5], &[0x02, 0x01, 0x01]);
        assert_eq!(&p[5..13], b"\x04\x06public");
    }
}
