//! `tojimari worker --db postgres://...`: one worker of a fleet (docs/fleet.md). It claims chunks of fleet
//! scans from the queue, scans each with the raw engine ([`crate::fleet_scan`]), and commits its results in
//! the transaction that completes it. PostgreSQL away: a `warning:` line, back-off, results kept in the
//! spool under `--state-dir` and committed when it returns. Ctrl-C or SIGTERM stops it: the chunk in hand
//! keeps its last checkpoint and goes to another worker after the lease.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use tojimari_fleet::{Lease, Notice, WorkerConfig};

use crate::plan::UsageError;
use crate::store_plan::StoreOptions;
use crate::{EXIT_FAILURE, messages, usage};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  sudo tojimari worker --db postgres://scanner@db.example/tojimari\n  \
                  sudo tojimari worker --db postgres://scanner@db.example/tojimari --exit-when-done")]
pub struct WorkerArgs {
    #[command(flatten)]
    pub store: StoreOptions,
    /// Where results wait until committed (default: $XDG_STATE_HOME/tojimari/worker, else
    /// ~/.local/state/tojimari/worker).
    #[arg(long = "state-dir", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// A worker silent this long (no heartbeat) loses its chunk to another (e.g. 60s, 5m).
    #[arg(long, value_name = "TIME", default_value = "60s")]
    pub lease: String,
    /// Save the chunk's progress this often while scanning it.
    #[arg(long = "checkpoint-every", value_name = "TIME", default_value = "5s")]
    pub checkpoint_every: String,
    /// Stop once no fleet scan has a chunk left.
    #[arg(long = "exit-when-done")]
    pub exit_when_done: bool,
    /// Say each chunk taken and committed.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The default state directory: `$XDG_STATE_HOME/tojimari/worker`, else `~/.local/state/tojimari/worker`.
fn default_state_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        Some(dir) => Some(dir.join("tojimari/worker")),
        None => var("HOME").map(|h| h.join(".local/state/tojimari/worker")),
    }
}

pub fn run(args: &WorkerArgs) -> ExitCode {
    let db = match crate::store_plan::location(&args.store) {
        Ok(db) if db.starts_with("postgres://") || db.starts_with("postgresql://") => db,
        _ => {
            return usage(&UsageError::new(
                "a worker needs the store in PostgreSQL, where the fleet's chunks are",
                "give --db postgres://USER@HOST/DATABASE (or TOJIMARI_DB)",
            ));
        }
    };
    let lease = match crate::plan::parse_time(&args.lease, "--lease") {
        Ok(t) if t >= Duration::from_secs(1) => Lease { threshold: t },
        Ok(_) => return usage(&UsageError::new("--lease must be at least 1s", "e.g. --lease 60s")),
        Err(e) => return usage(&e),
    };
    let checkpoint_every = match crate::plan::parse_time(&args.checkpoint_every, "--checkpoint-every") {
        Ok(t) if t >= Duration::from_millis(100) => t,
        Ok(_) => return usage(&UsageError::new("--checkpoint-every must be at least 100ms", "e.g. 5s")),
        Err(e) => return usage(&e),
    };
    let Some(state_dir) = args.state_dir.clone().or_else(default_state_dir) else {
        return usage(&UsageError::new(
            "no state directory: neither XDG_STATE_HOME nor HOME is set",
            "give --state-dir",
        ));
    };
    if !tojimari_net::raw_allowed() {
        return usage(&UsageError::privilege(
            messages::needs_raw("a worker"),
            "run it as root, or give the binary CAP_NET_RAW and CAP_NET_ADMIN",
        ));
    }
    let writer = tojimari_store::this_writer();
    let started = SystemTimeMs::now();
    let config = WorkerConfig {
        db,
        state_dir,
        lease,
        checkpoint_every,
        exit_when_done: args.exit_when_done,
        id: format!("{}-{}-{}", writer.host, std::process::id(), started.0),
        host: writer.host,
    };
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop);
    let verbose = args.verbose;
    let notify: tojimari_fleet::Notify = Arc::new(move |notice: Notice| {
        if notice.is_warning() {
            messages::warning(&notice);
        } else if verbose > 0 || matches!(notice, Notice::Back { .. }) {
            messages::note(&notice);
        }
    });
    let id = config.id.clone();
    match tojimari_fleet::worker::run(config, Arc::new(crate::fleet_scan::RawChunks), notify, stop) {
        Ok(summary) => {
            messages::note(format!(
                "worker {id} stops: {} chunks committed, {} probes sent; {:.3} s scanning, {:.3} s committing, of \
                 {:.3} s from its first claim to its last commit",
                summary.chunks_done,
                summary.probes,
                summary.scanning.as_secs_f64(),
                summary.committing.as_secs_f64(),
                summary.busy.as_secs_f64()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            messages::error(e);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Unix milliseconds now.
struct SystemTimeMs(i64);

impl SystemTimeMs {
    fn now() -> SystemTimeMs {
        SystemTimeMs(tojimari_store::unix_ms(std::time::SystemTime::now()))
    }
}

/// Ctrl-C and SIGTERM stop the worker (a second one exits at once).
fn stop_on_signals(stop: &Arc<AtomicBool>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let stop = stop.clone();
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        for signal in signals.forever() {
            if stop.swap(true, Ordering::Relaxed) {
                std::process::exit(128 + signal);
            }
        }
    });
}
