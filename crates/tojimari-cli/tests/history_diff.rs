//! `tojimari history` and `tojimari diff`, the real binary on stores filled through the store API (SQLite in a
//! temporary directory, and a real PostgreSQL through `--db postgres://...`). Folded ports and certificate
//! fingerprints are added with plain SQL where the writer does not write them.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use tojimari_core::report::{HostReport, HostState};
use tojimari_core::{Finding, PortResult, PortState, Protocol, Reason, ServiceInfo, ServiceMethod, Severity};
use tojimari_store::{ScanStart, ScanStatus, Store};
use tojimari_testbed::Scratch;

fn tojimari(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari"))
        .args(args)
        .env_remove("TOJIMARI_DB")
        .env("XDG_DATA_HOME", std::env::temp_dir().join("tojimari-cli-hd-nowhere"))
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn start(ms: i64, targets: &str) -> ScanStart {
    ScanStart {
        argv: format!("tojimari scan {targets}"),
        profile: "scan".into(),
        targets: targets.into(),
        ports: "1-1000".into(),
        started_ms: ms,
        writer_host: "test".into(),
        writer_pid: 1,
        writer_boot: "boot".into(),
        ..ScanStart::default()
    }
}

/// (port, state, service, version, finding)
type P<'a> = (u16, PortState, Option<&'a str>, Option<&'a str>, Option<(&'a str, &'a str)>);

fn host(addr: &str, ports: &[P]) -> HostReport {
    HostReport {
        addr: addr.parse().unwrap(),
        hostnames: Vec::new(),
        state: HostState::Up,
        state_reason: Reason::SynAck,
        state_reason_ttl: 0,
        ports: ports
            .iter()
            .map(|&(port, state, service, version, finding)| {
                let mut r = PortResult::new(Protocol::Tcp, port, state, Reason::SynAck);
                r.service = service.map(|s| {
                    let mut info = ServiceInfo::named(s, ServiceMethod::Probed, 10);
                    info.version = version.map(str::to_string);
                    info.findings = finding
                        .iter()
                        .map(|&(id, evidence)| Finding {
                            id: id.into(),
                            severity: Severity::Medium,
                            evidence: evidence.into(),
                            advice: String::new(),
                        })
                        .collect();
                    Box::new(info)
                });
                r
            })
            .collect(),
        start: SystemTime::UNIX_EPOCH,
        end: SystemTime::UNIX_EPOCH + Duration::from_secs(1),
        times: None,
        complete: true,
        timed_out: false,
        os: None,
        trace: None,
    }
}

/// `hosts` as finished at `ms` (the store dates observations by the host's end).
fn at(ms: u64, mut hosts: Vec<HostReport>) -> Vec<HostReport> {
    for h in &mut hosts {
        h.end = SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
    }
    hosts
}

const NET: &str = "198.18.0.0/24";

/// Scans 1 and 2 (complete, one scope), 3 (interrupted, same scope), 4 (complete, another scope).
fn fill(db: &str, sql: &dyn Fn(&str)) {
    use PortState::*;
    let store = Store::open(db).unwrap();
    let mut ids = BTreeMap::new();
    let s1 = store.begin_scan(&start(1_000_000, NET)).unwrap();
    store
        .record_hosts(
            s1,
            &at(
                1_000_500,
                vec![
                    host(
                        "198.18.0.2",
                        &[
                            (22, Open, Some("ssh"), Some("9.2p1"), None),
                            (23, Open, Some("telnet"), None, Some(("telnet-cleartext", "login:"))),
                            (80, Closed, None, None, None),
                            (443, Open, Some("https"), None, None),
                            (8443, Filtered, None, None, None),
                        ],
                    ),
                    host("198.18.0.3", &[(25, Open, Some("smtp"), None, None)]),
                ],
            ),
            1_000_500,
        )
        .unwrap();
    store.finish_scan(s1, ScanStatus::Complete, 1_001_000).unwrap();
    let s2 = store.begin_scan(&start(2_000_000, NET)).unwrap();
    store
        .record_hosts(
            s2,
            &at(
                2_000_500,
                vec![
                    host(
                        "198.18.0.2",
                        &[
                            (22, Open, Some("ssh"), Some("9.6p1"), None),
                            (23, Closed, None, None, None),
                            (80, Open, Some("http"), None, Some(("http-dir-listing", "Index of /"))),
                            (443, Open, Some("https"), None, None),
                            (8443, Open, Some("https-alt"), None, None),
                        ],
                    ),
                    host("198.18.0.4", &[(8080, Open, Some("http-proxy"), None, None)]),
                ],
            ),
            2_000_500,
        )
        .unwrap();
    store.finish_scan(s2, ScanStatus::Complete, 2_001_000).unwrap();
    let s3 = store.begin_scan(&start(3_000_000, NET)).unwrap();
    store
        .record_hosts(s3, &at(3_000_500, vec![host("198.18.0.2", &[(22, Open, Some("ssh"), None, None)])]), 3_000_500)
        .unwrap();
    store.finish_scan(s3, ScanStatus::Interrupted, 3_001_000).unwrap();
    let s4 = store.begin_scan(&start(4_000_000, "198.18.0.2")).unwrap();
    store
        .record_hosts(s4, &at(4_000_500, vec![host("198.18.0.2", &[(22, Open, Some("ssh"), None, None)])]), 4_000_500)
        .unwrap();
    store.finish_scan(s4, ScanStatus::Complete, 4_001_000).unwrap();
    for s in [s1, s2, s3, s4] {
        ids.insert(s.no, s.id);
    }
    let h2 = "(SELECT id FROM hosts WHERE addr = '198.18.0.2')";
    // Scan 1 covered 1-1000 (the rest closed, folded); scan 2 only 1-500.
    sql(&format!(
        "INSERT INTO port_folds (scan_id, host_id, proto, state, reason, count, ports) VALUES \
         ({}, {h2}, 'tcp', 'closed', 'reset', 995, '1-21,24-79,81-442,444-1000')",
        ids[&1]
    ));
    sql(&format!(
        "INSERT INTO port_folds (scan_id, host_id, proto, state, reason, count, ports) VALUES \
         ({}, {h2}, 'tcp', 'closed', 'reset', 495, '1-21,24-79,81-442,444-500')",
        ids[&2]
    ));
    sql(&format!("UPDATE port_obs SET cert_sha256 = 'aa11' WHERE scan_id = {} AND port = 443", ids[&1]));
    sql(&format!("UPDATE port_obs SET cert_sha256 = 'bb22' WHERE scan_id = {} AND port = 443", ids[&2]));
}

fn sqlite_sql(db: &str) -> impl Fn(&str) + '_ {
    move |statement: &str| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{db}")).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut c).await.unwrap();
        });
    }
}

