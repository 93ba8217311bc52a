//! A real browser for the web UI's tests: Debian's Chromium, driven over WebDriver by
//! chromedriver, both running *inside* a test-bed namespace, so the page under test is served
//! from (and only reaches) that namespace.
//!
//! [`Browser::start`] starts `/usr/bin/chromedriver` in the namespace (`ip netns exec`, its
//! own process group) on a free port of the namespace's 127.0.0.1, then a worker thread that
//! joins the namespace ([`Netns::spawn_in`]), runs a current-thread tokio runtime and opens one
//! WebDriver session: headless Chromium (`/usr/bin/chromium`, a child of chromedriver, so in
//! the same namespace) with a fresh profile in a private temporary directory and the flags
//! below (no sandbox as root, no GPU, no QUIC, no background networking, no first-run, no
//! component updates, no sync; a 1280x900 window unless [`Options`] say otherwise, and there
//! also the languages the browser asks for). [`Browser::run`] hands an async closure a
//! [`Page`] (the session, with helpers) and runs it on that thread: cookies and the current
//! page carry over from one `run` to the next. A panic inside the closure (a failed assertion)
//! comes back out of `run` as usual.
//!
//! Dropping the browser closes the session (Chromium quits), kills chromedriver's process group
//! (chromedriver and any Chromium process left) by its id and removes the temporary directory,
//! also when the test panics.
//!
//! Screenshots ([`Page::screenshot`], [`Page::screenshot_full`]) are PNG files written to the
//! artifacts directory given at start (the web tests use `docs/screenshots`).
//!
//! Nothing is downloaded: without Debian's `chromium` and `chromium-driver` packages (which
//! `scripts/test` installs) [`Browser::start`] fails with [`Error::NotInstalled`], which
//! [`browser_or_skip!`](crate::browser_or_skip!) turns into a loud skip (a failure under
//! `CI=true`).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let bed = tojimari_testbed::testbed_or_skip!(1);
//! let browser = tojimari_testbed::browser_or_skip!(bed.scanner(), std::path::Path::new("/tmp/shots"));
//! let text = browser
//!     .run(|page| async move {
//!         page.goto("http://127.0.0.1:8080/").await?;
//!         page.click("#go").await?;
//!         page.wait_for_text("#out", "done", Duration::from_secs(5)).await
//!     })
//!     .unwrap()
//!     .unwrap();
//! assert!(text.contains("done"));
//! ```

use std::fs::{self, File};
use std::future::Future;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::netns::Netns;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's ChromeDriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The window size a session starts with unless [`Options::window`] says otherwise, in CSS pixels.
pub const WINDOW: (u32, u32) = (1280, 900);

/// How to start the browser; `Options::default()` is what [`Browser::start`] uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The languages the browser asks for (its `Accept-Language`, `navigator.languages`), e.g.
    /// `"ja"` or `"ja,en"`; `None` leaves Chromium's default (English here).
    pub accept_language: Option<String>,
    /// The window size in CSS pixels (what screenshots show).
    pub window: (u32, u32),
}

impl Default for Options {
    fn default() -> Options {
        Options { accept_language: None, window: WINDOW }
    }
}

/// How long [`Browser::start`] waits for chromedriver to listen and Chromium to open a session.
pub const STARTUP: Duration = Duration::from_secs(30);

/// How long the helpers that wait for an element ([`Page::text`], [`Page::click`],
/// [`Page::fill`]) wait before failing.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// How long dropping the browser waits for the session to close before killing chromedriver.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// How often the waiting helpers look again.
const POLL: Duration = Duration::from_millis(50);

/// The prefix of each browser's temporary directory.
const DIR_PREFIX: &str = "tjbrowser-";

/// chromedriver's log, in the temporary directory.
const LOG: &str = "chromedriver.log";

/// chromedriver's stderr (and `ip netns exec`'s), in the temporary directory.
const CONSOLE: &str = "console.log";

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// One job for the worker thread: a closure run on its runtime with the session.
type Job = Box<dyn FnOnce(Page) -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A headless Chromium inside a test-bed namespace; see the module docs.
#[derive(Debug)]
pub struct Browser {
    namespace: String,
    driver: Child,
    dir: PathBuf,
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<JoinHandle<()>>,
}

impl Browser {
    /// Starts chromedriver and a Chromium session inside `ns`; screenshots go to `artifacts`
    /// (created when the first one is taken).
    ///
    /// Fails with [`Error::NotInstalled`] ([`is_unavailable`](Error::is_unavailable)) when
    /// Chromium or chromedriver is missing, and with [`Error::Server`] (carrying chromedriver's
    /// log) when the session does not open within [`STARTUP`].
    pub fn start(ns: &Netns, artifacts: &Path) -> Result<Browser> {
        Browser::start_with(ns, artifacts, &Options::default())
    }

