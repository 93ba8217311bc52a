//! Integration tests, all on 127.0.0.1: rustls servers with rcgen (and openssl-made RSA) certificates,
//! `openssl s_server` for the legacy versions rustls cannot speak, and small servers that misbehave.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, PKCS_ECDSA_P384_SHA384,
    PKCS_ED25519, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tojimari_tls::{
    LegacySupport, TlsError, TlsFacts, TlsVersion, VersionAnswer, describe, describe_versions, fallback_facts,
    handshake, legacy_support, looks_like_tls, parse_certificate, probe_version,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_secs(3);
const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

// ---------------------------------------------------------------------------------------------------------
// Fixtures

/// A certificate and its PKCS#8 key, DER.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, "Tojimari Test");
    dn
}

fn leaf_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec![cn.to_owned()]).unwrap();
    params.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    params.distinguished_name = dn(cn);
    params.serial_number = Some(SerialNumber::from_slice(&[0x0a, 0x1b, 0x2c]));
    params
}

fn self_signed(params: &CertificateParams, key: KeyPair) -> Identity {
    let cert = params.self_signed(&key).unwrap();
    Identity { chain: vec![cert.der().clone()], key: key.serialize_der() }
}

/// A leaf signed by a fresh CA; the chain holds both, leaf first.
fn ca_signed(cn: &str) -> Identity {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name = dn("Tojimari Test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params(cn).signed_by(&leaf_key, &issuer).unwrap();
    Identity { chain: vec![leaf.der().clone(), ca_cert.der().clone()], key: leaf_key.serialize_der() }
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tojimari-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An RSA 2048 self-signed certificate made by openssl (ring cannot generate RSA keys), as PEM files in
/// `dir` and as an [`Identity`].
fn rsa_identity(dir: &Path) -> Identity {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let (key_s, cert_s) = (key.to_str().unwrap(), cert.to_str().unwrap());
    openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key_s]);
    openssl(&[
        "req",
        "-x509",
        "-key",
        key_s,
        "-out",
        cert_s,
        "-days",
        "2",
        "-subj",
        "/CN=rsa.test/O=Tojimari Test",
        "-addext",
        "subjectAltName=DNS:rsa.test,IP:127.0.0.1",
    ]);
    let key_der = dir.join("key.der");
    let cert_der = dir.join("cert.der");
    openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", key_s, "-outform", "DER", "-out", key_der.to_str().unwrap()]);
    openssl(&["x509", "-in", cert_s, "-outform", "DER", "-out", cert_der.to_str().unwrap()]);
    Identity {
        chain: vec![CertificateDer::from(std::fs::read(cert_der).unwrap())],
        key: std::fs::read(key_der).unwrap(),
    }
}

/// Which versions a rustls test server allows.
#[derive(Copy, Clone, Debug)]
enum ServerVersions {
    Both,
    Tls12Only,
}

/// The SNI each accepted handshake carried, in order.
type SniLog = Arc<Mutex<Vec<Option<String>>>>;

/// A rustls server on 127.0.0.1 that completes handshakes, logs their SNI, then waits for the client to close.
async fn rustls_server(identity: Identity, versions: ServerVersions, alpn: &[&[u8]]) -> (SocketAddr, SniLog) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match versions {
        ServerVersions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
        ServerVersions::Tls12Only => &[&rustls::version::TLS12],
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain, key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sni = SniLog::default();
    let log = sni.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    log.lock().unwrap().push(tls.get_ref().1.server_name().map(str::to_owned));
                    let mut buf = [0u8; 64];
                    while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
                }
            });
        }
    });
    (addr, sni)
}

