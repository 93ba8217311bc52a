//! `tojimari import` with the real binary, on SQLite and on a real PostgreSQL (`PgServer`): each format's
//! real sample (nmap 7.93 and masscan 1.3.2 files made on the test bed, and JSON Lines written by a real
//! `tojimari scan` of a test-bed namespace) recorded as one scan, checked through the store's API; hostile
//! and broken files refused with one `error:` line naming the file and where, exit 2, and no scan left
//! behind, even when hundreds of hosts were written before the fault; a database that cannot be opened,
//! exit 1.

// A test binary: it may say on stderr what it skipped.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use tojimari_core::report::HostReport;
use tojimari_core::{PortState, Protocol, Reason, Sink};
use tojimari_output::jsonl::JsonLinesSink;
use tojimari_store::{ScanRef, ScanStatus, Store, StoredScan};
use tojimari_testbed::{pg_or_skip, testbed_or_skip};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tojimari-store/tests/data");

/// A directory of its own, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("tojimari-cli-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn sqlite(&self) -> String {
        self.path("store/store.db").to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tojimari() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tojimari"));
    cmd.env_remove("TOJIMARI_DB");
    cmd
}

fn import(db: &str, file: &Path, extra: &[&str]) -> Output {
    tojimari().arg("import").arg("--db").arg(db).args(extra).arg(file).output().expect("tojimari runs")
}

/// (hosts, ports, scan number) of the success line.
fn imported(out: &Output) -> (u64, u64, i64) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "import failed: {stderr}");
    assert!(stderr.is_empty(), "nothing on stderr: {stderr}");
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let ["imported", hosts, "hosts", ports, "ports)", "as", "scan", no] = words[..] else {
        panic!("one line `imported N hosts (M ports) as scan K`: {stdout:?}")
    };
    let ports = ports.trim_start_matches('(');
    (hosts.parse().unwrap(), ports.parse().unwrap(), no.parse().unwrap())
}

fn stored(db: &str, no: i64) -> (StoredScan, Vec<HostReport>) {
    let store = Store::open(db).expect("the store opens");
    let scan = store.find_scan(ScanRef::No(no)).expect("reads").expect("the scan is there");
    let mut hosts = Vec::new();
    store
        .for_each_host(scan.id, |h| {
            hosts.push(h);
            Ok::<(), ()>(())
        })
        .map_err(|_| "reading hosts")
        .unwrap();
    (scan, hosts)
}

fn scan_count(db: &str) -> usize {
    Store::open(db).expect("the store opens").scans().expect("lists").len()
}

fn states(host: &HostReport) -> Vec<(Protocol, u16, PortState, Reason)> {
    host.ports.iter().map(|p| (p.proto, p.port, p.state, p.reason)).collect()
}

const TARGET: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2));

