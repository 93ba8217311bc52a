//! Real Debian daemons running inside a test-bed target namespace, for service and version
//! detection tests and the `-sV` benchmark.
//!
//! [`start`] runs one [`Daemon`] in a [`Target`]'s namespace with its own configuration in a
//! fresh temporary directory, bound to the target's addresses on the daemon's standard ports,
//! in the foreground (so the returned [`Running`] owns its pid), logging into that directory.
//! It returns once every port answers (a TCP connect or banner, a UDP request and its reply,
//! checked from inside the namespace), or fails within [`STARTUP`] with the log's tail.
//! Dropping the [`Running`] stops the daemon's whole process tree and removes the directory.
//!
//! A [`Posture`] picks the configuration: [`Posture::Exposed`] is the realistic misconfiguration
//! that deserves an exposure finding ([`Running::exposures`] lists them), [`Posture::Safe`] the
//! hardened one. [`Running::services`] is the ground truth a scanner is graded against: each
//! reachable port, its service name, TLS tunnel, product and the version the daemon announces
//! on the wire to a client without credentials (`None` where it announces none).
//!
//! | daemon       | ports (target address)  | announces a version            | Exposed                          |
//! |--------------|-------------------------|--------------------------------|----------------------------------|
//! | `Nginx`      | 80, 443 (TLS)           | `Server: nginx/V`              | self-signed certificate          |
//! | `OpenSsh`    | 22                      | `SSH-2.0-OpenSSH_V`            | password authentication          |
//! | `Vsftpd`     | 21                      | `220 (vsFTPd V)`               | anonymous login                  |
//! | `Exim`       | 25                      | `220 ... ESMTP Exim V`         | -                                |
//! | `Dovecot`    | 143, 110                | no                             | plaintext login without TLS      |
//! | `Redis`      | 6379                    | `INFO`, Exposed only           | no password, protected-mode off  |
//! | `Memcached`  | 11211 tcp (+udp Exposed)| `version` command              | UDP enabled (amplification)      |
//! | `Mosquitto`  | 1883                    | `$SYS/broker/version`, Exposed | anonymous clients                |
//! | `Dnsmasq`    | 53 tcp+udp              | `version.bind` CH TXT          | -                                |
//! | `Snmpd`      | 161 udp                 | no                             | community `public`               |
//! | `Postgresql` | 5432, Exposed only      | no                             | listens on the network           |
//! | `Telnetd`    | 23                      | no                             | always (telnet is cleartext)     |
//! | `Fingerd`    | 79                      | no                             | `-w` welcome banner (OS, uptime) |
//! | `OpensslTls` | 4433 (TLS, HTTP inside) | no                             | expired self-signed, TLS 1.0/1.1 |
//! | `Mariadb`    | 3306, Exposed only      | greeting `5.5.5-V-MariaDB-...` | listens on the network           |
//! | `Slapd`      | 389                     | no                             | anonymous bind                   |
//! | `Smbd`       | 445                     | no                             | SMBv1 (`NT1`) accepted           |
//! | `Tinyproxy`  | 8888                    | `Server: tinyproxy/V`          | open to the bed's networks       |
//! | `Danted`     | 1080                    | no                             | SOCKS5 without authentication    |
//! | `Chronyd`    | 123 udp                 | no                             | -                                |
//! | `Xrdp`       | 3389, Exposed only      | no                             | RDP reachable                    |
//! | `Oidentd`    | 113                     | no                             | -                                |
//!
//! Safe instead: a certificate signed by a per-daemon CA ([`Running::ca_certificate`]) and
//! TLS 1.2+ only; Redis `requirepass` and SNMP community both [`Running::credential`];
//! Memcached `-U 0`; Mosquitto refusing anonymous clients; PostgreSQL on 127.0.0.1 only;
//! Dovecot refusing plaintext logins; vsftpd without anonymous; fingerd `-u`; MariaDB and xrdp
//! on 127.0.0.1 only; slapd refusing anonymous binds; smbd SMB2+ only; tinyproxy serving only
//! 127.0.0.1 (a scanner gets its 403 page); danted requiring a username.
//!
//! Everything needs root; `scripts/test` installs the packages, [`available`] says
//! whether one daemon's programs are here.

mod certs;
mod databases;
mod error;
mod launch;
mod mail;
mod network;
mod probe;
mod proxies;
mod running;
mod shells;
mod stores;
mod version;
mod web;
mod windows;
mod workdir;

use std::path::Path;
use std::time::Duration;

use crate::bed::Target;
use crate::listeners::Transport;

pub use error::DaemonError;
pub use running::Running;

/// How long one daemon may take from spawn until all its ports answer.
pub const STARTUP: Duration = Duration::from_secs(30);

