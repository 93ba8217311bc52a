//! Raw host discovery for hosts reached through a router or on loopback: nmap's default probes (ICMP echo,
//! TCP SYN to 443, TCP ACK to 80, ICMP timestamp) or the ones the user names (-PE -PP -PM -PS -PA -PU -PY
//! -PO). Hosts on the local link are found by ARP or neighbor discovery instead, while their MAC is
//! resolved.
//!
//! A host is up when any probe draws any answer from it: an echo or timestamp reply, a SYN/ACK or RST, a
//! UDP reply, an SCTP INIT ACK or ABORT (`-PY`, the cookie in the INIT's initiate tag given back as the
//! verification tag), a packet in the protocol of a `-PO` probe (built as `-sO`'s, see
//! `tojimari_packet::build_ip_proto`, and checked as `-sO` checks it), or an ICMP error sent by the host
//! itself about one of our probes (a port or protocol unreachable says the host is there; over IPv6 a
//! parameter problem "unrecognized next header" is the protocol unreachable, RFC 8200 section 4).
//!
//! nmap's reasons: `-PO`'s direct answers are `proto-response` whatever the protocol (an echo reply too),
//! `-PY`'s `init-ack` and `abort`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use tojimari_core::{Reason, ScanType};
use tojimari_packet::ipproto::{ProtoReply, direct_answer_matches, parse_proto_frame};
use tojimari_packet::{
    IpProtoProbe, L2, Probing, Reply, SctpChunk, SctpProbe, UdpProbe, build_address_mask, build_echo, build_ip_proto,
    build_sctp, build_tcp, build_timestamp, build_udp, classify,
};

use super::io::ReplyHandler;
use super::pass::{HostLink, Identity};
use super::results::{Answer, Results};

/// One discovery probe.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum PingProbe {
    /// -PE
    Echo,
    /// -PP (IPv4 only)
    Timestamp,
    /// -PM (IPv4 only)
    AddressMask,
    /// `-PS<port>`
    Syn(u16),
    /// `-PA<port>`
    Ack(u16),
    /// `-PU<port>`
    Udp(u16),
    /// `-PY<port>`: an SCTP INIT.
    Sctp(u16),
    /// `-PO<protocol>`: an IP packet of that protocol, as `-sO` sends it.
    Proto(u8),
}

impl PingProbe {
    /// nmap's default set for privileged scans.
    pub fn defaults() -> Vec<PingProbe> {
        vec![PingProbe::Echo, PingProbe::Syn(443), PingProbe::Ack(80), PingProbe::Timestamp]
    }

    /// `-PO` without a list: ICMP, IGMP and IP-in-IP, as nmap (over IPv6 too).
    pub fn proto_defaults() -> Vec<PingProbe> {
        vec![PingProbe::Proto(1), PingProbe::Proto(2), PingProbe::Proto(4)]
    }
}

/// Discovery over hosts x probes.
#[derive(Debug)]
pub struct PingPass {
    pub id: Identity,
    pub icmp_id: u16,
    pub hosts: Vec<IpAddr>,
    pub links: Vec<HostLink>,
    host_index: HashMap<IpAddr, u32>,
    pub probes: Vec<PingProbe>,
    pub results: Results,
}