    /// [`Browser::start`] with `options` (another language, another window size).
    pub fn start_with(ns: &Netns, artifacts: &Path, options: &Options) -> Result<Browser> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(program).exists() {
                return Err(Error::NotInstalled { program: program.to_owned() });
            }
        }
        let dir = private_dir()?;
        let profile = dir.join("profile");
        let log_path = dir.join(LOG);
        let prepared = fs::create_dir(&profile)
            .and_then(|()| File::create(dir.join(CONSOLE)))
            .map_err(|e| Error::io(format!("prepare {}", dir.display()), e));
        let log = match prepared {
            Ok(log) => log,
            Err(error) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(error);
            }
        };
        let port = match free_port(ns) {
            Ok(port) => port,
            Err(error) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(error);
            }
        };
        let mut command = ns.command(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so drop can kill chromedriver and every Chromium process
            // it started with one signal, by the group's id.
            .process_group(0);
        let driver = match command.spawn() {
            Ok(child) => child,
            Err(source) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(Error::Spawn { command: format!("ip netns exec {} {CHROMEDRIVER}", ns.name()), source });
            }
        };
        // From here on, dropping `browser` cleans up whatever was started.
        let mut browser = Browser { namespace: ns.name().to_owned(), driver, dir, jobs: None, worker: None };

        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
        let capabilities = capabilities(&profile, options);
        let artifacts = artifacts.to_owned();
        let window = options.window;
        let worker = ns.spawn_in(move || work(port, capabilities, artifacts, window, &ready_tx, &jobs_rx))?;
        browser.worker = Some(worker);
        browser.jobs = Some(jobs_tx);
        browser.wait_ready(&ready_rx)?;
        Ok(browser)
    }

    /// Runs `f` with the session, on the browser's thread inside the namespace, and returns its
    /// result. The session (cookies, current page) is the same for every call.
    ///
    /// A panic in `f` is resumed here, so assertions inside work as usual. Errors only when the
    /// browser's thread is gone (it failed earlier).
    pub fn run<F, Fut, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(Page) -> Fut + Send + 'static,
        Fut: Future<Output = R> + 'static,
        R: Send + 'static,
    {
        let gone = || Error::Browser { what: "run".to_owned(), reason: "the browser's thread has ended".to_owned() };
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |page| {
            Box::pin(async move {
                let outcome = CatchUnwind(Box::pin(f(page))).await;
                let _ = tx.send(outcome);
            })
        });
        self.jobs.as_ref().ok_or_else(gone)?.send(job).map_err(|_| gone())?;
        match rx.recv() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => resume_unwind(panic),
            Err(_) => Err(gone()),
        }
    }

    /// The name of the namespace the browser runs in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// chromedriver's process id (also its process group's).
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// The browser's private temporary directory (Chromium's profile and chromedriver's log),
    /// removed on drop.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last lines of chromedriver's log and console, for a failure message.
    pub fn log_tail(&self) -> String {
        [log_tail(&self.dir.join(CONSOLE)), log_tail(&self.dir.join(LOG))]
            .into_iter()
            .filter(|tail| !tail.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits for the worker's session, failing early if chromedriver exits.
    fn wait_ready(&mut self, ready: &mpsc::Receiver<Result<(), String>>) -> Result<()> {
        let deadline = Instant::now() + STARTUP;
        loop {
            match ready.recv_timeout(POLL) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(reason)) => return Err(self.startup_failure(reason)),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(self.startup_failure("the browser's thread ended".to_owned()));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(self.startup_failure(format!("chromedriver exited ({status})")));
            }
            if Instant::now() >= deadline {
                return Err(self.startup_failure(format!("no WebDriver session within {STARTUP:?}")));
            }
        }
    }

    fn startup_failure(&self, reason: String) -> Error {
        Error::Server { what: format!("start Chromium in {}: {reason}", self.namespace), log_tail: self.log_tail() }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the job channel ends the worker, which closes the session (Chromium quits).
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take() {
            let deadline = Instant::now() + SHUTDOWN;
            while !worker.is_finished() && Instant::now() < deadline {
                thread::sleep(POLL);
            }
            if worker.is_finished() {
                let _ = worker.join();
            }
        }
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            // The negative id names the process group: chromedriver and what it started.
            let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
        }
        let _ = self.driver.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Starts a [`Browser`] in `ns`, or explains why not: `None` after a loud `SKIPPED:` banner