/// A daemon from a Debian package that the test bed can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Daemon {
    /// nginx: HTTP on 80 and HTTPS on 443, a page with a `<title>`.
    Nginx,
    /// OpenSSH's sshd on 22.
    OpenSsh,
    /// vsftpd on 21.
    Vsftpd,
    /// Exim 4 (exim4-daemon-light) on 25.
    Exim,
    /// Dovecot serving IMAP on 143 and POP3 on 110.
    Dovecot,
    /// redis-server on 6379.
    Redis,
    /// memcached on 11211 (TCP; UDP too when Exposed).
    Memcached,
    /// Mosquitto MQTT broker on 1883.
    Mosquitto,
    /// dnsmasq DNS on 53 (UDP and TCP).
    Dnsmasq,
    /// Net-SNMP's snmpd on 161/udp.
    Snmpd,
    /// PostgreSQL on 5432.
    Postgresql,
    /// GNU inetutils telnetd on 23, started per connection by socat.
    Telnetd,
    /// BSD in.fingerd on 79, started per connection by socat.
    Fingerd,
    /// `openssl s_server -www` on 4433: TLS with a small HTTP page inside.
    OpensslTls,
    /// MariaDB (mariadb-server) on 3306.
    Mariadb,
    /// OpenLDAP's slapd on 389.
    Slapd,
    /// Samba's smbd on 445.
    Smbd,
    /// tinyproxy, an HTTP proxy on 8888.
    Tinyproxy,
    /// Dante's danted, a SOCKS proxy on 1080.
    Danted,
    /// chrony's chronyd, an NTP server on 123/udp.
    Chronyd,
    /// xrdp, an RDP server on 3389.
    Xrdp,
    /// oidentd, an ident server on 113.
    Oidentd,
}

impl Daemon {
    /// Every daemon, in a fixed order.
    pub const ALL: [Daemon; 22] = [
        Daemon::Nginx,
        Daemon::OpenSsh,
        Daemon::Vsftpd,
        Daemon::Exim,
        Daemon::Dovecot,
        Daemon::Redis,
        Daemon::Memcached,
        Daemon::Mosquitto,
        Daemon::Dnsmasq,
        Daemon::Snmpd,
        Daemon::Postgresql,
        Daemon::Telnetd,
        Daemon::Fingerd,
        Daemon::OpensslTls,
        Daemon::Mariadb,
        Daemon::Slapd,
        Daemon::Smbd,
        Daemon::Tinyproxy,
        Daemon::Danted,
        Daemon::Chronyd,
        Daemon::Xrdp,
        Daemon::Oidentd,
    ];

    /// A short lowercase name, used for directories and messages.
    pub fn name(self) -> &'static str {
        match self {
            Daemon::Nginx => "nginx",
            Daemon::OpenSsh => "sshd",
            Daemon::Vsftpd => "vsftpd",
            Daemon::Exim => "exim",
            Daemon::Dovecot => "dovecot",
            Daemon::Redis => "redis",
            Daemon::Memcached => "memcached",
            Daemon::Mosquitto => "mosquitto",
            Daemon::Dnsmasq => "dnsmasq",
            Daemon::Snmpd => "snmpd",
            Daemon::Postgresql => "postgresql",
            Daemon::Telnetd => "telnetd",
            Daemon::Fingerd => "fingerd",
            Daemon::OpensslTls => "openssl-s_server",
            Daemon::Mariadb => "mariadb",
            Daemon::Slapd => "slapd",
            Daemon::Smbd => "smbd",
            Daemon::Tinyproxy => "tinyproxy",
            Daemon::Danted => "danted",
            Daemon::Chronyd => "chronyd",
            Daemon::Xrdp => "xrdp",
            Daemon::Oidentd => "oidentd",
        }
    }

    /// The programs this daemon needs (absolute paths), each of which must exist.
    fn programs(self) -> Vec<String> {
        let owned = |paths: &[&str]| paths.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        match self {
            Daemon::Nginx => owned(&["/usr/sbin/nginx", "/usr/bin/openssl"]),
            Daemon::OpenSsh => owned(&["/usr/sbin/sshd", "/usr/bin/ssh-keygen"]),
            Daemon::Vsftpd => owned(&["/usr/sbin/vsftpd"]),
            Daemon::Exim => owned(&["/usr/sbin/exim4"]),
            Daemon::Dovecot => {
                owned(&["/usr/sbin/dovecot", "/usr/lib/dovecot/imap-login", "/usr/lib/dovecot/pop3-login"])
            }
            Daemon::Redis => owned(&["/usr/bin/redis-server"]),
            Daemon::Memcached => owned(&["/usr/bin/memcached"]),
            Daemon::Mosquitto => owned(&["/usr/sbin/mosquitto"]),
            Daemon::Dnsmasq => owned(&["/usr/sbin/dnsmasq"]),
            Daemon::Snmpd => owned(&["/usr/sbin/snmpd"]),
            Daemon::Postgresql => {
                let mut programs = owned(&["/usr/bin/setpriv"]);
                match crate::postgres::bin_dir() {
                    Some(bin) => {
                        programs.push(bin.join("postgres").display().to_string());
                        programs.push(bin.join("initdb").display().to_string());
                    }
                    None => programs.push("/usr/lib/postgresql/*/bin/postgres".to_owned()),
                }
                programs
            }
            Daemon::Telnetd => owned(&["/usr/bin/socat", "/usr/sbin/telnetd"]),
            Daemon::Fingerd => owned(&["/usr/bin/socat", "/usr/sbin/in.fingerd"]),
            Daemon::OpensslTls => owned(&["/usr/bin/openssl"]),
            Daemon::Mariadb => owned(&["/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db"]),
            Daemon::Slapd => owned(&["/usr/sbin/slapd", "/usr/lib/ldap/back_mdb.so"]),
            Daemon::Smbd => owned(&["/usr/sbin/smbd"]),
            Daemon::Tinyproxy => owned(&["/usr/bin/tinyproxy"]),
            Daemon::Danted => owned(&["/usr/sbin/danted"]),
            Daemon::Chronyd => owned(&["/usr/sbin/chronyd"]),
            Daemon::Xrdp => owned(&["/usr/sbin/xrdp", "/usr/bin/openssl"]),
            Daemon::Oidentd => owned(&["/usr/sbin/oidentd"]),
        }
    }
}

