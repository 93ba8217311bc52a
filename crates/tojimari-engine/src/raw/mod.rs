//! The raw-packet engine: SYN, FIN, NULL, Xmas, ACK, Window, Maimon, custom-flag, UDP, SCTP INIT and COOKIE
//! ECHO and IP protocol scans, and raw host
//! discovery, over AF_PACKET.
//!
//! Hosts are taken from the target stream in groups (bounded so memory stays flat). For each group: routes
//! and next-hop MACs are resolved (on-link hosts by ARP or neighbor discovery, which is also their host
//! discovery, as nmap does on a LAN); other hosts are pinged unless `-Pn`; then each technique runs as
//! passes over the (host x port) index space in a seeded order, stateless: the receiver thread validates
//! replies by their cookie and records the first answer per probe. Silent probes are sent again while
//! retries recover answers; what stays silent gets the technique's silence state (filtered or
//! open|filtered). Results are reported per host, through the same `Sink` as the connect scan.

mod group_plan;
mod icmp_pacing;
mod io;
mod live;
mod os_pass;
mod pass;
mod pass_policy;
mod ping;
mod rate_control;
mod results;
mod retry_rule;
mod retry_sample;
mod route_pass;
mod sender;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use tojimari_core::os::{OsMethod, OsReport};
use tojimari_core::permutation::Permutation;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{HostReport, HostState, Hostname, HostnameKind};
use tojimari_core::sweep::Space;
use tojimari_core::timing::Timing;
use tojimari_core::{PortResult, PortState, Protocol, Reason, ScanType, Sink};
use tojimari_net::{NetError, Route, SendPreference, next_hop_mac, route_to};
use tojimari_packet::L2;
use tojimari_packet::cookie::CookieKey;

pub use os_pass::OsScan;
pub use ping::PingProbe;
pub use sender::IcmpWait;

use crate::connect::{EngineError, PortOrder, RunStats, ScanTarget};
use crate::control::Control;
use crate::own::OwnAddrs;
use crate::rtt::RttEstimator;
use crate::sweep::Sweep;
use group_plan::GroupPlan;
use io::{Current, Link, RxTotals};
use live::LiveGroup;
use pass::{HostLink, Identity, PortPass};
use ping::PingPass;
use sender::FirstPass;

/// A next hop: (interface index, address).
type NextHop = (u32, IpAddr);

/// Host discovery for the raw engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawDiscovery {
    /// `-Pn`: every host is up.
    Skip,
    /// Ping with these probes (hosts on the local link answer ARP/ND instead).
    Ping(Vec<PingProbe>),
}

/// A raw scan: one or more techniques, each with its ports (`-sS -sU` scans TCP and UDP ports in one run).
#[derive(Clone, Debug)]
pub struct RawScan {
    pub scans: Vec<(ScanType, PortSet)>,
    pub timing: Timing,
    pub order: PortOrder,
    pub discovery: RawDiscovery,
    pub reverse_dns: bool,
    /// `-e`: only this interface (by index) may be used; hosts routed elsewhere are unreachable.
    pub interface: Option<u32>,
    /// Which techniques wait out the targets' ICMP rate limits after their normal passes.
    pub icmp_limits: IcmpLimits,
    /// `--packet-trace`: hears every frame sent and received.
    pub trace: crate::trace::Tracer,
    /// Whether frames may go through a transmit ring (else `sendmmsg`).
    pub send: SendPreference,
    /// `-O`: OS detection after each host group's port passes.
    pub os: Option<OsScan>,
    /// Which probes of the scan this run sends (a shard, a fleet's chunk), and where a resumed run starts.
    pub sweep: Sweep,
    /// nmap's evasion options: how port probes look on the wire, and where they say they come from.
    pub evasion: Evasion,
    /// `--traceroute`: trace the hops to each up host after its ports (and OS detection).
    pub traceroute: bool,
}

/// When the raw engine waits out the targets' ICMP rate limits: closed UDP ports and IP
/// protocols say so by ICMP errors, which hosts limit (Linux: about one a second per destination after a
/// burst of 6), so after the normal passes most of them are still silent.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum IcmpLimits {
    /// `-sO` waits (at most 256 probes a host: what its users expect, and what nmap does); UDP does not,
    /// its silent ports stay open|filtered with a note.
    #[default]
    ProtocolScan,
    /// UDP waits too (`--udp-full-split`).
    Always,
    /// Neither waits (`--defeat-icmp-ratelimit`, `--max-retries 0`).
    Never,
}