/// The SNI log once `n` handshakes have finished server-side (the client may finish first).
async fn sni_after(log: &SniLog, n: usize) -> Vec<Option<String>> {
    for _ in 0..100 {
        if log.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log.lock().unwrap().clone()
}

async fn facts_from(addr: SocketAddr, name: Option<&str>) -> TlsFacts {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (_tls, facts) = handshake(tcp, name, ALPN, TIMEOUT).await.unwrap();
    facts
}

fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------------------
// rustls servers

#[tokio::test]
async fn self_signed_ec_certificate_over_tls13_with_alpn() {
    let identity = self_signed(&leaf_params("localhost"), KeyPair::generate().unwrap());
    let der = identity.chain[0].to_vec();
    let (addr, sni) = rustls_server(identity, ServerVersions::Both, &[b"h2"]).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut tls, facts) = handshake(tcp, Some("localhost"), ALPN, TIMEOUT).await.unwrap();

    assert_eq!(facts.version, TlsVersion::Tls13);
    assert!(facts.cipher.starts_with("TLS13_AES_") || facts.cipher == "TLS13_CHACHA20_POLY1305_SHA256");
    assert_eq!(facts.alpn.as_deref(), Some("h2"));
    assert_eq!(facts.chain.len(), 1);
    let leaf = facts.leaf().unwrap();
    assert!(leaf.self_signed);
    assert_eq!(leaf.subject, "CN=localhost, O=Tojimari Test");
    assert_eq!(leaf.issuer, leaf.subject);
    assert_eq!(leaf.common_name.as_deref(), Some("localhost"));
    assert_eq!(leaf.sans, ["DNS:localhost", "IP:127.0.0.1"]);
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("EC", 256));
    assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
    assert_eq!(leaf.sha256, sha256_hex(&der));
    assert_eq!(leaf.serial, "0a1b2c");
    let now = SystemTime::now();
    assert!(!leaf.expired_at(now) && !leaf.not_yet_valid_at(now));

    // The stream is usable afterwards.
    tls.write_all(b"ping").await.unwrap();
    assert_eq!(sni_after(&sni, 1).await, [Some("localhost".to_owned())]);

    let text = describe(&facts, now);
    assert!(text.starts_with("Subject: CN=localhost, O=Tojimari Test\n"), "{text}");
    assert!(text.contains("\nIssuer: CN=localhost, O=Tojimari Test (self-signed)\n"), "{text}");
    assert!(text.ends_with(&format!("TLS: TLSv1.3, {}, ALPN h2", facts.cipher)), "{text}");
}

#[tokio::test]
async fn ca_signed_certificate_is_not_self_signed() {
    let (addr, _) = rustls_server(ca_signed("leaf.test"), ServerVersions::Both, &[]).await;
    let facts = facts_from(addr, Some("leaf.test")).await;
    assert_eq!(facts.alpn, None);
    assert_eq!(facts.chain.len(), 2);
    let leaf = facts.leaf().unwrap();
    assert!(!leaf.self_signed);
    assert_eq!(leaf.issuer, "CN=Tojimari Test CA, O=Tojimari Test");
    assert!(facts.chain[1].self_signed);
    assert_eq!(facts.chain[1].subject, leaf.issuer);
}

#[tokio::test]
async fn expired_certificate_is_reported_not_refused() {
    let mut params = leaf_params("old.test");
    params.not_before = rcgen::date_time_ymd(2000, 1, 1);
    params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    let (addr, sni) =
        rustls_server(self_signed(&params, KeyPair::generate().unwrap()), ServerVersions::Both, &[]).await;
    // An IP address as the name: no SNI, still a handshake.
    let facts = facts_from(addr, Some("127.0.0.1")).await;
    assert_eq!(sni_after(&sni, 1).await, [None]);
    let leaf = facts.leaf().unwrap();
    let now = SystemTime::now();
    assert!(leaf.expired_at(now));
    assert!(!leaf.not_yet_valid_at(now));
    let text = describe(&facts, now);
    assert!(text.contains("Not valid before: 2000-01-01T00:00:00Z\n"), "{text}");
    assert!(text.contains("Not valid after:  2001-01-01T00:00:00Z (expired)\n"), "{text}");
}

#[tokio::test]
async fn tls12_only_server_with_ec_key() {
    let identity = self_signed(&leaf_params("twelve.test"), KeyPair::generate().unwrap());
    let (addr, _) = rustls_server(identity, ServerVersions::Tls12Only, &[b"http/1.1"]).await;
    let facts = facts_from(addr, None).await;
    assert_eq!(facts.version, TlsVersion::Tls12);
    assert!(facts.cipher.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{}", facts.cipher);
    assert_eq!(facts.alpn.as_deref(), Some("http/1.1"));
}

#[tokio::test]
async fn rsa_2048_certificate_over_tls12() {
    let dir = TempDir::new();
    let identity = rsa_identity(&dir.0);
    let (addr, _) = rustls_server(identity, ServerVersions::Tls12Only, &[]).await;
    let facts = facts_from(addr, Some("rsa.test")).await;
    assert_eq!(facts.version, TlsVersion::Tls12);
    assert!(facts.cipher.starts_with("TLS_ECDHE_RSA_WITH_"), "{}", facts.cipher);
    let leaf = facts.leaf().unwrap();
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("RSA", 2048));
    assert_eq!(leaf.signature_algorithm, "sha256WithRSAEncryption");
    assert!(leaf.self_signed);
    assert_eq!(leaf.sans, ["DNS:rsa.test", "IP:127.0.0.1"]);
}

