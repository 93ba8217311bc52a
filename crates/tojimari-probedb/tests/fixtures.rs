//! The probe database against answers: recorded from real daemons and built from protocol specifications
//! (tests/fixtures, see its README), plus the format's error reporting, probe selection and hostile input.

use std::path::Path;

use tojimari_probedb::{BUILTIN_TEXT, MAX_RESPONSE, Match, ProbeDb, ProbeId, Transport};

const TCP: Transport = Transport::Tcp;
const UDP: Transport = Transport::Udp;

/// One fixture: the file, the probe that got it, and what the database must say.
struct Case {
    file: &'static str,
    transport: Transport,
    probe: &'static str,
    service: &'static str,
    product: Option<&'static str>,
    version: Option<&'static str>,
    soft: bool,
}

const fn hard(
    file: &'static str,
    transport: Transport,
    probe: &'static str,
    service: &'static str,
    product: Option<&'static str>,
    version: Option<&'static str>,
) -> Case {
    Case { file, transport, probe, service, product, version, soft: false }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Recorded from Debian 12 daemons on 127.0.0.1.
    hard("FingerRoot--fingerd-0.17-welcome.bin", TCP, "FingerRoot", "finger", Some("BSD fingerd"), None),
    hard("GetRequest--openssl-3.0-s_server-www.bin", TCP, "GetRequest", "http", Some("OpenSSL s_server"), None),
    hard("NULL--openssh-9.2p1.bin", TCP, "NULL", "ssh", Some("OpenSSH"), Some("9.2p1")),
    hard("GetRequest--openssh-9.2p1.bin", TCP, "GetRequest", "ssh", Some("OpenSSH"), Some("9.2p1")),
    hard("NULL--vsftpd-3.0.3.bin", TCP, "NULL", "ftp", Some("vsftpd"), Some("3.0.3")),
    hard("NULL--inetutils-telnetd.bin", TCP, "NULL", "telnet", Some("GNU inetutils telnetd"), None),
    hard("NULL--exim-4.96.bin", TCP, "NULL", "smtp", Some("Exim smtpd"), Some("4.96")),
    hard("SMTPEhlo--exim-4.96.bin", TCP, "SMTPEhlo", "smtp", Some("Exim smtpd"), Some("4.96")),
    hard("NULL--dovecot-2.3-imap.bin", TCP, "NULL", "imap", Some("Dovecot imapd"), None),
    hard("NULL--dovecot-2.3-pop3.bin", TCP, "NULL", "pop3", Some("Dovecot pop3d"), None),
    hard("GetRequest--nginx-1.22.bin", TCP, "GetRequest", "http", Some("nginx"), Some("1.22.1")),
    hard("HTTPOptions--nginx-1.22.bin", TCP, "HTTPOptions", "http", Some("nginx"), Some("1.22.1")),
    hard("HTTPProxyConnect--nginx-1.22.bin", TCP, "HTTPProxyConnect", "http", Some("nginx"), Some("1.22.1")),
    hard("TLSSessionReq--nginx-1.22-tls.bin", TCP, "TLSSessionReq", "ssl", None, None),
    hard("TLSSessionReq--nginx-1.22-plain.bin", TCP, "TLSSessionReq", "http", Some("nginx"), Some("1.22.1")),
    hard("TLSSessionReq--openssl-3-tls13only-alert.bin", TCP, "TLSSessionReq", "ssl", None, None),
    hard("RedisInfo--redis-7.0.bin", TCP, "RedisInfo", "redis", Some("Redis key-value store"), Some("7.0.15")),
    hard("RedisInfo--redis-7.0-requirepass.bin", TCP, "RedisInfo", "redis", Some("Redis key-value store"), None),
    hard("MemcachedStats--memcached-1.6.bin", TCP, "MemcachedStats", "memcached", Some("Memcached"), Some("1.6.18")),
    hard("MemcachedUDPStats--memcached-1.6.bin", UDP, "MemcachedUDPStats", "memcached", Some("Memcached"), Some("1.6.18")),
    hard("MQTTConnect--mosquitto-2-anonymous.bin", TCP, "MQTTConnect", "mqtt", None, None),
    hard("MQTTConnect--mosquitto-2-noanon.bin", TCP, "MQTTConnect", "mqtt", None, None),
    hard("DNSVersionBindReqTCP--dnsmasq-2.90.bin", TCP, "DNSVersionBindReqTCP", "domain", Some("dnsmasq"), Some("2.90")),
    hard("DNSVersionBindReq--dnsmasq-2.90.bin", UDP, "DNSVersionBindReq", "domain", Some("dnsmasq"), Some("2.90")),
    // A status answer names no product: soft, so the version.bind answer wins when both come back.
    Case { soft: true, ..hard("DNSStatusRequestTCP--dnsmasq-2.90.bin", TCP, "DNSStatusRequestTCP", "domain", None, None) },
    Case { soft: true, ..hard("DNSStatusRequest--dnsmasq-2.90.bin", UDP, "DNSStatusRequest", "domain", None, None) },
    hard("SNMPv1GetRequest--net-snmp-5.9.bin", UDP, "SNMPv1GetRequest", "snmp", Some("Net-SNMP"), None),
    hard("SNMPv2cGetRequest--net-snmp-5.9.bin", UDP, "SNMPv2cGetRequest", "snmp", Some("Net-SNMP"), None),
    hard("PostgresStartup--postgresql-15-scram.bin", TCP, "PostgresStartup", "postgresql", Some("PostgreSQL DB"), None),
    hard("PostgresStartup--postgresql-15-rejected.bin", TCP, "PostgresStartup", "postgresql", Some("PostgreSQL DB"), None),
    hard("FingerRoot--bsd-fingerd.bin", TCP, "FingerRoot", "finger", None, None),
    hard("GenericLines--bsd-fingerd.bin", TCP, "GenericLines", "finger", None, None),
    hard("Socks5Greeting--dante-1.4.2-noauth.bin", TCP, "Socks5Greeting", "socks5", None, None),
    hard("Socks5Greeting--dante-1.4.2-username.bin", TCP, "Socks5Greeting", "socks5", None, None),
    // Dante speaks SOCKS4 too: that answer only hints, so the SOCKS5 one names the port.
    Case { soft: true, ..hard("Socks4Connect--dante-1.4.2-rejected.bin", TCP, "Socks4Connect", "socks4", None, None) },
    // Built from protocol specifications (tests/fixtures/spec-fixtures.py).
    hard("NULL--spec-openssh-8.9p1-ubuntu.bin", TCP, "NULL", "ssh", Some("OpenSSH"), Some("8.9p1")),
    hard("NULL--spec-dropbear-2022.83.bin", TCP, "NULL", "ssh", Some("Dropbear sshd"), Some("2022.83")),
    hard("NULL--spec-proftpd-debian.bin", TCP, "NULL", "ftp", Some("ProFTPD"), None),
    hard("NULL--spec-pure-ftpd.bin", TCP, "NULL", "ftp", Some("Pure-FTPd"), None),
    Case { file: "NULL--spec-generic-ftp.bin", transport: TCP, probe: "NULL", service: "ftp", product: None, version: None, soft: true },
    hard("NULL--spec-postfix.bin", TCP, "NULL", "smtp", Some("Postfix smtpd"), None),
    hard("NULL--spec-sendmail-8.17.1.9.bin", TCP, "NULL", "smtp", Some("Sendmail"), Some("8.17.1.9")),
    hard("NULL--spec-cyrus-imapd-3.6.1.bin", TCP, "NULL", "imap", Some("Cyrus imapd"), Some("3.6.1-4")),
    hard("NULL--spec-courier-pop3d.bin", TCP, "NULL", "pop3", Some("Courier pop3d"), None),
    hard("NULL--spec-busybox-telnetd.bin", TCP, "NULL", "telnet", Some("BusyBox telnetd"), None),
    hard("NULL--spec-vnc-rfb-3.8.bin", TCP, "NULL", "vnc", None, None),
    hard("NULL--spec-mariadb-10.11.6.bin", TCP, "NULL", "mysql", Some("MariaDB"), Some("10.11.6")),
    hard("NULL--spec-mysql-8.0.35.bin", TCP, "NULL", "mysql", Some("MySQL"), Some("8.0.35")),
    hard("NULL--spec-mysql-host-not-allowed.bin", TCP, "NULL", "mysql", Some("MySQL"), None),
    hard("GetRequest--spec-elasticsearch-8.11.1.bin", TCP, "GetRequest", "http", Some("Elasticsearch REST API"), Some("8.11.1")),
    hard("GetRequest--spec-apache-2.4.57-debian.bin", TCP, "GetRequest", "http", Some("Apache httpd"), Some("2.4.57")),
    hard("GetRequest--spec-lighttpd-1.4.69.bin", TCP, "GetRequest", "http", Some("lighttpd"), Some("1.4.69")),
    hard("GetRequest--spec-iis-10.0.bin", TCP, "GetRequest", "http", Some("Microsoft IIS httpd"), Some("10.0")),
    hard("GetRequest--spec-caddy.bin", TCP, "GetRequest", "http", Some("Caddy httpd"), None),
    hard("GetRequest--spec-gunicorn-21.2.0.bin", TCP, "GetRequest", "http", Some("gunicorn"), Some("21.2.0")),
    hard("GetRequest--spec-squid-5.7.bin", TCP, "GetRequest", "http-proxy", Some("Squid http proxy"), Some("5.7")),
    hard("GetRequest--spec-tinyproxy-1.11.1.bin", TCP, "GetRequest", "http-proxy", Some("tinyproxy"), Some("1.11.1")),
    hard("HTTPProxyConnect--spec-squid-5.7.bin", TCP, "HTTPProxyConnect", "http-proxy", Some("Squid http proxy"), Some("5.7")),
    hard("HTTPProxyConnect--spec-open-proxy.bin", TCP, "HTTPProxyConnect", "http-proxy", None, None),
    hard("RTSPRequest--spec-gstreamer.bin", TCP, "RTSPRequest", "rtsp", Some("GStreamer rtspd"), None),
    hard("RTSPRequest--spec-live555.bin", TCP, "RTSPRequest", "rtsp", Some("LIVE555 Streaming Media"), Some("2023.05.10")),
    hard("SIPOptions-TCP--spec-asterisk-18.10.0.bin", TCP, "SIPOptions", "sip", Some("Asterisk"), Some("18.10.0")),
    hard("SIPOptions-UDP--spec-asterisk-18.10.0.bin", UDP, "SIPOptions", "sip", Some("Asterisk"), Some("18.10.0")),
    hard("SIPOptions-UDP--spec-generic-ua.bin", UDP, "SIPOptions", "sip", Some("ExamplePhone 3.2"), None),
    hard("MongoDBBuildInfo--spec-mongodb-7.0.2.bin", TCP, "MongoDBBuildInfo", "mongodb", Some("MongoDB"), Some("7.0.2")),
    hard("MongoDBIsMaster--spec-mongodb-4.4.bin", TCP, "MongoDBIsMaster", "mongodb", Some("MongoDB"), None),
    hard("LDAPBindReq--spec-openldap.bin", TCP, "LDAPBindReq", "ldap", None, None),
    hard("LDAPBindReq--spec-active-directory.bin", TCP, "LDAPBindReq", "ldap", Some("Microsoft Windows Active Directory LDAP"), None),
    hard("RDPConnectionRequest--spec-windows-2019.bin", TCP, "RDPConnectionRequest", "ms-wbt-server", Some("Microsoft Terminal Services"), None),
    hard("RDPConnectionRequest--spec-rdp-tls.bin", TCP, "RDPConnectionRequest", "ms-wbt-server", None, None),
    hard("SMBNegotiate--spec-smb2-wildcard.bin", TCP, "SMBNegotiate", "microsoft-ds", None, None),
    hard("SMBNegotiate--spec-smb1-ntlm012.bin", TCP, "SMBNegotiate", "microsoft-ds", None, None),
    hard("SMBNegotiate--spec-netbios-negative.bin", TCP, "SMBNegotiate", "netbios-ssn", None, None),
    hard("IdentQuery--spec-ident.bin", TCP, "IdentQuery", "auth", None, None),
    hard("Socks5Greeting--spec-noauth.bin", TCP, "Socks5Greeting", "socks5", None, None),
    hard("Socks5Greeting--spec-userpass.bin", TCP, "Socks5Greeting", "socks5", None, None),
    Case { soft: true, ..hard("Socks4Connect--spec-granted.bin", TCP, "Socks4Connect", "socks4", None, None) },
    hard("NTPRequest--spec-ntpv4.bin", UDP, "NTPRequest", "ntp", Some("NTP"), Some("v4")),
    hard("DNSVersionBindReq--spec-bind-9.18.28.bin", UDP, "DNSVersionBindReq", "domain", Some("ISC BIND"), Some("9.18.28-1~deb12u2-Debian")),
    hard("DNSVersionBindReq--spec-unbound-1.17.1.bin", UDP, "DNSVersionBindReq", "domain", Some("Unbound"), Some("1.17.1")),
    hard("DNSVersionBindReqTCP--spec-powerdns-4.7.3.bin", TCP, "DNSVersionBindReqTCP", "domain", Some("PowerDNS Authoritative Server"), Some("4.7.3")),
    hard("PostgresStartup--spec-postgresql-15.18-trust.bin", TCP, "PostgresStartup", "postgresql", Some("PostgreSQL DB"), Some("15.18")),
    hard("RedisInfo--spec-protected-mode.bin", TCP, "RedisInfo", "redis", Some("Redis key-value store"), None),
];

