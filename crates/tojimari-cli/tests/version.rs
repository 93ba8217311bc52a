//! `-sV` end to end: real Debian daemons in a test-bed namespace (tojimari-testbed's `daemons`), configured to
//! deserve their exposure findings and configured safely, scanned by the tojimari binary; names, products and
//! versions compared with what the daemons announce, findings with how each daemon was set up, and the XML
//! checked by nmap's DTD and python-libnmap.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::Command;

use support::daemons::{findings, has, port_lines};
use support::*;
use tojimari_testbed::daemons::{self, Daemon, Posture, Tunnel};
use tojimari_testbed::{Transport, in_ci, testbed_or_skip};

/// The daemons these tests run: every one the bed can start, but `openssl s_server` (it serves one connection
/// at a time, which parallel probing does not always name; the `version` benchmark shows it).
const DAEMONS: [Daemon; 13] = [
    Daemon::OpenSsh,
    Daemon::Vsftpd,
    Daemon::Nginx,
    Daemon::Exim,
    Daemon::Dovecot,
    Daemon::Redis,
    Daemon::Memcached,
    Daemon::Mosquitto,
    Daemon::Dnsmasq,
    Daemon::Snmpd,
    Daemon::Postgresql,
    Daemon::Telnetd,
    Daemon::Fingerd,
];

