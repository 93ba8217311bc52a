//! One pass of a technique over a group of hosts: the (host x port) index space, how to build the probe for
//! an index, and how a received reply maps back to an index and an answer.
//!
//! The sender and the receiver share a `PortPass` and nothing else. Replies are validated without any
//! per-probe state: the probe carried a keyed cookie (in the TCP sequence or acknowledgement number, or in
//! the UDP source port), and a reply or an ICMP error quoting the probe must give it back. Anything that
//! fails validation is counted and ignored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use tojimari_core::{PortResult, Protocol, ScanType};
use tojimari_packet::cookie::CookieKey;
use tojimari_packet::{L2, Probing, Reply, TcpFields, TcpProbe, TcpTemplate, UdpProbe, build_udp, classify, payloads};

mod other;

use super::results::{Answer, Results};
use super::retry_sample::RetrySample;
use crate::rtt::RttEstimator;

/// UDP probes leave from one of this many source ports, chosen by the cookie.
pub const UDP_PORT_SPREAD: u16 = 1024;
/// How far [`Identity::udp_sport`] turns the source-port window for a port of an own address inside it:
/// neither 0 nor half the window, so no port maps to itself and no two ports map to each other.
const OWN_ROTATION: u32 = UDP_PORT_SPREAD as u32 / 2 + 1;
/// TCP probes of pass k leave from `tcp_sport + k % TCP_PORT_SPREAD`. A retry on the same 4-tuple as a lost
/// SYN/ACK would meet the target's half-open connection, whose SYN/ACK re-sends Linux rate-limits to one per
/// 500 ms (`tcp_invalid_ratelimit`): a fresh source port gets a fresh answer at once.
pub const TCP_PORT_SPREAD: u16 = 16;
/// Retry passes walk hosts' ports in units of at most this many (see [`PortPass::for_each_retry`]).
const RETRY_UNIT: usize = 256;
/// About this many probes of a pass have their send time recorded, for round-trip estimates: every probe
/// of a small pass (so that a few answering ports among silent ones still give the wait after a pass its
/// measure), one in `len / RTT_SAMPLES` of a large one.
const RTT_SAMPLES: usize = 1024;

/// How to put a frame on the wire for one host.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HostLink {
    /// Index into the scan's interfaces.
    pub link: u16,
    pub src: IpAddr,
    pub l2: L2,
}

/// The per-scan constants shared by every pass.
#[derive(Copy, Clone, Debug)]
pub struct Identity {
    pub key: CookieKey,
    /// Source port of every TCP probe (the cookie rides in the sequence numbers).
    pub tcp_sport: u16,
    /// UDP probes use `udp_sport_base + cookie % UDP_PORT_SPREAD`.
    pub udp_sport_base: u16,
    pub ttl: u8,
    /// `-g`: every probe leaves from `tcp_sport` (TCP) or `udp_sport_base` (UDP), retries included.
    pub fixed_sport: bool,
    /// The checksum of every SCTP probe (`--adler32`: RFC 2960's Adler-32).
    pub sctp_checksum: tojimari_wire::SctpChecksum,
}

impl Identity {
    /// The TCP probe of `technique` from `ours:sport` to `theirs:port`, its cookie in the sequence numbers.
    pub fn tcp_probe(&self, technique: ScanType, ours: IpAddr, theirs: IpAddr, sport: u16, port: u16) -> TcpProbe {
        let cookie = self.key.cookie(ours, theirs, sport, port);
        let (seq, ack) = technique.probe_seq_ack(cookie);
        TcpProbe {
            src: ours,
            dst: theirs,
            sport,
            dport: port,
            seq,
            ack,
            flags: technique.tcp_flags(),
            window: 1024,
            ttl: self.ttl,
            ip_id: (cookie >> 16) as u16,
        }
    }