impl PingPass {
    pub fn new(id: Identity, hosts: Vec<(IpAddr, HostLink)>, probes: Vec<PingProbe>) -> Self {
        let host_index = hosts.iter().enumerate().map(|(i, (a, _))| (*a, i as u32)).collect();
        let (hosts, links): (Vec<_>, Vec<_>) = hosts.into_iter().unzip();
        let n = hosts.len() * probes.len();
        let icmp_id = (id.key.cookie(IpAddr::from([0u8; 4]), IpAddr::from([0u8; 4]), 0, 0) >> 8) as u16;
        PingPass { id, icmp_id, hosts, links, host_index, probes, results: Results::new(n) }
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// The first answer for a host, if any probe got one.
    pub fn host_answer(&self, host: usize) -> Option<Answer> {
        (0..self.probes.len()).find_map(|p| self.results.get(host * self.probes.len() + p))
    }

    /// The interface (index into the scan's links) the probe `index` leaves by.
    pub fn link_of(&self, index: usize) -> u16 {
        self.links[index / self.probes.len()].link
    }

    /// Writes the probe for `index`; returns its length, 0 when that probe does not apply (timestamp over
    /// IPv6).
    pub fn build(&self, index: usize, buf: &mut [u8]) -> usize {
        let h = index / self.probes.len();
        let probe = self.probes[index % self.probes.len()];
        let theirs = self.hosts[h];
        let link = self.links[h];
        let l2: &L2 = &link.l2;
        let seq = (index % self.probes.len()) as u16;
        match probe {
            PingProbe::Echo => build_echo(buf, l2, link.src, theirs, self.icmp_id, seq, self.id.ttl),
            PingProbe::Timestamp => match (link.src, theirs) {
                (IpAddr::V4(s), IpAddr::V4(d)) => build_timestamp(buf, l2, s, d, self.icmp_id, seq, self.id.ttl),
                _ => 0,
            },
            PingProbe::AddressMask => match (link.src, theirs) {
                (IpAddr::V4(s), IpAddr::V4(d)) => build_address_mask(buf, l2, s, d, self.icmp_id, seq, self.id.ttl),
                _ => 0,
            },
            PingProbe::Syn(port) | PingProbe::Ack(port) => {
                let t = if matches!(probe, PingProbe::Syn(_)) { ScanType::Syn } else { ScanType::Ack };
                build_tcp(buf, l2, &self.id.tcp_probe(t, link.src, theirs, self.id.tcp_sport, port))
            }
            PingProbe::Udp(port) => {
                let sport = self.id.udp_sport(link.src, theirs, port);
                let p = UdpProbe {
                    src: link.src,
                    dst: theirs,
                    sport,
                    dport: port,
                    ttl: self.id.ttl,
                    ip_id: 0,
                    payload: &[],
                };
                build_udp(buf, l2, &p)
            }
            PingProbe::Sctp(port) => {
                let sport = self.id.tcp_sport;
                let cookie = self.id.key.cookie(link.src, theirs, sport, port);
                let p = SctpProbe {
                    src: link.src,
                    dst: theirs,
                    sport,
                    dport: port,
                    chunk: SctpChunk::Init,
                    cookie,
                    ttl: self.id.ttl,
                    ip_id: (cookie >> 16) as u16,
                    checksum: self.id.sctp_checksum,
                };
                build_sctp(buf, l2, &p)
            }
            PingProbe::Proto(protocol) => {
                let p = IpProtoProbe {
                    src: link.src,
                    dst: theirs,
                    protocol,
                    cookie: self.proto_cookie(link.src, theirs, protocol),
                    sport: self.id.tcp_sport,
                    ttl: self.id.ttl,
                    sctp_checksum: self.id.sctp_checksum,
                };
                build_ip_proto(buf, l2, &p)
            }
        }
    }

    /// The cookie of the `-PO` probe of `protocol` (as `-sO`'s: over (ours, theirs, 0, protocol)).
    fn proto_cookie(&self, ours: IpAddr, theirs: IpAddr, protocol: u8) -> u32 {
        self.id.key.cookie(ours, theirs, 0, protocol.into())
    }

    fn has_proto_probes(&self) -> bool {
        self.probes.iter().any(|p| matches!(p, PingProbe::Proto(_)))
    }

    fn probe_index(&self, host: IpAddr, want: impl Fn(PingProbe) -> bool) -> Option<usize> {
        let h = *self.host_index.get(&host)? as usize;
        let p = self.probes.iter().position(|&p| want(p))?;
        Some(h * self.probes.len() + p)
    }

    fn validate(&self, reply: &Reply) -> Option<(usize, Answer)> {
        let up = |reason, ttl| Answer { state: tojimari_core::PortState::Open, reason, ttl };
        match *reply {
            Reply::EchoReply { src, id, ttl, .. } if id == self.icmp_id => {
                Some((self.probe_index(src, |p| p == PingProbe::Echo)?, up(Reason::EchoReply, ttl)))
            }
            Reply::TimestampReply { src, id, ttl, .. } if id == self.icmp_id => {
                Some((self.probe_index(src, |p| p == PingProbe::Timestamp)?, up(Reason::TimestampReply, ttl)))
            }
            Reply::AddressMaskReply { src, id, ttl, .. } if id == self.icmp_id => {
                Some((self.probe_index(src, |p| p == PingProbe::AddressMask)?, up(Reason::MaskReply, ttl)))
            }
            Reply::Tcp { src, dst, sport, dport, seq, ack, flags, ttl, .. } if dport == self.id.tcp_sport => {
                let index =
                    self.probe_index(src, |p| matches!(p, PingProbe::Syn(x) | PingProbe::Ack(x) if x == sport))?;
                let t = match self.probes[index % self.probes.len()] {
                    PingProbe::Syn(_) => ScanType::Syn,
                    _ => ScanType::Ack,
                };
                let cookie = self.id.key.cookie(dst, src, dport, sport);
                if !t.reply_matches(cookie, seq, ack, flags) {
                    return None;
                }
                let reason = if flags & tojimari_packet::tcp::RST != 0 { Reason::Reset } else { Reason::SynAck };
                Some((index, up(reason, ttl)))
            }
            Reply::Udp { src, sport, ttl, .. } => {
                Some((self.probe_index(src, |p| p == PingProbe::Udp(sport))?, up(Reason::UdpResponse, ttl)))
            }
            Reply::Sctp { src, dst, sport, dport, vtag, chunk, ttl, .. } if dport == self.id.tcp_sport => {
                let index = self.probe_index(src, |p| p == PingProbe::Sctp(sport))?;
                if self.links[index / self.probes.len()].src != dst
                    || vtag != self.id.key.cookie(dst, src, dport, sport)
                {
                    return None;
                }
                let (_, reason) = classify::sctp_reply(ScanType::SctpInit, chunk)?;
                Some((index, up(reason, ttl)))
            }
            Reply::IcmpError { from, v6, kind, code, quoted, ttl, .. } if from == quoted.dst => {
                // The host itself said "unreachable" about one of our probes: it is up.
                let index = self.probe_index(quoted.dst, |_| true)?;
                Some((index, up(error_reason(v6, kind, code), ttl)))
            }
            _ => None,
        }
    }

    /// Validates what the general parser does not read for `-PO`: an ICMP error quoting an empty probe, and
    /// a packet in a probed protocol (see `tojimari_packet::ipproto`).
    fn validate_proto(&self, reply: &ProtoReply) -> Option<(usize, Answer)> {
        let up = |reason, ttl| Answer { state: tojimari_core::PortState::Open, reason, ttl };
        match *reply {
            ProtoReply::Error { from, v6, kind, code, quoted, ttl, .. } if from == quoted.dst => {
                let index = self.probe_index(quoted.dst, |p| p == PingProbe::Proto(quoted.proto))?;
                let ours = self.links[index / self.probes.len()].src;
                let cookie = self.proto_cookie(ours, quoted.dst, quoted.proto);
                if ours != quoted.src || quoted.ip_id.is_some_and(|id| id != (cookie >> 16) as u16) {
                    return None;
                }
                Some((index, up(error_reason(v6, kind, code), ttl)))
            }
            ProtoReply::Direct { src, dst, proto, ttl, reply } => {
                let index = self.probe_index(src, |p| p == PingProbe::Proto(proto))?;
                if self.links[index / self.probes.len()].src != dst {
                    return None;
                }
                let cookie = self.proto_cookie(dst, src, proto);
                direct_answer_matches(proto, reply.as_ref(), cookie, self.id.tcp_sport)
                    .then(|| (index, up(Reason::ProtoResponse, ttl)))
            }
            ProtoReply::Error { .. } => None,
        }
    }
}

/// The reason an ICMP error from the host itself gives: the unreachable's code, or the error's kind.
fn error_reason(v6: bool, kind: u8, code: u8) -> Reason {
    use tojimari_wire::icmpv4::message as m4;
    use tojimari_wire::icmpv6::message as m6;
    match (v6, kind) {
        (false, m4::DST_UNREACHABLE) => Reason::from_icmp_unreach_code(code),
        (true, m6::DST_UNREACHABLE) => Reason::from_icmpv6_unreach_code(code),
        (false, m4::TIME_EXCEEDED) | (true, m6::TIME_EXCEEDED) => Reason::TimeExceeded,
        _ => Reason::ParamProblem,
    }
}

impl ReplyHandler for PingPass {
    fn handle(&self, reply: &Reply, _now: Instant) -> bool {
        self.validate(reply).is_some_and(|(index, answer)| self.results.record(index, answer))
    }

