//! From a [`Daemon`] to a [`Running`] one: check the programs, make the directory, let the
//! daemon's recipe write its configuration and say how to run it (a [`Launch`]), spawn it in
//! the namespace in its own process group, then poll its [`Probe`]s until all answer.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;

use super::probe::Probe;
use super::running::Running;
use super::workdir::{CONSOLE_LOG, WorkDir};
use super::{Daemon, DaemonError, Exposure, Posture, STARTUP, Service, Tunnel, version};
use super::{databases, mail, network, proxies, shells, stores, web, windows};
use crate::bed::Target;
use crate::listeners::Transport;

/// Log lines per file quoted in a startup error.
const TAIL_LINES: usize = 25;
/// Pause between readiness attempts.
const POLL: Duration = Duration::from_millis(100);

/// What a recipe is given: the daemon, its posture, its directory and the target's addresses.
#[derive(Debug)]
pub(super) struct Context<'a> {
    pub(super) daemon: Daemon,
    pub(super) posture: Posture,
    pub(super) dir: &'a WorkDir,
    pub(super) v4: Ipv4Addr,
    pub(super) v6: Ipv6Addr,
}

impl Context<'_> {
    /// Both target addresses, IPv4 first.
    pub(super) fn addrs(&self) -> Vec<IpAddr> {
        vec![self.v4.into(), self.v6.into()]
    }

    pub(super) fn exposed(&self) -> bool {
        self.posture == Posture::Exposed
    }

    /// A service entry (its version is filled in after the package is looked up).
    pub(super) fn service(
        &self,
        transport: Transport,
        port: u16,
        name: &'static str,
        tunnel: Tunnel,
        product: &'static str,
    ) -> Service {
        Service { transport, port, name, tunnel, product, version: None }
    }
}

/// Whether the daemon tells an anonymous client its version (see [`Service::version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Announces {
    Version,
    Nothing,
}

/// How to run a configured daemon, and what it will offer: a recipe's result.
#[derive(Debug)]
pub(super) struct Launch {
    /// The program (absolute path) and its arguments, run inside the namespace.
    pub(super) program: String,
    pub(super) args: Vec<String>,
    pub(super) env: Vec<(&'static str, String)>,
    /// Debian packages whose version is the daemon's, first installed one wins.
    pub(super) packages: Vec<String>,
    pub(super) services: Vec<Service>,
    pub(super) announces: Announces,
    pub(super) ready: Vec<Probe>,
    /// The signal for a clean stop (SIGKILL follows if it is not enough).
    pub(super) stop: Signal,
    pub(super) exposures: Vec<Exposure>,
    pub(super) credential: Option<String>,
    pub(super) ca: Option<String>,
    /// The addresses its services listen on.
    pub(super) addrs: Vec<IpAddr>,
}

impl Launch {
    /// A launch of `program` with `args`, versioned by `package`, stopped by SIGTERM,
    /// listening on IPv4 only; recipes adjust the rest.
    pub(super) fn new(ctx: &Context<'_>, program: &str, args: Vec<String>, package: &str) -> Launch {
        Launch {
            program: program.to_owned(),
            args,
            env: Vec::new(),
            packages: vec![package.to_owned()],
            services: Vec::new(),
            announces: Announces::Nothing,
            ready: Vec::new(),
            stop: Signal::SIGTERM,
            exposures: Vec::new(),
            credential: None,
            ca: None,
            addrs: vec![ctx.v4.into()],
        }
    }
}

/// `args!["-f", path]`: a `Vec<String>` from anything `Display`.
macro_rules! args {
    ($($arg:expr),* $(,)?) => { vec![$($arg.to_string()),*] };
}
pub(super) use args;

/// A secret for a Safe configuration (a password, an SNMP community), different on each run.
pub(super) fn secret() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("tjm{:x}{:x}", std::process::id(), nanos)
}

