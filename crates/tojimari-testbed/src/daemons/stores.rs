//! Data-store recipes: Redis, memcached, the Mosquitto MQTT broker and PostgreSQL.

use std::fs::OpenOptions;
use std::io::Write;
use std::process::Command;

use nix::sys::signal::Signal;

use super::launch::{Announces, Context, Launch, args, secret};
use super::probe::{self, Probe};
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;
use crate::netns::run_checked;
use crate::postgres::{self, POSTGRES_LIB};

/// `redis-server` with everything on the command line, in the foreground, no persistence.
/// Exposed: protected-mode off and no password, so anyone runs commands (and `INFO` shows
/// the version); Safe: protected-mode on and `requirepass` ([`Running::credential`](super::Running::credential)).
pub(super) fn redis(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let mut arguments = args![
        "--port",
        6379,
        "--bind",
        ctx.v4,
        ctx.v6,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        ctx.dir.path().display(),
        "--logfile",
        ""
    ];
    let mut launch = Launch::new(ctx, "/usr/bin/redis-server", Vec::new(), "redis-server");
    if ctx.exposed() {
        arguments.extend(args!["--protected-mode", "no"]);
        launch.announces = Announces::Version;
        launch.exposures = vec![Exposure::RedisWithoutPassword];
    } else {
        let password = secret();
        arguments.extend(args!["--protected-mode", "yes", "--requirepass", password]);
        launch.credential = Some(password);
    }
    launch.args = arguments;
    launch.addrs = ctx.addrs();
    launch.services = vec![ctx.service(Transport::Tcp, 6379, "redis", Tunnel::Plain, "Redis")];
    launch.ready = vec![Probe::Connect((ctx.v4, 6379).into())];
    Ok(launch)
}

/// `memcached -u nobody -l V4 -p 11211 -U ...`, IPv4 only. Its `version` command needs no
/// authentication. Exposed: UDP on 11211 too (the amplification vector); Safe: `-U 0`.
pub(super) fn memcached(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let udp = if ctx.exposed() { 11211 } else { 0 };
    let arguments = args!["-u", "nobody", "-l", ctx.v4, "-p", 11211, "-U", udp, "-m", 16, "-v"];
    let mut launch = Launch::new(ctx, "/usr/bin/memcached", arguments, "memcached");
    launch.announces = Announces::Version;
    launch.services = vec![ctx.service(Transport::Tcp, 11211, "memcached", Tunnel::Plain, "memcached")];
    launch.ready = vec![Probe::Connect((ctx.v4, 11211).into())];
    if ctx.exposed() {
        launch.services.push(ctx.service(Transport::Udp, 11211, "memcached", Tunnel::Plain, "memcached"));
        launch.ready.push(Probe::Udp((ctx.v4, 11211).into(), probe::memcached_udp_version()));
        launch.exposures = vec![Exposure::MemcachedUdp];
    }
    Ok(launch)
}

/// `mosquitto -c DIR/mosquitto.conf` with a listener on each target address. Exposed:
/// anonymous clients allowed (they can read `$SYS/broker/version`); Safe: refused.
pub(super) fn mosquitto(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let anonymous = if ctx.exposed() { "true" } else { "false" };
    let config = ctx.dir.file(
        "mosquitto.conf",
        &format!(
            "per_listener_settings false\nallow_anonymous {anonymous}\npersistence false\n\
             log_dest stderr\nlistener 1883 {v4}\nlistener 1883 {v6}\n",
            v4 = ctx.v4,
            v6 = ctx.v6,
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/mosquitto", args!["-c", config], "mosquitto");
    launch.addrs = ctx.addrs();
    launch.services = vec![ctx.service(Transport::Tcp, 1883, "mqtt", Tunnel::Plain, "Mosquitto")];
    launch.ready = vec![Probe::Connect((ctx.v4, 1883).into())];
    if ctx.exposed() {
        launch.announces = Announces::Version;
        launch.exposures = vec![Exposure::MqttAnonymous];
    }
    Ok(launch)
}

/// A fresh cluster (`initdb`, host logins by scram password) run as `postgres` through
/// `setpriv`: `postgres -D DATA -k SOCKETS -h ADDRS -p 5432`. Exposed: listening on the
/// target addresses, with `pg_hba` lines for the bed's networks; Safe: on 127.0.0.1 only, so
/// a scanner finds 5432 closed. Stopped with SIGINT (fast shutdown).
pub(super) fn postgresql(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let bin = postgres::bin_dir().ok_or_else(|| DaemonError::NotInstalled {
        daemon: ctx.daemon,
        program: format!("{POSTGRES_LIB}/*/bin/postgres"),
    })?;
    let major = bin.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let pg = dir.dir("pg")?;
    dir.chown(&pg, "postgres")?;
    let sockets = dir.dir("pg/sockets")?;
    dir.chown(&sockets, "postgres")?;
    let data = dir.join("pg/data");
    let as_postgres = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"];

    let mut initdb = Command::new("/usr/bin/setpriv");
    initdb.args(as_postgres).arg(bin.join("initdb")).current_dir(&pg).args([
        "-D",
        &data,
        "-U",
        "postgres",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
        "--no-instructions",
        "--encoding=UTF8",
        "--locale=C",
    ]);
    run_checked(&mut initdb, None).map_err(|e| DaemonError::setup(ctx.daemon, "initdb", e))?;

    let listen = if ctx.exposed() {
        let hba = format!("{data}/pg_hba.conf");
        OpenOptions::new()
            .append(true)
            .open(&hba)
            .and_then(|mut f| {
                f.write_all(b"host all all 198.18.0.0/15 scram-sha-256\nhost all all 2001:db8::/32 scram-sha-256\n")
            })
            .map_err(|e| DaemonError::io(ctx.daemon, format!("append to {hba}"), e))?;
        format!("{},{}", ctx.v4, ctx.v6)
    } else {
        "127.0.0.1".to_owned()
    };
    let mut arguments = args![as_postgres[0], as_postgres[1], as_postgres[2], as_postgres[3]];
    arguments.extend(args![bin.join("postgres").display(), "-D", data, "-k", sockets, "-h", listen, "-p", 5432]);
    let mut launch = Launch::new(ctx, "/usr/bin/setpriv", arguments, &format!("postgresql-{major}"));
    launch.stop = Signal::SIGINT;
    if ctx.exposed() {
        launch.addrs = ctx.addrs();
        launch.services = vec![ctx.service(Transport::Tcp, 5432, "postgresql", Tunnel::Plain, "PostgreSQL")];
        launch.ready = vec![Probe::Connect((ctx.v4, 5432).into())];
        launch.exposures = vec![Exposure::PostgresqlReachable];
    } else {
        launch.addrs = Vec::new();
        launch.ready = vec![Probe::Connect(([127, 0, 0, 1], 5432).into())];
    }
    Ok(launch)
}
