//! `tojimari check quick|stealth|trojan|tcp|udp|prescan TARGET`: ready-made checks for people who do not
//! know scanner flags, after the online port checks of the early 2000s.
//!
//! Each check is one or more ordinary scan plans, built in code: the targets and `-e` go through the same
//! planner as `tojimari scan` (so a target is only ever a target, and is checked the same way), then each
//! scan sets its technique and ports on that plan. They run on the same engines, with results told in plain
//! words: OPEN (a program answers), CLOSED (the host answered that nothing listens: it is visible), STEALTH
//! (no answer at all). A machine that serves nothing should show every port STEALTH; every OPEN port gets a
//! line of advice. nmap's output options are refused: the report goes to standard output.
//!
//! The report is in the reader's language (English or Japanese): `--lang`, else the locale variables
//! (`LC_ALL`, `LC_MESSAGES`, `LANG`); its texts are the tojimari-i18n catalogues'.

mod advice;
mod report;
pub mod trojans;

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use tojimari_core::portspec::{PortSet, PortSpec};
use tojimari_core::report::{DisplayOptions, HostReport, PortResult, RunInfo, RunSummary};
use tojimari_core::sink::Tee;
use tojimari_core::{Protocol, ScanType, Sink};
use tojimari_engine::Discovery;
use tojimari_engine::raw::PingProbe;
use tojimari_i18n::Lang;

use crate::args::{CheckArgs, CheckKind, ScanArgs};
use crate::plan::{self, ScanPlan, UsageError, VersionPlan};
use crate::resolve::Targets;
use crate::technique::Techniques;
use crate::{EXIT_FAILURE, messages, usage};

/// The common service ports of `quick`, `stealth` and their names as the check reports them.
pub const COMMON_TCP: &[(u16, &str)] = &[
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (25, "SMTP"),
    (53, "DNS"),
    (79, "Finger"),
    (80, "HTTP"),
    (110, "POP3"),
    (113, "Ident"),
    (135, "MS-RPC"),
    (139, "NetBIOS session"),
    (143, "IMAP"),
    (443, "HTTPS"),
    (445, "SMB"),
    (1080, "SOCKS proxy"),
    (1900, "UPnP (SSDP)"),
    (2869, "UPnP (HTTP)"),
    (3128, "HTTP proxy"),
    (5000, "UPnP"),
    (8080, "HTTP proxy / alt HTTP"),
];

/// UDP ports `quick` adds when raw sockets are allowed.
pub const COMMON_UDP: &[(u16, &str)] =
    &[(53, "DNS"), (137, "NetBIOS name"), (138, "NetBIOS datagram"), (1900, "UPnP (SSDP)")];

/// The banner-grabbing ports of `prescan`.
pub const PRESCAN_TCP: &[(u16, &str)] = &[
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (25, "SMTP"),
    (79, "Finger"),
    (80, "HTTP"),
    (110, "POP3"),
    (113, "Ident"),
    (1080, "SOCKS proxy"),
    (3128, "HTTP proxy"),
    (8080, "HTTP proxy / alt HTTP"),
];

/// One scan's results, per host and port.
type Results = BTreeMap<IpAddr, HostReport>;

pub fn run(args: &CheckArgs) -> ExitCode {
    let lang = match language(args) {
        Ok(lang) => lang,
        Err(e) => return usage(&e),
    };
    if let Some(e) = refused_output(args) {
        return usage(&e);
    }
    let raw = tojimari_net::raw_allowed();
    // Bad usage (exit 2) is told before a missing privilege (exit 1).
    let base = match base_plan(args, raw) {
        Ok(plan) => plan,
        Err(e) => return usage(&e),
    };
    if matches!(args.kind, CheckKind::Stealth | CheckKind::Udp) && !raw {
        return usage(&UsageError::privilege(
            messages::needs_raw(&format!("`tojimari check {}`", args.kind.name())),
            messages::raw_hint("use `tojimari check quick`, which needs no privilege"),
        ));
    }
    let targets = match crate::scan::resolve(&base) {
        Ok(targets) => targets,
        Err(code) => return code,
    };
    let command = format!("tojimari check {} {}", args.kind.name(), args.targets.join(" "));
    let recording = crate::record::Recording::new(&args.record);
    let code = check(args, lang, raw, &base, &targets, &command, recording.as_ref());
    if let Some(recording) = &recording {
        recording.tell();
    }
    code
}

