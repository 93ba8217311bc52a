//! `tojimari scan`: plan, resolve, open outputs, run the connect engine, close outputs validly.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use tojimari_core::diagnostic::Level;
use tojimari_core::portspec::PortSet;
use tojimari_core::report::{RunExit, RunInfo, RunSummary, ScanInfo, ScanType};
use tojimari_core::sink::Tee;
use tojimari_core::sweep::{Selection, Space};
use tojimari_core::{Protocol, Sink};
use tojimari_engine::raw::{PingProbe, RawDiscovery, RawScan};
use tojimari_engine::{ConnectScan, Control, Discovery, EngineError, Sweep, Tracer, fdlimit};
use tojimari_probedb::ProbeDb;
use tojimari_service::{IdentifyOptions, IdentifySink};

use crate::args::ScanArgs;
use crate::outputs::{self, Outputs};
use crate::plan::{self, ScanPlan, VersionPlan};
use crate::progress::Reporter;
use crate::resolve::Targets;
use crate::{EXIT_FAILURE, messages, usage};

pub fn run(args: &ScanArgs, argv: &[String]) -> ExitCode {
    if let Some(file) = &args.resume {
        return crate::resume::run(file);
    }
    run_with(args, argv, None)
}

/// A scan, new or (`continuing`) resumed from its checkpoint.
pub fn run_with(args: &ScanArgs, argv: &[String], continuing: Option<crate::resume::Continue>) -> ExitCode {
    if args.iflist {
        return iflist();
    }
    let checkpointing = match crate::resume::options(args) {
        Ok(options) => options,
        Err(e) => return usage(&e),
    };
    let raw_allowed = !args.unprivileged && tojimari_net::raw_allowed();
    let mut plan = match plan::build(args, &mut io::stdin().lock(), raw_allowed, &mut |n| messages::note(n)) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    if let Some(c) = &continuing {
        c.keep_seed(&mut plan);
    }
    // A resumed scan goes on only where its checkpoint left it (same probe space, journal whole): checked
    // before its outputs, which hold the paused run's results, are opened and emptied.
    let (outputs, targets, resumed) = match continuing {
        Some(continuing) => {
            let targets = match resolve(&plan) {
                Ok(targets) => targets,
                Err(code) => return code,
            };
            let resumed = match continuing.check(&plan, &targets) {
                Ok(resumed) => resumed,
                Err(e) => return usage(&e),
            };
            match Outputs::open(&plan.outputs) {
                Ok(outputs) => (outputs, targets, Some(resumed)),
                Err(e) => return usage(&e),
            }
        }
        None => {
            // Outputs open before anything is sent (host names are resolved next): a bad path stops the run
            // here.
            let outputs = match Outputs::open(&plan.outputs) {
                Ok(outputs) => outputs,
                Err(e) => return usage(&e),
            };
            match resolve(&plan) {
                Ok(targets) => (outputs, targets, None),
                Err(code) => {
                    outputs.discard();
                    return code;
                }
            }
        }
    };
    if args.workers {
        outputs.discard();
        return crate::fleet_plan::run(args, argv, &plan, &targets);
    }
    if plan.debug > 0 {
        eprint!("{}", debug_report(&plan, &targets));
    }
    if plan.list_only
        && let Some(shard) = plan.shard
    {
        let control = Arc::new(Control::new());
        install_signal_handler(control.clone(), None);
        return crate::shard_list::run(&plan, shard, &targets, outputs.opened, &control);
    }
    let mut tee = Tee::new();
    for output in outputs.opened {
        tee.push(tojimari_output::sink(output.format, output.writer, output.stdout));
    }
    let control = Arc::new(Control::new());
    if plan.list_only {
        install_signal_handler(control.clone(), None);
        return crate::list_scan::run(&plan, &targets, tee, run_args(&plan, argv), control);
    }
    let resumable = crate::resume::Resumable::prepare(&plan, &targets, argv, checkpointing, resumed, &control);
    let mut rest = Tee::new();
    // Recorded after the outputs have the hosts (docs/store-recording.md).
    let mut recording = crate::record::Recording::new(&args.record);
    if let Some(recording) = &mut recording {
        let mut asked = args.targets.join(" ");
        if let Some(list) = &args.input_list {
            asked = format!("{asked} -iL {list}").trim_start().to_string();
        }
        if let Some(resumable) = &resumable {
            resumable.record_into(recording);
        }
        let start = crate::record::scan_start(run_args(&plan, argv), "scan", asked, &plan.ports);
        rest.push(recording.recorder(start));
    }
    rest.push(Box::new(Unreachable));
    let sink = match &resumable {
        Some(resumable) => resumable.sinks(tee, rest),
        None => {
            tee.push(Box::new(rest));
            Box::new(tee)
        }
    };
    let code = execute_with(&plan, &targets, sink, run_args(&plan, argv), control, resumable);
    if let Some(recording) = &recording {
        recording.tell();
    }
    code
}

