//! A daemon's private temporary directory (`/tmp/tjmd-{pid}-{n}-{daemon}`): configuration,
//! keys, pid and log files, data. World-readable (mode 0755) because most daemons drop to an
//! unprivileged user that must still read their files; removed on drop.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Daemon, DaemonError};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// The file the daemon's stdout and stderr go to.
pub(super) const CONSOLE_LOG: &str = "console.log";

/// A temporary directory, removed (with everything in it) on drop.
#[derive(Debug)]
pub(super) struct WorkDir {
    daemon: Daemon,
    path: PathBuf,
}

impl WorkDir {
    pub(super) fn new(daemon: Daemon) -> Result<WorkDir, DaemonError> {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tjmd-{}-{n}-{}", std::process::id(), daemon.name()));
        // A leftover from a crashed run with the same pid and counter: start clean.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).map_err(|e| DaemonError::io(daemon, format!("create {}", path.display()), e))?;
        let dir = WorkDir { daemon, path };
        dir.open_up(&dir.path)?;
        Ok(dir)
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// `self.path()/name` as a string, for configuration files and arguments.
    pub(super) fn join(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    /// Writes `contents` to `name` (mode 0644) and returns its path.
    pub(super) fn file(&self, name: &str, contents: &str) -> Result<String, DaemonError> {
        let path = self.path.join(name);
        fs::write(&path, contents).map_err(|e| self.io(format!("write {}", path.display()), e))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .map_err(|e| self.io(format!("chmod {}", path.display()), e))?;
        Ok(path.display().to_string())
    }

    /// Creates the subdirectory `name` (mode 0755) and returns its path.
    pub(super) fn dir(&self, name: &str) -> Result<String, DaemonError> {
        let path = self.path.join(name);
        fs::create_dir_all(&path).map_err(|e| self.io(format!("create {}", path.display()), e))?;
        self.open_up(&path)?;
        Ok(path.display().to_string())
    }

    /// Gives `path` (not recursively) to the system user `user` and its primary group.
    pub(super) fn chown(&self, path: &str, user: &str) -> Result<(), DaemonError> {
        let account = nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| self.io(format!("look up user {user}"), io::ErrorKind::NotFound.into()))?;
        std::os::unix::fs::chown(path, Some(account.uid.as_raw()), Some(account.gid.as_raw()))
            .map_err(|e| self.io(format!("chown {path} to {user}"), e))
    }

    fn open_up(&self, path: &Path) -> Result<(), DaemonError> {
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .map_err(|e| self.io(format!("chmod {}", path.display()), e))
    }

    fn io(&self, step: String, e: io::Error) -> DaemonError {
        DaemonError::io(self.daemon, step, e)
    }

    /// The last `lines` lines of every `*.log` file in the directory (the console log first),
    /// each file under a `== name ==` header.
    pub(super) fn log_tail(&self, lines: usize) -> String {
        let mut logs: Vec<PathBuf> = fs::read_dir(&self.path)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        logs.retain(|p| p.extension().is_some_and(|ext| ext == "log"));
        logs.sort_by_key(|p| (p.file_name().is_none_or(|n| n != CONSOLE_LOG), p.clone()));
        let mut out = String::new();
        for log in logs {
            let Ok(bytes) = fs::read(&log) else { continue };
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let name = log.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            out.push_str(&format!("== {name} ==\n"));
            for line in &all[all.len().saturating_sub(lines)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        if out.is_empty() { "(no log output)".to_owned() } else { out }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}
