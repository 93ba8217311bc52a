//! Active checks against real Debian daemons on 127.0.0.1 (vsftpd, redis-server, memcached, snmpd), each
//! started once configured to deserve the finding and once configured safely, and against small fake
//! servers written from the protocol specifications (MongoDB, Elasticsearch, SMB, VNC, junk).

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tojimari_core::{Detail, Finding, Protocol, ServiceInfo, ServiceMethod, Severity};
use tojimari_exposure::{CheckContext, active, catalog, evaluate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use support::{Anonymous, FtpTls, Udp, fake, have, have_as_root};

const TIMEOUT: Duration = Duration::from_secs(3);

fn service(name: &str) -> ServiceInfo {
    ServiceInfo::named(name, ServiceMethod::Probed, 10)
}

fn ctx(service: &ServiceInfo, addr: SocketAddr, transport: Protocol) -> CheckContext<'_> {
    CheckContext {
        addr,
        transport,
        service,
        tls: None,
        legacy: None,
        now: std::time::SystemTime::now(),
        timeout: TIMEOUT,
    }
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn get<'a>(findings: &'a [Finding], id: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.id == id)
}

fn detail<'a>(details: &'a [Detail], id: &str) -> Option<&'a Detail> {
    details.iter().find(|d| d.id == id)
}

// ---- FTP (vsftpd) ----

#[tokio::test]
async fn vsftpd_with_anonymous_login_is_found() {
    if !have_as_root("vsftpd") {
        return;
    }
    let daemon = support::vsftpd(Anonymous::Allowed, FtpTls::Absent);
    let ftp = service("ftp");
    let (findings, details) = active(&ctx(&ftp, local(daemon.port), Protocol::Tcp)).await;

    let anon = get(&findings, "ftp-anonymous").expect("ftp-anonymous");
    assert_eq!(anon.severity, Severity::Medium);
    assert!(anon.evidence.contains("230"), "{}", anon.evidence);
    assert!(anon.advice.contains("anonymous_enable=NO"));
    let output = &detail(&details, "ftp-anon").expect("ftp-anon detail").output;
    assert!(output.starts_with("Anonymous FTP login allowed (FTP code 230)"), "{output}");
    assert!(output.contains("Working directory: \"/\""), "{output}");

    let clear = get(&findings, "ftp-cleartext").expect("ftp-cleartext");
    assert!(clear.evidence.contains("does not offer AUTH TLS"), "{}", clear.evidence);
}

#[tokio::test]
async fn vsftpd_without_anonymous_login_is_not_found() {
    if !have_as_root("vsftpd") {
        return;
    }
    let daemon = support::vsftpd(Anonymous::Refused, FtpTls::Absent);
    let ftp = service("ftp");
    let (findings, details) = active(&ctx(&ftp, local(daemon.port), Protocol::Tcp)).await;
    assert!(get(&findings, "ftp-anonymous").is_none(), "{findings:?}");
    assert!(detail(&details, "ftp-anon").is_none());
    // The check did run to the end: the cleartext verdict is there.
    assert!(get(&findings, "ftp-cleartext").is_some(), "{findings:?}");
}

#[tokio::test]
async fn vsftpd_offering_auth_tls_says_so_and_evaluate_keeps_one_cleartext_finding() {
    if !have_as_root("vsftpd") || !have("openssl") {
        return;
    }
    let daemon = support::vsftpd(Anonymous::Allowed, FtpTls::Offered);
    let ftp = service("ftp");
    let (findings, _) = evaluate(&ctx(&ftp, local(daemon.port), Protocol::Tcp)).await;
    let clear: Vec<_> = findings.iter().filter(|f| f.id == "ftp-cleartext").collect();
    assert_eq!(clear.len(), 1, "{findings:?}");
    assert!(clear[0].evidence.contains("FEAT offers AUTH TLS"), "{}", clear[0].evidence);
    assert!(get(&findings, "ftp-anonymous").is_some(), "{findings:?}");
}

// ---- Redis ----

