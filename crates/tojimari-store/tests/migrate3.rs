//! Schema 3 on a store written before it: a store built with migrations 1 and 2 only (rows written with
//! plain SQL, as an older tojimari left them: no digests, no open-port counts, no products in the current
//! state) is opened by this tojimari, which applies migration 3. Its backfills give the right totals and
//! ports-table products, and comparisons of the old scans (no digests) still equal `diff` over whole
//! snapshots. SQLite and PostgreSQL.

use tojimari_store::browse::{PortFilter, compare_scans};
use tojimari_store::{Store, diff_scans};

/// Applies migrations 1 and 2 only to the database at `url`, then writes two scans' rows.
fn old_store(url: &str) {
    let dir = std::env::temp_dir().join(format!("tojimari-migrate3-{}-{}", std::process::id(), url.len()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for name in ["0001_init.sql", "0002_events.sql"] {
        std::fs::copy(here.join(name), dir.join(name)).unwrap();
    }
    sqlx::any::install_default_drivers();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap().run(&pool).await.unwrap();
        let detail = r#"{"start":0,"end":0,"complete":true}"#;
        let mut statements =
            vec!["INSERT INTO hosts (id, addr) VALUES (1, '198.18.0.2'), (2, '198.18.0.3')".to_string()];
        for (id, no) in [(10, 1), (20, 2)] {
            statements.push(format!(
                "INSERT INTO scans (id, no, argv, profile, scope_targets, scope_ports, started_ms, ended_ms, status, \
                 source, writer_host, writer_pid, writer_boot) VALUES ({id}, {no}, 'tojimari scan', 'scan', \
                 '198.18.0.0/24', '1-1000', {no}000, {no}500, 'complete', 'tojimari', 'old', 1, 'b')"
            ));
            for (host, seq) in [(1, 0), (2, 1)] {
                statements.push(format!(
                    "INSERT INTO host_obs (scan_id, host_id, state, reason, hostnames, seq, seen_ms, detail) \
                     VALUES ({id}, {host}, 'up', 'syn-ack', '', {seq}, {no}000, '{detail}')"
                ));
            }
        }
        let port = |scan: i64, host: i64, port: i64, state: &str, service: &str, product: &str| {
            format!(
                "INSERT INTO port_obs (scan_id, host_id, proto, port, state, reason, service, product, reason_ttl) \
                 VALUES ({scan}, {host}, 'tcp', {port}, '{state}', 'x', '{service}', {product}, 0)"
            )
        };
        statements.extend([
            port(10, 1, 22, "open", "ssh", "'OpenSSH'"),
            port(10, 1, 80, "open", "http", "'nginx'"),
            port(10, 2, 22, "open", "ssh", "'OpenSSH'"),
            port(20, 1, 22, "open", "ssh", "'OpenSSH'"),
            port(20, 1, 80, "closed", "http", "NULL"),
            port(20, 2, 22, "open", "ssh", "'OpenSSH'"),
            port(20, 2, 443, "open", "https", "'nginx'"),
        ]);
        for (host, port, state) in [(1, 22, "open"), (1, 80, "closed"), (2, 22, "open"), (2, 443, "open")] {
            statements.push(format!(
                "INSERT INTO current_ports (host_id, proto, port, state, service, first_seen_ms, last_seen_ms, \
                 last_changed_ms, last_scan_id) VALUES ({host}, 'tcp', {port}, '{state}', NULL, 1000, 2000, 2000, 20)"
            ));
        }
        for s in statements {
            sqlx::query(sqlx::AssertSqlSafe(s)).execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn migrated(location: &str) {
    let store = Store::open(location).unwrap();
    let (s1, s2) = (store.scan_info(1).unwrap().unwrap(), store.scan_info(2).unwrap().unwrap());
    assert_eq!(store.scan_counts(&s1).unwrap().open_ports, 3, "open ports counted into the old host rows");
    assert_eq!(store.scan_counts(&s2).unwrap().open_ports, 3);
    let nginx = store.port_table(&PortFilter { product: Some("nginx".into()), ..PortFilter::default() }, 0, 10);
    let rows: Vec<(String, u16)> = nginx.unwrap().rows.into_iter().map(|r| (r.addr, r.port)).collect();
    assert_eq!(rows, [("198.18.0.3".to_string(), 443)], "the current state's products filled from the scans");
    assert_eq!(store.differing_hosts(&s1, &s2).unwrap().len(), 2, "hosts without digests are always compared");
    let full = diff_scans(&store.snapshot(&s1).unwrap(), &store.snapshot(&s2).unwrap());
    let fast = compare_scans(&store, &s1, &s2).unwrap();
    assert_eq!(fast, full);
    assert_eq!((fast.counts().opened, fast.counts().closed), (1, 1));
}

#[test]
fn sqlite_store_from_schema_2() {
    let dir = std::env::temp_dir().join(format!("tojimari-store-migrate3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("store.db").to_string_lossy().into_owned();
    old_store(&format!("sqlite://{db}?mode=rwc"));
    migrated(&db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_store_from_schema_2() {
    let server = tojimari_testbed::pg_or_skip!();
    let url = server.create_database("migrate3").unwrap();
    old_store(&url);
    migrated(&url);
}
