//! The English texts whose one definition lives in tojimari-core, given to the English catalogue as Fluent
//! messages so that every text is looked up the same way and the catalogue test can hold the Japanese
//! catalogue to them: each finding's title and advice (`finding-<id>-title`, `finding-<id>-advice`, from
//! [`tojimari_core::catalog`]), the severity words (`severity-<level>`), nmap's port states (`state-open`,
//! `state-open-filtered`, ...) and the privilege raw packets need (`raw-privilege`).

use tojimari_core::PortState;
use tojimari_core::catalog::catalog;
use tojimari_core::diagnostic::RAW_PRIVILEGE;
use tojimari_core::report::Severity;

/// Every severity, lowest first.
pub const SEVERITIES: [Severity; 5] = Severity::ALL;

/// Every port state (core's own list).
pub const STATES: [PortState; 6] = PortState::ALL;

/// The message id of a port state's word: `state-` and nmap's word with `|` as `-` (`state-open-filtered`).
pub fn state_id(state: PortState) -> String {
    // Exhaustive, so that a new state is added to STATES (and to ja.ftl) when core grows one.
    match state {
        PortState::Open
        | PortState::Closed
        | PortState::Filtered
        | PortState::Unfiltered
        | PortState::OpenFiltered
        | PortState::ClosedFiltered => format!("state-{}", state.as_str().replace('|', "-")),
    }
}

/// The message id of a finding's title.
pub fn title_id(kind_id: &str) -> String {
    format!("finding-{kind_id}-title")
}

/// The message id of a finding's general advice.
pub fn advice_id(kind_id: &str) -> String {
    format!("finding-{kind_id}-advice")
}

/// The message id of a severity word.
pub fn severity_id(severity: Severity) -> String {
    // Exhaustive, so that a new severity is added to SEVERITIES (and to ja.ftl) when core grows one.
    match severity {
        Severity::Info | Severity::Low | Severity::Medium | Severity::High | Severity::Critical => {
            format!("severity-{}", severity.as_str())
        }
    }
}

/// tojimari-core's English texts as a Fluent resource (one single-line message each).
pub fn english_source() -> String {
    let mut out = String::from("## Generated from tojimari-core (the one English definition of these texts).\n");
    let mut message = |id: &str, text: &str| {
        out.push_str(id);
        out.push_str(" = ");
        out.push_str(&escape(text));
        out.push('\n');
    };
    for kind in catalog() {
        message(&title_id(kind.id), kind.title);
        message(&advice_id(kind.id), kind.advice);
    }
    for severity in SEVERITIES {
        message(&severity_id(severity), severity.as_str());
    }
    for state in STATES {
        message(&state_id(state), state.as_str());
    }
    message("raw-privilege", RAW_PRIVILEGE);
    out
}

/// A one-line text as a Fluent pattern: braces become string literals, line breaks spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '{' => out.push_str("{\"{\"}"),
            '}' => out.push_str("{\"}\"}"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_are_escaped() {
        assert_eq!(escape("a {b} c"), "a {\"{\"}b{\"}\"} c");
        assert_eq!(escape("plain"), "plain");
    }
}