fn fixtures_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn db() -> &'static ProbeDb {
    ProbeDb::builtin()
}

fn id(transport: Transport, name: &str) -> ProbeId {
    db().find(transport, name).unwrap_or_else(|| panic!("no {transport:?} probe {name}"))
}

fn match_fixture(case: &Case) -> Option<Match> {
    let bytes = std::fs::read(fixtures_dir().join(case.file)).unwrap();
    db().match_response(id(case.transport, case.probe), &bytes)
}

#[test]
fn every_fixture_names_its_service_product_and_version() {
    let mut failures = Vec::new();
    for case in CASES {
        let got = match_fixture(case);
        let summary = got.as_ref().map(|m| (m.service.as_str(), m.product.as_deref(), m.version.as_deref(), m.soft));
        if summary != Some((case.service, case.product, case.version, case.soft)) {
            failures.push(format!("{}: got {got:?}", case.file));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fixture_details() {
    let find = |file| match_fixture(CASES.iter().find(|c| c.file == file).unwrap()).unwrap();
    let ssh = find("NULL--openssh-9.2p1.bin");
    assert_eq!(ssh.extrainfo.as_deref(), Some("Debian 2+deb12u10; protocol 2.0"));
    assert_eq!(ssh.ostype.as_deref(), Some("Linux"));
    assert!(ssh.cpe.contains(&"cpe:/a:openbsd:openssh:9.2p1".to_string()));
    assert!(ssh.line > 0);
    assert_eq!(find("NULL--exim-4.96.bin").hostname.as_deref(), Some("vm"));
    assert_eq!(find("RedisInfo--redis-7.0-requirepass.bin").extrainfo.as_deref(), Some("authentication required"));
    assert_eq!(find("MQTTConnect--mosquitto-2-noanon.bin").extrainfo.as_deref(), Some("not authorized"));
    assert_eq!(find("NULL--spec-vnc-rfb-3.8.bin").extrainfo.as_deref(), Some("protocol 3.8"));
    assert_eq!(find("SMBNegotiate--spec-smb2-wildcard.bin").extrainfo.as_deref(), Some("SMB2+; dialect 2.???"));
    assert_eq!(find("SMBNegotiate--spec-smb1-ntlm012.bin").extrainfo.as_deref(), Some("SMBv1; dialect NT LM 0.12"));
    assert_eq!(find("SNMPv1GetRequest--net-snmp-5.9.bin").hostname.as_deref(), Some("vm"));
    assert_eq!(
        find("Socks5Greeting--spec-userpass.bin").extrainfo.as_deref(),
        Some("username/password authentication required")
    );
    let tls = find("TLSSessionReq--openssl-3-tls13only-alert.bin");
    assert_eq!(tls.extrainfo.as_deref(), Some("TLS alert"));
    // A template whose optional group did not match leaves the field out rather than empty.
    assert_eq!(find("GetRequest--spec-caddy.bin").version, None);
}

#[test]
fn every_fixture_file_is_in_the_table() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".bin") && !CASES.iter().any(|c| c.file == name) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "fixtures without an expectation: {missing:?}");
}