    /// The source port of the UDP probe to `theirs:their_port`: within `UDP_PORT_SPREAD` ports of
    /// `udp_sport_base`, chosen by the cookie.
    ///
    /// A probe of this host's own address comes back to our receiver on loopback, where it looks like a
    /// datagram from `their_port` to its source port. It would pass for the reply to the probe of that
    /// source port if that probe left from `their_port`: a port probed from itself, or two ports probed
    /// from each other. So for an own address (`ours == theirs`), a port inside the window is probed from
    /// its image under a fixed rotation of the window, which has neither fixed points nor 2-cycles, and a
    /// port outside it from a port inside (whose own probe then leaves from inside the window too, never
    /// from the port outside).
    pub fn udp_sport(&self, ours: IpAddr, theirs: IpAddr, their_port: u16) -> u16 {
        if self.fixed_sport {
            return self.udp_sport_base;
        }
        let spread = u32::from(UDP_PORT_SPREAD);
        let offset = their_port.wrapping_sub(self.udp_sport_base);
        let offset = if ours == theirs && u32::from(offset) < spread {
            (u32::from(offset) + OWN_ROTATION) % spread
        } else {
            self.key.cookie(ours, theirs, 0, their_port) % spread
        };
        self.udp_sport_base.wrapping_add(offset as u16)
    }
}

/// Counters of what the receiver saw.
#[derive(Debug, Default)]
pub struct RxCounters {
    pub validated: AtomicU64,
    pub duplicates: AtomicU64,
    pub invalid: AtomicU64,
}

/// A pass of one technique over hosts x ports.
#[derive(Debug)]
pub struct PortPass {
    pub technique: ScanType,
    pub id: Identity,
    pub hosts: Vec<IpAddr>,
    pub links: Vec<HostLink>,
    host_index: HashMap<IpAddr, u32>,
    pub ports: Vec<u16>,
    port_index: Vec<u32>,
    pub results: Results,
    /// Per host: whether it has answered anything in this pass (see [`RetrySample`]).
    heard: Vec<AtomicBool>,
    /// Per host: its probes answered so far.
    host_answered: Vec<std::sync::atomic::AtomicU32>,
    /// Per host: answers that said closed again for a probe already answered closed (see
    /// [`super::icmp_pacing`]'s check).
    host_echoes: Vec<std::sync::atomic::AtomicU32>,
    /// Per host: its probes this run sends (all its ports, unless the run sends a selection).
    host_wanted: Vec<u32>,
    /// Probes this run sends, over all hosts.
    selected: usize,
    sample: RetrySample,
    /// TCP techniques: one probe template per distinct (source, link) among the hosts, and each host's.
    templates: Vec<TcpTemplate>,
    host_template: Vec<u16>,
    /// When every host is reached the same way (the usual case): that way, so that sending a probe
    /// reads no per-host entry but the address.
    uniform: Option<HostLink>,
    /// The pass being sent (0 = first try); picks the TCP source port.
    pub pass_no: std::sync::atomic::AtomicU32,
    samples: Mutex<HashMap<usize, Instant>>,
    /// One probe in this many is timed (see [`RTT_SAMPLES`]).
    rtt_every: usize,
    pub rtt: Mutex<RttEstimator>,
    pub rx: RxCounters,
    /// Per host: whether its first SYN/ACK was read for the passive OS guess.
    handshake_seen: Vec<AtomicBool>,
    /// The first SYN/ACK of each host that sent one, as the passive OS guess reads it.
    handshakes: Mutex<HashMap<u32, tojimari_osdetect::passive::Handshake>>,
    /// nmap's evasion options for these probes; `None` sends them as built.
    pub shaping: Option<tojimari_packet::Shaping>,
}

