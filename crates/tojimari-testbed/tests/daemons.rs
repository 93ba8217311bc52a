//! Real Debian daemons in a test-bed target: each one starts in both postures, answers from
//! the scanner namespace with what `Running` promises (banner, announced version, posture
//! differences), and is gone after drop; `start_all` runs at least ten at once.
//!
//! Needs root (skipped loudly otherwise, failed under CI=true). A daemon that is not
//! installed is skipped loudly, except under CI=true, where it fails (CI runs
//! `scripts/test`). Every address used is in 198.18.0.0/15 or 2001:db8::/32.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tojimari_testbed::daemons::{self, Daemon, Exposure, Posture, Running, Tunnel};
use tojimari_testbed::{TestBed, Transport, in_ci, testbed_or_skip};

/// Connect and reply time limit; everything inside the bed answers in milliseconds.
/// How long an exchange may wait. Reads stop as soon as the expected text arrives, so this is only reached
/// on failure; it is long because a refused login waits out PAM's failure delay, longer on a loaded machine.
const ANSWER: Duration = Duration::from_secs(10);

/// True if `daemon` is installed; otherwise skips loudly, or panics under CI=true.
fn installed_or_skip(daemon: Daemon) -> bool {
    if daemons::available(daemon) {
        return true;
    }
    let message = format!("{daemon} is not installed (run scripts/test)");
    if in_ci() {
        panic!("{message}; CI installs every daemon, so this is a failure");
    }
    let bar = "!".repeat(78);
    let _ = writeln!(std::io::stderr(), "\n{bar}\n!!! SKIPPED: {message}\n{bar}\n");
    false
}

fn start(bed: &TestBed, daemon: Daemon, posture: Posture) -> Running {
    daemons::start(bed.target(0), daemon, posture).unwrap_or_else(|e| panic!("start {daemon} {posture:?}: {e}"))
}

/// Connects from the scanner, sends `request` (if any), and reads until the server closes,
/// `until` appears, or [`ANSWER`] passes.
fn exchange(bed: &TestBed, addr: SocketAddr, request: &[u8], until: &str) -> String {
    let request = request.to_vec();
    let until = until.to_owned();
    bed.scanner()
        .run_in(move || {
            let mut stream =
                TcpStream::connect_timeout(&addr, ANSWER).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
            if !request.is_empty() {
                stream.write_all(&request).unwrap();
            }
            let deadline = Instant::now() + ANSWER;
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                if !until.is_empty() && String::from_utf8_lossy(&got).contains(&until) {
                    break;
                }
            }
            String::from_utf8_lossy(&got).into_owned()
        })
        .unwrap()
}

fn banner(bed: &TestBed, addr: SocketAddr) -> String {
    exchange(bed, addr, b"", "\n")
}

fn udp_exchange(bed: &TestBed, addr: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let request = request.to_vec();
    bed.scanner()
        .run_in(move || {
            let socket = UdpSocket::bind(if addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).unwrap();
            socket.set_read_timeout(Some(Duration::from_millis(800))).unwrap();
            socket.send_to(&request, addr).unwrap();
            let mut buf = [0u8; 4096];
            socket.recv_from(&mut buf).ok().map(|(n, _)| buf[..n].to_vec())
        })
        .unwrap()
}

fn connects(bed: &TestBed, addr: SocketAddr) -> bool {
    bed.scanner().run_in(move || TcpStream::connect_timeout(&addr, ANSWER).is_ok()).unwrap()
}

