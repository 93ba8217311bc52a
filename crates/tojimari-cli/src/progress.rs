//! The progress line on a terminal and `--stats-every` lines, drawn from the engine's counters.
//!
//! A separate thread reads the atomic counters; the engine never waits for it. The terminal line is
//! redrawn at most ten times a second and only once the scan has run for a second; `--stats-every`
//! prints a full line every period, terminal or not. Everything goes to stderr: stdout is for results.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tojimari_core::progress::{Progress, clock};
use tojimari_engine::Control;

const REDRAW: Duration = Duration::from_millis(100);

/// Whether a progress line is on the terminal now. Whoever writes results to stdout takes this lock and
/// calls [`clear_line`] first, so results never end up glued to a half-drawn progress line.
static LINE_DRAWN: std::sync::Mutex<bool> = std::sync::Mutex::new(false);

/// Wipes the progress line if one is drawn; call with the guard from [`terminal`].
pub fn clear_line(drawn: &mut bool) {
    if *drawn {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
        *drawn = false;
    }
}

/// The lock over the terminal shared by the progress line and stdout results.
pub fn terminal() -> std::sync::MutexGuard<'static, bool> {
    LINE_DRAWN.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
const QUIET_START: Duration = Duration::from_secs(1);

/// A running progress printer; [`Reporter::stop`] clears the line and joins the thread.
#[derive(Debug)]
pub struct Reporter {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Reporter {
    /// Starts the printer if there is anything to print: a terminal (unless `enabled` is false) or a
    /// `stats_every` period.
    pub fn start(control: Arc<Control>, enabled: bool, stats_every: Option<Duration>) -> Reporter {
        let tty = enabled && std::io::stderr().is_terminal();
        let stop = Arc::new(AtomicBool::new(false));
        if !tty && stats_every.is_none() {
            return Reporter { stop, handle: None };
        }
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || run(&control, &flag, tty, stats_every))
            .ok();
        Reporter { stop, handle }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            // Woken at once, not at the end of its pause: the scan's end is not held up by its progress line.
            h.thread().unpark();
            let _ = h.join();
        }
    }
}

fn run(control: &Control, stop: &AtomicBool, tty: bool, stats_every: Option<Duration>) {
    let start = Instant::now();
    let mut next_stats = stats_every.map(|d| start + d);
    let mut last = (start, 0u64);
    let mut rate = 0.0f64;
    loop {
        let stopping = stop.load(Ordering::Acquire);
        if !stopping {
            std::thread::park_timeout(REDRAW);
        }
        let now = Instant::now();
        let p = &control.progress;
        let done = p.ports_done.load(Ordering::Relaxed);
        let planned = p.planned.load(Ordering::Relaxed).max(done).max(1);
        let dt = now.duration_since(last.0).as_secs_f64();
        if dt >= 0.5 {
            let inst = (done - last.1.min(done)) as f64 / dt;
            rate = if rate == 0.0 { inst } else { 0.7 * rate + 0.3 * inst };
            last = (now, done);
        }
        let open = p.open.load(Ordering::Relaxed);
        let line = Progress { done, planned, rate, open, elapsed: now.duration_since(start) }.to_string();
        let mut drawn = terminal();
        let mut err = std::io::stderr().lock();
        // `--stats-every` also prints the last count when the scan ends (a reader of the lines, such as
        // `tojimari serve`, sees where the scan stopped, even one shorter than the period).
        let planned_any = p.planned.load(Ordering::Relaxed) > 0;
        if let Some(at) = next_stats
            && (now >= at || (stopping && planned_any))
        {
            clear_line(&mut drawn);
            let _ = writeln!(err, "Stats: {} elapsed; {line}", clock(now.duration_since(start)));
            next_stats = stats_every.map(|d| at + d);
        }
        if tty && now.duration_since(start) >= QUIET_START {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            *drawn = true;
        }
        if stopping {
            break;
        }
    }
    clear_line(&mut terminal());
}
