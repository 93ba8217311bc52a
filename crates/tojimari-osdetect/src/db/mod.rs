//! Our own fingerprint database: its entries ([`Entry`]), the shipped file (`data/os.db`, read by
//! [`Db::builtin`]) and the parser ([`Db::parse`]) with `file:line: message` errors. The format is
//! specified in docs/os-db.md; [`keys`] holds the fact keys, their kinds and default weights.

mod error;
pub mod keys;
mod parse;
mod pattern;

use std::sync::OnceLock;

pub use error::DbError;
pub use parse::{MAX_ENTRIES, MAX_FACTS, MAX_TEXT};
pub use pattern::{Alt, Pattern};

/// One class line: what kind of system an entry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    pub device_type: String,
    pub vendor: String,
    pub family: String,
    pub generation: Option<String>,
    /// The `cpe` lines that follow the class line.
    pub cpe: Vec<String>,
}

/// One fact line: a key, the values it accepts and the weight of agreeing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub key: String,
    pub pattern: Pattern,
    pub weight: u32,
    pub line: u32,
}

/// One system in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// The line of its `os` line.
    pub line: u32,
    pub classes: Vec<Class>,
    /// Where its facts come from (at least one line).
    pub provenance: Vec<String>,
    /// Active facts, then the passive ones (keys starting `passive.`), in file order.
    pub rules: Vec<Rule>,
}

impl Entry {
    /// The entry's family (its first class's), for comparing candidates.
    pub fn family(&self) -> &str {
        self.classes.first().map_or("", |c| c.family.as_str())
    }
}

/// The fingerprint database (docs/os-db.md).
#[derive(Clone, Debug, Default)]
pub struct Db {
    pub entries: Vec<Entry>,
}

/// The shipped database's text.
pub const BUILTIN: &str = include_str!("../../data/os.db");

impl Db {
    /// The database shipped with tojimari (parsed once). A shipped file that fails to parse (a test
    /// guards against it) gives an empty database rather than a panic.
    pub fn builtin() -> &'static Db {
        static DB: OnceLock<Db> = OnceLock::new();
        DB.get_or_init(|| Db::parse("os.db", BUILTIN).unwrap_or_default())
    }

    /// Parses a database text; `name` is the file name errors carry.
    pub fn parse(name: &str, text: &str) -> Result<Db, DbError> {
        parse::parse(name, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_database_parses() {
        let db = Db::parse("os.db", BUILTIN).unwrap_or_else(|e| panic!("{e}"));
        assert!(db.entries.len() >= 12, "{}", db.entries.len());
        assert_eq!(Db::builtin().entries.len(), db.entries.len());
        for e in &db.entries {
            assert!(!e.provenance.is_empty() && !e.classes.is_empty(), "{}", e.name);
            assert!(e.rules.iter().any(|r| !r.key.starts_with("passive.")), "{} has no active facts", e.name);
            assert!(e.rules.iter().any(|r| r.key.starts_with("passive.")), "{} has no passive facts", e.name);
        }
        for family in ["Linux", "Windows", "macOS", "FreeBSD", "OpenBSD", "IOS", "lwIP", "JetDirect"] {
            assert!(db.entries.iter().any(|e| e.family() == family), "no {family} entry");
        }
    }
}
