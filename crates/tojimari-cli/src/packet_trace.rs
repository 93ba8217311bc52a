//! `--packet-trace` (and `-dd`): one stderr line per packet the engines send or receive, as nmap prints
//! them; and with `-d`, one line per raw-engine pass (what it sent, what it recovered, the rate after).
//!
//! ```text
//! SENT (0.0430s) TCP 198.18.0.1:61234 > 198.18.0.2:80 S ttl=64 id=0 iplen=44 seq=2859395123 win=1024
//! RCVD (0.0432s) TCP 198.18.0.2:80 > 198.18.0.1:61234 RA ttl=64 id=0 iplen=40 seq=0 win=0 ack=2859395124
//! CONN (0.0430s) TCP localhost > 127.0.0.1:80 => Connection refused
//! PASS (0.1502s) 1: sent 48 in 0.0010s at <= 1000000/s, recovered 3 (share 0.062), rate now 500000/s
//! ```
//! The time is seconds since the scan started. Frames are read with tojimari-packet's parser; the IP
//! header's identification and length, which only the trace shows, through tojimari-wire's views. The
//! engines call [`StderrTrace`] through the `PacketTrace` hook; nothing is formatted when tracing is off.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use tojimari_core::{PortState, Reason};
use tojimari_engine::{ConnectEvent, ConnectOutcome, PacketTrace, PassEvent};
use tojimari_packet::{Reply, parse_frame, tcp};
use tojimari_wire::{EtherType, EthernetFrame, Ipv4Packet, Ipv6Packet, ipv6};

/// Sent frames remembered to recognise their loopback echo.
const ECHO_MEMORY: usize = 4096;

/// Writes trace lines to stderr (clearing a progress line first).
#[derive(Debug)]
pub struct StderrTrace {
    start: Instant,
    /// Packets are shown (`--packet-trace`, `-dd`); otherwise only passes (`-d`).
    packets: bool,
    /// The loopback device hands every frame we send back to our receiver: a received frame that reads
    /// exactly like one just sent is that echo, not an answer, and is not shown.
    recent: Mutex<(VecDeque<String>, HashSet<String>)>,
}

impl StderrTrace {
    /// Every packet and pass, timed from `start`.
    pub fn new(start: Instant) -> StderrTrace {
        StderrTrace { start, packets: true, recent: Mutex::default() }
    }

    /// Only the raw engine's passes (`-d`).
    pub fn passes_only(start: Instant) -> StderrTrace {
        StderrTrace { packets: false, ..StderrTrace::new(start) }
    }

    fn line(&self, direction: &str, at: Instant, text: &str) {
        let secs = at.saturating_duration_since(self.start).as_secs_f64();
        let mut drawn = crate::progress::terminal();
        crate::progress::clear_line(&mut drawn);
        let _ = writeln!(std::io::stderr().lock(), "{direction} ({secs:.4}s) {text}");
    }
}

impl PacketTrace for StderrTrace {
    fn sent(&self, frame: &[u8], at: Instant) {
        if !self.packets {
            return;
        }
        let text = describe_frame(frame);
        {
            let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (order, set) = &mut *recent;
            if set.insert(text.clone()) {
                order.push_back(text.clone());
            }
            if order.len() > ECHO_MEMORY
                && let Some(old) = order.pop_front()
            {
                set.remove(&old);
            }
        }
        self.line("SENT", at, &text);
    }

    fn received(&self, frame: &[u8], at: Instant) {
        if !self.packets {
            return;
        }
        let text = describe_frame(frame);
        let echo = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1.remove(&text);
        if !echo {
            self.line("RCVD", at, &text);
        }
    }

    fn connect(&self, event: &ConnectEvent, at: Instant) {
        if self.packets {
            self.line("CONN", at, &describe_connect(event));
        }
    }

    fn pass(&self, event: &PassEvent, at: Instant) {
        self.line("PASS", at, &describe_pass(event));
    }
}

/// `1: sent 48 in 0.0010s at <= 1000000/s, recovered 3 (share 0.062), rate now 500000/s`.
pub fn describe_pass(e: &PassEvent) -> String {
    let share = if e.sent == 0 { 1.0 } else { e.recovered as f64 / e.sent as f64 };
    format!(
        "{}: sent {} in {:.4}s at <= {:.0}/s, recovered {} (share {share:.3}), rate now {:.0}/s{}",
        e.pass,
        e.sent,
        e.send_time.as_secs_f64(),
        e.rate,
        e.recovered,
        e.next_rate,
        if e.backed_off { " (backed off: losses grew with the rate)" } else { "" }
    )
}

