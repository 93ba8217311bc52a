//! `tojimari serve` end to end over HTTP (the browser tests are in crates/tojimari-web/tests): the server and
//! the checks it runs inside the bed's scanner namespace, the requests from a thread in that namespace.
//! Each test compares what the page's check recorded with the ground truth the test set up.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::Duration;

use support::serve::{Served, open_ports_recorded, start_and_follow, start_check, wait_done};
use tojimari_testbed::http::Client;
use tojimari_testbed::{firewall, testbed_or_skip};

#[test]
fn a_check_from_the_page_runs_and_is_recorded() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let _open = target.listen_tcp(&[22, 631]).unwrap();
    target.firewall(&firewall::drop_tcp(&[80])).unwrap();
    let addr = target.v4.to_string();
    let served = Served::start(&bed, "check", &["--allow", "198.18.0.0/15"]);
    let server = served.addr;
    let a = addr.clone();
    let (page, xml, jsonl, missing) = bed
        .scanner()
        .run_in(move || {
            let mut c = Client::new(server);
            let path = start_and_follow(&mut c, &a, "tcp", "");
            let page = wait_done(&mut c, &path, Duration::from_secs(120));
            // The scan page's export buttons: the recorded scan's files.
            let (xml, jsonl) = (c.get("/scans/1/export.xml"), c.get("/scans/1/export.jsonl"));
            (page, xml, jsonl, c.get("/scans/99/export.xml"))
        })
        .unwrap();
    assert!(page.body.contains("631/tcp"), "the report lists the open port:\n{}", page.body);
    assert_eq!(open_ports_recorded(&bed, &served.db(), &addr), [22, 631]);
    // The exports are byte for byte what `tojimari export` writes from the same store.
    for (response, flag, kind) in [(&xml, "-oX", "application/xml"), (&jsonl, "-oJ", "application/jsonl")] {
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.header("content-type"), Some(kind));
        let cli = std::process::Command::new(env!("CARGO_BIN_EXE_tojimari"))
            .args(["export", "1", flag, "-", "--db", &served.db()])
            .output()
            .unwrap();
        assert!(cli.status.success());
        assert_eq!(response.body, String::from_utf8_lossy(&cli.stdout), "{flag}");
    }
    assert!(xml.body.contains("portid=\"631\""), "{}", xml.body);
    // A scan the store does not have: a page that says so, not a file.
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(missing.body.contains("99"), "{}", missing.body);
}

#[test]
fn targets_outside_the_allow_list_are_refused() {
    let bed = testbed_or_skip!(2);
    let inside = bed.target(0).v4.to_string();
    let outside = bed.target(1).v4.to_string();
    let served = Served::start(&bed, "allow", &["--allow", &format!("{inside}/32")]);
    let server = served.addr;
    bed.scanner()
        .run_in(move || {
            let mut c = Client::new(server);
            // The target field: refused by the server before anything runs.
            let r = start_check(&mut c, &outside, "quick", "");
            assert_eq!(r.status, 400, "{}", r.body);
            assert!(r.body.contains(&outside) && r.body.contains("not among the targets"), "{}", r.body);
            // A target smuggled into custom options: refused by the check itself, after it parsed them.
            let path = start_and_follow(&mut c, &inside, "custom", &format!("-p 22 {outside}"));
            let page = wait_done(&mut c, &path, Duration::from_secs(60));
            assert!(page.body.contains(&outside) && page.body.contains("outside"), "{}", page.body);
            // Options that read or write files on the server are refused by name.
            let r = start_check(&mut c, &inside, "custom", "-iL /etc/passwd");
            assert_eq!(r.status, 400);
            assert!(r.body.contains("-iL"), "{}", r.body);
            // A form without its CSRF token does nothing.
            let r = c.post("/check", &[("target", &inside), ("profile", "quick")]);
            assert_eq!(r.status, 403, "{}", r.body);
        })
        .unwrap();
}