#[test]
fn builtin_parses_and_has_the_probes_the_prober_needs() {
    let parsed = ProbeDb::parse(BUILTIN_TEXT, "service-probes.txt");
    assert!(parsed.is_ok(), "{}", parsed.unwrap_err());
    let db = db();
    let null = db.probe(id(TCP, "NULL"));
    assert!(null.payload.is_empty());
    assert!(null.tcpwrapped.is_some());
    assert_eq!(db.probe(id(TCP, "GetRequest")).payload, b"GET / HTTP/1.0\r\n\r\n");
    for name in [
        "GenericLines",
        "HTTPOptions",
        "TLSSessionReq",
        "SMTPEhlo",
        "DNSVersionBindReqTCP",
        "DNSStatusRequestTCP",
        "RedisInfo",
        "MemcachedStats",
        "MQTTConnect",
        "PostgresStartup",
        "MongoDBBuildInfo",
        "LDAPBindReq",
        "RDPConnectionRequest",
        "SMBNegotiate",
        "SIPOptions",
        "RTSPRequest",
        "FingerRoot",
        "IdentQuery",
        "Socks5Greeting",
        "Socks4Connect",
        "HTTPProxyConnect",
    ] {
        id(TCP, name);
    }
    for name in [
        "DNSVersionBindReq",
        "DNSStatusRequest",
        "SNMPv1GetRequest",
        "SNMPv2cGetRequest",
        "NTPRequest",
        "MemcachedUDPStats",
        "SIPOptions",
    ] {
        id(UDP, name);
    }
    // The TLS probe is a well-formed TLS 1.2 ClientHello: record length and handshake length agree.
    let hello = &db.probe(id(TCP, "TLSSessionReq")).payload;
    assert_eq!(&hello[..3], b"\x16\x03\x01");
    assert_eq!(usize::from(u16::from_be_bytes([hello[3], hello[4]])), hello.len() - 5);
    assert_eq!(hello[5], 1);
    assert_eq!(usize::from(u16::from_be_bytes([hello[7], hello[8]])) + 4, hello.len() - 5);
    // Length-prefixed DNS over TCP and the SMB NetBIOS header announce the right lengths.
    for name in ["DNSVersionBindReqTCP", "DNSStatusRequestTCP"] {
        let p = &db.probe(id(TCP, name)).payload;
        assert_eq!(usize::from(u16::from_be_bytes([p[0], p[1]])), p.len() - 2, "{name}");
    }
    let smb = &db.probe(id(TCP, "SMBNegotiate")).payload;
    assert_eq!(u32::from_be_bytes([smb[0], smb[1], smb[2], smb[3]]) as usize, smb.len() - 4);
    // CONNECT, then the pipelined SUBSCRIBE: each announces its own remaining length.
    let mqtt = &db.probe(id(TCP, "MQTTConnect")).payload;
    let connect = usize::from(mqtt[1]) + 2;
    assert_eq!(mqtt[connect], 0x82);
    assert_eq!(usize::from(mqtt[connect + 1]), mqtt.len() - connect - 2);
    let pg = &db.probe(id(TCP, "PostgresStartup")).payload;
    assert_eq!(u32::from_be_bytes([pg[0], pg[1], pg[2], pg[3]]) as usize, pg.len());
    let mongo = &db.probe(id(TCP, "MongoDBBuildInfo")).payload;
    assert_eq!(u32::from_le_bytes([mongo[0], mongo[1], mongo[2], mongo[3]]) as usize, mongo.len());
    assert_eq!(db.probe(id(UDP, "NTPRequest")).payload.len(), 48);
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed databases
// ---------------------------------------------------------------------------------------------------------------

fn error_of(text: &str) -> String {
    ProbeDb::parse(text, "test.db").expect_err("should not parse").to_string()
}

#[test]
fn databases_past_the_limits_are_refused_at_the_line() {
    use tojimari_probedb::limits::{MAX_MATCHES, MAX_PROBES};
    // One match line too many, all valid: refused at the first line past the cap.
    let mut text = String::from("Probe TCP NULL q||\n");
    for _ in 0..=MAX_MATCHES {
        text.push_str("match ssh m|^SSH-([\\d.]+)-| p/SSH/ v/$1/\n");
    }
    let err = error_of(&text);
    assert!(err.starts_with(&format!("test.db:{}: more than {MAX_MATCHES} match lines", MAX_MATCHES + 2)), "{err}");
    let mut text = String::new();
    for n in 0..=MAX_PROBES {
        text.push_str(&format!("Probe TCP P{n} q|x|\n"));
    }
    let err = error_of(&text);
    assert!(err.starts_with(&format!("test.db:{}: more than {MAX_PROBES} probes", MAX_PROBES + 1)), "{err}");
    // A pattern that would compile to gigabytes is refused, not built.
    let err = error_of("Probe TCP NULL q||\nmatch x m|(?:a{1000}){1000}|\n");
    assert!(err.starts_with("test.db:2: bad pattern"), "{err}");
    // Patterns each within their own limit (some 160 KiB compiled) cannot add up past the total.
    let mut text = String::from("Probe TCP NULL q||\n");
    for _ in 0..450 {
        text.push_str("match x m|(?:[a-z0-9]{50}){40}|\n");
    }
    let err = error_of(&text);
    assert!(err.contains("the patterns so far compile to more than 64 MiB"), "{err}");
}

#[test]
fn malformed_lines_name_file_and_line() {
    let head = "# comment\n\nProbe TCP NULL q||\n";
    let cases: &[(&str, &str)] = &[
        ("Prob TCP X q|a|\n", "unknown directive 'Prob'"),
        ("match ssh m|^SSH-| p/OpenSSH\n", "unterminated"),
        ("match ssh m|^SSH-(|\n", "bad pattern"),
        ("match ssh m|^SSH-(?=x)|\n", "bad pattern"),
        ("Probe TCP X q|\\q|\n", "unknown escape"),
        ("ports 80-70\n", "bad port or port range '80-70'"),
        ("ports 80,x\n", "bad port"),
        ("rarity 0\n", "rarity must be 1..9"),
        ("rarity 10\n", "rarity must be 1..9"),
        ("match ssh m|a|z\n", "unknown pattern flag 'z'"),
        ("match ssh m|a| q/x/\n", "unknown version field 'q'"),
        ("match ssh m|a| v/$1/\n", "group 1"),
        ("softmatch ssh m|a| p/x/\n", "softmatch takes no version fields"),
        ("Probe TCP NULL q|x|\n", "duplicate probe"),
        ("Probe SCTP X q|x|\n", "unknown transport"),
        ("Probe UDP X q||\n", "needs a payload"),
        ("fallback Nope\n", "unknown Tcp probe 'Nope'"),
        ("totalwaitms 0\n", "milliseconds"),
        ("rarity 2\nrarity 3\n", "given twice"),
    ];
    for (body, message) in cases {
        let err = error_of(&format!("{head}{body}"));
        let line = if body.starts_with("rarity 2") { 5 } else { 4 };
        assert!(err.starts_with(&format!("test.db:{line}: ")), "{body:?} gave {err}");
        assert!(err.contains(message), "{body:?} gave {err}, expected {message:?}");
    }
}

#[test]
fn match_before_any_probe() {
    assert_eq!(error_of("\nmatch ssh m|^SSH-|\n"), "test.db:2: 'match' before any Probe line");
    assert_eq!(error_of("ports 80\n"), "test.db:1: 'ports' before any Probe line");
}

// ---------------------------------------------------------------------------------------------------------------
// Selection and match order
// ---------------------------------------------------------------------------------------------------------------

const SMALL: &str = "\
Probe TCP NULL q||
match ssh m|^SSH-| p/from NULL/
softmatch ftp m|^220 |
Probe TCP Rare q|r|
rarity 9
match http m|^HTTP/| p/rare/
Probe TCP Web q|GET|
rarity 3
ports 80,8000-8010
sslports 443
fallback Rare
match x m|^X| p/own/
softmatch http m|^HTTP/1|
Probe TCP Common q|c|
rarity 1
Probe TCP AlsoThree q|t|
rarity 3
ports 8080
match ftp m|^220 FTP| p/own ftp/
Probe UDP Dns q|d|
rarity 1
ports 53
";

fn names(db: &ProbeDb, ids: &[ProbeId]) -> Vec<String> {
    ids.iter().map(|&i| db.probe(i).name.clone()).collect()
}

#[test]
fn select_orders_null_then_port_listed_then_by_rarity() {
    let db = ProbeDb::parse(SMALL, "small").unwrap();
    let sel = |port, intensity, tls, soft| names(&db, &db.select(TCP, port, intensity, tls, soft));
    assert_eq!(sel(80, 7, false, None), ["NULL", "Web", "Common", "AlsoThree"]);
    assert_eq!(sel(9999, 7, false, None), ["NULL", "Common", "Web", "AlsoThree"]);
    assert_eq!(sel(9999, 9, false, None), ["NULL", "Common", "Web", "AlsoThree", "Rare"]);
    // Intensity 0: only the NULL probe and the probes listing the port.
    assert_eq!(sel(8005, 0, false, None), ["NULL", "Web"]);
    assert_eq!(sel(9999, 0, false, None), ["NULL"]);
    // Inside TLS, sslports count and plain ports do not.
    assert_eq!(sel(443, 0, true, None), ["NULL", "Web"]);
    assert_eq!(sel(80, 0, true, None), ["NULL"]);
    // After a soft match: only probes with a hard line for the service (own or fallback's), no NULL.
    assert_eq!(sel(80, 9, false, Some("http")), ["Web", "Rare"]);
    assert_eq!(sel(8080, 0, false, Some("ftp")), ["AlsoThree"]);
    assert!(sel(80, 9, false, Some("nothing")).is_empty());
    // UDP has no NULL probe.
    assert_eq!(names(&db, &db.select(UDP, 53, 0, false, None)), ["Dns"]);
    assert_eq!(names(&db, &db.select(UDP, 9999, 9, false, None)), ["Dns"]);
}

#[test]
fn builtin_select_for_common_ports() {
    let db = db();
    let tcp80 = names(db, &db.select(TCP, 80, 7, false, None));
    assert_eq!(tcp80[0], "NULL");
    assert_eq!(tcp80[1], "GetRequest");
    assert!(tcp80.iter().position(|n| n == "GetRequest") < tcp80.iter().position(|n| n == "RedisInfo"));
    let light = names(db, &db.select(TCP, 6379, 0, false, None));
    assert_eq!(light, ["NULL", "RedisInfo"]);
    let udp = names(db, &db.select(UDP, 161, 0, false, None));
    assert_eq!(udp, ["SNMPv1GetRequest", "SNMPv2cGetRequest"]);
    let https = names(db, &db.select(TCP, 443, 0, true, None));
    assert_eq!(https, ["NULL", "GetRequest", "HTTPOptions"]);
    let soft_http = names(db, &db.select(TCP, 8080, 9, false, Some("http")));
    assert!(!soft_http.contains(&"NULL".to_string()));
    assert!(soft_http.contains(&"GetRequest".to_string()) && soft_http.contains(&"HTTPOptions".to_string()));
    assert!(!soft_http.contains(&"RedisInfo".to_string()));
}

#[test]
fn match_order_own_then_fallback_then_null_and_hard_beats_soft() {
    let db = ProbeDb::parse(SMALL, "small").unwrap();
    let web = db.find(TCP, "Web").unwrap();
    let hit = |id, bytes: &[u8]| db.match_response(id, bytes).map(|m| (m.service, m.product, m.soft));
    assert_eq!(hit(web, b"X"), Some(("x".into(), Some("own".into()), false)));
    // Own soft match, then the fallback's hard one wins.
    assert_eq!(hit(web, b"HTTP/1.1 200"), Some(("http".into(), Some("rare".into()), false)));
    // The NULL probe's lines come last.
    assert_eq!(hit(web, b"SSH-2.0-x"), Some(("ssh".into(), Some("from NULL".into()), false)));
    // Only a soft line fits: the soft match is the answer.
    let common = db.find(TCP, "Common").unwrap();
    assert_eq!(hit(common, b"220 hello"), Some(("ftp".into(), None, true)));
    // A hard match later in order beats a soft one earlier.
    let also = db.find(TCP, "AlsoThree").unwrap();
    assert_eq!(hit(also, b"220 FTP"), Some(("ftp".into(), Some("own ftp".into()), false)));
    assert_eq!(hit(web, b""), None);
    assert_eq!(hit(web, b"nothing"), None);
}

// ---------------------------------------------------------------------------------------------------------------
// No false names
// ---------------------------------------------------------------------------------------------------------------

/// xorshift64*: a fixed-seed generator, enough to make junk reproducibly.
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn all_probes() -> impl Iterator<Item = ProbeId> {
    (0..db().probes().len()).map(ProbeId)
}

#[test]
fn random_bytes_match_nothing() {
    let mut junk = Junk(0x746f_6a69_6d61_7269);
    for round in 0..300 {
        let len = 1 + (junk.next() % 2048) as usize;
        let bytes = junk.bytes(len);
        for probe in all_probes() {
            let got = db().match_response(probe, &bytes);
            assert!(got.is_none(), "round {round}, {} on {len} random bytes: {got:?}", db().probe(probe).name);
        }
    }
}

#[test]
fn zero_bytes_match_nothing() {
    for len in [1, 2, 8, 48, 1500, 70_000] {
        let bytes = vec![0u8; len];
        for probe in all_probes() {
            assert_eq!(db().match_response(probe, &bytes), None, "{} on {len} zero bytes", db().probe(probe).name);
        }
    }
}

#[test]
fn a_megabyte_of_junk_matches_nothing() {
    let mut junk = Junk(42);
    let mut bytes = junk.bytes(1 << 20);
    for probe in all_probes() {
        assert_eq!(db().match_response(probe, &bytes), None);
    }
    // The same behind an HTTP status line: at most the generic soft match, never a product.
    let mut http = b"HTTP/1.1 200 OK\r\n".to_vec();
    http.append(&mut bytes);
    let m = db().match_response(id(TCP, "GetRequest"), &http).unwrap();
    assert_eq!((m.service.as_str(), m.soft, m.product), ("http", true, None));
}

#[test]
fn http_looking_garbage_gets_no_product() {
    let mut junk = Junk(7);
    let get = id(TCP, "GetRequest");
    for _ in 0..50 {
        let mut answer = b"HTTP/1.1 200 OK\r\nServer: ".to_vec();
        answer.extend(junk.bytes(64).into_iter().map(|b| b & 0x1f));
        answer.extend_from_slice(b"\r\n\r\n");
        let m = db().match_response(get, &answer).unwrap();
        assert!(m.soft && m.product.is_none(), "{m:?}");
    }
    // A version-looking Server value still needs the header to be a header, not text in the body.
    let body_only = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nServer: nginx/1.2.3\r\n";
    let m = db().match_response(get, body_only).unwrap();
    assert!(m.soft && m.product.is_none(), "{m:?}");
    // Not even a status line: nothing.
    assert_eq!(db().match_response(get, b"HTTP/9 lol\r\nServer: nginx/1.0\r\n"), None);
}

#[test]
fn matching_looks_at_the_first_64_kib_only() {
    let stats = id(TCP, "MemcachedStats");
    let answer = |padding: usize| {
        let mut a = b"STAT pid 1\r\n".to_vec();
        while a.len() < padding {
            a.extend_from_slice(b"STAT filler 0\r\n");
        }
        a.extend_from_slice(b"STAT version 1.6.18\r\nEND\r\n");
        a
    };
    let near = answer(MAX_RESPONSE - 100);
    assert!(near.len() <= MAX_RESPONSE);
    assert_eq!(db().match_response(stats, &near).and_then(|m| m.version).as_deref(), Some("1.6.18"));
    let far = answer(MAX_RESPONSE + 10);
    assert_eq!(db().match_response(stats, &far), None);
}
