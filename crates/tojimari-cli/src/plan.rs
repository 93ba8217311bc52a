//! From raw flags to a checked scan plan.
//!
//! Every way the user can ask for something impossible or contradictory is caught here, before any
//! packet leaves, and reported as a [`UsageError`]: one line saying what is wrong plus a hint, exit
//! status 2. Reading `-iL` and `--excludefile` happens here too; resolving host names does not (that is
//! runtime work with per-target failures, see [`crate::resolve`]).

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use tojimari_core::Protocol;
use tojimari_core::input::{Limits, LineReader, Nul, Size};
use tojimari_core::portspec::{PortSet, PortSpec, parse_port_list};
use tojimari_core::report::DisplayOptions;
use tojimari_core::services;
use tojimari_core::sweep::Shard;
use tojimari_core::target::{Exclusions, TargetSpec, parse_exclude_list, parse_target, tokens_of_line};
use tojimari_core::timing::{Timing, TimingTemplate};
use tojimari_engine::raw::PingProbe;
use tojimari_engine::{Discovery, PortOrder};
use tojimari_output::Format;

use crate::args::ScanArgs;
use crate::technique::{self, Techniques};

/// A usage error: what is wrong, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
    pub hint: String,
    /// Exit status: 2 for bad usage, 1 for a request this process cannot carry out (no privilege).
    pub code: u8,
}

impl UsageError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UsageError { message: message.into(), hint: hint.into(), code: 2 }
    }

    /// A well-formed request that needs a privilege this process lacks (exit status 1).
    pub fn privilege(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UsageError { message: message.into(), hint: hint.into(), code: 1 }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::messages::with_hint(&self.message, &self.hint))
    }
}

pub use crate::outputs::Dest;

/// The checked plan of a `tojimari scan` run.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// `-f`, `-D`, `-S`, `-g`, `--data*`, `--ttl`, `--badsum`, `--ip-options` (raw scans).
    pub evasion: tojimari_engine::raw::Evasion,
    pub target_specs: Vec<TargetSpec>,
    pub exclusions: Exclusions,
    /// Host names in the exclusions, resolved at run time.
    pub exclude_names: Vec<TargetSpec>,
    /// Ports to scan per protocol; empty with `-sn`.
    pub ports: PortSpec,
    pub ping_only: bool,
    pub techniques: Techniques,
    /// Connect-engine discovery (TCP connect to 80/443, or none with -Pn).
    pub discovery: Discovery,
    /// Raw-engine discovery probes the user named (-PE, -PS...), `None` for nmap's defaults.
    pub ping_probes: Option<Vec<PingProbe>>,
    pub timing: Timing,
    pub order: PortOrder,
    pub reverse_dns: bool,
    pub prefer_ipv6: bool,
    pub outputs: Vec<(Format, Dest)>,
    pub display: DisplayOptions,
    pub stats_every: Option<Duration>,
    pub progress: bool,
    /// `--allowed-targets`: every resolved target must lie in this list (as written).
    pub allowed_targets: Option<String>,
    /// `-e`: the interface every probe must leave through (name, index).
    pub interface: Option<(String, u32)>,
    /// When the raw engine waits out the targets' ICMP rate limits (`--udp-full-split`,
    /// `--defeat-icmp-ratelimit`, `--max-retries 0`).
    pub icmp_limits: tojimari_engine::raw::IcmpLimits,
    /// `-sV`: version detection after the port scan.
    pub version: Option<VersionPlan>,
    /// `-sL`: list the targets, send nothing (no engine runs; `techniques` and `ports` are empty).
    pub list_only: bool,
    /// `-d` level: 1 prints the plan and the raw engine's passes on stderr, 2 and more also trace packets.
    pub debug: u8,
    /// `--packet-trace` (or `-dd`): every packet sent and received on stderr.
    pub packet_trace: bool,
    /// Whether raw sockets may be used (false without CAP_NET_RAW and with `--unprivileged`).
    pub raw_allowed: bool,
    /// `-O` (or `-A` where it can run): OS detection after each host group's port scan.
    pub os: Option<tojimari_engine::raw::OsScan>,
    /// `--traceroute` (or `-A` where it can run): trace the hops to each up host after its scan.
    pub traceroute: bool,
    /// `--shard I/N`: this run sends only that shard of the probes.
    pub shard: Option<Shard>,
    /// The seed this run chose because none was given (the order is random): shards and resumed runs must
    /// repeat it, so the run's recorded command line carries it.
    pub chosen_seed: Option<u64>,
    /// `-sI`: the zombie of the idle scan.
    pub idle: Option<crate::idle_plan::IdlePlan>,
    /// `-b`: the FTP server the bounce scan goes through.
    pub bounce: Option<crate::bounce_plan::BouncePlan>,
}