/// `openssl s_client` from the scanner namespace, sending an HTTP request; all its output.
fn tls_client(bed: &TestBed, addr: SocketAddr, extra: &[&str]) -> String {
    let connect = addr.to_string();
    let mut command = bed.scanner().command("timeout");
    command
        .args(["10", "openssl", "s_client", "-connect", &connect, "-servername", "bed.test", "-ign_eof"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run openssl s_client");
    child.stdin.take().unwrap().write_all(b"GET / HTTP/1.0\r\nHost: bed.test\r\n\r\n").unwrap();
    let output = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn v4(bed: &TestBed, port: u16) -> SocketAddr {
    (bed.target(0).v4, port).into()
}

fn v6(bed: &TestBed, port: u16) -> SocketAddr {
    (bed.target(0).v6, port).into()
}

/// The version `running` announces, which must be the upstream part of its package version.
fn announced(running: &Running) -> String {
    let version = running.version().unwrap_or_else(|| panic!("{} announces a version", running.daemon()));
    let package = running.package_version().expect("package version");
    assert!(package.contains(version), "{version} is not part of package version {package}");
    version.to_owned()
}

/// Starts `daemon` in each posture, runs `check`, drops it and checks that it is gone.
fn each_posture(daemon: Daemon, check: impl Fn(&TestBed, &Running)) {
    if !installed_or_skip(daemon) {
        return;
    }
    let bed = testbed_or_skip!(1);
    for posture in [Posture::Exposed, Posture::Safe] {
        let running = start(&bed, daemon, posture);
        assert_eq!(running.posture(), posture);
        check(&bed, &running);
        let dir = running.dir().to_owned();
        let tcp: Vec<u16> = running.ports().into_iter().filter(|(t, _)| *t == Transport::Tcp).map(|(_, p)| p).collect();
        drop(running);
        assert!(!dir.exists(), "{} left {}", daemon, dir.display());
        for port in tcp {
            assert!(!connects(&bed, v4(&bed, port)), "{daemon} {posture:?} still listens on {port} after drop");
        }
    }
}

#[test]
fn nginx() {
    each_posture(Daemon::Nginx, |bed, running| {
        let version = announced(running);
        assert_eq!(running.ports(), vec![(Transport::Tcp, 80), (Transport::Tcp, 443)]);
        assert_eq!(running.services()[1].tunnel, Tunnel::Tls);
        for addr in [v4(bed, 80), v6(bed, 80)] {
            let page = exchange(bed, addr, b"GET / HTTP/1.0\r\nHost: bed.test\r\n\r\n", "</html>");
            assert!(page.contains(&format!("Server: nginx/{version}")), "{addr}: {page}");
            assert!(page.contains("<title>tojimari test bed</title>"), "{page}");
        }
        match running.posture() {
            Posture::Exposed => {
                let out = tls_client(bed, v4(bed, 443), &[]);
                assert!(out.contains(&format!("Server: nginx/{version}")), "{out}");
                assert!(out.contains("self-signed certificate"), "{out}");
                assert_eq!(running.exposures(), &[Exposure::SelfSignedCertificate]);
            }
            Posture::Safe => {
                let ca = running.ca_certificate().expect("a CA").display().to_string();
                let out = tls_client(bed, v4(bed, 443), &["-CAfile", &ca, "-verify_return_error"]);
                assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
                assert!(out.contains(&format!("Server: nginx/{version}")), "{out}");
                assert!(running.exposures().is_empty());
            }
        }
    });
}

#[test]
fn openssh() {
    each_posture(Daemon::OpenSsh, |bed, running| {
        let version = announced(running);
        for addr in [v4(bed, 22), v6(bed, 22)] {
            let line = banner(bed, addr);
            assert!(line.starts_with(&format!("SSH-2.0-OpenSSH_{version}")), "{addr}: {line:?}");
        }
        let exposed = running.exposures() == [Exposure::SshPasswordAuth];
        assert_eq!(exposed, running.posture() == Posture::Exposed);
    });
}

#[test]
fn vsftpd() {
    each_posture(Daemon::Vsftpd, |bed, running| {
        let version = announced(running);
        let greeting = banner(bed, v4(bed, 21));
        assert!(greeting.contains(&format!("220 (vsFTPd {version})")), "{greeting}");
        let login = exchange(bed, v4(bed, 21), b"USER anonymous\r\nPASS probe@bed.test\r\nQUIT\r\n", "221");
        match running.posture() {
            Posture::Exposed => assert!(login.contains("230 "), "{login}"),
            Posture::Safe => assert!(!login.contains("230 ") && login.contains("530 "), "{login}"),
        }
    });
}

#[test]
fn exim() {
    each_posture(Daemon::Exim, |bed, running| {
        let version = announced(running);
        for addr in [v4(bed, 25), v6(bed, 25)] {
            let session = exchange(bed, addr, b"EHLO scanner.bed.test\r\nQUIT\r\n", "221");
            assert!(session.starts_with("220 ") && session.contains(&format!("ESMTP Exim {version}")), "{session}");
            assert!(session.contains("250-bed.test Hello"), "{session}");
        }
    });
}

#[test]
fn dovecot() {
    each_posture(Daemon::Dovecot, |bed, running| {
        assert_eq!(running.version(), None);
        let imap = banner(bed, v4(bed, 143));
        assert!(imap.starts_with("* OK ") && imap.contains("Dovecot (Debian) ready."), "{imap}");
        assert_eq!(imap.contains("LOGINDISABLED"), running.posture() == Posture::Safe, "{imap}");
        let pop3 = banner(bed, v6(bed, 110));
        assert!(pop3.starts_with("+OK Dovecot"), "{pop3}");
    });
}

#[test]
fn redis() {
    each_posture(Daemon::Redis, |bed, running| match running.posture() {
        Posture::Exposed => {
            let version = announced(running);
            let info = exchange(bed, v4(bed, 6379), b"INFO server\r\n", "redis_mode");
            assert!(info.contains(&format!("redis_version:{version}")), "{info}");
        }
        Posture::Safe => {
            assert_eq!(running.version(), None);
            let denied = exchange(bed, v4(bed, 6379), b"PING\r\n", "\n");
            assert!(denied.starts_with("-NOAUTH"), "{denied}");
            let password = running.credential().expect("a password");
            let ok = exchange(bed, v6(bed, 6379), format!("AUTH {password}\r\nPING\r\n").as_bytes(), "PONG");
            assert!(ok.contains("+PONG"), "{ok}");
        }
    });
}

#[test]
fn memcached() {
    each_posture(Daemon::Memcached, |bed, running| {
        let version = announced(running);
        let tcp = exchange(bed, v4(bed, 11211), b"version\r\n", "\n");
        assert_eq!(tcp.trim_end(), format!("VERSION {version}"));
        let mut request = vec![0, 7, 0, 0, 0, 1, 0, 0];
        request.extend_from_slice(b"version\r\n");
        let udp = udp_exchange(bed, v4(bed, 11211), &request);
        match running.posture() {
            Posture::Exposed => {
                let reply = udp.expect("a UDP reply");
                assert_eq!(&reply[..2], &[0, 7]);
                assert!(String::from_utf8_lossy(&reply).contains(&format!("VERSION {version}")));
                assert!(running.ports().contains(&(Transport::Udp, 11211)));
            }
            Posture::Safe => {
                assert!(udp.is_none(), "UDP must be off");
                assert_eq!(running.ports(), vec![(Transport::Tcp, 11211)]);
            }
        }
    });
}

/// An MQTT 3.1.1 CONNECT (clean session, keep-alive 60, client id "probe"), then, if
/// `subscribe`, a SUBSCRIBE to `$SYS/broker/version`.
fn mqtt_request(subscribe: bool) -> Vec<u8> {
    let mut request = vec![0x10, 17, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 5];
    request.extend_from_slice(b"probe");
    if subscribe {
        let topic = b"$SYS/broker/version";
        request.extend_from_slice(&[0x82, (2 + 2 + topic.len() + 1) as u8, 0, 1, 0, topic.len() as u8]);
        request.extend_from_slice(topic);
        request.push(0);
    }
    request
}

#[test]
fn mosquitto() {
    each_posture(Daemon::Mosquitto, |bed, running| match running.posture() {
        Posture::Exposed => {
            let version = announced(running);
            let reply = exchange(bed, v4(bed, 1883), &mqtt_request(true), &format!("mosquitto version {version}"));
            assert!(reply.as_bytes().starts_with(&[0x20, 2, 0, 0]), "CONNACK accepted: {reply:?}");
            assert!(reply.contains(&format!("mosquitto version {version}")), "{reply:?}");
        }
        Posture::Safe => {
            assert_eq!(running.version(), None);
            let reply = exchange(bed, v6(bed, 1883), &mqtt_request(false), "");
            assert!(reply.as_bytes().starts_with(&[0x20, 2, 0, 5]), "CONNACK not authorized: {reply:?}");
        }
    });
}

/// A DNS query for version.bind CH TXT.
fn version_bind() -> Vec<u8> {
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7];
    query.extend_from_slice(b"version\x04bind\x00\x00\x10\x00\x03");
    query
}

#[test]
fn dnsmasq() {
    each_posture(Daemon::Dnsmasq, |bed, running| {
        let version = announced(running);
        let expected = format!("dnsmasq-{version}");
        for addr in [v4(bed, 53), v6(bed, 53)] {
            let reply = udp_exchange(bed, addr, &version_bind()).expect("a DNS reply");
            assert_eq!(&reply[..2], &[0x12, 0x34]);
            assert!(String::from_utf8_lossy(&reply).contains(&expected), "{reply:?}");
        }
        let query = version_bind();
        let mut framed = (query.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&query);
        let reply = exchange(bed, v4(bed, 53), &framed, &expected);
        assert!(reply.contains(&expected), "{reply:?}");
    });
}

/// An SNMPv2c get of sysDescr.0 with `community` (shorter than 100 bytes).
fn snmp_get(community: &str) -> Vec<u8> {
    let varbinds = [0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0, 0x05, 0x00];
    let mut pdu = vec![0xa0, (9 + varbinds.len()) as u8, 0x02, 0x01, 0x2a, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00];
    pdu.extend_from_slice(&varbinds);
    let mut body = vec![0x02, 0x01, 0x01, 0x04, community.len() as u8];
    body.extend_from_slice(community.as_bytes());
    body.extend_from_slice(&pdu);
    let mut message = vec![0x30, body.len() as u8];
    message.extend_from_slice(&body);
    message
}

#[test]
fn snmpd() {
    each_posture(Daemon::Snmpd, |bed, running| {
        assert_eq!(running.ports(), vec![(Transport::Udp, 161)]);
        let public = udp_exchange(bed, v4(bed, 161), &snmp_get("public"));
        match running.posture() {
            Posture::Exposed => {
                let reply = public.expect("an answer to community public");
                assert!(String::from_utf8_lossy(&reply).contains("Linux"), "{reply:?}");
                assert_eq!(running.exposures(), &[Exposure::SnmpDefaultCommunity]);
            }
            Posture::Safe => {
                assert!(public.is_none(), "community public must be refused");
                let community = running.credential().expect("a community");
                let reply = udp_exchange(bed, v6(bed, 161), &snmp_get(community)).expect("an answer");
                assert!(String::from_utf8_lossy(&reply).contains("Linux"), "{reply:?}");
            }
        }
    });
}

#[test]
fn postgresql() {
    each_posture(Daemon::Postgresql, |bed, running| match running.posture() {
        Posture::Exposed => {
            assert_eq!(running.ports(), vec![(Transport::Tcp, 5432)]);
            // SSLRequest: length 8, code 80877103; a server without TLS answers 'N'.
            for addr in [v4(bed, 5432), v6(bed, 5432)] {
                let reply = exchange(bed, addr, &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f], "N");
                assert_eq!(reply, "N");
            }
            assert_eq!(running.exposures(), &[Exposure::PostgresqlReachable]);
        }
        Posture::Safe => {
            assert!(running.ports().is_empty());
            assert!(!connects(bed, v4(bed, 5432)), "Safe PostgreSQL listens on 127.0.0.1 only");
        }
    });
}

#[test]
fn telnetd() {
    each_posture(Daemon::Telnetd, |bed, running| {
        let negotiation = bed
            .scanner()
            .run_in({
                let addr = v4(bed, 23);
                move || {
                    let mut stream = TcpStream::connect_timeout(&addr, ANSWER).unwrap();
                    stream.set_read_timeout(Some(ANSWER)).unwrap();
                    let mut buf = [0u8; 64];
                    let n = stream.read(&mut buf).unwrap_or(0);
                    buf[..n].to_vec()
                }
            })
            .unwrap();
        assert_eq!(negotiation.first(), Some(&0xff), "telnet starts with IAC: {negotiation:?}");
        assert_eq!(running.exposures(), &[Exposure::Telnet]);
    });
}

#[test]
fn fingerd() {
    each_posture(Daemon::Fingerd, |bed, running| {
        let reply = exchange(bed, v4(bed, 79), b"\r\n", "");
        assert_eq!(reply.contains("Welcome to"), running.posture() == Posture::Exposed, "{reply}");
    });
}

#[test]
fn openssl_tls() {
    each_posture(Daemon::OpensslTls, |bed, running| {
        let addr = v4(bed, 4433);
        assert_eq!(running.services()[0].tunnel, Tunnel::Tls);
        let legacy = tls_client(bed, addr, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]);
        match running.posture() {
            Posture::Exposed => {
                assert!(legacy.contains("New, TLSv1.0, Cipher is ECDHE-"), "{legacy}");
                assert!(legacy.contains("certificate has expired"), "{legacy}");
                assert!(legacy.contains("s_server"), "the -www page: {legacy}");
                assert!(running.exposures().contains(&Exposure::ExpiredCertificate));
                assert!(running.exposures().contains(&Exposure::LegacyTls));
            }
            Posture::Safe => {
                assert!(legacy.contains("Cipher is (NONE)"), "TLS 1.0 must fail: {legacy}");
                assert!(legacy.contains("alert protocol version"), "{legacy}");
                let ca = running.ca_certificate().expect("a CA").display().to_string();
                let modern = tls_client(bed, addr, &["-tls1_2", "-CAfile", &ca, "-verify_return_error"]);
                assert!(modern.contains("Verify return code: 0 (ok)"), "{modern}");
                assert!(running.exposures().is_empty());
            }
        }
    });
}

