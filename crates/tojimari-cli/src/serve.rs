//! `tojimari serve`: the web UI (crate tojimari-web) over the result store, on 127.0.0.1 unless `--listen`
//! says otherwise, and then only behind a password (from `--password-file`, else a random token printed
//! once at start).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tojimari_core::input::{Limits, LineReader, Nul};

use crate::plan::UsageError;
use crate::store_plan::{self, StoreOptions};
use crate::{messages, usage};

/// `tojimari serve` options.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  tojimari serve\n  tojimari serve --listen 0.0.0.0:8431 --password-file pw.txt \
                  --allow 198.18.0.0/24")]
pub struct ServeArgs {
    /// Where to listen; an address beyond loopback needs a password (--password-file, else a random token
    /// is printed once).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8431")]
    pub listen: String,
    #[command(flatten)]
    pub store: StoreOptions,
    /// The password, the first line of FILE (at most 1 KiB), asked of every browser (kept only hashed).
    #[arg(long = "password-file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// The targets the page may check: addresses and networks (CIDR), comma-separated; `local` is this
    /// machine and its directly connected networks.
    #[arg(long, value_name = "LIST", default_value = "local")]
    pub allow: String,
    /// At most N checks run at once; more wait in line.
    #[arg(long = "max-checks", value_name = "N", default_value_t = 2)]
    pub max_checks: usize,
}

pub fn run(args: &ServeArgs) -> ExitCode {
    match config(args) {
        Ok(config) => serve(config),
        Err(e) => usage(&e),
    }
}

fn config(args: &ServeArgs) -> Result<tojimari_web::Config, UsageError> {
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        UsageError::new(
            format!("--listen takes ADDRESS:PORT, not \"{}\"", args.listen),
            "for example: --listen 127.0.0.1:8431 or --listen [::1]:8431",
        )
    })?;
    if !(1..=64).contains(&args.max_checks) {
        return Err(UsageError::new(
            format!("--max-checks must be from 1 to 64, not {}", args.max_checks),
            "for example: --max-checks 2",
        ));
    }
    let password = args.password_file.as_deref().map(read_password).transpose()?;
    let store = store_plan::location(&args.store)
        .map_err(|e| UsageError::new(e, "give the store with --db PATH|postgres://... or TOJIMARI_DB"))?;
    let exe = std::env::current_exe().map_err(|e| {
        UsageError::new(format!("cannot find this program's path: {e}"), "run tojimari by its full path")
    })?;
    let allow = tojimari_web::allow::AllowList::from_system(&args.allow)
        .map_err(|e| UsageError::new(format!("--allow: {e}"), "for example: --allow local,198.18.0.0/24"))?;
    Ok(tojimari_web::Config {
        listen,
        store,
        exe,
        password,
        allow_text: args.allow.clone(),
        allow,
        max_running: args.max_checks,
    })
}

/// The first line of `path`, bounded, not empty.
fn read_password(path: &std::path::Path) -> Result<String, UsageError> {
    let hint = "put the password on the first line of the file";
    let file = std::fs::File::open(path)
        .map_err(|e| UsageError::new(format!("cannot read --password-file {}: {e}", path.display()), hint))?;
    let limits = Limits { max_line: 1024, max_bytes: Some(4096), max_lines: None, nul: Nul::Refuse };
    let mut reader = LineReader::new(std::io::BufReader::new(file), limits);
    let line = reader
        .next_text()
        .map_err(|e| UsageError::new(format!("--password-file {}: {e}", path.display()), hint))?
        .unwrap_or_default()
        .trim()
        .to_string();
    if line.is_empty() {
        return Err(UsageError::new(format!("--password-file {} is empty", path.display()), hint));
    }
    Ok(line)
}

fn serve(mut config: tojimari_web::Config) -> ExitCode {
    if !config.listen.ip().is_loopback() && config.password.is_none() {
        let token = match tojimari_web::auth::random_token() {
            Ok(token) => token,
            Err(e) => {
                messages::error(messages::with_hint(e, "give a password with --password-file FILE"));
                return crate::exit::Exit::Failure.into();
            }
        };
        messages::note(format!("no --password-file: log in with this token (shown once): {token}"));
        config.password = Some(token);
    }
    let store = config.store.clone();
    let result = tojimari_web::serve(config, |addr| {
        messages::note(format!("serving the result store {store} on http://{addr}/ (Ctrl-C to stop)"));
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            messages::error(messages::with_hint(e, "choose another address with --listen ADDR:PORT"));
            crate::exit::Exit::Failure.into()
        }
    }
}
