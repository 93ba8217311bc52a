//! The fact vector: what the answers to our probes say about a stack, every field optional (a probe not
//! sent, or not answered, leaves its facts out). [`Facts::read`] builds it from the exchanges;
//! [`Facts::values`] writes it in the database's notation (docs/os-db.md) for matching and for the
//! fingerprint a report shows.
//!
//! IPv4 and IPv6 answers give the same facts, but for those of fields IPv6 does not have: DF, IP ID and
//! the IP checksum are `None` over IPv6 and so left out (not compared). The hop limit stands for the TTL.

use std::net::IpAddr;
use std::time::Duration;

use tojimari_wire::tcp::flags;
use tojimari_wire::{Ipv4Packet, Ipv6Packet, checksum, ipv6};

use crate::notation::{Value, flag_letters, initial_ttl, option_detail, option_letters};
use crate::probes::{IE_CODE, Ids, U1_FILL, U1_LEN, tcp_shape};
use crate::reply::{self, Opt, Tcp};
use crate::sequence::{self, IdClass, IsnAnalysis, TsClock};
use crate::{Exchange, Probe, Target};

/// A probe sent: silent, or what its answer says.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer<T> {
    Silent,
    Got(T),
}

impl<T> Answer<T> {
    pub fn got(&self) -> Option<&T> {
        match self {
            Answer::Got(t) => Some(t),
            Answer::Silent => None,
        }
    }
}

/// A TCP answer's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpAnswer {
    /// TTL, or hop limit over IPv6.
    pub ttl: u8,
    /// DF (None over IPv6).
    pub df: Option<bool>,
    pub window: u16,
    /// Option letters (`MSTNW`) and the detailed form (`M1460,S,T11,N,W7`).
    pub options: String,
    pub options_detail: String,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    /// Flag letters (`SA`, `AR`).
    pub flags: String,
    /// How the answer's sequence number relates to our acknowledgment number: `zero`, `ack`, `ack+1`, `other`.
    pub seq: &'static str,
    /// How its acknowledgment number relates to our sequence number: `zero`, `seq`, `seq+1`, `other`.
    pub ack: &'static str,
    /// Data in the segment (some stacks put text in resets).
    pub data: bool,
}

/// How the ICMP port unreachable quoted our UDP probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct U1Answer {
    pub ttl: u8,
    /// DF (None over IPv6).
    pub df: Option<bool>,
    /// The error's IP total length. Over IPv6, its length less 40: the 20 bytes its own IPv6 header and
    /// the quoted one each carry beyond an IPv4 header, so that a stack quoting alike gives one number in
    /// both families (Linux quotes the whole probe: 356).
    pub ip_len: u16,
    /// The quoted total length (IPv6: payload length), ID, IP checksum and UDP checksum as we sent them
    /// (`same`), or not. ID and IP checksum are None over IPv6.
    pub quoted_len: &'static str,
    pub quoted_id: Option<&'static str>,
    pub quoted_ip_checksum: Option<&'static str>,
    pub quoted_udp_checksum: &'static str,
    /// The quoted payload: `intact`, `none` (header only), `bad`.
    pub payload: &'static str,
    /// The 32-bit unused field: `zero` or `nonzero`.
    pub unused: &'static str,
    /// Hops counted from the quoted TTL: our TTL minus the TTL it arrived with, plus one.
    pub distance: Option<u8>,
}

/// How the two echoes were answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IeAnswer {
    pub ttl: u8,
    /// DF on the replies: `no` (both clear), `yes` (both set), `echo` (as each request), `other`; None
    /// over IPv6.
    pub df: Option<&'static str>,
    /// Codes of the replies: `zero`, `echo` (as each request), `other`.
    pub code: &'static str,
}

/// Everything the exchanges say. Indexes: `syn[0..6]` the sequence probes, `odd[0..6]` T2..T7.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    /// Initial TTL: exact when the port unreachable's quote gives the distance, else the usual value above
    /// the TTL seen.
    pub ttl: Option<u8>,
    /// Hops: 1 on the local link.
    pub distance: Option<u8>,
    pub syn: [Option<Answer<TcpAnswer>>; 6],
    pub ecn: Option<Answer<TcpAnswer>>,
    pub odd: [Option<Answer<TcpAnswer>>; 6],
    pub u1: Option<Answer<U1Answer>>,
    pub ie: Option<Answer<IeAnswer>>,
    pub isn: Option<IsnAnalysis>,
    pub isn_values: Vec<u32>,
    /// IP ID classes: the open port's SYN/ACKs, the closed port's resets, the echo replies.
    pub ipid_open: Option<IdClass>,
    pub ipid_closed: Option<IdClass>,
    pub ipid_icmp: Option<IdClass>,
    pub ipid_values: Vec<u32>,
    pub ts: Option<TsClock>,
    pub ts_values: Vec<u32>,
    /// Seconds since the timestamp clock started.
    pub uptime: Option<u64>,
}