/// Raw bytes from `exchange`-like reads: sends `request`, reads for [`ANSWER`] or until
/// `enough` bytes arrived or the server closed.
fn exchange_bytes(bed: &TestBed, addr: SocketAddr, request: &[u8], enough: usize) -> Vec<u8> {
    let request = request.to_vec();
    bed.scanner()
        .run_in(move || {
            let mut stream =
                TcpStream::connect_timeout(&addr, ANSWER).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
            stream.write_all(&request).unwrap();
            let deadline = Instant::now() + ANSWER;
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))).unwrap();
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
                if got.len() >= enough {
                    break;
                }
            }
            got
        })
        .unwrap()
}

#[test]
fn mariadb() {
    each_posture(Daemon::Mariadb, |bed, running| match running.posture() {
        Posture::Exposed => {
            let version = announced(running);
            let greeting = banner_bytes(bed, v4(bed, 3306));
            // HandshakeV10: 3-byte length, sequence 0, protocol 10, then the version string.
            assert_eq!(greeting.get(3..5), Some(&[0, 10][..]), "{greeting:?}");
            let text = String::from_utf8_lossy(&greeting);
            assert!(text.contains(&format!("5.5.5-{version}-MariaDB")), "{text:?}");
            assert_eq!(running.exposures(), &[Exposure::MysqlReachable]);
            assert!(running.credential().is_some());
        }
        Posture::Safe => {
            assert!(running.ports().is_empty());
            assert!(!connects(bed, v4(bed, 3306)), "Safe MariaDB listens on 127.0.0.1 only");
        }
    });
}

