//! Proxy recipes: tinyproxy (HTTP proxy on 8888) and Dante's danted (SOCKS5 on 1080).
//!
//! Neither can reach anything from the bed (targets have no route out), so a proxied request
//! fails inside the target namespace however the proxy is configured.

use super::launch::{Announces, Context, Launch, args};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;

/// `tinyproxy -d -c DIR/tinyproxy.conf` as `nobody`, listening on the target's IPv4 address
/// and logging to stdout. It names itself and its version (`Server: tinyproxy/V`) on every
/// answer, its own error pages included. Exposed: serves the bed's networks (an open proxy);
/// Safe: only 127.0.0.1, so a scanner gets `403 Access denied` (still with the header).
pub(super) fn tinyproxy(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let allow = if ctx.exposed() { "198.18.0.0/15" } else { "127.0.0.1" };
    let config = ctx.dir.file(
        "tinyproxy.conf",
        &format!(
            "User nobody\nGroup nogroup\nPort 8888\nListen {v4}\nTimeout 30\nMaxClients 32\n\
             LogLevel Info\nAllow {allow}\nPidFile \"{pid}\"\n",
            v4 = ctx.v4,
            pid = ctx.dir.join("tinyproxy.pid"),
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/bin/tinyproxy", args!["-d", "-c", config], "tinyproxy");
    launch.announces = Announces::Version;
    launch.services = vec![ctx.service(Transport::Tcp, 8888, "http-proxy", Tunnel::Plain, "tinyproxy")];
    launch.ready = vec![Probe::Connect((ctx.v4, 8888).into())];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::OpenProxy];
    }
    Ok(launch)
}

/// `danted -f DIR/danted.conf` (it stays in the foreground without `-D`), SOCKS on the
/// target's IPv4 address, logging to stderr. Exposed: method `none` for the bed's networks
/// (an open SOCKS5 proxy); Safe: `username` only, so a client offering no authentication is
/// refused (method 0xFF).
pub(super) fn danted(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let method = if ctx.exposed() { "none" } else { "username" };
    let config = ctx.dir.file(
        "danted.conf",
        &format!(
            "logoutput: stderr\ninternal: {v4} port = 1080\nexternal: {v4}\n\
             clientmethod: none\nsocksmethod: {method}\n\
             user.privileged: root\nuser.unprivileged: nobody\n\
             client pass {{\n  from: 198.18.0.0/15 to: 0.0.0.0/0\n}}\n\
             socks pass {{\n  from: 198.18.0.0/15 to: 0.0.0.0/0\n}}\n",
            v4 = ctx.v4,
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/danted", args!["-f", config], "dante-server");
    launch.services = vec![ctx.service(Transport::Tcp, 1080, "socks5", Tunnel::Plain, "Dante")];
    launch.ready = vec![Probe::Connect((ctx.v4, 1080).into())];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::OpenProxy];
    }
    Ok(launch)
}