/// `TCP localhost > 127.0.0.1:80 => Connection refused`.
pub fn describe_connect(event: &ConnectEvent) -> String {
    let result = match event.outcome {
        ConnectOutcome::InProgress => "Operation now in progress".to_string(),
        ConnectOutcome::Answer(PortState::Open, _) => "Connected".to_string(),
        ConnectOutcome::Answer(_, Reason::ConnRefused) => "Connection refused".to_string(),
        ConnectOutcome::Answer(_, Reason::NoResponse) => "No answer (timed out)".to_string(),
        ConnectOutcome::Answer(_, reason) => reason.as_str().to_string(),
    };
    let target = match event.addr {
        IpAddr::V4(a) => format!("{a}:{}", event.port),
        IpAddr::V6(a) => format!("[{a}]:{}", event.port),
    };
    format!("TCP localhost > {target} => {result}")
}

/// nmap's flag letters, in nmap's order: `S`, `SA`, `RA`, `FPU`.
pub fn flag_letters(flags: u8) -> String {
    [
        (tcp::SYN, 'S'),
        (tcp::FIN, 'F'),
        (tcp::RST, 'R'),
        (tcp::PSH, 'P'),
        (tcp::ACK, 'A'),
        (tcp::URG, 'U'),
        (tcp::ECE, 'E'),
        (tcp::CWR, 'C'),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, c)| *c)
    .collect()
}

/// IP identification, total length, TTL, protocol and addresses, read from an Ethernet frame's IP header, and
/// the first byte after that header (an ICMP message's type).
struct IpHeader {
    id: Option<u16>,
    len: usize,
    ttl: u8,
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    first_payload_byte: Option<u8>,
}

fn ip_header(frame: &[u8]) -> Option<IpHeader> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    match eth.ethertype() {
        EtherType::IPV4 => {
            let h = Ipv4Packet::new_checked(eth.payload()).ok()?;
            Some(IpHeader {
                id: Some(h.ident()),
                len: usize::from(h.total_len()),
                ttl: h.ttl(),
                proto: h.protocol(),
                src: IpAddr::V4(h.src_addr()),
                dst: IpAddr::V4(h.dst_addr()),
                first_payload_byte: h.payload().first().copied(),
            })
        }
        EtherType::IPV6 => {
            let h = Ipv6Packet::new_checked(eth.payload()).ok()?;
            Some(IpHeader {
                id: None,
                len: ipv6::HEADER_LEN + usize::from(h.payload_len()),
                ttl: h.hop_limit(),
                proto: h.next_header(),
                src: IpAddr::V6(h.src_addr()),
                dst: IpAddr::V6(h.dst_addr()),
                first_payload_byte: h.payload().first().copied(),
            })
        }
        _ => None,
    }
}

