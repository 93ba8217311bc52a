//! `tojimari serve` in a real browser (Debian's chromium through chromedriver, all inside the bed's scanner
//! namespace): a quick check started from the page against a test-bed host, its progress arriving, the open
//! ports shown; a port opened in the namespace and the check run again, the comparison naming it; a
//! daemon whose banner carries markup, rendered inert; a target outside the allow-list refused; the page in
//! Japanese; this machine's sockets, and `watch` alerts arriving on an open page; a listener beyond loopback
//! asking for the password. Each page's screenshot is saved to
//! docs/screenshots/ (the README shows them).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::serve::Served;
use tojimari_testbed::browser::Page;
use tojimari_testbed::{browser_or_skip, testbed_or_skip};

/// Where the screenshots go: docs/screenshots in the repository.
fn screenshots() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The hostile banner an FTP daemon of the bed sends: markup and script that must stay text.
const HOSTILE: &str = "220 <script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> FTP ready";

const WAIT: Duration = Duration::from_secs(90);

/// Fills the New check form with `target` and `profile` and sends it, as a reader would (the page must be
/// the New check page).
async fn send_check(page: &Page, target: &str, profile: &str) {
    page.fill("input[name=target]", target).await.unwrap();
    page.click(&format!("input[name=profile][value={profile}]")).await.unwrap();
    page.click("form.check button[type=submit]").await.unwrap();
}