/// What the server sends first (binary-safe), up to [`ANSWER`].
fn banner_bytes(bed: &TestBed, addr: SocketAddr) -> Vec<u8> {
    exchange_bytes(bed, addr, b"", 4)
}

#[test]
fn slapd() {
    // LDAPv3 anonymous simple bind, messageID 1 (RFC 4511 section 4.2).
    let bind = [0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00];
    each_posture(Daemon::Slapd, |bed, running| {
        assert_eq!(running.version(), None);
        for addr in [v4(bed, 389), v6(bed, 389)] {
            let reply = exchange_bytes(bed, addr, &bind, 14);
            // BindResponse (0x61) for message 1 (short-form lengths); the resultCode follows its
            // ENUMERATED tag.
            assert_eq!(reply.first(), Some(&0x30), "{reply:?}");
            assert_eq!(reply.get(2..6), Some(&[0x02, 0x01, 0x01, 0x61][..]), "{reply:?}");
            assert_eq!(reply.get(7..9), Some(&[0x0a, 0x01][..]), "{reply:?}");
            let code = reply.get(9).copied();
            match running.posture() {
                Posture::Exposed => assert_eq!(code, Some(0), "anonymous bind succeeds: {reply:?}"),
                Posture::Safe => assert_ne!(code, Some(0), "anonymous bind refused: {reply:?}"),
            }
        }
        let anonymous = running.exposures() == [Exposure::LdapAnonymousBind];
        assert_eq!(anonymous, running.posture() == Posture::Exposed);
    });
}