#[test]
fn other_key_types() {
    let p384 = self_signed(&leaf_params("p384.test"), KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap());
    let facts = parse_certificate(&p384.chain[0]).unwrap();
    assert_eq!((facts.key_type.as_str(), facts.key_bits), ("EC", 384));
    assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA384");
    assert!(facts.self_signed);

    let ed = self_signed(&leaf_params("ed.test"), KeyPair::generate_for(&PKCS_ED25519).unwrap());
    let facts = parse_certificate(&ed.chain[0]).unwrap();
    assert_eq!((facts.key_type.as_str(), facts.key_bits), ("Ed25519", 256));
    assert!(facts.self_signed);
}

#[test]
fn same_name_different_key_is_not_self_signed() {
    // Subject == issuer, but signed by another key: the signature check must catch it.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name = dn("twin.test");
    let issuer = Issuer::new(ca_params, KeyPair::generate().unwrap());
    let key = KeyPair::generate().unwrap();
    let mut params = leaf_params("twin.test");
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).unwrap();
    let facts = parse_certificate(cert.der()).unwrap();
    assert_eq!(facts.subject, facts.issuer);
    assert!(!facts.self_signed);
}

// ---------------------------------------------------------------------------------------------------------
// openssl s_server for the legacy versions

/// `openssl s_server` on 127.0.0.1, killed on drop.
struct SServer {
    child: Child,
    addr: SocketAddr,
}

// s_server quits when its stdin closes, so stdin stays an open pipe (held by `child`) until drop.

