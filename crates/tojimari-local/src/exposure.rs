//! Exposure findings for a listening socket: a door that the network can reach and that should
//! probably be shut (cleartext logins, databases, remote desktops, file sharing).
//!
//! Judged from the port and the bound address alone, so they hold whatever program listens: a socket only
//! loopback can reach never gets one. Ids, severities and titles come from the one catalogue,
//! [`tojimari_core::catalog`] (the scanner's checks read it too; `docs/findings.md` documents it); a rule
//! only adds what listens there and advice specific to that program.

use std::net::IpAddr;
use std::ops::RangeInclusive;

use tojimari_core::Protocol;
use tojimari_core::catalog::{
    DATABASE_EXPOSED, DOCKER_API_EXPOSED, FTP_CLEARTEXT, FindingKind, RDP_EXPOSED, SMB_EXPOSED, TELNET_CLEARTEXT,
    VNC_EXPOSED, X11_EXPOSED,
};
use tojimari_core::report::Finding;

use crate::process::ProcessInfo;
use crate::reach::{Reach, describe_bind};

/// One kind of exposure on a set of ports.
struct Rule {
    proto: Protocol,
    ports: RangeInclusive<u16>,
    kind: FindingKind,
    /// What listens there, for the evidence line (`PostgreSQL`, `telnet`).
    what: &'static str,
    advice: &'static str,
}

const fn rule(
    proto: Protocol,
    ports: RangeInclusive<u16>,
    kind: FindingKind,
    what: &'static str,
    advice: &'static str,
) -> Rule {
    Rule { proto, ports, kind, what, advice }
}

use Protocol::{Tcp, Udp};
const DB: FindingKind = DATABASE_EXPOSED;

#[rustfmt::skip]
static RULES: &[Rule] = &[
    rule(Tcp, 23..=23, TELNET_CLEARTEXT, "telnet",
        "Stop the telnet server and log in with SSH: telnet sends passwords in cleartext."),
    rule(Tcp, 21..=21, FTP_CLEARTEXT, "FTP",
        "Use SFTP or FTPS instead: plain FTP sends passwords and files in cleartext."),
    rule(Tcp, 3389..=3389, RDP_EXPOSED, "RDP",
        "Put remote desktop behind a VPN or an RD gateway instead of opening it to the network."),
    rule(Udp, 3389..=3389, RDP_EXPOSED, "RDP",
        "Put remote desktop behind a VPN or an RD gateway instead of opening it to the network."),
    rule(Tcp, 5900..=5909, VNC_EXPOSED, "VNC",
        "Bind VNC to 127.0.0.1 and reach it through an SSH tunnel or a VPN."),
    rule(Tcp, 445..=445, SMB_EXPOSED, "SMB",
        "Firewall SMB to the hosts that need file sharing; never expose it beyond the local network."),
    rule(Tcp, 139..=139, SMB_EXPOSED, "SMB over NetBIOS",
        "Firewall SMB to the hosts that need file sharing; never expose it beyond the local network."),
    rule(Tcp, 3306..=3306, DB, "MySQL/MariaDB",
        "Set bind-address = 127.0.0.1 (or a private address) and firewall port 3306."),
    rule(Tcp, 5432..=5432, DB, "PostgreSQL",
        "Set listen_addresses = 'localhost' (or a private address) and firewall port 5432."),
    rule(Tcp, 6379..=6379, DB, "Redis",
        "Set `bind 127.0.0.1 -::1` and `protected-mode yes` in redis.conf, and require a password."),
    rule(Tcp, 27017..=27019, DB, "MongoDB",
        "Set net.bindIp: 127.0.0.1 and enable authorization in mongod.conf."),
    rule(Tcp, 11211..=11211, DB, "memcached",
        "Start memcached with -l 127.0.0.1: it has no authentication."),
    rule(Udp, 11211..=11211, DB, "memcached (UDP)",
        "Start memcached with -U 0 -l 127.0.0.1: open UDP memcached is abused for DDoS amplification."),
    rule(Tcp, 9200..=9200, DB, "Elasticsearch",
        "Set network.host: 127.0.0.1 and enable security (authentication) in elasticsearch.yml."),
    rule(Tcp, 9300..=9300, DB, "Elasticsearch transport",
        "Set transport.host to a private address and firewall port 9300."),
    rule(Tcp, 5984..=5984, DB, "CouchDB",
        "Set bind_address = 127.0.0.1 in CouchDB's [chttpd] section and require an admin password."),
    rule(Tcp, 9042..=9042, DB, "Cassandra",
        "Set native_transport_address/rpc_address to a private address and enable authentication."),
    rule(Tcp, 1433..=1433, DB, "Microsoft SQL Server",
        "Firewall port 1433 to the application hosts that need it."),
    rule(Tcp, 1521..=1521, DB, "Oracle listener",
        "Firewall port 1521 to the application hosts that need it."),
    rule(Tcp, 8086..=8086, DB, "InfluxDB",
        "Bind InfluxDB's http bind-address to 127.0.0.1 and enable authentication."),
    rule(Tcp, 7687..=7687, DB, "Neo4j (Bolt)",
        "Set server.default_listen_address=127.0.0.1 in neo4j.conf."),
    rule(Tcp, 6000..=6063, X11_EXPOSED, "X11",
        "Start the X server with -nolisten tcp and forward X over SSH."),
    rule(Tcp, 2375..=2375, DOCKER_API_EXPOSED, "the unencrypted Docker API",
        "Serve the Docker API on its unix socket only (or TLS on 2376): it gives root to anyone who connects."),
];