/// What `-sV` and its options asked for.
#[derive(Clone, Debug)]
pub struct VersionPlan {
    /// 0..=9.
    pub intensity: u8,
    /// `--versiondb FILE`, parsed; `None` for the built-in database.
    pub db: Option<&'static tojimari_probedb::ProbeDb>,
    /// Exposure checks (off with --no-findings).
    pub findings: bool,
    /// `--banners`: a banner detail per service.
    pub banners: bool,
}

const TARGET_HINT: &str =
    "give targets like 198.18.0.1, 198.18.0.0/24, 198.18.0.1-20, 2001:db8::1 or a host name, or -iL FILE";

/// Checks the flags and builds the plan. `stdin` is read only for `-iL -`; `raw_allowed` says whether raw
/// sockets can be opened; `notice` hears about fallbacks.
pub fn build(
    args: &ScanArgs,
    stdin: &mut dyn Read,
    raw_allowed: bool,
    notice: &mut dyn FnMut(String),
) -> Result<ScanPlan, UsageError> {
    let shard = match &args.shard {
        Some(text) => Some(Shard::parse(text).map_err(|e| {
            UsageError::new(format!("--shard: {e}"), "give the shard as I/N, from 1/N to N/N: --shard 2/3")
        })?),
        None => None,
    };
    if args.list && shard.is_none() {
        list_conflicts(args)?;
    }
    let techniques = match (args.list, shard) {
        (true, None) => Techniques::default(),
        // -sL --shard lists the probes the shard's (raw) scan would send.
        (true, Some(_)) => technique::select(args, true, &mut |_| {})?,
        (false, _) => technique::select(args, raw_allowed, notice)?,
    };
    if shard.is_some() {
        shard_conflicts(args)?;
    }
    let idle = match &args.idle_scan {
        Some(spec) => {
            crate::idle_plan::conflicts(args)?;
            Some(crate::idle_plan::parse(spec)?)
        }
        None => None,
    };
    let ping_probes = technique::ping_probes(&args.raw_discovery)?;
    let bounce = crate::bounce_plan::bounce_plan(args)?;
    // (-sL with -P options is refused by list_conflicts.)
    let raw_engine = techniques.needs_raw() || (args.ping_only && raw_allowed);
    if ping_probes.is_some() && !raw_engine {
        return Err(UsageError::privilege(
            crate::messages::needs_raw("raw host discovery (-PE, -PP, -PM, -PS, -PA, -PU, -PY, -PO)"),
            crate::messages::raw_hint("drop the -P options (discovery is then a TCP connect to ports 80 and 443)"),
        ));
    }

    // Targets.
    let mut target_specs = args
        .targets
        .iter()
        .map(|t| parse_target(t).map_err(|e| UsageError::new(e.to_string(), e.hint())))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(list) = &args.input_list {
        if list == "-" {
            read_target_list(&mut BufReader::new(stdin), STDIN_NAME, &TARGET_LIST, &mut target_specs)?;
        } else {
            let mut file = open_list(Path::new(list), &TARGET_LIST)?;
            read_target_list(&mut file, list, &TARGET_LIST, &mut target_specs)?;
        }
    }
    if target_specs.is_empty() {
        return Err(UsageError::new("no targets given", TARGET_HINT));
    }
    if args.ipv6
        && let Some(at) = target_specs.iter().position(is_ipv4)
    {
        // Command-line targets come first, one spec each; the rest came from -iL.
        let target = args.targets.get(at).map_or_else(|| "from -iL".to_string(), |t| t.clone());
        return Err(UsageError::new(
            format!("-6 scans IPv6, but the target {target} is an IPv4 address"),
            "drop -6 to scan IPv4 targets, or give IPv6 targets (2001:db8::1, 2001:db8::/120)",
        ));
    }

    // Exclusions.
    let mut exclude_specs = Vec::new();
    for list in &args.exclude {
        exclude_specs.extend(parse_exclude_list(list).map_err(|e| UsageError::new(e.to_string(), e.hint()))?);
    }
    if let Some(file) = &args.excludefile {
        let mut reader = open_list(file, &EXCLUDE_FILE)?;
        read_target_list(&mut reader, &file.to_string_lossy(), &EXCLUDE_FILE, &mut exclude_specs)?;
    }
    let mut exclusions = Exclusions::new();
    let mut exclude_names = Vec::new();
    for spec in exclude_specs {
        if matches!(spec, TargetSpec::Hostname { .. }) {
            exclude_names.push(spec);
        } else {
            exclusions.add(&spec).map_err(|e| UsageError::new(e.to_string(), e.hint()))?;
        }
    }

    // Ports.
    let ping_only = args.ping_only;
    let ports = if args.list && shard.is_none() {
        PortSpec::default()
    } else if ping_only {
        if args.ports.is_some() || args.top_ports.is_some() || args.fast {
            return Err(UsageError::new(
                "-sn (host discovery only) cannot be combined with -p, --top-ports or -F",
                "drop -sn to scan ports, or drop the port options to only find which hosts are up",
            ));
        }
        PortSpec::default()
    } else {
        select_ports(args, &techniques)?
    };

    let timing = build_timing(args)?;
    let mut chosen_seed = None;
    let order = if args.sequential {
        if args.seed.is_some() {
            return Err(UsageError::new(
                "-r (ports in order) and --seed (a random order) contradict each other",
                "use one of them",
            ));
        }
        PortOrder::Sequential
    } else {
        let seed = match &args.seed {
            Some(s) => parse_u64(s, "--seed")?,
            None => {
                let seed = random_seed();
                chosen_seed = Some(seed);
                if let Some(shard) = shard {
                    notice(format!(
                        "--shard {shard} without --seed: this run chose --seed {seed}; give every shard of this scan \
                         --seed {seed}"
                    ));
                }
                seed
            }
        };
        PortOrder::Random { seed }
    };
    let discovery = if args.no_ping { Discovery::Skip } else { Discovery::ConnectPing { ports: vec![80, 443] } };
    if ping_only && args.no_ping {
        return Err(UsageError::new(
            "-sn with -Pn would scan nothing and call every host up",
            "use -sn alone to find hosts that are up",
        ));
    }

    let outputs = crate::outputs::destinations(args)?;
    let version = version_plan(args)?;
    if version.is_some() && ping_only {
        let name = match (args.service_version, args.checks) {
            (true, _) => "-sV",
            (_, true) => "-sC",
            _ => "-A",
        };
        return Err(UsageError::new(
            format!("{name} and -sn contradict each other"),
            format!("{name} probes open ports; drop -sn to scan them"),
        ));
    }
    let display = DisplayOptions {
        reason: args.reason,
        open_only: args.open,
        verbose: args.verbose,
        versions: version.is_some(),
        debug: args.debug,
    };
    let (debug, packet_trace) = (args.debug, args.packet_trace || args.debug >= 2);
    let stats_every = args.stats_every.as_deref().map(|s| parse_time(s, "--stats-every")).transpose()?;
    if stats_every.is_some_and(|d| d.is_zero()) {
        return Err(UsageError::new("--stats-every must be longer than 0", "for example --stats-every 10s"));
    }

    let interface = match &args.interface {
        Some(name) => match tojimari_net::interface_by_name(name) {
            Ok(iface) => Some((iface.name, iface.index)),
            Err(_) => {
                return Err(UsageError::new(
                    format!("unknown network interface \"{name}\" (-e)"),
                    "`ip link` lists this machine's interfaces",
                ));
            }
        },
        None => None,
    };

    if args.udp_full_split && !args.udp && !args.ip_protocol {
        return Err(UsageError::new(
            "--udp-full-split applies to UDP and IP protocol scans only",
            "add -sU (or use it with -sO)",
        ));
    }
    if args.defeat_icmp_ratelimit && !args.udp && !args.ip_protocol {
        return Err(UsageError::new(
            "--defeat-icmp-ratelimit applies to UDP and IP protocol scans only",
            "add -sO or -sU, or drop the option",
        ));
    }
    if args.defeat_icmp_ratelimit && args.udp_full_split {
        return Err(UsageError::new(
            "--defeat-icmp-ratelimit skips the wait for ICMP errors that --udp-full-split asks for",
            "keep one of the two",
        ));
    }
    let icmp_limits = if args.udp_full_split {
        tojimari_engine::raw::IcmpLimits::Always
    } else if args.defeat_icmp_ratelimit || timing.max_retries == 0 {
        tojimari_engine::raw::IcmpLimits::Never
    } else {
        tojimari_engine::raw::IcmpLimits::ProtocolScan
    };
    let evasion = crate::evasion::evasion(&args.evasion, args.ipv6, &mut crate::evasion::random())?;
    // -sn on the raw engine sends pings, which take --ttl and -D (`Shaping::for_pings`), as nmap's do.
    let shapes_pings = ping_only && raw_engine;
    let given = args.evasion.given();
    let refused = given.iter().find(|o| !(shapes_pings && crate::evasion::PING_SHAPING.contains(*o)));
    if let Some(first) = refused
        && (!techniques.needs_raw() || ping_only)
    {
        return Err(UsageError::new(
            format!("{first} shapes the raw engine's port probes, and this scan sends none"),
            if shapes_pings {
                "drop -sn, or drop the option (-sn's pings take only --ttl and -D)"
            } else if ping_only {
                "drop -sn, or drop the option"
            } else {
                "use a raw scan such as -sS or -sU (root or CAP_NET_RAW)"
            },
        ));
    }
    // Said once everything else is known to be right, so that a usage error stays one line.
    let mut notes = Vec::new();
    if idle.is_some() && !args.no_ping {
        // Without -Pn the user did not say the targets are up: the reason user-set is this scan's choice.
        notes.push(
            "the idle scan sends the targets nothing from this address, so it does not ping them: each is \
             reported up (reason user-set) as with -Pn"
                .to_string(),
        );
    }
    let os = crate::os_plan::os_plan(args, &techniques, ping_only, raw_allowed, &mut |n| notes.push(n))?;
    let traceroute = crate::os_plan::trace_plan(args, &techniques, ping_only, raw_allowed, &mut |n| notes.push(n))?;
    if args.aggressive {
        let mut on = vec!["-sV", "-sC"];
        on.extend(os.is_some().then_some("-O"));
        on.extend(traceroute.then_some("--traceroute"));
        notice(format!("-A turned on {}", on.join(", ")));
    }
    notes.into_iter().for_each(&mut *notice);
    Ok(ScanPlan {
        traceroute,
        evasion,
        bounce,
        icmp_limits,
        interface,
        target_specs,
        exclusions,
        exclude_names,
        ports,
        ping_only,
        techniques,
        discovery,
        ping_probes,
        timing,
        order,
        reverse_dns: !args.no_dns,
        prefer_ipv6: args.ipv6,
        outputs,
        display,
        stats_every,
        allowed_targets: args.allowed_targets.clone(),
        progress: !args.no_progress,
        version,
        list_only: args.list,
        debug,
        packet_trace,
        raw_allowed,
        os,
        shard,
        chosen_seed,
        idle,
    })
}