impl Facts {
    /// Reads the facts from the exchanges with `target` (any order; retries may repeat a probe, the first
    /// answer wins). Answers that do not answer their probe are ignored.
    pub fn read(target: &Target, exchanges: &[Exchange]) -> Facts {
        let ids = Ids::of(target);
        let mut f = Facts::default();
        let mut by_probe: Vec<(Probe, &Exchange)> = Vec::new();
        for ex in exchanges {
            let answered = ex.reply.as_ref().is_some_and(|(p, _)| crate::answers(target, p) == Some(ex.probe));
            match by_probe.iter_mut().find(|(p, _)| *p == ex.probe) {
                Some(slot) if answered && reply_of(target, slot.1).is_none() => slot.1 = ex,
                Some(_) => {}
                None if ex.probe.index().is_some() => by_probe.push((ex.probe, ex)),
                None => {}
            }
        }
        by_probe.sort_by_key(|(p, _)| *p);
        let (mut isn, mut ts, mut ids_open, mut ids_closed, mut ids_icmp) = (vec![], vec![], vec![], vec![], vec![]);
        let mut ie: Vec<(u8, Option<bool>, u8, u8)> = Vec::new();
        let mut ie_sent = false;
        let mut ttl_seen = None;
        for (probe, ex) in &by_probe {
            let reply = reply_of(target, ex);
            let ip = reply.and_then(|(p, _)| reply::ip(p));
            match probe {
                Probe::Ie(n) => {
                    ie_sent = true;
                    if let Some((ip, m)) = ip.as_ref().and_then(|ip| Some((ip, reply::icmp(ip.payload)?))) {
                        ie.push((*n, ip.df, m.code, ip.ttl));
                        ids_icmp.extend(ip.id);
                    }
                }
                Probe::U1 => {
                    let got = ip.as_ref().and_then(|ip| u1_answer(target, &ids, ip));
                    f.u1 = Some(got.map_or(Answer::Silent, Answer::Got));
                }
                p => {
                    let got = ip.as_ref().and_then(|ip| Some((ip, reply::tcp(ip.payload)?)));
                    let answer = got.as_ref().map(|(ip, tcp)| tcp_answer(&ids, *p, ip, tcp));
                    if let (Some((ip, tcp)), Some((_, at))) = (&got, reply) {
                        ttl_seen.get_or_insert(ip.ttl);
                        let is_open = tcp_shape(*p).is_some_and(|s| s.open_port);
                        if let Probe::Seq(_) = p {
                            if tcp.flags & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK {
                                isn.push((tcp.seq, at));
                                ids_open.extend(ip.id);
                                let tsval = tcp.options.iter().find_map(|o| match o {
                                    Opt::Ts(v, _) => Some(*v),
                                    _ => None,
                                });
                                ts.push((tsval, at));
                            }
                        } else if !is_open && tcp.flags & flags::RST != 0 {
                            ids_closed.extend(ip.id);
                        }
                    }
                    let slot = Some(answer.map_or(Answer::Silent, Answer::Got));
                    match p {
                        Probe::Seq(n) => f.syn[usize::from(*n)] = slot,
                        Probe::Ecn => f.ecn = slot,
                        Probe::T(n) => f.odd[usize::from(*n - 2)] = slot,
                        _ => {}
                    }
                }
            }
        }
        if ie_sent {
            f.ie = Some(ie_answer(&ie).map_or(Answer::Silent, Answer::Got));
        }
        let ttl_seen = ttl_seen.or_else(|| ie.first().map(|i| i.3));
        let u1 = f.u1.as_ref().and_then(Answer::got);
        f.distance = u1.and_then(|u| u.distance);
        f.ttl = match (ttl_seen, f.distance) {
            (Some(seen), Some(d)) => {
                let exact = u16::from(seen) + u16::from(d) - 1;
                Some(if exact <= 255 && initial_ttl(exact as u8) == exact as u8 {
                    exact as u8
                } else {
                    initial_ttl(seen)
                })
            }
            (Some(seen), None) => Some(initial_ttl(seen)),
            (None, _) => u1.map(|u| initial_ttl(u.ttl)),
        };
        if f.distance.is_none() {
            f.distance = match (f.ttl, ttl_seen) {
                (Some(init), Some(seen)) if init >= seen => Some(init - seen + 1),
                _ => None,
            };
        }
        f.isn_values = isn.iter().map(|i| i.0).collect();
        f.isn = sequence::isn(&isn);
        f.ipid_open = sequence::id_class(&ids_open);
        f.ipid_closed = sequence::id_class(&ids_closed);
        f.ipid_icmp = sequence::id_class(&ids_icmp);
        // The values shown are those of the series the report's class comes from (open, closed, ICMP).
        let shown = [(&f.ipid_open, &ids_open), (&f.ipid_closed, &ids_closed), (&f.ipid_icmp, &ids_icmp)];
        if let Some((_, ids)) = shown.iter().find(|(c, _)| c.is_some()) {
            f.ipid_values = ids.iter().map(|&i| u32::from(i)).collect();
        }
        f.ts = sequence::ts_clock(&ts);
        f.ts_values = ts.iter().filter_map(|t| t.0).collect();
        if let (Some(clock), Some(&last)) = (f.ts, f.ts_values.last()) {
            f.uptime = sequence::uptime(clock, last);
        }
        f
    }