/// An SMB1 NEGOTIATE in a NetBIOS session message, offering `dialects` ([MS-CIFS] 2.2.4.52.1).
fn smb_negotiate(dialects: &[&str]) -> Vec<u8> {
    let mut names = Vec::new();
    for dialect in dialects {
        names.push(0x02);
        names.extend_from_slice(dialect.as_bytes());
        names.push(0);
    }
    let mut smb = b"\xffSMB\x72\0\0\0\0\x18\x01\xc8".to_vec();
    smb.extend_from_slice(&[0; 12]);
    smb.extend_from_slice(&[0, 0, 0xfe, 0xff, 0, 0, 0, 0, 0]);
    smb.extend_from_slice(&(names.len() as u16).to_le_bytes());
    smb.extend_from_slice(&names);
    let mut message = vec![0, 0, (smb.len() >> 8) as u8, smb.len() as u8];
    message.extend_from_slice(&smb);
    message
}

#[test]
fn smbd() {
    each_posture(Daemon::Smbd, |bed, running| {
        assert_eq!(running.ports(), vec![(Transport::Tcp, 445)]);
        // Offered SMB 2.???, any server picks SMB2.
        let modern = exchange_bytes(bed, v4(bed, 445), &smb_negotiate(&["NT LM 0.12", "SMB 2.002", "SMB 2.???"]), 72);
        assert_eq!(modern.get(4..8), Some(&b"\xfeSMB"[..]), "{modern:?}");
        let legacy = exchange_bytes(bed, v4(bed, 445), &smb_negotiate(&["NT LM 0.12"]), 40);
        // An SMB1 NEGOTIATE response with status 0 and dialect index 0 (WordCount 17).
        let accepted = legacy.get(4..9) == Some(&b"\xffSMBr"[..])
            && legacy.get(9..13) == Some(&[0, 0, 0, 0][..])
            && legacy.get(36..39) == Some(&[17, 0, 0][..]);
        match running.posture() {
            Posture::Exposed => {
                assert!(accepted, "SMBv1 accepted: {legacy:?}");
                assert_eq!(running.exposures(), &[Exposure::Smbv1]);
            }
            Posture::Safe => {
                assert!(!accepted, "SMBv1 refused: {legacy:?}");
                assert!(running.exposures().is_empty());
            }
        }
    });
}

