//! The browser harness in a real bed: chromedriver and Chromium run inside the scanner namespace
//! and load pages from a small HTTP server on that namespace's 127.0.0.1; a click runs the
//! page's script, a form field takes typed text, a screenshot is a PNG file, and markup shown
//! escaped stays inert while the same markup unescaped runs (so the inert check can fail).
//! Dropping the browser leaves no process in the namespace and no temporary directory.
//!
//! Needs root (the bed) and Debian's chromium and chromium-driver: skipped loudly otherwise,
//! failed under CI=true.

// A test binary: it may say on stderr what it measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tojimari_testbed::browser::Options;
use tojimari_testbed::{Netns, browser_or_skip, testbed_or_skip};

/// A page with a form and a button whose click writes the typed name into `#out`.
const FORM_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness form</title></head>
<body>
<h1>Browser harness</h1>
<p id="ja">日本語の表示: 開いているポート</p>
<form id="f" onsubmit="return false"><input id="name" name="name" value="placeholder"></form>
<button id="go" type="button">Go</button>
<p id="out">not clicked</p>
<script>
document.getElementById('go').addEventListener('click', function () {
  document.getElementById('out').textContent = 'hello, ' + document.getElementById('name').value;
});
</script>
</body></html>"#;

/// A hostile banner as a web page must show it: escaped, in text and in an attribute.
const INERT_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>inert</title></head>
<body>
<pre id="banner">220 &lt;script&gt;window.pwned = 1&lt;/script&gt; &lt;img src=x onerror="window.pwned = 2"&gt;</pre>
<span id="attr" title="&quot;&gt;&lt;script&gt;window.pwned = 3&lt;/script&gt;">hover</span>
</body></html>"#;

/// The same markup unescaped: it runs, which proves the inert page's check can fail.
const LIVE_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>live</title></head>
<body>
<pre id="banner">220 <script>window.pwned = 1</script></pre>
</body></html>"#;