/// The default diff (scans 1 and 2) in text: every kind of change, exit 1.
fn the_default_diff_shows_every_change(db: &str) {
    let out = tojimari(&["diff", "--db", db]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("-Scan 1: scan 198.18.0.0/24 -p 1-1000"), "{stdout}");
    assert!(lines[1].starts_with("+Scan 2: scan 198.18.0.0/24 -p 1-1000"), "{stdout}");
    let has = |want: &[&str]| {
        let at = lines.iter().position(|l| l.starts_with(want[0]));
        let at = at.unwrap_or_else(|| panic!("no line {:?} in\n{stdout}", want[0]));
        for (i, w) in want.iter().enumerate() {
            assert!(lines.get(at + i).is_some_and(|l| l.starts_with(w)), "{w:?} after {:?} in\n{stdout}", want[0]);
        }
    };
    // Service version changed, opened, closed, filtered to open.
    has(&["-22/tcp", "+22/tcp"]);
    assert!(stdout.contains("ssh 9.2p1") && stdout.contains("ssh 9.6p1"), "{stdout}");
    has(&["-80/tcp        closed", "+80/tcp        open http"]);
    has(&["-23/tcp        open telnet", "+23/tcp        closed"]);
    has(&["-8443/tcp      filtered", "+8443/tcp      open https-alt"]);
    // The certificate changed on an unchanged port.
    has(&[" 443/tcp       open https", "-|  certificate SHA-256: aa11", "+|  certificate SHA-256: bb22"]);
    // What scan 2 did not cover is not scanned, never closed.
    has(&["-501-1000/tcp  closed  (500 ports, folded)", "+501-1000/tcp  not scanned"]);
    // Findings resolved (telnet closed) and new (the listing on 80).
    has(&["-|_ 23/tcp telnet-cleartext (medium): login:"]);
    has(&["+|_ 80/tcp http-dir-listing (medium): Index of /"]);
    // Hosts down and up.
    has(&[" 198.18.0.3:", "-Host is up.", "+Host is down (no answer recorded).", "-25/tcp        open smtp"]);
    has(&["+198.18.0.4:", "+Host is up.", "+8080/tcp      open http-proxy"]);
    let last = lines.last().unwrap();
    assert!(last.starts_with("Differences from scan 1 to scan 2:"), "{last}");
    for part in ["1 host(s) up", "1 host(s) down", "3 port(s) opened", "1 port(s) closed", "500 port(s) not scanned"] {
        assert!(last.contains(part), "{part} in {last}");
    }
}