    /// The facts in the database's notation, in a fixed order (docs/os-db.md lists the keys).
    pub fn values(&self) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        let mut put = |k: &str, v: Value| out.push((k.to_string(), v));
        if let Some(t) = self.ttl {
            put("ttl", Value::Num(u32::from(t)));
        }
        if let Some(Answer::Got(a)) = self.syn.iter().flatten().find(|a| matches!(a, Answer::Got(_)))
            && let Some(df) = a.df
        {
            put("df", Value::yes_no(df));
        }
        for (i, s) in self.syn.iter().enumerate() {
            if let Some(Answer::Got(a)) = s {
                put(&format!("win.s{}", i + 1), Value::Num(u32::from(a.window)));
                put(&format!("opts.s{}", i + 1), Value::Word(a.options.clone()));
            }
        }
        if let Some(Answer::Got(a)) = &self.syn[0] {
            put("mss", a.mss.map_or(Value::word("none"), |m| Value::Num(u32::from(m))));
            put("ws", a.wscale.map_or(Value::word("none"), |w| Value::Num(u32::from(w))));
        }
        if let Some(c) = self.ts {
            put("ts", Value::word(c.token()));
        }
        if let Some(i) = &self.isn {
            put("isn.gcd", Value::Num(i.gcd));
            put("isn.isr", Value::Num(i.isr));
            if let Some(sp) = i.sp {
                put("isn.sp", Value::Num(sp));
            }
        }
        for (k, c) in [("ipid.open", self.ipid_open), ("ipid.closed", self.ipid_closed), ("ipid.icmp", self.ipid_icmp)]
        {
            if let Some(c) = c {
                put(k, Value::word(c.token()));
            }
        }
        match &self.ecn {
            Some(Answer::Got(a)) => {
                let e = a.flags.contains('E');
                let c = a.flags.contains('C');
                put(
                    "ecn",
                    Value::word(match (e, c) {
                        (true, false) => "ece",
                        (true, true) => "ece-cwr",
                        (false, true) => "cwr",
                        (false, false) => "none",
                    }),
                );
                put("win.ecn", Value::Num(u32::from(a.window)));
                put("opts.ecn", Value::Word(a.options.clone()));
            }
            Some(Answer::Silent) => put("ecn", Value::word("silent")),
            None => {}
        }
        for (i, t) in self.odd.iter().enumerate() {
            let n = i + 2;
            match t {
                Some(Answer::Got(a)) => {
                    put(&format!("t{n}.reply"), Value::yes_no(true));
                    put(&format!("t{n}.flags"), Value::Word(a.flags.clone()));
                    put(&format!("t{n}.seq"), Value::word(a.seq));
                    put(&format!("t{n}.ack"), Value::word(a.ack));
                    put(&format!("t{n}.win"), Value::Num(u32::from(a.window)));
                    if let Some(df) = a.df {
                        put(&format!("t{n}.df"), Value::yes_no(df));
                    }
                    put(&format!("t{n}.opts"), Value::Word(a.options.clone()));
                    put(&format!("t{n}.data"), Value::yes_no(a.data));
                }
                Some(Answer::Silent) => put(&format!("t{n}.reply"), Value::yes_no(false)),
                None => {}
            }
        }
        match &self.u1 {
            Some(Answer::Got(u)) => {
                put("u1.reply", Value::yes_no(true));
                if let Some(df) = u.df {
                    put("u1.df", Value::yes_no(df));
                }
                put("u1.iplen", Value::Num(u32::from(u.ip_len)));
                put("u1.ripl", Value::word(u.quoted_len));
                if let Some(id) = u.quoted_id {
                    put("u1.rid", Value::word(id));
                }
                if let Some(ck) = u.quoted_ip_checksum {
                    put("u1.ripck", Value::word(ck));
                }
                put("u1.ruck", Value::word(u.quoted_udp_checksum));
                put("u1.rud", Value::word(u.payload));
                put("u1.unused", Value::word(u.unused));
            }
            Some(Answer::Silent) => put("u1.reply", Value::yes_no(false)),
            None => {}
        }
        match &self.ie {
            Some(Answer::Got(i)) => {
                put("ie.reply", Value::yes_no(true));
                if let Some(df) = i.df {
                    put("ie.df", Value::word(df));
                }
                put("ie.code", Value::word(i.code));
            }
            Some(Answer::Silent) => put("ie.reply", Value::yes_no(false)),
            None => {}
        }
        out
    }

    /// The fingerprint a report shows: the facts one `key = value` per line, then the detailed options
    /// and series as comments.
    pub fn fingerprint(&self) -> String {
        let mut lines: Vec<String> = self.values().iter().map(|(k, v)| format!("{k} = {v}")).collect();
        for (i, s) in self.syn.iter().enumerate() {
            if let Some(Answer::Got(a)) = s {
                lines.push(format!("# s{}: {} win {} ttl {}", i + 1, a.options_detail, a.window, a.ttl));
            }
        }
        if !self.isn_values.is_empty() {
            let v: Vec<String> = self.isn_values.iter().map(|v| format!("{v:x}")).collect();
            lines.push(format!("# isn: {}", v.join(",")));
        }
        lines.join("\n")
    }

    /// Whether nothing at all was learned.
    pub fn is_empty(&self) -> bool {
        self.values().is_empty()
    }
}