impl std::fmt::Display for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which configuration a daemon runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Posture {
    /// Hardened: nothing a scanner should flag (except what the daemon is, e.g. telnet).
    Safe,
    /// The common misconfiguration that deserves an exposure finding.
    Exposed,
}

/// A finding a scanner should report for a daemon run in [`Posture::Exposed`] (and, for
/// [`Exposure::Telnet`], in any posture).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exposure {
    /// vsftpd accepts `USER anonymous`.
    AnonymousFtp,
    /// sshd offers password authentication.
    SshPasswordAuth,
    /// Dovecot accepts plaintext logins on a connection without TLS.
    CleartextLogin,
    /// Redis answers commands without a password (protected-mode off).
    RedisWithoutPassword,
    /// memcached answers on UDP (reflection and amplification).
    MemcachedUdp,
    /// Mosquitto accepts anonymous clients.
    MqttAnonymous,
    /// snmpd answers the default read community `public`.
    SnmpDefaultCommunity,
    /// PostgreSQL listens on a network address.
    PostgresqlReachable,
    /// A telnet server (cleartext logins).
    Telnet,
    /// fingerd shows a welcome banner with the OS, uptime and load.
    FingerWelcome,
    /// A TLS certificate signed by its own key.
    SelfSignedCertificate,
    /// A TLS certificate past its notAfter date.
    ExpiredCertificate,
    /// TLS 1.0 and 1.1 accepted (with weak ciphers: `SECLEVEL=0`).
    LegacyTls,
    /// MariaDB listens on a network address.
    MysqlReachable,
    /// slapd accepts anonymous binds.
    LdapAnonymousBind,
    /// smbd accepts the SMBv1 dialect `NT LM 0.12`.
    Smbv1,
    /// An RDP server is reachable.
    RdpReachable,
    /// A proxy (HTTP or SOCKS) serves clients from the bed's networks without authentication.
    OpenProxy,
}

/// Whether a service runs inside TLS from the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// The service speaks its protocol directly.
    Plain,
    /// TLS first, the service's protocol inside (nmap's `ssl/...`).
    Tls,
}

/// One port of a running daemon as a scanner should report it: the ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// TCP or UDP.
    pub transport: Transport,
    /// The port number.
    pub port: u16,
    /// The service name as port scanners spell it: `ssh`, `ftp`, `smtp`, `http`, `imap`,
    /// `pop3`, `redis`, `memcache`, `mqtt`, `domain`, `snmp`, `postgresql`, `telnet`, `finger`,
    /// `mysql`, `ldap`, `microsoft-ds`, `http-proxy`, `socks5`, `ntp`, `ms-wbt-server`, `auth`.
    pub name: &'static str,
    /// Plain or inside TLS.
    pub tunnel: Tunnel,
    /// The product, e.g. `OpenSSH`, `nginx`, `Exim`.
    pub product: &'static str,
    /// The version the daemon announces on this port to a client without credentials, as it
    /// spells it (`9.2p1`, `1.22.1`, `4.96`); `None` where it announces none.
    pub version: Option<String>,
}

/// Whether `daemon`'s programs are installed here.
pub fn available(daemon: Daemon) -> bool {
    daemon.programs().iter().all(|program| Path::new(program).exists())
}

/// Starts `daemon` in `target`'s namespace with `posture`, and waits until it answers.
///
/// Keep the [`Running`] while the daemon is needed; drop it before the bed (the bed kills
/// whatever is left in its namespaces anyway). Fails with [`DaemonError::NotInstalled`] when
/// [`available`] is false, or with the log tail when the daemon exits or stays silent.
pub fn start(target: &Target, daemon: Daemon, posture: Posture) -> Result<Running, DaemonError> {
    launch::start(target, daemon, posture)
}

/// Starts every [`available`] daemon in `target` (at least ten on a machine that ran
/// `scripts/test`), in [`Daemon::ALL`] order. Any failure stops the ones already
/// started and is returned.
pub fn start_all(target: &Target, posture: Posture) -> Result<Vec<Running>, DaemonError> {
    Daemon::ALL.into_iter().filter(|&daemon| available(daemon)).map(|daemon| start(target, daemon, posture)).collect()
}