#[test]
fn a_listener_beyond_loopback_asks_for_the_password() {
    let bed = testbed_or_skip!(1);
    let dir = support::Scratch::new("pw");
    let pw = dir.0.join("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let scanner_addr = tojimari_testbed::SCANNER_V4.to_string();
    let listen = format!("{scanner_addr}:0");
    let served = Served::start(&bed, "auth", &["--listen", &listen, "--password-file", pw.to_str().unwrap()]);
    let server = served.addr;
    bed.scanner()
        .run_in(move || {
            let mut c = Client::new(server);
            for path in ["/", "/scans", "/check", "/ports", "/machine"] {
                let r = c.get(path);
                assert!(r.status == 303 || r.status == 401, "{path}: {} {}", r.status, r.body);
                assert!(!r.body.contains("nav-"), "nothing of the page without the password");
            }
            let r = c.post("/check", &[("target", "198.18.0.2"), ("profile", "quick")]);
            assert!(r.status == 303 || r.status == 401 || r.status == 403, "{}", r.status);
            let csrf = c.csrf("/login");
            let r = c.post("/login", &[("csrf", &csrf), ("password", "wrong")]);
            assert_eq!(r.status, 401, "{}", r.body);
            let csrf = c.csrf("/login");
            let r = c.post("/login", &[("csrf", &csrf), ("password", "correct horse battery staple")]);
            assert_eq!(r.status, 303, "{}", r.body);
            assert_eq!(c.get("/").status, 200);
        })
        .unwrap();
}

#[test]
fn pages_under_load_during_a_scan_and_a_browser_that_leaves() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let open: Vec<u16> = vec![7, 22, 443, 1000];
    let _open = target.listen_tcp(&open).unwrap();
    target.firewall(&firewall::drop_tcp(&(100..400).collect::<Vec<u16>>())).unwrap();
    let addr = target.v4.to_string();
    // A scan of some seconds (10,000 ports at 2,500 probes a second), long enough to load pages during it.
    let options = "-sS -p 1-10000 --max-rate 2500";
    let served = Served::start(&bed, "load", &["--allow", "198.18.0.0/15"]);
    let server = served.addr;
    let a = addr.clone();
    let (errors, loads) = bed
        .scanner()
        .run_in(move || {
            let mut c = Client::new(server);
            let path = start_and_follow(&mut c, &a, "custom", options);
            // A browser opens the progress stream and goes away after the first event.
            {
                use std::io::{Read, Write};
                let mut s = std::net::TcpStream::connect(server).unwrap();
                let cookie: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(s, "GET {path}/events HTTP/1.1\r\nHost: x\r\nCookie: {}\r\n\r\n", cookie.join("; ")).unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf);
            }
            // Eight readers load pages while the scan runs (bounded: 8 x 25 requests).
            let paths = ["/", "/scans", "/check", path.as_str(), "/ports", "/machine"];
            let workers: Vec<_> = (0..8)
                .map(|i| {
                    let mut c = c.clone();
                    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
                    std::thread::spawn(move || {
                        let mut bad = Vec::new();
                        for n in 0..25 {
                            let p = &paths[(i + n) % paths.len()];
                            let r = c.get(p);
                            if r.status != 200 {
                                bad.push(format!("{p}: {}", r.status));
                            }
                        }
                        bad
                    })
                })
                .collect();
            let errors: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
            // The loads happened while the scan ran: it is not over yet.
            let page = c.get(&path);
            assert!(!page.body.contains("data-over=\"1\""), "the scan ended before the loads did: make it longer");
            wait_done(&mut c, &path, Duration::from_secs(180));
            (errors, 8 * 25)
        })
        .unwrap();
    assert!(errors.is_empty(), "{} of {loads} page loads failed: {errors:?}", errors.len());
    // The scan was not disturbed: every open port is recorded, and nothing else.
    assert_eq!(open_ports_recorded(&bed, &served.db(), &addr), open);
}

#[test]
fn bad_serve_options_are_one_line_errors() {
    let dir = support::Scratch::new("bad");
    let huge = dir.0.join("huge");
    std::fs::write(&huge, "x".repeat(5000)).unwrap();
    let db = dir.0.join("s.db");
    let cases: [&[&str]; 6] = [
        &["--listen", "nowhere"],
        &["--listen", "127.0.0.1:99999"],
        &["--password-file", "/nonexistent/pw"],
        &["--password-file", huge.to_str().unwrap()],
        &["--allow", "example.com"],
        &["--max-checks", "0"],
    ];
    for args in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tojimari"))
            .args(["serve", "--db", db.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains("hint"), "{args:?}: {err}");
    }
}
