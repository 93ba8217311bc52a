//! Remote-access recipes: OpenSSH's sshd, vsftpd, and the inetd-era telnetd and fingerd,
//! which socat starts per connection (`EXEC:...,nofork` hands them the socket itself as
//! stdin/stdout, as inetd would).

use std::fs;
use std::process::Command;

use super::launch::{Announces, Context, Launch, args};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;
use crate::netns::run_checked;

/// sshd's privilege-separation directory, which it insists on.
const PRIVSEP_DIR: &str = "/run/sshd";

/// sshd -D -e -f DIR/sshd_config, with ed25519 and RSA host keys made for this run.
/// Exposed: password authentication offered; Safe: public keys only.
pub(super) fn openssh(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    fs::create_dir_all(PRIVSEP_DIR).map_err(|e| DaemonError::io(ctx.daemon, format!("create {PRIVSEP_DIR}"), e))?;
    let mut host_keys = String::new();
    for (kind, bits) in [("ed25519", None), ("rsa", Some("2048"))] {
        let path = dir.join(&format!("ssh_host_{kind}_key"));
        let mut command = Command::new("/usr/bin/ssh-keygen");
        command.args(["-q", "-N", "", "-t", kind, "-f", &path]);
        if let Some(bits) = bits {
            command.args(["-b", bits]);
        }
        run_checked(&mut command, None).map_err(|e| DaemonError::setup(ctx.daemon, "generate host keys", e))?;
        host_keys.push_str(&format!("HostKey {path}\n"));
    }
    let password = if ctx.exposed() { "yes" } else { "no" };
    let config = dir.file(
        "sshd_config",
        &format!(
            "ListenAddress {v4}:22\nListenAddress [{v6}]:22\n{host_keys}\
             PidFile {pid}\nUsePAM no\nPermitRootLogin no\nPubkeyAuthentication yes\n\
             PasswordAuthentication {password}\nKbdInteractiveAuthentication no\n",
            v4 = ctx.v4,
            v6 = ctx.v6,
            pid = dir.join("sshd.pid"),
        ),
    )?;
    // -E would send the log to a file, but -e (stderr) lands in the console log as well.
    let mut launch = Launch::new(ctx, "/usr/sbin/sshd", args!["-D", "-e", "-f", config], "openssh-server");
    launch.addrs = ctx.addrs();
    launch.announces = Announces::Version;
    launch.services = vec![ctx.service(Transport::Tcp, 22, "ssh", Tunnel::Plain, "OpenSSH")];
    launch.ready = vec![Probe::Banner((ctx.v4, 22).into(), "SSH-2.0-OpenSSH_")];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::SshPasswordAuth];
    }
    Ok(launch)
}

/// vsftpd DIR/vsftpd.conf in the foreground (`listen=YES`, `background=NO`), IPv4 only.
/// Exposed: anonymous login to a read-only root; Safe: no anonymous login, only local users
/// through PAM (vsftpd refuses to start with neither).
pub(super) fn vsftpd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let empty = dir.dir("empty")?;
    let anon_root = dir.dir("ftp-root")?;
    dir.file("ftp-root/README", "tojimari test bed\n")?;
    let (anonymous, local) = if ctx.exposed() { ("YES", "NO") } else { ("NO", "YES") };
    let config = dir.file(
        "vsftpd.conf",
        &format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address={v4}\nlisten_port=21\nbackground=NO\n\
             anonymous_enable={anonymous}\nanon_root={anon_root}\nno_anon_password=YES\n\
             local_enable={local}\npam_service_name=vsftpd\nwrite_enable=NO\nsecure_chroot_dir={empty}\nseccomp_sandbox=NO\n\
             xferlog_enable=YES\nvsftpd_log_file={log}\ndual_log_enable=YES\nsyslog_enable=NO\n\
             pasv_enable=YES\npasv_address={v4}\n",
            v4 = ctx.v4,
            log = dir.join("vsftpd.log"),
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/vsftpd", args![config], "vsftpd");
    launch.announces = Announces::Version;
    launch.services = vec![ctx.service(Transport::Tcp, 21, "ftp", Tunnel::Plain, "vsftpd")];
    launch.ready = vec![Probe::Banner((ctx.v4, 21).into(), "220 ")];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::AnonymousFtp];
    }
    Ok(launch)
}

/// `socat TCP4-LISTEN:23,fork EXEC:/usr/sbin/telnetd,nofork`. Telnet is the exposure in any
/// posture.
pub(super) fn telnetd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let mut launch = socat(ctx, 23, "/usr/sbin/telnetd", "inetutils-telnetd");
    launch.services = vec![ctx.service(Transport::Tcp, 23, "telnet", Tunnel::Plain, "GNU inetutils telnetd")];
    launch.exposures = vec![Exposure::Telnet];
    Ok(launch)
}

/// `socat TCP4-LISTEN:79,fork EXEC:in.fingerd,nofork`. Exposed: `-w` (a welcome banner with
/// the OS, uptime and load); Safe: `-u` (no user listing for `finger @host`).
pub(super) fn fingerd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let program = if ctx.exposed() { "/usr/sbin/in.fingerd -w" } else { "/usr/sbin/in.fingerd -u" };
    let mut launch = socat(ctx, 79, program, "fingerd");
    launch.services = vec![ctx.service(Transport::Tcp, 79, "finger", Tunnel::Plain, "BSD fingerd")];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::FingerWelcome];
    }
    Ok(launch)
}

/// socat as inetd: listens on the target's IPv4 `port` and runs `program` for each
/// connection with the socket as its stdin and stdout.
fn socat(ctx: &Context<'_>, port: u16, program: &str, package: &str) -> Launch {
    let listen = format!("TCP4-LISTEN:{port},bind={},fork,reuseaddr,backlog=128", ctx.v4);
    let exec = format!("EXEC:{program},nofork");
    let mut launch = Launch::new(ctx, "/usr/bin/socat", args![listen, exec], package);
    launch.ready = vec![Probe::Connect((ctx.v4, port).into())];
    launch
}