/// Resolves the plan's targets (host names through the system resolver, with a warning for each that
/// fails; reserved ranges as resolve.rs says). None left is a runtime failure (exit status 1), said in one line.
pub fn resolve(plan: &ScanPlan) -> Result<Targets, ExitCode> {
    let targets = Targets::resolve(
        &plan.target_specs,
        plan.exclusions.clone(),
        &plan.exclude_names,
        plan.prefer_ipv6,
        &mut |level, m| match level {
            Level::Note => messages::note(m),
            _ => messages::warning(m),
        },
    );
    if targets.is_empty() {
        messages::error(messages::with_hint(
            "no target could be resolved, so nothing was scanned",
            "check the host names, or give addresses",
        ));
        return Err(ExitCode::from(EXIT_FAILURE));
    }
    if let Some(list) = &plan.allowed_targets {
        enforce_allowed(list, &targets)?;
    }
    Ok(targets)
}

/// `--allowed-targets`: every target, as resolved, must lie in `list` (what `tojimari serve` passes the checks
/// it runs, so options that add targets cannot reach past its allow-list). Refused: a usage error, exit 2.
fn enforce_allowed(list: &str, targets: &Targets) -> Result<(), ExitCode> {
    let refuse = |message: String| {
        crate::usage(&crate::plan::UsageError::new(message, "the server's --allow lists what its page may check"))
    };
    let allow =
        tojimari_web::allow::AllowList::from_system(list).map_err(|e| refuse(format!("--allowed-targets: {e}")))?;
    allow.check_targets(&targets.specs()).map_err(|e| refuse(format!("target {e}: outside --allowed-targets")))
}