/// Runs the check's scans (each recorded when `recording`) and writes the report.
fn check(
    args: &CheckArgs,
    lang: Lang,
    raw: bool,
    base: &ScanPlan,
    targets: &Targets,
    command: &str,
    recording: Option<&crate::record::Recording>,
) -> ExitCode {
    let mut runs: Vec<(&'static str, Results)> = Vec::new();
    let all = scans(args.kind, raw, base);
    let several = all.len() > 1;
    for (label, plan) in all {
        // A check of several scans (stealth) records each, its technique in the profile.
        let profile = match several {
            true => format!("check {} {label}", args.kind.name()),
            false => format!("check {}", args.kind.name()),
        };
        let recorder = recording.map(|r| {
            let start = crate::record::scan_start(command.to_string(), &profile, args.targets.join(" "), &plan.ports);
            r.recorder(start)
        });
        match run_scan(&plan, targets, command, recorder) {
            Ok(results) => runs.push((label, results)),
            Err(code) => return code,
        }
    }
    // `quick` also asks whether the host answers ping, which takes raw sockets (not recorded: no ports).
    let ping = if args.kind == CheckKind::Quick && raw {
        match run_scan(&ping_plan(base), targets, command, None) {
            Ok(results) => Some(results),
            Err(code) => return code,
        }
    } else {
        None
    };
    let mut stdout = io::stdout().lock();
    let outcome = report::write(&mut stdout, lang, args.kind, &runs, ping.as_ref(), raw);
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            messages::error(format!("cannot write standard output: {e}"));
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The report's language: `--lang` (a language tag or locale name: en, ja, ja_JP.UTF-8), else the locale
/// variables.
fn language(args: &CheckArgs) -> Result<Lang, UsageError> {
    let Some(given) = &args.lang else { return Ok(Lang::from_env()) };
    Lang::parse(given).ok_or_else(|| {
        UsageError::new(
            format!("--lang must be en (English) or ja (Japanese), not \"{given}\""),
            format!("for example: tojimari check {} --lang ja TARGET", args.kind.name()),
        )
    })
}

/// nmap's output options given to `check`: refused, naming the option, since the report is plain words on
/// standard output and a check may run several scans.
fn refused_output(args: &CheckArgs) -> Option<UsageError> {
    let o = &args.outputs;
    let option = [(&o.normal, "-oN"), (&o.xml, "-oX"), (&o.grepable, "-oG"), (&o.json, "-oJ"), (&o.all, "-oA")]
        .into_iter()
        .find_map(|(value, option)| value.as_ref().map(|_| option))?;
    Some(UsageError::new(
        format!("`tojimari check` writes its report to standard output only; {option} is an option of `tojimari scan`"),
        format!(
            "redirect the report instead: tojimari check {} TARGET > report.txt (or run `tojimari scan {option} FILE` \
             for scan output)",
            args.kind.name()
        ),
    ))
}

/// The plan every scan of a check starts from: the check's targets and `-e`, checked by the planner as
/// `tojimari scan` checks them, with no host discovery (-Pn) and no progress line.
fn base_plan(args: &CheckArgs, raw: bool) -> Result<ScanPlan, UsageError> {
    let scan = ScanArgs {
        targets: args.targets.clone(),
        exclude: args.exclude.clone(),
        excludefile: args.excludefile.clone(),
        interface: args.interface.clone(),
        no_ping: true,
        no_progress: true,
        stats_every: args.stats_every.clone(),
        allowed_targets: args.allowed_targets.clone(),
        ..ScanArgs::default()
    };
    plan::build(&scan, &mut io::empty(), raw, &mut |_| {})
}

/// The scans a check runs, labelled for the report ("ports", or the technique of a `stealth` column).
fn scans(kind: CheckKind, raw: bool, base: &ScanPlan) -> Vec<(&'static str, ScanPlan)> {
    let tcp_ports =
        |lists: &[&[(u16, &str)]]| PortSet::from_ports(lists.iter().flat_map(|l| l.iter().map(|(p, _)| *p)));
    let syn_or_connect = if raw { ScanType::Syn } else { ScanType::Connect };
    let scan = |tcp: Option<ScanType>, udp: bool, ports: PortSpec| ScanPlan {
        techniques: Techniques { tcp, udp, ..Techniques::default() },
        ports,
        ..base.clone()
    };
    match kind {
        CheckKind::Quick => {
            let tcp = tcp_ports(&[COMMON_TCP, trojans::TROJAN_PORTS]);
            // UDP only with raw sockets: without them, a UDP scan cannot tell anything.
            let udp = if raw { tcp_ports(&[COMMON_UDP]) } else { PortSet::default() };
            vec![("ports", scan(Some(syn_or_connect), raw, PortSpec { tcp, udp, ..PortSpec::default() }))]
        }
        CheckKind::Stealth => [ScanType::Syn, ScanType::Fin, ScanType::Null, ScanType::Xmas]
            .into_iter()
            .map(|t| {
                (t.option(), scan(Some(t), false, PortSpec { tcp: tcp_ports(&[COMMON_TCP]), ..PortSpec::default() }))
            })
            .collect(),
        CheckKind::Trojan => {
            let ports = PortSpec { tcp: tcp_ports(&[trojans::TROJAN_PORTS]), ..PortSpec::default() };
            vec![("ports", scan(Some(syn_or_connect), false, ports))]
        }
        CheckKind::Tcp => {
            let ports = PortSpec { tcp: PortSet::from_ports(1..=1024), ..PortSpec::default() };
            vec![("ports", scan(Some(syn_or_connect), false, ports))]
        }
        CheckKind::Udp => {
            let ports = PortSpec { udp: PortSet::from_ports(1..=1024), ..PortSpec::default() };
            vec![("ports", scan(None, true, ports))]
        }
        CheckKind::Prescan => {
            let ports = PortSpec { tcp: tcp_ports(&[PRESCAN_TCP]), ..PortSpec::default() };
            let version = VersionPlan { intensity: 7, db: None, findings: true, banners: true };
            let display = DisplayOptions { versions: true, ..base.display };
            vec![("ports", ScanPlan { version: Some(version), display, ..scan(Some(syn_or_connect), false, ports) })]
        }
    }
}

/// `quick`'s ping: host discovery only, by ICMP echo (as `-sn -PE`).
fn ping_plan(base: &ScanPlan) -> ScanPlan {
    ScanPlan {
        ping_only: true,
        ports: PortSpec::default(),
        techniques: Techniques::default(),
        discovery: Discovery::ConnectPing { ports: vec![80, 443] },
        ping_probes: Some(vec![PingProbe::Echo]),
        // No port to count: its progress line would read 0 of 1 after the ports' 100%.
        stats_every: None,
        ..base.clone()
    }
}

/// Runs one plan on the ordinary engines, collecting every host.
fn run_scan(
    plan: &ScanPlan,
    targets: &Targets,
    command: &str,
    recorder: Option<Box<dyn Sink + Send>>,
) -> Result<Results, ExitCode> {
    let collected = Arc::new(Mutex::new(Results::new()));
    let mut tee = Tee::new();
    tee.push(Box::new(Collect(collected.clone())));
    if let Some(recorder) = recorder {
        tee.push(recorder);
    }
    let code = crate::scan::execute(plan, targets, tee, command.to_string());
    if code != ExitCode::SUCCESS {
        return Err(code);
    }
    let results = std::mem::take(&mut *collected.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(results)
}

/// Keeps every finished host.
struct Collect(Arc<Mutex<Results>>);

impl Sink for Collect {
    fn run_start(&mut self, _: &RunInfo) -> io::Result<()> {
        Ok(())
    }

    fn host_done(&mut self, host: &HostReport) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(host.addr, host.clone());
        Ok(())
    }

    fn run_end(&mut self, _: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

/// A port's result in one run, if that run has it.
fn port_in(results: &Results, addr: IpAddr, proto: Protocol, port: u16) -> Option<&PortResult> {
    results.get(&addr)?.ports.iter().find(|p| p.proto == proto && p.port == port)
}
