//! A vsftpd set up as an FTP bounce relay (or as one that refuses bounces), for the `-b` tests and benchmark.
//!
//! [`BounceFtp::start`] writes a vsftpd.conf into a [`Scratch`] directory and runs vsftpd in the foreground
//! inside a namespace, listening on one IPv4 address, port 21, with anonymous login (no password asked)
//! to an empty read-only root. [`Relay::Promiscuous`] adds `port_promiscuous=YES`, which lets a client's
//! `PORT` name any address (the bounce); [`Relay::Strict`] keeps vsftpd's default, which answers `500
//! Illegal PORT command.` to an address other than the client's own. `max_clients` caps the sessions at
//! once (vsftpd answers the ones beyond with `421 There are too many connected users`).
//!
//! The process is killed (by its pid) when the value is dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::netns::Netns;
use crate::scratch::Scratch;

/// vsftpd's `connect_timeout` here, in seconds (vsftpd's default is 60): how long it tries to open a data
/// connection before it answers 425. Shorter than the default so that nmap, which waits for that 425 on every
/// filtered port, finishes a test in reasonable time.
pub const CONNECT_TIMEOUT_SECS: u32 = 10;

/// Whether the server relays connections to third parties.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Relay {
    /// `port_promiscuous=YES`: `PORT` may name any address.
    Promiscuous,
    /// vsftpd's default: `PORT` must name the client's own address.
    Strict,
}

/// A running vsftpd; killed when dropped.
#[derive(Debug)]
pub struct BounceFtp {
    child: Child,
    addr: Ipv4Addr,
    scratch: Scratch,
}

impl BounceFtp {
    /// Starts vsftpd in `ns` on `addr`:21 and waits (up to 10 s) for its banner. `max_clients`: 0 for no
    /// limit.
    pub fn start(ns: &Netns, addr: Ipv4Addr, relay: Relay, max_clients: u32) -> Result<BounceFtp> {
        let scratch = Scratch::new(&format!("vsftpd-{addr}-{relay:?}"));
        let root = scratch.0.join("ftp-root");
        let empty = scratch.0.join("empty");
        for dir in [&root, &empty] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        }
        let promiscuous = match relay {
            Relay::Promiscuous => "YES",
            Relay::Strict => "NO",
        };
        let config = format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address={addr}\nlisten_port=21\nbackground=NO\n\
             anonymous_enable=YES\nanon_root={root}\nno_anon_password=YES\nlocal_enable=NO\n\
             write_enable=NO\nsecure_chroot_dir={empty}\nseccomp_sandbox=NO\nsyslog_enable=NO\n\
             xferlog_enable=NO\nport_enable=YES\nport_promiscuous={promiscuous}\n\
             max_clients={max_clients}\nmax_per_ip=0\nconnect_timeout={connect_timeout}\n",
            root = root.display(),
            empty = empty.display(),
            connect_timeout = CONNECT_TIMEOUT_SECS,
        );
        let path = scratch.0.join("vsftpd.conf");
        std::fs::write(&path, config).map_err(|e| Error::io(format!("write {}", path.display()), e))?;
        let child = ns
            .command("/usr/sbin/vsftpd")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::io("start /usr/sbin/vsftpd (apt-get install vsftpd)", e))?;
        let server = BounceFtp { child, addr, scratch };
        server.wait_banner(ns)?;
        Ok(server)
    }

    /// The address it listens on (port 21).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Its configuration directory (the config file is `vsftpd.conf`).
    pub fn dir(&self) -> &std::path::Path {
        &self.scratch.0
    }

    fn wait_banner(&self, ns: &Netns) -> Result<()> {
        let target = SocketAddr::from((self.addr, 21));
        let ready = ns.run_in(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(mut stream) = TcpStream::connect_timeout(&target, Duration::from_millis(500)) {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buf = [0u8; 4];
                    if std::io::Read::read_exact(&mut stream, &mut buf).is_ok() && &buf == b"220 " {
                        return true;
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        })?;
        if ready { Ok(()) } else { Err(Error::Invalid(format!("vsftpd on {} never said 220", self.addr))) }
    }
}

impl Drop for BounceFtp {
    fn drop(&mut self) {
        // `ip netns exec` execs vsftpd, so the child's pid is vsftpd's; its session processes are its children
        // and die with their control connections (or with the bed).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
