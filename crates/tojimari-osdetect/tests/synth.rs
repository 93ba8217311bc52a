//! Synthesized answers: a small responder built here from stack behaviours written independently of the
//! database (TTL, option writer, window, IP ID policy, timestamp clock, reset and ICMP habits) answers the
//! frames `build` writes, and `classify` must name the system. Then bad input: random bytes and mangled
//! answers must never panic nor give a confident wrong family.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use tojimari_core::os::OsReport;
use tojimari_osdetect::{Db, Exchange, MatchOptions, Probe, Target, answers, build, classify, passive, schedule};
use tojimari_packet::L2;

#[derive(Copy, Clone, Debug, PartialEq)]
enum Layout {
    /// MSS; SACK+TS (or NOP NOP + one of them); NOP + WS.
    Linux,
    /// MSS; NOP + WS; NOP NOP SACK (or SACK TS).
    Windows,
    /// MSS; NOP + WS; NOP NOP TS; SACK; EOL.
    Apple,
    /// MSS; NOP NOP SACK; NOP WS; NOP NOP TS.
    OpenBsd,
    MssOnly,
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum IpId {
    Zero,
    Global,
    Random,
}

#[derive(Copy, Clone, Debug)]
struct Stack {
    ttl: u8,
    df: bool,
    window: u16,
    mss: u16,
    ws: Option<u8>,
    sack: bool,
    /// Timestamp clock: Hz and the uptime it started at (None: no timestamps).
    ts: Option<(u32, u32)>,
    /// A random timestamp offset per connection (RFC 7323 section 7.1).
    ts_per_conn: bool,
    layout: Layout,
    ipid: IpId,
    ecn: bool,
    /// Answer a NULL to an open port with a reset (else drop it).
    null_reset: bool,
    echo_code: bool,
    quote_all: bool,
    /// The window resets advertise.
    rst_window: u16,
}

const LINUX: Stack = Stack {
    ttl: 64,
    df: true,
    window: 65160,
    mss: 1460,
    ws: Some(7),
    sack: true,
    ts: Some((1000, 50_000)),
    ts_per_conn: true,
    layout: Layout::Linux,
    ipid: IpId::Zero,
    ecn: true,
    null_reset: false,
    echo_code: true,
    quote_all: true,
    rst_window: 0,
};
const WINDOWS: Stack = Stack {
    ttl: 128,
    df: true,
    window: 64240,
    mss: 1460,
    ws: Some(8),
    sack: true,
    ts: None,
    ts_per_conn: false,
    layout: Layout::Windows,
    ipid: IpId::Global,
    ecn: false,
    null_reset: true,
    echo_code: false,
    quote_all: true,
    rst_window: 0,
};
const MACOS: Stack = Stack {
    ttl: 64,
    df: true,
    window: 65535,
    mss: 1460,
    ws: Some(6),
    sack: true,
    ts: Some((1000, 9 * 86_400)),
    ts_per_conn: false,
    layout: Layout::Apple,
    ipid: IpId::Random,
    ecn: true,
    null_reset: false,
    echo_code: false,
    quote_all: true,
    rst_window: 0,
};
const OPENBSD: Stack = Stack {
    ttl: 64,
    df: true,
    window: 16384,
    mss: 1460,
    ws: Some(6),
    sack: true,
    ts: Some((100, 3 * 86_400)),
    ts_per_conn: false,
    layout: Layout::OpenBsd,
    ipid: IpId::Random,
    ecn: false,
    null_reset: false,
    echo_code: false,
    quote_all: false,
    rst_window: 0,
};
const LWIP: Stack = Stack {
    ttl: 255,
    df: false,
    window: 2144,
    mss: 536,
    ws: None,
    sack: false,
    ts: None,
    ts_per_conn: false,
    layout: Layout::MssOnly,
    ipid: IpId::Global,
    ecn: false,
    null_reset: true,
    echo_code: true,
    quote_all: false,
    rst_window: 2144,
};

/// 2001:db8:18::`last`.
fn target6_addr(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..6].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0x18]);
    a[15] = last;
    a
}

/// The same target over IPv6.
fn target6() -> Target {
    Target { src: IpAddr::from(target6_addr(1)), dst: IpAddr::from(target6_addr(2)), ..target() }
}