impl PortPass {
    pub fn new(
        technique: ScanType,
        id: Identity,
        hosts: Vec<(IpAddr, HostLink)>,
        ports: &[u16],
        picks: Option<&[u32]>,
        rtt: RttEstimator,
    ) -> Self {
        let mut port_index = vec![u32::MAX; 65536];
        for (i, &p) in ports.iter().enumerate() {
            port_index[usize::from(p)] = i as u32;
        }
        let host_index: HashMap<IpAddr, u32> = hosts.iter().enumerate().map(|(i, (a, _))| (*a, i as u32)).collect();
        let (hosts, links): (Vec<_>, Vec<_>) = hosts.into_iter().unzip();
        let n = hosts.len() * ports.len();
        let hosts_len = hosts.len();
        let heard = (0..hosts.len()).map(|_| AtomicBool::new(false)).collect();
        let host_answered = (0..hosts.len()).map(|_| std::sync::atomic::AtomicU32::new(0)).collect();
        let (templates, host_template) = templates(technique, &id, &hosts, &links);
        let (results, host_wanted, selected) = match picks {
            None => (Results::new(n), vec![ports.len() as u32; hosts_len], n),
            Some(picks) => {
                let results = Results::unselected(n);
                let mut wanted = vec![0u32; hosts_len];
                let mut selected = 0;
                for &i in picks {
                    if results.select(i as usize) {
                        wanted[i as usize / ports.len().max(1)] += 1;
                        selected += 1;
                    }
                }
                (results, wanted, selected)
            }
        };
        let uniform = links.first().copied().filter(|first| links.iter().all(|l| l == first));
        PortPass {
            technique,
            id,
            hosts,
            links,
            host_index,
            ports: ports.to_vec(),
            port_index,
            results,
            heard,
            host_answered,
            host_echoes: (0..hosts_len).map(|_| std::sync::atomic::AtomicU32::new(0)).collect(),
            host_wanted,
            selected,
            templates,
            host_template,
            uniform,
            sample: RetrySample::new(ports.len()),
            pass_no: std::sync::atomic::AtomicU32::new(0),
            samples: Mutex::new(HashMap::new()),
            rtt_every: (n / RTT_SAMPLES).max(1),
            rtt: Mutex::new(rtt),
            rx: RxCounters::default(),
            handshake_seen: (0..hosts_len).map(|_| AtomicBool::new(false)).collect(),
            handshakes: Mutex::new(HashMap::new()),
            shaping: None,
        }
    }

    /// Keeps the first SYN/ACK a host answered with (the IP packet `ip` carrying the validated `reply`),
    /// for the passive OS guess: a few bytes per answering host, read once.
    pub fn keep_handshake(&self, reply: &Reply, ip: &[u8]) {
        let Reply::Tcp { src, flags, .. } = *reply else { return };
        if flags & (tojimari_packet::tcp::SYN | tojimari_packet::tcp::ACK)
            != tojimari_packet::tcp::SYN | tojimari_packet::tcp::ACK
        {
            return;
        }
        let Some(&h) = self.host_index.get(&src) else { return };
        let Some(seen) = self.handshake_seen.get(h as usize) else { return };
        if seen.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(hs) = tojimari_osdetect::passive::read(ip)
            && let Ok(mut all) = self.handshakes.lock()
        {
            all.insert(h, hs);
        }
    }

    /// Host `h`'s first SYN/ACK, if it sent one.
    pub fn handshake(&self, h: usize) -> Option<tojimari_osdetect::passive::Handshake> {
        self.handshakes.lock().ok()?.get(&(h as u32)).cloned()
    }

    /// The size of the (host x port) index space.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// The probes this run sends (all of them, unless the pass was given picks).
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// Records an answer a previous run received (a resumed group): the probe is not sent again and its
    /// host counts as heard from. Ignored for a probe this run does not send or already answered.
    pub fn preset(&self, index: usize, word: u16) {
        let Some(answer) = super::results::Answer::decode(word) else { return };
        if !self.results.record(index, answer) {
            return;
        }
        let h = index / self.ports.len().max(1);
        if let Some(heard) = self.heard.get(h) {
            heard.store(true, Ordering::Relaxed);
        }
        if let Some(answered) = self.host_answered.get(h) {
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.technique.protocol()
    }

    fn index(&self, host: IpAddr, port: u16) -> Option<usize> {
        let h = *self.host_index.get(&host)? as usize;
        let p = self.port_index[usize::from(port)];
        (p != u32::MAX).then(|| h * self.ports.len() + p as usize)
    }

    /// (host index, port) of a probe index.
    pub fn split(&self, index: usize) -> (usize, u16) {
        (index / self.ports.len(), self.ports[index % self.ports.len()])
    }

    /// The results of host `h`: each port's answer, or the technique's silence state; when the passes were
    /// `interrupted`, silent ports are left out (they were not finished).
    pub fn host_results(&self, h: usize, interrupted: bool) -> impl Iterator<Item = PortResult> + '_ {
        self.ports.iter().enumerate().filter_map(move |(pi, &port)| {
            let index = h * self.ports.len() + pi;
            if !self.results.is_selected(index) {
                return None;
            }
            self.port_result(index, port, interrupted)
        })
    }