#[test]
fn exposed_daemons_are_named_versioned_and_judged() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let Some(running) = support::daemons::start(target, &DAEMONS, Posture::Exposed) else { return };
    let spec = support::daemons::port_spec(&running, &[]);
    let addr = target.v4.to_string();
    let scratch = Scratch::new("version-exposed");
    let xml = scratch.path("out.xml");
    let (_, lines, out) = scan(bed.scanner(), &["-sS", "-sU", "-sV", "-Pn", "-n", "-p", &spec, "-oX", &xml, &addr]);
    let ports = port_lines(&lines);
    for s in running.iter().flat_map(|r| r.services()) {
        let proto = if s.transport == Transport::Udp { "udp" } else { "tcp" };
        let line = ports.get(&(proto.to_string(), s.port)).unwrap_or_else(|| panic!("no line for {proto}/{}", s.port));
        assert_eq!(line["state"], "open", "{line}");
        assert_eq!(line["service"], s.name, "{proto}/{}: {line}", s.port);
        assert_eq!(line["method"], "probed", "{line}");
        assert_eq!(line["tunnel"] == "ssl", s.tunnel == Tunnel::Tls, "{line}");
        if let Some(version) = &s.version {
            let seen = line["version"].as_str().unwrap_or_default();
            assert!(seen.contains(version.as_str()), "{proto}/{}: want version {version}, got {line}", s.port);
        }
    }
    let found = findings(&lines);
    for (proto, port, id) in [
        ("tcp", 21, "ftp-anonymous"),
        ("tcp", 21, "ftp-cleartext"),
        ("tcp", 23, "telnet-cleartext"),
        ("tcp", 443, "tls-self-signed"),
        ("tcp", 6379, "redis-noauth"),
        ("tcp", 6379, "database-exposed"),
        ("udp", 11211, "memcached-udp"),
        ("udp", 161, "snmp-default-community"),
    ] {
        assert!(has(&found, proto, port, id), "{id} on {port}/{proto} missing: {found:?}");
    }
    // Normal output: VERSION column and the findings section.
    let normal = String::from_utf8_lossy(&out.stdout);
    assert!(normal.contains("PORT ") && normal.contains(" VERSION"), "{normal}");
    assert!(normal.contains("Findings:") && normal.contains("ftp-anonymous"), "{normal}");
    assert!(normal.contains("443/tcp") && normal.contains("ssl/http"), "{normal}");

    // The XML: nmap's DTD accepts it (scanner renamed, the DTD only knows "nmap"), libnmap reads services.
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"<script id="ftp-anonymous""#), "{text}");
    assert!(text.contains(r#"tunnel="ssl""#) && text.contains("<cpe>cpe:/a:openbsd:openssh:"), "{text}");
    let dtd = std::path::Path::new("/usr/share/nmap/nmap.dtd");
    if dtd.exists() && Command::new("xmllint").arg("--version").output().is_ok() {
        let checked = scratch.path("dtd.xml");
        std::fs::write(&checked, text.replace(r#"scanner="tojimari""#, r#"scanner="nmap""#)).unwrap();
        let v = Command::new("xmllint").arg("--noout").arg("--dtdvalid").arg(dtd).arg(&checked).output().unwrap();
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    } else {
        assert!(!in_ci(), "xmllint and nmap.dtd are installed in CI");
    }
    if let Some(py) = python_with_libnmap() {
        let script = "import sys\nfrom libnmap.parser import NmapParser\nr = NmapParser.parse_fromfile(sys.argv[1])\n\
                      for s in r.hosts[0].services: print(s.port, s.protocol, s.service, s.banner)";
        let o = Command::new(py).args(["-c", script, &xml]).output().unwrap();
        let listed = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(listed.contains("22 tcp ssh product: OpenSSH version: 9"), "{listed}");
    }
}

#[test]
fn safe_daemons_get_no_findings_they_do_not_deserve() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let Some(running) = support::daemons::start(target, &DAEMONS, Posture::Safe) else { return };
    let spec = support::daemons::port_spec(&running, &[]);
    let addr = target.v4.to_string();
    let (_, lines, _) = scan(bed.scanner(), &["-sS", "-sU", "-sV", "-Pn", "-n", "-p", &spec, &addr]);
    let found = findings(&lines);
    for (proto, port, id) in [
        ("tcp", 21, "ftp-anonymous"),
        ("tcp", 443, "tls-self-signed"),
        ("tcp", 443, "tls-expired"),
        ("tcp", 443, "tls-legacy-protocol"),
        ("tcp", 6379, "redis-noauth"),
        ("udp", 11211, "memcached-udp"),
        ("tcp", 11211, "memcached-udp"),
        ("udp", 161, "snmp-default-community"),
    ] {
        assert!(!has(&found, proto, port, id), "{id} fired on the safe {port}/{proto}: {found:?}");
    }
    // Telnet is cleartext however it is configured.
    assert!(has(&found, "tcp", 23, "telnet-cleartext"), "{found:?}");
    // Redis with a password is still named, and says it wants one.
    let ports = port_lines(&lines);
    assert_eq!(ports[&("tcp".to_string(), 6379)]["service"], "redis");
}

#[test]
fn junk_ports_get_no_false_names() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let mut children = Vec::new();
    for (port, program) in
        [(7001, "SYSTEM:head -c 4096 /dev/urandom"), (7002, "SYSTEM:sleep 30"), (7003, "SYSTEM:true")]
    {
        let child = target
            .ns
            .command("socat")
            .args([format!("TCP-LISTEN:{port},fork,reuseaddr"), program.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("socat is installed (scripts/test)");
        children.push(child);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let addr = target.v4.to_string();
    let (_, lines, _) = scan(bed.scanner(), &["-sS", "-sV", "-Pn", "-n", "-p", "7001-7003", &addr]);
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let ports = port_lines(&lines);
    for port in [7001, 7002] {
        let line = &ports[&("tcp".to_string(), port)];
        assert_eq!(line["method"], "table", "port {port} got a probed name from junk: {line}");
        assert!(line.get("product").is_none(), "{line}");
    }
    assert_eq!(ports[&("tcp".to_string(), 7003)]["service"], "tcpwrapped");
}

#[test]
fn prescan_check_shows_banners_in_plain_words() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    if !daemons::available(Daemon::OpenSsh) || !daemons::available(Daemon::Vsftpd) {
        assert!(!in_ci());
        return;
    }
    let _ssh = daemons::start(target, Daemon::OpenSsh, Posture::Exposed).unwrap();
    let _ftp = daemons::start(target, Daemon::Vsftpd, Posture::Exposed).unwrap();
    let addr = target.v4.to_string();
    // The report's language follows the locale: English with none set, Japanese with a Japanese one.
    let prescan = |lang: Option<&str>| {
        let mut command = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari"));
        command.env_remove("LC_ALL").env_remove("LC_MESSAGES").env_remove("LANG");
        if let Some(lang) = lang {
            command.env("LANG", lang);
        }
        let out = command.args(["check", "prescan", &addr]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = prescan(None);
    assert!(text.contains("banner: SSH-2.0-OpenSSH_9"), "{text}");
    assert!(text.contains("banner: 220 (vsFTPd 3.0.3)"), "{text}");
    assert!(
        text.contains("ftp-anonymous [medium]: ") && text.contains("-- Set anonymous_enable=NO (vsftpd)"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.contains("25/tcp") && l.contains("CLOSED")), "{text}");
    // Findings keep their ids and evidence; severity and the catalogue's advice are in Japanese.
    let ja = prescan(Some("ja_JP.UTF-8"));
    assert!(ja.contains("バナー: SSH-2.0-OpenSSH_9") && ja.contains("バナー: 220 (vsFTPd 3.0.3)"), "{ja}");
    assert!(ja.contains("ftp-anonymous [中]: USER anonymous"), "{ja}");
    assert!(
        ja.contains("-- 誰にでもファイルを公開するためのサーバーでない限り、anonymous_enable=NO（vsftpd）"),
        "{ja}"
    );
    assert!(ja.contains("21/tcp OPEN（開いている）: FTP はパスワードを暗号化せずに送ります"), "{ja}");
    drop(bed);
}

/// Ctrl-C while version detection is still probing: the run says it was interrupted (exit 1), its time covers
/// the detection, and the files are closed validly with every port the scan found.
#[test]
fn interrupt_during_version_detection() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let mut silent = target
        .ns
        .command("socat")
        .args(["TCP-LISTEN:7002,fork,reuseaddr", "SYSTEM:sleep 60"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("socat is installed (scripts/test)");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let scratch = Scratch::new("version-interrupt");
    let jsonl = scratch.path("out.jsonl");
    let addr = target.v4.to_string();
    let child = bed
        .scanner()
        .command(env!("CARGO_BIN_EXE_tojimari"))
        .args(["scan", "-sS", "-sV", "-Pn", "-n", "--no-progress", "-p", "7002,7003", "-oJ", &jsonl, &addr])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Ctrl-C, by pid.
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = silent.kill();
    let _ = silent.wait();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let lines = parse_jsonl(&std::fs::read_to_string(&jsonl).unwrap());
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["exit"], "error");
    assert!(summary["elapsed"].as_f64().unwrap() >= 1.0, "{summary}");
    let ports = port_lines(&lines);
    assert_eq!(ports[&("tcp".to_string(), 7002)]["state"], "open");
}