fn endpoint(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// An SCTP chunk type's name as nmap's trace writes it (RFC 9260's names).
fn sctp_chunk_name(chunk: u8) -> String {
    match chunk {
        0 => "DATA".into(),
        1 => "INIT".into(),
        2 => "INIT-ACK".into(),
        3 => "SACK".into(),
        4 => "HEARTBEAT".into(),
        5 => "HEARTBEAT-ACK".into(),
        6 => "ABORT".into(),
        7 => "SHUTDOWN".into(),
        9 => "ERROR".into(),
        10 => "COOKIE-ECHO".into(),
        11 => "COOKIE-ACK".into(),
        other => format!("chunk={other}"),
    }
}

/// One frame in nmap's trace words (never panics, whatever the bytes).
pub fn describe_frame(frame: &[u8]) -> String {
    let ip = ip_header(frame);
    let ip_fields = |ttl: u8| match &ip {
        Some(h) => match h.id {
            Some(id) => format!("ttl={ttl} id={id} iplen={}", h.len),
            None => format!("hlim={ttl} iplen={}", h.len),
        },
        None => format!("ttl={ttl}"),
    };
    match parse_frame(frame) {
        Some(Reply::Tcp { src, dst, sport, dport, seq, ack, flags, window, ttl }) => {
            let mut s = format!(
                "TCP {} > {} {} {} seq={seq} win={window}",
                endpoint(src, sport),
                endpoint(dst, dport),
                flag_letters(flags),
                ip_fields(ttl)
            );
            if flags & tcp::ACK != 0 {
                s.push_str(&format!(" ack={ack}"));
            }
            s
        }
        Some(Reply::Udp { src, dst, sport, dport, ttl }) => {
            format!("UDP {} > {} {}", endpoint(src, sport), endpoint(dst, dport), ip_fields(ttl))
        }
        Some(Reply::Sctp { src, dst, sport, dport, vtag, chunk, ttl, .. }) => format!(
            "SCTP {} > {} {} vtag={vtag} {}",
            endpoint(src, sport),
            endpoint(dst, dport),
            sctp_chunk_name(chunk),
            ip_fields(ttl)
        ),
        Some(Reply::IcmpError { from, to, ttl, v6, kind, code, quoted }) => format!(
            "{} {from} > {to} type={kind}/code={code} {} quoting {} > {}",
            if v6 { "ICMPv6" } else { "ICMP" },
            ip_fields(ttl),
            endpoint(quoted.src, quoted.sport),
            endpoint(quoted.dst, quoted.dport)
        ),
        Some(Reply::EchoReply { src, dst, id, seq, ttl }) => {
            format!("ICMP {src} > {dst} Echo reply id={id} seq={seq} {}", ip_fields(ttl))
        }
        Some(Reply::TimestampReply { src, dst, id, seq, ttl }) => {
            format!("ICMP {src} > {dst} Timestamp reply id={id} seq={seq} {}", ip_fields(ttl))
        }
        Some(Reply::AddressMaskReply { src, dst, id, seq, ttl }) => {
            format!("ICMP {src} > {dst} Address mask reply id={id} seq={seq} {}", ip_fields(ttl))
        }
        Some(Reply::Arp { sender_ip, target_ip, is_reply, .. }) => {
            if is_reply {
                format!("ARP reply {sender_ip} is-at (sender) for {target_ip}")
            } else {
                format!("ARP who-has {target_ip} tell {sender_ip}")
            }
        }
        Some(Reply::NeighborAdvert { src, target, .. }) => format!("ICMPv6 {src} neighbor advertisement for {target}"),
        None => match &ip {
            // Our own echo, timestamp and mask requests (the parser reads replies only), and other frames.
            Some(h) => {
                let proto = match h.proto {
                    1 => "ICMP".to_string(),
                    58 => "ICMPv6".to_string(),
                    p => format!("IP proto={p}"),
                };
                let kind = h.first_payload_byte.map_or(String::new(), |t| {
                    if h.proto == 1 || h.proto == 58 { format!(" type={t}") } else { String::new() }
                });
                format!("{proto} {} > {}{kind} {}", h.src, h.dst, ip_fields(h.ttl))
            }
            None => format!("frame of {} bytes", frame.len()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_packet::{L2, TcpProbe, build_tcp};

    #[test]
    fn a_loopback_echo_of_a_sent_frame_is_recognised() {
        let t = StderrTrace::new(Instant::now());
        let frame = [0u8; 60];
        t.sent(&frame, Instant::now());
        let text = describe_frame(&frame);
        assert!(t.recent.lock().unwrap().1.contains(&text));
        t.received(&frame, Instant::now());
        assert!(!t.recent.lock().unwrap().1.contains(&text), "the echo is taken once");
    }

    #[test]
    fn flags_in_nmaps_order() {
        assert_eq!(flag_letters(tcp::SYN), "S");
        assert_eq!(flag_letters(tcp::SYN | tcp::ACK), "SA");
        assert_eq!(flag_letters(tcp::RST | tcp::ACK), "RA");
        assert_eq!(flag_letters(tcp::FIN | tcp::PSH | tcp::URG), "FPU");
    }

    #[test]
    fn pass_lines() {
        let e = PassEvent {
            pass: 1,
            sent: 48,
            send_time: std::time::Duration::from_millis(1),
            rate: 1e6,
            recovered: 3,
            next_rate: 5e5,
            backed_off: true,
        };
        assert_eq!(
            describe_pass(&e),
            "1: sent 48 in 0.0010s at <= 1000000/s, recovered 3 (share 0.062), rate now 500000/s (backed off: losses \
             grew with the rate)"
        );
    }

    #[test]
    fn connect_lines() {
        let e = ConnectEvent {
            addr: "127.0.0.1".parse().unwrap(),
            port: 80,
            outcome: ConnectOutcome::Answer(PortState::Closed, Reason::ConnRefused),
        };
        assert_eq!(describe_connect(&e), "TCP localhost > 127.0.0.1:80 => Connection refused");
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..80 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 8) as u8).collect();
            let _ = describe_frame(&bytes);
        }
        assert_eq!(describe_frame(&[]), "frame of 0 bytes");
    }

    #[test]
    fn a_syn_probe_reads_like_nmaps() {
        let mut buf = vec![0u8; tojimari_packet::MAX_FRAME];
        let l2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };
        let probe = TcpProbe {
            src: "198.18.0.1".parse().unwrap(),
            dst: "198.18.0.2".parse().unwrap(),
            sport: 61234,
            dport: 80,
            seq: 7,
            ack: 0,
            flags: tcp::SYN,
            window: 1024,
            ttl: 64,
            ip_id: 5,
        };
        let len = build_tcp(&mut buf, &l2, &probe);
        let line = describe_frame(&buf[..len]);
        assert!(line.starts_with("TCP 198.18.0.1:61234 > 198.18.0.2:80 S ttl=64 id=5 iplen="), "{line}");
        assert!(line.ends_with("seq=7 win=1024"), "{line}");
    }
}
