//! `watch --store` and `local --store`: what the defensive commands saw, kept in the result store. A real
//! capture of an nmap SYN scan replayed through `watch`, and a real listening socket of this test seen by
//! `local`, both recorded into a temporary SQLite store and read back: the store holds exactly the JSON
//! objects the commands' own `-oJ` wrote.

use std::path::Path;
use std::process::Command;

use tojimari_store::{EventKind, Store};
use tojimari_testbed::Scratch;

fn tojimari(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tojimari")).args(args).output().expect("run tojimari")
}

#[test]
fn watch_records_every_alert_record_it_writes() {
    let dir = Scratch::new("watch");
    let db = dir.0.join("store.db");
    let json = dir.0.join("alerts.jsonl");
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tojimari-scandetect/tests/captures/nmap-sS.pcap");
    let out = tojimari(&[
        "watch",
        "--pcap",
        capture.to_str().unwrap(),
        "-q",
        "-oJ",
        json.to_str().unwrap(),
        "--store",
        "--db",
        db.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let written: Vec<String> = std::fs::read_to_string(&json).unwrap().lines().map(str::to_string).collect();
    assert!(!written.is_empty(), "the capture raised no alert: {stderr}");
    assert!(stderr.contains(&format!("note: recorded {} watch alert record", written.len())), "{stderr}");
    let store = Store::open(db.to_str().unwrap()).unwrap();
    let mut rows = store.events(EventKind::WatchAlert, 1000).unwrap();
    rows.reverse();
    let bodies: Vec<String> = rows.iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies, written);
    assert!(rows.iter().all(|r| r.batch == rows[0].batch));
    let first: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(rows[0].subject, first["src"].as_str().unwrap());
}

#[test]
fn local_records_a_snapshot_of_the_listening_sockets() {
    let dir = Scratch::new("local");
    let db = dir.0.join("store.db");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = tojimari(&["local", "--tcp", "--store", "--db", db.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("note: recorded "), "{stderr}");
    let store = Store::open(db.to_str().unwrap()).unwrap();
    let rows = store.events(EventKind::LocalSocket, 10_000).unwrap();
    let ours = rows.iter().find(|r| r.subject == format!("127.0.0.1:{port}/tcp"));
    let ours = ours.unwrap_or_else(|| panic!("port {port} not in the snapshot: {rows:?}"));
    let body: serde_json::Value = serde_json::from_str(&ours.body).unwrap();
    assert_eq!(body["port"], port);
    assert_eq!(body["type"], "socket");
    drop(listener);

    // --stop does not record; --db without --store is refused.
    let out = tojimari(&["local", "--port", "9", "--stop", "--store", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = tojimari(&["local", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