#[test]
fn tinyproxy() {
    each_posture(Daemon::Tinyproxy, |bed, running| {
        let version = announced(running);
        let page = exchange(bed, v4(bed, 8888), b"GET / HTTP/1.0\r\n\r\n", "</html>");
        assert!(page.contains(&format!("\r\nServer: tinyproxy/{version}\r\n")), "{page}");
        match running.posture() {
            // The proxy serves the scanner, and refuses a request for itself.
            Posture::Exposed => {
                assert!(page.starts_with("HTTP/1.0 400 "), "{page}");
                assert_eq!(running.exposures(), &[Exposure::OpenProxy]);
            }
            Posture::Safe => {
                assert!(page.starts_with("HTTP/1.0 403 Access denied"), "{page}");
                assert!(running.exposures().is_empty());
            }
        }
    });
}

#[test]
fn danted() {
    each_posture(Daemon::Danted, |bed, running| {
        assert_eq!(running.version(), None);
        // Version 5, one method offered: 0 (no authentication).
        let reply = exchange_bytes(bed, v4(bed, 1080), &[5, 1, 0], 2);
        match running.posture() {
            Posture::Exposed => {
                assert_eq!(reply, [5, 0]);
                assert_eq!(running.exposures(), &[Exposure::OpenProxy]);
            }
            Posture::Safe => {
                assert_eq!(reply, [5, 0xff]);
                assert!(running.exposures().is_empty());
            }
        }
    });
}