/// nmap's firewall-evasion and spoofing options for the port probes ([`Evasion::default`] changes nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evasion {
    /// `--ttl`, `--data*`, `--badsum`, `--ip-options`, `-f`/`--mtu`, `-D`.
    pub shaping: tojimari_packet::Shaping,
    /// `-S`: the source address of every probe (of its family); answers reach us only if it is ours or
    /// its traffic passes us.
    pub source: Option<IpAddr>,
    /// `-g`: the source port of every TCP and UDP probe (retries included).
    pub source_port: Option<u16>,
    /// `--spoof-mac`: the source MAC of every frame the engine builds (pings, port and OS probes). ARP and
    /// neighbor discovery are the kernel's, from the interface's own MAC, so answers still come to it.
    pub source_mac: Option<[u8; 6]>,
    /// `--adler32`: the checksum of every SCTP probe (`-sY`, `-sZ`, `-PY`, and `-sO`/`-PO`'s protocol 132).
    pub sctp_checksum: tojimari_wire::SctpChecksum,
}

/// Hosts under OS detection at once (see [`Engine::os_phase`]).
const OS_SLICE: usize = 4096;
/// How long to wait for a next-hop MAC (ARP/ND) before calling an on-link host down.
const NEIGHBOR_TIMEOUT: Duration = Duration::from_millis(1500);

impl From<NetError> for EngineError {
    fn from(e: NetError) -> Self {
        EngineError::Net(e.to_string())
    }
}

impl RawScan {
    pub fn run(
        &self,
        targets: &mut dyn Iterator<Item = ScanTarget>,
        sink: &mut dyn Sink,
        control: &Control,
    ) -> Result<RunStats, EngineError> {
        let mut engine = Engine::new(self, control);
        let space = self.space();
        let group = space.group_hosts() as usize;
        for g in 0u64.. {
            let batch: Vec<ScanTarget> = targets.take(group).collect();
            if batch.is_empty() {
                break;
            }
            let positions = space.group_positions(g, batch.len() as u64);
            if g < self.sweep.start_group
                || (!self.sweep.selection.is_everything() && !self.sweep.selection.meets(&positions))
            {
                continue;
            }
            let done = engine.group(g, &space, batch, sink);
            let p = &control.progress;
            p.replies.store(engine.totals.frames.load(Ordering::Relaxed), Ordering::Relaxed);
            p.ring_drops.store(engine.totals.kernel_drops.load(Ordering::Relaxed), Ordering::Relaxed);
            if let Err(e) = done {
                return Err(match e {
                    EngineError::Net(message) if engine.send_failed => {
                        EngineError::SendFailed { message, stats: engine.stats }
                    }
                    other => other,
                });
            }
            engine.rate.recover();
            if control.is_cancelled() || engine.cut_short {
                engine.stats.interrupted = true;
                break;
            }
            // Every host of the group is reported: a resumable run may count it as finished.
            sink.group_done(g).map_err(EngineError::Output)?;
            control.set_live(None);
        }
        Ok(engine.stats)
    }

    /// The numbering of this scan's probes ([`tojimari_core::sweep`]).
    pub fn space(&self) -> Space {
        let ports: Vec<u64> = self.scans.iter().map(|(_, p)| p.len() as u64).collect();
        let seed = match self.order {
            PortOrder::Random { seed } => Some(seed),
            PortOrder::Sequential => None,
        };
        match self.sweep.group_hosts {
            Some(group) => Space::with_group_hosts(&ports, seed, group),
            None => Space::new(&ports, seed),
        }
    }
}

struct Engine<'a> {
    cfg: &'a RawScan,
    control: &'a Control,
    id: Identity,
    current: Arc<Current>,
    totals: Arc<RxTotals>,
    links: Vec<Link>,
    link_ours: Vec<Vec<IpAddr>>,
    routes: HashMap<(IpAddr, u8), Result<Route, String>>,
    macs: HashMap<NextHop, Option<[u8; 6]>>,
    stats: RunStats,
    seed: u64,
    rate: rate_control::RateControl,
    /// This host's addresses (see [`Engine::route`]).
    own: OwnAddrs,
    /// Sending failed mid-group; the group's hosts were still reported.
    send_failed: bool,
    /// The last group's passes were interrupted (its hosts were reported without their silent ports).
    cut_short: bool,
}

impl<'a> Engine<'a> {
    fn new(cfg: &'a RawScan, control: &'a Control) -> Self {
        let seed = match cfg.order {
            PortOrder::Random { seed } => seed,
            PortOrder::Sequential => 0,
        };
        let key = CookieKey::random();
        let c = key.cookie(IpAddr::from([0u8; 4]), IpAddr::from([0u8; 4]), 1, 1);
        let fixed = cfg.evasion.source_port;
        let id = Identity {
            key,
            // Above the usual ephemeral range (32768-60999), so no real connection of ours shares it.
            tcp_sport: fixed.unwrap_or(61000 + (c % 3000) as u16),
            udp_sport_base: fixed.unwrap_or(61000 + ((c >> 16) % 3000) as u16),
            ttl: 64,
            fixed_sport: fixed.is_some(),
            sctp_checksum: cfg.evasion.sctp_checksum,
        };
        Engine {
            cfg,
            control,
            id,
            current: Arc::new(Current::default()),
            totals: Arc::new(RxTotals::default()),
            links: Vec::new(),
            link_ours: Vec::new(),
            routes: HashMap::new(),
            macs: HashMap::new(),
            stats: RunStats::default(),
            seed,
            rate: rate_control::RateControl::new(&cfg.timing),
            own: OwnAddrs::of_this_host(),
            send_failed: false,
            cut_short: false,
        }
    }