#[test]
fn the_page_checks_compares_and_keeps_hostile_text_inert() {
    let bed = testbed_or_skip!(1);
    let target = bed.target(0);
    let addr = target.v4.to_string();
    let _open = target.listen_tcp(&[22, 80]).unwrap();
    // An FTP daemon whose banner carries markup, in the target's namespace, until the test ends.
    let stop = Arc::new(AtomicBool::new(false));
    let halt = stop.clone();
    let listener = target.ns.run_in(|| TcpListener::bind("0.0.0.0:21")).unwrap().unwrap();
    listener.set_nonblocking(true).unwrap();
    let daemon = std::thread::spawn(move || {
        while !halt.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut s, _)) => {
                    let _ = s.write_all(format!("{HOSTILE}\r\n").as_bytes());
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    let served = Served::start(&bed, "browser", &["--allow", &addr]);
    let base = format!("http://{}", served.addr);
    let shots = screenshots();
    let browser = browser_or_skip!(bed.scanner(), &shots);

    // 1. A quick check from the page: progress arrives, then the open ports.
    let (b, a) = (base.clone(), addr.clone());
    let first = browser
        .run(move |page| async move {
            page.goto(&format!("{b}/check")).await.unwrap();
            page.screenshot("new-check").await.unwrap();
            send_check(&page, &a, "quick").await;
            page.wait_for("#progress", WAIT).await.unwrap();
            let url = page.url().await.unwrap();
            assert!(url.contains("/checks/"), "{url}");
            // Progress arrives from the server's events (the numbers line changes from "waiting").
            page.wait_for_text("#numbers", "/", WAIT).await.unwrap();
            page.wait_for_text("#status", "done", WAIT).await.unwrap();
            let hosts = page.wait_for_text("#hosts", "22/tcp", WAIT).await.unwrap();
            assert!(hosts.contains("80/tcp"), "{hosts}");
            page.screenshot("check").await.unwrap();
            url
        })
        .unwrap();
    println!("first check: {first}");

    // 2. Another port opens in the namespace; the same check again; the comparison names it.
    let _more = target.listen_tcp(&[8080]).unwrap();
    let (b, a) = (base.clone(), addr.clone());
    browser
        .run(move |page| async move {
            page.goto(&format!("{b}/check")).await.unwrap();
            send_check(&page, &a, "quick").await;
            page.wait_for_text("#status", "done", WAIT).await.unwrap();
            page.goto(&format!("{b}/compare")).await.unwrap();
            let text = page.wait_for_text("main", "8080", WAIT).await.unwrap();
            assert!(text.contains("8080/tcp") || text.contains("8080"), "{text}");
            page.screenshot("compare").await.unwrap();
        })
        .unwrap();

    // 3. The banner's markup is shown as text and never runs.
    let (b, a) = (base.clone(), addr.clone());
    browser
        .run(move |page| async move {
            page.goto(&format!("{b}/check")).await.unwrap();
            send_check(&page, &a, "prescan").await;
            page.wait_for_text("#status", "done", WAIT).await.unwrap();
            let report = page.wait_for_text("body", "window.pwned", WAIT).await.unwrap();
            assert!(report.contains("<script>window.pwned=1</script>"), "the banner shows as text:\n{report}");
            let ran = page.execute("return window.pwned === undefined ? null : window.pwned;").await.unwrap();
            assert!(ran.is_null(), "the banner's script ran: {ran}");
            // The scan's own page shows it inert too.
            page.wait_for("#scan-links a", WAIT).await.unwrap();
            page.click("#scan-links a").await.unwrap();
            page.wait_for_text("main h1", "#", WAIT).await.unwrap();
            let shown = page.wait_for_text("main", "window.pwned", WAIT).await.unwrap();
            assert!(
                shown.contains("<script>window.pwned=1</script>"),
                "the scan page shows the banner as text:\n{shown}"
            );
            page.wait_for("main", WAIT).await.unwrap();
            let ran = page.execute("return window.pwned === undefined ? null : window.pwned;").await.unwrap();
            assert!(ran.is_null(), "the banner's script ran on the scan page: {ran}");
            page.screenshot("scan").await.unwrap();
        })
        .unwrap();

    // 4. This machine: `local --store` into the server's store shows the sockets (serve's own listener among
    // them); then, with the page open, `watch --store` records alerts and they appear without a reload.
    let tojimari = |args: &[&str]| {
        let out = bed.scanner().command(env!("CARGO_BIN_EXE_tojimari")).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let db = served.db();
    tojimari(&["local", "--tcp", "--store", "--db", &db]);
    let (b, port) = (base.clone(), served.addr.port().to_string());
    browser
        .run(move |page| async move {
            page.goto(&format!("{b}/machine")).await.unwrap();
            let sockets = page.wait_for_text("main", &port, WAIT).await.unwrap();
            assert!(sockets.contains("tojimari"), "serve's own socket and process:\n{sockets}");
            page.find("#no-alerts").await.unwrap();
        })
        .unwrap();
    let capture = concat!(env!("CARGO_MANIFEST_DIR"), "/../tojimari-scandetect/tests/captures/nmap-sS.pcap");
    tojimari(&["watch", "--pcap", capture, "-q", "--store", "--db", &db]);
    browser
        .run(move |page| async move {
            // The page's script asks for new alerts every 2 s and adds them on top.
            page.wait_for("#alerts tr.new", WAIT).await.unwrap();
            // The sockets fill the first screen; the picture shows the alerts that just arrived.
            page.execute("document.querySelector('#alerts').closest('table').scrollIntoView(); return null;")
                .await
                .unwrap();
            page.screenshot("machine").await.unwrap();
        })
        .unwrap();

    // 5. The other pages, a target outside the allow-list, and Japanese.
    let (b, a) = (base.clone(), addr.clone());
    browser
        .run(move |page| async move {
            for (path, name) in [("/", "dashboard"), ("/scans", "scans"), ("/ports", "ports")] {
                page.goto(&format!("{b}{path}")).await.unwrap();
                page.wait_for("main h1", WAIT).await.unwrap();
                page.screenshot(name).await.unwrap();
            }
            page.goto(&format!("{b}/hosts/{a}")).await.unwrap();
            let text = page.wait_for_text("main", "8080", WAIT).await.unwrap();
            assert!(text.contains("22"), "{text}");
            page.screenshot("host").await.unwrap();
            page.goto(&format!("{b}/check")).await.unwrap();
            page.fill("input[name=target]", "198.18.0.77").await.unwrap();
            page.click("form.check button[type=submit]").await.unwrap();
            let refused = page.wait_for_text(".notice", "198.18.0.77", WAIT).await.unwrap();
            assert!(refused.contains("not among the targets"), "{refused}");
            // The language selector: the page in Japanese.
            page.goto(&format!("{b}/")).await.unwrap();
            page.execute(
                "const s = document.querySelector('select[name=lang]'); s.value = 'ja'; s.form.submit(); return null;",
            )
            .await
            .unwrap();
            page.wait_for_text("nav", "ダッシュボード", WAIT).await.unwrap();
            page.screenshot("dashboard-ja").await.unwrap();
        })
        .unwrap();
    drop(browser);

    // 6. A listener beyond loopback: the browser gets the login page, not the dashboard.
    let dir = support::Scratch::new("browser-pw");
    let pw = dir.0.join("pw");
    std::fs::write(&pw, "open sesame\n").unwrap();
    let listen = format!("{}:0", tojimari_testbed::SCANNER_V4);
    let guarded =
        Served::start(&bed, "browser-guarded", &["--listen", &listen, "--password-file", pw.to_str().unwrap()]);
    let b = format!("http://{}", guarded.addr);
    let browser = browser_or_skip!(bed.scanner(), &shots);
    browser
        .run(move |page| async move {
            page.goto(&format!("{b}/scans")).await.unwrap();
            page.wait_for("input[name=password]", WAIT).await.unwrap();
            assert!(page.url().await.unwrap().ends_with("/login"));
            page.fill("input[name=password]", "not it").await.unwrap();
            page.click("form.login button").await.unwrap();
            page.wait_for(".notice", WAIT).await.unwrap();
            page.screenshot("login").await.unwrap();
            page.fill("input[name=password]", "open sesame").await.unwrap();
            page.click("form.login button").await.unwrap();
            page.wait_for("form.logout", WAIT).await.unwrap();
        })
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let _ = daemon.join();
}
