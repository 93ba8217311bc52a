//! Every message id the pages use exists in the catalogues (which in turn have every message in both
//! languages: crates/tojimari-i18n's tests). The ids are read from the sources: `t("id")` calls, and the
//! `profile-NAME` texts of the New check page.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The string literals passed to `t(...)` and `t_with(...)` in `text` (method or function calls: `.t("x")`,
/// `t(lang, "x")`, `.t_with("x", &[...])`).
fn ids(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let calls = text.match_indices("t(").chain(text.match_indices("t_with("));
    for (at, call) in calls {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[at + call.len()..];
        let rest = rest.split_once(',').filter(|(lang, _)| !lang.contains('"')).map_or(rest, |(_, r)| r.trim_start());
        if let Some(lit) = rest.strip_prefix('"')
            && let Some(end) = lit.find('"')
        {
            found.push(lit[..end].to_string());
        }
    }
    found
}

#[test]
fn every_id_the_pages_use_is_in_the_catalogue() {
    let mut files = Vec::new();
    sources(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut files);
    let mut missing = Vec::new();
    let mut seen = 0;
    for (file, text) in &files {
        for id in ids(text) {
            seen += 1;
            if !tojimari_i18n::has(&id) {
                missing.push(format!("{file}: {id}"));
            }
        }
    }
    for profile in tojimari_web::profile::CHECKS.iter().chain(&["full", "custom"]) {
        let id = format!("profile-{profile}");
        if !tojimari_i18n::has(&id) {
            missing.push(id);
        }
    }
    assert!(seen > 30, "the scan of the sources found only {seen} ids: is it still reading them?");
    assert!(missing.is_empty(), "ids missing from crates/tojimari-i18n/locales: {missing:#?}");
}

#[test]
fn the_scan_finds_ids_in_every_call_form() {
    assert_eq!(ids(r#"ctx.t("nav-scans"); text(lang, "x"); format(a, b)"#), ["nav-scans"]);
    assert_eq!(ids(r#"t(ctx.lang, "status-done")"#), ["status-done"]);
    assert_eq!(ids(r#"ctx.t_with("trace-title", &[("hops", 3.into())]); text_with(lang, "y", &[])"#), ["trace-title"]);
}