fn samples(db: &str) {
    let nmap = imported(&import(db, &Path::new(DATA).join("nmap-7.93-sS-sV-O.xml"), &[]));
    assert_eq!((nmap.0, nmap.1), (1, 3));
    let (scan, hosts) = stored(db, nmap.2);
    assert_eq!((scan.source.as_str(), scan.row.profile.as_str()), ("nmap-xml", "import"));
    assert_eq!((scan.row.status, scan.row.targets.as_str()), (ScanStatus::Complete, "198.18.0.2"));
    assert!(scan.argv.starts_with("nmap -n -sS -sV -O"), "{}", scan.argv);
    assert_eq!(scan.run.as_ref().map(|r| r.version.as_str()), Some("7.93"));
    assert_eq!(scan.summary.as_ref().map(|s| s.hosts_up), Some(1));
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].addr, TARGET);
    assert_eq!(
        states(&hosts[0]),
        [
            (Protocol::Tcp, 22, PortState::Open, Reason::SynAck),
            (Protocol::Tcp, 80, PortState::Open, Reason::SynAck),
            (Protocol::Tcp, 81, PortState::Closed, Reason::Reset),
        ]
    );
    let service = hosts[0].ports[0].service.as_ref().expect("-sV's service");
    assert_eq!((service.name.as_str(), service.conf), ("tcpwrapped", 8));
    let os = hosts[0].os.as_ref().expect("-O's report");
    assert_eq!(os.best().map(|m| (m.name.as_str(), m.accuracy)), Some(("Linux 5.3 - 5.4", 96)));

    for (file, source) in [
        ("masscan-1.3.2.xml", "masscan-xml"),
        ("masscan-1.3.2.json", "masscan-json"),
        ("masscan-1.3.2.list", "masscan-list"),
    ] {
        let (h, p, no) = imported(&import(db, &Path::new(DATA).join(file), &[]));
        assert_eq!((h, p), (1, 2), "{file}");
        let (scan, hosts) = stored(db, no);
        assert_eq!((scan.source.as_str(), scan.row.status), (source, ScanStatus::Complete), "{file}");
        assert_eq!(hosts.len(), 1, "{file}: one host, its ports grouped");
        let ports: Vec<_> = hosts[0].ports.iter().map(|p| (p.port, p.state)).collect();
        assert_eq!(ports, [(22, PortState::Open), (80, PortState::Open)], "{file}");
    }

    // Standard input, with the format forced.
    let mut child = tojimari()
        .args(["import", "--db", db, "--format", "masscan-list", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let list = std::fs::read(Path::new(DATA).join("masscan-1.3.2.list")).unwrap();
    child.stdin.take().unwrap().write_all(&list).unwrap();
    let (h, _, no) = imported(&child.wait_with_output().unwrap());
    assert_eq!((h, stored(db, no).0.source.as_str()), (1, "masscan-list"));

    // A host listed twice (nmap given one target twice): the first report is kept, and a warning says so.
    let dir = Dir::new(&format!("dup-{}", db.len()));
    let text = std::fs::read_to_string(Path::new(DATA).join("nmap-7.93-sS-sV-O.xml")).unwrap();
    let (from, to) = (text.find("<host ").unwrap(), text.find("</host>").unwrap() + "</host>".len());
    let twice = format!("{}\n{}{}", &text[..to], &text[from..to], &text[to..]);
    std::fs::write(dir.path("twice.xml"), twice).unwrap();
    let out = import(db, &dir.path("twice.xml"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.starts_with("warning: skipped 1 repeated host reports in "), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "imported 1 hosts (3 ports) as scan 6\n");
    assert_eq!(stored(db, 6).1.len(), 1);

    let numbers: Vec<i64> = Store::open(db).unwrap().scans().unwrap().iter().map(|s| s.no).collect();
    assert_eq!(numbers, [6, 5, 4, 3, 2, 1], "numbered one after another");
}

#[test]
fn each_format_is_recorded_as_one_scan_on_sqlite() {
    let dir = Dir::new("samples");
    samples(&dir.sqlite());
}

#[test]
fn each_format_is_recorded_as_one_scan_on_postgres() {
    let pg = pg_or_skip!();
    let url = pg.create_database("import_samples").expect("a database");
    samples(&url);
}

/// An nmap 7.93-style file of `hosts` hosts of 10 ports, cut `cut` bytes before its end.
fn generated_nmap(hosts: u32, cut: usize) -> Vec<u8> {
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n\
         <nmaprun scanner=\"nmap\" args=\"nmap -sS -p 1-10 198.18.0.0/22\" start=\"1796560000\" version=\"7.93\" xmloutputversion=\"1.05\">\n\
         <scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"10\" services=\"1-10\"/>\n<verbose level=\"0\"/>\n<debugging level=\"0\"/>\n",
    );
    for i in 0..hosts {
        doc.push_str(&format!(
            "<host starttime=\"1796560001\" endtime=\"1796560002\"><status state=\"up\" reason=\"arp-response\" reason_ttl=\"0\"/>\n\
             <address addr=\"198.18.{}.{}\" addrtype=\"ipv4\"/>\n<hostnames>\n</hostnames>\n<ports>",
            i / 250,
            i % 250 + 2
        ));
        for port in 1..=10 {
            doc.push_str(&format!(
                "<port protocol=\"tcp\" portid=\"{port}\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/>\
                 <service name=\"svc\" method=\"table\" conf=\"3\"/></port>\n"
            ));
        }
        doc.push_str("</ports>\n<times srtt=\"100\" rttvar=\"50\" to=\"100000\"/>\n</host>\n");
    }
    doc.push_str(
        "<runstats><finished time=\"1796560100\" timestr=\"x\" summary=\"x\" elapsed=\"100.00\" exit=\"success\"/>\
         <hosts up=\"1\" down=\"0\" total=\"1\"/>\n</runstats>\n</nmaprun>\n",
    );
    let mut bytes = doc.into_bytes();
    bytes.truncate(bytes.len() - cut);
    bytes
}

fn hostile(db: &str) {
    let dir = Dir::new(&format!("hostile-{}", db.len()));
    let head = "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" args=\"nmap x\" start=\"1\" version=\"7.93\">\n";
    let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY a \"aaaaaaaaaa\">\n\
                  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n\
                  <nmaprun scanner=\"&c;\"></nmaprun>\n";
    let jsonl = b"{\"type\":\"run\",\"version\":\"0.1.0\",\"args\":\"tojimari scan x\",\"start\":1.0,\"scans\":[]}\n\
                  {\"type\":\"port\",\"addr\":\"198.18.0.2\",\"proto\":\"tcp\",\"port\":22,\"state\":\"open\",\"reason\":\"syn-ack\",\"reason_ttl\":64,\"service\":\"ssh\"}\n\
                  {\"type\":\"host\",\"addr\":\"198.18.0.2\",\"hostnames\":[],\"state\":\"up\",\"reason\":\"syn-ack\",\"reason_ttl\":0,\"start\":1.0,\"end\":2.0,\"ports\":{\"open\":1},\"collapsed\":[],\"complete\":true,\"timed_out\":false}\n\
                  {\"type\":\"summ";
    let masscan = std::fs::read(Path::new(DATA).join("masscan-1.3.2.json")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("laughs.xml", laughs.as_bytes().to_vec(), "entity"),
        ("deep.xml", format!("{head}{}", "<a>".repeat(200_000)).into_bytes(), "nest deeper"),
        (
            "attribute.xml",
            format!("{head}<host comment=\"{}\"></host></nmaprun>", "x".repeat(3 << 20)).into_bytes(),
            "longer than the limit",
        ),
        // 600 hosts: a batch of hosts is written inside the transaction before the fault.
        ("cut.xml", generated_nmap(600, 2000), "ends early"),
        ("cut.jsonl", jsonl.to_vec(), "line 4"),
        ("cut.json", masscan[..masscan.len() - 3].to_vec(), "ends early"),
        (
            "long-line.jsonl",
            format!("{{\"type\":\"run\",\"args\":\"{}\"}}\n", "x".repeat(3 << 20)).into_bytes(),
            "longer than the limit",
        ),
        ("html.xml", b"<html><body>not a scan</body></html>".to_vec(), "not an nmap XML file"),
    ];
    let before = scan_count(db);
    for (name, bytes, what) in cases {
        let path = dir.path(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = import(db, &path, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(stderr.starts_with("error: cannot import "), "{name}: {stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{name} names the file: {stderr}");
        assert!(stderr.contains("line ") && stderr.contains("byte "), "{name} says where: {stderr}");
        assert!(stderr.contains(what), "{name} says {what:?}: {stderr}");
        assert!(stderr.contains("(hint: "), "{name}: {stderr}");
        assert_eq!(scan_count(db), before, "{name} left a scan behind");
    }
    // The same 600 hosts whole are recorded.
    let path = dir.path("whole.xml");
    std::fs::write(&path, generated_nmap(600, 0)).unwrap();
    assert_eq!(imported(&import(db, &path, &[])).0, 600);
    assert_eq!(scan_count(db), before + 1);

    // Not a format at all, an unknown format, a file that is not there.
    std::fs::write(dir.path("garbage"), b"\x00\x01garbage").unwrap();
    let out = import(db, &dir.path("garbage"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot tell the format of "));
    let out = import(db, &dir.path("garbage"), &["--format", "pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    let out = import(db, &dir.path("missing.xml"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.xml"));
    assert_eq!(scan_count(db), before + 1);
}

#[test]
fn hostile_and_broken_files_leave_nothing_on_sqlite() {
    let dir = Dir::new("hostile-db");
    hostile(&dir.sqlite());
}

#[test]
fn hostile_and_broken_files_leave_nothing_on_postgres() {
    let pg = pg_or_skip!();
    let url = pg.create_database("import_hostile").expect("a database");
    hostile(&url);
}

#[test]
fn a_database_that_cannot_be_opened_is_exit_1_and_the_environment_picks_the_store() {
    let dir = Dir::new("db-failure");
    std::fs::write(dir.path("file"), b"not a directory").unwrap();
    let db = dir.path("file/store.db");
    let out = import(&db.to_string_lossy(), &Path::new(DATA).join("masscan-1.3.2.xml"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: cannot open the result store ") && stderr.contains("file/store.db"), "{stderr}");

    let from_env = dir.path("env/store.db");
    let out = tojimari()
        .env("TOJIMARI_DB", &from_env)
        .args(["import", &format!("{DATA}/masscan-1.3.2.xml")])
        .output()
        .unwrap();
    imported(&out);
    assert_eq!(scan_count(&from_env.to_string_lossy()), 1);
    let xdg = dir.path("xdg");
    let out =
        tojimari().env("XDG_DATA_HOME", &xdg).args(["import", &format!("{DATA}/masscan-1.3.2.xml")]).output().unwrap();
    imported(&out);
    assert!(xdg.join("tojimari/store.db").exists());
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The lines of a JSON Lines file that are about hosts (port, finding, os, host), sorted.
fn host_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("{\"type\":\"run\"") && !l.starts_with("{\"type\":\"summary\""))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// A real `tojimari scan -sS -O` of a test-bed target, written as JSON Lines, imported: the store holds the
/// same hosts, ports (the collapsed ones expanded) and OS report, so that writing them again gives the
/// same host lines.
fn live_jsonl(db: &str) {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _listeners = target.listen_tcp(&[22, 80]).expect("listeners");
    let dir = Dir::new(&format!("live-{}", db.len()));
    let file = dir.path("scan.jsonl");
    let out = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["scan", "-sS", "-O", "-n", "--no-progress", "-p", "1-200", "-oJ"])
        .arg(&file)
        .arg(target.v4.to_string())
        .output()
        .expect("tojimari scans");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    if let Ok(save) = std::env::var("TOJIMARI_SAVE_JSONL") {
        std::fs::write(save, &text).unwrap();
    }
    assert!(text.contains("\"collapsed\":[{\"state\":\"closed\""), "{text}");

    let (hosts, ports, no) = imported(&import(db, &file, &[]));
    assert_eq!((hosts, ports), (1, 200));
    let (scan, stored_hosts) = stored(db, no);
    assert_eq!((scan.source.as_str(), scan.row.status), ("jsonl", ScanStatus::Complete));
    assert_eq!(scan.row.targets, target.v4.to_string());
    let host = &stored_hosts[0];
    let open: Vec<u16> = host.ports.iter().filter(|p| p.state == PortState::Open).map(|p| p.port).collect();
    assert_eq!(open, [22, 80]);
    assert_eq!(host.ports.len(), 200);

    let out = Shared::default();
    let mut sink = JsonLinesSink::new(Box::new(out.clone()));
    for host in &stored_hosts {
        sink.host_done(host).unwrap();
    }
    let rewritten = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert_eq!(host_lines(&rewritten), host_lines(&text));
}

#[test]
fn a_real_scan_json_lines_reads_back_into_the_store_on_sqlite() {
    let dir = Dir::new("live-db");
    live_jsonl(&dir.sqlite());
}

#[test]
fn a_real_scan_json_lines_reads_back_into_the_store_on_postgres() {
    let pg = pg_or_skip!();
    let url = pg.create_database("import_live").expect("a database");
    live_jsonl(&url);
}
