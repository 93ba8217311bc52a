//! Recipes for the services Windows networks expect: Samba's smbd (SMB on 445) and xrdp (RDP
//! on 3389).

use super::certs::{self, Kind};
use super::launch::{Context, Launch, args};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;

/// `smbd --foreground --no-process-group -s DIR/smb.conf`: a standalone server with one
/// read-only guest share, on 445 only (`disable netbios`, no 139), bound to the target's
/// IPv4 interface, every state, cache, lock and private directory and its log in DIR.
/// Exposed: `server min protocol = NT1`, so SMBv1 is still accepted; Safe: SMB 2.0.2 and up.
pub(super) fn smbd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let mut paths = String::new();
    for (option, name) in [
        ("lock directory", "lock"),
        ("state directory", "state"),
        ("cache directory", "cache"),
        ("pid directory", "pid"),
        ("private dir", "private"),
        ("ncalrpc dir", "ncalrpc"),
        ("binddns dir", "binddns"),
    ] {
        paths.push_str(&format!("  {option} = {}\n", dir.dir(&format!("samba/{name}"))?));
    }
    let share = dir.dir("samba/share")?;
    let min_protocol = if ctx.exposed() { "NT1" } else { "SMB2_02" };
    let config = dir.file(
        "smb.conf",
        &format!(
            "[global]\n  workgroup = BEDTEST\n  netbios name = TARGET\n  server string = tojimari test bed\n\
             \x20 server role = standalone server\n  interfaces = {v4}\n  bind interfaces only = yes\n\
             \x20 smb ports = 445\n  disable netbios = yes\n  server min protocol = {min_protocol}\n\
             \x20 map to guest = Bad User\n  load printers = no\n  printcap name = /dev/null\n\
             \x20 disable spoolss = yes\n  log file = {log}\n  max log size = 0\n{paths}\
             [share]\n  path = {share}\n  read only = yes\n  guest ok = yes\n",
            v4 = ctx.v4,
            log = dir.join("smbd.log"),
        ),
    )?;
    let arguments = args!["--foreground", "--no-process-group", "--debuglevel=1", "-s", config];
    let mut launch = Launch::new(ctx, "/usr/sbin/smbd", arguments, "samba");
    launch.services = vec![ctx.service(Transport::Tcp, 445, "microsoft-ds", Tunnel::Plain, "Samba smbd")];
    launch.ready = vec![Probe::Connect((ctx.v4, 445).into())];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::Smbv1];
    }
    Ok(launch)
}

/// `xrdp --nodaemon -c DIR/xrdp.ini`: RDP with security negotiation (TLS with a self-signed
/// certificate made for this run), no session manager (a client gets as far as the login
/// screen). Exposed: on the target's IPv4 address; Safe: on 127.0.0.1 only, so a scanner
/// finds 3389 closed.
pub(super) fn xrdp(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let certificate = certs::make(ctx.daemon, dir, "xrdp", Kind::SelfSigned, &[ctx.v4.into()])?;
    let listen = if ctx.exposed() { ctx.v4.to_string() } else { "127.0.0.1".to_owned() };
    let config = dir.file(
        "xrdp.ini",
        &format!(
            "[Globals]\nini_version=1\nfork=true\nport=tcp://{listen}:3389\nuse_vsock=false\n\
             tcp_nodelay=true\ntcp_keepalive=true\nsecurity_layer=negotiate\ncrypt_level=high\n\
             certificate={cert}\nkey_file={key}\nssl_protocols=TLSv1.2, TLSv1.3\n\
             [Logging]\nLogFile={log}\nLogLevel=INFO\nEnableSyslog=false\n\
             [Xorg]\nname=Xorg\nlib=libxup.so\nusername=ask\npassword=ask\nip=127.0.0.1\nport=-1\ncode=20\n",
            cert = certificate.cert,
            key = certificate.key,
            log = dir.join("xrdp.log"),
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/xrdp", args!["--nodaemon", "-c", config], "xrdp");
    if ctx.exposed() {
        launch.services = vec![ctx.service(Transport::Tcp, 3389, "ms-wbt-server", Tunnel::Plain, "xrdp")];
        launch.ready = vec![Probe::Connect((ctx.v4, 3389).into())];
        launch.exposures = vec![Exposure::RdpReachable];
    } else {
        launch.addrs = Vec::new();
        launch.ready = vec![Probe::Connect(([127, 0, 0, 1], 3389).into())];
    }
    Ok(launch)
}