fn target() -> Target {
    Target {
        l2: L2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [2, 0, 0, 0, 0, 2] },
        src: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
        open_tcp: Some(22),
        closed_tcp: Some(1),
        closed_udp: Some(9),
        key: 0xfeed_0001,
        ttl: 64,
    }
}

/// The responder's running state: its IP ID counter and pseudo-random generator.
struct Host {
    stack: Stack,
    id: u16,
    rng: u64,
    /// Routers between us (each takes one from the TTL).
    hops: u8,
    /// Whether the frame being answered came over IPv6 (the answer goes back the same way).
    v6: bool,
}

impl Host {
    fn new(stack: Stack) -> Host {
        Host { stack, id: 4000, rng: 0x1234_5678_9abc_def0, hops: 0, v6: false }
    }

    fn rand(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 16) as u32
    }

    fn next_id(&mut self) -> u16 {
        match self.stack.ipid {
            IpId::Zero => 0,
            IpId::Global => {
                self.id = self.id.wrapping_add(1);
                self.id
            }
            IpId::Random => self.rand() as u16,
        }
    }

    /// An IPv4 packet from the target to us, or an IPv6 one (protocol 1 becoming ICMPv6, no DF or ID).
    fn ip(&mut self, proto: u8, df: bool, payload: &[u8]) -> Vec<u8> {
        if self.v6 {
            let mut p = vec![0x60, 0, 0, 0, 0, 0, if proto == 1 { 58 } else { proto }, self.stack.ttl - self.hops];
            p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
            p.extend_from_slice(&target6_addr(2));
            p.extend_from_slice(&target6_addr(1));
            p.extend_from_slice(payload);
            return p;
        }
        let mut p = vec![0u8; 20];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        let id = self.next_id();
        p[4..6].copy_from_slice(&id.to_be_bytes());
        if df {
            p[6] = 0x40;
        }
        p[8] = self.stack.ttl - self.hops;
        p[9] = proto;
        p[12..16].copy_from_slice(&[198, 18, 0, 2]);
        p[16..20].copy_from_slice(&[198, 18, 0, 1]);
        let ck = checksum(&p);
        p[10..12].copy_from_slice(&ck.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    /// The answer to one of our frames at time `at`, if the stack answers it.
    fn answer(&mut self, frame: &[u8], at: Duration) -> Option<Vec<u8>> {
        self.v6 = frame[12..14] == [0x86, 0xdd];
        if self.v6 {
            return self.answer6(&frame[14..], at);
        }
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 15) * 4;
        let l4 = &ip[ihl..];
        match ip[9] {
            6 => self.answer_tcp(l4, at),
            17 => {
                let quoted = if self.stack.quote_all { ip.len().min(548) } else { ihl + 8 };
                let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
                let mut q = ip[..quoted].to_vec();
                q[8] -= self.hops; // the TTL it arrived with
                icmp.extend_from_slice(&q);
                let ck = checksum(&icmp);
                icmp[2..4].copy_from_slice(&ck.to_be_bytes());
                Some(self.ip(1, false, &icmp))
            }
            1 => {
                let mut icmp = l4.to_vec();
                icmp[0] = 0;
                if !self.stack.echo_code {
                    icmp[1] = 0;
                }
                icmp[2..4].copy_from_slice(&[0, 0]);
                let ck = checksum(&icmp);
                icmp[2..4].copy_from_slice(&ck.to_be_bytes());
                let df = ip[6] & 0x40 != 0;
                Some(self.ip(1, df && self.stack.df, &icmp))
            }
            _ => None,
        }
    }

    /// As [`Host::answer`] for an IPv6 packet: ICMPv6 errors quote up to the 1280-byte minimum MTU.
    fn answer6(&mut self, ip: &[u8], at: Duration) -> Option<Vec<u8>> {
        let l4 = &ip[40..];
        match ip[6] {
            6 => self.answer_tcp(l4, at),
            17 => {
                let quoted = if self.stack.quote_all { ip.len().min(1280 - 48) } else { 48 };
                let mut icmp = vec![1, 4, 0, 0, 0, 0, 0, 0];
                let mut q = ip[..quoted].to_vec();
                q[7] -= self.hops; // the hop limit it arrived with
                icmp.extend_from_slice(&q);
                Some(self.ip(1, false, &icmp))
            }
            58 => {
                let mut icmp = l4.to_vec();
                icmp[0] = 129;
                if !self.stack.echo_code {
                    icmp[1] = 0;
                }
                Some(self.ip(1, false, &icmp))
            }
            _ => None,
        }
    }

    fn answer_tcp(&mut self, seg: &[u8], at: Duration) -> Option<Vec<u8>> {
        let (sport, dport) = (u16::from_be_bytes([seg[0], seg[1]]), u16::from_be_bytes([seg[2], seg[3]]));
        let seq = u32::from_be_bytes([seg[4], seg[5], seg[6], seg[7]]);
        let ack = u32::from_be_bytes([seg[8], seg[9], seg[10], seg[11]]);
        let flags = seg[13];
        let offered: Vec<u8> = option_kinds(&seg[20..usize::from(seg[12] >> 4) * 4]);
        let open = dport == 22;
        let (syn, ackf, fin) = (flags & 2 != 0, flags & 0x10 != 0, flags & 1 != 0);
        let reset = |h: &mut Host, seq: u32, ack: Option<u32>| {
            let f = if ack.is_some() { 0x14 } else { 0x04 };
            let w = h.stack.rst_window;
            h.tcp(dport, sport, seq, ack.unwrap_or(0), f, w, &[])
        };
        if !open {
            let len = u32::from(syn) + u32::from(fin);
            return Some(if ackf { reset(self, ack, None) } else { reset(self, 0, Some(seq.wrapping_add(len))) });
        }
        if syn && !ackf {
            let s = self.stack;
            let mut o = Vec::new();
            let ws = offered.contains(&3).then_some(s.ws).flatten();
            let sack = offered.contains(&4) && s.sack;
            let offset = if s.ts_per_conn { self.rand() } else { 0 };
            let ts = if offered.contains(&8) {
                s.ts.map(|(hz, up)| {
                    ((up as u64 * u64::from(hz) + at.as_millis() as u64 * u64::from(hz) / 1000) as u32)
                        .wrapping_add(offset)
                })
            } else {
                None
            };
            let mss = [2, 4, (s.mss >> 8) as u8, s.mss as u8];
            let tso = |v: u32| {
                let b = v.to_be_bytes();
                [8, 10, b[0], b[1], b[2], b[3], 0, 0, 0, 1]
            };
            o.extend_from_slice(&mss);
            match s.layout {
                Layout::Linux => {
                    match (sack, ts) {
                        (true, Some(v)) => {
                            o.extend_from_slice(&[4, 2]);
                            o.extend_from_slice(&tso(v));
                        }
                        (false, Some(v)) => {
                            o.extend_from_slice(&[1, 1]);
                            o.extend_from_slice(&tso(v));
                        }
                        (true, None) => o.extend_from_slice(&[1, 1, 4, 2]),
                        (false, None) => {}
                    }
                    if let Some(w) = ws {
                        o.extend_from_slice(&[1, 3, 3, w]);
                    }
                }
                Layout::Windows => {
                    if let Some(w) = ws {
                        o.extend_from_slice(&[1, 3, 3, w]);
                    }
                    if sack {
                        o.extend_from_slice(&[1, 1, 4, 2]);
                    }
                }
                Layout::Apple => {
                    if let Some(w) = ws {
                        o.extend_from_slice(&[1, 3, 3, w]);
                    }
                    if let Some(v) = ts {
                        o.extend_from_slice(&[1, 1]);
                        o.extend_from_slice(&tso(v));
                    }
                    if sack {
                        o.extend_from_slice(&[4, 2, 0, 0]);
                    }
                }
                Layout::OpenBsd => {
                    if sack {
                        o.extend_from_slice(&[1, 1, 4, 2]);
                    }
                    if let Some(w) = ws {
                        o.extend_from_slice(&[1, 3, 3, w]);
                    }
                    if let Some(v) = ts {
                        o.extend_from_slice(&[1, 1]);
                        o.extend_from_slice(&tso(v));
                    }
                }
                Layout::MssOnly => {}
            }
            let mut f = 0x12;
            if flags & 0xc0 == 0xc0 && s.ecn {
                f |= 0x40;
            }
            if fin && !matches!(s.layout, Layout::MssOnly | Layout::Windows) {
                return None; // SYN+FIN: dropped by these stacks
            }
            let isn = self.rand();
            return Some(self.tcp(dport, sport, isn, seq.wrapping_add(1), f, s.window, &o));
        }
        if ackf {
            return Some(reset(self, ack, None));
        }
        self.stack.null_reset.then(|| reset(self, 0, Some(seq)))
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(&mut self, sport: u16, dport: u16, seq: u32, ack: u32, flags: u8, win: u16, opts: &[u8]) -> Vec<u8> {
        let mut o = opts.to_vec();
        while !o.len().is_multiple_of(4) {
            o.push(0);
        }
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&sport.to_be_bytes());
        t[2..4].copy_from_slice(&dport.to_be_bytes());
        t[4..8].copy_from_slice(&seq.to_be_bytes());
        t[8..12].copy_from_slice(&ack.to_be_bytes());
        t[12] = (((20 + o.len()) / 4) as u8) << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&win.to_be_bytes());
        t.extend_from_slice(&o);
        let df = self.stack.df;
        self.ip(6, df, &t)
    }
}

