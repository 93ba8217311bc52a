//! Database and directory recipes: MariaDB (3306) and OpenLDAP's slapd (389).

use std::process::Command;

use super::launch::{Announces, Context, Launch, args, secret};
use super::probe::Probe;
use super::{DaemonError, Exposure, Tunnel};
use crate::listeners::Transport;
use crate::netns::run_checked;

/// The account Debian's MariaDB runs as; its data directory must belong to it.
const MYSQL_USER: &str = "mysql";

/// A fresh data directory (`mariadb-install-db`, root by password, no test database), then
/// `mariadbd --no-defaults` as `mysql` with its socket and pid file in DIR and its log on
/// stderr. Exposed: listening on the target's IPv4 address, with a user `tojimari` allowed
/// from any host (its password is [`Running::credential`](super::Running::credential)), so
/// the server greets a remote client with its version (without a user matching the client's
/// host it answers "Host ... is not allowed" instead); Safe: on 127.0.0.1 only, so a scanner
/// finds 3306 closed.
pub(super) fn mariadb(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let home = dir.dir("mysql")?;
    dir.chown(&home, MYSQL_USER)?;
    let data = dir.join("mysql/data");
    // Its own temporary directory: the bootstrap's temporary tables are files, and in the shared /tmp they
    // meet every other test's files (a bootstrap once failed on temporary tables it could not find there).
    let tmp = dir.dir("mysql/tmp")?;
    dir.chown(&tmp, MYSQL_USER)?;
    let common = args![
        "--no-defaults",
        format!("--datadir={data}"),
        format!("--tmpdir={tmp}"),
        format!("--user={MYSQL_USER}"),
        "--skip-name-resolve",
        "--innodb-log-file-size=8M",
    ];
    let mut install = Command::new("/usr/bin/mariadb-install-db");
    install.args(&common).args(["--auth-root-authentication-method=normal", "--skip-test-db"]).current_dir(&home);
    run_checked(&mut install, None).map_err(|e| DaemonError::setup(ctx.daemon, "mariadb-install-db", e))?;

    let mut arguments = common;
    arguments.extend(args![
        "--port=3306",
        format!("--socket={}", dir.join("mysql/mysqld.sock")),
        format!("--pid-file={}", dir.join("mysql/mysqld.pid")),
        "--innodb-buffer-pool-size=16M",
        "--performance-schema=OFF",
    ]);
    let mut launch = Launch::new(ctx, "/usr/sbin/mariadbd", Vec::new(), "mariadb-server");
    if ctx.exposed() {
        let password = secret();
        let init = dir.file(
            "mysql-init.sql",
            &format!("CREATE USER IF NOT EXISTS 'tojimari'@'%' IDENTIFIED BY '{password}';\n"),
        )?;
        arguments.extend(args![format!("--bind-address={}", ctx.v4), format!("--init-file={init}")]);
        launch.announces = Announces::Version;
        launch.services = vec![ctx.service(Transport::Tcp, 3306, "mysql", Tunnel::Plain, "MariaDB")];
        launch.ready = vec![Probe::Banner((ctx.v4, 3306).into(), "-MariaDB")];
        launch.exposures = vec![Exposure::MysqlReachable];
        launch.credential = Some(password);
    } else {
        arguments.push("--bind-address=127.0.0.1".to_owned());
        launch.addrs = Vec::new();
        launch.ready = vec![Probe::Banner(([127, 0, 0, 1], 3306).into(), "-MariaDB")];
    }
    launch.args = arguments;
    Ok(launch)
}

/// `slapd -d 0 -h "ldap://V4/ ldap://[V6]/" -f DIR/slapd.conf` (in the foreground, logging
/// to stderr) with one empty MDB database for `dc=bed,dc=test`. Exposed: anonymous binds
/// accepted (OpenLDAP's default); Safe: `disallow bind_anon` and `require authc`.
pub(super) fn slapd(ctx: &Context<'_>) -> Result<Launch, DaemonError> {
    let dir = ctx.dir;
    let db = dir.dir("ldap-db")?;
    let policy = if ctx.exposed() { "" } else { "disallow bind_anon\nrequire authc\n" };
    let config = dir.file(
        "slapd.conf",
        &format!(
            "include /etc/ldap/schema/core.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n\
             pidfile {pid}\nargsfile {args}\n{policy}\
             database mdb\nmaxsize 16777216\nsuffix \"dc=bed,dc=test\"\n\
             rootdn \"cn=admin,dc=bed,dc=test\"\nrootpw {root}\ndirectory {db}\n",
            pid = dir.join("slapd.pid"),
            args = dir.join("slapd.args"),
            root = secret(),
        ),
    )?;
    let urls = format!("ldap://{}:389/ ldap://[{}]:389/", ctx.v4, ctx.v6);
    let mut launch = Launch::new(ctx, "/usr/sbin/slapd", args!["-d", 0, "-h", urls, "-f", config], "slapd");
    launch.addrs = ctx.addrs();
    launch.services = vec![ctx.service(Transport::Tcp, 389, "ldap", Tunnel::Plain, "OpenLDAP")];
    launch.ready = vec![Probe::Connect((ctx.v4, 389).into())];
    if ctx.exposed() {
        launch.exposures = vec![Exposure::LdapAnonymousBind];
    }
    Ok(launch)
}
