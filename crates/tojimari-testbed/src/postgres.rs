//! A real PostgreSQL server for tests, from Debian's package, started and stopped by the test.
//!
//! [`PgServer::start`] makes a fresh cluster in a private temporary directory
//! (`/tmp/tjpg-{pid}-{n}`, mode 0700, owned by the `postgres` system user): `initdb` with the
//! superuser [`SUPERUSER`], trust authentication for local connections, UTF8 and the C locale
//! (nothing depends on the machine's locale). It runs `postgres` in the foreground as a child
//! of the test, dropped to the `postgres` user with `setpriv` (PostgreSQL refuses to run as
//! root), listening only on a Unix socket in that directory and on 127.0.0.1 at a free port the
//! test picked (`listen_addresses='127.0.0.1'`, no other address), with `fsync`,
//! `synchronous_commit` and `full_page_writes` off for speed. It returns once `pg_isready`
//! says the server accepts connections, or fails within [`STARTUP`] with the log's tail.
//!
//! Trust authentication means any local user may connect as the superuser while the server
//! runs; it only ever listens on loopback and its own socket, and lives as long as one test.
//!
//! - [`PgServer::url`] / [`PgServer::socket_url`]: `postgres://` URLs (TCP and Unix socket,
//!   the socket directory percent-encoded as the host) that sqlx and `psql` both accept;
//!   [`PgServer::database_url`] / [`PgServer::database_socket_url`] for another database.
//! - [`PgServer::create_database`]: a fresh database per test (`createdb`), returning its URL.
//! - [`PgServer::psql`] / [`PgServer::psql_at`]: run SQL with `psql` for assertions; the output
//!   is unaligned tuples only (`a|b` per row), without the trailing newline.
//!
//! Dropping the server stops it with SIGQUIT (immediate shutdown: nothing to keep), waits for
//! it (SIGKILL after [`SHUTDOWN`]) and removes the directory, also when the test panics. A test
//! process killed outright leaves its server behind; the next [`PgServer::start`] in any test
//! process stops servers whose test process is gone and removes their directories.
//!
//! Needs root (to drop to `postgres`) and Debian's `postgresql` package (`scripts/test`
//! installs it); otherwise [`PgServer::start`] fails with an error whose
//! [`is_unavailable`](crate::Error::is_unavailable) is true, which
//! [`pg_or_skip!`](crate::pg_or_skip!) turns into a loud skip.
//!
//! ```no_run
//! let pg = tojimari_testbed::pg_or_skip!();
//! let url = pg.create_database("history").unwrap();
//! pg.psql("history", "CREATE TABLE t (n int); INSERT INTO t VALUES (7);").unwrap();
//! assert_eq!(pg.psql_at(&url, "SELECT n FROM t").unwrap(), "7");
//! ```

use std::fs::{self, File};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User};

use crate::error::{Error, Result};
use crate::netns::run_checked;

mod stale;

/// Where Debian installs PostgreSQL's server programs, one directory per major version.
pub(crate) const POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// The system user the server runs as (Debian's package creates it).
const SERVER_USER: &str = "postgres";

/// The cluster's superuser, in every URL.
pub const SUPERUSER: &str = "postgres";

/// How long [`PgServer::start`] waits for the server to accept connections.
pub const STARTUP: Duration = Duration::from_secs(30);

/// How long dropping a server waits after SIGQUIT before SIGKILL.
pub const SHUTDOWN: Duration = Duration::from_secs(10);

/// How many ports [`PgServer::start`] tries when the one it picked was taken meanwhile.
const PORT_ATTEMPTS: u32 = 5;

/// The prefix of every server's directory name in the temporary directory.
const DIR_PREFIX: &str = "tjpg-";

/// The server's console output (stdout and stderr), in its directory.
const LOG: &str = "postgres.log";

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// The newest `/usr/lib/postgresql/N/bin` that holds `postgres`, `None` where the package is
/// not installed.
pub(crate) fn bin_dir() -> Option<PathBuf> {
    fs::read_dir(POSTGRES_LIB)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin)
}