fn interrupted_unknown_and_same(db: &str) {
    // An interrupted baseline is refused with one line, exit 2; the default never picks it.
    let out = tojimari(&["diff", "3", "--db", db]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: scan 3 is interrupted and cannot be the baseline (hint: "), "{err}");
    assert!(out.stdout.is_empty());
    // As B it is compared, with a note.
    let out = tojimari(&["diff", "2", "3", "--db", db]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).starts_with("note: scan 3 is interrupted"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("+80/tcp        not scanned"), "{}", text(&out.stdout));
    for (args, want) in [
        (vec!["diff", "99"], "error: there is no scan 99 in the store (hint: "),
        (vec!["diff", "x1"], "error: \"x1\" is not a scan"),
        (vec!["diff", "4"], "error: no complete scan after scan 4 has the same scope (hint: "),
    ] {
        let mut args = args;
        args.extend(["--db", db]);
        let out = tojimari(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).starts_with(want), "{args:?}: {}", text(&out.stderr));
    }
    // The same scan twice: no differences, exit 0.
    let out = tojimari(&["diff", "1", "1", "--db", db]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with("No differences between scan 1 and scan 1.\n"), "{}", text(&out.stdout));
}

fn jsonl_and_xml(db: &str, dir: &Scratch) {
    let out = tojimari(&["diff", "latest~3", "latest~2", "--jsonl", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["type"], "diff");
    assert_eq!((lines[0]["a"]["no"].as_i64(), lines[0]["b"]["no"].as_i64()), (Some(1), Some(2)));
    assert_eq!(lines[0]["counts"]["not_scanned"], 500);
    let find = |ty: &str, key: &str, value: serde_json::Value| {
        lines.iter().find(|l| l["type"] == ty && l[key] == value).unwrap_or_else(|| panic!("{ty} {key}={value}"))
    };
    let p80 = find("port", "port", 80.into());
    assert_eq!(
        (p80["change"].as_str(), p80["a"]["state"].as_str(), p80["b"]["state"].as_str()),
        (Some("opened"), Some("closed"), Some("open"))
    );
    let range = find("port", "ports", "501-1000".into());
    assert_eq!((range["change"].as_str(), range["count"].as_i64()), (Some("not-scanned"), Some(500)));
    assert!(range["b"].is_null());
    let p443 = find("port", "port", 443.into());
    assert_eq!((p443["cert_changed"].as_bool(), p443["b"]["cert_sha256"].as_str()), (Some(true), Some("bb22")));
    assert_eq!(find("host", "addr", "198.18.0.3".into())["change"], "down");
    assert_eq!(find("finding", "id", "telnet-cleartext".into())["change"], "resolved");

    // XML on stdout, and the three formats to files at once.
    let (x, j, n) = (dir.path("d.xml"), dir.path("d.jsonl"), dir.path("d.txt"));
    let out = tojimari(&["diff", "--xml", "-oX", &x, "-oJ", &j, "-oN", &n, "--db", db]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = text(&out.stdout);
    assert_eq!(std::fs::read_to_string(&x).unwrap(), xml);
    assert!(std::fs::read_to_string(&j).unwrap().starts_with("{\"a\":"));
    assert!(std::fs::read_to_string(&n).unwrap().starts_with("-Scan 1:"));
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut portdiffs = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e)) if e.name().as_ref() == "portdiff" => {
                let attrs: BTreeMap<String, String> = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned(),
                        )
                    })
                    .collect();
                portdiffs.push((attrs["ports"].clone(), attrs["change"].clone()));
            }
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{xml}"),
        }
    }
    for want in [
        ("80", "opened"),
        ("23", "closed"),
        ("8443", "opened"),
        ("443", "certificate"),
        ("22", "service"),
        ("501-1000", "not-scanned"),
    ] {
        assert!(portdiffs.iter().any(|(p, c)| (p.as_str(), c.as_str()) == want), "{want:?} in {portdiffs:?}");
    }
    assert!(xml.contains("<hostdiff change=\"down\">") && xml.contains("<hostdiff change=\"up\">"), "{xml}");
}