/// The answer of an exchange when it answers its probe.
fn reply_of<'a>(target: &Target, ex: &'a Exchange) -> Option<(&'a [u8], Duration)> {
    ex.reply.as_ref().filter(|(p, _)| crate::answers(target, p) == Some(ex.probe)).map(|(p, t)| (p.as_slice(), *t))
}

fn tcp_answer(ids: &Ids, probe: Probe, ip: &reply::Ip<'_>, tcp: &Tcp) -> TcpAnswer {
    let our_seq = ids.seq(probe);
    let our_ack = if tcp_shape(probe).is_some_and(|s| s.flags & flags::ACK != 0) { ids.ack(probe) } else { 0 };
    let seq = match tcp.seq {
        0 => "zero",
        s if s == our_ack => "ack",
        s if s == our_ack.wrapping_add(1) => "ack+1",
        _ => "other",
    };
    let ack = match tcp.ack {
        0 => "zero",
        a if a == our_seq => "seq",
        a if a == our_seq.wrapping_add(1) => "seq+1",
        _ => "other",
    };
    TcpAnswer {
        ttl: ip.ttl,
        df: ip.df,
        window: tcp.window,
        options: option_letters(&tcp.options),
        options_detail: option_detail(&tcp.options),
        mss: tcp.options.iter().find_map(|o| if let Opt::Mss(v) = o { Some(*v) } else { None }),
        wscale: tcp.options.iter().find_map(|o| if let Opt::Ws(v) = o { Some(*v) } else { None }),
        flags: flag_letters(tcp.flags),
        seq,
        ack,
        data: !tcp.payload.is_empty(),
    }
}