/// where Chromium or chromedriver is not installed (and `CI` is not `true`); panics under
/// `CI=true` and on any other error. Most tests want [`browser_or_skip!`](crate::browser_or_skip!).
pub fn browser_or_skip(ns: &Netns, artifacts: &Path) -> Option<Browser> {
    browser_or_skip_with(ns, artifacts, &Options::default())
}

/// [`browser_or_skip`] with `options`.
pub fn browser_or_skip_with(ns: &Netns, artifacts: &Path, options: &Options) -> Option<Browser> {
    match Browser::start_with(ns, artifacts, options) {
        Ok(browser) => Some(browser),
        Err(error) => {
            crate::skip::skip_or_panic(
                "browser",
                "Debian's chromium and chromium-driver (scripts/test installs them)",
                &error,
            );
            None
        }
    }
}

/// `let browser = browser_or_skip!(bed.scanner(), dir);` starts a [`Browser`] in that namespace,
/// or returns from the (unit-returning) test after a loud `SKIPPED:` message, or panics under
/// `CI=true`. `browser_or_skip!(ns, dir, &options)` starts it with [`Options`]. See
/// [`browser_or_skip`](fn@crate::browser::browser_or_skip).
#[macro_export]
macro_rules! browser_or_skip {
    ($ns:expr, $artifacts:expr) => {
        $crate::browser_or_skip!($ns, $artifacts, &$crate::browser::Options::default())
    };
    ($ns:expr, $artifacts:expr, $options:expr) => {
        match $crate::browser::browser_or_skip_with($ns, $artifacts, $options) {
            Some(browser) => browser,
            None => return,
        }
    };
}

/// The WebDriver session as a test sees it inside [`Browser::run`]: the fantoccini
/// [`Client`] ([`Page::client`]) and helpers that name what failed.
#[derive(Clone, Debug)]
pub struct Page {
    client: Client,
    artifacts: PathBuf,
    window: (u32, u32),
}

impl Page {
    /// The fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where screenshots go.
    pub fn artifacts(&self) -> &Path {
        &self.artifacts
    }

    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client.goto(url).await.map_err(failed(format!("goto {url}")))
    }

    /// The current URL.
    pub async fn url(&self) -> Result<String> {
        self.client.current_url().await.map(|url| url.to_string()).map_err(failed("current url"))
    }

    /// The page's title.
    pub async fn title(&self) -> Result<String> {
        self.client.title().await.map_err(failed("title"))
    }

    /// The page's current DOM as HTML.
    pub async fn source(&self) -> Result<String> {
        self.client.source().await.map_err(failed("page source"))
    }

    /// The first element matching the CSS selector `css`, now (no waiting).
    pub async fn find(&self, css: &str) -> Result<Element> {
        self.client.find(Locator::Css(css)).await.map_err(failed(format!("find {css}")))
    }

    /// Every element matching `css`, now (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        self.client.find_all(Locator::Css(css)).await.map_err(failed(format!("find all {css}")))
    }

    /// Waits up to `timeout` for an element matching `css` and returns the first.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .map_err(failed(format!("wait {timeout:?} for {css}")))
    }

    /// The rendered text of the first element matching `css` (waiting up to [`DEFAULT_WAIT`]).
    pub async fn text(&self, css: &str) -> Result<String> {
        let element = self.wait_for(css, DEFAULT_WAIT).await?;
        element.text().await.map_err(failed(format!("text of {css}")))
    }

    /// Waits up to `timeout` until the text of the first element matching `css` contains
    /// `needle`, and returns that text. The failure names the last text seen.
    pub async fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.contains(needle) {
                    return Ok(text);
                }
                last = Some(text);
            }
            if Instant::now() >= deadline {
                let seen = last.map_or_else(|| "no such element".to_owned(), |t| format!("its text was {t:?}"));
                return Err(Error::Browser { what: format!("wait {timeout:?} for {needle:?} in {css}"), reason: seen });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Clicks the first element matching `css` (waiting up to [`DEFAULT_WAIT`] for it).
    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.wait_for(css, DEFAULT_WAIT).await?;
        element.click().await.map_err(failed(format!("click {css}")))
    }

    /// Replaces the value of the form field matching `css` with `value` (clear, then type).
    pub async fn fill(&self, css: &str, value: &str) -> Result<()> {
        let element = self.wait_for(css, DEFAULT_WAIT).await?;
        element.clear().await.map_err(failed(format!("clear {css}")))?;
        element.send_keys(value).await.map_err(failed(format!("type into {css}")))
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.client.execute(script, Vec::new()).await.map_err(failed(format!("execute {script:?}")))
    }

    /// Saves what the window shows as `<artifacts>/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await.map_err(failed(format!("screenshot {name}")))?;
        self.save_png(name, &png)
    }

    /// Saves the whole page (the window stretched to the document's height, at most 8000
    /// pixels, then restored) as `<artifacts>/<name>.png` and returns the path.
    pub async fn screenshot_full(&self, name: &str) -> Result<PathBuf> {
        let height = self
            .execute("return Math.ceil(document.documentElement.scrollHeight);")
            .await?
            .as_u64()
            .map_or(self.window.1, |h| u32::try_from(h).unwrap_or(u32::MAX).clamp(self.window.1, 8000));
        let what = format!("screenshot {name}");
        self.client.set_window_size(self.window.0, height).await.map_err(failed(what.clone()))?;
        let png = self.client.screenshot().await.map_err(failed(what.clone()));
        self.client.set_window_size(self.window.0, self.window.1).await.map_err(failed(what))?;
        self.save_png(name, &png?)
    }

    fn save_png(&self, name: &str, png: &[u8]) -> Result<PathBuf> {
        let path = self.artifacts.join(format!("{name}.png"));
        fs::create_dir_all(&self.artifacts)
            .and_then(|()| fs::write(&path, png))
            .map_err(|e| Error::io(format!("write {}", path.display()), e))?;
        Ok(path)
    }
}

