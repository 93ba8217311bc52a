//! Mail recipes: Exim (SMTP on 25, relaying nothing) and Dovecot (IMAP on 143 and POP3 on
//! 110 from one master process).

use super::launch::{Announces, Context, Launch, args};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;

/// The user Debian's Exim runs as; its spool and logs must belong to it.
const EXIM_USER: &str = "Debian-exim";

/// `exim4 -bdf -C DIR/exim.conf`: a listening daemon in the foreground with a minimal
/// configuration that accepts no mail (every RCPT is denied) and advertises no STARTTLS, as
/// Debian's default does. Exim gives up root for an untrusted `-C` file after binding, so the
/// directory (spool, logs, pid) belongs to `Debian-exim` while the file stays root's.
pub(super) fn exim(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let root = dir.path().display().to_string();
    dir.chown(&root, EXIM_USER)?;
    let spool = dir.dir("spool")?;
    dir.chown(&spool, EXIM_USER)?;
    let config = dir.file(
        "exim.conf",
        &format!(
            "primary_hostname = bed.test\n\
             local_interfaces = <; {v4}.25 ; {v6}.25\n\
             spool_directory = {spool}\n\
             log_file_path = {root}/exim-%s.log\n\
             pid_file_path = {root}/exim.pid\n\
             exim_user = {EXIM_USER}\n\
             exim_group = {EXIM_USER}\n\
             never_users = root\n\
             keep_environment =\n\
             tls_advertise_hosts =\n\
             acl_smtp_rcpt = deny_all\n\
             begin acl\n\
             deny_all:\n\
             \x20 deny message = relay not permitted\n\
             begin routers\n\
             begin transports\n",
            v4 = ctx.v4,
            v6 = ctx.v6,
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/exim4", args!["-bdf", "-C", config], "exim4-daemon-light");
    launch.packages.push("exim4-daemon-heavy".to_owned());
    launch.addrs = ctx.addrs();
    launch.announces = Announces::Version;
    launch.services = vec![ctx.service(Transport::Tcp, 25, "smtp", Tunnel::Plain, "Exim")];
    launch.ready = vec![Probe::Banner((ctx.v4, 25).into(), "ESMTP Exim")];
    Ok(launch)
}

/// `dovecot -F -c DIR/dovecot.conf`: IMAP and POP3 without TLS, a static password database.
/// Login processes are kept warm (`process_min_avail`, one serving many connections) so the
/// greeting never says "Waiting for authentication process". Exposed: plaintext logins
/// allowed; Safe: refused (`LOGINDISABLED`).
pub(super) fn dovecot(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let root = dir.path().display().to_string();
    let plaintext = if ctx.exposed() { "no" } else { "yes" };
    let login_service = |name: &str| format!("service {name} {{\n  service_count = 0\n  process_min_avail = 1\n}}\n");
    let config = dir.file(
        "dovecot.conf",
        &format!(
            "protocols = imap pop3\n\
             listen = {v4}, {v6}\n\
             base_dir = {root}/run\n\
             state_dir = {root}/state\n\
             log_path = {root}/dovecot.log\n\
             ssl = no\n\
             disable_plaintext_auth = {plaintext}\n\
             auth_mechanisms = plain\n\
             passdb {{\n  driver = static\n  args = password=tojimari\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={root}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             {imap}{pop3}",
            v4 = ctx.v4,
            v6 = ctx.v6,
            imap = login_service("imap-login"),
            pop3 = login_service("pop3-login"),
        ),
    )?;
    let mut launch = Launch::new(ctx, "/usr/sbin/dovecot", args!["-F", "-c", config], "dovecot-core");
    launch.addrs = ctx.addrs();
    launch.services = vec![
        ctx.service(Transport::Tcp, 143, "imap", Tunnel::Plain, "Dovecot"),
        ctx.service(Transport::Tcp, 110, "pop3", Tunnel::Plain, "Dovecot"),
    ];
    launch.ready = vec![
        Probe::Banner((ctx.v4, 143).into(), "Dovecot (Debian) ready."),
        Probe::Banner((ctx.v4, 110).into(), "+OK Dovecot"),
    ];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::CleartextLogin];
    }
    Ok(launch)
}