impl SServer {
    /// Starts s_server with the RSA identity in `dir` and waits until it prints `ACCEPT` (it listens).
    fn start(dir: &Path, extra: &[&str]) -> SServer {
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let accept = format!("127.0.0.1:{port}");
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let child = Command::new("openssl")
            .args(["s_server", "-accept", &accept, "-cert", cert.to_str().unwrap(), "-key", key.to_str().unwrap()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is installed");
        let mut server = SServer { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let stdout = server.child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after ACCEPT so s_server never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.trim() == "ACCEPT" {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(5)).expect("s_server did not start listening");
        server
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const LEGACY_CIPHERS: &[&str] = &["-cipher", "DEFAULT@SECLEVEL=0"];

#[tokio::test]
async fn openssl_tls10_only_server() {
    let dir = TempDir::new();
    rsa_identity(&dir.0);
    let server = SServer::start(&dir.0, &[&["-tls1"][..], LEGACY_CIPHERS].concat());

    let probe = probe_version(server.addr, TlsVersion::Tls10, TIMEOUT).await.unwrap();
    assert_eq!(probe.answer, VersionAnswer::Accepted);
    assert!(probe.accepted());
    let cipher = probe.cipher.clone().unwrap();
    assert!(cipher.starts_with("TLS_") && cipher.contains("_WITH_"), "{cipher}");
    let leaf = probe.leaf().expect("TLS 1.0 sends the certificate in the clear");
    assert_eq!(leaf.common_name.as_deref(), Some("rsa.test"));
    assert_eq!(leaf.key_bits, 2048);

    // Asked for TLS 1.1, it answers with its own 1.0.
    let probe = probe_version(server.addr, TlsVersion::Tls11, TIMEOUT).await.unwrap();
    assert_eq!(probe.answer, VersionAnswer::OtherVersion(0x0301));

    let legacy = legacy_support(server.addr, TIMEOUT).await;
    assert_eq!(legacy, LegacySupport { ssl3: Some(false), tls10: Some(true), tls11: Some(false) });

    // rustls cannot talk to it; the fallback still yields the facts.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    assert!(matches!(handshake(tcp, None, ALPN, TIMEOUT).await, Err(TlsError::Handshake(_))));
    let facts = fallback_facts(server.addr, TIMEOUT).await.unwrap();
    assert_eq!(facts.version, TlsVersion::Tls10);
    assert_eq!(facts.leaf().and_then(|l| l.common_name.as_deref()), Some("rsa.test"));
    assert!(describe(&facts, SystemTime::now()).ends_with(&format!("TLS: TLSv1.0, {}", facts.cipher)));
    assert_eq!(describe_versions(Some(&facts), &legacy), "TLS versions offered: TLSv1.0; refused: SSLv3, TLSv1.1");
}

#[tokio::test]
async fn openssl_tls11_only_server() {
    let dir = TempDir::new();
    rsa_identity(&dir.0);
    let server = SServer::start(&dir.0, &[&["-tls1_1"][..], LEGACY_CIPHERS].concat());
    let probe = probe_version(server.addr, TlsVersion::Tls11, TIMEOUT).await.unwrap();
    assert!(probe.accepted());
    assert!(probe.leaf().is_some());
    let legacy = legacy_support(server.addr, TIMEOUT).await;
    assert_eq!(legacy.tls11, Some(true));
    assert_eq!(legacy.ssl3, Some(false));
    assert_eq!(legacy.accepted(), [TlsVersion::Tls11]);
}

#[tokio::test]
async fn openssl_default_server_refuses_legacy_versions() {
    let dir = TempDir::new();
    rsa_identity(&dir.0);
    let server = SServer::start(&dir.0, &[]);

    let legacy = legacy_support(server.addr, TIMEOUT).await;
    assert_eq!(legacy, LegacySupport { ssl3: Some(false), tls10: Some(false), tls11: Some(false) });

    // The same hand-built hellos see TLS 1.2 (certificate in the clear) and TLS 1.3 (supported_versions).
    let tls12 = probe_version(server.addr, TlsVersion::Tls12, TIMEOUT).await.unwrap();
    assert!(tls12.accepted());
    assert_eq!(tls12.leaf().and_then(|l| l.common_name.as_deref()), Some("rsa.test"));
    let tls13 = probe_version(server.addr, TlsVersion::Tls13, TIMEOUT).await.unwrap();
    assert!(tls13.accepted());
    assert!(tls13.cipher.as_deref().unwrap().starts_with("TLS13_"));
    assert!(tls13.chain.is_empty());

    let facts = facts_from(server.addr, Some("rsa.test")).await;
    assert_eq!(facts.version, TlsVersion::Tls13);
    assert_eq!(
        describe_versions(Some(&facts), &legacy),
        "TLS versions offered: TLSv1.3; refused: SSLv3, TLSv1.0, TLSv1.1"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Servers that misbehave

/// What a hostile test server does once a client connects.
#[derive(Copy, Clone, Debug)]
enum Misbehaviour {
    /// Sends an SSH banner.
    Junk,
    /// Reads the hello, sends the first bytes of a ServerHello record, closes.
    CloseMidHello,
    /// Sends the same first bytes and then stalls.
    StallMidHello,
    /// Announces a 16 MiB ServerHello, then streams zeros.
    HugeHandshake,
    /// Announces a 65535-byte record.
    HugeRecord,
    /// Streams full records of zeros (empty HelloRequests) for ever.
    Flood,
    /// Accepts and never says anything.
    Silent,
}

async fn hostile_server(behaviour: Misbehaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(misbehave(tcp, behaviour));
        }
    });
    addr
}

/// A record header announcing a 74-byte ServerHello, and its first 5 bytes.
const PARTIAL_HELLO: [u8; 10] = [0x16, 0x03, 0x01, 0x00, 0x4a, 0x02, 0x00, 0x00, 0x46, 0x03];

async fn misbehave(mut tcp: TcpStream, behaviour: Misbehaviour) {
    let mut hello = [0u8; 512];
    let _ = tcp.read(&mut hello).await;
    let _ = match behaviour {
        Misbehaviour::Junk => tcp.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await,
        Misbehaviour::CloseMidHello => {
            let _ = tcp.write_all(&PARTIAL_HELLO).await;
            return;
        }
        Misbehaviour::StallMidHello => tcp.write_all(&PARTIAL_HELLO).await,
        Misbehaviour::HugeHandshake => {
            let _ = tcp.write_all(&[0x16, 0x03, 0x01, 0x40, 0x00, 0x02, 0xff, 0xff, 0xff]).await;
            flood(&mut tcp, &[0u8; 4096]).await
        }
        Misbehaviour::HugeRecord => tcp.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 0x02, 0x00]).await,
        Misbehaviour::Flood => {
            let mut record = vec![0x16, 0x03, 0x01, 0x40, 0x00];
            record.resize(5 + 0x4000, 0);
            flood(&mut tcp, &record).await
        }
        Misbehaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        }
    };
    // Hold the connection open a little so the client, not a close, decides the outcome.
    tokio::time::sleep(Duration::from_secs(5)).await;
}

/// Writes `chunk` over and over until the client goes away.
async fn flood(tcp: &mut TcpStream, chunk: &[u8]) -> std::io::Result<()> {
    loop {
        tcp.write_all(chunk).await?;
    }
}

/// Runs `f` and checks it finished well within `limit`.
async fn bounded<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    assert!(started.elapsed() < limit, "took {:?}", started.elapsed());
    out
}

