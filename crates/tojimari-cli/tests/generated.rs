//! The shell completions and the man page checked in under `docs/` are what the binary generates from its
//! clap definitions today: a change to an option that forgets them fails here, as `--help` snapshots do.

use std::path::Path;
use std::process::Command;

/// (arguments, file under the repository root)
const GENERATED: &[(&[&str], &str)] = &[
    (&["completions", "bash"], "docs/completions/tojimari.bash"),
    (&["completions", "zsh"], "docs/completions/_tojimari"),
    (&["completions", "fish"], "docs/completions/tojimari.fish"),
    (&["man"], "docs/man/tojimari.1"),
];

#[test]
fn checked_in_completions_and_man_page_match_the_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let update = std::env::var_os("UPDATE").is_some();
    let mut stale = Vec::new();
    for (args, file) in GENERATED {
        let out = Command::new(env!("CARGO_BIN_EXE_tojimari")).args(*args).output().expect("run tojimari");
        assert_eq!(out.status.code(), Some(0), "tojimari {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "tojimari {args:?} wrote to stderr: {}", String::from_utf8_lossy(&out.stderr));
        let path = root.join(file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        }
        if std::fs::read(&path).ok().as_deref() != Some(&out.stdout[..]) {
            stale.push(format!("  cargo run -q -- {} > {file}", args.join(" ")));
        }
    }
    assert!(
        stale.is_empty(),
        "generated files differ from what tojimari prints now; run at the repository root\n{}\n\
         or refresh them all with UPDATE=1 cargo test -p tojimari-cli --test generated",
        stale.join("\n")
    );
}

#[test]
fn an_unknown_shell_is_bad_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_tojimari")).args(["completions", "powershell"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: invalid value 'powershell'") && stderr.contains("(hint: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