#[tokio::test]
async fn redis_without_password_is_found() {
    if !have("redis-server") {
        return;
    }
    let daemon = support::redis(None);
    let redis = service("redis");
    let (findings, _) = active(&ctx(&redis, local(daemon.port), Protocol::Tcp)).await;
    let f = get(&findings, "redis-noauth").expect("redis-noauth");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.evidence.contains("+PONG"), "{}", f.evidence);
    assert!(f.evidence.contains("redis_version"), "{}", f.evidence);
}

#[tokio::test]
async fn redis_with_requirepass_is_not_found() {
    if !have("redis-server") {
        return;
    }
    let daemon = support::redis(Some("x"));
    let redis = service("redis");
    let (findings, _) = active(&ctx(&redis, local(daemon.port), Protocol::Tcp)).await;
    assert!(findings.is_empty(), "{findings:?}");
}

// ---- memcached ----

#[tokio::test]
async fn memcached_with_udp_is_found_from_the_tcp_service() {
    if !have("memcached") {
        return;
    }
    let daemon = support::memcached(Udp::On);
    let memcached = service("memcached");
    let (findings, _) = active(&ctx(&memcached, local(daemon.port), Protocol::Tcp)).await;
    let f = get(&findings, "memcached-udp").expect("memcached-udp");
    assert!(f.evidence.contains("(15 bytes)"), "{}", f.evidence);
    let factor: f64 = f.evidence.split("amplification x").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!(factor > 10.0, "a stats answer is many times the request: {}", f.evidence);
    assert!(f.evidence.contains("version 1."), "{}", f.evidence);
}

#[tokio::test]
async fn memcached_without_udp_is_not_found() {
    if !have("memcached") {
        return;
    }
    let daemon = support::memcached(Udp::Off);
    let memcached = service("memcached");
    // Over UDP the check asks only this port (from TCP it would also try 11211, which is not ours).
    let started = Instant::now();
    let (findings, _) = active(&ctx(&memcached, local(daemon.port), Protocol::Udp)).await;
    assert!(findings.is_empty(), "{findings:?}");
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(1));
}

// ---- SNMP ----

#[tokio::test]
async fn snmpd_with_public_community_is_found() {
    if !have("snmpd") {
        return;
    }
    let daemon = support::snmpd("public");
    let snmp = service("snmp");
    let (findings, details) = active(&ctx(&snmp, local(daemon.port), Protocol::Udp)).await;
    let f = get(&findings, "snmp-default-community").expect("snmp-default-community");
    assert!(f.evidence.contains("community 'public'"), "{}", f.evidence);
    assert!(f.evidence.contains("SNMPv2c"), "{}", f.evidence);
    // net-snmp's default sysDescr is the uname line.
    let descr = &detail(&details, "snmp-sysdescr").expect("snmp-sysdescr").output;
    assert!(descr.contains("Linux"), "{descr}");
    assert!(f.evidence.contains(descr.as_str()), "{}", f.evidence);
}

#[tokio::test]
async fn snmpd_with_a_secret_community_is_not_found() {
    if !have("snmpd") {
        return;
    }
    let daemon = support::snmpd("s3cret");
    let snmp = service("snmp");
    let (findings, details) = active(&ctx(&snmp, local(daemon.port), Protocol::Udp)).await;
    assert!(findings.is_empty(), "{findings:?}");
    assert!(details.is_empty());
}

// ---- MongoDB (fake, OP_MSG) ----

