//! TCP as the persona answers it: SYN/ACKs with its window and option layout on open ports, a minimal
//! handshake (so connect scans and nmap's port scans work), and the persona's rule for every odd packet:
//! NULL, SYN+FIN, ACK to an open port; SYN, ACK and FIN+PSH+URG to a closed one; the ECN-setup SYN.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tojimari_wire::TcpPacket;
use tojimari_wire::ip_protocol;
use tojimari_wire::tcp::flags::{ACK, CWR, ECE, FIN, RST, SYN};
use tojimari_wire::tcp::{self, TcpOption};

use super::counters::timestamp;
use super::model::{AckChoice, FlagChoice, RuleOptions, SeqChoice, TcpRule};
use super::options::{self, Offered};
use super::rng::Rng;
use super::stack::{Datagram, IpHandler, IpReply, ReplyKind, Stack};

/// Most half-open or open connections kept; past it the table starts again.
const MAX_CONNECTIONS: usize = 4096;

/// (peer address, peer port, our port).
type ConnKey = (IpAddr, u16, u16);

#[derive(Debug, Clone, Copy)]
struct Connection {
    /// The sequence number our next segment carries (ISN + 1 after the SYN/ACK).
    our_next: u32,
    /// The sequence number we expect next from the peer.
    their_next: u32,
}

/// The persona's TCP.
#[derive(Debug)]
pub struct TcpHandler {
    connections: HashMap<ConnKey, Connection>,
    /// Secret behind the per-connection timestamp offsets.
    ts_secret: u64,
}

impl TcpHandler {
    /// A handler whose per-connection timestamp offsets derive from `seed`.
    pub fn new(seed: u64) -> TcpHandler {
        TcpHandler { connections: HashMap::new(), ts_secret: seed }
    }

    fn ts_offset(&self, key: ConnKey) -> u32 {
        let mut mix = self.ts_secret ^ (u64::from(key.1) << 16) ^ u64::from(key.2);
        match key.0 {
            IpAddr::V4(a) => mix ^= u64::from(u32::from(a)) << 32,
            IpAddr::V6(a) => mix ^= (u128::from(a) as u64) ^ ((u128::from(a) >> 64) as u64),
        }
        Rng::new(mix).next_u32()
    }
}

/// The fields of the segment being answered.
#[derive(Debug, Clone, Copy)]
struct Segment {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    /// Sequence space it takes: payload plus one for SYN and one for FIN.
    len: u32,
    offered: Offered,
}

fn parse(payload: &[u8]) -> Option<Segment> {
    let packet = TcpPacket::new_checked(payload).ok()?;
    let mut offered = Offered::default();
    for option in packet.option_iter() {
        match option {
            TcpOption::WindowScale(_) => offered.window_scale = true,
            TcpOption::SackPermitted => offered.sack = true,
            TcpOption::Timestamps(value, _) => offered.timestamp = Some(value),
            _ => {}
        }
    }
    let flags = packet.flags();
    let data = u32::try_from(packet.payload().len()).unwrap_or(u32::MAX);
    let len = data + u32::from(flags & SYN != 0) + u32::from(flags & FIN != 0);
    Some(Segment {
        src_port: packet.src_port(),
        dst_port: packet.dst_port(),
        seq: packet.seq_number(),
        ack: packet.ack_number(),
        flags,
        len,
        offered,
    })
}

/// One outgoing segment before it is written.
#[derive(Debug, Clone)]
struct Out {
    flags: u8,
    seq: u32,
    ack: u32,
    window: u16,
    options: Vec<u8>,
    df: bool,
}

impl IpHandler for TcpHandler {
    fn protocols(&self) -> &[u8] {
        &[ip_protocol::TCP]
    }

    fn answer(&mut self, stack: &mut Stack, datagram: &Datagram<'_>, now: Duration) -> Vec<IpReply> {
        let Some(seg) = parse(datagram.payload) else {
            return Vec::new();
        };
        let key = (datagram.src, seg.src_port, seg.dst_port);
        let open = stack.persona.tcp_open(seg.dst_port);
        let f = seg.flags;
        let out = if f & RST != 0 {
            self.connections.remove(&key);
            None
        } else if open {
            self.open_port(stack, key, seg, now)
        } else {
            let odd = stack.persona.odd;
            let rule = if f & SYN != 0 && f & ACK == 0 {
                odd.syn_closed
            } else if f & ACK != 0 {
                odd.ack_closed
            } else {
                odd.no_flags_closed
            };
            self.by_rule(stack, rule, key, seg, now)
        };
        let Some(out) = out else {
            return Vec::new();
        };
        vec![emit(datagram, seg, out)]
    }
}

impl TcpHandler {
    fn open_port(&mut self, stack: &mut Stack, key: ConnKey, seg: Segment, now: Duration) -> Option<Out> {
        let f = seg.flags;
        let odd = stack.persona.odd;
        if f & SYN != 0 && f & ACK == 0 {
            if f & FIN != 0 {
                return self.by_rule(stack, odd.syn_fin_open, key, seg, now);
            }
            return self.syn_ack(stack, key, seg, now);
        }
        if f & ACK != 0 {
            if f & SYN == 0
                && let Some(conn) = self.connections.get(&key).copied()
                && seg.ack == conn.our_next
            {
                return self.established(stack, key, conn, seg);
            }
            return self.by_rule(stack, odd.ack_open, key, seg, now);
        }
        self.by_rule(stack, odd.no_flags_open, key, seg, now)
    }