fn is_ipv4(spec: &TargetSpec) -> bool {
    match spec {
        TargetSpec::Addr(a) => a.is_ipv4(),
        TargetSpec::Network(n) => n.addr().is_ipv4(),
        TargetSpec::Octets(_) => true,
        TargetSpec::Hostname { .. } => false,
    }
}

/// `-sL` sends nothing, so every option about probing contradicts it.
fn list_conflicts(args: &ScanArgs) -> Result<(), UsageError> {
    let probing = [
        (args.ping_only, "-sn"),
        (args.connect, "-sT"),
        (args.syn, "-sS"),
        (args.udp, "-sU"),
        (args.sctp_init, "-sY"),
        (args.sctp_cookie_echo, "-sZ"),
        (args.ip_protocol, "-sO"),
        (args.fin, "-sF"),
        (args.null, "-sN"),
        (args.xmas, "-sX"),
        (args.ack, "-sA"),
        (args.window, "-sW"),
        (args.maimon, "-sM"),
        (args.scanflags.is_some(), "--scanflags"),
        (args.service_version, "-sV"),
        (args.checks, "-sC"),
        (args.aggressive, "-A"),
        (args.os_detect, "-O"),
        (args.ports.is_some(), "-p"),
        (args.top_ports.is_some(), "--top-ports"),
        (args.fast, "-F"),
        (args.exclude_ports.is_some(), "--exclude-ports"),
        (!args.raw_discovery.is_empty(), "-P<probe>"),
        (args.packet_trace, "--packet-trace"),
    ];
    match probing.iter().find(|(on, _)| *on) {
        Some((_, name)) => Err(UsageError::new(
            format!("-sL (list targets, send nothing) and {name} contradict each other"),
            "use -sL alone to see which targets would be scanned",
        )),
        None => Ok(()),
    }
}

