//! `docs/findings.md` against the catalogue (`tojimari_core::catalog`): every id documented once, with the
//! catalogue's severity and title, and nothing documented that the catalogue does not have.

use std::collections::BTreeMap;

use tojimari_core::catalog::catalog;

/// The rows of the document's findings table: id -> (severity, title).
fn documented() -> Vec<(String, String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/findings.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"id") && cells.get(1) == Some(&"severity") {
            in_table = true;
            continue;
        }
        if !in_table || cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            continue;
        }
        if !line.trim_start().starts_with('|') {
            break;
        }
        assert_eq!(cells.len(), 4, "a findings row has four cells: {line}");
        let id = cells[0].strip_prefix('`').and_then(|c| c.strip_suffix('`'));
        let id = id.unwrap_or_else(|| panic!("the id cell is `quoted`: {line}"));
        rows.push((id.to_owned(), cells[1].to_owned(), cells[3].to_owned()));
    }
    rows
}

#[test]
fn the_document_lists_the_catalogue_exactly() {
    let rows = documented();
    assert!(rows.len() >= 10, "the findings table was not found or is nearly empty: {rows:?}");
    let mut docs = BTreeMap::new();
    for (id, severity, title) in &rows {
        assert!(docs.insert(id.as_str(), (severity.as_str(), title.as_str())).is_none(), "{id} is listed twice");
    }
    for kind in catalog() {
        let Some(&(severity, title)) = docs.get(kind.id) else {
            panic!("{} is in the catalogue but not in docs/findings.md", kind.id);
        };
        assert_eq!(severity, kind.severity.as_str(), "severity of {} in docs/findings.md", kind.id);
        assert_eq!(title, kind.title, "title of {} in docs/findings.md", kind.id);
    }
    for id in docs.keys() {
        assert!(catalog().iter().any(|k| k.id == *id), "{id} is in docs/findings.md but not in the catalogue");
    }
    // Each id also has a section (or shares one) explaining when it fires.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/findings.md")).unwrap();
    for kind in catalog() {
        let heading = text.lines().any(|l| l.starts_with("### ") && l.contains(&format!("`{}`", kind.id)));
        assert!(heading, "{} has no ### section in docs/findings.md", kind.id);
    }
}