/// A running PostgreSQL server owned by the test; stopped and removed on drop.
#[derive(Debug)]
pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl PgServer {
    /// Makes a fresh cluster, starts it and waits until it accepts connections.
    ///
    /// Fails with [`Error::NotRoot`] or [`Error::NotInstalled`] (both
    /// [`is_unavailable`](Error::is_unavailable)) where this machine cannot run one, and with
    /// another error, carrying the server's log, when `initdb` or the server fails.
    pub fn start() -> Result<PgServer> {
        let euid = nix::unistd::geteuid();
        if !euid.is_root() {
            return Err(Error::NotRoot { euid: euid.as_raw() });
        }
        let bin = bin_dir().ok_or_else(|| Error::NotInstalled { program: format!("{POSTGRES_LIB}/*/bin/postgres") })?;
        let user = User::from_name(SERVER_USER)
            .ok()
            .flatten()
            .ok_or_else(|| Error::NotInstalled { program: format!("the `{SERVER_USER}` system user") })?;
        if !Path::new("/usr/bin/setpriv").exists() {
            return Err(Error::NotInstalled { program: "/usr/bin/setpriv".to_owned() });
        }
        stale::cleanup(DIR_PREFIX);

        let dir = private_dir(&user)?;
        // From here on a failure drops `dir`'s guard, which removes it.
        let guard = DirGuard(dir.clone());
        let data = dir.join("data");
        let mut initdb = as_server_user(&bin.join("initdb"), &dir);
        initdb.arg("-D").arg(&data).args([
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]);
        run_checked(&mut initdb, None)?;

        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()?;
            let mut child = spawn_postgres(&bin, &dir, &data, port)?;
            let failure = match wait_ready(&mut child, &bin, &dir, port) {
                Ok(()) => {
                    std::mem::forget(guard);
                    return Ok(PgServer { bin, dir, port, child });
                }
                Err(Ready::PortTaken) if attempt < PORT_ATTEMPTS => None,
                Err(Ready::PortTaken) => Some(format!("no free port after {PORT_ATTEMPTS} tries")),
                Err(Ready::Failed(why)) => Some(why),
            };
            stop(&mut child);
            if let Some(why) = failure {
                return Err(Error::Server {
                    what: format!("start {}: {why}", bin.join("postgres").display()),
                    log_tail: log_tail(&dir),
                });
            }
        }
    }

    /// Stops the server (SIGQUIT, as on drop) and keeps its cluster: clients see it gone until
    /// [`PgServer::restart`]. For tests of a database lost mid-run.
    pub fn stop(&mut self) {
        stop(&mut self.child);
    }

    /// Starts the server again on the same cluster, port and socket, and waits until it accepts
    /// connections (after [`PgServer::stop`]; a running server is stopped first).
    pub fn restart(&mut self) -> Result<()> {
        stop(&mut self.child);
        self.child = spawn_postgres(&self.bin, &self.dir, &self.dir.join("data"), self.port)?;
        wait_ready(&mut self.child, &self.bin, &self.dir, self.port).map_err(|why| Error::Server {
            what: format!(
                "restart {}: {}",
                self.bin.join("postgres").display(),
                match why {
                    Ready::PortTaken => "its port was taken meanwhile".to_string(),
                    Ready::Failed(why) => why,
                }
            ),
            log_tail: log_tail(&self.dir),
        })
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's temporary directory: the cluster in `data/`, the socket, the log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cluster's data directory (on the postmaster's command line: `pgrep -f` finds it).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`: the default database over TCP.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The default database over the Unix socket, the socket directory percent-encoded as the
    /// host: `postgres://postgres@%2Ftmp%2Ftjpg-...:PORT/postgres`.
    pub fn socket_url(&self) -> String {
        self.database_socket_url("postgres")
    }

    /// `postgres://postgres@127.0.0.1:PORT/{database}`.
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{}", self.port, percent_encode(database))
    }

    /// `database` over the Unix socket (see [`PgServer::socket_url`]).
    pub fn database_socket_url(&self, database: &str) -> String {
        let host = percent_encode(&self.dir.display().to_string());
        format!("postgres://{SUPERUSER}@{host}:{}/{}", self.port, percent_encode(database))
    }

    /// Creates the empty database `name` (letters, digits and `_`, not starting with a digit,
    /// at most 63 bytes) and returns its TCP URL. Fails if it exists already.
    pub fn create_database(&self, name: &str) -> Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::Invalid(format!(
                "database name {name:?}: use [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes"
            )));
        }
        let mut createdb = as_server_user(&self.bin.join("createdb"), &self.dir);
        createdb.arg("-h").arg(&self.dir).args(["-p", &self.port.to_string(), "-U", SUPERUSER, "--", name]);
        run_checked(&mut createdb, None)?;
        Ok(self.database_url(name))
    }

    /// Runs `sql` (one or more statements) in `database` over the Unix socket; see
    /// [`PgServer::psql_at`].
    pub fn psql(&self, database: &str, sql: &str) -> Result<String> {
        self.psql_at(&self.database_socket_url(database), sql)
    }

    /// Runs `sql` with `psql` (as the server user, no `.psqlrc`, stopping at the first error)
    /// against the connection URL `url`, and returns what the statements printed: unaligned
    /// tuples only, `|` between columns, one row per line, without the trailing newline.
    pub fn psql_at(&self, url: &str, sql: &str) -> Result<String> {
        let mut psql = as_server_user(&self.bin.join("psql"), &self.dir);
        psql.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-f", "-", url]);
        let output = run_checked(&mut psql, Some(sql))?;
        Ok(String::from_utf8_lossy(&output.stdout).trim_end_matches('\n').to_owned())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        stop(&mut self.child);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Why a started server is not ready.
enum Ready {
    /// The port was taken between picking it and the server binding it: try another.
    PortTaken,
    /// Anything else, said in words.
    Failed(String),
}

/// Polls `pg_isready` until the server accepts connections, it exits, or [`STARTUP`].
fn wait_ready(child: &mut Child, bin: &Path, dir: &Path, port: u16) -> Result<(), Ready> {
    let deadline = Instant::now() + STARTUP;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                // The only retryable failure: another program took the port we picked.
                let log = fs::read_to_string(dir.join(LOG)).unwrap_or_default();
                return Err(if log.contains("could not bind") || log.contains("Address already in use") {
                    Ready::PortTaken
                } else {
                    Ready::Failed(format!("postgres exited ({status})"))
                });
            }
            Ok(None) => {}
            Err(e) => return Err(Ready::Failed(format!("wait for postgres: {e}"))),
        }
        let ready = Command::new(bin.join("pg_isready"))
            .arg("-h")
            .arg(dir)
            .args(["-p", &port.to_string(), "-U", SUPERUSER, "-d", "postgres", "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| Ready::Failed(format!("run pg_isready: {e}")))?;
        if ready.success() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Ready::Failed(format!("not accepting connections after {STARTUP:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGQUIT (immediate shutdown), then SIGKILL after [`SHUTDOWN`]; waits for the postmaster,
/// which waits for its own children.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
    }
    let deadline = Instant::now() + SHUTDOWN;
    while Instant::now() < deadline {
        if let Ok(Some(_)) | Err(_) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last 20 lines of the server's log in `dir`.
fn log_tail(dir: &Path) -> String {
    let log = fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    if tail.is_empty() { "(no log output)".to_owned() } else { tail }
}

/// Removes a directory on drop unless forgotten: `start`'s cleanup on failure.
struct DirGuard(PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Creates `/tmp/tjpg-{pid}-{n}`, mode 0700, owned by `user`.
fn private_dir(user: &User) -> Result<PathBuf> {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{n}", std::process::id()));
    // A leftover from a crashed run with the same pid and counter: start clean.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    let setup = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .and_then(|()| std::os::unix::fs::chown(&dir, Some(user.uid.as_raw()), Some(user.gid.as_raw())));
    if let Err(e) = setup {
        let _ = fs::remove_dir_all(&dir);
        return Err(Error::io(format!("give {} to {SERVER_USER}", dir.display()), e));
    }
    Ok(dir)
}

/// `program` run as the server user in `dir`, with the C locale, `HOME=dir` and no `PG*`
/// variables from the test's environment.
fn as_server_user(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new("/usr/bin/setpriv");
    command
        .args([&format!("--reuid={SERVER_USER}"), &format!("--regid={SERVER_USER}"), "--init-groups", "--"])
        .arg(program)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .env("HOME", dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            command.env_remove(name);
        }
    }
    command
}

/// A port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| Error::io("bind 127.0.0.1:0 to pick a port", e))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Error::io("read the picked port", e))
}

/// Spawns the postmaster in the foreground, its output into the directory's log.
fn spawn_postgres(bin: &Path, dir: &Path, data: &Path, port: u16) -> Result<Child> {
    let log_path = dir.join(LOG);
    let log = File::create(&log_path).map_err(|e| Error::io(format!("create {}", log_path.display()), e))?;
    let err = log.try_clone().map_err(|e| Error::io(format!("reopen {}", log_path.display()), e))?;
    let mut command = as_server_user(&bin.join("postgres"), dir);
    command.arg("-D").arg(data).args(["-p", &port.to_string()]);
    for setting in [
        "listen_addresses=127.0.0.1".to_owned(),
        format!("unix_socket_directories={}", dir.display()),
        "fsync=off".to_owned(),
        "synchronous_commit=off".to_owned(),
        "full_page_writes=off".to_owned(),
    ] {
        command.args(["-c", &setting]);
    }
    command.stdin(Stdio::null()).stdout(log).stderr(err);
    command.spawn().map_err(|source| Error::Spawn {
        command: format!("{} (as {SERVER_USER})", bin.join("postgres").display()),
        source,
    })
}

/// Percent-encodes everything but unreserved URL characters (`A-Z a-z 0-9 - . _ ~`).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn percent_encode_keeps_unreserved_and_encodes_the_rest() {
        assert_eq!(percent_encode("/tmp/tjpg-12-0"), "%2Ftmp%2Ftjpg-12-0");
        assert_eq!(percent_encode("a b~c.d_e"), "a%20b~c.d_e");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
