//! Which result store `history` and `diff` read: `--db PATH|postgres://...`, else `TOJIMARI_DB`, else
//! `$XDG_DATA_HOME/tojimari/store.db`, else `~/.local/share/tojimari/store.db` (docs/design/store.md).
//! One function, [`open_store`], so it is easy to swap for the shared store options when they land.
//! A reader never creates a store: a SQLite file that is not there is an error naming it.

use tojimari_store::Store;

/// The store to read, opened; or the one-line error and hint to print.
pub fn open_store(db: Option<&str>) -> Result<Store, (String, String)> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let location = match db.map(str::to_string).or_else(|| env("TOJIMARI_DB")) {
        Some(given) => given,
        None => {
            let data = env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| format!("{h}/.local/share")));
            let Some(data) = data else {
                return Err((
                    "no result store: neither XDG_DATA_HOME nor HOME is set".into(),
                    "give the store with --db PATH or TOJIMARI_DB".into(),
                ));
            };
            format!("{data}/tojimari/store.db")
        }
    };
    let is_url = location.starts_with("postgres://") || location.starts_with("postgresql://");
    if !is_url {
        let path = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")).unwrap_or(&location);
        if !std::path::Path::new(path).exists() {
            return Err((
                format!("no result store at {path}"),
                "scans are recorded there once they run with the store on; give another with --db PATH|postgres://..."
                    .into(),
            ));
        }
    }
    Store::open(&location)
        .map_err(|e| (e.to_string(), "check --db (or TOJIMARI_DB) names a tojimari result store".into()))
}