    /// A SYN (possibly ECN-setup) to an open port.
    fn syn_ack(&mut self, stack: &mut Stack, key: ConnKey, seg: Segment, now: Duration) -> Option<Out> {
        let ecn_setup = seg.flags & (ECE | CWR) == ECE | CWR;
        let ecn = stack.persona.ecn;
        if ecn_setup && !ecn.respond {
            return None;
        }
        let mut rule = TcpRule::syn_ack(stack.persona.syn_ack.window);
        let mut extra = 0;
        if ecn_setup {
            rule.window = ecn.window.unwrap_or(rule.window);
            if let Some(layout) = ecn.options {
                rule.options = RuleOptions::Layout(layout);
            }
            extra = if ecn.echo_ece { ECE } else { 0 } | if ecn.also_cwr { CWR } else { 0 };
        }
        let mut out = self.by_rule(stack, rule, key, seg, now)?;
        out.flags |= extra;
        Some(out)
    }

    /// A segment on a connection whose handshake completed: acknowledge data, answer a FIN.
    fn established(&mut self, stack: &Stack, key: ConnKey, conn: Connection, seg: Segment) -> Option<Out> {
        if seg.seq != conn.their_next || seg.len == 0 {
            return None;
        }
        let their_next = seg.seq.wrapping_add(seg.len);
        let fin = seg.flags & FIN != 0;
        if fin {
            self.connections.remove(&key);
        } else {
            self.connections.insert(key, Connection { their_next, ..conn });
        }
        Some(Out {
            flags: if fin { FIN | ACK } else { ACK },
            seq: conn.our_next,
            ack: their_next,
            window: stack.persona.syn_ack.window,
            options: Vec::new(),
            df: stack.persona.df,
        })
    }

    /// The answer `rule` gives to `seg`; a SYN/ACK answer opens a half-open connection.
    fn by_rule(&mut self, stack: &mut Stack, rule: TcpRule, key: ConnKey, seg: Segment, now: Duration) -> Option<Out> {
        if !rule.respond {
            return None;
        }
        let probe_ack = seg.flags & ACK != 0;
        let flags = match rule.flags {
            FlagChoice::RfcReset if probe_ack => RST,
            FlagChoice::RfcReset => RST | ACK,
            FlagChoice::Fixed(flags) => flags,
        };
        let seq = match rule.seq {
            SeqChoice::Zero => 0,
            SeqChoice::TheirAck => seg.ack,
            SeqChoice::TheirAckPlus1 => seg.ack.wrapping_add(1),
            SeqChoice::Isn => stack.isns.next(stack.persona.isn, now, &mut stack.rng),
            SeqChoice::Rfc if probe_ack => seg.ack,
            SeqChoice::Rfc => 0,
        };
        let ack = match rule.ack {
            AckChoice::Zero => 0,
            AckChoice::TheirSeq => seg.seq,
            AckChoice::TheirSeqPlus1 => seg.seq.wrapping_add(1),
            AckChoice::Rfc => seg.seq.wrapping_add(seg.len),
        };
        let ts_offset = self.ts_offset(key);
        let tsval = timestamp(stack.persona.timestamps, now, ts_offset);
        let options = match rule.options {
            RuleOptions::None => Vec::new(),
            RuleOptions::SynAck => options::build(&stack.persona.syn_ack.options, seg.offered, tsval),
            RuleOptions::Layout(layout) => options::build(layout, seg.offered, tsval),
        };
        if flags & SYN != 0 && flags & ACK != 0 {
            if self.connections.len() >= MAX_CONNECTIONS {
                self.connections.clear();
            }
            let their_next = seg.seq.wrapping_add(1);
            self.connections.insert(key, Connection { our_next: seq.wrapping_add(1), their_next });
        }
        Some(Out { flags, seq, ack, window: rule.window, options, df: rule.df.unwrap_or(stack.persona.df) })
    }
}

/// Writes `out` as the answer to `seg` in `datagram`.
fn emit(datagram: &Datagram<'_>, seg: Segment, out: Out) -> IpReply {
    let header_len = tcp::HEADER_LEN + out.options.len();
    let mut bytes = vec![0u8; header_len];
    let mut packet = TcpPacket::new_unchecked(&mut bytes[..]);
    packet.set_src_port(seg.dst_port);
    packet.set_dst_port(seg.src_port);
    packet.set_seq_number(out.seq);
    packet.set_ack_number(out.ack);
    packet.set_header_len(header_len);
    packet.set_flags(out.flags);
    packet.set_window_len(out.window);
    packet.set_urgent_at(0);
    packet.options_mut().copy_from_slice(&out.options);
    packet.fill_checksum(datagram.dst, datagram.src);
    IpReply {
        dst: datagram.src,
        protocol: ip_protocol::TCP,
        payload: bytes,
        kind: if out.flags & RST != 0 { ReplyKind::Rst } else { ReplyKind::Tcp },
        df: out.df,
        ttl: None,
        tos: 0,
        ip_id: None,
    }
}
