//! Network-service recipes: dnsmasq (DNS on 53, UDP and TCP) and Net-SNMP's snmpd (161/udp).

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
