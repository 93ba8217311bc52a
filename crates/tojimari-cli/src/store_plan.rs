//! Which result store a command uses: `--db PATH|URL`, else the `TOJIMARI_DB` environment variable, else
//! `$XDG_DATA_HOME/tojimari/store.db` (`~/.local/share/tojimari/store.db` without it). `scan` and `check`
//! record into it by default ([`RecordArgs`], `--no-store` to skip); `history`, `diff`, `import` and `export`
//! take [`StoreOptions`] and open it with [`open_store`].

use std::path::PathBuf;

use clap::Args;
use tojimari_store::Store;

/// The environment variable naming the store when `--db` is not given.
pub const ENV: &str = "TOJIMARI_DB";

/// `--db`: the store a command reads or writes. Flatten it into a command's arguments.
#[derive(Debug, Default, Clone, Args)]
pub struct StoreOptions {
    /// The result store: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (password and port may
    /// be left out); default: $TOJIMARI_DB, else $XDG_DATA_HOME/tojimari/store.db
    #[arg(long, value_name = "PATH|URL")]
    pub db: Option<String>,
}

/// `scan` and `check`: the store they record into, or `--no-store`.
#[derive(Debug, Default, Clone, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub store: StoreOptions,
    /// Do not record this run in the result store (docs/store-recording.md).
    #[arg(long = "no-store", conflicts_with = "db")]
    pub no_store: bool,
}

/// Where the store is, as the user would write it (a path or a URL), or why it cannot be found.
pub fn location(options: &StoreOptions) -> Result<String, String> {
    if let Some(db) = &options.db {
        return Ok(db.clone());
    }
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(db) = var(ENV) {
        return Ok(db.to_string_lossy().into_owned());
    }
    default_dir(var("XDG_DATA_HOME"), var("HOME"))
        .map(|dir| dir.join("store.db").to_string_lossy().into_owned())
        .ok_or_else(|| "no result store: neither XDG_DATA_HOME nor HOME is set (give --db or TOJIMARI_DB)".to_string())
}

/// `$XDG_DATA_HOME/tojimari`, else `$HOME/.local/share/tojimari`. A relative XDG_DATA_HOME is ignored, as
/// the XDG base directory specification asks.
pub fn default_dir(xdg_data_home: Option<std::ffi::OsString>, home: Option<std::ffi::OsString>) -> Option<PathBuf> {
    match xdg_data_home.map(PathBuf::from).filter(|p| p.is_absolute()) {
        Some(dir) => Some(dir.join("tojimari")),
        None => home.map(|h| PathBuf::from(h).join(".local/share/tojimari")),
    }
}

/// Opens the store `options` name (creating a SQLite file and its directory when missing). The error is one
/// message that names the database.
pub fn open_store(options: &StoreOptions) -> Result<Store, String> {
    Store::open(&location(options)?).map_err(|e| e.to_string())
}

/// Opens the store `options` name for reading (`history`, `diff`, `export`): a SQLite file that is not there
/// is not created but refused. The error is (message, hint), the message naming the database.
pub fn open_existing(options: &StoreOptions) -> Result<Store, (String, String)> {
    let hint = "give the store with --db PATH|postgres://... or TOJIMARI_DB";
    let location = location(options).map_err(|e| (e, hint.to_string()))?;
    let is_url = location.starts_with("postgres://") || location.starts_with("postgresql://");
    let path = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")).unwrap_or(&location);
    if !is_url && !std::path::Path::new(path).exists() {
        return Err((
            format!("no result store at {path}"),
            "scans are recorded there once they run with the store on; give another with --db PATH|postgres://..."
                .into(),
        ));
    }
    Store::open(&location)
        .map_err(|e| (e.to_string(), "check --db (or TOJIMARI_DB) names a tojimari result store".into()))
}

/// The store a `scan` or `check` records into: `None` with `--no-store`.
pub fn record_location(args: &RecordArgs) -> Option<Result<String, String>> {
    (!args.no_store).then(|| location(&args.store))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_follows_xdg() {
        let os = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(default_dir(os("/data"), os("/home/me")), Some(PathBuf::from("/data/tojimari")));
        assert_eq!(default_dir(None, os("/home/me")), Some(PathBuf::from("/home/me/.local/share/tojimari")));
        // A relative XDG_DATA_HOME is not to be used.
        assert_eq!(default_dir(os("rel"), os("/home/me")), Some(PathBuf::from("/home/me/.local/share/tojimari")));
        assert_eq!(default_dir(None, None), None);
    }

    #[test]
    fn db_wins() {
        let o = StoreOptions { db: Some("postgres://me@db.example/tj".into()) };
        assert_eq!(location(&o).unwrap(), "postgres://me@db.example/tj");
        let off = RecordArgs { store: StoreOptions::default(), no_store: true };
        assert!(record_location(&off).is_none());
    }
}
