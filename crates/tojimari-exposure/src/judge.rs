//! The passive judgement: findings that follow from what detection already found, without sending anything.

use std::time::SystemTime;

use tojimari_core::Finding;
use tojimari_core::civil::CivilDateTime;
use tojimari_tls::CertFacts;

use crate::catalog::{self, finding};
use crate::context::CheckContext;

/// Service names (nmap's) of databases, caches and search engines that should not face a network.
const DATABASE_NAMES: &[&str] = &[
    "mysql",
    "mysqlx",
    "postgresql",
    "redis",
    "mongodb",
    "mongod",
    "memcached",
    "elasticsearch",
    "opensearch",
    "couchdb",
    "cassandra",
    "ms-sql-s",
    "oracle",
    "oracle-tns",
    "ibm-db2",
    "db2",
    "influxdb",
    "neo4j",
    "rethinkdb",
    "riak",
    "cockroachdb",
    "clickhouse",
    "couchbase",
    "arangodb",
];

/// Product substrings (lower case) that mark a database behind a generic name such as `http`.
const DATABASE_PRODUCTS: &[&str] = &["elasticsearch", "opensearch", "couchdb", "clickhouse", "influxdb", "neo4j"];

/// Every finding that follows from `ctx` alone.
pub fn judge(ctx: &CheckContext) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = ctx.name();
    let clear = !ctx.in_tls();

    if clear && name == "telnet" {
        out.push(finding(catalog::TELNET_CLEARTEXT, format!("{} answers at {} without TLS", ctx.describe(), ctx.addr)));
    }
    if clear && name == "ftp" {
        out.push(finding(catalog::FTP_CLEARTEXT, format!("{} answers at {} without TLS", ctx.describe(), ctx.addr)));
    }
    if name == "ms-wbt-server" || name == "rdp" {
        out.push(finding(catalog::RDP_EXPOSED, format!("{} reachable at {}", ctx.describe(), ctx.addr)));
    }
    if name == "vnc" || name.starts_with("vnc-") {
        out.push(finding(catalog::VNC_EXPOSED, format!("{} reachable at {}", ctx.describe(), ctx.addr)));
    }
    if is_database(ctx) && !ctx.is_loopback() {
        out.push(finding(catalog::DATABASE_EXPOSED, format!("{} answers on {}", ctx.describe(), ctx.addr)));
    }
    if let Some(tls) = ctx.tls
        && let Some(leaf) = tls.leaf()
    {
        judge_leaf(leaf, ctx.now, &mut out);
    }
    judge_legacy(ctx, &mut out);
    out
}

/// Whether the service is a database by name or by product.
pub(crate) fn is_database(ctx: &CheckContext) -> bool {
    let name = ctx.name();
    let product = ctx.product();
    DATABASE_NAMES.contains(&name.as_str()) || DATABASE_PRODUCTS.iter().any(|p| product.contains(p))
}

fn judge_leaf(leaf: &CertFacts, now: SystemTime, out: &mut Vec<Finding>) {
    let subject = subject_of(leaf);
    if leaf.expired_at(now) {
        let evidence = format!("certificate {subject} expired on {} (notAfter)", utc_date(leaf.not_after));
        out.push(finding(catalog::TLS_EXPIRED, evidence));
    } else if leaf.not_yet_valid_at(now) {
        let evidence = format!("certificate {subject} is not valid before {} (notBefore)", utc_date(leaf.not_before));
        out.push(finding(catalog::TLS_EXPIRED, evidence));
    }
    if leaf.self_signed {
        out.push(finding(catalog::TLS_SELF_SIGNED, format!("certificate {subject} is issued by itself")));
    }
    if let Some(minimum) = minimum_key_bits(&leaf.key_type)
        && leaf.key_bits < minimum
    {
        let evidence = format!("certificate {subject} has a {}-bit {} key", leaf.key_bits, leaf.key_type);
        out.push(finding(catalog::TLS_WEAK_KEY, evidence));
    }
    // A self-signed certificate's own signature protects nothing, so only a CA's weak signature counts.
    let algorithm = leaf.signature_algorithm.to_ascii_lowercase();
    if !leaf.self_signed && (algorithm.contains("md5") || algorithm.contains("sha1") || algorithm.contains("sha-1")) {
        let evidence = format!("certificate {subject} is signed with {}", leaf.signature_algorithm);
        out.push(finding(catalog::TLS_WEAK_SIGNATURE, evidence));
    }
}

/// The smallest acceptable key size for a key type, or `None` when the type has no size concern.
fn minimum_key_bits(key_type: &str) -> Option<u32> {
    match key_type.to_ascii_uppercase().as_str() {
        "RSA" | "DSA" => Some(2048),
        "EC" | "ECDSA" => Some(224),
        _ => None,
    }
}