fn history(db: &str) {
    let out = tojimari(&["history", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
    // no, date, time, profile, status, hosts up, open ports, targets
    let got: Vec<(&str, &str, &str, &str, &str)> = rows.iter().map(|r| (r[0], r[4], r[5], r[6], r[7])).collect();
    assert_eq!(
        got,
        [
            ("4", "complete", "1", "1", "198.18.0.2"),
            ("3", "interrupted", "1", "1", NET),
            ("2", "complete", "2", "5", NET),
            ("1", "complete", "2", "4", NET)
        ],
        "{stdout}"
    );
    assert!(stdout.contains("1970-01-01 00:16:40"), "{stdout}");

    let out = tojimari(&["history", "198.18.0.2", "--db", db]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("198.18.0.2: recorded by 4 scan(s), up in 4"), "{stdout}");
    let p80 = stdout.split("\n80/tcp").nth(1).unwrap_or_else(|| panic!("{stdout}"));
    let p80: Vec<&str> = p80.lines().take(5).collect();
    // Closed in scan 1, open in scan 2: the door is tracked from when it was first seen open.
    assert!(p80[0].contains("now open http; first seen 1970-01-01 00:33:20"), "{p80:?}");
    assert!(p80[1].starts_with("  scan 1") && p80[1].ends_with("closed"), "{p80:?}");
    assert!(p80[2].starts_with("  scan 2") && p80[2].ends_with("open http"), "{p80:?}");
    assert!(p80[3].starts_with("  scan 3") && p80[3].ends_with("not scanned"), "{p80:?}");
    // A block: every recorded host in it.
    let out = tojimari(&["history", "198.18.0.0/30", "--db", db]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n198.18.0.2:") && stdout.contains("\n198.18.0.3:") && !stdout.contains("198.18.0.4:"),
        "{stdout}"
    );
    let out = tojimari(&["history", "198.18.9.9", "--db", db]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: the result store"), "{}", text(&out.stderr));
    let out = tojimari(&["history", "not/a/target", "--db", db]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sqlite_history_and_diff() {
    let dir = Scratch::new("sqlite");
    let db = dir.path("store.db");
    fill(&db, &sqlite_sql(&db));
    the_default_diff_shows_every_change(&db);
    interrupted_unknown_and_same(&db);
    jsonl_and_xml(&db, &dir);
    history(&db);
    // TOJIMARI_DB names the store when --db does not.
    let out = Command::new(env!("CARGO_BIN_EXE_tojimari")).args(["diff"]).env("TOJIMARI_DB", &db).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn postgres_history_and_diff() {
    let server = tojimari_testbed::pg_or_skip!();
    let db = server.create_database("clidiff").unwrap();
    fill(&db, &|statement: &str| {
        server.psql("clidiff", statement).unwrap();
    });
    the_default_diff_shows_every_change(&db);
    interrupted_unknown_and_same(&db);
    history(&db);
}

#[test]
fn stores_that_cannot_be_read_and_too_few_scans() {
    let dir = Scratch::new("bad");
    // Not there: named, nothing created.
    let missing = dir.path("missing.db");
    let out = tojimari(&["diff", "--db", &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with(&format!("error: no result store at {missing} (hint: ")));
    assert!(!std::path::Path::new(&missing).exists());
    // Not a database.
    let junk = dir.path("junk.db");
    std::fs::write(&junk, "this is not a database, only some text long enough to have a header").unwrap();
    for cmd in ["diff", "history"] {
        let out = tojimari(&[cmd, "--db", &junk]);
        assert_ne!(out.status.code(), Some(0), "{cmd}");
        let err = text(&out.stderr);
        assert!(err.starts_with("error: ") && err.contains("junk.db") && err.lines().count() == 1, "{cmd}: {err}");
    }
    // One complete scan: nothing to compare.
    let db = dir.path("one.db");
    let store = Store::open(&db).unwrap();
    let s = store.begin_scan(&start(1_000, NET)).unwrap();
    store
        .record_hosts(s, &at(1_000, vec![host("198.18.0.2", &[(22, PortState::Open, None, None, None)])]), 1_000)
        .unwrap();
    store.finish_scan(s, ScanStatus::Complete, 2_000).unwrap();
    drop(store);
    let out = tojimari(&["diff", "--db", &db]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: the store has no two complete scans with the same scope"));
    // An empty store: history says so, exit 0.
    let empty = dir.path("empty.db");
    drop(Store::open(&empty).unwrap());
    let out = tojimari(&["history", "--db", &empty]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).starts_with("note: the result store"), "{}", text(&out.stderr));
}