#[tokio::test]
async fn junk_is_not_tls() {
    let addr = hostile_server(Misbehaviour::Junk).await;
    let probe = bounded(TIMEOUT, probe_version(addr, TlsVersion::Tls10, TIMEOUT)).await;
    assert!(matches!(probe, Err(TlsError::NotTls)), "{probe:?}");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let hs = bounded(TIMEOUT, handshake(tcp, None, ALPN, TIMEOUT)).await;
    assert!(matches!(hs, Err(TlsError::NotTls)), "{:?}", hs.err());
    let legacy = bounded(TIMEOUT, legacy_support(addr, TIMEOUT)).await;
    assert_eq!(legacy, LegacySupport::default());
}

#[tokio::test]
async fn close_mid_hello_is_a_close() {
    let addr = hostile_server(Misbehaviour::CloseMidHello).await;
    let probe = bounded(TIMEOUT, probe_version(addr, TlsVersion::Tls10, TIMEOUT)).await.unwrap();
    assert_eq!(probe.answer, VersionAnswer::Closed);
    assert!(probe.facts().is_none());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let hs = bounded(TIMEOUT, handshake(tcp, None, ALPN, TIMEOUT)).await;
    assert!(matches!(hs, Err(TlsError::Handshake(_))), "{:?}", hs.err());
}

#[tokio::test]
async fn stall_mid_hello_times_out() {
    let addr = hostile_server(Misbehaviour::StallMidHello).await;
    let short = Duration::from_millis(300);
    let probe = bounded(Duration::from_secs(2), probe_version(addr, TlsVersion::Tls10, short)).await;
    assert!(matches!(probe, Err(TlsError::Timeout(_))), "{probe:?}");
}

#[tokio::test]
async fn oversized_messages_are_refused_quickly() {
    for behaviour in [Misbehaviour::HugeHandshake, Misbehaviour::HugeRecord, Misbehaviour::Flood] {
        let addr = hostile_server(behaviour).await;
        let probe = bounded(TIMEOUT, probe_version(addr, TlsVersion::Tls11, TIMEOUT)).await;
        assert!(matches!(probe, Err(TlsError::TooLarge(_))), "{behaviour:?}: {probe:?}");
        let tcp = TcpStream::connect(addr).await.unwrap();
        let hs = bounded(TIMEOUT + Duration::from_secs(1), handshake(tcp, None, ALPN, TIMEOUT)).await;
        assert!(hs.is_err(), "{behaviour:?}");
    }
}

#[tokio::test]
async fn silent_server_times_out() {
    let addr = hostile_server(Misbehaviour::Silent).await;
    let short = Duration::from_millis(300);
    let limit = Duration::from_secs(2);
    let probe = bounded(limit, probe_version(addr, TlsVersion::Ssl3, short)).await;
    assert!(matches!(probe, Err(TlsError::Timeout(_))), "{probe:?}");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let hs = bounded(limit, handshake(tcp, Some("silent.test"), ALPN, short)).await;
    assert!(matches!(hs, Err(TlsError::Timeout(_))), "{:?}", hs.err());
    assert_eq!(bounded(limit, legacy_support(addr, short)).await, LegacySupport::default());
}

#[tokio::test]
async fn nothing_listening_is_an_io_error() {
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let probe = probe_version(SocketAddr::from(([127, 0, 0, 1], port)), TlsVersion::Tls10, TIMEOUT).await;
    assert!(matches!(probe, Err(TlsError::Io(_))), "{probe:?}");
}

#[tokio::test]
async fn a_tls_server_answering_a_plaintext_probe_looks_like_tls() {
    let identity = self_signed(&leaf_params("plain.test"), KeyPair::generate().unwrap());
    let (addr, _) = rustls_server(identity, ServerVersions::Both, &[]).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(TIMEOUT, tcp.read_to_end(&mut answer)).await;
    assert!(looks_like_tls(&answer), "{answer:02x?}");
    assert!(!looks_like_tls(b"HTTP/1.0 400 Bad Request\r\n"));
}