/// `--shard`: the shards split a scan's port probes.
fn shard_conflicts(args: &ScanArgs) -> Result<(), UsageError> {
    if args.ping_only {
        return Err(UsageError::new(
            "--shard splits the port probes, and -sn sends none",
            "drop --shard, or scan ports",
        ));
    }
    if args.list
        && let Some(option) = [
            (args.output_xml.is_some(), "-oX"),
            (args.output_grepable.is_some(), "-oG"),
            (args.output_json.is_some(), "-oJ"),
            (args.output_all.is_some(), "-oA"),
        ]
        .iter()
        .find_map(|(on, name)| on.then_some(*name))
    {
        return Err(UsageError::new(
            format!("-sL with --shard prints the shard's probes as text; {option} has no such format"),
            "use -oN FILE or redirect standard output",
        ));
    }
    Ok(())
}

/// `-sV`, `--version-intensity N`, `--version-light`, `--version-all`, `--versiondb FILE`, `--no-findings`.
fn version_plan(args: &ScanArgs) -> Result<Option<VersionPlan>, UsageError> {
    let options = args.version_intensity.is_some()
        || args.version_light
        || args.version_all
        || args.versiondb.is_some()
        || args.no_findings
        || args.banners;
    if args.no_findings && (args.checks || args.aggressive) {
        return Err(UsageError::new(
            format!("{} and --no-findings contradict each other", if args.checks { "-sC" } else { "-A" }),
            "-sC runs the exposure checks; drop one of them",
        ));
    }
    // The checks feed on what version detection finds: -sC and -A turn it on.
    if !(args.service_version || args.checks || args.aggressive) {
        if options {
            return Err(UsageError::new("version detection options need -sV", "add -sV"));
        }
        return Ok(None);
    }
    let chosen = [args.version_intensity.is_some(), args.version_light, args.version_all];
    if chosen.iter().filter(|c| **c).count() > 1 {
        return Err(UsageError::new(
            "--version-intensity, --version-light and --version-all contradict each other",
            "use one: --version-light is intensity 2, --version-all is 9",
        ));
    }
    let intensity = match &args.version_intensity {
        Some(text) => match text.parse::<u8>() {
            Ok(n) if n <= 9 => n,
            _ => {
                return Err(UsageError::new(
                    format!("--version-intensity must be a number from 0 to 9, not \"{text}\""),
                    "0 sends only the probes meant for the port, 9 sends every probe",
                ));
            }
        },
        None if args.version_light => 2,
        None if args.version_all => 9,
        None => 7,
    };
    let db = match &args.versiondb {
        // A run holds one database for its whole life: leaking it gives the 'static the prober wants.
        Some(path) => Some(&*Box::leak(Box::new(read_versiondb(path)?))),
        None => None,
    };
    Ok(Some(VersionPlan { intensity, db, findings: !args.no_findings, banners: args.banners }))
}