fn u1_answer(target: &Target, ids: &Ids, ip: &reply::Ip<'_>) -> Option<U1Answer> {
    let m = reply::icmp(ip.payload)?;
    let q = m.data;
    let udp_at = q.len() - crate::answers::quoted_udp(target, q)?.len();
    let udp = q.get(udp_at..udp_at + 8)?;
    let same = |b: bool| if b { "same" } else { "changed" };
    let (quoted_len, quoted_id, quoted_ip_checksum, quoted_ttl, ip_len) = match target.dst {
        IpAddr::V4(_) => {
            let qip = Ipv4Packet::new_unchecked(q);
            let ck = if qip.checksum() == 0 {
                "zero"
            } else if checksum::fold(checksum::sum(&q[..udp_at])) == 0xffff {
                "good"
            } else {
                "bad"
            };
            let sent_len = (20 + 8 + U1_LEN) as u16;
            let id = same(qip.ident() == ids.ip_id(Probe::U1));
            (same(qip.total_len() == sent_len), Some(id), Some(ck), qip.ttl(), ip.total_len)
        }
        IpAddr::V6(_) => {
            let qip = Ipv6Packet::new_unchecked(q);
            let sent_len = (8 + U1_LEN) as u16;
            let len = ip.total_len.saturating_sub(2 * (ipv6::HEADER_LEN as u16 - 20));
            (same(qip.payload_len() == sent_len), None, None, qip.hop_limit(), len)
        }
    };
    let udp_ck = u16::from_be_bytes([udp[6], udp[7]]);
    let payload = q.get(udp_at + 8..).unwrap_or(&[]);
    let our_ck = udp_checksum(target.src, target.dst, ids.port(Probe::U1), target.closed_udp?);
    Some(U1Answer {
        ttl: ip.ttl,
        df: ip.df,
        ip_len,
        quoted_len,
        quoted_id,
        quoted_ip_checksum,
        quoted_udp_checksum: if udp_ck == 0 { "zero" } else { same(udp_ck == our_ck) },
        payload: match payload {
            [] => "none",
            p if p.iter().all(|&b| b == U1_FILL) => "intact",
            _ => "bad",
        },
        unused: if m.rest == 0 { "zero" } else { "nonzero" },
        distance: target.ttl.checked_sub(quoted_ttl).map(|d| d.saturating_add(1)),
    })
}