/// A tiny HTTP/1.1 server on a thread inside `ns`, serving the pages above until dropped.
struct PageServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PageServer {
    fn start(ns: &Netns) -> PageServer {
        let listener = ns
            .run_in(|| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
            .expect("enter the scanner namespace")
            .expect("bind 127.0.0.1:0 in the scanner namespace");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().expect("listener address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = ns
            .spawn_in(move || {
                while !flag.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream),
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
            .expect("start the page server in the scanner namespace");
        PageServer { addr, stop, thread: Some(thread) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request: the page for its path, or 404.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 2048];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/");
    // The Accept-Language header, echoed by /lang (only letters, digits, `,;=.-`: no markup).
    let language: String = text
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("accept-language")))
        .map(|(_, value)| value.trim().chars().filter(|c| c.is_ascii_alphanumeric() || ",;=.-".contains(*c)).collect())
        .unwrap_or_default();
    let lang_page = format!("<!doctype html><title>lang</title><p id=\"lang\">{language}</p>");
    let (status, body) = match path {
        "/" => ("200 OK", FORM_PAGE),
        "/inert" => ("200 OK", INERT_PAGE),
        "/live" => ("200 OK", LIVE_PAGE),
        "/lang" => ("200 OK", lang_page.as_str()),
        _ => ("404 Not Found", "<!doctype html><title>404</title>not found"),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// A fresh screenshot directory for this test, removed at the end.
fn shots_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tjbrowser-test-shots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The local addresses (kernel hex) of every listening TCP socket in the network namespace of
/// process `pid`, from its /proc/PID/net/tcp and tcp6.
fn listeners(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    for table in ["tcp", "tcp6"] {
        let path = format!("/proc/{pid}/net/{table}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // fields[1] is local "ADDR:PORT", fields[3] the state (0A = LISTEN).
            if fields.get(3) == Some(&"0A")
                && let Some((addr, _port)) = fields.get(1).and_then(|local| local.split_once(':'))
            {
                found.push(addr.to_owned());
            }
        }
    }
    found
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(bytes.len() > 1000, "{} is only {} bytes", path.display(), bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
}

#[test]
fn chromium_in_the_scanner_namespace_clicks_types_screenshots_and_keeps_markup_inert() {
    let bed = testbed_or_skip!(1);
    let scanner = bed.scanner();
    let server = PageServer::start(scanner);
    let shots = shots_dir();

    let started = Instant::now();
    let browser = browser_or_skip!(scanner, &shots);
    eprintln!("note: Chromium session opened in {:?} in {}", started.elapsed(), browser.namespace());
    let profile_dir = browser.dir().to_owned();
    assert!(profile_dir.exists());
    // chromedriver (and Chromium under it) run in the scanner namespace, not in ours.
    let driver = browser.driver_pid();
    assert!(scanner.pids().contains(&driver), "chromedriver {driver} is not in {}", scanner.name());
    // Everything listening in the namespace (chromedriver, the page server) is on loopback only.
    let listening = listeners(driver);
    assert!(listening.len() >= 2, "chromedriver and the page server listen: {listening:?}");
    for local in &listening {
        assert!(
            local == "0100007F" || local == "00000000000000000000000001000000",
            "a listener in the scanner namespace is not on loopback: {local} (of {listening:?})"
        );
    }

    // The form page: a click runs the page's script with the text typed into the field.
    let form = server.url("/");
    let (form, title, text, typed, ja, shot) = browser
        .run(move |page| async move {
            page.goto(&form).await.unwrap();
            let title = page.title().await.unwrap();
            assert_eq!(page.text("#out").await.unwrap(), "not clicked");
            page.fill("#name", "tojimari").await.unwrap();
            page.click("#go").await.unwrap();
            let text = page.wait_for_text("#out", "hello", Duration::from_secs(5)).await.unwrap();
            let typed = page.find("#name").await.unwrap().prop("value").await.unwrap();
            let ja = page.text("#ja").await.unwrap();
            let shot = page.screenshot("form").await.unwrap();
            (form, title, text, typed, ja, shot)
        })
        .unwrap();
    assert!(form.starts_with("http://127.0.0.1:"), "{form}");
    assert_eq!(title, "harness form");
    assert_eq!(text, "hello, tojimari");
    assert_eq!(ja, "日本語の表示: 開いているポート");
    assert_eq!(typed.as_deref(), Some("tojimari"));
    assert_eq!(shot, shots.join("form.png"));
    assert_png(&shot);

    // The session carries over between runs: the page is still the form, and an element that
    // never appears fails the wait with a message naming it.
    let missing = browser
        .run(|page| async move {
            let url = page.url().await.unwrap();
            let started = Instant::now();
            let missing = page.wait_for("#never", Duration::from_millis(300)).await.map(drop);
            (url, missing, started.elapsed())
        })
        .unwrap();
    assert!(missing.0.ends_with('/'), "still on the form page: {}", missing.0);
    let error = missing.1.expect_err("#never is not on the page").to_string();
    assert!(error.contains("#never"), "{error}");
    assert!(missing.2 < Duration::from_secs(5), "the wait took {:?}", missing.2);

    // Escaped markup stays text; the same markup unescaped runs.
    let (inert, live) = (server.url("/inert"), server.url("/live"));
    let (inert_pwned, banner, attr, live_pwned, full) = browser
        .run(move |page| async move {
            page.goto(&inert).await.unwrap();
            let inert_pwned = page.execute("return window.pwned === undefined ? null : window.pwned;").await.unwrap();
            let banner = page.text("#banner").await.unwrap();
            let attr = page.find("#attr").await.unwrap().attr("title").await.unwrap();
            let scripts = page.find_all("script").await.unwrap().len();
            assert_eq!(scripts, 0, "the escaped page has no script element");
            let full = page.screenshot_full("inert").await.unwrap();
            page.goto(&live).await.unwrap();
            let live_pwned = page.execute("return window.pwned === undefined ? null : window.pwned;").await.unwrap();
            (inert_pwned, banner, attr, live_pwned, full)
        })
        .unwrap();
    assert_eq!(inert_pwned, serde_json::Value::Null, "escaped markup ran a script");
    assert!(banner.contains("<script>window.pwned = 1</script>"), "shown as text: {banner}");
    assert_eq!(attr.as_deref(), Some("\"><script>window.pwned = 3</script>"));
    assert_eq!(live_pwned, serde_json::json!(1), "the unescaped control page must run its script");
    assert_png(&full);

    // A panic inside a run (a failed assertion) comes out of `run`, and the browser still works.
    let form = server.url("/");
    // (The default hook would print this deliberate panic's backtrace; this binary has one test.)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        browser.run(|_page| async move { panic!("an assertion inside the browser failed") })
    }));
    std::panic::set_hook(hook);
    assert!(panicked.is_err(), "the panic reached the test");
    let title = browser
        .run(move |page| async move {
            page.goto(&form).await.unwrap();
            page.title().await.unwrap()
        })
        .unwrap();
    assert_eq!(title, "harness form");

    // The default browser asks for English; one started with `ja` asks for Japanese first, as a
    // Japanese reader's browser does.
    let lang = server.url("/lang");
    let english = browser
        .run(move |page| async move {
            page.goto(&lang).await.unwrap();
            page.text("#lang").await.unwrap()
        })
        .unwrap();
    assert!(english.starts_with("en"), "default Accept-Language: {english:?}");
    let options = Options { accept_language: Some("ja,en".to_owned()), window: (800, 600) };
    let japanese_browser = browser_or_skip!(scanner, &shots, &options);
    let lang = server.url("/lang");
    let (japanese, navigator, width) = japanese_browser
        .run(move |page| async move {
            page.goto(&lang).await.unwrap();
            let header = page.text("#lang").await.unwrap();
            let navigator = page.execute("return navigator.languages;").await.unwrap();
            let width = page.execute("return window.innerWidth;").await.unwrap();
            (header, navigator, width)
        })
        .unwrap();
    assert!(japanese.starts_with("ja"), "Accept-Language with ja: {japanese:?}");
    assert_eq!(navigator, serde_json::json!(["ja", "en"]));
    assert_eq!(width, serde_json::json!(800));
    let dropping = Instant::now();
    drop(japanese_browser);
    eprintln!("note: a browser closed in {:?}", dropping.elapsed());

    drop(browser);
    assert!(!profile_dir.exists(), "{} left behind", profile_dir.display());
    let left: Vec<u32> = scanner.pids();
    assert!(left.is_empty(), "processes left in {}: {left:?}", scanner.name());
    drop(server);
    let _ = std::fs::remove_dir_all(&shots);
}

/// The Japanese pages need a Japanese font, or Chromium draws boxes (in screenshots too);
/// scripts/test installs fonts-ipafont-gothic.
#[test]
fn a_japanese_font_is_installed_for_the_japanese_pages() {
    if !Path::new(tojimari_testbed::browser::CHROMIUM).exists() && !tojimari_testbed::in_ci() {
        eprintln!("SKIPPED: no Chromium here, so no Japanese font is needed (run scripts/test)");
        return;
    }
    let output = std::process::Command::new("fc-list").args([":lang=ja", "family"]).output().expect("run fc-list");
    let families = String::from_utf8_lossy(&output.stdout);
    assert!(!families.trim().is_empty(), "no font covers Japanese (install fonts-ipafont-gothic: scripts/test)");
}