/// The worker thread, inside the namespace: opens the session, then runs jobs until the
/// channel closes, then closes the session.
fn work(
    port: u16,
    capabilities: serde_json::Map<String, Value>,
    artifacts: PathBuf,
    window: (u32, u32),
    ready: &mpsc::SyncSender<Result<(), String>>,
    jobs: &mpsc::Receiver<Job>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(format!("tokio runtime: {e}")));
            return;
        }
    };
    let client = runtime.block_on(async {
        wait_listening(port).await?;
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("new WebDriver session: {e}"))
    });
    let page = match client {
        Ok(client) => Page { client, artifacts, window },
        Err(reason) => {
            let _ = ready.send(Err(reason));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    while let Ok(job) = jobs.recv() {
        runtime.block_on(job(page.clone()));
    }
    let _ = runtime.block_on(async { tokio::time::timeout(SHUTDOWN, page.client.close()).await });
}

/// Waits until chromedriver accepts connections on the namespace's 127.0.0.1:`port`.
async fn wait_listening(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP;
    loop {
        match tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("chromedriver does not listen on 127.0.0.1:{port}: {e}"));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// The session's capabilities: Debian's Chromium, headless, quiet on the network, fresh profile.
fn capabilities(profile: &Path, options: &Options) -> serde_json::Map<String, Value> {
    let mut args = vec![
        "--headless=new".to_owned(),
        // As root Chromium refuses to start with its sandbox.
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        // Without these Chromium tries to reach Google's hosts at every start.
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--window-size={},{}", options.window.0, options.window.1),
    ];
    let mut chrome = json!({ "binary": CHROMIUM });
    if let Some(languages) = &options.accept_language {
        // The UI language, and the Accept-Language header pages see (the profile preference).
        args.push(format!("--lang={}", languages.split(',').next().unwrap_or(languages)));
        chrome["prefs"] = json!({ "intl": { "accept_languages": languages } });
    }
    chrome["args"] = json!(args);
    let caps = json!({ "browserName": "chrome", "goog:chromeOptions": chrome });
    match caps {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// A free TCP port on the namespace's loopback (bound and released on a thread inside it).
fn free_port(ns: &Netns) -> Result<u16> {
    ns.run_in(|| {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .map_err(|e| Error::io("bind 127.0.0.1:0 for chromedriver", e))
    })?
}

/// A fresh directory `/tmp/tjbrowser-PID-N`, mode 0700.
fn private_dir() -> Result<PathBuf> {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir)
        .and_then(|()| fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)))
        .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    Ok(dir)
}

/// The last 20 lines of the file at `path` (empty if unreadable).
fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Maps a WebDriver error to [`Error::Browser`] naming the command.
fn failed(what: impl Into<String>) -> impl FnOnce(fantoccini::error::CmdError) -> Error {
    let what = what.into();
    move |error| Error::Browser { what, reason: error.to_string() }
}

/// A future that turns a panic while polling `F` into `Err(payload)`, so a failed assertion in
/// a [`Browser::run`] closure reaches the test's thread instead of ending the worker.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