    fn port_result(&self, index: usize, port: u16, interrupted: bool) -> Option<PortResult> {
        let proto = self.protocol();
        let (silent_state, silent_reason) = classify::silence(self.technique);
        match self.results.get(index) {
            Some(a) => {
                let mut r = PortResult::new(proto, port, a.state, a.reason);
                r.reason_ttl = a.ttl;
                Some(r)
            }
            None if interrupted => None,
            None => Some(PortResult::new(proto, port, silent_state, silent_reason)),
        }
    }

    /// Host `h`'s probes answered so far, and its closed answers repeated (see `host_echoes`).
    pub fn host_counts(&self, h: usize) -> (u32, u32) {
        let load = |v: &[std::sync::atomic::AtomicU32]| v.get(h).map_or(0, |a| a.load(Ordering::Relaxed));
        (load(&self.host_answered), load(&self.host_echoes))
    }

    /// Whether probe `index` is one this run sends and still has no answer.
    pub fn is_silent(&self, index: usize) -> bool {
        self.results.is_selected(index) && !self.results.is_answered(index)
    }

    /// The interface (index into the scan's links) the probe `index` leaves by.
    pub fn link_of(&self, index: usize) -> u16 {
        match self.uniform {
            Some(link) => link.link,
            None => self.links[index / self.ports.len()].link,
        }
    }

    /// Retry passes walk the probes in units of one host's ports, at most [`RETRY_UNIT`] of them: the
    /// number of units.
    pub fn retry_units(&self) -> usize {
        self.hosts.len() * self.ports.len().div_ceil(RETRY_UNIT)
    }

    /// Calls `f` with every probe index of retry unit `unit` that pass `pass` sends: unanswered, and
    /// wanted by the retry rule ([`RetrySample`]). A silent host costs one check, not one per port, so a
    /// retry over a large sweep walks only what it sends.
    pub fn for_each_retry(&self, unit: usize, pass: u32, f: &mut dyn FnMut(usize) -> bool) -> bool {
        let chunks = self.ports.len().div_ceil(RETRY_UNIT);
        let (h, chunk) = (unit / chunks, unit % chunks);
        let heard = self.heard[h].load(Ordering::Relaxed);
        if !heard && pass > 1 {
            return true;
        }
        let first = chunk * RETRY_UNIT;
        for p in first..(first + RETRY_UNIT).min(self.ports.len()) {
            let index = h * self.ports.len() + p;
            if self.sample.wanted(pass, h, p, heard) && !self.results.is_answered(index) && !f(index) {
                return false;
            }
        }
        true
    }

    /// Whether pass `pass` (a retry) has anything to send, without walking the probes: a host heard from
    /// with probes still unanswered, or, in the first retry, a silent host (whose sample goes).
    pub fn retry_pending(&self, pass: u32) -> bool {
        self.heard.iter().zip(&self.host_answered).zip(&self.host_wanted).any(|((heard, answered), &wanted)| {
            let unanswered = answered.load(Ordering::Relaxed) < wanted;
            unanswered && (heard.load(Ordering::Relaxed) || pass <= 1)
        })
    }