fn bson_doc(elements: &[u8]) -> Vec<u8> {
    let mut doc = ((elements.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend_from_slice(elements);
    doc.push(0);
    doc
}

fn bson_elem(kind: u8, name: &str, value: &[u8]) -> Vec<u8> {
    [&[kind][..], name.as_bytes(), &[0], value].concat()
}

fn bson_string(s: &str) -> Vec<u8> {
    [&((s.len() + 1) as i32).to_le_bytes()[..], s.as_bytes(), &[0]].concat()
}

fn op_msg_reply(response_to: i32, body: &[u8]) -> Vec<u8> {
    let len = (16 + 4 + 1 + body.len()) as i32;
    [
        &len.to_le_bytes()[..],
        &99i32.to_le_bytes(),
        &response_to.to_le_bytes(),
        &2013i32.to_le_bytes(),
        &[0; 4],
        &[0],
        body,
    ]
    .concat()
}

async fn mongod(open: bool) -> SocketAddr {
    fake(move |mut stream: TcpStream| async move {
        let mut head = [0u8; 16];
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = i32::from_le_bytes(head[..4].try_into().unwrap()) as usize;
        let mut rest = vec![0u8; len.saturating_sub(16).min(1 << 20)];
        if stream.read_exact(&mut rest).await.is_err() {
            return;
        }
        let request_id = i32::from_le_bytes(head[4..8].try_into().unwrap());
        assert_eq!(i32::from_le_bytes(head[12..16].try_into().unwrap()), 2013, "OP_MSG");
        assert!(rest.windows(13).any(|w| w == b"listDatabases"), "the command is listDatabases");
        let body = if open {
            let dbs: Vec<u8> = ["admin", "config", "shop"]
                .iter()
                .enumerate()
                .flat_map(|(i, name)| {
                    bson_elem(3, &i.to_string(), &bson_doc(&bson_elem(2, "name", &bson_string(name))))
                })
                .collect();
            bson_doc(&[bson_elem(4, "databases", &bson_doc(&dbs)), bson_elem(1, "ok", &1.0f64.to_le_bytes())].concat())
        } else {
            bson_doc(
                &[
                    bson_elem(1, "ok", &0.0f64.to_le_bytes()),
                    bson_elem(2, "errmsg", &bson_string("command listDatabases requires authentication")),
                    bson_elem(16, "code", &13i32.to_le_bytes()),
                    bson_elem(2, "codeName", &bson_string("Unauthorized")),
                ]
                .concat(),
            )
        };
        let _ = stream.write_all(&op_msg_reply(request_id, &body)).await;
    })
    .await
}

#[tokio::test]
async fn mongodb_listing_databases_without_auth_is_found() {
    let addr = mongod(true).await;
    let mongo = service("mongodb");
    let (findings, details) = active(&ctx(&mongo, addr, Protocol::Tcp)).await;
    let f = get(&findings, "mongodb-noauth").expect("mongodb-noauth");
    assert!(f.evidence.contains("3 database(s) (admin, config, shop)"), "{}", f.evidence);
    assert_eq!(detail(&details, "mongodb-databases").unwrap().output, "admin\nconfig\nshop");
}

#[tokio::test]
async fn mongodb_answering_unauthorized_is_not_found() {
    let addr = mongod(false).await;
    let mongo = service("mongodb");
    let (findings, details) = active(&ctx(&mongo, addr, Protocol::Tcp)).await;
    assert!(findings.is_empty() && details.is_empty(), "{findings:?}");
}

// ---- Elasticsearch (fake, HTTP) ----

async fn elasticsearch(open: bool) -> SocketAddr {
    fake(move |mut stream: TcpStream| async move {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&request).lines().next().unwrap_or("").to_string();
        let (status, extra, body) = match (open, line.split(' ').nth(1).unwrap_or("")) {
            (false, _) => (
                "401 Unauthorized",
                "WWW-Authenticate: Basic realm=\"security\" charset=\"UTF-8\"\r\n",
                r#"{"error":{"type":"security_exception"},"status":401}"#.to_string(),
            ),
            (true, "/") => (
                "200 OK",
                "",
                r#"{"name":"node-1","cluster_name":"shop-prod","version":{"number":"8.13.4"},"tagline":"You Know, for Search"}"#
                    .to_string(),
            ),
            (true, "/_cat/indices?format=json") => {
                ("200 OK", "", r#"[{"index":"orders"},{"index":"customers"}]"#.to_string())
            }
            (true, _) => ("404 Not Found", "", "{}".to_string()),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\n{extra}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
    })
    .await
}

#[tokio::test]
async fn elasticsearch_without_security_is_found() {
    let addr = elasticsearch(true).await;
    let es = service("elasticsearch");
    let (findings, _) = active(&ctx(&es, addr, Protocol::Tcp)).await;
    let f = get(&findings, "elasticsearch-noauth").expect("elasticsearch-noauth");
    assert!(f.evidence.contains("cluster_name \"shop-prod\", version 8.13.4"), "{}", f.evidence);
    assert!(f.evidence.contains("lists 2 index(es)"), "{}", f.evidence);

    // Found by product behind a generic name, too.
    let mut http = service("http");
    http.product = Some("Elasticsearch REST API".into());
    let (findings, _) = active(&ctx(&http, addr, Protocol::Tcp)).await;
    assert!(get(&findings, "elasticsearch-noauth").is_some());
}

#[tokio::test]
async fn elasticsearch_answering_401_is_not_found() {
    let addr = elasticsearch(false).await;
    let es = service("elasticsearch");
    let (findings, _) = active(&ctx(&es, addr, Protocol::Tcp)).await;
    assert!(findings.is_empty(), "{findings:?}");
}

// ---- SMB (fake) ----

#[derive(Copy, Clone)]
enum SmbServer {
    AcceptsSmb1,
    NoDialect,
    Closes,
}

fn smb_negotiate_answer(words: &[u16]) -> Vec<u8> {
    let mut smb = b"\xffSMB\x72".to_vec();
    smb.extend_from_slice(&[0; 4]);
    smb.push(0x98);
    smb.resize(32, 0);
    smb.push(words.len() as u8);
    for w in words {
        smb.extend_from_slice(&w.to_le_bytes());
    }
    smb.extend_from_slice(&[0, 0]);
    [&[0u8, 0, (smb.len() >> 8) as u8, smb.len() as u8][..], &smb].concat()
}

async fn smb_server(kind: SmbServer) -> SocketAddr {
    fake(move |mut stream: TcpStream| async move {
        loop {
            let mut head = [0u8; 4];
            if stream.read_exact(&mut head).await.is_err() {
                return;
            }
            let len = usize::from(head[2]) << 8 | usize::from(head[3]);
            let mut payload = vec![0u8; len];
            if stream.read_exact(&mut payload).await.is_err() {
                return;
            }
            if head[0] == 0x81 {
                // NetBIOS session request: positive response.
                let _ = stream.write_all(&[0x82, 0, 0, 0]).await;
                continue;
            }
            assert!(payload.starts_with(b"\xffSMB\x72"), "an SMB1 NEGOTIATE");
            assert!(payload.windows(12).any(|w| w == b"\x02NT LM 0.12\x00"));
            let answer = match kind {
                SmbServer::AcceptsSmb1 => {
                    let mut words = vec![0u16; 17];
                    words[1] = 0x0003;
                    smb_negotiate_answer(&words)
                }
                SmbServer::NoDialect => smb_negotiate_answer(&[0xffff]),
                SmbServer::Closes => return,
            };
            let _ = stream.write_all(&answer).await;
            return;
        }
    })
    .await
}

#[tokio::test]
async fn smb1_accepted_is_found_on_445_and_139() {
    let addr = smb_server(SmbServer::AcceptsSmb1).await;
    for name in ["microsoft-ds", "netbios-ssn"] {
        let smb = service(name);
        let (findings, _) = active(&ctx(&smb, addr, Protocol::Tcp)).await;
        let f = get(&findings, "smbv1").unwrap_or_else(|| panic!("smbv1 via {name}"));
        assert!(f.evidence.contains("message signing not required"), "{}", f.evidence);
    }
}

#[tokio::test]
async fn smb1_refused_is_not_found() {
    for kind in [SmbServer::NoDialect, SmbServer::Closes] {
        let addr = smb_server(kind).await;
        let smb = service("microsoft-ds");
        let (findings, _) = active(&ctx(&smb, addr, Protocol::Tcp)).await;
        assert!(findings.is_empty(), "{findings:?}");
    }
}

// ---- VNC (fake) ----

async fn vnc_server(version: &'static [u8], types: &'static [u8]) -> SocketAddr {
    fake(move |mut stream: TcpStream| async move {
        if stream.write_all(version).await.is_err() {
            return;
        }
        let mut reply = [0u8; 12];
        if stream.read_exact(&mut reply).await.is_err() {
            return;
        }
        let answer = if version == b"RFB 003.003\n" {
            u32::from(types[0]).to_be_bytes().to_vec()
        } else {
            [&[types.len() as u8][..], types].concat()
        };
        let _ = stream.write_all(&answer).await;
        let _ = stream.read(&mut reply).await;
    })
    .await
}

#[tokio::test]
async fn vnc_offering_none_is_found_and_password_only_is_not() {
    let vnc = service("vnc");
    let open = vnc_server(b"RFB 003.008\n", &[1, 2]).await;
    let (findings, _) = active(&ctx(&vnc, open, Protocol::Tcp)).await;
    let f = get(&findings, "vnc-noauth").expect("vnc-noauth");
    assert!(f.evidence.contains("None(1), VNC Authentication(2)"), "{}", f.evidence);

    let old = vnc_server(b"RFB 003.003\n", &[1]).await;
    let (findings, _) = active(&ctx(&vnc, old, Protocol::Tcp)).await;
    assert!(get(&findings, "vnc-noauth").is_some(), "RFB 3.3 with type None");

    let locked = vnc_server(b"RFB 003.008\n", &[2]).await;
    let (findings, _) = active(&ctx(&vnc, locked, Protocol::Tcp)).await;
    assert!(findings.is_empty(), "{findings:?}");
}

// ---- hostile and silent services ----

const TCP_CHECKED: &[&str] = &["ftp", "redis", "mongodb", "elasticsearch", "microsoft-ds", "netbios-ssn", "vnc"];

#[tokio::test]
async fn junk_answers_give_no_finding_and_no_panic() {
    let junk = fake(|mut stream: TcpStream| async move {
        let _ = stream.write_all(b"\x00\xff\xfe junk \r\n\x85\x00\x00\x01RFB x\n+PONG-\r\n").await;
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf).await;
    })
    .await;
    for name in TCP_CHECKED {
        let s = service(name);
        let (findings, details) = active(&ctx(&s, junk, Protocol::Tcp)).await;
        assert!(findings.is_empty() && details.is_empty(), "{name}: {findings:?}");
    }
}

#[tokio::test]
async fn a_flood_is_cut_at_the_read_cap() {
    // Endless bytes that never complete a message for any of the protocols.
    let flood = fake(|mut stream: TcpStream| async move {
        let chunk = [b'2'; 8192];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    for name in TCP_CHECKED {
        let s = service(name);
        let started = Instant::now();
        let (findings, _) = active(&ctx(&s, flood, Protocol::Tcp)).await;
        assert!(findings.is_empty(), "{name}: {findings:?}");
        assert!(started.elapsed() < TIMEOUT, "{name}: the cap, not the timeout, ended it");
    }
}

#[tokio::test]
async fn silent_services_end_at_the_timeout() {
    let silent = fake(|mut stream: TcpStream| async move {
        let mut buf = [0u8; 1024];
        while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    let s = service("redis");
    let mut c = ctx(&s, silent, Protocol::Tcp);
    c.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (findings, _) = active(&c).await;
    assert!(findings.is_empty());
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn catalog_covers_every_id_the_checks_report() {
    let ids: Vec<&str> = catalog().iter().map(|k| k.id).collect();
    for id in [
        "telnet-cleartext",
        "ftp-cleartext",
        "ftp-anonymous",
        "rdp-exposed",
        "database-exposed",
        "tls-expired",
        "tls-self-signed",
        "tls-legacy-protocol",
        "redis-noauth",
        "memcached-udp",
        "snmp-default-community",
        "mongodb-noauth",
        "elasticsearch-noauth",
        "smbv1",
        "vnc-noauth",
    ] {
        assert!(ids.contains(&id), "{id} missing from the catalog");
    }
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/findings.md")).unwrap();
    for id in ids {
        assert!(docs.contains(&format!("`{id}`")), "{id} missing from docs/findings.md");
    }
}