fn recipe(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    match ctx.daemon {
        Daemon::Nginx => web::nginx(ctx),
        Daemon::OpensslTls => web::openssl_tls(ctx),
        Daemon::OpenSsh => shells::openssh(ctx),
        Daemon::Vsftpd => shells::vsftpd(ctx),
        Daemon::Telnetd => shells::telnetd(ctx),
        Daemon::Fingerd => shells::fingerd(ctx),
        Daemon::Exim => mail::exim(ctx),
        Daemon::Dovecot => mail::dovecot(ctx),
        Daemon::Redis => stores::redis(ctx),
        Daemon::Memcached => stores::memcached(ctx),
        Daemon::Mosquitto => stores::mosquitto(ctx),
        Daemon::Postgresql => stores::postgresql(ctx),
        Daemon::Dnsmasq => network::dnsmasq(ctx),
        Daemon::Snmpd => network::snmpd(ctx),
        Daemon::Chronyd => network::chronyd(ctx),
        Daemon::Oidentd => network::oidentd(ctx),
        Daemon::Mariadb => databases::mariadb(ctx),
        Daemon::Slapd => databases::slapd(ctx),
        Daemon::Smbd => windows::smbd(ctx),
        Daemon::Xrdp => windows::xrdp(ctx),
        Daemon::Tinyproxy => proxies::tinyproxy(ctx),
        Daemon::Danted => proxies::danted(ctx),
    }
}

pub(super) fn start(target: &Target, daemon: Daemon, posture: Posture) -> Result<Running, DaemonError> {
    if let Some(program) = daemon.programs().into_iter().find(|p| !Path::new(p).exists()) {
        return Err(DaemonError::NotInstalled { daemon, program });
    }
    let dir = WorkDir::new(daemon)?;
    let ctx = Context { daemon, posture, dir: &dir, v4: target.v4, v6: target.v6 };
    let mut launch = recipe(&ctx)?;

    let console_path = dir.path().join(CONSOLE_LOG);
    let console = File::create(&console_path).map_err(|e| DaemonError::io(daemon, "create the console log", e))?;
    let console_err = console.try_clone().map_err(|e| DaemonError::io(daemon, "clone the console log", e))?;
    let mut command = target.ns.command(&launch.program);
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(console)
        .stderr(console_err)
        // Its own process group, so stopping it reaches the workers it forks.
        .process_group(0);
    let child = command.spawn().map_err(|e| DaemonError::io(daemon, format!("spawn {}", launch.program), e))?;

    let package_version = version::package_version(&launch.packages);
    let announced = match launch.announces {
        Announces::Version => package_version.as_deref().map(|v| version::upstream(v).to_owned()),
        Announces::Nothing => None,
    };
    for service in &mut launch.services {
        service.version.clone_from(&announced);
    }
    let ready = std::mem::take(&mut launch.ready);
    let mut running = Running::new(daemon, posture, child, dir, launch, package_version, announced);
    wait_ready(&mut running, target, &ready)?;
    Ok(running)
}

/// Polls each probe in turn until it answers; fails when the daemon exits or [`STARTUP`]
/// passes (the `Running` is then dropped by the caller's `?`, which stops it).
fn wait_ready(running: &mut Running, target: &Target, probes: &[Probe]) -> Result<(), DaemonError> {
    let start = Instant::now();
    for probe in probes {
        loop {
            if let Some(status) = running.exit_status() {
                return Err(DaemonError::Exited {
                    daemon: running.daemon(),
                    status,
                    log_tail: running.log_tail(TAIL_LINES),
                });
            }
            if probe.check(&target.ns) {
                break;
            }
            if start.elapsed() > STARTUP {
                return Err(DaemonError::NotReady {
                    daemon: running.daemon(),
                    waited: start.elapsed(),
                    what: probe.describe(),
                    log_tail: running.log_tail(TAIL_LINES),
                });
            }
            thread::sleep(POLL);
        }
    }
    Ok(())
}