/// `--iflist`: interfaces and routes, then exit.
fn iflist() -> ExitCode {
    match tojimari_net::interfaces().and_then(|i| tojimari_net::routes().map(|r| (i, r))) {
        Ok((interfaces, routes)) => {
            let text = crate::iflist::render(&interfaces, &routes);
            match io::stdout().lock().write_all(text.as_bytes()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    messages::error(format_args!("writing the interface list failed: {e}"));
                    ExitCode::from(EXIT_FAILURE)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            messages::error(messages::with_hint(
                format_args!("cannot read the interfaces and routes: {e}"),
                "`ip addr` and `ip route` show them",
            ));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `-d`: what the run will do, on stderr, before it starts.
fn debug_report(plan: &ScanPlan, targets: &Targets) -> String {
    let t = &plan.timing;
    let technique = if plan.list_only {
        "list scan (-sL): nothing is sent".to_string()
    } else {
        let mut parts = Vec::new();
        match plan.techniques.tcp {
            Some(ScanType::Connect) => parts.push("TCP connect (connect engine)".to_string()),
            Some(ScanType::Idle) => {
                let (zombie, port) = plan.idle.as_ref().map_or((None, 0), |i| (Some(i.zombie), i.probe_port));
                let zombie = zombie.map_or_else(|| "-".to_string(), |z| z.to_string());
                parts.push(format!("IdleScan through zombie {zombie}:{port} (idle engine)"));
            }
            Some(ScanType::Bounce) => parts.push(match &plan.bounce {
                Some(b) => format!("FTP bounce through {} as {} (bounce engine)", b.relay, b.spec.user),
                None => "FTP bounce (bounce engine)".to_string(),
            }),
            Some(tech) => parts.push(format!("{} (raw engine)", tech.display_name())),
            None => {}
        }
        if plan.techniques.udp {
            parts.push("UDP (raw engine)".into());
        }
        if let Some(t) = plan.techniques.sctp {
            parts.push(format!("{} (raw engine)", t.display_name()));
        }
        if plan.techniques.ip_proto {
            parts.push("IP protocol scan (raw engine)".into());
        }
        if plan.ping_only {
            parts.push("host discovery only (-sn)".into());
        }
        parts.join(" + ")
    };
    let raw_engine = plan.techniques.needs_raw() || (plan.ping_only && plan.raw_allowed);
    let discovery = match (&plan.discovery, &plan.ping_probes) {
        _ if plan.idle.is_some() => "none: the idle scan sends the targets nothing from this host".to_string(),
        (Discovery::Skip, _) => "none (-Pn): every host is up".to_string(),
        (_, _) if !raw_engine => "TCP connect to ports 80 and 443".to_string(),
        (_, Some(probes)) => format!("ARP/ND on the local link, else {probes:?}"),
        (_, None) => "ARP/ND on the local link, else ICMP echo, SYN to 443, ACK to 80, ICMP timestamp".to_string(),
    };
    let ms = |d: std::time::Duration| format!("{}ms", d.as_millis());
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
    format!(
        "--------------- Plan ---------------\n\
         technique: {technique}\n\
         ports: {} TCP, {} UDP, {} SCTP, {} IP protocols\n\
         targets: {} before exclusions\n\
         discovery: {discovery}\n\
         version detection: {}\n\
         os detection: {}\n\
         traceroute: {}\n\
         timing: {:?}; rtt-timeouts: init {}, min {}, max {}; max-retries {}; host-timeout {}; scan-delay {}\n\
         rates: min {}, max {}; max-parallelism {}\n\
         packet trace: {}\n\
         ------------------------------------\n",
        plan.ports.tcp.len(),
        plan.ports.udp.len(),
        plan.ports.sctp.len(),
        plan.ports.ip.len(),
        match targets.len_hint() {
            1 => "1 address".to_string(),
            n => format!("{n} addresses"),
        },
        match &plan.version {
            Some(v) => format!("intensity {}, exposure checks {}", v.intensity, if v.findings { "on" } else { "off" }),
            None => "off".into(),
        },
        match &plan.os {
            Some(os) => format!(
                "on (at most {} tries{}{})",
                os.max_tries,
                if os.guess { ", --osscan-guess" } else { "" },
                if os.limit { ", --osscan-limit" } else { "" }
            ),
            None => "off".into(),
        },
        if plan.traceroute { "on" } else { "off" },
        t.template,
        ms(t.initial_rtt_timeout),
        ms(t.min_rtt_timeout),
        ms(t.max_rtt_timeout),
        t.max_retries,
        opt(t.host_timeout.map(ms)),
        ms(t.scan_delay),
        opt(t.min_rate.map(|r| format!("{r}/s"))),
        opt(t.max_rate.map(|r| format!("{r}/s"))),
        opt(t.max_parallelism.map(|n| n.to_string())),
        if plan.packet_trace { "on" } else { "off (-dd or --packet-trace)" },
    )
}

/// Runs a checked plan on resolved targets, feeding `tee`; owns progress, Ctrl-C and the closing notes.
/// `tojimari check` calls it too, with its own sinks.
pub fn execute(plan: &ScanPlan, targets: &Targets, tee: Tee, args: String) -> ExitCode {
    execute_with(plan, targets, Box::new(tee), args, Arc::new(Control::new()), None)
}

/// [`execute`] with a checkpoint kept (`resumable`), the run controlled by `control`.
pub fn execute_with(
    plan: &ScanPlan,
    targets: &Targets,
    tee: Box<dyn Sink + Send>,
    args: String,
    control: Arc<Control>,
    resumable: Option<crate::resume::Resumable>,
) -> ExitCode {
    let mut tee: Box<dyn Sink + Send> = match &plan.version {
        None => tee,
        Some(version) => match version_stage(version, tee, &control) {
            Ok(sink) => sink,
            Err(e) => {
                messages::error(format!("cannot start version detection: {e}"));
                return ExitCode::from(EXIT_FAILURE);
            }
        },
    };
    let budget = fdlimit::raise_and_budget();
    // A resumed scan starts at its first group not finished, with what it kept of that group's answers
    // (checked when the checkpoint was read).
    let resume_at = resumable
        .as_ref()
        .map(|r| (r.start_group, r.prior.as_deref().and_then(|b| tojimari_engine::GroupState::from_bytes(b).ok())));
    // A resumed connect scan skips the hosts the journal has (the raw engine counts groups instead).
    let finished = match resumable.as_ref().filter(|_| !plan.techniques.needs_raw()).map(|r| r.finished_hosts()) {
        None => Default::default(),
        Some(Ok(finished)) => finished,
        Some(Err(e)) => {
            messages::error(format!("cannot read the results journal of the paused scan: {e}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let engine = engine_for(plan, budget.max_sockets, resume_at, finished);
    // What the engine says while it runs (a long wait for rate-limited ICMP errors), clear of the progress line.
    control.on_note(|note| {
        let mut drawn = crate::progress::terminal();
        crate::progress::clear_line(&mut drawn);
        messages::report(note);
    });
    let scans = scan_infos(plan);
    let start = resumable.as_ref().map_or_else(SystemTime::now, |r| r.started);
    let started = Instant::now();
    let run_info =
        RunInfo { args, start, version: env!("CARGO_PKG_VERSION").to_string(), scans, display: plan.display };

    let per_host =
        ((plan.ports.tcp.len() + plan.ports.udp.len() + plan.ports.sctp.len() + plan.ports.ip.len()) as u64).max(1);
    let hosts = u64::try_from(targets.len_hint()).unwrap_or(u64::MAX);
    let mut planned = hosts.saturating_mul(per_host);
    if let Some(shard) = plan.shard {
        // Shard I/N owns the positions I-1, I-1+N, ... of the scan.
        planned = planned.saturating_sub(shard.index - 1).div_ceil(shard.count);
    }
    control.progress.planned.store(planned, std::sync::atomic::Ordering::Relaxed);
    let session = resumable.as_ref().map(|r| r.session.clone());
    let on_signal = session.clone().map(|s| -> Arc<dyn Fn() + Send + Sync> { Arc::new(move || s.interrupted()) });
    install_signal_handler(control.clone(), on_signal);

    if let Err(e) = tee.run_start(&run_info) {
        messages::error(outputs::describe(&e));
        return ExitCode::from(EXIT_FAILURE);
    }
    let reporter = Reporter::start(control.clone(), plan.progress, plan.stats_every);
    let mut bounce_notes = Vec::new();
    let result = match &engine {
        Engine::Connect(e) => e.run(&mut targets.iter(), &mut *tee, &control),
        Engine::Raw(e) => e.run(&mut targets.iter(), &mut *tee, &control),
        Engine::Idle(e) => e.run(&mut targets.iter(), &mut *tee, &control),
        Engine::Bounce(e) => e.run(&mut targets.iter(), &mut *tee, &control).map(|outcome| {
            bounce_notes = outcome.notes;
            outcome.stats
        }),
    };
    bounce_notes.iter().for_each(messages::note);
    // Version detection still running on the last hosts: finish it (a Ctrl-C cuts it short) before the
    // summary, so that the summary's time and exit cover it.
    let drained = tee.drain();
    reporter.stop();

    // The first failure is told once; a file that failed keeps failing at run_end, which is not repeated.
    let mut told = false;
    let mut tell = |message: String| {
        messages::error(&message);
        told = true;
        message
    };
    let (stats, exit, code) = match result {
        Ok(stats) => match drained {
            Err(e) => (stats, RunExit::Error(tell(outputs::describe(&e))), ExitCode::from(EXIT_FAILURE)),
            Ok(()) if stats.interrupted || control.is_cancelled() => {
                (stats, RunExit::Error("Interrupted by user (Ctrl-C)".into()), ExitCode::from(EXIT_FAILURE))
            }
            Ok(()) => (stats, RunExit::Success, ExitCode::SUCCESS),
        },
        Err(e) => {
            let message = match &e {
                EngineError::Output(io) => outputs::describe(io),
                other => other.to_string(),
            };
            let stats = match &e {
                EngineError::SendFailed { stats, .. } => *stats,
                _ => Default::default(),
            };
            (stats, RunExit::Error(tell(message)), ExitCode::from(EXIT_FAILURE))
        }
    };
    let backoffs = control.progress.backoffs.load(std::sync::atomic::Ordering::Relaxed);
    if backoffs > 0 && plan.display.verbose > 0 {
        match engine {
            Engine::Connect(_) => messages::note(format!(
                "backed off {backoffs} times for lack of descriptors or local ports (limit {}); no result was lost",
                budget.soft_limit
            )),
            Engine::Bounce(_) => {}
            Engine::Raw(_) | Engine::Idle(_) => messages::note(
                "the sending rate was halved {backoffs} times: losses grew with the rate (a queue or a rate limiter on the path); retries recovered them",
            ),
        }
    }
    if matches!(engine, Engine::Raw(_)) {
        // A refused ring is told at any verbosity: the scan went on, more slowly than it could.
        if let Some(why) = control.progress.ring_refused.lock().ok().and_then(|w| w.clone()) {
            messages::note(format!("frames were sent with sendmmsg: {why}; the scan is complete, only slower"));
        }
        if plan.display.verbose > 0 {
            raw_notes(&control.progress);
        }
    }
    let ignored = control.progress.trace_ignored.load(std::sync::atomic::Ordering::Relaxed);
    if ignored > 0 {
        messages::note(format!(
            "traceroute: {ignored} time-exceeded message(s) about the traced hosts quoted no probe of ours and were \
             ignored; the hops that sent them are shown as silent (a router or middlebox that rewrites the packets \
             it quotes)"
        ));
    }
    let udp_silent = control.progress.udp_silent.load(std::sync::atomic::Ordering::Relaxed);
    if udp_silent > 0 {
        let rate = control.progress.udp_icmp_rate_milli.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0;
        let wait =
            if rate > 0.0 { format!(" (about {:.0} s at that rate)", udp_silent as f64 / rate) } else { String::new() };
        let (what, icmp, instead) = if plan.techniques.ip_proto {
            let why = if plan.timing.max_retries == 0 { "--max-retries 0" } else { "--defeat-icmp-ratelimit" };
            ("IP protocols", "protocol-unreachable", format!("without {why}, -sO waits for the full split"))
        } else {
            ("UDP ports", "port-unreachable", "--udp-full-split waits for the full split".to_string())
        };
        let seen = if rate > 0.0 {
            format!("the targets sent ICMP {icmp} at about {rate:.1}/s")
        } else {
            // Too short a scan to measure more than the limiter's burst.
            format!(
                "the targets may rate-limit their ICMP {icmp} errors (Linux sends one a second per host after a burst of 6)"
            )
        };
        messages::note(format!(
            "{udp_silent} {what} stayed silent (open|filtered): {seen}, so closed ones among them could not all say \
             so; {instead}{wait}"
        ));
    }
    let summary = RunSummary {
        end: SystemTime::now(),
        elapsed: started.elapsed(),
        hosts_up: stats.hosts_up,
        hosts_down: stats.hosts_down,
        hosts_total: stats.hosts_total,
        exit,
    };
    let completed = matches!(summary.exit, RunExit::Success);
    let ended = tee.run_end(&summary);
    if let Some(paused) = session.and_then(|s| s.finish(completed && ended.is_ok(), control.is_cancelled())) {
        messages::note(format!(
            "scan paused; continue it with: tojimari scan --resume {}",
            shell_join(&[paused.display().to_string()])
        ));
    }
    if let Err(e) = ended {
        if !told {
            messages::error(outputs::describe(&e));
        }
        return ExitCode::from(EXIT_FAILURE);
    }
    code
}

/// `-sV`: a stage between the engine and the outputs that probes each finished host's open ports and
/// passes the host on with services, TLS details and findings filled. Ctrl-C reaches it through a flag
/// that follows the run's [`Control`].
fn version_stage(
    version: &VersionPlan,
    tee: Box<dyn Sink + Send>,
    control: &Arc<Control>,
) -> io::Result<Box<dyn Sink + Send>> {
    let db: &'static ProbeDb = version.db.unwrap_or_else(ProbeDb::builtin);
    let opts = IdentifyOptions::with_db(db)
        .intensity(version.intensity)
        .checks(version.findings)
        .tls(true)
        .banners(version.banners);
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::downgrade(&interrupt);
    let control = control.clone();
    // The flag follows the run's cancellation; the thread ends with the cancellation or when the detection
    // stage (the flag's only owner) is gone.
    std::thread::Builder::new().name("version-interrupt".into()).spawn(move || {
        while let Some(flag) = flag.upgrade() {
            if control.is_cancelled() {
                flag.store(true, Ordering::Relaxed);
                return;
            }
            drop(flag);
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    })?;
    Ok(Box::new(IdentifySink::new(tee, opts, interrupt)?))
}

/// Says on stderr which hosts could not be reached at all (no route), one line each: normal output only
/// lists down hosts with -v, but a target that cannot even be sent to is a problem the user should see.
struct Unreachable;

impl Sink for Unreachable {
    fn run_start(&mut self, _: &RunInfo) -> io::Result<()> {
        Ok(())
    }

    fn host_done(&mut self, host: &tojimari_core::HostReport) -> io::Result<()> {
        if host.state == tojimari_core::HostState::Down && host.state_reason == tojimari_core::Reason::NetUnreach {
            messages::warning(format_args!("no route to {} (or not through the -e interface); skipped", host.addr));
        }
        Ok(())
    }

    fn run_end(&mut self, _: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

/// The engine a plan runs on.
pub(crate) enum Engine {
    Connect(ConnectScan),
    Raw(RawScan),
    Idle(tojimari_engine::idle::IdleScan),
    /// `-b`: the FTP bounce scan (docs/bounce.md).
    Bounce(Box<tojimari_engine::bounce::BounceScan>),
}

/// The raw techniques of `plan`, each with its ports, in the engine's order (the probe space's).
pub fn raw_scans(plan: &ScanPlan) -> Vec<(ScanType, PortSet)> {
    let mut scans = Vec::new();
    if let Some(t) = plan.techniques.tcp.filter(|t| t.is_raw() && *t != ScanType::Idle) {
        scans.push((t, plan.ports.tcp.clone()));
    }
    if plan.techniques.udp {
        scans.push((ScanType::Udp, plan.ports.udp.clone()));
    }
    if let Some(t) = plan.techniques.sctp {
        scans.push((t, plan.ports.sctp.clone()));
    }
    if plan.techniques.ip_proto {
        scans.push((ScanType::IpProto, plan.ports.ip.clone()));
    }
    scans
}

/// The techniques of `plan` with their ports, as the engine that runs them numbers its probes: the raw
/// ones, or the connect scan's TCP ports.
pub fn port_scans(plan: &ScanPlan) -> Vec<(ScanType, PortSet)> {
    match plan.techniques.tcp {
        Some(ScanType::Connect) => vec![(ScanType::Connect, plan.ports.tcp.clone())],
        _ => raw_scans(plan),
    }
}

/// The numbering of `plan`'s probes ([`tojimari_core::sweep`]), as the raw engine walks them.
pub fn space_of(scans: &[(ScanType, PortSet)], plan: &ScanPlan) -> Space {
    let ports: Vec<u64> = scans.iter().map(|(_, p)| p.len() as u64).collect();
    let seed = match plan.order {
        tojimari_engine::PortOrder::Random { seed } => Some(seed),
        tojimari_engine::PortOrder::Sequential => None,
    };
    Space::new(&ports, seed)
}

/// The engine for `plan`; `resume_at`: the group a resumed raw scan starts at, and its state; `finished`:
/// the hosts a resumed connect scan skips.
pub(crate) fn engine_for(
    plan: &ScanPlan,
    max_sockets: usize,
    resume_at: Option<(u64, Option<tojimari_engine::GroupState>)>,
    finished: tojimari_engine::connect::Finished,
) -> Engine {
    let raw_ping = plan.ping_only && plan.raw_allowed;
    let trace = if plan.packet_trace {
        Tracer::new(Arc::new(crate::packet_trace::StderrTrace::new(Instant::now())))
    } else if plan.debug > 0 {
        Tracer::new(Arc::new(crate::packet_trace::StderrTrace::passes_only(Instant::now())))
    } else {
        Tracer::off()
    };
    if let Some(idle) = &plan.idle {
        return Engine::Idle(crate::idle_notes::engine(idle, plan, trace));
    }
    if let Some(bounce) = &plan.bounce {
        return Engine::Bounce(Box::new(bounce_engine(plan, bounce, max_sockets, trace)));
    }
    if plan.techniques.needs_raw() || raw_ping {
        let scans = raw_scans(plan);
        let discovery = if plan.discovery == Discovery::Skip {
            RawDiscovery::Skip
        } else {
            RawDiscovery::Ping(plan.ping_probes.clone().unwrap_or_else(PingProbe::defaults))
        };
        return Engine::Raw(RawScan {
            scans,
            timing: plan.timing,
            order: plan.order,
            discovery,
            reverse_dns: plan.reverse_dns,
            interface: plan.interface.as_ref().map(|(_, index)| *index),
            icmp_limits: plan.icmp_limits,
            trace,
            send: send_preference(),
            os: plan.os.clone(),
            evasion: plan.evasion.clone(),
            traceroute: plan.traceroute,
            sweep: match resume_at {
                Some((start_group, prior)) => Sweep {
                    selection: Selection { shard: plan.shard.unwrap_or_default(), range: 0..u64::MAX },
                    start_group,
                    prior,
                    group_hosts: None,
                },
                None => Sweep {
                    selection: Selection { shard: plan.shard.unwrap_or_default(), range: 0..u64::MAX },
                    ..Sweep::default()
                },
            },
        });
    }
    let selection = Selection { shard: plan.shard.unwrap_or_default(), range: 0..u64::MAX };
    Engine::Connect(connect_scan(plan, plan.ports.tcp.clone(), max_sockets, trace, selection, finished))
}

/// The connect engine for `plan`'s discovery and timing, scanning `ports` (none: discovery only).
fn connect_scan(
    plan: &ScanPlan,
    ports: PortSet,
    max_sockets: usize,
    trace: Tracer,
    selection: Selection,
    finished: tojimari_engine::connect::Finished,
) -> ConnectScan {
    ConnectScan {
        ports,
        timing: plan.timing,
        order: plan.order,
        discovery: plan.discovery.clone(),
        max_sockets,
        reverse_dns: plan.reverse_dns,
        interface: plan.interface.as_ref().map(|(name, _)| name.clone()),
        trace,
        selection,
        finished,
    }
}

/// The bounce engine of `plan`: the relay, the ports, and the discovery a port scan would use (raw pings
/// where allowed, else TCP connect pings), run ping-only.
fn bounce_engine(
    plan: &ScanPlan,
    bounce: &crate::bounce_plan::BouncePlan,
    max_sockets: usize,
    trace: Tracer,
) -> tojimari_engine::bounce::BounceScan {
    use tojimari_engine::bounce::{BounceDiscovery, BounceScan, Timeouts};
    let discovery = if plan.discovery == Discovery::Skip {
        BounceDiscovery::Skip
    } else if plan.raw_allowed {
        BounceDiscovery::Raw(Box::new(RawScan {
            scans: Vec::new(),
            timing: plan.timing,
            order: plan.order,
            discovery: RawDiscovery::Ping(plan.ping_probes.clone().unwrap_or_else(PingProbe::defaults)),
            reverse_dns: plan.reverse_dns,
            interface: plan.interface.as_ref().map(|(_, index)| *index),
            icmp_limits: tojimari_engine::raw::IcmpLimits::Never,
            trace,
            send: send_preference(),
            os: None,
            sweep: Sweep::default(),
            evasion: Default::default(),
            traceroute: false,
        }))
    } else {
        BounceDiscovery::Connect(Box::new(connect_scan(
            plan,
            PortSet::default(),
            max_sockets,
            trace,
            Selection::default(),
            Default::default(),
        )))
    };
    BounceScan {
        relay: bounce.relay,
        user: bounce.spec.user.clone(),
        password: bounce.spec.password.clone(),
        ports: plan.ports.tcp.clone(),
        order: plan.order,
        discovery,
        connections: plan.timing.max_parallelism.map_or(BOUNCE_CONNECTIONS, |n| n.clamp(1, 64)),
        attempts: 3,
        timeouts: Timeouts::default(),
    }
}

/// Control connections a bounce scan opens at once unless --max-parallelism says otherwise (the server may
/// allow fewer: the scan then uses what it allows).
const BOUNCE_CONNECTIONS: usize = 8;

/// `-v` after a raw scan: how frames were sent, and what the send and receive sides counted.
fn raw_notes(p: &tojimari_engine::Progress) {
    use std::sync::atomic::Ordering::Relaxed;
    if let Some(sender) = p.sender.lock().ok().and_then(|s| s.clone()) {
        messages::note(format!("raw sender: {sender}"));
    }
    let (probes, frames) = (p.probes.load(Relaxed), p.frames.load(Relaxed));
    let per_probe = if probes == 0 { 0.0 } else { frames as f64 / probes as f64 };
    messages::note(format!(
        "raw engine: {probes} probes, {frames} frames sent ({per_probe:.2} per probe), {} replies, {} lost in the receive ring",
        p.replies.load(Relaxed),
        p.ring_drops.load(Relaxed)
    ));
}

/// `TOJIMARI_TX_RING=0` (or `off`) keeps the raw engine on `sendmmsg`: for comparing the two senders, or
/// where a driver mishandles transmit rings. Anything else lets the engine use the ring where granted.
fn send_preference() -> tojimari_net::SendPreference {
    match std::env::var("TOJIMARI_TX_RING").as_deref() {
        Ok("0" | "off" | "no") => tojimari_net::SendPreference::Mmsg,
        _ => tojimari_net::SendPreference::Auto,
    }
}

/// XML `scaninfo` and friends: one entry per technique of the run.
pub(crate) fn scan_infos(plan: &ScanPlan) -> Vec<ScanInfo> {
    let mut scans = Vec::new();
    if let Some(scan_type) = plan.techniques.tcp {
        scans.push(ScanInfo { scan_type, proto: Protocol::Tcp, ports: plan.ports.tcp.clone() });
    }
    if plan.techniques.udp {
        scans.push(ScanInfo { scan_type: ScanType::Udp, proto: Protocol::Udp, ports: plan.ports.udp.clone() });
    }
    if let Some(scan_type) = plan.techniques.sctp {
        scans.push(ScanInfo { scan_type, proto: Protocol::Sctp, ports: plan.ports.sctp.clone() });
    }
    if plan.techniques.ip_proto {
        scans.push(ScanInfo { scan_type: ScanType::IpProto, proto: Protocol::Ip, ports: plan.ports.ip.clone() });
    }
    scans
}

/// The command line as one string, quoting arguments that need it (for headers and XML `args`).
/// The command line a run records (outputs' `args`, the store): as typed, plus the seed the run chose when
/// none was given, so that shards and resumed runs can repeat its order.
pub fn run_args(plan: &ScanPlan, argv: &[String]) -> String {
    let typed = shell_join(argv);
    match plan.chosen_seed {
        Some(seed) if plan.shard.is_some() => format!("{typed} --seed {seed}"),
        _ => typed,
    }
}

pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:,=@%+[]".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ctrl-C (and SIGTERM) stops the scan cleanly: results so far are written and files closed validly
/// (`on_signal` runs first: a resumable scan writes its checkpoint). A second Ctrl-C exits at once.
fn install_signal_handler(control: Arc<Control>, on_signal: Option<Arc<dyn Fn() + Send + Sync>>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        for _ in signals.forever() {
            if control.is_cancelled() {
                // The shell's convention for a process ended by SIGINT: 128 + the signal number.
                std::process::exit(128 + SIGINT);
            }
            if let Some(hook) = &on_signal {
                hook();
            }
            control.cancel();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_quoted_where_needed() {
        let argv: Vec<String> =
            ["tojimari", "scan", "-p", "22,80", "a b", "it's"].iter().map(|s| s.to_string()).collect();
        assert_eq!(shell_join(&argv), "tojimari scan -p 22,80 'a b' 'it'\\''s'");
    }
}