    /// Writes the probe for `index` into `buf`; returns its length (0 if it cannot be built). TCP probes
    /// are the host's template patched; UDP probes are built whole (their payload depends on the port).
    pub fn build(&self, index: usize, buf: &mut [u8], now: Instant) -> usize {
        let (h, port) = self.split(index);
        let theirs = self.hosts[h];
        let link = self.uniform.unwrap_or_else(|| self.links[h]);
        if index.is_multiple_of(self.rtt_every)
            && let Ok(mut s) = self.samples.lock()
        {
            s.insert(index, now);
        }
        if let Some(len) = self.build_other(buf, link, theirs, port) {
            return len;
        }
        if self.technique.is_udp() {
            let sport = self.id.udp_sport(link.src, theirs, port);
            let probe = UdpProbe {
                src: link.src,
                dst: theirs,
                sport,
                dport: port,
                ttl: self.id.ttl,
                ip_id: (index as u16).wrapping_mul(31),
                payload: payloads::udp_payload(port),
            };
            return build_udp(buf, &link.l2, &probe);
        }
        let which = if self.uniform.is_some() { 0 } else { usize::from(self.host_template[h]) };
        let Some(template) = self.templates.get(which) else { return 0 };
        let sport = self.tcp_sport();
        let cookie = self.id.key.cookie(link.src, theirs, sport, port);
        let (seq, ack) = self.technique.probe_seq_ack(cookie);
        template.write(buf, &TcpFields { dst: theirs, sport, dport: port, seq, ack, ip_id: (cookie >> 16) as u16 })
    }

    fn tcp_sport(&self) -> u16 {
        if self.id.fixed_sport {
            return self.id.tcp_sport;
        }
        let k = self.pass_no.load(Ordering::Relaxed) as u16 % TCP_PORT_SPREAD;
        self.id.tcp_sport.wrapping_add(k)
    }

    /// Whether `port` is one of the TCP source ports this scan's passes use.
    fn is_our_tcp_port(&self, port: u16) -> bool {
        port.wrapping_sub(self.id.tcp_sport) < TCP_PORT_SPREAD
    }