    /// As `handle`; with `-PO` probes, what the general parser cannot read or match is read as `-sO` reads it.
    fn handle_frame(&self, frame: &[u8], _now: Instant) -> bool {
        if let Some(found) = tojimari_packet::parse_frame(frame).and_then(|r| self.validate(&r)) {
            return self.results.record(found.0, found.1);
        }
        if !self.has_proto_probes() {
            return false;
        }
        parse_proto_frame(frame)
            .and_then(|r| self.validate_proto(&r))
            .is_some_and(|(index, answer)| self.results.record(index, answer))
    }
}

impl ReplyHandler for super::pass::PortPass {
    fn handle(&self, reply: &Reply, now: Instant) -> bool {
        super::pass::PortPass::handle(self, reply, now)
    }

    /// As `handle`, and the first SYN/ACK of each host is kept for the passive OS guess.
    fn handle_frame(&self, frame: &[u8], now: Instant) -> bool {
        if self.technique == tojimari_core::ScanType::IpProto {
            return self.handle_proto_frame(frame, now);
        }
        let Some(reply) = tojimari_packet::parse_frame(frame) else { return false };
        let new = self.handle(&reply, now);
        if new && let Some(ip) = tojimari_packet::frame_ip(frame) {
            self.keep_handshake(&reply, ip);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tojimari_packet::MAX_FRAME;
    use tojimari_packet::cookie::CookieKey;

    const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

    fn us() -> IpAddr {
        "198.18.0.1".parse().unwrap()
    }

    fn them() -> IpAddr {
        "198.18.1.2".parse().unwrap()
    }

    fn pass(probes: Vec<PingProbe>) -> PingPass {
        let id = Identity {
            key: CookieKey::new(9),
            tcp_sport: 62000,
            udp_sport_base: 63000,
            ttl: 64,
            fixed_sport: false,
            sctp_checksum: Default::default(),
        };
        let link = HostLink { link: 0, src: us(), l2: L };
        PingPass::new(id, vec![(them(), link)], probes)
    }

    fn probe(p: &PingPass, index: usize) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME];
        let n = p.build(index, &mut buf);
        buf[..n].to_vec()
    }