/// The UDP checksum our U1 probe carried (recomputed, as the probe is not kept).
fn udp_checksum(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> u16 {
    let mut seg = vec![0u8; 8 + U1_LEN];
    seg[0..2].copy_from_slice(&sport.to_be_bytes());
    seg[2..4].copy_from_slice(&dport.to_be_bytes());
    seg[4..6].copy_from_slice(&((8 + U1_LEN) as u16).to_be_bytes());
    seg[8..].fill(U1_FILL);
    let c = checksum::upper_layer(src, dst, reply::UDP, &seg);
    if c == 0 { 0xffff } else { c }
}

/// The echo facts from `(echo number, DF, code, ttl)` of the replies (DF None over IPv6).
fn ie_answer(replies: &[(u8, Option<bool>, u8, u8)]) -> Option<IeAnswer> {
    let first = replies.first()?;
    let sent_df = |n: u8| n == 1;
    let dfs: Option<Vec<(u8, bool)>> = replies.iter().map(|r| Some((r.0, r.1?))).collect();
    let df = dfs.map(|dfs| {
        if dfs.iter().all(|r| !r.1) {
            "no"
        } else if dfs.iter().all(|r| r.1) {
            "yes"
        } else if dfs.iter().all(|r| r.1 == sent_df(r.0)) {
            "echo"
        } else {
            "other"
        }
    });
    let code = if replies.iter().all(|r| r.2 == 0) {
        "zero"
    } else if replies.iter().all(|r| r.2 == IE_CODE[usize::from(r.0.clamp(1, 2) - 1)]) {
        "echo"
    } else {
        "other"
    };
    Some(IeAnswer { ttl: first.3, df, code })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::tests::{mirror6, unreachable6};
    use crate::probes::tests::target6;
    use crate::probes::{build, schedule};
    use tojimari_wire::TcpPacket;

    /// A Linux-like host two hops away answering every probe over IPv6: SYN/ACKs with our options, resets
    /// from the closed port, the whole UDP probe quoted, echoes answered with their code.
    fn exchanges6(t: &Target) -> Vec<Exchange> {
        let ids = Ids::of(t);
        let hop = |mut ip: Vec<u8>| {
            ip[7] = 63;
            ip
        };
        schedule(t)
            .into_iter()
            .map(|(probe, sent)| {
                let reply = match probe {
                    Probe::U1 => {
                        let mut buf = [0u8; 1600];
                        let n = build(t, probe, &mut buf);
                        let mut quoted = buf[14..n].to_vec();
                        quoted[7] -= 1; // the hop limit it arrived with
                        Some(hop(unreachable6(t, &quoted)))
                    }
                    Probe::Ie(_) => Some(hop(mirror6(t, probe))),
                    Probe::T(2 | 3) => None,
                    p => {
                        let mut ip = hop(mirror6(t, p));
                        let mut tcp = TcpPacket::new_unchecked(&mut ip[40..]);
                        let open = tcp_shape(p).is_some_and(|s| s.open_port);
                        tcp.set_flags(if open { flags::SYN | flags::ACK } else { flags::RST | flags::ACK });
                        tcp.set_seq_number(if open {
                            0x1000_0000u32.wrapping_mul(u32::from(sent.as_millis() as u16))
                        } else {
                            0
                        });
                        tcp.set_ack_number(ids.seq(p).wrapping_add(1));
                        tcp.set_window_len(if open { 64260 } else { 0 });
                        Some(ip)
                    }
                };
                Exchange { probe, sent, reply: reply.map(|r| (r, sent + Duration::from_millis(1))) }
            })
            .collect()
    }

    #[test]
    fn ipv6_answers_give_the_facts_ipv6_has() {
        let t = target6();
        let f = Facts::read(&t, &exchanges6(&t));
        assert_eq!((f.ttl, f.distance), (Some(64), Some(2)), "hop limit 63, quoted 56 of our 57");
        let syn = f.syn[0].as_ref().and_then(Answer::got).expect("s1 answered");
        assert_eq!((syn.ttl, syn.df, syn.window, syn.flags.as_str()), (63, None, 64260, "SA"));
        assert_eq!(syn.ack, "seq+1");
        let t5 = f.odd[3].as_ref().and_then(Answer::got).expect("t5 answered");
        assert_eq!((t5.df, t5.flags.as_str()), (None, "AR"));
        assert_eq!(f.odd[0], Some(Answer::Silent));
        let u1 = f.u1.as_ref().and_then(Answer::got).expect("u1 answered");
        assert_eq!((u1.df, u1.quoted_id, u1.quoted_ip_checksum), (None, None, None));
        assert_eq!((u1.ip_len, u1.quoted_len, u1.quoted_udp_checksum, u1.payload), (356, "same", "same", "intact"));
        assert_eq!((u1.unused, u1.distance), ("zero", Some(2)));
        let ie = f.ie.as_ref().and_then(Answer::got).expect("echoes answered");
        assert_eq!((ie.ttl, ie.df, ie.code), (63, None, "echo"));
        assert_eq!((f.ipid_open, f.ipid_closed, f.ipid_icmp), (None, None, None));
        assert!(f.ipid_values.is_empty());
        let keys: Vec<String> = f.values().into_iter().map(|(k, _)| k).collect();
        for k in &keys {
            assert!(!crate::db::keys::ipv4_only(k), "{k} measured over IPv6");
        }
        for k in ["ttl", "win.s1", "opts.s1", "t5.flags", "u1.iplen", "u1.ripl", "u1.ruck", "ie.code"] {
            assert!(keys.iter().any(|x| x == k), "{k} missing: {keys:?}");
        }
    }

    #[test]
    fn ipv6_quote_changes_are_seen() {
        let t = target6();
        let mut ex = exchanges6(&t);
        let u1 = ex.iter_mut().find(|e| e.probe == Probe::U1).unwrap();
        let (ip, _) = u1.reply.as_mut().unwrap();
        // The quoted payload length and a payload byte changed; only the headers would be "none".
        ip[48 + 4 + 1] ^= 1;
        ip[48 + 48 + 5] ^= 1;
        let f = Facts::read(&t, &ex);
        let u1 = f.u1.as_ref().and_then(Answer::got).expect("still our probe");
        assert_eq!((u1.quoted_len, u1.payload), ("changed", "bad"));
        // Headers only: 40 + 8 + 40 + 8 less 40.
        let mut buf = [0u8; 1600];
        assert!(build(&t, Probe::U1, &mut buf) > 62);
        let short = unreachable6(&t, &buf[14..14 + 48]);
        let ex = vec![Exchange { probe: Probe::U1, sent: Duration::ZERO, reply: Some((short, Duration::ZERO)) }];
        let u1 = Facts::read(&t, &ex).u1.and_then(|a| a.got().cloned()).expect("answered");
        assert_eq!((u1.ip_len, u1.payload), (56, "none"));
    }
}
