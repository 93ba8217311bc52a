//! A scratch directory for one test: under the system's temporary directory, named for the test and the
//! process (so test binaries running side by side never share one), emptied first, removed when dropped.

use std::path::PathBuf;

/// The directory; `.0` is its path.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `$TMPDIR/tojimari-test-PID-NAME`, created empty.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tojimari-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }

    /// The path of `file` inside, as a string (for command lines and `--db`).
    pub fn path(&self, file: &str) -> String {
        self.0.join(file).to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