    /// An Ethernet frame from the host to us carrying ICMP type 3 `code` quoting `quote`.
    fn unreachable(code: u8, quote: &[u8]) -> Vec<u8> {
        let mut icmp = vec![3, code, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(quote);
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0];
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 1, 2, 198, 18, 0, 1];
        ip[2..4].copy_from_slice(&((20 + icmp.len()) as u16).to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&icmp);
        f
    }

    #[test]
    fn sctp_ping_answers_must_give_the_cookie_back() {
        let p = pass(vec![PingProbe::Sctp(80), PingProbe::Sctp(81)]);
        let frame = probe(&p, 1);
        assert_eq!((frame[23], frame[46]), (132, 1), "an SCTP INIT");
        let sport = u16::from_be_bytes([frame[34], frame[35]]);
        let cookie = u32::from_be_bytes([frame[50], frame[51], frame[52], frame[53]]);
        let answer = |vtag, chunk| Reply::Sctp {
            src: them(),
            dst: us(),
            sport: 81,
            dport: sport,
            vtag,
            chunk,
            flags: 0,
            ttl: 63,
        };
        assert_eq!(p.validate(&answer(cookie ^ 1, 6)), None, "another tag");
        assert_eq!(p.validate(&answer(cookie, 3)), None, "a SACK answers no INIT");
        assert_eq!(p.validate(&answer(cookie, 6)).map(|(i, a)| (i, a.reason)), Some((1, Reason::Abort)));
        assert_eq!(p.validate(&answer(cookie, 2)).map(|a| a.1.reason), Some(Reason::InitAck));
    }

    #[test]
    fn protocol_ping_answers_are_checked_as_ip_protocol_scan_answers() {
        let p = pass(vec![PingProbe::Proto(47), PingProbe::Proto(1)]);
        let gre = probe(&p, 0);
        assert_eq!((gre.len(), gre[23]), (34, 47), "a bare GRE header");
        let mut forged = gre[14..].to_vec();
        forged[4] ^= 0xff;
        assert!(!p.handle_frame(&unreachable(2, &forged), Instant::now()), "a quote with another IP ID");
        assert_eq!(p.host_answer(0), None);
        assert!(p.handle_frame(&unreachable(2, &gre[14..]), Instant::now()));
        assert_eq!(p.host_answer(0).map(|a| a.reason), Some(Reason::ProtoUnreach));
        // The echo probe's reply: its identifier and sequence are the cookie; a stranger's echo reply is none.
        let echo = probe(&p, 1);
        let reply = |id: [u8; 4]| {
            let mut f = unreachable(0, &[]);
            f[34..42].copy_from_slice(&[0, 0, 0, 0, id[0], id[1], id[2], id[3]]);
            f
        };
        assert!(!p.handle_frame(&reply([1, 2, 3, 4]), Instant::now()));
        assert!(p.handle_frame(&reply([echo[38], echo[39], echo[40], echo[41]]), Instant::now()));
        assert_eq!(p.results.get(1).map(|a| a.reason), Some(Reason::ProtoResponse));
    }
}