const PORTS_HINT: &str = "ports look like -p 22,80,1000-2000, -p- for all, -p http,ssh, or --top-ports 100";

fn select_ports(args: &ScanArgs, techniques: &Techniques) -> Result<PortSpec, UsageError> {
    let top_n = match &args.top_ports {
        Some(s) => {
            let n = parse_u64(s, "--top-ports")?;
            if n == 0 {
                return Err(UsageError::new(
                    "--top-ports 0 selects no ports",
                    "give a number of ports, e.g. --top-ports 100",
                ));
            }
            Some(n as usize)
        }
        None => None,
    };
    if args.fast && top_n.is_some() {
        return Err(UsageError::new("-F and --top-ports contradict each other", "-F means --top-ports 100; use one"));
    }
    if top_n.is_some() && args.ports.is_some() {
        return Err(UsageError::new(
            "-p and --top-ports contradict each other",
            "-p names the ports to scan, --top-ports picks the N most common; use one",
        ));
    }
    if args.fast && args.ports.is_some() {
        return Err(UsageError::new(
            "-F and -p contradict each other",
            "-F scans the 100 most common ports; -p names ports",
        ));
    }
    if techniques.ip_proto {
        return protocol_ports(args, n_given(args, top_n));
    }
    let explicit = match &args.ports {
        Some(spec) => Some(parse_port_list(spec).map_err(|e| UsageError::new(e.to_string(), e.hint()))?),
        None => None,
    };
    let n = top_n.or(args.fast.then_some(100));
    let pick = |proto: Protocol, named: Option<&PortSet>| -> Vec<u16> {
        match (named, n) {
            // -p with --top-ports or -F is refused above.
            (Some(set), _) => set.as_slice().to_vec(),
            (None, Some(n)) => services::top_ports(proto, n).to_vec(),
            (None, None) => services::top_ports(proto, 1000).to_vec(),
        }
    };
    let scan_tcp = techniques.tcp.is_some();
    let mut ports = PortSpec {
        tcp: if scan_tcp {
            PortSet::from_ports(pick(Protocol::Tcp, explicit.as_ref().map(|s| &s.tcp)))
        } else {
            PortSet::default()
        },
        udp: if techniques.udp {
            PortSet::from_ports(pick(Protocol::Udp, explicit.as_ref().map(|s| &s.udp)))
        } else {
            PortSet::default()
        },
        sctp: if techniques.sctp.is_some() {
            PortSet::from_ports(pick(Protocol::Sctp, explicit.as_ref().map(|s| &s.sctp)))
        } else {
            PortSet::default()
        },
        ip: PortSet::default(),
    };
    if let Some(spec) = &explicit {
        if scan_tcp && !techniques.udp && spec.tcp.is_empty() {
            return Err(UsageError::new(
                "the port list names no TCP ports (only U: ports)",
                "add -sU to scan UDP ports, or give TCP ports",
            ));
        }
        if techniques.udp && !scan_tcp && spec.udp.is_empty() {
            return Err(UsageError::new(
                "the port list names no UDP ports (only T: ports)",
                "give U: ports or unprefixed ones",
            ));
        }
    }
    if let Some(spec) = &args.exclude_ports {
        let exclude = parse_port_list(spec).map_err(|e| UsageError::new(e.to_string(), e.hint()))?;
        ports = ports.without(&exclude);
    }
    if ports.is_empty() {
        return Err(UsageError::new("no ports left to scan", PORTS_HINT));
    }
    Ok(ports)
}