    /// The route to `dst`, cached per /24 (IPv4) or /64 (IPv6): routes more specific than that are rare,
    /// and a /16 would otherwise cost 65536 netlink round trips.
    /// This host's own addresses are looked up each time and never cached: they are reached through the
    /// loopback device, unlike their neighbours.
    fn route(&mut self, dst: IpAddr) -> Result<Route, String> {
        let key = match dst {
            IpAddr::V4(a) => (IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a) & 0xffff_ff00)), 24),
            IpAddr::V6(a) => (IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) & !((1u128 << 64) - 1))), 64),
        };
        let own = self.own.contains(dst);
        // `-S`: probes of its family say they come from it.
        let spoof = |mut r: Route| {
            if let Some(source) = self.cfg.evasion.source.filter(|s| s.is_ipv4() == r.src.is_ipv4()) {
                r.src = source;
            }
            r
        };
        if !own && let Some(cached) = self.routes.get(&key) {
            return cached.clone().map(|mut r| {
                r.dst = dst;
                spoof(r)
            });
        }
        let mut r = route_to(dst).map_err(|e| e.to_string());
        if let (Some(want), Ok(route)) = (self.cfg.interface, &r)
            && route.ifindex != want
        {
            r = Err(format!("{dst} is routed through {}, not the interface given with -e", route.ifname));
        }
        if !own {
            self.routes.insert(key, r.clone());
        }
        r.map(spoof)
    }

    fn link_for(&mut self, route: &Route) -> Result<u16, EngineError> {
        if let Some(i) = self.links.iter().position(|l| l.ifindex == route.ifindex) {
            if self.link_ours[i].contains(&route.src) {
                return Ok(i as u16);
            }
            // A new source address on this interface: reopen with the wider filter.
            let mut ours = self.link_ours[i].clone();
            ours.push(route.src);
            self.links[i] = Link::open(
                route.ifindex,
                &route.ifname,
                &ours,
                self.current.clone(),
                self.totals.clone(),
                self.cfg.trace.clone(),
                self.cfg.send,
            )?;
            self.link_ours[i] = ours;
            return Ok(i as u16);
        }
        self.links.push(Link::open(
            route.ifindex,
            &route.ifname,
            &[route.src],
            self.current.clone(),
            self.totals.clone(),
            self.cfg.trace.clone(),
            self.cfg.send,
        )?);
        if let Some(method) = self.links[self.links.len() - 1].method() {
            let p = &self.control.progress;
            if let (tojimari_net::SendMethod::Mmsg { why, refused: true }, Ok(mut refused)) =
                (&method, p.ring_refused.lock())
                && refused.is_none()
            {
                *refused = Some(why.clone());
            }
            if let Ok(mut sender) = p.sender.lock()
                && sender.is_none()
            {
                *sender = Some(format!("{method} on {} thread(s)", io::sender_threads()));
            }
        }
        self.link_ours.push(vec![route.src]);
        Ok((self.links.len() - 1) as u16)
    }

    /// Scans group `g` of the scan (`targets`, all of the group's): the probes the run's selection picks,
    /// resumed from the run's prior state when it is this group's.
    fn group(
        &mut self,
        g: u64,
        space: &Space,
        targets: Vec<ScanTarget>,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        let started = SystemTime::now();
        let group_plan = GroupPlan::new(self.cfg, g, space, &targets);
        let live =
            Arc::new(LiveGroup::new(g, targets.len() as u32, group_plan.ports.clone(), group_plan.prior.clone()));
        self.control.set_live(Some(live.clone()));
        // Hosts without a picked probe are not this run's: not pinged, not reported.
        let targets: Vec<ScanTarget> = match &group_plan.wanted {
            None => targets,
            Some(wanted) => targets.into_iter().zip(wanted).filter(|(_, w)| **w).map(|(t, _)| t).collect(),
        };
        self.stats.hosts_total += targets.len() as u64;
        // Route each host; on-link hosts need their own MAC, found in parallel, while the interfaces'
        // sockets are opened. A host keeps only the index of its route among the group's distinct routes
        // (they differ in all but the destination only a few times), not a route of its own.
        let mut distinct: Vec<Route> = Vec::new();
        let routed: Vec<(ScanTarget, Result<usize, Reason>)> = targets
            .into_iter()
            .map(|t| {
                let r = self.route(t.addr).map_err(|_| Reason::NetUnreach).map(|route| {
                    let same = |r: &Route| {
                        (r.ifindex, r.src, r.gateway, r.loopback)
                            == (route.ifindex, route.src, route.gateway, route.loopback)
                    };
                    distinct.iter().position(same).unwrap_or_else(|| {
                        distinct.push(route);
                        distinct.len() - 1
                    })
                });
                (t, r)
            })
            .collect();
        let next_hops: Vec<(u32, IpAddr, Route)> = {
            let mut hops: Vec<(u32, IpAddr, usize)> = routed
                .iter()
                .filter_map(|(t, r)| r.as_ref().ok().map(|&i| (&distinct[i], t.addr, i)))
                .filter(|(r, _, _)| !r.loopback)
                .map(|(r, addr, i)| (r.ifindex, r.gateway.unwrap_or(addr), i))
                .collect();
            hops.sort_by_key(|(i, h, _)| (*i, *h));
            hops.dedup_by_key(|(i, h, _)| (*i, *h));
            hops.retain(|(i, h, _)| !self.macs.contains_key(&(*i, *h)));
            hops.into_iter().map(|(i, h, r)| (i, h, distinct[r].clone())).collect()
        };
        let (links, found) = std::thread::scope(|s| {
            let resolver = s.spawn(move || resolve_next_hops(next_hops));
            let links: Vec<Result<u16, EngineError>> = distinct.iter().map(|route| self.link_for(route)).collect();
            (links, resolver.join().unwrap_or_default())
        });
        self.macs.extend(found);
        let plans = routed.into_iter().map(|(t, r)| {
            let plan = r.and_then(|i| match &links[i] {
                Ok(link) => Ok((&distinct[i], *link)),
                Err(_) => Err(Reason::HostUnreach),
            });
            (t, plan)
        });

        // Who is up, and how each host is reached.
        let skip = self.cfg.discovery == RawDiscovery::Skip;
        let mut up: Vec<(ScanTarget, HostLink, Reason)> = Vec::new();
        let mut to_ping: Vec<(ScanTarget, HostLink)> = Vec::new();
        let mut down: Vec<(ScanTarget, Reason)> = Vec::new();
        // Hosts on the local link (one hop, nothing to trace) and this host's own addresses (none).
        let mut adjacent: HashSet<IpAddr> = HashSet::new();
        let mut loopback: HashSet<IpAddr> = HashSet::new();
        for (t, plan) in plans {
            let (route, link) = match plan {
                Ok(x) => x,
                Err(reason) => {
                    down.push((t, reason));
                    continue;
                }
            };
            let on_link = route.gateway.is_none() && !route.loopback;
            // Only the traceroute reads them: a /16 without it would otherwise fill a set per group.
            if self.cfg.traceroute && on_link {
                adjacent.insert(t.addr);
            }
            if self.cfg.traceroute && route.loopback {
                loopback.insert(t.addr);
            }
            let mac = if route.loopback {
                Some([0u8; 6])
            } else {
                self.macs.get(&(route.ifindex, route.gateway.unwrap_or(t.addr))).copied().flatten()
            };
            let Some(dst_mac) = mac else {
                // No neighbor answered: on the local link that is nmap's "host down" (no ARP/ND reply).
                if skip {
                    down.push((t, Reason::HostUnreach));
                } else {
                    down.push((t, Reason::NoHostResponse));
                }
                continue;
            };
            let src_mac = self.cfg.evasion.source_mac.unwrap_or(route.src_mac);
            let hl = HostLink { link, src: route.src, l2: L2 { src_mac, dst_mac } };
            if let Some((was_up, reason)) = group_plan.verdict(t.addr) {
                // A resumed group: discovery's verdict is kept, not asked again.
                if was_up {
                    up.push((t, hl, reason));
                } else {
                    down.push((t, reason));
                }
                continue;
            }
            if skip {
                up.push((t, hl, Reason::UserSet));
            } else if route.loopback {
                up.push((t, hl, Reason::LocalhostResponse));
            } else if on_link {
                let reason = if t.addr.is_ipv4() { Reason::ArpResponse } else { Reason::NdResponse };
                up.push((t, hl, reason));
            } else {
                to_ping.push((t, hl));
            }
        }
        if let RawDiscovery::Ping(probes) = &self.cfg.discovery
            && !to_ping.is_empty()
        {
            let (answered, silent) = self.ping(to_ping, probes.clone())?;
            up.extend(answered);
            down.extend(silent.into_iter().map(|t| (t, Reason::NoHostResponse)));
        }
        let verdicts = up
            .iter()
            .map(|(t, _, reason)| (group_plan.host(t.addr), true, *reason))
            .chain(down.iter().map(|(t, reason)| (group_plan.host(t.addr), false, *reason)))
            .collect();
        let up_hosts: Vec<u32> = up.iter().map(|(t, _, _)| group_plan.host(t.addr)).collect();
        live.discovered(verdicts, up_hosts.clone());
        for (t, reason) in down {
            self.stats.hosts_down += 1;
            let report = host_report(t, HostState::Down, reason, Vec::new(), started, None, true);
            sink.host_done(&report).map_err(EngineError::Output)?;
        }
        if up.is_empty() {
            return Ok(());
        }

        // Reverse DNS runs while the ports are scanned.
        let ptrs: Vec<Option<std::thread::JoinHandle<Option<String>>>> = up
            .iter()
            .map(|(t, _, _)| {
                (self.cfg.reverse_dns && up.len() <= 256).then(|| {
                    let addr = t.addr;
                    std::thread::spawn(move || tojimari_net::reverse_lookup(addr))
                })
            })
            .collect();

        // Each technique over the up hosts.
        let hosts: Vec<(IpAddr, HostLink)> = up.iter().map(|(t, l, _)| (t.addr, *l)).collect();
        // The passes are kept (one answer word per probe) and each host's results built only when it is
        // reported: a /16 x 100 ports would otherwise hold 6.5 million port results at once.
        let mut done: Vec<(Arc<PortPass>, bool)> = Vec::new();
        // A send failure (the interface went down) ends the passes; what was answered is still reported.
        let mut failure: Option<NetError> = None;
        let mut complete = true;
        let mut rtt_seen = RttEstimator::new(&self.cfg.timing);
        let mut up_of = vec![u32::MAX; group_plan.hosts()];
        for (u, &h) in up_hosts.iter().enumerate() {
            up_of[h as usize] = u as u32;
        }
        for (ti, (technique, ports)) in self.cfg.scans.iter().enumerate() {
            if ports.is_empty() {
                continue;
            }
            let picks = group_plan.picks_of(ti, &up_of);
            let mut pass = PortPass::new(
                *technique,
                self.id,
                hosts.clone(),
                ports.as_slice(),
                picks.as_deref(),
                RttEstimator::new(&self.cfg.timing),
            );
            if !self.cfg.evasion.shaping.is_plain() {
                pass.shaping = Some(self.cfg.evasion.shaping.clone());
            }
            let pass = Arc::new(pass);
            group_plan.preset(ti, &pass, &up_hosts);
            let order = match picks {
                Some(picks) => FirstPass::Picks(picks),
                None => FirstPass::Seeded(match self.cfg.order {
                    PortOrder::Random { .. } => Permutation::new(pass.len() as u64, self.seed ^ 0x5eed),
                    PortOrder::Sequential => Permutation::identity(pass.len() as u64),
                }),
            };
            live.pass(ti, pass.clone());
            self.current.set(Some(pass.clone()));
            self.control.progress.probes.fetch_add(pass.selected() as u64, Ordering::Relaxed);
            let udp_started = std::time::Instant::now();
            let mut stats = sender::run_passes(
                &pass,
                &order,
                &self.links,
                &self.cfg.timing,
                &mut self.rate,
                self.control,
                &self.cfg.trace,
            )
            .unwrap_or_else(|e| {
                failure = Some(e);
                sender::PassStats { interrupted: true, ..Default::default() }
            });
            // UDP and -sO: closed ports (protocols) say so by ICMP errors, which targets rate-limit.
            let ip_proto = *technique == ScanType::IpProto;
            if (technique.is_udp() || ip_proto) && !stats.interrupted {
                let closed = (0..pass.len())
                    .filter(|&i| pass.results.get(i).is_some_and(|a| a.state == PortState::Closed))
                    .count();
                let icmp_rate = closed as f64 / udp_started.elapsed().as_secs_f64().max(0.001);
                let wait = match self.cfg.icmp_limits {
                    IcmpLimits::Always => true,
                    IcmpLimits::ProtocolScan => ip_proto,
                    IcmpLimits::Never => false,
                };
                if wait && (pass.results.answered() as usize) < pass.selected() {
                    match sender::run_paced(&pass, &self.links, self.rate.rate(), ip_proto, self.control) {
                        Ok(more) => stats.interrupted |= more.interrupted,
                        Err(e) => {
                            failure = Some(e);
                            stats.interrupted = true;
                        }
                    }
                } else if !wait {
                    // Silent for want of waiting: the note at the end says how long the wait would be.
                    let silent = (pass.selected() as u64).saturating_sub(pass.results.answered());
                    self.control.progress.udp_silent.fetch_add(silent, Ordering::Relaxed);
                    // Over a short scan the count is mostly the limiter's burst, not its rate.
                    if udp_started.elapsed() >= std::time::Duration::from_secs(2) {
                        let milli = (icmp_rate * 1000.0) as u64;
                        self.control.progress.udp_icmp_rate_milli.store(milli, Ordering::Relaxed);
                    }
                }
            }
            // Late replies still count until the next pass starts; stop feeding this one now.
            self.current.set(None);
            complete &= !stats.interrupted;
            if let Ok(r) = pass.rtt.lock() {
                rtt_seen = *r;
            }
            let open =
                (0..pass.len()).filter(|&i| pass.results.get(i).is_some_and(|a| a.state == PortState::Open)).count();
            self.control.progress.open.fetch_add(open as u64, Ordering::Relaxed);
            self.control.progress.ports_done.fetch_add(pass.selected() as u64, Ordering::Relaxed);
            done.push((pass, stats.interrupted));
            if stats.interrupted {
                break;
            }
        }

        self.cut_short = !complete;
        // Empty without -O: a /16 would otherwise hold 65536 empty slots.
        let mut os_reports: Vec<Option<Box<OsReport>>> = match &self.cfg.os {
            Some(os) if failure.is_none() && complete && !self.control.is_cancelled() => {
                self.os_phase(os, &up, &done, rtt_seen).unwrap_or_else(|e| {
                    failure = Some(e);
                    Vec::new()
                })
            }
            _ => Vec::new(),
        };
        let mut traces: Vec<Option<Box<tojimari_core::route::Trace>>> =
            if self.cfg.traceroute && failure.is_none() && complete && !self.control.is_cancelled() {
                self.route_phase(&up, &done, rtt_seen, &adjacent, &loopback).unwrap_or_else(|e| {
                    failure = Some(e);
                    Vec::new()
                })
            } else {
                Vec::new()
            };
        for (h, ((t, _, reason), ptr)) in up.into_iter().zip(ptrs).enumerate() {
            let mut ports: Vec<PortResult> =
                done.iter().flat_map(|(pass, interrupted)| pass.host_results(h, *interrupted)).collect();
            ports.sort_unstable_by_key(|r| (r.proto, r.port));
            for p in &ports {
                sink.port_found(t.addr, p).map_err(EngineError::Output)?;
            }
            let mut t = t;
            if let Some(Ok(Some(name))) = ptr.map(|h| h.join()) {
                t.hostnames.push(Hostname { name, kind: HostnameKind::Ptr });
            }
            self.stats.hosts_up += 1;
            let mut report = host_report(t, HostState::Up, reason, ports, started, rtt_seen.times(), complete);
            report.os = os_reports.get_mut(h).and_then(Option::take).or_else(|| passive_guess(&done, h).map(Box::new));
            report.trace = traces.get_mut(h).and_then(Option::take);
            sink.host_done(&report).map_err(EngineError::Output)?;
        }
        match failure {
            Some(e) => {
                self.send_failed = true;
                Err(self.send_failure(e))
            }
            None => Ok(()),
        }
    }

    /// OS detection over the group's up hosts: each host's ports from its results, the probes sent on shared
    /// ticks, each host's report. Hosts skipped (`--osscan-limit`, no TCP answer at all) get `None`.
    fn os_phase(
        &mut self,
        os: &OsScan,
        up: &[(ScanTarget, HostLink, Reason)],
        done: &[(Arc<PortPass>, bool)],
        rtt: RttEstimator,
    ) -> Result<Vec<Option<Box<OsReport>>>, NetError> {
        let tcp: Vec<&PortSet> = self.cfg.scans.iter().filter(|(t, _)| t.is_tcp()).map(|(_, p)| p).collect();
        let udp: Vec<&PortSet> = self.cfg.scans.iter().filter(|(t, _)| t.is_udp()).map(|(_, p)| p).collect();
        let mut chosen: Vec<Option<os_pass::HostPorts>> = Vec::with_capacity(up.len());
        let mut targets = Vec::new();
        for (h, (t, link, _)) in up.iter().enumerate() {
            let results: Vec<PortResult> = done.iter().flat_map(|(pass, i)| pass.host_results(h, *i)).collect();
            let salt = self.id.key.cookie(link.src, t.addr, 0, 0);
            let ports = os_pass::ports_for(&results, &tcp, &udp, salt);
            let known_closed = ports.closed_tcp.is_some() && !ports.closed_tcp_guessed;
            let answered_tcp = ports.open_tcp.is_some() || known_closed;
            if os.limit && !(ports.open_tcp.is_some() && known_closed) {
                chosen.push(None);
                continue;
            }
            if !answered_tcp {
                // Every probe the tests send to a TCP port would meet the same silence.
                chosen.push(Some(ports));
                continue;
            }
            let target = tojimari_osdetect::Target {
                l2: link.l2,
                src: link.src,
                dst: t.addr,
                open_tcp: ports.open_tcp,
                closed_tcp: ports.closed_tcp,
                closed_udp: ports.closed_udp,
                key: salt,
                ttl: self.id.ttl,
            };
            targets.push((h, target, link.link));
            chosen.push(Some(ports));
        }
        let probes = (targets.len() * tojimari_osdetect::Probe::ALL.len()) as u64;
        self.control.progress.probes.fetch_add(probes, Ordering::Relaxed);
        // Hosts without a TCP answer get a report that says why; the others are filled in below.
        let mut reports: Vec<Option<Box<OsReport>>> = chosen
            .iter()
            .map(|c| {
                c.map(|_| {
                    Box::new(OsReport {
                        notes: vec![
                            "no TCP port of this host answered the scan (open or closed), so OS detection did not \
                             run"
                            .into(),
                        ],
                        ..OsReport::default()
                    })
                })
            })
            .collect();
        // Answers to the timed probes are slow on a loaded host; never wait less than a fifth of a second.
        let wait = rtt.pass_wait(Duration::from_millis(200));
        let opts = tojimari_osdetect::MatchOptions { guess: os.guess, ..tojimari_osdetect::MatchOptions::default() };
        // The hosts of a slice share the probes' ticks and each holds its answers until it is matched (a few
        // KB), so a large group goes by in slices.
        for slice in targets.chunks(OS_SLICE) {
            let pass = Arc::new(os_pass::OsPass::new(slice.iter().map(|(_, t, l)| (*t, *l)).collect(), Instant::now()));
            self.current.set(Some(pass.clone()));
            let shaping = self.cfg.evasion.shaping.for_os_detection();
            let sent = pass.run(&self.links, os.max_tries, self.rate.rate(), wait, &shaping, self.control);
            self.current.set(None);
            self.control.progress.frames.fetch_add(*sent.as_ref().unwrap_or(&0), Ordering::Relaxed);
            sent?;
            let now = SystemTime::now();
            for (k, (h, t, _)) in slice.iter().enumerate() {
                let mut report = pass.report(k, opts, os.db, now);
                if self.own.contains(t.dst) {
                    // This host itself, over loopback: no hop at all (nmap says 0 hops too).
                    report.distance = Some(0);
                }
                if let Some(ports) = chosen[*h]
                    && ports.closed_tcp_guessed
                    && let Some(p) = ports.closed_tcp
                {
                    report.notes.push(format!(
                        "the scan found no closed TCP port, so the closed-port tests went to port {p}, which it \
                         did not scan"
                    ));
                }
                // No closed UDP port of the scan is the usual case (nmap too picks one it did not scan): the
                // port used is in the report, with no warning.
                reports[*h] = Some(Box::new(report));
            }
            if self.control.is_cancelled() {
                break;
            }
        }
        Ok(reports)
    }

    /// Traceroute over the group's up hosts (see [`route_pass`]): hosts on the local link are one hop away
    /// and not probed; this host's own addresses get no trace; the others are traced with a probe their
    /// scan answered, or an echo request.
    fn route_phase(
        &mut self,
        up: &[(ScanTarget, HostLink, Reason)],
        done: &[(Arc<PortPass>, bool)],
        rtt: RttEstimator,
        adjacent: &HashSet<IpAddr>,
        loopback: &HashSet<IpAddr>,
    ) -> Result<Vec<Option<Box<tojimari_core::route::Trace>>>, NetError> {
        use tojimari_core::route::{Trace, TraceHop};
        let mut traces: Vec<Option<Box<Trace>>> = vec![None; up.len()];
        let mut hosts = Vec::new();
        let mut of = Vec::new();
        for (h, (t, link, _)) in up.iter().enumerate() {
            if loopback.contains(&t.addr) || self.own.contains(t.addr) {
                continue;
            }
            if adjacent.contains(&t.addr) {
                let rtt = rtt.times().map_or(Duration::ZERO, |x| x.srtt);
                traces[h] = Some(Box::new(Trace {
                    probe: None,
                    hops: vec![TraceHop::answered(1, t.addr, rtt)],
                    same_as: None,
                }));
                continue;
            }
            let results: Vec<PortResult> = done.iter().flat_map(|(pass, i)| pass.host_results(h, *i)).collect();
            let (probe, reply_ttl) =
                route_pass::pick_probe(&results).unwrap_or_else(|| (route_pass::echo_probe(t.addr), 0));
            hosts.push(route_pass::RouteHost { dst: t.addr, link: *link, probe, reply_ttl });
            of.push(h);
        }
        if !hosts.is_empty() {
            let pass = Arc::new(route_pass::RoutePass::new(self.id, hosts));
            self.current.set(Some(pass.clone()));
            // Routers far away answer later than the host's own round trip suggests: never under 300 ms.
            let wait = rtt.pass_wait(Duration::from_millis(300));
            let result = pass.run(&self.links, self.rate.rate(), wait, self.control);
            self.current.set(None);
            let (found, frames) = result?;
            self.control.progress.frames.fetch_add(frames, Ordering::Relaxed);
            self.control.progress.trace_ignored.fetch_add(pass.ignored(), Ordering::Relaxed);
            for (h, trace) in of.into_iter().zip(found) {
                traces[h] = trace.map(Box::new);
            }
        }
        if self.cfg.reverse_dns {
            name_hops(&mut traces);
        }
        Ok(traces)
    }

    /// The error for a send that failed mid-scan, naming the interface when it went down.
    fn send_failure(&self, e: NetError) -> EngineError {
        match e {
            NetError::InterfaceDown { .. } => {
                let names: Vec<&str> = self.links.iter().map(|l| l.name.as_str()).collect();
                EngineError::Net(format!(
                    "the interface {} went down during the scan; the results found until then were written \
                     (ports left without an answer are not reported; hint: bring the interface up and scan again)",
                    names.join(", ")
                ))
            }
            other => EngineError::Net(format!("sending failed: {other}; the results found until then were written")),
        }
    }

    /// Pings hosts (one send and one retry per probe); returns (up hosts with their link and reason, silent hosts).
    #[allow(clippy::type_complexity)]
    fn ping(
        &mut self,
        hosts: Vec<(ScanTarget, HostLink)>,
        probes: Vec<PingProbe>,
    ) -> Result<(Vec<(ScanTarget, HostLink, Reason)>, Vec<ScanTarget>), EngineError> {
        let pass = Arc::new(PingPass::new(self.id, hosts.iter().map(|(t, l)| (t.addr, *l)).collect(), probes));
        self.current.set(Some(pass.clone()));
        let rate = self.rate.rate();
        let mut bucket = crate::rate::TokenBucket::new(rate, Instant::now());
        let mut outbox = io::Outbox::new(&self.links, 0);
        let ping_shaping = self.cfg.evasion.shaping.for_pings();
        for _try in 0..2 {
            for index in 0..pass.len() {
                if self.control.is_cancelled() {
                    break;
                }
                if pass.host_answer(index / pass.probes.len()).is_some() {
                    continue;
                }
                while !bucket.try_take(Instant::now()) {
                    std::thread::sleep(bucket.wait().min(Duration::from_millis(1)));
                }
                if ping_shaping.is_plain() {
                    outbox.push(pass.link_of(index), &mut |buf| pass.build(index, buf))?;
                } else {
                    sender::shaped(&mut outbox, pass.link_of(index), &ping_shaping, &mut |buf| pass.build(index, buf))?;
                }
            }
            outbox.flush()?;
            let deadline = Instant::now() + self.cfg.timing.initial_rtt_timeout.min(Duration::from_secs(2));
            while Instant::now() < deadline {
                let all = (0..pass.hosts.len()).all(|h| pass.host_answer(h).is_some());
                if all || self.control.is_cancelled() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        self.control.progress.frames.fetch_add(outbox.frames, Ordering::Relaxed);
        drop(outbox);
        self.current.set(None);
        let mut up = Vec::new();
        let mut silent = Vec::new();
        for (h, (t, link)) in hosts.into_iter().enumerate() {
            match pass.host_answer(h) {
                Some(a) => up.push((t, link, a.reason)),
                None => silent.push(t),
            }
        }
        Ok((up, silent))
    }
}

/// Looks up the reverse DNS name of every distinct hop (256 at a time in parallel).
fn name_hops(traces: &mut [Option<Box<tojimari_core::route::Trace>>]) {
    let mut addrs: Vec<IpAddr> = traces.iter().flatten().flat_map(|t| t.hops.iter().filter_map(|h| h.addr())).collect();
    addrs.sort_unstable();
    addrs.dedup();
    let mut names: HashMap<IpAddr, String> = HashMap::new();
    for chunk in addrs.chunks(256) {
        std::thread::scope(|s| {
            let handles: Vec<_> =
                chunk.iter().map(|&a| (a, s.spawn(move || tojimari_net::reverse_lookup(a)))).collect();
            for (a, handle) in handles {
                if let Ok(Some(name)) = handle.join() {
                    names.insert(a, name);
                }
            }
        });
    }
    for hop in traces.iter_mut().flatten().flat_map(|t| t.hops.iter_mut()) {
        if let Some(answer) = hop.answer.as_mut() {
            answer.name = names.get(&answer.addr).cloned();
        }
    }
}

/// The passive OS guess for host `h`: from the first SYN/ACK any pass kept, when the database names a system.
fn passive_guess(done: &[(Arc<PortPass>, bool)], h: usize) -> Option<OsReport> {
    let handshake = done.iter().find_map(|(pass, _)| pass.handshake(h))?;
    let matches = tojimari_osdetect::passive::guess(tojimari_osdetect::Db::builtin(), &handshake);
    (!matches.is_empty()).then(|| OsReport { method: OsMethod::Passive, matches, ..OsReport::default() })
}

/// The MAC of each next hop (interface, address), asked 256 at a time in parallel; `None` where no
/// neighbour answered.
fn resolve_next_hops(next_hops: Vec<(u32, IpAddr, Route)>) -> Vec<(NextHop, Option<[u8; 6]>)> {
    let mut macs = Vec::with_capacity(next_hops.len());
    for chunk in next_hops.chunks(256) {
        let found: Vec<Option<[u8; 6]>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(_, hop, route)| s.spawn(move || next_hop_mac(route, *hop, NEIGHBOR_TIMEOUT).ok()))
                .collect();
            handles.into_iter().map(|h| h.join().ok().flatten()).collect()
        });
        macs.extend(chunk.iter().zip(found).map(|((i, hop, _), mac)| ((*i, *hop), mac)));
    }
    macs
}

fn host_report(
    t: ScanTarget,
    state: HostState,
    reason: Reason,
    ports: Vec<PortResult>,
    start: SystemTime,
    times: Option<tojimari_core::report::HostTimes>,
    complete: bool,
) -> HostReport {
    HostReport {
        addr: t.addr,
        hostnames: t.hostnames,
        state,
        state_reason: reason,
        state_reason_ttl: 0,
        ports,
        start,
        end: SystemTime::now(),
        times,
        complete,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// Whether `proto` ports of this technique exist (used by callers building `ScanInfo`).
pub fn protocol_of(t: ScanType) -> Protocol {
    t.protocol()
}
