//! The passes of the techniques that are neither TCP nor UDP: the SCTP INIT and COOKIE ECHO scans (`-sY`,
//! `-sZ`) and the IP protocol scan (`-sO`), whose "ports" are protocol numbers.
//!
//! SCTP probes leave from the pass's TCP source port, the cookie (over the same 4-tuple as a TCP probe's)
//! in the INIT's initiate tag or the COOKIE ECHO's verification tag; an answer must carry it as its
//! verification tag. ICMP errors are matched on the quoted ports, as UDP's are.
//!
//! `-sO` probes carry the cookie of (ours, theirs, 0, protocol) in the IPv4 identification and wherever
//! their protocol's answer gives it back (see `tojimari_packet::build_ip_proto`). An ICMP error counts when
//! its quote names our address, the host and a scanned protocol, and (IPv4) the identification matches;
//! a direct answer when it comes from the host in a scanned protocol and, for ICMP echo, TCP, UDP and SCTP,
//! gives the cookie back. Any validated ICMP error also proves ICMP itself open (nmap's rule).

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tojimari_core::{PortState, ScanType};
use tojimari_packet::ipproto::{ProtoReply, direct_answer_matches, direct_reason, error_state, parse_proto_frame};
use tojimari_packet::{IpProtoProbe, Reply, SctpChunk, SctpProbe, build_ip_proto, build_sctp, classify};

use super::{Answer, HostLink, PortPass};

/// IP protocol numbers (IANA).
const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;
const SCTP: u8 = 132;

impl PortPass {
    /// Builds the probe of an SCTP or `-sO` pass; `None` for the TCP and UDP techniques.
    pub(super) fn build_other(&self, buf: &mut [u8], link: HostLink, theirs: IpAddr, port: u16) -> Option<usize> {
        match self.technique {
            ScanType::SctpInit | ScanType::SctpCookieEcho => {
                let sport = self.tcp_sport();
                let cookie = self.id.key.cookie(link.src, theirs, sport, port);
                let chunk = if self.technique == ScanType::SctpInit { SctpChunk::Init } else { SctpChunk::CookieEcho };
                let probe = SctpProbe {
                    src: link.src,
                    dst: theirs,
                    sport,
                    dport: port,
                    chunk,
                    cookie,
                    ttl: self.id.ttl,
                    ip_id: (cookie >> 16) as u16,
                    checksum: self.id.sctp_checksum,
                };
                Some(build_sctp(buf, &link.l2, &probe))
            }
            ScanType::IpProto => {
                let probe = IpProtoProbe {
                    src: link.src,
                    dst: theirs,
                    protocol: u8::try_from(port).ok()?,
                    cookie: self.proto_cookie(link.src, theirs, port),
                    sport: self.id.tcp_sport,
                    ttl: self.id.ttl,
                    sctp_checksum: self.id.sctp_checksum,
                };
                Some(build_ip_proto(buf, &link.l2, &probe))
            }
            _ => None,
        }
    }

    fn proto_cookie(&self, ours: IpAddr, theirs: IpAddr, protocol: u16) -> u32 {
        self.id.key.cookie(ours, theirs, 0, protocol)
    }

    /// Validates a reply to an SCTP pass (`-sO` reads frames itself: [`PortPass::handle_proto_frame`]).
    pub(super) fn validate_other(&self, reply: &Reply) -> Option<(usize, Answer)> {
        let t = self.technique;
        if !t.is_sctp() {
            return None;
        }
        match *reply {
            Reply::Sctp { src, dst, sport, dport, vtag, chunk, ttl, .. } => {
                if !self.is_our_tcp_port(dport) {
                    return None;
                }
                let index = self.index(src, sport)?;
                if self.links[index / self.ports.len()].src != dst || vtag != self.id.key.cookie(dst, src, dport, sport)
                {
                    return None;
                }
                let (state, reason) = classify::sctp_reply(t, chunk)?;
                Some((index, Answer { state, reason, ttl }))
            }
            Reply::IcmpError { v6, kind, code, quoted, ttl, .. } => {
                let index = self.index(quoted.dst, quoted.dport)?;
                let ours = self.links[index / self.ports.len()].src;
                if ours != quoted.src || quoted.proto != SCTP || !self.is_our_tcp_port(quoted.sport) {
                    return None;
                }
                let (state, reason) = classify::icmp_error(t, v6, kind, code)?;
                Some((index, Answer { state, reason, ttl }))
            }
            _ => None,
        }
    }

