//! Test support: real Debian daemons on 127.0.0.1 high ports (killed by pid on drop), temp dirs, and a
//! helper to run small fake servers.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tojimari-exposure-{}-{tag}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A daemon we started; killed (by its pid) and reaped on drop, then its directory removed.
pub struct Daemon {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `program` is installed; without it the test is skipped loudly, or fails under `CI=true`.
pub fn have(program: &str) -> bool {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"].iter().any(|d| Path::new(d).join(program).exists());
    if !found {
        skip(&format!("{program} is not installed (scripts/test installs it)"));
    }
    found
}

/// Whether `program` is installed and this process is root, which it needs (vsftpd will not start
/// without root); otherwise the test is skipped loudly, or fails under `CI=true`.
pub fn have_as_root(program: &str) -> bool {
    if !have(program) {
        return false;
    }
    // The effective uid is the second field of /proc/self/status's "Uid:" line.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    let root = euid == Some("0");
    if !root {
        skip(&format!("{program} needs root to run; run the tests as root (sudo scripts/test)"));
    }
    root
}

/// A loud skip: straight to the stderr handle (libtest captures `eprintln!` of passing tests), and a
/// failure under `CI=true`, where everything is installed and the tests run as root.
fn skip(why: &str) {
    use std::io::Write as _;
    let test = std::thread::current().name().unwrap_or("this test").to_string();
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why} (CI=true: required in CI)");
    let _ = writeln!(std::io::stderr(), "\n!!! SKIPPED: `{test}` did NOT run: {why}\n");
}

/// A port free for both TCP and UDP on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn wait_tcp(child: &mut Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("daemon exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("daemon did not listen on {port}");
}

fn spawn(command: &mut Command) -> Child {
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

pub enum Anonymous {
    Allowed,
    Refused,
}

pub enum FtpTls {
    Offered,
    Absent,
}

/// vsftpd on 127.0.0.1, read-only, anonymous login allowed or not, AUTH TLS offered or not.
pub fn vsftpd(anonymous: Anonymous, tls: FtpTls) -> Daemon {
    let dir = TempDir::new("vsftpd");
    let port = free_port();
    let anon_root = dir.path().join("anon");
    std::fs::create_dir_all(&anon_root).unwrap();
    std::fs::create_dir_all("/var/run/vsftpd/empty").unwrap();
    let mut conf = format!(
        "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
         write_enable=NO\nanon_root={}\nsecure_chroot_dir=/var/run/vsftpd/empty\nseccomp_sandbox=NO\n\
         isolate=NO\nisolate_network=NO\nxferlog_enable=NO\ndelay_failed_login=0\n",
        anon_root.display()
    );
    conf.push_str(match anonymous {
        Anonymous::Allowed => "anonymous_enable=YES\nlocal_enable=NO\n",
        // vsftpd refuses to run with both logins off, so the locked variant allows local (PAM) users only.
        Anonymous::Refused => "anonymous_enable=NO\nlocal_enable=YES\npam_service_name=vsftpd\n",
    });
    if let FtpTls::Offered = tls {
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl req failed");
        conf.push_str(&format!(
            "ssl_enable=YES\nrsa_cert_file={}\nrsa_private_key_file={}\nforce_anon_logins_ssl=NO\n",
            cert.display(),
            key.display()
        ));
    }
    let conf_path = dir.path().join("vsftpd.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut child = spawn(Command::new("vsftpd").arg(&conf_path));
    wait_tcp(&mut child, port);
    Daemon { child, port, _dir: dir }
}

/// redis-server on 127.0.0.1 without persistence, with or without a password.
pub fn redis(password: Option<&str>) -> Daemon {
    let dir = TempDir::new("redis");
    let port = free_port();
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path());
    if let Some(pass) = password {
        command.args(["--requirepass", pass]);
    }
    let mut child = spawn(&mut command);
    wait_tcp(&mut child, port);
    Daemon { child, port, _dir: dir }
}

pub enum Udp {
    On,
    Off,
}

/// memcached on 127.0.0.1 with UDP on the same port number, or UDP off.
pub fn memcached(udp: Udp) -> Daemon {
    let dir = TempDir::new("memcached");
    let port = free_port();
    let udp_port = match udp {
        Udp::On => port,
        Udp::Off => 0,
    };
    let mut child = spawn(Command::new("memcached").args([
        "-u",
        "nobody",
        "-l",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        &udp_port.to_string(),
    ]));
    wait_tcp(&mut child, port);
    Daemon { child, port, _dir: dir }
}

/// snmpd on udp:127.0.0.1 with one read-only community; ready once it logs its version.
pub fn snmpd(community: &str) -> Daemon {
    let dir = TempDir::new("snmpd");
    let port = free_port();
    let conf = dir.path().join("snmpd.conf");
    std::fs::write(&conf, format!("rocommunity {community} 127.0.0.1\n")).unwrap();
    // snmpd keeps its persistent state in a file also named snmpd.conf: give it a directory of its own.
    let persist = dir.path().join("persist");
    std::fs::create_dir_all(&persist).unwrap();
    let mut child = Command::new("snmpd")
        .args(["-f", "-Lo", "-C", "-I", "-smux"])
        .arg("-c")
        .arg(&conf)
        .arg(format!("udp:127.0.0.1:{port}"))
        .env("SNMP_PERSISTENT_DIR", &persist)
        .env("MIBS", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("NET-SNMP version") {
                let _ = tx.send(());
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(10)).is_ok();
    let daemon = Daemon { child, port, _dir: dir };
    assert!(ready, "snmpd did not start");
    daemon
}

/// Serves every connection to a fresh 127.0.0.1 port with `handler` until the test's runtime ends.
pub async fn fake<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    addr
}