/// Whether `--top-ports` or `-F` was given (they mean nothing to `-sO`).
fn n_given(args: &ScanArgs, top_n: Option<usize>) -> bool {
    top_n.is_some() || args.fast
}

/// `-sO`'s "ports": the IP protocols `-p` names (0-255), all 256 by default, as nmap.
fn protocol_ports(args: &ScanArgs, top_given: bool) -> Result<PortSpec, UsageError> {
    if top_given {
        return Err(UsageError::new(
            "--top-ports and -F do not apply to -sO",
            "-sO scans all 256 IP protocols; name some with -p (e.g. -p 1,6,17 or -p icmp,gre)",
        ));
    }
    let mut ip = match &args.ports {
        Some(spec) => tojimari_core::portspec::parse_protocol_list(spec)
            .map_err(|e| UsageError::new(format!("-sO: {e}"), e.hint()))?,
        None => PortSet::from_ports(0..=255),
    };
    if let Some(spec) = &args.exclude_ports {
        let exclude = tojimari_core::portspec::parse_protocol_list(spec)
            .map_err(|e| UsageError::new(format!("-sO --exclude-ports: {e}"), e.hint()))?;
        ip = PortSet::from_ports(ip.as_slice().iter().copied().filter(|&p| !exclude.contains(p)));
    }
    if ip.is_empty() {
        return Err(UsageError::new("no protocols left to scan", "-sO scans IP protocols 0-255 named with -p"));
    }
    Ok(PortSpec { ip, ..PortSpec::default() })
}

fn build_timing(args: &ScanArgs) -> Result<Timing, UsageError> {
    let template = match args.timing.as_deref() {
        None => TimingTemplate::Normal,
        Some(t) => parse_template(t)?,
    };
    let mut timing = template.timing();
    if let Some(s) = &args.max_retries {
        timing.max_retries = u32::try_from(parse_u64(s, "--max-retries")?)
            .map_err(|_| UsageError::new(format!("--max-retries {s} is too large"), "nmap's default is 10"))?;
    }
    if let Some(s) = &args.host_timeout {
        let d = parse_time(s, "--host-timeout")?;
        // nmap: 0 means no timeout.
        timing.host_timeout = (!d.is_zero()).then_some(d);
    }
    if let Some(s) = &args.scan_delay {
        timing.scan_delay = parse_time(s, "--scan-delay")?;
        timing.max_scan_delay = timing.max_scan_delay.max(timing.scan_delay);
    }
    if let Some(s) = &args.initial_rtt_timeout {
        timing.initial_rtt_timeout = nonzero_time(s, "--initial-rtt-timeout")?;
    }
    if let Some(s) = &args.min_rtt_timeout {
        timing.min_rtt_timeout = nonzero_time(s, "--min-rtt-timeout")?;
        timing.min_rtt_timeout_given = true;
    }
    if let Some(s) = &args.max_rtt_timeout {
        timing.max_rtt_timeout = nonzero_time(s, "--max-rtt-timeout")?;
    }
    if timing.min_rtt_timeout > timing.max_rtt_timeout {
        return Err(UsageError::new(
            "--min-rtt-timeout is longer than --max-rtt-timeout",
            "the minimum probe timeout must not exceed the maximum",
        ));
    }
    if let Some(s) = &args.min_rate {
        timing.min_rate = Some(parse_rate(s, "--min-rate")?);
    }
    if let Some(s) = &args.max_rate {
        timing.max_rate = Some(parse_rate(s, "--max-rate")?);
    }
    if let (Some(min), Some(max)) = (timing.min_rate, timing.max_rate)
        && max < min
    {
        return Err(UsageError::new(
            format!("--max-rate {max} is below --min-rate {min}"),
            "the maximum rate must be at least the minimum rate",
        ));
    }
    if let Some(s) = &args.max_parallelism {
        let n = parse_u64(s, "--max-parallelism")?;
        if n == 0 {
            return Err(UsageError::new("--max-parallelism 0 would send nothing", "give at least 1"));
        }
        timing.max_parallelism = Some(n.min(1 << 20) as usize);
    }
    Ok(timing)
}