#[test]
fn chronyd() {
    each_posture(Daemon::Chronyd, |bed, running| {
        assert_eq!(running.ports(), vec![(Transport::Udp, 123)]);
        let mut request = vec![0u8; 48];
        request[0] = 0x23;
        request[40..48].copy_from_slice(b"tojimari");
        let reply = udp_exchange(bed, v4(bed, 123), &request).expect("an NTP reply");
        assert_eq!(reply.len(), 48, "{reply:?}");
        assert_eq!(reply[0] & 0x07, 4, "server mode: {reply:?}");
        assert_eq!(reply[1], 10, "local stratum 10: {reply:?}");
        assert_eq!(&reply[24..32], b"tojimari", "origin timestamp echoed: {reply:?}");
    });
}

#[test]
fn xrdp() {
    // X.224 Connection Request with an RDP Negotiation Request for TLS and CredSSP.
    let request = [0x03, 0, 0, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0, 0x08, 0, 0x03, 0, 0, 0];
    each_posture(Daemon::Xrdp, |bed, running| match running.posture() {
        Posture::Exposed => {
            let reply = exchange_bytes(bed, v4(bed, 3389), &request, 19);
            // Connection Confirm carrying an RDP Negotiation Response that picks TLS (1).
            assert_eq!(reply.get(..6), Some(&[0x03, 0, 0, 0x13, 0x0e, 0xd0][..]), "{reply:?}");
            assert_eq!(reply.get(11), Some(&0x02), "negotiation response: {reply:?}");
            assert_eq!(reply.get(15), Some(&0x01), "TLS selected: {reply:?}");
            assert_eq!(running.exposures(), &[Exposure::RdpReachable]);
        }
        Posture::Safe => {
            assert!(running.ports().is_empty());
            assert!(!connects(bed, v4(bed, 3389)), "Safe xrdp listens on 127.0.0.1 only");
        }
    });
}

#[test]
fn oidentd() {
    each_posture(Daemon::Oidentd, |bed, running| {
        assert_eq!(running.ports(), vec![(Transport::Tcp, 113)]);
        let reply = exchange(bed, v4(bed, 113), b"0, 0\r\n", "\n");
        let compact: String = reply.split_whitespace().collect();
        assert!(compact.starts_with("0,0:ERROR:"), "RFC 1413 error reply: {reply:?}");
    });
}

/// `start_all` in one target: at least ten daemons (all of them under CI), no port taken
/// twice, every TCP port accepting from the scanner and every version announced.
fn host_of_daemons(posture: Posture) {
    let bed = testbed_or_skip!(1);
    let running = daemons::start_all(bed.target(0), posture).unwrap_or_else(|e| panic!("start_all: {e}"));
    let started: Vec<Daemon> = running.iter().map(Running::daemon).collect();
    if in_ci() {
        assert_eq!(started, Daemon::ALL.to_vec(), "CI installs every daemon");
    }
    assert!(started.len() >= 10, "only {} daemons: {started:?}", started.len());
    let mut ports: Vec<(Transport, u16)> = running.iter().flat_map(Running::ports).collect();
    let count = ports.len();
    ports.sort_by_key(|(t, p)| (*p, *t == Transport::Udp));
    ports.dedup();
    assert_eq!(ports.len(), count, "a port is claimed twice: {ports:?}");
    for daemon in &running {
        eprintln!("{:<17} {:<26} {:?}", daemon.daemon(), daemon.package_version().unwrap_or("-"), daemon.services());
        for service in daemon.services() {
            assert_eq!(service.version.as_deref(), daemon.version());
            if service.transport == Transport::Tcp {
                assert!(connects(&bed, v4(&bed, service.port)), "{} port {}", daemon.daemon(), service.port);
            }
        }
        for addr in daemon.addrs() {
            assert!(matches!(addr, IpAddr::V4(a) if *a == bed.target(0).v4) || *addr == IpAddr::V6(bed.target(0).v6));
        }
    }
    let announcing = running.iter().filter(|r| r.version().is_some()).count();
    assert!(announcing >= 5, "{announcing} daemons announce a version");
}

#[test]
fn start_all_exposed_host() {
    host_of_daemons(Posture::Exposed);
}

#[test]
fn start_all_safe_host() {
    host_of_daemons(Posture::Safe);
}