    /// `-sO`: reads a received frame, validates it and records what it says. Returns true when it
    /// answered a probe for the first time.
    pub(crate) fn handle_proto_frame(&self, frame: &[u8], now: Instant) -> bool {
        let found = parse_proto_frame(frame).and_then(|r| self.validate_proto(&r));
        let Some((index, answer, icmp_proof)) = found else {
            self.rx.invalid.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let new = self.record(index, answer, now);
        if let Some(icmp) = icmp_proof
            && icmp != index
        {
            let proof = Answer { state: PortState::Open, ..answer };
            self.record(icmp, proof, now);
        }
        new
    }

    /// The probe a `-sO` reply answers and what it says; for an ICMP error, also the probe of the ICMP
    /// protocol itself, which the error proves open.
    fn validate_proto(&self, reply: &ProtoReply) -> Option<(usize, Answer, Option<usize>)> {
        match *reply {
            ProtoReply::Error { v6, kind, code, quoted, ttl, .. } => {
                let index = self.index(quoted.dst, quoted.proto.into())?;
                let ours = self.links[index / self.ports.len()].src;
                if ours != quoted.src {
                    return None;
                }
                let cookie = self.proto_cookie(ours, quoted.dst, quoted.proto.into());
                if quoted.ip_id.is_some_and(|id| id != (cookie >> 16) as u16) {
                    return None;
                }
                if matches!(quoted.proto, TCP | UDP | SCTP)
                    && quoted.ports.is_some_and(|(sport, _)| sport != self.id.tcp_sport)
                {
                    return None;
                }
                let (state, reason) = error_state(v6, kind, code)?;
                let icmp = self.index(quoted.dst, u16::from(if v6 { ICMPV6 } else { ICMP }));
                Some((index, Answer { state, reason, ttl }, icmp))
            }
            ProtoReply::Direct { src, dst, proto, ttl, reply } => {
                let index = self.index(src, proto.into())?;
                if self.links[index / self.ports.len()].src != dst {
                    return None;
                }
                let cookie = self.proto_cookie(dst, src, proto.into());
                if !direct_answer_matches(proto, reply.as_ref(), cookie, self.id.tcp_sport) {
                    return None;
                }
                let reason = direct_reason(reply.as_ref());
                Some((index, Answer { state: PortState::Open, reason, ttl }, None))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::io::ReplyHandler;
    use crate::rtt::RttEstimator;
    use tojimari_core::timing::Timing;
    use tojimari_packet::cookie::CookieKey;
    use tojimari_packet::{L2, MAX_FRAME, Quoted};

    const L: L2 = L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] };

    fn pass(t: ScanType, ports: &[u16]) -> PortPass {
        let id = super::super::Identity {
            key: CookieKey::new(5),
            tcp_sport: 62000,
            udp_sport_base: 63000,
            ttl: 64,
            fixed_sport: false,
            sctp_checksum: Default::default(),
        };
        let link = HostLink { link: 0, src: "198.18.0.1".parse().unwrap(), l2: L };
        let hosts = vec![("198.18.0.2".parse().unwrap(), link)];
        PortPass::new(t, id, hosts, ports, None, RttEstimator::new(&Timing::default()))
    }

    /// The frame our probe of `index` is, read back.
    fn probe(p: &PortPass, index: usize) -> Vec<u8> {
        let mut buf = [0u8; MAX_FRAME];
        let n = p.build(index, &mut buf, Instant::now());
        buf[..n].to_vec()
    }

    #[test]
    fn sctp_answers_must_give_the_cookie_back() {
        let p = pass(ScanType::SctpInit, &[80, 81]);
        let frame = probe(&p, 0);
        let sport = u16::from_be_bytes([frame[34], frame[35]]);
        let cookie = u32::from_be_bytes([frame[50], frame[51], frame[52], frame[53]]);
        assert_eq!(frame[46], 1, "an INIT chunk");
        let (us, them) = ("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap());
        let answer =
            |vtag, chunk| Reply::Sctp { src: them, dst: us, sport: 80, dport: sport, vtag, chunk, flags: 0, ttl: 63 };
        assert_eq!(p.validate(&answer(cookie ^ 1, 2)), None, "a wrong tag");
        assert_eq!(p.validate(&answer(cookie, 3)), None, "a SACK says nothing");
        let (index, a) = p.validate(&answer(cookie, 2)).unwrap();
        assert_eq!((index, a.state, a.reason), (0, PortState::Open, tojimari_core::Reason::InitAck));
        let quoted = Quoted { src: us, dst: them, proto: SCTP, sport, dport: 81, seq: None };
        let error = Reply::IcmpError { from: them, to: us, ttl: 64, v6: false, kind: 3, code: 13, quoted };
        assert_eq!(p.validate(&error).map(|(i, a)| (i, a.state)), Some((1, PortState::Filtered)));
        let wrong = Reply::IcmpError {
            from: them,
            to: us,
            ttl: 64,
            v6: false,
            kind: 3,
            code: 13,
            quoted: Quoted { proto: TCP, ..quoted },
        };
        assert_eq!(p.validate(&wrong), None);
    }

    #[test]
    fn protocol_unreachable_closes_and_proves_icmp_open() {
        let p = pass(ScanType::IpProto, &[1, 47, 50]);
        assert_eq!(p.protocol(), tojimari_core::Protocol::Ip);
        // The kernel's answer to the GRE probe: protocol unreachable quoting its IP header.
        let sent = probe(&p, 1);
        assert_eq!(sent[23], 47);
        let error = |code: u8, quote: &[u8]| {
            let mut icmp = vec![3, code, 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(quote);
            let mut f = sent[..14].to_vec();
            let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 198, 18, 0, 2, 198, 18, 0, 1];
            let total = (20 + icmp.len()) as u16;
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            f.extend_from_slice(&ip);
            f.extend_from_slice(&icmp);
            f
        };
        let mut forged = sent[14..].to_vec();
        forged[4] ^= 0xff;
        assert!(!p.handle_frame(&error(2, &forged), Instant::now()), "a quote with another IP ID");
        assert!(p.handle_frame(&error(2, &sent[14..]), Instant::now()));
        let results: Vec<_> = p.host_results(0, true).map(|r| (r.port, r.state, r.reason)).collect();
        assert_eq!(
            results,
            [
                (1, PortState::Open, tojimari_core::Reason::ProtoUnreach),
                (47, PortState::Closed, tojimari_core::Reason::ProtoUnreach)
            ]
        );
        let esp = probe(&p, 2);
        assert!(p.handle_frame(&error(13, &esp[14..]), Instant::now()));
        assert_eq!(p.results.get(2).map(|a| a.state), Some(PortState::Filtered));
    }
}