fn parse_template(t: &str) -> Result<TimingTemplate, UsageError> {
    let level = match t.to_ascii_lowercase().as_str() {
        "0" | "paranoid" => 0,
        "1" | "sneaky" => 1,
        "2" | "polite" => 2,
        "3" | "normal" => 3,
        "4" | "aggressive" => 4,
        "5" | "insane" => 5,
        _ => {
            return Err(UsageError::new(
                format!("unknown timing template -T{t}"),
                "use -T0 to -T5, or paranoid, sneaky, polite, normal, aggressive, insane",
            ));
        }
    };
    Ok(TimingTemplate::from_level(level).expect("level is 0..=5"))
}

fn parse_u64(s: &str, option: &str) -> Result<u64, UsageError> {
    s.trim().parse::<u64>().map_err(|_| {
        UsageError::new(format!("{option} takes a whole number, not \"{s}\""), format!("for example {option} 100"))
    })
}

fn parse_rate(s: &str, option: &str) -> Result<f64, UsageError> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(UsageError::new(
            format!("{option} takes a positive number of probes per second, not \"{s}\""),
            format!("for example {option} 1000"),
        )),
    }
}

fn nonzero_time(s: &str, option: &str) -> Result<Duration, UsageError> {
    let d = parse_time(s, option)?;
    if d.is_zero() {
        return Err(UsageError::new(format!("{option} must be longer than 0"), format!("for example {option} 100ms")));
    }
    Ok(d)
}

/// nmap's time syntax: a number with an optional unit ms, s, m or h; no unit means seconds.
pub fn parse_time(s: &str, option: &str) -> Result<Duration, UsageError> {
    let bad = || {
        UsageError::new(
            format!("{option} takes a time such as 500ms, 30s, 5m or 1h, not \"{s}\""),
            "a number without a unit means seconds",
        )
    };
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// How `-iL -` names standard input in its errors.
const STDIN_NAME: &str = "<stdin>";

/// A target list file (`-iL`, `--excludefile`): its flag, its limits and what a user should do past them.
struct ListKind {
    flag: &'static str,
    what: &'static str,
    limits: Limits,
    /// Most targets (tokens) the list may hold: the specs are held for the whole scan.
    max_entries: usize,
}

/// `-iL`: lines of at most 16 KiB, at most 100 million lines (so an endless stream of blank lines ends
/// too) and 2 million targets. The parsed list is held for the whole scan: about 100 bytes a target
/// (measured: 1 million addresses peak at 97 MB, 1 million octet ranges at 220 MB), so the cap keeps a
/// list under half a gigabyte however it is written. A CIDR block or an octet range is one target.
const TARGET_LIST: ListKind = ListKind {
    flag: "-iL",
    what: "target list",
    limits: Limits { max_line: 16 * 1024, max_bytes: None, max_lines: Some(100_000_000), nul: Nul::Refuse },
    max_entries: 2_000_000,
};

/// `--excludefile`: lines of at most 16 KiB, at most 100 million lines and 1 million targets.
const EXCLUDE_FILE: ListKind = ListKind {
    flag: "--excludefile",
    what: "exclude file",
    limits: Limits { max_line: 16 * 1024, max_bytes: None, max_lines: Some(100_000_000), nul: Nul::Refuse },
    max_entries: 1_000_000,
};

/// `--versiondb`: at most 8 MiB, lines of at most 64 KiB (the probe and match counts are capped by the
/// parser, see [`tojimari_probedb::limits`]).
const VERSIONDB: Limits = Limits { max_line: 64 * 1024, max_bytes: Some(8 << 20), max_lines: None, nul: Nul::Refuse };

impl ListKind {
    fn hint(&self) -> String {
        format!(
            "{} takes a text file of targets separated by spaces or newlines, # starts a comment; at most {} per \
             line and {} targets (give ranges or CIDR blocks instead of single addresses)",
            self.flag,
            Size(self.limits.max_line as u64),
            self.max_entries
        )
    }
}

fn open_list(path: &Path, kind: &ListKind) -> Result<BufReader<File>, UsageError> {
    File::open(path).map(BufReader::new).map_err(|e| {
        UsageError::new(
            format!("cannot read {} ({}) {}: {e}", kind.what, kind.flag, path.display()),
            "check the file name",
        )
    })
}

/// Reads a target list line by line into `specs`; errors name the file and line (`FILE:LINE: ...`).
fn read_target_list(
    reader: &mut dyn BufRead,
    name: &str,
    kind: &ListKind,
    specs: &mut Vec<TargetSpec>,
) -> Result<(), UsageError> {
    let mut lines = LineReader::new(reader, kind.limits);
    let mut entries = 0usize;
    for at in 1u64.. {
        let line = match lines.next_text() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(UsageError::new(format!("{name}:{}: {e}", e.line()), kind.hint())),
        };
        for token in tokens_of_line(line) {
            entries += 1;
            if entries > kind.max_entries {
                return Err(UsageError::new(
                    format!("{name}:{at}: more than {} targets in the {}", kind.max_entries, kind.what),
                    kind.hint(),
                ));
            }
            let spec = parse_target(token).map_err(|e| UsageError::new(format!("{name}:{at}: {e}"), e.hint()))?;
            specs.push(spec);
        }
    }
    Ok(())
}