/// The findings that apply to a socket bound to `addr`:`port` held by `processes` (empty when not visible).
pub fn findings_for(proto: Protocol, addr: IpAddr, port: u16, processes: &[ProcessInfo]) -> Vec<Finding> {
    let reach = Reach::of(addr);
    if !reach.is_remote() {
        return Vec::new();
    }
    RULES
        .iter()
        .filter(|rule| rule.proto == proto && rule.ports.contains(&port))
        .map(|rule| {
            rule.kind.finding_with_advice(evidence(rule.what, proto, addr, port, reach, processes), rule.advice)
        })
        .collect()
}

/// `PostgreSQL port 5432/tcp bound to 0.0.0.0 (every IPv4 address) by socat (pid 812)`.
fn evidence(what: &str, proto: Protocol, addr: IpAddr, port: u16, reach: Reach, processes: &[ProcessInfo]) -> String {
    let mut line = format!("{what} port {port}/{proto} bound to {}", describe_bind(addr));
    if reach == Reach::LinkLocal {
        line.push_str(" (link-local: reachable from the local link)");
    }
    match processes {
        [] => line.push_str(" by a process that is not visible"),
        [one] => line.push_str(&format!(" by {} (pid {})", one.name, one.pid)),
        [first, rest @ ..] => line.push_str(&format!(" by {} (pid {}) and {} more", first.name, first.pid, rest.len())),
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: u32, name: &str) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid: 1,
            name: name.into(),
            cmdline: name.into(),
            uid: 0,
            user: "root".into(),
            unit: None,
            start_time: 0,
        }
    }

    fn ids(proto: Protocol, addr: &str, port: u16) -> Vec<String> {
        findings_for(proto, addr.parse().unwrap(), port, &[]).into_iter().map(|f| f.id).collect()
    }

    #[test]
    fn network_bound_services_are_flagged() {
        assert_eq!(ids(Tcp, "0.0.0.0", 23), ["telnet-cleartext"]);
        assert_eq!(ids(Tcp, "::", 23), ["telnet-cleartext"]);
        assert_eq!(ids(Tcp, "198.18.0.2", 5432), ["database-exposed"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 6379), ["database-exposed"]);
        assert_eq!(ids(Udp, "0.0.0.0", 11211), ["database-exposed"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 27018), ["database-exposed"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 21), ["ftp-cleartext"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 3389), ["rdp-exposed"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 5901), ["vnc-exposed"]);
        assert_eq!(ids(Tcp, "0.0.0.0", 445), ["smb-exposed"]);
        assert_eq!(ids(Tcp, "fe80::1", 23), ["telnet-cleartext"]);
    }

    #[test]
    fn loopback_and_other_ports_are_quiet() {
        assert!(ids(Tcp, "127.0.0.1", 23).is_empty());
        assert!(ids(Tcp, "::1", 6379).is_empty());
        assert!(ids(Tcp, "::ffff:127.0.0.1", 5432).is_empty());
        assert!(ids(Tcp, "0.0.0.0", 22).is_empty());
        assert!(ids(Tcp, "0.0.0.0", 80).is_empty());
        assert!(ids(Tcp, "0.0.0.0", 5910).is_empty());
        // The protocol matters: 23/udp is not telnet, 5432/udp is not PostgreSQL.
        assert!(ids(Udp, "0.0.0.0", 23).is_empty());
        assert!(ids(Udp, "0.0.0.0", 5432).is_empty());
    }

    #[test]
    fn evidence_names_address_and_owner() {
        let found = findings_for(Tcp, "0.0.0.0".parse().unwrap(), 5432, &[process(812, "socat")]);
        assert_eq!(found.len(), 1);
        // The catalogue's severity (database-exposed is medium; this said high before the catalogues were one).
        assert_eq!(found[0].severity, tojimari_core::Severity::Medium);
        assert_eq!(
            found[0].evidence,
            "PostgreSQL port 5432/tcp bound to 0.0.0.0 (every IPv4 address) by socat (pid 812)"
        );
        assert!(found[0].advice.contains("listen_addresses"));

        let shared = findings_for(Tcp, "::".parse().unwrap(), 23, &[process(5, "inetd"), process(6, "inetd")]);
        assert_eq!(
            shared[0].evidence,
            "telnet port 23/tcp bound to :: (every IPv6 address) by inetd (pid 5) and 1 more"
        );

        let hidden = findings_for(Tcp, "fe80::1".parse().unwrap(), 23, &[]);
        assert_eq!(
            hidden[0].evidence,
            "telnet port 23/tcp bound to fe80::1 (link-local: reachable from the local link) by a process that is not visible"
        );
    }

    #[test]
    fn every_rule_has_one_line_of_advice() {
        for rule in RULES {
            assert!(!rule.advice.is_empty() && !rule.advice.contains('\n'), "{}", rule.kind.id);
            assert!(rule.ports.start() <= rule.ports.end(), "{}", rule.kind.id);
        }
    }
}