fn option_kinds(block: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < block.len() {
        match block[i] {
            0 => break,
            1 => i += 1,
            k => {
                out.push(k);
                i += usize::from(*block.get(i + 1).unwrap_or(&2)).max(2);
            }
        }
    }
    out
}

fn checksum(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Every probe sent to a host running `stack`, answered as it would.
fn exchanges(t: &Target, host: &mut Host) -> Vec<Exchange> {
    schedule(t)
        .into_iter()
        .map(|(probe, at)| {
            let mut buf = [0u8; 1600];
            let n = build(t, probe, &mut buf);
            let reply = host.answer(&buf[..n], at).map(|p| (p, at + Duration::from_millis(1)));
            if let Some((p, _)) = &reply {
                assert_eq!(answers(t, p), Some(probe), "the responder's answer to {probe:?} is not recognised");
            }
            Exchange { probe, sent: at, reply }
        })
        .collect()
}

fn report_for(stack: Stack) -> OsReport {
    let t = target();
    let ex = exchanges(&t, &mut Host::new(stack));
    classify(Db::builtin(), &t, &ex, MatchOptions::default(), SystemTime::now())
}

/// Whether any class of `m` has one of `families`.
fn is(m: &tojimari_core::os::OsMatch, families: &[&str]) -> bool {
    m.classes.iter().any(|c| families.contains(&c.family.as_str()))
}

fn family(r: &OsReport) -> &str {
    r.best().map_or("", |m| m.classes[0].family.as_str())
}

#[test]
fn synthesized_systems_are_named() {
    for (stack, fam, gen_) in [
        (LINUX, "Linux", Some("5.X")),
        (WINDOWS, "Windows", Some("10")),
        (MACOS, "macOS", None),
        (OPENBSD, "OpenBSD", Some("7.X")),
        (LWIP, "lwIP", Some("2.X")),
    ] {
        let r = report_for(stack);
        assert_eq!(family(&r), fam, "{r:#?}");
        assert_eq!(r.best().unwrap().classes[0].generation.as_deref(), gen_, "{r:#?}");
        // lwIP and Cisco IOS share every public fact that tells them from others (TTL 255, MSS-only
        // answers, a 2144-byte window): a stated lwIP would be more than the facts say.
        assert!(!r.guessed || fam == "lwIP", "{fam}: {r:#?}");
        assert_eq!(r.distance, Some(1));
        assert!(r.fingerprint.is_some());
    }
}

/// The same stacks answering over IPv6 are named as over IPv4 (the DF and IP ID facts gone), one hop away
/// or three.
#[test]
fn synthesized_systems_over_ipv6_are_named() {
    let t6 = target6();
    for (stack, fam) in [(LINUX, "Linux"), (WINDOWS, "Windows"), (MACOS, "macOS"), (OPENBSD, "OpenBSD")] {
        for hops in [0, 2] {
            let mut host = Host::new(stack);
            host.hops = hops;
            let r =
                classify(Db::builtin(), &t6, &exchanges(&t6, &mut host), MatchOptions::default(), SystemTime::now());
            assert_eq!(family(&r), fam, "{r:#?}");
            assert!(!r.guessed, "{fam} over IPv6: {r:#?}");
            assert_eq!(r.distance, Some(hops + 1), "{fam}: {r:#?}");
            assert!(r.ip_id_sequence.is_none(), "{fam}: {r:#?}");
            assert!(r.notes.is_empty(), "{fam}: {:?}", r.notes);
            let v4 = report_for(stack);
            let (a6, a4) = (r.best().unwrap().accuracy, v4.best().unwrap().accuracy);
            assert!(a6 + 10 >= a4, "{fam}: {a6}% over IPv6, {a4}% over IPv4");
        }
    }
}

#[test]
fn uptime_distance_and_sequences() {
    let t = target();
    let mut host = Host::new(MACOS);
    host.hops = 2;
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let r = classify(Db::builtin(), &t, &exchanges(&t, &mut host), MatchOptions::default(), now);
    let up = r.uptime.expect("uptime").seconds;
    let truth = 9 * 86_400;
    assert!(up.abs_diff(truth) * 10 <= truth, "uptime {up} vs {truth}");
    assert_eq!(r.uptime.unwrap().last_boot, now - Duration::from_secs(up));
    assert_eq!(r.distance, Some(3));
    assert_eq!(r.tcp_ts_sequence.as_ref().unwrap().class, "1000HZ");
    assert_eq!(r.ip_id_sequence.as_ref().unwrap().class, "Randomized");
    assert_eq!(family(&r), "macOS", "{r:#?}");
    let w = report_for(WINDOWS);
    assert_eq!(w.ip_id_sequence.as_ref().unwrap().class, "Incremental");
    assert_eq!(w.tcp_ts_sequence.as_ref().unwrap().class, "none returned (unsupported)");
    assert!(w.uptime.is_none());
}

#[test]
fn missing_ports_mean_fewer_tests_and_say_why() {
    let mut t = target();
    t.open_tcp = None;
    t.closed_udp = None;
    let ex = exchanges(&t, &mut Host::new(LINUX));
    let r = classify(Db::builtin(), &t, &ex, MatchOptions::default(), SystemTime::now());
    assert!(r.notes.iter().any(|n| n.starts_with("no open TCP port was found")), "{:?}", r.notes);
    assert!(r.notes.iter().any(|n| n.starts_with("no closed UDP port")), "{:?}", r.notes);
    let full = report_for(LINUX);
    let acc = |r: &OsReport| r.best().map_or(0, |m| m.accuracy);
    assert!(acc(&r) < acc(&full), "{} vs {}", acc(&r), acc(&full));
    assert!(r.guessed || family(&r) == "Linux", "{r:#?}");
    // A silent host: nothing to match, and the notes say so.
    let ex: Vec<Exchange> =
        schedule(&target()).into_iter().map(|(probe, sent)| Exchange { probe, sent, reply: None }).collect();
    let r = classify(Db::builtin(), &target(), &ex, MatchOptions::default(), SystemTime::now());
    assert!(r.matches.is_empty());
    assert!(r.notes.iter().any(|n| n.starts_with("no answer to")), "{:?}", r.notes);
    // IPv6 is probed like IPv4: a silent IPv6 host gets the same notes, and none about its family.
    let mut t6 = target();
    t6.src = "2001:db8:18::1".parse().unwrap();
    t6.dst = "2001:db8:18::2".parse().unwrap();
    let ex: Vec<Exchange> =
        schedule(&t6).into_iter().map(|(probe, sent)| Exchange { probe, sent, reply: None }).collect();
    assert_eq!(ex.len(), 16);
    let r = classify(Db::builtin(), &t6, &ex, MatchOptions::default(), SystemTime::now());
    assert!(r.matches.is_empty());
    assert!(r.notes.iter().any(|n| n.starts_with("no answer to")), "{:?}", r.notes);
    assert!(!r.notes.iter().any(|n| n.contains("IPv6")), "{:?}", r.notes);
}

#[test]
fn retries_the_first_answer_counts() {
    // The engine resends unanswered probes in later rounds and hands every exchange over: a probe may
    // appear silent first, then answered.
    let t = target();
    let answered = exchanges(&t, &mut Host::new(WINDOWS));
    let mut ex: Vec<Exchange> = answered.iter().map(|e| Exchange { reply: None, ..e.clone() }).collect();
    ex.extend(answered.iter().map(|e| Exchange { sent: e.sent + Duration::from_secs(1), ..e.clone() }));
    let r = classify(Db::builtin(), &t, &ex, MatchOptions::default(), SystemTime::now());
    assert_eq!(family(&r), "Windows", "{r:#?}");
    assert!(!r.notes.iter().any(|n| n.starts_with("no answer to")), "{:?}", r.notes);
}

#[test]
fn passive_guess_is_weaker_than_active() {
    let t = target();
    let mut host = Host::new(WINDOWS);
    let ex = exchanges(&t, &mut host);
    let synack = ex.iter().find(|e| e.probe == Probe::Seq(0)).and_then(|e| e.reply.clone()).unwrap().0;
    let h = passive::read(&synack).unwrap();
    let g = passive::guess(Db::builtin(), &h);
    assert_eq!(g[0].classes[0].family, "Windows", "{g:#?}");
    assert!(g[0].accuracy < report_for(WINDOWS).best().unwrap().accuracy);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random bytes as every answer, over IPv4 or IPv6 (some starting with a plausible IP header of the
    /// target's family and addresses): no panic, and nothing stated with confidence.
    #[test]
    fn garbage_answers(seed in any::<u64>(), lens in proptest::collection::vec(0usize..120, 16), v6 in any::<bool>(),
                       headed in any::<bool>()) {
        let t = if v6 { target6() } else { target() };
        let mut rng = seed | 1;
        let ex: Vec<Exchange> = schedule(&t).into_iter().zip(lens).map(|((probe, sent), len)| {
            let mut bytes: Vec<u8> =
                (0..len).map(|_| { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; rng as u8 }).collect();
            if headed && v6 && bytes.len() >= 40 {
                bytes[0] = 0x60;
                bytes[8..24].copy_from_slice(&target6_addr(2));
                bytes[24..40].copy_from_slice(&target6_addr(1));
                bytes[6] = [6, 17, 58][usize::from(bytes[6] % 3)];
            } else if headed && !v6 && bytes.len() >= 20 {
                bytes[0] = 0x45;
                bytes[12..20].copy_from_slice(&[198, 18, 0, 2, 198, 18, 0, 1]);
                bytes[9] = [6, 17, 1][usize::from(bytes[9] % 3)];
            }
            let _ = answers(&t, &bytes);
            let _ = passive::read(&bytes);
            Exchange { probe, sent, reply: Some((bytes, sent + Duration::from_millis(1))) }
        }).collect();
        let r = classify(Db::builtin(), &t, &ex, MatchOptions { guess: true, ..MatchOptions::default() }, SystemTime::now());
        prop_assert!(r.matches.is_empty() || r.guessed, "{:#?}", r);
    }

    /// A Linux host whose answers are mangled (bytes flipped, options cut): no panic, and never a
    /// confident other family.
    #[test]
    fn mangled_linux_answers(flips in proptest::collection::vec((0usize..16, 20usize..100, any::<u8>()), 0..12),
                             cuts in proptest::collection::vec((0usize..16, 20usize..80), 0..4), v6 in any::<bool>()) {
        let t = if v6 { target6() } else { target() };
        let mut ex = exchanges(&t, &mut Host::new(LINUX));
        for (i, at, b) in flips {
            if let Some((p, _)) = ex.get_mut(i).and_then(|e| e.reply.as_mut())
                && at < p.len()
            {
                p[at] ^= b;
            }
        }
        for (i, at) in cuts {
            if let Some((p, _)) = ex.get_mut(i).and_then(|e| e.reply.as_mut()) {
                p.truncate(at);
            }
        }
        let r = classify(Db::builtin(), &t, &ex, MatchOptions::default(), SystemTime::now());
        prop_assert!(r.guessed || r.matches.iter().all(|m| is(m, &["Linux"])), "{:#?}", r);
    }

    /// Contradictory facts (a Linux host whose answers are mixed with a Windows host's, probe by probe):
    /// no confident answer of a third family.
    #[test]
    fn contradictory_facts(mask in any::<u16>(), v6 in any::<bool>()) {
        let t = if v6 { target6() } else { target() };
        let lin = exchanges(&t, &mut Host::new(LINUX));
        let win = exchanges(&t, &mut Host::new(WINDOWS));
        let mixed: Vec<Exchange> = lin.into_iter().zip(win).enumerate()
            .map(|(i, (l, w))| if mask & (1 << (i % 16)) != 0 { w } else { l }).collect();
        let r = classify(Db::builtin(), &t, &mixed, MatchOptions::default(), SystemTime::now());
        prop_assert!(r.guessed || r.matches.iter().all(|m| is(m, &["Linux", "Windows"])), "{:#?}", r);
    }
}