/// `--versiondb FILE`, read within [`VERSIONDB`] and parsed; errors name the file and line.
fn read_versiondb(path: &Path) -> Result<tojimari_probedb::ProbeDb, UsageError> {
    const HINT: &str = "give a text file in the format of docs/probe-db.md (at most 8 MiB), or drop --versiondb to \
                        use the built-in database";
    let name = path.to_string_lossy();
    let file = File::open(path)
        .map_err(|e| UsageError::new(format!("cannot read the probe database {}: {e}", path.display()), HINT))?;
    let text = LineReader::new(BufReader::new(file), VERSIONDB)
        .read_all_text()
        .map_err(|e| UsageError::new(format!("{name}:{}: {e}", e.line()), HINT))?;
    tojimari_probedb::ProbeDb::parse(&text, &name).map_err(|e| {
        use tojimari_probedb::limits::{MAX_MATCHES, MAX_PROBES};
        UsageError::new(
            e.to_string(),
            format!(
                "fix that line (the format is in docs/probe-db.md; a database holds at most {MAX_PROBES} probes and \
                 {MAX_MATCHES} match lines), or drop --versiondb to use the built-in one"
            ),
        )
    })
}

fn random_seed() -> u64 {
    // Good enough to vary the order between runs; --seed makes it reproducible.
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_follow_nmap() {
        assert_eq!(parse_time("30", "x").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_time("500ms", "x").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_time("2m", "x").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_time("1.5s", "x").unwrap(), Duration::from_millis(1500));
        assert!(parse_time("5 parsecs", "x").is_err());
        assert!(parse_time("-1", "x").is_err());
        assert!(parse_time("", "x").is_err());
    }

    #[test]
    fn target_lists_stop_past_their_entry_cap_naming_the_line() {
        let kind = ListKind { max_entries: 3, ..TARGET_LIST };
        let mut specs = Vec::new();
        let text = "# three\n198.18.0.1 198.18.0.2\n\n198.18.0.0/24 # a block is one target\n";
        read_target_list(&mut text.as_bytes(), "t.txt", &kind, &mut specs).unwrap();
        assert_eq!(specs.len(), 3);
        let err = read_target_list(&mut format!("{text}198.18.0.9\n").as_bytes(), "t.txt", &kind, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.message, "t.txt:5: more than 3 targets in the target list");
        assert!(err.hint.contains("at most 16 KiB per line and 3 targets"), "{}", err.hint);
        let blank = ListKind { limits: Limits { max_lines: Some(4), ..TARGET_LIST.limits }, ..TARGET_LIST };
        let err = read_target_list(&mut "\n".repeat(10).as_bytes(), "-", &blank, &mut Vec::new()).unwrap_err();
        assert_eq!(err.message, "-:5: more than 4 lines");
    }

    #[test]
    fn templates_by_number_and_name() {
        assert_eq!(parse_template("4").unwrap(), TimingTemplate::Aggressive);
        assert_eq!(parse_template("insane").unwrap(), TimingTemplate::Insane);
        assert!(parse_template("6").is_err());
    }
}