    /// Validates a reply and records its answer. Returns true if it answered a probe for the first time.
    pub fn handle(&self, reply: &Reply, now: Instant) -> bool {
        let Some((index, answer)) = self.validate(reply) else {
            self.rx.invalid.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.record(index, answer, now)
    }

    /// Records a validated answer to probe `index`. Returns true if it answered the probe for the first time.
    fn record(&self, index: usize, answer: Answer, now: Instant) -> bool {
        self.rx.validated.fetch_add(1, Ordering::Relaxed);
        if let Some(heard) = self.heard.get(index / self.ports.len()) {
            heard.store(true, Ordering::Relaxed);
        }
        if !self.results.record(index, answer) {
            self.rx.duplicates.fetch_add(1, Ordering::Relaxed);
            if answer.state == tojimari_core::PortState::Closed
                && self.results.get(index).is_some_and(|a| a.state == tojimari_core::PortState::Closed)
                && let Some(echoes) = self.host_echoes.get(index / self.ports.len())
            {
                echoes.fetch_add(1, Ordering::Relaxed);
            }
            return false;
        }
        if let Some(answered) = self.host_answered.get(index / self.ports.len()) {
            answered.fetch_add(1, Ordering::Relaxed);
        }
        if index.is_multiple_of(self.rtt_every)
            && let Some(sent) = self.samples.lock().ok().and_then(|mut s| s.remove(&index))
            && let Ok(mut rtt) = self.rtt.lock()
        {
            rtt.sample(now.saturating_duration_since(sent));
        }
        true
    }

    fn validate(&self, reply: &Reply) -> Option<(usize, Answer)> {
        let t = self.technique;
        if !t.is_tcp() && !t.is_udp() {
            return self.validate_other(reply);
        }
        match *reply {
            Reply::Tcp { src, dst, sport, dport, seq, ack, flags, window, ttl } if !t.is_udp() => {
                if !self.is_our_tcp_port(dport) {
                    return None;
                }
                let index = self.index(src, sport)?;
                let h = index / self.ports.len();
                if self.links[h].src != dst {
                    return None;
                }
                let cookie = self.id.key.cookie(dst, src, dport, sport);
                // Data after the header (`--data*`) is sequence space too: a reset acknowledges it (RFC 9293
                // 3.10.7.1), while a SYN/ACK acknowledges only the SYN.
                let data = self.shaping.as_ref().and_then(|s| s.data.as_ref()).map_or(0, |d| d.len() as u32);
                let matched = t.reply_matches(cookie, seq, ack, flags)
                    || (data > 0
                        && flags & tojimari_packet::tcp::RST != 0
                        && t.tcp_flags() & tojimari_packet::tcp::ACK == 0
                        && t.reply_matches(cookie.wrapping_add(data), seq, ack, flags));
                if !matched {
                    return None;
                }
                let (state, reason) = classify::tcp_reply(t, flags, window)?;
                Some((index, Answer { state, reason, ttl }))
            }
            Reply::Udp { src, dst, sport, dport, ttl } if t.is_udp() => {
                let index = self.index(src, sport)?;
                if dport != self.id.udp_sport(dst, src, sport) {
                    return None;
                }
                let (state, reason) = (tojimari_core::PortState::Open, tojimari_core::Reason::UdpResponse);
                Some((index, Answer { state, reason, ttl }))
            }
            Reply::IcmpError { v6, kind, code, quoted, ttl, .. } => {
                let index = self.index(quoted.dst, quoted.dport)?;
                let h = index / self.ports.len();
                if self.links[h].src != quoted.src {
                    return None;
                }
                if t.is_udp() {
                    if quoted.proto != 17 || quoted.sport != self.id.udp_sport(quoted.src, quoted.dst, quoted.dport) {
                        return None;
                    }
                } else {
                    if quoted.proto != 6 || !self.is_our_tcp_port(quoted.sport) {
                        return None;
                    }
                    let cookie = self.id.key.cookie(quoted.src, quoted.dst, quoted.sport, quoted.dport);
                    if quoted.seq.is_some_and(|s| s != t.probe_seq_ack(cookie).0) {
                        return None;
                    }
                }
                let (state, reason) = classify::icmp_error(t, v6, kind, code)?;
                Some((index, Answer { state, reason, ttl }))
            }
            _ => None,
        }
    }
}

/// The TCP probe templates of a pass: one per distinct (source address, link) among `links`, and the
/// template of each host. UDP passes have none.
fn templates(technique: ScanType, id: &Identity, hosts: &[IpAddr], links: &[HostLink]) -> (Vec<TcpTemplate>, Vec<u16>) {
    if !technique.is_tcp() {
        return (Vec::new(), Vec::new());
    }
    let mut kinds: Vec<(IpAddr, L2)> = Vec::new();
    let mut templates = Vec::new();
    let mut of_host = Vec::with_capacity(hosts.len());
    for (&theirs, link) in hosts.iter().zip(links) {
        let kind = (link.src, link.l2);
        let i = match kinds.iter().position(|k| *k == kind) {
            Some(i) => i,
            None => {
                let probe = id.tcp_probe(technique, link.src, theirs, id.tcp_sport, 0);
                match TcpTemplate::new(&link.l2, &probe) {
                    Some(t) => templates.push(t),
                    // Mixed families cannot happen (the route's source is of the target's family); such a
                    // host gets no template and its probes are not built.
                    None => {
                        of_host.push(u16::MAX);
                        continue;
                    }
                }
                kinds.push(kind);
                kinds.len() - 1
            }
        };
        of_host.push(u16::try_from(i).unwrap_or(u16::MAX));
    }
    (templates, of_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(seed: u64) -> Identity {
        let key = CookieKey::new(seed);
        let c = key.cookie(IpAddr::from([0u8; 4]), IpAddr::from([0u8; 4]), 1, 1);
        Identity {
            key,
            tcp_sport: 61000 + (c % 3000) as u16,
            udp_sport_base: 61000 + ((c >> 16) % 3000) as u16,
            ttl: 64,
            fixed_sport: false,
            sctp_checksum: Default::default(),
        }
    }

    /// Our own probe of an own address, seen on loopback, is a datagram `sport(x) -> x`; it passes for the
    /// reply to the probe of `sport(x)` exactly when `sport(sport(x)) == x`. That must never hold, whatever
    /// ports are scanned (here: all of them).
    #[test]
    fn an_own_address_probe_never_looks_like_a_reply_to_another() {
        for seed in [1, 2, 3, 0xdead_beef] {
            let id = identity(seed);
            for own in ["127.0.0.1", "198.18.0.1", "::1"] {
                let a: IpAddr = own.parse().unwrap();
                for x in 0..=u16::MAX {
                    let s = id.udp_sport(a, a, x);
                    assert!(s.wrapping_sub(id.udp_sport_base) < UDP_PORT_SPREAD, "{s} outside the window");
                    assert_ne!(s, x, "seed {seed}: port {x} probed from itself");
                    assert_ne!(id.udp_sport(a, a, s), x, "seed {seed}: ports {x} and {s} probed from each other");
                }
            }
        }
    }

    #[test]
    fn other_hosts_keep_cookie_chosen_source_ports() {
        let id = identity(7);
        let (ours, theirs): (IpAddr, IpAddr) = ("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap());
        let want = |p: u16| id.udp_sport_base + (id.key.cookie(ours, theirs, 0, p) % u32::from(UDP_PORT_SPREAD)) as u16;
        for p in [1, 53, 161, id.udp_sport_base, id.udp_sport_base + 5, 65535] {
            assert_eq!(id.udp_sport(ours, theirs, p), want(p));
        }
    }

    /// A SYN scan of three hosts x 100 ports in which only host 0 answers (one port): the first retry sends
    /// host 0's 99 silent ports and a sample of 3 of each silent host; later retries only host 0's; once
    /// host 0 is all answered, a second retry has nothing to send and is not walked.
    #[test]
    fn retries_go_in_full_to_heard_hosts_and_as_a_sample_once_to_silent_ones() {
        use tojimari_core::timing::Timing;
        let id = identity(9);
        let ours: IpAddr = "198.18.0.1".parse().unwrap();
        let link = HostLink { link: 0, src: ours, l2: L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] } };
        let hosts: Vec<(IpAddr, HostLink)> = (2..5).map(|i| (IpAddr::from([198, 18, 0, i]), link)).collect();
        let ports: Vec<u16> = (1..=100).collect();
        let pass = PortPass::new(ScanType::Syn, id, hosts, &ports, None, RttEstimator::new(&Timing::default()));
        let answer = |port: u16| {
            let theirs = IpAddr::from([198, 18, 0, 2]);
            let cookie = id.key.cookie(ours, theirs, id.tcp_sport, port);
            let reply = Reply::Tcp {
                src: theirs,
                dst: ours,
                sport: port,
                dport: id.tcp_sport,
                seq: 7,
                ack: cookie.wrapping_add(1),
                flags: tojimari_packet::tcp::RST | tojimari_packet::tcp::ACK,
                window: 0,
                ttl: 64,
            };
            assert!(pass.handle(&reply, Instant::now()), "port {port} answered");
        };
        answer(5);
        let walk = |pass_no: u32| {
            let mut per_host = [0usize; 3];
            for unit in 0..pass.retry_units() {
                pass.for_each_retry(unit, pass_no, &mut |index| {
                    per_host[index / 100] += 1;
                    true
                });
            }
            per_host
        };
        assert!(pass.retry_pending(1) && pass.retry_pending(2));
        assert_eq!(walk(1), [99, 3, 3]);
        assert_eq!(walk(2), [99, 0, 0]);
        for port in (1..=100).filter(|&p| p != 5) {
            answer(port);
        }
        assert_eq!(walk(2), [0, 0, 0]);
        assert!(!pass.retry_pending(2), "nothing left to retry");
        assert!(pass.retry_pending(1), "a first retry still samples the silent hosts");
    }
}
