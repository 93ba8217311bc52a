//! `tojimari check quick|stealth|trojan|tcp|udp|prescan TARGET`: ready-made checks for people who do not
//! know scanner flags, after the online port checks of the early 2000s.
//!
//! Each check is an ordinary scan plan (built from nmap-style arguments, so it follows every rule a typed
//! `tojimari scan` follows), run on the same engines, with results told in plain words: OPEN (a program
//! answers), CLOSED (the host answered that nothing listens: it is visible), STEALTH (no answer at all). A
//! machine that serves nothing should show every port STEALTH; every OPEN port gets a line of advice.

mod advice;
mod report;
pub mod trojans;

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use tojimari_core::report::{HostReport, PortResult, RunInfo, RunSummary};
use tojimari_core::sink::Tee;
use tojimari_core::{Protocol, Sink};

use crate::args::{CheckArgs, CheckKind, Cli, Command, ScanArgs};
use crate::plan::{self, UsageError};
use crate::resolve::Targets;
use crate::{EXIT_FAILURE, usage};

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
    let raw = tojimari_net::raw_allowed();
    let needs_raw = matches!(args.kind, CheckKind::Stealth | CheckKind::Udp);
    if needs_raw && !raw {
        eprintln!(
            "error: `tojimari check {}` sends raw packets, which needs root or CAP_NET_RAW (hint: run it with sudo, or \
             use `tojimari check quick`)",
            args.kind.name()
        );
        return ExitCode::from(EXIT_FAILURE);
    }
    let targets_arg: Vec<String> = args.targets.clone();
    let ports = |list: &[(u16, &str)]| list.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>().join(",");
    let trojan_list = ports(trojans::TROJAN_PORTS);
    let common = ports(COMMON_TCP);
    let mut plans: Vec<(&'static str, Vec<String>)> = Vec::new();
    match args.kind {
        CheckKind::Quick => {
            let mut spec = format!("T:{common},{trojan_list}");
            if raw {
                spec.push_str(&format!(",U:{}", ports(COMMON_UDP)));
            }
            let mut a = vec!["-Pn".to_string(), "-p".into(), spec];
            if raw {
                a.push("-sU".into());
                a.push("-sS".into());
            }
            plans.push(("ports", a));
        }
        CheckKind::Stealth => {
            for flag in ["-sS", "-sF", "-sN", "-sX"] {
                plans.push((flag, vec!["-Pn".into(), flag.into(), "-p".into(), common.clone()]));
            }
        }
        CheckKind::Trojan => plans.push(("ports", vec!["-Pn".into(), "-p".into(), trojan_list])),
        CheckKind::Tcp => plans.push(("ports", vec!["-Pn".into(), "-p".into(), "1-1024".into()])),
        CheckKind::Udp => plans.push(("ports", vec!["-Pn".into(), "-sU".into(), "-p".into(), "1-1024".into()])),
        CheckKind::Prescan => {
            plans.push(("ports", vec!["-Pn".into(), "-sV".into(), "--banners".into(), "-p".into(), ports(PRESCAN_TCP)]))
        }
    }
    let mut runs: Vec<(&'static str, Results)> = Vec::new();
    for (label, mut scan_args) in plans {
        scan_args.push("--no-progress".into());
        if let Some(iface) = &args.interface {
            scan_args.push("-e".into());
            scan_args.push(iface.clone());
        }
        scan_args.extend(targets_arg.iter().cloned());
        match run_scan(&scan_args) {
            Ok(results) => runs.push((label, results)),
            Err(code) => return code,
        }
    }
    let ping = if args.kind == CheckKind::Quick {
        if raw {
            let mut a = vec!["-sn".to_string(), "-PE".into(), "--no-progress".into()];
            a.extend(targets_arg.iter().cloned());
            match run_scan(&a) {
                Ok(results) => Some(results),
                Err(code) => return code,
            }
        } else {
            None
        }
    } else {
        None
    };
    let mut stdout = io::stdout().lock();
    let outcome = report::write(&mut stdout, args.kind, &runs, ping.as_ref(), raw);
    match outcome {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the report failed: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Runs `tojimari scan ARGS` through the ordinary planner and engines, collecting every host.
fn run_scan(scan_args: &[String]) -> Result<Results, ExitCode> {
    let mut argv = vec!["tojimari".to_string(), "scan".to_string()];
    argv.extend(scan_args.iter().cloned());
    let rewritten = crate::prepass::rewrite(argv.iter().cloned());
    let args: Box<ScanArgs> = match Cli::try_parse_from(&rewritten) {
        Ok(Cli { command: Command::Scan(args) }) => args,
        Ok(_) => unreachable!("the argv names the scan subcommand"),
        Err(e) => {
            let first = e.render().to_string();
            eprintln!("error: {} (hint: see 'tojimari check --help')", first.lines().next().unwrap_or("bad target"));
            return Err(ExitCode::from(crate::EXIT_USAGE));
        }
    };
    let raw_allowed = tojimari_net::raw_allowed();
    let mut notice = |_n: String| {};
    let plan = match plan::build(&args, &mut io::empty(), raw_allowed, &mut notice) {
        Ok(p) => p,
        Err(e) => return Err(usage(&e)),
    };
    let mut warn = |w: String| eprintln!("warning: {w}");
    let targets =
        Targets::resolve(&plan.target_specs, plan.exclusions.clone(), &plan.exclude_names, plan.prefer_ipv6, &mut warn);
    if targets.is_empty() {
        let e = UsageError::new("no target could be resolved", "give an address like 198.18.0.2 or a host name");
        return Err(usage(&e));
    }
    let collected = Arc::new(Mutex::new(Results::new()));
    let mut tee = Tee::new();
    tee.push(Box::new(Collect(collected.clone())));
    let code = crate::scan::execute(&plan, &targets, tee, argv.join(" "));
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