fn judge_legacy(ctx: &CheckContext, out: &mut Vec<Finding>) {
    let mut versions = ctx.legacy.map(|l| l.accepted()).unwrap_or_default();
    if let Some(tls) = ctx.tls
        && tls.version.is_legacy()
        && !versions.contains(&tls.version)
    {
        versions.push(tls.version);
        versions.sort_unstable();
    }
    if versions.is_empty() {
        return;
    }
    let names: Vec<_> = versions.iter().map(|v| v.as_str()).collect();
    out.push(finding(catalog::TLS_LEGACY_PROTOCOL, format!("{} accepts {}", ctx.addr, names.join(", "))));
}

fn subject_of(leaf: &CertFacts) -> String {
    match &leaf.common_name {
        Some(cn) => format!("CN={cn}"),
        None if !leaf.subject.is_empty() => leaf.subject.clone(),
        None => "(no subject)".to_string(),
    }
}

/// `YYYY-MM-DD` in UTC (the calendar is [`tojimari_core::civil`]; dates before 1970 are written as they are).
pub(crate) fn utc_date(t: SystemTime) -> String {
    let date = CivilDateTime::from_system_time(t).date;
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::{Duration, UNIX_EPOCH};

    use tojimari_core::{Protocol, ServiceInfo, ServiceMethod, Severity, Tunnel};
    use tojimari_tls::{LegacySupport, TlsFacts, TlsVersion};

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn now() -> SystemTime {
        // 2026-01-01T00:00:00Z
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    fn service(name: &str) -> ServiceInfo {
        ServiceInfo::named(name, ServiceMethod::Probed, 10)
    }

    fn ctx<'a>(addr: &str, service: &'a ServiceInfo) -> CheckContext<'a> {
        CheckContext {
            addr: addr.parse::<SocketAddr>().unwrap(),
            transport: Protocol::Tcp,
            service,
            tls: None,
            legacy: None,
            now: now(),
            timeout: Duration::from_secs(1),
        }
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    fn cert() -> CertFacts {
        CertFacts {
            subject: "CN=example.org".into(),
            issuer: "CN=Example CA".into(),
            common_name: Some("example.org".into()),
            sans: vec!["DNS:example.org".into()],
            not_before: now() - 30 * DAY,
            not_after: now() + 60 * DAY,
            key_type: "RSA".into(),
            key_bits: 2048,
            signature_algorithm: "sha256WithRSAEncryption".into(),
            self_signed: false,
            sha256: "00".into(),
            serial: "01".into(),
        }
    }

    fn tls(version: TlsVersion, leaf: CertFacts) -> TlsFacts {
        TlsFacts { version, cipher: "TLS13_AES_128_GCM_SHA256".into(), alpn: None, chain: vec![leaf] }
    }

    #[test]
    fn telnet_in_cleartext_fires_and_inside_tls_does_not() {
        let telnet = service("telnet");
        let found = judge(&ctx("192.0.2.5:23", &telnet));
        assert_eq!(ids(&found), ["telnet-cleartext"]);
        assert_eq!(found[0].severity, Severity::High);
        assert!(found[0].evidence.contains("192.0.2.5:23"), "{}", found[0].evidence);

        let mut telnets = service("telnet");
        telnets.tunnel = Some(Tunnel::Ssl);
        assert!(judge(&ctx("192.0.2.5:992", &telnets)).is_empty());
    }

    #[test]
    fn ftp_cleartext_names_the_product() {
        let mut ftp = service("ftp");
        ftp.product = Some("vsftpd".into());
        ftp.version = Some("3.0.3".into());
        let found = judge(&ctx("127.0.0.1:21", &ftp));
        assert_eq!(ids(&found), ["ftp-cleartext"]);
        assert!(found[0].evidence.contains("vsftpd 3.0.3"), "{}", found[0].evidence);

        let cert = cert();
        let facts = tls(TlsVersion::Tls13, cert);
        let mut c = ctx("127.0.0.1:990", &ftp);
        c.tls = Some(&facts);
        assert!(judge(&c).is_empty());
        assert!(judge(&ctx("127.0.0.1:22", &service("ssh"))).is_empty());
    }

    #[test]
    fn rdp_and_vnc_are_reported_reachable() {
        assert_eq!(ids(&judge(&ctx("127.0.0.1:3389", &service("ms-wbt-server")))), ["rdp-exposed"]);
        assert_eq!(ids(&judge(&ctx("127.0.0.1:5900", &service("vnc")))), ["vnc-exposed"]);
        assert!(judge(&ctx("127.0.0.1:80", &service("http"))).is_empty());
    }

    #[test]
    fn database_on_network_address_fires_but_not_on_loopback() {
        for name in ["mysql", "postgresql", "redis", "mongodb", "memcached", "ms-sql-s", "oracle-tns", "cassandra"] {
            let s = service(name);
            let found = judge(&ctx("198.51.100.7:1234", &s));
            assert_eq!(ids(&found), ["database-exposed"], "{name}");
            assert!(found[0].evidence.contains("198.51.100.7:1234"));
            assert!(judge(&ctx("127.0.0.1:1234", &s)).is_empty(), "{name} on loopback");
            assert!(judge(&ctx("[::1]:1234", &s)).is_empty(), "{name} on ::1");
            assert!(judge(&ctx("[::ffff:127.0.0.1]:1234", &s)).is_empty(), "{name} on mapped loopback");
        }
        let mut es = service("http");
        es.product = Some("Elasticsearch REST API".into());
        assert_eq!(ids(&judge(&ctx("[2001:db8::5]:9200", &es))), ["database-exposed"]);
        assert!(judge(&ctx("[2001:db8::5]:80", &service("http"))).is_empty());
    }

    #[test]
    fn expired_and_not_yet_valid_certificates_fire() {
        let https = service("https");
        let mut expired = cert();
        expired.not_before = now() - 400 * DAY;
        expired.not_after = now() - DAY;
        let facts = tls(TlsVersion::Tls13, expired);
        let mut c = ctx("127.0.0.1:443", &https);
        c.tls = Some(&facts);
        let found = judge(&c);
        assert_eq!(ids(&found), ["tls-expired"]);
        assert!(found[0].evidence.contains("expired on 2025-12-31"), "{}", found[0].evidence);

        let mut future = cert();
        future.not_before = now() + DAY;
        future.not_after = now() + 90 * DAY;
        let facts = tls(TlsVersion::Tls13, future);
        c.tls = Some(&facts);
        let found = judge(&c);
        assert_eq!(ids(&found), ["tls-expired"]);
        assert!(found[0].evidence.contains("not valid before 2026-01-02"), "{}", found[0].evidence);

        let facts = tls(TlsVersion::Tls13, cert());
        c.tls = Some(&facts);
        assert!(judge(&c).is_empty(), "a valid CA-signed certificate is fine");
    }

    #[test]
    fn self_signed_fires_but_its_sha1_signature_does_not() {
        let https = service("https");
        let mut own = cert();
        own.self_signed = true;
        own.issuer = own.subject.clone();
        own.signature_algorithm = "sha1WithRSAEncryption".into();
        let facts = tls(TlsVersion::Tls12, own);
        let mut c = ctx("127.0.0.1:443", &https);
        c.tls = Some(&facts);
        assert_eq!(ids(&judge(&c)), ["tls-self-signed"]);
    }

    #[test]
    fn weak_key_and_weak_ca_signature_fire() {
        let https = service("https");
        let mut weak = cert();
        weak.key_bits = 1024;
        weak.signature_algorithm = "sha1WithRSAEncryption".into();
        let facts = tls(TlsVersion::Tls12, weak);
        let mut c = ctx("127.0.0.1:443", &https);
        c.tls = Some(&facts);
        let found = judge(&c);
        assert_eq!(ids(&found), ["tls-weak-key", "tls-weak-signature"]);
        assert!(found[0].evidence.contains("1024-bit RSA"), "{}", found[0].evidence);

        let mut ec = cert();
        ec.key_type = "EC".into();
        ec.key_bits = 256;
        let facts = tls(TlsVersion::Tls12, ec);
        c.tls = Some(&facts);
        assert!(judge(&c).is_empty(), "P-256 is fine");
    }

    #[test]
    fn legacy_versions_fire_from_probe_or_negotiation() {
        let https = service("https");
        let legacy = LegacySupport { ssl3: Some(false), tls10: Some(true), tls11: Some(true) };
        let mut c = ctx("127.0.0.1:443", &https);
        c.legacy = Some(&legacy);
        let found = judge(&c);
        assert_eq!(ids(&found), ["tls-legacy-protocol"]);
        assert!(found[0].evidence.ends_with("accepts TLSv1.0, TLSv1.1"), "{}", found[0].evidence);

        let facts = tls(TlsVersion::Tls10, cert());
        let mut c = ctx("127.0.0.1:443", &https);
        c.tls = Some(&facts);
        assert_eq!(ids(&judge(&c)), ["tls-legacy-protocol"]);

        let undetermined = LegacySupport { ssl3: None, tls10: Some(false), tls11: None };
        let facts = tls(TlsVersion::Tls13, cert());
        c.tls = Some(&facts);
        c.legacy = Some(&undetermined);
        assert!(judge(&c).is_empty());
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        assert_eq!(utc_date(now()), "2026-01-01");
        assert_eq!(utc_date(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29");
        // One calendar for every crate: a certificate dated before 1970 shows its real date, as the
        // ssl-cert detail (tojimari-tls) writes it.
        assert_eq!(utc_date(UNIX_EPOCH - DAY), "1969-12-31");
    }
}
