//! Network-service recipes: dnsmasq (DNS on 53, UDP and TCP), Net-SNMP's snmpd (161/udp), chrony
//! (NTP on 123/udp) and oidentd (ident on 113).

use super::launch::{Announces, Context, Launch, args, secret};
use super::probe::{self, Probe};
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;

/// `dnsmasq -k` (foreground) with no configuration file, no upstream and no hosts file,
/// answering for `bed.test` and, like every dnsmasq, `version.bind` CH TXT with its version.
pub(super) fn dnsmasq(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let (v4, v6) = (ctx.v4, ctx.v6);
    let arguments = args![
        "-k",
        "-C",
        "/dev/null",
        "--port=53",
        format!("--listen-address={v4}"),
        format!("--listen-address={v6}"),
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        format!("--host-record=bed.test,{v4},{v6}"),
        format!("--pid-file={}", ctx.dir.join("dnsmasq.pid")),
        "--log-facility=-",
        "--log-queries",
    ];
    let mut launch = Launch::new(ctx, "/usr/sbin/dnsmasq", arguments, "dnsmasq-base");
    launch.addrs = ctx.addrs();
    launch.announces = Announces::Version;
    launch.services = vec![
        ctx.service(Transport::Udp, 53, "domain", Tunnel::Plain, "dnsmasq"),
        ctx.service(Transport::Tcp, 53, "domain", Tunnel::Plain, "dnsmasq"),
    ];
    launch.ready = vec![Probe::Udp((v4, 53).into(), probe::dns_version_bind()), Probe::Connect((v4, 53).into())];
    Ok(launch)
}

/// `snmpd -f -C -c DIR/snmpd.conf` on both addresses, with MIB loading off (quiet and quick)
/// and its persistent state in DIR. Exposed: read community `public`; Safe: a random one
/// ([`Running::credential`](super::Running::credential)); snmpd ignores requests with any other.
pub(super) fn snmpd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let community = if ctx.exposed() { "public".to_owned() } else { secret() };
    let config = dir.file("snmpd.conf", &format!("rocommunity {community}\nrocommunity6 {community}\n"))?;
    let state = dir.dir("snmp-state")?;
    let arguments = args![
        "-f",
        "-Lf",
        dir.join("snmpd.log"),
        "-C",
        "-c",
        config,
        "-p",
        dir.join("snmpd.pid"),
        format!("udp:{}:161", ctx.v4),
        format!("udp6:[{}]:161", ctx.v6),
    ];
    let mut launch = Launch::new(ctx, "/usr/sbin/snmpd", arguments, "snmpd");
    launch.env = vec![("MIBS", String::new()), ("MIBDIRS", state.clone()), ("SNMP_PERSISTENT_DIR", state)];
    launch.addrs = ctx.addrs();
    launch.services = vec![ctx.service(Transport::Udp, 161, "snmp", Tunnel::Plain, "Net-SNMP")];
    launch.ready = vec![Probe::Udp((ctx.v4, 161).into(), probe::snmp_get_sysdescr(&community))];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::SnmpDefaultCommunity];
    } else {
        launch.credential = Some(community);
    }
    Ok(launch)
}

/// `chronyd -d -x -f DIR/chrony.conf` as `_chrony`: an NTP server on the target's IPv4 address
/// serving its own clock at stratum 10 (`local`) to anyone (`allow all`), with no time sources,
/// no command socket, and `-x` so it never touches the system clock. It announces no version
/// (chrony has no mode 6 control protocol).
pub(super) fn chronyd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let config = ctx.dir.file(
        "chrony.conf",
        &format!(
            "port 123\nbindaddress {v4}\nallow all\nlocal stratum 10\ncmdport 0\nbindcmdaddress /\n\
             pidfile {pid}\n",
            v4 = ctx.v4,
            pid = ctx.dir.join("chronyd.pid"),
        ),
    )?;
    let arguments = args!["-d", "-x", "-u", "_chrony", "-f", config];
    let mut launch = Launch::new(ctx, "/usr/sbin/chronyd", arguments, "chrony");
    launch.services = vec![ctx.service(Transport::Udp, 123, "ntp", Tunnel::Plain, "chrony")];
    launch.ready = vec![Probe::Udp((ctx.v4, 123).into(), probe::ntp_client_request())];
    Ok(launch)
}

/// `oidentd -i -S -a V4 -p 113` as `nobody`, with an empty configuration file: an ident server
/// (RFC 1413) answering for the target's own connections.
pub(super) fn oidentd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let config = ctx.dir.file("oidentd.conf", "")?;
    let arguments = args!["-i", "-S", "-a", ctx.v4, "-p", 113, "-u", "nobody", "-g", "nogroup", "-C", config];
    let mut launch = Launch::new(ctx, "/usr/sbin/oidentd", arguments, "oidentd");
    launch.services = vec![ctx.service(Transport::Tcp, 113, "auth", Tunnel::Plain, "oidentd")];
    launch.ready = vec![Probe::Connect((ctx.v4, 113).into())];
    Ok(launch)
}
